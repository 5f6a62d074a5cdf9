/*
 * Tests of core/mm/mtrr.c (SDM Vol. 3A 12.11): which memory type each address
 * gets from the MTRRs, when a 1 GiB / 2 MiB block is uniform, and reading the
 * MTRRs from the fake CPU's MSRs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "mm/ept.h"
#include "mm/identity_map.h"
#include "mm/mtrr.h"
#include "vm/vm.h"
#include "fixture_mtrr.h"

static unsigned range_type(const struct mtrr_state *s, uint64_t pa, uint64_t size)
{
	unsigned type = 0xEE;
	if (!mtrr_range_type(s, pa, size, &type))
		fail_msg("mtrr_range_type(0x%llx, 0x%llx) says the range is not uniform",
			 (unsigned long long)pa, (unsigned long long)size);
	return type;
}

static void check_not_uniform(const struct mtrr_state *s, uint64_t pa, uint64_t size)
{
	unsigned type = 0xEE;
	if (mtrr_range_type(s, pa, size, &type))
		fail_msg("mtrr_range_type(0x%llx, 0x%llx) says uniform type %u",
			 (unsigned long long)pa, (unsigned long long)size, type);
}

/* ---- mtrr_type_of / mtrr_range_type ---- */

static void mtrrs_disabled_make_everything_uc(void **state)
{
	(void)state;
	struct mtrr_state s = mtrrs(MEMTYPE_WB);
	s.def_type = FE_ON | MEMTYPE_WB; /* E clear: FE and the default type do not count */
	set_variable(&s, 0, 0, 4 * GiB, MEMTYPE_WB);
	set_fixed(&s, 0xC0000, MEMTYPE_WP);

	assert_int_equal(mtrr_type_of(&s, 0), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0xC0000), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 1 * GiB), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 16 * GiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 0, 1 * GiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 0, 2 * MiB), MEMTYPE_UC);
	/* A zeroed state (what mtrr_read leaves without CPUID.1:EDX.MTRR) too. */
	struct mtrr_state zero;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(mtrr_type_of(&zero, 0x12345000), MEMTYPE_UC);
}

static void default_type_applies_where_no_range_matches(void **state)
{
	(void)state;
	struct mtrr_state s = mtrrs(MEMTYPE_WB);
	s.def_type = E_ON | MEMTYPE_WB;

	assert_int_equal(mtrr_type_of(&s, 0), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x12345678), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 1 * GiB, 1 * GiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 0, 1 * GiB), MEMTYPE_WB);

	s.def_type = E_ON | MEMTYPE_UC;
	assert_int_equal(mtrr_type_of(&s, 0x12345678), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 2 * MiB, 2 * MiB), MEMTYPE_UC);
}

static void fixed_ranges_decide_below_1mib_at_their_granularity(void **state)
{
	(void)state;
	struct mtrr_state s = mtrrs(MEMTYPE_WB);
	s.def_type = E_ON | FE_ON | MEMTYPE_WB;
	/* IA32_MTRR_FIX64K_00000: 8 x 64 KiB from 0. */
	set_fixed(&s, 0x10000, MEMTYPE_UC);
	/* IA32_MTRR_FIX16K_80000 and _A0000: 16 x 16 KiB from 0x80000. */
	set_fixed(&s, 0x84000, MEMTYPE_WT);
	set_fixed(&s, 0xA0000, MEMTYPE_WC);
	set_fixed(&s, 0xBC000, MEMTYPE_WC);
	/* IA32_MTRR_FIX4K_C0000 .. _F8000: 64 x 4 KiB from 0xC0000. */
	set_fixed(&s, 0xC0000, MEMTYPE_WP);
	set_fixed(&s, 0xFF000, MEMTYPE_UC);
	/* A variable range over the same addresses loses to the fixed ranges. */
	set_variable(&s, 0, 0, 1 * MiB, MEMTYPE_WT);

	assert_int_equal(s.fixed[0], 0x0606060606060006ULL);
	assert_int_equal(mtrr_type_of(&s, 0x0), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xF000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x10000), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x1FFFF), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x20000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x80000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x84000), MEMTYPE_WT);
	assert_int_equal(mtrr_type_of(&s, 0x87FFF), MEMTYPE_WT);
	assert_int_equal(mtrr_type_of(&s, 0x88000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xA0000), MEMTYPE_WC);
	assert_int_equal(mtrr_type_of(&s, 0xA4000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xBC000), MEMTYPE_WC);
	assert_int_equal(mtrr_type_of(&s, 0xC0000), MEMTYPE_WP);
	assert_int_equal(mtrr_type_of(&s, 0xC1000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xFE000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xFF000), MEMTYPE_UC);
	/* At 1 MiB the variable ranges and the default type take over. */
	assert_int_equal(mtrr_type_of(&s, 0x100000), MEMTYPE_WB);

	/* 4 KiB blocks are uniform; bigger ones only when every sub-range agrees. */
	assert_int_equal(range_type(&s, 0xC0000, 4 * KiB), MEMTYPE_WP);
	assert_int_equal(range_type(&s, 0xC1000, 4 * KiB), MEMTYPE_WB);
	check_not_uniform(&s, 0xC0000, 8 * KiB);
	assert_int_equal(range_type(&s, 0xC2000, 8 * KiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 0x10000, 64 * KiB), MEMTYPE_UC);
	check_not_uniform(&s, 0x0, 128 * KiB);
	assert_int_equal(range_type(&s, 0x84000, 16 * KiB), MEMTYPE_WT);
	check_not_uniform(&s, 0x80000, 32 * KiB);
	check_not_uniform(&s, 0, 2 * MiB);
	check_not_uniform(&s, 0, 1 * GiB);
}

static void fixed_ranges_are_ignored_unless_enabled_and_present(void **state)
{
	(void)state;
	struct mtrr_state s = mtrrs(MEMTYPE_WB);
	set_fixed(&s, 0xA0000, MEMTYPE_UC);
	set_fixed(&s, 0xC0000, MEMTYPE_WP);

	/* FE clear: the fixed-range MSRs hold types, but they do not apply. */
	s.def_type = E_ON | MEMTYPE_WB;
	assert_int_equal(mtrr_type_of(&s, 0xA0000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xC0000), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 0, 2 * MiB), MEMTYPE_WB);
	/* FE set but IA32_MTRRCAP.FIX clear: there are no fixed ranges. */
	s.def_type = E_ON | FE_ON | MEMTYPE_WB;
	s.has_fixed = false;
	assert_int_equal(mtrr_type_of(&s, 0xA0000), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 0, 2 * MiB), MEMTYPE_WB);
	/* Both: they apply. */
	s.has_fixed = true;
	assert_int_equal(mtrr_type_of(&s, 0xA0000), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0xC0000), MEMTYPE_WP);
}

static void block_across_1mib_needs_fixed_and_variable_types_to_agree(void **state)
{
	(void)state;
	/* Fixed ranges all WB, default UC: [0, 1 MiB) WB, [1 MiB, 2 MiB) UC. */
	struct mtrr_state s = mtrrs(MEMTYPE_UC);
	s.def_type = E_ON | FE_ON | MEMTYPE_UC;
	for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
		s.fixed[i] = FIXED_ALL(MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xFF000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x100000), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 0, 1 * MiB), MEMTYPE_WB);
	check_not_uniform(&s, 0, 2 * MiB);
	/* A WB variable range over [0, 2 GiB) makes the 2 MiB block uniform. */
	set_variable(&s, 0, 0, 2 * GiB, MEMTYPE_WB);
	assert_int_equal(range_type(&s, 0, 2 * MiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 0, 1 * GiB), MEMTYPE_WB);
	/* One fixed range differing keeps the whole 1 GiB block non-uniform. */
	set_fixed(&s, 0xB0000, MEMTYPE_WC);
	check_not_uniform(&s, 0, 1 * GiB);
	assert_int_equal(range_type(&s, 2 * MiB, 2 * MiB), MEMTYPE_WB);
}

static void variable_ranges_with_default_type(void **state)
{
	(void)state;
	/* A typical PC: default UC, WB over [0, 4 GiB), UC hole [3 GiB, 4 GiB). */
	struct mtrr_state s = mtrrs(MEMTYPE_UC);
	set_variable(&s, 0, 0, 4 * GiB, MEMTYPE_WB);
	set_variable(&s, 1, 3 * GiB, 1 * GiB, MEMTYPE_UC);

	assert_int_equal(mtrr_type_of(&s, 0), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 2 * GiB + 0x123), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 3 * GiB - 1), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 3 * GiB), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 4 * GiB - 1), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 4 * GiB), MEMTYPE_UC); /* default */
	assert_int_equal(range_type(&s, 2 * GiB, 1 * GiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 3 * GiB, 1 * GiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 3 * GiB, 2 * MiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 5 * GiB, 1 * GiB), MEMTYPE_UC);

	/* Default WB with one 2 MiB WC window (a frame buffer, say). */
	struct mtrr_state w = mtrrs(MEMTYPE_WB);
	set_variable(&w, 0, 0xE0000000, 2 * MiB, MEMTYPE_WC);
	assert_int_equal(mtrr_type_of(&w, 0xE0000000), MEMTYPE_WC);
	assert_int_equal(mtrr_type_of(&w, 0xE01FF000), MEMTYPE_WC);
	assert_int_equal(mtrr_type_of(&w, 0xE0200000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&w, 0xDFFFF000), MEMTYPE_WB);
	assert_int_equal(range_type(&w, 0xE0000000, 2 * MiB), MEMTYPE_WC);
	assert_int_equal(range_type(&w, 0xE0000000, 4 * KiB), MEMTYPE_WC);
	assert_int_equal(range_type(&w, 0xE0200000, 2 * MiB), MEMTYPE_WB);
	/* The 1 GiB block around the window is neither all WC nor all WB. */
	check_not_uniform(&w, 3 * GiB, 1 * GiB);
	check_not_uniform(&w, 0xE0000000, 4 * MiB);
}

static void overlapping_ranges_follow_the_precedence_rules(void **state)
{
	(void)state;
	struct mtrr_state s = mtrrs(MEMTYPE_WB);

	/* UC wins over anything (SDM Vol. 3A 12.11.4.1). */
	set_variable(&s, 0, 0, 1 * GiB, MEMTYPE_WB);
	set_variable(&s, 1, 0, 2 * MiB, MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x1000), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 0, 2 * MiB), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 2 * MiB), MEMTYPE_WB);

	/* WT wins over WB, in either order. */
	s = mtrrs(MEMTYPE_UC);
	set_variable(&s, 0, 0, 1 * GiB, MEMTYPE_WT);
	set_variable(&s, 1, 0, 2 * GiB, MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x5000), MEMTYPE_WT);
	assert_int_equal(range_type(&s, 0, 1 * GiB), MEMTYPE_WT);
	assert_int_equal(mtrr_type_of(&s, 1 * GiB), MEMTYPE_WB);
	s = mtrrs(MEMTYPE_UC);
	set_variable(&s, 0, 0, 2 * GiB, MEMTYPE_WB);
	set_variable(&s, 1, 0, 1 * GiB, MEMTYPE_WT);
	assert_int_equal(mtrr_type_of(&s, 0x5000), MEMTYPE_WT);

	/* UC wins over WT. */
	s = mtrrs(MEMTYPE_WB);
	set_variable(&s, 0, 0, 1 * GiB, MEMTYPE_WT);
	set_variable(&s, 1, 0, 1 * GiB, MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x5000), MEMTYPE_UC);

	/* Two ranges of the same type: that type. */
	s = mtrrs(MEMTYPE_UC);
	set_variable(&s, 0, 0, 1 * GiB, MEMTYPE_WC);
	set_variable(&s, 1, 0, 2 * MiB, MEMTYPE_WC);
	assert_int_equal(mtrr_type_of(&s, 0x5000), MEMTYPE_WC);
	assert_int_equal(range_type(&s, 0, 2 * MiB), MEMTYPE_WC);

	/* Any other overlap is undefined: cvisor takes UC. */
	static const unsigned pairs[][2] = {
		{ MEMTYPE_WB, MEMTYPE_WC }, { MEMTYPE_WC, MEMTYPE_WB }, { MEMTYPE_WT, MEMTYPE_WC },
		{ MEMTYPE_WP, MEMTYPE_WB }, { MEMTYPE_WB, MEMTYPE_WP }, { MEMTYPE_WT, MEMTYPE_WP },
	};
	for (unsigned i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		s = mtrrs(MEMTYPE_WB);
		set_variable(&s, 0, 0, 1 * GiB, pairs[i][0]);
		set_variable(&s, 1, 0, 1 * GiB, pairs[i][1]);
		if (mtrr_type_of(&s, 0x5000) != MEMTYPE_UC)
			fail_msg("overlap of types %u and %u gives %u, not UC", pairs[i][0],
				 pairs[i][1], mtrr_type_of(&s, 0x5000));
		assert_int_equal(range_type(&s, 0, 1 * GiB), MEMTYPE_UC);
	}
}

static void invalid_variable_ranges_are_ignored(void **state)
{
	(void)state;
	struct mtrr_state s = mtrrs(MEMTYPE_WB);
	set_variable(&s, 0, 0, 1 * GiB, MEMTYPE_UC);
	set_variable(&s, 1, 1 * GiB, 1 * GiB, MEMTYPE_WT);
	s.variable[0].mask &= ~MTRR_PHYSMASK_VALID;

	assert_int_equal(mtrr_type_of(&s, 0x1000), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 0, 1 * GiB), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 1 * GiB), MEMTYPE_WT);
	/* Ranges past variable_count are not looked at either. */
	s.variable_count = 1;
	assert_int_equal(mtrr_type_of(&s, 1 * GiB), MEMTYPE_WB);
}

static void partial_matches_are_not_uniform(void **state)
{
	(void)state;
	/* Default UC; a WB range of 2 MiB at 4 MiB; a UC page at 8 MiB + 4 KiB
	 * inside a WB range of 4 MiB at 8 MiB. */
	struct mtrr_state s = mtrrs(MEMTYPE_UC);
	set_variable(&s, 0, 4 * MiB, 2 * MiB, MEMTYPE_WB);
	set_variable(&s, 1, 8 * MiB, 4 * MiB, MEMTYPE_WB);
	set_variable(&s, 2, 8 * MiB + 4 * KiB, 4 * KiB, MEMTYPE_UC);

	check_not_uniform(&s, 0, 1 * GiB);
	check_not_uniform(&s, 4 * MiB, 4 * MiB);
	assert_int_equal(range_type(&s, 4 * MiB, 2 * MiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 6 * MiB, 2 * MiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 4 * MiB + 12 * KiB, 4 * KiB), MEMTYPE_WB);
	check_not_uniform(&s, 8 * MiB, 2 * MiB);
	check_not_uniform(&s, 8 * MiB, 8 * KiB);
	assert_int_equal(range_type(&s, 8 * MiB, 4 * KiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 8 * MiB + 4 * KiB, 4 * KiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 8 * MiB + 8 * KiB, 8 * KiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 10 * MiB, 2 * MiB), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 8 * MiB + 4 * KiB + 0xFFF), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 8 * MiB + 8 * KiB), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 12 * MiB), MEMTYPE_UC);
}

static void physical_address_width_masks_base_and_mask(void **state)
{
	(void)state;
	/* The mask MSR as firmware writes it: every bit up to 51 set. A base
	 * bit at or above the CPU's width does not exist on a 36-bit CPU. */
	struct mtrr_state s = mtrrs(MEMTYPE_UC);
	s.variable_count = 1;
	s.variable[0].base = (1ULL << 36) | 2 * GiB | MEMTYPE_WB;
	s.variable[0].mask = 0x000FFFFF80000000ULL | MTRR_PHYSMASK_VALID;

	/* 36 bits: bit 36 of base and bits 51:36 of mask are dropped, so the
	 * range is [2 GiB, 4 GiB). */
	assert_int_equal(mtrr_type_of(&s, 2 * GiB), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 4 * GiB - 4 * KiB), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 1 * GiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 2 * GiB, 1 * GiB), MEMTYPE_WB);
	/* 0 means "unknown": 36 bits as well. */
	s.phys_addr_bits = 0;
	assert_int_equal(mtrr_type_of(&s, 2 * GiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 2 * GiB, 1 * GiB), MEMTYPE_WB);
	/* 40 bits: bit 36 of the base is real, so the range is at 64 GiB + 2 GiB. */
	s.phys_addr_bits = 40;
	assert_int_equal(mtrr_type_of(&s, 2 * GiB), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 2 * GiB, 1 * GiB), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 66 * GiB), MEMTYPE_WB);
	assert_int_equal(range_type(&s, 66 * GiB, 1 * GiB), MEMTYPE_WB);
}

static void type_of_ignores_the_offset_in_the_page(void **state)
{
	(void)state;
	struct mtrr_state s = mtrrs(MEMTYPE_WB);
	set_variable(&s, 0, 0x7FFFF000, 4 * KiB, MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x7FFFF000), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x7FFFF001), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x7FFFFFFF), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0x80000000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x7FFFEFFF), MEMTYPE_WB);
}

/* ---- mtrr_read on the fake CPU ---- */

static int setup_cpu(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	return 0;
}

static void give_cpu_mtrrs(unsigned vcnt, bool fixed)
{
	fake_cpuid_set(1, 0, 0, 0, 0, 1u << 12); /* EDX.MTRR */
	fake_msr_set(MSR_IA32_MTRRCAP, (fixed ? MTRRCAP_FIX : 0) | (1u << 10) | vcnt, true);
	fake_msr_set(MSR_IA32_MTRR_DEF_TYPE, E_ON | FE_ON | MEMTYPE_UC, false);
	if (fixed) {
		fake_msr_set(MSR_IA32_MTRR_FIX64K_00000, FIXED_ALL(MEMTYPE_WB), false);
		fake_msr_set(MSR_IA32_MTRR_FIX16K_80000, FIXED_ALL(MEMTYPE_WB), false);
		fake_msr_set(MSR_IA32_MTRR_FIX16K_A0000, FIXED_ALL(MEMTYPE_UC), false);
		for (unsigned i = 0; i < 8; i++)
			fake_msr_set(MSR_IA32_MTRR_FIX4K_C0000 + i, 0x0505050505050500ULL + i, false);
	}
	for (unsigned i = 0; i < vcnt; i++) {
		fake_msr_set(MSR_IA32_MTRR_PHYSBASE0 + 2 * i, (uint64_t)i * GiB | MEMTYPE_WB, false);
		fake_msr_set(MSR_IA32_MTRR_PHYSBASE0 + 2 * i + 1,
			     (i % 2 ? MTRR_PHYSMASK_VALID : 0) | 0x7FC0000000ULL, false);
	}
}

static void mtrr_read_copies_every_mtrr_msr(void **state)
{
	(void)state;
	fake_cpuid_set(0x80000000u, 0, 0x80000008u, 0, 0, 0);
	fake_cpuid_set(0x80000008u, 0, 0x3027, 0, 0, 0); /* 39 physical, 48 linear bits */
	give_cpu_mtrrs(3, true);

	struct mtrr_state s;
	memset(&s, 0x5A, sizeof(s));
	mtrr_read(&s);
	assert_int_equal(s.phys_addr_bits, 39);
	assert_int_equal(s.def_type, E_ON | FE_ON | MEMTYPE_UC);
	assert_true(s.has_fixed);
	assert_int_equal(s.fixed[0], FIXED_ALL(MEMTYPE_WB));
	assert_int_equal(s.fixed[1], FIXED_ALL(MEMTYPE_WB));
	assert_int_equal(s.fixed[2], FIXED_ALL(MEMTYPE_UC));
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(s.fixed[3 + i], 0x0505050505050500ULL + i);
	assert_int_equal(s.variable_count, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(s.variable[i].base, (uint64_t)i * GiB | MEMTYPE_WB);
		assert_int_equal(s.variable[i].mask,
				 (i % 2 ? MTRR_PHYSMASK_VALID : 0) | 0x7FC0000000ULL);
	}
	/* Ranges past the count are zero, not left over. */
	assert_int_equal(s.variable[3].base, 0);
	assert_int_equal(s.variable[3].mask, 0);
	assert_int_equal(fake_msr(MSR_IA32_MTRR_DEF_TYPE)->reads, 1);
	assert_int_equal(fake_msr(MSR_IA32_MTRR_FIX4K_C0000 + 7)->reads, 1);
	assert_int_equal(fake_msr(MSR_IA32_MTRR_PHYSBASE0 + 5)->reads, 1);

	/* What was read gives the types: 16K_A0000 UC, the 4 KiB ranges byte 0
	 * of each MSR = i, the rest WP; variable range 1 (the only valid one) is
	 * WB over [1 GiB, 2 GiB), the default UC. */
	assert_int_equal(mtrr_type_of(&s, 0x1000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0xA0000), MEMTYPE_UC);
	assert_int_equal(mtrr_type_of(&s, 0xC8000), 1);
	assert_int_equal(mtrr_type_of(&s, 0xC9000), MEMTYPE_WP);
	assert_int_equal(mtrr_type_of(&s, 1 * GiB + 0x1000), MEMTYPE_WB);
	assert_int_equal(mtrr_type_of(&s, 0x100000), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 1 * GiB, 1 * GiB), MEMTYPE_WB);
}

static void mtrr_read_without_fixed_ranges_reads_no_fixed_msr(void **state)
{
	(void)state;
	fake_cpuid_set(0x80000000u, 0, 0x80000008u, 0, 0, 0);
	fake_cpuid_set(0x80000008u, 0, 46, 0, 0, 0);
	/* No fixed-range MSRs on this CPU: reading one would fail the test. */
	give_cpu_mtrrs(2, false);

	struct mtrr_state s;
	mtrr_read(&s);
	assert_false(s.has_fixed);
	assert_int_equal(s.phys_addr_bits, 46);
	assert_int_equal(s.variable_count, 2);
	for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
		assert_int_equal(s.fixed[i], 0);
	assert_int_equal(s.variable[1].base, 1 * GiB | MEMTYPE_WB);
}

static void mtrr_read_without_mtrrs_leaves_everything_uc(void **state)
{
	(void)state;
	/* No leaf 0x80000008 and no CPUID.1:EDX.MTRR: no MTRR MSR exists, so
	 * any RDMSR of one would fail the test. */
	fake_cpuid_set(0x80000000u, 0, 0x80000004u, 0, 0, 0);
	fake_cpuid_set(1, 0, 0, 0, 0, 0);

	struct mtrr_state s;
	memset(&s, 0x5A, sizeof(s));
	mtrr_read(&s);
	assert_int_equal(s.phys_addr_bits, 36); /* SDM Vol. 3A 4.1.4 default */
	assert_int_equal(s.def_type, 0);
	assert_false(s.has_fixed);
	assert_int_equal(s.variable_count, 0);
	assert_int_equal(mtrr_type_of(&s, 0), MEMTYPE_UC);
	assert_int_equal(range_type(&s, 0, 1 * GiB), MEMTYPE_UC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mtrrs_disabled_make_everything_uc),
		cmocka_unit_test(default_type_applies_where_no_range_matches),
		cmocka_unit_test(fixed_ranges_decide_below_1mib_at_their_granularity),
		cmocka_unit_test(fixed_ranges_are_ignored_unless_enabled_and_present),
		cmocka_unit_test(block_across_1mib_needs_fixed_and_variable_types_to_agree),
		cmocka_unit_test(variable_ranges_with_default_type),
		cmocka_unit_test(overlapping_ranges_follow_the_precedence_rules),
		cmocka_unit_test(invalid_variable_ranges_are_ignored),
		cmocka_unit_test(partial_matches_are_not_uniform),
		cmocka_unit_test(physical_address_width_masks_base_and_mask),
		cmocka_unit_test(type_of_ignores_the_offset_in_the_page),
		cmocka_unit_test_setup(mtrr_read_copies_every_mtrr_msr, setup_cpu),
		cmocka_unit_test_setup(mtrr_read_without_fixed_ranges_reads_no_fixed_msr, setup_cpu),
		cmocka_unit_test_setup(mtrr_read_without_mtrrs_leaves_everything_uc, setup_cpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
