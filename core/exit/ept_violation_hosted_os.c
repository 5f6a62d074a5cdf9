/*
 * EPT violations of the hosted OS (the running OS under cvisor.ko, SDM
 * Vol. 3C 29.3.3.2), and its protected-memory policy: cvisor's own pages
 * are mapped read-only in the identity EPT, and a write to them is
 * dropped (the instruction is emulated with a sink for a destination) and
 * reported once per exit.  The kernel's own protected ranges (cvisor.ko's
 * protect=1: its text and read-only data, vm/protect.h) follow their
 * policies as a type-1 guest's do (exit/protect.c).
 */
#include "dev/mmio.h"
#include "exit/ept_violation.h"
#include "exit/exit.h"
#include "exit/protect.h"
#include "lib/log.h"
#include "mm/guest_memory.h"
#include "mm/identity_map.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"

static uint64_t protected_read(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size)
{
	uint64_t value = 0;
	(void)state;
	guest_read(vcpu->vm, offset, &value, size);
	return value;
}

static void protected_write(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size,
			    uint64_t value)
{
	(void)state;
	(void)value;
	log_printf("cvisor: CPU %u: a %u-byte write to cvisor memory at 0x%llx from RIP 0x%llx "
		   "was refused\n",
		   vcpu->host_cpu, size, (unsigned long long)offset,
		   (unsigned long long)vmcs_read(GUEST_RIP));
}

/* The sink: base 0, so offsets are host-physical addresses. */
static const struct mmio_ops protected_memory_ops = { .read = protected_read, .write = protected_write };
static const struct mmio_region protected_memory = {
	.name = "cvisor memory", .base = 0, .size = ~0ULL, .ops = &protected_memory_ops,
};

/*
 * A write to cvisor's pages (refused), or an access past the initial
 * identity map (MMIO above RAM, say), which gets mapped on demand.
 */
void handle_ept_violation_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit)
{
	struct identity_map *map = vcpu->vm->identity;
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	if (identity_map_is_protected(map, gpa)) {
		if (exit->qualification & EPT_QUAL_FETCH)
			exit_fail_vm(vcpu, exit, "instruction fetch from cvisor memory at 0x%llx",
				     (unsigned long long)gpa);
		else
			ept_emulate_mmio(vcpu, exit, gpa, &protected_memory);
		return;
	}
	/* A page of a protected range: its policy. */
	if (protect_violation(vcpu, exit, gpa))
		return;
	/* Mapped RWX pages cannot violate; a page another CPU just mapped
	 * simply resumes. */
	if (identity_map_on_demand(map, gpa))
		return;
	exit_fail_vm(vcpu, exit, "%s at physical 0x%llx, which cvisor cannot map",
		     ept_access_name(exit->qualification), (unsigned long long)gpa);
}
