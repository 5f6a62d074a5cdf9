/*
 * Exit round-trip benchmark (make bench).  Each item runs the same loop
 * N times, bracketed by RDTSC:
 *
 *     1: mov $A, %eax; mov $C, %ecx; <X>; dec %edi; jnz 1b
 *
 * and the floor is that loop without <X>.  In Bochs the TSC advances exactly
 * 1 per emulated instruction (host and guest alike), so
 * (loop - floor) / N is the number of emulated instructions one <X> costs,
 * itself included: for an exiting instruction, the whole VM-exit round trip.
 *
 * Output lines (parsed by tools/bench):
 *   bench: <name> <n> instructions per round trip
 *
 * protect_log_write writes to a page protected with HC_PROTECT (read only,
 * policy log): the cost of a `log` write (docs/hypercalls.md).
 *
 * Then the same exits, and the local-APIC operations an operating system
 * performs, from a guest that is as an operating system is: 64-bit mode,
 * 4-level paging, the local APIC software-enabled, RFLAGS.IF = 1, nothing
 * pending (long_mode.S, loops64.S).  Each 64-bit item is run between two
 * HC_EXIT_STATS hypercalls, so the log holds cvisor's exit counts before and
 * after it; tools/bench takes the exits per operation from them.  Lines:
 *   bench64: <name> <n> instructions per operation
 * (for an exiting instruction, <n> is the round trip; for the self-IPI, the
 * ICR write, the interrupt's delivery, its handler and its EOI).
 */
#include <stddef.h>

#include "abi/hypercall.h"
#include "guest.h"
#include "x86_bits.h"

#define N 1000u /* BENCH_ITERATIONS in loops.S */

/* The timed loops (loops.S): TSC ticks for N iterations. */
uint64_t loop_floor(void);
uint64_t loop_nop(void);
uint64_t loop_add(void);
uint64_t loop_cpuid(void);
uint64_t loop_vmcall(void);
uint64_t loop_out80(void);
uint64_t loop_tpr_write(void);
uint64_t loop_apic_ver_read(void);
uint64_t loop_rdmsr(void);
uint64_t loop_eoi_write(void);
uint64_t loop_protect_log_write(void);

/* The page loop_protect_log_write writes to (loops.S): RAM above the image,
 * in a 2 MiB page of its own, so that protecting it splits no large page
 * the other items' code and data live in. */
#define BENCH_LOG_PAGE 0x300000u

struct item {
	const char *name;
	uint64_t (*loop)(void);
};

static const struct item items[] = {
	{ "nop", loop_nop },
	{ "add", loop_add },
	{ "cpuid", loop_cpuid },
	{ "vmcall", loop_vmcall },
	{ "out80", loop_out80 },
	{ "mmio_tpr_write", loop_tpr_write },
	{ "mmio_apic_version_read", loop_apic_ver_read },
	{ "rdmsr_misc_enable", loop_rdmsr },
	{ "apic_eoi_write", loop_eoi_write },
	{ "protect_log_write", loop_protect_log_write },
};

/* ---- The 64-bit half --------------------------------------------------- */

uint64_t long_mode_call(uint32_t fn64, uint32_t with_stats); /* long_mode.S */
void bench64_ipi_isr(void), bench64_timer_isr(void), bench64_spurious_isr(void),
	bench64_unexpected_isr(void);
extern volatile uint32_t bench64_ipi_count, bench64_timer_count;
/* loops64.S (64-bit code: only their addresses are used here). */
void loop64_floor(void), loop64_cpuid(void), loop64_vmcall(void), loop64_out80(void),
	loop64_rdmsr(void), loop64_apic_eoi(void), loop64_cr8_write(void),
	loop64_apic_tpr_write(void), loop64_apic_id_read(void), loop64_timer_initial_count(void),
	loop64_tsc_deadline_write(void), loop64_self_ipi(void);

/* 4-level paging (SDM Vol. 3A 4.5): identity maps of the first 1 GiB
 * (4 KiB pages for the first 2 MiB, where the image runs; 2 MiB pages
 * above) and of the 2 MiB around the local APIC (4 KiB pages, PCD|PWT). */
uint64_t bench64_pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pt_low[512] __attribute__((aligned(4096)));
static uint64_t pd_high[512] __attribute__((aligned(4096)));
static uint64_t pt_apic[512] __attribute__((aligned(4096)));
/* The 64-bit IDT: 256 16-byte gates (SDM Vol. 3A 6.14.1). */
uint64_t bench64_idt[512] __attribute__((aligned(16)));

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define APIC_PHYS 0xFEE00000u
#define CS64 0x18
#define VEC_SELF_IPI 0x40
#define VEC_TIMER 0x41
#define VEC_SPURIOUS 0xFF

/* xAPIC registers (SDM Vol. 3A 11.4.1, Table 11-1). */
#define APIC_SVR 0xF0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_DIVIDE 0x3E0
#define SVR_ENABLE (1u << 8)
#define LVT_TIMER_TSC_DEADLINE (2u << 17) /* SDM Vol. 3A 11.5.4.1 */
#define MSR_TSC_DEADLINE 0x6E0

static void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_PHYS + reg) = v;
}

static void set_gate(unsigned vector, void (*handler)(void))
{
	uint32_t off = (uint32_t)handler;

	/* Offset 15:0, selector, IST 0, type 0xE (64-bit interrupt gate) with
	 * P=1 and DPL 0, offset 31:16; offset 63:32 = 0. */
	bench64_idt[2 * vector] = (off & 0xFFFFull) | ((uint64_t)CS64 << 16) | (0x8Eull << 40) |
				  ((uint64_t)(off >> 16) << 48);
	bench64_idt[2 * vector + 1] = 0;
}

static void bench64_setup(void)
{
	for (unsigned i = 0; i < 512; i++) {
		pt_low[i] = ((uint64_t)i << 12) | PTE_P | PTE_RW;
		pd_low[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
		pt_apic[i] = ((uint64_t)(APIC_PHYS + (i << 12))) | PTE_P | PTE_RW | PTE_PCD | PTE_PWT;
	}
	pd_low[0] = (uint32_t)pt_low | PTE_P | PTE_RW;
	pd_high[(APIC_PHYS >> 21) & 511] = (uint32_t)pt_apic | PTE_P | PTE_RW;
	pdpt[0] = (uint32_t)pd_low | PTE_P | PTE_RW;
	pdpt[3] = (uint32_t)pd_high | PTE_P | PTE_RW;
	bench64_pml4[0] = (uint32_t)pdpt | PTE_P | PTE_RW;
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, bench64_unexpected_isr);
	set_gate(VEC_SELF_IPI, bench64_ipi_isr);
	set_gate(VEC_TIMER, bench64_timer_isr);
	set_gate(VEC_SPURIOUS, bench64_spurious_isr);
	/* Software-enable the local APIC (SDM Vol. 3A 11.4.7.2); one-shot timer
	 * on VEC_TIMER, divide by 1 (11.5.4), not started. */
	apic_write(APIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_TIMER_DIVIDE, 0xB);
	apic_write(APIC_LVT_TIMER, VEC_TIMER);
}

struct item64 {
	const char *name;
	void (*loop)(void);
	bool (*prepare)(void); /* false: not measurable on this CPU */
	void (*finish)(void);
};

static bool stop_timer(void)
{
	apic_write(APIC_TIMER_INITIAL, 0);
	return true;
}

static void stop_timer_after(void)
{
	stop_timer();
}

static bool tsc_deadline_mode(void)
{
	/* CPUID.1:ECX[24]: the TSC-deadline mode (SDM Vol. 3A 11.5.4.1). */
	if (!(guest_cpuid(1, 0).ecx & (1u << 24)))
		return false;
	apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_TIMER_TSC_DEADLINE);
	return true;
}

static void one_shot_mode(void)
{
	/* Disarm (a write of 0, 11.5.4.1), then back to one-shot mode. */
	__asm__ volatile("wrmsr" : : "c"(MSR_TSC_DEADLINE), "a"(0), "d"(0));
	apic_write(APIC_LVT_TIMER, VEC_TIMER);
}

static const struct item64 items64[] = {
	{ "cpuid", loop64_cpuid, NULL, NULL },
	{ "vmcall", loop64_vmcall, NULL, NULL },
	{ "out80", loop64_out80, NULL, NULL },
	{ "rdmsr_misc_enable", loop64_rdmsr, NULL, NULL },
	{ "apic_eoi_write", loop64_apic_eoi, NULL, NULL },
	{ "cr8_tpr_write", loop64_cr8_write, NULL, NULL },
	{ "apic_tpr_write", loop64_apic_tpr_write, NULL, NULL },
	{ "apic_id_read", loop64_apic_id_read, NULL, NULL },
	{ "timer_initial_count_write", loop64_timer_initial_count, stop_timer, stop_timer_after },
	{ "tsc_deadline_write", loop64_tsc_deadline_write, tsc_deadline_mode, one_shot_mode },
	{ "self_ipi", loop64_self_ipi, NULL, NULL },
};

static void bench64(void)
{
	/* CPUID.80000001H:EDX[29]: Intel 64 architecture (long mode). */
	if (guest_cpuid(0x80000000u, 0).eax < 0x80000001u ||
	    !(guest_cpuid(0x80000001u, 0).edx & (1u << 29))) {
		say("bench64: the CPU offers no long mode: 64-bit items not measured");
		return;
	}
	bench64_setup();
	uint64_t floor = long_mode_call((uint32_t)loop64_floor, 0);

	say("bench64: floor %u instructions per %u empty iterations", (unsigned)floor, N);
	for (unsigned i = 0; i < sizeof(items64) / sizeof(items64[0]); i++) {
		const struct item64 *it = &items64[i];

		if (it->prepare && !it->prepare()) {
			say("bench64: %s not offered by the CPU", it->name);
			continue;
		}
		uint32_t ipis = bench64_ipi_count;
		uint64_t t = long_mode_call((uint32_t)it->loop, 1);
		if (it->finish)
			it->finish();
		uint64_t d = t > floor ? t - floor : 0;
		say("bench64: %s %u instructions per operation (raw %u over %u iterations)", it->name,
		    (unsigned)((d + N / 2) / N), (unsigned)d, N);
		if (it->loop == loop64_self_ipi && bench64_ipi_count - ipis != N)
			say("bench64: FAIL: %u self-IPIs handled, expected %u",
			    (unsigned)(bench64_ipi_count - ipis), N);
	}
	if (bench64_timer_count)
		say("bench64: FAIL: the APIC timer fired %u times", (unsigned)bench64_timer_count);
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	uint64_t floor = loop_floor();
	int32_t protected = guest_vmcall(HC_PROTECT, BENCH_LOG_PAGE, 4096, HC_PROT_READ,
					 HC_POLICY_LOG);

	if (protected != HC_OK)
		say("bench: HC_PROTECT of the log page failed with %d", (int)protected);

	say("bench: floor %u instructions per %u empty iterations", (unsigned)floor, N);
	for (unsigned i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		uint64_t t = items[i].loop();
		uint64_t d = t > floor ? t - floor : 0;
		/* Rounded to the nearest instruction. */
		unsigned per = (unsigned)((d + N / 2) / N);
		say("bench: %s %u instructions per round trip (raw %u over %u iterations)",
		    items[i].name, per, (unsigned)d, N);
	}
	bench64();
	return 0;
}
