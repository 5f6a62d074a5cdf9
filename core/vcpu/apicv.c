#include "vcpu/apicv.h"

#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "platform.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "x86.h"

unsigned apicv_offered(const struct vmx_caps *caps)
{
	uint32_t proc = (uint32_t)(caps->controls[VMX_CONTROLS_PROC] >> 32);
	uint32_t proc2 = (uint32_t)(caps->controls[VMX_CONTROLS_PROC2] >> 32);
	uint32_t pin = (uint32_t)(caps->controls[VMX_CONTROLS_PIN] >> 32);
	unsigned features = 0;

	if (!(proc & PROC_USE_TPR_SHADOW) || !(proc & PROC_SECONDARY_CONTROLS))
		return 0;
	features |= APICV_TPR_SHADOW;
	if (!(proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES))
		return features;
	features |= APICV_APIC_ACCESSES;
	if (!(proc2 & PROC2_APIC_REGISTER_VIRT))
		return features;
	features |= APICV_REGISTERS;
	/* Virtual-interrupt delivery needs external-interrupt exiting (SDM
	 * Vol. 3C 27.2.1.1), which cvisor always uses. */
	if ((proc2 & PROC2_VIRTUAL_INTR_DELIVERY) && (pin & PIN_EXTERNAL_INTERRUPT_EXITING))
		features |= APICV_INTR_DELIVERY;
	return features;
}

const char *apicv_describe(unsigned features)
{
	if (features & APICV_INTR_DELIVERY)
		return "TPR shadow, APIC-register virtualization, virtual-interrupt delivery";
	if (features & APICV_REGISTERS)
		return "TPR shadow, APIC-register virtualization";
	if (features & APICV_APIC_ACCESSES)
		return "TPR shadow, virtualized APIC accesses (TPR only)";
	if (features & APICV_TPR_SHADOW)
		return "TPR shadow";
	return "off (software APIC)";
}

/* What the vCPU uses now: its VM's features while its APIC is globally
 * enabled; without it, only the APIC-access page stays, and since "use
 * TPR shadow" is then 0, every access to the page exits (SDM Vol. 3C
 * 29.4.2, 29.4.3.1) and meets the disabled APIC's all-ones. */
static unsigned features_now(const struct vcpu *vcpu)
{
	unsigned vm_features = vcpu->vm->apicv;

	if (vcpu->msrs.apic_base & APIC_BASE_ENABLE)
		return vm_features;
	return vm_features & APICV_APIC_ACCESSES;
}

void apicv_wanted_controls(struct vcpu *vcpu, uint32_t *proc, uint32_t *proc2)
{
	unsigned f = features_now(vcpu);

	vcpu->apicv = f;
	/* With the TPR shadow, MOV to/from CR8 uses VTPR (SDM Vol. 3C 29.3);
	 * without it, CR8 exits, or it would reach the real TPR. */
	*proc |= (f & APICV_TPR_SHADOW) ? PROC_USE_TPR_SHADOW
					: PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
	if (f & APICV_APIC_ACCESSES)
		*proc2 |= PROC2_VIRTUALIZE_APIC_ACCESSES;
	if (f & APICV_REGISTERS)
		*proc2 |= PROC2_APIC_REGISTER_VIRT;
	if (f & APICV_INTR_DELIVERY)
		*proc2 |= PROC2_VIRTUAL_INTR_DELIVERY;
}

/* The EOI-exit bitmap: vectors 64i to 64i+63 in field i (SDM Vol. 3C 25.6.8). */
static const vmcs_RW64_t eoi_exit_bitmap[4] = {
	EOI_EXIT_BITMAP0, EOI_EXIT_BITMAP1, EOI_EXIT_BITMAP2, EOI_EXIT_BITMAP3,
};

void apicv_write_fields(struct vcpu *vcpu)
{
	/* The virtual-APIC page is the software APIC's register page (SDM
	 * Vol. 3C 25.6.8; 4 KiB aligned, irq/lapic.h). */
	if (vcpu->vm->apicv & APICV_TPR_SHADOW) {
		vmcs_write(VIRTUAL_APIC_PAGE_ADDR, plat_virt_to_phys(vcpu->lapic.regs));
		vmcs_write(TPR_THRESHOLD, 0);
		vcpu->tpr_threshold = 0;
	}
	if (vcpu->vm->apicv & APICV_APIC_ACCESSES)
		vmcs_write(APIC_ACCESS_ADDR, plat_virt_to_phys(vcpu->vm->apic_access_page));
	if (vcpu->vm->apicv & APICV_INTR_DELIVERY) {
		for (unsigned i = 0; i < 4; i++) {
			vmcs_write(eoi_exit_bitmap[i], 0);
			vcpu->eoi_exit_bitmap[i] = 0;
		}
		vmcs_write(GUEST_INTR_STATUS, 0);
	}
}

void apicv_update_controls(struct vcpu *vcpu)
{
	const uint32_t apic_proc = PROC_USE_TPR_SHADOW | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
	const uint32_t apic_proc2 = PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT |
				    PROC2_VIRTUAL_INTR_DELIVERY;
	uint32_t proc = (uint32_t)vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & ~apic_proc;
	uint32_t proc2 = (uint32_t)vmcs_read(SECONDARY_VM_EXEC_CONTROL) & ~apic_proc2;

	apicv_wanted_controls(vcpu, &proc, &proc2);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2);
	vcpu->proc2 = proc2;
	vcpu->check_before_entry = true; /* cvisor-made controls */
}

/*
 * TPR shadow without virtual-interrupt delivery: the CPU exits when the
 * guest lowers VTPR[7:4] below TPR threshold[3:0] (SDM Vol. 3C 29.1.2).
 * The threshold is the class of the highest waiting vector when the TPR
 * holds it back, else 0 (no exit); it never exceeds VTPR[7:4], as VM
 * entry requires (27.2.1.1).  An interrupt held back by the ISR instead
 * waits for the EOI, which exits.
 */
static void update_tpr_threshold(struct vcpu *vcpu)
{
	const struct lapic *apic = &vcpu->lapic;
	int vector = lapic_has_pending(apic) ? lapic_highest_vector(apic, APIC_IRR0) : -1;
	uint32_t tpr_class = (LAPIC_REG(apic, APIC_TPR) >> 4) & 0xF;
	uint8_t threshold = 0;

	if (vector >= 0 && ((uint32_t)vector >> 4) <= tpr_class)
		threshold = (uint8_t)(vector >> 4);
	if (threshold != vcpu->tpr_threshold) {
		vmcs_write(TPR_THRESHOLD, threshold);
		vcpu->tpr_threshold = threshold;
	}
}

/*
 * Virtual-interrupt delivery: RVI is the highest vector in VIRR, SVI the
 * highest in VISR (guest interrupt status, SDM Vol. 3C 25.4.2, 29.1.1);
 * VM entry evaluates pending virtual interrupts from them (29.2.1) and
 * the CPU delivers when RFLAGS.IF and PPR allow (29.2.2).  cvisor moves
 * vectors into VIRR (another CPU may post one) and out of VISR (its own
 * EOI emulation), so both are recomputed before each entry.  The EOI-exit
 * bitmap holds the level-triggered vectors (the TMR, irq/lapic.c): their
 * virtualized EOI exits (29.1.4) and reaches the I/O APIC.
 */
static void sync_interrupt_delivery(struct vcpu *vcpu)
{
	struct lapic *apic = &vcpu->lapic;

	lapic_refresh_irr_summary(apic);
	int rvi = lapic_highest_vector(apic, APIC_IRR0);
	int svi = lapic_highest_vector(apic, APIC_ISR0);
	uint16_t status = (uint16_t)((svi < 0 ? 0 : svi) << 8 | (rvi < 0 ? 0 : rvi));
	if (status != (uint16_t)vmcs_read(GUEST_INTR_STATUS))
		vmcs_write(GUEST_INTR_STATUS, status);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t level = (uint64_t)__atomic_load_n(&LAPIC_VECTOR_WORD(apic, APIC_TMR0, 2 * i),
							   __ATOMIC_ACQUIRE) |
				 (uint64_t)__atomic_load_n(&LAPIC_VECTOR_WORD(apic, APIC_TMR0, 2 * i + 1),
							   __ATOMIC_ACQUIRE) << 32;
		if (level != vcpu->eoi_exit_bitmap[i]) {
			vmcs_write(eoi_exit_bitmap[i], level);
			vcpu->eoi_exit_bitmap[i] = level;
		}
	}
}

void apicv_sync_before_entry(struct vcpu *vcpu)
{
	if (vcpu->apicv & APICV_INTR_DELIVERY)
		sync_interrupt_delivery(vcpu);
	else if (vcpu->apicv & APICV_TPR_SHADOW)
		update_tpr_threshold(vcpu);
}
