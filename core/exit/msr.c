/*
 * RDMSR/WRMSR exits (SDM Vol. 3C 26.1.3: with "use MSR bitmaps", an access
 * exits when its bitmap bit is 1, and always for MSRs outside
 * 0-0x1FFF and 0xC0000000-0xC0001FFF).
 */
#include "exit/msr.h"
#include "vcpu/events.h"

#include "exit/exit.h"
#include "vcpu/cpu_features.h"
#include "lib/mem.h"
#include "irq/lapic_timer.h"
#include "vcpu/apicv.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "x86.h"
#include "vmx/vmcs.h"



/* Memory types valid in PAT entries and MTRRs (SDM Vol. 3A 12.11.2, 12.12.2). */
static bool valid_pat_type(uint8_t t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7;
}

static bool valid_mtrr_type(uint8_t t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool all_bytes_valid(uint64_t value, bool (*valid)(uint8_t))
{
	for (unsigned i = 0; i < 8; i++)
		if (!valid((uint8_t)(value >> (8 * i))))
			return false;
	return true;
}

static int fixed_mtrr_index(uint32_t msr)
{
	if (msr == MSR_IA32_MTRR_FIX64K_00000)
		return 0;
	if (msr == MSR_IA32_MTRR_FIX16K_80000)
		return 1;
	if (msr == MSR_IA32_MTRR_FIX16K_A0000)
		return 2;
	if (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_F8000)
		return 3 + (int)(msr - MSR_IA32_MTRR_FIX4K_C0000);
	return -1;
}

/* EFER bits the CPU offers (CPUID 0x80000001 EDX: SYSCALL 11, NX 20, LM 29). */
/* The EFER bits the guest's CPUID offers (SDM Vol. 3A 2.2.1): NX is hidden
 * while IA32_MISC_ENABLE.XD_DISABLE is set (SDM Vol. 4 Table 2-2). */
static uint64_t efer_writable_bits(const struct vcpu *vcpu)
{
	struct cpuid_regs r;
	uint64_t bits = 0;
	cpuid(0x80000001, 0, &r);
	if (r.edx & CPUID80000001_EDX_SYSCALL)
		bits |= EFER_SCE;
	if ((r.edx & CPUID80000001_EDX_NX) && !(vcpu->msrs.misc_enable & MISC_ENABLE_XD_DISABLE))
		bits |= EFER_NXE;
	if (r.edx & CPUID80000001_EDX_LM)
		bits |= EFER_LME;
	return bits;
}

/* IA32_TSC_ADJUST exists where CPUID.(EAX=7,ECX=0):EBX[1] says so (SDM Vol. 4
 * Table 2-2); the guest sees the same bit. */
static bool tsc_adjust_offered(void)
{
	struct cpuid_regs r;
	cpuid(0, 0, &r);
	if (r.eax < 7)
		return false;
	cpuid(7, 0, &r);
	return r.ebx & CPUID7_EBX_TSC_ADJUST;
}

/* The MSRs of msr_emulate_read that come in ranges: the MTRRs and the
 * machine-check banks.  Looked at only after the named MSRs, which are
 * the common reads (one switch, no range compares in front of it). */
static bool read_msr_in_range(struct msr_state *m, uint32_t msr, uint64_t *value)
{
	int fixed = fixed_mtrr_index(msr);

	if (fixed >= 0) {
		*value = m->mtrr_fixed[fixed];
		return true;
	}
	if (msr >= MSR_IA32_MTRR_PHYSBASE0 &&
	    msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * MSR_MTRR_VARIABLE_COUNT) {
		*value = m->mtrr_variable[msr - MSR_IA32_MTRR_PHYSBASE0];
		return true;
	}
	if (msr >= MSR_IA32_MC0_CTL && msr < MSR_IA32_MC0_CTL + 4 * MSR_MC_BANKS) {
		/* MCi_CTL, _STATUS, _ADDR, _MISC at 0x400 + 4i (SDM Vol. 3B 16.3.2);
		 * STATUS reads 0: no error is ever logged. */
		unsigned bank = (msr - MSR_IA32_MC0_CTL) / 4;
		switch ((msr - MSR_IA32_MC0_CTL) % 4) {
		case 0:
			*value = m->mc_ctl[bank];
			break;
		case 1:
			*value = 0;
			break;
		case 2:
			*value = m->mc_addr[bank];
			break;
		default:
			*value = m->mc_misc[bank];
			break;
		}
		return true;
	}
	/* VMX capability MSRs, x2APIC MSRs (x2APIC is not offered) and
	 * everything unknown: #GP, as on a CPU without them. */
	return false;
}

bool msr_emulate_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value)
{
	struct msr_state *m = &vcpu->msrs;

	switch (msr) {
	case MSR_IA32_FEATURE_CONTROL:
		*value = FEATURE_CONTROL_LOCK; /* locked, VMX off: VMX is not offered */
		return true;
	case MSR_IA32_APIC_BASE:
		*value = m->apic_base;
		return true;
	case MSR_IA32_MISC_ENABLE:
		*value = m->misc_enable;
		return true;
	case MSR_IA32_MTRRCAP:
		*value = 0x508; /* WC (bit 10), fixed ranges (bit 8), 8 variable ranges */
		return true;
	case MSR_IA32_MTRR_DEF_TYPE:
		*value = m->mtrr_def_type;
		return true;
	case MSR_IA32_MCG_CAP:
		*value = MSR_MC_BANKS;
		return true;
	case MSR_IA32_MCG_STATUS:
		*value = 0;
		return true;
	case MSR_IA32_EFER:
		*value = vmcs_read(GUEST_IA32_EFER);
		return true;
	case MSR_IA32_PAT:
		*value = vmcs_read(GUEST_IA32_PAT);
		return true;
	case MSR_IA32_DEBUGCTL:
		*value = vmcs_read(GUEST_IA32_DEBUGCTL);
		return true;
	case MSR_IA32_TSC_ADJUST:
		if (!tsc_adjust_offered())
			return false;
		*value = m->tsc_adjust;
		return true;
	case MSR_IA32_TSC_DEADLINE:
		*value = lapic_timer_read_tsc_deadline(&vcpu->lapic, vmcs_read(TSC_OFFSET));
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		/* Bits 63:32 hold the signature of the microcode update loaded,
		 * as CPUID.01H leaves it; 0 when none is (SDM Vol. 4 Table 2-2,
		 * Vol. 3A 10.11.7.1).  No update is ever loaded into a vCPU. */
		*value = 0;
		return true;
	default:
		return read_msr_in_range(m, msr, value);
	}
}

bool msr_emulate_write(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
	struct msr_state *m = &vcpu->msrs;
	int fixed = fixed_mtrr_index(msr);

	if (fixed >= 0) {
		if (!all_bytes_valid(value, valid_mtrr_type))
			return false;
		m->mtrr_fixed[fixed] = value;
		return true;
	}
	if (msr >= MSR_IA32_MTRR_PHYSBASE0 &&
	    msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * MSR_MTRR_VARIABLE_COUNT) {
		/* SDM Vol. 3A 12.11.2.3: PHYSBASE = type | base; PHYSMASK = valid (bit 11) | mask. */
		bool is_mask = (msr - MSR_IA32_MTRR_PHYSBASE0) & 1;
		uint64_t allowed = (cpu_physical_address_mask() & ~0xFFFULL) | (is_mask ? 0x800 : 0xFF);
		if ((value & ~allowed) || (!is_mask && !valid_mtrr_type((uint8_t)value)))
			return false;
		m->mtrr_variable[msr - MSR_IA32_MTRR_PHYSBASE0] = value;
		return true;
	}
	if (msr >= MSR_IA32_MC0_CTL && msr < MSR_IA32_MC0_CTL + 4 * MSR_MC_BANKS) {
		unsigned bank = (msr - MSR_IA32_MC0_CTL) / 4;
		switch ((msr - MSR_IA32_MC0_CTL) % 4) {
		case 0:
			/* MCi_CTL: all errors reported or none (SDM Vol. 3B 16.3.2.1;
			 * KVM takes these two values and #GPs the rest). */
			if (value != 0 && value != ~0ULL)
				return false;
			m->mc_ctl[bank] = value;
			return true;
		case 1:
			return value == 0; /* SDM Vol. 3B 16.3.2.2: only 0 may be written to STATUS */
		case 2:
			m->mc_addr[bank] = value; /* MCi_ADDR and MCi_MISC hold any value (16.3.2.3-4) */
			return true;
		default:
			m->mc_misc[bank] = value;
			return true;
		}
	}
	switch (msr) {
	case MSR_IA32_APIC_BASE: {
		/* SDM Vol. 3A 11.4.4: BSP (8) is read-only, EN (11) and the base
		 * are writable; x2APIC enable (10) is reserved: x2APIC is not offered. */
		uint64_t allowed = APIC_BASE_ENABLE | (cpu_physical_address_mask() & ~0xFFFULL);
		if ((value & ~(allowed | APIC_BASE_BSP)) ||
		    ((value ^ m->apic_base) & APIC_BASE_BSP))
			return false;
		uint64_t changed = value ^ m->apic_base;
		m->apic_base = value;
		/* A globally disabled APIC leaves the CPU's APIC virtualization
		 * (vcpu/apicv.h); enabled again, it comes back. */
		if ((changed & APIC_BASE_ENABLE) && vcpu->vm->apicv)
			apicv_update_controls(vcpu);
		return true;
	}
	case MSR_IA32_MISC_ENABLE: {
		/* SDM Vol. 4 Table 2-2: the R/W bits take the value written, the
		 * read-only ones (performance monitoring, BTS and PEBS
		 * unavailable) keep theirs, and reserved bits are #GP.  Fast
		 * strings keeps the host's setting, which is what the guest's
		 * string instructions run with (vcpu/msr_state.c): a write that
		 * would change it is taken, the bit is not. */
		const uint64_t writable = MISC_ENABLE_AUTO_THERMAL |
					  MISC_ENABLE_EIST | MISC_ENABLE_MONITOR_FSM |
					  MISC_ENABLE_LIMIT_CPUID | MISC_ENABLE_XTPR_DISABLE |
					  MISC_ENABLE_XD_DISABLE;
		const uint64_t read_only = MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_PERFMON |
					   MISC_ENABLE_BTS_UNAVAILABLE | MISC_ENABLE_PEBS_UNAVAILABLE;
		if (value & ~(writable | read_only))
			return false;
		/* XD disable needs EFER.NXE clear: NX is gone from CPUID then. */
		if ((value & MISC_ENABLE_XD_DISABLE) && (vmcs_read(GUEST_IA32_EFER) & EFER_NXE))
			return false;
		m->misc_enable = (m->misc_enable & ~writable) | (value & writable);
		return true;
	}
	case MSR_IA32_MTRR_DEF_TYPE:
		if ((value & ~0xCFFULL) || !valid_mtrr_type((uint8_t)value))
			return false;
		m->mtrr_def_type = value;
		return true;
	case MSR_IA32_MCG_STATUS:
		return value == 0;
	case MSR_IA32_EFER: {
		/* SDM Vol. 3A 2.2.1, 10.8.5: LMA is read-only; LME cannot change while paging is on. */
		uint64_t old = vmcs_read(GUEST_IA32_EFER);
		uint64_t guest_cr0 = vmcs_read(GUEST_CR0);
		if (value & ~(efer_writable_bits(vcpu) | EFER_LMA))
			return false;
		if ((guest_cr0 & CR0_PG) && ((value ^ old) & EFER_LME))
			return false;
		vmcs_write(GUEST_IA32_EFER, (value & ~EFER_LMA) | (old & EFER_LMA));
		vcpu->check_before_entry = true; /* cvisor-made guest state */
		return true;
	}
	case MSR_IA32_PAT:
		if (!all_bytes_valid(value, valid_pat_type))
			return false;
		vmcs_write(GUEST_IA32_PAT, value);
		return true;
	case MSR_IA32_DEBUGCTL:
		if (value & ~DEBUGCTL_BTF)
			return false;
		vmcs_write(GUEST_IA32_DEBUGCTL, value);
		return true;
	case MSR_IA32_TSC_DEADLINE:
		lapic_timer_write_tsc_deadline(&vcpu->lapic, value, vmcs_read(TSC_OFFSET));
		/* This entry was timed for the old deadline. */
		vcpu_retime_entry_for(vcpu, lapic_timer_deadline(&vcpu->lapic));
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		/* Software writes 0 before CPUID.01H loads the signature (Vol. 3A
		 * 10.11.7.1); the register then reads the signature again, 0, so
		 * any value is taken and changes nothing (as KVM does). */
		return true;
	case MSR_IA32_TSC: {
		/* The guest's TSC is the host's plus TSC_OFFSET (SDM Vol. 3C 26.3).
		 * A write moves IA32_TSC_ADJUST by the same amount (Vol. 3B 17.17.3). */
		uint64_t old_offset = vmcs_read(TSC_OFFSET), new_offset = value - rdtsc();
		vmcs_write(TSC_OFFSET, new_offset);
		m->tsc_adjust += new_offset - old_offset;
		return true;
	}
	case MSR_IA32_TSC_ADJUST:
		/* Writing it moves the TSC by the difference (SDM Vol. 3B 17.17.3). */
		if (!tsc_adjust_offered())
			return false;
		vmcs_write(TSC_OFFSET, vmcs_read(TSC_OFFSET) + (value - m->tsc_adjust));
		m->tsc_adjust = value;
		return true;
	default:
		return false;
	}
}

/*
 * A WRMSR once the VM has pinned MSRs (vm/protect.h): a pinned MSR keeps
 * its pinned bits, recorded once the write succeeded; a whole-value pin
 * keeps it all, and the WRMSR completes without a change.
 */
static __attribute__((noinline, cold)) void write_msr_with_pins(struct vcpu *vcpu, uint32_t msr,
								 uint64_t value)
{
	uint64_t tried = value;
	enum protect_msr_verdict pin = protect_msr_write(vcpu, msr, &value);

	if (pin != PROTECT_MSR_DONE) {
		if (!msr_emulate_write(vcpu, msr, value)) {
			vcpu_inject_gp(vcpu);
			return;
		}
		if (pin == PROTECT_MSR_KEPT)
			protect_record_register(vcpu, HC_EVENT_MSR, msr, tried);
	}
	vcpu_skip_instruction(vcpu);
}

static void handle_msr(struct vcpu *vcpu, bool write)
{
	uint64_t *regs = vcpu->gprs.regs;
	uint32_t msr = (uint32_t)regs[GPR_RCX];

	if (write) {
		uint64_t value = (regs[GPR_RDX] << 32) | (uint32_t)regs[GPR_RAX];
		if (__builtin_expect(vcpu->vm->protect.msrs_pinned, 0)) {
			write_msr_with_pins(vcpu, msr, value);
			return;
		}
		if (!msr_emulate_write(vcpu, msr, value)) {
			vcpu_inject_gp(vcpu);
			return;
		}
	} else {
		uint64_t value;
		if (!msr_emulate_read(vcpu, msr, &value)) {
			vcpu_inject_gp(vcpu);
			return;
		}
		/* RDMSR loads EDX:EAX and clears bits 63:32 of RAX and RDX (SDM Vol. 2B RDMSR). */
		regs[GPR_RAX] = (uint32_t)value;
		regs[GPR_RDX] = value >> 32;
	}
	vcpu_skip_instruction(vcpu);
}

void handle_rdmsr(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	handle_msr(vcpu, false);
}

void handle_wrmsr(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	handle_msr(vcpu, true);
}

/*
 * RDMSR/WRMSR that exit in the hosted OS: the hidden MSRs, and MSRs
 * outside the bitmap's two ranges, which always exit (SDM Vol. 3C 26.1.3).
 * Both get #GP: cvisor never executes an MSR access it did not vet, since a
 * fault in VMX root operation would bring down the host.  The exception is
 * a WRMSR of an MSR cvisor.ko pinned (protect=1: IA32_LSTAR and
 * IA32_SYSENTER_EIP keep their value, EFER keeps NXE), which completes as
 * the pin allows: a whole-value pin leaves the MSR as it is, EFER is
 * written to the VMCS with its rules.
 */
void handle_msr_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t *regs = vcpu->gprs.regs;
	uint32_t msr = (uint32_t)regs[GPR_RCX];

	if (exit->reason == EXIT_REASON_WRMSR && protect_msr_pinned(vcpu->vm, msr)) {
		write_msr_with_pins(vcpu, msr, (regs[GPR_RDX] << 32) | (uint32_t)regs[GPR_RAX]);
		return;
	}
	vcpu_inject_gp(vcpu);
}
