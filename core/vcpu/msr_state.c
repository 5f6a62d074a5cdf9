#include "vcpu/msr_state.h"

#include "irq/lapic.h"
#include "lib/mem.h"
#include "mm/mtrr.h"
#include "vcpu/cpu_features.h"
#include "vmx/intrin.h"
#include "vmx/msr_bitmap.h"
#include "x86.h"


/* The device window below 4 GiB firmware makes UC (msr_state_firmware_mtrrs). */
#define FIRMWARE_UC_WINDOW_BASE 0xFE000000ULL
#define FIRMWARE_UC_WINDOW_SIZE 0x02000000ULL

void msr_state_init(struct msr_state *msrs, bool bootstrap_processor)
{
	memset(msrs, 0, sizeof(*msrs));
	msrs->apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_ENABLE |
			  (bootstrap_processor ? APIC_BASE_BSP : 0);
	/* Fast-Strings Enable (IA32_MISC_ENABLE bit 0, SDM Vol. 4 Table 2-2)
	 * is the host's: the guest's REP MOVS and REP STOS run on this CPU
	 * with the host's setting (SDM Vol. 1 7.3.9.3), which cvisor does not
	 * switch at VM entry and exit.  A guest told "enabled" on a CPU where
	 * it is off picks string-instruction copies that run slow there. */
	msrs->misc_enable = (rdmsr(MSR_IA32_MISC_ENABLE) & MISC_ENABLE_FAST_STRINGS) |
			    MISC_ENABLE_BTS_UNAVAILABLE | MISC_ENABLE_PEBS_UNAVAILABLE;
}

/* Eight memory-type bytes of one fixed-range MTRR (SDM Vol. 3A 12.11.2.2). */
#define FIXED_RANGE_ALL(type) (0x0101010101010101ULL * (type))

void msr_state_firmware_mtrrs(struct msr_state *msrs)
{
	/* The fixed ranges in MSR order: 64K_00000, 16K_80000, 16K_A0000,
	 * 4K_C0000 .. 4K_F8000 (SDM Vol. 3A Table 12-9). */
	msrs->mtrr_fixed[0] = FIXED_RANGE_ALL(MEMTYPE_WB);
	msrs->mtrr_fixed[1] = FIXED_RANGE_ALL(MEMTYPE_WB);
	msrs->mtrr_fixed[2] = FIXED_RANGE_ALL(MEMTYPE_UC);
	for (unsigned i = 3; i < MSR_MTRR_FIXED_COUNT; i++)
		msrs->mtrr_fixed[i] = FIXED_RANGE_ALL(MEMTYPE_WB);
	/* PHYSBASE0 = base | type, PHYSMASK0 = mask | valid: an address A is
	 * in the range when A & mask == base & mask (SDM Vol. 3A 12.11.2.3). */
	for (unsigned i = 0; i < 2 * MSR_MTRR_VARIABLE_COUNT; i++)
		msrs->mtrr_variable[i] = 0;
	msrs->mtrr_variable[0] = FIRMWARE_UC_WINDOW_BASE | MEMTYPE_UC;
	msrs->mtrr_variable[1] = (~(FIRMWARE_UC_WINDOW_SIZE - 1) & cpu_physical_address_mask() & ~0xFFFULL) |
				 MTRR_PHYSMASK_VALID;
	msrs->mtrr_def_type = MTRR_DEF_TYPE_E | MTRR_DEF_TYPE_FE | MEMTYPE_WB;
}

/* MSRs the guest may read and write directly: either the VMCS switches
 * them (FS/GS base, SYSENTER_*) or cvisor swaps them in vcpu_load/put. */
static const uint32_t passthrough_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_FS_BASE, MSR_IA32_GS_BASE, MSR_IA32_KERNEL_GS_BASE,
	MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK, MSR_IA32_TSC_AUX,
};

void msr_bitmap_init(uint8_t *bitmap)
{
	msr_bitmap_fill(bitmap, true);
	for (unsigned i = 0; i < sizeof(passthrough_msrs) / sizeof(passthrough_msrs[0]); i++) {
		msr_bitmap_set(bitmap, passthrough_msrs[i], false, false);
		msr_bitmap_set(bitmap, passthrough_msrs[i], true, false);
	}
	/* RDMSR of the TSC returns TSC + TSC_OFFSET without an exit (SDM Vol. 3C 26.3); writes exit. */
	msr_bitmap_set(bitmap, MSR_IA32_TSC, false, false);
}

/*
 * The running OS as a guest (core/vm/hosted_os.c): every MSR is its own
 * except the ones that would let it see or take over VMX: IA32_FEATURE_CONTROL
 * and the VMX capability MSRs exit and get #GP, as on a CPU without VMX
 * (SDM Vol. 3C A.1: the VMX MSRs #GP when CPUID.1:ECX.VMX = 0).
 */
static bool hosted_os_msr_hidden(uint32_t msr)
{
	return msr == MSR_IA32_FEATURE_CONTROL ||
	       (msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC);
}

void msr_bitmap_init_hosted_os(uint8_t *bitmap)
{
	msr_bitmap_fill(bitmap, false);
	for (uint32_t msr = 0; msr <= 0x1FFF; msr++) {
		if (!hosted_os_msr_hidden(msr))
			continue;
		msr_bitmap_set(bitmap, msr, false, true);
		msr_bitmap_set(bitmap, msr, true, true);
	}
}

void msr_load_guest(const struct msr_state *m)
{
	wrmsr(MSR_IA32_KERNEL_GS_BASE, m->kernel_gs_base);
	wrmsr(MSR_IA32_STAR, m->star);
	wrmsr(MSR_IA32_LSTAR, m->lstar);
	wrmsr(MSR_IA32_CSTAR, m->cstar);
	wrmsr(MSR_IA32_FMASK, m->fmask);
	wrmsr(MSR_IA32_TSC_AUX, m->tsc_aux);
}

void msr_save_guest(struct msr_state *m)
{
	m->kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
	m->star = rdmsr(MSR_IA32_STAR);
	m->lstar = rdmsr(MSR_IA32_LSTAR);
	m->cstar = rdmsr(MSR_IA32_CSTAR);
	m->fmask = rdmsr(MSR_IA32_FMASK);
	m->tsc_aux = rdmsr(MSR_IA32_TSC_AUX);
}
