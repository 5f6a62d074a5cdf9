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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
