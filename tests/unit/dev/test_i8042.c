/*
 * Tests of core/dev/i8042.c: the keyboard controller of a VM built on the
 * fake platform, with nothing attached, through ports 0x60 and 0x64: the
 * status register, the command byte, self-test and interface tests,
 * enable/disable, the output port, IRQ1, what a probe of the absent
 * keyboard and mouse sees, the two reset paths, RESET.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "dev/device.h"
#include "dev/i8042.h"
#include "dev/ports.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "irq/irq.h"
#include "vm/reset.h"
#include "vm/vm.h"

static struct vm vm;

static const char *load_nothing(struct vm *v, const void *image)
{
	(void)v;
	(void)image;
	return NULL;
}

static int setup_restart(void **state)
{
	fixture_setup_vm_dev(state);
	vm.reset.on_reset = VM_ON_RESET_RESTART;
	vm_set_boot_image(&vm, load_nothing, NULL);
	return 0;
}

static uint8_t status(void)
{
	return (uint8_t)io_port_read(&vm, PORT_I8042_STATUS, 1);
}

static void command(uint8_t c)
{
	io_port_write(&vm, PORT_I8042_STATUS, 1, c);
}

static void data(uint8_t d)
{
	io_port_write(&vm, PORT_I8042_DATA, 1, d);
}

static uint8_t read_data(void)
{
	return (uint8_t)io_port_read(&vm, PORT_I8042_DATA, 1);
}

/* A command's answer: OBF is set, the byte is read, OBF is clear again. */
static uint8_t answer(uint8_t c)
{
	command(c);
	if (!(status() & I8042_STR_OBF))
		fail_msg("command 0x%02x left nothing in the output buffer", c);
	uint8_t byte = read_data();
	assert_false(status() & I8042_STR_OBF);
	return byte;
}

static uint8_t command_byte(void)
{
	return answer(I8042_CMD_READ_CB);
}

static void write_command_byte(uint8_t cb)
{
	command(I8042_CMD_WRITE_CB);
	data(cb);
}

/* ---- Status and command byte ---- */

static void test_status_after_reset(void **state)
{
	(void)state;
	/* Nothing to read, input taken, system flag 0 (power-on), last write a
	 * command, keyboard not inhibited; no mouse data, time-out or parity. */
	assert_int_equal(status(), I8042_STR_CMD | I8042_STR_UNLOCKED);
	assert_int_equal(command_byte(), I8042_CB_KBD_INT | I8042_CB_AUX_INT);
}

static void test_status_bit3_says_whether_a_command_or_data_came_last(void **state)
{
	(void)state;
	command(I8042_CMD_WRITE_CB);
	assert_true(status() & I8042_STR_CMD);
	data(0x00);
	assert_false(status() & I8042_STR_CMD);
	command(I8042_CMD_KBD_ENABLE);
	assert_true(status() & I8042_STR_CMD);
}

static void test_command_byte_reads_back_and_carries_the_system_flag(void **state)
{
	(void)state;
	write_command_byte(0x65);
	assert_int_equal(command_byte(), 0x65);
	assert_true(status() & I8042_STR_SYS);
	write_command_byte(0xFB); /* bit 7 is reserved */
	assert_int_equal(command_byte(), 0x7B);
	assert_false(status() & I8042_STR_SYS);
}

static void test_a_command_cancels_one_waiting_for_its_data(void **state)
{
	(void)state;
	command(I8042_CMD_WRITE_CB);
	command(I8042_CMD_KBD_DISABLE);
	data(0x00); /* now a byte for the keyboard, not the command byte */
	assert_int_equal(command_byte(), 0x13);
}

/* ---- Tests and enable/disable ---- */

static void test_self_test_answers_0x55_and_sets_the_system_flag(void **state)
{
	(void)state;
	assert_int_equal(answer(I8042_CMD_SELF_TEST), 0x55);
	assert_true(status() & I8042_STR_SYS);
	assert_true(command_byte() & I8042_CB_SYS);
}

static void test_interface_tests_answer_0(void **state)
{
	(void)state;
	assert_int_equal(answer(I8042_CMD_KBD_TEST), 0x00);
	assert_int_equal(answer(I8042_CMD_AUX_TEST), 0x00);
}

static void test_enable_and_disable_change_command_byte_bits_4_and_5(void **state)
{
	(void)state;
	write_command_byte(0x00);
	command(I8042_CMD_KBD_DISABLE);
	assert_int_equal(command_byte(), I8042_CB_KBD_DIS);
	command(I8042_CMD_AUX_DISABLE);
	assert_int_equal(command_byte(), I8042_CB_KBD_DIS | I8042_CB_AUX_DIS);
	command(I8042_CMD_KBD_ENABLE);
	assert_int_equal(command_byte(), I8042_CB_AUX_DIS);
	command(I8042_CMD_AUX_ENABLE);
	assert_int_equal(command_byte(), 0x00);
	/* None of them answers. */
	assert_false(status() & I8042_STR_OBF);
}

/* ---- Nothing attached ---- */

static void test_bytes_for_the_keyboard_or_mouse_get_no_answer(void **state)
{
	(void)state;
	data(0xF2);                      /* keyboard: identify */
	data(0xFF);                      /* keyboard: reset */
	command(I8042_CMD_WRITE_AUX);
	data(0xF2);                      /* mouse: identify */
	assert_int_equal(status(), I8042_STR_UNLOCKED); /* no OBF, no time-out */
	assert_false(vm_irq_level(&vm, I8042_IRQ));
	/* The command byte was not touched by them. */
	assert_int_equal(command_byte(), I8042_CB_KBD_INT | I8042_CB_AUX_INT);
}

static void test_unknown_commands_are_ignored(void **state)
{
	(void)state;
	command(0xC0); /* read input port */
	command(0xD2); /* echo through the keyboard buffer */
	command(0x21); /* controller RAM */
	command(0xFF); /* pulse nothing */
	assert_false(status() & I8042_STR_OBF);
	assert_int_equal(fake_console_count("reset requested"), 0);
}

/* ---- Output buffer and IRQ1 ---- */

static void test_irq1_follows_the_output_buffer_when_enabled(void **state)
{
	(void)state;
	command(I8042_CMD_SELF_TEST); /* command byte bit 0 is set after reset */
	assert_true(vm_irq_level(&vm, I8042_IRQ));
	assert_int_equal(read_data(), 0x55);
	assert_false(vm_irq_level(&vm, I8042_IRQ));
	/* A read of the empty buffer returns the last byte and changes nothing. */
	assert_int_equal(read_data(), 0x55);
	assert_false(status() & I8042_STR_OBF);

	write_command_byte(0x00); /* interrupts off */
	command(I8042_CMD_KBD_TEST);
	assert_true(status() & I8042_STR_OBF);
	assert_false(vm_irq_level(&vm, I8042_IRQ));
	write_command_byte(I8042_CB_KBD_INT); /* the byte still waits: IRQ1 rises */
	assert_true(vm_irq_level(&vm, I8042_IRQ));
	assert_int_equal(read_data(), 0x00);
	assert_false(vm_irq_level(&vm, I8042_IRQ));
}

static void test_a_new_answer_overwrites_an_unread_one(void **state)
{
	(void)state;
	command(I8042_CMD_SELF_TEST);
	command(I8042_CMD_KBD_TEST);
	assert_int_equal(read_data(), 0x00);
	assert_false(status() & I8042_STR_OBF);
}

static void test_wide_accesses_use_the_low_byte(void **state)
{
	(void)state;
	assert_int_equal(io_port_read(&vm, PORT_I8042_STATUS, 2), 0xFF18);
	io_port_write(&vm, PORT_I8042_STATUS, 2, 0xAAAA); /* self-test */
	assert_int_equal(io_port_read(&vm, PORT_I8042_DATA, 4), 0xFFFFFF55u);
}

/* ---- Output port ---- */

static void test_output_port_reads_back_with_the_buffer_bits(void **state)
{
	(void)state;
	assert_int_equal(answer(I8042_CMD_READ_OUTPORT), 0xCF); /* reset line and A20 high */
	command(I8042_CMD_WRITE_OUTPORT);
	data(0xDD); /* A20 off; bit 4 is the buffer's, not the writer's */
	assert_int_equal(answer(I8042_CMD_READ_OUTPORT), 0xCD);
	/* With a byte waiting, bit 4 (the IRQ1 output) is high. */
	command(I8042_CMD_SELF_TEST);
	command(I8042_CMD_READ_OUTPORT);
	assert_int_equal(read_data(), 0xDD);
}

static void test_output_port_bit0_low_resets(void **state)
{
	(void)state;
	command(I8042_CMD_WRITE_OUTPORT);
	data(0xDF); /* the usual A20 enable: no reset */
	assert_int_equal(fake_console_count("reset requested"), 0);
	command(I8042_CMD_WRITE_OUTPORT);
	data(0xDE);
	assert_int_equal(fake_console_count("reset requested through the i8042 output port (command "
					    "0xD1, value 0xde: reset line low)"), 1);
}

static void test_pulse_commands_with_bit0_clear_reset(void **state)
{
	(void)state;
	command(I8042_CMD_PULSE_RESET);
	assert_int_equal(fake_console_count("reset requested through the i8042 (command 0xfe: pulse "
					    "of the reset line)"), 1);
	vm.reset.pending = 0; /* that restart is done */
	command(0xF0); /* pulses bits 0-3 */
	assert_int_equal(fake_console_count("(command 0xf0: pulse of the reset line)"), 1);
	vm.reset.pending = 0;
	command(0xFD); /* pulses bit 1 only: the A20 line, no reset */
	command(0xFF); /* pulses nothing */
	command(0xEE); /* no pulse command */
	assert_int_equal(fake_console_count("reset requested"), 2);
}

static void test_pulse_with_on_reset_stop_ends_the_vm(void **state)
{
	(void)state;
	command(I8042_CMD_PULSE_RESET);
	assert_true(vm.ended);
	assert_false(vm.success);
	assert_string_equal(vm.end_reason, "reset requested through the i8042 (command 0xfe: pulse of "
					   "the reset line) (on_reset=stop)");
}

/* ---- RESET ---- */

static void test_reset_restores_the_power_on_state(void **state)
{
	(void)state;
	write_command_byte(0x47);
	command(I8042_CMD_WRITE_OUTPORT);
	data(0xDD);
	command(I8042_CMD_SELF_TEST); /* leaves a byte and IRQ1 high */
	command(I8042_CMD_WRITE_CB);  /* waiting for its data */
	assert_true(vm_irq_level(&vm, I8042_IRQ));
	spin_lock(&vm.devices.lock);
	vm_reset_devices(&vm);
	spin_unlock(&vm.devices.lock);
	assert_false(vm_irq_level(&vm, I8042_IRQ));
	assert_int_equal(status(), I8042_STR_CMD | I8042_STR_UNLOCKED);
	data(0x00); /* for the keyboard now: the command was forgotten */
	assert_int_equal(command_byte(), 0x03);
	assert_int_equal(answer(I8042_CMD_READ_OUTPORT), 0xCF);
}

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)
#define R(f) cmocka_unit_test_prestate_setup_teardown(f, setup_restart, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_status_after_reset),
		T(test_status_bit3_says_whether_a_command_or_data_came_last),
		T(test_command_byte_reads_back_and_carries_the_system_flag),
		T(test_a_command_cancels_one_waiting_for_its_data),
		T(test_self_test_answers_0x55_and_sets_the_system_flag),
		T(test_interface_tests_answer_0),
		T(test_enable_and_disable_change_command_byte_bits_4_and_5),
		T(test_bytes_for_the_keyboard_or_mouse_get_no_answer),
		R(test_unknown_commands_are_ignored),
		T(test_irq1_follows_the_output_buffer_when_enabled),
		T(test_a_new_answer_overwrites_an_unread_one),
		T(test_wide_accesses_use_the_low_byte),
		T(test_output_port_reads_back_with_the_buffer_bits),
		R(test_output_port_bit0_low_resets),
		R(test_pulse_commands_with_bit0_clear_reset),
		T(test_pulse_with_on_reset_stop_ends_the_vm),
		T(test_reset_restores_the_power_on_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
