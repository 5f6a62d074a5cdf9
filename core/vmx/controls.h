/*
 * VMX control bits, each declared once with its SDM name.  The names are
 * used when a wanted control is missing on this CPU.
 */
#ifndef CVISOR_VMX_CONTROLS_H
#define CVISOR_VMX_CONTROLS_H

#include <stdint.h>

/* Pin-based VM-execution controls (SDM Vol. 3C 25.6.1, Table 25-5). */
#define PIN_CONTROLS(X)                                  \
	X(0, PIN_EXTERNAL_INTERRUPT_EXITING, "external-interrupt exiting") \
	X(3, PIN_NMI_EXITING, "NMI exiting")                 \
	X(5, PIN_VIRTUAL_NMIS, "virtual NMIs")               \
	X(6, PIN_PREEMPTION_TIMER, "activate VMX-preemption timer") \
	X(7, PIN_POSTED_INTERRUPTS, "process posted interrupts")

/* Primary processor-based VM-execution controls (SDM Vol. 3C 25.6.2, Table 25-6). */
#define PROC_CONTROLS(X)                                 \
	X(2, PROC_INTERRUPT_WINDOW_EXITING, "interrupt-window exiting") \
	X(3, PROC_USE_TSC_OFFSETTING, "use TSC offsetting")  \
	X(7, PROC_HLT_EXITING, "HLT exiting")                \
	X(9, PROC_INVLPG_EXITING, "INVLPG exiting")          \
	X(10, PROC_MWAIT_EXITING, "MWAIT exiting")           \
	X(11, PROC_RDPMC_EXITING, "RDPMC exiting")           \
	X(12, PROC_RDTSC_EXITING, "RDTSC exiting")           \
	X(15, PROC_CR3_LOAD_EXITING, "CR3-load exiting")     \
	X(16, PROC_CR3_STORE_EXITING, "CR3-store exiting")   \
	X(17, PROC_TERTIARY_CONTROLS, "activate tertiary controls") \
	X(19, PROC_CR8_LOAD_EXITING, "CR8-load exiting")     \
	X(20, PROC_CR8_STORE_EXITING, "CR8-store exiting")   \
	X(21, PROC_USE_TPR_SHADOW, "use TPR shadow")         \
	X(22, PROC_NMI_WINDOW_EXITING, "NMI-window exiting") \
	X(23, PROC_MOV_DR_EXITING, "MOV-DR exiting")         \
	X(24, PROC_UNCONDITIONAL_IO_EXITING, "unconditional I/O exiting") \
	X(25, PROC_USE_IO_BITMAPS, "use I/O bitmaps")        \
	X(27, PROC_MONITOR_TRAP_FLAG, "monitor trap flag")   \
	X(28, PROC_USE_MSR_BITMAPS, "use MSR bitmaps")       \
	X(29, PROC_MONITOR_EXITING, "MONITOR exiting")       \
	X(30, PROC_PAUSE_EXITING, "PAUSE exiting")           \
	X(31, PROC_SECONDARY_CONTROLS, "activate secondary controls")

/* Secondary processor-based VM-execution controls (SDM Vol. 3C 25.6.2, Table 25-7). */
#define PROC2_CONTROLS(X)                                \
	X(0, PROC2_VIRTUALIZE_APIC_ACCESSES, "virtualize APIC accesses") \
	X(1, PROC2_ENABLE_EPT, "enable EPT")                 \
	X(2, PROC2_DESCRIPTOR_TABLE_EXITING, "descriptor-table exiting") \
	X(3, PROC2_ENABLE_RDTSCP, "enable RDTSCP")           \
	X(4, PROC2_VIRTUALIZE_X2APIC, "virtualize x2APIC mode") \
	X(5, PROC2_ENABLE_VPID, "enable VPID")               \
	X(6, PROC2_WBINVD_EXITING, "WBINVD exiting")         \
	X(7, PROC2_UNRESTRICTED_GUEST, "unrestricted guest") \
	X(8, PROC2_APIC_REGISTER_VIRT, "APIC-register virtualization") \
	X(9, PROC2_VIRTUAL_INTR_DELIVERY, "virtual-interrupt delivery") \
	X(10, PROC2_PAUSE_LOOP_EXITING, "PAUSE-loop exiting") \
	X(11, PROC2_RDRAND_EXITING, "RDRAND exiting")        \
	X(12, PROC2_ENABLE_INVPCID, "enable INVPCID")        \
	X(13, PROC2_ENABLE_VMFUNC, "enable VM functions")    \
	X(14, PROC2_VMCS_SHADOWING, "VMCS shadowing")        \
	X(15, PROC2_ENCLS_EXITING, "enable ENCLS exiting")   \
	X(16, PROC2_RDSEED_EXITING, "RDSEED exiting")        \
	X(17, PROC2_ENABLE_PML, "enable PML")                \
	X(18, PROC2_EPT_VE, "EPT-violation #VE")             \
	X(19, PROC2_CONCEAL_VMX_FROM_PT, "conceal VMX from PT") \
	X(20, PROC2_ENABLE_XSAVES, "enable XSAVES/XRSTORS")  \
	X(22, PROC2_MODE_BASED_EPT_EXEC, "mode-based execute control for EPT") \
	X(23, PROC2_EPT_SUBPAGE_WRITE, "sub-page write permissions for EPT") \
	X(24, PROC2_PT_USES_GPA, "Intel PT uses guest physical addresses") \
	X(25, PROC2_TSC_SCALING, "use TSC scaling")          \
	X(26, PROC2_USER_WAIT_PAUSE, "enable user wait and pause") \
	X(28, PROC2_ENCLV_EXITING, "enable ENCLV exiting")

/* Primary VM-exit controls (SDM Vol. 3C 25.7.1, Table 25-13). */
#define EXIT_CONTROLS(X)                                 \
	X(2, EXIT_SAVE_DEBUG_CONTROLS, "save debug controls") \
	X(9, EXIT_HOST_ADDR_SPACE_SIZE, "host address-space size") \
	X(12, EXIT_LOAD_PERF_GLOBAL_CTRL, "load IA32_PERF_GLOBAL_CTRL") \
	X(15, EXIT_ACK_INTERRUPT_ON_EXIT, "acknowledge interrupt on exit") \
	X(18, EXIT_SAVE_IA32_PAT, "save IA32_PAT")           \
	X(19, EXIT_LOAD_IA32_PAT, "load IA32_PAT")           \
	X(20, EXIT_SAVE_IA32_EFER, "save IA32_EFER")         \
	X(21, EXIT_LOAD_IA32_EFER, "load IA32_EFER")         \
	X(22, EXIT_SAVE_PREEMPTION_TIMER, "save VMX-preemption timer value") \
	X(23, EXIT_CLEAR_BNDCFGS, "clear IA32_BNDCFGS")      \
	X(24, EXIT_CONCEAL_VMX_FROM_PT, "conceal VMX from PT") \
	X(25, EXIT_CLEAR_RTIT_CTL, "clear IA32_RTIT_CTL")    \
	X(28, EXIT_LOAD_CET_STATE, "load CET state")         \
	X(29, EXIT_LOAD_PKRS, "load PKRS")

/* VM-entry controls (SDM Vol. 3C 25.8.1, Table 25-15). */
#define ENTRY_CONTROLS(X)                                \
	X(2, ENTRY_LOAD_DEBUG_CONTROLS, "load debug controls") \
	X(9, ENTRY_IA32E_MODE_GUEST, "IA-32e mode guest")    \
	X(10, ENTRY_TO_SMM, "entry to SMM")                  \
	X(11, ENTRY_DEACTIVATE_DUAL_MONITOR, "deactivate dual-monitor treatment") \
	X(13, ENTRY_LOAD_PERF_GLOBAL_CTRL, "load IA32_PERF_GLOBAL_CTRL") \
	X(14, ENTRY_LOAD_IA32_PAT, "load IA32_PAT")          \
	X(15, ENTRY_LOAD_IA32_EFER, "load IA32_EFER")        \
	X(16, ENTRY_LOAD_BNDCFGS, "load IA32_BNDCFGS")       \
	X(17, ENTRY_CONCEAL_VMX_FROM_PT, "conceal VMX from PT") \
	X(18, ENTRY_LOAD_RTIT_CTL, "load IA32_RTIT_CTL")     \
	X(20, ENTRY_LOAD_CET_STATE, "load CET state")        \
	X(22, ENTRY_LOAD_PKRS, "load PKRS")

#define X(bit, name, text) name = 1u << (bit),
enum pin_control { PIN_CONTROLS(X) };
enum proc_control { PROC_CONTROLS(X) };
enum proc2_control { PROC2_CONTROLS(X) };
enum exit_control { EXIT_CONTROLS(X) };
enum entry_control { ENTRY_CONTROLS(X) };
#undef X

/* The five kinds of control words, each clamped by its own capability MSR. */
enum vmx_control_kind {
	VMX_CONTROLS_PIN,
	VMX_CONTROLS_PROC,
	VMX_CONTROLS_PROC2,
	VMX_CONTROLS_EXIT,
	VMX_CONTROLS_ENTRY,
	VMX_CONTROL_KINDS
};

/*
 * The controls every cvisor vCPU runs with, per kind: vcpu.c clamps exactly
 * these (plus the optional "save VMX-preemption timer value"), and
 * cvisor-check's verdict (caps_report.c) tests the same table.
 */
extern const uint32_t vmx_required_controls[VMX_CONTROL_KINDS];

/* "pin-based VM-execution", ... */
const char *vmx_control_kind_name(enum vmx_control_kind kind);
/* SDM name of one control bit, or NULL if cvisor does not know the bit. */
const char *vmx_control_bit_name(enum vmx_control_kind kind, unsigned bit);

#endif
