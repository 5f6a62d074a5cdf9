/*
 * Software VM-entry checks: the rules of SDM Vol. 3C chapter 27 "VM
 * Entries" (27.2 controls and host state, 27.3 guest state), run against
 * the current VMCS so that a failed VMLAUNCH/VMRESUME (VM-instruction
 * error 7 or 8) or an "invalid guest state" exit (reason 33) names the rule
 * that broke.
 *
 *   unsigned failed = vmx_check_vm_entry(&cpu->caps, 0);
 *
 * prints one report per failed rule, every failure (not just the first):
 *
 *   cvisor: VM-entry check failed: guest CS.AR: L=1 requires D/B=0 (SDM 27.3.1.2) [GUEST_CS_AR_BYTES=0xe09b VM_ENTRY_CONTROLS=0xd3fb]
 *   cvisor:   rule GUEST_CS_L_DB (guest state: VM exit 33): requires !s->db
 *   cvisor: VM-entry checks: 1 rule(s) failed: 0 on controls (VM-instruction error 7), 0 on host state (error 8), 1 on guest state (exit reason 33)
 *
 * The first line gives the rule, its SDM section and the VMCS fields it
 * read; the second the rule id, what the hardware does when it fails, and
 * the requirement as the checker spells it.  Nothing is printed when every
 * rule holds.
 *
 * Every rule is declared once in VMX_ENTRY_RULES below with its SDM
 * section, and the checker evaluates it as one line of C whose text is the
 * "requires" part.  Tests (and anyone else) read the outcome through
 * struct vmx_entry_report: which rules failed, for which register, and
 * which rules were evaluated at all.
 */
#ifndef CVISOR_VMX_ENTRY_CHECKS_H
#define CVISOR_VMX_ENTRY_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmx/caps.h"

/* What the hardware does when a rule of this kind fails (SDM 27.1-27.3). */
enum vmx_entry_kind {
	VMX_ENTRY_KIND_CONTROL, /* VMfailValid, VM-instruction error 7 */
	VMX_ENTRY_KIND_HOST,    /* VMfailValid, VM-instruction error 8 */
	VMX_ENTRY_KIND_GUEST,   /* VM exit with reason 33 (bit 31 set) */
};

/*
 * X(id, kind, SDM section, text).  A text containing '@' is reported once
 * per register or address it applies to, '@' replaced by that name.
 */
#define VMX_ENTRY_RULES(X)                                                                                  \
	/* ---- 27.2.1.1 VM-execution control fields ---- */                                              \
	X(CTRL_PIN_ALLOWED0, CONTROL, "27.2.1.1", "pin-based controls: a bit that IA32_VMX_(TRUE_)PINBASED_CTLS[31:0] requires is 0") \
	X(CTRL_PIN_ALLOWED1, CONTROL, "27.2.1.1", "pin-based controls: a bit that IA32_VMX_(TRUE_)PINBASED_CTLS[63:32] does not allow is 1") \
	X(CTRL_PROC_ALLOWED0, CONTROL, "27.2.1.1", "primary processor-based controls: a bit that IA32_VMX_(TRUE_)PROCBASED_CTLS[31:0] requires is 0") \
	X(CTRL_PROC_ALLOWED1, CONTROL, "27.2.1.1", "primary processor-based controls: a bit that IA32_VMX_(TRUE_)PROCBASED_CTLS[63:32] does not allow is 1") \
	X(CTRL_PROC2_ALLOWED0, CONTROL, "27.2.1.1", "secondary processor-based controls: a bit that IA32_VMX_PROCBASED_CTLS2[31:0] requires is 0") \
	X(CTRL_PROC2_ALLOWED1, CONTROL, "27.2.1.1", "secondary processor-based controls: a bit that IA32_VMX_PROCBASED_CTLS2[63:32] does not allow is 1") \
	X(CTRL_PROC3_ALLOWED1, CONTROL, "27.2.1.1", "tertiary processor-based controls: a bit that IA32_VMX_PROCBASED_CTLS3 does not allow is 1") \
	X(CTRL_CR3_TARGET_COUNT, CONTROL, "27.2.1.1", "CR3-target count must not exceed IA32_VMX_MISC[24:16]") \
	X(CTRL_IO_BITMAP_ADDR, CONTROL, "27.2.1.1", "use I/O bitmaps: I/O bitmap @ address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_MSR_BITMAP_ADDR, CONTROL, "27.2.1.1", "use MSR bitmaps: MSR-bitmap address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_VIRTUAL_APIC_ADDR, CONTROL, "27.2.1.1", "use TPR shadow: virtual-APIC address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_TPR_THRESHOLD_BITS, CONTROL, "27.2.1.1", "use TPR shadow without virtual-interrupt delivery: TPR threshold bits 31:4 must be 0") \
	X(CTRL_TPR_THRESHOLD_VTPR, CONTROL, "27.2.1.1", "TPR threshold bits 3:0 must not exceed VTPR bits 7:4 (virtual-APIC page offset 0x80)") \
	X(CTRL_APICV_NEEDS_TPR_SHADOW, CONTROL, "27.2.1.1", "without use TPR shadow: virtualize x2APIC mode, APIC-register virtualization and virtual-interrupt delivery must be 0") \
	X(CTRL_X2APIC_NO_APIC_ACCESS, CONTROL, "27.2.1.1", "virtualize x2APIC mode requires virtualize APIC accesses = 0") \
	X(CTRL_VID_NEEDS_EXT_INT_EXITING, CONTROL, "27.2.1.1", "virtual-interrupt delivery requires external-interrupt exiting") \
	X(CTRL_POSTED_NEEDS_VID, CONTROL, "27.2.1.1", "process posted interrupts requires virtual-interrupt delivery") \
	X(CTRL_POSTED_NEEDS_ACK_ON_EXIT, CONTROL, "27.2.1.1", "process posted interrupts requires the acknowledge-interrupt-on-exit VM-exit control") \
	X(CTRL_POSTED_VECTOR, CONTROL, "27.2.1.1", "process posted interrupts: notification vector bits 15:8 must be 0") \
	X(CTRL_POSTED_DESC_ADDR, CONTROL, "27.2.1.1", "process posted interrupts: descriptor address must be 64-byte aligned and within the physical-address width") \
	X(CTRL_VNMI_NEEDS_NMI_EXITING, CONTROL, "27.2.1.1", "virtual NMIs requires NMI exiting") \
	X(CTRL_NMI_WINDOW_NEEDS_VNMI, CONTROL, "27.2.1.1", "NMI-window exiting requires virtual NMIs") \
	X(CTRL_APIC_ACCESS_ADDR, CONTROL, "27.2.1.1", "virtualize APIC accesses: APIC-access address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_VPID_NONZERO, CONTROL, "27.2.1.1", "enable VPID requires a VPID other than 0") \
	X(CTRL_EPTP_MEMORY_TYPE, CONTROL, "27.2.1.1", "EPTP bits 2:0: memory type must be UC (EPT_VPID_CAP[8]) or WB (EPT_VPID_CAP[14])") \
	X(CTRL_EPTP_WALK_LENGTH, CONTROL, "27.2.1.1", "EPTP bits 5:3: page-walk length - 1 must be 3 (EPT_VPID_CAP[6]) or 4 (EPT_VPID_CAP[7])") \
	X(CTRL_EPTP_ACCESSED_DIRTY, CONTROL, "27.2.1.1", "EPTP bit 6 (accessed/dirty flags) requires EPT_VPID_CAP[21]") \
	X(CTRL_EPTP_RESERVED, CONTROL, "27.2.1.1", "EPTP reserved bits (11:8, 7 without CET shadow stacks, above the physical-address width) must be 0") \
	X(CTRL_UNRESTRICTED_NEEDS_EPT, CONTROL, "27.2.1.1", "unrestricted guest requires enable EPT") \
	X(CTRL_PML_NEEDS_EPT, CONTROL, "27.2.1.1", "enable PML requires enable EPT") \
	X(CTRL_PML_ADDR, CONTROL, "27.2.1.1", "enable PML: PML address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_MBEC_NEEDS_EPT, CONTROL, "27.2.1.1", "mode-based execute control for EPT requires enable EPT") \
	X(CTRL_SPP_NEEDS_EPT, CONTROL, "27.2.1.1", "sub-page write permissions for EPT requires enable EPT") \
	X(CTRL_SPPTP_ADDR, CONTROL, "27.2.1.1", "sub-page write permissions: SPPTP must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_VMFUNC_ALLOWED, CONTROL, "27.2.1.1", "enable VM functions: a VM-function control that IA32_VMX_VMFUNC does not allow is 1") \
	X(CTRL_EPTP_SWITCHING_NEEDS_EPT, CONTROL, "27.2.1.1", "EPTP switching VM function requires enable EPT") \
	X(CTRL_EPTP_LIST_ADDR, CONTROL, "27.2.1.1", "EPTP switching: EPTP-list address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_VMCS_SHADOW_BITMAP_ADDR, CONTROL, "27.2.1.1", "VMCS shadowing: @ bitmap address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_VE_INFO_ADDR, CONTROL, "27.2.1.1", "EPT-violation #VE: #VE information address must be 4-KiB aligned and within the physical-address width") \
	X(CTRL_PT_GPA_NEEDS, CONTROL, "27.2.1.1", "Intel PT uses guest physical addresses requires enable EPT, load IA32_RTIT_CTL and clear IA32_RTIT_CTL") \
	/* ---- 27.2.1.2 VM-exit control fields ---- */                                                   \
	X(CTRL_EXIT_ALLOWED0, CONTROL, "27.2.1.2", "VM-exit controls: a bit that IA32_VMX_(TRUE_)EXIT_CTLS[31:0] requires is 0") \
	X(CTRL_EXIT_ALLOWED1, CONTROL, "27.2.1.2", "VM-exit controls: a bit that IA32_VMX_(TRUE_)EXIT_CTLS[63:32] does not allow is 1") \
	X(CTRL_SAVE_TIMER_NEEDS_TIMER, CONTROL, "27.2.1.2", "save VMX-preemption timer value requires activate VMX-preemption timer") \
	X(CTRL_EXIT_MSR_STORE_ADDR, CONTROL, "27.2.1.2", "VM-exit MSR-store area must be 16-byte aligned and end within the physical-address width") \
	X(CTRL_EXIT_MSR_LOAD_ADDR, CONTROL, "27.2.1.2", "VM-exit MSR-load area must be 16-byte aligned and end within the physical-address width") \
	/* ---- 27.2.1.3 VM-entry control fields ---- */                                                  \
	X(CTRL_ENTRY_ALLOWED0, CONTROL, "27.2.1.3", "VM-entry controls: a bit that IA32_VMX_(TRUE_)ENTRY_CTLS[31:0] requires is 0") \
	X(CTRL_ENTRY_ALLOWED1, CONTROL, "27.2.1.3", "VM-entry controls: a bit that IA32_VMX_(TRUE_)ENTRY_CTLS[63:32] does not allow is 1") \
	X(CTRL_INJECT_TYPE, CONTROL, "27.2.1.3", "event injection: type 1 is reserved, type 7 needs monitor-trap-flag support") \
	X(CTRL_INJECT_NMI_VECTOR, CONTROL, "27.2.1.3", "event injection: an NMI must have vector 2") \
	X(CTRL_INJECT_EXCEPTION_VECTOR, CONTROL, "27.2.1.3", "event injection: a hardware exception must have a vector <= 31") \
	X(CTRL_INJECT_OTHER_VECTOR, CONTROL, "27.2.1.3", "event injection: type 7 (other event, pending MTF) must have vector 0") \
	X(CTRL_INJECT_ERROR_CODE_NEEDED, CONTROL, "27.2.1.3", "event injection: #DF #TS #NP #SS #GP #PF #AC into protected mode must deliver an error code") \
	X(CTRL_INJECT_ERROR_CODE_FORBIDDEN, CONTROL, "27.2.1.3", "event injection: deliver-error-code must be 0 for this type/vector/CR0.PE") \
	X(CTRL_INJECT_RESERVED, CONTROL, "27.2.1.3", "event injection: interruption-information bits 30:12 must be 0") \
	X(CTRL_INJECT_ERROR_CODE_BITS, CONTROL, "27.2.1.3", "event injection: exception error code bits 31:16 must be 0") \
	X(CTRL_INJECT_INSTRUCTION_LENGTH, CONTROL, "27.2.1.3", "event injection: software interrupt/exception length must be 1-15 (0 only with IA32_VMX_MISC[30])") \
	X(CTRL_ENTRY_MSR_LOAD_ADDR, CONTROL, "27.2.1.3", "VM-entry MSR-load area must be 16-byte aligned and end within the physical-address width") \
	X(CTRL_ENTRY_SMM_OUTSIDE_SMM, CONTROL, "27.2.1.3", "outside SMM, entry to SMM and deactivate dual-monitor treatment must be 0") \
	X(CTRL_ENTRY_SMM_AND_DEACTIVATE, CONTROL, "27.2.1.3", "entry to SMM and deactivate dual-monitor treatment must not both be 1") \
	/* ---- 27.2.2 host control registers and MSRs ---- */                                          \
	X(HOST_CR0_FIXED, HOST, "27.2.2", "host CR0 must obey IA32_VMX_CR0_FIXED0/FIXED1") \
	X(HOST_CR4_FIXED, HOST, "27.2.2", "host CR4 must obey IA32_VMX_CR4_FIXED0/FIXED1") \
	X(HOST_CR4_CET_NEEDS_WP, HOST, "27.2.2", "host CR4.CET=1 requires CR0.WP=1") \
	X(HOST_CR3_WIDTH, HOST, "27.2.2", "host CR3 must not set bits beyond the physical-address width") \
	X(HOST_SYSENTER_CANONICAL, HOST, "27.2.2", "host IA32_@ must be canonical") \
	X(HOST_S_CET_VALID, HOST, "27.2.2", "load CET state: host IA32_S_CET reserved bits 9:6 clear, not SUPPRESS+TRACKER, canonical") \
	X(HOST_SSP_VALID, HOST, "27.2.2", "load CET state: host SSP bits 1:0 must be 0 and the address canonical (32-bit host: bits 63:32 = 0)") \
	X(HOST_INTR_SSP_TABLE_VALID, HOST, "27.2.2", "load CET state: host IA32_INTERRUPT_SSP_TABLE_ADDR canonical (32-bit host: bits 63:32 = 0)") \
	X(HOST_PERF_GLOBAL_CTRL_RESERVED, HOST, "27.2.2", "load IA32_PERF_GLOBAL_CTRL: host value must not set reserved bits (CPUID leaf 0xA counters)") \
	X(HOST_PAT_VALID, HOST, "27.2.2", "load IA32_PAT: every host PAT byte must be 0, 1, 4, 5, 6 or 7") \
	X(HOST_EFER_RESERVED, HOST, "27.2.2", "load IA32_EFER: host EFER bits other than SCE, LME, LMA, NXE must be 0") \
	X(HOST_EFER_LMA_LME, HOST, "27.2.2", "load IA32_EFER: host EFER.LMA and EFER.LME must equal host address-space size") \
	X(HOST_PKRS_RESERVED, HOST, "27.2.2", "load PKRS: host IA32_PKRS bits 63:32 must be 0") \
	/* ---- 27.2.3 host segment and descriptor-table registers ---- */                                \
	X(HOST_SELECTOR_RPL_TI, HOST, "27.2.3", "host @ selector: RPL (bits 1:0) and TI (bit 2) must be 0") \
	X(HOST_CS_NONZERO, HOST, "27.2.3", "host CS selector must not be 0") \
	X(HOST_TR_NONZERO, HOST, "27.2.3", "host TR selector must not be 0") \
	X(HOST_SS_NONZERO, HOST, "27.2.3", "host SS selector must not be 0 when host address-space size is 0") \
	X(HOST_BASE_CANONICAL, HOST, "27.2.3", "host @ base must be canonical") \
	/* ---- 27.2.4 checks related to address-space size ---- */                                     \
	X(HOST_IA32E_NEEDS_HOST_SIZE, HOST, "27.2.4", "in IA-32e mode, the host address-space size VM-exit control must be 1") \
	X(HOST_LEGACY_NO_64BIT, HOST, "27.2.4", "outside IA-32e mode, IA-32e mode guest and host address-space size must be 0") \
	X(HOST_SIZE0_NO_IA32E_GUEST, HOST, "27.2.4", "host address-space size 0 requires IA-32e mode guest = 0") \
	X(HOST_SIZE0_NO_PCIDE, HOST, "27.2.4", "host address-space size 0 requires host CR4.PCIDE = 0") \
	X(HOST_SIZE0_RIP_32BIT, HOST, "27.2.4", "host address-space size 0 requires host RIP bits 63:32 = 0") \
	X(HOST_SIZE1_PAE, HOST, "27.2.4", "host address-space size 1 requires host CR4.PAE = 1") \
	X(HOST_SIZE1_RIP_CANONICAL, HOST, "27.2.4", "host address-space size 1 requires a canonical host RIP") \
	/* ---- 27.3.1.1 guest control registers, debug registers and MSRs ---- */                       \
	X(GUEST_CR0_FIXED, GUEST, "27.3.1.1", "guest CR0 must obey IA32_VMX_CR0_FIXED0/FIXED1 (PE, PG free with unrestricted guest)") \
	X(GUEST_CR0_PG_NEEDS_PE, GUEST, "27.3.1.1", "guest CR0.PG=1 requires CR0.PE=1") \
	X(GUEST_CR4_FIXED, GUEST, "27.3.1.1", "guest CR4 must obey IA32_VMX_CR4_FIXED0/FIXED1") \
	X(GUEST_CR4_CET_NEEDS_WP, GUEST, "27.3.1.1", "guest CR4.CET=1 requires CR0.WP=1") \
	X(GUEST_DEBUGCTL_RESERVED, GUEST, "27.3.1.1", "load debug controls: guest IA32_DEBUGCTL reserved bits (5:3, 63:16) must be 0") \
	X(GUEST_IA32E_NEEDS_PG, GUEST, "27.3.1.1", "IA-32e mode guest requires guest CR0.PG=1") \
	X(GUEST_IA32E_NEEDS_PAE, GUEST, "27.3.1.1", "IA-32e mode guest requires guest CR4.PAE=1") \
	X(GUEST_PCIDE_NEEDS_IA32E, GUEST, "27.3.1.1", "guest CR4.PCIDE=1 requires IA-32e mode guest") \
	X(GUEST_CR3_WIDTH, GUEST, "27.3.1.1", "guest CR3 must not set bits beyond the physical-address width") \
	X(GUEST_DR7_HIGH, GUEST, "27.3.1.1", "load debug controls: guest DR7 bits 63:32 must be 0") \
	X(GUEST_SYSENTER_CANONICAL, GUEST, "27.3.1.1", "guest IA32_@ must be canonical") \
	X(GUEST_PERF_GLOBAL_CTRL_RESERVED, GUEST, "27.3.1.1", "load IA32_PERF_GLOBAL_CTRL: guest value must not set reserved bits (CPUID leaf 0xA counters)") \
	X(GUEST_PAT_VALID, GUEST, "27.3.1.1", "load IA32_PAT: every guest PAT byte must be 0, 1, 4, 5, 6 or 7") \
	X(GUEST_EFER_RESERVED, GUEST, "27.3.1.1", "load IA32_EFER: guest EFER bits other than SCE, LME, LMA, NXE must be 0") \
	X(GUEST_EFER_LMA, GUEST, "27.3.1.1", "load IA32_EFER: guest EFER.LMA must equal IA-32e mode guest") \
	X(GUEST_EFER_LME, GUEST, "27.3.1.1", "load IA32_EFER: with guest CR0.PG=1, EFER.LME must equal IA-32e mode guest") \
	X(GUEST_BNDCFGS_RESERVED, GUEST, "27.3.1.1", "load IA32_BNDCFGS: guest BNDCFGS bits 11:2 must be 0") \
	X(GUEST_BNDCFGS_CANONICAL, GUEST, "27.3.1.1", "load IA32_BNDCFGS: guest BNDCFGS base (bits 63:12) must be canonical") \
	X(GUEST_S_CET_VALID, GUEST, "27.3.1.1", "load CET state: guest IA32_S_CET reserved bits 9:6 clear, not SUPPRESS+TRACKER, canonical") \
	X(GUEST_SSP_VALID, GUEST, "27.3.1.1", "load CET state: guest SSP bits 1:0 must be 0 and the address canonical (32-bit guest: bits 63:32 = 0)") \
	X(GUEST_INTR_SSP_TABLE_VALID, GUEST, "27.3.1.1", "load CET state: guest IA32_INTERRUPT_SSP_TABLE_ADDR canonical (32-bit guest: bits 63:32 = 0)") \
	X(GUEST_PKRS_RESERVED, GUEST, "27.3.1.1", "load PKRS: guest IA32_PKRS bits 63:32 must be 0") \
	/* ---- 27.3.1.2 guest segment registers ---- */                                                 \
	X(GUEST_TR_TI, GUEST, "27.3.1.2", "guest TR selector: TI (bit 2) must be 0") \
	X(GUEST_LDTR_TI, GUEST, "27.3.1.2", "guest LDTR selector: TI (bit 2) must be 0 when LDTR is usable") \
	X(GUEST_SS_RPL_EQ_CS_RPL, GUEST, "27.3.1.2", "guest SS.RPL must equal CS.RPL (not virtual-8086, no unrestricted guest)") \
	X(GUEST_SEG_V86_BASE, GUEST, "27.3.1.2", "virtual-8086 guest @: base must be selector << 4") \
	X(GUEST_SEG_V86_LIMIT, GUEST, "27.3.1.2", "virtual-8086 guest @: limit must be 0xFFFF") \
	X(GUEST_SEG_V86_AR, GUEST, "27.3.1.2", "virtual-8086 guest @: access rights must be 0xF3") \
	X(GUEST_SEG_BASE_CANONICAL, GUEST, "27.3.1.2", "guest @ base must be canonical") \
	X(GUEST_SEG_BASE_32BIT, GUEST, "27.3.1.2", "guest @ base bits 63:32 must be 0") \
	X(GUEST_CS_TYPE, GUEST, "27.3.1.2", "guest CS.AR: type must be 9, 11, 13 or 15 (3 too with unrestricted guest)") \
	X(GUEST_SEG_S, GUEST, "27.3.1.2", "guest @.AR: S (bit 4) must be 1 (code or data segment)") \
	X(GUEST_CS_DPL_TYPE3, GUEST, "27.3.1.2", "guest CS.AR: type 3 (unrestricted guest) requires DPL 0") \
	X(GUEST_CS_DPL_NONCONFORMING, GUEST, "27.3.1.2", "guest CS.AR: non-conforming code (type 9/11) requires DPL = SS.DPL") \
	X(GUEST_CS_DPL_CONFORMING, GUEST, "27.3.1.2", "guest CS.AR: conforming code (type 13/15) requires DPL <= SS.DPL") \
	X(GUEST_SEG_PRESENT, GUEST, "27.3.1.2", "guest @.AR: P (bit 7) must be 1") \
	X(GUEST_SEG_AR_RESERVED, GUEST, "27.3.1.2", "guest @.AR: reserved bits 11:8 and 31:17 must be 0") \
	X(GUEST_CS_L_DB, GUEST, "27.3.1.2", "guest CS.AR: L=1 requires D/B=0") \
	X(GUEST_SEG_G_LIMIT, GUEST, "27.3.1.2", "guest @: G must be 1 if limit bits 31:20 are set, 0 if limit bits 11:0 are not all 1") \
	X(GUEST_SS_TYPE, GUEST, "27.3.1.2", "guest SS.AR: type must be 3 or 7 (read/write data, accessed)") \
	X(GUEST_SS_DPL_RPL, GUEST, "27.3.1.2", "guest SS.AR: DPL must equal SS.RPL (no unrestricted guest)") \
	X(GUEST_SS_DPL_ZERO, GUEST, "27.3.1.2", "guest SS.AR: DPL must be 0 when CS type is 3 or CR0.PE is 0") \
	X(GUEST_DATA_ACCESSED, GUEST, "27.3.1.2", "guest @.AR: type bit 0 (accessed) must be 1") \
	X(GUEST_DATA_READABLE, GUEST, "27.3.1.2", "guest @.AR: a code segment must be readable (type bit 1)") \
	X(GUEST_DATA_DPL_RPL, GUEST, "27.3.1.2", "guest @.AR: DPL must not be less than the selector's RPL (type 0-11, no unrestricted guest)") \
	X(GUEST_TR_TYPE, GUEST, "27.3.1.2", "guest TR.AR: type must be 11 (busy 32/64-bit TSS), or 3 (busy 16-bit TSS) outside IA-32e mode") \
	X(GUEST_TR_S, GUEST, "27.3.1.2", "guest TR.AR: S (bit 4) must be 0 (system segment)") \
	X(GUEST_TR_USABLE, GUEST, "27.3.1.2", "guest TR.AR: unusable (bit 16) must be 0") \
	X(GUEST_LDTR_TYPE, GUEST, "27.3.1.2", "guest LDTR.AR: type must be 2 (LDT) when LDTR is usable") \
	X(GUEST_LDTR_S, GUEST, "27.3.1.2", "guest LDTR.AR: S (bit 4) must be 0 when LDTR is usable") \
	/* ---- 27.3.1.3 GDTR and IDTR ---- */                                                           \
	X(GUEST_DTR_BASE_CANONICAL, GUEST, "27.3.1.3", "guest @ base must be canonical") \
	X(GUEST_DTR_LIMIT, GUEST, "27.3.1.3", "guest @ limit bits 31:16 must be 0") \
	/* ---- 27.3.1.4 RIP and RFLAGS ---- */                                                          \
	X(GUEST_RIP_32BIT, GUEST, "27.3.1.4", "guest RIP bits 63:32 must be 0 outside 64-bit mode (IA-32e mode guest and CS.L)") \
	X(GUEST_RIP_CANONICAL, GUEST, "27.3.1.4", "guest RIP must be canonical in 64-bit mode") \
	X(GUEST_RFLAGS_RESERVED, GUEST, "27.3.1.4", "guest RFLAGS reserved bits 63:22, 15, 5, 3 must be 0") \
	X(GUEST_RFLAGS_BIT1, GUEST, "27.3.1.4", "guest RFLAGS reserved bit 1 must be 1") \
	X(GUEST_RFLAGS_VM, GUEST, "27.3.1.4", "guest RFLAGS.VM must be 0 with IA-32e mode guest or CR0.PE=0") \
	X(GUEST_RFLAGS_IF_FOR_EXTINT, GUEST, "27.3.1.4", "guest RFLAGS.IF must be 1 when an external interrupt is injected") \
	/* ---- 27.3.1.5 guest non-register state ---- */                                               \
	X(GUEST_ACTIVITY_RANGE, GUEST, "27.3.1.5", "guest activity state must be 0-3") \
	X(GUEST_ACTIVITY_SUPPORTED, GUEST, "27.3.1.5", "guest activity state must be supported (IA32_VMX_MISC bits 6-8)") \
	X(GUEST_ACTIVITY_HLT_SS_DPL, GUEST, "27.3.1.5", "guest activity state HLT requires SS.DPL=0") \
	X(GUEST_ACTIVITY_BLOCKING_ACTIVE, GUEST, "27.3.1.5", "blocking by STI or MOV SS requires the active activity state") \
	X(GUEST_ACTIVITY_HLT_EVENT, GUEST, "27.3.1.5", "HLT state: only external interrupts, NMIs, #DB, #MC or pending MTF may be injected") \
	X(GUEST_ACTIVITY_SHUTDOWN_EVENT, GUEST, "27.3.1.5", "shutdown state: only NMIs and #MC may be injected") \
	X(GUEST_ACTIVITY_SIPI_EVENT, GUEST, "27.3.1.5", "wait-for-SIPI state: no event may be injected") \
	X(GUEST_ACTIVITY_SMM_SIPI, GUEST, "27.3.1.5", "entry to SMM: activity state must not be wait-for-SIPI") \
	X(GUEST_INTR_RESERVED, GUEST, "27.3.1.5", "guest interruptibility state bits 31:5 must be 0") \
	X(GUEST_INTR_STI_AND_MOVSS, GUEST, "27.3.1.5", "guest interruptibility: blocking by STI and by MOV SS must not both be 1") \
	X(GUEST_INTR_STI_NEEDS_IF, GUEST, "27.3.1.5", "guest interruptibility: blocking by STI requires RFLAGS.IF=1") \
	X(GUEST_INTR_EXTINT_BLOCKED, GUEST, "27.3.1.5", "injecting an external interrupt requires no blocking by STI or MOV SS") \
	X(GUEST_INTR_NMI_MOVSS, GUEST, "27.3.1.5", "injecting an NMI requires no blocking by MOV SS") \
	X(GUEST_INTR_SMI_OUTSIDE_SMM, GUEST, "27.3.1.5", "guest interruptibility: blocking by SMI must be 0 outside SMM") \
	X(GUEST_INTR_SMI_FOR_SMM_ENTRY, GUEST, "27.3.1.5", "entry to SMM requires blocking by SMI") \
	X(GUEST_INTR_VNMI_NMI_BLOCKED, GUEST, "27.3.1.5", "virtual NMIs: injecting an NMI requires no blocking by NMI") \
	X(GUEST_INTR_ENCLAVE, GUEST, "27.3.1.5", "enclave interruption requires no blocking by MOV SS and SGX support") \
	X(GUEST_PENDING_DBG_RESERVED, GUEST, "27.3.1.5", "guest pending debug exceptions bits 11:4, 13, 15, 63:17 must be 0") \
	X(GUEST_PENDING_DBG_BS_SET, GUEST, "27.3.1.5", "STI/MOV SS blocking or HLT with RFLAGS.TF=1 and DEBUGCTL.BTF=0 requires pending BS=1") \
	X(GUEST_PENDING_DBG_BS_CLEAR, GUEST, "27.3.1.5", "STI/MOV SS blocking or HLT with RFLAGS.TF=0 or DEBUGCTL.BTF=1 requires pending BS=0") \
	X(GUEST_PENDING_DBG_RTM, GUEST, "27.3.1.5", "pending RTM (bit 16) requires bit 12 only, RTM support and no blocking by MOV SS") \
	X(GUEST_LINK_ADDR, GUEST, "27.3.1.5", "VMCS link pointer (not all ones) must be 4-KiB aligned and within the physical-address width") \
	X(GUEST_LINK_REVISION, GUEST, "27.3.1.5", "VMCS link pointer: the referenced VMCS must have this CPU's revision identifier") \
	X(GUEST_LINK_SHADOW, GUEST, "27.3.1.5", "VMCS link pointer: the referenced VMCS's bit 31 (shadow) must equal VMCS shadowing") \
	X(GUEST_LINK_NOT_CURRENT, GUEST, "27.3.1.5", "VMCS link pointer must not be the current-VMCS pointer") \
	X(GUEST_LINK_NOT_EXECUTIVE, GUEST, "27.3.1.5", "in SMM without entry to SMM, VMCS link pointer must differ from the executive-VMCS pointer") \
	/* ---- 27.3.1.6 guest PDPTEs (PAE paging) ---- */                                               \
	X(GUEST_PDPTE_RESERVED, GUEST, "27.3.1.6", "PAE paging: present @ must not set reserved bits (2:1, 8:5, above the physical-address width)")

enum vmx_entry_rule {
#define X(id, kind, section, text) VMX_RULE_##id,
	VMX_ENTRY_RULES(X)
#undef X
	VMX_ENTRY_RULE_COUNT
};

struct vmx_entry_rule_info {
	const char *id;      /* "GUEST_CS_L_DB" */
	enum vmx_entry_kind kind;
	const char *section; /* "27.3.1.2" */
	const char *text;
};

extern const struct vmx_entry_rule_info vmx_entry_rules[VMX_ENTRY_RULE_COUNT];

/*
 * What the checker needs to know besides the VMCS.  vmx_entry_env_init
 * fills it from CPUID and the VMX capability MSRs; tests may change any
 * field afterwards.
 */
struct vmx_entry_env {
	const struct vmx_caps *caps;
	unsigned phys_addr_bits;     /* MAXPHYADDR: CPUID 0x80000008 EAX[7:0] */
	unsigned linear_addr_bits;   /* CPUID 0x80000008 EAX[15:8] (48, or 57) */
	uint64_t perf_global_ctrl_valid; /* IA32_PERF_GLOBAL_CTRL bits CPUID 0xA enumerates */
	uint64_t vmfunc_allowed;     /* IA32_VMX_VMFUNC, 0 when VM functions are absent */
	uint64_t proc3_allowed;      /* IA32_VMX_PROCBASED_CTLS3, 0 when absent */
	uint64_t current_vmcs_pa;    /* the current-VMCS pointer; ~0 when unknown */
	bool host_in_ia32e_mode;     /* IA32_EFER.LMA at VM entry (always, for cvisor) */
	bool in_smm;
	bool has_rtm, has_sgx, has_cet_shadow_stack, has_lam;
	/*
	 * Reads len bytes of host-physical memory (VTPR, the VMCS the link
	 * pointer names, the PDPTEs of a guest without EPT); false when it
	 * cannot, and the rule that needed them is skipped.  NULL: through
	 * plat_phys_to_virt, which suits addresses cvisor allocated itself.
	 */
	bool (*read_phys)(uint64_t pa, void *buf, size_t len);
};

/* phys_addr_bits 0: take MAXPHYADDR from CPUID. */
void vmx_entry_env_init(struct vmx_entry_env *env, const struct vmx_caps *caps,
			unsigned phys_addr_bits);

/* One failed rule; subject names the register or address it failed for
 * ("DS", "PDPTE2", "A") or is NULL. */
struct vmx_entry_failure {
	enum vmx_entry_rule rule;
	const char *subject;
};

#define VMX_ENTRY_REPORT_MAX 48
#define VMX_ENTRY_RULE_PASSED 1u /* outcome bits */
#define VMX_ENTRY_RULE_FAILED 2u

struct vmx_entry_report {
	unsigned failed;   /* every failure, also those past the array */
	unsigned recorded; /* entries used in failures[] */
	struct vmx_entry_failure failures[VMX_ENTRY_REPORT_MAX];
	/* Per rule: evaluated and held / evaluated and failed (at least once;
	 * a rule applied to several registers may do both).  0: its
	 * preconditions did not hold, so it was not evaluated. */
	uint8_t outcome[VMX_ENTRY_RULE_COUNT];
	unsigned failed_by_kind[3]; /* indexed by enum vmx_entry_kind */
};

/*
 * Runs every rule against the current VMCS, logs each failure (two lines)
 * and, when anything failed, one summary line.  report may be NULL.
 * Returns the number of failures.
 */
unsigned vmx_check_vm_entry_env(const struct vmx_entry_env *env,
				struct vmx_entry_report *report);

/* The same with vmx_entry_env_init(caps, phys_addr_bits) (0: from CPUID). */
unsigned vmx_check_vm_entry(const struct vmx_caps *caps, unsigned phys_addr_bits);

#endif
