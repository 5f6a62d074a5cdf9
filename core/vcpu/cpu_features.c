#include "vcpu/cpu_features.h"

#include "vmx/controls.h"

#define HIDDEN(n, l, s, r, b) { .name = (n), .leaf = (l), .subleaf = (s), .reg = (r), .bit = (b), .hidden = true }
#define NEEDS(n, l, s, r, b, c) { .name = (n), .leaf = (l), .subleaf = (s), .reg = (r), .bit = (b), .proc2 = (c) }

const struct cpu_feature cpu_features[] = {
	/* Leaf 1 (SDM Vol. 2A CPUID, Tables 3-10 and 3-11). */
	HIDDEN("DTES64", 1, CPUID_ANY_SUBLEAF, CPUID_ECX, 2),    /* debug store: no PMU is offered */
	HIDDEN("MONITOR", 1, CPUID_ANY_SUBLEAF, CPUID_ECX, 3),   /* MONITOR/MWAIT exit and are not emulated */
	HIDDEN("VMX", 1, CPUID_ANY_SUBLEAF, CPUID_ECX, 5),       /* nested VMX is not emulated */
	HIDDEN("PDCM", 1, CPUID_ANY_SUBLEAF, CPUID_ECX, 15),     /* IA32_PERF_CAPABILITIES is not offered */
	HIDDEN("x2APIC", 1, CPUID_ANY_SUBLEAF, CPUID_ECX, 21),   /* the virtual APIC is xAPIC only */
	HIDDEN("DS", 1, CPUID_ANY_SUBLEAF, CPUID_EDX, 21),       /* debug store: no PMU is offered */
	/* Leaf 7, subleaf 0. */
	NEEDS("INVPCID", 7, 0, CPUID_EBX, 10, PROC2_ENABLE_INVPCID), /* else #UD (26.3) */
	HIDDEN("MPX", 7, 0, CPUID_EBX, 14),      /* IA32_BNDCFGS is not switched per vCPU */
	HIDDEN("CET_SS", 7, 0, CPUID_ECX, 7),    /* the CET MSRs and XSAVES state are not switched */
	HIDDEN("CET_IBT", 7, 0, CPUID_EDX, 20),  /* the same */
	HIDDEN("PKS", 7, 0, CPUID_ECX, 31),      /* IA32_PKRS is not switched */
	HIDDEN("KL", 7, 0, CPUID_ECX, 23),       /* the wrapping key is not switched (LOADIWKEY) */
	HIDDEN("ENQCMD", 7, 0, CPUID_ECX, 29),   /* IA32_PASID is not emulated */
	HIDDEN("UINTR", 7, 0, CPUID_EDX, 5),     /* the user-interrupt MSRs are not emulated */
	HIDDEN("PCONFIG", 7, 0, CPUID_EDX, 18),  /* #UD without "enable PCONFIG" (26.3) */
	HIDDEN("ARCH_LBR", 7, 0, CPUID_EDX, 19), /* the LBR MSRs and XSAVES state are not emulated */
	HIDDEN("AMX_BF16", 7, 0, CPUID_EDX, 22), /* XCR0 cannot enable the AMX components (vcpu.h) */
	HIDDEN("AMX_TILE", 7, 0, CPUID_EDX, 24), /* the same */
	HIDDEN("AMX_INT8", 7, 0, CPUID_EDX, 25), /* the same */
	HIDDEN("WAITPKG", 7, 0, CPUID_ECX, 5),   /* needs "enable user wait and pause" */
	NEEDS("RDPID", 7, 0, CPUID_ECX, 22, PROC2_ENABLE_RDTSCP),    /* else #UD (26.3) */
	/* Speculation control: MSRs cvisor does not emulate (a guest's
	 * access would #GP).  Passing them through, with IA32_SPEC_CTRL
	 * switched per vCPU, would give guests their mitigations back. */
	HIDDEN("IBRS_IBPB", 7, 0, CPUID_EDX, 26),       /* IA32_SPEC_CTRL, IA32_PRED_CMD */
	HIDDEN("STIBP", 7, 0, CPUID_EDX, 27),           /* IA32_SPEC_CTRL bit 1 */
	HIDDEN("L1D_FLUSH", 7, 0, CPUID_EDX, 28),       /* IA32_FLUSH_CMD */
	HIDDEN("ARCH_CAPABILITIES", 7, 0, CPUID_EDX, 29), /* IA32_ARCH_CAPABILITIES */
	HIDDEN("CORE_CAPABILITIES", 7, 0, CPUID_EDX, 30), /* IA32_CORE_CAPABILITIES */
	HIDDEN("SSBD", 7, 0, CPUID_EDX, 31),            /* IA32_SPEC_CTRL bit 2 */
	/* Leaf 0xD, subleaf 1: XSAVES needs IA32_XSS and "enable XSAVES/XRSTORS".
	 * XSAVEC (the compacted format) works on hardware, but Bochs 2.7's
	 * writes components 2 and up at the wrong offsets, so AVX state comes
	 * back wrong after a guest's XSAVEC/XRSTOR (Linux, which uses XSAVEC
	 * whenever it is offered, crashed user programs on tigerlake); the
	 * standard format (XSAVE, XSAVEOPT) serves every guest the same. */
	HIDDEN("XSAVEC", 0xD, 1, CPUID_EAX, 1),
	HIDDEN("XSAVES", 0xD, 1, CPUID_EAX, 3),
	/* Leaf 0x80000001. */
	NEEDS("RDTSCP", 0x80000001, CPUID_ANY_SUBLEAF, CPUID_EDX, 27, PROC2_ENABLE_RDTSCP), /* else #UD (26.3) */
};
const unsigned cpu_feature_count = sizeof(cpu_features) / sizeof(cpu_features[0]);

uint64_t cpu_physical_address_mask(void)
{
	struct cpuid_regs r;
	cpuid(0x80000000, 0, &r);
	unsigned bits = 36;
	if (r.eax >= 0x80000008) {
		cpuid(0x80000008, 0, &r);
		bits = r.eax & 0xFF;
	}
	return (1ULL << bits) - 1;
}

/* Each CR4 bit that enables a CPUID feature, and that feature (SDM Vol. 3A
 * 2.5, Vol. 2A CPUID); CET has two (shadow stacks, indirect branch
 * tracking), either of which makes it offered. */
static const struct {
	uint64_t cr4;
	uint32_t leaf;
	enum cpuid_reg reg;
	uint8_t bit;
} cr4_features[] = {
	{ CR4_UMIP, 7, CPUID_ECX, 2 },      { CR4_LA57, 7, CPUID_ECX, 16 },
	{ CR4_FSGSBASE, 7, CPUID_EBX, 0 },  { CR4_PCIDE, 1, CPUID_ECX, 17 },
	{ CR4_OSXSAVE, 1, CPUID_ECX, 26 },  { CR4_KL, 7, CPUID_ECX, 23 },
	{ CR4_SMEP, 7, CPUID_EBX, 7 },      { CR4_SMAP, 7, CPUID_EBX, 20 },
	{ CR4_PKE, 7, CPUID_ECX, 3 },       { CR4_CET, 7, CPUID_ECX, 7 },
	{ CR4_CET, 7, CPUID_EDX, 20 },      { CR4_PKS, 7, CPUID_ECX, 31 },
	{ CR4_UINTR, 7, CPUID_EDX, 5 },
};

/* The register reg of r. */
static uint32_t *cpuid_reg(struct cpuid_regs *r, enum cpuid_reg reg)
{
	uint32_t *regs[] = { [CPUID_EAX] = &r->eax, [CPUID_EBX] = &r->ebx,
			     [CPUID_ECX] = &r->ecx, [CPUID_EDX] = &r->edx };
	return regs[reg];
}

uint64_t cpu_features_cr4_unoffered(uint32_t proc2)
{
	/* Leaves 1 and 7 (subleaf 0), the only ones cr4_features names, as
	 * the guest sees them; a leaf beyond the highest offers nothing. */
	struct cpuid_regs max, leaf1, leaf7 = { 0 };
	uint64_t governed = 0, offered = 0;

	cpuid(0, 0, &max);
	cpuid(1, 0, &leaf1);
	cpu_features_filter(1, 0, proc2, &leaf1);
	if (max.eax >= 7) {
		cpuid(7, 0, &leaf7);
		cpu_features_filter(7, 0, proc2, &leaf7);
	}
	for (unsigned i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
		struct cpuid_regs *r = cr4_features[i].leaf == 1 ? &leaf1 : &leaf7;
		governed |= cr4_features[i].cr4;
		if (*cpuid_reg(r, cr4_features[i].reg) >> cr4_features[i].bit & 1)
			offered |= cr4_features[i].cr4;
	}
	return governed & ~offered;
}

uint32_t cpu_features_wanted_proc2(void)
{
	uint32_t want = 0;
	for (unsigned i = 0; i < cpu_feature_count; i++)
		want |= cpu_features[i].proc2;
	return want;
}

/*
 * XCR0 can enable the PKRU state component and CPUID enumerates its size
 * and offset (SDM Vol. 1 13.2: CPUID.(EAX=0DH,ECX=0):EAX[9]; 13.4.3:
 * CPUID.(EAX=0DH,ECX=9)).  Bochs 2.7 sets the bit but reports subleaf 9 as
 * zeros, and Linux then finds its XSAVE layout misordered.
 */
static bool pkru_component_enumerated(void)
{
	struct cpuid_regs r;
	cpuid(0, 0, &r);
	if (r.eax < 0xD)
		return false;
	cpuid(0xD, 0, &r);
	if (!(r.eax & XCR0_PKRU))
		return false;
	cpuid(0xD, 9, &r);
	return r.eax >= 4 && r.ebx >= 576; /* after the legacy region and header */
}

void cpu_features_filter(uint32_t leaf, uint32_t subleaf, uint32_t proc2, struct cpuid_regs *r)
{
	for (unsigned i = 0; i < cpu_feature_count; i++) {
		const struct cpu_feature *f = &cpu_features[i];
		if (f->leaf != leaf || (f->subleaf != CPUID_ANY_SUBLEAF && f->subleaf != subleaf))
			continue;
		if (f->hidden || (f->proc2 & ~proc2))
			*cpuid_reg(r, f->reg) &= ~(1u << f->bit);
	}
	/* PKU, and XCR0's PKRU component, only where the component is
	 * enumerated: PKRU moves with the vCPU's XSAVE state (vcpu.c). */
	if (leaf == 7 && subleaf == 0 && (r->ecx & CPUID7_ECX_PKU) && !pkru_component_enumerated())
		r->ecx &= ~CPUID7_ECX_PKU;
	if (leaf == 0xD && subleaf == 0 && (r->eax & XCR0_PKRU) && !pkru_component_enumerated())
		r->eax &= ~(uint32_t)XCR0_PKRU;
}
