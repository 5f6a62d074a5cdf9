/*
 * Events for a vCPU: exceptions cvisor injects for an instruction it
 * emulated, NMIs, interrupts from its local APIC, INIT and SIPI, and the
 * event an exit interrupted.  The exit handlers call down into this; the
 * run loop calls vcpu_process_events before every entry that needs it.
 * Injection follows SDM Vol. 3C 27.6 (event injection on VM entry) and
 * 26.7.5-26.7.6 (interrupt-window and NMI-window exiting).
 */
#ifndef CVISOR_VCPU_EVENTS_H
#define CVISOR_VCPU_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "x86.h"

struct vcpu;

/*
 * Queues a hardware exception for the next VM entry (SDM Vol. 3C 25.8.3,
 * 27.6.1).  The guest's RIP must still point at the faulting instruction.
 */
void vcpu_inject_exception(struct vcpu *vcpu, unsigned vector, bool has_error_code,
			   uint32_t error_code);
static inline void vcpu_inject_gp(struct vcpu *vcpu) { vcpu_inject_exception(vcpu, VECTOR_GP, true, 0); }
static inline void vcpu_inject_ud(struct vcpu *vcpu) { vcpu_inject_exception(vcpu, VECTOR_UD, false, 0); }
/* #PF for linear with this error code: CR2 = linear (SDM Vol. 3A 6.15, interrupt 14). */
void vcpu_inject_page_fault(struct vcpu *vcpu, uint64_t linear, uint32_t pf_error);

/*
 * Injects a posted NMI unless NMIs are blocked (by a previous NMI until
 * IRET, or by MOV SS) or another event is being injected; then, where the
 * vCPU has virtual NMIs, the NMI-window exit says when (SDM Vol. 3C 26.7.6,
 * 27.2.1.3, 27.6.1), and otherwise a later exit retries.  True when it
 * injected.
 */
bool vcpu_inject_pending_nmi(struct vcpu *vcpu);

/* The guest single-steps (RFLAGS.TF) past an instruction cvisor emulated:
 * the CPU would trap after it (SDM Vol. 3B 18.3.1.4), so the trap is made
 * pending (vcpu_advance_rip calls it; out of line, it is rare). */
void vcpu_single_step_trap(struct vcpu *vcpu);

/* Puts back an event whose delivery the exit interrupted (SDM Vol. 3C 28.2.4, 27.6). */
void vcpu_requeue_interrupted_event(struct vcpu *vcpu);

/*
 * The vCPU runs, or has an event that will make it run: INIT, NMI, SIPI
 * while waiting for one, or (halted) a pending interrupt or an APIC timer
 * due by `now` (host TSC; ~0 counts any armed timer); or its VM restarts
 * (vcpu->vm_reset).  Safe to call from any CPU.
 */
bool vcpu_has_work(const struct vcpu *vcpu, uint64_t now);

/*
 * The host TSC at which vcpu_has_work turns true by time alone: for a
 * halted vCPU the earlier of its APIC timer and its VM's device timers; 0
 * when no time wakes it (running, waiting for SIPI, nothing armed).  Events
 * posted from elsewhere come with a kick (vcpu_kick).  Any CPU.
 */
uint64_t vcpu_wake_deadline(const struct vcpu *vcpu);

/* Applies posted INIT/SIPI, fires a due APIC timer, injects a pending NMI
 * or interrupt if the guest can take one (else asks for a window exit).
 * Returns true when the vCPU should be entered. */
bool vcpu_process_events(struct vcpu *vcpu);

/* The state after INIT (SDM Vol. 3A Table 10-1) and after a start-up IPI
 * with this vector (real mode at vector << 12, Vol. 3A 9.4.4). */
void vcpu_enter_init_state(struct vcpu *vcpu);
void vcpu_enter_sipi_state(struct vcpu *vcpu, uint8_t vector);

#endif
