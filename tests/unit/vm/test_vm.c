/*
 * Tests of core/vm/vm.c: vm_create and vm_create_with_pages on the fake
 * platform (RAM sizes, EPT table pages, large pages and their fallback to 4
 * KiB pages, out of memory, long names) and vm_end.
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
#include "abi/cpuid.h"
#include "dev/fw_cfg.h"
#include "irq/lapic.h"
#include "dev/pic8259.h"
#include "exit/cpuid.h"
#include "exit/cr.h"
#include "exit/exit.h"
#include "exit/msr.h"
#include "vmx/msr_bitmap.h"
#include "vmx/vmx_cpu.h"
#include "fixture_vm.h"

#define MiB (1ULL << 20)
#define RAM (2 * MiB)

static struct vm vm;

static void test_vm_of_2_mib_has_four_table_pages(void **state)
{
	(void)state;
	assert_int_equal(vm.ept.table_pages, 4); /* PML4, PDPT, PD, one PT */
	assert_int_equal(fake_pages_outstanding(), 512 + 4);
	assert_int_equal(vm.ept.eptp & 0xFFF, 0x1E); /* WB, 4-level walk */
	assert_ptr_equal(plat_phys_to_virt(vm.ept.eptp & ~0xFFFULL), vm.ept.pml4);
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

static void vm_ram_uses_2m_pages_where_allowed(void **state)
{
	(void)state;
	static struct vm vm;
	size_t before = fake_pages_outstanding();
	assert_null(vm_create_with_pages(&vm, 0, "big", 5ULL << 20, VM_PAGES_2M));
	assert_int_equal(ept_mapping_size(&vm.ept, 0), 2ULL << 20);
	assert_int_equal(ept_mapping_size(&vm.ept, (2ULL << 20) + 123), 2ULL << 20);
	assert_int_equal(ept_mapping_size(&vm.ept, 4ULL << 20), 4096); /* the odd 1 MiB */
	assert_int_equal(ept_mapping_size(&vm.ept, 5ULL << 20), 0);
	/* PML4, PDPT, PD, and one PT for the last MiB */
	assert_int_equal(vm.ept.table_pages, 4);
	uint32_t word = 0x12345678, back = 0;
	assert_true(guest_write(&vm, (2ULL << 20) - 2, &word, 4)); /* across two large pages */
	assert_true(guest_read(&vm, (2ULL << 20) - 2, &back, 4));
	assert_int_equal(back, word);
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), before);
}

static void vm_ram_uses_1g_pages_where_allowed(void **state)
{
	(void)state;
	static struct vm vm;
	size_t before = fake_pages_outstanding();
	assert_null(vm_create_with_pages(&vm, 0, "huge", 1ULL << 30, VM_PAGES_1G | VM_PAGES_2M));
	assert_int_equal(ept_mapping_size(&vm.ept, (1ULL << 30) - 1), 1ULL << 30);
	assert_int_equal(vm.ept.table_pages, 2); /* PML4 and PDPT only */
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), before);
}

static void vm_ram_falls_back_to_4k_pages(void **state)
{
	(void)state;
	static struct vm vm;
	size_t before = fake_pages_outstanding();
	assert_null(vm_create(&vm, 0, "small", 2ULL << 20));
	assert_int_equal(ept_mapping_size(&vm.ept, 0), 4096);
	assert_int_equal(vm.ept.table_pages, 4);
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), before);
}

#define L(f) cmocka_unit_test_setup(f, fixture_setup_plain)
#define V(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_con, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		V(test_vm_of_2_mib_has_four_table_pages),
		L(test_vm_create_refuses_bad_ram_sizes),
		L(test_vm_create_out_of_memory_leaves_nothing_allocated),
		L(test_vm_with_2m_pages_backs_aligned_ram_with_runs),
		L(test_vm_with_2m_pages_falls_back_to_4k_pages_without_runs),
		L(test_vm_with_1g_pages_uses_them_only_for_a_whole_gib),
		L(test_vm_with_large_pages_out_of_memory_frees_runs_and_pages),
		L(test_vm_of_4_gib_with_1g_pages_takes_two_ept_table_pages),
		L(test_vm_create_cuts_a_long_name),
		V(test_vm_end_happens_once),
		cmocka_unit_test(vm_ram_uses_2m_pages_where_allowed),
		cmocka_unit_test(vm_ram_uses_1g_pages_where_allowed),
		cmocka_unit_test(vm_ram_falls_back_to_4k_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
