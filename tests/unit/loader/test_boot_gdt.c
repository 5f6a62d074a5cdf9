/*
 * The boot GDT both loaders write (core/loader/boot_gdt.c): its bytes for
 * Multiboot's selectors (0x08/0x10) and Linux's (__BOOT_CS 0x10,
 * __BOOT_DS 0x18), its limit, refused selector pairs, and the start state
 * whose segment registers and GDTR match it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "loader/boot_gdt.h"
#include "mm/guest_memory.h"
#include "vm/vm.h"
#include "x86.h"

#define FLAT_CODE 0x00CF9B000000FFFFULL
#define FLAT_DATA 0x00CF93000000FFFFULL

static struct vm vm;

static int setup_vm(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	const char *err = vm_create(&vm, 0, "gdt", 2ULL << 20);
	if (err)
		fail_msg("vm_create: %s", err);
	uint8_t fill[BOOT_AREA_END - BOOT_AREA_GPA];
	memset(fill, 0xCC, sizeof(fill));
	assert_true(guest_write(&vm, BOOT_AREA_GPA, fill, sizeof(fill)));
	return 0;
}

static int teardown_vm(void **state)
{
	(void)state;
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

static uint64_t descriptor(unsigned index)
{
	uint64_t d;
	assert_true(guest_read(&vm, BOOT_GDT_GPA + 8 * index, &d, 8));
	return d;
}

static void test_the_area_and_the_gdt_fit_below_the_ebda(void **state)
{
	(void)state;
	assert_int_equal(BOOT_AREA_GPA, 0x9F000);
	assert_int_equal(BOOT_AREA_END, 0xA0000);
	assert_true(BOOT_GDT_GPA >= BOOT_AREA_GPA);
	assert_int_equal(BOOT_GDT_GPA + BOOT_GDT_MAX_BYTES, 0x9FC00); /* the EBDA */
	assert_int_equal(BOOT_GDT_GPA % 8, 0);
}

static void test_multiboot_gdt_is_null_code_data(void **state)
{
	(void)state;
	assert_true(boot_gdt_write(&vm, boot_selectors_multiboot));
	assert_int_equal(boot_gdt_limit(boot_selectors_multiboot), 0x17);
	assert_int_equal(descriptor(0), 0);
	assert_int_equal(descriptor(1), FLAT_CODE);
	assert_int_equal(descriptor(2), FLAT_DATA);
	assert_int_equal(descriptor(3), 0xCCCCCCCCCCCCCCCCULL); /* nothing past the limit */
}

static void test_linux_gdt_has_boot_cs_and_boot_ds(void **state)
{
	(void)state;
	assert_int_equal(boot_selectors_linux.code, 0x10);
	assert_int_equal(boot_selectors_linux.data, 0x18);
	assert_true(boot_gdt_write(&vm, boot_selectors_linux));
	assert_int_equal(boot_gdt_limit(boot_selectors_linux), 0x1F);
	assert_int_equal(descriptor(0), 0);
	assert_int_equal(descriptor(1), 0); /* the slot below is null, not left over */
	assert_int_equal(descriptor(2), FLAT_CODE);
	assert_int_equal(descriptor(3), FLAT_DATA);
	assert_int_equal(descriptor(4), 0xCCCCCCCCCCCCCCCCULL);
}

static void test_data_below_code_and_the_highest_slot(void **state)
{
	(void)state;
	const struct boot_selectors sel = { .code = 0x3F8, .data = 0x08 };
	assert_true(boot_gdt_write(&vm, sel));
	assert_int_equal(boot_gdt_limit(sel), 0x3FF);
	assert_int_equal(descriptor(1), FLAT_DATA);
	assert_int_equal(descriptor(2), 0);
	assert_int_equal(descriptor(126), 0);
	assert_int_equal(descriptor(127), FLAT_CODE);
	uint8_t ebda;
	assert_true(guest_read(&vm, BOOT_GDT_GPA + BOOT_GDT_MAX_BYTES, &ebda, 1));
	assert_int_equal(ebda, 0xCC);
}

static void test_bad_selector_pairs_write_nothing(void **state)
{
	(void)state;
	static const struct boot_selectors bad[] = {
		{ 0x00, 0x10 }, /* null code */
		{ 0x08, 0x00 }, /* null data */
		{ 0x10, 0x10 }, /* the same slot */
		{ 0x0B, 0x10 }, /* RPL 3 */
		{ 0x08, 0x14 }, /* TI = 1: the LDT */
		{ 0x400, 0x08 }, /* past 1 KiB: over the EBDA */
		{ 0x08, 0xFFF8 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(boot_gdt_write(&vm, bad[i]));
	assert_int_equal(descriptor(0), 0xCCCCCCCCCCCCCCCCULL);
	assert_int_equal(descriptor(1), 0xCCCCCCCCCCCCCCCCULL);
}

static void test_start_state_loads_the_selectors(void **state)
{
	(void)state;
	struct guest_cpu_state s;

	memset(&s, 0xEE, sizeof(s));
	boot_gdt_start_state(&s, boot_selectors_linux, 0x1000000);
	assert_int_equal(s.rip, 0x1000000);
	assert_int_equal(s.cr0, CR0_PE | CR0_ET);
	assert_int_equal(s.rflags, RFLAGS_RESERVED_1);
	assert_int_equal(s.cs.selector, 0x10);
	assert_int_equal(s.ss.selector, 0x18);
	assert_int_equal(s.ds.selector, 0x18);
	assert_int_equal(s.es.selector, 0x18);
	assert_int_equal(s.fs.selector, 0x18);
	assert_int_equal(s.gs.selector, 0x18);
	assert_int_equal(s.gdtr_base, BOOT_GDT_GPA);
	assert_int_equal(s.gdtr_limit, 0x1F);
	for (unsigned r = 0; r < GPR_COUNT; r++)
		assert_int_equal(s.gprs[r], 0);
	/* The hidden parts are the flat segments the descriptors describe. */
	assert_int_equal(s.cs.base, 0);
	assert_int_equal(s.cs.limit, 0xFFFFFFFF);
	assert_int_equal(s.cs.access_rights & 0xF, AR_TYPE_CODE_RX_ACCESSED);
	assert_int_equal(s.ds.access_rights & 0xF, AR_TYPE_DATA_RW_ACCESSED);

	boot_gdt_start_state(&s, boot_selectors_multiboot, 0x100000);
	assert_int_equal(s.cs.selector, 0x08);
	assert_int_equal(s.ss.selector, 0x10);
	assert_int_equal(s.gs.selector, 0x10);
	assert_int_equal(s.gdtr_limit, 0x17);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_vm, teardown_vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_the_area_and_the_gdt_fit_below_the_ebda),
		T(test_multiboot_gdt_is_null_code_data),
		T(test_linux_gdt_has_boot_cs_and_boot_ds),
		T(test_data_below_code_and_the_highest_slot),
		T(test_bad_selector_pairs_write_nothing),
		T(test_start_state_loads_the_selectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
