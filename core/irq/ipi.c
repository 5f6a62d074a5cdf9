#include "irq/ipi.h"

#include "irq/irq.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

void vm_send_ipi(struct vcpu *sender, uint32_t icr_low, uint32_t icr_high)
{
	struct vm *vm = sender->vm;
	unsigned shorthand = ICR_SHORTHAND(icr_low);
	unsigned mode = ICR_DELIVERY_MODE(icr_low);

	/* INIT level de-assert is ignored (11.6.1, Pentium 4 and later). */
	if (mode == APIC_DM_INIT && !(icr_low & ICR_LEVEL_ASSERT))
		return;
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *target = vm->vcpus[i];
		bool self = target == sender;
		bool hit;

		if (!target)
			continue;
		switch (shorthand) {
		case ICR_SHORTHAND_SELF:
			hit = self;
			break;
		case ICR_SHORTHAND_ALL:
			hit = true;
			break;
		case ICR_SHORTHAND_ALL_BUT_SELF:
			hit = !self;
			break;
		default:
			hit = apic_destination_matches(target, icr_low & ICR_LOGICAL,
						       ICR_DESTINATION(icr_high));
			break;
		}
		if (!hit)
			continue;
		/* IPIs are edge-triggered: no EOI goes back (11.6.1). */
		vcpu_deliver_apic_interrupt(target, mode, ICR_VECTOR(icr_low), false);
		/* Lowest priority goes to one of the matching vCPUs (11.6.2.4);
		 * cvisor picks the lowest APIC ID rather than arbitrating. */
		if (mode == APIC_DM_LOWEST)
			return;
	}
}
