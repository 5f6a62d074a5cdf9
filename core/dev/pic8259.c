#include "dev/pic8259.h"

#include "dev/ports.h"

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

/* 0x20/0x21 master, 0xA0/0xA1 slave: bit 7 of the port picks the chip, bit 0 the port. */
static uint32_t pic_port_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct pic8259 *pair = state;
	(void)vm;
	(void)size;
	return pic8259_read(&pair[port >> 7 & 1], port & 1);
}

static void pic_port_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	struct pic8259 *pair = state;
	(void)vm;
	(void)size;
	pic8259_write(&pair[port >> 7 & 1], port & 1, (uint8_t)value);
}

static const struct port_ops pic_ops = { .read = pic_port_read, .write = pic_port_write };

bool pic8259_attach(struct vm *vm)
{
	struct pic8259 *pair = vm_device_state(vm, 2 * sizeof(*pair), "8259A PICs");

	return pair &&
	       vm_register_ports(vm, "8259A master", PIC_MASTER_COMMAND, PIC_MASTER_DATA, &pic_ops, pair) &&
	       vm_register_ports(vm, "8259A slave", PIC_SLAVE_COMMAND, PIC_SLAVE_DATA, &pic_ops, pair);
}
