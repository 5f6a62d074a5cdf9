/*
 * Memory types from the MTRRs (core/mm/mtrr.c, SDM Vol. 3A 12.11) and the
 * identity EPT built from them (core/mm/identity_map.c): which type each
 * address gets, when a 1 GiB / 2 MiB block is uniform, the leaves the
 * identity map picks, protected pages, on-demand mapping, and reading the
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

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define E_ON  MTRR_DEF_TYPE_E
#define FE_ON MTRR_DEF_TYPE_FE

/* Eight copies of one type byte: a fixed-range MSR of one type. */
#define FIXED_ALL(t) (0x0101010101010101ULL * (uint64_t)(t))

/* ---- MTRR state helpers ---- */

/* MTRRs enabled, fixed ranges present but off, default type def, 36 bits. */
static struct mtrr_state mtrrs(unsigned def)
{
	struct mtrr_state s;

	memset(&s, 0, sizeof(s));
	s.def_type = E_ON | def;
	s.has_fixed = true;
	for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
		s.fixed[i] = FIXED_ALL(def);
	s.phys_addr_bits = 36;
	return s;
}

/* Variable range i: [base, base + size) of type, size a power of two. */
static void set_variable(struct mtrr_state *s, unsigned i, uint64_t base, uint64_t size,
			 unsigned type)
{
	uint64_t width = (1ULL << s->phys_addr_bits) - 1;

	s->variable[i].base = base | type;
	s->variable[i].mask = (~(size - 1) & width & ~0xFFFULL) | MTRR_PHYSMASK_VALID;
	if (s->variable_count <= i)
		s->variable_count = i + 1;
}

/* Sets the type byte of the fixed range that covers pa (below 1 MiB). */
static void set_fixed(struct mtrr_state *s, uint64_t pa, unsigned type)
{
	unsigned msr, byte;

	if (pa < 0x80000) {
		msr = 0;
		byte = (unsigned)(pa / (64 * KiB));
	} else if (pa < 0xC0000) {
		msr = 1 + (unsigned)((pa - 0x80000) / (128 * KiB));
		byte = (unsigned)(((pa - 0x80000) % (128 * KiB)) / (16 * KiB));
	} else {
		msr = 3 + (unsigned)((pa - 0xC0000) / (32 * KiB));
		byte = (unsigned)(((pa - 0xC0000) % (32 * KiB)) / (4 * KiB));
	}
	s->fixed[msr] &= ~(0xFFULL << (8 * byte));
	s->fixed[msr] |= (uint64_t)type << (8 * byte);
}

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

/* ---- identity_map ---- */

static struct ept ept;
static struct mtrr_state map_mtrrs;
static struct identity_map map;

static int setup_map(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	memset(&ept, 0, sizeof(ept));
	assert_true(ept_init(&ept));
	map_mtrrs = mtrrs(MEMTYPE_WB);
	map_mtrrs.phys_addr_bits = 39;
	memset(&map, 0, sizeof(map));
	map.ept = &ept;
	map.mtrr = &map_mtrrs;
	map.large_pages = VM_PAGES_2M | VM_PAGES_1G;
	return 0;
}

static int teardown_map(void **state)
{
	(void)state;
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

/* The EPT leaf that maps gpa (0 if none) and its size. */
static uint64_t ept_leaf(uint64_t gpa, uint64_t *size)
{
	const uint64_t *table = ept.pml4;

	*size = 0;
	for (unsigned level = 3;; level--) {
		uint64_t entry = table[(gpa >> (12 + 9 * level)) & 0x1FF];
		if (!(entry & EPT_RWX))
			return 0;
		if (level == 0 || (entry & EPT_LARGE_PAGE)) {
			if (level == 3)
				fail_msg("a large-page bit in a PML4 entry (EPT misconfiguration)");
			*size = 1ULL << (12 + 9 * level);
			return entry;
		}
		table = plat_phys_to_virt(entry & EPT_ADDR_MASK);
	}
}

/* gpa is mapped to itself by a leaf of this size, permissions and type. */
static void check_leaf(uint64_t gpa, uint64_t size, uint64_t perms, unsigned type)
{
	uint64_t got_size, got_perms = 0;
	uint64_t entry = ept_leaf(gpa, &got_size);

	if (!entry)
		fail_msg("0x%llx is not mapped", (unsigned long long)gpa);
	if (got_size != size)
		fail_msg("0x%llx is mapped by a 0x%llx-byte leaf, not 0x%llx",
			 (unsigned long long)gpa, (unsigned long long)got_size,
			 (unsigned long long)size);
	if (ept_translate(&ept, gpa, &got_perms) != gpa)
		fail_msg("0x%llx translates to 0x%llx", (unsigned long long)gpa,
			 (unsigned long long)ept_translate(&ept, gpa, NULL));
	assert_int_equal(got_perms, perms);
	assert_int_equal(entry & EPT_RWX, perms);
	if (((entry >> EPT_MEMTYPE_SHIFT) & 7) != type)
		fail_msg("0x%llx has memory type %llu, not %u", (unsigned long long)gpa,
			 (unsigned long long)((entry >> EPT_MEMTYPE_SHIFT) & 7), type);
	/* "Ignore PAT" stays clear so the OS's PAT still applies. */
	assert_int_equal(entry & EPT_IGNORE_PAT, 0);
	/* Bits 11:8 and 51:N of a leaf are the address or ignored: the
	 * address of an identity leaf is gpa rounded down. */
	assert_int_equal(entry & EPT_ADDR_MASK, gpa & ~(size - 1));
}

static void check_unmapped(uint64_t gpa)
{
	if (ept_translate(&ept, gpa, NULL) != EPT_NO_MAPPING)
		fail_msg("0x%llx is mapped (to 0x%llx)", (unsigned long long)gpa,
			 (unsigned long long)ept_translate(&ept, gpa, NULL));
}

static void uniform_memory_gets_1gib_leaves(void **state)
{
	(void)state;
	assert_true(identity_map_range(&map, 2 * GiB));
	assert_int_equal(map.pages_1g, 2);
	assert_int_equal(map.pages_2m, 0);
	assert_int_equal(map.pages_4k, 0);
	check_leaf(0, 1 * GiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(0x12345678, 1 * GiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(2 * GiB - 1, 1 * GiB, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(ept_mapping_size(&ept, 1 * GiB + 5), 1 * GiB);
	check_unmapped(2 * GiB);
	/* PML4 and one PDPT. */
	assert_int_equal(ept.table_pages, 2);
}

static void end_below_1gib_boundary_uses_2mib_leaves(void **state)
{
	(void)state;
	assert_true(identity_map_range(&map, 1 * GiB + 4 * MiB));
	assert_int_equal(map.pages_1g, 1);
	assert_int_equal(map.pages_2m, 2);
	assert_int_equal(map.pages_4k, 0);
	check_leaf(1 * GiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(1 * GiB + 4 * MiB - 1, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_unmapped(1 * GiB + 4 * MiB);
}

static void large_pages_only_where_allowed(void **state)
{
	(void)state;
	map.large_pages = VM_PAGES_2M;
	assert_true(identity_map_range(&map, 1 * GiB));
	assert_int_equal(map.pages_1g, 0);
	assert_int_equal(map.pages_2m, 512);
	assert_int_equal(map.pages_4k, 0);
	check_leaf(0, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(1 * GiB - 1, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	ept_destroy(&ept);

	assert_true(ept_init(&ept));
	map.pages_4k = map.pages_2m = map.pages_1g = 0;
	map.large_pages = 0;
	assert_true(identity_map_range(&map, 4 * MiB));
	assert_int_equal(map.pages_1g, 0);
	assert_int_equal(map.pages_2m, 0);
	assert_int_equal(map.pages_4k, 1024);
	check_leaf(0, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(0x3FF000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_unmapped(4 * MiB);
}

static void mtrr_types_split_blocks_and_land_in_the_leaves(void **state)
{
	(void)state;
	/* Default WB; a UC 2 MiB at 4 MiB; a UC page at 8 MiB + 4 KiB; WT over
	 * [1 GiB, 2 GiB); fixed ranges: VGA UC, BIOS WP. */
	map_mtrrs.def_type = E_ON | FE_ON | MEMTYPE_WB;
	set_fixed(&map_mtrrs, 0xA0000, MEMTYPE_UC);
	set_fixed(&map_mtrrs, 0xF0000, MEMTYPE_WP);
	set_variable(&map_mtrrs, 0, 4 * MiB, 2 * MiB, MEMTYPE_UC);
	set_variable(&map_mtrrs, 1, 8 * MiB + 4 * KiB, 4 * KiB, MEMTYPE_UC);
	set_variable(&map_mtrrs, 2, 1 * GiB, 1 * GiB, MEMTYPE_WT);

	assert_true(identity_map_range(&map, 2 * GiB));
	/* [1 GiB, 2 GiB) is one WT leaf. */
	check_leaf(1 * GiB, 1 * GiB, EPT_RWX, MEMTYPE_WT);
	assert_int_equal(map.pages_1g, 1);
	/* The first GiB is split: the blocks at 0 and 8 MiB into 4 KiB pages,
	 * the other 510 into 2 MiB leaves (the one at 4 MiB UC). */
	assert_int_equal(map.pages_2m, 510);
	assert_int_equal(map.pages_4k, 1024);
	check_leaf(0x0, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(0xA0000, 4 * KiB, EPT_RWX, MEMTYPE_UC);
	check_leaf(0xA4000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(0xF0000, 4 * KiB, EPT_RWX, MEMTYPE_WP);
	check_leaf(0xF1000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(0x100000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(2 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(4 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_UC);
	check_leaf(6 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(8 * MiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(8 * MiB + 4 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_UC);
	check_leaf(8 * MiB + 8 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(10 * MiB - 4 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(10 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(1 * GiB - 1, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	/* Every page of the first GiB maps to itself. */
	for (uint64_t a = 0; a < 1 * GiB; a += 4 * KiB)
		if (ept_translate(&ept, a + 0x123, NULL) != a + 0x123)
			fail_msg("0x%llx is not mapped to itself", (unsigned long long)a);
}

static void mtrrs_off_map_everything_uc(void **state)
{
	(void)state;
	map_mtrrs.def_type = MEMTYPE_WB; /* E clear */
	assert_true(identity_map_range(&map, 1 * GiB));
	assert_int_equal(map.pages_1g, 1);
	check_leaf(0x1000, 1 * GiB, EPT_RWX, MEMTYPE_UC);
}

static const struct phys_range protected_ranges[] = {
	{ 3 * MiB, 3 * MiB + 8 * KiB },        /* two pages */
	{ 1 * GiB + 2 * MiB, 1 * GiB + 4 * MiB }, /* a whole 2 MiB block */
};

static void protected_pages_are_read_only_4kib_leaves(void **state)
{
	(void)state;
	map.protect = protected_ranges;
	map.protect_count = 2;
	set_variable(&map_mtrrs, 0, 3 * MiB, 1 * MiB, MEMTYPE_WT);

	assert_true(identity_map_range(&map, 2 * GiB));
	/* Neither GiB is one leaf; the blocks holding protected pages are 4 KiB
	 * pages, the rest 2 MiB leaves. */
	assert_int_equal(map.pages_1g, 0);
	assert_int_equal(map.pages_4k, 1024);
	assert_int_equal(map.pages_2m, 1024 - 2);
	check_leaf(3 * MiB - 4 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(3 * MiB, 4 * KiB, EPT_READ, MEMTYPE_WT);
	check_leaf(3 * MiB + 4 * KiB, 4 * KiB, EPT_READ, MEMTYPE_WT);
	check_leaf(3 * MiB + 8 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WT);
	check_leaf(2 * MiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(4 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(1 * GiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	for (uint64_t a = 1 * GiB + 2 * MiB; a < 1 * GiB + 4 * MiB; a += 4 * KiB)
		check_leaf(a, 4 * KiB, EPT_READ, MEMTYPE_WB);
	check_leaf(1 * GiB + 4 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(IDENTITY_PROTECTED_PERMS, EPT_READ);
}

static void is_protected_uses_half_open_ranges(void **state)
{
	(void)state;
	map.protect = protected_ranges;
	map.protect_count = 2;
	assert_false(identity_map_is_protected(&map, 3 * MiB - 1));
	assert_true(identity_map_is_protected(&map, 3 * MiB));
	assert_true(identity_map_is_protected(&map, 3 * MiB + 8 * KiB - 1));
	assert_false(identity_map_is_protected(&map, 3 * MiB + 8 * KiB));
	assert_true(identity_map_is_protected(&map, 1 * GiB + 3 * MiB));
	assert_false(identity_map_is_protected(&map, 1 * GiB + 4 * MiB));
	assert_false(identity_map_is_protected(&map, 0));
	map.protect_count = 1;
	assert_false(identity_map_is_protected(&map, 1 * GiB + 3 * MiB));
	map.protect_count = 0;
	assert_false(identity_map_is_protected(&map, 3 * MiB));
}

static void on_demand_maps_a_2mib_block(void **state)
{
	(void)state;
	assert_true(identity_map_range(&map, 4 * MiB));
	check_unmapped(3 * GiB + 0x234567);

	assert_true(identity_map_on_demand(&map, 3 * GiB + 0x234567));
	check_leaf(3 * GiB + 0x234567, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(3 * GiB + 2 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	check_unmapped(3 * GiB + 4 * MiB);
	check_unmapped(3 * GiB + 2 * MiB - 1);
	assert_int_equal(map.pages_2m, 3);

	/* Asking again (another CPU got there first) maps nothing new. */
	unsigned tables = ept.table_pages;
	assert_true(identity_map_on_demand(&map, 3 * GiB + 3 * MiB));
	assert_int_equal(map.pages_2m, 3);
	assert_int_equal(ept.table_pages, tables);
	assert_true(identity_map_on_demand(&map, 0x1000));
	assert_int_equal(map.pages_2m, 3);
	assert_int_equal(map.pages_4k, 0);
	/* The lock is free again. */
	assert_int_equal(map.lock.locked, 0);
}

static void on_demand_keeps_mtrr_types_and_protection(void **state)
{
	(void)state;
	static const struct phys_range prot[] = { { 5 * GiB + 4 * KiB, 5 * GiB + 8 * KiB } };
	map.protect = prot;
	map.protect_count = 1;
	set_variable(&map_mtrrs, 0, 0xC0000000, 1 * GiB, MEMTYPE_UC);      /* MMIO hole */
	set_variable(&map_mtrrs, 1, 4 * GiB + 12 * KiB, 4 * KiB, MEMTYPE_WC);

	/* A UC 2 MiB block: one UC leaf. */
	assert_true(identity_map_on_demand(&map, 0xFEC00000 + 0x1000));
	check_leaf(0xFEC00000, 2 * MiB, EPT_RWX, MEMTYPE_UC);
	assert_int_equal(map.pages_2m, 1);
	/* Mixed types in one block: 4 KiB pages, each with its own type. */
	assert_true(identity_map_on_demand(&map, 4 * GiB + 0x100000));
	check_leaf(4 * GiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(4 * GiB + 12 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WC);
	check_leaf(4 * GiB + 0x100000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(4 * GiB + 2 * MiB - 4 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(map.pages_4k, 512);
	/* A protected page in the block: 4 KiB pages, that one read-only. */
	assert_true(identity_map_on_demand(&map, 5 * GiB + 0x1FF000));
	check_leaf(5 * GiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(5 * GiB + 4 * KiB, 4 * KiB, EPT_READ, MEMTYPE_WB);
	check_leaf(5 * GiB + 8 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(5 * GiB + 0x1FF000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(map.pages_4k, 1024);
	assert_int_equal(map.pages_2m, 1);
	check_unmapped(5 * GiB + 2 * MiB);
}

static void on_demand_maps_one_page_next_to_existing_small_pages(void **state)
{
	(void)state;
	/* One page of the block at 6 GiB is mapped already (4 KiB). */
	assert_true(ept_map_4k(&ept, 6 * GiB + 16 * KiB, 6 * GiB + 16 * KiB,
			       EPT_RWX | (MEMTYPE_WB << EPT_MEMTYPE_SHIFT)));
	assert_true(identity_map_on_demand(&map, 6 * GiB + 0x5123));
	check_leaf(6 * GiB + 0x5000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(map.pages_4k, 1);
	assert_int_equal(map.pages_2m, 0);
	check_unmapped(6 * GiB + 0x6000);
	check_unmapped(6 * GiB);
	/* A protected page mapped that way is still read-only. */
	static const struct phys_range prot[] = { { 6 * GiB + 0x7000, 6 * GiB + 0x8000 } };
	map.protect = prot;
	map.protect_count = 1;
	assert_true(identity_map_on_demand(&map, 6 * GiB + 0x7008));
	check_leaf(6 * GiB + 0x7000, 4 * KiB, EPT_READ, MEMTYPE_WB);
	assert_int_equal(map.pages_4k, 2);
}

static void on_demand_refuses_addresses_beyond_the_physical_width(void **state)
{
	(void)state;
	unsigned tables = ept.table_pages;

	/* 39 bits: 512 GiB is one too far. */
	assert_false(identity_map_on_demand(&map, 1ULL << 39));
	assert_false(identity_map_on_demand(&map, (1ULL << 39) + 3 * GiB));
	assert_false(identity_map_on_demand(&map, ~0ULL));
	assert_int_equal(ept.table_pages, tables);
	assert_int_equal(map.pages_2m + map.pages_4k + map.pages_1g, 0);
	/* The last 2 MiB below it is fine. */
	assert_true(identity_map_on_demand(&map, (1ULL << 39) - 1));
	check_leaf((1ULL << 39) - 2 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	/* Width 0 ("unknown") means 36 bits. */
	map_mtrrs.phys_addr_bits = 0;
	assert_false(identity_map_on_demand(&map, 1ULL << 36));
	assert_true(identity_map_on_demand(&map, (1ULL << 36) - 4 * KiB));
	check_leaf((1ULL << 36) - 2 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(map.lock.locked, 0);
}

/*
 * A CPU with MAXPHYADDR 52 under a 4-level EPT (48-bit guest-physical
 * addresses): an address with bits 51:48 set cannot be mapped, and must
 * not alias a lower address.
 */
static void on_demand_refuses_addresses_beyond_the_ept_width(void **state)
{
	(void)state;
	map_mtrrs.phys_addr_bits = 52;
	assert_true(identity_map_range(&map, 2 * MiB));
	bool ok = identity_map_on_demand(&map, (1ULL << 48) + 4 * MiB);
	check_unmapped(4 * MiB);
	assert_false(ok);
}

static void out_of_memory_is_reported(void **state)
{
	(void)state;
	/* The PDPT and the PD for [0, 2 MiB) need pages; none is left. */
	fake_pages_set_limit(0);
	map.large_pages = VM_PAGES_2M;
	assert_false(identity_map_range(&map, 2 * MiB));
	assert_false(identity_map_on_demand(&map, 3 * GiB));
	assert_int_equal(map.lock.locked, 0);
	/* Two table pages: not enough for 4 KiB pages (PDPT, PD, PT). */
	fake_pages_set_limit(2);
	map.large_pages = 0;
	assert_false(identity_map_range(&map, 2 * MiB));
	fake_pages_set_limit(-1);
	/* With memory again, it works and everything is freed by ept_destroy
	 * (checked in the teardown). */
	assert_true(identity_map_range(&map, 2 * MiB));
	check_leaf(0x1FF000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
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
		cmocka_unit_test_setup_teardown(uniform_memory_gets_1gib_leaves, setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(end_below_1gib_boundary_uses_2mib_leaves, setup_map,
						teardown_map),
		cmocka_unit_test_setup_teardown(large_pages_only_where_allowed, setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(mtrr_types_split_blocks_and_land_in_the_leaves,
						setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(mtrrs_off_map_everything_uc, setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(protected_pages_are_read_only_4kib_leaves, setup_map,
						teardown_map),
		cmocka_unit_test_setup_teardown(is_protected_uses_half_open_ranges, setup_map,
						teardown_map),
		cmocka_unit_test_setup_teardown(on_demand_maps_a_2mib_block, setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(on_demand_keeps_mtrr_types_and_protection, setup_map,
						teardown_map),
		cmocka_unit_test_setup_teardown(on_demand_maps_one_page_next_to_existing_small_pages,
						setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(on_demand_refuses_addresses_beyond_the_physical_width,
						setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(on_demand_refuses_addresses_beyond_the_ept_width,
						setup_map, teardown_map),
		cmocka_unit_test_setup_teardown(out_of_memory_is_reported, setup_map, teardown_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
