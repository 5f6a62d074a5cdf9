/*
 * The run loop, the top of cvisor: one loop for both kinds of vCPU (an
 * ordinary VM's and the hosted OS's).  It processes pending events (down
 * into vcpu/events.c), enters the guest through the hardware stub
 * (vmx/vmx_run.h) and hands each exit to the dispatch table
 * (exit/exit.h), until the vCPU's slice ends, its VM ends, or the hosted
 * OS is to get its CPU back.
 */
#ifndef CVISOR_RUN_RUN_LOOP_H
#define CVISOR_RUN_RUN_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* Time slice of each vCPU in TSC ticks (Bochs: emulated instructions). */
#define VCPU_SLICE_TSC 2000000u
/* A vCPU alone on its CPU has nobody to yield to: it runs until an event
 * needs cvisor (kicks, APIC timer), and the timer only bounds the slice. */
#define VCPU_SLICE_ALONE_TSC 0xFFFFFFFFu

/* No end of slice: the hosted OS runs until it leaves. */
#define VCPU_SLICE_ENDLESS (~0ULL)

/*
 * Runs the vCPU for one time slice of slice_tsc TSC ticks: VMLAUNCH or
 * VMRESUME and exit handling until its VM ends, the VMX-preemption timer
 * or the clock ends the slice, or (hosted OS) the CPU goes back to the OS.
 * The vCPU must be current on this CPU (vcpu_make_current).
 */
void vcpu_run_slice(struct vcpu *vcpu, uint64_t slice_tsc);

/* vcpu_put of the vCPU that ran before (if any), then VMPTRLD and
 * vcpu_load; false (and the VM ended) when VMPTRLD fails. */
bool vcpu_make_current(struct vcpu *vcpu, struct vcpu *previous);

/* Host TSC of the first VMLAUNCH on any CPU; 0 before it. */
extern uint64_t vcpu_first_entry_tsc;

#endif
