/*
 * The PC's two Intel 8259A programmable interrupt controllers (Intel
 * 8259A data sheet, order number 231468) and the edge/level control
 * registers the PIIX/ICH south bridges add for them (ELCR, ports
 * 0x4D0/0x4D1).  The master takes ISA IRQs 0-7 and drives the INTR line
 * (vm_irq_set_extint); the slave takes IRQs 8-15, and its INT output is
 * wired to the master's IR2.  The pair joins the VM's interrupt route
 * (irq/irq.h) as one irq_chip whose acknowledge hook is the processor's
 * interrupt-acknowledge cycle.
 *
 * Emulated: the ICW1-ICW4 initialization, OCW1 (mask), OCW2 (the EOI,
 * rotation and priority commands), OCW3 (IRR/ISR read select, poll,
 * special mask mode), rotating priority, special fully nested mode,
 * automatic EOI, the cascade, edge- and level-triggered inputs (ICW1.LTIM
 * and the ELCR), polled mode, spurious IR7 vectors and the MCS-80/85
 * vector format.  What the data sheet leaves open is decided in
 * pic8259.c and docs/guest-contract.md.
 */
#ifndef CVISOR_DEV_PIC8259_H
#define CVISOR_DEV_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define PIC_MASTER_COMMAND 0x20
#define PIC_MASTER_DATA    0x21
#define PIC_SLAVE_COMMAND  0xA0
#define PIC_SLAVE_DATA     0xA1
#define PIC_ELCR_MASTER    0x4D0 /* PIIX/ICH ELCR1: IRQ 0-7 */
#define PIC_ELCR_SLAVE     0x4D1 /* PIIX/ICH ELCR2: IRQ 8-15 */

/* The master input the slave's INT output is wired to on a PC. */
#define PIC_CASCADE_IR 2

/* One 8259A. */
struct pic8259 {
	bool is_master;       /* the wiring: SP/EN high (master) or low (slave) */
	uint8_t pins;         /* the level of each IR input now */
	uint8_t irr, isr, imr;
	uint8_t elcr;         /* PIIX/ICH ELCR: a set bit makes that input level-triggered */
	uint8_t icw1, icw2, icw3, icw4;
	uint8_t init_step;    /* 0: not initializing, else the ICW expected next (2-4) */
	bool initialized;     /* a whole initialization sequence ended since power-up or reset */
	uint8_t lowest_priority; /* the IR level with the lowest priority (7 after ICW1) */
	bool read_isr;        /* OCW3 RIS: the command port reads ISR, else IRR */
	bool poll;            /* OCW3 P: the next read is the poll word */
	bool special_mask;    /* OCW3 special mask mode */
	bool rotate_in_aeoi;  /* OCW2 rotate in automatic EOI mode */
	bool output;          /* the INT output */
};

/* The master (chip[0]) and the slave (chip[1]). */
struct pic8259_pair {
	struct pic8259 chip[2];
	bool intr; /* what the master's INT last told vm_irq_set_extint */
};

/* Registers the master (0x20/0x21), the slave (0xA0/0xA1), the ELCR
 * (0x4D0/0x4D1), the pair as the VM's 8259 interrupt controller, and its
 * reset. */
bool pic8259_attach(struct vm *vm);

#endif
