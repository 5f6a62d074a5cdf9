#include "vmx/vcpu.h"

#include "exit/exit.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "x86.h"
#include "vmx/segment.h"
#include "vmx/entry_checks.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_names.h"
#include "dev/lapic.h"
#include "vm/apic_timer.h"
#include "vm/hosted_os.h"

/* Segment access rights (SDM Vol. 3C 25.4.1, Table 25-2). */


/* INVEPT/INVVPID types (SDM Vol. 3C 31.3). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXTS 2

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
static enum vmx_error setup_controls(const struct vmx_caps *caps, struct vcpu *vcpu)
{
	uint32_t pin, proc, proc2, exit, entry;
	enum vmx_error err;

	/* Saving the timer on exit keeps a slice running across exits (optional). */
	uint32_t save_timer = (caps->controls[VMX_CONTROLS_EXIT] >> 32) & EXIT_SAVE_PREEMPTION_TIMER;

	const uint32_t *want = vmx_required_controls;
	if ((err = vmx_controls_for(caps, VMX_CONTROLS_PIN, want[VMX_CONTROLS_PIN], &pin)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_PROC, want[VMX_CONTROLS_PROC], &proc)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_PROC2, want[VMX_CONTROLS_PROC2], &proc2)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_EXIT, want[VMX_CONTROLS_EXIT] | save_timer,
				    &exit)) ||
	    (err = vmx_controls_for(caps, VMX_CONTROLS_ENTRY, want[VMX_CONTROLS_ENTRY], &entry)))
		return err;

	write_control_fields(vcpu, pin, proc, proc2, exit, entry);
	return VMX_OK;
}

/*
 * Guest/host masks and read shadows (SDM Vol. 3C 25.6.6): the guest owns
 * every CR0/CR4 bit except those VMX forces (FIXED0, e.g. CR0.NE and
 * CR4.VMXE) or forbids (not in FIXED1).  Reads of those bits return the
 * shadow; writes that would change them exit.  With unrestricted guest,
 * CR0.PE and CR0.PG are free (SDM Vol. 3C 27.3.1.1).
 */
void vcpu_setup_control_registers(const struct vmx_caps *caps, uint64_t cr0, uint64_t cr4)
{
	uint64_t cr0_forced1 = caps->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	uint64_t cr0_mask = cr0_forced1 | (~caps->cr0_fixed1 & 0xFFFFFFFFULL);
	uint64_t cr4_mask = caps->cr4_fixed0 | (~caps->cr4_fixed1 & 0xFFFFFFFFULL);

	vmcs_write(CR0_GUEST_HOST_MASK, cr0_mask);
	vmcs_write(CR0_READ_SHADOW, cr0);
	vmcs_write(GUEST_CR0, (cr0 | cr0_forced1) & caps->cr0_fixed1);
	vmcs_write(CR4_GUEST_HOST_MASK, cr4_mask);
	vmcs_write(CR4_READ_SHADOW, cr4);
	vmcs_write(GUEST_CR4, (cr4 | caps->cr4_fixed0) & caps->cr4_fixed1);
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
static void setup_host_state(void)
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

static void setup_segment(vmcs_RW16_t sel, vmcs_RWNAT_t base, vmcs_RW32_t limit,
			  vmcs_RW32_t ar, uint16_t selector, uint32_t lim, uint32_t rights)
{
	vmcs_write(sel, selector);
	vmcs_write(base, 0);
	vmcs_write(limit, lim);
	vmcs_write(ar, rights);
}

/*
 * Guest state for a Multiboot v1 kernel (Multiboot spec 3.2 "Machine
 * state"): flat 4 GiB 32-bit code and data segments, CR0.PE = 1, paging
 * off, EFLAGS.IF = 0, EAX = magic, EBX = information block.
 */
static void setup_guest_state(const struct vmx_caps *caps, const struct vcpu_start_state *start)
{
	uint32_t code = AR_TYPE_CODE_RX_ACCESSED | AR_S | AR_P | AR_DB | AR_G;
	uint32_t data = AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P | AR_DB | AR_G;

	vcpu_setup_control_registers(caps, CR0_PE | CR0_ET, 0);
	vmcs_write(GUEST_CR3, 0);
	vmcs_write(GUEST_DR7, DR7_INIT);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vmcs_write(GUEST_RIP, start->eip);
	vmcs_write(GUEST_RSP, 0);

	setup_segment(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES,
		      0x08, 0xFFFFFFFF, code);
	setup_segment(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES,
		      0x10, 0xFFFFFFFF, data);
	setup_segment(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES,
		      0x10, 0xFFFFFFFF, data);
	setup_segment(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES,
		      0x10, 0xFFFFFFFF, data);
	setup_segment(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES,
		      0x10, 0xFFFFFFFF, data);
	setup_segment(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES,
		      0x10, 0xFFFFFFFF, data);
	/* SDM Vol. 3C 27.3.1.2: TR must be a usable busy TSS; LDTR may be unusable. */
	setup_segment(GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES,
		      0, 0x67, AR_TYPE_TSS_BUSY | AR_P);
	setup_segment(GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT,
		      GUEST_LDTR_AR_BYTES, 0, 0, AR_UNUSABLE);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0x3FF);

	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_IA32_EFER, 0);
	vmcs_write(GUEST_IA32_PAT, PAT_POWER_ON);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, 0); /* active */
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	/* SDM Vol. 3C 27.3.1.5: without VMCS shadowing the link pointer is all ones. */
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
}

/*
 * The part of creating a vCPU every kind shares: the MSR bitmap page and
 * the VMCS, cleared and made current (SDM Vol. 3C 25.2: a VMCS region
 * starts with the revision identifier; VMCLEAR initializes it, VMPTRLD
 * makes it current, 25.11.3).
 */
static enum vmx_error vcpu_alloc_vmcs(struct vcpu *vcpu, struct vmx_cpu *cpu)
{
	enum vmx_error err;

	vcpu->msr_bitmap = plat_alloc_page();
	if (!vcpu->msr_bitmap)
		return VMX_ERR_NO_MEMORY;
	vcpu->vmcs = plat_alloc_page();
	if (!vcpu->vmcs) {
		err = VMX_ERR_NO_MEMORY;
		goto fail;
	}
	vcpu->vmcs_pa = plat_virt_to_phys(vcpu->vmcs);
	*(uint32_t *)vcpu->vmcs = VMX_BASIC_REVISION(cpu->caps.basic);
	if (vmclear(vcpu->vmcs_pa) != VMX_SUCCEED) {
		err = VMX_ERR_VMCLEAR_FAILED;
		goto fail;
	}
	if (vmptrld(vcpu->vmcs_pa) != VMX_SUCCEED) {
		err = VMX_ERR_VMPTRLD_FAILED;
		goto fail;
	}
	vmcs_reset_failures();
	return VMX_OK;
fail:
	plat_free_page(vcpu->vmcs);
	vcpu->vmcs = NULL;
	plat_free_page(vcpu->msr_bitmap);
	vcpu->msr_bitmap = NULL;
	return err;
}

/* The VMCS is current but unusable: VMCLEAR it before its memory goes
 * back (SDM Vol. 3C 25.11.1: software must not touch an active VMCS). */
static void vcpu_free_current_vmcs(struct vcpu *vcpu)
{
	vmclear(vcpu->vmcs_pa);
	plat_free_page(vcpu->vmcs);
	vcpu->vmcs = NULL;
	plat_free_page(vcpu->msr_bitmap);
	vcpu->msr_bitmap = NULL;
}

/* Drop stale translations for this EPT and VPID (SDM Vol. 3C 29.4.3). */
static void vcpu_invalidate_translations(struct vcpu *vcpu)
{
	const struct vmx_caps *caps = &vcpu->cpu->caps;

	if (caps->ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, vcpu->vm->ept.eptp);
	else
		invept(INVEPT_ALL_CONTEXTS, 0);
	if (caps->ept_vpid & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, vcpu->vpid, 0);
	else
		invvpid(INVVPID_ALL_CONTEXTS, 0, 0);
}

/* The last step of every vCPU kind: no VMWRITE may have failed, then the
 * stale translations of its EPT and VPID go. */
static enum vmx_error vcpu_finish_vmcs(struct vcpu *vcpu)
{
	if (vmcs_failed_writes()) {
		vcpu_free_current_vmcs(vcpu);
		return VMX_ERR_VMWRITE_FAILED;
	}
	vcpu_invalidate_translations(vcpu);
	return VMX_OK;
}

static void vcpu_init_fields(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu, unsigned id)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->exit_handlers = exit_handler_table(vm->identity != NULL);
	vcpu->cpu = cpu;
	vcpu->id = id;
	vcpu->host_cpu = plat_this_cpu();
	/* VPID 0 is the host's; give each vCPU its own (SDM Vol. 3C 29.1). */
	vcpu->vpid = (uint16_t)(1 + vm->id * 16 + id);
}

enum vmx_error vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
			   unsigned id, const struct vcpu_start_state *start)
{
	enum vmx_error err;

	vcpu_init_fields(vcpu, vm, cpu, id);
	/* The bootstrap processor runs; application processors wait for a
	 * start-up IPI (SDM Vol. 3A 9.4.1). */
	vcpu->state = id == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
	vcpu->gprs.regs[GPR_RAX] = start->eax;
	vcpu->gprs.regs[GPR_RBX] = start->ebx;
	/* Power-up state of what the VMCS does not hold (SDM Vol. 3A 10.1.1):
	 * XCR0 = x87 only, FPU control word 0x37F, MXCSR 0x1F80. */
	vcpu->xcr0 = 1;
	vcpu->fpu.bytes[0] = 0x7F;
	vcpu->fpu.bytes[1] = 0x03;
	vcpu->fpu.bytes[24] = 0x80;
	vcpu->fpu.bytes[25] = 0x1F;
	msr_state_init(&vcpu->msrs, id == 0);
	lapic_reset(&vcpu->lapic, id);
	if ((err = vcpu_alloc_vmcs(vcpu, cpu)) != VMX_OK)
		return err;
	msr_bitmap_init(vcpu->msr_bitmap);

	if ((err = setup_controls(&cpu->caps, vcpu)) != VMX_OK)
		goto fail;
	setup_host_state();
	setup_guest_state(&cpu->caps, start);
	return vcpu_finish_vmcs(vcpu);
fail:
	vcpu_free_current_vmcs(vcpu);
	return err;
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
static enum vmx_error setup_hosted_os_controls(const struct vmx_caps *caps, struct vcpu *vcpu)
{
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
static void setup_hosted_os_host_state(const struct hosted_os_host *h)
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

enum vmx_error vcpu_create_hosted_os(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
				       unsigned id, const struct hosted_os_host *host,
				       const struct captured_cpu_state *guest)
{
	enum vmx_error err;

	vcpu_init_fields(vcpu, vm, cpu, id);
	vcpu->state = VCPU_RUNNING;
	if ((err = vcpu_alloc_vmcs(vcpu, cpu)) != VMX_OK)
		return err;
	msr_bitmap_init_hosted_os(vcpu->msr_bitmap);
	if ((err = setup_hosted_os_controls(&cpu->caps, vcpu)) != VMX_OK)
		goto fail;
	setup_hosted_os_host_state(host);
	hosted_os_write_guest_state(&cpu->caps, guest);
	return vcpu_finish_vmcs(vcpu);
fail:
	vcpu_free_current_vmcs(vcpu);
	return err;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu->vmcs)
		return;
	/* VMCLEAR writes the VMCS back to memory and makes it inactive (SDM Vol. 3C 25.11.3). */
	if (vmclear(vcpu->vmcs_pa) != VMX_SUCCEED)
		log_printf("cvisor: VM %s vCPU %u: VMCLEAR failed\n", vcpu->vm->name, vcpu->id);
	plat_free_page(vcpu->vmcs);
	vcpu->vmcs = NULL;
	plat_free_page(vcpu->msr_bitmap);
	vcpu->msr_bitmap = NULL;
}

/* VM-entry interruption-information field (SDM Vol. 3C 25.8.3, Table 25-17). */

void vcpu_inject_exception(struct vcpu *vcpu, unsigned vector, bool has_error_code,
			   uint32_t error_code)
{
	uint32_t info = (vector & 0xFF) | INTR_INFO_TYPE_HW_EXCEPTION | INTR_INFO_VALID;

	if (has_error_code) {
		info |= INTR_INFO_DELIVER_ERROR;
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	}
	vmcs_write(VM_ENTRY_INTR_INFO, info);
	vcpu->event_injected = true;
}

uint64_t vcpu_read_gpr(struct vcpu *vcpu, unsigned gpr)
{
	uint64_t value = gpr == GPR_RSP ? vmcs_read(GUEST_RSP) : vcpu->gprs.regs[gpr & 15];
	return vcpu_guest_in_64bit_mode() ? value : (uint32_t)value;
}

/*
 * The guest state VMX does not switch: x87/SSE registers, XCR0, CR2 and
 * the passed-through syscall MSRs.  cvisor itself never touches the FPU
 * (-mgeneral-regs-only), so these stay live across exits and only move
 * when another vCPU takes the CPU.
 */
void vcpu_load(struct vcpu *vcpu)
{
	if (vcpu->cpu->host_xsave)
		xsetbv(0, vcpu->xcr0);
	fxrstor(&vcpu->fpu);
	write_cr2(vcpu->cr2);
	msr_load_guest(&vcpu->msrs);
}

void vcpu_put(struct vcpu *vcpu)
{
	msr_save_guest(&vcpu->msrs);
	vcpu->cr2 = read_cr2();
	fxsave(&vcpu->fpu);
	if (vcpu->cpu->host_xsave) {
		vcpu->xcr0 = xgetbv(0);
		xsetbv(0, 1);
	}
}

/*
 * VMLAUNCH/VMRESUME that fall through to the next instruction: the VMCS
 * was not entered at all (SDM Vol. 3C 31.2, VM-instruction errors 31.4).
 */
static void report_entry_instruction_failure(struct vcpu *vcpu, int result)
{
	const char *insn = vcpu->launched ? "VMRESUME" : "VMLAUNCH";

	if (result == 1) {
		log_printf("cvisor: VM %s vCPU %u: %s failed: VMfailInvalid (no valid current VMCS)\n",
			   vcpu->vm->name, vcpu->id, insn);
		vm_end(vcpu->vm, false, "%s failed with VMfailInvalid", insn);
		return;
	}
	uint32_t error = vmcs_read(VM_INSTRUCTION_ERROR);
	log_printf("cvisor: VM %s vCPU %u: %s failed: VMfailValid, VM-instruction error %u (%s)\n",
		   vcpu->vm->name, vcpu->id, insn, error, vmx_instruction_error_name(error));
	if (!vcpu->entry_rules_reported)
		vcpu_check_entry_rules(vcpu);
	vmcs_dump();
	vm_end(vcpu->vm, false, "%s failed: VM-instruction error %u (%s)", insn, error,
	       vmx_instruction_error_name(error));
}

bool vcpu_make_current(struct vcpu *vcpu, struct vcpu *previous)
{
	if (previous == vcpu)
		return true;
	if (previous)
		vcpu_put(previous);
	/* SDM Vol. 3C 25.11.3: VMPTRLD makes this vCPU's VMCS current. */
	if (vmptrld(vcpu->vmcs_pa) != VMX_SUCCEED) {
		log_printf("cvisor: VM %s vCPU %u: VMPTRLD failed\n", vcpu->vm->name, vcpu->id);
		vm_end(vcpu->vm, false, "VMPTRLD of its VMCS failed");
		return false;
	}
	vcpu_load(vcpu);
	return true;
}

#ifdef CVISOR_RELEASE
bool vcpu_check_entries = false;
#else
bool vcpu_check_entries = true;
#endif

unsigned vcpu_check_entry_rules(struct vcpu *vcpu)
{
	unsigned broken = vmx_check_vm_entry(&vcpu->cpu->caps, 0);
	vcpu->entry_rules_reported = true;
	if (broken)
		log_printf("cvisor: VM %s vCPU %u: the VMCS breaks %u VM-entry rule(s), listed above\n",
			   vcpu->vm->name, vcpu->id, broken);
	return broken;
}

bool vcpu_has_work(const struct vcpu *v, uint64_t now)
{
	enum vcpu_state state = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
	uint64_t deadline = apic_timer_deadline(v);

	return state == VCPU_RUNNING || __atomic_load_n(&v->pending.init, __ATOMIC_ACQUIRE) ||
	       (state != VCPU_WAIT_SIPI && __atomic_load_n(&v->pending.nmi, __ATOMIC_ACQUIRE)) ||
	       (state == VCPU_WAIT_SIPI && __atomic_load_n(&v->pending.sipi, __ATOMIC_ACQUIRE)) ||
	       (state == VCPU_HALTED &&
		(lapic_has_pending(&v->lapic) || (deadline && now >= deadline)));
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (vcpu->host_cpu != plat_this_cpu())
		plat_send_ipi(vcpu->host_cpu, VCPU_KICK_VECTOR);
}

/*
 * The state a start-up IPI gives (SDM Vol. 3A 9.4.4 and Table 10-1): real
 * mode at CS = vector << 8, IP = 0, the rest as after INIT.  Unrestricted
 * guest runs real mode directly.
 */
static void enter_real_mode_at(struct vcpu *vcpu, uint8_t vector)
{
	uint32_t code = AR_TYPE_CODE_RX_ACCESSED | AR_S | AR_P;
	uint32_t data = AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P;
	struct cpuid_regs sig;

	vcpu_setup_control_registers(&vcpu->cpu->caps, CR0_ET | CR0_NW | CR0_CD, 0);
	vmcs_write(VM_ENTRY_CONTROLS, vmcs_read(VM_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST);
	vmcs_write(GUEST_IA32_EFER, 0);
	vmcs_write(GUEST_CR3, 0);
	vmcs_write(GUEST_DR7, DR7_INIT);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vmcs_write(GUEST_RIP, 0);
	vmcs_write(GUEST_RSP, 0);
	setup_segment(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES,
		      (uint16_t)(vector << 8), 0xFFFF, code);
	vmcs_write(GUEST_CS_BASE, (uint64_t)vector << 12);
	setup_segment(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, 0, 0xFFFF, data);
	setup_segment(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, 0, 0xFFFF, data);
	setup_segment(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, 0, 0xFFFF, data);
	setup_segment(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, 0, 0xFFFF, data);
	setup_segment(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, 0, 0xFFFF, data);
	setup_segment(GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES,
		      0, 0xFFFF, AR_TYPE_TSS_BUSY | AR_P);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xFFFF);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xFFFF);
	vmcs_write(GUEST_ACTIVITY_STATE, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
	for (unsigned i = 0; i < GPR_COUNT; i++)
		vcpu->gprs.regs[i] = 0;
	cpuid(1, 0, &sig);
	vcpu->gprs.regs[GPR_RDX] = sig.eax; /* EDX = processor signature after INIT */
}

void vcpu_enter_init_state(struct vcpu *vcpu)
{
	lapic_reset(&vcpu->lapic, vcpu->id);
	enter_real_mode_at(vcpu, 0);
	vcpu->check_before_entry = true;
}

void vcpu_enter_sipi_state(struct vcpu *vcpu, uint8_t vector)
{
	enter_real_mode_at(vcpu, vector);
	vcpu->check_before_entry = true;
}

static void set_window_exiting(uint32_t control, bool on)
{
	uint32_t proc = vmcs_read(CPU_BASED_VM_EXEC_CONTROL);
	uint32_t want = on ? proc | control : proc & ~control;
	if (want != proc)
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, want);
}

static void set_interrupt_window_exiting(bool on)
{
	set_window_exiting(PROC_INTERRUPT_WINDOW_EXITING, on);
}


/*
 * Injects a pending NMI unless NMIs are blocked (by a previous NMI until
 * IRET, or by MOV SS) or another event is being injected; then the
 * NMI-window exit says when (SDM Vol. 3C 26.7.6, 27.2.1.3, 27.6.1).
 * Returns true when it injected.
 */
static bool inject_nmi(struct vcpu *vcpu)
{
	uint32_t intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);

	if ((intr & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOVSS)) ||
	    (vmcs_read(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID)) {
		set_window_exiting(PROC_NMI_WINDOW_EXITING, true);
		return false;
	}
	__atomic_store_n(&vcpu->pending.nmi, 0, __ATOMIC_RELEASE);
	vmcs_write(VM_ENTRY_INTR_INFO, 2 | INTR_INFO_TYPE_NMI | INTR_INFO_VALID);
	set_window_exiting(PROC_NMI_WINDOW_EXITING, false);
	return true;
}

/*
 * Delivers a pending APIC interrupt as an external interrupt when the guest
 * can take one: RFLAGS.IF = 1, no STI/MOV-SS shadow, nothing else being
 * injected (SDM Vol. 3C 27.6.1).  Otherwise the interrupt-window exit tells
 * cvisor when it can (26.7.5).
 */
static void inject_interrupt(struct vcpu *vcpu, uint8_t vector)
{
	bool can_take = (vmcs_read(GUEST_RFLAGS) & RFLAGS_IF) &&
			!(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_STI_MOVSS) &&
			!(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID);

	if (!can_take) {
		set_interrupt_window_exiting(true);
		return;
	}
	lapic_accept(&vcpu->lapic, vector);
	vmcs_write(VM_ENTRY_INTR_INFO, vector | INTR_INFO_TYPE_EXTERNAL | INTR_INFO_VALID);
	set_interrupt_window_exiting(false);
}

bool vcpu_process_events(struct vcpu *vcpu)
{
	if (__atomic_exchange_n(&vcpu->pending.init, 0, __ATOMIC_ACQUIRE)) {
		/* INIT: the APIC resets (keeping its ID) and the vCPU waits for
		 * SIPI (SDM Vol. 3A 9.1.1, 11.4.7.3). */
		lapic_reset(&vcpu->lapic, vcpu->id);
		vcpu->state = VCPU_WAIT_SIPI;
	}
	uint32_t sipi = __atomic_exchange_n(&vcpu->pending.sipi, 0, __ATOMIC_ACQUIRE);
	if (sipi && vcpu->state == VCPU_WAIT_SIPI) {
		enter_real_mode_at(vcpu, (uint8_t)sipi);
		vcpu->state = VCPU_RUNNING;
		vcpu->check_before_entry = true;
	}
	if (vcpu->state == VCPU_WAIT_SIPI)
		return false;
	/* An NMI ends HLT even with interrupts off, and goes before them. */
	if (__atomic_load_n(&vcpu->pending.nmi, __ATOMIC_ACQUIRE)) {
		vcpu->state = VCPU_RUNNING;
		inject_nmi(vcpu);
	}
	if (vcpu->state == VCPU_PARKED)
		return false;
	apic_timer_expire(vcpu, rdtsc());
	int vector = lapic_deliverable(&vcpu->lapic);
	if (vector >= 0) {
		vcpu->state = VCPU_RUNNING; /* an interrupt ends HLT */
		inject_interrupt(vcpu, (uint8_t)vector);
	}
	return vcpu->state == VCPU_RUNNING;
}

/*
 * After an exit, may the guest be resumed at once, without the work of
 * vcpu_run_slice's loop (events, timer, checks)?  Yes when that work would
 * change nothing: the VM runs on, the vCPU is running, nothing is posted to
 * it (INIT, SIPI, NMI, an APIC interrupt), the deadline of this entry (slice
 * end, APIC timer) has not passed; entry_deadline is 0 unless the
 * VMX-preemption timer keeps its remaining count across exits (SDM Vol. 3C
 * 25.7.1, 26.5.1).
 *
 * An event another CPU posts while this one is in root operation is not
 * missed: its kick IPI is held (RFLAGS.IF = 0 after an exit, SDM Vol. 3C
 * 28.5.3) and, with external-interrupt exiting, exits the guest right
 * after the entry (SDM Vol. 3C 26.2).
 */
static bool vcpu_may_resume_directly(const struct vcpu *vcpu)
{
	return !vcpu->vm->ended && vcpu->state == VCPU_RUNNING &&
	       !vcpu->preempted && !vcpu->check_before_entry &&
	       !__atomic_load_n(&vcpu->pending.any, __ATOMIC_ACQUIRE) &&
	       !lapic_has_pending(&vcpu->lapic) && rdtsc() < vcpu->entry_deadline;
}

/* vmx_run_guest's on_exit for vCPUs of ordinary VMs. */
static bool vcpu_exit(void *ctx)
{
	struct vcpu *vcpu = ctx;

	exit_dispatch(vcpu, (uint32_t)vmcs_read(VM_EXIT_REASON));
	/* Any rules checked were for the entry before this exit. */
	vcpu->entry_rules_reported = false;
	return vcpu_may_resume_directly(vcpu);
}

uint64_t vcpu_first_entry_tsc;

void vcpu_run_slice(struct vcpu *vcpu, uint64_t slice_tsc)
{
	struct vm *vm = vcpu->vm;

	vcpu->preempted = false;
	vcpu->slice_end = rdtsc() + slice_tsc;
	while (!vm->ended && !vcpu->preempted && vcpu_process_events(vcpu)) {
		/* The VMX-preemption timer ends the slice, or wakes cvisor for the
		 * APIC timer, whichever is first.  It counts down once every 2^X
		 * TSC ticks, X = IA32_VMX_MISC[4:0] (SDM Vol. 3C 26.5.1). */
		uint64_t now = rdtsc(), until = vcpu->slice_end;
		/* The timer's exit comes only after event injection, and not at
		 * all when delivering the injected event exits first (SDM Vol. 3C
		 * 27.7.4): an exit storm could keep it from firing, so the clock
		 * also ends the slice. */
		if (now >= vcpu->slice_end) {
			vcpu->preempted = true;
			break;
		}
		uint64_t deadline = apic_timer_deadline(vcpu);
		if (deadline && deadline < until)
			until = deadline;
		/* Without a saved timer every entry must reload it: no fast path. */
		vcpu->entry_deadline = vcpu->timer_saved_on_exit ? until : 0;
		uint64_t ticks = until > now ? (until - now) >> (vcpu->cpu->caps.misc & 0x1F) : 0;
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ticks);
		if (vcpu_check_entries && (!vcpu->launched || vcpu->check_before_entry)) {
			vcpu->check_before_entry = false;
			/* Broken rules are printed; enter anyway so the CPU's own
			 * verdict follows in the report. */
			vcpu_check_entry_rules(vcpu);
		}
		if (!vcpu->launched) {
			uint64_t none = 0;
			__atomic_compare_exchange_n(&vcpu_first_entry_tsc, &none, rdtsc(), false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		}
		/* Returns after an exit that needs this loop (vcpu_exit).  Set
		 * first, so that the handlers of the first exit see it. */
		bool launched = vcpu->launched;
		vcpu->launched = true;
		int result = vmx_run_guest(&vcpu->gprs, launched, vcpu_exit, vcpu);
		if (result != 0) {
			vcpu->launched = launched; /* the VMLAUNCH/VMRESUME itself failed */
			report_entry_instruction_failure(vcpu, result);
			break;
		}
	}
}

static bool stop_after_one_exit(void *ctx)
{
	(void)ctx;
	return false;
}

int vmx_enter_guest(struct guest_gprs *gprs, int launched)
{
	return vmx_run_guest(gprs, launched, stop_after_one_exit, NULL);
}


void vcpu_dump_registers(const struct vcpu *vcpu)
{
	const uint64_t *r = vcpu->gprs.regs;

	log_printf("cvisor: VM %s vCPU %u registers: RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx "
		   "CR0 0x%llx CR3 0x%llx CR4 0x%llx\n",
		   vcpu->vm->name, vcpu->id, (unsigned long long)vmcs_read(GUEST_RIP),
		   (unsigned long long)vmcs_read(GUEST_RSP),
		   (unsigned long long)vmcs_read(GUEST_RFLAGS),
		   (unsigned long long)vmcs_read(GUEST_CR0),
		   (unsigned long long)vmcs_read(GUEST_CR3),
		   (unsigned long long)vmcs_read(GUEST_CR4));
	log_printf("cvisor:   RAX 0x%llx RBX 0x%llx RCX 0x%llx RDX 0x%llx RSI 0x%llx RDI 0x%llx RBP 0x%llx\n",
		   (unsigned long long)r[GPR_RAX], (unsigned long long)r[GPR_RBX],
		   (unsigned long long)r[GPR_RCX], (unsigned long long)r[GPR_RDX],
		   (unsigned long long)r[GPR_RSI], (unsigned long long)r[GPR_RDI],
		   (unsigned long long)r[GPR_RBP]);
	log_printf("cvisor:   R8 0x%llx R9 0x%llx R10 0x%llx R11 0x%llx R12 0x%llx R13 0x%llx R14 0x%llx R15 0x%llx\n",
		   (unsigned long long)r[GPR_R8], (unsigned long long)r[GPR_R9],
		   (unsigned long long)r[GPR_R10], (unsigned long long)r[GPR_R11],
		   (unsigned long long)r[GPR_R12], (unsigned long long)r[GPR_R13],
		   (unsigned long long)r[GPR_R14], (unsigned long long)r[GPR_R15]);
}
