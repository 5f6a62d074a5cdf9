/*
 * Interrupt routing of a VM, the one way an interrupt travels:
 *
 *   device --vm_set_irq(line)--> every interrupt controller (8259A pair,
 *   I/O APIC) --> the 8259's INTR output (vm_irq_set_extint) to LINT0 of
 *   vCPU 0, or an APIC message (vm_deliver_apic_message) to the local
 *   APICs it names --> IRR, and a kick of the CPU that runs the vCPU.
 *
 * A device calls vm_set_irq(vm, line, level) with its ISA IRQ line (or
 * I/O APIC pin, 0-23); the controllers register themselves with
 * vm_add_irq_chip.  A local APIC's EOI of a level-triggered vector comes
 * back through vm_irq_eoi.  No device touches another device's state.
 * Every function here runs with the VM's device lock held
 * (dev/device.h), except vm_irq_acknowledge_extint, which takes it.
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
	/* Optional: a local APIC ended level-triggered `vector` (EOI). */
	void (*eoi)(struct vm *vm, void *opaque, uint8_t vector);
	/* Optional, for the chip that drives INTR (the 8259A pair): the
	 * interrupt-acknowledge cycle; returns the vector to deliver. */
	uint8_t (*acknowledge)(struct vm *vm, void *opaque);
	void *opaque;
};

/* Per VM: the registered controllers and the level of each line. */
struct vm_irq {
	struct irq_chip chips[VM_MAX_IRQ_CHIPS];
	unsigned chip_count;
	uint32_t levels; /* bit n: line n is asserted */
	bool extint_level; /* the 8259's INTR output */
};

/* An interrupt message to local APICs: what an I/O APIC redirection entry
 * sends (82093AA data sheet 3.2.4; SDM Vol. 3A 11.6.2 for destinations). */
struct apic_message {
	uint8_t vector;
	uint8_t delivery_mode; /* APIC_DM_* (irq/lapic_regs.h) */
	bool logical;          /* destination mode: logical (LDR/DFR) or physical (APIC ID) */
	uint8_t destination;
	bool level;            /* trigger mode: a level-triggered vector's EOI is reported */
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

struct vcpu;
/* Does target's APIC answer to this destination (SDM Vol. 3A 11.6.2)? */
bool apic_destination_matches(const struct vcpu *target, bool logical, uint8_t destination);
/* Puts one interrupt into target's APIC (or its INIT/SIPI/NMI/ExtINT
 * latch) and kicks its CPU. */
void vcpu_deliver_apic_interrupt(struct vcpu *target, unsigned delivery_mode, uint8_t vector,
				 bool level);
/* Delivers a message to every local APIC it names (fixed, lowest priority,
 * NMI, INIT, ExtINT; SMI and start-up are not emulated). */
void vm_deliver_apic_message(struct vm *vm, const struct apic_message *msg);
/* A local APIC ended level-triggered vector: every controller's eoi hook. */
void vm_irq_eoi(struct vm *vm, uint8_t vector);
/* The 8259's INTR output changed: on a rise, vCPU 0 is told (it takes the
 * interrupt when its LINT0 is in ExtINT mode or its APIC is disabled). */
void vm_irq_set_extint(struct vm *vm, bool level);
/* The interrupt-acknowledge cycle of a vCPU taking the 8259's interrupt:
 * the vector (takes the device lock). */
uint8_t vm_irq_acknowledge_extint(struct vm *vm);

#endif
