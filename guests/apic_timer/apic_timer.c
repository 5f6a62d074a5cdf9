/*
 * The local APIC timer in its three modes (SDM Vol. 3A 11.5.4), checked
 * from the inside: one-shot fires once, periodic fires again and again
 * until stopped, TSC-deadline fires once at the deadline; HLT with
 * interrupts on sleeps until the timer wakes the vCPU.
 */
#define TRAPS_IRQ_IMPLEMENTATION
#include "guest.h"
#include "irq.h"
#include "probe.h"

#define APIC_REG(off)   (*(volatile uint32_t *)(0xFEE00000u + (off)))
#define APIC_SVR        0xF0
#define APIC_EOI        0xB0
#define APIC_LVT_TIMER  0x320
#define APIC_INITIAL    0x380
#define APIC_CURRENT    0x390
#define APIC_DIVIDE     0x3E0
#define TIMER_VECTOR    0x50
#define MODE_PERIODIC     (1u << 17)
#define MODE_TSC_DEADLINE (2u << 17)
#define LVT_MASKED        (1u << 16)
#define MSR_TSC_DEADLINE  0x6E0

static volatile unsigned fired;

static void timer_handler(uint32_t vector, uint32_t eip)
{
	(void)vector;
	(void)eip;
	fired++;
	APIC_REG(APIC_EOI) = 0;
}

/* Sleeps with interrupts on until the timer has fired `want` times (or a
 * generous bound of HLTs passes, so a lost timer fails instead of hanging). */
static void sleep_until_fired(unsigned want)
{
	for (unsigned i = 0; i < 1000 && fired < want; i++)
		guest_sleep_with_interrupts();
}

/* Busy time that is long compared with the timer counts used below. */
static void spin(unsigned iterations)
{
	for (volatile unsigned i = 0; i < iterations; i++)
		;
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	traps_init();
	traps_set_handler(TIMER_VECTOR, timer_handler);
	APIC_REG(APIC_SVR) = 0x1FF; /* software-enable the APIC */
	APIC_REG(APIC_DIVIDE) = 0xB; /* divide by 1 */

	/* One-shot: exactly one interrupt, then the count stays at 0. */
	APIC_REG(APIC_LVT_TIMER) = TIMER_VECTOR;
	APIC_REG(APIC_INITIAL) = 200000;
	check(APIC_REG(APIC_CURRENT) > 0 && APIC_REG(APIC_CURRENT) <= 200000,
	      "one-shot: the current count runs down from the initial count");
	sleep_until_fired(1);
	spin(300000);
	guest_take_pending_interrupts();
	check(fired == 1, "one-shot: the timer fired exactly once");
	check(APIC_REG(APIC_CURRENT) == 0, "one-shot: the current count reads 0 after it fired");

	/* Periodic: fires again and again until masked. */
	fired = 0;
	APIC_REG(APIC_LVT_TIMER) = TIMER_VECTOR | MODE_PERIODIC;
	APIC_REG(APIC_INITIAL) = 100000;
	sleep_until_fired(5);
	APIC_REG(APIC_LVT_TIMER) = TIMER_VECTOR | MODE_PERIODIC | LVT_MASKED;
	unsigned periodic = fired;
	say("periodic: %u interrupts before it was masked", periodic);
	check(periodic >= 5, "periodic: the timer fired at least 5 times");
	spin(300000);
	guest_take_pending_interrupts();
	check(fired == periodic, "periodic: a masked timer raises no more interrupts");
	APIC_REG(APIC_INITIAL) = 0; /* stop it */

	/* TSC-deadline: fires once when the TSC passes the deadline. */
	fired = 0;
	APIC_REG(APIC_LVT_TIMER) = TIMER_VECTOR | MODE_TSC_DEADLINE;
	uint64_t deadline = guest_rdtsc() + 300000;
	check(probe_wrmsr(MSR_TSC_DEADLINE, deadline) < 0, "TSC-deadline: IA32_TSC_DEADLINE is writable");
	uint64_t armed = 0;
	check(probe_rdmsr(MSR_TSC_DEADLINE, &armed) < 0 && armed == deadline,
	      "TSC-deadline: IA32_TSC_DEADLINE reads back the armed deadline");
	sleep_until_fired(1);
	uint64_t woke = guest_rdtsc();
	check(fired == 1 && woke >= deadline, "TSC-deadline: the timer fired once, at or after the deadline");
	check(probe_rdmsr(MSR_TSC_DEADLINE, &armed) < 0 && armed == 0,
	      "TSC-deadline: the deadline reads 0 once it has fired");
	return (int)failures();
}
