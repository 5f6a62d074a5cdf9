/*
 * The core's plumbing: formatting (core/lib/format.c), guest memory and EPT
 * (core/vm/vm.c, core/mm/ept.c), descriptors (core/vmx/segment.c), the VM
 * console (core/vm/console.c), the 16550 UART (core/dev/uart16550.c)
 * and port dispatch (core/dev/ports.c).
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

#define MiB (1ULL << 20)
#define RAM (2 * MiB)

static struct vm vm;

static int setup_plain(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	return 0;
}

static int setup_vm(void **state)
{
	setup_plain(state);
	const struct vm_config config = { .id = 1, .name = "con", .ram_size = RAM, .vcpu_count = 1 };
	const char *err = vm_build(&vm, &config);
	if (err)
		fail_msg("vm_build: %s", err);
	return 0;
}

static int teardown_vm(void **state)
{
	(void)state;
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

/* ---- fmt_snprintf ---- */

/* Formats into a buffer; the result must fit. */
#define FMT(...)                                                              \
	({                                                                    \
		static char out_[128];                                        \
		size_t n_ = fmt_snprintf(out_, sizeof(out_), __VA_ARGS__);    \
		assert_int_equal(n_, strlen(out_));                           \
		out_;                                                         \
	})

static void test_fmt_signed_decimal(void **state)
{
	(void)state;
	assert_string_equal(FMT("%d", -42), "-42");
	assert_string_equal(FMT("%d", 0), "0");
	assert_string_equal(FMT("%i", 2147483647), "2147483647");
	assert_string_equal(FMT("%d", (int)-2147483647 - 1), "-2147483648");
	assert_string_equal(FMT("%lld", (long long)INT64_MIN), "-9223372036854775808");
}

static void test_fmt_unsigned_decimal(void **state)
{
	(void)state;
	assert_string_equal(FMT("%u", 4294967295u), "4294967295");
	assert_string_equal(FMT("%llu", 18446744073709551615ULL), "18446744073709551615");
	assert_string_equal(FMT("%zu", (size_t)1234), "1234");
}

static void test_fmt_hex_lower_and_upper(void **state)
{
	(void)state;
	assert_string_equal(FMT("%x", 0xdeadbeefu), "deadbeef");
	assert_string_equal(FMT("%X", 0xdeadbeefu), "DEADBEEF");
	assert_string_equal(FMT("%llx", 0x123456789abcdef0ULL), "123456789abcdef0");
	assert_string_equal(FMT("%x", 0u), "0");
}

static void test_fmt_zero_padded_width(void **state)
{
	(void)state;
	assert_string_equal(FMT("%016llx", 0x1234ULL), "0000000000001234");
	assert_string_equal(FMT("%04x", 0x681eu), "681e");
	assert_string_equal(FMT("%05d", -42), "-0042");
	/* A value wider than the field is not cut. */
	assert_string_equal(FMT("%02x", 0x1234u), "1234");
}

static void test_fmt_space_padded_width(void **state)
{
	(void)state;
	assert_string_equal(FMT("%5d|", 42), "   42|");
	assert_string_equal(FMT("%5d|", -42), "  -42|");
	assert_string_equal(FMT("%-5d|", -42), "-42  |");
	assert_string_equal(FMT("%*d|", 4, 7), "   7|");
}

static void test_fmt_strings_with_width_and_precision(void **state)
{
	(void)state;
	assert_string_equal(FMT("%-8s|", "ab"), "ab      |");
	assert_string_equal(FMT("%8s|", "ab"), "      ab|");
	assert_string_equal(FMT("%.*s|", 3, "abcdef"), "abc|");
	assert_string_equal(FMT("%.*s|", 10, "ab"), "ab|");
	assert_string_equal(FMT("%.2s|", "abcdef"), "ab|");
	const char *volatile null_string = NULL; /* hidden from -Wformat-overflow */
	assert_string_equal(FMT("%s", null_string), "(null)");
}

static void test_fmt_pointer_char_and_percent(void **state)
{
	(void)state;
	assert_string_equal(FMT("%p", (void *)0x1000), "0x1000");
	assert_string_equal(FMT("%c%c", 'o', 'k'), "ok");
	assert_string_equal(FMT("%3c|", 'x'), "  x|");
	assert_string_equal(FMT("100%%"), "100%");
}

static void test_fmt_length_modifiers_narrow_the_argument(void **state)
{
	(void)state;
	assert_string_equal(FMT("%hhx", 0x1ffu), "ff");
	assert_string_equal(FMT("%hx", 0x12345u), "2345");
	assert_string_equal(FMT("%hd", 0xffff), "-1");
	assert_string_equal(FMT("%lx", 0xfedcba9876543210UL), "fedcba9876543210");
}

static void test_fmt_truncation_returns_full_length_and_terminates(void **state)
{
	(void)state;
	char buf[12];

	memset(buf, '#', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 8, "%s %d", "hello", 12345), 11);
	assert_string_equal(buf, "hello 1");
	assert_int_equal(buf[8], '#'); /* nothing past the given size */
}

static void test_fmt_size_one_gives_empty_string(void **state)
{
	(void)state;
	char buf[2] = { '#', '#' };

	assert_int_equal(fmt_snprintf(buf, 1, "%x", 0xabcu), 3);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], '#');
}

static void test_fmt_size_zero_writes_nothing(void **state)
{
	(void)state;
	char buf[1] = { '#' };

	assert_int_equal(fmt_snprintf(buf, 0, "%s", "abc"), 3);
	assert_int_equal(buf[0], '#');
}

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

static void test_vm_of_2_mib_has_four_table_pages(void **state)
{
	(void)state;
	assert_int_equal(vm.ept.table_pages, 4); /* PML4, PDPT, PD, one PT */
	assert_int_equal(fake_pages_outstanding(), 512 + 4);
	assert_int_equal(vm.ept.eptp & 0xFFF, 0x1E); /* WB, 4-level walk */
	assert_ptr_equal(plat_phys_to_virt(vm.ept.eptp & ~0xFFFULL), vm.ept.pml4);
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

/* ---- VM creation ---- */

static void test_vm_create_refuses_bad_ram_sizes(void **state)
{
	(void)state;
	struct vm v;
	static const uint64_t sizes[] = { 0, 1 * MiB, 2 * MiB - 4096, 2 * MiB + 1,
					  2 * MiB + 2048, (64ULL << 30) + 4096, 1ULL << 40 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const char *err = vm_create(&v, 0, "bad", sizes[i]);
		assert_non_null(err);
		assert_non_null(strstr(err, "between 2 MiB and 64 GiB"));
		assert_int_equal(fake_pages_outstanding(), 0);
	}
}

static void test_vm_create_out_of_memory_leaves_nothing_allocated(void **state)
{
	(void)state;
	struct vm v;
	/* 2 MiB needs 512 RAM pages and 4 table pages: fail at each stage. */
	static const long limits[] = { 0, 1, 2, 3, 4, 5, 6, 100, 514, 515 };

	for (unsigned i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		fake_pages_set_limit(limits[i]);
		const char *err = vm_create(&v, 0, "oom", 2 * MiB);
		assert_non_null(err);
		assert_non_null(strstr(err, "out of memory"));
		if (fake_pages_outstanding() != 0)
			fail_msg("limit %ld: %zu pages left behind", limits[i],
				 fake_pages_outstanding());
	}
	fake_pages_set_limit(516);
	assert_null(vm_create(&v, 0, "fits", 2 * MiB));
	vm_destroy(&v);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_vm_with_2m_pages_backs_aligned_ram_with_runs(void **state)
{
	(void)state;
	struct vm v;
	uint64_t ram = 4 * MiB + 0x2000;

	assert_null(vm_create_with_pages(&v, 0, "big", ram, VM_PAGES_2M));
	assert_int_equal(ept_mapping_size(&v.ept, 0), 2 * MiB);
	assert_int_equal(ept_mapping_size(&v.ept, 2 * MiB + 0x1000), 2 * MiB);
	assert_int_equal(ept_mapping_size(&v.ept, 4 * MiB), 0x1000); /* the tail */
	assert_int_equal(ept_mapping_size(&v.ept, 4 * MiB + 0x1000), 0x1000);
	assert_int_equal(ept_mapping_size(&v.ept, ram), 0);
	uint64_t base = ept_translate(&v.ept, 0, NULL);
	assert_int_equal(base & (2 * MiB - 1), 0);
	assert_int_equal(ept_translate(&v.ept, 0x1FFFFF, NULL), base + 0x1FFFFF);
	assert_int_equal(fake_page_runs_outstanding(), 2);
	/* 1024 pages in runs, 2 single pages, PML4 + PDPT + PD + one PT. */
	assert_int_equal(fake_pages_outstanding(), 1024 + 2 + 4);

	char out[9] = { 0 };
	assert_true(guest_write(&v, 2 * MiB - 4, "ABCDEFGH", 8));
	assert_true(guest_read(&v, 2 * MiB - 4, out, 8));
	assert_string_equal(out, "ABCDEFGH");
	vm_destroy(&v);
	assert_int_equal(fake_page_runs_outstanding(), 0);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_vm_with_2m_pages_falls_back_to_4k_pages_without_runs(void **state)
{
	(void)state;
	struct vm v;

	fake_pages_refuse_runs(true);
	assert_null(vm_create_with_pages(&v, 0, "frag", 2 * MiB, VM_PAGES_2M));
	assert_int_equal(ept_mapping_size(&v.ept, 0), 0x1000);
	assert_int_equal(fake_page_runs_outstanding(), 0);
	assert_int_equal(fake_pages_outstanding(), 512 + 4);
	vm_destroy(&v);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_vm_with_1g_pages_uses_them_only_for_a_whole_gib(void **state)
{
	(void)state;
	struct vm v;

	assert_null(vm_create_with_pages(&v, 0, "small", 4 * MiB, VM_PAGES_1G));
	assert_int_equal(ept_mapping_size(&v.ept, 0), 0x1000);
	assert_int_equal(fake_page_runs_outstanding(), 0);
	vm_destroy(&v);
	assert_int_equal(fake_pages_outstanding(), 0);
}

/* The footprint target: a 4 GiB VM with 1 GiB pages needs a PML4 and one
 * PDPT, no more. */
static void test_vm_of_4_gib_with_1g_pages_takes_two_ept_table_pages(void **state)
{
	(void)state;
	struct vm v;

	assert_null(vm_create_with_pages(&v, 0, "big", 4ULL << 30, VM_PAGES_1G));
	for (uint64_t gib = 0; gib < 4; gib++)
		assert_int_equal(ept_mapping_size(&v.ept, gib << 30), 1ULL << 30);
	assert_int_equal(v.ept.table_pages, 2);
	assert_int_equal(v.ram_size, 4ULL << 30);
	vm_destroy(&v);
	assert_int_equal(fake_pages_outstanding(), 0);
	assert_int_equal(fake_page_runs_outstanding(), 0);
}

static void test_vm_with_large_pages_out_of_memory_frees_runs_and_pages(void **state)
{
	(void)state;
	struct vm v;

	/* Room for the EPT, one 2 MiB run and some 4 KiB pages, not for 6 MiB. */
	fake_pages_set_limit(3 + 512 + 200);
	const char *err = vm_create_with_pages(&v, 0, "oom", 6 * MiB, VM_PAGES_2M);
	assert_non_null(err);
	assert_non_null(strstr(err, "out of memory"));
	assert_int_equal(fake_page_runs_outstanding(), 0);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_vm_create_cuts_a_long_name(void **state)
{
	(void)state;
	struct vm v;

	assert_null(vm_create(&v, 3, "a-very-long-virtual-machine-name-indeed", 2 * MiB));
	assert_int_equal(strlen(v.name), VM_NAME_MAX - 1);
	assert_int_equal(strncmp(v.name, "a-very-long-virtual-machine-nam", VM_NAME_MAX - 1), 0);
	assert_int_equal(v.id, 3);
	assert_false(v.ended);
	vm_destroy(&v);
}

static void test_vm_end_happens_once(void **state)
{
	(void)state;
	vm_end(&vm, false, "first %d", 1);
	vm_end(&vm, true, "second");
	assert_true(vm.ended);
	assert_false(vm.success);
	assert_string_equal(vm.end_reason, "first 1");
	assert_console_contains("cvisor: VM con ended: failure: first 1\n");
	assert_int_equal(fake_console_count("ended"), 1);
}

/* ---- Descriptors ---- */

/* A code/data/system descriptor's first 8 bytes (SDM Vol. 3A 3.4.5). */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

static void test_segment_base_of_a_code_descriptor(void **state)
{
	(void)state;
	uint64_t gdt[4] = { 0, descriptor(0x12345678, 0xFFFFF, 0x9A, 0xC),
			    0xFFFFFFFFFFFFFFFFULL, 0 };

	/* S = 1: 8 bytes only, the next entry is not part of the base. */
	assert_int_equal(segment_descriptor_base(gdt, 0x08), 0x12345678);
	assert_int_equal(segment_descriptor_base(gdt, 0x0B), 0x12345678); /* RPL 3 */
}

static void test_segment_base_of_a_16_byte_tss_descriptor(void **state)
{
	(void)state;
	uint64_t gdt[5] = { 0, 0, descriptor(0x12345678, 0x67, 0x89, 0), 0xFFFF8000ULL, 0 };

	assert_int_equal(segment_descriptor_base(gdt, 0x10), 0xFFFF800012345678ULL);
	/* The fake CPU's host GDT: TR 0x20 with base FAKE_HOST_TSS_BASE. */
	assert_int_equal(segment_descriptor_base((const void *)(uintptr_t)fake_cpu.gdtr.base,
						 FAKE_HOST_TR),
			 FAKE_HOST_TSS_BASE);
}

/* ---- VM console ---- */

static void test_console_prefixes_each_line_with_the_vm_name(void **state)
{
	(void)state;
	vm_console_write(&vm, "hello\nworld\n", 12);
	assert_string_equal(fake_console_text(), "[con] hello\n[con] world\n");
}

static void test_console_holds_a_partial_line_until_newline(void **state)
{
	(void)state;
	vm_console_write(&vm, "par", 3);
	assert_string_equal(fake_console_text(), "");
	vm_console_putc(&vm, 't');
	vm_console_putc(&vm, '\n');
	assert_string_equal(fake_console_text(), "[con] part\n");
}

static void test_console_drops_carriage_returns(void **state)
{
	(void)state;
	vm_console_write(&vm, "a\r\nb\r\n", 6);
	assert_string_equal(fake_console_text(), "[con] a\n[con] b\n");
}

static void test_console_shows_control_bytes_as_dots(void **state)
{
	(void)state;
	vm_console_write(&vm, "x\x07y\tz\x1b[2J\x7f\x80\xff\n", 13);
	assert_string_equal(fake_console_text(), "[con] x.y z.[2J...\n");
}

static void test_console_empty_line_prints_the_prefix_alone(void **state)
{
	(void)state;
	vm_console_putc(&vm, '\n');
	assert_string_equal(fake_console_text(), "[con]\n");
}

static void test_console_splits_lines_longer_than_its_buffer(void **state)
{
	(void)state;
	char text[VM_CONSOLE_LINE_MAX + 41];

	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\n';
	vm_console_write(&vm, text, sizeof(text));
	assert_int_equal(fake_console_count("[con] "), 2);
	assert_int_equal(strlen(fake_console_text()),
			 2 * strlen("[con] \n") + VM_CONSOLE_LINE_MAX + 40);
}

static void test_console_partial_line_is_flushed_when_the_vm_ends(void **state)
{
	(void)state;
	vm_console_write(&vm, "tail", 4);
	vm_end(&vm, true, "done");
	assert_string_equal(fake_console_text(),
			    "[con] tail\ncvisor: VM con ended: success: done\n");
}

/* ---- 16550 UART ---- */

#define LCR 3
#define LCR_DLAB 0x80

static uint8_t uart_rd(unsigned offset)
{
	return (uint8_t)io_port_read(&vm, (uint16_t)(PORT_COM1 + offset), 1);
}

static void uart_wr(unsigned offset, uint8_t v)
{
	io_port_write(&vm, (uint16_t)(PORT_COM1 + offset), 1, v);
}

static void test_uart_transmit_goes_to_the_vm_console(void **state)
{
	(void)state;
	uart_wr(0, 'O');
	uart_wr(0, 'K');
	uart_wr(0, '\n');
	assert_string_equal(fake_console_text(), "[con] OK\n");
}

static void test_uart_dlab_switches_to_the_divisor_latch(void **state)
{
	(void)state;
	uart_wr(1, 0x05);          /* IER */
	uart_wr(LCR, 0x83);        /* DLAB, 8N1 */
	uart_wr(0, 0x0C);          /* DLL: 9600 baud */
	uart_wr(1, 0x00);          /* DLM */
	assert_int_equal(uart_rd(0), 0x0C);
	assert_int_equal(uart_rd(1), 0x00);
	assert_int_equal(uart_rd(LCR), 0x83);
	assert_string_equal(fake_console_text(), ""); /* divisor writes are not data */
	uart_wr(LCR, 0x03);
	assert_int_equal(uart_rd(1), 0x05);  /* IER again */
	assert_int_equal(uart_rd(0), 0x00);  /* RBR: nothing received */
	uart_wr(0, 'x');
	uart_wr(0, '\n');
	assert_string_equal(fake_console_text(), "[con] x\n");
}

static void test_uart_ier_keeps_four_bits(void **state)
{
	(void)state;
	uart_wr(1, 0xFF);
	assert_int_equal(uart_rd(1), 0x0F);
}

static void test_uart_line_status_always_says_transmitter_empty(void **state)
{
	(void)state;
	assert_int_equal(uart_rd(5), 0x60);
	uart_wr(5, 0x00); /* read-only */
	uart_wr(0, 'a');
	assert_int_equal(uart_rd(5), 0x60);
}

static void test_uart_scratch_register_round_trips(void **state)
{
	(void)state;
	uart_wr(7, 0x5A);
	assert_int_equal(uart_rd(7), 0x5A);
	uart_wr(7, 0xA5);
	assert_int_equal(uart_rd(7), 0xA5);
}

static void test_uart_iir_reports_fifos_once_enabled(void **state)
{
	(void)state;
	assert_int_equal(uart_rd(2), 0x01);
	uart_wr(2, 0x07);
	assert_int_equal(uart_rd(2), 0xC1);
}

static void test_uart_modem_status_without_loopback(void **state)
{
	(void)state;
	assert_int_equal(uart_rd(6), 0xB0); /* DCD, DSR, CTS */
}

static void test_uart_loopback_sends_nothing_out(void **state)
{
	(void)state;
	uart_wr(4, 0x10);
	uart_wr(0, 'z');
	uart_wr(0, '\n');
	assert_string_equal(fake_console_text(), "");
}

static void test_uart_loopback_modem_status_follows_the_outputs(void **state)
{
	(void)state;
	/*
	 * NS16550A data sheet (MCR bit 4): in loopback CTS = RTS, DSR = DTR,
	 * RI = OUT1, DCD = OUT2.  Linux's 8250 probe writes MCR = LOOP | OUT2 |
	 * RTS and expects MSR[7:4] = DCD | CTS = 0x9.
	 */
	uart_wr(4, 0x10 | 0x08 | 0x02);
	assert_int_equal(uart_rd(6) & 0xF0, 0x90);
	uart_wr(4, 0x10 | 0x01); /* DTR -> DSR */
	assert_int_equal(uart_rd(6) & 0xF0, 0x20);
	uart_wr(4, 0x10 | 0x04); /* OUT1 -> RI */
	assert_int_equal(uart_rd(6) & 0xF0, 0x40);
}

/* ---- Port dispatch ---- */

static void test_ports_reach_com1_registers(void **state)
{
	(void)state;
	io_port_write(&vm, 0x3F8, 1, 'h');
	io_port_write(&vm, 0x3F8, 1, '\n');
	assert_string_equal(fake_console_text(), "[con] h\n");
	assert_int_equal(io_port_read(&vm, 0x3FD, 1), 0x60);
	io_port_write(&vm, 0x3FF, 1, 0x42);
	assert_int_equal(io_port_read(&vm, 0x3FF, 1), 0x42);
	/* A word read covers two registers: MCR (0x3FC) and LSR (0x3FD). */
	io_port_write(&vm, 0x3FC, 1, 0x03);
	assert_int_equal(io_port_read(&vm, 0x3FC, 2), 0x6003);
}

static void test_ports_without_a_device_read_all_ones(void **state)
{
	(void)state;
	assert_int_equal(io_port_read(&vm, 0x1234, 1), 0xFF);
	assert_int_equal(io_port_read(&vm, 0x1234, 2), 0xFFFF);
	assert_int_equal(io_port_read(&vm, 0x1234, 4), 0xFFFFFFFFu);
	io_port_write(&vm, 0x1234, 4, 0xDEADBEEF);
	assert_false(vm.ended);
	assert_string_equal(fake_console_text(), "");
}

static void test_ports_debugcon_prints_each_byte(void **state)
{
	(void)state;
	io_port_write(&vm, 0xE9, 1, 'a');
	io_port_write(&vm, 0xE9, 2, 'b' | '\n' << 8);
	assert_string_equal(fake_console_text(), "[con] ab\n");
}

/* The lookup (which stops early) needs its table sorted; every device is still reached
 * at both ends of its range, and the ports between devices at none. */
static void test_ports_table_is_sorted_and_each_device_found(void **state)
{
	(void)state;
	assert_true(io_port_table_is_sorted(&vm));
	io_port_write(&vm, 0x21, 1, 0xFF); /* PIC master mask (last port of the first device) */
	assert_int_equal(io_port_read(&vm, 0x21, 1), 0xFF);
	io_port_write(&vm, 0xA1, 1, 0x5A); /* PIC slave mask */
	assert_int_equal(io_port_read(&vm, 0xA1, 1), 0x5A);
	assert_int_equal(io_port_read(&vm, 0x22, 1), 0xFF);  /* just past the master */
	assert_int_equal(io_port_read(&vm, 0x80, 1), 0xFF);  /* POST port: no device */
	assert_int_equal(io_port_read(&vm, 0x3F7, 1), 0xFF); /* just below COM1 */
	assert_int_equal(io_port_read(&vm, 0xFFFF, 1), 0xFF); /* past the last device */
	for (const char *c = "Shutdown"; *c; c++)
		io_port_write(&vm, 0x8900, 1, (uint8_t)*c); /* the last device */
	assert_true(vm.ended);
}

/* A device sees only the bytes of the access: OUT AL with junk in the rest
 * of EAX writes 0 to the debug-exit port, which is success (status 1). */
static void test_port_write_passes_only_the_access_size(void **state)
{
	(void)state;
	io_port_write(&vm, 0xF4, 1, 0xDEADBE00u);
	assert_true(vm.ended);
	assert_true(vm.success);
}

#define L(f) cmocka_unit_test_setup(f, setup_plain)
#define V(f) cmocka_unit_test_setup_teardown(f, setup_vm, teardown_vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		L(test_fmt_signed_decimal),
		L(test_fmt_unsigned_decimal),
		L(test_fmt_hex_lower_and_upper),
		L(test_fmt_zero_padded_width),
		L(test_fmt_space_padded_width),
		L(test_fmt_strings_with_width_and_precision),
		L(test_fmt_pointer_char_and_percent),
		L(test_fmt_length_modifiers_narrow_the_argument),
		L(test_fmt_truncation_returns_full_length_and_terminates),
		L(test_fmt_size_one_gives_empty_string),
		L(test_fmt_size_zero_writes_nothing),
		V(test_guest_write_read_across_a_page_boundary),
		V(test_guest_access_of_the_last_byte_is_allowed),
		V(test_guest_access_past_the_end_copies_nothing),
		V(test_guest_access_beyond_ram_fails),
		V(test_guest_access_with_overflowing_end_fails),
		V(test_guest_access_of_zero_bytes_is_allowed),
		V(test_guest_zero_clears_the_range_only),
		V(test_ept_translates_guest_ram_to_its_own_pages),
		V(test_ept_does_not_map_beyond_ram),
		V(test_vm_of_2_mib_has_four_table_pages),
		L(test_ept_map_and_translate_one_page),
		L(test_ept_translates_and_refuses_to_split_a_2m_page),
		L(test_ept_map_out_of_memory_fails_and_destroy_frees_all),
		L(test_ept_maps_1g_and_2m_pages),
		L(test_ept_refuses_misaligned_or_taken_large_pages),
		L(test_vm_create_refuses_bad_ram_sizes),
		L(test_vm_create_out_of_memory_leaves_nothing_allocated),
		L(test_vm_with_2m_pages_backs_aligned_ram_with_runs),
		L(test_vm_with_2m_pages_falls_back_to_4k_pages_without_runs),
		L(test_vm_with_1g_pages_uses_them_only_for_a_whole_gib),
		L(test_vm_with_large_pages_out_of_memory_frees_runs_and_pages),
		L(test_vm_of_4_gib_with_1g_pages_takes_two_ept_table_pages),
		L(test_vm_create_cuts_a_long_name),
		V(test_vm_end_happens_once),
		L(test_segment_base_of_a_code_descriptor),
		L(test_segment_base_of_a_16_byte_tss_descriptor),
		V(test_console_prefixes_each_line_with_the_vm_name),
		V(test_console_holds_a_partial_line_until_newline),
		V(test_console_drops_carriage_returns),
		V(test_console_shows_control_bytes_as_dots),
		V(test_console_empty_line_prints_the_prefix_alone),
		V(test_console_splits_lines_longer_than_its_buffer),
		V(test_console_partial_line_is_flushed_when_the_vm_ends),
		V(test_uart_transmit_goes_to_the_vm_console),
		V(test_uart_dlab_switches_to_the_divisor_latch),
		V(test_uart_ier_keeps_four_bits),
		V(test_uart_line_status_always_says_transmitter_empty),
		V(test_uart_scratch_register_round_trips),
		V(test_uart_iir_reports_fifos_once_enabled),
		V(test_uart_modem_status_without_loopback),
		V(test_uart_loopback_sends_nothing_out),
		V(test_uart_loopback_modem_status_follows_the_outputs),
		V(test_ports_reach_com1_registers),
		V(test_ports_without_a_device_read_all_ones),
		V(test_ports_debugcon_prints_each_byte),
		V(test_ports_table_is_sorted_and_each_device_found),
		V(test_port_write_passes_only_the_access_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
