/*
 * A CPU with nothing to run sleeps (core/platform.h plat_idle_until): HLT
 * with interrupts on, woken by a kick IPI (VCPU_KICK_VECTOR, from another
 * CPU's vcpu_kick) or the local APIC timer (apic.c).  Everywhere else the
 * host runs with RFLAGS.IF = 0, so these interrupts are taken only here;
 * their handlers just signal EOI, and the scheduler looks for work again.
 */
#include "idle.h"

#include "apic.h"
#include "lib/log.h"
#include "platform.h"
#include "smp.h"
#include "vcpu/vcpu.h"
#include "vmx/intrin.h"

/* Per CPU: TSC ticks spent asleep and sleeps, since boot. */
static struct idle_counts counts[SMP_MAX_CPUS];

struct idle_counts idle_counts(void)
{
	unsigned cpu = plat_this_cpu();
	return cpu < SMP_MAX_CPUS ? counts[cpu] : (struct idle_counts){ 0 };
}

void plat_idle_until(uint64_t tsc_deadline)
{
	/* Without an APIC there is one CPU and nothing to kick it: poll. */
	if (!apic_ready()) {
		cpu_relax();
		return;
	}
	if (tsc_deadline && !apic_timer_arm(tsc_deadline)) {
		cpu_relax(); /* no timer to wake it: poll the deadline */
		return;
	}
	/* A kick sent since the caller last looked for work is pending in
	 * the APIC (IF was 0) and ends the HLT at once. */
	uint64_t start = rdtsc();
	cpu_sleep_until_interrupt();
	uint64_t end = rdtsc();
	if (tsc_deadline)
		apic_timer_disarm();
	unsigned cpu = plat_this_cpu();
	if (cpu < SMP_MAX_CPUS) {
		counts[cpu].asleep_tsc += end - start;
		counts[cpu].sleeps++;
	}
}

void idle_interrupt(uint64_t vector)
{
	switch (vector) {
	case APIC_SPURIOUS_VECTOR:
		/* A spurious interrupt is not in service: no EOI (SDM Vol. 3A
		 * 11.9 "Spurious Interrupt"). */
		return;
	case VCPU_KICK_VECTOR:
	case APIC_TIMER_VECTOR:
		break;
	default:
		/* Nothing else is programmed to send one: report, and end it so
		 * that lower-priority ones are not blocked. */
		log_printf("cvisor: CPU %u: unexpected host interrupt, vector %llu; ignored\n",
			   plat_this_cpu(), (unsigned long long)vector);
		break;
	}
	apic_eoi();
}
