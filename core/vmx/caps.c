#include "vmx/caps.h"

#include "lib/format.h"
#include "lib/log.h"
#include "vmx/caps_report.h"
#include "vmx/intrin.h"
#include "x86.h"

void vmx_caps_read(struct vmx_caps *caps)
{
	caps->basic = rdmsr(MSR_IA32_VMX_BASIC);
	/* SDM Vol. 3C A.2: with IA32_VMX_BASIC[55] set, the TRUE_* MSRs report
	 * which default-1 controls may actually be 0; use them. */
	bool true_ctls = caps->basic & VMX_BASIC_TRUE_CONTROLS;
	caps->controls[VMX_CONTROLS_PIN] = rdmsr(
		true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	caps->controls[VMX_CONTROLS_PROC] = rdmsr(
		true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	caps->controls[VMX_CONTROLS_EXIT] = rdmsr(
		true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	caps->controls[VMX_CONTROLS_ENTRY] = rdmsr(
		true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	/* SDM Vol. 3C A.3.3: IA32_VMX_PROCBASED_CTLS2 exists only if the
	 * "activate secondary controls" control may be 1. */
	bool has_proc2 = vmx_control_allowed(caps, VMX_CONTROLS_PROC, PROC_SECONDARY_CONTROLS);
	caps->controls[VMX_CONTROLS_PROC2] =
		has_proc2 ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
	caps->misc = rdmsr(MSR_IA32_VMX_MISC);
	caps->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	caps->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
	/* SDM Vol. 3C A.10: IA32_VMX_EPT_VPID_CAP exists only if the CPU can
	 * enable EPT or VPID. */
	uint32_t proc2_allowed1 = caps->controls[VMX_CONTROLS_PROC2] >> 32;
	caps->ept_vpid = proc2_allowed1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)
				 ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP)
				 : 0;
}

uint32_t vmx_clamp_controls(uint64_t cap_msr, uint32_t wanted, uint32_t *missing)
{
	uint32_t must_be_one = (uint32_t)cap_msr;
	uint32_t may_be_one = (uint32_t)(cap_msr >> 32);

	*missing = wanted & ~may_be_one;
	return (wanted | must_be_one) & may_be_one;
}

static const enum vmx_error control_errors[VMX_CONTROL_KINDS] = {
	[VMX_CONTROLS_PIN] = VMX_ERR_PIN_CONTROLS,
	[VMX_CONTROLS_PROC] = VMX_ERR_PROC_CONTROLS,
	[VMX_CONTROLS_PROC2] = VMX_ERR_PROC2_CONTROLS,
	[VMX_CONTROLS_EXIT] = VMX_ERR_EXIT_CONTROLS,
	[VMX_CONTROLS_ENTRY] = VMX_ERR_ENTRY_CONTROLS,
};

enum vmx_error vmx_controls_for(const struct vmx_caps *caps,
				enum vmx_control_kind kind, uint32_t wanted,
				uint32_t *result)
{
	uint32_t missing;

	*result = vmx_clamp_controls(caps->controls[kind], wanted, &missing);
	if (!missing)
		return VMX_OK;

	char line[LOG_LINE_MAX];
	size_t n = fmt_snprintf(line, sizeof(line),
				"cvisor: missing %s control(s):",
				vmx_control_kind_name(kind));
	for (unsigned bit = 0; bit < 32 && n < sizeof(line); bit++) {
		if (!(missing & (1u << bit)))
			continue;
		const char *name = vmx_control_bit_name(kind, bit);
		n += fmt_snprintf(line + n, sizeof(line) - n, " \"%s\" (bit %u)",
				  name ? name : "unnamed", bit);
	}
	log_printf("%s\n", line);
	return control_errors[kind];
}

uint64_t vmx_apply_fixed_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (value | fixed0) & fixed1;
}

bool vmx_fixed_bits_ok(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return vmx_apply_fixed_bits(value, fixed0, fixed1) == value;
}

enum feature_control_action feature_control_decide(uint64_t msr_value,
						   uint64_t *value_to_write)
{
	*value_to_write = msr_value;
	if (msr_value & FEATURE_CONTROL_LOCK) {
		/* Locked: only a reset can change it (SDM Vol. 3C 24.7). */
		return (msr_value & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)
			       ? FEATURE_CONTROL_READY
			       : FEATURE_CONTROL_LOCKED_OFF;
	}
	*value_to_write = msr_value | FEATURE_CONTROL_LOCK |
			  FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
	return FEATURE_CONTROL_MUST_WRITE;
}

/* One line of the capability report (core/vmx/caps_report.c) into the log. */
static void log_report_line(void *ctx, const char *line)
{
	(void)ctx;
	log_printf("cvisor: %s\n", line);
}

void vmx_caps_print_summary(const struct vmx_caps *caps)
{
	caps_report(caps, NULL, CAPS_REPORT_SHORT, log_report_line, NULL);
}
