#include "irq/irq.h"

#include "lib/log.h"
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
