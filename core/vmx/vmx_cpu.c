#include "vmx/vmx_cpu.h"

#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "vmx/controls.h"
#include "vmx/intrin.h"
#include "x86.h"
#include "vmx/vmx_names.h"

/* CPUID leaf 0 vendor string "GenuineIntel" is EBX, EDX, ECX (SDM Vol. 2A CPUID). */
enum vmx_error vmx_check_vendor(void)
{
	struct cpuid_regs r;
	cpuid(0, 0, &r);
	if (r.ebx != 0x756E6547 /* "Genu" */ || r.edx != 0x49656E69 /* "ineI" */ ||
	    r.ecx != 0x6C65746E /* "ntel" */)
		return VMX_ERR_NOT_INTEL;
	return VMX_OK;
}

/* SDM Vol. 3C 24.6 "Discovering support for VMX": CPUID.1:ECX.VMX[bit 5]. */
enum vmx_error vmx_check_cpuid_vmx(void)
{
	struct cpuid_regs r;
	cpuid(1, 0, &r);
	return (r.ecx & CPUID1_ECX_VMX) ? VMX_OK : VMX_ERR_NO_VMX;
}

/* CR4.VMXE already set means someone else is in VMX operation (SDM Vol. 3C 24.7). */
enum vmx_error vmx_check_not_in_use(void)
{
	return (read_cr4() & CR4_VMXE) ? VMX_ERR_ALREADY_ON : VMX_OK;
}

/*
 * SDM Vol. 3C 24.7: VMXON outside SMX needs IA32_FEATURE_CONTROL bits 0
 * (lock) and 2 set.  Firmware normally locks it; if it did not, set both.
 */
enum vmx_error vmx_enable_feature_control(void)
{
	uint64_t value;

	switch (feature_control_decide(rdmsr(MSR_IA32_FEATURE_CONTROL), &value)) {
	case FEATURE_CONTROL_READY:
		return VMX_OK;
	case FEATURE_CONTROL_LOCKED_OFF:
		return VMX_ERR_FEATURE_CONTROL_LOCKED_OFF;
	case FEATURE_CONTROL_MUST_WRITE:
		wrmsr(MSR_IA32_FEATURE_CONTROL, value);
		if (feature_control_decide(rdmsr(MSR_IA32_FEATURE_CONTROL), &value) !=
		    FEATURE_CONTROL_READY)
			return VMX_ERR_FEATURE_CONTROL_WRITE;
		return VMX_OK;
	}
	return VMX_ERR_FEATURE_CONTROL_WRITE;
}

/*
 * SDM Vol. 3C A.1: the VMXON region and VMCS are at most 4 KiB (bits
 * 44:32 of IA32_VMX_BASIC) and cvisor maps them write-back (bits 53:50).
 */
enum vmx_error vmx_check_basic(const struct vmx_caps *caps)
{
	if (VMX_BASIC_REGION_SIZE(caps->basic) > PAGE_SIZE)
		return VMX_ERR_BASIC_REGION_SIZE;
	if (VMX_BASIC_MEMORY_TYPE(caps->basic) != VMX_MEMORY_TYPE_WB)
		return VMX_ERR_BASIC_MEMORY_TYPE;
	return VMX_OK;
}

/*
 * Guests start in 32-bit protected mode with paging off, which needs
 * "unrestricted guest", which needs EPT (SDM Vol. 3C 27.2.1.1); cvisor
 * refuses to start without them rather than failing at VM entry.
 */
enum vmx_error vmx_check_required_features(const struct vmx_caps *caps)
{
	uint32_t proc2;
	enum vmx_error err = vmx_controls_for(caps, VMX_CONTROLS_PROC, PROC_SECONDARY_CONTROLS,
					      &proc2);
	if (err != VMX_OK)
		return err;
	err = vmx_controls_for(caps, VMX_CONTROLS_PROC2,
			       PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID,
			       &proc2);
	if (err != VMX_OK)
		return err;
	/* SDM Vol. 3C 29.3.2 / A.10: 4-level EPT walk, WB paging structures, INVEPT. */
	uint64_t ept_needed = EPT_CAP_WALK_LENGTH_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT |
			      EPT_CAP_INVEPT_ALL;
	if ((caps->ept_vpid & ept_needed) != ept_needed)
		return VMX_ERR_EPT_CAPS;
	uint64_t vpid_needed = VPID_CAP_INVVPID | VPID_CAP_INVVPID_ALL;
	if ((caps->ept_vpid & vpid_needed) != vpid_needed)
		return VMX_ERR_VPID_CAPS;
	return VMX_OK;
}

/* SDM Vol. 3C 24.8 "Restrictions on VMX operation": CR0/CR4 fixed bits. */
enum vmx_error vmx_set_fixed_bits(const struct vmx_caps *caps)
{
	uint64_t cr0 = read_cr0();
	uint64_t want0 = vmx_apply_fixed_bits(cr0, caps->cr0_fixed0, caps->cr0_fixed1);
	/* Never switch paging or protection off to please FIXED1. */
	if ((cr0 & (CR0_PE | CR0_PG)) != (want0 & (CR0_PE | CR0_PG)))
		return VMX_ERR_CR0_FIXED;
	if (want0 != cr0) {
		write_cr0(want0);
		if (read_cr0() != want0)
			return VMX_ERR_CR0_FIXED;
	}

	uint64_t cr4 = read_cr4() | CR4_VMXE;
	uint64_t want4 = vmx_apply_fixed_bits(cr4, caps->cr4_fixed0, caps->cr4_fixed1);
	if (!(want4 & CR4_VMXE))
		return VMX_ERR_CR4_FIXED;
	write_cr4(want4);
	if (read_cr4() != want4)
		return VMX_ERR_CR4_FIXED;
	return VMX_OK;
}

/*
 * SDM Vol. 3C 24.11.5 "VMXON region": a 4 KiB-aligned region whose first
 * 31 bits hold the VMCS revision identifier; then VMXON (31.3).
 */
enum vmx_error vmx_enter_root_operation(struct vmx_cpu *cpu)
{
	cpu->vmxon_region = plat_alloc_page();
	if (!cpu->vmxon_region)
		return VMX_ERR_NO_MEMORY;
	cpu->vmxon_region_pa = plat_virt_to_phys(cpu->vmxon_region);
	*(uint32_t *)cpu->vmxon_region = VMX_BASIC_REVISION(cpu->caps.basic);

	enum vmx_insn_result r = vmxon(cpu->vmxon_region_pa);
	if (r != VMX_SUCCEED) {
		log_printf("cvisor: CPU %u: VMXON at 0x%llx ended with %s\n", cpu->cpu_id,
			   (unsigned long long)cpu->vmxon_region_pa,
			   r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
		plat_free_page(cpu->vmxon_region);
		cpu->vmxon_region = NULL;
		return VMX_ERR_VMXON_FAILED;
	}
	cpu->vmx_on = true;
	return VMX_OK;
}

/*
 * cvisor moves guest FPU/SIMD state with XSAVE/XRSTOR (FXSAVE/FXRSTOR
 * without XSAVE) and emulates XSETBV by executing it, which need
 * CR4.OSFXSR and CR4.OSXSAVE in the host (SDM Vol. 3A 2.5, Vol. 1 13.3).
 */
void vmx_prepare_guest_fpu_switching(struct vmx_cpu *cpu)
{
	struct cpuid_regs r;
	uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;

	cpuid(1, 0, &r);
	cpu->host_xsave = r.ecx & (1u << 26); /* CPUID.1:ECX.XSAVE */
	if (cpu->host_xsave) {
		cr4 |= CR4_OSXSAVE;
		cpuid(0xD, 0, &r);
		cpu->host_xsave_pkru = r.eax & XCR0_PKRU;
	}
	write_cr4(cr4);
}

enum vmx_error vmx_cpu_enable(struct vmx_cpu *cpu, unsigned cpu_id)
{
	enum vmx_error err;

	memset(cpu, 0, sizeof(*cpu));
	cpu->cpu_id = cpu_id;
	if ((err = vmx_check_vendor()) != VMX_OK)
		return err;
	if ((err = vmx_check_cpuid_vmx()) != VMX_OK)
		return err;
	if ((err = vmx_check_not_in_use()) != VMX_OK)
		return err;
	if ((err = vmx_enable_feature_control()) != VMX_OK)
		return err;
	vmx_caps_read(&cpu->caps);
	if ((err = vmx_check_basic(&cpu->caps)) != VMX_OK)
		return err;
	if ((err = vmx_check_required_features(&cpu->caps)) != VMX_OK)
		return err;

	uint64_t saved_cr0 = read_cr0(), saved_cr4 = read_cr4();
	if ((err = vmx_set_fixed_bits(&cpu->caps)) != VMX_OK ||
	    (err = vmx_enter_root_operation(cpu)) != VMX_OK) {
		write_cr4(saved_cr4);
		write_cr0(saved_cr0);
		return err;
	}
	return VMX_OK;
}

enum vmx_error vmx_cpu_disable(struct vmx_cpu *cpu)
{
	if (!cpu->vmx_on)
		return VMX_OK;
	/* SDM Vol. 3C 31.3 INVEPT/INVVPID type 2: all contexts. */
	invept(2, 0);
	invvpid(2, 0, 0);
	if (vmxoff() != VMX_SUCCEED)
		return VMX_ERR_VMXOFF_FAILED;
	cpu->vmx_on = false;
	/* Outside VMX operation CR4.VMXE may be cleared again (SDM Vol. 3C 24.7). */
	write_cr4(read_cr4() & ~CR4_VMXE);
	plat_free_page(cpu->vmxon_region);
	cpu->vmxon_region = NULL;
	return VMX_OK;
}

bool vmx_cr4_vmxe_set(void)
{
	return read_cr4() & CR4_VMXE;
}
