/*
 * The one table of CPUID feature bits that need something to work in a
 * guest: a secondary VM-execution control without which the instruction
 * #UDs in VMX non-root operation (SDM Vol. 3C 26.3), or guest state cvisor
 * does not virtualize (then the bit is hidden).  The vCPU's VMCS setup asks
 * for the controls the table names, and the CPUID policy clears every bit
 * whose requirement the vCPU lacks, so a guest never sees a feature that
 * faults.  A bit not in the table works in a guest as on the host.
 */
#ifndef CVISOR_VCPU_CPU_FEATURES_H
#define CVISOR_VCPU_CPU_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/intrin.h"

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };
/* For leaves without subleaves: ECX is not an input, any value matches. */
#define CPUID_ANY_SUBLEAF 0xFFFFFFFFu

struct cpu_feature {
	const char *name;
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	uint8_t bit;
	uint32_t proc2;  /* the secondary control it needs, or 0 */
	bool hidden;     /* state, MSRs or exits cvisor does not virtualize: never offered */
};

extern const struct cpu_feature cpu_features[];
extern const unsigned cpu_feature_count;

/* The physical addresses the CPU (and so the guest) has: bits below
 * MAXPHYADDR, CPUID.80000008H:EAX[7:0], or 36 without that leaf (SDM Vol.
 * 3A 4.1.4); the bits above are reserved in page-table entries and MSRs. */
uint64_t cpu_physical_address_mask(void);

/*
 * The CR4 bits that enable a feature the vCPU's CPUID does not offer
 * (given its secondary controls proc2): SDM Vol. 3A 2.5 ties each of UMIP,
 * LA57, FSGSBASE, PCIDE, OSXSAVE, KL, SMEP, SMAP, PKE, CET, PKS and UINTR
 * to a CPUID feature, and MOV to CR4 setting one the CPU lacks is #GP.
 * A guest must see the same even where the VMX fixed bits would allow it.
 */
uint64_t cpu_features_cr4_unoffered(uint32_t proc2);

/* The secondary controls the offered features need (requested where the
 * CPU allows them). */
uint32_t cpu_features_wanted_proc2(void);

/* Clears from r (the host's answer for leaf, subleaf) each bit the table
 * hides or whose control is not among the vCPU's secondary controls proc2. */
void cpu_features_filter(uint32_t leaf, uint32_t subleaf, uint32_t proc2, struct cpuid_regs *r);

#endif
