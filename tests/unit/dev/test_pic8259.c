/*
 * Tests of core/dev/pic8259.c: the 8259A pair of a VM built on the fake
 * platform, reached as a guest and the devices reach it: its ports
 * (ICWs, OCWs, ELCR), ISA lines (vm_set_irq), the INTR output
 * (vm->irq.extint_level) and the interrupt-acknowledge cycle
 * (vm_irq_acknowledge_extint).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dev/pic8259.h"
#include "dev/device.h"
#include "dev/ports.h"
#include "irq/irq.h"
#include "vm/vm.h"
#include "fixture_vm.h"

static struct vm vm;

#define M_CMD PIC_MASTER_COMMAND
#define M_DATA PIC_MASTER_DATA
#define S_CMD PIC_SLAVE_COMMAND
#define S_DATA PIC_SLAVE_DATA

#define OCW3_READ_IRR 0x0A
#define OCW3_READ_ISR 0x0B
#define OCW3_POLL     0x0C
#define OCW3_SET_SMM  0x68
#define OCW3_RESET_SMM 0x48
#define EOI           0x20
#define SPECIFIC_EOI  0x60
#define ROTATE_EOI    0xA0
#define ROTATE_SPECIFIC_EOI 0xE0
#define SET_PRIORITY  0xC0
#define ROTATE_AEOI_SET 0x80
#define ROTATE_AEOI_CLEAR 0x00

static void out(uint16_t port, uint8_t value)
{
	io_port_write(&vm, port, 1, value);
}

static uint8_t in(uint16_t port)
{
	return (uint8_t)io_port_read(&vm, port, 1);
}

static uint8_t irr(uint16_t command)
{
	out(command, OCW3_READ_IRR);
	return in(command);
}

static uint8_t isr(uint16_t command)
{
	out(command, OCW3_READ_ISR);
	return in(command);
}

static bool intr(void)
{
	return vm.irq.extint_level;
}

static uint8_t acknowledge(void)
{
	return vm_irq_acknowledge_extint(&vm);
}

/* The PC sequence: edge, cascade, ICW4; vectors 0x20/0x28; slave on IR2,
 * slave ID 2; the given ICW4 on both; nothing masked. */
static void init_pair(uint8_t icw4)
{
	out(M_CMD, 0x11);
	out(M_DATA, 0x20);
	out(M_DATA, 0x04);
	out(M_DATA, icw4);
	out(S_CMD, 0x11);
	out(S_DATA, 0x28);
	out(S_DATA, 0x02);
	out(S_DATA, icw4);
	out(M_DATA, 0x00);
	out(S_DATA, 0x00);
}

/* ---- power-up, initialization ---- */

static void test_power_up_state_and_no_interrupt_before_initialization(void **state)
{
	(void)state;
	assert_int_equal(in(M_DATA), 0x00);
	assert_int_equal(in(S_DATA), 0x00);
	assert_int_equal(irr(M_CMD), 0x00);
	assert_int_equal(isr(M_CMD), 0x00);
	assert_int_equal(in(PIC_ELCR_MASTER), 0x00);
	assert_int_equal(in(PIC_ELCR_SLAVE), 0x00);
	/* A request is latched, but an uninitialized chip keeps INT low. */
	vm_pulse_irq(&vm, 1);
	vm_pulse_irq(&vm, 9);
	assert_int_equal(irr(M_CMD), 0x02);
	assert_false(intr());
	/* Unmasking without an ICW sequence does not start it either. */
	out(M_DATA, 0x00);
	assert_false(intr());
	/* ICW1 forgets the edges; after the sequence a new edge interrupts. */
	init_pair(0x01);
	assert_false(intr());
	assert_int_equal(irr(M_CMD), 0x00);
	vm_pulse_irq(&vm, 1);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x21);
}

static void test_intr_stays_low_during_a_new_initialization(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_set_irq(&vm, 4, true);
	assert_true(intr());
	out(M_CMD, 0x11); /* ICW1: INT goes low until ICW4 */
	assert_false(intr());
	out(M_DATA, 0x40);
	out(M_DATA, 0x04);
	assert_false(intr());
	out(M_DATA, 0x01);
	/* The input is still high but made no new edge since ICW1. */
	assert_false(intr());
	vm_set_irq(&vm, 4, false);
	vm_set_irq(&vm, 4, true);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x44);
}

static void test_icw1_clears_mask_service_priority_and_modes(void **state)
{
	(void)state;
	init_pair(0x01);
	out(M_DATA, 0x5A);
	vm_pulse_irq(&vm, 0);
	assert_int_equal(acknowledge(), 0x20);
	out(M_CMD, SET_PRIORITY | 3);
	out(M_CMD, OCW3_SET_SMM);
	out(M_CMD, OCW3_READ_ISR);
	assert_int_equal(in(M_CMD), 0x01);
	out(M_CMD, 0x11);
	assert_int_equal(in(M_DATA), 0x00);    /* IMR cleared */
	assert_int_equal(in(M_CMD), 0x00);     /* read select back to IRR */
	out(M_DATA, 0x20);
	out(M_DATA, 0x04);
	out(M_DATA, 0x01);
	assert_int_equal(isr(M_CMD), 0x00);    /* ISR cleared */
	/* IR0 highest again (not IR4 after "lowest = 3"), special mask off. */
	vm_pulse_irq(&vm, 4);
	vm_pulse_irq(&vm, 0);
	assert_int_equal(acknowledge(), 0x20);
	assert_false(intr()); /* IR4 waits: no special mask mode */
}

static void test_single_mode_skips_icw3(void **state)
{
	(void)state;
	out(M_CMD, 0x13); /* single, ICW4 */
	out(M_DATA, 0x50);
	out(M_DATA, 0x01); /* ICW4, not ICW3 */
	out(M_DATA, 0xF0); /* OCW1 */
	assert_int_equal(in(M_DATA), 0xF0);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x53);
	out(M_CMD, 0x12); /* single, no ICW4 */
	out(M_DATA, 0x08);
	out(M_DATA, 0xF0); /* now OCW1 */
	assert_int_equal(in(M_DATA), 0xF0);
}

static void test_no_icw4_means_mcs80_vectors(void **state)
{
	(void)state;
	/* ICW1 0x52: A7-A5 = 010, interval 8, single, no ICW4 (uPM = 0):
	 * an x86 reads the CALL address's low byte, A7-A6 and the level. */
	out(M_CMD, 0x52);
	out(M_DATA, 0x12);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x40 | 3 << 3);
	out(M_CMD, EOI);
	/* ICW1 0x56: interval 4: A7-A5 and the level in bits 4:2. */
	out(M_CMD, 0x56);
	out(M_DATA, 0x12);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x40 | 3 << 2);
}

/* ---- OCW1, EOIs, priority ---- */

static void test_mask_holds_a_request_in_irr(void **state)
{
	(void)state;
	init_pair(0x01);
	out(M_DATA, 0xFB); /* IR1 masked */
	vm_pulse_irq(&vm, 1);
	assert_int_equal(irr(M_CMD), 0x02);
	assert_false(intr());
	out(M_DATA, 0xF9);
	assert_int_equal(in(M_DATA), 0xF9);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x21);
	assert_int_equal(irr(M_CMD), 0x00);
	assert_int_equal(isr(M_CMD), 0x02);
}

static void test_non_specific_eoi_lets_the_next_level_in(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_pulse_irq(&vm, 3);
	vm_pulse_irq(&vm, 1);
	assert_int_equal(acknowledge(), 0x21);
	assert_false(intr()); /* IR3 is below IR1 in service */
	out(M_CMD, EOI);
	assert_int_equal(isr(M_CMD), 0x00);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x23);
	/* A higher level interrupts a lower one in service (fully nested). */
	vm_pulse_irq(&vm, 0);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x20);
	assert_int_equal(isr(M_CMD), 0x09);
	out(M_CMD, EOI); /* ends the highest: IR0 */
	assert_int_equal(isr(M_CMD), 0x08);
	out(M_CMD, EOI);
	assert_int_equal(isr(M_CMD), 0x00);
	out(M_CMD, EOI); /* nothing in service: no effect */
	assert_int_equal(isr(M_CMD), 0x00);
}

static void test_specific_eoi_ends_the_named_level(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x23);
	vm_pulse_irq(&vm, 1);
	assert_int_equal(acknowledge(), 0x21);
	assert_int_equal(isr(M_CMD), 0x0A);
	out(M_CMD, SPECIFIC_EOI | 3);
	assert_int_equal(isr(M_CMD), 0x02);
	out(M_CMD, 0x40); /* OCW2 no operation */
	assert_int_equal(isr(M_CMD), 0x02);
}

/* The order the pair serves pending levels 0-7 of the master in. */
static void assert_service_order(const uint8_t *want)
{
	for (unsigned irq = 0; irq < 8; irq++)
		if (irq != 2)
			vm_pulse_irq(&vm, irq);
	for (unsigned i = 0; i < 7; i++) {
		assert_true(intr());
		assert_int_equal(acknowledge(), 0x20 + want[i]);
		out(M_CMD, SPECIFIC_EOI | want[i]);
	}
	assert_false(intr());
}

static void test_set_priority_and_rotation(void **state)
{
	(void)state;
	init_pair(0x01);
	out(M_DATA, 0x04); /* IR2 masked: no slave requests here */
	static const uint8_t fixed[] = { 0, 1, 3, 4, 5, 6, 7 };
	assert_service_order(fixed);
	out(M_CMD, SET_PRIORITY | 4); /* IR4 lowest: IR5 highest */
	static const uint8_t from5[] = { 5, 6, 7, 0, 1, 3, 4 };
	assert_service_order(from5);
	/* Rotate on non-specific EOI: the level ended becomes the lowest. */
	out(M_CMD, SET_PRIORITY | 7);
	vm_pulse_irq(&vm, 1);
	vm_pulse_irq(&vm, 5);
	assert_int_equal(acknowledge(), 0x21);
	out(M_CMD, ROTATE_EOI);
	assert_int_equal(isr(M_CMD), 0x00);
	vm_pulse_irq(&vm, 1);
	assert_int_equal(acknowledge(), 0x25); /* IR2..IR7 now go before IR1 */
	/* Rotate on specific EOI: ends IR5, makes IR5 lowest. */
	out(M_CMD, ROTATE_SPECIFIC_EOI | 5);
	assert_int_equal(isr(M_CMD), 0x00);
	/* Now 6, 7, 0, 1, 3, 4, 5: with IR1 still pending, IR7 goes first. */
	vm_pulse_irq(&vm, 5);
	vm_pulse_irq(&vm, 7);
	assert_int_equal(acknowledge(), 0x27);
	out(M_CMD, SPECIFIC_EOI | 7);
	assert_int_equal(acknowledge(), 0x21);
	out(M_CMD, SPECIFIC_EOI | 1);
	assert_int_equal(acknowledge(), 0x25);
}

static void test_rotate_in_automatic_eoi_mode(void **state)
{
	(void)state;
	init_pair(0x03); /* AEOI */
	out(M_DATA, 0x04);
	vm_pulse_irq(&vm, 1);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x21);
	assert_int_equal(isr(M_CMD), 0x00); /* ended by the INTA itself */
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x23);
	/* Without rotation IR1 keeps going before IR3. */
	vm_pulse_irq(&vm, 3);
	vm_pulse_irq(&vm, 1);
	assert_int_equal(acknowledge(), 0x21);
	assert_int_equal(acknowledge(), 0x23);
	/* Rotate in AEOI mode: each level served becomes the lowest. */
	out(M_CMD, ROTATE_AEOI_SET);
	vm_pulse_irq(&vm, 1);
	assert_int_equal(acknowledge(), 0x21);
	vm_pulse_irq(&vm, 1);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x23);
	assert_int_equal(acknowledge(), 0x21);
	/* Cleared again: the priority stays where the last rotation left it
	 * (IR1 lowest), and serving IR3 does not move it. */
	out(M_CMD, ROTATE_AEOI_CLEAR);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x23);
	vm_pulse_irq(&vm, 1);
	vm_pulse_irq(&vm, 3);
	assert_int_equal(acknowledge(), 0x23);
	assert_int_equal(acknowledge(), 0x21);
}

/* ---- OCW3 ---- */

static void test_read_register_select_persists(void **state)
{
	(void)state;
	init_pair(0x01);
	out(M_DATA, 0xFF);
	vm_pulse_irq(&vm, 6);
	out(M_CMD, OCW3_READ_IRR);
	assert_int_equal(in(M_CMD), 0x40);
	assert_int_equal(in(M_CMD), 0x40);
	out(M_DATA, 0x00);
	assert_int_equal(acknowledge(), 0x26);
	out(M_CMD, OCW3_READ_ISR);
	assert_int_equal(in(M_CMD), 0x40);
	out(M_CMD, 0x08); /* OCW3 with RR = 0: no change */
	assert_int_equal(in(M_CMD), 0x40);
	assert_int_equal(in(M_DATA), 0x00); /* the data port reads IMR */
}

static void test_special_mask_mode(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_pulse_irq(&vm, 1);
	assert_int_equal(acknowledge(), 0x21);
	vm_pulse_irq(&vm, 5);
	assert_false(intr()); /* IR1 in service blocks IR5 */
	/* Mask IR1 and enter special mask mode: lower levels get through. */
	out(M_DATA, 0x02);
	out(M_CMD, OCW3_SET_SMM);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x25);
	assert_int_equal(isr(M_CMD), 0x22);
	/* A non-specific EOI leaves the masked IR1 in service. */
	out(M_CMD, EOI);
	assert_int_equal(isr(M_CMD), 0x02);
	out(M_CMD, OCW3_RESET_SMM);
	out(M_DATA, 0x00);
	vm_pulse_irq(&vm, 5);
	assert_false(intr());
	out(M_CMD, EOI);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x25);
}

static void test_poll_mode(void **state)
{
	(void)state;
	init_pair(0x01);
	out(M_DATA, 0xFF); /* polled: no INTR wanted */
	out(M_CMD, OCW3_POLL);
	assert_int_equal(in(M_CMD), 0x00); /* I = 0: nothing pending */
	assert_int_equal(irr(M_CMD), 0x00); /* the poll was for one read */
	out(M_DATA, 0x00);
	vm_pulse_irq(&vm, 6);
	vm_pulse_irq(&vm, 3);
	out(M_CMD, OCW3_POLL);
	assert_int_equal(in(M_CMD), 0x83); /* I and level 3 */
	assert_int_equal(isr(M_CMD), 0x08); /* acknowledged: IS bit set */
	assert_int_equal(irr(M_CMD), 0x40);
	out(M_CMD, EOI);
	out(M_CMD, OCW3_POLL);
	assert_int_equal(in(M_DATA), 0x86); /* whichever port is read */
	assert_int_equal(in(M_DATA), 0x00); /* then IMR again */
	out(M_CMD, EOI);
	/* The slave is polled on its own: the master shows level 2. */
	vm_pulse_irq(&vm, 13);
	out(M_CMD, OCW3_POLL);
	assert_int_equal(in(M_CMD), 0x82);
	out(S_CMD, OCW3_POLL);
	assert_int_equal(in(S_CMD), 0x85);
	assert_int_equal(isr(S_CMD), 0x20);
}

static void test_poll_in_automatic_eoi_mode_sets_no_is_bit(void **state)
{
	(void)state;
	init_pair(0x03);
	vm_pulse_irq(&vm, 4);
	out(M_CMD, OCW3_POLL);
	assert_int_equal(in(M_CMD), 0x84);
	assert_int_equal(isr(M_CMD), 0x00);
	assert_int_equal(irr(M_CMD), 0x00);
}

/* ---- cascade, nesting ---- */

static void test_cascade_through_ir2(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_pulse_irq(&vm, 10);
	assert_true(intr());
	assert_int_equal(irr(M_CMD), 0x04);
	assert_int_equal(irr(S_CMD), 0x04);
	assert_int_equal(acknowledge(), 0x2A);
	assert_int_equal(isr(M_CMD), 0x04);
	assert_int_equal(isr(S_CMD), 0x04);
	assert_int_equal(irr(S_CMD), 0x00);
	out(S_CMD, EOI);
	out(M_CMD, EOI);
	assert_int_equal(isr(M_CMD), 0x00);
	assert_int_equal(isr(S_CMD), 0x00);
	/* Priorities across the pair: IR1 > IRQ 8-15 > IR3. */
	vm_pulse_irq(&vm, 3);
	vm_pulse_irq(&vm, 15);
	vm_pulse_irq(&vm, 1);
	assert_int_equal(acknowledge(), 0x21);
	out(M_CMD, EOI);
	assert_int_equal(acknowledge(), 0x2F);
	out(S_CMD, EOI);
	out(M_CMD, EOI);
	assert_int_equal(acknowledge(), 0x23);
}

static void test_slave_requests_wait_for_both_eois(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_pulse_irq(&vm, 12);
	vm_pulse_irq(&vm, 9);
	assert_int_equal(acknowledge(), 0x29);
	assert_false(intr());
	out(S_CMD, EOI);
	assert_false(intr()); /* the master still has IR2 in service */
	out(M_CMD, EOI);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x2C);
}

static void test_special_fully_nested_mode(void **state)
{
	(void)state;
	init_pair(0x01);
	out(M_CMD, 0x11); /* master again, with SFNM */
	out(M_DATA, 0x20);
	out(M_DATA, 0x04);
	out(M_DATA, 0x11);
	vm_pulse_irq(&vm, 12);
	assert_int_equal(acknowledge(), 0x2C);
	/* A higher slave level while IR2 is in service: accepted. */
	vm_pulse_irq(&vm, 9);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x29);
	assert_int_equal(isr(S_CMD), 0x12);
	/* A lower slave level is held by the slave itself; a master level
	 * below IR2 by the master. */
	vm_pulse_irq(&vm, 14);
	vm_pulse_irq(&vm, 5);
	assert_false(intr());
	/* The same without SFNM: the slave's higher level waits. */
	out(S_CMD, EOI);
	out(S_CMD, EOI);
	out(M_CMD, EOI);
	init_pair(0x01);
	vm_pulse_irq(&vm, 12);
	assert_int_equal(acknowledge(), 0x2C);
	vm_pulse_irq(&vm, 9);
	assert_false(intr());
}

static void test_slave_that_does_not_answer_the_cascade_address(void **state)
{
	(void)state;
	init_pair(0x01);
	out(S_CMD, 0x11);
	out(S_DATA, 0x28);
	out(S_DATA, 0x05); /* slave ID 5: not the IR it is wired to */
	out(S_DATA, 0x01);
	vm_pulse_irq(&vm, 8);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0xFF); /* nobody drives the bus */
	assert_int_equal(isr(M_CMD), 0x04);
	assert_int_equal(isr(S_CMD), 0x00);
}

static void test_master_without_a_slave_on_ir2_gives_its_own_vector(void **state)
{
	(void)state;
	out(M_CMD, 0x11);
	out(M_DATA, 0x20);
	out(M_DATA, 0x00); /* ICW3: no slave anywhere */
	out(M_DATA, 0x01);
	out(S_CMD, 0x11);
	out(S_DATA, 0x28);
	out(S_DATA, 0x02);
	out(S_DATA, 0x01);
	vm_pulse_irq(&vm, 11);
	assert_int_equal(acknowledge(), 0x22);
	assert_int_equal(isr(S_CMD), 0x00); /* the slave saw no INTA */
}

/* ---- edge and level, ELCR, spurious ---- */

static void test_edge_triggered_input_needs_a_new_edge(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_set_irq(&vm, 6, true);
	assert_int_equal(acknowledge(), 0x26);
	out(M_CMD, EOI);
	assert_false(intr()); /* still high, but no new edge */
	vm_set_irq(&vm, 6, false);
	assert_false(intr());
	vm_set_irq(&vm, 6, true);
	assert_true(intr());
	/* A pulse is remembered after the line went low again. */
	assert_int_equal(acknowledge(), 0x26);
	out(M_CMD, EOI);
	vm_set_irq(&vm, 6, false);
	vm_pulse_irq(&vm, 7);
	assert_int_equal(irr(M_CMD), 0x80);
	assert_int_equal(acknowledge(), 0x27);
	assert_int_equal(isr(M_CMD), 0x80);
}

static void test_level_triggered_input_through_elcr(void **state)
{
	(void)state;
	init_pair(0x01);
	out(PIC_ELCR_MASTER, 0x20); /* IRQ 5 level */
	vm_set_irq(&vm, 5, true);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x25);
	assert_int_equal(irr(M_CMD), 0x20); /* the request is the level */
	out(M_CMD, EOI);
	assert_true(intr()); /* still asserted: asks again */
	assert_int_equal(acknowledge(), 0x25);
	vm_set_irq(&vm, 5, false);
	assert_int_equal(irr(M_CMD), 0x00);
	out(M_CMD, EOI);
	assert_false(intr());
	/* A slave level input (IRQ 11) keeps asking through the cascade. */
	out(PIC_ELCR_SLAVE, 0x08);
	vm_set_irq(&vm, 11, true);
	assert_int_equal(acknowledge(), 0x2B);
	out(S_CMD, EOI);
	out(M_CMD, EOI);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x2B);
}

static void test_ltim_makes_every_input_level_triggered(void **state)
{
	(void)state;
	out(M_CMD, 0x19); /* LTIM */
	out(M_DATA, 0x20);
	out(M_DATA, 0x04);
	out(M_DATA, 0x01);
	vm_set_irq(&vm, 1, true); /* IRQ 1: the ELCR cannot make it level */
	assert_int_equal(acknowledge(), 0x21);
	out(M_CMD, EOI);
	assert_true(intr());
	vm_set_irq(&vm, 1, false);
	assert_false(intr());
	assert_int_equal(irr(M_CMD), 0x00);
}

static void test_elcr_fixed_bits_and_access_widths(void **state)
{
	(void)state;
	out(PIC_ELCR_MASTER, 0xFF);
	out(PIC_ELCR_SLAVE, 0xFF);
	assert_int_equal(in(PIC_ELCR_MASTER), 0xF8); /* IRQ 0, 1, 2 edge only */
	assert_int_equal(in(PIC_ELCR_SLAVE), 0xDE);  /* IRQ 8, 13 edge only */
	assert_int_equal(io_port_read(&vm, PIC_ELCR_MASTER, 2), 0xDEF8);
	io_port_write(&vm, PIC_ELCR_MASTER, 2, 0x0820);
	assert_int_equal(in(PIC_ELCR_MASTER), 0x20);
	assert_int_equal(in(PIC_ELCR_SLAVE), 0x08);
	/* A dword at 0x4D1: one ELCR byte, then nothing. */
	assert_int_equal(io_port_read(&vm, PIC_ELCR_SLAVE, 4), 0xFFFFFF08);
	/* The ELCR is the south bridge's, not the 8259's: ICW1 keeps it. */
	init_pair(0x01);
	assert_int_equal(in(PIC_ELCR_MASTER), 0x20);
}

static void test_spurious_master_ir7_when_the_request_went_away(void **state)
{
	(void)state;
	init_pair(0x01);
	out(PIC_ELCR_MASTER, 0x08);
	vm_set_irq(&vm, 3, true);
	assert_true(intr());
	vm_set_irq(&vm, 3, false); /* gone before the INTA */
	assert_int_equal(acknowledge(), 0x27);
	assert_int_equal(isr(M_CMD), 0x00); /* no IS bit for a spurious IR7 */
	/* An edge request masked before the INTA: spurious too. */
	vm_pulse_irq(&vm, 4);
	out(M_DATA, 0x10);
	assert_int_equal(acknowledge(), 0x27);
	assert_int_equal(isr(M_CMD), 0x00);
}

static void test_spurious_slave_ir7_when_the_request_went_away(void **state)
{
	(void)state;
	init_pair(0x01);
	out(PIC_ELCR_SLAVE, 0x08);
	vm_set_irq(&vm, 11, true);
	assert_true(intr());
	vm_set_irq(&vm, 11, false);
	/* The master had latched IR2: it takes the INTA, the slave has
	 * nothing left and gives its IR7: IRQ 15, master IR2 in service. */
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x2F);
	assert_int_equal(isr(M_CMD), 0x04);
	assert_int_equal(isr(S_CMD), 0x00);
	out(M_CMD, EOI);
	assert_false(intr());
}

/* ---- the interrupt route ---- */

static void test_intr_follows_the_master_output(void **state)
{
	(void)state;
	init_pair(0x01);
	assert_false(intr());
	vm_pulse_irq(&vm, 0);
	assert_true(intr());
	out(M_DATA, 0x01); /* masking takes INT down */
	assert_false(intr());
	out(M_DATA, 0x00);
	assert_true(intr());
	assert_int_equal(acknowledge(), 0x20);
	assert_false(intr()); /* acknowledged: nothing else pending */
	assert_int_equal(irr(M_CMD), 0x00);
	assert_int_equal(isr(M_CMD), 0x01);
}

static void test_only_isa_lines_reach_the_pair(void **state)
{
	(void)state;
	init_pair(0x01);
	vm_pulse_irq(&vm, 2);  /* no pin: IR2 is the cascade */
	for (unsigned line = 16; line < VM_IRQ_LINES; line++)
		vm_pulse_irq(&vm, line);
	assert_false(intr());
	assert_int_equal(irr(M_CMD), 0x00);
	assert_int_equal(irr(S_CMD), 0x00);
}

static void test_acknowledge_with_nothing_pending_is_spurious(void **state)
{
	(void)state;
	/* Never initialized: the ICWs are 0 (MCS-80/85 format, interval 8),
	 * so IR7's vector is 7 << 3; INTR never asked for it. */
	assert_false(intr());
	assert_int_equal(acknowledge(), 7 << 3);
	init_pair(0x01);
	assert_int_equal(acknowledge(), 0x27);
	assert_int_equal(isr(M_CMD), 0x00);
}

static void test_reset_returns_to_the_power_up_state(void **state)
{
	(void)state;
	init_pair(0x01);
	out(PIC_ELCR_MASTER, 0x20);
	out(M_DATA, 0x80);
	vm_pulse_irq(&vm, 1);
	assert_true(intr());
	spin_lock(&vm.devices.lock);
	vm_reset_devices(&vm);
	spin_unlock(&vm.devices.lock);
	assert_false(intr());
	assert_int_equal(in(M_DATA), 0x00);
	assert_int_equal(in(PIC_ELCR_MASTER), 0x00);
	assert_int_equal(irr(M_CMD), 0x00);
	vm_pulse_irq(&vm, 1);
	assert_false(intr()); /* not initialized again yet */
	init_pair(0x01);
	vm_pulse_irq(&vm, 1);
	assert_true(intr());
}

static void test_wide_accesses_are_byte_cycles(void **state)
{
	(void)state;
	init_pair(0x01);
	out(M_DATA, 0x5A);
	vm_pulse_irq(&vm, 0);
	/* A word at 0x20: IRR, then IMR. */
	assert_int_equal(io_port_read(&vm, M_CMD, 2), 0x5A01);
	/* A dword at 0x21: IMR, then nothing at 0x22-0x24. */
	assert_int_equal(io_port_read(&vm, M_DATA, 4), 0xFFFFFF5A);
	/* A word write at 0x20: OCW3 (read ISR) then OCW1. */
	io_port_write(&vm, M_CMD, 2, 0x330B);
	assert_int_equal(in(M_DATA), 0x33);
	assert_int_equal(in(M_CMD), 0x00);
	/* A word write at 0xA1 reaches only the slave's IMR. */
	io_port_write(&vm, S_DATA, 2, 0x11EE);
	assert_int_equal(in(S_DATA), 0xEE);
	assert_int_equal(in(M_DATA), 0x33);
}

#define V(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_con, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		V(test_power_up_state_and_no_interrupt_before_initialization),
		V(test_intr_stays_low_during_a_new_initialization),
		V(test_icw1_clears_mask_service_priority_and_modes),
		V(test_single_mode_skips_icw3),
		V(test_no_icw4_means_mcs80_vectors),
		V(test_mask_holds_a_request_in_irr),
		V(test_non_specific_eoi_lets_the_next_level_in),
		V(test_specific_eoi_ends_the_named_level),
		V(test_set_priority_and_rotation),
		V(test_rotate_in_automatic_eoi_mode),
		V(test_read_register_select_persists),
		V(test_special_mask_mode),
		V(test_poll_mode),
		V(test_poll_in_automatic_eoi_mode_sets_no_is_bit),
		V(test_cascade_through_ir2),
		V(test_slave_requests_wait_for_both_eois),
		V(test_special_fully_nested_mode),
		V(test_slave_that_does_not_answer_the_cascade_address),
		V(test_master_without_a_slave_on_ir2_gives_its_own_vector),
		V(test_edge_triggered_input_needs_a_new_edge),
		V(test_level_triggered_input_through_elcr),
		V(test_ltim_makes_every_input_level_triggered),
		V(test_elcr_fixed_bits_and_access_widths),
		V(test_spurious_master_ir7_when_the_request_went_away),
		V(test_spurious_slave_ir7_when_the_request_went_away),
		V(test_intr_follows_the_master_output),
		V(test_only_isa_lines_reach_the_pair),
		V(test_acknowledge_with_nothing_pending_is_spurious),
		V(test_reset_returns_to_the_power_up_state),
		V(test_wide_accesses_are_byte_cycles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
