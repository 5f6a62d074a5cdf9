/* Model-specific register numbers (SDM Vol. 4, "Model-Specific Registers"). */
#ifndef CVISOR_VMX_MSR_H
#define CVISOR_VMX_MSR_H

#define MSR_IA32_FEATURE_CONTROL     0x03A
#define MSR_IA32_SYSENTER_CS         0x174
#define MSR_IA32_SYSENTER_ESP        0x175
#define MSR_IA32_SYSENTER_EIP        0x176
#define MSR_IA32_DEBUGCTL            0x1D9
#define MSR_IA32_PAT                 0x277
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
#define MSR_IA32_EFER                0xC0000080
#define MSR_IA32_FS_BASE             0xC0000100
#define MSR_IA32_GS_BASE             0xC0000101

/* IA32_FEATURE_CONTROL bits (SDM Vol. 3C 24.7 "Enabling and entering VMX operation"). */
#define FEATURE_CONTROL_LOCK             (1ULL << 0)
#define FEATURE_CONTROL_VMXON_IN_SMX     (1ULL << 1)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ULL << 2)

#endif
