#include "vm/apic_timer.h"

#include "dev/lapic.h"
#include "vmx/vcpu.h"

#define APIC_LVT_TIMER     0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_DIVIDE  0x3E0
#define LVT_MASKED         (1u << 16)
#define LVT_TIMER_MODE(lvt) (((lvt) >> 17) & 3)
enum { TIMER_ONE_SHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

/* Divide configuration register bits 3,1:0 (SDM Vol. 3A Figure 11-10):
 * 000 = 2, 001 = 4, ... 110 = 128, 111 = 1. */
static uint64_t divisor(const struct lapic *apic)
{
	uint32_t dcr = (apic->timer_divide & 3) | ((apic->timer_divide >> 1) & 4);
	return dcr == 7 ? 1 : 2ULL << dcr;
}

static uint32_t timer_lvt(const struct vcpu *vcpu)
{
	return vcpu->lapic.lvt[1];
}

void apic_timer_register_written(struct vcpu *vcpu, uint32_t offset, uint64_t now)
{
	struct lapic *apic = &vcpu->lapic;
	unsigned mode = LVT_TIMER_MODE(timer_lvt(vcpu));

	if (offset == APIC_LVT_TIMER) {
		/* Switching to or from TSC-deadline mode disarms the timer (11.5.4.1). */
		if ((mode == TIMER_TSC_DEADLINE) != vcpu->timer_tsc_deadline_mode) {
			vcpu->timer_deadline = 0;
			vcpu->timer_period = 0;
			apic->timer_initial = 0;
		}
		vcpu->timer_tsc_deadline_mode = mode == TIMER_TSC_DEADLINE;
		return;
	}
	if (offset != APIC_TIMER_INITIAL || mode == TIMER_TSC_DEADLINE)
		return;
	/* Writing the initial count (re)starts the count-down; 0 stops it (11.5.4). */
	uint64_t ticks = (uint64_t)apic->timer_initial * divisor(apic);
	vcpu->timer_deadline = ticks ? now + ticks : 0;
	vcpu->timer_period = mode == TIMER_PERIODIC ? ticks : 0;
}

uint32_t apic_timer_current_count(const struct vcpu *vcpu, uint64_t now)
{
	if (vcpu->timer_tsc_deadline_mode || !vcpu->timer_deadline || now >= vcpu->timer_deadline)
		return 0;
	return (uint32_t)((vcpu->timer_deadline - now) / divisor(&vcpu->lapic));
}

uint64_t apic_timer_read_tsc_deadline(const struct vcpu *vcpu, uint64_t tsc_offset)
{
	if (!vcpu->timer_tsc_deadline_mode || !vcpu->timer_deadline)
		return 0;
	return vcpu->timer_deadline + tsc_offset;
}

void apic_timer_write_tsc_deadline(struct vcpu *vcpu, uint64_t guest_deadline, uint64_t tsc_offset)
{
	/* Ignored outside TSC-deadline mode; 0 disarms (11.5.4.1). */
	if (!vcpu->timer_tsc_deadline_mode)
		return;
	vcpu->timer_deadline = guest_deadline ? guest_deadline - tsc_offset : 0;
	if (guest_deadline && !vcpu->timer_deadline)
		vcpu->timer_deadline = 1; /* a deadline at host TSC 0 has passed */
	vcpu->timer_period = 0;
}

bool apic_timer_expire(struct vcpu *vcpu, uint64_t now)
{
	if (!vcpu->timer_deadline || now < vcpu->timer_deadline)
		return false;
	uint32_t lvt = timer_lvt(vcpu);
	if (!(lvt & LVT_MASKED) && (lvt & 0xFF) >= 16)
		lapic_set_irr(&vcpu->lapic, (uint8_t)lvt);
	if (vcpu->timer_period) {
		/* Missed periods collapse into one interrupt, as IRR holds one. */
		while (vcpu->timer_deadline <= now)
			vcpu->timer_deadline += vcpu->timer_period;
	} else {
		vcpu->timer_deadline = 0; /* one-shot: the current count now reads 0 */
	}
	return true;
}

uint64_t apic_timer_deadline(const struct vcpu *vcpu)
{
	return vcpu->timer_deadline;
}
