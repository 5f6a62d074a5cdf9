/*
 * The MSRs of one vCPU that VMX does not switch: the values cvisor emulates
 * (exit/msr.c implements the policy), the passed-through ones it swaps in
 * and out when vCPUs share a CPU, and the MSR bitmap that says which exit.
 * The policy as a whole is docs/guest-contract.md.
 */
#ifndef CVISOR_VCPU_MSR_STATE_H
#define CVISOR_VCPU_MSR_STATE_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_MTRR_VARIABLE_COUNT 8
#define MSR_MTRR_FIXED_COUNT 11
#define MSR_MC_BANKS 2

/* Emulated and passed-through MSR values of one vCPU. */
struct msr_state {
	uint64_t apic_base;
	uint64_t misc_enable;
	uint64_t mtrr_def_type;
	uint64_t mtrr_variable[2 * MSR_MTRR_VARIABLE_COUNT];
	uint64_t mtrr_fixed[MSR_MTRR_FIXED_COUNT];
	/* Machine-check banks (SDM Vol. 3B 16.3.2): STATUS is always 0. */
	uint64_t mc_ctl[MSR_MC_BANKS], mc_addr[MSR_MC_BANKS], mc_misc[MSR_MC_BANKS];
	/* IA32_TSC_ADJUST (SDM Vol. 3B 17.17.3): the sum of what TSC writes and
	 * TSC_ADJUST writes moved the guest's TSC by (starts at 0). */
	uint64_t tsc_adjust;
	/* Passed through: live in the CPU while the vCPU runs. */
	uint64_t kernel_gs_base, star, lstar, cstar, fmask, tsc_aux;
};

/* Reset values (SDM Vol. 3A Table 10-1 "IA-32 and Intel 64 Processor States Following Power-up"). */
void msr_state_init(struct msr_state *msrs, bool bootstrap_processor);

/*
 * The MTRRs as PC firmware leaves them for the operating system it boots
 * (the power-up values are all 0: MTRRs disabled, everything UC; SDM Vol.
 * 3A 12.11.5 leaves their set-up to the BIOS), the same on every
 * processor: MTRRs and fixed ranges enabled, default type WB; 0-9FFFFH WB,
 * the legacy video window A0000H-BFFFFH UC, C0000H-FFFFFH WB; one
 * variable range making the 32 MiB below 4 GiB UC, where the I/O APIC and
 * the local APIC (and a PC's BIOS flash) answer.  Loaders that stand in for
 * the firmware (the Linux boot protocol) ask for it (vm->firmware_mtrrs).
 */
void msr_state_firmware_mtrrs(struct msr_state *msrs);

/* Fills a 4 KiB MSR bitmap (SDM Vol. 3C 25.6.9): 1 = exit, 0 = pass through. */
void msr_bitmap_init(uint8_t *bitmap);
/* The bitmap of the hosted OS (the running OS as a guest): only
 * IA32_FEATURE_CONTROL and the VMX capability MSRs exit. */
void msr_bitmap_init_hosted_os(uint8_t *bitmap);

/* Swap the passed-through MSRs that the VMCS does not switch. */
void msr_load_guest(const struct msr_state *msrs);
void msr_save_guest(struct msr_state *msrs);

#endif
