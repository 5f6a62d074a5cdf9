/*
 * The local APIC of a vCPU, the one model of its state (SDM Vol. 3A chapter
 * 11): registers, the IRR/ISR pair with priorities and EOI, the ICR, whose
 * writes send IPIs (routed by irq/ipi.c; its delivery status always reads
 * idle), and the timer's state (run by irq/lapic_timer.c).  Register
 * offsets are in irq/lapic_regs.h; the xAPIC page that guests see is
 * dev/lapic_mmio.c.
 */
#ifndef CVISOR_IRQ_LAPIC_H
#define CVISOR_IRQ_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_DEFAULT_BASE 0xFEE00000ULL
#define LAPIC_LVT_COUNT 7 /* CMCI, timer, thermal, perf, LINT0, LINT1, error */

/*
 * The registers live at their own offsets in one 4 KiB page, one 32-bit
 * word per 16 bytes (SDM Vol. 3A 11.4.1, Table 11-1), and nowhere else.
 * A vCPU with a TPR shadow hands this same page to the CPU as its
 * virtual-APIC page (SDM Vol. 3C 25.6.8, 29.1.1): the CPU then reads and
 * writes VTPR, VIRR, VISR, VEOI and (with APIC-register virtualization) the
 * others in place, so the emulation and the hardware-assisted paths are
 * one state, with nothing to copy at exits or entries.  IRR words are set
 * by other CPUs (atomically) and consumed on the vCPU's own CPU.  The
 * page comes first: a struct lapic placed at a 4 KiB boundary (struct
 * vcpu's first member) has it page-aligned, as the CPU needs, without
 * padding its few other fields out to a page of their own.
 */
struct lapic {
	uint32_t regs[1024];
	uint32_t irr_words; /* bit w: IRR word w may be non-zero (lapic.c) */
	uint32_t id;        /* the APIC ID register's value (read-only, kept here) */
	/* The timer (irq/lapic_timer.c), in host TSC. */
	uint64_t timer_deadline; /* 0: idle */
	uint64_t timer_period;   /* periodic mode: ticks between expiries */
	bool timer_tsc_deadline_mode;
};

/* The register at offset (APIC_* of irq/lapic_regs.h), as an lvalue. */
#define LAPIC_REG(apic, offset) ((apic)->regs[(offset) >> 2])
/* Word w (0-7) of the 256-bit ISR, TMR or IRR starting at offset base. */
#define LAPIC_VECTOR_WORD(apic, base, w) ((apic)->regs[((base) >> 2) + 4 * (w)])

/* Power-up/INIT values (SDM Vol. 3A 11.4.7.1). */
void lapic_reset(struct lapic *apic, uint32_t apic_id);
/* What firmware leaves in the boot processor's APIC on a PC, and what a
 * guest started without firmware expects (as QEMU's BIOS and KVM leave
 * it): LINT0 unmasked in ExtINT mode (the 8259's INTR, "virtual wire"),
 * LINT1 unmasked in NMI mode (MP specification 3.6.2.2). */
void lapic_set_virtual_wire(struct lapic *apic);

/* What a register write asks of the caller. */
enum lapic_write_effect {
	LAPIC_WRITE_DONE,
	LAPIC_WRITE_SEND_IPI,  /* ICR low was written: send the IPI it holds */
	LAPIC_WRITE_LEVEL_EOI, /* an EOI ended a level-triggered vector: tell the I/O APIC */
};
/* 32-bit register access at an offset into the 4 KiB page.  For
 * LAPIC_WRITE_LEVEL_EOI, *eoi_vector is the vector that ended. */
uint32_t lapic_read(const struct lapic *apic, uint32_t offset);
enum lapic_write_effect lapic_write(struct lapic *apic, uint32_t offset, uint32_t value,
				    uint8_t *eoi_vector);

/* Marks vector pending, edge-triggered (any CPU may call it). */
void lapic_set_irr(struct lapic *apic, uint8_t vector);
/* The same with its trigger mode: level-triggered vectors' EOIs are reported. */
void lapic_set_irr_trigger(struct lapic *apic, uint8_t vector, bool level);
/* LINT0 is unmasked in ExtINT mode: the 8259's output reaches this APIC. */
bool lapic_accepts_extint(const struct lapic *apic);
/* The highest pending vector whose priority class beats PPR (SDM Vol. 3A
 * 11.8.3.1), or -1. */
int lapic_deliverable(const struct lapic *apic);
/* The interrupt is being delivered: move it from IRR to ISR. */
void lapic_accept(struct lapic *apic, uint8_t vector);
/* The highest vector set in the ISR, IRR or TMR starting at base, or -1. */
int lapic_highest_vector(const struct lapic *apic, uint32_t base);
/* After the CPU consumed IRR bits itself (virtual-interrupt delivery, SDM
 * Vol. 3C 29.2.2): drop the summary bits of words that are now empty. */
void lapic_refresh_irr_summary(struct lapic *apic);
/* The processor-priority register (SDM Vol. 3A 11.8.3.1). */
uint32_t lapic_processor_priority(const struct lapic *apic);
/* True when any vector is pending: one load when none is (every exit asks). */
bool lapic_has_pending_slow(const struct lapic *apic);
static inline bool lapic_has_pending(const struct lapic *apic)
{
	uint32_t words = __atomic_load_n(&apic->irr_words, __ATOMIC_ACQUIRE);
	return words && lapic_has_pending_slow(apic);
}
/* The APIC accepts interrupts: SVR bit 8 (software enable, 11.4.7.2). */
bool lapic_software_enabled(const struct lapic *apic);

#endif
