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
#include "vm/vm.h"
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

/*
 * CPUID.(EAX=0DH,ECX=1):EBX, the size of an XSAVE area holding every
 * component of XCR0 | IA32_XSS in the compacted format (SDM Vol. 1 13.4.3):
 * the legacy region and the header (576 bytes), then each component in
 * order, on a 64-byte boundary when its CPUID.(EAX=0DH,ECX=i):ECX[1] says
 * so.  The guest's IA32_XSS is 0 (XSAVES is hidden), so its XCR0 alone
 * counts.  Computed, not passed through: it depends on the guest's XCR0
 * alone, and Bochs 2.7 reports the standard format's size here.
 */
static uint32_t xsave_compacted_size(uint64_t xcr0)
{
	uint32_t size = XSAVE_LEGACY_AND_HEADER_BYTES;

	for (unsigned i = 2; i < 64; i++) {
		if (!(xcr0 & (1ULL << i)))
			continue;
		struct cpuid_regs c;
		cpuid(0xD, i, &c);
		if (c.ecx & CPUIDD_ECX_ALIGNED_64)
			size = (size + 63u) & ~63u;
		size += c.eax;
	}
	return size;
}

/*
 * Leaf 0x15, the TSC and the core crystal clock (SDM Vol. 2A CPUID): TSC
 * rate = ECX (the crystal's Hz) * EBX / EAX.  Every clock of a cvisor VM
 * counts at the TSC rate cvisor measured (plat_tsc_hz: the PIT, the RTC,
 * the PM timer), and so does its local APIC timer (irq/lapic_timer.c),
 * which software takes to run at the crystal clock (Linux presets its APIC
 * timer period from ECX).  So the crystal is that rate and the ratio 1/1,
 * whatever the CPU says (Bochs's Skylake-X says 3.5 GHz from a 25 MHz
 * crystal while its TSC counts instructions).  A rate ECX cannot hold
 * enumerates nothing (EBX = 0: no ratio), and the guest measures the TSC.
 * A CPU whose highest basic leaf is below 0x15 answers with that leaf's
 * data, which stays.
 */
static void tsc_crystal_leaf(struct cpuid_regs *r)
{
	struct cpuid_regs basic;
	uint64_t tsc_hz = plat_tsc_hz();

	cpuid(0, 0, &basic);
	if (basic.eax < 0x15)
		return;
	r->eax = r->ebx = r->ecx = r->edx = 0;
	if (tsc_hz == 0 || tsc_hz > 0xFFFFFFFFu)
		return;
	r->eax = 1;
	r->ebx = 1;
	r->ecx = (uint32_t)tsc_hz;
}

/*
 * The VM's topology: one package whose cores are its vCPUs, one thread
 * each, the core's x2APIC/initial APIC ID its vCPU's APIC ID
 * (irq/lapic.c).  The host's own IDs and counts would tell a vCPU the
 * number of the physical CPU it happens to run on.  The fields (SDM Vol. 2A
 * CPUID; Vol. 3A 9.9.1-9.9.4, "Identifying topological relationships"):
 *   leaf 1 EBX[31:24] the initial APIC ID, EBX[23:16] the addressable IDs
 *   in the package (valid with EDX.HTT);
 *   leaf 4 EAX[31:26] addressable core IDs - 1, EAX[25:14] addressable IDs
 *   sharing this cache - 1 (the last level is shared, L1/L2 per core);
 *   leaves 0BH and 1FH per level: EAX[4:0] the shift to the next level's ID,
 *   EBX[15:0] the logical processors at this level, ECX[15:8] the level
 *   type (1 SMT, 2 core, 0 invalid) and ECX[7:0] the subleaf, EDX the
 *   x2APIC ID.  Leaves 0BH and 1FH stay the CPU's answer when its highest
 *   basic leaf is below them (it then answers with that leaf's data).
 */
static unsigned core_id_bits(unsigned vcpu_count)
{
	unsigned bits = 0;

	while ((1u << bits) < vcpu_count)
		bits++;
	return bits;
}

void cpuid_apply_topology(uint32_t leaf, uint32_t subleaf, uint32_t apic_id, unsigned vcpu_count,
			  struct cpuid_regs *r)
{
	unsigned shift = core_id_bits(vcpu_count ? vcpu_count : 1);
	uint32_t addressable = 1u << shift;

	switch (leaf) {
	case 1:
		r->ebx = (r->ebx & 0xFFFFu) | (apic_id & 0xFFu) << 24 | (addressable & 0xFFu) << 16;
		if (addressable > 1)
			r->edx |= CPUID1_EDX_HTT;
		else
			r->edx &= ~CPUID1_EDX_HTT;
		break;
	case 4: {
		uint32_t type = r->eax & 0x1Fu, level = (r->eax >> 5) & 7u;
		if (type == 0)
			break; /* no more caches */
		uint32_t sharing = level >= 3 ? addressable - 1 : 0;
		r->eax = (r->eax & 0x3FFFu) | (addressable - 1) << 26 | (sharing & 0xFFFu) << 14;
		break;
	}
	case 0xB:
	case 0x1F: {
		struct cpuid_regs basic;
		cpuid(0, 0, &basic);
		if (basic.eax < leaf)
			break;
		r->edx = apic_id;
		if (subleaf == 0) {
			r->eax = 0;
			r->ebx = 1;
			r->ecx = CPUID_TOPOLOGY_LEVEL_SMT << 8;
		} else if (subleaf == 1) {
			r->eax = shift;
			r->ebx = vcpu_count;
			r->ecx = CPUID_TOPOLOGY_LEVEL_CORE << 8 | 1u;
		} else {
			r->eax = r->ebx = 0;
			r->ecx = subleaf & 0xFFu;
		}
		break;
	}
	default:
		break;
	}
}

/* cpuid_apply_policy's body. */
static inline __attribute__((always_inline)) void apply_policy(uint32_t leaf, uint32_t subleaf,
							      uint64_t guest_cr4,
							      uint64_t misc_enable, uint32_t proc2,
							      uint64_t guest_xcr0,
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
	case 7:
		/* Enhanced REP MOVSB/STOSB and fast short REP MOV are forms of
		 * fast-string operation (SDM Vol. 1 7.3.9.3): with it disabled in
		 * IA32_MISC_ENABLE (the host's bit, vcpu/msr_state.c) they are
		 * not there.  Linux 6.1 clears ERMS itself then but keeps FSRM,
		 * and its memmove corrupts short copies with that pair. */
		if (subleaf == 0 && !(misc_enable & MISC_ENABLE_FAST_STRINGS)) {
			r->ebx &= ~CPUID7_EBX_ERMS;
			r->edx &= ~CPUID7_EDX_FSRM;
		}
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
		} else if (subleaf == 1 && (r->eax & CPUIDD1_EAX_XSAVEC)) {
			r->ebx = xsave_compacted_size(guest_xcr0);
		}
		break;
	case 0x15:
		tsc_crystal_leaf(r);
		break;
	case 6:
		/* Thermal and power management (SDM Vol. 2A CPUID leaf 06H):
		 * only ARAT (EAX bit 2), which holds for cvisor's APIC timer;
		 * every other feature here is MSRs cvisor does not emulate
		 * (IA32_THERM_* and IA32_PACKAGE_THERM_*, HWP, IA32_MPERF and
		 * IA32_APERF, IA32_ENERGY_PERF_BIAS).  KVM offers ARAT alone too. */
		r->eax &= CPUID6_EAX_ARAT;
		r->ebx = r->ecx = r->edx = 0;
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
	/* OSPKE mirrors the guest's CR4.PKE where PKU is offered (SDM Vol. 2A
	 * CPUID), as OSXSAVE does CR4.OSXSAVE. */
	if (leaf == 7 && subleaf == 0) {
		r->ecx &= ~CPUID7_ECX_OSPKE;
		if ((guest_cr4 & CR4_PKE) && (r->ecx & CPUID7_ECX_PKU))
			r->ecx |= CPUID7_ECX_OSPKE;
	}
}

void cpuid_apply_policy(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4, uint64_t misc_enable,
			uint32_t proc2, uint64_t guest_xcr0, struct cpuid_regs *r)
{
	apply_policy(leaf, subleaf, guest_cr4, misc_enable, proc2, guest_xcr0, r);
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
 * (leaf 1) and CR4.PKE (leaf 7) are not cvisor-owned bits (pinned, they
 * are set in both), so GUEST_CR4 holds them. */
static __attribute__((noinline)) void host_leaf(struct vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
						struct cpuid_regs *r)
{
	cpuid(leaf, subleaf, r);
	apply_policy(leaf, subleaf, leaf == 1 || leaf == 7 ? vmcs_read(GUEST_CR4) : 0,
		     vcpu->msrs.misc_enable,
		     vcpu->proc2, vcpu->xcr0, r);
	if (leaf == 1 || leaf == 4 || leaf == 0xB || leaf == 0x1F)
		cpuid_apply_topology(leaf, subleaf, vcpu->id, vcpu->vm->vcpu_count, r);
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
		cpuid_apply_policy(leaf, 0, 0, 0, 0, 0, r);
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
