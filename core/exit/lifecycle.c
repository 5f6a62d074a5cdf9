/* Exits that end or idle a guest: HLT and triple fault. */
#include "exit/exit.h"
#include "lib/log.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"

/*
 * HLT (exits with "HLT exiting", SDM Vol. 3C 26.1.3).  No device raises
 * interrupts yet, so nothing can ever wake a halted vCPU: end the VM
 * instead of spinning forever.
 */
void handle_hlt(struct vcpu *vcpu, const struct vm_exit *exit)
{
	bool interrupts_on = vmcs_read(GUEST_RFLAGS) & (1u << 9);
	exit_fail_vm(vcpu, exit, false, "the guest halted (HLT with interrupts %s) and no event can wake it",
		     interrupts_on ? "enabled" : "disabled");
}

/*
 * Triple fault (SDM Vol. 3C 26.2 / 28.1): the guest would shut down.
 * Only this VM ends; its registers are printed for the post-mortem.
 */
void handle_triple_fault(struct vcpu *vcpu, const struct vm_exit *exit)
{
	vcpu_dump_registers(vcpu);
	exit_fail_vm(vcpu, exit, false, "triple fault: the guest shut down");
}

/* The VMX-preemption timer counted down to 0 (SDM Vol. 3C 26.5.1): the
 * vCPU's time slice is over. */
void handle_preemption_timer(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	vcpu->preempted = true;
}
