/*
 * The VMCS field table and typed access (core/vmx/vmcs_fields.h, vmcs.h,
 * vmcs.c) against the fake CPU's software VMCS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "vmx/vmcs.h"

/* Host memory for the VMXON region and the VMCS of each test. */
static void *vmxon_region, *vmcs_region;

static int setup_vmcs(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	vmxon_region = plat_alloc_page();
	vmcs_region = plat_alloc_page();
	fake_cpu_enter_vmx_with_vmcs(vmxon_region, vmcs_region);
	vmcs_reset_failures();
	return 0;
}

/* ---- The table ---- */

#define COUNT_FIELD(name, enc, width, access) +1
static const unsigned fields_declared = 0 VMCS_FIELDS(COUNT_FIELD);
#undef COUNT_FIELD

static void test_table_has_every_declared_field(void **state)
{
	(void)state;
	assert_int_equal(vmcs_field_count, fields_declared);
	assert_true(vmcs_field_count > 150);
}

static void test_table_widths_match_encoding_bits_14_13(void **state)
{
	(void)state;
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		enum vmcs_width expected;

		switch ((f->encoding >> 13) & 3) {
		case 0: expected = VMCS_WIDTH_16; break;
		case 1: expected = VMCS_WIDTH_64; break;
		case 2: expected = VMCS_WIDTH_32; break;
		default: expected = VMCS_WIDTH_NAT; break;
		}
		if (f->width != expected)
			fail_msg("%s (0x%04x): width %d, encoding says %d", f->name, f->encoding,
				 f->width, expected);
	}
}

static void test_table_read_only_exactly_for_exit_information(void **state)
{
	(void)state;
	unsigned read_only = 0;

	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const struct vmcs_field_info *f = &vmcs_field_table[i];
		bool info = ((f->encoding >> 10) & 3) == 1;
		if (f->read_only != info)
			fail_msg("%s (0x%04x): read_only %d, type bits say %d", f->name,
				 f->encoding, f->read_only, info);
		read_only += f->read_only;
	}
	/* GUEST_PHYSICAL_ADDRESS, 8 32-bit and 6 natural-width fields. */
	assert_int_equal(read_only, 15);
}

static void test_table_has_no_duplicate_encodings_or_names(void **state)
{
	(void)state;
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		for (unsigned j = 0; j < i; j++) {
			if (vmcs_field_table[i].encoding == vmcs_field_table[j].encoding)
				fail_msg("%s and %s share 0x%04x", vmcs_field_table[i].name,
					 vmcs_field_table[j].name, vmcs_field_table[i].encoding);
			assert_string_not_equal(vmcs_field_table[i].name, vmcs_field_table[j].name);
		}
	}
}

static void test_table_encodings_are_full_access_without_reserved_bits(void **state)
{
	(void)state;
	for (unsigned i = 0; i < vmcs_field_count; i++)
		if (vmcs_field_table[i].encoding & 0xFFFF9001u)
			fail_msg("%s: 0x%04x has the high-access or a reserved bit",
				 vmcs_field_table[i].name, vmcs_field_table[i].encoding);
}

static void check_known_field(const char *name, uint32_t handle_encoding, uint32_t sdm_encoding)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(sdm_encoding);

	assert_int_equal(handle_encoding, sdm_encoding);
	assert_non_null(f);
	assert_string_equal(f->name, name);
}

static void test_known_encodings_match_the_sdm(void **state)
{
	(void)state;
	/* SDM Vol. 3C Appendix B. */
	check_known_field("GUEST_RIP", GUEST_RIP.encoding, 0x681E);
	check_known_field("VM_EXIT_REASON", VM_EXIT_REASON.encoding, 0x4402);
	check_known_field("EPT_POINTER", EPT_POINTER.encoding, 0x201A);
	check_known_field("VMCS_LINK_POINTER", VMCS_LINK_POINTER.encoding, 0x2800);
	check_known_field("HOST_TR_SELECTOR", HOST_TR_SELECTOR.encoding, 0x0C0C);
	check_known_field("VM_INSTRUCTION_ERROR", VM_INSTRUCTION_ERROR.encoding, 0x4400);
	check_known_field("SECONDARY_VM_EXEC_CONTROL", SECONDARY_VM_EXEC_CONTROL.encoding, 0x401E);
	check_known_field("HOST_RIP", HOST_RIP.encoding, 0x6C16);
	check_known_field("GUEST_CS_AR_BYTES", GUEST_CS_AR_BYTES.encoding, 0x4816);
}

static void test_handles_have_the_type_of_their_width_and_access(void **state)
{
	(void)state;
	assert_true(_Generic(GUEST_RIP, vmcs_RWNAT_t: 1, default: 0));
	assert_true(_Generic(VM_EXIT_REASON, vmcs_RO32_t: 1, default: 0));
	assert_true(_Generic(EPT_POINTER, vmcs_RW64_t: 1, default: 0));
	assert_true(_Generic(GUEST_PHYSICAL_ADDRESS, vmcs_RO64_t: 1, default: 0));
	assert_true(_Generic(EXIT_QUALIFICATION, vmcs_RONAT_t: 1, default: 0));
	assert_true(_Generic(GUEST_CS_SELECTOR, vmcs_RW16_t: 1, default: 0));
	assert_true(_Generic(GUEST_CS_LIMIT, vmcs_RW32_t: 1, default: 0));
}

static void test_lookup_of_unknown_encoding_is_null(void **state)
{
	(void)state;
	assert_null(vmcs_field_lookup(0x0006));
	assert_null(vmcs_field_lookup(0x681F)); /* GUEST_RIP with the high-access bit */
	assert_null(vmcs_field_lookup(0xFFFFFFFF));
}

/* ---- Typed access ---- */

static void test_16_bit_field_round_trips_as_uint16(void **state)
{
	(void)state;
	vmcs_write(GUEST_CS_SELECTOR, 0xBEEF);
	assert_int_equal(fake_vmcs_get(GUEST_CS_SELECTOR.encoding), 0xBEEF);
	uint16_t v = vmcs_read(GUEST_CS_SELECTOR);
	assert_int_equal(v, 0xBEEF);
	assert_true(_Generic(vmcs_read(GUEST_CS_SELECTOR), uint16_t: 1, default: 0));
}

static void test_32_bit_field_round_trips_as_uint32(void **state)
{
	(void)state;
	vmcs_write(GUEST_CS_LIMIT, 0xFFFFF123u);
	assert_int_equal(vmcs_read(GUEST_CS_LIMIT), 0xFFFFF123u);
	assert_true(_Generic(vmcs_read(GUEST_CS_LIMIT), uint32_t: 1, default: 0));
	assert_true(_Generic(vmcs_read(VM_EXIT_REASON), uint32_t: 1, default: 0));
}

static void test_64_bit_field_round_trips_all_bits(void **state)
{
	(void)state;
	vmcs_write(EPT_POINTER, 0x8123456789ABC01EULL);
	assert_int_equal(vmcs_read(EPT_POINTER), 0x8123456789ABC01EULL);
	assert_true(_Generic(vmcs_read(EPT_POINTER), uint64_t: 1, default: 0));
}

static void test_natural_width_field_round_trips_all_bits(void **state)
{
	(void)state;
	vmcs_write(GUEST_RIP, 0xFFFFFFFF80001000ULL);
	assert_int_equal(vmcs_read(GUEST_RIP), 0xFFFFFFFF80001000ULL);
	assert_int_equal(fake_cpu.vmwrite_calls, 1);
	assert_int_equal(vmcs_failed_writes(), 0);
	assert_string_equal(fake_console_text(), "");
}

static void test_read_only_field_reads_what_the_cpu_stored(void **state)
{
	(void)state;
	fake_vmcs_set(VM_EXIT_REASON.encoding, 30);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, 0x3F80008ULL);
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, 0xFEE00000ULL);
	assert_int_equal(vmcs_read(VM_EXIT_REASON), 30);
	assert_int_equal(vmcs_read(EXIT_QUALIFICATION), 0x3F80008ULL);
	assert_int_equal(vmcs_read(GUEST_PHYSICAL_ADDRESS), 0xFEE00000ULL);
}

static void test_raw_write_of_a_16_bit_field_keeps_16_bits(void **state)
{
	(void)state;
	vmcs_write_encoding(GUEST_TR_SELECTOR.encoding, 0xABCD0028ULL);
	assert_int_equal(vmcs_read(GUEST_TR_SELECTOR), 0x0028);
	assert_int_equal(vmcs_failed_writes(), 0);
}

/* ---- Failures ---- */

static void test_failed_write_is_counted_and_logged_by_name(void **state)
{
	(void)state;
	fake_cpu.fail_vmwrite_encoding = GUEST_RIP.encoding;
	fake_cpu.fail_vmwrite = (struct fake_forced_result){ VMX_FAIL_VALID, 12 };

	vmcs_write(GUEST_RIP, 0x1000);
	assert_int_equal(vmcs_failed_writes(), 1);
	assert_console_contains("cvisor: VMWRITE GUEST_RIP (0x681e) failed: VM-instruction "
				"error 12 (VMREAD/VMWRITE from/to unsupported VMCS component)\n");
	vmcs_write(GUEST_RSP, 0x2000); /* another field still works */
	assert_int_equal(vmcs_failed_writes(), 1);
	vmcs_write(GUEST_RIP, 0x1000);
	assert_int_equal(vmcs_failed_writes(), 2);
}

static void test_reset_failures_starts_the_count_again(void **state)
{
	(void)state;
	fake_cpu.fail_vmwrite_encoding = GUEST_RIP.encoding;
	fake_cpu.fail_vmwrite = (struct fake_forced_result){ VMX_FAIL_VALID, 12 };
	vmcs_write(GUEST_RIP, 0x1000);
	vmcs_reset_failures();
	assert_int_equal(vmcs_failed_writes(), 0);
}

static void test_raw_write_to_read_only_field_fails_with_error_13(void **state)
{
	(void)state;
	vmcs_write_encoding(VM_EXIT_REASON.encoding, 10);
	assert_int_equal(vmcs_failed_writes(), 1);
	assert_console_contains("VMWRITE VM_EXIT_REASON (0x4402) failed: VM-instruction error 13 "
				"(VMWRITE to read-only VMCS component)");
	assert_int_equal(fake_vmcs_get(VM_EXIT_REASON.encoding), 0);
}

static void test_raw_write_of_unknown_encoding_names_it_unknown(void **state)
{
	(void)state;
	vmcs_write_encoding(0x0006, 1);
	assert_int_equal(vmcs_failed_writes(), 1);
	assert_console_contains("VMWRITE unknown field (0x0006) failed: VM-instruction error 12");
}

static void test_write_without_current_vmcs_is_vmfailinvalid(void **state)
{
	(void)state;
	assert_int_equal(vmclear((uint64_t)(uintptr_t)vmcs_region), VMX_SUCCEED);
	vmcs_write(GUEST_RIP, 0x1000);
	assert_int_equal(vmcs_failed_writes(), 1);
	assert_console_contains("VMWRITE GUEST_RIP (0x681e) failed: VMfailInvalid (no current VMCS)");
}

static void test_read_without_current_vmcs_returns_zero_and_logs(void **state)
{
	(void)state;
	vmcs_write(GUEST_RIP, 0x1000);
	assert_int_equal(vmclear((uint64_t)(uintptr_t)vmcs_region), VMX_SUCCEED);
	assert_int_equal(vmcs_read(GUEST_RIP), 0);
	assert_console_contains("VMREAD GUEST_RIP (0x681e) failed: VMfailInvalid");
	assert_int_equal(vmcs_failed_writes(), 0); /* reads are not writes */
}

static void test_read_of_unsupported_field_returns_zero_and_logs(void **state)
{
	(void)state;
	fake_vmcs_mark_unsupported(GUEST_PML_INDEX.encoding);
	assert_int_equal(vmcs_read(GUEST_PML_INDEX), 0);
	assert_console_contains("VMREAD GUEST_PML_INDEX (0x0812) failed: VM-instruction error 12");
}

static void test_try_read_is_quiet_about_missing_fields(void **state)
{
	(void)state;
	uint64_t v = 0;

	fake_vmcs_mark_unsupported(GUEST_PML_INDEX.encoding);
	vmcs_write(GUEST_RSP, 0x7000);
	assert_true(vmcs_try_read(GUEST_RSP.encoding, &v));
	assert_int_equal(v, 0x7000);
	assert_false(vmcs_try_read(GUEST_PML_INDEX.encoding, &v));
	assert_string_equal(fake_console_text(), "");
}

/* ---- vmcs_dump ---- */

static const char *line_with(const char *needle)
{
	const char *p = strstr(fake_console_text(), needle);
	if (!p)
		fail_msg("the dump lacks \"%s\":\n%s", needle, fake_console_text());
	return p;
}

/* "  NAME<padded to 32> 0xENC = 0xVALUE\n" */
static const char *dump_line(const char *name, uint32_t encoding, uint64_t value)
{
	static char line[128];
	snprintf(line, sizeof(line), "  %-32s 0x%04x = 0x%llx\n", name, encoding,
		 (unsigned long long)value);
	return line_with(line);
}

static void test_dump_prints_groups_in_order(void **state)
{
	(void)state;
	vmcs_dump();
	const char *c = line_with("VMCS control fields:\n");
	const char *e = line_with("VMCS VM-exit information:\n");
	const char *g = line_with("VMCS guest state:\n");
	const char *h = line_with("VMCS host state:\n");
	assert_true(c < e && e < g && g < h);
}

static void test_dump_shows_each_field_with_its_value_in_its_group(void **state)
{
	(void)state;
	vmcs_write(GUEST_RIP, 0x100000);
	vmcs_write(HOST_RIP, 0xFFFFFFFF80001234ULL);
	fake_vmcs_set(VM_EXIT_REASON.encoding, 48);
	vmcs_dump();

	const char *rip = dump_line("GUEST_RIP", 0x681e, 0x100000);
	assert_true(rip > line_with("VMCS guest state:\n"));
	assert_true(rip < line_with("VMCS host state:\n"));
	assert_true(dump_line("HOST_RIP", 0x6c16, 0xffffffff80001234ULL) >
		    line_with("VMCS host state:\n"));
	const char *reason = dump_line("VM_EXIT_REASON", 0x4402, 48);
	assert_true(reason > line_with("VMCS VM-exit information:\n"));
	assert_true(reason < line_with("VMCS guest state:\n"));
	/* Every field is there once. */
	assert_int_equal(fake_console_count(" = 0x"), vmcs_field_count);
	assert_console_contains("(0 fields not on this CPU)");
}

static void test_dump_skips_fields_the_cpu_lacks(void **state)
{
	(void)state;
	fake_vmcs_mark_unsupported(GUEST_PML_INDEX.encoding);
	fake_vmcs_mark_unsupported(SPP_TABLE_POINTER.encoding);
	fake_vmcs_mark_unsupported(HOST_IA32_PKRS.encoding);
	vmcs_dump();
	assert_console_lacks("GUEST_PML_INDEX");
	assert_console_lacks("SPP_TABLE_POINTER");
	assert_console_lacks("HOST_IA32_PKRS");
	assert_console_contains("GUEST_INTR_STATUS ");
	assert_console_contains("(3 fields not on this CPU)");
	assert_int_equal(fake_console_count(" = 0x"), vmcs_field_count - 3);
	/* A dump is not a failure. */
	assert_int_equal(vmcs_failed_writes(), 0);
	assert_console_lacks("failed");
}

static void test_dump_respects_vmcs_enum_highest_index(void **state)
{
	(void)state;
	/* IA32_VMX_VMCS_ENUM[9:1] = 0x15: TSC_MULTIPLIER (index 0x19) is missing. */
	fake_msr_set(0x48A, 0x2A, true);
	vmcs_dump();
	assert_console_lacks("TSC_MULTIPLIER");
	assert_console_contains("TSC_OFFSET ");
}

#define T(f) cmocka_unit_test_setup(f, setup_vmcs)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_table_has_every_declared_field),
		T(test_table_widths_match_encoding_bits_14_13),
		T(test_table_read_only_exactly_for_exit_information),
		T(test_table_has_no_duplicate_encodings_or_names),
		T(test_table_encodings_are_full_access_without_reserved_bits),
		T(test_known_encodings_match_the_sdm),
		T(test_handles_have_the_type_of_their_width_and_access),
		T(test_lookup_of_unknown_encoding_is_null),
		T(test_16_bit_field_round_trips_as_uint16),
		T(test_32_bit_field_round_trips_as_uint32),
		T(test_64_bit_field_round_trips_all_bits),
		T(test_natural_width_field_round_trips_all_bits),
		T(test_read_only_field_reads_what_the_cpu_stored),
		T(test_raw_write_of_a_16_bit_field_keeps_16_bits),
		T(test_failed_write_is_counted_and_logged_by_name),
		T(test_reset_failures_starts_the_count_again),
		T(test_raw_write_to_read_only_field_fails_with_error_13),
		T(test_raw_write_of_unknown_encoding_names_it_unknown),
		T(test_write_without_current_vmcs_is_vmfailinvalid),
		T(test_read_without_current_vmcs_returns_zero_and_logs),
		T(test_read_of_unsupported_field_returns_zero_and_logs),
		T(test_try_read_is_quiet_about_missing_fields),
		T(test_dump_prints_groups_in_order),
		T(test_dump_shows_each_field_with_its_value_in_its_group),
		T(test_dump_skips_fields_the_cpu_lacks),
		T(test_dump_respects_vmcs_enum_highest_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
