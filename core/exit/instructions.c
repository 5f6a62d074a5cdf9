/* Instructions that exit unconditionally and are emulated or refused here. */
#include "x86.h"
#include "exit/exit.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"
#include "vcpu/events.h"

/* INVD would throw away the host's cached writes too: do WBINVD instead
 * (both exit unconditionally / with WBINVD exiting, SDM Vol. 3C 26.1.2). */
void handle_invd(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	wbinvd();
	vcpu_skip_instruction(vcpu);
}

/*
 * VMX instructions in the guest (VMXON, VMREAD, INVEPT, VMFUNC, ...): VMX is
 * not offered (CPUID hides it), so they raise #UD as on a CPU without VMX.
 */
void handle_vmx_instruction(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	vcpu_inject_ud(vcpu);
}

/*
 * MONITOR and MWAIT (exiting with "MONITOR exiting" and "MWAIT exiting",
 * SDM Vol. 3C 26.1.3): CPUID hides them (CPUID.01H:ECX.MONITOR[3] = 0,
 * vcpu/cpu_features.c), and on such a processor both raise #UD (SDM Vol.
 * 2B MONITOR, MWAIT), as a guest probing for them expects.
 */
void handle_monitor_mwait(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	vcpu_inject_ud(vcpu);
}

/* XCR0 bits (SDM Vol. 1 13.3). */

const char *xsetbv_fault(uint32_t xcr, uint64_t value, uint64_t supported)
{
	if (xcr != 0)
		return "only XCR0 exists";
	if (!(value & XCR0_X87))
		return "XCR0 bit 0 (x87) must be 1";
	if (value & ~supported)
		return "XCR0 bit not supported by CPUID leaf 0xD";
	if ((value & XCR0_AVX) && !(value & XCR0_SSE))
		return "XCR0.AVX requires XCR0.SSE";
	if (((value & XCR0_BNDREG) != 0) != ((value & XCR0_BNDCSR) != 0))
		return "XCR0.BNDREG and BNDCSR must be equal";
	if ((value & XCR0_AVX512) && ((value & XCR0_AVX512) != XCR0_AVX512 || !(value & XCR0_AVX)))
		return "XCR0 AVX-512 bits must be all set, with AVX";
	return NULL;
}

/* XSETBV exits unconditionally (SDM Vol. 3C 26.1.2); faults per Vol. 2C XSETBV. */
void handle_xsetbv(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	uint64_t *regs = vcpu->gprs.regs;
	uint64_t guest_cr4 = vmcs_read(GUEST_CR4);
	struct cpuid_regs leaf_d;

	if (!(guest_cr4 & CR4_OSXSAVE)) {
		vcpu_inject_ud(vcpu);
		return;
	}
	cpuid(0xD, 0, &leaf_d);
	/* The components whose state cvisor switches (vcpu.h). */
	uint64_t supported = (((uint64_t)leaf_d.edx << 32) | leaf_d.eax) & XCR0_GUEST_COMPONENTS;
	uint64_t value = (regs[GPR_RDX] << 32) | (uint32_t)regs[GPR_RAX];
	if (vcpu_guest_cpl() != 0 || xsetbv_fault((uint32_t)regs[GPR_RCX], value, supported)) {
		vcpu_inject_gp(vcpu);
		return;
	}
	/* The guest's XCR0 is live in the CPU while it runs (vcpu_load/vcpu_put). */
	xsetbv(0, value);
	vcpu->xcr0 = value;
	vcpu_skip_instruction(vcpu);
}
