/*
 * EPT violations (SDM Vol. 3C 29.3.3).  Only guest RAM is mapped, so a
 * violation is an access to RAM the guest protected (exit/protect.c), an
 * access to an emulated MMIO device, whose instruction is emulated
 * (emulate/), or an access to nothing, which ends the VM with one line
 * naming the address and access.
 */
#include "exit/ept_violation.h"

#include "dev/mmio.h"
#include "exit/exit.h"
#include "exit/protect.h"
#include "lib/format.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "x86.h"

const char *ept_access_name(uint64_t qualification)
{
	if (qualification & EPT_QUAL_FETCH)
		return "instruction fetch";
	if (qualification & EPT_QUAL_WRITE)
		return "write";
	return "read";
}

void ept_report_emulation_failure(struct vcpu *vcpu, const struct vm_exit *exit, uint64_t gpa,
				  const struct mmio_region *region, enum emulate_result result,
				  const struct emulate_failure *failure)
{
	if (result == EMULATE_UNSUPPORTED) {
		char hex[3 * sizeof(failure->bytes) + 1] = "";
		for (unsigned i = 0, n = 0; i < failure->byte_count; i++)
			n += fmt_snprintf(hex + n, sizeof(hex) - n, "%s%02x", i ? " " : "",
					  failure->bytes[i]);
		exit_fail_vm(vcpu, exit,
			     "%s access to %s at 0x%llx by an instruction cvisor does not emulate (%s; bytes %s)",
			     ept_access_name(exit->qualification), region->name,
			     (unsigned long long)gpa, failure->refused, hex);
	} else if (result == EMULATE_NOT_MEMORY) {
		exit_fail_vm(vcpu, exit,
			     "string MMIO touched guest-physical 0x%llx, which is neither RAM nor a device",
			     (unsigned long long)failure->gpa);
	} else {
		exit_fail_vm(vcpu, exit, "string MMIO with a 64-bit address outside 64-bit mode");
	}
}

void handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	if (gpa < vcpu->vm->ram_size && protect_violation(vcpu, exit, gpa))
		return;
	const struct mmio_region *region = mmio_find(vcpu, gpa, 1);

	/* Only RAM is mapped: an access that no device claims meets the open
	 * bus, unless the VM is strict (then it ends the VM, below).  Code
	 * is never fetched from it. */
	if (!region && !(exit->qualification & EPT_QUAL_FETCH))
		region = mmio_open_bus(vcpu);
	/* With valid IDT-vectoring information the access was the CPU's own,
	 * delivering an event (an exception frame pushed onto a stack in the
	 * device page, say; SDM Vol. 3C 28.2.4), not one by the instruction at
	 * RIP: decoding that instruction would emulate the wrong access, and
	 * re-delivering the event would exit again, forever. */
	uint32_t vectoring = region ? (uint32_t)vmcs_read(IDT_VECTORING_INFO) : 0;
	if (vectoring & INTR_INFO_VALID) {
		exit_fail_vm(vcpu, exit,
			     "%s to %s at 0x%llx while delivering vector %u: cvisor emulates only instructions' device accesses",
			     ept_access_name(exit->qualification), region->name,
			     (unsigned long long)gpa, INTR_INFO_VECTOR(vectoring));
		return;
	}
	if (region && !(exit->qualification & EPT_QUAL_FETCH)) {
		ept_emulate_mmio(vcpu, exit, gpa, region);
		return;
	}
	exit_fail_vm(vcpu, exit, "%s at guest-physical 0x%llx, which is neither RAM nor a device",
		     ept_access_name(exit->qualification), (unsigned long long)gpa);
}

/* A misconfigured EPT entry is cvisor's own bug: say so and dump. */
void handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	exit_fail_vm(vcpu, exit, "EPT misconfiguration at guest-physical 0x%llx (a cvisor bug)",
		     (unsigned long long)gpa);
}
