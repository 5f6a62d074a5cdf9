/*
 * Every way bringing up VMX or a VMCS can fail, as one enum with one
 * sentence each.  The sentence is what the user reads: say what is wrong
 * and where it was found.
 */
#ifndef CVISOR_VMX_ERROR_H
#define CVISOR_VMX_ERROR_H

#define VMX_ERRORS(X)                                                                          \
	X(VMX_OK, "no error")                                                                  \
	X(VMX_ERR_NOT_INTEL,                                                                   \
	  "this CPU is not an Intel CPU (the CPUID vendor is not GenuineIntel); cvisor needs Intel VT-x") \
	X(VMX_ERR_NO_VMX,                                                                      \
	  "this CPU does not support VMX (CPUID.1:ECX.VMX[bit 5] is clear); cvisor needs Intel VT-x") \
	X(VMX_ERR_FEATURE_CONTROL_LOCKED_OFF,                                                  \
	  "VMX is disabled by firmware (IA32_FEATURE_CONTROL is locked with VMXON outside SMX clear)") \
	X(VMX_ERR_FEATURE_CONTROL_WRITE,                                                       \
	  "enabling VMX in IA32_FEATURE_CONTROL did not take effect")                          \
	X(VMX_ERR_ALREADY_ON,                                                                  \
	  "VMX is already in use on this CPU (CR4.VMXE is set: another hypervisor owns it)")   \
	X(VMX_ERR_BASIC_REGION_SIZE,                                                           \
	  "IA32_VMX_BASIC reports a VMXON/VMCS region larger than 4 KiB")                      \
	X(VMX_ERR_BASIC_MEMORY_TYPE,                                                           \
	  "IA32_VMX_BASIC reports a VMCS memory type other than write-back")                   \
	X(VMX_ERR_CR0_FIXED,                                                                   \
	  "CR0 cannot be given the values IA32_VMX_CR0_FIXED0/FIXED1 require for VMX operation") \
	X(VMX_ERR_CR4_FIXED,                                                                   \
	  "CR4 cannot be given the values IA32_VMX_CR4_FIXED0/FIXED1 require for VMX operation") \
	X(VMX_ERR_NO_MEMORY, "out of memory for VMX structures")                               \
	X(VMX_ERR_VMXON_FAILED, "VMXON failed")                                                \
	X(VMX_ERR_VMXOFF_FAILED, "VMXOFF failed")                                              \
	X(VMX_ERR_VMCLEAR_FAILED, "VMCLEAR failed")                                            \
	X(VMX_ERR_VMPTRLD_FAILED, "VMPTRLD failed")                                            \
	X(VMX_ERR_VMWRITE_FAILED, "a VMWRITE failed while the VMCS was set up")                \
	X(VMX_ERR_PIN_CONTROLS,                                                                \
	  "the CPU lacks a pin-based VM-execution control cvisor needs")                       \
	X(VMX_ERR_PROC_CONTROLS,                                                               \
	  "the CPU lacks a primary processor-based VM-execution control cvisor needs")         \
	X(VMX_ERR_PROC2_CONTROLS,                                                              \
	  "the CPU lacks a secondary processor-based VM-execution control cvisor needs (EPT, VPID or unrestricted guest)") \
	X(VMX_ERR_EXIT_CONTROLS, "the CPU lacks a VM-exit control cvisor needs")               \
	X(VMX_ERR_ENTRY_CONTROLS, "the CPU lacks a VM-entry control cvisor needs")             \
	X(VMX_ERR_EPT_CAPS,                                                                    \
	  "the CPU's EPT lacks a 4-level page walk, write-back paging structures or INVEPT")   \
	X(VMX_ERR_VPID_CAPS, "the CPU lacks INVVPID for the VPIDs cvisor uses")               \
	X(VMX_ERR_VMLAUNCH_FAILED,                                                             \
	  "VMLAUNCH of the running OS's state failed (the broken rules are listed above)")     \
	X(VMX_ERR_UNDER_CVISOR, "this CPU already runs under cvisor")

enum vmx_error {
#define X(name, text) name,
	VMX_ERRORS(X)
#undef X
	VMX_ERROR_COUNT
};

/* The one sentence for an error. */
const char *vmx_error_message(enum vmx_error err);
/* The enum's own name, e.g. "VMX_ERR_NO_VMX" (for logs and tests). */
const char *vmx_error_name(enum vmx_error err);

#endif
