#include "irq/lapic.h"

#include "irq/lapic_regs.h"
#include "lib/mem.h"

/* Unrolled: EOI and PPR scan the 8 ISR words on every such exit, and an
 * empty word then costs a load and a branch. */
static int highest_bit(const uint32_t *bits)
{
#pragma GCC unroll 8
	for (int word = 7; word >= 0; word--) {
		uint32_t w = __atomic_load_n(&bits[word], __ATOMIC_ACQUIRE);
		if (w)
			return word * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* PPR (SDM Vol. 3A 11.8.3.1): TPR if its class is at least the highest
 * in-service class, else that class. */
static uint32_t processor_priority(const struct lapic *apic)
{
	int isrv = highest_bit(apic->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	return (apic->tpr & 0xF0) >= isr_class ? apic->tpr & 0xFF : isr_class;
}

/*
 * irr_words summarizes IRR for the exit fast path: bit w is set whenever
 * irr[w] is not 0 (it may stay set for a while after irr[w] empties, never
 * the other way round).  The setter sets the IRR bit, then the summary bit;
 * lapic_accept clears the summary bit of an emptied word, then looks at the
 * word again, so a vector posted in between is never hidden (sequentially
 * consistent, so the clear and the second look stay in order).
 */
void lapic_set_irr(struct lapic *apic, uint8_t vector)
{
	__atomic_fetch_or(&apic->irr[vector / 32], 1u << (vector % 32), __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&apic->irr_words, 1u << (vector / 32), __ATOMIC_SEQ_CST);
}

void lapic_set_irr_trigger(struct lapic *apic, uint8_t vector, bool level)
{
	uint32_t bit = 1u << (vector % 32);

	if (level)
		__atomic_fetch_or(&apic->tmr[vector / 32], bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&apic->tmr[vector / 32], ~bit, __ATOMIC_SEQ_CST);
	lapic_set_irr(apic, vector);
}

bool lapic_accepts_extint(const struct lapic *apic)
{
	uint32_t lint0 = apic->lvt[LAPIC_LVT_LINT0_INDEX];
	return !(lint0 & LVT_MASKED) && LVT_DELIVERY_MODE(lint0) == APIC_DM_EXTINT;
}

bool lapic_has_pending_slow(const struct lapic *apic)
{
	return highest_bit(apic->irr) >= 0;
}

bool lapic_software_enabled(const struct lapic *apic)
{
	return apic->svr & SVR_APIC_ENABLED;
}

int lapic_deliverable(const struct lapic *apic)
{
	int vector = highest_bit(apic->irr);
	if (vector < 0 || ((uint32_t)vector & 0xF0) <= (processor_priority(apic) & 0xF0))
		return -1;
	return vector;
}

void lapic_accept(struct lapic *apic, uint8_t vector)
{
	unsigned word = vector / 32;
	uint32_t left = __atomic_and_fetch(&apic->irr[word], ~(1u << (vector % 32)), __ATOMIC_SEQ_CST);

	if (!left) {
		__atomic_fetch_and(&apic->irr_words, ~(1u << word), __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&apic->irr[word], __ATOMIC_SEQ_CST))
			__atomic_fetch_or(&apic->irr_words, 1u << word, __ATOMIC_SEQ_CST);
	}
	apic->isr[word] |= 1u << (vector % 32);
}

void lapic_reset(struct lapic *apic, uint32_t apic_id)
{
	memset(apic, 0, sizeof(*apic)); /* also clears IRR and ISR (INIT, 11.4.7.3) */
	apic->id = apic_id << 24;
	apic->dfr = 0xFFFFFFFFu;
	apic->svr = 0xFF;
	for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
		apic->lvt[i] = LVT_MASKED;
}

void lapic_set_virtual_wire(struct lapic *apic)
{
	apic->lvt[LAPIC_LVT_LINT0_INDEX] = APIC_DM_EXTINT << 8;
	apic->lvt[LAPIC_LVT_LINT1_INDEX] = APIC_DM_NMI << 8;
}

/* LVT CMCI is at 0x2F0, timer..error at 0x320-0x370. */
static int lvt_index(uint32_t offset)
{
	if (offset == APIC_LVT_CMCI)
		return 0;
	if (offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR)
		return 1 + (int)((offset - APIC_LVT_TIMER) >> 4);
	return -1;
}

uint32_t lapic_read(const struct lapic *apic, uint32_t offset)
{
	int lvt = lvt_index(offset);

	if (lvt >= 0)
		return apic->lvt[lvt];
	switch (offset) {
	case APIC_ID:
		return apic->id;
	case APIC_VERSION:
		/* version 0x14 (integrated APIC), max LVT entry 6 */
		return 0x14 | (LAPIC_LVT_COUNT - 1) << 16;
	case APIC_TPR:
		return apic->tpr;
	case APIC_PPR:
		return processor_priority(apic);
	case APIC_LDR:
		return apic->ldr;
	case APIC_DFR:
		return apic->dfr;
	case APIC_SVR:
		return apic->svr;
	case APIC_ESR:
		return apic->esr;
	case APIC_ICR_LOW:
		return apic->icr_low & ~ICR_DELIVERY_PENDING; /* always idle */
	case APIC_ICR_HIGH:
		return apic->icr_high;
	case APIC_TIMER_INITIAL:
		return apic->timer_initial;
	case APIC_TIMER_DIVIDE:
		return apic->timer_divide;
	default:
		/* ISR at 0x100-0x170, TMR at 0x180-0x1F0, IRR at 0x200-0x270 (one
		 * 32-bit word per 16 bytes); APR, EOI and the current count read 0. */
		if (offset >= APIC_ISR0 && offset <= APIC_ISR7)
			return apic->isr[(offset - APIC_ISR0) >> 4];
		if (offset >= APIC_TMR0 && offset <= APIC_TMR7)
			return __atomic_load_n(&apic->tmr[(offset - APIC_TMR0) >> 4], __ATOMIC_ACQUIRE);
		if (offset >= APIC_IRR0 && offset <= APIC_IRR7)
			return __atomic_load_n(&apic->irr[(offset - APIC_IRR0) >> 4], __ATOMIC_ACQUIRE);
		return 0;
	}
}

enum lapic_write_effect lapic_write(struct lapic *apic, uint32_t offset, uint32_t value,
				    uint8_t *eoi_vector)
{
	int lvt = lvt_index(offset);

	if (lvt >= 0) {
		/* Masked while the APIC is software-disabled (11.4.7.2). */
		apic->lvt[lvt] = (apic->svr & SVR_APIC_ENABLED) ? value : value | LVT_MASKED;
		return LAPIC_WRITE_DONE;
	}
	switch (offset) {
	case APIC_TPR:
		apic->tpr = value & 0xFF;
		break;
	case APIC_LDR:
		apic->ldr = value & 0xFF000000u;
		break;
	case APIC_DFR:
		apic->dfr = value | 0x0FFFFFFFu;
		break;
	case APIC_SVR:
		apic->svr = value & 0x13FF;
		if (!(value & SVR_APIC_ENABLED))
			for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
				apic->lvt[i] |= LVT_MASKED;
		break;
	case APIC_ESR:
		apic->esr = 0;
		break;
	case APIC_ICR_LOW:
		apic->icr_low = value & ~ICR_DELIVERY_PENDING;
		return LAPIC_WRITE_SEND_IPI;
	case APIC_EOI: {
		/* EOI ends the highest in-service interrupt; for a level-triggered
		 * one (its TMR bit) the EOI goes on to the I/O APIC (11.8.5). */
		int vector = highest_bit(apic->isr);
		if (vector < 0)
			break;
		uint32_t bit = 1u << (vector % 32);
		apic->isr[vector / 32] &= ~bit;
		if (__atomic_load_n(&apic->tmr[vector / 32], __ATOMIC_ACQUIRE) & bit) {
			*eoi_vector = (uint8_t)vector;
			return LAPIC_WRITE_LEVEL_EOI;
		}
		break;
	}
	case APIC_ICR_HIGH:
		apic->icr_high = value & 0xFF000000u;
		break;
	case APIC_TIMER_INITIAL:
		apic->timer_initial = value;
		break;
	case APIC_TIMER_DIVIDE:
		apic->timer_divide = value & 0xB;
		break;
	default: /* read-only registers */
		break;
	}
	return LAPIC_WRITE_DONE;
}
