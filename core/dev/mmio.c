#include "dev/mmio.h"

#include <stddef.h>

#include "irq/lapic.h"
#include "dev/vm_console.h"
#include "irq/lapic_timer.h"
#include "irq/ipi.h"
#include "vmx/intrin.h"
#include "vm/vm.h"
#include "vcpu/vcpu.h"

static uint64_t debug_console_read(struct vcpu *vcpu, uint64_t offset, unsigned size)
{
	(void)vcpu;
	(void)offset;
	(void)size;
	return 0;
}

static void debug_console_write(struct vcpu *vcpu, uint64_t offset, unsigned size, uint64_t value)
{
	(void)offset;
	for (unsigned i = 0; i < size; i++) {
		char c = (char)(value >> (8 * i));
		if (c)
			vm_console_putc(vcpu->vm, c);
	}
}

/* xAPIC registers are 32 bits at 16-byte-aligned offsets (SDM Vol. 3A 11.4.1);
 * other accesses read 0 and are ignored. */
#define APIC_TIMER_CURRENT 0x390

static uint64_t apic_read(struct vcpu *vcpu, uint64_t offset, unsigned size)
{
	if (size != 4 || (offset & 0xF))
		return 0;
	if (offset == APIC_TIMER_CURRENT)
		return lapic_timer_current_count(&vcpu->lapic, rdtsc());
	return lapic_read(&vcpu->lapic, (uint32_t)offset);
}

static void apic_write(struct vcpu *vcpu, uint64_t offset, unsigned size, uint64_t value)
{
	if (size != 4 || (offset & 0xF))
		return;
	if (lapic_write(&vcpu->lapic, (uint32_t)offset, (uint32_t)value))
		vm_send_ipi(vcpu, vcpu->lapic.icr_low, vcpu->lapic.icr_high);
	lapic_timer_register_written(&vcpu->lapic, (uint32_t)offset, rdtsc());
}

/* A globally disabled APIC (IA32_APIC_BASE[11] = 0) is gone from the bus. */
static uint64_t absent_read(struct vcpu *vcpu, uint64_t offset, unsigned size)
{
	(void)vcpu;
	(void)offset;
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void absent_write(struct vcpu *vcpu, uint64_t offset, unsigned size, uint64_t value)
{
	(void)vcpu;
	(void)offset;
	(void)size;
	(void)value;
}

static const struct mmio_region debug_console = {
	"debug console", MMIO_DEBUG_CONSOLE_GPA, 4096, debug_console_read, debug_console_write,
};
static const struct mmio_region apic_enabled = {
	"local APIC", LAPIC_DEFAULT_BASE, 4096, apic_read, apic_write,
};
static const struct mmio_region apic_disabled = {
	"local APIC (disabled)", LAPIC_DEFAULT_BASE, 4096, absent_read, absent_write,
};

static bool contains(const struct mmio_region *r, uint64_t gpa, unsigned size)
{
	return gpa >= r->base && gpa - r->base < r->size && size <= r->size - (gpa - r->base);
}

const struct mmio_region *mmio_find(struct vcpu *vcpu, uint64_t gpa, unsigned size)
{
	if (contains(&debug_console, gpa, size))
		return &debug_console;
	/* The xAPIC page stays at its default base: relocating it is not emulated. */
	if (contains(&apic_enabled, gpa, size))
		return (vcpu->msrs.apic_base & (1ULL << 11)) ? &apic_enabled : &apic_disabled;
	return NULL;
}
