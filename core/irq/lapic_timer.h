/*
 * The local APIC timer (SDM Vol. 3A 11.5.4): one-shot, periodic and
 * TSC-deadline modes, its state in struct lapic.  Time is the host TSC
 * (the timer's input clock is the TSC divided by the divide
 * configuration).  cvisor fires it before a VM entry once its deadline has
 * passed, and the VMX-preemption timer makes sure the vCPU exits by then.
 */
#ifndef CVISOR_IRQ_LAPIC_TIMER_H
#define CVISOR_IRQ_LAPIC_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "irq/lapic.h"

/* A timer register (LVT timer, initial count, divide) was written;
 * min_period is the shortest period a periodic timer gets, in TSC ticks. */
void lapic_timer_register_written(struct lapic *apic, uint32_t offset, uint64_t now,
				  uint64_t min_period);
/* The shortest period of a periodic APIC timer: 50 us (KVM allows 200 us
 * by default; 50 us keeps a 10 kHz guest tick). */
#define LAPIC_TIMER_MIN_PERIOD_US 50
/* The current-count register (0x390). */
uint32_t lapic_timer_current_count(const struct lapic *apic, uint64_t now);
/* IA32_TSC_DEADLINE (MSR 0x6E0), in guest TSC (host TSC + TSC_OFFSET). */
uint64_t lapic_timer_read_tsc_deadline(const struct lapic *apic, uint64_t tsc_offset);
void lapic_timer_write_tsc_deadline(struct lapic *apic, uint64_t guest_deadline, uint64_t tsc_offset);
/* Fires the timer if its deadline has passed (sets the LVT vector in IRR);
 * periodic timers rearm.  Returns true when it fired. */
bool lapic_timer_expire(struct lapic *apic, uint64_t now);
/* Host TSC of the next expiry, 0 when the timer is idle. */
static inline uint64_t lapic_timer_deadline(const struct lapic *apic)
{
	return apic->timer_deadline;
}

#endif
