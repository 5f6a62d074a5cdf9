/*
 * EPT violations and misconfigurations (SDM Vol. 3C 29.3.3).  Only guest
 * RAM is mapped, so a violation is an access outside RAM: the VM ends with
 * one line naming the address and the access.
 */
#include "exit/exit.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"

/* Exit qualification for EPT violations (SDM Vol. 3C 28.2.1, Table 28-7). */
#define EPT_QUAL_READ  (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)

static const char *access_name(uint64_t q)
{
	if (q & EPT_QUAL_FETCH)
		return "instruction fetch";
	if (q & EPT_QUAL_WRITE)
		return "write";
	return "read";
}

void handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	exit_fail_vm(vcpu, exit, false, "%s at guest-physical 0x%llx, which is neither RAM nor a device",
		     access_name(exit->qualification), (unsigned long long)gpa);
}

/* A misconfigured EPT entry is cvisor's own bug: say so and dump. */
void handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	exit_fail_vm(vcpu, exit, true, "EPT misconfiguration at guest-physical 0x%llx (a cvisor bug)",
		     (unsigned long long)gpa);
}
