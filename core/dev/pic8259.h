/*
 * The legacy 8259A interrupt controllers, as far as guests program them:
 * the ICW1-ICW4 initialization sequence, the interrupt mask (OCW1) and
 * the IRR/ISR read select (OCW3).  No interrupt is ever raised through them.
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

struct pic8259 {
	uint8_t imr;          /* interrupt mask register */
	uint8_t vector_base;  /* ICW2 */
	uint8_t icw3, icw4;
	uint8_t init_step;    /* 0 ready, else the ICW expected next (2-4) */
	uint8_t needs_icw4, single;
};

void pic8259_write(struct pic8259 *pic, unsigned is_data_port, uint8_t value);
uint8_t pic8259_read(const struct pic8259 *pic, unsigned is_data_port);

/* Registers the master (0x20/0x21) and the slave (0xA0/0xA1). */
bool pic8259_attach(struct vm *vm);

#endif
