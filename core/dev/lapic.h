/*
 * The local APIC as a guest sees it through the xAPIC page (SDM Vol. 3A
 * chapter 11): registers keep their values, EOI is accepted, the ICR's
 * delivery status always reads idle.  Timers and IPIs are not delivered
 * yet (no interrupt reaches a guest in this version).
 */
#ifndef CVISOR_DEV_LAPIC_H
#define CVISOR_DEV_LAPIC_H

#include <stdint.h>

#define LAPIC_DEFAULT_BASE 0xFEE00000ULL
#define LAPIC_LVT_COUNT 7 /* CMCI, timer, thermal, perf, LINT0, LINT1, error */

struct lapic {
	uint32_t id;
	uint32_t tpr, ldr, dfr, svr, esr;
	uint32_t lvt[LAPIC_LVT_COUNT];
	uint32_t icr_low, icr_high;
	uint32_t timer_initial, timer_divide;
};

/* Power-up/INIT values (SDM Vol. 3A 11.4.7.1). */
void lapic_reset(struct lapic *apic, uint32_t apic_id);
/* 32-bit register access at an offset into the 4 KiB page. */
uint32_t lapic_read(const struct lapic *apic, uint32_t offset);
void lapic_write(struct lapic *apic, uint32_t offset, uint32_t value);

#endif
