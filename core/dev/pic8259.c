#include "dev/pic8259.h"

/* Intel 8259A data sheet: ICW1 has bit 4 set; OCW3 has bits 4:3 = 01. */
void pic8259_write(struct pic8259 *pic, unsigned is_data_port, uint8_t value)
{
	if (!is_data_port) {
		if (value & 0x10) { /* ICW1: start initialization, clear the mask */
			pic->init_step = 2;
			pic->needs_icw4 = value & 1;
			pic->single = (value >> 1) & 1;
			pic->imr = 0;
		}
		/* OCW2 (EOI) and OCW3: nothing is ever pending or in service. */
		return;
	}
	switch (pic->init_step) {
	case 2:
		pic->vector_base = value & 0xF8;
		pic->init_step = pic->single ? (pic->needs_icw4 ? 4 : 0) : 3;
		break;
	case 3:
		pic->icw3 = value;
		pic->init_step = pic->needs_icw4 ? 4 : 0;
		break;
	case 4:
		pic->icw4 = value;
		pic->init_step = 0;
		break;
	default: /* OCW1 */
		pic->imr = value;
		break;
	}
}

uint8_t pic8259_read(const struct pic8259 *pic, unsigned is_data_port)
{
	/* Command port reads IRR or ISR (OCW3 selects): both empty. */
	return is_data_port ? pic->imr : 0;
}
