/* The CPUID policy as a pure function, for the handler and the unit tests. */
#ifndef CVISOR_EXIT_CPUID_H
#define CVISOR_EXIT_CPUID_H

#include <stdint.h>

#include "vmx/intrin.h"

/* Turns the host's answer r for (leaf, subleaf) into what the guest sees,
 * given the guest's CR4 (OSXSAVE), IA32_MISC_ENABLE (LIMIT_CPUID,
 * XD_DISABLE), the vCPU's secondary controls proc2 (vcpu/cpu_features.c)
 * and the guest's XCR0 (leaf 0xD's compacted size).  Leaves 0xD and 0x15
 * may ask the CPU for more leaves. */
void cpuid_apply_policy(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4, uint64_t misc_enable,
			uint32_t proc2, uint64_t guest_xcr0, struct cpuid_regs *r);

/* The VM's topology as vCPU apic_id of a vcpu_count-vCPU VM sees it in
 * leaves 1, 4, 0BH and 1FH: one package, a core per vCPU, one thread per
 * core.  Leaves 0BH and 1FH may ask the CPU for leaf 0. */
void cpuid_apply_topology(uint32_t leaf, uint32_t subleaf, uint32_t apic_id, unsigned vcpu_count,
			  struct cpuid_regs *r);

/* What the running OS under cvisor.ko sees: its own CPU plus the
 * hypervisor bit and cvisor's leaves, minus VMX. */
void cpuid_apply_hosted_os_policy(uint32_t leaf, struct cpuid_regs *r);

#endif
