/*
 * Tests of core/mm/guest_memory.c: guest_read, guest_write and guest_zero on a
 * VM built on the fake platform: page boundaries, the end of RAM, overflowing
 * ranges and empty accesses; writes to pages mapped read-only (plat_write_phys);
 * guest_read_entry's aligned entries.
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

/* ---- Guest memory ---- */

static void test_guest_write_read_across_a_page_boundary(void **state)
{
	(void)state;
	char out[9] = { 0 };

	assert_true(guest_write(&vm, 0x1FFC, "ABCDEFGH", 8));
	assert_true(guest_read(&vm, 0x1FFC, out, 8));
	assert_string_equal(out, "ABCDEFGH");
	/* The two halves live in two separate host pages. */
	uint64_t first = ept_translate(&vm.ept, 0x1FFC, NULL);
	uint64_t second = ept_translate(&vm.ept, 0x2000, NULL);
	assert_int_not_equal(first + 4, second);
	assert_memory_equal(plat_phys_to_virt(first), "ABCD", 4);
	assert_memory_equal(plat_phys_to_virt(second), "EFGH", 4);
}

/*
 * The hosted OS's kernel text is read-only in the mapping plat_phys_to_virt
 * gives cvisor.ko (Linux's direct map), and a `log` write of it is emulated
 * there: guest_write and guest_zero write through plat_write_phys, a page
 * at a time, never through that mapping (which would fault: here, crash).
 */
static void test_guest_write_and_zero_reach_pages_mapped_read_only(void **state)
{
	(void)state;
	char out[9] = { 0 };
	uint64_t first = ept_translate(&vm.ept, 0x3000, NULL) & PAGE_MASK;
	uint64_t second = ept_translate(&vm.ept, 0x4000, NULL) & PAGE_MASK;

	fake_phys_set_read_only(first);
	fake_phys_set_read_only(second);
	fake_phys_writes = 0;
	assert_true(guest_write(&vm, 0x3FFC, "ABCDEFGH", 8));
	assert_int_equal(fake_phys_writes, 2); /* one per page */
	assert_true(guest_read(&vm, 0x3FFC, out, 8));
	assert_string_equal(out, "ABCDEFGH");
	assert_memory_equal(plat_phys_to_virt(first + 0xFFC), "ABCD", 4);
	assert_memory_equal(plat_phys_to_virt(second), "EFGH", 4);

	assert_true(guest_zero(&vm, 0x3FFE, 4));
	assert_int_equal(fake_phys_writes, 4);
	assert_true(guest_read(&vm, 0x3FFC, out, 8));
	assert_memory_equal(out, ((char[]){ 'A', 'B', 0, 0, 0, 0, 'G', 'H' }), 8);
}

static void test_guest_access_of_the_last_byte_is_allowed(void **state)
{
	(void)state;
	uint8_t b = 0x5A, r = 0;

	assert_true(guest_is_ram(&vm, RAM - 1, 1));
	assert_true(guest_write(&vm, RAM - 1, &b, 1));
	assert_true(guest_read(&vm, RAM - 1, &r, 1));
	assert_int_equal(r, 0x5A);
}

static void test_guest_access_past_the_end_copies_nothing(void **state)
{
	(void)state;
	uint8_t before[2] = { 1, 2 }, out[4] = { 9, 9, 9, 9 }, now[2];

	assert_true(guest_write(&vm, RAM - 2, before, 2));
	assert_false(guest_is_ram(&vm, RAM - 2, 4));
	assert_false(guest_write(&vm, RAM - 2, "wxyz", 4));
	assert_false(guest_zero(&vm, RAM - 2, 4));
	assert_true(guest_read(&vm, RAM - 2, now, 2));
	assert_memory_equal(now, before, 2);
	assert_false(guest_read(&vm, RAM - 2, out, 4));
	assert_memory_equal(out, ((uint8_t[]){ 9, 9, 9, 9 }), 4);
}

static void test_guest_access_beyond_ram_fails(void **state)
{
	(void)state;
	uint8_t b;

	assert_false(guest_is_ram(&vm, RAM, 1));
	assert_false(guest_read(&vm, RAM, &b, 1));
	assert_false(guest_is_ram(&vm, 0xFEE00000ULL, 4));
	assert_false(guest_is_ram(&vm, 1ULL << 48, 1));
}

static void test_guest_access_with_overflowing_end_fails(void **state)
{
	(void)state;
	uint8_t b[4];

	assert_false(guest_is_ram(&vm, UINT64_MAX - 1, 4));
	assert_false(guest_read(&vm, UINT64_MAX - 1, b, 4));
	assert_false(guest_is_ram(&vm, 0x1000, SIZE_MAX));
	assert_false(guest_is_ram(&vm, 0x1000, SIZE_MAX - 0xFFF));
}

static void test_guest_access_of_zero_bytes_is_allowed(void **state)
{
	(void)state;
	uint8_t b = 7;

	assert_true(guest_is_ram(&vm, 0x1000, 0));
	assert_true(guest_read(&vm, 0x1000, &b, 0));
	assert_int_equal(b, 7);
	assert_true(guest_write(&vm, RAM - 1, &b, 0));
	/* An empty range holds no byte outside RAM, wherever it starts. */
	assert_true(guest_is_ram(&vm, RAM + 0x1000, 0));
}

static void test_guest_zero_clears_the_range_only(void **state)
{
	(void)state;
	uint8_t buf[0x2000];

	memset(buf, 0xCC, sizeof(buf));
	assert_true(guest_write(&vm, 0x3000, buf, sizeof(buf)));
	assert_true(guest_zero(&vm, 0x3FFE, 4));
	assert_true(guest_read(&vm, 0x3000, buf, sizeof(buf)));
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (i >= 0xFFE && i < 0x1002) ? 0 : 0xCC);
}
/* guest_read_entry: a guest paging-structure entry in one load. */
static void test_guest_read_entry_reads_whole_aligned_entries(void **state)
{
	(void)state;
	uint64_t v = 1;

	assert_true(guest_write(&vm, 0x5008, "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
	assert_true(guest_read_entry(&vm, 0x5008, 8, &v));
	assert_int_equal(v, 0x0807060504030201ULL);
	assert_true(guest_read_entry(&vm, 0x500C, 4, &v));
	assert_int_equal(v, 0x08070605ULL); /* zero-extended */
	assert_true(guest_read_entry(&vm, RAM - 8, 8, &v));
}

static void test_guest_read_entry_refuses_what_is_not_an_aligned_ram_entry(void **state)
{
	(void)state;
	uint64_t v = 1;

	assert_false(guest_read_entry(&vm, 0x5004, 8, &v)); /* misaligned */
	assert_int_equal(v, 0);
	assert_false(guest_read_entry(&vm, 0x5002, 4, &v));
	assert_false(guest_read_entry(&vm, 0x5000, 2, &v)); /* not an entry size */
	assert_false(guest_read_entry(&vm, RAM, 8, &v));
	assert_false(guest_read_entry(&vm, 0xFEE00000ULL, 4, &v));
	assert_false(guest_read_entry(&vm, UINT64_MAX - 7, 8, &v));
}

/* A read inside one page takes the one-lookup path; it copies the same
 * bytes, and nothing when the range leaves RAM. */
static void test_guest_read_within_a_page_copies_the_bytes(void **state)
{
	(void)state;
	char out[16] = { 0 };

	assert_true(guest_write(&vm, 0x6FF1, "0123456789ABCDE", 15));
	assert_true(guest_read(&vm, 0x6FF1, out, 15));
	assert_string_equal(out, "0123456789ABCDE");
}

#define V(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_con, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		V(test_guest_write_read_across_a_page_boundary),
		V(test_guest_write_and_zero_reach_pages_mapped_read_only),
		V(test_guest_access_of_the_last_byte_is_allowed),
		V(test_guest_access_past_the_end_copies_nothing),
		V(test_guest_access_beyond_ram_fails),
		V(test_guest_access_with_overflowing_end_fails),
		V(test_guest_access_of_zero_bytes_is_allowed),
		V(test_guest_zero_clears_the_range_only),
		V(test_guest_read_entry_reads_whole_aligned_entries),
		V(test_guest_read_entry_refuses_what_is_not_an_aligned_ram_entry),
		V(test_guest_read_within_a_page_copies_the_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
