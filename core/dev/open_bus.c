#include "dev/open_bus.h"

#include "dev/mmio.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* Pages reported so far (each page once); later new pages are counted only. */
#define OPEN_BUS_REPORTED_PAGES 32

struct open_bus {
	spinlock_t lock; /* protects the reported pages (zeroed: unlocked); any vCPU may report */
	uint64_t reported[OPEN_BUS_REPORTED_PAGES];
	unsigned reported_count;
	bool table_full_said;
};

/* Reports the first access to each page once; the caller counted it. */
static void report_first_access(struct vcpu *vcpu, struct open_bus *bus, uint64_t gpa,
				unsigned size, bool write)
{
	uint64_t page = gpa & ~0xFFFULL;
	bool report = false, full = false;

	spin_lock(&bus->lock);
	unsigned i;
	for (i = 0; i < bus->reported_count && bus->reported[i] != page; i++)
		;
	if (i == bus->reported_count) {
		if (bus->reported_count < OPEN_BUS_REPORTED_PAGES) {
			bus->reported[bus->reported_count++] = page;
			report = true;
		} else if (!bus->table_full_said) {
			bus->table_full_said = full = true;
		}
	}
	spin_unlock(&bus->lock);
	if (report)
		log_printf("cvisor: VM %s vCPU %u: %u-byte %s at guest-physical 0x%llx, which is "
			   "neither RAM nor a device: open bus (%s) at RIP 0x%llx\n",
			   vcpu->vm->name, vcpu->id, size, write ? "write" : "read",
			   (unsigned long long)gpa, write ? "dropped" : "reads all ones",
			   (unsigned long long)vmcs_read(GUEST_RIP));
	if (full)
		log_printf("cvisor: VM %s: open-bus accesses to more than %u pages; later pages "
			   "are counted, not reported\n", vcpu->vm->name, OPEN_BUS_REPORTED_PAGES);
}

/* Base 0, size 2^64: the offset is the guest-physical address. */
static uint64_t open_bus_read(struct vcpu *vcpu, void *state, uint64_t gpa, unsigned size)
{
	vcpu->open_bus_reads++;
	report_first_access(vcpu, state, gpa, size, false);
	return operand_mask(size);
}

static void open_bus_write(struct vcpu *vcpu, void *state, uint64_t gpa, unsigned size,
			   uint64_t value)
{
	(void)value;
	vcpu->open_bus_writes++;
	report_first_access(vcpu, state, gpa, size, true);
}

static const struct mmio_ops open_bus_ops = { .read = open_bus_read, .write = open_bus_write };

bool open_bus_attach(struct vm *vm)
{
	struct open_bus *bus = vm_device_state(vm, sizeof(*bus), "open bus");

	if (!bus)
		return false;
	vm->devices.open_bus = (struct mmio_region){
		.name = "open bus", .base = 0, .size = ~0ULL, .ops = &open_bus_ops, .state = bus,
	};
	return true;
}
