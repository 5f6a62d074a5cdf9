/*
 * Tests of core/mm/identity_map.c: the identity EPT built from the MTRRs
 * (core/mm/mtrr.c): the leaves it picks, protected pages, on-demand mapping,
 * the physical and EPT address widths, and running out of memory.
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
#include "abi/hypercall.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "fixture_mtrr.h"

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

/* Pages of the VM's protected ranges get their range's permissions when
 * they are mapped on demand; the block around them is split. */
static void on_demand_gives_protected_ranges_their_permissions(void **state)
{
	(void)state;
	static struct vm owner;
	memset(&owner, 0, sizeof(owner));
	owner.protect.ranges[0] = (struct protect_range){ .start = 7 * GiB + 8 * KiB,
							  .end = 7 * GiB + 16 * KiB,
							  .perms = EPT_READ | EPT_EXECUTE,
							  .policy = HC_POLICY_LOG };
	owner.protect.ranges[1] = (struct protect_range){ .start = 7 * GiB + 16 * KiB,
							  .end = 7 * GiB + 20 * KiB,
							  .perms = EPT_READ, .policy = HC_POLICY_DENY };
	owner.protect.range_count = 2;
	map.vm = &owner;

	assert_true(identity_map_on_demand(&map, 7 * GiB + 0x100000));
	check_leaf(7 * GiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(7 * GiB + 8 * KiB, 4 * KiB, EPT_READ | EPT_EXECUTE, MEMTYPE_WB);
	check_leaf(7 * GiB + 12 * KiB, 4 * KiB, EPT_READ | EPT_EXECUTE, MEMTYPE_WB);
	check_leaf(7 * GiB + 16 * KiB, 4 * KiB, EPT_READ, MEMTYPE_WB);
	check_leaf(7 * GiB + 20 * KiB, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	check_leaf(7 * GiB + 0x100000, 4 * KiB, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(map.pages_4k, 512);
	assert_int_equal(map.pages_2m, 0);
	/* A block no range meets is still one leaf. */
	assert_true(identity_map_on_demand(&map, 7 * GiB + 2 * MiB));
	check_leaf(7 * GiB + 2 * MiB, 2 * MiB, EPT_RWX, MEMTYPE_WB);
	map.vm = NULL;
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
		cmocka_unit_test_setup_teardown(on_demand_gives_protected_ranges_their_permissions,
						setup_map, teardown_map),
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
