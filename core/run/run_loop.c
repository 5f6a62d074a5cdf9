#include "run/run_loop.h"

#include "dev/device.h"

#include "exit/exit.h"
#include "irq/lapic.h"
#include "irq/lapic_timer.h"
#include "lib/deadline.h"
#include "lib/format.h"
#include "lib/log.h"
#include "vcpu/apicv.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "vm/protect.h"
#include "vm/reset.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_names.h"
#include "vmx/vmx_run.h"

/* The hosted OS gets its CPU back after a failed entry, with its state
 * as the VMCS holds it; an ordinary VM ends instead. */
static bool give_back_after_entry_failure(struct vcpu *vcpu, const char *insn, const char *error)
{
	if (!vcpu->vm->identity)
		return false;
	log_printf("cvisor: CPU %u: %s failed (%s); giving this CPU back to the OS\n",
		   vcpu->host_cpu, insn, error);
	vcpu->leave = VCPU_LEAVE_ON_FAILURE;
	return true;
}

/*
 * VMLAUNCH/VMRESUME that fall through to the next instruction: the VMCS
 * was not entered at all (SDM Vol. 3C 31.2, VM-instruction errors 31.4).
 */
static void report_entry_instruction_failure(struct vcpu *vcpu, int result)
{
	const char *insn = vcpu->launched ? "VMRESUME" : "VMLAUNCH";

	if (result == 1) {
		log_printf("cvisor: VM %s vCPU %u: %s failed: VMfailInvalid (no valid current VMCS)\n",
			   vcpu->vm->name, vcpu->id, insn);
		if (!give_back_after_entry_failure(vcpu, insn, "VMfailInvalid"))
			vm_end(vcpu->vm, false, "%s failed with VMfailInvalid", insn);
		return;
	}
	uint32_t error = vmcs_read(VM_INSTRUCTION_ERROR);
	log_printf("cvisor: VM %s vCPU %u: %s failed: VMfailValid, VM-instruction error %u (%s)\n",
		   vcpu->vm->name, vcpu->id, insn, error, vmx_instruction_error_name(error));
	if (!vcpu->entry_rules_reported)
		vcpu_check_entry_rules(vcpu);
	vmcs_dump();
	char short_form[32];
	fmt_snprintf(short_form, sizeof(short_form), "VM-instruction error %u", error);
	if (!give_back_after_entry_failure(vcpu, insn, short_form))
		vm_end(vcpu->vm, false, "%s failed: VM-instruction error %u (%s)", insn, error,
		       vmx_instruction_error_name(error));
}

bool vcpu_make_current(struct vcpu *vcpu, struct vcpu *previous)
{
	if (previous == vcpu)
		return true;
	if (previous)
		vcpu_put(previous);
	/* SDM Vol. 3C 25.11.3: VMPTRLD makes this vCPU's VMCS current. */
	if (vmptrld(vcpu->vmcs_pa) != VMX_SUCCEED) {
		log_printf("cvisor: VM %s vCPU %u: VMPTRLD failed\n", vcpu->vm->name, vcpu->id);
		vm_end(vcpu->vm, false, "VMPTRLD of its VMCS failed");
		return false;
	}
	vcpu_load(vcpu);
	return true;
}

/*
 * After an exit, may the guest be resumed at once, without the work of
 * vcpu_run_slice's loop (events, timer, checks)?  Yes when that work would
 * change nothing: the VM runs on (vm_ended), the vCPU is running, nothing is posted to
 * it (INIT, SIPI, NMI, an APIC interrupt), the deadline of this entry (slice
 * end, APIC timer) has not passed; entry_deadline is 0 unless the
 * VMX-preemption timer keeps its remaining count across exits (SDM Vol. 3C
 * 25.7.1, 26.5.1).
 *
 * An event another CPU posts while this one is in root operation is not
 * missed: its kick IPI is held (RFLAGS.IF = 0 after an exit, SDM Vol. 3C
 * 28.5.3) and, with external-interrupt exiting, exits the guest right
 * after the entry (SDM Vol. 3C 26.2).
 */
static bool vcpu_may_resume_directly(const struct vcpu *vcpu)
{
	return vcpu->state == VCPU_RUNNING && !__atomic_load_n(&vcpu->back_to_loop, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&vcpu->pending.any, __ATOMIC_ACQUIRE) &&
	       !lapic_has_pending(&vcpu->lapic) && rdtsc() < vcpu->entry_deadline;
}

/* vmx_run_guest's on_exit, for every kind of vCPU. */
static bool vcpu_exit(void *ctx)
{
	struct vcpu *vcpu = ctx;

	exit_dispatch(vcpu, (uint32_t)vmcs_read(VM_EXIT_REASON));
	/* Any rules checked were for the entry before this exit. */
	vcpu->entry_rules_reported = false;
	return vcpu_may_resume_directly(vcpu);
}

/* The VM's device timers that are due fire (they may raise interrupts),
 * then the vCPU's events: true when it has a guest to enter.  While its VM
 * restarts, the restart's rendezvous decides instead (vm/reset.h). */
static bool vcpu_ready_to_enter(struct vcpu *vcpu)
{
	if (__builtin_expect(__atomic_load_n(&vcpu->vm_reset, __ATOMIC_ACQUIRE), 0) &&
	    !vm_reset_rendezvous(vcpu))
		return false;
	vm_device_timers_expire(vcpu->vm, rdtsc());
	if (__builtin_expect(__atomic_load_n(&vcpu->protect_sync, __ATOMIC_ACQUIRE), 0))
		protect_sync_vcpu(vcpu);
	/* A `log` step of protected memory (exit/protect.c) runs one
	 * instruction with a page lifted: no new event goes first (its
	 * delivery would run with the page lifted); events wait for the MTF
	 * exit, one instruction later. */
	bool enter = __builtin_expect(vcpu->protect.step_count != 0, 0)
			     ? vcpu->state == VCPU_RUNNING
			     : vcpu_process_events(vcpu);
	/* The CPU's APIC virtualization sees the APIC as the events left it. */
	if (enter && vcpu->apicv)
		apicv_sync_before_entry(vcpu);
	return enter;
}

uint64_t vcpu_first_entry_tsc;

void vcpu_run_slice(struct vcpu *vcpu, uint64_t slice_tsc)
{
	struct vm *vm = vcpu->vm;
	uint64_t start = rdtsc();

	vcpu->preempted = false;
	vcpu->slice_end = slice_tsc > ~0ULL - start ? ~0ULL : start + slice_tsc;
	while (!vm->ended && !vcpu->preempted && vcpu->leave == VCPU_STAY &&
	       vcpu_ready_to_enter(vcpu)) {
		/* The VMX-preemption timer ends the slice, or wakes cvisor for the
		 * APIC timer, whichever is first (vcpu_preemption_timer_count). */
		uint64_t now = rdtsc(), until = vcpu->slice_end;
		/* The timer's exit comes only after event injection, and not at
		 * all when delivering the injected event exits first (SDM Vol. 3C
		 * 27.7.4): an exit storm could keep it from firing, so the clock
		 * also ends the slice. */
		if (now >= vcpu->slice_end) {
			vcpu->preempted = true;
			break;
		}
		until = deadline_earlier(until, lapic_timer_deadline(&vcpu->lapic));
		/* Every vCPU of the VM wakes for its device timers: whichever
		 * comes first fires them. */
		until = deadline_earlier(until, vm_device_deadline(&vm->devices));
		if (vcpu->preemption_timer) {
			/* Without a saved timer every entry must reload it: no fast path. */
			vcpu->entry_deadline = vcpu->timer_saved_on_exit ? until : 0;
			vmcs_write(VMX_PREEMPTION_TIMER_VALUE,
				   vcpu_preemption_timer_count(vcpu, now, until));
		} else {
			/* Nothing but an exit brings the CPU back (the hosted OS). */
			vcpu->entry_deadline = until;
		}
		/* The flag is cleared in every build: it is one of back_to_loop's
		 * reasons, and left set it would refuse every later exit the
		 * direct resume (vcpu_may_resume_directly). */
		if (__builtin_expect(!vcpu->launched || vcpu->check_before_entry, 0)) {
			vcpu->check_before_entry = false;
			/* Broken rules are printed; enter anyway so the CPU's own
			 * verdict follows in the report. */
			if (vcpu_check_entries)
				vcpu_check_entry_rules(vcpu);
		}
		if (!vcpu->launched) {
			uint64_t none = 0;
			__atomic_compare_exchange_n(&vcpu_first_entry_tsc, &none, rdtsc(), false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		}
		/* Returns after an exit that needs this loop (vcpu_exit).  Set
		 * first, so that the handlers of the first exit see it. */
		bool launched = vcpu->launched;
		vcpu->launched = true;
		int result = vmx_run_guest(&vcpu->gprs, launched, vcpu_exit, vcpu);
		if (result != 0) {
			vcpu->launched = launched; /* the VMLAUNCH/VMRESUME itself failed */
			report_entry_instruction_failure(vcpu, result);
			break;
		}
	}
}
