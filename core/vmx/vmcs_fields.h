/*
 * Every VMCS field cvisor knows, declared once (SDM Vol. 3C Appendix B,
 * "Field Encoding in VMCS").  X(name, encoding, width, access):
 *   width  16, 32, 64 or NAT (natural width: 64 bits on x86-64)
 *   access RW (writable) or RO (the read-only VM-exit information fields)
 * vmcs.h expands this into typed field handles (so a wrong-width or
 * read-only write does not compile), compile-time checks of each encoding
 * against its declared width and access, and the named dump table.
 */
#ifndef CVISOR_VMX_VMCS_FIELDS_H
#define CVISOR_VMX_VMCS_FIELDS_H

#define VMCS_FIELDS(X)                                                         \
	/* 16-bit control fields (B.1.1) */                                    \
	X(VIRTUAL_PROCESSOR_ID,            0x0000, 16, RW)                     \
	X(POSTED_INTR_NOTIFICATION_VECTOR, 0x0002, 16, RW)                     \
	X(EPTP_INDEX,                      0x0004, 16, RW)                     \
	/* 16-bit guest-state fields (B.1.2) */                                \
	X(GUEST_ES_SELECTOR,               0x0800, 16, RW)                     \
	X(GUEST_CS_SELECTOR,               0x0802, 16, RW)                     \
	X(GUEST_SS_SELECTOR,               0x0804, 16, RW)                     \
	X(GUEST_DS_SELECTOR,               0x0806, 16, RW)                     \
	X(GUEST_FS_SELECTOR,               0x0808, 16, RW)                     \
	X(GUEST_GS_SELECTOR,               0x080A, 16, RW)                     \
	X(GUEST_LDTR_SELECTOR,             0x080C, 16, RW)                     \
	X(GUEST_TR_SELECTOR,               0x080E, 16, RW)                     \
	X(GUEST_INTR_STATUS,               0x0810, 16, RW)                     \
	X(GUEST_PML_INDEX,                 0x0812, 16, RW)                     \
	/* 16-bit host-state fields (B.1.3) */                                 \
	X(HOST_ES_SELECTOR,                0x0C00, 16, RW)                     \
	X(HOST_CS_SELECTOR,                0x0C02, 16, RW)                     \
	X(HOST_SS_SELECTOR,                0x0C04, 16, RW)                     \
	X(HOST_DS_SELECTOR,                0x0C06, 16, RW)                     \
	X(HOST_FS_SELECTOR,                0x0C08, 16, RW)                     \
	X(HOST_GS_SELECTOR,                0x0C0A, 16, RW)                     \
	X(HOST_TR_SELECTOR,                0x0C0C, 16, RW)                     \
	/* 64-bit control fields (B.2.1) */                                    \
	X(IO_BITMAP_A,                     0x2000, 64, RW)                     \
	X(IO_BITMAP_B,                     0x2002, 64, RW)                     \
	X(MSR_BITMAP,                      0x2004, 64, RW)                     \
	X(VM_EXIT_MSR_STORE_ADDR,          0x2006, 64, RW)                     \
	X(VM_EXIT_MSR_LOAD_ADDR,           0x2008, 64, RW)                     \
	X(VM_ENTRY_MSR_LOAD_ADDR,          0x200A, 64, RW)                     \
	X(EXECUTIVE_VMCS_POINTER,          0x200C, 64, RW)                     \
	X(PML_ADDRESS,                     0x200E, 64, RW)                     \
	X(TSC_OFFSET,                      0x2010, 64, RW)                     \
	X(VIRTUAL_APIC_PAGE_ADDR,          0x2012, 64, RW)                     \
	X(APIC_ACCESS_ADDR,                0x2014, 64, RW)                     \
	X(POSTED_INTR_DESC_ADDR,           0x2016, 64, RW)                     \
	X(VM_FUNCTION_CONTROLS,            0x2018, 64, RW)                     \
	X(EPT_POINTER,                     0x201A, 64, RW)                     \
	X(EOI_EXIT_BITMAP0,                0x201C, 64, RW)                     \
	X(EOI_EXIT_BITMAP1,                0x201E, 64, RW)                     \
	X(EOI_EXIT_BITMAP2,                0x2020, 64, RW)                     \
	X(EOI_EXIT_BITMAP3,                0x2022, 64, RW)                     \
	X(EPTP_LIST_ADDR,                  0x2024, 64, RW)                     \
	X(VMREAD_BITMAP,                   0x2026, 64, RW)                     \
	X(VMWRITE_BITMAP,                  0x2028, 64, RW)                     \
	X(VE_INFO_ADDR,                    0x202A, 64, RW)                     \
	X(XSS_EXIT_BITMAP,                 0x202C, 64, RW)                     \
	X(ENCLS_EXITING_BITMAP,            0x202E, 64, RW)                     \
	X(SPP_TABLE_POINTER,               0x2030, 64, RW)                     \
	X(TSC_MULTIPLIER,                  0x2032, 64, RW)                     \
	X(TERTIARY_VM_EXEC_CONTROL,        0x2034, 64, RW)                     \
	/* 64-bit read-only data field (B.2.2) */                              \
	X(GUEST_PHYSICAL_ADDRESS,          0x2400, 64, RO)                     \
	/* 64-bit guest-state fields (B.2.3) */                                \
	X(VMCS_LINK_POINTER,               0x2800, 64, RW)                     \
	X(GUEST_IA32_DEBUGCTL,             0x2802, 64, RW)                     \
	X(GUEST_IA32_PAT,                  0x2804, 64, RW)                     \
	X(GUEST_IA32_EFER,                 0x2806, 64, RW)                     \
	X(GUEST_IA32_PERF_GLOBAL_CTRL,     0x2808, 64, RW)                     \
	X(GUEST_PDPTE0,                    0x280A, 64, RW)                     \
	X(GUEST_PDPTE1,                    0x280C, 64, RW)                     \
	X(GUEST_PDPTE2,                    0x280E, 64, RW)                     \
	X(GUEST_PDPTE3,                    0x2810, 64, RW)                     \
	X(GUEST_IA32_BNDCFGS,              0x2812, 64, RW)                     \
	X(GUEST_IA32_RTIT_CTL,             0x2814, 64, RW)                     \
	X(GUEST_IA32_PKRS,                 0x2818, 64, RW)                     \
	/* 64-bit host-state fields (B.2.4) */                                 \
	X(HOST_IA32_PAT,                   0x2C00, 64, RW)                     \
	X(HOST_IA32_EFER,                  0x2C02, 64, RW)                     \
	X(HOST_IA32_PERF_GLOBAL_CTRL,      0x2C04, 64, RW)                     \
	X(HOST_IA32_PKRS,                  0x2C06, 64, RW)                     \
	/* 32-bit control fields (B.3.1) */                                    \
	X(PIN_BASED_VM_EXEC_CONTROL,       0x4000, 32, RW)                     \
	X(CPU_BASED_VM_EXEC_CONTROL,       0x4002, 32, RW)                     \
	X(EXCEPTION_BITMAP,                0x4004, 32, RW)                     \
	X(PAGE_FAULT_ERROR_CODE_MASK,      0x4006, 32, RW)                     \
	X(PAGE_FAULT_ERROR_CODE_MATCH,     0x4008, 32, RW)                     \
	X(CR3_TARGET_COUNT,                0x400A, 32, RW)                     \
	X(VM_EXIT_CONTROLS,                0x400C, 32, RW)                     \
	X(VM_EXIT_MSR_STORE_COUNT,         0x400E, 32, RW)                     \
	X(VM_EXIT_MSR_LOAD_COUNT,          0x4010, 32, RW)                     \
	X(VM_ENTRY_CONTROLS,               0x4012, 32, RW)                     \
	X(VM_ENTRY_MSR_LOAD_COUNT,         0x4014, 32, RW)                     \
	X(VM_ENTRY_INTR_INFO,              0x4016, 32, RW)                     \
	X(VM_ENTRY_EXCEPTION_ERROR_CODE,   0x4018, 32, RW)                     \
	X(VM_ENTRY_INSTRUCTION_LEN,        0x401A, 32, RW)                     \
	X(TPR_THRESHOLD,                   0x401C, 32, RW)                     \
	X(SECONDARY_VM_EXEC_CONTROL,       0x401E, 32, RW)                     \
	X(PLE_GAP,                         0x4020, 32, RW)                     \
	X(PLE_WINDOW,                      0x4022, 32, RW)                     \
	/* 32-bit read-only data fields (B.3.2) */                             \
	X(VM_INSTRUCTION_ERROR,            0x4400, 32, RO)                     \
	X(VM_EXIT_REASON,                  0x4402, 32, RO)                     \
	X(VM_EXIT_INTR_INFO,               0x4404, 32, RO)                     \
	X(VM_EXIT_INTR_ERROR_CODE,         0x4406, 32, RO)                     \
	X(IDT_VECTORING_INFO,              0x4408, 32, RO)                     \
	X(IDT_VECTORING_ERROR_CODE,        0x440A, 32, RO)                     \
	X(VM_EXIT_INSTRUCTION_LEN,         0x440C, 32, RO)                     \
	X(VM_EXIT_INSTRUCTION_INFO,        0x440E, 32, RO)                     \
	/* 32-bit guest-state fields (B.3.3) */                                \
	X(GUEST_ES_LIMIT,                  0x4800, 32, RW)                     \
	X(GUEST_CS_LIMIT,                  0x4802, 32, RW)                     \
	X(GUEST_SS_LIMIT,                  0x4804, 32, RW)                     \
	X(GUEST_DS_LIMIT,                  0x4806, 32, RW)                     \
	X(GUEST_FS_LIMIT,                  0x4808, 32, RW)                     \
	X(GUEST_GS_LIMIT,                  0x480A, 32, RW)                     \
	X(GUEST_LDTR_LIMIT,                0x480C, 32, RW)                     \
	X(GUEST_TR_LIMIT,                  0x480E, 32, RW)                     \
	X(GUEST_GDTR_LIMIT,                0x4810, 32, RW)                     \
	X(GUEST_IDTR_LIMIT,                0x4812, 32, RW)                     \
	X(GUEST_ES_AR_BYTES,               0x4814, 32, RW)                     \
	X(GUEST_CS_AR_BYTES,               0x4816, 32, RW)                     \
	X(GUEST_SS_AR_BYTES,               0x4818, 32, RW)                     \
	X(GUEST_DS_AR_BYTES,               0x481A, 32, RW)                     \
	X(GUEST_FS_AR_BYTES,               0x481C, 32, RW)                     \
	X(GUEST_GS_AR_BYTES,               0x481E, 32, RW)                     \
	X(GUEST_LDTR_AR_BYTES,             0x4820, 32, RW)                     \
	X(GUEST_TR_AR_BYTES,               0x4822, 32, RW)                     \
	X(GUEST_INTERRUPTIBILITY_INFO,     0x4824, 32, RW)                     \
	X(GUEST_ACTIVITY_STATE,            0x4826, 32, RW)                     \
	X(GUEST_SMBASE,                    0x4828, 32, RW)                     \
	X(GUEST_SYSENTER_CS,               0x482A, 32, RW)                     \
	X(VMX_PREEMPTION_TIMER_VALUE,      0x482E, 32, RW)                     \
	/* 32-bit host-state field (B.3.4) */                                  \
	X(HOST_IA32_SYSENTER_CS,           0x4C00, 32, RW)                     \
	/* natural-width control fields (B.4.1) */                             \
	X(CR0_GUEST_HOST_MASK,             0x6000, NAT, RW)                    \
	X(CR4_GUEST_HOST_MASK,             0x6002, NAT, RW)                    \
	X(CR0_READ_SHADOW,                 0x6004, NAT, RW)                    \
	X(CR4_READ_SHADOW,                 0x6006, NAT, RW)                    \
	X(CR3_TARGET_VALUE0,               0x6008, NAT, RW)                    \
	X(CR3_TARGET_VALUE1,               0x600A, NAT, RW)                    \
	X(CR3_TARGET_VALUE2,               0x600C, NAT, RW)                    \
	X(CR3_TARGET_VALUE3,               0x600E, NAT, RW)                    \
	/* natural-width read-only data fields (B.4.2) */                      \
	X(EXIT_QUALIFICATION,              0x6400, NAT, RO)                    \
	X(IO_RCX,                          0x6402, NAT, RO)                    \
	X(IO_RSI,                          0x6404, NAT, RO)                    \
	X(IO_RDI,                          0x6406, NAT, RO)                    \
	X(IO_RIP,                          0x6408, NAT, RO)                    \
	X(GUEST_LINEAR_ADDRESS,            0x640A, NAT, RO)                    \
	/* natural-width guest-state fields (B.4.3) */                         \
	X(GUEST_CR0,                       0x6800, NAT, RW)                    \
	X(GUEST_CR3,                       0x6802, NAT, RW)                    \
	X(GUEST_CR4,                       0x6804, NAT, RW)                    \
	X(GUEST_ES_BASE,                   0x6806, NAT, RW)                    \
	X(GUEST_CS_BASE,                   0x6808, NAT, RW)                    \
	X(GUEST_SS_BASE,                   0x680A, NAT, RW)                    \
	X(GUEST_DS_BASE,                   0x680C, NAT, RW)                    \
	X(GUEST_FS_BASE,                   0x680E, NAT, RW)                    \
	X(GUEST_GS_BASE,                   0x6810, NAT, RW)                    \
	X(GUEST_LDTR_BASE,                 0x6812, NAT, RW)                    \
	X(GUEST_TR_BASE,                   0x6814, NAT, RW)                    \
	X(GUEST_GDTR_BASE,                 0x6816, NAT, RW)                    \
	X(GUEST_IDTR_BASE,                 0x6818, NAT, RW)                    \
	X(GUEST_DR7,                       0x681A, NAT, RW)                    \
	X(GUEST_RSP,                       0x681C, NAT, RW)                    \
	X(GUEST_RIP,                       0x681E, NAT, RW)                    \
	X(GUEST_RFLAGS,                    0x6820, NAT, RW)                    \
	X(GUEST_PENDING_DBG_EXCEPTIONS,    0x6822, NAT, RW)                    \
	X(GUEST_SYSENTER_ESP,              0x6824, NAT, RW)                    \
	X(GUEST_SYSENTER_EIP,              0x6826, NAT, RW)                    \
	X(GUEST_S_CET,                     0x6828, NAT, RW)                    \
	X(GUEST_SSP,                       0x682A, NAT, RW)                    \
	X(GUEST_INTR_SSP_TABLE_ADDR,       0x682C, NAT, RW)                    \
	/* natural-width host-state fields (B.4.4) */                          \
	X(HOST_CR0,                        0x6C00, NAT, RW)                    \
	X(HOST_CR3,                        0x6C02, NAT, RW)                    \
	X(HOST_CR4,                        0x6C04, NAT, RW)                    \
	X(HOST_FS_BASE,                    0x6C06, NAT, RW)                    \
	X(HOST_GS_BASE,                    0x6C08, NAT, RW)                    \
	X(HOST_TR_BASE,                    0x6C0A, NAT, RW)                    \
	X(HOST_GDTR_BASE,                  0x6C0C, NAT, RW)                    \
	X(HOST_IDTR_BASE,                  0x6C0E, NAT, RW)                    \
	X(HOST_IA32_SYSENTER_ESP,          0x6C10, NAT, RW)                    \
	X(HOST_IA32_SYSENTER_EIP,          0x6C12, NAT, RW)                    \
	X(HOST_RSP,                        0x6C14, NAT, RW)                    \
	X(HOST_RIP,                        0x6C16, NAT, RW)                    \
	X(HOST_S_CET,                      0x6C18, NAT, RW)                    \
	X(HOST_SSP,                        0x6C1A, NAT, RW)                    \
	X(HOST_INTR_SSP_TABLE_ADDR,        0x6C1C, NAT, RW)

#endif
