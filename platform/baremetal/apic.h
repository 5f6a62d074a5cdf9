/*
 * The host's own local APIC (Intel SDM Vol. 3A chapter 11, "Advanced
 * Programmable Interrupt Controller (APIC)"): enabling it, its ID, sending
 * IPIs through the ICR, EOI, and its timer as the wake-up of a sleeping CPU.  xAPIC mode through the MMIO page at
 * IA32_APIC_BASE (identity mapped uncached by entry.S); x2APIC mode through
 * the MSRs when the firmware left the APIC in x2APIC mode.
 *
 * This is not core/irq/lapic.c, which emulates an APIC for guests.
 */
#ifndef CVISOR_BAREMETAL_APIC_H
#define CVISOR_BAREMETAL_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* ICR bits (SDM Vol. 3A 11.6.1 "Interrupt Command Register (ICR)"). */
#define APIC_ICR_FIXED          (0u << 8)
#define APIC_ICR_INIT           (5u << 8)
#define APIC_ICR_STARTUP        (6u << 8)
#define APIC_ICR_DELIVERY_PENDING (1u << 12)
#define APIC_ICR_LEVEL_ASSERT   (1u << 14)

/* The spurious-interrupt vector cvisor programs (SVR[7:0]). */
#define APIC_SPURIOUS_VECTOR    0xFF
/* The vector of the host's APIC timer (the kick IPI is VCPU_KICK_VECTOR). */
#define APIC_TIMER_VECTOR       0xF1

/*
 * On the boot CPU: checks IA32_APIC_BASE (globally enabled, the MMIO page
 * reachable) and software-enables the APIC.  Returns NULL, or the reason
 * the APIC cannot be used (then no other apic_ function may be called).
 */
const char *apic_init_boot_cpu(void);

/* On an application processor, after apic_init_boot_cpu succeeded on the
 * BSP: the same base and mode as the BSP, software-enabled. */
void apic_init_ap(void);

bool apic_ready(void);
bool apic_x2apic_mode(void);
uint64_t apic_base_pa(void);
/* This CPU's APIC ID (8 bits in xAPIC mode, 32 in x2APIC mode). */
uint32_t apic_id(void);
/* Highest APIC ID an IPI can name in the current mode. */
uint32_t apic_max_id(void);

/*
 * Sends an IPI: icr_low is the ICR's low dword (vector, delivery mode,
 * level), physical destination dest.  Waits a bounded time for the APIC to
 * accept it (xAPIC delivery status); returns false if it never did.
 */
bool apic_send_ipi(uint32_t dest, uint32_t icr_low);

/* Signals end of interrupt (writes the EOI register). */
void apic_eoi(void);

/* How the APIC timer wakes a sleeping CPU (SDM Vol. 3A 11.5.4). */
enum apic_timer_mode {
	APIC_TIMER_NONE,         /* no usable timer: a CPU with a deadline polls */
	APIC_TIMER_TSC_DEADLINE, /* IA32_TSC_DEADLINE holds the wake-up TSC */
	APIC_TIMER_ONE_SHOT,     /* a count, from the rate measured against the TSC */
};

/*
 * On the boot CPU, after timer_calibrate and before the APs start:
 * chooses TSC-deadline mode where CPUID offers it, else one-shot mode with
 * the count rate measured against the TSC (about 1 ms), and programs this
 * CPU's LVT timer (masked until armed); apic_init_ap programs the APs'
 * alike.  Returns the mode.
 */
enum apic_timer_mode apic_timer_setup(void);

/*
 * One-shot mode's arithmetic, without 128-bit products.  The rate: timer
 * counts per TSC tick in 32.32 fixed point, from counted counts over
 * tsc_ticks (0 when nothing was measured).
 */
static inline uint64_t apic_timer_rate_q32(uint32_t counted, uint64_t tsc_ticks)
{
	return tsc_ticks ? ((uint64_t)counted << 32) / tsc_ticks : 0;
}

/* The initial count (rate_q32 > 0) that ends tsc_ticks from now, up to
 * one count late or the rate's rounding early: at least 1, since 0 stops
 * the timer (SDM Vol. 3A 11.5.4).  A wait longer than the register holds,
 * or than the product can, ends early; the woken CPU sleeps again. */
static inline uint32_t apic_timer_count_for(uint64_t tsc_ticks, uint64_t rate_q32)
{
	uint64_t max_ticks = ~0ULL / rate_q32;
	if (tsc_ticks > max_ticks)
		tsc_ticks = max_ticks;
	uint64_t count = ((tsc_ticks * rate_q32) >> 32) + 1;
	return count > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)count;
}

/* This CPU's timer interrupts (APIC_TIMER_VECTOR) at host TSC deadline, or
 * earlier; false when there is no usable timer. */
bool apic_timer_arm(uint64_t tsc_deadline);
/* No timer interrupt from now on (one may already be pending). */
void apic_timer_disarm(void);

#endif
