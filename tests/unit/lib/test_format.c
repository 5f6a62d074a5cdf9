/*
 * Tests of core/lib/format.c: fmt_snprintf's conversions, widths, precision,
 * length modifiers and truncation.
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

#define L(f) cmocka_unit_test_setup(f, fixture_setup_plain)

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
