/*
 * Tests of core/mm/ept.c: the EPT of a VM built on the fake platform maps its
 * RAM and nothing beyond, and the EPT alone maps, translates and refuses 4
 * KiB, 2 MiB and 1 GiB pages, frees all on destroy and fails cleanly out of
 * memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "dev/ports.h"
#include "abi/devices.h"
#include "dev/uart16550.h"
#include "mm/guest_memory.h"
#include "vm/console.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "lib/format.h"
#include "mm/ept.h"
#include "vm/builder.h"
#include "vm/vm.h"
#include "vmx/segment.h"
#include "fixture_vm.h"

#define MiB (1ULL << 20)
#define RAM (2 * MiB)

static struct vm vm;

/* ---- EPT ---- */

static void test_ept_translates_guest_ram_to_its_own_pages(void **state)
{
	(void)state;
	uint64_t perms = 0;
	uint64_t hpa = ept_translate(&vm.ept, 0x1234, &perms);

	assert_int_not_equal(hpa, EPT_NO_MAPPING);
	assert_int_equal(hpa & 0xFFF, 0x234);
	assert_true(fake_page_is_allocated(plat_phys_to_virt(hpa & ~0xFFFULL)));
	assert_int_equal(perms, EPT_RWX);
	assert_int_not_equal(ept_translate(&vm.ept, 0x0, NULL) & ~0xFFFULL,
			     ept_translate(&vm.ept, 0x1000, NULL) & ~0xFFFULL);
}

static void test_ept_does_not_map_beyond_ram(void **state)
{
	(void)state;
	assert_int_equal(ept_translate(&vm.ept, RAM, NULL), EPT_NO_MAPPING);
	assert_int_equal(ept_translate(&vm.ept, 0x40000000, NULL), EPT_NO_MAPPING);
	assert_int_equal(ept_translate(&vm.ept, 1ULL << 48, NULL), EPT_NO_MAPPING);
}

static void test_ept_map_and_translate_one_page(void **state)
{
	(void)state;
	struct ept ept;
	uint64_t perms = 0;

	assert_true(ept_init(&ept));
	assert_int_equal(ept.table_pages, 1);
	assert_true(ept_map_4k(&ept, 0x40000000, 0x12345000, EPT_READ | EPT_MEMTYPE_WB << 3));
	assert_int_equal(ept.table_pages, 4);
	assert_int_equal(ept_translate(&ept, 0x40000678, &perms), 0x12345678);
	assert_int_equal(perms, EPT_READ);
	assert_int_equal(ept_translate(&ept, 0x40001000, NULL), EPT_NO_MAPPING);
	assert_int_equal(ept_translate(&ept, 0x3FFFF000, NULL), EPT_NO_MAPPING);
	/* The same page table serves the neighbour; another GiB needs a PD and a PT. */
	assert_true(ept_map_4k(&ept, 0x40001000, 0x22222000, EPT_RWX));
	assert_int_equal(ept.table_pages, 4);
	assert_true(ept_map_4k(&ept, 0x80000000, 0x33333000, EPT_RWX));
	assert_int_equal(ept.table_pages, 6);
	assert_int_equal(fake_pages_outstanding(), 6);
	ept_destroy(&ept);
	assert_null(ept.pml4);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_ept_translates_and_refuses_to_split_a_2m_page(void **state)
{
	(void)state;
	struct ept ept;

	assert_true(ept_init(&ept));
	assert_true(ept_map_4k(&ept, 0x40000000, 0x12345000, EPT_RWX));
	uint64_t *pdpt = plat_phys_to_virt(ept.pml4[0] & EPT_ADDR_MASK);
	uint64_t *pd = plat_phys_to_virt(pdpt[1] & EPT_ADDR_MASK);
	pd[1] = 0x80200000ULL | EPT_LARGE_PAGE | EPT_READ | EPT_WRITE;

	uint64_t perms = 0;
	assert_int_equal(ept_translate(&ept, 0x40234567, &perms), 0x80234567);
	assert_int_equal(perms, EPT_READ | EPT_WRITE);
	assert_false(ept_map_4k(&ept, 0x40201000, 0x5000, EPT_RWX));
	ept_destroy(&ept); /* must not free the 2 MiB page's "table" */
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_ept_map_out_of_memory_fails_and_destroy_frees_all(void **state)
{
	(void)state;
	struct ept ept;

	assert_true(ept_init(&ept));
	fake_pages_set_limit(1); /* the PDPT, not the PD */
	assert_false(ept_map_4k(&ept, 0x40000000, 0x12345000, EPT_RWX));
	assert_int_equal(ept_translate(&ept, 0x40000000, NULL), EPT_NO_MAPPING);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_ept_maps_1g_and_2m_pages(void **state)
{
	(void)state;
	struct ept ept;
	uint64_t perms = 0;

	assert_true(ept_init(&ept));
	assert_true(ept_map_large(&ept, 1ULL << 30, 0x80000000ULL, 2, EPT_RWX));
	assert_true(ept_map_large(&ept, 0x200000, 0x12200000ULL, 1, EPT_READ));
	assert_int_equal(ept_translate(&ept, (1ULL << 30) + 0x12345678, NULL), 0x92345678ULL);
	assert_int_equal(ept_translate(&ept, 0x3FFFFF, &perms), 0x123FFFFFULL);
	assert_int_equal(perms, EPT_READ);
	assert_int_equal(ept_mapping_size(&ept, (1ULL << 30) + 0x1000), 1ULL << 30);
	assert_int_equal(ept_mapping_size(&ept, 0x200000), 2 * MiB);
	assert_int_equal(ept_mapping_size(&ept, 0x400000), 0);
	assert_int_equal(ept_translate(&ept, 0x1FFFFF, NULL), EPT_NO_MAPPING);
	/* PML4, PDPT and one PD: a 1 GiB page needs no PD, a 2 MiB page no PT. */
	assert_int_equal(ept.table_pages, 3);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_ept_refuses_misaligned_or_taken_large_pages(void **state)
{
	(void)state;
	struct ept ept;

	assert_true(ept_init(&ept));
	assert_false(ept_map_large(&ept, 0x201000, 0x400000, 1, EPT_RWX)); /* gpa */
	assert_false(ept_map_large(&ept, 0x200000, 0x401000, 1, EPT_RWX)); /* hpa */
	assert_false(ept_map_large(&ept, 0x200000, 0x400000, 3, EPT_RWX)); /* 512 GiB */
	assert_false(ept_map_large(&ept, 0x200000, 0x400000, 0, EPT_RWX));
	assert_true(ept_map_4k(&ept, 0x201000, 0x5000, EPT_RWX));
	/* A page table already covers the 2 MiB range. */
	assert_false(ept_map_large(&ept, 0x200000, 0x400000, 1, EPT_RWX));
	assert_int_equal(ept_translate(&ept, 0x201000, NULL), 0x5000);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

/* ---- Splitting and merging (vm/protect.c narrows pages inside large ones) ---- */

static void test_ept_set_permissions_of_any_leaf(void **state)
{
	(void)state;
	struct ept ept;
	uint64_t perms = 0;

	assert_true(ept_init(&ept));
	assert_true(ept_map_4k(&ept, 0x5000, 0x9000, EPT_RWX | EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT));
	assert_true(ept_map_large(&ept, 0x200000, 0x600000, 1, EPT_RWX));
	assert_int_equal(ept_set_permissions(&ept, 0x5123, EPT_READ), 0x1000);
	assert_int_equal(ept_translate(&ept, 0x5123, &perms), 0x9123);
	assert_int_equal(perms, EPT_READ);
	/* The memory type stays. */
	uint64_t *pdpt = plat_phys_to_virt(ept.pml4[0] & EPT_ADDR_MASK);
	uint64_t *pd = plat_phys_to_virt(pdpt[0] & EPT_ADDR_MASK);
	uint64_t *pt = plat_phys_to_virt(pd[0] & EPT_ADDR_MASK);
	assert_int_equal(pt[5], 0x9000 | EPT_READ | EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT);
	assert_int_equal(ept_set_permissions(&ept, 0x234567, EPT_READ | EPT_EXECUTE), 2 * MiB);
	ept_translate(&ept, 0x200000, &perms);
	assert_int_equal(perms, EPT_READ | EPT_EXECUTE);
	/* Not mapped, or no permission at all (the entry would vanish). */
	assert_int_equal(ept_set_permissions(&ept, 0x7000, EPT_READ), 0);
	assert_int_equal(ept_set_permissions(&ept, 0x5000, 0), 0);
	ept_translate(&ept, 0x5000, &perms);
	assert_int_equal(perms, EPT_READ);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_ept_splits_a_2m_page_into_4k_pages_of_the_same_memory(void **state)
{
	(void)state;
	struct ept ept;
	uint64_t perms = 0;

	assert_true(ept_init(&ept));
	assert_true(ept_map_large(&ept, 0x200000, 0x600000, 1,
				  EPT_READ | EPT_EXECUTE | EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT));
	unsigned tables = ept.table_pages;
	assert_false(ept_split_large(&ept, 0x400000)); /* not mapped */
	assert_true(ept_split_large(&ept, 0x234567));
	assert_int_equal(ept.table_pages, tables + 1);
	for (uint64_t gpa = 0x200000; gpa < 0x400000; gpa += 0x1000) {
		assert_int_equal(ept_mapping_size(&ept, gpa), 0x1000);
		assert_int_equal(ept_translate(&ept, gpa + 0x12, &perms), 0x400000 + gpa + 0x12);
		assert_int_equal(perms, EPT_READ | EPT_EXECUTE);
	}
	assert_false(ept_split_large(&ept, 0x234567)); /* 4 KiB pages do not split */
	/* One page changes alone now. */
	assert_int_equal(ept_set_permissions(&ept, 0x235000, EPT_READ), 0x1000);
	ept_translate(&ept, 0x236000, &perms);
	assert_int_equal(perms, EPT_READ | EPT_EXECUTE);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_ept_splits_a_1g_page_down_to_4k_and_merges_it_back(void **state)
{
	(void)state;
	struct ept ept;
	uint64_t perms = 0;

	assert_true(ept_init(&ept));
	assert_true(ept_map_large(&ept, 1ULL << 30, 0x80000000ULL, 2, EPT_RWX));
	unsigned tables = ept.table_pages;
	assert_true(ept_split_large(&ept, (1ULL << 30) + 0x345000));
	assert_int_equal(ept_mapping_size(&ept, (1ULL << 30) + 0x345000), 2 * MiB);
	assert_int_equal(ept_mapping_size(&ept, (2ULL << 30) - 1), 2 * MiB);
	assert_true(ept_split_large(&ept, (1ULL << 30) + 0x345000));
	assert_int_equal(ept_mapping_size(&ept, (1ULL << 30) + 0x345000), 0x1000);
	assert_int_equal(ept.table_pages, tables + 2);
	assert_int_equal(ept_translate(&ept, (1ULL << 30) + 0x345678, NULL), 0x80345678ULL);
	ept_set_permissions(&ept, (1ULL << 30) + 0x345000, EPT_READ);

	ept_merge_splits(&ept);
	assert_int_equal(ept.table_pages, tables);
	assert_int_equal(ept_mapping_size(&ept, (1ULL << 30) + 0x345000), 1ULL << 30);
	assert_int_equal(ept_translate(&ept, (1ULL << 30) + 0x345678, &perms), 0x80345678ULL);
	/* The first piece's permissions (what vm/protect.c restored first). */
	assert_int_equal(perms, EPT_RWX);
	uint64_t *pdpt = plat_phys_to_virt(ept.pml4[0] & EPT_ADDR_MASK);
	assert_int_equal(pdpt[1], 0x80000000ULL | EPT_RWX | EPT_LARGE_PAGE);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

/* Only tables that ept_split_large made merge: 4 KiB pages that happen to
 * be contiguous (a VM built from single pages) stay as they are. */
static void test_ept_merges_only_what_it_split(void **state)
{
	(void)state;
	struct ept ept;

	assert_true(ept_init(&ept));
	for (uint64_t i = 0; i < 512; i++)
		assert_true(ept_map_4k(&ept, 0x200000 + i * 0x1000, 0x600000 + i * 0x1000, EPT_RWX));
	assert_true(ept_map_large(&ept, 0x400000, 0x800000, 1, EPT_RWX));
	assert_true(ept_split_large(&ept, 0x400000));
	unsigned tables = ept.table_pages;
	ept_merge_splits(&ept);
	assert_int_equal(ept.table_pages, tables - 1);
	assert_int_equal(ept_mapping_size(&ept, 0x200000), 0x1000);
	assert_int_equal(ept_mapping_size(&ept, 0x400000), 2 * MiB);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_ept_split_out_of_memory_changes_nothing(void **state)
{
	(void)state;
	struct ept ept;

	assert_true(ept_init(&ept));
	assert_true(ept_map_large(&ept, 0x200000, 0x600000, 1, EPT_RWX));
	fake_pages_set_limit(0);
	assert_false(ept_split_large(&ept, 0x200000));
	fake_pages_set_limit(-1);
	assert_int_equal(ept_mapping_size(&ept, 0x200000), 2 * MiB);
	ept_destroy(&ept);
	assert_int_equal(fake_pages_outstanding(), 0);
}

#define L(f) cmocka_unit_test_setup(f, fixture_setup_plain)
#define V(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_con, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		V(test_ept_translates_guest_ram_to_its_own_pages),
		V(test_ept_does_not_map_beyond_ram),
		L(test_ept_map_and_translate_one_page),
		L(test_ept_translates_and_refuses_to_split_a_2m_page),
		L(test_ept_map_out_of_memory_fails_and_destroy_frees_all),
		L(test_ept_maps_1g_and_2m_pages),
		L(test_ept_refuses_misaligned_or_taken_large_pages),
		L(test_ept_set_permissions_of_any_leaf),
		L(test_ept_splits_a_2m_page_into_4k_pages_of_the_same_memory),
		L(test_ept_splits_a_1g_page_down_to_4k_and_merges_it_back),
		L(test_ept_merges_only_what_it_split),
		L(test_ept_split_out_of_memory_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
