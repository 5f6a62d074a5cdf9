#include "dev/pic8259.h"

#include "dev/device.h"
#include "dev/ports.h"
#include "irq/irq.h"

/*
 * Section names below are those of the Intel 8259A data sheet ("8259A
 * Programmable Interrupt Controller", order number 231468).
 *
 * Decisions where the data sheet leaves a choice (docs/guest-contract.md):
 *
 * - Power-up and RESET.  The 8259A has no RESET input and its state at
 *   power-up is undefined; the data sheet says that "before normal
 *   operation can begin, each 8259A in the system must be brought to a
 *   starting point" by the ICW sequence.  The PIIX/ICH reset only the ELCR
 *   (default 00h).  cvisor's chips start, and return on a VM reset, with
 *   IRR, ISR, IMR and ELCR clear and IR7 lowest priority, and hold their
 *   INT output low until a whole ICW sequence has been written (again
 *   after every ICW1).  A guest that never initializes the PIC (a
 *   Multiboot kernel, which has no BIOS before it) gets no interrupt from
 *   it.  KVM's and QEMU's reset leave IMR 0 and vector base 0 and would
 *   deliver; there the BIOS always initializes the pair first.
 * - ICW1 also clears ISR, as KVM and QEMU do (the data sheet's list of
 *   what ICW1 does names the edge sense, IMR, priority, slave address,
 *   special mask and read select, not ISR).
 * - Edge-triggered inputs keep their request in IRR from the rising edge
 *   until it is acknowledged, as KVM and QEMU do: the data sheet wants the
 *   input held high until the first INTA, but cvisor's ISA devices pulse
 *   their lines (vm_pulse_irq) in no time.
 * - The master's IR2 follows the slave's INT: a level-triggered IR2 is its
 *   level; an edge-triggered IR2 (the PC's, ELCR bit 2 is fixed 0)
 *   latches a request whenever the slave has one, as KVM re-pulses IR2 on
 *   every change.  A slave request that outlives an acknowledge (the
 *   slave in AEOI or special mask mode) is not lost, and one that went
 *   away before the acknowledge gives the slave's spurious IR7 (IRQ 15).
 * - ICW4's BUF and M/S bits are kept but do not change a chip's role: on
 *   a PC the pair is wired non-buffered (the PIIX/ICH want BUF = 0), the
 *   master's SP/EN high and the slave's low.
 * - An INTA that no chip answers (the master names a cascade input with
 *   no slave wired to it, or a slave whose ICW3 ID is not 2 or that is
 *   in single mode) reads 0xFF from the undriven bus.
 */

/* ICW1 (A0 = 0, D4 = 1), "Initialization Command Words". */
#define ICW1_IC4  0x01 /* ICW4 follows */
#define ICW1_SNGL 0x02 /* single 8259A, no ICW3 */
#define ICW1_ADI  0x04 /* MCS-80/85 CALL address interval 4 (else 8) */
#define ICW1_LTIM 0x08 /* level-triggered inputs */
#define ICW1_SELECT 0x10

/* ICW4. */
#define ICW4_UPM  0x01 /* 8086/8088 mode (else MCS-80/85) */
#define ICW4_AEOI 0x02
#define ICW4_MS   0x04
#define ICW4_BUF  0x08
#define ICW4_SFNM 0x10
#define ICW4_BITS 0x1F /* D7-D5 are 0 */

/* OCW3 (A0 = 0, D4:D3 = 01), "Operation Command Words". */
#define OCW3_SELECT 0x08
#define OCW3_RIS  0x01
#define OCW3_RR   0x02
#define OCW3_P    0x04
#define OCW3_SMM  0x20
#define OCW3_ESMM 0x40

/* OCW2 (A0 = 0, D4:D3 = 00): R, SL, EOI in D7:D5, the level L in D2:D0. */
enum ocw2_command {
	OCW2_ROTATE_AEOI_CLEAR = 0,
	OCW2_NON_SPECIFIC_EOI = 1,
	OCW2_NO_OPERATION = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4,
	OCW2_ROTATE_NON_SPECIFIC_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* The poll word: I (an interrupt was pending) and W2-W0 (its level). */
#define POLL_INTERRUPT 0x80

/* PIIX4/ICH ELCR: IRQ 0, 1, 2 (ELCR1 bits 2:0) and IRQ 8, 13 (ELCR2 bits
 * 0, 5) are edge-triggered only; those bits read 0. */
static const uint8_t elcr_writable[2] = { 0xF8, 0xDE };

/* Is input irq level-triggered: ICW1.LTIM for every input, or its ELCR bit
 * ("Edge and Level Triggered Modes"; the PIIX/ICH ELCR per input). */
static uint8_t level_inputs(const struct pic8259 *c)
{
	return (c->icw1 & ICW1_LTIM) ? 0xFF : c->elcr;
}

/* A level-triggered request is the input's level now. */
static void follow_level_inputs(struct pic8259 *c)
{
	uint8_t level = level_inputs(c);
	c->irr = (uint8_t)((c->irr & ~level) | (c->pins & level));
}

/* The master's inputs that have a slave (ICW3, cascade mode only). */
static uint8_t cascade_inputs(const struct pic8259 *c)
{
	return (c->is_master && !(c->icw1 & ICW1_SNGL)) ? c->icw3 : 0;
}

/* The n-th level in priority order: the one after the lowest-priority
 * level goes first ("Rotation"). */
static unsigned level_by_priority(const struct pic8259 *c, unsigned n)
{
	return (c->lowest_priority + 1u + n) & 7u;
}

/* ISR bits that count for priority: in special mask mode a masked level in
 * service does not inhibit others ("Special Mask Mode"). */
static uint8_t counted_in_service(const struct pic8259 *c)
{
	return c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr;
}

/*
 * The priority resolver ("Interrupt Sequence", "Fully Nested Mode"): the
 * highest-priority unmasked request above every level in service, or -1.
 * In special fully nested mode the master also accepts a request from a
 * cascade input that is itself in service: a slave's higher-priority
 * request ("Special Fully Nested Mode").
 */
static int highest_request(const struct pic8259 *c)
{
	uint8_t pending = (uint8_t)(c->irr & ~c->imr);
	uint8_t in_service = counted_in_service(c);
	uint8_t nested = (c->icw4 & ICW4_SFNM) ? cascade_inputs(c) : 0;

	for (unsigned n = 0; n < 8; n++) {
		unsigned irq = level_by_priority(c, n);
		uint8_t bit = (uint8_t)(1u << irq);
		if (in_service & bit)
			return (pending & nested & bit) ? (int)irq : -1;
		if (pending & bit)
			return (int)irq;
	}
	return -1;
}

/* The level a non-specific EOI ends: the highest-priority one in service;
 * in special mask mode a masked one is left alone ("End of Interrupt"). */
static int highest_in_service(const struct pic8259 *c)
{
	uint8_t in_service = counted_in_service(c);

	for (unsigned n = 0; n < 8; n++) {
		unsigned irq = level_by_priority(c, n);
		if (in_service & (1u << irq))
			return (int)irq;
	}
	return -1;
}

/*
 * The vector an x86 reads in the second INTA cycle ("Interrupt Sequence
 * Outputs"): in 8086 mode T7-T3 from ICW2 and the level; in MCS-80/85
 * mode (ICW4.uPM = 0, also when ICW1 asked for no ICW4) the low byte of
 * the CALL address, A7-A5 and the level for an interval of 4, A7-A6 and
 * the level for an interval of 8.
 */
static uint8_t chip_vector(const struct pic8259 *c, unsigned irq)
{
	if (c->icw4 & ICW4_UPM)
		return (uint8_t)((c->icw2 & 0xF8) | irq);
	if (c->icw1 & ICW1_ADI)
		return (uint8_t)((c->icw1 & 0xE0) | irq << 2);
	return (uint8_t)((c->icw1 & 0xC0) | irq << 3);
}

/* One chip's acknowledge of level irq: the IS bit is set and the request
 * taken from IRR; in automatic EOI mode the IS bit is reset again at the
 * end of the INTA sequence, and with rotate in AEOI mode the level becomes
 * the lowest priority ("Automatic End of Interrupt Mode"). */
static void acknowledge_level(struct pic8259 *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << irq);

	if (!(level_inputs(c) & bit))
		c->irr &= (uint8_t)~bit;
	if (!(c->icw4 & ICW4_AEOI))
		c->isr |= bit;
	else if (c->rotate_in_aeoi)
		c->lowest_priority = (uint8_t)irq;
}

/* INT: an initialized chip with a request its resolver lets through. */
static bool chip_output(const struct pic8259 *c)
{
	return c->initialized && highest_request(c) >= 0;
}

/* Recomputes both outputs after any change: the slave's INT into the
 * master's IR2, the master's INT onto INTR. */
static void pair_update(struct vm *vm, struct pic8259_pair *pair)
{
	struct pic8259 *master = &pair->chip[0], *slave = &pair->chip[1];
	uint8_t cascade = 1u << PIC_CASCADE_IR;

	slave->output = chip_output(slave);
	if (slave->output)
		master->pins |= cascade;
	else
		master->pins &= (uint8_t)~cascade;
	if (level_inputs(master) & cascade)
		follow_level_inputs(master);
	else if (slave->output)
		master->irr |= cascade;
	master->output = chip_output(master);
	if (master->output != pair->intr) {
		pair->intr = master->output;
		vm_irq_set_extint(vm, master->output);
	}
}

/* ICW1: "a. The edge sense circuit is reset ... b. The Interrupt Mask
 * Register is cleared. c. IR7 input is assigned priority 7. d. The slave
 * mode address is set to 7. e. Special Mask Mode is cleared and Status
 * Read is set to IRR. f. If IC4 = 0, then all functions selected in ICW4
 * are set to zero."  ISR is cleared too (see the top of the file). */
static void write_icw1(struct pic8259 *c, uint8_t value)
{
	c->icw1 = value;
	c->init_step = 2;
	c->initialized = false;
	c->irr = 0;
	follow_level_inputs(c); /* the edges are forgotten, levels stay */
	c->imr = 0;
	c->isr = 0;
	c->lowest_priority = 7;
	c->icw3 = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_in_aeoi = false;
	c->icw4 = 0;
}

/* ICW2-ICW4 on the data port; ICW3 only in cascade mode, ICW4 only when
 * ICW1 asked for it ("Initialization Sequence" flow chart). */
static void write_icw(struct pic8259 *c, uint8_t value)
{
	bool icw4_follows = c->icw1 & ICW1_IC4;

	switch (c->init_step) {
	case 2:
		c->icw2 = value;
		c->init_step = (c->icw1 & ICW1_SNGL) ? (icw4_follows ? 4 : 0) : 3;
		break;
	case 3:
		c->icw3 = value;
		c->init_step = icw4_follows ? 4 : 0;
		break;
	default:
		c->icw4 = value & ICW4_BITS;
		c->init_step = 0;
		break;
	}
	if (!c->init_step)
		c->initialized = true;
}

/* OCW2: the EOI, rotation and priority commands. */
static void write_ocw2(struct pic8259 *c, uint8_t value)
{
	unsigned level = value & 7u;
	int irq;

	switch ((enum ocw2_command)(value >> 5)) {
	case OCW2_NON_SPECIFIC_EOI:
	case OCW2_ROTATE_NON_SPECIFIC_EOI:
		irq = highest_in_service(c);
		if (irq < 0)
			break;
		c->isr &= (uint8_t)~(1u << irq);
		if (value >> 5 == OCW2_ROTATE_NON_SPECIFIC_EOI)
			c->lowest_priority = (uint8_t)irq;
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << level);
		c->lowest_priority = (uint8_t)level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest_priority = (uint8_t)level;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_in_aeoi = true;
		break;
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_in_aeoi = false;
		break;
	case OCW2_NO_OPERATION:
		break;
	}
}

/* OCW3: poll (P overrides RR for the next read), read register select
 * (RR = 1: RIS picks ISR or IRR), special mask mode (ESMM = 1: SMM sets or
 * resets it).  D7 should be 0 and is ignored. */
static void write_ocw3(struct pic8259 *c, uint8_t value)
{
	if (value & OCW3_P)
		c->poll = true;
	if (value & OCW3_RR)
		c->read_isr = value & OCW3_RIS;
	if (value & OCW3_ESMM)
		c->special_mask = value & OCW3_SMM;
}

static void chip_write(struct pic8259 *c, bool data_port, uint8_t value)
{
	if (data_port) {
		if (c->init_step)
			write_icw(c, value);
		else
			c->imr = value; /* OCW1 */
	} else if (value & ICW1_SELECT) {
		write_icw1(c, value);
	} else if (value & OCW3_SELECT) {
		write_ocw3(c, value);
	} else {
		write_ocw2(c, value);
	}
}

/*
 * A read: after a poll command the poll word, whichever port ("Poll
 * Command": the next RD pulse is an interrupt acknowledge: the IS bit is
 * set for a pending request, and I and W2-W0 are read); else IMR on the
 * data port, IRR or ISR (OCW3) on the command port.
 */
static uint8_t chip_read(struct pic8259 *c, bool data_port)
{
	if (c->poll) {
		c->poll = false;
		int irq = highest_request(c);
		if (irq < 0)
			return 0;
		acknowledge_level(c, (unsigned)irq);
		return (uint8_t)(POLL_INTERRUPT | irq);
	}
	if (data_port)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

/* 0x20/0x21 master, 0xA0/0xA1 slave.  A wider access is the ISA bus's
 * byte cycles on consecutive ports; a byte past the chip's two ports
 * reaches nothing (all ones, writes dropped). */
static struct pic8259 *chip_at(struct pic8259_pair *pair, uint16_t port)
{
	return &pair->chip[port >= PIC_SLAVE_COMMAND];
}

static uint32_t pic_port_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct pic8259_pair *pair = state;
	struct pic8259 *c = chip_at(pair, port);
	uint16_t base = port & (uint16_t)~1u;
	uint32_t value = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned at = (unsigned)(port - base) + i;
		uint32_t byte = at < 2 ? chip_read(c, at == 1) : 0xFF;
		value |= byte << (8 * i);
	}
	pair_update(vm, pair);
	return value;
}

static void pic_port_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	struct pic8259_pair *pair = state;
	struct pic8259 *c = chip_at(pair, port);
	uint16_t base = port & (uint16_t)~1u;

	for (unsigned i = 0; i < size; i++) {
		unsigned at = (unsigned)(port - base) + i;
		if (at < 2)
			chip_write(c, at == 1, (uint8_t)(value >> (8 * i)));
	}
	pair_update(vm, pair);
}

static const struct port_ops pic_ops = { .read = pic_port_read, .write = pic_port_write };

/* ELCR1 (0x4D0) and ELCR2 (0x4D1), read/write, one byte each. */
static uint32_t elcr_port_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct pic8259_pair *pair = state;
	uint32_t value = 0;
	(void)vm;

	for (unsigned i = 0; i < size; i++) {
		unsigned at = (unsigned)(port - PIC_ELCR_MASTER) + i;
		value |= (uint32_t)(at < 2 ? pair->chip[at].elcr : 0xFF) << (8 * i);
	}
	return value;
}

static void elcr_port_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	struct pic8259_pair *pair = state;

	for (unsigned i = 0; i < size; i++) {
		unsigned at = (unsigned)(port - PIC_ELCR_MASTER) + i;
		if (at >= 2)
			continue;
		pair->chip[at].elcr = (uint8_t)(value >> (8 * i)) & elcr_writable[at];
		follow_level_inputs(&pair->chip[at]);
	}
	pair_update(vm, pair);
}

static const struct port_ops elcr_ops = { .read = elcr_port_read, .write = elcr_port_write };

/* An ISA line changed: IRQ 0-7 on the master, 8-15 on the slave.  IRQ 2
 * is no pin (the master's IR2 is the slave's INT; the ISA bus's IRQ2
 * contact reaches IRQ 9), and lines 16-23 go to the I/O APIC only.  A
 * level-triggered input follows the level; an edge-triggered one latches
 * a request on the rising edge ("Edge and Level Triggered Modes"). */
static void pic_set_line(struct vm *vm, void *opaque, unsigned line, bool level)
{
	struct pic8259_pair *pair = opaque;

	if (line >= 16 || line == PIC_CASCADE_IR)
		return;
	struct pic8259 *c = &pair->chip[line >> 3];
	uint8_t bit = (uint8_t)(1u << (line & 7));
	bool rising = level && !(c->pins & bit);

	if (level)
		c->pins |= bit;
	else
		c->pins &= (uint8_t)~bit;
	if (level_inputs(c) & bit)
		follow_level_inputs(c);
	else if (rising)
		c->irr |= bit;
	pair_update(vm, pair);
}

/* The slave's part of an INTA sequence for master input cascade_ir: it
 * answers when its ICW3 ID is the input's number (CAS2-0); with no
 * request left it gives its IR7 ("Cascading", "Interrupt Sequence"). */
static uint8_t slave_acknowledge(struct pic8259 *slave, unsigned cascade_ir)
{
	if (cascade_ir != PIC_CASCADE_IR || (slave->icw1 & ICW1_SNGL) || (slave->icw3 & 7u) != cascade_ir)
		return 0xFF;
	int irq = slave->initialized ? highest_request(slave) : -1;
	if (irq < 0)
		return chip_vector(slave, 7);
	acknowledge_level(slave, (unsigned)irq);
	return chip_vector(slave, (unsigned)irq);
}

/*
 * The processor's INTA cycles: the master resolves; a cascade input hands
 * the vector to the slave.  "If no interrupt request is present at step 4
 * ... the 8259A will issue an interrupt level 7" and sets no IS bit.
 */
static uint8_t pic_acknowledge(struct vm *vm, void *opaque)
{
	struct pic8259_pair *pair = opaque;
	struct pic8259 *master = &pair->chip[0];
	int irq = master->initialized ? highest_request(master) : -1;
	uint8_t vector;

	if (irq < 0) {
		vector = chip_vector(master, 7);
	} else {
		acknowledge_level(master, (unsigned)irq);
		if (cascade_inputs(master) & (1u << irq))
			vector = slave_acknowledge(&pair->chip[1], (unsigned)irq);
		else
			vector = chip_vector(master, (unsigned)irq);
	}
	pair_update(vm, pair);
	return vector;
}

/* The state at power-up and after a VM reset (see the top of the file);
 * the input pins keep their levels, ELCR is 00h (PIIX/ICH default). */
static void chip_power_up(struct pic8259 *c, bool is_master)
{
	uint8_t pins = c->pins;

	*c = (struct pic8259){ .is_master = is_master, .pins = pins, .lowest_priority = 7, .icw3 = 7 };
}

static void pic_reset(struct vm *vm, void *state)
{
	struct pic8259_pair *pair = state;

	chip_power_up(&pair->chip[0], true);
	chip_power_up(&pair->chip[1], false);
	pair_update(vm, pair);
}

bool pic8259_attach(struct vm *vm)
{
	struct pic8259_pair *pair = vm_device_state(vm, sizeof(*pair), "8259A PICs");

	if (!pair)
		return false;
	chip_power_up(&pair->chip[0], true);
	chip_power_up(&pair->chip[1], false);
	const struct irq_chip chip = {
		.name = "8259A pair",
		.set_line = pic_set_line,
		.acknowledge = pic_acknowledge,
		.opaque = pair,
	};
	return vm_register_ports(vm, "8259A master", PIC_MASTER_COMMAND, PIC_MASTER_DATA, &pic_ops, pair) &&
	       vm_register_ports(vm, "8259A slave", PIC_SLAVE_COMMAND, PIC_SLAVE_DATA, &pic_ops, pair) &&
	       vm_register_ports(vm, "ELCR", PIC_ELCR_MASTER, PIC_ELCR_SLAVE, &elcr_ops, pair) &&
	       vm_add_irq_chip(vm, &chip) && vm_add_device_reset(vm, "8259A PICs", pic_reset, pair);
}
