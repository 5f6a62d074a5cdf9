#include "vcpu/vmcs_setup.h"

#include "platform.h"
#include "vcpu/apicv.h"
#include "vcpu/cpu_features.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vmx/intrin.h"
#include "vmx/segment.h"
#include "vmx/vmcs.h"
#include "x86.h"

/*
 * The five control words and the control fields every vCPU kind sets the
 * same way (and whether the VMX-preemption timer is saved on exit): no
 * exception exits, no MSR load/store lists, no event to inject,
 * its MSR bitmap, EPT and VPID.
 */
static void write_control_fields(struct vcpu *vcpu, uint32_t pin, uint32_t proc, uint32_t proc2,
				 uint32_t exit, uint32_t entry)
{
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write(VM_EXIT_CONTROLS, exit);
	vmcs_write(VM_ENTRY_CONTROLS, entry);
	vcpu->timer_saved_on_exit = exit & EXIT_SAVE_PREEMPTION_TIMER;
	vcpu->proc2 = proc2;
	vcpu->preemption_timer = pin & PIN_PREEMPTION_TIMER;
	vcpu->virtual_nmis = pin & PIN_VIRTUAL_NMIS;
	vmcs_write(EXCEPTION_BITMAP, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
	/* MSRs not passed through by the bitmap exit (SDM Vol. 3C 25.6.9). */
	vmcs_write(MSR_BITMAP, plat_virt_to_phys(vcpu->msr_bitmap));
	vmcs_write(TSC_OFFSET, 0);
	vmcs_write(EPT_POINTER, vcpu->vm->ept.eptp);
	/* SDM Vol. 3C 27.2.1.1: with "enable VPID", the VPID must not be 0. */
	vmcs_write(VIRTUAL_PROCESSOR_ID, vcpu->vpid);
}

/* Controls clamped from the capability MSRs (SDM Vol. 3C 25.6-25.8, A.3-A.5). */
enum vmx_error vmcs_setup_controls(struct vcpu *vcpu)
{
	const struct vmx_caps *caps = &vcpu->cpu->caps;
	uint32_t pin, proc, proc2, exit, entry;
	enum vmx_error err;

	/* Saving the timer on exit keeps a slice running across exits (optional). */
	uint32_t save_timer = vmx_control_allowed(caps, VMX_CONTROLS_EXIT, EXIT_SAVE_PREEMPTION_TIMER)
				      ? EXIT_SAVE_PREEMPTION_TIMER : 0;
	/* The controls the CPUID features a guest may see need (RDTSCP, INVPCID:
	 * vcpu/cpu_features.c), where this CPU allows them; the CPUID policy
	 * hides the features whose control it does not allow. */
	uint32_t allowed2 = (uint32_t)(caps->controls[VMX_CONTROLS_PROC2] >> 32);
	uint32_t features2 = cpu_features_wanted_proc2() & allowed2;

	/* The APIC virtualization its VM chose, or CR8 exiting (vcpu/apicv.h). */
	uint32_t apic_proc = 0, apic_proc2 = 0;
	apicv_wanted_controls(vcpu, &apic_proc, &apic_proc2);

	const uint32_t *want = vmx_required_controls;
	if ((err = vmx_controls_for(caps, VMX_CONTROLS_PIN, want[VMX_CONTROLS_PIN], &pin)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_PROC, want[VMX_CONTROLS_PROC] | apic_proc,
				    &proc)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_PROC2,
				    want[VMX_CONTROLS_PROC2] | features2 | apic_proc2, &proc2)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_EXIT, want[VMX_CONTROLS_EXIT] | save_timer,
				    &exit)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_ENTRY, want[VMX_CONTROLS_ENTRY], &entry)))
		return err;

	write_control_fields(vcpu, pin, proc, proc2, exit, entry);
	apicv_write_fields(vcpu);
	vcpu->cr4_unoffered = cpu_features_cr4_unoffered(proc2);
	return VMX_OK;
}

/* The host MSRs a VM exit loads are the running CPU's own, and every exit
 * lands in vmx_entry.S (SDM Vol. 3C 25.5.1, 28.5.1). */
static void write_host_msrs_and_rip(void)
{
	vmcs_write(HOST_IA32_SYSENTER_CS, (uint32_t)rdmsr(MSR_IA32_SYSENTER_CS));
	vmcs_write(HOST_IA32_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmcs_write(HOST_IA32_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmcs_write(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmcs_write(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_landing);
}

/*
 * Host state: the CPU as it runs now (SDM Vol. 3C 25.5, checks in 27.2.3).
 * Selectors must have RPL = 0 and TI = 0.
 */
void vmcs_setup_host_state(void)
{
	struct desc_ptr gdtr, idtr;
	read_gdtr(&gdtr);
	read_idtr(&idtr);
	uint16_t tr = read_tr();

	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CR3, read_cr3());
	vmcs_write(HOST_CR4, read_cr4());
	vmcs_write(HOST_CS_SELECTOR, read_cs() & ~7);
	vmcs_write(HOST_SS_SELECTOR, read_ss() & ~7);
	vmcs_write(HOST_DS_SELECTOR, read_ds() & ~7);
	vmcs_write(HOST_ES_SELECTOR, read_es() & ~7);
	vmcs_write(HOST_FS_SELECTOR, read_fs() & ~7);
	vmcs_write(HOST_GS_SELECTOR, read_gs() & ~7);
	vmcs_write(HOST_TR_SELECTOR, tr & ~7);
	vmcs_write(HOST_FS_BASE, rdmsr(MSR_IA32_FS_BASE));
	vmcs_write(HOST_GS_BASE, rdmsr(MSR_IA32_GS_BASE));
	vmcs_write(HOST_TR_BASE, segment_descriptor_base((const void *)gdtr.base, tr));
	vmcs_write(HOST_GDTR_BASE, gdtr.base);
	vmcs_write(HOST_IDTR_BASE, idtr.base);
	write_host_msrs_and_rip();
	/* HOST_RSP is written by vmx_enter_guest before each entry. */
}

/*
 * Controls of a hosted-OS vCPU (the running OS as a guest, core/vm/
 * hosted_os.c): as little as possible exits.  Interrupts, NMIs, HLT, port
 * I/O and most MSRs go straight to the OS; no preemption timer.  The
 * instructions the OS already uses must keep working, so RDTSCP, INVPCID
 * and XSAVES are enabled wherever the CPU allows it (without them they
 * #UD in non-root operation, SDM Vol. 3C 26.3).  EFER, PAT and DEBUGCTL
 * are saved on exit because the OS writes them directly.
 */
enum vmx_error vmcs_setup_hosted_os_controls(struct vcpu *vcpu)
{
	const struct vmx_caps *caps = &vcpu->cpu->caps;
	uint32_t pin, proc, proc2, exit, entry;
	enum vmx_error err;
	uint32_t allowed2 = (uint32_t)(caps->controls[VMX_CONTROLS_PROC2] >> 32);
	uint32_t optional2 = allowed2 & (PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID |
					 PROC2_ENABLE_XSAVES);

	if ((err = vmx_controls_for(caps, VMX_CONTROLS_PIN, 0, &pin)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_PROC,
				    PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CONTROLS, &proc)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_PROC2,
				    PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
					    optional2,
				    &proc2)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_EXIT,
				    EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
					    EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT |
					    EXIT_LOAD_IA32_PAT | EXIT_SAVE_DEBUG_CONTROLS,
				    &exit)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_ENTRY,
				    ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER |
					    ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS,
				    &entry)))
		return err;

	write_control_fields(vcpu, pin, proc, proc2, exit, entry);
	return VMX_OK;
}

/* Host state from the platform's tables (SDM Vol. 3C 25.5, checks 27.2.3);
 * the MSRs the exit loads are the OS's own (cvisor does not use them). */
void vmcs_setup_hosted_os_host_state(const struct hosted_os_host *h)
{
	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CR3, h->cr3);
	vmcs_write(HOST_CR4, read_cr4());
	vmcs_write(HOST_CS_SELECTOR, h->cs_selector);
	vmcs_write(HOST_SS_SELECTOR, h->data_selector);
	vmcs_write(HOST_DS_SELECTOR, h->data_selector);
	vmcs_write(HOST_ES_SELECTOR, h->data_selector);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, h->tr_selector);
	vmcs_write(HOST_FS_BASE, h->fs_base);
	vmcs_write(HOST_GS_BASE, h->gs_base);
	vmcs_write(HOST_TR_BASE, h->tr_base);
	vmcs_write(HOST_GDTR_BASE, h->gdtr_base);
	vmcs_write(HOST_IDTR_BASE, h->idtr_base);
	write_host_msrs_and_rip();
}
