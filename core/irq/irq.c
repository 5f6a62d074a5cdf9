#include "irq/irq.h"

#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "lib/log.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

bool vm_add_irq_chip(struct vm *vm, const struct irq_chip *chip)
{
	struct vm_irq *irq = &vm->irq;

	if (irq->chip_count == VM_MAX_IRQ_CHIPS) {
		log_printf("cvisor: VM %s: no room for interrupt controller %s (at most %u)\n",
			   vm->name, chip->name, VM_MAX_IRQ_CHIPS);
		return false;
	}
	irq->chips[irq->chip_count++] = *chip;
	return true;
}

void vm_set_irq(struct vm *vm, unsigned line, bool level)
{
	struct vm_irq *irq = &vm->irq;

	if (line >= VM_IRQ_LINES) {
		log_printf("cvisor: VM %s: BUG: interrupt line %u does not exist (0-%u); ignored\n",
			   vm->name, line, VM_IRQ_LINES - 1);
		return;
	}
	if (level)
		irq->levels |= 1u << line;
	else
		irq->levels &= ~(1u << line);
	for (unsigned i = 0; i < irq->chip_count; i++)
		irq->chips[i].set_line(vm, irq->chips[i].opaque, line, level);
}

void vm_pulse_irq(struct vm *vm, unsigned line)
{
	vm_set_irq(vm, line, true);
	vm_set_irq(vm, line, false);
}

bool vm_irq_level(const struct vm *vm, unsigned line)
{
	return line < VM_IRQ_LINES && (vm->irq.levels >> line) & 1;
}

/*
 * Does the APIC of target answer to destination?  Physical mode: its APIC
 * ID, or 0xFF for all.  Logical mode (SDM Vol. 3A 11.6.2.2): in the flat
 * model (DFR[31:28] = 1111b) a bit of LDR[31:24] in the destination; in the
 * cluster model (0000b) the cluster in bits 7:4 equal and a bit of LDR[27:24]
 * in bits 3:0; 0xFF reaches every APIC in both.
 */
bool apic_destination_matches(const struct vcpu *target, bool logical, uint8_t destination)
{
	if (!logical)
		return destination == 0xFF || destination == target->id;
	uint8_t ldr = (uint8_t)(LAPIC_REG(&target->lapic, APIC_LDR) >> 24);
	if (destination == 0xFF)
		return true;
	if ((LAPIC_REG(&target->lapic, APIC_DFR) >> 28) == 0xF)
		return (ldr & destination) != 0;
	return (ldr >> 4) == (destination >> 4) && (ldr & destination & 0xF) != 0;
}

void vcpu_deliver_apic_interrupt(struct vcpu *target, unsigned delivery_mode, uint8_t vector,
				 bool level)
{
	switch (delivery_mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* Vectors 0-15 are illegal (11.5.3), and a software-disabled
		 * APIC accepts no interrupt (11.4.7.2): dropped. */
		if (vector < 16 || !lapic_software_enabled(&target->lapic))
			return;
		lapic_set_irr_trigger(&target->lapic, vector, level);
		break;
	case APIC_DM_INIT:
		/* A start-up IPI that came before this INIT is for a state the
		 * INIT ends: it is dropped, the next one counts. */
		__atomic_store_n(&target->pending.sipi, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&target->pending.init, 1, __ATOMIC_RELEASE);
		break;
	case APIC_DM_STARTUP: {
		/* Only the first start-up IPI after INIT starts the processor;
		 * later ones, still pending, are ignored (SDM Vol. 3A 9.4.4.1:
		 * the second SIPI of INIT-SIPI-SIPI is ignored by a processor the
		 * first one started). */
		uint16_t none = 0;
		__atomic_compare_exchange_n(&target->pending.sipi, &none, (uint16_t)(0x100u | vector),
					    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
		break;
	}
	case APIC_DM_NMI:
		__atomic_store_n(&target->pending.nmi, 1, __ATOMIC_RELEASE);
		break;
	case APIC_DM_EXTINT:
		/* The APIC fetches the vector from the 8259 (11.6.1). */
		__atomic_fetch_or(&target->pending.extint, EXTINT_VIA_IOAPIC, __ATOMIC_RELEASE);
		break;
	default:
		/* SMI and the reserved modes are not emulated. */
		log_printf("cvisor: VM %s vCPU %u: APIC delivery mode %u is not emulated; dropped\n",
			   target->vm->name, target->id, delivery_mode);
		return;
	}
	vcpu_kick(target);
}

void vm_deliver_apic_message(struct vm *vm, const struct apic_message *msg)
{
	if (msg->delivery_mode == APIC_DM_STARTUP || msg->delivery_mode == APIC_DM_SMI) {
		log_printf("cvisor: VM %s: I/O APIC delivery mode %u is not emulated; dropped\n",
			   vm->name, msg->delivery_mode);
		return;
	}
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *target = vm->vcpus[i];
		if (!target || !apic_destination_matches(target, msg->logical, msg->destination))
			continue;
		vcpu_deliver_apic_interrupt(target, msg->delivery_mode, msg->vector, msg->level);
		/* Lowest priority goes to one of the named APICs (11.6.2.4);
		 * cvisor picks the lowest APIC ID rather than arbitrating. */
		if (msg->delivery_mode == APIC_DM_LOWEST)
			return;
	}
}

void vm_irq_eoi(struct vm *vm, uint8_t vector)
{
	struct vm_irq *irq = &vm->irq;

	for (unsigned i = 0; i < irq->chip_count; i++)
		if (irq->chips[i].eoi)
			irq->chips[i].eoi(vm, irq->chips[i].opaque, vector);
}

void vm_irq_set_extint(struct vm *vm, bool level)
{
	bool was = __atomic_exchange_n(&vm->irq.extint_level, level, __ATOMIC_ACQ_REL);

	if (level && !was && vm->vcpus[0]) {
		__atomic_fetch_or(&vm->vcpus[0]->pending.extint, EXTINT_VIA_LINT0, __ATOMIC_RELEASE);
		vcpu_kick(vm->vcpus[0]);
	}
}

uint8_t vm_irq_acknowledge_extint(struct vm *vm)
{
	struct vm_irq *irq = &vm->irq;
	uint8_t vector = 0;
	bool found = false;

	spin_lock(&vm->devices.lock);
	for (unsigned i = 0; i < irq->chip_count && !found; i++)
		if (irq->chips[i].acknowledge) {
			vector = irq->chips[i].acknowledge(vm, irq->chips[i].opaque);
			found = true;
		}
	spin_unlock(&vm->devices.lock);
	if (!found)
		log_printf("cvisor: VM %s: BUG: an ExtINT was taken and no 8259 answers it\n", vm->name);
	return vector;
}
