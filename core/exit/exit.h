/*
 * VM-exit handling: one const table indexed by the basic exit reason
 * (dispatch.c), one file per exit family, reports and statistics in
 * report.c.  A handler returns normally to
 * resume the guest, or ends the VM with vm_end().
 */
#ifndef CVISOR_EXIT_EXIT_H
#define CVISOR_EXIT_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

/* What a handler sees of the exit. */
struct vm_exit {
	uint64_t qualification; /* read only for reasons whose table entry asks */
	uint32_t reason;        /* basic exit reason (bits 15:0) */
};

typedef void (*exit_handler_fn)(struct vcpu *vcpu, const struct vm_exit *exit);

struct exit_handler {
	exit_handler_fn handle;
	bool needs_qualification; /* read EXIT_QUALIFICATION before calling */
	bool instruction;         /* caused by a guest instruction (no event delivery) */
};

/*
 * What cvisor keeps of each exit besides its count.  The ring and the TSC
 * spent per reason cost the exit path a VMREAD and two RDTSCs, so release
 * builds start with tracing off; boot option trace=off|ring|exits.
 */
enum exit_trace {
	EXIT_TRACE_OFF,   /* counts only */
	EXIT_TRACE_RING,  /* + the last EXIT_RING_SIZE exits and TSC per reason (debug default) */
	EXIT_TRACE_PRINT, /* + print every exit as it happens */
};
extern enum exit_trace exit_trace;

/*
 * The dispatch tables: ordinary VMs, and the running OS under cvisor.ko
 * (the hosted OS).  vcpu_create points vcpu->exit_handlers at one of them.
 */
const struct exit_handler *exit_handler_table(bool hosted_os);

/* exit_dispatch's other half: failed entries, reasons without a handler,
 * and every exit while tracing is on (dispatch.c). */
void exit_dispatch_slow(struct vcpu *vcpu, uint32_t exit_reason);

/* Counts one exit of a basic reason (the statistics, exit_print_statistics). */
static inline void exit_count(struct vcpu *vcpu, uint32_t basic_reason)
{
	vcpu->exits_total++;
	if (basic_reason < EXIT_REASON_COUNT)
		vcpu->exit_counts[basic_reason]++;
}

/* Counts the exit and runs its handler h (both dispatch paths). */
static inline void exit_run_handler(struct vcpu *vcpu, const struct exit_handler *h,
				    struct vm_exit *exit)
{
	exit_count(vcpu, exit->reason);
	if (h->needs_qualification)
		exit->qualification = vmcs_read(EXIT_QUALIFICATION);
	if (h->instruction) {
		h->handle(vcpu, exit);
		return;
	}
	vcpu->event_injected = false;
	h->handle(vcpu, exit);
	vcpu_requeue_interrupted_event(vcpu);
}

/*
 * Handles one exit (full VM_EXIT_REASON value, SDM Vol. 3C 25.9.1).  Inline,
 * because it is most of the exit path: a failed VM entry (bit 31) and a
 * reason past the table are both >= EXIT_REASON_COUNT, so one compare sends
 * them, tracing and unknown reasons to exit_dispatch_slow.  An exit caused
 * by an instruction cannot interrupt event delivery (SDM Vol. 3C 28.2.4), so
 * only event exits look at IDT-vectoring information.
 */
static inline void exit_dispatch(struct vcpu *vcpu, uint32_t exit_reason)
{
	if (__builtin_expect(exit_reason >= EXIT_REASON_COUNT || exit_trace != EXIT_TRACE_OFF, 0)) {
		exit_dispatch_slow(vcpu, exit_reason);
		return;
	}
	const struct exit_handler *h = &vcpu->exit_handlers[exit_reason];
	if (__builtin_expect(!h->handle, 0)) {
		exit_dispatch_slow(vcpu, exit_reason);
		return;
	}
	struct vm_exit exit = { .reason = exit_reason };

	exit_run_handler(vcpu, h, &exit);
}

/* The table of exit counts and TSC ticks by reason, printed at the end of
 * a run and on demand (HC_EXIT_STATS). */
void exit_print_statistics(const struct vcpu *vcpu);
/* The same summed over the vCPUs of one VM. */
void exit_print_vm_statistics(struct vcpu *const *vcpus, unsigned count);
/* The last exits of a vCPU, oldest first (at most EXIT_RING_SIZE). */
void exit_print_trace(const struct vcpu *vcpu);
/* One record of the ring on one line (trace=exits prints each as it happens). */
void exit_print_record(const struct vcpu *vcpu, const struct exit_record *rec);

/*
 * Ends the VM after a guest did something cvisor will not handle: one line
 * naming the VM, the vCPU, the exit and the RIP, then the named VMCS dump
 * and the vCPU's last exits.  The hosted OS (the running OS) is not
 * ended: this CPU is given back to it instead, RIP unchanged.
 */
void exit_fail_vm(struct vcpu *vcpu, const struct vm_exit *exit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The handlers (one file per family). */
void handle_cpuid(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_vmcall(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_io(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_hlt(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_triple_fault(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_rdmsr(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_wrmsr(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_cr_access(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_invd(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_vmx_instruction(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_monitor_mwait(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_xsetbv(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_preemption_timer(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_external_interrupt(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_interrupt_window(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_nmi_window(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_exception_or_nmi(struct vcpu *vcpu, const struct vm_exit *exit);
/* Hardware task switches: CALL, JMP, IRET, IDT task gates (exit/task_switch.c). */
void handle_task_switch(struct vcpu *vcpu, const struct vm_exit *exit);
/* The CPU's APIC virtualization (exit/apic.c). */
void handle_apic_access(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_apic_write(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_virtualized_eoi(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_tpr_below_threshold(struct vcpu *vcpu, const struct vm_exit *exit);
/* The end of a `log` step of protected memory (exit/protect.c). */
void handle_monitor_trap_flag(struct vcpu *vcpu, const struct vm_exit *exit);
/* The hosted OS (the running OS under cvisor.ko, core/vm/hosted_os.c). */
void handle_cpuid_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_msr_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_ept_violation_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_triple_fault_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_init_signal(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_init_signal_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_sipi(struct vcpu *vcpu, const struct vm_exit *exit);

/* NULL when XSETBV(xcr, value) is legal given the supported XCR0 bits, else why not (#GP). */
const char *xsetbv_fault(uint32_t xcr, uint64_t value, uint64_t supported);

#endif
