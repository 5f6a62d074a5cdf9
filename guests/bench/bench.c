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
 */
#include "abi/hypercall.h"
#include "guest.h"

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
	return 0;
}
