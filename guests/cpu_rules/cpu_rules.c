/*
 * Checks docs/guest-contract.md from the inside: every row of the MSR,
 * control-register, XSETBV and "other instructions" tables that can be
 * checked at CPL 0 in 32-bit protected mode.  Each rule is one PASS/FAIL
 * line; a FAIL is preceded by indented lines saying what was seen.
 *
 * Not checked here: XSETBV at CPL > 0 (it needs ring 3), HLT and
 * MONITOR/MWAIT (they end the VM; guests/mwait covers MWAIT).  Clearing
 * CR4.PAE in IA-32e mode is checked from compatibility mode: the same
 * 32-bit code, with paging in IA-32e form and a 64-bit IDT.
 *
 * The command line may name sections to run ("cpu_rules cr other");
 * without names every section runs: msr, cr, xsetbv, other.
 */
#include <stdarg.h>

#include "guest.h"
#include "lib/format.h"
#include "lib/mem.h"
#include "probe.h"
#include "x86_bits.h"

/* ---- one check made of several expectations --------------------------- */

static bool rule_ok;

static void rule_begin(void)
{
	rule_ok = true;
}

/* Prints why the current rule fails (indented; never the words PASS/FAIL). */
static void __attribute__((format(printf, 1, 2))) bad(const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say("    %s", line);
	rule_ok = false;
}

static void rule_end(const char *what)
{
	check(rule_ok, what);
}

/* "no fault", "#UD", "#GP error code 0x2": what a probe saw. */
static const char *outcome(int vector)
{
	static char text[48];
	if (vector == PROBE_NO_FAULT)
		return "no fault";
	fmt_snprintf(text, sizeof(text), "%s error code 0x%x", vector_name(vector),
		     (unsigned)probe_error_code);
	return text;
}

static bool is_gp0(int vector)
{
	return vector == VEC_GP && probe_error_code == 0;
}

/* ---- MSR expectations --------------------------------------------------- */

static uint64_t rd(uint32_t msr)
{
	uint64_t v = 0;
	int vec = probe_rdmsr(msr, &v);
	if (vec != PROBE_NO_FAULT)
		bad("rdmsr 0x%x: %s, expected a value", msr, outcome(vec));
	return v;
}

static void expect_rd(uint32_t msr, uint64_t want)
{
	uint64_t v = 0;
	int vec = probe_rdmsr(msr, &v);
	if (vec != PROBE_NO_FAULT)
		bad("rdmsr 0x%x: %s, expected 0x%llx", msr, outcome(vec), (unsigned long long)want);
	else if (v != want)
		bad("rdmsr 0x%x read 0x%llx, expected 0x%llx", msr, (unsigned long long)v,
		    (unsigned long long)want);
}

static void expect_rd_gp(uint32_t msr)
{
	uint64_t v = 0;
	int vec = probe_rdmsr(msr, &v);
	if (!is_gp0(vec))
		bad("rdmsr 0x%x: %s (value 0x%llx), expected #GP(0)", msr, outcome(vec),
		    (unsigned long long)v);
}

static void expect_wr_ok(uint32_t msr, uint64_t value)
{
	int vec = probe_wrmsr(msr, value);
	if (vec != PROBE_NO_FAULT)
		bad("wrmsr 0x%x <- 0x%llx: %s, expected no fault", msr, (unsigned long long)value,
		    outcome(vec));
}

static void expect_wr_gp(uint32_t msr, uint64_t value)
{
	int vec = probe_wrmsr(msr, value);
	if (!is_gp0(vec))
		bad("wrmsr 0x%x <- 0x%llx: %s, expected #GP(0)", msr, (unsigned long long)value,
		    outcome(vec));
}

/* Writes VALUE and expects to read back WANT. */
static void expect_wr_rd(uint32_t msr, uint64_t value, uint64_t want)
{
	expect_wr_ok(msr, value);
	expect_rd(msr, want);
}

/* A write that must fault with #GP(0) and leave the MSR as it was. */
static void expect_wr_gp_unchanged(uint32_t msr, uint64_t value)
{
	uint64_t before = 0;
	probe_rdmsr(msr, &before);
	expect_wr_gp(msr, value);
	expect_rd(msr, before);
}

/* ---- the CPU as CPUID describes it --------------------------------------- */

static unsigned maxphyaddr;
static uint32_t leaf1_ecx, ext1_edx;
static uint64_t xcr0_supported;
static uint32_t start_cr0, start_cr4;

#define CPUID1_ECX_MONITOR (1u << 3)
#define CPUID1_ECX_VMX     (1u << 5)
#define CPUID1_ECX_XSAVE   (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define EXT1_EDX_SYSCALL   (1u << 11)
#define EXT1_EDX_NX        (1u << 20)
#define EXT1_EDX_LM        (1u << 29)

static void read_cpu_description(void)
{
	leaf1_ecx = guest_cpuid(1, 0).ecx;
	uint32_t max_ext = guest_cpuid(0x80000000u, 0).eax;
	ext1_edx = max_ext >= 0x80000001u ? guest_cpuid(0x80000001u, 0).edx : 0;
	/* SDM Vol. 2A CPUID leaf 80000008H: EAX[7:0] = physical address bits;
	 * 36 when the leaf is absent (SDM Vol. 3A 4.1.4). */
	maxphyaddr = max_ext >= 0x80000008u ? (guest_cpuid(0x80000008u, 0).eax & 0xFF) : 36;
	if (guest_cpuid(0, 0).eax >= 0xD) {
		struct guest_cpuid d = guest_cpuid(0xD, 0);
		xcr0_supported = (uint64_t)d.edx << 32 | d.eax;
	}
	say("cpu_rules: MAXPHYADDR %u, CPUID.1:ECX 0x%x, CPUID.80000001H:EDX 0x%x, "
	    "XCR0 bits offered 0x%llx",
	    maxphyaddr, leaf1_ecx, ext1_edx, (unsigned long long)xcr0_supported);
}

/* ---- MSRs ------------------------------------------------------------------ */

#define MSR_TSC               0x10u
#define MSR_APIC_BASE         0x1Bu
#define MSR_FEATURE_CONTROL   0x3Au
#define MSR_MTRRCAP           0xFEu
#define MSR_MCG_CAP           0x179u
#define MSR_MCG_STATUS        0x17Au
#define MSR_MISC_ENABLE       0x1A0u
#define MSR_DEBUGCTL          0x1D9u
#define MSR_MTRR_PHYSBASE0    0x200u
#define MSR_PAT               0x277u
#define MSR_MTRR_DEF_TYPE     0x2FFu
#define MSR_MC0_CTL           0x400u
#define MSR_EFER              0xC0000080u

#define APIC_BASE_START 0xFEE00900ull
#define APIC_BASE_ENABLE (1ull << 11)
#define PAT_START 0x0007040600070406ull

static const uint32_t fixed_mtrrs[] = {
	0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F,
};

static uint64_t phys_bits_mask(void)
{
	return (1ull << maxphyaddr) - 1;
}

static void msr_vmx_capabilities(void)
{
	rule_begin();
	for (uint32_t msr = 0x480; msr <= 0x491; msr++)
		expect_rd_gp(msr);
	rule_end("rdmsr of each VMX capability MSR 0x480-0x491 gives #GP");
	rule_begin();
	for (uint32_t msr = 0x480; msr <= 0x491; msr++)
		expect_wr_gp(msr, 0);
	rule_end("wrmsr of each VMX capability MSR 0x480-0x491 gives #GP");
}

static void msr_feature_control(void)
{
	rule_begin();
	expect_rd(MSR_FEATURE_CONTROL, 0x1);
	rule_end("IA32_FEATURE_CONTROL reads 0x1 (locked, VMX off)");
	rule_begin();
	expect_wr_gp_unchanged(MSR_FEATURE_CONTROL, 0x1);
	expect_wr_gp_unchanged(MSR_FEATURE_CONTROL, 0x5);
	expect_wr_gp_unchanged(MSR_FEATURE_CONTROL, 0x0);
	rule_end("wrmsr IA32_FEATURE_CONTROL gives #GP");
}

static void msr_apic_base(void)
{
	rule_begin();
	expect_rd(MSR_APIC_BASE, APIC_BASE_START);
	rule_end("IA32_APIC_BASE reads 0xfee00900 at start (BSP, enabled, base 0xfee00000)");
	rule_begin();
	expect_wr_rd(MSR_APIC_BASE, APIC_BASE_START & ~APIC_BASE_ENABLE,
		     APIC_BASE_START & ~APIC_BASE_ENABLE);
	rule_end("IA32_APIC_BASE: clearing bit 11 (enable) reads back 0xfee00100");
	rule_begin();
	expect_wr_rd(MSR_APIC_BASE, APIC_BASE_START, APIC_BASE_START);
	rule_end("IA32_APIC_BASE: setting bit 11 again reads back 0xfee00900");
	rule_begin();
	for (unsigned bit = 0; bit < 64; bit++)
		if (bit <= 7 || bit == 9 || bit == 10 || bit >= maxphyaddr)
			expect_wr_gp_unchanged(MSR_APIC_BASE, APIC_BASE_START | 1ull << bit);
	rule_end("IA32_APIC_BASE: each reserved bit (0-7, 9, 10 x2APIC, MAXPHYADDR-63) gives #GP");
}

static void msr_misc_enable(void)
{
	const uint64_t fast_strings = 1, bit22 = 1ull << 22;
	/* Fast strings (bit 0) is the host CPU's setting, which the guest's
	 * string instructions run with (SDM Vol. 1 7.3.9.3): it reads as the
	 * host's and a write does not change it.  Bochs's CPUs have it clear. */
	rule_begin();
	const uint64_t start = rd(MSR_MISC_ENABLE), host_fast = start & fast_strings;
	if ((start & ~fast_strings) != 0x1800)
		bad("IA32_MISC_ENABLE reads 0x%llx at start, expected 0x1800 plus the host's bit 0",
		    (unsigned long long)start);
	rule_end("IA32_MISC_ENABLE reads 0x1800 plus the host's fast-strings bit at start");
	rule_begin();
	expect_wr_rd(MSR_MISC_ENABLE, start ^ fast_strings, start);
	expect_wr_rd(MSR_MISC_ENABLE, start, start);
	{
		const uint32_t erms = 1u << 9, fsrm = 1u << 4;
		struct guest_cpuid leaf7 = guest_cpuid(7, 0);
		if (!host_fast && ((leaf7.ebx & erms) || (leaf7.edx & fsrm)))
			bad("CPUID.7 offers ERMS or FSRM with fast strings off");
	}
	rule_end("IA32_MISC_ENABLE: bit 0 (fast strings) keeps the host's value; off, CPUID.7 has no ERMS or FSRM");
	rule_begin();
	uint32_t max_leaf = guest_cpuid(0, 0).eax;
	expect_wr_rd(MSR_MISC_ENABLE, start | bit22, start | bit22);
	if (guest_cpuid(0, 0).eax > 2)
		bad("CPUID.0:EAX is 0x%x with LIMIT_CPUID set, expected at most 2", guest_cpuid(0, 0).eax);
	expect_wr_rd(MSR_MISC_ENABLE, start, start);
	if (guest_cpuid(0, 0).eax != max_leaf)
		bad("CPUID.0:EAX did not come back to 0x%x", max_leaf);
	rule_end("IA32_MISC_ENABLE: bit 22 (limit CPUID) limits CPUID.0:EAX to 2 while set");
	rule_begin();
	const uint64_t xd_disable = 1ull << 34;
	const uint32_t nx = 1u << 20;
	bool had_nx = guest_cpuid(0x80000001, 0).edx & nx;
	expect_wr_rd(MSR_MISC_ENABLE, start | xd_disable, start | xd_disable);
	if (guest_cpuid(0x80000001, 0).edx & nx)
		bad("CPUID.80000001H:EDX.NX still set with XD disable");
	expect_wr_gp_unchanged(MSR_EFER, 1ull << 11);
	expect_wr_rd(MSR_MISC_ENABLE, start, start);
	if ((guest_cpuid(0x80000001, 0).edx & nx) != (had_nx ? nx : 0))
		bad("CPUID.80000001H:EDX.NX did not come back");
	rule_end("IA32_MISC_ENABLE: bit 34 (XD disable) hides NX and keeps EFER.NXE clear");
	rule_begin();
	/* SDM Vol. 4 Table 2-2: bits 3, 16, 18, 22, 23 and 34 are R/W (and 0,
	 * kept as the host's above); 7, 11 and 12 are read-only (they keep 0,
	 * 1 and 1 whatever is written). */
	expect_wr_rd(MSR_MISC_ENABLE, 0x400c50808ull | host_fast, 0x400c51808ull | host_fast);
	expect_wr_rd(MSR_MISC_ENABLE, 0x80, 0x1800 | host_fast); /* 7 stays 0 (no PMU), 11 and 12 stay 1 */
	expect_wr_rd(MSR_MISC_ENABLE, start, start);
	rule_end("IA32_MISC_ENABLE: the R/W bits read back, the read-only bits keep their value");
	rule_begin();
	for (unsigned bit = 0; bit < 64; bit++) {
		const uint64_t defined = 0x1 | 1ull << 3 | 1ull << 7 | 1ull << 11 | 1ull << 12 |
					 1ull << 16 | 1ull << 18 | 1ull << 22 | 1ull << 23 | 1ull << 34;
		if (!(defined >> bit & 1))
			expect_wr_gp_unchanged(MSR_MISC_ENABLE, start | 1ull << bit);
	}
	rule_end("IA32_MISC_ENABLE: each reserved bit gives #GP");
}

static void msr_mtrrs(void)
{
	static const uint64_t valid_types[] = { 0, 1, 4, 5, 6 };

	rule_begin();
	expect_rd(MSR_MTRRCAP, 0x508);
	rule_end("IA32_MTRRCAP reads 0x508 (8 variable ranges, fixed ranges, WC)");
	rule_begin();
	expect_wr_gp_unchanged(MSR_MTRRCAP, 0x508);
	rule_end("wrmsr IA32_MTRRCAP gives #GP");

	rule_begin();
	expect_rd(MSR_MTRR_DEF_TYPE, 0);
	rule_end("IA32_MTRR_DEF_TYPE reads 0 at start");
	rule_begin();
	for (unsigned i = 0; i < sizeof(valid_types) / sizeof(valid_types[0]); i++) {
		expect_wr_rd(MSR_MTRR_DEF_TYPE, valid_types[i], valid_types[i]);
		expect_wr_rd(MSR_MTRR_DEF_TYPE, valid_types[i] | 0xC00, valid_types[i] | 0xC00);
	}
	rule_end("IA32_MTRR_DEF_TYPE takes each valid type (0, 1, 4, 5, 6), with bits 10 and 11");
	rule_begin();
	expect_wr_ok(MSR_MTRR_DEF_TYPE, 0xC06);
	static const uint64_t bad_types[] = { 2, 3, 7, 8, 0xFF };
	for (unsigned i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++)
		expect_wr_gp_unchanged(MSR_MTRR_DEF_TYPE, 0xC00 | bad_types[i]);
	static const unsigned reserved[] = { 8, 9, 12, 32, 63 };
	for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		expect_wr_gp_unchanged(MSR_MTRR_DEF_TYPE, 0xC06 | 1ull << reserved[i]);
	rule_end("IA32_MTRR_DEF_TYPE: invalid types (2, 3, 7, 8, 0xff) and reserved bits (8, 9, 12, 32, 63) give #GP");
	expect_wr_ok(MSR_MTRR_DEF_TYPE, 0);

	rule_begin();
	for (uint32_t msr = MSR_MTRR_PHYSBASE0; msr <= MSR_MTRR_PHYSBASE0 + 15; msr++)
		expect_rd(msr, 0);
	rule_end("variable-range MTRRs 0x200-0x20f read 0 at start");
	rule_begin();
	uint64_t mask_1m = (phys_bits_mask() & ~0xFFFFFull) | 0x800; /* 1 MiB, valid */
	for (unsigned i = 0; i < 8; i++) {
		uint32_t base = MSR_MTRR_PHYSBASE0 + 2 * i;
		expect_wr_rd(base, 0x100000ull * (i + 1) | valid_types[i % 5],
			     0x100000ull * (i + 1) | valid_types[i % 5]);
		expect_wr_rd(base + 1, mask_1m, mask_1m);
	}
	rule_end("variable-range MTRRs store and read back valid bases and masks");
	rule_begin();
	for (unsigned i = 0; i < 8; i++) {
		uint32_t base = MSR_MTRR_PHYSBASE0 + 2 * i;
		expect_wr_gp_unchanged(base, 0x100000 | 6 | 1ull << 8);
		expect_wr_gp_unchanged(base, 0x100000 | 6 | 1ull << 11);
		expect_wr_gp_unchanged(base, 0x100000 | 6 | 1ull << maxphyaddr);
		expect_wr_gp_unchanged(base, 0x100000 | 6 | 1ull << 63);
		expect_wr_gp_unchanged(base + 1, mask_1m | 1);
		expect_wr_gp_unchanged(base + 1, mask_1m | 1ull << 10);
		expect_wr_gp_unchanged(base + 1, mask_1m | 1ull << maxphyaddr);
		expect_wr_gp_unchanged(base + 1, mask_1m | 1ull << 63);
	}
	rule_end("variable-range MTRRs: reserved bits (base 8-11, mask 0-10, MAXPHYADDR-63) give #GP");
	for (uint32_t msr = MSR_MTRR_PHYSBASE0; msr <= MSR_MTRR_PHYSBASE0 + 15; msr++)
		expect_wr_ok(msr, 0);

	const unsigned n_fixed = sizeof(fixed_mtrrs) / sizeof(fixed_mtrrs[0]);
	rule_begin();
	for (unsigned i = 0; i < n_fixed; i++)
		expect_rd(fixed_mtrrs[i], 0);
	rule_end("fixed-range MTRRs 0x250, 0x258, 0x259, 0x268-0x26f read 0 at start");
	rule_begin();
	for (unsigned i = 0; i < n_fixed; i++)
		expect_wr_rd(fixed_mtrrs[i], 0x0605040106050401ull, 0x0605040106050401ull);
	rule_end("fixed-range MTRRs store and read back valid types (0, 1, 4, 5, 6) in every byte");
	rule_begin();
	static const uint64_t bad_fixed[] = { 2, 3, 7, 0xFF };
	for (unsigned i = 0; i < n_fixed; i++)
		for (unsigned byte = 0; byte < 8; byte++)
			expect_wr_gp_unchanged(fixed_mtrrs[i],
					       bad_fixed[(i + byte) % 4] << (8 * byte));
	rule_end("fixed-range MTRRs: an invalid type in any byte gives #GP");
	for (unsigned i = 0; i < n_fixed; i++)
		expect_wr_ok(fixed_mtrrs[i], 0);
}

static void msr_machine_check(void)
{
	rule_begin();
	expect_rd(MSR_MCG_CAP, 0x2);
	rule_end("IA32_MCG_CAP reads 0x2 (2 banks, no MCG_CTL)");
	rule_begin();
	expect_wr_gp_unchanged(MSR_MCG_CAP, 0x2);
	rule_end("wrmsr IA32_MCG_CAP gives #GP");
	rule_begin();
	expect_rd(MSR_MCG_STATUS, 0);
	rule_end("IA32_MCG_STATUS reads 0");
	rule_begin();
	expect_wr_rd(MSR_MCG_STATUS, 0, 0);
	expect_wr_gp_unchanged(MSR_MCG_STATUS, 1);
	expect_wr_gp_unchanged(MSR_MCG_STATUS, 1ull << 63);
	rule_end("IA32_MCG_STATUS: writing 0 is accepted, non-zero gives #GP");

	rule_begin();
	expect_rd(MSR_MC0_CTL, 0);
	expect_rd(MSR_MC0_CTL + 4, 0);
	rule_end("MC0_CTL and MC1_CTL (0x400, 0x404) read 0 at start");
	rule_begin();
	for (unsigned bank = 0; bank < 2; bank++) {
		uint32_t ctl = MSR_MC0_CTL + 4 * bank;
		expect_wr_rd(ctl, ~0ull, ~0ull);
		expect_wr_rd(ctl, 0, 0);
		expect_wr_gp_unchanged(ctl, 0x123456789ABCDEF0ull);
		expect_wr_gp_unchanged(ctl, 0xFFFF800000000000ull); /* canonical, still not all ones */
		expect_wr_gp_unchanged(ctl, 0x0000800000000000ull); /* non-canonical */
	}
	rule_end("MC0_CTL and MC1_CTL take 0 or all ones; other values give #GP");
	rule_begin();
	for (unsigned bank = 0; bank < 2; bank++)
		for (unsigned reg = 1; reg <= 3; reg++)
			expect_rd(MSR_MC0_CTL + 4 * bank + reg, 0);
	rule_end("MC0/MC1 STATUS, ADDR and MISC (0x401-0x403, 0x405-0x407) read 0 at start");
	rule_begin();
	for (unsigned bank = 0; bank < 2; bank++) {
		uint32_t status = MSR_MC0_CTL + 4 * bank + 1;
		expect_wr_rd(status, 0, 0);
		expect_wr_gp_unchanged(status, 1);
		expect_wr_gp_unchanged(status, 1ull << 63);
	}
	rule_end("MC0/MC1 STATUS: writing 0 is accepted, non-zero gives #GP");
	rule_begin();
	for (unsigned bank = 0; bank < 2; bank++)
		for (unsigned reg = 2; reg <= 3; reg++) {
			uint32_t msr = MSR_MC0_CTL + 4 * bank + reg;
			expect_wr_rd(msr, 0x123456789ABCDEF0ull, 0x123456789ABCDEF0ull);
			expect_wr_rd(msr, ~0ull, ~0ull);
			expect_wr_rd(msr, 0, 0);
		}
	rule_end("MC0/MC1 ADDR and MISC take any 64-bit value and read it back");
	rule_begin();
	for (uint32_t msr = MSR_MC0_CTL + 4 * 2; msr < 0x480; msr++) {
		expect_rd_gp(msr);
		expect_wr_gp(msr, 0);
	}
	rule_end("banks at or above MCG_CAP.Count (0x408-0x47F) give #GP on read and write");
}

static void efer_bit(const char *name, uint64_t bit, bool offered)
{
	char what[120];
	rule_begin();
	if (offered) {
		expect_wr_rd(MSR_EFER, bit, bit);
		expect_wr_rd(MSR_EFER, 0, 0);
	} else {
		expect_wr_gp_unchanged(MSR_EFER, bit);
	}
	fmt_snprintf(what, sizeof(what), "IA32_EFER.%s can be set exactly when CPUID offers it (%s)",
		     name, offered ? "offered" : "not offered");
	rule_end(what);
}

static void msr_efer(void)
{
	rule_begin();
	expect_rd(MSR_EFER, 0);
	rule_end("IA32_EFER reads 0 at start");
	efer_bit("SCE", EFER_SCE, ext1_edx & EXT1_EDX_SYSCALL);
	efer_bit("LME", EFER_LME, ext1_edx & EXT1_EDX_LM);
	efer_bit("NXE", EFER_NXE, ext1_edx & EXT1_EDX_NX);
	rule_begin();
	expect_wr_rd(MSR_EFER, EFER_LMA, 0);
	rule_end("IA32_EFER.LMA is read-only: writing it is ignored");
	rule_begin();
	static const unsigned reserved[] = { 1, 9, 12, 14, 32, 63 };
	for (unsigned i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		expect_wr_gp_unchanged(MSR_EFER, 1ull << reserved[i]);
	rule_end("IA32_EFER: other bits (1, 9, 12, 14, 32, 63) give #GP");
	expect_wr_ok(MSR_EFER, 0);
}

static void msr_pat(void)
{
	const uint64_t all_types = 0x0706050401000706ull; /* bytes 6 7 0 1 4 5 6 7 */

	rule_begin();
	expect_rd(MSR_PAT, PAT_START);
	rule_end("IA32_PAT reads 0x0007040600070406 at start");
	rule_begin();
	expect_wr_rd(MSR_PAT, all_types, all_types);
	rule_end("IA32_PAT takes every valid type (0, 1, 4, 5, 6, 7) and reads it back");
	rule_begin();
	static const uint64_t bad_types[] = { 2, 3, 8, 0xFF };
	for (unsigned byte = 0; byte < 8; byte++)
		for (unsigned t = 0; t < 4; t++)
			expect_wr_gp_unchanged(MSR_PAT, (all_types & ~(0xFFull << (8 * byte))) |
								 bad_types[t] << (8 * byte));
	rule_end("IA32_PAT: an invalid type (2, 3, 8, 0xff) in any byte gives #GP");
	expect_wr_ok(MSR_PAT, PAT_START);
}

static void msr_debugctl(void)
{
	rule_begin();
	expect_rd(MSR_DEBUGCTL, 0);
	rule_end("IA32_DEBUGCTL reads 0");
	rule_begin();
	expect_wr_rd(MSR_DEBUGCTL, 0, 0);
	expect_wr_rd(MSR_DEBUGCTL, 2, 2);
	expect_wr_rd(MSR_DEBUGCTL, 0, 0);
	rule_end("IA32_DEBUGCTL: 0 and BTF (bit 1) are accepted and read back");
	rule_begin();
	static const unsigned others[] = { 0, 6, 7, 11, 14, 63 };
	for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		expect_wr_gp_unchanged(MSR_DEBUGCTL, 1ull << others[i]);
	rule_end("IA32_DEBUGCTL: other bits (0, 6, 7, 11, 14, 63) give #GP");
}

/* After writing VALUE to the TSC, RDMSR and RDTSC read at or above it and
 * keep counting up (2^36 is far more than this guest ever runs). */
static void expect_tsc_from(uint64_t value)
{
	expect_wr_ok(MSR_TSC, value);
	uint64_t t1 = rd(MSR_TSC);
	uint64_t t2 = guest_rdtsc();
	uint64_t t3 = rd(MSR_TSC);
	if (t1 < value || t1 - value >= 1ull << 36)
		bad("rdmsr TSC read 0x%llx after writing 0x%llx", (unsigned long long)t1,
		    (unsigned long long)value);
	if (t2 < t1 || t2 - value >= 1ull << 36)
		bad("rdtsc read 0x%llx after rdmsr read 0x%llx (written 0x%llx)",
		    (unsigned long long)t2, (unsigned long long)t1, (unsigned long long)value);
	if (t3 < t2)
		bad("rdmsr TSC read 0x%llx after rdtsc read 0x%llx", (unsigned long long)t3,
		    (unsigned long long)t2);
}

static void msr_tsc(void)
{
	rule_begin();
	expect_tsc_from(1ull << 44);
	rule_end("IA32_TIME_STAMP_COUNTER: a write moves the TSC forward; RDMSR and RDTSC continue from it");
	rule_begin();
	expect_tsc_from(0x1000);
	rule_end("IA32_TIME_STAMP_COUNTER: a write moves the TSC back; RDMSR and RDTSC continue from it");
}

static void msr_stored(void)
{
	static const struct {
		uint32_t msr;
		const char *name;
		uint64_t value;
	} stored[] = {
		{ 0xC0000100, "IA32_FS_BASE", 0x12345000 },
		{ 0xC0000101, "IA32_GS_BASE", 0x23456000 },
		{ 0xC0000102, "IA32_KERNEL_GS_BASE", 0xFFFF800012345000ull },
		{ 0xC0000081, "IA32_STAR", 0x0023001012345678ull },
		{ 0xC0000082, "IA32_LSTAR", 0xFFFFFFFF81000000ull },
		{ 0xC0000083, "IA32_CSTAR", 0xFFFFFFFF81000100ull },
		{ 0xC0000084, "IA32_FMASK", 0x47700 },
		{ 0xC0000103, "IA32_TSC_AUX", 0x1234 },
		{ 0x174, "IA32_SYSENTER_CS", 0x8 },
		{ 0x175, "IA32_SYSENTER_ESP", 0x300000 },
		{ 0x176, "IA32_SYSENTER_EIP", 0x100000 },
	};
	char what[120];

	rule_begin();
	expect_rd(0xC0000100, 0);
	expect_rd(0xC0000101, 0);
	rule_end("IA32_FS_BASE and IA32_GS_BASE read 0, the flat segments' bases");
	for (unsigned i = 0; i < sizeof(stored) / sizeof(stored[0]); i++) {
		rule_begin();
		uint64_t before = rd(stored[i].msr);
		expect_wr_rd(stored[i].msr, stored[i].value, stored[i].value);
		expect_wr_rd(stored[i].msr, before, before);
		fmt_snprintf(what, sizeof(what), "%s (0x%x) stores a value and reads it back",
			     stored[i].name, stored[i].msr);
		rule_end(what);
	}
}

static void msr_others(void)
{
	rule_begin();
	for (uint32_t msr = 0x800; msr <= 0x8FF; msr++)
		expect_rd_gp(msr);
	rule_end("rdmsr of each x2APIC MSR 0x800-0x8ff gives #GP");
	rule_begin();
	for (uint32_t msr = 0x800; msr <= 0x8FF; msr++)
		expect_wr_gp(msr, 0);
	rule_end("wrmsr of each x2APIC MSR 0x800-0x8ff gives #GP");
	static const uint32_t unknown[] = { 0x4B564D00, 0x4B564D01, 0xC0001234, 0x12345678,
					    0x40000000 };
	rule_begin();
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		expect_rd_gp(unknown[i]);
		expect_wr_gp(unknown[i], 0);
		expect_wr_gp(unknown[i], 1);
	}
	rule_end("unknown MSRs (0x4b564d00, 0x4b564d01, 0xc0001234, 0x12345678, 0x40000000) give #GP");
}

static void msr_rules(void)
{
	msr_vmx_capabilities();
	msr_feature_control();
	msr_apic_base();
	msr_misc_enable();
	msr_mtrrs();
	msr_machine_check();
	msr_efer();
	msr_pat();
	msr_debugctl();
	msr_tsc();
	msr_stored();
	msr_others();
}

/* ---- control registers ---------------------------------------------------- */

#define CR0_START (CR0_PE | CR0_ET)

static void expect_cr0(uint32_t want)
{
	uint32_t cr0 = guest_read_cr0();
	if (cr0 != want)
		bad("CR0 reads 0x%x, expected 0x%x", cr0, want);
}

static void expect_cr4(uint32_t want)
{
	uint32_t cr4 = guest_read_cr4();
	if (cr4 != want)
		bad("CR4 reads 0x%x, expected 0x%x", cr4, want);
}

static void expect_cr0_write(uint32_t value)
{
	int vec = probe_write_cr0(value);
	if (vec != PROBE_NO_FAULT)
		bad("mov 0x%x to CR0: %s, expected no fault", value, outcome(vec));
	expect_cr0(value);
}

static void expect_cr0_gp(uint32_t value)
{
	uint32_t before = guest_read_cr0();
	int vec = probe_write_cr0(value);
	if (!is_gp0(vec))
		bad("mov 0x%x to CR0: %s, expected #GP(0)", value, outcome(vec));
	if (vec == PROBE_NO_FAULT)
		probe_write_cr0(before); /* undo, e.g. paging switched on */
	expect_cr0(before);
}

static void expect_cr4_write(uint32_t value)
{
	int vec = probe_write_cr4(value);
	if (vec != PROBE_NO_FAULT)
		bad("mov 0x%x to CR4: %s, expected no fault", value, outcome(vec));
	expect_cr4(value);
}

static void expect_cr4_gp(uint32_t value)
{
	uint32_t before = guest_read_cr4();
	int vec = probe_write_cr4(value);
	if (!is_gp0(vec))
		bad("mov 0x%x to CR4: %s, expected #GP(0)", value, outcome(vec));
	if (vec == PROBE_NO_FAULT)
		probe_write_cr4(before);
	expect_cr4(before);
}

static bool cpuid_osxsave(void)
{
	return guest_cpuid(1, 0).ecx & CPUID1_ECX_OSXSAVE;
}

/* 32-bit paging (SDM Vol. 3A 4.3): 4 KiB pages, identity map of 0-4 MiB
 * plus one alias page at linear 0x400000. */
#define PTE_P  0x1u
#define PTE_RW 0x2u
#define ALIAS_LINEAR 0x400000u
static uint32_t page_directory[1024] __attribute__((aligned(4096)));
static uint32_t identity_table[1024] __attribute__((aligned(4096)));
static uint32_t alias_table[1024] __attribute__((aligned(4096)));
static volatile uint32_t alias_target[1024] __attribute__((aligned(4096)));

static void build_page_tables(void)
{
	for (uint32_t i = 0; i < 1024; i++)
		identity_table[i] = i << 12 | PTE_P | PTE_RW;
	page_directory[0] = (uint32_t)(uintptr_t)identity_table | PTE_P | PTE_RW;
	alias_table[0] = (uint32_t)(uintptr_t)alias_target | PTE_P | PTE_RW;
	page_directory[ALIAS_LINEAR >> 22] = (uint32_t)(uintptr_t)alias_table | PTE_P | PTE_RW;
}

static void cr_paging(void)
{
	build_page_tables();
	alias_target[0] = 0xC0FFEE01;
	guest_write_cr3((uint32_t)(uintptr_t)page_directory);

	rule_begin();
	int vec = probe_write_cr0(CR0_START | CR0_PG);
	if (vec != PROBE_NO_FAULT)
		bad("mov 0x%x to CR0: %s, expected no fault", CR0_START | CR0_PG, outcome(vec));
	expect_cr0(CR0_START | CR0_PG);
	if (guest_read_cr3() != (uint32_t)(uintptr_t)page_directory)
		bad("CR3 reads 0x%x, expected 0x%x", guest_read_cr3(),
		    (unsigned)(uintptr_t)page_directory);
	rule_end("paging on with an identity page table: CR0 reads PG|ET|PE, execution continues");

	rule_begin();
	volatile uint32_t *alias = (volatile uint32_t *)ALIAS_LINEAR;
	if (guest_read_cr0() & CR0_PG) {
		if (*alias != 0xC0FFEE01)
			bad("linear 0x%x reads 0x%x, expected 0xc0ffee01", ALIAS_LINEAR, *alias);
		*alias = 0x5EED0002;
	} else {
		bad("paging is off");
	}
	rule_end("a page mapped at linear 0x400000 reaches its RAM page (the guest's CR3 is used)");

	rule_begin();
	vec = probe_write_cr0(CR0_START);
	if (vec != PROBE_NO_FAULT)
		bad("mov 0x%x to CR0: %s, expected no fault", CR0_START, outcome(vec));
	expect_cr0(CR0_START);
	if (alias_target[0] != 0x5EED0002)
		bad("the aliased RAM page holds 0x%x, expected 0x5eed0002", alias_target[0]);
	rule_end("paging off again: CR0 reads 0x11, the write through the alias is in RAM");
}

/*
 * IA-32e mode from 32-bit code (SDM Vol. 3A 10.8.5): CR4.PAE, 4-level page
 * tables in CR3, EFER.LME, then CR0.PG; the 32-bit code segment then runs
 * in compatibility mode, and exceptions go through the 64-bit IDT.  With
 * VIA_EXIT the CR0 writes also flip CR0.NE, which VMX owns, so they exit
 * and cvisor carries out the mode switch; otherwise the CPU does it alone.
 */
#define PTE_PS 0x80u
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_2m[512] __attribute__((aligned(4096)));

/*
 * Protection keys (SDM Vol. 3A 4.6.2), in IA-32e mode with 4-level paging,
 * where CPUID offers PKU: CR4.PKE sets, CPUID.7:ECX.OSPKE follows it, PKRU
 * reads back what WRPKRU wrote, and the WD right of a user-mode page's key
 * refuses a supervisor write with CR0.WP with #PF (error code P|W|PK), not
 * without it.  (AD is not checked from CPL 0 here: Bochs 2.7 applies it to
 * user-mode accesses only, where the SDM applies it to every data access to
 * a user-mode address; cvisor's own page walk follows the SDM.)  Linear
 * 0x400000 becomes a user page with key 1 (on alias_target); the 2-MiB
 * pages stay supervisor.
 */
#define CPUID7_ECX_PKU   (1u << 3)
#define CPUID7_ECX_OSPKE (1u << 4)
#define PTE_US           0x4u
#define PF_P_PK          0x21u /* #PF error code: P (bit 0) and PK (bit 5) */
static uint64_t pt_pkey[512] __attribute__((aligned(4096)));

static void pku_rules(uint32_t cr0_now)
{
	rule_begin();
	if (guest_cpuid(7, 0).ecx & CPUID7_ECX_OSPKE)
		bad("CPUID.7:ECX.OSPKE reads 1 with CR4.PKE clear");
	expect_cr4_write(CR4_PAE | CR4_PKE);
	if (!(guest_cpuid(7, 0).ecx & CPUID7_ECX_OSPKE))
		bad("CPUID.7:ECX.OSPKE reads 0 with CR4.PKE set");
	guest_wrpkru(0x5C);
	if (guest_rdpkru() != 0x5C)
		bad("RDPKRU reads 0x%x after WRPKRU 0x5c", guest_rdpkru());
	guest_wrpkru(0);
	rule_end("CR4.PKE sets where CPUID offers PKU, OSPKE follows it, RDPKRU reads back WRPKRU");

	pt_pkey[0] = (uint32_t)(uintptr_t)alias_target | PTE_P | PTE_RW | PTE_US | 1ULL << 59;
	pml4[0] |= PTE_US;
	pdpt[0] |= PTE_US;
	pd_2m[2] = (uint32_t)(uintptr_t)pt_pkey | PTE_P | PTE_RW | PTE_US;
	guest_write_cr3((uint32_t)(uintptr_t)pml4); /* flush the TLB */
	volatile uint32_t *user_page = (volatile uint32_t *)ALIAS_LINEAR;
	alias_target[0] = 0x0BADC0DE;

	rule_begin();
	guest_wrpkru(1u << 3); /* key 1: write disabled */
	int vec = probe_load32(user_page);
	if (vec != PROBE_NO_FAULT)
		bad("a read with key 1's WD set: %s, expected no fault", outcome(vec));
	expect_cr0_write(cr0_now | CR0_WP);
	vec = probe_store32(user_page, 0x5EED0003);
	if (vec != VEC_PF || probe_error_code != (PF_P_PK | 2u))
		bad("a write with key 1's WD and CR0.WP set: %s (error 0x%x), expected #PF with "
		    "P|W|PK", outcome(vec), probe_error_code);
	expect_cr0_write(cr0_now);
	vec = probe_store32(user_page, 0x5EED0004); /* WP clear: WD binds user mode only */
	if (vec != PROBE_NO_FAULT || alias_target[0] != 0x5EED0004)
		bad("a supervisor write with WD set and CR0.WP clear: %s, RAM 0x%x", outcome(vec),
		    alias_target[0]);
	guest_wrpkru(0);
	rule_end("PKRU's WD for a user page's key refuses a supervisor write with CR0.WP (#PF with "
		 "P|W|PK), not without it");

	pd_2m[2] = 0;
	pml4[0] &= ~(uint64_t)PTE_US;
	pdpt[0] &= ~(uint64_t)PTE_US;
	guest_write_cr3((uint32_t)(uintptr_t)pml4);
	expect_cr4_write(CR4_PAE);
}

static void cr_ia32e(bool via_exit)
{
	const char *how = via_exit ? "a CR0 write that exits (NE flips)" : "a CR0 write the CPU handles";
	const uint32_t ne = via_exit ? CR0_NE : 0;
	char what[160];

	pml4[0] = (uint32_t)(uintptr_t)pdpt | PTE_P | PTE_RW;
	pdpt[0] = (uint32_t)(uintptr_t)pd_2m | PTE_P | PTE_RW;
	pd_2m[0] = 0x000000 | PTE_P | PTE_RW | PTE_PS;
	pd_2m[1] = 0x200000 | PTE_P | PTE_RW | PTE_PS;

	rule_begin();
	expect_cr4_write(CR4_PAE);
	guest_write_cr3((uint32_t)(uintptr_t)pml4);
	expect_wr_rd(MSR_EFER, EFER_LME, EFER_LME);
	int vec = rule_ok ? probe_write_cr0(CR0_START | CR0_PG | ne) : VEC_GP;
	bool ia32e = vec == PROBE_NO_FAULT;
	if (ia32e)
		traps_use_ia32e_idt(); /* PG=1, LME=1, PAE=1: LMA=1 (SDM Vol. 3A 10.8.5) */
	else
		bad("mov 0x%x to CR0: %s, expected no fault", CR0_START | CR0_PG | ne, outcome(vec));
	expect_cr0(CR0_START | CR0_PG | ne);
	expect_rd(MSR_EFER, EFER_LME | EFER_LMA);
	fmt_snprintf(what, sizeof(what),
		     "IA-32e mode on through %s: EFER reads LME|LMA, compatibility mode runs", how);
	rule_end(what);

	if (ia32e) {
		rule_begin();
		expect_cr4_gp(0);
		expect_wr_rd(MSR_EFER, EFER_LME | EFER_LMA, EFER_LME | EFER_LMA);
		fmt_snprintf(what, sizeof(what), "CR4.PAE cleared in IA-32e mode gives #GP (entered through %s)",
			     how);
		rule_end(what);

		if (!via_exit && (guest_cpuid(7, 0).ecx & CPUID7_ECX_PKU))
			pku_rules(CR0_START | CR0_PG | ne);

		rule_begin();
		vec = probe_write_cr0(CR0_START | ne);
		if (vec == PROBE_NO_FAULT)
			traps_use_legacy_idt();
		else
			bad("mov 0x%x to CR0: %s, expected no fault", CR0_START | ne, outcome(vec));
		expect_cr0(CR0_START | ne);
		expect_rd(MSR_EFER, EFER_LME);
		fmt_snprintf(what, sizeof(what),
			     "IA-32e mode off through %s: EFER.LMA reads 0 again", how);
		rule_end(what);
	}
	expect_wr_ok(MSR_EFER, 0);
	probe_write_cr4(0);
	probe_write_cr0(CR0_START);
}

static void cr_rules(void)
{
	/* Valid page tables in CR3 first: a CR0 write that wrongly turned
	 * paging on would then fail its check instead of faulting on fetch. */
	build_page_tables();
	guest_write_cr3((uint32_t)(uintptr_t)page_directory);

	rule_begin();
	if (start_cr0 != CR0_START)
		bad("CR0 read 0x%x at start", start_cr0);
	rule_end("CR0 reads 0x11 (PE|ET) at start");
	rule_begin();
	expect_cr0_write(CR0_START | CR0_NE);
	rule_end("CR0.NE written as 1 reads back as 1");
	rule_begin();
	expect_cr0_write(CR0_START);
	rule_end("CR0.NE written as 0 reads back as 0 (VMX's fixed NE stays hidden)");
	rule_begin();
	expect_cr0_write(CR0_START | CR0_MP | CR0_EM | CR0_TS | CR0_WP | CR0_AM);
	expect_cr0_write(CR0_START);
	rule_end("CR0.MP, EM, TS, WP and AM read back as written");
	rule_begin();
	expect_cr0_write(CR0_START | CR0_CD);
	expect_cr0_write(CR0_START | CR0_CD | CR0_NW);
	expect_cr0_write(CR0_START);
	rule_end("CR0.CD and CR0.NW (caches off) read back as written");
	rule_begin();
	expect_cr0_gp(CR0_PG | CR0_ET);
	expect_cr0_gp(CR0_PG | CR0_ET | CR0_NE);
	rule_end("CR0 with PG=1 and PE=0 gives #GP");
	rule_begin();
	expect_cr0_gp(CR0_START | CR0_NW);
	expect_cr0_gp(CR0_START | CR0_NW | CR0_NE);
	rule_end("CR0 with NW=1 and CD=0 gives #GP");
	if (ext1_edx & EXT1_EDX_LM) {
		rule_begin();
		expect_wr_rd(MSR_EFER, EFER_LME, EFER_LME);
		expect_cr0_gp(CR0_START | CR0_PG);
		expect_wr_rd(MSR_EFER, 0, 0);
		rule_end("CR0 with PG=1 while EFER.LME=1 and CR4.PAE=0 gives #GP");
	} else {
		say("cpu_rules: no long mode in CPUID: CR0.PG with EFER.LME not checked");
	}

	rule_begin();
	if (start_cr4 != 0)
		bad("CR4 read 0x%x at start", start_cr4);
	rule_end("CR4 reads 0 at start");
	rule_begin();
	expect_cr4_gp(CR4_VMXE);
	rule_end("CR4.VMXE (bit 13) gives #GP: VMX is not offered");
	rule_begin();
	expect_cr4_gp(1u << 15);
	expect_cr4_gp(1u << 30);
	expect_cr4_gp(1u << 31);
	rule_end("CR4 bits the CPU does not support (15, 30, 31) give #GP");
	struct guest_cpuid leaf7 = guest_cpuid(7, 0);
	if (!(leaf7.ecx & (1u << 7)) && !(leaf7.edx & (1u << 20))) {
		/* CET needs CR0.WP (its own #GP): with WP set, only the missing
		 * feature can refuse it (SDM Vol. 3A 2.5, Vol. 2B MOV CR). */
		rule_begin();
		expect_cr0_write(CR0_START | CR0_WP);
		expect_cr4_gp(1u << 23);
		expect_cr0_write(CR0_START);
		rule_end("CR4.CET (bit 23) gives #GP where CPUID offers no CET");
	}
	if (!(leaf7.ecx & (1u << 3))) {
		/* Bochs 2.7 has protection keys but does not enumerate their
		 * XSAVE component, so cvisor does not offer them there. */
		rule_begin();
		expect_cr4_gp(1u << 22);
		rule_end("CR4.PKE (bit 22) gives #GP where CPUID offers no PKU");
	}
	if (leaf1_ecx & CPUID1_ECX_XSAVE) {
		rule_begin();
		if (cpuid_osxsave())
			bad("CPUID.1:ECX.OSXSAVE is 1 while CR4.OSXSAVE is 0");
		expect_cr4_write(CR4_OSXSAVE);
		if (!cpuid_osxsave())
			bad("CPUID.1:ECX.OSXSAVE is 0 after setting CR4.OSXSAVE");
		rule_end("CR4.OSXSAVE reads back set and CPUID.1:ECX.OSXSAVE[27] then reads 1");
		rule_begin();
		expect_cr4_write(0);
		if (cpuid_osxsave())
			bad("CPUID.1:ECX.OSXSAVE is 1 after clearing CR4.OSXSAVE");
		rule_end("CR4.OSXSAVE cleared again: CPUID.1:ECX.OSXSAVE reads 0");
	} else {
		say("cpu_rules: no XSAVE in CPUID: CR4.OSXSAVE not checked");
	}
	cr_paging();
	if (ext1_edx & EXT1_EDX_LM) {
		cr_ia32e(false);
		cr_ia32e(true);
	} else {
		say("cpu_rules: no long mode in CPUID: IA-32e mode not checked");
	}
}

/* ---- XSETBV ---------------------------------------------------------------- */

static uint64_t xcr0_now(void)
{
	uint64_t v = 0;
	int vec = probe_xgetbv(0, &v);
	if (vec != PROBE_NO_FAULT)
		bad("xgetbv 0: %s", outcome(vec));
	return v;
}

static void expect_xsetbv_gp(uint32_t xcr, uint64_t value)
{
	uint64_t before = xcr0_now();
	int vec = probe_xsetbv(xcr, value);
	if (!is_gp0(vec))
		bad("xsetbv %u <- 0x%llx: %s, expected #GP(0)", xcr, (unsigned long long)value,
		    outcome(vec));
	uint64_t after = xcr0_now();
	if (after != before)
		bad("XCR0 changed from 0x%llx to 0x%llx", (unsigned long long)before,
		    (unsigned long long)after);
}

static void expect_xsetbv_ok(uint64_t value)
{
	int vec = probe_xsetbv(0, value);
	if (vec != PROBE_NO_FAULT)
		bad("xsetbv 0 <- 0x%llx: %s, expected no fault", (unsigned long long)value,
		    outcome(vec));
	uint64_t v = xcr0_now();
	if (v != value)
		bad("xgetbv 0 reads 0x%llx, expected 0x%llx", (unsigned long long)v,
		    (unsigned long long)value);
}

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_AVX512 (7ull << 5)

static void xsetbv_rules(void)
{
	char what[140];

	if (!(leaf1_ecx & CPUID1_ECX_XSAVE)) {
		say("cpu_rules: no XSAVE in CPUID: XSETBV not checked");
		return;
	}
	probe_write_cr4(0);
	rule_begin();
	uint64_t v = 0;
	int vec = probe_xsetbv(0, XCR0_X87);
	if (vec != VEC_UD)
		bad("xsetbv with CR4.OSXSAVE=0: %s, expected #UD", outcome(vec));
	vec = probe_xgetbv(0, &v);
	if (vec != VEC_UD)
		bad("xgetbv with CR4.OSXSAVE=0: %s, expected #UD", outcome(vec));
	rule_end("XSETBV and XGETBV with CR4.OSXSAVE=0 give #UD");

	probe_write_cr4(CR4_OSXSAVE);
	rule_begin();
	say("cpu_rules: XCR0 reads 0x%llx after setting CR4.OSXSAVE",
	    (unsigned long long)xcr0_now());
	expect_xsetbv_ok(XCR0_X87);
	expect_xsetbv_gp(1, XCR0_X87);
	expect_xsetbv_gp(0xFFFFFFFFu, XCR0_X87);
	rule_end("XSETBV with ECX != 0 gives #GP");
	rule_begin();
	expect_xsetbv_gp(0, 0);
	expect_xsetbv_gp(0, XCR0_SSE);
	rule_end("XSETBV with XCR0 bit 0 clear gives #GP");

	unsigned unoffered = 63;
	for (unsigned bit = 1; bit < 63; bit++)
		if (!(xcr0_supported >> bit & 1)) {
			unoffered = bit;
			break;
		}
	rule_begin();
	expect_xsetbv_gp(0, XCR0_X87 | 1ull << unoffered);
	expect_xsetbv_gp(0, XCR0_X87 | XCR0_SSE | 1ull << 63);
	fmt_snprintf(what, sizeof(what),
		     "XSETBV of a bit not in CPUID.(EAX=0DH,ECX=0):EDX:EAX (bit %u, bit 63) gives #GP",
		     unoffered);
	rule_end(what);

	if (xcr0_supported & XCR0_AVX) {
		rule_begin();
		expect_xsetbv_gp(0, XCR0_X87 | XCR0_AVX);
		rule_end("XSETBV of AVX (bit 2) without SSE (bit 1) gives #GP");
	} else {
		say("cpu_rules: no AVX state in XCR0: AVX rules not checked");
	}
	if ((xcr0_supported & XCR0_AVX512) == XCR0_AVX512) {
		rule_begin();
		const uint64_t base = XCR0_X87 | XCR0_SSE | XCR0_AVX;
		for (uint64_t bits = 1; bits < 7; bits++)
			expect_xsetbv_gp(0, base | bits << 5);
		rule_end("XSETBV of AVX-512 bits 5-7 not all equal gives #GP");
		rule_begin();
		expect_xsetbv_gp(0, XCR0_X87 | XCR0_SSE | XCR0_AVX512);
		rule_end("XSETBV of AVX-512 bits 5-7 without AVX gives #GP");
	} else {
		say("cpu_rules: no AVX-512 state in XCR0: AVX-512 rules not checked");
	}

	rule_begin();
	expect_xsetbv_ok(XCR0_X87 | XCR0_SSE);
	rule_end("XSETBV 0x3 (x87, SSE) is accepted and XGETBV reads it back");
	if (xcr0_supported & XCR0_AVX) {
		rule_begin();
		expect_xsetbv_ok(XCR0_X87 | XCR0_SSE | XCR0_AVX);
		rule_end("XSETBV 0x7 (x87, SSE, AVX) is accepted and XGETBV reads it back");
	}
	if ((xcr0_supported & XCR0_AVX512) == XCR0_AVX512) {
		rule_begin();
		expect_xsetbv_ok(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512);
		rule_end("XSETBV 0xe7 (x87, SSE, AVX, AVX-512) is accepted and XGETBV reads it back");
	}
	rule_begin();
	expect_xsetbv_ok(xcr0_supported);
	fmt_snprintf(what, sizeof(what),
		     "XSETBV of every bit CPUID offers together (0x%llx) is accepted and read back",
		     (unsigned long long)xcr0_supported);
	rule_end(what);
	rule_begin();
	expect_xsetbv_ok(XCR0_X87);
	rule_end("XSETBV 0x1 (x87 only) is accepted and XGETBV reads it back");
	probe_write_cr4(0);
}

/* ---- other instructions and exceptions ------------------------------------ */

static void expect_ud(const char *insn, int vec)
{
	char what[80];
	rule_begin();
	if (vec != VEC_UD)
		bad("%s: %s, expected #UD", insn, outcome(vec));
	fmt_snprintf(what, sizeof(what), "%s gives #UD (VMX is not offered)", insn);
	rule_end(what);
}

/* Traps after instructions cvisor emulates (SDM Vol. 3B 18.2, 18.3.1):
 * single-step over HLT and each REP iteration, I/O and data breakpoints. */
#define DR6_INIT 0xFFFF0FF0u
#define DR6_B(n) (1u << (n))
#define DR6_BS   (1u << 14)
#define CR4_DE   (1u << 3)
#define DR7_L(n) (1u << (2 * (n)))
#define DR7_RW_LEN(n, rw, len) ((uint32_t)((rw) | (len) << 2) << (16 + 4 * (n)))
#define PORT_POST 0x80 /* the POST code port cvisor's debug ports answer */

static void debug_rules(void)
{
	static const char bytes[3] = { 0, 0, 0 };
	int vec;

	rule_begin();
	guest_write_dr6(DR6_INIT);
	vec = probe_single_step_hlt();
	if (vec != VEC_DB || probe_fault_eip != (uint32_t)(uintptr_t)probe_single_step_hlt_next ||
	    !(guest_read_dr6() & DR6_BS))
		bad("HLT with TF: %s at EIP 0x%x, DR6 0x%x, expected #DB with BS after the HLT",
		    outcome(vec), (unsigned)probe_fault_eip, guest_read_dr6());
	rule_end("HLT with RFLAGS.TF: the single-step trap ends the halt at once, with DR6.BS");

	rule_begin();
	guest_write_dr6(DR6_INIT);
	vec = probe_single_step_rep_outsb(bytes, 3, PORT_POST);
	if (vec != VEC_DB || probe_fault_eip != (uint32_t)(uintptr_t)probe_rep_outsb_insn)
		bad("REP OUTSB (3 bytes) with TF: %s at EIP 0x%x, expected #DB after the first "
		    "iteration, at the instruction 0x%x", outcome(vec), (unsigned)probe_fault_eip,
		    (unsigned)(uintptr_t)probe_rep_outsb_insn);
	vec = probe_single_step_rep_outsb(bytes, 1, PORT_POST);
	if (vec != VEC_DB || probe_fault_eip != (uint32_t)(uintptr_t)probe_rep_outsb_next)
		bad("REP OUTSB (1 byte) with TF: %s at EIP 0x%x, expected #DB after it", outcome(vec),
		    (unsigned)probe_fault_eip);
	rule_end("REP OUTSB with RFLAGS.TF traps after each iteration, at the instruction until ECX runs out");

	/* An I/O breakpoint on port 0x80 in DR2 (R/W = 10b, CR4.DE = 1). */
	rule_begin();
	uint32_t cr4 = guest_read_cr4();
	if (probe_write_cr4(cr4 | CR4_DE) != PROBE_NO_FAULT)
		bad("mov cr4 (DE): refused");
	guest_write_dr(2, PORT_POST);
	guest_write_dr6(DR6_INIT);
	guest_write_dr7(0x400 | DR7_L(2) | DR7_RW_LEN(2, 2u, 0u));
	vec = probe_out_byte(PORT_POST, 0x55);
	uint32_t dr6 = guest_read_dr6();
	if (vec != VEC_DB || probe_fault_eip != (uint32_t)(uintptr_t)probe_out_byte_next ||
	    (dr6 & 0xF) != DR6_B(2))
		bad("OUT to port 0x80 with an I/O breakpoint in DR2: %s at EIP 0x%x, DR6 0x%x",
		    outcome(vec), (unsigned)probe_fault_eip, dr6);
	vec = probe_out_byte(PORT_POST + 1, 0x55);
	if (vec != PROBE_NO_FAULT)
		bad("OUT to port 0x81 with an I/O breakpoint on 0x80: %s", outcome(vec));
	guest_write_dr7(0x400);
	probe_write_cr4(cr4);
	rule_end("an I/O breakpoint (CR4.DE, DR7 R/W = 10b) traps after an OUT cvisor emulates, with its B bit");

	/* A data breakpoint on the local APIC's version register (MMIO that
	 * cvisor emulates): DR1, R/W = 11b (reads and writes), LEN = 4. */
	rule_begin();
	const volatile void *apic_version = (const volatile void *)(uintptr_t)0xFEE00030u;
	guest_write_dr(1, 0xFEE00030u);
	guest_write_dr6(DR6_INIT);
	guest_write_dr7(0x400 | DR7_L(1) | DR7_RW_LEN(1, 3u, 3u));
	vec = probe_load32(apic_version);
	dr6 = guest_read_dr6();
	if (vec != VEC_DB || probe_fault_eip != (uint32_t)(uintptr_t)probe_load32_next ||
	    (dr6 & 0xF) != DR6_B(1))
		bad("read of the APIC version with a data breakpoint in DR1: %s at EIP 0x%x, DR6 0x%x",
		    outcome(vec), (unsigned)probe_fault_eip, dr6);
	guest_write_dr7(0x400);
	rule_end("a data breakpoint traps after an MMIO read cvisor emulates, with its B bit");
}

static void other_rules(void)
{
	static uint8_t vmx_page[4096] __attribute__((aligned(4096)));
	static uint64_t descriptor[2];
	uint64_t pa = (uint32_t)(uintptr_t)vmx_page, stored_pa = 0;
	uint32_t value = 0;

	rule_begin();
	if (leaf1_ecx & CPUID1_ECX_VMX)
		bad("CPUID.1:ECX.VMX is set");
	rule_end("CPUID.1:ECX.VMX[5] is 0");
	rule_begin();
	if (leaf1_ecx & CPUID1_ECX_MONITOR)
		bad("CPUID.1:ECX.MONITOR is set");
	rule_end("CPUID.1:ECX.MONITOR[3] is 0 (MONITOR/MWAIT are not offered)");

	rule_begin();
	static volatile uint32_t marker;
	marker = 0x1AB1E5;
	int vec = probe_invd();
	if (vec != PROBE_NO_FAULT)
		bad("invd: %s, expected no fault", outcome(vec));
	if (marker != 0x1AB1E5)
		bad("a value written before INVD reads 0x%x", marker);
	rule_end("INVD continues like WBINVD (memory written before it is kept)");

	*(uint32_t *)vmx_page = 1;
	expect_ud("VMXON", probe_vmxon(&pa));
	expect_ud("VMXOFF", probe_vmxoff());
	expect_ud("VMCLEAR", probe_vmclear(&pa));
	expect_ud("VMPTRLD", probe_vmptrld(&pa));
	expect_ud("VMPTRST", probe_vmptrst(&stored_pa));
	expect_ud("VMREAD", probe_vmread(0x681E /* GUEST_RIP */, &value));
	expect_ud("VMWRITE", probe_vmwrite(0x681E, 0));
	expect_ud("VMLAUNCH", probe_vmlaunch());
	expect_ud("VMRESUME", probe_vmresume());
	expect_ud("INVEPT", probe_invept(2, descriptor));
	expect_ud("INVVPID", probe_invvpid(2, descriptor));
	expect_ud("VMFUNC", probe_vmfunc(0, 0));

	rule_begin();
	vec = probe_ud2();
	if (vec != VEC_UD || probe_fault_eip != (uint32_t)(uintptr_t)probe_ud2_insn)
		bad("ud2: %s at EIP 0x%x, expected #UD at 0x%x", outcome(vec),
		    (unsigned)probe_fault_eip, (unsigned)(uintptr_t)probe_ud2_insn);
	rule_end("UD2 reaches the guest's own IDT as #UD at the UD2's address");
	rule_begin();
	vec = probe_int3();
	if (vec != VEC_BP || probe_fault_eip != (uint32_t)(uintptr_t)probe_int3_next)
		bad("int3: %s at EIP 0x%x, expected #BP with EIP 0x%x", outcome(vec),
		    (unsigned)probe_fault_eip, (unsigned)(uintptr_t)probe_int3_next);
	rule_end("INT3 reaches the guest's own IDT as #BP with EIP after the INT3");
	rule_begin();
	vec = probe_divide_error();
	if (vec != VEC_DE || probe_fault_eip != (uint32_t)(uintptr_t)probe_divide_insn)
		bad("div by 0: %s at EIP 0x%x, expected #DE at 0x%x", outcome(vec),
		    (unsigned)probe_fault_eip, (unsigned)(uintptr_t)probe_divide_insn);
	rule_end("a division by zero reaches the guest's own IDT as #DE");
	rule_begin();
	vec = probe_int80();
	if (vec != VEC_GP || probe_error_code != (0x80u << 3 | 2))
		bad("int 0x80: %s, expected #GP error code 0x402", outcome(vec));
	rule_end("INT 0x80 beyond the IDT limit gives #GP with error code 0x402 (IDT, vector 0x80)");

	/* SDM Vol. 3A 17.3.1.1: a fault-class exception pushes EFLAGS with RF
	 * set, also when cvisor injects it for an instruction it intercepted. */
	const uint32_t rf = 1u << 16;
	uint64_t unused;
	rule_begin();
	vec = probe_rdmsr(0x4B564D00, &unused);
	if (vec != VEC_GP || !(probe_fault_eflags & rf))
		bad("rdmsr of an unknown MSR: %s with pushed EFLAGS 0x%x, expected #GP with RF",
		    outcome(vec), (unsigned)probe_fault_eflags);
	vec = probe_vmxoff();
	if (vec != VEC_UD || !(probe_fault_eflags & rf))
		bad("vmxoff: %s with pushed EFLAGS 0x%x, expected #UD with RF", outcome(vec),
		    (unsigned)probe_fault_eflags);
	vec = probe_write_cr4(1u << 13); /* VMXE */
	if (vec != VEC_GP || !(probe_fault_eflags & rf))
		bad("mov cr4 (VMXE): %s with pushed EFLAGS 0x%x, expected #GP with RF", outcome(vec),
		    (unsigned)probe_fault_eflags);
	rule_end("a fault cvisor injects pushes EFLAGS with RF set (#GP from RDMSR and MOV CR4, #UD from VMXOFF)");
	rule_begin();
	vec = probe_int3();
	if (vec != VEC_BP || (probe_fault_eflags & rf))
		bad("int3: %s with pushed EFLAGS 0x%x, expected #BP without RF (a trap)", outcome(vec),
		    (unsigned)probe_fault_eflags);
	rule_end("a trap (#BP from INT3) pushes EFLAGS with RF clear");

	/* Single-step (SDM Vol. 3B 18.3.1.4): with RFLAGS.TF the trap comes
	 * after the instruction, also one cvisor emulates, with DR6.BS set,
	 * exactly as after one that runs natively. */
	rule_begin();
	guest_write_dr6(0xFFFF0FF0);
	vec = probe_single_step_nop();
	uint32_t dr6_native = guest_read_dr6();
	if (vec != VEC_DB || probe_fault_eip != (uint32_t)(uintptr_t)probe_single_step_nop_next ||
	    !(dr6_native & (1u << 14)))
		bad("native single-step over NOP: %s at EIP 0x%x, DR6 0x%x", outcome(vec),
		    (unsigned)probe_fault_eip, dr6_native);
	guest_write_dr6(0xFFFF0FF0);
	vec = probe_single_step_cpuid();
	uint32_t dr6 = guest_read_dr6();
	if (vec != VEC_DB || probe_fault_eip != (uint32_t)(uintptr_t)probe_single_step_next)
		bad("single-step over CPUID: %s at EIP 0x%x, expected #DB at 0x%x", outcome(vec),
		    (unsigned)probe_fault_eip, (unsigned)(uintptr_t)probe_single_step_next);
	if (!(dr6 & (1u << 14)))
		bad("single-step over CPUID: DR6 0x%x without BS", dr6);
	rule_end("single-stepping over CPUID, which cvisor emulates, traps after it with DR6.BS, as over a NOP");

	debug_rules();

	/* MONITOR and MWAIT are hidden: #UD (SDM Vol. 2B MONITOR, MWAIT). */
	rule_begin();
	static volatile uint32_t monitored;
	vec = probe_monitor((const void *)&monitored, 0, 0);
	if (vec != VEC_UD)
		bad("MONITOR: %s, expected #UD (CPUID.1:ECX.MONITOR is 0)", outcome(vec));
	vec = probe_mwait(0, 0);
	if (vec != VEC_UD)
		bad("MWAIT: %s, expected #UD", outcome(vec));
	rule_end("MONITOR and MWAIT, which CPUID does not offer, raise #UD");
}

/* ---- Advertised features work (SDM Vol. 3C 26.3: RDTSCP, RDPID and INVPCID
 * #UD in a guest unless their controls are on) ----------------------------- */

#define MSR_TSC_ADJUST 0x3Bu
#define MSR_TSC_AUX    0xC0000103u
#define MSR_TSC        0x10u

static void feature_rules(void)
{
	struct guest_cpuid leaf7 = { 0, 0, 0, 0 };
	if (guest_cpuid(0, 0).eax >= 7)
		leaf7 = guest_cpuid(7, 0);
	bool rdtscp = ext1_edx & (1u << 27), rdpid = leaf7.ecx & (1u << 22);
	bool invpcid = leaf7.ebx & (1u << 10), tsc_adjust = leaf7.ebx & (1u << 1);
	say("cpu_rules: offered RDTSCP %d, RDPID %d, INVPCID %d, TSC_ADJUST %d", rdtscp, rdpid,
	    invpcid, tsc_adjust);

	rule_begin();
	uint64_t tsc = 0;
	uint32_t aux = 0;
	if (rdtscp) {
		expect_wr_ok(MSR_TSC_AUX, 0x1234);
		uint64_t before = guest_rdtsc();
		int vec = probe_rdtscp(&tsc, &aux);
		if (vec != PROBE_NO_FAULT || aux != 0x1234 || tsc < before)
			bad("rdtscp: %s, ECX 0x%x, TSC 0x%llx after 0x%llx", outcome(vec), aux,
			    (unsigned long long)tsc, (unsigned long long)before);
	} else if (probe_rdtscp(&tsc, &aux) != VEC_UD) {
		bad("rdtscp does not #UD although CPUID does not offer it");
	}
	rule_end("RDTSCP works exactly when CPUID offers it, with IA32_TSC_AUX in ECX");

	rule_begin();
	uint32_t pid = 0;
	if (rdpid) {
		expect_wr_ok(MSR_TSC_AUX, 0x5678);
		int vec = probe_rdpid(&pid);
		if (vec != PROBE_NO_FAULT || pid != 0x5678)
			bad("rdpid: %s, 0x%x, expected 0x5678", outcome(vec), pid);
	} else if (probe_rdpid(&pid) != VEC_UD) {
		bad("rdpid does not #UD although CPUID does not offer it");
	}
	rule_end("RDPID works exactly when CPUID offers it, returning IA32_TSC_AUX");

	rule_begin();
	static const uint64_t all_contexts[2] = { 0, 0 }, pcid1[2] = { 1, 0 };
	if (invpcid) {
		for (uint32_t type = 2; type <= 3; type++) {
			int vec = probe_invpcid(type, all_contexts);
			if (vec != PROBE_NO_FAULT)
				bad("invpcid type %u: %s, expected no fault", type, outcome(vec));
		}
		/* Type 0 with PCID 1 while CR4.PCIDE = 0: #GP (SDM Vol. 2B INVPCID). */
		int vec = probe_invpcid(0, pcid1);
		if (vec != VEC_GP)
			bad("invpcid type 0, PCID 1, PCIDE 0: %s, expected #GP", outcome(vec));
	} else if (probe_invpcid(2, all_contexts) != VEC_UD) {
		bad("invpcid does not #UD although CPUID does not offer it");
	}
	rule_end("INVPCID works exactly when CPUID offers it (types 2 and 3; #GP for a PCID without PCIDE)");

	rule_begin();
	if (tsc_adjust) {
		/* SDM Vol. 3B 17.17.3: writing TSC_ADJUST moves the TSC by the
		 * difference; writing the TSC moves TSC_ADJUST by the same amount. */
		const uint64_t jump = 1ULL << 40, slack = 1ULL << 30;
		uint64_t base = 0; /* earlier TSC writes (the MSR rules above) moved it */
		if (probe_rdmsr(MSR_TSC_ADJUST, &base) != PROBE_NO_FAULT)
			bad("rdmsr IA32_TSC_ADJUST faults although CPUID offers it");
		uint64_t before = guest_rdtsc();
		expect_wr_rd(MSR_TSC_ADJUST, base + jump, base + jump);
		uint64_t after = guest_rdtsc();
		if (after - before < jump || after - before > jump + slack)
			bad("TSC moved by 0x%llx after TSC_ADJUST += 2^40", (unsigned long long)(after - before));
		expect_wr_rd(MSR_TSC_ADJUST, base, base);
		if (guest_rdtsc() > before + slack)
			bad("TSC did not come back when TSC_ADJUST did");
		uint64_t now = guest_rdtsc();
		expect_wr_ok(MSR_TSC, now + jump);
		uint64_t adjust = 0;
		if (probe_rdmsr(MSR_TSC_ADJUST, &adjust) != PROBE_NO_FAULT ||
		    adjust - base < jump - slack || adjust - base > jump + slack)
			bad("TSC_ADJUST moved by 0x%llx after the TSC was written 2^40 ahead",
			    (unsigned long long)(adjust - base));
		expect_wr_ok(MSR_TSC_ADJUST, base);
	} else {
		expect_rd_gp(MSR_TSC_ADJUST);
	}
	rule_end("IA32_TSC_ADJUST exists exactly when CPUID offers it and moves the TSC (SDM 17.17.3)");
}

/* ---- main ------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*run)(void);
} sections[] = {
	{ "msr", msr_rules },
	{ "cr", cr_rules },
	{ "xsetbv", xsetbv_rules },
	{ "other", other_rules },
	{ "features", feature_rules },
};

/* The section is named on the command line, or none is named at all. */
static bool selected(const char *cmdline, const char *name)
{
	const char *p = cmdline;
	bool any = false;
	size_t len = strlen(name);

	while (*p && *p != ' ') /* skip the VM name */
		p++;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		if (p == word)
			break;
		any = true;
		if ((size_t)(p - word) == len && strncmp(word, name, len) == 0)
			return true;
	}
	return !any;
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	start_cr0 = guest_read_cr0();
	start_cr4 = guest_read_cr4();
	traps_init();
	const char *cmdline = (info->flags & 4) ? (const char *)info->cmdline : "";
	say("cpu_rules: checking docs/guest-contract.md from the inside");
	read_cpu_description();
	for (unsigned i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (!selected(cmdline, sections[i].name))
			continue;
		say("cpu_rules: section %s", sections[i].name);
		sections[i].run();
	}
	say("cpu_rules: done, %u failure(s)", failures());
	return (int)failures();
}
