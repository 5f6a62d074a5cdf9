/*
 * VM-exit handling: one const table indexed by the basic exit reason
 * (dispatch.c), one file per exit family.  A handler returns normally to
 * resume the guest, or ends the VM with vm_end().
 */
#ifndef CVISOR_EXIT_EXIT_H
#define CVISOR_EXIT_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/vcpu.h"

/* What a handler sees of the exit. */
struct vm_exit {
	uint32_t reason;        /* basic exit reason (bits 15:0) */
	uint64_t qualification; /* read only for reasons whose table entry asks */
};

typedef void (*exit_handler_fn)(struct vcpu *vcpu, const struct vm_exit *exit);

struct exit_handler {
	exit_handler_fn handle;
	bool needs_qualification; /* read EXIT_QUALIFICATION before calling */
	bool instruction;         /* caused by a guest instruction (no event delivery) */
};

/* Handles one exit (full VM_EXIT_REASON value, SDM Vol. 3C 25.9.1). */
void exit_dispatch(struct vcpu *vcpu, uint32_t exit_reason);

/* The table of exit counts and TSC ticks by reason, printed at the end of
 * a run and on demand (HC_EXIT_STATS). */
void exit_print_statistics(const struct vcpu *vcpu);
/* The same summed over the vCPUs of one VM. */
void exit_print_vm_statistics(struct vcpu *const *vcpus, unsigned count);
/* The last exits of a vCPU, oldest first (at most EXIT_RING_SIZE). */
void exit_print_trace(const struct vcpu *vcpu);
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

/* The handler table entry for a basic reason, or NULL when none. */
const struct exit_handler *exit_handler_for(unsigned basic_reason);
/* The same for a passthrough VM's table. */
const struct exit_handler *exit_passthrough_handler_for(unsigned basic_reason);

/*
 * Ends the VM after a guest did something cvisor will not handle: one line
 * naming the VM, the vCPU, the exit and the RIP, then the named VMCS dump
 * and the vCPU's last exits.  A passthrough VM (the running OS) is not
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
void handle_xsetbv(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_preemption_timer(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_external_interrupt(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_interrupt_window(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_nmi_window(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_exception_or_nmi(struct vcpu *vcpu, const struct vm_exit *exit);
/* Passthrough VMs (the running OS under cvisor.ko, core/vm/passthrough.c). */
void handle_cpuid_passthrough(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_msr_passthrough(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_ept_violation_passthrough(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_triple_fault_passthrough(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_init_signal(struct vcpu *vcpu, const struct vm_exit *exit);
void handle_sipi(struct vcpu *vcpu, const struct vm_exit *exit);

/* NULL when XSETBV(xcr, value) is legal given the supported XCR0 bits, else why not (#GP). */
const char *xsetbv_fault(uint32_t xcr, uint64_t value, uint64_t supported);

#endif
