#include "irq/ipi.h"

#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "lib/log.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

/* Does target match the destination field?  Physical: APIC ID or 0xFF for
 * all; logical flat model: LDR[31:24] & mask (11.6.2.2). */
static bool matches(const struct vcpu *target, uint32_t icr_low, uint8_t dest)
{
	if (icr_low & ICR_LOGICAL)
		return ((target->lapic.ldr >> 24) & dest) != 0;
	return dest == 0xFF || dest == target->id;
}

static void deliver(struct vcpu *target, uint32_t icr_low)
{
	switch (ICR_DELIVERY_MODE(icr_low)) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* Vectors 0-15 are illegal (11.5.3): the IPI is dropped. */
		if (ICR_VECTOR(icr_low) < 16 || !lapic_software_enabled(&target->lapic))
			return;
		lapic_set_irr(&target->lapic, ICR_VECTOR(icr_low));
		break;
	case APIC_DM_INIT:
		/* INIT level de-assert is ignored (11.6.1, Pentium 4 and later). */
		if (!(icr_low & ICR_LEVEL_ASSERT))
			return;
		__atomic_store_n(&target->pending.init, 1, __ATOMIC_RELEASE);
		break;
	case APIC_DM_STARTUP:
		__atomic_store_n(&target->pending.sipi, (uint16_t)(0x100u | ICR_VECTOR(icr_low)),
				 __ATOMIC_RELEASE);
		break;
	case APIC_DM_NMI:
		__atomic_store_n(&target->pending.nmi, 1, __ATOMIC_RELEASE);
		break;
	default:
		/* SMI and the reserved modes are not emulated. */
		log_printf("cvisor: VM %s vCPU %u: IPI delivery mode %u is not emulated; dropped\n",
			   target->vm->name, target->id, ICR_DELIVERY_MODE(icr_low));
		return;
	}
	vcpu_kick(target);
}

void vm_send_ipi(struct vcpu *sender, uint32_t icr_low, uint32_t icr_high)
{
	struct vm *vm = sender->vm;
	unsigned shorthand = ICR_SHORTHAND(icr_low);

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
			hit = matches(target, icr_low, ICR_DESTINATION(icr_high));
			break;
		}
		if (!hit)
			continue;
		deliver(target, icr_low);
		/* Lowest priority goes to one of the matching vCPUs (11.6.2.4);
		 * cvisor picks the lowest APIC ID rather than arbitrating. */
		if (ICR_DELIVERY_MODE(icr_low) == APIC_DM_LOWEST)
			return;
	}
}
