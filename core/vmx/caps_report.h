/*
 * The VMX capability report: IA32_VMX_BASIC, every control of each kind,
 * IA32_VMX_MISC, EPT/VPID, CR0/CR4 fixed bits, VMCS_ENUM and VMFUNC decoded
 * into lines of text (SDM Vol. 3C Appendix A).
 *
 * Freestanding (no libc, no OS headers): the hypervisor prints the short
 * form in its boot log (vmx_caps_print_summary) and the Linux tool
 * tools/cvisor-check prints either form.  Lines go through a callback, one
 * call per line, without a trailing newline; the caller adds its own
 * prefix ("cvisor: " in the hypervisor).
 */
#ifndef CVISOR_VMX_CAPS_REPORT_H
#define CVISOR_VMX_CAPS_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/caps.h"

/* Longest line handed to emit, including the NUL; longer text is cut. */
#define CAPS_REPORT_LINE_MAX 200

typedef void (*caps_report_emit_fn)(void *ctx, const char *line);

/*
 * What the capability MSRs do not say: CPUID, IA32_FEATURE_CONTROL and
 * IA32_VMX_VMFUNC (struct vmx_caps has no room for it).  Each group has a
 * "known" flag; unknown groups are left out of the report.
 */
struct caps_report_facts {
	bool cpuid_known;
	char vendor[13];      /* CPUID.0 EBX:EDX:ECX, NUL-terminated */
	bool cpuid_vmx;       /* CPUID.1:ECX[5] */
	bool cpuid_smx;       /* CPUID.1:ECX[6] */
	bool cpuid_hypervisor; /* CPUID.1:ECX[31]: running under a hypervisor */

	bool feature_control_known;
	uint64_t feature_control; /* IA32_FEATURE_CONTROL (MSR 0x3A) */

	bool vmfunc_known;    /* false also when the CPU has no IA32_VMX_VMFUNC */
	uint64_t vmfunc;      /* IA32_VMX_VMFUNC (MSR 0x491) */
};

enum caps_report_form {
	/* Three lines: the feature summary and the raw MSR values (two lines
	 * starting "VMX MSRs:"); one more line first when facts are given. */
	CAPS_REPORT_SHORT,
	/* Everything, one fact per line (about 150 lines). */
	CAPS_REPORT_FULL,
};

/*
 * Decodes caps (and facts, which may be NULL) and hands each line to
 * emit(ctx, line).  caps is what vmx_caps_read or caps_report_read filled:
 * the effective (TRUE_* when IA32_VMX_BASIC[55]) control MSRs, and 0 for
 * IA32_VMX_PROCBASED_CTLS2 / IA32_VMX_EPT_VPID_CAP when the CPU lacks them.
 */
void caps_report(const struct vmx_caps *caps, const struct caps_report_facts *facts,
		 enum caps_report_form form, caps_report_emit_fn emit, void *ctx);

/*
 * Emits one line per capability cvisor needs and this CPU lacks (the
 * checks of vmx_check_basic, vmx_check_required_features and the controls
 * vcpu.c's setup_controls asks for); returns how many.  0: cvisor can run.
 */
unsigned caps_report_missing(const struct vmx_caps *caps, caps_report_emit_fn emit,
			     void *ctx);

/*
 * Reads the capability MSRs the way vmx_caps_read does, through rdmsr
 * (which returns false when the MSR cannot be read): the TRUE_* controls
 * when IA32_VMX_BASIC[55] is set, IA32_VMX_PROCBASED_CTLS2 only when
 * "activate secondary controls" may be 1, IA32_VMX_EPT_VPID_CAP only when
 * EPT or VPID may be enabled.  With facts non-NULL, also reads
 * IA32_VMX_VMFUNC when "enable VM functions" may be 1 and sets
 * facts->vmfunc_known / vmfunc (other facts are left alone).
 * Returns true on success; otherwise *failed_msr is the MSR that could not
 * be read.
 */
typedef bool (*caps_report_rdmsr_fn)(void *ctx, uint32_t msr, uint64_t *value);
bool caps_report_read(struct vmx_caps *caps, struct caps_report_facts *facts,
		      caps_report_rdmsr_fn rdmsr, void *ctx, uint32_t *failed_msr);

/* "IA32_VMX_BASIC", ... for the VMX capability MSRs and
 * IA32_FEATURE_CONTROL; NULL for any other MSR. */
const char *caps_report_msr_name(uint32_t msr);

#endif
