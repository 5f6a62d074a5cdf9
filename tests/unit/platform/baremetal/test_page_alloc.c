/*
 * Host unit tests of the bare-metal page allocator (platform/baremetal/
 * page_alloc.c), which is pure logic.  Build and run:
 *   gcc -std=c11 -Wall -Wextra -Werror -Icore -Iplatform/baremetal \
 *       tests/unit/platform/baremetal/test_page_alloc.c platform/baremetal/page_alloc.c \
 *       -lcmocka -o /tmp/t && /tmp/t
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "page_alloc.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define PG PAGE_ALLOC_PAGE_SIZE

/* Allocates everything; checks each page against [lo, hi) and the reserved
 * ranges; returns how many pages came out. */
static uint64_t drain(uint64_t lo, uint64_t hi, const struct mem_range *res,
		      unsigned nres)
{
	uint64_t n = 0, pa, prev = 0;

	while ((pa = page_alloc_phys()) != 0) {
		assert_int_equal(pa % PG, 0);
		assert_true(pa >= lo);
		assert_true(pa + PG <= hi);
		assert_true(pa > prev);	/* never the same page twice */
		for (unsigned i = 0; i < nres; i++)
			assert_true(pa + PG <= res[i].start || pa >= res[i].end);
		prev = pa;
		n++;
	}
	assert_int_equal(page_alloc_free_count(), 0);
	return n;
}

static void test_first_mib_refused(void **state)
{
	(void)state;
	struct mem_range ram[] = { { 0, 2 * MiB } };

	page_alloc_init(ram, 1, NULL, 0);
	assert_int_equal(page_alloc_usable_count(), 256);
	assert_int_equal(page_alloc_phys(), 1 * MiB);
	assert_int_equal(drain(1 * MiB + PG, 2 * MiB, NULL, 0), 255);

	/* Pages in the first MiB were never allocatable: frees are refused. */
	assert_false(page_alloc_free_phys(0));
	assert_false(page_alloc_free_phys(0x1000));
	assert_false(page_alloc_free_phys(0x9F000));
	assert_false(page_alloc_free_phys(1 * MiB - PG));
	assert_int_equal(page_alloc_refused_count(), 4);
	assert_int_equal(page_alloc_free_count(), 0);
	assert_int_equal(page_alloc_phys(), 0);
}

static void test_non_ram_refused(void **state)
{
	(void)state;
	/* A hole at [2 MiB, 3 MiB), as a non-type-1 memory-map range would
	 * leave, and RAM only up to 4 MiB. */
	struct mem_range ram[] = { { 3 * MiB, 4 * MiB }, { 1 * MiB, 2 * MiB } };

	page_alloc_init(ram, 2, NULL, 0);
	assert_int_equal(page_alloc_usable_count(), 512);
	for (uint64_t pa; (pa = page_alloc_phys()) != 0;)
		assert_true((pa >= 1 * MiB && pa < 2 * MiB) ||
			    (pa >= 3 * MiB && pa < 4 * MiB));

	assert_false(page_alloc_free_phys(2 * MiB));
	assert_false(page_alloc_free_phys(3 * MiB - PG));
	assert_false(page_alloc_free_phys(4 * MiB));
	assert_false(page_alloc_free_phys(5 * GiB));
	assert_false(page_alloc_free_phys(1 * MiB + 8));	/* not aligned */
	assert_int_equal(page_alloc_refused_count(), 5);
	assert_int_equal(page_alloc_free_count(), 0);

	/* A real allocated page frees fine. */
	assert_true(page_alloc_free_phys(3 * MiB));
	assert_int_equal(page_alloc_free_count(), 1);
}

static void test_reserved_ranges_refused(void **state)
{
	(void)state;
	struct mem_range ram[] = { { 0, 16 * MiB } };
	struct mem_range res[] = {
		{ 1 * MiB, 1 * MiB + 0x5123 },		/* kernel: 6 pages */
		{ 8 * MiB + 0x10, 9 * MiB - 0x10 },	/* module: 256 pages */
		{ 4 * MiB + 0x800, 4 * MiB + 0x900 },	/* MB2 info: 1 page */
		{ 10 * MiB, 10 * MiB },			/* empty: nothing */
	};

	page_alloc_init(ram, 1, res, 4);
	assert_int_equal(page_alloc_usable_count(), 15 * 256 - 6 - 256 - 1);
	assert_int_equal(page_alloc_phys(), 1 * MiB + 6 * PG);
	drain(1 * MiB, 16 * MiB, res, 3);

	assert_false(page_alloc_free_phys(1 * MiB));
	assert_false(page_alloc_free_phys(1 * MiB + 5 * PG));
	assert_false(page_alloc_free_phys(8 * MiB));
	assert_false(page_alloc_free_phys(9 * MiB - PG));
	assert_false(page_alloc_free_phys(4 * MiB));
	assert_int_equal(page_alloc_refused_count(), 5);
	/* Just outside the reserved ranges is ordinary RAM. */
	assert_true(page_alloc_free_phys(9 * MiB));
	assert_true(page_alloc_free_phys(8 * MiB - PG));
	assert_true(page_alloc_free_phys(10 * MiB));
}

static void test_partial_pages_at_range_edges(void **state)
{
	(void)state;
	struct mem_range ram[] = {
		{ 1 * MiB + 0x800, 1 * MiB + 0x3800 },	/* 2 whole pages */
		{ 2 * MiB + 0x10, 2 * MiB + 0xFF0 },	/* no whole page */
	};

	page_alloc_init(ram, 2, NULL, 0);
	assert_int_equal(page_alloc_usable_count(), 2);
	assert_int_equal(page_alloc_phys(), 1 * MiB + 0x1000);
	assert_int_equal(page_alloc_phys(), 1 * MiB + 0x2000);
	assert_int_equal(page_alloc_phys(), 0);
	assert_false(page_alloc_free_phys(1 * MiB));
	assert_false(page_alloc_free_phys(1 * MiB + 0x3000));
	assert_false(page_alloc_free_phys(2 * MiB));
}

static void test_exhaustion_returns_zero(void **state)
{
	(void)state;
	struct mem_range ram[] = { { 1 * MiB, 1 * MiB + 100 * PG } };

	page_alloc_init(ram, 1, NULL, 0);
	assert_int_equal(drain(1 * MiB, 1 * MiB + 100 * PG, NULL, 0), 100);
	assert_int_equal(page_alloc_phys(), 0);
	assert_int_equal(page_alloc_phys(), 0);
	assert_int_equal(page_alloc_contig(1, PG), 0);
}

static void test_free_then_realloc(void **state)
{
	(void)state;
	struct mem_range ram[] = { { 1 * MiB, 2 * MiB } };
	uint64_t a, b, c;

	page_alloc_init(ram, 1, NULL, 0);
	a = page_alloc_phys();
	b = page_alloc_phys();
	c = page_alloc_phys();
	assert_int_equal(page_alloc_free_count(), 253);
	assert_true(page_alloc_free_phys(b));
	assert_int_equal(page_alloc_free_count(), 254);
	assert_int_equal(page_alloc_phys(), b);	/* lowest free page first */
	assert_true(page_alloc_free_phys(a));
	assert_true(page_alloc_free_phys(c));
	assert_true(page_alloc_free_phys(b));
	assert_int_equal(page_alloc_free_count(), 256);
	assert_int_equal(page_alloc_refused_count(), 0);

	/* After exhaustion, a freed page is the one next handed out. */
	drain(1 * MiB, 2 * MiB, NULL, 0);
	assert_true(page_alloc_free_phys(1 * MiB + 77 * PG));
	assert_int_equal(page_alloc_phys(), 1 * MiB + 77 * PG);
	assert_int_equal(page_alloc_phys(), 0);
}

static void test_double_free_ignored(void **state)
{
	(void)state;
	struct mem_range ram[] = { { 1 * MiB, 2 * MiB } };
	uint64_t a;

	page_alloc_init(ram, 1, NULL, 0);
	a = page_alloc_phys();
	assert_true(page_alloc_free_phys(a));
	assert_false(page_alloc_free_phys(a));
	assert_int_equal(page_alloc_refused_count(), 1);
	assert_int_equal(page_alloc_free_count(), 256);
	/* Freeing a never-allocated free page is a double free too. */
	assert_false(page_alloc_free_phys(1 * MiB + 9 * PG));
	assert_int_equal(page_alloc_refused_count(), 2);
	/* Every page still comes out exactly once. */
	assert_int_equal(drain(1 * MiB, 2 * MiB, NULL, 0), 256);
}

static void test_above_4gib_ignored(void **state)
{
	(void)state;
	struct mem_range ram[] = {
		{ 4 * GiB - 2 * PG, 4 * GiB + 1 * MiB },	/* straddles 4 GiB */
		{ 6 * GiB, 8 * GiB },
		{ 1 * MiB, UINT64_MAX },			/* clipped, overlaps */
	};

	page_alloc_init(ram, 2, NULL, 0);
	assert_int_equal(page_alloc_usable_count(), 2);
	assert_int_equal(page_alloc_phys(), 4 * GiB - 2 * PG);
	assert_int_equal(page_alloc_phys(), 4 * GiB - PG);
	assert_int_equal(page_alloc_phys(), 0);
	assert_false(page_alloc_free_phys(4 * GiB));
	assert_false(page_alloc_free_phys(6 * GiB));

	page_alloc_init(ram, 3, NULL, 0);
	assert_int_equal(page_alloc_usable_count(), (4 * GiB - 1 * MiB) / PG);
}

static void test_overlapping_ram_counted_once(void **state)
{
	(void)state;
	struct mem_range ram[] = { { 1 * MiB, 3 * MiB }, { 2 * MiB, 4 * MiB } };

	page_alloc_init(ram, 2, NULL, 0);
	assert_int_equal(page_alloc_usable_count(), 3 * 256);
	assert_int_equal(drain(1 * MiB, 4 * MiB, NULL, 0), 3 * 256);
}

static void test_contig_alignment(void **state)
{
	(void)state;
	struct mem_range ram[] = { { 1 * MiB, 8 * MiB } };
	struct mem_range res[] = { { 2 * MiB + 5 * PG, 2 * MiB + 6 * PG } };
	uint64_t a, b;

	page_alloc_init(ram, 1, res, 1);
	/* 512 pages 2 MiB-aligned: [2,4) MiB has a hole, so 4 MiB. */
	a = page_alloc_contig(512, 2 * MiB);
	assert_int_equal(a, 4 * MiB);
	assert_int_equal(page_alloc_free_count(), 7 * 256 - 1 - 512);
	/* 3 pages at 16 KiB alignment come from the lowest fitting spot. */
	b = page_alloc_contig(3, 16 * KiB);
	assert_int_equal(b, 1 * MiB);
	assert_int_equal(page_alloc_phys(), 1 * MiB + 3 * PG);
	/* Bad arguments. */
	assert_int_equal(page_alloc_contig(0, PG), 0);
	assert_int_equal(page_alloc_contig(1, 3 * PG), 0);
	assert_int_equal(page_alloc_contig(1, 2048), 0);
	assert_int_equal(page_alloc_contig(4 * 256, PG), 0);	/* no 4 MiB run */
	/* Contiguous pages free one by one. */
	for (uint64_t i = 0; i < 512; i++)
		assert_true(page_alloc_free_phys(a + i * PG));
	assert_int_equal(page_alloc_contig(512, 2 * MiB), 4 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_mib_refused),
		cmocka_unit_test(test_non_ram_refused),
		cmocka_unit_test(test_reserved_ranges_refused),
		cmocka_unit_test(test_partial_pages_at_range_edges),
		cmocka_unit_test(test_exhaustion_returns_zero),
		cmocka_unit_test(test_free_then_realloc),
		cmocka_unit_test(test_double_free_ignored),
		cmocka_unit_test(test_above_4gib_ignored),
		cmocka_unit_test(test_overlapping_ram_counted_once),
		cmocka_unit_test(test_contig_alignment),
	};
	return cmocka_run_group_tests_name("page_alloc", tests, NULL, NULL);
}
