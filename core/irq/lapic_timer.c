#include "irq/lapic_timer.h"

#include "irq/lapic.h"
#include "irq/lapic_regs.h"

/* Divide configuration register bits 3,1:0 (SDM Vol. 3A Figure 11-10):
 * 000 = 2, 001 = 4, ... 110 = 128, 111 = 1. */
static uint64_t divisor(const struct lapic *apic)
{
	uint32_t divide = LAPIC_REG(apic, APIC_TIMER_DIVIDE);
	uint32_t dcr = (divide & 3) | ((divide >> 1) & 4);
	return dcr == 7 ? 1 : 2ULL << dcr;
}

static uint32_t timer_lvt(const struct lapic *apic)
{
	return LAPIC_REG(apic, APIC_LVT_TIMER);
}

void lapic_timer_register_written(struct lapic *apic, uint32_t offset, uint64_t now,
				  uint64_t min_period)
{
	unsigned mode = LVT_TIMER_MODE(timer_lvt(apic));

	if (offset == APIC_LVT_TIMER) {
		/* Switching to or from TSC-deadline mode disarms the timer (11.5.4.1). */
		if ((mode == LVT_TIMER_TSC_DEADLINE) != apic->timer_tsc_deadline_mode) {
			apic->timer_deadline = 0;
			apic->timer_period = 0;
			LAPIC_REG(apic, APIC_TIMER_INITIAL) = 0;
		}
		apic->timer_tsc_deadline_mode = mode == LVT_TIMER_TSC_DEADLINE;
		return;
	}
	if (offset != APIC_TIMER_INITIAL || mode == LVT_TIMER_TSC_DEADLINE)
		return;
	/* Writing the initial count (re)starts the count-down; 0 stops it (11.5.4). */
	uint64_t ticks = (uint64_t)LAPIC_REG(apic, APIC_TIMER_INITIAL) * divisor(apic);
	apic->timer_deadline = ticks ? now + ticks : 0;
	/* A periodic timer fires no more often than every min_period ticks:
	 * a tiny count would otherwise leave every VM entry with its deadline
	 * already passed, and the guest would never run (KVM bounds periodic
	 * timers the same way).  The count the guest reads still follows its
	 * own initial count until the first expiry. */
	apic->timer_period = mode == LVT_TIMER_PERIODIC ? (ticks < min_period ? min_period : ticks) : 0;
}

uint32_t lapic_timer_current_count(const struct lapic *apic, uint64_t now)
{
	if (apic->timer_tsc_deadline_mode || !apic->timer_deadline || now >= apic->timer_deadline)
		return 0;
	return (uint32_t)((apic->timer_deadline - now) / divisor(apic));
}

uint64_t lapic_timer_read_tsc_deadline(const struct lapic *apic, uint64_t tsc_offset)
{
	if (!apic->timer_tsc_deadline_mode || !apic->timer_deadline)
		return 0;
	return apic->timer_deadline + tsc_offset;
}

void lapic_timer_write_tsc_deadline(struct lapic *apic, uint64_t guest_deadline, uint64_t tsc_offset)
{
	/* Ignored outside TSC-deadline mode; 0 disarms (11.5.4.1). */
	if (!apic->timer_tsc_deadline_mode)
		return;
	apic->timer_deadline = guest_deadline ? guest_deadline - tsc_offset : 0;
	if (guest_deadline && !apic->timer_deadline)
		apic->timer_deadline = 1; /* a deadline at host TSC 0 has passed */
	apic->timer_period = 0;
}

bool lapic_timer_expire(struct lapic *apic, uint64_t now)
{
	if (!apic->timer_deadline || now < apic->timer_deadline)
		return false;
	uint32_t lvt = timer_lvt(apic);
	if (!(lvt & LVT_MASKED) && LVT_VECTOR(lvt) >= 16)
		lapic_set_irr(apic, LVT_VECTOR(lvt));
	if (apic->timer_period) {
		/* Missed periods collapse into one interrupt, as IRR holds one;
		 * the next deadline is the first period boundary after now,
		 * computed, not stepped to (a long pause is many periods). */
		uint64_t missed = (now - apic->timer_deadline) / apic->timer_period;
		apic->timer_deadline += (missed + 1) * apic->timer_period;
	} else {
		apic->timer_deadline = 0; /* one-shot: the current count now reads 0 */
	}
	return true;
}
