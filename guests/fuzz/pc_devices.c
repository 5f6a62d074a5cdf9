/*
 * Random access sequences for the PC's devices, at their architectural
 * ports and pages, and for the interrupts two vCPUs send each other.
 * Each sequence is a list of port and MMIO accesses (struct device_op):
 * the boot processor turns it into an instruction snippet (fuzz.c, so it
 * also runs at CPL 3, in 64-bit code and under the TSS's I/O bitmap), the
 * second vCPU performs it directly (second_vcpu.c).
 *
 * The sequences follow each device's programming model closely enough to
 * reach its deeper states (initialization sequences, latches, indexed
 * registers), then mix in values and accesses the model does not expect:
 * the device must give every one a defined outcome.  A device that is not
 * there (yet) answers as the open bus; that too must never hurt cvisor.
 */
#include "fuzz.h"

#include "guest.h"
#include "lib/format.h"

#define PICK(r, array) ((array)[fuzz_rng_below((r), sizeof(array) / sizeof((array)[0]))])

static void add(struct device_ops *ops, enum device_op_kind kind, unsigned size,
		uint32_t address, uint32_t value)
{
	if (ops->count >= DEVICE_OPS_MAX)
		return;
	ops->op[ops->count++] = (struct device_op){ (uint8_t)kind, (uint8_t)size, address, value };
}

static void out8(struct device_ops *ops, uint16_t port, uint32_t value)
{
	add(ops, OP_PORT_WRITE, 1, port, value & 0xFF);
}

static void in8(struct device_ops *ops, uint16_t port)
{
	add(ops, OP_PORT_READ, 1, port, 0);
}

static void mmio_write32(struct device_ops *ops, uint32_t address, uint32_t value)
{
	add(ops, OP_MMIO_WRITE, 4, address, value);
}

static void mmio_read32(struct device_ops *ops, uint32_t address)
{
	add(ops, OP_MMIO_READ, 4, address, 0);
}

static unsigned access_size(struct fuzz_rng *r)
{
	static const uint8_t sizes[] = { 1, 1, 2, 4 };
	return PICK(r, sizes);
}

/* A port access of any size and direction at port, value random. */
static void any_port_access(struct fuzz_rng *r, struct device_ops *ops, uint16_t port)
{
	unsigned size = access_size(r);
	uint32_t value = fuzz_rng_next(r);
	if (size < 4)
		value &= (1u << (8 * size)) - 1;
	add(ops, fuzz_rng_one_in(r, 2) ? OP_PORT_WRITE : OP_PORT_READ, size, port, value);
}

/* ---- 8259A (Intel 8259A data sheet; ELCR: Intel PIIX4/ICH data sheets) ---- */

/* Vector bases worth trying: the BIOS's (0x08, 0x70), Linux's (0x30),
 * others, and ones with the low three bits set (ICW2 ignores them in
 * 8086 mode: "T7-T3"). */
static const uint8_t pic_vector_bases[] = { 0x08, 0x70, 0x20, 0x28, 0x30, 0x38, 0x40, 0xF8,
					    0x00, 0x27, 0x81 };

static void pic_init_sequence(struct fuzz_rng *r, struct device_ops *ops, bool slave)
{
	uint16_t command = slave ? 0xA0 : 0x20, data = command + 1;
	/* ICW1: D4 = 1 marks it; D0 IC4 (ICW4 follows), D1 SNGL (no ICW3),
	 * D2 ADI, D3 LTIM (level-triggered), D7-D5 only for MCS-80/85. */
	uint8_t icw1 = 0x11;
	if (fuzz_rng_one_in(r, 3))
		icw1 = (uint8_t)(0x10 | (fuzz_rng_next(r) & 0xEF));
	out8(ops, command, icw1);
	if (fuzz_rng_one_in(r, 16))
		return; /* the sequence left half way: the next OCW1 write is ICW2 */
	out8(ops, data, fuzz_rng_one_in(r, 4) ? fuzz_rng_next(r) : PICK(r, pic_vector_bases));
	/* ICW3 unless SNGL: the master's slave mask (the slave on IR2), the
	 * slave's ID (2). */
	if (!(icw1 & 0x02))
		out8(ops, data, fuzz_rng_one_in(r, 4) ? fuzz_rng_next(r) : slave ? 0x02 : 0x04);
	/* ICW4 if IC4: D0 uPM (8086), D1 AEOI, D2 M/S, D3 BUF, D4 SFNM. */
	if (icw1 & 0x01)
		out8(ops, data, fuzz_rng_one_in(r, 3) ? fuzz_rng_next(r) & 0x1F : 0x01);
	/* OCW1, the mask. */
	if (fuzz_rng_one_in(r, 2))
		out8(ops, data, fuzz_rng_one_in(r, 2) ? 0x00 : fuzz_rng_next(r));
}

static void pic_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 5);
	for (unsigned i = 0; i < n; i++) {
		bool slave = fuzz_rng_one_in(r, 3);
		uint16_t command = slave ? 0xA0 : 0x20, data = command + 1;
		switch (fuzz_rng_below(r, 9)) {
		case 0:
			pic_init_sequence(r, ops, slave);
			break;
		case 1: /* OCW1: the interrupt mask */
			out8(ops, data, fuzz_rng_one_in(r, 3) ? 0xFF : fuzz_rng_next(r));
			break;
		case 2: { /* OCW2: D4 = D3 = 0; R SL EOI in D7-D5, the level in D2-D0 */
			static const uint8_t ocw2[] = { 0x20, 0x20, 0x60, 0xA0, 0x80, 0x00, 0xE0,
							0xC0, 0x40 };
			out8(ops, command, PICK(r, ocw2) | fuzz_rng_below(r, 8));
			break;
		}
		case 3: /* OCW3: D3 = 1; ESMM/SMM, P (poll), RR/RIS, then a read */
			out8(ops, command, 0x08 | (fuzz_rng_next(r) & 0x67));
			in8(ops, command);
			break;
		case 4: /* IRR, ISR or a poll as OCW3 left it; the IMR */
			in8(ops, fuzz_rng_one_in(r, 2) ? command : data);
			break;
		case 5: /* ELCR: one bit per IRQ, level-triggered when set */
			if (fuzz_rng_one_in(r, 2))
				out8(ops, slave ? 0x4D1 : 0x4D0, fuzz_rng_next(r));
			in8(ops, slave ? 0x4D1 : 0x4D0);
			break;
		case 6: /* an EOI as a handler writes it */
			out8(ops, command, 0x20);
			break;
		default:
			any_port_access(r, ops, fuzz_rng_one_in(r, 4) ? (uint16_t)(0x4D0 + fuzz_rng_below(r, 2))
								 : (uint16_t)(command + fuzz_rng_below(r, 2)));
			break;
		}
	}
}

/* ---- 8254 (Intel 8254 data sheet) ------------------------------------------ */

static void pit_count(struct fuzz_rng *r, struct device_ops *ops, unsigned counter, unsigned rw)
{
	/* Tiny counts in the periodic modes are an interrupt storm: rare. */
	uint32_t count = fuzz_rng_one_in(r, 16) ? fuzz_rng_below(r, 4)
			 : fuzz_rng_one_in(r, 3) ? fuzz_rng_next(r) : 0x100 + fuzz_rng_below(r, 0xFF00);
	uint16_t port = (uint16_t)(0x40 + counter);
	/* RW = 1: LSB only, 2: MSB only, 3: LSB then MSB. */
	if (rw == 1 || rw == 3)
		out8(ops, port, count);
	if (rw == 2 || rw == 3)
		out8(ops, port, count >> 8);
}

static void pit_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 4);
	for (unsigned i = 0; i < n; i++) {
		unsigned counter = fuzz_rng_one_in(r, 8) ? 3 : fuzz_rng_below(r, 3);
		switch (fuzz_rng_below(r, 7)) {
		case 0: case 1: case 2: {
			/* Control word: SC (D7-D6), RW (D5-D4), mode M2-M0 (D3-D1;
			 * 6 and 7 are modes 2 and 3), BCD (D0). */
			unsigned rw = 1 + fuzz_rng_below(r, 3), mode = fuzz_rng_below(r, 8);
			if (counter == 3)
				counter = fuzz_rng_below(r, 3);
			out8(ops, 0x43, counter << 6 | rw << 4 | mode << 1 | (fuzz_rng_one_in(r, 8) ? 1 : 0));
			if (!fuzz_rng_one_in(r, 8))
				pit_count(r, ops, counter, rw);
			break;
		}
		case 3: /* counter latch command (RW = 0), then the two bytes */
			if (counter == 3)
				counter = 0;
			out8(ops, 0x43, counter << 6);
			in8(ops, (uint16_t)(0x40 + counter));
			if (!fuzz_rng_one_in(r, 4))
				in8(ops, (uint16_t)(0x40 + counter));
			break;
		case 4: { /* read-back: D7-D6 = 11, D5 = !COUNT, D4 = !STATUS, D3-D1 counters */
			uint8_t command = (uint8_t)(0xC0 | (fuzz_rng_next(r) & 0x3E));
			out8(ops, 0x43, command);
			for (unsigned k = 0, reads = 1 + fuzz_rng_below(r, 3); k < reads; k++)
				in8(ops, (uint16_t)(0x40 + fuzz_rng_below(r, 3)));
			break;
		}
		case 5: /* port B: timer 2 gate (D0), speaker data (D1), NMI enables; reads OUT2 (D5) */
			if (fuzz_rng_one_in(r, 2))
				out8(ops, 0x61, fuzz_rng_one_in(r, 2) ? fuzz_rng_below(r, 4) : fuzz_rng_next(r));
			in8(ops, 0x61);
			break;
		default:
			any_port_access(r, ops, (uint16_t)(0x40 + fuzz_rng_below(r, 4)));
			break;
		}
	}
}

/* ---- MC146818 RTC and CMOS RAM (Motorola MC146818A data sheet) ---------- */

static void rtc_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 5);
	for (unsigned i = 0; i < n; i++) {
		/* The index, with D7 (the PC's NMI mask) set one time in four. */
		uint8_t index = fuzz_rng_one_in(r, 2) ? (uint8_t)fuzz_rng_below(r, 14)
				: (uint8_t)fuzz_rng_below(r, 128);
		if (fuzz_rng_one_in(r, 4))
			index |= 0x80;
		out8(ops, 0x70, index);
		switch (fuzz_rng_below(r, 6)) {
		case 0: {
			/* Register A: DV2-DV0 (D6-D4; 010 is the 32.768 kHz time base,
			 * 11x holds the divider in reset), RS3-RS0 (D3-D0) the
			 * periodic rate; UIP (D7) is read-only. */
			static const uint8_t divider[] = { 0x20, 0x20, 0x60, 0x70, 0x00, 0x10 };
			out8(ops, 0x70, (index & 0x80) | 0x0A);
			out8(ops, 0x71, PICK(r, divider) | fuzz_rng_below(r, 16) |
					(fuzz_rng_one_in(r, 8) ? 0x80 : 0));
			break;
		}
		case 1:
			/* Register B: SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE. */
			out8(ops, 0x70, (index & 0x80) | 0x0B);
			out8(ops, 0x71, fuzz_rng_one_in(r, 2) ? 0x02 | (fuzz_rng_next(r) & 0x70)
							    : fuzz_rng_next(r));
			break;
		case 2:
			/* Register C (flags, cleared by the read) and D (VRT). */
			out8(ops, 0x70, (index & 0x80) | (uint8_t)(0x0C + fuzz_rng_below(r, 2)));
			in8(ops, 0x71);
			break;
		case 3:
			out8(ops, 0x71, fuzz_rng_next(r));
			break;
		default:
			in8(ops, 0x71);
			break;
		}
		if (fuzz_rng_one_in(r, 8))
			any_port_access(r, ops, (uint16_t)(0x70 + fuzz_rng_below(r, 2)));
	}
}

/* ---- PCI configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2) ---- */

static uint32_t pci_config_address(struct fuzz_rng *r)
{
	/* D31 enable, bus D23-D16, device D15-D11, function D10-D8,
	 * register D7-D2; D1-D0 read as 0 for type 0 accesses. */
	uint32_t bus = fuzz_rng_one_in(r, 4) ? fuzz_rng_below(r, 256) : 0;
	uint32_t device = fuzz_rng_one_in(r, 2) ? fuzz_rng_below(r, 4) : fuzz_rng_below(r, 32);
	uint32_t function = fuzz_rng_one_in(r, 2) ? 0 : fuzz_rng_below(r, 8);
	static const uint8_t registers[] = { 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C,
					     0x20, 0x24, 0x2C, 0x30, 0x34, 0x3C, 0x40, 0xFC };
	uint32_t reg = fuzz_rng_one_in(r, 2) ? PICK(r, registers) : fuzz_rng_below(r, 256) & 0xFC;
	uint32_t address = (fuzz_rng_one_in(r, 8) ? 0 : 1u << 31) | bus << 16 | device << 11 |
			   function << 8 | reg;
	if (fuzz_rng_one_in(r, 16))
		address |= fuzz_rng_below(r, 4) | (fuzz_rng_next(r) & 0x7F000000u); /* reserved bits */
	return fuzz_rng_one_in(r, 32) ? fuzz_rng_next(r) : address;
}

static void pci_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 4);
	for (unsigned i = 0; i < n; i++) {
		switch (fuzz_rng_below(r, 6)) {
		case 0: case 1: case 2: {
			/* CONFIG_ADDRESS (a dword access), then CONFIG_DATA at any of
			 * its four bytes, any size. */
			add(ops, OP_PORT_WRITE, 4, 0xCF8, pci_config_address(r));
			unsigned accesses = 1 + fuzz_rng_below(r, 3);
			for (unsigned k = 0; k < accesses; k++) {
				unsigned size = access_size(r);
				uint16_t port = (uint16_t)(0xCFC + (size == 4 ? 0 : size == 2 ? 2 * fuzz_rng_below(r, 2)
											 : fuzz_rng_below(r, 4)));
				if (fuzz_rng_one_in(r, 8))
					port = (uint16_t)(0xCFC + fuzz_rng_below(r, 4)); /* straddling */
				bool write = fuzz_rng_one_in(r, 3);
				/* Writing all ones to a BAR and reading it back sizes it. */
				uint32_t value = fuzz_rng_one_in(r, 2) ? 0xFFFFFFFFu : fuzz_rng_next(r);
				if (size < 4)
					value &= (1u << (8 * size)) - 1;
				add(ops, write ? OP_PORT_WRITE : OP_PORT_READ, size, port, value);
			}
			break;
		}
		case 3: /* CONFIG_ADDRESS read back */
			add(ops, OP_PORT_READ, 4, 0xCF8, 0);
			break;
		default: /* byte and word accesses to 0xCF8-0xCFB are not CONFIG_ADDRESS */
			any_port_access(r, ops, (uint16_t)(0xCF8 + fuzz_rng_below(r, 8)));
			break;
		}
	}
}

/* ---- reset paths ------------------------------------------------------------- */

/*
 * The reset control register 0xCF9 (PIIX4/ICH data sheets: D1 SYS_RST,
 * D2 RST_CPU starts the reset, D3 FULL_RST), System Control Port A 0x92
 * (D0 fast reset, D1 A20 gate), the i8042 (0x64 command 0xFE pulses the
 * reset line; 0xD1 writes its output port, whose D0 low is the reset).
 * A reset may end the VM (a normal outcome), so the accesses that ask for
 * one are rare and the rest leave the reset bits clear.
 */
static void reset_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 3);
	for (unsigned i = 0; i < n; i++) {
		bool reset = fuzz_rng_one_in(r, 16);
		switch (fuzz_rng_below(r, 5)) {
		case 0:
			if (reset) {
				static const uint8_t resets[] = { 0x06, 0x0E, 0x04, 0x02 | 0x04 };
				out8(ops, 0xCF9, PICK(r, resets));
			} else {
				out8(ops, 0xCF9, fuzz_rng_next(r) & ~0x04u);
			}
			in8(ops, 0xCF9);
			break;
		case 1:
			in8(ops, 0x92);
			out8(ops, 0x92, reset ? 0x01 | (fuzz_rng_next(r) & 0x02) : fuzz_rng_next(r) & ~0x01u);
			break;
		case 2: {
			/* i8042 commands: read/write the command byte, self tests,
			 * disable/enable the ports, read/write the output port. */
			static const uint8_t commands[] = { 0x20, 0x60, 0xAA, 0xAB, 0xAD, 0xAE, 0xA7,
							    0xA8, 0xA9, 0xC0, 0xD0, 0xD1, 0xD2, 0xD4 };
			uint8_t command = reset ? 0xFE : PICK(r, commands);
			in8(ops, 0x64); /* status */
			out8(ops, 0x64, command);
			if (command == 0xD1)
				out8(ops, 0x60, reset ? fuzz_rng_next(r) & ~0x01u : fuzz_rng_next(r) | 0x01);
			else if (command == 0x60 || command == 0xD2 || command == 0xD4)
				out8(ops, 0x60, fuzz_rng_next(r));
			else if (!fuzz_rng_one_in(r, 3))
				in8(ops, 0x60);
			break;
		}
		case 3: /* reads around 0xCF9: a byte at 0xCF8, a word or a dword that covers it */
			add(ops, OP_PORT_READ, PICK(r, ((const uint8_t[]){ 1, 2, 4 })), 0xCF8 + fuzz_rng_below(r, 2), 0);
			break;
		default:
			in8(ops, fuzz_rng_one_in(r, 2) ? 0x60 : 0x64);
			break;
		}
	}
}

/* ---- ACPI fixed-hardware registers (ACPI 6.x 4.8) ------------------------- */

/*
 * A PM block's layout as a PC's chipset places it (PIIX4 at 0xB000, ICH9
 * at 0x600): PM1 status (+0, write 1 to clear) and enable (+2), PM1
 * control (+4: SCI_EN D0, SLP_TYP D12-D10, SLP_EN D13), the PM timer (+8,
 * read-only), GPE0 status and enable further up.  SLP_EN with the S5 sleep
 * type ends the VM, so writes keep SLP_EN clear but one time in sixteen.
 */
static void acpi_pm_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 5);
	uint16_t block = fuzz_rng_one_in(r, 2) ? 0x600 : 0xB000;
	for (unsigned i = 0; i < n; i++) {
		static const uint8_t offsets[] = { 0, 2, 4, 8, 0x0C, 0x10, 0x20, 0x28, 0x2C };
		uint16_t port = (uint16_t)(block + (fuzz_rng_one_in(r, 2) ? PICK(r, offsets)
									  : fuzz_rng_below(r, 64)));
		unsigned size = (port & 3) == 0 && fuzz_rng_one_in(r, 2) ? 4 : access_size(r);
		uint32_t value = fuzz_rng_one_in(r, 3) ? 0xFFFFFFFFu : fuzz_rng_next(r);
		if ((port & 0x3F) == 4 && fuzz_rng_one_in(r, 2))
			value = 0x0001 | (fuzz_rng_below(r, 8) << 10); /* SCI_EN, a sleep type */
		if (!fuzz_rng_one_in(r, 16))
			for (unsigned b = 0; b < size; b++)
				if (((port + b) & 0x3F) == 5)
					value &= ~(0x20u << (8 * b)); /* SLP_EN, D13 of PM1 control */
		if (size < 4)
			value &= (1u << (8 * size)) - 1;
		add(ops, fuzz_rng_one_in(r, 2) ? OP_PORT_READ : OP_PORT_WRITE, size, port, value);
	}
}

/* ---- 16550 UART (National PC16550D data sheet) ------------------------------- */

static void uart_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 6);
	for (unsigned i = 0; i < n; i++) {
		switch (fuzz_rng_below(r, 9)) {
		case 0: /* LCR: word length, stop bits, parity, break, DLAB (D7) */
			out8(ops, 0x3FB, fuzz_rng_one_in(r, 2) ? 0x03 : fuzz_rng_next(r));
			break;
		case 1: /* the divisor latch, with DLAB set and cleared again */
			out8(ops, 0x3FB, 0x83);
			out8(ops, 0x3F8, fuzz_rng_one_in(r, 2) ? 1 : fuzz_rng_next(r));
			out8(ops, 0x3F9, fuzz_rng_one_in(r, 2) ? 0 : fuzz_rng_next(r));
			out8(ops, 0x3FB, 0x03);
			break;
		case 2: /* IER: received data (D0), THR empty (D1), line status (D2), modem status (D3) */
			out8(ops, 0x3F9, fuzz_rng_one_in(r, 4) ? fuzz_rng_next(r) : fuzz_rng_below(r, 16));
			break;
		case 3: /* FCR: enable (D0), clear receive (D1) and transmit (D2) FIFOs, DMA mode, trigger level */
			out8(ops, 0x3FA, fuzz_rng_next(r));
			break;
		case 4: /* MCR: DTR, RTS, OUT1, OUT2 (gates the PC's IRQ 4), LOOP (D4) */
			out8(ops, 0x3FC, fuzz_rng_one_in(r, 2) ? 0x08 | (fuzz_rng_next(r) & 0x17)
							     : fuzz_rng_next(r));
			break;
		case 5: /* a byte out: looped back to the receiver with LOOP, else printed */
			out8(ops, 0x3F8, 'a' + fuzz_rng_below(r, 26));
			break;
		case 6: /* what interrupts: IIR, LSR, MSR, RBR */
			in8(ops, (uint16_t)(0x3F8 + PICK(r, ((const uint8_t[]){ 0, 2, 2, 5, 6 }))));
			break;
		default:
			any_port_access(r, ops, (uint16_t)(0x3F8 + fuzz_rng_below(r, 8)));
			break;
		}
	}
}

/* ---- I/O APIC (82093AA data sheet, 3.0-3.2) ---------------------------------- */

/* A redirection entry's low dword (3.2.4): vector (D7-D0), delivery mode
 * (D10-D8: fixed, lowest priority, SMI, NMI, INIT, ExtINT and the two
 * reserved ones), destination mode (D11), polarity (D13), trigger mode
 * (D15), mask (D16). */
static uint32_t redirection_low(struct fuzz_rng *r)
{
	static const uint8_t modes[] = { 0, 0, 0, 0, 1, 1, 4, 5, 7, 2, 3, 6 };
	uint32_t vector = fuzz_rng_one_in(r, 8) ? fuzz_rng_below(r, 32) : 0x20 + fuzz_rng_below(r, 0xE0);
	uint32_t low = vector | (uint32_t)PICK(r, modes) << 8;
	if (fuzz_rng_one_in(r, 4))
		low |= 1u << 11;
	if (fuzz_rng_one_in(r, 4))
		low |= 1u << 13;
	if (fuzz_rng_one_in(r, 3))
		low |= 1u << 15;
	if (fuzz_rng_one_in(r, 4))
		low |= 1u << 16;
	if (fuzz_rng_one_in(r, 16))
		low |= fuzz_rng_next(r) & 0xFFFE5000u; /* read-only and reserved bits */
	return low;
}

/* The high dword: the destination (D63-D56). */
static uint32_t redirection_high(struct fuzz_rng *r)
{
	static const uint8_t destinations[] = { 0, 1, 1, 3, 0xFF, 0x0F, 2 };
	uint32_t high = (uint32_t)PICK(r, destinations) << 24;
	return fuzz_rng_one_in(r, 8) ? fuzz_rng_next(r) : high;
}

static void ioapic_write_entry(struct fuzz_rng *r, struct device_ops *ops, unsigned pin)
{
	/* High dword first, as an OS does, so the entry is never half-aimed
	 * while unmasked; one time in four the other way round. */
	bool high_first = !fuzz_rng_one_in(r, 4);
	for (unsigned k = 0; k < 2; k++) {
		bool high = (k == 0) == high_first;
		mmio_write32(ops, IOAPIC_PAGE + 0x00, 0x10 + 2 * pin + (high ? 1 : 0));
		mmio_write32(ops, IOAPIC_PAGE + 0x10, high ? redirection_high(r) : redirection_low(r));
	}
}

static void ioapic_sequence(struct fuzz_rng *r, struct device_ops *ops)
{
	unsigned n = 1 + fuzz_rng_below(r, 4);
	for (unsigned i = 0; i < n; i++) {
		switch (fuzz_rng_below(r, 8)) {
		case 0: case 1:
			ioapic_write_entry(r, ops, fuzz_rng_one_in(r, 8) ? fuzz_rng_below(r, 64)
									  : fuzz_rng_below(r, 24));
			break;
		case 2: /* a register read: ID, version, arbitration, an entry, beyond */
			mmio_write32(ops, IOAPIC_PAGE + 0x00, fuzz_rng_one_in(r, 2) ? fuzz_rng_below(r, 0x40)
									      : fuzz_rng_next(r));
			mmio_read32(ops, IOAPIC_PAGE + 0x10);
			break;
		case 3: /* ID (D27-D24) and the read-only version and arbitration */
			mmio_write32(ops, IOAPIC_PAGE + 0x00, fuzz_rng_below(r, 3));
			mmio_write32(ops, IOAPIC_PAGE + 0x10, fuzz_rng_next(r));
			break;
		case 4: /* the EOI register (ICH I/O APICs, offset 0x40): a vector */
			add(ops, OP_MMIO_WRITE, fuzz_rng_one_in(r, 4) ? 1 : 4, IOAPIC_PAGE + 0x40,
			    fuzz_rng_one_in(r, 2) ? 0x20 + fuzz_rng_below(r, 0xE0) : fuzz_rng_next(r) & 0xFF);
			break;
		case 5: /* IOREGSEL read back */
			mmio_read32(ops, IOAPIC_PAGE + 0x00);
			break;
		default: { /* any size at any offset: IOWIN takes only dwords */
			static const uint8_t sizes[] = { 1, 2, 4 };
			uint32_t offset = fuzz_rng_one_in(r, 2) ? fuzz_rng_below(r, 0x50) : fuzz_rng_below(r, 0x1000);
			unsigned size = PICK(r, sizes);
			offset = offset > 0x1000 - size ? 0x1000 - size : offset;
			uint32_t value = fuzz_rng_next(r);
			if (size < 4)
				value &= (1u << (8 * size)) - 1;
			add(ops, fuzz_rng_one_in(r, 2) ? OP_MMIO_WRITE : OP_MMIO_READ, size,
			    IOAPIC_PAGE + offset, value);
			break;
		}
		}
	}
}

/* ---- picking ---------------------------------------------------------------- */

const char *const pc_device_names[PC_DEVICES] = {
	[DEV_PIC] = "8259A", [DEV_PIT] = "8254", [DEV_RTC] = "RTC/CMOS", [DEV_PCI] = "PCI config",
	[DEV_RESET] = "reset paths", [DEV_ACPI_PM] = "ACPI PM", [DEV_UART] = "16550",
	[DEV_IOAPIC] = "I/O APIC",
};

enum pc_device pc_device_pick(struct fuzz_rng *r)
{
	static const uint8_t weights[PC_DEVICES] = {
		[DEV_PIC] = 6, [DEV_PIT] = 6, [DEV_RTC] = 5, [DEV_PCI] = 5, [DEV_RESET] = 1,
		[DEV_ACPI_PM] = 4, [DEV_UART] = 5, [DEV_IOAPIC] = 6,
	};
	unsigned total = 0;
	for (unsigned i = 0; i < PC_DEVICES; i++)
		total += weights[i];
	unsigned pick = fuzz_rng_below(r, total);
	for (unsigned i = 0; i < PC_DEVICES; i++) {
		if (pick < weights[i])
			return (enum pc_device)i;
		pick -= weights[i];
	}
	return DEV_PIC;
}

void pc_device_sequence(struct fuzz_rng *r, enum pc_device device, struct device_ops *ops)
{
	switch (device) {
	case DEV_PIC: pic_sequence(r, ops); break;
	case DEV_PIT: pit_sequence(r, ops); break;
	case DEV_RTC: rtc_sequence(r, ops); break;
	case DEV_PCI: pci_sequence(r, ops); break;
	case DEV_RESET: reset_sequence(r, ops); break;
	case DEV_ACPI_PM: acpi_pm_sequence(r, ops); break;
	case DEV_UART: uart_sequence(r, ops); break;
	default: ioapic_sequence(r, ops); break;
	}
}

/* ---- interrupts between two vCPUs (SDM Vol. 3A 11.6; 82093AA 3.2.4) ---- */

const char *const smp_action_names[SMP_ACTIONS] = {
	[SMP_FIXED_IPI] = "fixed IPIs", [SMP_NMI] = "NMI", [SMP_INIT_SIPI] = "INIT and SIPI",
	[SMP_IOAPIC_LINE] = "I/O APIC line", [SMP_EOI] = "EOIs", [SMP_APIC_SETUP] = "APIC setup",
};

enum smp_action smp_action_pick(struct fuzz_rng *r)
{
	static const uint8_t weights[SMP_ACTIONS] = {
		[SMP_FIXED_IPI] = 10, [SMP_NMI] = 3, [SMP_INIT_SIPI] = 2, [SMP_IOAPIC_LINE] = 6,
		[SMP_EOI] = 4, [SMP_APIC_SETUP] = 3,
	};
	unsigned total = 0;
	for (unsigned i = 0; i < SMP_ACTIONS; i++)
		total += weights[i];
	unsigned pick = fuzz_rng_below(r, total);
	for (unsigned i = 0; i < SMP_ACTIONS; i++) {
		if (pick < weights[i])
			return (enum smp_action)i;
		pick -= weights[i];
	}
	return SMP_FIXED_IPI;
}

/* ICR high (the destination in D63-D56), then ICR low, which sends. */
static void send_ipi(struct device_ops *ops, uint32_t destination, uint32_t low)
{
	mmio_write32(ops, APIC_PAGE + APIC_ICR_HIGH, destination << 24);
	mmio_write32(ops, APIC_PAGE + APIC_ICR_LOW, low);
}

/*
 * A destination: the other vCPU or this one by APIC ID (physical mode)
 * or by logical ID (flat model: LDR bit n for APIC ID n, which
 * SMP_APIC_SETUP mostly sets up), a shorthand, or a broadcast.
 */
static void ipi_destination(struct fuzz_rng *r, unsigned self_id, uint32_t *destination,
			    uint32_t *low)
{
	unsigned other = self_id ^ 1;
	switch (fuzz_rng_below(r, 8)) {
	case 0: case 1: case 2:
		*destination = other;
		break;
	case 3:
		*destination = self_id;
		break;
	case 4: /* logical: one, the other, both */
		*destination = PICK(r, ((const uint8_t[]){ 1, 2, 3 }));
		*low |= ICR_LOGICAL;
		break;
	case 5:
		*low |= PICK(r, ((const uint32_t[]){ ICR_SELF, ICR_ALL, ICR_ALL_BUT_SELF }));
		*destination = 0;
		break;
	case 6:
		*destination = 0xFF; /* physical broadcast; logical: everyone */
		*low |= fuzz_rng_one_in(r, 2) ? ICR_LOGICAL : 0;
		break;
	default:
		*destination = fuzz_rng_next(r) & 0xFF;
		*low |= fuzz_rng_next(r) & (ICR_LOGICAL | (3u << 18));
		break;
	}
}

static uint32_t interrupt_vector(struct fuzz_rng *r)
{
	/* Mostly valid (32-255), sometimes 16-31 (the APIC accepts them as
	 * interrupts) or an illegal 0-15 (a send or receive error, 11.5.3). */
	return fuzz_rng_one_in(r, 16) ? fuzz_rng_below(r, 32) : 0x20 + fuzz_rng_below(r, 0xE0);
}

/* Device activity that raises ISA line `pin` where a PC wires it. */
static void raise_line(struct fuzz_rng *r, struct device_ops *ops, unsigned pin)
{
	switch (pin) {
	case 4:
		/* COM1: OUT2 gates the interrupt onto IRQ 4; IER asks for THR
		 * empty (then a byte sent) and received data (looped back). */
		out8(ops, 0x3FB, 0x03);
		out8(ops, 0x3F9, fuzz_rng_one_in(r, 4) ? fuzz_rng_below(r, 16) : 0x03);
		out8(ops, 0x3FC, 0x08 | (fuzz_rng_one_in(r, 3) ? 0 : 0x10) | (fuzz_rng_next(r) & 0x03));
		out8(ops, 0x3F8, 'A' + fuzz_rng_below(r, 26));
		in8(ops, 0x3FA);
		if (fuzz_rng_one_in(r, 2))
			in8(ops, 0x3F8);
		break;
	case 2:
	case 0:
		/* The PIT's counter 0 (ISA IRQ 0, pin 2 of the I/O APIC): rate
		 * generator or one-shot, LSB then MSB. */
		out8(ops, 0x43, fuzz_rng_one_in(r, 2) ? 0x34 : 0x30);
		out8(ops, 0x40, fuzz_rng_next(r));
		out8(ops, 0x40, 0x01 + fuzz_rng_below(r, 0x20));
		break;
	case 8:
		/* The RTC's periodic interrupt (PIE) at rate RS, then register C. */
		out8(ops, 0x70, 0x0A);
		out8(ops, 0x71, 0x20 | (3 + fuzz_rng_below(r, 13)));
		out8(ops, 0x70, 0x0B);
		out8(ops, 0x71, 0x02 | PICK(r, ((const uint8_t[]){ 0x40, 0x10, 0x20, 0x70 })));
		out8(ops, 0x70, 0x0C);
		in8(ops, 0x71);
		break;
	case 9:
		/* The SCI: PM1 enable (timer overflow D0, power button D8), SCI_EN, GPE0 enable. */
		add(ops, OP_PORT_WRITE, 2, 0x602, fuzz_rng_one_in(r, 2) ? 0x0121 : fuzz_rng_next(r) & 0xFFFF);
		add(ops, OP_PORT_WRITE, 2, 0x604, 0x0001);
		add(ops, OP_PORT_READ, 2, 0x600, 0);
		break;
	default:
		pc_device_sequence(r, pc_device_pick(r), ops);
		break;
	}
}

void smp_sequence(struct fuzz_rng *r, enum smp_action action, unsigned self_id,
		  unsigned init_bsp_one_in, struct device_ops *ops)
{
	unsigned other = self_id ^ 1;
	switch (action) {
	case SMP_FIXED_IPI: {
		unsigned n = 1 + fuzz_rng_below(r, 3);
		for (unsigned i = 0; i < n; i++) {
			uint32_t destination, low = interrupt_vector(r) |
						   (fuzz_rng_one_in(r, 4) ? ICR_LOWEST : ICR_FIXED) | ICR_ASSERT;
			if (fuzz_rng_one_in(r, 8))
				low |= ICR_LEVEL; /* level-triggered fixed IPIs: legal, rare */
			ipi_destination(r, self_id, &destination, &low);
			send_ipi(ops, destination, low);
		}
		break;
	}
	case SMP_NMI: {
		uint32_t destination, low = ICR_NMI | ICR_ASSERT | (fuzz_rng_one_in(r, 8) ? fuzz_rng_below(r, 256) : 0);
		ipi_destination(r, self_id, &destination, &low);
		send_ipi(ops, destination, low);
		break;
	}
	case SMP_INIT_SIPI: {
		/* INIT, then one or two start-up IPIs (SDM Vol. 3A 9.4.4), to the
		 * other vCPU.  vCPU 0 gets the INIT only rarely (it takes it out
		 * of its actions); otherwise a start-up IPI alone, which it
		 * ignores unless it waits for one.  The vector is mostly the
		 * trampoline's, sometimes one that starts in empty memory. */
		if (other == 0 && !fuzz_rng_one_in(r, init_bsp_one_in)) {
			send_ipi(ops, other, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
			break;
		}
		if (fuzz_rng_one_in(r, 8))
			send_ipi(ops, other, ICR_INIT | ICR_LEVEL); /* level de-assert: ignored */
		else
			send_ipi(ops, other, ICR_INIT | ICR_ASSERT);
		unsigned sipis = fuzz_rng_one_in(r, 8) ? 0 : 1 + fuzz_rng_below(r, 2);
		for (unsigned i = 0; i < sipis; i++)
			send_ipi(ops, other, ICR_STARTUP | ICR_ASSERT |
					     (fuzz_rng_one_in(r, 8) ? fuzz_rng_below(r, 256) : SIPI_VECTOR));
		break;
	}
	case SMP_IOAPIC_LINE: {
		static const uint8_t pins[] = { 4, 4, 4, 2, 8, 9, 1, 12 };
		unsigned pin = fuzz_rng_one_in(r, 8) ? fuzz_rng_below(r, 24) : PICK(r, pins);
		ioapic_write_entry(r, ops, pin);
		if (!fuzz_rng_one_in(r, 8))
			raise_line(r, ops, pin);
		break;
	}
	case SMP_EOI:
		mmio_write32(ops, APIC_PAGE + APIC_EOI, 0);
		if (fuzz_rng_one_in(r, 2))
			add(ops, OP_MMIO_WRITE, 4, IOAPIC_PAGE + 0x40, interrupt_vector(r));
		if (fuzz_rng_one_in(r, 2))
			out8(ops, fuzz_rng_one_in(r, 3) ? 0xA0 : 0x20, 0x20); /* 8259 non-specific EOI */
		if (fuzz_rng_one_in(r, 3))
			in8(ops, 0x3FA); /* the UART's IIR read clears a THR-empty interrupt */
		break;
	default: { /* SMP_APIC_SETUP */
		mmio_write32(ops, APIC_PAGE + APIC_SVR, fuzz_rng_one_in(r, 8) ? fuzz_rng_next(r) & 0x3FF : 0x1FF);
		/* The flat model (DFR all ones) with LDR bit n for APIC ID n,
		 * or the cluster model, or anything. */
		mmio_write32(ops, APIC_PAGE + APIC_DFR, fuzz_rng_one_in(r, 4) ? 0x0FFFFFFFu : 0xFFFFFFFFu);
		mmio_write32(ops, APIC_PAGE + APIC_LDR,
			     fuzz_rng_one_in(r, 4) ? fuzz_rng_next(r) : (1u << self_id) << 24);
		mmio_write32(ops, APIC_PAGE + APIC_TPR, fuzz_rng_one_in(r, 2) ? 0 : fuzz_rng_below(r, 256));
		if (fuzz_rng_one_in(r, 2)) {
			/* LINT0 (0x350), LINT1 (0x360), error (0x370): vector, delivery
			 * mode (fixed, NMI, ExtINT), trigger, mask. */
			static const uint16_t lvts[] = { 0x350, 0x360, 0x370 };
			static const uint32_t modes[] = { 0 << 8, 4 << 8, 7 << 8, 2 << 8 };
			mmio_write32(ops, APIC_PAGE + PICK(r, lvts),
				     interrupt_vector(r) | PICK(r, modes) |
				     (fuzz_rng_next(r) & (1u << 15 | 1u << 16 | 1u << 13)));
		}
		break;
	}
	}
}

/* ---- describing ------------------------------------------------------------ */

void describe_device_ops(const char *who, const struct device_ops *ops)
{
	char line[200];
	size_t n = 0;
	for (unsigned i = 0; i < ops->count; i++) {
		const struct device_op *op = &ops->op[i];
		char size = op->size == 1 ? 'b' : op->size == 2 ? 'w' : 'l';
		switch (op->kind) {
		case OP_PORT_WRITE:
			n += fmt_snprintf(line + n, sizeof(line) - n, " out%c 0x%x,0x%x;", size, op->address, op->value);
			break;
		case OP_PORT_READ:
			n += fmt_snprintf(line + n, sizeof(line) - n, " in%c 0x%x;", size, op->address);
			break;
		case OP_MMIO_WRITE:
			n += fmt_snprintf(line + n, sizeof(line) - n, " mov%c [0x%x],0x%x;", size, op->address,
					  op->value);
			break;
		default:
			n += fmt_snprintf(line + n, sizeof(line) - n, " mov%c [0x%x];", size, op->address);
			break;
		}
		if (n > sizeof(line) - 40 || i + 1 == ops->count) {
			say("  %s:%s", who, line);
			n = 0;
		}
	}
}
