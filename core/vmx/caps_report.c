/*
 * The VMX capability report (caps_report.h).  Freestanding: the only
 * formatting here is this file's own (strings, hex, decimal), so the Linux
 * tool can link it with controls.c alone.
 *
 * Every field decoded here is from SDM Vol. 3C Appendix A ("VMX Capability
 * Reporting Facility"); section numbers are given where each is decoded.
 */
#include "vmx/caps_report.h"

#include <stddef.h>

#include "x86.h"

/* ---- Line building ---- */

struct report {
	caps_report_emit_fn emit;
	void *ctx;
	size_t len;
	char line[CAPS_REPORT_LINE_MAX];
};

static void put_char(struct report *r, char c)
{
	if (r->len + 1 < sizeof(r->line))
		r->line[r->len++] = c;
}

static void put_str(struct report *r, const char *s)
{
	while (*s)
		put_char(r, *s++);
}

static void put_hex(struct report *r, uint64_t v)
{
	char digits[16];
	unsigned n = 0;

	put_str(r, "0x");
	do {
		digits[n++] = "0123456789abcdef"[v & 0xF];
		v >>= 4;
	} while (v);
	while (n)
		put_char(r, digits[--n]);
}

static void put_dec(struct report *r, uint64_t v)
{
	char digits[20];
	unsigned n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_char(r, digits[--n]);
}

static void put_yes_no(struct report *r, bool yes)
{
	put_str(r, yes ? "yes" : "no");
}

/* Hands the line to emit and starts the next one. */
static void end_line(struct report *r)
{
	r->line[r->len] = '\0';
	r->emit(r->ctx, r->line);
	r->len = 0;
}

/* One whole "  <label>: yes|no" line. */
static void line_yes_no(struct report *r, const char *label, bool yes)
{
	put_str(r, "  ");
	put_str(r, label);
	put_str(r, ": ");
	put_yes_no(r, yes);
	end_line(r);
}

static void report_init(struct report *r, caps_report_emit_fn emit, void *ctx)
{
	r->emit = emit;
	r->ctx = ctx;
	r->len = 0;
}

/* ---- Names ---- */

static const struct {
	uint32_t msr;
	const char *name;
} msr_names[] = {
	{ MSR_IA32_FEATURE_CONTROL, "IA32_FEATURE_CONTROL" },
	{ MSR_IA32_VMX_BASIC, "IA32_VMX_BASIC" },
	{ MSR_IA32_VMX_PINBASED_CTLS, "IA32_VMX_PINBASED_CTLS" },
	{ MSR_IA32_VMX_PROCBASED_CTLS, "IA32_VMX_PROCBASED_CTLS" },
	{ MSR_IA32_VMX_EXIT_CTLS, "IA32_VMX_EXIT_CTLS" },
	{ MSR_IA32_VMX_ENTRY_CTLS, "IA32_VMX_ENTRY_CTLS" },
	{ MSR_IA32_VMX_MISC, "IA32_VMX_MISC" },
	{ MSR_IA32_VMX_CR0_FIXED0, "IA32_VMX_CR0_FIXED0" },
	{ MSR_IA32_VMX_CR0_FIXED1, "IA32_VMX_CR0_FIXED1" },
	{ MSR_IA32_VMX_CR4_FIXED0, "IA32_VMX_CR4_FIXED0" },
	{ MSR_IA32_VMX_CR4_FIXED1, "IA32_VMX_CR4_FIXED1" },
	{ MSR_IA32_VMX_VMCS_ENUM, "IA32_VMX_VMCS_ENUM" },
	{ MSR_IA32_VMX_PROCBASED_CTLS2, "IA32_VMX_PROCBASED_CTLS2" },
	{ MSR_IA32_VMX_EPT_VPID_CAP, "IA32_VMX_EPT_VPID_CAP" },
	{ MSR_IA32_VMX_TRUE_PINBASED_CTLS, "IA32_VMX_TRUE_PINBASED_CTLS" },
	{ MSR_IA32_VMX_TRUE_PROCBASED_CTLS, "IA32_VMX_TRUE_PROCBASED_CTLS" },
	{ MSR_IA32_VMX_TRUE_EXIT_CTLS, "IA32_VMX_TRUE_EXIT_CTLS" },
	{ MSR_IA32_VMX_TRUE_ENTRY_CTLS, "IA32_VMX_TRUE_ENTRY_CTLS" },
	{ MSR_IA32_VMX_VMFUNC, "IA32_VMX_VMFUNC" },
};

const char *caps_report_msr_name(uint32_t msr)
{
	for (size_t i = 0; i < sizeof(msr_names) / sizeof(msr_names[0]); i++)
		if (msr_names[i].msr == msr)
			return msr_names[i].name;
	return NULL;
}

/* The MSR each kind of control is read from (SDM Vol. 3C A.3-A.5). */
static uint32_t control_msr(const struct vmx_caps *caps, enum vmx_control_kind kind)
{
	bool true_ctls = caps->basic & VMX_BASIC_TRUE_CONTROLS;

	switch (kind) {
	case VMX_CONTROLS_PIN:
		return true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	case VMX_CONTROLS_PROC:
		return true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
	case VMX_CONTROLS_PROC2:
		return MSR_IA32_VMX_PROCBASED_CTLS2;
	case VMX_CONTROLS_EXIT:
		return true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS;
	case VMX_CONTROLS_ENTRY:
	default:
		return true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS;
	}
}

/* CR0 and CR4 bit names (SDM Vol. 3A 2.5), NULL for reserved bits. */
static const char *const cr0_bits[32] = {
	[0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET", [5] = "NE",
	[16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD", [31] = "PG",
};
static const char *const cr4_bits[32] = {
	[0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE", [5] = "PAE",
	[6] = "MCE", [7] = "PGE", [8] = "PCE", [9] = "OSFXSR", [10] = "OSXMMEXCPT",
	[11] = "UMIP", [12] = "LA57", [13] = "VMXE", [14] = "SMXE", [16] = "FSGSBASE",
	[17] = "PCIDE", [18] = "OSXSAVE", [19] = "KL", [20] = "SMEP", [21] = "SMAP",
	[22] = "PKE", [23] = "CET", [24] = "PKS", [25] = "UINTR", [28] = "LAM_SUP",
};

/* SDM Vol. 3C A.1 and 12.3 (memory types). */
static const char *memory_type_name(unsigned type)
{
	switch (type) {
	case 0:
		return "uncacheable (UC)";
	case VMX_MEMORY_TYPE_WB:
		return "write-back (WB)";
	default:
		return "reserved";
	}
}

/* ---- Pieces shared by both forms ---- */

static uint32_t allowed1(const struct vmx_caps *caps, enum vmx_control_kind kind)
{
	return (uint32_t)(caps->controls[kind] >> 32);
}

static bool may_be_one(const struct vmx_caps *caps, enum vmx_control_kind kind, uint32_t bits)
{
	return (allowed1(caps, kind) & bits) == bits;
}

/* SDM Vol. 3C 24.7: what IA32_FEATURE_CONTROL means for VMXON. */
static void put_feature_control_verdict(struct report *r, uint64_t fc)
{
	if (!(fc & FEATURE_CONTROL_LOCK))
		put_str(r, "unlocked: VMXON is allowed once cvisor sets VMXON outside SMX and the lock");
	else if (fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)
		put_str(r, "locked, VMXON outside SMX allowed");
	else
		put_str(r, "locked with VMXON outside SMX off: VMX is disabled by the firmware");
}

static void facts_full(struct report *r, const struct caps_report_facts *facts)
{
	if (facts->cpuid_known) {
		put_str(r, "CPUID: vendor ");
		put_str(r, facts->vendor[0] ? facts->vendor : "(empty)");
		put_str(r, ", VMX (CPUID.1:ECX[5]) ");
		put_yes_no(r, facts->cpuid_vmx);
		put_str(r, ", SMX (CPUID.1:ECX[6]) ");
		put_yes_no(r, facts->cpuid_smx);
		put_str(r, ", hypervisor present (CPUID.1:ECX[31]) ");
		put_yes_no(r, facts->cpuid_hypervisor);
		end_line(r);
	}
	if (facts->feature_control_known) {
		uint64_t fc = facts->feature_control;

		put_str(r, "IA32_FEATURE_CONTROL ");
		put_hex(r, fc);
		put_str(r, ": lock (bit 0) ");
		put_yes_no(r, fc & FEATURE_CONTROL_LOCK);
		put_str(r, ", VMXON inside SMX (bit 1) ");
		put_yes_no(r, fc & FEATURE_CONTROL_VMXON_IN_SMX);
		put_str(r, ", VMXON outside SMX (bit 2) ");
		put_yes_no(r, fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
		end_line(r);
		put_str(r, "  ");
		put_feature_control_verdict(r, fc);
		end_line(r);
	}
}

static void facts_short(struct report *r, const struct caps_report_facts *facts)
{
	if (!facts->cpuid_known && !facts->feature_control_known)
		return;
	if (facts->cpuid_known) {
		put_str(r, "CPU ");
		put_str(r, facts->vendor[0] ? facts->vendor : "(empty vendor)");
		put_str(r, ", CPUID VMX ");
		put_yes_no(r, facts->cpuid_vmx);
	}
	if (facts->feature_control_known) {
		if (facts->cpuid_known)
			put_str(r, ", ");
		put_str(r, "IA32_FEATURE_CONTROL ");
		put_hex(r, facts->feature_control);
		put_str(r, " (");
		put_feature_control_verdict(r, facts->feature_control);
		put_str(r, ")");
	}
	end_line(r);
}

/* The boot-log summary line (unchanged since before this file existed:
 * system tests and users grep it). */
static void summary_line(struct report *r, const struct vmx_caps *caps)
{
	put_str(r, "VMX revision ");
	put_hex(r, VMX_BASIC_REVISION(caps->basic));
	put_str(r, ", region ");
	put_dec(r, VMX_BASIC_REGION_SIZE(caps->basic));
	put_str(r, " bytes, true controls ");
	put_yes_no(r, caps->basic & VMX_BASIC_TRUE_CONTROLS);
	put_str(r, ", EPT ");
	put_yes_no(r, may_be_one(caps, VMX_CONTROLS_PROC2, PROC2_ENABLE_EPT));
	if (caps->ept_vpid & EPT_CAP_PDE_2MB)
		put_str(r, " +2M");
	if (caps->ept_vpid & EPT_CAP_PDPTE_1GB)
		put_str(r, " +1G");
	put_str(r, ", VPID ");
	put_yes_no(r, may_be_one(caps, VMX_CONTROLS_PROC2, PROC2_ENABLE_VPID));
	put_str(r, ", unrestricted guest ");
	put_yes_no(r, may_be_one(caps, VMX_CONTROLS_PROC2, PROC2_UNRESTRICTED_GUEST));
	put_str(r, ", preemption timer ");
	put_yes_no(r, may_be_one(caps, VMX_CONTROLS_PIN, PIN_PREEMPTION_TIMER));
	put_str(r, " (TSC/2^");
	put_dec(r, caps->misc & 0x1F);
	put_str(r, ")");
	end_line(r);
}

/* The raw values, two lines starting "VMX MSRs:". */
static void raw_lines(struct report *r, const struct vmx_caps *caps)
{
	static const struct {
		const char *label;
		enum vmx_control_kind kind;
	} controls[] = {
		{ " pin ", VMX_CONTROLS_PIN },	  { " proc ", VMX_CONTROLS_PROC },
		{ " proc2 ", VMX_CONTROLS_PROC2 }, { " exit ", VMX_CONTROLS_EXIT },
		{ " entry ", VMX_CONTROLS_ENTRY },
	};

	put_str(r, "VMX MSRs: basic ");
	put_hex(r, caps->basic);
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		put_str(r, controls[i].label);
		put_hex(r, caps->controls[controls[i].kind]);
	}
	end_line(r);

	put_str(r, "VMX MSRs: misc ");
	put_hex(r, caps->misc);
	put_str(r, " cr0 fixed ");
	put_hex(r, caps->cr0_fixed0);
	put_str(r, "/");
	put_hex(r, caps->cr0_fixed1);
	put_str(r, " cr4 fixed ");
	put_hex(r, caps->cr4_fixed0);
	put_str(r, "/");
	put_hex(r, caps->cr4_fixed1);
	put_str(r, " vmcs_enum ");
	put_hex(r, caps->vmcs_enum);
	put_str(r, " ept_vpid ");
	put_hex(r, caps->ept_vpid);
	end_line(r);
}

/* ---- The full form, section by section ---- */

/* SDM Vol. 3C A.1. */
static void basic_section(struct report *r, const struct vmx_caps *caps)
{
	uint64_t b = caps->basic;

	put_str(r, "IA32_VMX_BASIC ");
	put_hex(r, b);
	put_str(r, ":");
	end_line(r);

	put_str(r, "  VMCS revision identifier: ");
	put_hex(r, VMX_BASIC_REVISION(b));
	end_line(r);
	put_str(r, "  VMXON/VMCS region size: ");
	put_dec(r, VMX_BASIC_REGION_SIZE(b));
	put_str(r, " bytes");
	end_line(r);
	put_str(r, "  VMCS memory type: ");
	put_str(r, memory_type_name(VMX_BASIC_MEMORY_TYPE(b)));
	put_str(r, " (");
	put_dec(r, VMX_BASIC_MEMORY_TYPE(b));
	put_str(r, ")");
	end_line(r);
	/* Bit 48: VMXON region, VMCS and the structures they point to are
	 * limited to 32-bit physical addresses. */
	line_yes_no(r, "physical addresses of VMX structures limited to 32 bits (bit 48)",
		    b & (1ULL << 48));
	line_yes_no(r, "dual-monitor treatment of SMIs and SMM (bit 49)", b & (1ULL << 49));
	line_yes_no(r, "VM-exit information for INS/OUTS (bit 54)", b & (1ULL << 54));
	line_yes_no(r, "true control MSRs IA32_VMX_TRUE_*_CTLS (bit 55)",
		    b & VMX_BASIC_TRUE_CONTROLS);
	line_yes_no(r, "VM entry may deliver hardware exceptions without error code (bit 56)",
		    b & (1ULL << 56));
}

static const char *control_setting(uint64_t cap, unsigned bit)
{
	bool must_be_one = (uint32_t)cap & (1u << bit);
	bool can_be_one = (uint32_t)(cap >> 32) & (1u << bit);

	if (must_be_one && can_be_one)
		return "fixed 1";
	if (must_be_one)
		return "inconsistent (must be 1 but may not be 1)";
	return can_be_one ? "0 or 1" : "fixed 0";
}

/*
 * SDM Vol. 3C A.3-A.5: bits 31:0 are the allowed 0-settings (1 = must be
 * 1), bits 63:32 the allowed 1-settings (0 = must be 0).  Every named
 * control is listed; unnamed bits only when they are not fixed 0.
 */
static void controls_section(struct report *r, const struct vmx_caps *caps,
			     enum vmx_control_kind kind)
{
	uint64_t cap = caps->controls[kind];

	put_str(r, vmx_control_kind_name(kind));
	put_str(r, " controls");
	/* SDM Vol. 3C A.3.3: IA32_VMX_PROCBASED_CTLS2 exists only when
	 * "activate secondary controls" may be 1. */
	if (kind == VMX_CONTROLS_PROC2 &&
	    !may_be_one(caps, VMX_CONTROLS_PROC, PROC_SECONDARY_CONTROLS)) {
		put_str(r, ": not available (\"activate secondary controls\" is fixed 0)");
		end_line(r);
		return;
	}
	put_str(r, " (");
	put_str(r, caps_report_msr_name(control_msr(caps, kind)));
	put_str(r, " ");
	put_hex(r, cap);
	put_str(r, "):");
	end_line(r);

	for (unsigned bit = 0; bit < 32; bit++) {
		const char *name = vmx_control_bit_name(kind, bit);
		const char *setting = control_setting(cap, bit);
		bool fixed0 = !((cap | (cap >> 32)) & (1ULL << bit));

		if (!name && fixed0)
			continue;
		put_str(r, "  bit ");
		if (bit < 10)
			put_char(r, ' ');
		put_dec(r, bit);
		put_str(r, " ");
		/* An unnamed bit that must be 1 is a reserved default-1 bit
		 * (SDM Vol. 3C A.2); one that may be 1 is a newer control
		 * controls.h has no name for. */
		if (name)
			put_str(r, name);
		else if ((uint32_t)cap & (1u << bit))
			put_str(r, "(reserved)");
		else
			put_str(r, "(not named by cvisor)");
		put_str(r, ": ");
		put_str(r, setting);
		end_line(r);
	}
}

/* SDM Vol. 3C A.6. */
static void misc_section(struct report *r, const struct vmx_caps *caps)
{
	uint64_t m = caps->misc;
	static const char *const states[] = { "HLT", "shutdown", "wait-for-SIPI" };
	bool any = false;

	put_str(r, "IA32_VMX_MISC ");
	put_hex(r, m);
	put_str(r, ":");
	end_line(r);

	put_str(r, "  VMX-preemption timer rate: TSC/2^");
	put_dec(r, m & 0x1F);
	put_str(r, " (the timer counts down by 1 every ");
	put_dec(r, 1ULL << (m & 0x1F));
	put_str(r, m & 0x1F ? " TSC ticks)" : " TSC tick)");
	end_line(r);
	line_yes_no(r, "VM exits store EFER.LMA into \"IA-32e mode guest\" (bit 5)", m & (1u << 5));
	put_str(r, "  activity states besides active (bits 8:6):");
	for (unsigned i = 0; i < 3; i++) {
		if (m & (1u << (6 + i))) {
			put_str(r, " ");
			put_str(r, states[i]);
			any = true;
		}
	}
	if (!any)
		put_str(r, " none");
	end_line(r);
	line_yes_no(r, "Intel PT in VMX operation (bit 14)", m & (1u << 14));
	line_yes_no(r, "RDMSR of IA32_SMBASE in SMM (bit 15)", m & (1u << 15));
	put_str(r, "  CR3-target values: ");
	put_dec(r, (m >> 16) & 0x1FF);
	end_line(r);
	put_str(r, "  MSR-load/store lists: at most ");
	put_dec(r, 512 * (((m >> 25) & 7) + 1));
	put_str(r, " MSRs each (bits 27:25 = ");
	put_dec(r, (m >> 25) & 7);
	put_str(r, ")");
	end_line(r);
	line_yes_no(r, "IA32_SMM_MONITOR_CTL[2] may be set (SMIs block VMXOFF) (bit 28)",
		    m & (1u << 28));
	line_yes_no(r, "VMWRITE to any VMCS field, including VM-exit information (bit 29)",
		    m & (1u << 29));
	line_yes_no(r, "VM entry may inject software events with instruction length 0 (bit 30)",
		    m & (1u << 30));
	put_str(r, "  MSEG revision identifier (bits 63:32): ");
	put_dec(r, m >> 32);
	end_line(r);
}

/* SDM Vol. 3C A.10. */
static void ept_vpid_section(struct report *r, const struct vmx_caps *caps)
{
	uint64_t e = caps->ept_vpid;
	bool ept = may_be_one(caps, VMX_CONTROLS_PROC2, PROC2_ENABLE_EPT);
	bool vpid = may_be_one(caps, VMX_CONTROLS_PROC2, PROC2_ENABLE_VPID);

	put_str(r, "IA32_VMX_EPT_VPID_CAP");
	if (!ept && !vpid) {
		put_str(r, ": not available (neither \"enable EPT\" nor \"enable VPID\" may be 1)");
		end_line(r);
		return;
	}
	put_str(r, " ");
	put_hex(r, e);
	put_str(r, ":");
	end_line(r);

	line_yes_no(r, "EPT execute-only translations (bit 0)", e & (1ULL << 0));
	line_yes_no(r, "EPT page-walk length 4 (bit 6)", e & EPT_CAP_WALK_LENGTH_4);
	line_yes_no(r, "EPT page-walk length 5 (bit 7)", e & (1ULL << 7));
	line_yes_no(r, "EPT paging structures uncacheable (UC) (bit 8)", e & (1ULL << 8));
	line_yes_no(r, "EPT paging structures write-back (WB) (bit 14)", e & EPT_CAP_MEMTYPE_WB);
	line_yes_no(r, "EPT 2-MByte pages (bit 16)", e & EPT_CAP_PDE_2MB);
	line_yes_no(r, "EPT 1-GByte pages (bit 17)", e & EPT_CAP_PDPTE_1GB);
	line_yes_no(r, "EPT accessed and dirty flags (bit 21)", e & EPT_CAP_ACCESSED_DIRTY);
	line_yes_no(r, "EPT violations report advanced VM-exit information (bit 22)",
		    e & (1ULL << 22));
	line_yes_no(r, "EPT supervisor shadow-stack control (bit 23)", e & (1ULL << 23));
	line_yes_no(r, "INVEPT (bit 20)", e & EPT_CAP_INVEPT);
	line_yes_no(r, "INVEPT single-context (bit 25)", e & EPT_CAP_INVEPT_SINGLE);
	line_yes_no(r, "INVEPT all-context (bit 26)", e & EPT_CAP_INVEPT_ALL);
	line_yes_no(r, "INVVPID (bit 32)", e & VPID_CAP_INVVPID);
	line_yes_no(r, "INVVPID individual-address (bit 40)", e & (1ULL << 40));
	line_yes_no(r, "INVVPID single-context (bit 41)", e & VPID_CAP_INVVPID_SINGLE);
	line_yes_no(r, "INVVPID all-context (bit 42)", e & VPID_CAP_INVVPID_ALL);
	line_yes_no(r, "INVVPID single-context-retaining-globals (bit 43)", e & (1ULL << 43));
	if ((e >> 48) & 0x3F) {
		put_str(r, "  HLAT prefix size (bits 53:48): ");
		put_dec(r, (e >> 48) & 0x3F);
		end_line(r);
	}
}

/* One "  CRn <what>: NAME NAME ..." line of the bits in mask. */
static void cr_bit_list(struct report *r, const char *cr, const char *what,
			const char *const names[32], uint32_t mask, bool unnamed_too)
{
	bool any = false;

	put_str(r, "  ");
	put_str(r, cr);
	put_str(r, " ");
	put_str(r, what);
	put_str(r, ":");
	for (unsigned bit = 0; bit < 32; bit++) {
		if (!(mask & (1u << bit)) || (!names[bit] && !unnamed_too))
			continue;
		put_str(r, " ");
		if (names[bit]) {
			put_str(r, names[bit]);
		} else {
			put_str(r, "bit");
			put_dec(r, bit);
		}
		any = true;
	}
	if (!any)
		put_str(r, " none");
	end_line(r);
}

/*
 * SDM Vol. 3C A.7, A.8: a bit that is 1 in FIXED0 must be 1, a bit that
 * is 0 in FIXED1 must be 0 in VMX operation.  Named bits are listed by
 * name; a fixed-1 bit without a name by number.
 */
static void cr_section(struct report *r, const char *cr, const char *msr0, const char *msr1,
		       uint64_t fixed0, uint64_t fixed1, const char *const names[32])
{
	uint32_t f0 = (uint32_t)fixed0, f1 = (uint32_t)fixed1;

	put_str(r, cr);
	put_str(r, " in VMX operation (");
	put_str(r, msr0);
	put_str(r, " ");
	put_hex(r, fixed0);
	put_str(r, ", ");
	put_str(r, msr1);
	put_str(r, " ");
	put_hex(r, fixed1);
	put_str(r, "):");
	end_line(r);
	cr_bit_list(r, cr, "fixed 1", names, f0, true);
	cr_bit_list(r, cr, "0 or 1", names, f1 & ~f0, false);
	cr_bit_list(r, cr, "fixed 0", names, ~f1 & ~f0, false);
}

/* SDM Vol. 3C A.9, A.11. */
static void enum_vmfunc_section(struct report *r, const struct vmx_caps *caps,
				const struct caps_report_facts *facts)
{
	put_str(r, "IA32_VMX_VMCS_ENUM ");
	put_hex(r, caps->vmcs_enum);
	put_str(r, ": highest VMCS field index ");
	put_dec(r, (caps->vmcs_enum >> 1) & 0x1FF);
	put_str(r, " (");
	put_hex(r, (caps->vmcs_enum >> 1) & 0x1FF);
	put_str(r, ")");
	end_line(r);

	put_str(r, "IA32_VMX_VMFUNC");
	if (!may_be_one(caps, VMX_CONTROLS_PROC2, PROC2_ENABLE_VMFUNC)) {
		put_str(r, ": not available (\"enable VM functions\" is fixed 0)");
		end_line(r);
		return;
	}
	if (!facts || !facts->vmfunc_known) {
		put_str(r, ": not read (\"enable VM functions\" may be 1)");
		end_line(r);
		return;
	}
	put_str(r, " ");
	put_hex(r, facts->vmfunc);
	put_str(r, ": EPTP switching (function 0) ");
	put_yes_no(r, facts->vmfunc & 1);
	if (facts->vmfunc >> 1) {
		put_str(r, ", other functions:");
		/* As ranges: " 1 4", " 1-63". */
		for (unsigned bit = 1; bit < 64; bit++) {
			if (!(facts->vmfunc & (1ULL << bit)))
				continue;
			unsigned last = bit;
			while (last + 1 < 64 && (facts->vmfunc & (1ULL << (last + 1))))
				last++;
			put_str(r, " ");
			put_dec(r, bit);
			if (last > bit) {
				put_str(r, "-");
				put_dec(r, last);
			}
			bit = last;
		}
	}
	end_line(r);
}

void caps_report(const struct vmx_caps *caps, const struct caps_report_facts *facts,
		 enum caps_report_form form, caps_report_emit_fn emit, void *ctx)
{
	struct report r;

	report_init(&r, emit, ctx);
	if (form == CAPS_REPORT_SHORT) {
		if (facts)
			facts_short(&r, facts);
		summary_line(&r, caps);
		raw_lines(&r, caps);
		return;
	}

	if (facts)
		facts_full(&r, facts);
	summary_line(&r, caps);
	basic_section(&r, caps);
	for (unsigned kind = 0; kind < VMX_CONTROL_KINDS; kind++)
		controls_section(&r, caps, (enum vmx_control_kind)kind);
	misc_section(&r, caps);
	ept_vpid_section(&r, caps);
	cr_section(&r, "CR0", "IA32_VMX_CR0_FIXED0", "IA32_VMX_CR0_FIXED1", caps->cr0_fixed0,
		   caps->cr0_fixed1, cr0_bits);
	cr_section(&r, "CR4", "IA32_VMX_CR4_FIXED0", "IA32_VMX_CR4_FIXED1", caps->cr4_fixed0,
		   caps->cr4_fixed1, cr4_bits);
	enum_vmfunc_section(&r, caps, facts);
}

/* ---- What cvisor needs ---- */


/* vmx_check_required_features: EPT and VPID capabilities. */
static const struct {
	uint64_t bit;
	const char *what;
} needed_ept_vpid[] = {
	{ EPT_CAP_WALK_LENGTH_4, "EPT page-walk length 4" },
	{ EPT_CAP_MEMTYPE_WB, "write-back EPT paging structures" },
	{ EPT_CAP_INVEPT, "INVEPT" },
	{ EPT_CAP_INVEPT_ALL, "all-context INVEPT" },
	{ VPID_CAP_INVVPID, "INVVPID" },
	{ VPID_CAP_INVVPID_ALL, "all-context INVVPID" },
};

unsigned caps_report_missing(const struct vmx_caps *caps, caps_report_emit_fn emit, void *ctx)
{
	struct report r;
	unsigned missing = 0;

	report_init(&r, emit, ctx);
	/* vmx_check_basic. */
	if (VMX_BASIC_REGION_SIZE(caps->basic) > 4096) {
		put_str(&r, "cvisor needs a VMXON/VMCS region of at most 4096 bytes; IA32_VMX_BASIC says ");
		put_dec(&r, VMX_BASIC_REGION_SIZE(caps->basic));
		end_line(&r);
		missing++;
	}
	if (VMX_BASIC_MEMORY_TYPE(caps->basic) != VMX_MEMORY_TYPE_WB) {
		put_str(&r, "cvisor needs a write-back VMCS; IA32_VMX_BASIC says memory type ");
		put_dec(&r, VMX_BASIC_MEMORY_TYPE(caps->basic));
		end_line(&r);
		missing++;
	}
	for (unsigned kind = 0; kind < VMX_CONTROL_KINDS; kind++) {
		uint32_t lacking = vmx_required_controls[kind] & ~allowed1(caps, kind);

		for (unsigned bit = 0; bit < 32; bit++) {
			if (!(lacking & (1u << bit)))
				continue;
			const char *name = vmx_control_bit_name(kind, bit);
			put_str(&r, "cvisor needs the ");
			put_str(&r, vmx_control_kind_name(kind));
			put_str(&r, " control \"");
			put_str(&r, name ? name : "unnamed");
			put_str(&r, "\" (bit ");
			put_dec(&r, bit);
			put_str(&r, "); this CPU has it fixed 0");
			end_line(&r);
			missing++;
		}
	}
	for (size_t i = 0; i < sizeof(needed_ept_vpid) / sizeof(needed_ept_vpid[0]); i++) {
		if (caps->ept_vpid & needed_ept_vpid[i].bit)
			continue;
		put_str(&r, "cvisor needs ");
		put_str(&r, needed_ept_vpid[i].what);
		put_str(&r, "; IA32_VMX_EPT_VPID_CAP ");
		put_hex(&r, caps->ept_vpid);
		put_str(&r, " lacks it");
		end_line(&r);
		missing++;
	}
	return missing;
}

/* ---- Reading ---- */

bool caps_report_read(struct vmx_caps *caps, struct caps_report_facts *facts,
		      caps_report_rdmsr_fn rdmsr, void *ctx, uint32_t *failed_msr)
{
	/* The MSRs in the order vmx_caps_read reads them. */
	struct {
		uint32_t msr;
		uint64_t *dst;
	} plain[] = {
		{ MSR_IA32_VMX_MISC, &caps->misc },
		{ MSR_IA32_VMX_CR0_FIXED0, &caps->cr0_fixed0 },
		{ MSR_IA32_VMX_CR0_FIXED1, &caps->cr0_fixed1 },
		{ MSR_IA32_VMX_CR4_FIXED0, &caps->cr4_fixed0 },
		{ MSR_IA32_VMX_CR4_FIXED1, &caps->cr4_fixed1 },
		{ MSR_IA32_VMX_VMCS_ENUM, &caps->vmcs_enum },
	};
	static const enum vmx_control_kind kinds[] = {
		VMX_CONTROLS_PIN, VMX_CONTROLS_PROC, VMX_CONTROLS_EXIT, VMX_CONTROLS_ENTRY,
	};
	uint32_t msr;

	if (facts)
		facts->vmfunc_known = false;
	msr = MSR_IA32_VMX_BASIC;
	if (!rdmsr(ctx, msr, &caps->basic))
		goto fail;
	/* SDM Vol. 3C A.2: the TRUE_* MSRs when IA32_VMX_BASIC[55] is set. */
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		msr = control_msr(caps, kinds[i]);
		if (!rdmsr(ctx, msr, &caps->controls[kinds[i]]))
			goto fail;
	}
	/* SDM Vol. 3C A.3.3. */
	caps->controls[VMX_CONTROLS_PROC2] = 0;
	msr = MSR_IA32_VMX_PROCBASED_CTLS2;
	if (may_be_one(caps, VMX_CONTROLS_PROC, PROC_SECONDARY_CONTROLS) &&
	    !rdmsr(ctx, msr, &caps->controls[VMX_CONTROLS_PROC2]))
		goto fail;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		msr = plain[i].msr;
		if (!rdmsr(ctx, msr, plain[i].dst))
			goto fail;
	}
	/* SDM Vol. 3C A.10. */
	caps->ept_vpid = 0;
	msr = MSR_IA32_VMX_EPT_VPID_CAP;
	if ((allowed1(caps, VMX_CONTROLS_PROC2) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)) &&
	    !rdmsr(ctx, msr, &caps->ept_vpid))
		goto fail;
	/* SDM Vol. 3C A.11: IA32_VMX_VMFUNC exists only if "enable VM
	 * functions" may be 1. */
	if (facts && may_be_one(caps, VMX_CONTROLS_PROC2, PROC2_ENABLE_VMFUNC)) {
		msr = MSR_IA32_VMX_VMFUNC;
		if (!rdmsr(ctx, msr, &facts->vmfunc))
			goto fail;
		facts->vmfunc_known = true;
	}
	return true;

fail:
	if (failed_msr)
		*failed_msr = msr;
	return false;
}
