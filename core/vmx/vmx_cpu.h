/*
 * Bringing one logical processor into and out of VMX root operation.
 * Each step is its own function, in SDM order, returning a named error.
 */
#ifndef CVISOR_VMX_CPU_H
#define CVISOR_VMX_CPU_H

#include "x86.h"

#include <stdbool.h>
#include <stdint.h>

#include "vmx/caps.h"
#include "vmx/vmx_error.h"


/* Per logical processor VMX state. */
struct vmx_cpu {
	unsigned cpu_id;
	struct vmx_caps caps;
	void *vmxon_region;
	uint64_t vmxon_region_pa;
	bool vmx_on;
	bool host_xsave; /* CR4.OSXSAVE set: XCR0 can be switched per vCPU */
	/* XCR0 can enable the PKRU component (CPUID.(EAX=0DH,ECX=0):EAX[9]):
	 * XSAVE switches PKRU with the rest of a vCPU's state. */
	bool host_xsave_pkru;
};

enum vmx_error vmx_check_vendor(void);
enum vmx_error vmx_check_cpuid_vmx(void);
enum vmx_error vmx_check_not_in_use(void);
enum vmx_error vmx_enable_feature_control(void);
enum vmx_error vmx_check_basic(const struct vmx_caps *caps);
enum vmx_error vmx_check_required_features(const struct vmx_caps *caps);
enum vmx_error vmx_set_fixed_bits(const struct vmx_caps *caps);
enum vmx_error vmx_enter_root_operation(struct vmx_cpu *cpu);

/* All of the above in order; on failure nothing is left half-enabled. */
enum vmx_error vmx_cpu_enable(struct vmx_cpu *cpu, unsigned cpu_id);

/*
 * For a host that moves its guests' x87/SSE/XCR0 state itself (the type-1
 * hypervisor, vcpu_load/vcpu_put): turns on CR4.OSFXSR, OSXMMEXCPT and,
 * where the CPU has XSAVE, OSXSAVE.  The running OS under cvisor.ko keeps
 * its own FPU configuration and does not call this.
 */
void vmx_prepare_guest_fpu_switching(struct vmx_cpu *cpu);
/* VMXOFF and clear CR4.VMXE (SDM Vol. 3C 24.7, 31.3 VMXOFF). */
enum vmx_error vmx_cpu_disable(struct vmx_cpu *cpu);

/* True when this CPU's CR4.VMXE is set (used to prove devirtualization). */
bool vmx_cr4_vmxe_set(void);

#endif
