/* Exits that end or idle a guest: HLT and triple fault. */
#include "x86.h"
#include "exit/exit.h"
#include "lib/log.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "vmx/intrin.h"
#include "platform.h"
#include "vcpu/events.h"

/* Can some vCPU of this VM still run, or be woken by a pending event? */
static bool vm_can_progress(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		if (vm->vcpus[i] && vcpu_has_work(vm->vcpus[i], ~0ULL))
			return true;
	return false;
}

/*
 * HLT (exits with "HLT exiting", SDM Vol. 3C 26.1.3): with interrupts on,
 * the vCPU idles until an interrupt arrives; with them off only INIT can
 * wake it.  When no vCPU of the VM can run any more (none runs, none has
 * an interrupt or INIT pending, no APIC timer is armed), nothing could
 * ever wake it, and the VM is ended.
 */
void handle_hlt(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t rflags = vmcs_read(GUEST_RFLAGS);
	bool interrupts_on = rflags & RFLAGS_IF;

	vcpu_skip_instruction(vcpu);
	/* With RFLAGS.TF the single-step trap is pending after HLT, and a
	 * debug exception ends the halt (SDM Vol. 2A HLT): a VM entry in the
	 * HLT state would deliver it at once (Vol. 3C 27.6.3), so the vCPU
	 * simply stays active and takes it. */
	if ((rflags & RFLAGS_TF) && (vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS))
		return;
	__atomic_store_n(&vcpu->state, interrupts_on ? VCPU_HALTED : VCPU_PARKED, __ATOMIC_RELEASE);
	if (!vm_can_progress(vcpu->vm))
		exit_fail_vm(vcpu, exit,
			     "the guest halted (HLT with interrupts %s) and no event can wake it",
			     interrupts_on ? "enabled" : "disabled");
}

/* A host interrupt arrived while the guest ran ("external-interrupt
 * exiting" with "acknowledge interrupt on exit", SDM Vol. 3C 28.2.2): a
 * kick from another CPU.  Pending guest events are handled before the next
 * entry; the host APIC only needs its EOI. */
void handle_external_interrupt(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)vcpu;
	(void)exit;
	plat_eoi();
}

/* The guest can take an NMI now (SDM Vol. 3C 26.7.6); it is injected before
 * the next entry, which also turns the window exiting off. */
void handle_nmi_window(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)vcpu;
	(void)exit;
}

/*
 * Exit reason 0 with the exception bitmap at 0 means a real NMI arrived
 * while the guest ran ("NMI exiting").  cvisor sends no NMIs; one from the
 * platform is reported and the guest continues.
 */
void handle_exception_or_nmi(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint32_t info = vmcs_read(VM_EXIT_INTR_INFO);

	if (((info >> 8) & 7) != 2) {
		exit_fail_vm(vcpu, exit, "exception exit (interruption information 0x%x) with an empty exception bitmap",
			     info);
		return;
	}
	log_printf("cvisor: VM %s vCPU %u: a host NMI arrived while the guest ran; ignored\n",
		   vcpu->vm->name, vcpu->id);
}

/*
 * The guest can take an interrupt now (SDM Vol. 3C 26.7.5): the window
 * exiting goes off, and the event processing before the next entry
 * injects what waits or turns it on again for what still cannot go.  Left
 * on for an interrupt that can no longer be delivered (the guest raised
 * its TPR above it, or disabled its APIC, in the meantime), the CPU would
 * exit again before every instruction, and the guest would never run on
 * (found by make fuzz, seed 5341).
 */
void handle_interrupt_window(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)vcpu;
	(void)exit;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & ~PROC_INTERRUPT_WINDOW_EXITING);
}

/*
 * Triple fault (SDM Vol. 3C 26.2 / 28.1): the guest would shut down.
 * Only this VM ends; its registers are printed for the post-mortem.
 */
void handle_triple_fault(struct vcpu *vcpu, const struct vm_exit *exit)
{
	vcpu_dump_registers(vcpu);
	exit_fail_vm(vcpu, exit, "triple fault: the guest shut down");
}

/* The VMX-preemption timer counted down to 0 (SDM Vol. 3C 26.5.1): the
 * vCPU's time slice is over. */
void handle_preemption_timer(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	/* Either the slice ended or an APIC timer is due (fired before the
	 * next entry). */
	if (rdtsc() >= vcpu->slice_end)
		vcpu->preempted = true;
}

/*
 * The running OS under cvisor.ko triple-faulted.  Its state is handed back
 * unchanged, so the CPU faults again natively and shuts down, which is
 * what the OS would have seen without cvisor (a reset, as with reboot=t).
 */
void handle_triple_fault_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit)
{
	vcpu_dump_registers(vcpu);
	exit_fail_vm(vcpu, exit, "triple fault: the OS shut this CPU down");
}

/*
 * An INIT signal (SDM Vol. 3C 26.2: it exits unconditionally in VMX
 * non-root operation; Vol. 3A 9.4.1): the vCPU takes the INIT state and
 * waits for SIPI in the wait-for-SIPI activity state (Vol. 3C 25.4.2),
 * which the CPU must support (IA32_VMX_MISC bit 8, Vol. 3C A.6).
 */
#define VMX_MISC_WAIT_FOR_SIPI (1ULL << 8)

void handle_init_signal(struct vcpu *vcpu, const struct vm_exit *exit)
{
	if (!(vcpu->cpu->caps.misc & VMX_MISC_WAIT_FOR_SIPI)) {
		exit_fail_vm(vcpu, exit, "INIT signal, but the CPU has no wait-for-SIPI activity state");
		return;
	}
	vcpu_enter_init_state(vcpu);
	vmcs_write(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_FOR_SIPI);
}

/*
 * INIT to a CPU of the running OS under cvisor.ko.  Linux never sends one
 * to a CPU that cvisor runs: cvisor.ko gives a CPU back before it goes
 * offline (CPU hotplug brings it up natively) and every CPU before reboot,
 * kexec or suspend.  While the kernel is protected (protect=1, vm/protect.h)
 * it is refused and the CPU goes on where it was: the INIT state would
 * clear this CPU's pinned CR0/CR4 bits, and a SIPI would then start it
 * wherever the sender chose, unpinned.  Otherwise the vCPU resets as on
 * a type-1 VM.
 */
void handle_init_signal_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit)
{
	const struct vm_protect *p = &vcpu->vm->protect;

	if (__atomic_load_n(&p->cr0_pinned, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&p->cr4_pinned, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&p->range_count, __ATOMIC_ACQUIRE)) {
		log_printf("cvisor: CPU %u: INIT at RIP 0x%llx refused: the kernel is protected, and "
			   "a reset would lift this CPU's pinned bits\n",
			   vcpu->host_cpu, (unsigned long long)vmcs_read(GUEST_RIP));
		return;
	}
	handle_init_signal(vcpu, exit);
}

/* A start-up IPI while waiting for one: real mode at the vector's page
 * (exit qualification bits 7:0, SDM Vol. 3C 28.2.1, Vol. 3A 9.4.4). */
void handle_sipi(struct vcpu *vcpu, const struct vm_exit *exit)
{
	vcpu_enter_sipi_state(vcpu, (uint8_t)exit->qualification);
	vmcs_write(GUEST_ACTIVITY_STATE, 0); /* active */
}
