#include "dev/ioapic.h"

#include "dev/device.h"
#include "dev/mmio.h"
#include "irq/irq.h"
#include "irq/lapic_regs.h"
#include "lib/log.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

/* The version register (82093AA 3.2.2; ICH10 "VER"): bits 23:16 hold the
 * highest entry's number, bits 7:0 the version; the ICH's 0x20 has the EOI
 * register, and its bit 15 (PRQ) is 0: no pin assertion register. */
#define IOAPIC_VERSION_REGISTER ((IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION)

unsigned ioapic_pin_of_line(unsigned line)
{
	/* The PC wires the PIT's output (ISA IRQ 0) to pin 2 (ACPI 6.x 5.2.12.5,
	 * the interrupt source override every PC's MADT carries for it). */
	return line == 0 ? 2 : line;
}

/* Is pin's input asserted?  Pin 2 hears ISA IRQ 0 and line 2 (nothing on
 * a PC drives ISA IRQ 2, the 8259 cascade), wired together. */
static bool pin_input(const struct vm *vm, unsigned pin)
{
	if (pin == 2)
		return vm_irq_level(vm, 0) || vm_irq_level(vm, 2);
	return pin != 0 && vm_irq_level(vm, pin);
}

static unsigned entry_delivery_mode(uint64_t entry)
{
	return (unsigned)((entry & IOAPIC_RTE_DELIVERY_MODE) >> IOAPIC_RTE_DELIVERY_SHIFT);
}

/* Does the pin act on its level (rather than on a rising edge)?  Only fixed
 * and lowest-priority entries: NMI and INIT are treated as edge-triggered
 * even when programmed as level (82093AA 3.2.4, delivery mode 100 and 101),
 * and SMI and ExtINT require edge (010, 111); cvisor treats them as edge. */
static bool entry_level_triggered(uint64_t entry)
{
	unsigned mode = entry_delivery_mode(entry);
	return (entry & IOAPIC_RTE_LEVEL) && (mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST);
}

/* Sends pin's interrupt message (82093AA 3.2.4): the entry's vector,
 * delivery mode, destination mode and destination.  Physical destinations
 * use all 8 bits (an xAPIC system bus message, as the ICH sends: 0xFF
 * names every APIC); the 82093AA's serial APIC bus used bits 59:56. */
static void send_message(struct vm *vm, struct ioapic *ioapic, unsigned pin, uint64_t entry)
{
	unsigned mode = entry_delivery_mode(entry);

	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
	case APIC_DM_NMI:
	case APIC_DM_INIT:
	case APIC_DM_EXTINT:
		break;
	default:
		/* SMI (010: cvisor emulates no SMM) and the reserved 011 and
		 * 110: nothing is sent.  Reported once per pin. */
		if (!(ioapic->reported_pins & (1u << pin))) {
			ioapic->reported_pins |= 1u << pin;
			log_printf("cvisor: VM %s: I/O APIC pin %u: delivery mode %u is not emulated; "
				   "its interrupts are dropped\n",
				   vm->name, pin, mode);
		}
		return;
	}
	const struct apic_message msg = {
		.vector = (uint8_t)(entry & IOAPIC_RTE_VECTOR),
		.delivery_mode = (uint8_t)mode,
		.logical = (entry & IOAPIC_RTE_LOGICAL) != 0,
		.destination = (uint8_t)(entry >> IOAPIC_RTE_DEST_SHIFT),
		.level = entry_level_triggered(entry),
	};
	vm_deliver_apic_message(vm, &msg);
}

/*
 * What pin does now: a masked pin sends nothing and keeps nothing pending
 * (82093AA 3.2.4, bit 16).  An edge-triggered pin sends one message on a
 * rising edge (rose).  A level-triggered pin sends while its input is
 * asserted and its remote IRR is clear, and sets remote IRR (bit 14: set
 * when the local APICs accept the level interrupt; cvisor's delivery
 * always completes), so the next message waits for the EOI.
 */
static void service_pin(struct vm *vm, struct ioapic *ioapic, unsigned pin, bool rose)
{
	uint64_t *entry = &ioapic->redirection[pin];

	if (*entry & IOAPIC_RTE_MASKED)
		return;
	if (entry_level_triggered(*entry)) {
		if (!(ioapic->pin_levels & (1u << pin)) || (*entry & IOAPIC_RTE_REMOTE_IRR))
			return;
		*entry |= IOAPIC_RTE_REMOTE_IRR;
	} else if (!rose) {
		return;
	}
	send_message(vm, ioapic, pin, *entry);
}

/*
 * A line of the route changed (irq/irq.h).  The line's level is whether
 * the device asserts its interrupt, after the board's wiring: the entry's
 * polarity bit (13) is kept for the guest to read but does not invert it.
 * On a PC the firmware's tables tell the OS each line's polarity and the
 * OS programs it to match; KVM and QEMU model the pin the same way, so a
 * guest that programs the other polarity sees the same interrupts (real
 * hardware would see the line inverted).
 */
static void ioapic_set_line(struct vm *vm, void *opaque, unsigned line, bool level)
{
	struct ioapic *ioapic = opaque;
	unsigned pin = ioapic_pin_of_line(line);
	(void)level; /* the route's levels, read by pin_input, already hold it */

	if (pin >= IOAPIC_PINS)
		return;
	uint32_t bit = 1u << pin;
	bool was = ioapic->pin_levels & bit;
	bool now = pin_input(vm, pin);
	if (now)
		ioapic->pin_levels |= bit;
	else
		ioapic->pin_levels &= ~bit;
	if (now)
		service_pin(vm, ioapic, pin, !was);
}

uint32_t ioapic_read_register(const struct ioapic *ioapic, uint8_t index)
{
	switch (index) {
	case IOAPIC_REG_ID:
		return (uint32_t)ioapic->id << 24; /* 3.2.1: bits 27:24, the rest reserved */
	case IOAPIC_REG_VERSION:
		return IOAPIC_VERSION_REGISTER;
	case IOAPIC_REG_ARBITRATION:
		return (uint32_t)ioapic->arbitration_id << 24; /* 3.2.3 */
	default:
		break;
	}
	unsigned pin = (unsigned)(index - IOAPIC_REG_REDIRECTION) / 2;
	if (index < IOAPIC_REG_REDIRECTION || pin >= IOAPIC_PINS)
		return 0xFFFFFFFFu; /* no register there: all ones, as KVM reads */
	uint64_t entry = ioapic->redirection[pin];
	return (uint32_t)(index & 1 ? entry >> 32 : entry);
}

void ioapic_write_register(struct vm *vm, struct ioapic *ioapic, uint8_t index, uint32_t value)
{
	switch (index) {
	case IOAPIC_REG_ID:
		/* 3.2.1: the ID is bits 27:24; the same write loads the
		 * arbitration ID (3.2.3). */
		ioapic->id = (uint8_t)(value >> 24 & 0xF);
		ioapic->arbitration_id = ioapic->id;
		return;
	case IOAPIC_REG_VERSION:
	case IOAPIC_REG_ARBITRATION:
		return; /* read-only (3.2.2, 3.2.3) */
	default:
		break;
	}
	unsigned pin = (unsigned)(index - IOAPIC_REG_REDIRECTION) / 2;
	if (index < IOAPIC_REG_REDIRECTION || pin >= IOAPIC_PINS)
		return;
	uint64_t *entry = &ioapic->redirection[pin];
	uint64_t old = *entry;
	uint64_t dword = index & 1 ? 0xFFFFFFFF00000000ull : 0xFFFFFFFFull;
	uint64_t written = index & 1 ? (uint64_t)value << 32 : value;
	/* Reserved bits 55:17 stay 0; delivery status (12) and remote IRR
	 * (14) are read-only (3.2.4). */
	uint64_t writable = dword & IOAPIC_RTE_WRITABLE;
	*entry = (old & ~writable) | (written & writable);
	/* Switching an entry from level to edge clears its remote IRR: not in
	 * the 82093AA data sheet, but what Intel's I/O APICs do, what Linux
	 * relies on to clear a stuck remote IRR on I/O APICs older than 0x20,
	 * and what KVM models. */
	if (!(*entry & IOAPIC_RTE_LEVEL))
		*entry &= ~IOAPIC_RTE_REMOTE_IRR;
	/* Unmasking (or making level-triggered) a pin whose level is asserted
	 * delivers it: the pin's level is sampled again (as KVM does). */
	service_pin(vm, ioapic, pin, false);
}

void ioapic_end_of_interrupt(struct vm *vm, struct ioapic *ioapic, uint8_t vector)
{
	/* 3.2.4 bit 14, and the ICH's EOI register: every entry with the
	 * vector has its remote IRR cleared; a level input still asserted
	 * sends again. */
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *entry = &ioapic->redirection[pin];
		if ((*entry & IOAPIC_RTE_VECTOR) != vector || !(*entry & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*entry &= ~IOAPIC_RTE_REMOTE_IRR;
		service_pin(vm, ioapic, pin, false);
	}
}

static void ioapic_chip_eoi(struct vm *vm, void *opaque, uint8_t vector)
{
	ioapic_end_of_interrupt(vm, opaque, vector);
}

void ioapic_reset(struct ioapic *ioapic)
{
	/* RESET: the ID is 0 (3.2.1, default 00h) and so is the arbitration
	 * ID it loads; each entry reads xxx1 xxxx xxxx xxxxh (3.2.4): masked,
	 * the undefined bits 0 here, as KVM and QEMU leave them.  IOREGSEL
	 * defaults to 00h (3.1.1).  The input pins keep their levels: they
	 * are the lines' state, not the chip's. */
	ioapic->ioregsel = 0;
	ioapic->id = 0;
	ioapic->arbitration_id = 0;
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		ioapic->redirection[pin] = IOAPIC_RTE_MASKED;
}

static void ioapic_device_reset(struct vm *vm, void *state)
{
	(void)vm;
	ioapic_reset(state);
}

/*
 * The page (see ioapic.h): IOREGSEL at 0x00 takes any access size (its
 * bits 31:8 and the bytes after it read 0), IOWIN at 0x10 only a dword at
 * that offset (82093AA 3.0), the EOI register at 0x40 any size (its low
 * byte is the vector).  Everything else reads 0 and drops writes.
 */
static uint64_t ioapic_page_read(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size)
{
	const struct ioapic *ioapic = state;
	(void)vcpu;

	if (offset == IOAPIC_IOREGSEL)
		return ioapic->ioregsel;
	if (offset == IOAPIC_IOWIN && size == 4)
		return ioapic_read_register(ioapic, ioapic->ioregsel);
	return 0;
}

static void ioapic_page_write(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size,
			      uint64_t value)
{
	struct ioapic *ioapic = state;

	if (offset == IOAPIC_IOREGSEL)
		ioapic->ioregsel = (uint8_t)value;
	else if (offset == IOAPIC_IOWIN && size == 4)
		ioapic_write_register(vcpu->vm, ioapic, ioapic->ioregsel, (uint32_t)value);
	else if (offset == IOAPIC_EOI)
		ioapic_end_of_interrupt(vcpu->vm, ioapic, (uint8_t)value);
}

static const struct mmio_ops ioapic_page_ops = { .read = ioapic_page_read, .write = ioapic_page_write };

bool ioapic_attach(struct vm *vm)
{
	struct ioapic *ioapic = vm_device_state(vm, sizeof(*ioapic), "I/O APIC");

	if (!ioapic)
		return false;
	ioapic_reset(ioapic);
	const struct irq_chip chip = {
		.name = "I/O APIC", .set_line = ioapic_set_line, .eoi = ioapic_chip_eoi, .opaque = ioapic,
	};
	return vm_register_mmio(vm, "I/O APIC", IOAPIC_BASE, IOAPIC_PAGE_SIZE, &ioapic_page_ops, ioapic) &&
	       vm_add_irq_chip(vm, &chip) && vm_add_device_reset(vm, "I/O APIC", ioapic_device_reset, ioapic);
}
