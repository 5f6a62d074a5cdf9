/*
 * Tests of core/vmx/vmx_error.c: every VMX error has a message and a name of
 * its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "x86.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_error.h"
#include "fixture_vm.h"

static void test_every_error_has_a_distinct_message(void **state)
{
	(void)state;
	for (unsigned a = 0; a < VMX_ERROR_COUNT; a++) {
		const char *m = vmx_error_message(a);
		assert_non_null(m);
		assert_true(strlen(m) > 5);
		for (unsigned b = 0; b < a; b++)
			assert_string_not_equal(m, vmx_error_message(b));
	}
	assert_string_equal(vmx_error_message(VMX_ERROR_COUNT), "unknown VMX error");
}

static void test_every_error_has_a_distinct_name(void **state)
{
	(void)state;
	assert_string_equal(vmx_error_name(VMX_OK), "VMX_OK");
	assert_string_equal(vmx_error_name(VMX_ERR_NO_VMX), "VMX_ERR_NO_VMX");
	for (unsigned a = 1; a < VMX_ERROR_COUNT; a++) {
		const char *n = vmx_error_name(a);
		assert_non_null(n);
		assert_int_equal(strncmp(n, "VMX_ERR_", 8), 0);
		for (unsigned b = 0; b < a; b++)
			assert_string_not_equal(n, vmx_error_name(b));
	}
	assert_string_equal(vmx_error_name(VMX_ERROR_COUNT + 7), "VMX_ERR_UNKNOWN");
}

#define TL(f) cmocka_unit_test_setup(f, fixture_setup_tigerlake)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TL(test_every_error_has_a_distinct_message),
		TL(test_every_error_has_a_distinct_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
