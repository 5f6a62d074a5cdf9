#include "irq/lapic.h"

#include "irq/lapic_regs.h"
#include "lib/mem.h"

/* Unrolled: EOI and PPR scan the 8 ISR words on every such exit, and an
 * empty word then costs a load and a branch. */
int lapic_highest_vector(const struct lapic *apic, uint32_t base)
{
#pragma GCC unroll 8
	for (int word = 7; word >= 0; word--) {
		uint32_t w = __atomic_load_n(&LAPIC_VECTOR_WORD(apic, base, word), __ATOMIC_ACQUIRE);
		if (w)
			return word * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/* PPR (SDM Vol. 3A 11.8.3.1): TPR if its class is at least the highest
 * in-service class, else that class. */
uint32_t lapic_processor_priority(const struct lapic *apic)
{
	int isrv = lapic_highest_vector(apic, APIC_ISR0);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	uint32_t tpr = __atomic_load_n(&LAPIC_REG(apic, APIC_TPR), __ATOMIC_RELAXED) & 0xFF;
	return (tpr & 0xF0) >= isr_class ? tpr : isr_class;
}

static uint32_t *irr_word(struct lapic *apic, unsigned word)
{
	return &LAPIC_VECTOR_WORD(apic, APIC_IRR0, word);
}

/*
 * irr_words summarizes IRR for the exit fast path: bit w is set whenever
 * IRR word w is not 0 (it may stay set for a while after the word empties,
 * never the other way round).  The setter sets the IRR bit, then the
 * summary bit; lapic_accept and lapic_refresh_irr_summary clear the summary
 * bit of an emptied word, then look at the word again, so a vector posted
 * in between is never hidden (sequentially consistent, so the clear and
 * the second look stay in order).
 */
void lapic_set_irr(struct lapic *apic, uint8_t vector)
{
	__atomic_fetch_or(irr_word(apic, vector / 32), 1u << (vector % 32), __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&apic->irr_words, 1u << (vector / 32), __ATOMIC_SEQ_CST);
}

/* Trigger mode of each accepted vector in the TMR: 1 = level (SDM Vol. 3A
 * 11.8.4); its EOI goes back to the I/O APIC (irq/irq.c). */
void lapic_set_irr_trigger(struct lapic *apic, uint8_t vector, bool level)
{
	uint32_t bit = 1u << (vector % 32);
	uint32_t *tmr = &LAPIC_VECTOR_WORD(apic, APIC_TMR0, vector / 32);

	if (level)
		__atomic_fetch_or(tmr, bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(tmr, ~bit, __ATOMIC_SEQ_CST);
	lapic_set_irr(apic, vector);
}

static uint32_t lvt_register(unsigned index)
{
	return index == 0 ? APIC_LVT_CMCI : APIC_LVT_TIMER + 0x10 * (index - 1);
}

bool lapic_accepts_extint(const struct lapic *apic)
{
	uint32_t lint0 = LAPIC_REG(apic, lvt_register(LAPIC_LVT_LINT0_INDEX));
	return !(lint0 & LVT_MASKED) && LVT_DELIVERY_MODE(lint0) == APIC_DM_EXTINT;
}

bool lapic_has_pending_slow(const struct lapic *apic)
{
	return lapic_highest_vector(apic, APIC_IRR0) >= 0;
}

bool lapic_software_enabled(const struct lapic *apic)
{
	return LAPIC_REG(apic, APIC_SVR) & SVR_APIC_ENABLED;
}

int lapic_deliverable(const struct lapic *apic)
{
	int vector = lapic_highest_vector(apic, APIC_IRR0);
	if (vector < 0 || ((uint32_t)vector & 0xF0) <= (lapic_processor_priority(apic) & 0xF0))
		return -1;
	return vector;
}

/* The summary bit of an empty IRR word goes, unless a vector was posted
 * to the word meanwhile (see lapic_set_irr). */
static void drop_summary_bit_if_empty(struct lapic *apic, unsigned word)
{
	__atomic_fetch_and(&apic->irr_words, ~(1u << word), __ATOMIC_SEQ_CST);
	if (__atomic_load_n(irr_word(apic, word), __ATOMIC_SEQ_CST))
		__atomic_fetch_or(&apic->irr_words, 1u << word, __ATOMIC_SEQ_CST);
}

void lapic_accept(struct lapic *apic, uint8_t vector)
{
	unsigned word = vector / 32;
	uint32_t left = __atomic_and_fetch(irr_word(apic, word), ~(1u << (vector % 32)), __ATOMIC_SEQ_CST);

	if (!left)
		drop_summary_bit_if_empty(apic, word);
	LAPIC_VECTOR_WORD(apic, APIC_ISR0, word) |= 1u << (vector % 32);
}

void lapic_refresh_irr_summary(struct lapic *apic)
{
	uint32_t words = __atomic_load_n(&apic->irr_words, __ATOMIC_ACQUIRE);

	for (unsigned word = 0; words; word++, words >>= 1)
		if ((words & 1) && !__atomic_load_n(irr_word(apic, word), __ATOMIC_SEQ_CST))
			drop_summary_bit_if_empty(apic, word);
}

static uint32_t version_register(void)
{
	/* version 0x14 (integrated APIC), max LVT entry 6 (11.4.8) */
	return 0x14 | (LAPIC_LVT_COUNT - 1) << 16;
}

void lapic_reset(struct lapic *apic, uint32_t apic_id)
{
	memset(apic, 0, sizeof(*apic)); /* also clears IRR and ISR (INIT, 11.4.7.3) */
	apic->id = apic_id << 24;
	LAPIC_REG(apic, APIC_ID) = apic->id;
	LAPIC_REG(apic, APIC_VERSION) = version_register();
	LAPIC_REG(apic, APIC_DFR) = 0xFFFFFFFFu;
	LAPIC_REG(apic, APIC_SVR) = 0xFF;
	for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
		LAPIC_REG(apic, lvt_register(i)) = LVT_MASKED;
}

void lapic_set_virtual_wire(struct lapic *apic)
{
	LAPIC_REG(apic, lvt_register(LAPIC_LVT_LINT0_INDEX)) = APIC_DM_EXTINT << 8;
	LAPIC_REG(apic, lvt_register(LAPIC_LVT_LINT1_INDEX)) = APIC_DM_NMI << 8;
}

/* LVT CMCI is at 0x2F0, timer..error at 0x320-0x370. */
static bool is_lvt(uint32_t offset)
{
	return offset == APIC_LVT_CMCI || (offset >= APIC_LVT_TIMER && offset <= APIC_LVT_ERROR);
}

uint32_t lapic_read(const struct lapic *apic, uint32_t offset)
{
	if (offset >= 4096 || (offset & 0xF))
		return 0;
	switch (offset) {
	case APIC_PPR:
		return lapic_processor_priority(apic);
	case APIC_ICR_LOW:
		return LAPIC_REG(apic, APIC_ICR_LOW) & ~ICR_DELIVERY_PENDING; /* always idle */
	case APIC_ID:
		return apic->id;
	case APIC_VERSION:
		return version_register();
	case APIC_APR:
	case APIC_EOI:
	case APIC_TIMER_CURRENT: /* irq/lapic_timer.c computes it */
		return 0;
	default:
		/* Every other register, IRR, ISR and TMR among them, is its word
		 * of the page; unused offsets hold 0. */
		return __atomic_load_n(&LAPIC_REG(apic, offset), __ATOMIC_ACQUIRE);
	}
}

enum lapic_write_effect lapic_write(struct lapic *apic, uint32_t offset, uint32_t value,
				    uint8_t *eoi_vector)
{
	if (offset >= 4096 || (offset & 0xF))
		return LAPIC_WRITE_DONE;
	if (is_lvt(offset)) {
		/* Masked while the APIC is software-disabled (11.4.7.2). */
		LAPIC_REG(apic, offset) = lapic_software_enabled(apic) ? value : value | LVT_MASKED;
		return LAPIC_WRITE_DONE;
	}
	switch (offset) {
	case APIC_TPR:
		LAPIC_REG(apic, APIC_TPR) = value & 0xFF;
		break;
	case APIC_LDR:
		LAPIC_REG(apic, APIC_LDR) = value & 0xFF000000u;
		break;
	case APIC_DFR:
		LAPIC_REG(apic, APIC_DFR) = value | 0x0FFFFFFFu;
		break;
	case APIC_SVR:
		LAPIC_REG(apic, APIC_SVR) = value & 0x13FF;
		if (!(value & SVR_APIC_ENABLED))
			for (unsigned i = 0; i < LAPIC_LVT_COUNT; i++)
				LAPIC_REG(apic, lvt_register(i)) |= LVT_MASKED;
		break;
	case APIC_ESR:
		LAPIC_REG(apic, APIC_ESR) = 0;
		break;
	case APIC_ICR_LOW:
		LAPIC_REG(apic, APIC_ICR_LOW) = value & ~ICR_DELIVERY_PENDING;
		return LAPIC_WRITE_SEND_IPI;
	case APIC_EOI: {
		/* The EOI register reads 0 (a CPU writing the virtual-APIC page
		 * may have left the value there). */
		LAPIC_REG(apic, APIC_EOI) = 0;
		/* EOI ends the highest in-service interrupt; for a level-triggered
		 * one (its TMR bit) the EOI goes on to the I/O APIC (11.8.5). */
		int vector = lapic_highest_vector(apic, APIC_ISR0);
		if (vector < 0)
			break;
		uint32_t bit = 1u << (vector % 32);
		LAPIC_VECTOR_WORD(apic, APIC_ISR0, vector / 32) &= ~bit;
		if (__atomic_load_n(&LAPIC_VECTOR_WORD(apic, APIC_TMR0, vector / 32), __ATOMIC_ACQUIRE) & bit) {
			*eoi_vector = (uint8_t)vector;
			return LAPIC_WRITE_LEVEL_EOI;
		}
		break;
	}
	case APIC_ICR_HIGH:
		LAPIC_REG(apic, APIC_ICR_HIGH) = value & 0xFF000000u;
		break;
	case APIC_TIMER_INITIAL:
		LAPIC_REG(apic, APIC_TIMER_INITIAL) = value;
		break;
	case APIC_TIMER_DIVIDE:
		LAPIC_REG(apic, APIC_TIMER_DIVIDE) = value & 0xB;
		break;
	case APIC_ID:
		/* Read-only here: a CPU writing the virtual-APIC page may have
		 * changed the word (SDM Vol. 3C 29.4.3.2), so it is put back. */
		LAPIC_REG(apic, APIC_ID) = apic->id;
		break;
	default: /* read-only registers */
		break;
	}
	return LAPIC_WRITE_DONE;
}
