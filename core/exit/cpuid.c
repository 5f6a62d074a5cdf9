/*
 * CPUID exits (unconditional in VMX non-root operation, SDM Vol. 3C 26.1.2).
 * Policy: the host's values, except that the guest learns it runs under
 * cvisor and does not see features cvisor does not give it.
 */
#include "exit/cpuid.h"

#include "abi/cpuid.h"
#include "exit/exit.h"
#include "platform.h"
#include "vcpu/cpu_features.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "x86.h"


/* The hypervisor range belongs to cvisor (cf. SDM Vol. 2A CPUID: leaves
 * 0x40000000-0x4FFFFFFF are reserved for software). */
static inline bool cpuid_leaf_is_cvisor(uint32_t leaf)
{
	return leaf >= CVISOR_CPUID_BASE && leaf <= 0x4FFFFFFFu;
}

/* cvisor's own leaves (abi/cpuid.h): they need nothing from the CPU. */
static inline __attribute__((always_inline)) void cvisor_leaf(uint32_t leaf, struct cpuid_regs *r)
{
	r->eax = r->ebx = r->ecx = r->edx = 0;
	if (leaf == CVISOR_CPUID_BASE) {
		r->eax = CVISOR_CPUID_MAX_LEAF;
		r->ebx = CVISOR_CPUID_SIG_EBX;
		r->ecx = CVISOR_CPUID_SIG_ECX;
		r->edx = CVISOR_CPUID_SIG_EDX;
	} else if (leaf == CVISOR_CPUID_BASE + 1) {
		r->eax = CVISOR_VERSION_MAJOR << 16 | CVISOR_VERSION_MINOR;
		r->ebx = CVISOR_HYPERCALL_ABI_VERSION;
	} else if (leaf == CVISOR_CPUID_TIMING) {
		/* The rate device clocks derive from (vm->devices.tsc_hz); the
		 * APIC timer counts TSC ticks (irq/lapic_timer.c). */
		uint32_t tsc_khz = (uint32_t)(plat_tsc_hz() / 1000);
		r->eax = tsc_khz;
		r->ebx = tsc_khz;
	}
}

/* cpuid_apply_policy's body. */
static inline __attribute__((always_inline)) void apply_policy(uint32_t leaf, uint32_t subleaf,
							      uint64_t guest_cr4,
							      uint64_t misc_enable, uint32_t proc2,
							      struct cpuid_regs *r)
{
	if (cpuid_leaf_is_cvisor(leaf)) {
		cvisor_leaf(leaf, r);
		return;
	}
	switch (leaf) {
	case 0:
		/* IA32_MISC_ENABLE.LIMIT_CPUID: the highest basic leaf reads as 2
		 * (SDM Vol. 4 Table 2-2). */
		if ((misc_enable & MISC_ENABLE_LIMIT_CPUID) && r->eax > 2)
			r->eax = 2;
		break;
	case 1:
		/* OSXSAVE mirrors the guest's CR4; the virtual APIC timer has
		 * TSC-deadline mode (irq/lapic_timer.c). */
		r->ecx &= ~CPUID1_ECX_OSXSAVE;
		r->ecx |= CPUID1_ECX_HYPERVISOR | CPUID1_ECX_TSC_DEADLINE;
		if (guest_cr4 & CR4_OSXSAVE)
			r->ecx |= CPUID1_ECX_OSXSAVE;
		break;
	case 0x80000001:
		/* IA32_MISC_ENABLE.XD_DISABLE hides NX (SDM Vol. 4 Table 2-2). */
		if (misc_enable & MISC_ENABLE_XD_DISABLE)
			r->edx &= ~CPUID80000001_EDX_NX;
		break;
	case 0xD:
		/* XCR0 may enable only the components whose state cvisor switches
		 * (vcpu.h; SDM Vol. 1 13.2: leaf 0xD subleaf 0 EDX:EAX). */
		if (subleaf == 0) {
			r->eax &= (uint32_t)XCR0_GUEST_COMPONENTS;
			r->edx &= (uint32_t)(XCR0_GUEST_COMPONENTS >> 32);
		}
		break;
	case 0xA:
		/* Architectural performance monitoring: none (Bochs advertises a
		 * PMU whose MSRs fault). */
		r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	default:
		break;
	}
	/* Features that need a control or state cvisor does not give go
	 * (vcpu/cpu_features.c). */
	cpu_features_filter(leaf, subleaf, proc2, r);
}

void cpuid_apply_policy(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4, uint64_t misc_enable,
			uint32_t proc2, struct cpuid_regs *r)
{
	apply_policy(leaf, subleaf, guest_cr4, misc_enable, proc2, r);
}

/* CPUID writes EAX..EDX, clearing bits 63:32 in 64-bit mode (SDM Vol. 2A). */
static void complete_cpuid(struct vcpu *vcpu, const struct cpuid_regs *r)
{
	uint64_t *regs = vcpu->gprs.regs;

	regs[GPR_RAX] = r->eax;
	regs[GPR_RBX] = r->ebx;
	regs[GPR_RCX] = r->ecx;
	regs[GPR_RDX] = r->edx;
	vcpu_skip_instruction(vcpu);
}

/* A leaf the CPU answers, through the policy.  The guest's CR4.OSXSAVE
 * (leaf 1) is not a cvisor-owned bit, so GUEST_CR4 holds it. */
static __attribute__((noinline)) void host_leaf(struct vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
						struct cpuid_regs *r)
{
	cpuid(leaf, subleaf, r);
	apply_policy(leaf, subleaf, leaf == 1 ? vmcs_read(GUEST_CR4) : 0, vcpu->msrs.misc_enable,
		     vcpu->proc2, r);
}

void handle_cpuid(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	uint64_t *regs = vcpu->gprs.regs;
	uint32_t leaf = (uint32_t)regs[GPR_RAX];
	struct cpuid_regs r;

	/* cvisor's own leaves need nothing from the CPU, and are the ones a
	 * guest asks most often: they stay off the policy's path. */
	if (cpuid_leaf_is_cvisor(leaf))
		cvisor_leaf(leaf, &r);
	else
		host_leaf(vcpu, leaf, (uint32_t)regs[GPR_RCX], &r);
	complete_cpuid(vcpu, &r);
}

/*
 * The running OS under cvisor.ko (core/vm/hosted_os.c) keeps every
 * feature it already uses: only the hypervisor bit and cvisor's leaves are
 * added, and VMX is hidden so no other hypervisor loads underneath
 * (SDM Vol. 3C 24.6).
 */
void cpuid_apply_hosted_os_policy(uint32_t leaf, struct cpuid_regs *r)
{
	if (cpuid_leaf_is_cvisor(leaf)) {
		cpuid_apply_policy(leaf, 0, 0, 0, 0, r);
		return;
	}
	if (leaf == 1) {
		r->ecx &= ~CPUID1_ECX_VMX;
		r->ecx |= CPUID1_ECX_HYPERVISOR;
	}
}

void handle_cpuid_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	uint64_t *regs = vcpu->gprs.regs;
	uint32_t leaf = (uint32_t)regs[GPR_RAX], subleaf = (uint32_t)regs[GPR_RCX];
	struct cpuid_regs r;

	cpuid(leaf, subleaf, &r);
	cpuid_apply_hosted_os_policy(leaf, &r);
	complete_cpuid(vcpu, &r);
}
