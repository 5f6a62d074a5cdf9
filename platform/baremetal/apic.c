/*
 * Host local APIC driver (see apic.h).  The host runs with RFLAGS.IF = 0:
 * interrupts reach it as VM exits, or wake it while it sleeps with
 * interrupts on (idle.c), so all it needs is enable, ID, ICR, EOI and the
 * timer.
 */
#include "apic.h"

#include "irq/lapic_regs.h"
#include "timer.h"
#include "vmx/intrin.h"
#include "x86.h"

/* IA32_APIC_BASE bits (SDM Vol. 3A 11.4.4 "Local APIC Status and Location"). */
#define APIC_BASE_EXTD    (1ULL << 10)	/* x2APIC mode */
#define APIC_BASE_ADDR    0xFFFFFF000ULL	/* bits 35:12; wider on newer CPUs */

/* The xAPIC register offsets are core/irq/lapic_regs.h's (SDM Vol. 3A Table
 * 11-1); x2APIC MSR = 0x800 + offset / 16 (Table 11-6). */
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))
#define X2APIC_ICR   0x830u

/* Divide configuration 1011b: divide by 1 (Figure 11-10). */
#define TIMER_DIVIDE_BY_1 0xBu
/* TSC ticks over which the one-shot count rate is measured: long enough
 * for a count in the thousands at any bus clock, short in Bochs. */
#define TIMER_MEASURE_US 1000

/* entry.S maps [0xC0000000, 4 GiB) uncached: the page must be there. */
#define UNCACHED_WINDOW_START 0xC0000000ULL
#define UNCACHED_WINDOW_END   0x100000000ULL

/* Polls of the delivery-status bit before giving up (UC reads: ~1 us each
 * on hardware, a few instructions in Bochs). */
#define ICR_IDLE_MAX_POLLS 1000000UL

static bool ready;
static bool x2apic;
static uint64_t base_pa;
static enum apic_timer_mode timer_mode;
/* One-shot mode: APIC timer counts per TSC tick, in 32.32 fixed point. */
static uint64_t counts_per_tsc_q32;

static uint32_t apic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR(reg));
	return *(volatile uint32_t *)(uintptr_t)(base_pa + reg);
}

static void apic_write(uint32_t reg, uint32_t value)
{
	if (x2apic)
		wrmsr(X2APIC_MSR(reg), value);
	else
		*(volatile uint32_t *)(uintptr_t)(base_pa + reg) = value;
}

/*
 * Software-enables the APIC (SVR[8]) with spurious vector 0xFF, accepts
 * every priority (TPR 0), and masks LINT0: the firmware leaves the BSP's
 * LINT0 in ExtINT "virtual wire" mode for the 8259 PIC, whose interrupts
 * the host never wants (smp.c masks the PICs as well).  LINT1 (NMI) stays.
 */
static void enable_this_cpu(void)
{
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_LINT0, apic_read(APIC_LVT_LINT0) | LVT_MASKED);
	apic_write(APIC_SVR, (apic_read(APIC_SVR) & ~0xFFu) | SVR_APIC_ENABLED |
				    APIC_SPURIOUS_VECTOR);
}

/* The LVT timer in the chosen mode, unmasked: nothing fires until armed
 * (a zero initial count or IA32_TSC_DEADLINE is disarmed, 11.5.4). */
static void program_timer_lvt(void)
{
	switch (timer_mode) {
	case APIC_TIMER_TSC_DEADLINE:
		apic_write(APIC_LVT_TIMER, LVT_TIMER_MODE_BITS(LVT_TIMER_TSC_DEADLINE) | APIC_TIMER_VECTOR);
		/* The LVT write must reach the APIC before any WRMSR to
		 * IA32_TSC_DEADLINE: MFENCE orders them in xAPIC mode
		 * (11.5.4.1). */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wrmsr(MSR_IA32_TSC_DEADLINE, 0);
		break;
	case APIC_TIMER_ONE_SHOT:
		apic_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
		apic_write(APIC_TIMER_INITIAL, 0);
		apic_write(APIC_LVT_TIMER, LVT_TIMER_MODE_BITS(LVT_TIMER_ONE_SHOT) | APIC_TIMER_VECTOR);
		break;
	case APIC_TIMER_NONE:
		apic_write(APIC_LVT_TIMER, LVT_MASKED);
		break;
	}
}

/* One-shot counts per TSC tick (32.32), measured over TIMER_MEASURE_US
 * with the timer masked; 0 when the count did not move. */
static uint64_t measure_counts_per_tsc(void)
{
	apic_write(APIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_MODE_BITS(LVT_TIMER_ONE_SHOT) | APIC_TIMER_VECTOR);
	apic_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	apic_write(APIC_TIMER_INITIAL, 0xFFFFFFFFu);
	uint64_t tsc0 = rdtsc();
	uint32_t count0 = apic_read(APIC_TIMER_CURRENT);
	timer_delay_us(TIMER_MEASURE_US);
	uint32_t count1 = apic_read(APIC_TIMER_CURRENT);
	uint64_t tsc1 = rdtsc();
	apic_write(APIC_TIMER_INITIAL, 0);
	if (count1 >= count0 || tsc1 <= tsc0)
		return 0;
	return apic_timer_rate_q32(count0 - count1, tsc1 - tsc0);
}

const char *apic_init_boot_cpu(void)
{
	struct cpuid_regs r;
	uint64_t msr;

	/* CPUID.1:EDX.APIC[bit 9] */
	cpuid(1, 0, &r);
	if (!(r.edx & (1u << 9)))
		return "the CPU has no local APIC";
	msr = rdmsr(MSR_IA32_APIC_BASE);
	if (!(msr & APIC_BASE_ENABLE))
		return "the local APIC is globally disabled (IA32_APIC_BASE[11] is clear)";
	x2apic = msr & APIC_BASE_EXTD;
	base_pa = msr & APIC_BASE_ADDR;
	if (!x2apic && (base_pa < UNCACHED_WINDOW_START || base_pa >= UNCACHED_WINDOW_END))
		return "the local APIC page is outside the uncached window [3 GiB, 4 GiB)";
	enable_this_cpu();
	ready = true;
	return NULL;
}

void apic_init_ap(void)
{
	uint64_t msr = rdmsr(MSR_IA32_APIC_BASE);
	uint64_t want = (msr & ~(APIC_BASE_ADDR | APIC_BASE_EXTD)) | base_pa |
			APIC_BASE_ENABLE | (x2apic ? APIC_BASE_EXTD : 0);

	/* Same page as the BSP's (firmware may have moved it on one CPU
	 * only); xAPIC -> x2APIC is a legal transition, the reverse is not
	 * needed: an AP never starts in x2APIC mode when the BSP is not. */
	if ((want & ~APIC_BASE_BSP) != (msr & ~APIC_BASE_BSP)) {
		if ((msr & APIC_BASE_ENABLE) == 0)
			wrmsr(MSR_IA32_APIC_BASE, want & ~APIC_BASE_EXTD);
		wrmsr(MSR_IA32_APIC_BASE, want);
	}
	enable_this_cpu();
	program_timer_lvt();
}

enum apic_timer_mode apic_timer_setup(void)
{
	struct cpuid_regs r;

	if (!ready)
		return APIC_TIMER_NONE;
	cpuid(1, 0, &r);
	/* CPUID.01H:ECX[24]: the APIC timer has TSC-deadline mode (11.5.4.1). */
	if (r.ecx & CPUID1_ECX_TSC_DEADLINE) {
		timer_mode = APIC_TIMER_TSC_DEADLINE;
	} else {
		counts_per_tsc_q32 = measure_counts_per_tsc();
		timer_mode = counts_per_tsc_q32 ? APIC_TIMER_ONE_SHOT : APIC_TIMER_NONE;
	}
	program_timer_lvt();
	return timer_mode;
}

bool apic_timer_arm(uint64_t tsc_deadline)
{
	switch (timer_mode) {
	case APIC_TIMER_TSC_DEADLINE:
		/* A deadline already passed fires at once (11.5.4.1). */
		wrmsr(MSR_IA32_TSC_DEADLINE, tsc_deadline);
		return true;
	case APIC_TIMER_ONE_SHOT: {
		uint64_t now = rdtsc();
		uint64_t ticks = tsc_deadline > now ? tsc_deadline - now : 0;
		apic_write(APIC_TIMER_INITIAL, apic_timer_count_for(ticks, counts_per_tsc_q32));
		return true;
	}
	case APIC_TIMER_NONE:
		break;
	}
	return false;
}

void apic_timer_disarm(void)
{
	if (timer_mode == APIC_TIMER_TSC_DEADLINE)
		wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	else if (timer_mode == APIC_TIMER_ONE_SHOT)
		apic_write(APIC_TIMER_INITIAL, 0); /* stops the count (11.5.4) */
}

bool apic_ready(void)
{
	return ready;
}

bool apic_x2apic_mode(void)
{
	return x2apic;
}

uint64_t apic_base_pa(void)
{
	return base_pa;
}

uint32_t apic_id(void)
{
	/* x2APIC: the whole 32-bit ID register; xAPIC: ID in bits 31:24. */
	if (x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR(APIC_ID));
	return apic_read(APIC_ID) >> 24;
}

uint32_t apic_max_id(void)
{
	/* 0xFF is the xAPIC broadcast ID; 0xFFFFFFFF the x2APIC one. */
	return x2apic ? 0xFFFFFFFEu : 0xFEu;
}

static bool wait_icr_idle(void)
{
	for (unsigned long i = 0; i < ICR_IDLE_MAX_POLLS; i++) {
		if (!(apic_read(APIC_ICR_LOW) & APIC_ICR_DELIVERY_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}

bool apic_send_ipi(uint32_t dest, uint32_t icr_low)
{
	if (x2apic) {
		/* One 64-bit write; no delivery status in x2APIC mode
		 * (SDM Vol. 3A 11.12.9 "ICR Operation in x2APIC Mode").  WRMSR
		 * to an x2APIC register is not serializing (11.12.3): fence so
		 * the target sees this CPU's earlier stores with the IPI. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wrmsr(X2APIC_ICR, ((uint64_t)dest << 32) | icr_low);
		return true;
	}
	if (!wait_icr_idle())
		return false;
	/* Destination first: writing the low dword sends the IPI. */
	apic_write(APIC_ICR_HIGH, dest << 24);
	apic_write(APIC_ICR_LOW, icr_low);
	return wait_icr_idle();
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}
