/*
 * The local APIC timer of a vCPU (SDM Vol. 3A 11.5.4): one-shot, periodic
 * and TSC-deadline modes.  Time is the host TSC (the timer's input clock
 * is the TSC divided by the divide configuration).  cvisor fires it before
 * a VM entry once its deadline has passed, and the VMX-preemption timer
 * makes sure the vCPU exits by then.
 */
#ifndef CVISOR_VM_APIC_TIMER_H
#define CVISOR_VM_APIC_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* A timer register (LVT timer, initial count, divide) was written. */
void apic_timer_register_written(struct vcpu *vcpu, uint32_t offset, uint64_t now);
/* The current-count register (0x390). */
uint32_t apic_timer_current_count(const struct vcpu *vcpu, uint64_t now);
/* IA32_TSC_DEADLINE (MSR 0x6E0), in guest TSC (host TSC + TSC_OFFSET). */
uint64_t apic_timer_read_tsc_deadline(const struct vcpu *vcpu, uint64_t tsc_offset);
void apic_timer_write_tsc_deadline(struct vcpu *vcpu, uint64_t guest_deadline, uint64_t tsc_offset);
/* Fires the timer if its deadline has passed (sets the LVT vector in IRR);
 * periodic timers rearm.  Returns true when it fired. */
bool apic_timer_expire(struct vcpu *vcpu, uint64_t now);
/* Host TSC of the next expiry, 0 when the timer is idle. */
uint64_t apic_timer_deadline(const struct vcpu *vcpu);

#endif
