/*
 * VMX capability MSRs (SDM Vol. 3C Appendix A) and the decisions taken from
 * them: control clamping, CR0/CR4 fixed bits, IA32_FEATURE_CONTROL.
 * The decision functions are pure so the unit tests can feed them any
 * recorded MSR values.
 */
#ifndef CVISOR_VMX_CAPS_H
#define CVISOR_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/controls.h"
#include "vmx/vmx_error.h"

struct vmx_caps {
	uint64_t basic;
	/* Effective control capability MSRs: the TRUE_* variants when
	 * IA32_VMX_BASIC[55] says they exist (SDM Vol. 3C A.2). */
	uint64_t controls[VMX_CONTROL_KINDS];
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1;
	uint64_t cr4_fixed0, cr4_fixed1;
	uint64_t vmcs_enum;
	uint64_t ept_vpid;
};

/* IA32_VMX_BASIC fields (SDM Vol. 3C A.1). */
#define VMX_BASIC_REVISION(basic)    ((uint32_t)(basic) & 0x7FFFFFFFu)
#define VMX_BASIC_REGION_SIZE(basic) ((uint32_t)((basic) >> 32) & 0x1FFFu)
#define VMX_BASIC_MEMORY_TYPE(basic) ((unsigned)((basic) >> 50) & 0xFu)
#define VMX_BASIC_TRUE_CONTROLS      (1ULL << 55)
#define VMX_MEMORY_TYPE_WB           6

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3C A.10). */
#define EPT_CAP_EXECUTE_ONLY    (1ULL << 0)
#define EPT_CAP_WALK_LENGTH_4   (1ULL << 6)
#define EPT_CAP_MEMTYPE_WB      (1ULL << 14)
#define EPT_CAP_PDE_2MB         (1ULL << 16)
#define EPT_CAP_PDPTE_1GB       (1ULL << 17)
#define EPT_CAP_INVEPT          (1ULL << 20)
#define EPT_CAP_ACCESSED_DIRTY  (1ULL << 21)
#define EPT_CAP_INVEPT_SINGLE   (1ULL << 25)
#define EPT_CAP_INVEPT_ALL      (1ULL << 26)
#define VPID_CAP_INVVPID        (1ULL << 32)
#define VPID_CAP_INVVPID_SINGLE (1ULL << 41)
#define VPID_CAP_INVVPID_ALL    (1ULL << 42)

/* Reads every capability MSR this CPU has (only call when VMX exists). */
void vmx_caps_read(struct vmx_caps *caps);

/*
 * Control clamping (SDM Vol. 3C A.3-A.5, 25.6-25.8): bits 31:0 of a
 * capability MSR are the allowed 0-settings (a 1 there means the control
 * must be 1), bits 63:32 the allowed 1-settings (a 0 there means it must
 * be 0).  Returns the control word to use; *missing gets the wanted bits
 * the CPU cannot set (0 when all are available).
 */
uint32_t vmx_clamp_controls(uint64_t cap_msr, uint32_t wanted, uint32_t *missing);

/* True when every bit of control may be 1 in this kind of controls (the
 * allowed 1-settings, bits 63:32 of its capability MSR, SDM Vol. 3C A.3). */
static inline bool vmx_control_allowed(const struct vmx_caps *caps, enum vmx_control_kind kind,
				       uint32_t control)
{
	return ((uint32_t)(caps->controls[kind] >> 32) & control) == control;
}

/*
 * Clamps one kind of controls from caps.  A missing wanted control is the
 * named error of that kind, and one log line names every missing bit.
 */
enum vmx_error vmx_controls_for(const struct vmx_caps *caps,
				enum vmx_control_kind kind, uint32_t wanted,
				uint32_t *result);

/*
 * CR0/CR4 in VMX operation (SDM Vol. 3C 24.8, A.7, A.8): a bit that is 1 in
 * FIXED0 must be 1, a bit that is 0 in FIXED1 must be 0.  Returns the value
 * with those bits forced.
 */
uint64_t vmx_apply_fixed_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1);
/* True when value already obeys the fixed bits. */
bool vmx_fixed_bits_ok(uint64_t value, uint64_t fixed0, uint64_t fixed1);

/* What to do with IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7). */
enum feature_control_action {
	FEATURE_CONTROL_READY,      /* locked, VMXON outside SMX allowed */
	FEATURE_CONTROL_MUST_WRITE, /* unlocked: set lock + VMXON outside SMX */
	FEATURE_CONTROL_LOCKED_OFF, /* locked without VMXON outside SMX */
};
enum feature_control_action feature_control_decide(uint64_t msr_value,
						   uint64_t *value_to_write);

/* Prints the short capability report shown at boot. */
void vmx_caps_print_summary(const struct vmx_caps *caps);

#endif
