/*
 * Tests of core/dev/uart16550.c: the 16550 UART of a VM built on the fake
 * platform, through its ports: transmit to the VM console, DLAB, IER, LSR,
 * scratch, IIR and FIFOs, modem status and loopback.
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

/* ---- 16550 UART ---- */

#define LCR 3

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
#define V(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_con, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		V(test_uart_transmit_goes_to_the_vm_console),
		V(test_uart_dlab_switches_to_the_divisor_latch),
		V(test_uart_ier_keeps_four_bits),
		V(test_uart_line_status_always_says_transmitter_empty),
		V(test_uart_scratch_register_round_trips),
		V(test_uart_iir_reports_fifos_once_enabled),
		V(test_uart_modem_status_without_loopback),
		V(test_uart_loopback_sends_nothing_out),
		V(test_uart_loopback_modem_status_follows_the_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
