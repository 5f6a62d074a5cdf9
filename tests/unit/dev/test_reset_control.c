/*
 * Tests of core/dev/reset_control.c: the reset control register at 0xCF9
 * and System Control Port A at 0x92 of a VM built on the fake platform,
 * through their ports: read-back and reserved bits, which writes reset
 * (the 0 -> 1 transitions) and which do not, the kind of reset named, wide
 * accesses, RESET.  A reset request with on_reset=stop ends the VM; with
 * on_reset=restart (and a boot image) it prints its line and marks the
 * restart pending, which the tests then clear as a finished restart would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "dev/device.h"
#include "dev/ports.h"
#include "dev/reset_control.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "vm/reset.h"
#include "vm/vm.h"

static struct vm vm;

static const char *load_nothing(struct vm *v, const void *image)
{
	(void)v;
	(void)image;
	return NULL;
}

/* on_reset=restart with a boot image: a request prints one line. */
static int setup_restart(void **state)
{
	fixture_setup_vm_dev(state);
	vm.reset.on_reset = VM_ON_RESET_RESTART;
	vm_set_boot_image(&vm, load_nothing, NULL);
	return 0;
}

static uint8_t rd(uint16_t port)
{
	return (uint8_t)io_port_read(&vm, port, 1);
}

static void wr(uint16_t port, uint8_t value)
{
	io_port_write(&vm, port, 1, value);
}

/* The number of reset requests through `path` so far; each one counted is
 * then taken as done (the restart's rendezvous would clear it). */
static size_t requests_through(const char *path)
{
	size_t n = fake_console_count(path);
	vm.reset.pending = 0;
	return n;
}

/* ---- 0xCF9 ---- */

static void test_rst_cnt_reads_back_its_three_bits(void **state)
{
	(void)state;
	assert_int_equal(rd(PORT_RESET_CONTROL), 0x00);
	wr(PORT_RESET_CONTROL, 0x0A); /* FULL_RST | SYS_RST: no RST_CPU, no reset */
	assert_int_equal(rd(PORT_RESET_CONTROL), 0x0A);
	wr(PORT_RESET_CONTROL, 0xF1); /* reserved bits 7:4 and 0 */
	assert_int_equal(rd(PORT_RESET_CONTROL), 0x00);
	wr(PORT_RESET_CONTROL, 0x02);
	assert_int_equal(rd(PORT_RESET_CONTROL), 0x02);
	assert_int_equal(requests_through("port 0xCF9"), 0);
}

static void test_rst_cpu_rising_resets_and_names_the_kind(void **state)
{
	(void)state;
	wr(PORT_RESET_CONTROL, 0x02); /* SYS_RST first, as Linux's reboot=pci */
	wr(PORT_RESET_CONTROL, 0x06);
	assert_int_equal(requests_through(
		"reset requested through port 0xCF9 (reset control register, hard reset, value 0x06)"), 1);
	wr(PORT_RESET_CONTROL, 0x00);
	wr(PORT_RESET_CONTROL, 0x04);
	assert_int_equal(requests_through("(reset control register, soft reset, value 0x04)"), 1);
	wr(PORT_RESET_CONTROL, 0x00);
	wr(PORT_RESET_CONTROL, 0x0E);
	assert_int_equal(requests_through("(reset control register, full reset, value 0x0e)"), 1);
	/* FULL_RST without SYS_RST: a soft reset (INIT only). */
	wr(PORT_RESET_CONTROL, 0x00);
	wr(PORT_RESET_CONTROL, 0x0C);
	assert_int_equal(requests_through("(reset control register, soft reset, value 0x0c)"), 1);
}

static void test_rst_cpu_staying_one_does_not_reset_again(void **state)
{
	(void)state;
	wr(PORT_RESET_CONTROL, 0x06);
	assert_int_equal(requests_through("port 0xCF9"), 1);
	fake_console_clear();
	wr(PORT_RESET_CONTROL, 0x06);
	wr(PORT_RESET_CONTROL, 0x0E);
	wr(PORT_RESET_CONTROL, 0x04);
	assert_int_equal(requests_through("port 0xCF9"), 0);
	wr(PORT_RESET_CONTROL, 0x02); /* RST_CPU back to 0 ... */
	wr(PORT_RESET_CONTROL, 0x06); /* ... and up again */
	assert_int_equal(requests_through("port 0xCF9"), 1);
}

static void test_wide_accesses_at_0xcf9_use_its_byte(void **state)
{
	(void)state;
	io_port_write(&vm, PORT_RESET_CONTROL, 2, 0xFF02);
	assert_int_equal(rd(PORT_RESET_CONTROL), 0x02);
	assert_int_equal(io_port_read(&vm, PORT_RESET_CONTROL, 2), 0xFF02);
	assert_int_equal(io_port_read(&vm, PORT_RESET_CONTROL, 4), 0xFFFFFF02u);
	io_port_write(&vm, PORT_RESET_CONTROL, 4, 0x00000006u);
	assert_int_equal(requests_through("port 0xCF9"), 1);
}

/* ---- 0x92 ---- */

static void test_port92_a20_reads_back_without_a_reset(void **state)
{
	(void)state;
	assert_int_equal(rd(PORT_SYSTEM_CONTROL_A), 0x00);
	wr(PORT_SYSTEM_CONTROL_A, PORT92_ALT_A20_GATE);
	assert_int_equal(rd(PORT_SYSTEM_CONTROL_A), 0x02);
	wr(PORT_SYSTEM_CONTROL_A, 0xFC); /* reserved bits 7:2 */
	assert_int_equal(rd(PORT_SYSTEM_CONTROL_A), 0x00);
	assert_int_equal(io_port_read(&vm, PORT_SYSTEM_CONTROL_A, 2), 0xFF00);
	assert_int_equal(requests_through("port 0x92"), 0);
}

static void test_port92_bit0_rising_is_a_fast_reset(void **state)
{
	(void)state;
	wr(PORT_SYSTEM_CONTROL_A, 0x03);
	assert_int_equal(requests_through(
		"reset requested through port 0x92 (System Control Port A, fast reset, value 0x03)"), 1);
	assert_int_equal(rd(PORT_SYSTEM_CONTROL_A), 0x03);
	wr(PORT_SYSTEM_CONTROL_A, 0x01); /* still 1: no new transition */
	assert_int_equal(requests_through("port 0x92"), 1);
	fake_console_clear();
	wr(PORT_SYSTEM_CONTROL_A, 0x02);
	wr(PORT_SYSTEM_CONTROL_A, 0x03);
	assert_int_equal(requests_through("port 0x92"), 1);
}

/* ---- RESET and on_reset=stop ---- */

static void test_reset_clears_both_registers(void **state)
{
	(void)state;
	wr(PORT_RESET_CONTROL, 0x0A);
	wr(PORT_SYSTEM_CONTROL_A, 0x02);
	spin_lock(&vm.devices.lock);
	vm_reset_devices(&vm);
	spin_unlock(&vm.devices.lock);
	assert_int_equal(rd(PORT_RESET_CONTROL), 0x00);
	assert_int_equal(rd(PORT_SYSTEM_CONTROL_A), 0x00);
}

static void test_with_on_reset_stop_the_vm_ends(void **state)
{
	(void)state;
	assert_int_equal(vm.reset.on_reset, VM_ON_RESET_STOP); /* the default */
	wr(PORT_RESET_CONTROL, 0x06);
	assert_true(vm.ended);
	assert_false(vm.success);
	assert_string_equal(vm.end_reason,
			    "reset requested through port 0xCF9 (reset control register, hard reset, "
			    "value 0x06) (on_reset=stop)");
	assert_console_contains("cvisor: VM dev ended: failure: reset requested through port 0xCF9");
}

static void test_port92_with_on_reset_stop_ends_the_vm(void **state)
{
	(void)state;
	wr(PORT_SYSTEM_CONTROL_A, 0x01);
	assert_true(vm.ended);
	assert_false(vm.success);
	assert_console_contains("ended: failure: reset requested through port 0x92 (System Control "
				"Port A, fast reset, value 0x01) (on_reset=stop)");
}

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)
#define R(f) cmocka_unit_test_prestate_setup_teardown(f, setup_restart, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		R(test_rst_cnt_reads_back_its_three_bits),
		R(test_rst_cpu_rising_resets_and_names_the_kind),
		R(test_rst_cpu_staying_one_does_not_reset_again),
		R(test_wide_accesses_at_0xcf9_use_its_byte),
		R(test_port92_a20_reads_back_without_a_reset),
		R(test_port92_bit0_rising_is_a_fast_reset),
		T(test_reset_clears_both_registers),
		T(test_with_on_reset_stop_the_vm_ends),
		T(test_port92_with_on_reset_stop_ends_the_vm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
