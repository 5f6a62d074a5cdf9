/*
 * Tests of core/dev/uart16550.c: the 16550 UART of a VM built on the fake
 * platform, through its ports: transmit to the VM console, DLAB, IER, LSR,
 * scratch, IIR and FIFOs, modem status and loopback; each interrupt
 * source, their priority in IIR, the receive FIFO and its character
 * timeout, IRQ 4 (vm_irq_level) gated by OUT2 and through the 8259A pair,
 * the master reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "dev/device.h"
#include "dev/pic8259.h"
#include "dev/ports.h"
#include "irq/irq.h"
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

#define THR 0
#define RBR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define IER_ELSI  0x04
#define IER_EDSSI 0x08
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LCR_8N1  0x03

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

/* ---- interrupts ---- */

static bool irq4(void)
{
	return vm_irq_level(&vm, UART_COM1_IRQ);
}

static void test_uart_thre_interrupt_and_what_clears_it(void **state)
{
	(void)state;
	assert_int_equal(uart_rd(IIR), 0x01);
	/* Enabling ETBEI with THR empty raises the THRE source. */
	uart_wr(IER, IER_ETBEI);
	assert_int_equal(uart_rd(IIR), 0x02);
	/* The IIR read that reported it cleared it. */
	assert_int_equal(uart_rd(IIR), 0x01);
	/* A THR write: sent at once, THR empty again, THRE again. */
	uart_wr(THR, 'x');
	assert_int_equal(uart_rd(LSR), 0x60);
	assert_int_equal(uart_rd(IIR), 0x02);
	assert_int_equal(uart_rd(IIR), 0x01);
	/* Disabled and enabled again: raised again. */
	uart_wr(IER, 0);
	assert_int_equal(uart_rd(IIR), 0x01);
	uart_wr(IER, IER_ETBEI);
	uart_wr(IER, IER_ETBEI); /* no new rise: still one report */
	assert_int_equal(uart_rd(IIR), 0x02);
	assert_int_equal(uart_rd(IIR), 0x01);
	uart_wr(THR, '\n');
	assert_string_equal(fake_console_text(), "[con] x\n");
}

static void test_uart_irq4_is_gated_by_out2(void **state)
{
	(void)state;
	uart_wr(IER, IER_ETBEI);
	assert_false(irq4()); /* OUT2 clear: the PC's gate is shut */
	uart_wr(MCR, MCR_OUT2);
	assert_true(irq4());
	uart_wr(MCR, 0);
	assert_false(irq4());
	uart_wr(MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	assert_true(irq4());
	assert_int_equal(uart_rd(IIR), 0x02);
	assert_false(irq4()); /* the level falls with the source */
	uart_wr(THR, 'y');
	assert_true(irq4());
	uart_wr(IER, 0);
	assert_false(irq4());
}

static void test_uart_loopback_receives_what_is_sent(void **state)
{
	(void)state;
	uart_wr(LCR, LCR_8N1);
	uart_wr(MCR, MCR_LOOP);
	assert_int_equal(uart_rd(LSR), 0x60);
	uart_wr(THR, 'A');
	assert_int_equal(uart_rd(LSR), 0x61); /* DR */
	assert_int_equal(uart_rd(RBR), 'A');
	assert_int_equal(uart_rd(LSR), 0x60);
	assert_int_equal(uart_rd(RBR), 'A'); /* RBR keeps the last character */
	/* The receiver assembles only the word length's bits: 5 here. */
	uart_wr(LCR, 0x00);
	uart_wr(THR, 0xE1);
	assert_int_equal(uart_rd(RBR), 0x01);
	uart_wr(MCR, 0);
	uart_wr(THR, 'e');
	uart_wr(THR, '\n');
	assert_string_equal(fake_console_text(), "[con] e\n"); /* nothing looped back was printed */
}

static void test_uart_received_data_interrupt_16450_mode(void **state)
{
	(void)state;
	uart_wr(LCR, LCR_8N1);
	uart_wr(IER, IER_ERBFI);
	uart_wr(MCR, MCR_LOOP | MCR_OUT2);
	uart_wr(THR, 'r');
	assert_int_equal(uart_rd(IIR), 0x04);
	assert_int_equal(uart_rd(IIR), 0x04); /* an IIR read does not clear it */
	assert_false(irq4()); /* loopback holds the -OUT2 pin inactive */
	/* Out of loopback the pending source reaches IRQ 4. */
	uart_wr(MCR, MCR_OUT2);
	assert_true(irq4());
	assert_int_equal(uart_rd(RBR), 'r');
	assert_int_equal(uart_rd(IIR), 0x01);
	assert_false(irq4());
}

static void test_uart_overrun_and_line_status_interrupt(void **state)
{
	(void)state;
	uart_wr(LCR, LCR_8N1);
	uart_wr(IER, IER_ERBFI | IER_ELSI);
	uart_wr(MCR, MCR_LOOP);
	uart_wr(THR, '1');
	uart_wr(THR, '2'); /* 16450 mode: '1' is overwritten */
	assert_int_equal(uart_rd(IIR), 0x06); /* line status goes first */
	assert_int_equal(uart_rd(LSR), 0x63); /* OE, DR */
	assert_int_equal(uart_rd(LSR), 0x61); /* the LSR read reset OE */
	assert_int_equal(uart_rd(IIR), 0x04);
	assert_int_equal(uart_rd(RBR), '2');
	assert_int_equal(uart_rd(IIR), 0x01);
	/* OE without ELSI: in LSR only. */
	uart_wr(IER, 0);
	uart_wr(THR, '3');
	uart_wr(THR, '4');
	assert_int_equal(uart_rd(IIR), 0x01);
	assert_int_equal(uart_rd(LSR), 0x63);
}

static void test_uart_fifo_trigger_level(void **state)
{
	(void)state;
	uart_wr(LCR, LCR_8N1);
	uart_wr(FCR, 0x41); /* FIFOs on, trigger 4 */
	uart_wr(IER, IER_ERBFI);
	uart_wr(MCR, MCR_LOOP);
	for (char c = 'a'; c < 'd'; c++)
		uart_wr(THR, (uint8_t)c);
	assert_int_equal(uart_rd(LSR), 0x61);
	assert_int_equal(uart_rd(IIR), 0xC1); /* 3 < 4: not yet */
	uart_wr(THR, 'd');
	assert_int_equal(uart_rd(IIR), 0xC4);
	assert_int_equal(uart_rd(RBR), 'a');
	assert_int_equal(uart_rd(IIR), 0xC1); /* below the trigger again */
	assert_int_equal(uart_rd(RBR), 'b');
	assert_int_equal(uart_rd(RBR), 'c');
	assert_int_equal(uart_rd(RBR), 'd');
	assert_int_equal(uart_rd(LSR), 0x60);
	/* Trigger levels 8 and 14. */
	uart_wr(FCR, 0x81);
	for (unsigned i = 0; i < 7; i++)
		uart_wr(THR, (uint8_t)i);
	assert_int_equal(uart_rd(IIR), 0xC1);
	uart_wr(THR, 7);
	assert_int_equal(uart_rd(IIR), 0xC4);
	uart_wr(FCR, 0xC3); /* trigger 14, RCVR FIFO reset */
	assert_int_equal(uart_rd(LSR), 0x60);
	for (unsigned i = 0; i < 13; i++)
		uart_wr(THR, (uint8_t)i);
	assert_int_equal(uart_rd(IIR), 0xC1);
	uart_wr(THR, 13);
	assert_int_equal(uart_rd(IIR), 0xC4);
}

static void test_uart_fifo_overrun_keeps_the_fifo(void **state)
{
	(void)state;
	uart_wr(LCR, LCR_8N1);
	uart_wr(FCR, 0x01);
	uart_wr(MCR, MCR_LOOP);
	for (unsigned i = 0; i < UART_FIFO_BYTES + 1; i++)
		uart_wr(THR, (uint8_t)(0x40 + i));
	assert_int_equal(uart_rd(LSR), 0x63);
	for (unsigned i = 0; i < UART_FIFO_BYTES; i++)
		assert_int_equal(uart_rd(RBR), 0x40 + i);
	assert_int_equal(uart_rd(LSR), 0x60); /* the 17th was lost */
}

static void test_uart_fifo_mode_change_and_reset_empty_the_fifo(void **state)
{
	(void)state;
	uart_wr(LCR, LCR_8N1);
	uart_wr(MCR, MCR_LOOP);
	uart_wr(FCR, 0x01);
	uart_wr(THR, 'a');
	uart_wr(FCR, 0x00); /* FIFO -> 16450 mode: cleared */
	assert_int_equal(uart_rd(LSR), 0x60);
	assert_int_equal(uart_rd(IIR), 0x01);
	uart_wr(THR, 'b');
	uart_wr(FCR, 0x01); /* 16450 -> FIFO mode: cleared */
	assert_int_equal(uart_rd(LSR), 0x60);
	uart_wr(THR, 'c');
	uart_wr(FCR, 0x05); /* XMIT reset alone leaves the receiver */
	assert_int_equal(uart_rd(LSR), 0x61);
	uart_wr(FCR, 0x03); /* RCVR reset */
	assert_int_equal(uart_rd(LSR), 0x60);
	uart_wr(THR, 'd');
	uart_wr(FCR, 0x02); /* bit 0 = 0: FIFOs off (and emptied), nothing else programmed */
	assert_int_equal(uart_rd(IIR), 0x01);
	assert_int_equal(uart_rd(LSR), 0x60);
}

static void test_uart_character_timeout(void **state)
{
	(void)state;
	uart_wr(LCR, 0x80);
	uart_wr(0, 1); /* divisor 1: 115200 baud */
	uart_wr(1, 0);
	uart_wr(LCR, LCR_8N1); /* 10 bits a character */
	uart_wr(FCR, 0x41);    /* trigger 4 */
	uart_wr(IER, IER_ERBFI);
	uart_wr(MCR, MCR_LOOP);
	/* Four characters of 10 bits of 16 clocks at 1.8432 MHz. */
	uint64_t wait = device_clock_to_tsc(4 * 10 * 16, 1843200, fake_tsc_hz);
	uint64_t before = fake_cpu.tsc;
	uart_wr(THR, 'a');
	uart_wr(THR, 'b');
	uint64_t deadline = vm_device_deadline(&vm.devices);
	assert_true(deadline >= before + wait && deadline <= fake_cpu.tsc + wait);
	vm_device_timers_expire(&vm, deadline - 1);
	assert_int_equal(uart_rd(IIR), 0xC1);
	vm_device_timers_expire(&vm, deadline);
	assert_int_equal(uart_rd(IIR), 0xCC);
	/* A new character does not clear an indication that occurred. */
	uart_wr(THR, 'c');
	assert_int_equal(uart_rd(IIR), 0xCC);
	/* Reading a character clears it and restarts the timer. */
	assert_int_equal(uart_rd(RBR), 'a');
	assert_int_equal(uart_rd(IIR), 0xC1);
	deadline = vm_device_deadline(&vm.devices);
	assert_true(deadline > 0);
	vm_device_timers_expire(&vm, deadline);
	assert_int_equal(uart_rd(IIR), 0xCC);
	assert_int_equal(uart_rd(RBR), 'b');
	assert_int_equal(uart_rd(RBR), 'c');
	/* Empty: no timer, no timeout. */
	assert_int_equal(vm_device_deadline(&vm.devices), 0);
	assert_int_equal(uart_rd(IIR), 0xC1);
	/* The data-available source goes first when both are there. */
	for (char c = 'w'; c <= 'z'; c++)
		uart_wr(THR, (uint8_t)c);
	vm_device_timers_expire(&vm, vm_device_deadline(&vm.devices));
	assert_int_equal(uart_rd(IIR), 0xC4);
	/* No timeout in 16450 mode. */
	uart_wr(FCR, 0x00);
	uart_wr(THR, 'q');
	assert_int_equal(vm_device_deadline(&vm.devices), 0);
}

static void test_uart_modem_status_deltas_and_interrupt(void **state)
{
	(void)state;
	assert_int_equal(uart_rd(MSR), 0xB0);
	uart_wr(IER, IER_EDSSI);
	assert_int_equal(uart_rd(IIR), 0x01);
	/* Loopback disconnects CTS, DSR, DCD (they follow RTS, DTR, OUT2). */
	uart_wr(MCR, MCR_LOOP);
	assert_int_equal(uart_rd(IIR), 0x00);
	assert_int_equal(uart_rd(MSR), 0x0B); /* DCTS, DDSR, DDCD */
	assert_int_equal(uart_rd(MSR), 0x00); /* read: deltas reset */
	assert_int_equal(uart_rd(IIR), 0x01);
	uart_wr(MCR, MCR_LOOP | MCR_OUT1); /* RI on: no delta (only its end) */
	assert_int_equal(uart_rd(MSR), 0x40);
	uart_wr(MCR, MCR_LOOP);            /* RI off: trailing edge */
	assert_int_equal(uart_rd(MSR), 0x04);
	uart_wr(MCR, MCR_LOOP | MCR_RTS);
	assert_int_equal(uart_rd(MSR), 0x11);
	uart_wr(MCR, MCR_LOOP | MCR_RTS | MCR_DTR);
	assert_int_equal(uart_rd(MSR), 0x32);
	uart_wr(MCR, MCR_LOOP | MCR_RTS | MCR_DTR | MCR_OUT2);
	assert_int_equal(uart_rd(MSR), 0xB8);
	uart_wr(MCR, 0xFF); /* bits 7:5 stay 0 */
	assert_int_equal(uart_rd(MCR), 0x1F);
	assert_int_equal(uart_rd(MSR), 0xF0);
}

static void test_uart_interrupt_priority_order(void **state)
{
	(void)state;
	uart_wr(LCR, LCR_8N1);
	uart_wr(MCR, MCR_LOOP);           /* modem deltas */
	uart_wr(THR, '1');
	uart_wr(THR, '2');                /* overrun */
	uart_wr(IER, 0x0F);               /* and THRE */
	assert_int_equal(uart_rd(IIR), 0x06);
	uart_rd(LSR);
	assert_int_equal(uart_rd(IIR), 0x04);
	uart_rd(RBR);
	assert_int_equal(uart_rd(IIR), 0x02);
	assert_int_equal(uart_rd(IIR), 0x00); /* THRE reported once */
	uart_rd(MSR);
	assert_int_equal(uart_rd(IIR), 0x01);
}

static void test_uart_interrupt_reaches_the_pic(void **state)
{
	(void)state;
	/* The PC sequence on both 8259As, vectors 0x20/0x28, all unmasked. */
	static const uint8_t init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xA0, 0x11 }, { 0xA1, 0x28 }, { 0xA1, 0x02 }, { 0xA1, 0x01 },
		{ 0x21, 0x00 }, { 0xA1, 0x00 },
	};
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		io_port_write(&vm, init[i][0], 1, init[i][1]);
	uart_wr(IER, IER_ETBEI);
	assert_false(vm.irq.extint_level);
	uart_wr(MCR, MCR_OUT2);
	assert_true(vm.irq.extint_level);
	assert_int_equal(vm_irq_acknowledge_extint(&vm), 0x24);
	assert_int_equal(uart_rd(IIR), 0x02); /* the handler's IIR read */
	io_port_write(&vm, 0x20, 1, 0x20);   /* EOI */
	assert_false(vm.irq.extint_level);
	uart_wr(THR, 'z');                    /* the next THRE */
	assert_true(vm.irq.extint_level);
	uart_wr(THR, '\n');
}

static void test_uart_master_reset(void **state)
{
	(void)state;
	uart_wr(LCR, 0x80);
	uart_wr(0, 0x0C);
	uart_wr(LCR, LCR_8N1);
	uart_wr(SCR, 0x77);
	uart_wr(FCR, 0xC1);
	uart_wr(IER, 0x0F);
	uart_wr(MCR, MCR_LOOP | MCR_OUT2);
	uart_wr(THR, 'k');
	uart_wr(THR, 'l');
	uart_wr(MCR, MCR_OUT2);
	assert_true(irq4());
	spin_lock(&vm.devices.lock);
	vm_reset_devices(&vm);
	spin_unlock(&vm.devices.lock);
	assert_false(irq4());
	assert_int_equal(uart_rd(IER), 0x00);
	assert_int_equal(uart_rd(IIR), 0x01);
	assert_int_equal(uart_rd(LCR), 0x00);
	assert_int_equal(uart_rd(MCR), 0x00);
	assert_int_equal(uart_rd(LSR), 0x60);
	assert_int_equal(uart_rd(MSR), 0xB0);
	assert_int_equal(uart_rd(SCR), 0x77);   /* kept */
	uart_wr(LCR, 0x80);
	assert_int_equal(uart_rd(0), 0x0C);     /* the divisor latch is kept */
	assert_int_equal(vm_device_deadline(&vm.devices), 0);
}

static void test_uart_wide_access_past_the_last_register(void **state)
{
	(void)state;
	uart_wr(SCR, 0x5C);
	assert_int_equal(io_port_read(&vm, PORT_COM1 + 6, 4), 0xFFFF5CB0);
	io_port_write(&vm, PORT_COM1 + 7, 2, 0x1122);
	assert_int_equal(uart_rd(SCR), 0x22);
	assert_int_equal(uart_rd(0), 0x00); /* nothing wrapped around to offset 0 */
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
		V(test_uart_thre_interrupt_and_what_clears_it),
		V(test_uart_irq4_is_gated_by_out2),
		V(test_uart_loopback_receives_what_is_sent),
		V(test_uart_received_data_interrupt_16450_mode),
		V(test_uart_overrun_and_line_status_interrupt),
		V(test_uart_fifo_trigger_level),
		V(test_uart_fifo_overrun_keeps_the_fifo),
		V(test_uart_fifo_mode_change_and_reset_empty_the_fifo),
		V(test_uart_character_timeout),
		V(test_uart_modem_status_deltas_and_interrupt),
		V(test_uart_interrupt_priority_order),
		V(test_uart_interrupt_reaches_the_pic),
		V(test_uart_master_reset),
		V(test_uart_wide_access_past_the_last_register),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
