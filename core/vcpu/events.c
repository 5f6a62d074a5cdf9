#include "vcpu/events.h"

#include "dev/device.h"
#include "irq/irq.h"
#include "irq/lapic.h"
#include "irq/lapic_timer.h"
#include "lib/deadline.h"
#include "vcpu/apicv.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"
#include "x86.h"

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
	/* A fault pushes RFLAGS with RF set (SDM Vol. 3A 17.3.1.1), so that
	 * returning to the faulting instruction does not retrigger an
	 * instruction breakpoint; VM entry injects what GUEST_RFLAGS holds and
	 * does not set RF itself (as KVM and ACRN, the VMM sets it). */
	if (vector < 32 && (FAULT_VECTORS >> vector) & 1)
		vmcs_write(GUEST_RFLAGS, vmcs_read(GUEST_RFLAGS) | RFLAGS_RF);
}

/*
 * The single-step trap after an instruction cvisor emulated with RFLAGS.TF
 * set: a pending debug exception with BS (SDM Vol. 3C 25.4.2), which the
 * CPU delivers after VM entry as it would have after the instruction,
 * setting DR6.BS and honouring blocking by MOV SS and STI (27.7.3).  With
 * IA32_DEBUGCTL.BTF, TF traps on branches only (Vol. 3B 18.4.3): none here.
 */
void vcpu_single_step_trap(struct vcpu *vcpu)
{
	(void)vcpu;
	if (vmcs_read(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF)
		return;
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS,
		   vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
}

void vcpu_inject_page_fault(struct vcpu *vcpu, uint64_t linear, uint32_t pf_error)
{
	/* CR2 is live in the CPU while the guest runs (vcpu_load). */
	write_cr2(linear);
	vcpu_inject_exception(vcpu, VECTOR_PF, true, pf_error);
}

/*
 * An exit that happened while an event was being delivered through the
 * guest IDT (an EPT violation on the IDT or stack, say) leaves that event
 * in IDT_VECTORING_INFO; unless the VM ended or the handler queued its own
 * event, deliver it again on the next entry (SDM Vol. 3C 28.2.4, 27.6).
 */
void vcpu_requeue_interrupted_event(struct vcpu *vcpu)
{
	if (vcpu->vm->ended || vcpu->event_injected)
		return;
	uint32_t info = vmcs_read(IDT_VECTORING_INFO);
	if (!(info & INTR_INFO_VALID))
		return;
	if (info & INTR_INFO_DELIVER_ERROR)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(IDT_VECTORING_ERROR_CODE));
	/* Software interrupts and exceptions need their instruction length (types 4-6). */
	unsigned type = INTR_INFO_TYPE(info);
	if (type >= INTR_TYPE_SOFT_INTERRUPT && type <= INTR_TYPE_SOFT_EXCEPTION)
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	vmcs_write(VM_ENTRY_INTR_INFO, info & ~INTR_INFO_NMI_UNBLOCKING); /* undefined here */
}

bool vcpu_has_work(const struct vcpu *v, uint64_t now)
{
	enum vcpu_state state = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
	uint64_t deadline = lapic_timer_deadline(&v->lapic);

	/* A vCPU of a VM that restarts runs its loop until the restart is
	 * done (vm/reset.h), whatever its state. */
	return state == VCPU_RUNNING || __atomic_load_n(&v->vm_reset, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&v->pending.init, __ATOMIC_ACQUIRE) ||
	       (state != VCPU_WAIT_SIPI && __atomic_load_n(&v->pending.nmi, __ATOMIC_ACQUIRE)) ||
	       (state == VCPU_WAIT_SIPI && __atomic_load_n(&v->pending.sipi, __ATOMIC_ACQUIRE)) ||
	       (state == VCPU_HALTED &&
		(lapic_has_pending(&v->lapic) || (deadline && now >= deadline) ||
		 __atomic_load_n(&v->pending.extint, __ATOMIC_ACQUIRE) ||
		 device_timer_due(&v->vm->devices, now)));
}

uint64_t vcpu_wake_deadline(const struct vcpu *v)
{
	if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VCPU_HALTED)
		return 0;
	return deadline_earlier(lapic_timer_deadline(&v->lapic), vm_device_deadline(&v->vm->devices));
}

/*
 * The state a start-up IPI gives (SDM Vol. 3A 9.4.4 and Table 10-1): real
 * mode at CS = vector << 8, IP = 0, the rest as after INIT.  Unrestricted
 * guest runs real mode directly.
 */
static void enter_real_mode_at(struct vcpu *vcpu, uint8_t vector)
{
	const struct vmcs_segment code = {
		.selector = (uint16_t)(vector << 8), .base = (uint64_t)vector << 12, .limit = 0xFFFF,
		.access_rights = AR_TYPE_CODE_RX_ACCESSED | AR_S | AR_P,
	};
	const struct vmcs_segment data = {
		.limit = 0xFFFF, .access_rights = AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P,
	};
	const struct vmcs_segment tss = { .limit = 0xFFFF, .access_rights = AR_TYPE_TSS_BUSY | AR_P };
	struct cpuid_regs sig;

	vcpu_setup_control_registers(&vcpu->cpu->caps, CR0_ET | CR0_NW | CR0_CD, 0);
	/* Pinned bits stay owned: once this vCPU sets them, they stick (vm/protect.h). */
	vcpu_own_control_bits(vcpu->vm->protect.cr0_pinned,
			      vcpu->vm->protect.cr4_pinned | vcpu->cr4_unoffered);
	vmcs_write(VM_ENTRY_CONTROLS, vmcs_read(VM_ENTRY_CONTROLS) & ~ENTRY_IA32E_MODE_GUEST);
	vmcs_write(GUEST_IA32_EFER, 0);
	vmcs_write(GUEST_CR3, 0);
	vmcs_write(GUEST_DR7, DR7_INIT);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vmcs_write(GUEST_RIP, 0);
	vmcs_write(GUEST_RSP, 0);
	guest_write_segment(GUEST_SEG_CS, &code);
	guest_write_segment(GUEST_SEG_SS, &data);
	guest_write_segment(GUEST_SEG_DS, &data);
	guest_write_segment(GUEST_SEG_ES, &data);
	guest_write_segment(GUEST_SEG_FS, &data);
	guest_write_segment(GUEST_SEG_GS, &data);
	guest_write_segment(GUEST_SEG_TR, &tss);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xFFFF);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xFFFF);
	vmcs_write(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
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
 * A single-step trap is pending on the previous instruction (vcpu_single_step_trap,
 * or saved by the CPU).  It goes before an NMI or an interrupt (SDM Vol. 3A
 * 6.9: traps on the previous instruction have priority 4, NMIs 5, maskable
 * interrupts after), but a VM entry that injects an event drops pending
 * debug exceptions (Vol. 3C 27.7.3): the event waits for its window, which
 * opens after the #DB has been delivered.
 */
static bool single_step_trap_pending(void)
{
	return vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS;
}

bool vcpu_inject_pending_nmi(struct vcpu *vcpu)
{
	if (!__atomic_load_n(&vcpu->pending.nmi, __ATOMIC_ACQUIRE))
		return false;
	/* Without virtual NMIs there is no NMI window to wait for (the hosted
	 * OS): the NMI goes first rather than wait for a later exit. */
	if ((vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOVSS)) ||
	    (vmcs_read(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
	    (vcpu->virtual_nmis && single_step_trap_pending())) {
		/* NMI-window exiting needs virtual NMIs (SDM Vol. 3C 27.2.1.1). */
		if (vcpu->virtual_nmis)
			set_window_exiting(PROC_NMI_WINDOW_EXITING, true);
		return false;
	}
	__atomic_store_n(&vcpu->pending.nmi, 0, __ATOMIC_RELEASE);
	vmcs_write(VM_ENTRY_INTR_INFO, VECTOR_NMI | INTR_INFO_TYPE_NMI | INTR_INFO_VALID);
	if (vcpu->virtual_nmis)
		set_window_exiting(PROC_NMI_WINDOW_EXITING, false);
	return true;
}

/*
 * Delivers a pending APIC interrupt as an external interrupt when the guest
 * can take one: RFLAGS.IF = 1, no STI/MOV-SS shadow, nothing else being
 * injected (SDM Vol. 3C 27.6.1).  Otherwise the interrupt-window exit tells
 * cvisor when it can (26.7.5).
 */
static bool can_take_interrupt(void)
{
	bool can_take = (vmcs_read(GUEST_RFLAGS) & RFLAGS_IF) &&
			!(vmcs_read(GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_STI_MOVSS) &&
			!(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
			!single_step_trap_pending();

	if (!can_take)
		set_interrupt_window_exiting(true);
	return can_take;
}

static void inject_external_interrupt(uint8_t vector)
{
	vmcs_write(VM_ENTRY_INTR_INFO, vector | INTR_INFO_TYPE_EXTERNAL | INTR_INFO_VALID);
	set_interrupt_window_exiting(false);
}

static void inject_interrupt(struct vcpu *vcpu, uint8_t vector)
{
	if (!can_take_interrupt())
		return;
	lapic_accept(&vcpu->lapic, vector);
	inject_external_interrupt(vector);
}

/*
 * The 8259's interrupt (its INTR output is high) reaches this vCPU through
 * LINT0 in ExtINT mode, through any LINT0 when the APIC is globally
 * disabled (its pins are then the processor's INTR and NMI, SDM Vol. 3A
 * 11.4.3), or through an I/O APIC entry in ExtINT mode.  ExtINT bypasses
 * the APIC's IRR and priorities (11.6.1): the vector comes from the 8259's
 * acknowledge cycle when the guest can take it.  Returns true when the
 * vCPU has such an interrupt (taken now, or waiting for its window).
 */
static bool take_extint(struct vcpu *vcpu)
{
	uint16_t via = __atomic_load_n(&vcpu->pending.extint, __ATOMIC_ACQUIRE);

	if (!via)
		return false;
	bool accepted = (via & EXTINT_VIA_IOAPIC) ||
			((via & EXTINT_VIA_LINT0) && (!(vcpu->msrs.apic_base & APIC_BASE_ENABLE) ||
						      lapic_accepts_extint(&vcpu->lapic)));
	if (!accepted || !__atomic_load_n(&vcpu->vm->irq.extint_level, __ATOMIC_ACQUIRE)) {
		/* Not for this vCPU, or the 8259 lowered INTR before it was taken:
		 * nothing waits for the interrupt window any more (an APIC
		 * interrupt that does asks for it again), else every STI would
		 * exit for an empty window. */
		__atomic_store_n(&vcpu->pending.extint, 0, __ATOMIC_RELEASE);
		set_interrupt_window_exiting(false);
		return false;
	}
	if (!can_take_interrupt())
		return true;
	__atomic_store_n(&vcpu->pending.extint, 0, __ATOMIC_RELEASE);
	inject_external_interrupt(vm_irq_acknowledge_extint(vcpu->vm));
	/* INTR is a level: still high, the next interrupt is pending too. */
	if (__atomic_load_n(&vcpu->vm->irq.extint_level, __ATOMIC_ACQUIRE))
		__atomic_fetch_or(&vcpu->pending.extint, via, __ATOMIC_RELEASE);
	return true;
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
		vcpu_inject_pending_nmi(vcpu);
	}
	if (vcpu->state == VCPU_PARKED)
		return false;
	lapic_timer_expire(&vcpu->lapic, rdtsc());
	if (take_extint(vcpu)) {
		vcpu->state = VCPU_RUNNING; /* an interrupt ends HLT */
		return true;
	}
	int vector = lapic_deliverable(&vcpu->lapic);
	if (vector >= 0) {
		vcpu->state = VCPU_RUNNING; /* an interrupt ends HLT */
		/* With virtual-interrupt delivery the CPU delivers it from VIRR
		 * and RVI (vcpu/apicv.c, before the entry). */
		if (!(vcpu->apicv & APICV_INTR_DELIVERY))
			inject_interrupt(vcpu, (uint8_t)vector);
	}
	return vcpu->state == VCPU_RUNNING;
}

