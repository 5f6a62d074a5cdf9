/*
 * x86 architectural definitions, each once: control-register, EFER,
 * RFLAGS and DR7 bits, segment access rights, exception vectors, event
 * (interruption-information) encodings, paging bits and MSR numbers.
 * Every part of the core uses these names; nothing here knows of VMs.
 */
#ifndef CVISOR_X86_H
#define CVISOR_X86_H

#include <stdint.h>

/* CR0 (SDM Vol. 3A 2.5, Figure 2-7). */
#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_EM (1ULL << 2)
#define CR0_TS (1ULL << 3)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_AM (1ULL << 18)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)

/* CR4 (SDM Vol. 3A 2.5, Figure 2-7). */
#define CR4_DE         (1ULL << 3)
#define CR4_PSE        (1ULL << 4)
#define CR4_PAE        (1ULL << 5)
#define CR4_OSFXSR     (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_UMIP       (1ULL << 11)
#define CR4_LA57       (1ULL << 12)
#define CR4_VMXE       (1ULL << 13)
#define CR4_SMXE       (1ULL << 14)
#define CR4_FSGSBASE   (1ULL << 16)
#define CR4_PCIDE      (1ULL << 17)
#define CR4_OSXSAVE    (1ULL << 18)
#define CR4_KL         (1ULL << 19)
#define CR4_SMEP       (1ULL << 20)
#define CR4_SMAP       (1ULL << 21)
#define CR4_PKE        (1ULL << 22)
#define CR4_CET        (1ULL << 23)
#define CR4_PKS        (1ULL << 24)
#define CR4_UINTR      (1ULL << 25)

/* IA32_EFER (SDM Vol. 3A 2.2.1, Table 2-1 and Vol. 4). */
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

/* RFLAGS (SDM Vol. 1 3.4.3, Vol. 3A 2.3). */
#define RFLAGS_CF          (1ULL << 0)
#define RFLAGS_RESERVED_1  (1ULL << 1) /* always 1 */
#define RFLAGS_ZF          (1ULL << 6)
#define RFLAGS_TF          (1ULL << 8)
#define RFLAGS_IF          (1ULL << 9)
#define RFLAGS_DF          (1ULL << 10)
#define RFLAGS_RF          (1ULL << 16)
#define RFLAGS_VM          (1ULL << 17)
#define RFLAGS_AC          (1ULL << 18)
/* Bits 63:22, 15, 5 and 3 are reserved and must be 0 (SDM Vol. 3C 27.3.1.4). */
#define RFLAGS_RESERVED_0  0xFFFFFFFFFFC08028ULL

/* DR7 after power-up or INIT (SDM Vol. 3A Table 10-1). */
#define DR7_INIT 0x400ULL

/* XCR0 state components (SDM Vol. 1 13.1). */
#define XCR0_X87    (1ULL << 0)
#define XCR0_SSE    (1ULL << 1)
#define XCR0_AVX    (1ULL << 2)
#define XCR0_BNDREG (1ULL << 3)
#define XCR0_BNDCSR (1ULL << 4)
#define XCR0_AVX512 (7ULL << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_PKRU   (1ULL << 9)
/* The legacy region (512 bytes) and the XSAVE header (64) that start every
 * XSAVE area (SDM Vol. 1 13.4). */
#define XSAVE_LEGACY_AND_HEADER_BYTES 576u

/* IA32_PAT after power-up (SDM Vol. 3A 12.12.4). */
#define PAT_POWER_ON 0x0007040600070406ULL

/*
 * Segment access rights as the VMCS holds them: descriptor bits 47:40 and
 * 55:52 (SDM Vol. 3C 25.4.1, Table 25-2; Vol. 3A 3.4.5).
 */
#define AR_TYPE_ACCESSED         (1u << 0)
#define AR_TYPE_DATA_RW_ACCESSED 0x3u
#define AR_TYPE_CODE_RX_ACCESSED 0xBu
#define AR_TYPE_TSS16_BUSY       0x3u
#define AR_TYPE_TSS_BUSY         0xBu /* 32-bit TSS, or 64-bit TSS in IA-32e mode */
#define AR_S        (1u << 4)  /* code or data, not a system segment */
#define AR_DPL(ar)  (((ar) >> 5) & 3)
#define AR_P        (1u << 7)
#define AR_L        (1u << 13) /* 64-bit code segment */
#define AR_DB       (1u << 14)
#define AR_G        (1u << 15)
#define AR_UNUSABLE (1u << 16) /* the register holds no usable segment */

/* Exception vectors (SDM Vol. 3A 6.3.1, Table 6-1); FAULT_VECTORS has a bit
 * for each fault-class exception (#DE, #BR, #UD, #NM, #TS, #NP, #SS, #GP,
 * #PF, #MF, #AC, #XM, #VE, #CP; #DB can be either, and is left out). */
#define FAULT_VECTORS 0x3B7CE1u
#define VECTOR_DB  1
#define VECTOR_NMI 2
#define VECTOR_UD  6
#define VECTOR_GP  13
#define VECTOR_PF  14

/*
 * Event encodings shared by the VM-entry interruption-information field,
 * the VM-exit interruption information and the IDT-vectoring information
 * (SDM Vol. 3C 25.8.3 Table 25-17, 25.9.2 Table 25-19, 25.9.3).
 */
#define INTR_INFO_VECTOR(info)      ((info) & 0xFFu)
#define INTR_INFO_TYPE(info)        (((info) >> 8) & 7u)
#define INTR_INFO_TYPE_EXTERNAL     (0u << 8)
#define INTR_INFO_TYPE_NMI          (2u << 8)
#define INTR_INFO_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_TYPE_NMI               2u /* INTR_INFO_TYPE() values */
#define INTR_TYPE_SOFT_INTERRUPT    4u
#define INTR_TYPE_SOFT_EXCEPTION    6u
#define INTR_INFO_DELIVER_ERROR     (1u << 11)
#define INTR_INFO_NMI_UNBLOCKING    (1u << 12) /* exit information only */
#define INTR_INFO_VALID             (1u << 31)

/* Guest interruptibility state (SDM Vol. 3C 25.4.2, Table 25-3). */
#define INTERRUPTIBILITY_STI        (1u << 0)
#define INTERRUPTIBILITY_MOVSS      (1u << 1)
#define INTERRUPTIBILITY_SMI        (1u << 2)
#define INTERRUPTIBILITY_NMI        (1u << 3)
#define INTERRUPTIBILITY_ENCLAVE    (1u << 4)
#define INTERRUPTIBILITY_STI_MOVSS  (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS)

/* Guest pending debug exceptions: BS, a pending single-step trap (SDM Vol.
 * 3C 25.4.2, Table 25-4; as DR6.BS, Vol. 3B 18.2.3). */
#define PENDING_DBG_BS (1ULL << 14)
#define DR6_BS         (1ULL << 14)

/* Guest activity state (SDM Vol. 3C 25.4.2). */
#define ACTIVITY_ACTIVE        0
#define ACTIVITY_WAIT_FOR_SIPI 3

/* Paging-structure entry bits (SDM Vol. 3A 4.3-4.5). */
#define PTE_P  (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR_52 0x000FFFFFFFFFF000ULL

/* Page-fault error code (SDM Vol. 3A 4.7). */
#define PF_PRESENT (1u << 0)
#define PF_WRITE   (1u << 1)
#define PF_USER    (1u << 2)
#define PF_RSVD    (1u << 3)
#define PF_FETCH   (1u << 4)
#define PF_PK      (1u << 5) /* a protection key refused the access */

/* Model-specific registers (SDM Vol. 4, "Model-Specific Registers"). */
#define MSR_IA32_TSC                 0x010
#define MSR_IA32_APIC_BASE           0x01B
#define MSR_IA32_FEATURE_CONTROL     0x03A
#define MSR_IA32_TSC_ADJUST          0x03B
#define MSR_IA32_BIOS_SIGN_ID        0x08B
#define MSR_IA32_MTRRCAP             0x0FE
#define MSR_IA32_SYSENTER_CS         0x174
#define MSR_IA32_SYSENTER_ESP        0x175
#define MSR_IA32_SYSENTER_EIP        0x176
#define MSR_IA32_MCG_CAP             0x179
#define MSR_IA32_MCG_STATUS          0x17A
#define MSR_IA32_MISC_ENABLE         0x1A0
#define MSR_IA32_DEBUGCTL            0x1D9
#define MSR_IA32_MTRR_PHYSBASE0      0x200 /* PHYSMASKn = PHYSBASEn + 1 */
#define MSR_IA32_MTRR_FIX64K_00000   0x250
#define MSR_IA32_MTRR_FIX16K_80000   0x258
#define MSR_IA32_MTRR_FIX16K_A0000   0x259
#define MSR_IA32_MTRR_FIX4K_C0000    0x268 /* .. 0x26F for C0000..F8000 */
#define MSR_IA32_MTRR_FIX4K_F8000    0x26F
#define MSR_IA32_PAT                 0x277
#define MSR_IA32_MTRR_DEF_TYPE       0x2FF
#define MSR_IA32_MC0_CTL             0x400
#define MSR_IA32_VMX_BASIC           0x480
#define MSR_IA32_VMX_PINBASED_CTLS   0x481
#define MSR_IA32_VMX_PROCBASED_CTLS  0x482
#define MSR_IA32_VMX_EXIT_CTLS       0x483
#define MSR_IA32_VMX_ENTRY_CTLS      0x484
#define MSR_IA32_VMX_MISC            0x485
#define MSR_IA32_VMX_CR0_FIXED0      0x486
#define MSR_IA32_VMX_CR0_FIXED1      0x487
#define MSR_IA32_VMX_CR4_FIXED0      0x488
#define MSR_IA32_VMX_CR4_FIXED1      0x489
#define MSR_IA32_VMX_VMCS_ENUM       0x48A
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP    0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490
#define MSR_IA32_VMX_VMFUNC          0x491
#define MSR_IA32_VMX_PROCBASED_CTLS3 0x492
#define MSR_IA32_TSC_DEADLINE        0x6E0
#define MSR_X2APIC_FIRST             0x800
#define MSR_X2APIC_LAST              0x8FF
#define MSR_IA32_EFER                0xC0000080
#define MSR_IA32_STAR                0xC0000081
#define MSR_IA32_LSTAR               0xC0000082
#define MSR_IA32_CSTAR               0xC0000083
#define MSR_IA32_FMASK               0xC0000084
#define MSR_IA32_FS_BASE             0xC0000100
#define MSR_IA32_GS_BASE             0xC0000101
#define MSR_IA32_KERNEL_GS_BASE      0xC0000102
#define MSR_IA32_TSC_AUX             0xC0000103

/* CPUID feature bits (SDM Vol. 2A, CPUID, Tables 3-10 and 3-11). */
#define CPUID1_ECX_DTES64       (1u << 2)
#define CPUID1_ECX_MONITOR      (1u << 3)
#define CPUID1_ECX_VMX          (1u << 5)
#define CPUID1_ECX_PDCM         (1u << 15)
#define CPUID1_ECX_X2APIC       (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_OSXSAVE      (1u << 27)
#define CPUID1_ECX_HYPERVISOR   (1u << 31) /* reserved for hypervisors to set */
#define CPUID1_EDX_MTRR         (1u << 12)
#define CPUID1_EDX_DS           (1u << 21)
#define CPUID1_EDX_HTT          (1u << 28)
/* CPUID leaves 0BH/1FH ECX[15:8], the level type (SDM Vol. 2A CPUID). */
#define CPUID_TOPOLOGY_LEVEL_SMT  1u
#define CPUID_TOPOLOGY_LEVEL_CORE 2u
#define CPUID6_EAX_ARAT           (1u << 2) /* APIC timer always running */
#define CPUID7_EBX_TSC_ADJUST     (1u << 1)
#define CPUID7_EBX_ERMS           (1u << 9) /* enhanced REP MOVSB/STOSB */
#define CPUID7_EDX_FSRM           (1u << 4) /* fast short REP MOV */
#define CPUID7_ECX_PKU          (1u << 3)  /* protection keys for user pages */
#define CPUID7_ECX_OSPKE        (1u << 4)  /* CR4.PKE is set */
#define CPUIDD1_EAX_XSAVEC        (1u << 1) /* leaf 0xD subleaf 1: compacted format */
#define CPUIDD_ECX_ALIGNED_64     (1u << 1) /* leaf 0xD subleaf i: 64-byte aligned when compacted */
#define CPUID80000001_EDX_SYSCALL (1u << 11)
#define CPUID80000001_EDX_NX      (1u << 20)
#define CPUID80000001_EDX_LM      (1u << 29)

/* IA32_FEATURE_CONTROL bits (SDM Vol. 3C 24.7 "Enabling and entering VMX operation"). */
#define FEATURE_CONTROL_LOCK              (1ULL << 0)
#define FEATURE_CONTROL_VMXON_IN_SMX      (1ULL << 1)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ULL << 2)

/* IA32_MISC_ENABLE bits (SDM Vol. 4, Table 2-2). */
#define MISC_ENABLE_FAST_STRINGS     (1ULL << 0)  /* R/W */
#define MISC_ENABLE_AUTO_THERMAL     (1ULL << 3)  /* R/W */
#define MISC_ENABLE_PERFMON          (1ULL << 7)  /* RO: performance monitoring available */
#define MISC_ENABLE_BTS_UNAVAILABLE  (1ULL << 11) /* RO */
#define MISC_ENABLE_PEBS_UNAVAILABLE (1ULL << 12) /* RO */
#define MISC_ENABLE_EIST             (1ULL << 16) /* R/W */
#define MISC_ENABLE_MONITOR_FSM      (1ULL << 18) /* R/W */
#define MISC_ENABLE_LIMIT_CPUID      (1ULL << 22) /* R/W: CPUID.0:EAX reports at most 2 */
#define MISC_ENABLE_XTPR_DISABLE     (1ULL << 23) /* R/W */
#define MISC_ENABLE_XD_DISABLE       (1ULL << 34) /* R/W: CPUID hides NX, EFER.NXE is #GP */

/* IA32_DEBUGCTL bits (SDM Vol. 3B 18.4.1). */
#define DEBUGCTL_BTF (1ULL << 1)

/* IA32_APIC_BASE bits (SDM Vol. 3A 11.4.4). */
#define APIC_BASE_BSP    (1ULL << 8)
#define APIC_BASE_ENABLE (1ULL << 11)

/* Operand sizes: all ones in the low `bytes` bytes (1, 2, 4 or 8). */
static inline uint64_t operand_mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

#endif
