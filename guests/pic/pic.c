/*
 * The 8259A pair and the 16550A UART's interrupts, checked from the inside
 * in 32-bit protected mode: the guest initializes the pair (vectors
 * 0x20/0x28), reads IMR, IRR and ISR back, and takes COM1's interrupts
 * (THR empty, then data received in loopback) on IRQ 4 at vector 0x24:
 * masking, non-specific and specific EOI, the level in service holding
 * back its own requests, poll mode, and MCR.OUT2 gating IRQ 4.  The only
 * interrupt source is the UART; cvisor's local APIC of vCPU 0 starts in
 * virtual-wire mode, so the pair's INTR reaches the vCPU with IF = 1.
 */
#define TRAPS_IRQ_IMPLEMENTATION
#include "abi/devices.h"
#include "guest.h"
#include "irq.h"
#include "probe.h"

#define MASTER_COMMAND 0x20
#define MASTER_DATA    0x21
#define SLAVE_COMMAND  0xA0
#define SLAVE_DATA     0xA1
#define MASTER_VECTORS 0x20
#define SLAVE_VECTORS  0x28
#define UART_IRQ       4
#define UART_VECTOR    (MASTER_VECTORS + UART_IRQ)
#define IRQ4_BIT       (1u << UART_IRQ)

#define OCW2_EOI          0x20
#define OCW2_SPECIFIC_EOI 0x60
#define OCW3_READ_IRR     0x0A
#define OCW3_READ_ISR     0x0B
#define OCW3_POLL         0x0C

#define COM1_IER (PORT_COM1 + 1)
#define COM1_IIR (PORT_COM1 + 2)
#define COM1_LCR (PORT_COM1 + 3)
#define COM1_MCR (PORT_COM1 + 4)
#define LCR_8N1   0x03
#define IER_ERBFI 0x01
#define IER_ETBEI 0x02
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define IIR_ID_MASK 0x0F
#define IIR_THRE  0x02
#define IIR_RECEIVED_DATA 0x04

enum eoi_mode { EOI_NON_SPECIFIC, EOI_SPECIFIC, EOI_NONE };

static volatile enum eoi_mode eoi_mode;
static volatile unsigned uart_interrupts, other_interrupts;
static volatile uint32_t last_vector;
static volatile uint8_t isr_in_handler, iir_in_handler, data_in_handler;

static uint8_t read_irr(uint16_t command)
{
	guest_outb(command, OCW3_READ_IRR);
	return guest_inb(command);
}

static uint8_t read_isr(uint16_t command)
{
	guest_outb(command, OCW3_READ_ISR);
	return guest_inb(command);
}

/* Every vector of the pair: IRQ 4 is the UART, whose source IIR names;
 * a received byte is read.  Anything else is unexpected. */
static void pic_handler(uint32_t vector, uint32_t eip)
{
	(void)eip;
	last_vector = vector;
	isr_in_handler = read_isr(MASTER_COMMAND);
	if (vector != UART_VECTOR) {
		other_interrupts++;
		say("unexpected interrupt at vector 0x%x", (unsigned)vector);
		guest_outb(MASTER_COMMAND, OCW2_EOI);
		return;
	}
	uart_interrupts++;
	iir_in_handler = guest_inb(COM1_IIR);
	if ((iir_in_handler & IIR_ID_MASK) == IIR_RECEIVED_DATA)
		data_in_handler = guest_inb(PORT_COM1);
	if (eoi_mode == EOI_NON_SPECIFIC)
		guest_outb(MASTER_COMMAND, OCW2_EOI);
	else if (eoi_mode == EOI_SPECIFIC)
		guest_outb(MASTER_COMMAND, OCW2_SPECIFIC_EOI | UART_IRQ);
}

/* The PC sequence: ICW1 edge, cascade, ICW4; ICW2 the vector bases; ICW3
 * the slave on IR2 / slave ID 2; ICW4 8086 mode.  Everything masked. */
static void pic_initialize(void)
{
	guest_outb(MASTER_COMMAND, 0x11);
	guest_outb(MASTER_DATA, MASTER_VECTORS);
	guest_outb(MASTER_DATA, 0x04);
	guest_outb(MASTER_DATA, 0x01);
	guest_outb(SLAVE_COMMAND, 0x11);
	guest_outb(SLAVE_DATA, SLAVE_VECTORS);
	guest_outb(SLAVE_DATA, 0x02);
	guest_outb(SLAVE_DATA, 0x01);
	guest_outb(MASTER_DATA, 0xFF);
	guest_outb(SLAVE_DATA, 0xFF);
}

/* ETBEI off and on again: a 16550 raises its THRE source anew. */
static void uart_raise_thre(void)
{
	guest_outb(COM1_IER, 0);
	guest_outb(COM1_IER, IER_ETBEI);
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	traps_init();
	for (unsigned v = MASTER_VECTORS; v < SLAVE_VECTORS + 8; v++)
		traps_set_handler(v, pic_handler);
	pic_initialize();

	guest_outb(MASTER_DATA, 0xA5);
	guest_outb(SLAVE_DATA, 0x5A);
	check(guest_inb(MASTER_DATA) == 0xA5 && guest_inb(SLAVE_DATA) == 0x5A,
	      "IMR: the masks written with OCW1 read back on both chips");
	guest_outb(MASTER_DATA, 0xFF);
	guest_outb(SLAVE_DATA, 0xFF);

	/* THRE with OUT2 set, IRQ 4 masked: pending in IRR only.  8-bit
	 * words: the receiver keeps only the word length's bits. */
	guest_outb(COM1_LCR, LCR_8N1);
	guest_outb(COM1_MCR, MCR_OUT2);
	guest_outb(COM1_IER, IER_ETBEI);
	check(read_irr(MASTER_COMMAND) == IRQ4_BIT && read_irr(SLAVE_COMMAND) == 0,
	      "OCW3 read IRR: the UART's THRE request shows as IRQ 4 while it is masked");
	check(read_isr(MASTER_COMMAND) == 0 && read_isr(SLAVE_COMMAND) == 0,
	      "OCW3 read ISR: nothing is in service");
	guest_take_pending_interrupts();
	check(uart_interrupts == 0 && other_interrupts == 0, "masked: IRQ 4 raises no interrupt");

	/* Unmasked: delivered through INTR at the pair's vector. */
	eoi_mode = EOI_NON_SPECIFIC;
	guest_outb(MASTER_DATA, (uint8_t)~IRQ4_BIT);
	guest_take_pending_interrupts();
	check(uart_interrupts == 1 && last_vector == UART_VECTOR,
	      "THRE: unmasked, IRQ 4 arrives at vector 0x24");
	check(isr_in_handler == IRQ4_BIT, "the handler sees IRQ 4 in service (ISR bit 4)");
	check((iir_in_handler & IIR_ID_MASK) == IIR_THRE, "the handler's IIR read names THR empty");
	check(read_isr(MASTER_COMMAND) == 0 && read_irr(MASTER_COMMAND) == 0,
	      "after the handler's non-specific EOI neither IRR nor ISR holds IRQ 4");

	/* Masking holds a new request in IRR until unmasked. */
	guest_outb(MASTER_DATA, 0xFF);
	uart_raise_thre();
	guest_take_pending_interrupts();
	check(uart_interrupts == 1 && read_irr(MASTER_COMMAND) == IRQ4_BIT,
	      "masked again: the new request waits in IRR");
	guest_outb(MASTER_DATA, (uint8_t)~IRQ4_BIT);
	guest_take_pending_interrupts();
	check(uart_interrupts == 2, "unmasking delivers the waiting request");

	/* Without an EOI the level stays in service and holds back its own
	 * new requests (fully nested mode); a specific EOI ends it. */
	eoi_mode = EOI_NONE;
	uart_raise_thre();
	guest_take_pending_interrupts();
	check(uart_interrupts == 3 && read_isr(MASTER_COMMAND) == IRQ4_BIT,
	      "without an EOI IRQ 4 stays in service after the handler returns");
	uart_raise_thre();
	guest_take_pending_interrupts();
	check(uart_interrupts == 3 && read_irr(MASTER_COMMAND) == IRQ4_BIT,
	      "priority: a new IRQ 4 request waits while IRQ 4 is in service");
	guest_outb(MASTER_COMMAND, OCW2_SPECIFIC_EOI | 0);
	check(read_isr(MASTER_COMMAND) == IRQ4_BIT, "a specific EOI for IRQ 0 leaves IRQ 4 in service");
	eoi_mode = EOI_SPECIFIC;
	guest_outb(MASTER_COMMAND, OCW2_SPECIFIC_EOI | UART_IRQ);
	check(read_isr(MASTER_COMMAND) == 0, "specific EOI 0x64 ends IRQ 4");
	guest_take_pending_interrupts();
	check(uart_interrupts == 4 && read_isr(MASTER_COMMAND) == 0,
	      "the waiting request arrives then, and the handler's specific EOI ends it");

	/* Received data in loopback: IIR shows it, but loopback holds the
	 * -OUT2 pin inactive, so IRQ 4 stays low until loopback ends. */
	eoi_mode = EOI_NON_SPECIFIC;
	guest_outb(COM1_IER, IER_ERBFI);
	guest_outb(COM1_MCR, MCR_LOOP | MCR_OUT2);
	guest_outb(PORT_COM1, 'Z');
	check((guest_inb(COM1_IIR) & IIR_ID_MASK) == IIR_RECEIVED_DATA,
	      "loopback: the byte sent comes back, IIR names received data");
	guest_take_pending_interrupts();
	check(uart_interrupts == 4, "loopback: the -OUT2 pin is held inactive, nothing reaches the PIC");
	guest_outb(COM1_MCR, MCR_OUT2);
	guest_take_pending_interrupts();
	check(uart_interrupts == 5 && last_vector == UART_VECTOR &&
	      (iir_in_handler & IIR_ID_MASK) == IIR_RECEIVED_DATA && data_in_handler == 'Z',
	      "out of loopback: the received-data interrupt arrives at vector 0x24 with the byte in RBR");

	/* OUT2 clear: the PC's gate keeps IRQ 4 low. */
	guest_outb(COM1_MCR, 0);
	guest_outb(COM1_IER, IER_ETBEI);
	guest_take_pending_interrupts();
	check(uart_interrupts == 5 && read_irr(MASTER_COMMAND) == 0,
	      "OUT2 clear: IRQ 4 stays low and nothing arrives");
	guest_outb(COM1_MCR, MCR_OUT2);
	guest_take_pending_interrupts();
	check(uart_interrupts == 6, "OUT2 set again: the THRE interrupt arrives");

	/* Poll mode, with interrupts off: the poll word names IRQ 4 and the
	 * read acknowledges it. */
	uart_raise_thre();
	guest_outb(MASTER_COMMAND, OCW3_POLL);
	check(guest_inb(MASTER_COMMAND) == (0x80 | UART_IRQ), "poll: the poll word is 0x84 (interrupt, level 4)");
	check(read_isr(MASTER_COMMAND) == IRQ4_BIT, "poll: the read set IRQ 4's ISR bit");
	check((guest_inb(COM1_IIR) & IIR_ID_MASK) == IIR_THRE, "poll: the UART's IIR names THR empty");
	guest_outb(MASTER_COMMAND, OCW2_EOI);
	guest_take_pending_interrupts();
	check(uart_interrupts == 6, "poll: the polled request is not delivered as an interrupt too");
	guest_outb(MASTER_COMMAND, OCW3_POLL);
	check(guest_inb(MASTER_COMMAND) == 0, "poll with nothing pending: the poll word is 0");

	guest_outb(COM1_IER, 0);
	guest_outb(COM1_MCR, 0);
	guest_outb(MASTER_DATA, 0xFF);
	check(other_interrupts == 0, "no interrupt arrived at any other vector");
	say("pic: done, %u failure(s)", failures());
	return (int)failures();
}
