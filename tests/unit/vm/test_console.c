/*
 * Tests of core/vm/console.c: the VM console prefixes each line with the VM's
 * name, holds partial lines, drops carriage returns, shows control bytes as
 * dots, splits long lines and flushes when the VM ends.
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
#define V(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_con, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		V(test_console_prefixes_each_line_with_the_vm_name),
		V(test_console_holds_a_partial_line_until_newline),
		V(test_console_drops_carriage_returns),
		V(test_console_shows_control_bytes_as_dots),
		V(test_console_empty_line_prints_the_prefix_alone),
		V(test_console_splits_lines_longer_than_its_buffer),
		V(test_console_partial_line_is_flushed_when_the_vm_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
