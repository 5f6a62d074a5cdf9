/*
 * Interrupt lines of a VM: the one way a device raises an interrupt.  A
 * device calls vm_set_irq(vm, line, level) with its ISA IRQ line (or
 * I/O APIC pin, 0-23); the interrupt controllers that listen to the lines
 * (the 8259A pair and the I/O APIC, as on a PC) register themselves with
 * vm_add_irq_chip and route the line to a local APIC.  No device touches
 * another device's state.
 */
#ifndef CVISOR_IRQ_IRQ_H
#define CVISOR_IRQ_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define VM_IRQ_LINES 24    /* ISA IRQs 0-15 and the I/O APIC's pins 16-23 */
#define VM_MAX_IRQ_CHIPS 4

/* An interrupt controller listening to the VM's lines. */
struct irq_chip {
	const char *name;
	/* The line's level changed to `level` (edge-triggered inputs act on
	 * the rising edge, level-triggered ones on the level). */
	void (*set_line)(struct vm *vm, void *opaque, unsigned line, bool level);
	void *opaque;
};

/* Per VM: the registered controllers and the level of each line. */
struct vm_irq {
	struct irq_chip chips[VM_MAX_IRQ_CHIPS];
	unsigned chip_count;
	uint32_t levels; /* bit n: line n is asserted */
};

/* Adds a controller; false (and a log line) when the VM has no room. */
bool vm_add_irq_chip(struct vm *vm, const struct irq_chip *chip);
/* Asserts (level = true) or deasserts a line; every controller sees the
 * change.  A line out of range is a cvisor bug: reported, ignored. */
void vm_set_irq(struct vm *vm, unsigned line, bool level);
/* An edge: the line goes high, then low (an ISA device's pulse). */
void vm_pulse_irq(struct vm *vm, unsigned line);
/* The level the line has now. */
bool vm_irq_level(const struct vm *vm, unsigned line);

#endif
