/*
 * Software VM-entry checks (SDM Vol. 3C 27.2 and 27.3): see entry_checks.h.
 *
 * Each rule is one CHECK line: CHECK(RULE, when, requirement, fields...).
 * When `when` holds the rule is evaluated; a false `requirement` is a
 * failure, reported with the rule's SDM section, the requirement as written
 * here and the VMCS fields listed.  The guest segment-register rules are
 * one table (SEG_RULES) applied to each of the eight registers.
 *
 * Fields are read lazily and only when the rule that needs them applies,
 * because a VMREAD of a field this CPU lacks would overwrite the
 * VM-instruction error field (SDM Vol. 3C 31.4, error 12).
 */
#include "vmx/entry_checks.h"

#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "vmx/controls.h"
#include "vmx/intrin.h"
#include "x86.h"
#include "vmx/vmcs.h"

const struct vmx_entry_rule_info vmx_entry_rules[VMX_ENTRY_RULE_COUNT] = {
#define X(id, kind, section, text) \
	[VMX_RULE_##id] = { #id, VMX_ENTRY_KIND_##kind, section, text },
	VMX_ENTRY_RULES(X)
#undef X
};


/* Architectural bits the rules talk about (SDM Vol. 3A 2.5, 2.2.1, 3.4.5). */
#define EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define DEBUGCTL_RESERVED 0xFFFFFFFFFFFF0038ULL /* bits 5:3, 63:16 */
#define BNDCFGS_RESERVED 0xFFCULL                /* bits 11:2 */
#define CET_RESERVED 0x3C0ULL                    /* IA32_S_CET bits 9:6 */
#define CET_SUPPRESS_AND_TRACKER 0xC00ULL        /* bits 10 and 11 */
#define PENDING_DBG_RTM (1ULL << 16)
#define PENDING_DBG_RESERVED (~0x1500FULL) /* bits 11:4, 13, 15, 63:17 */
#define PENDING_DBG_RTM_ONLY 0x11000ULL    /* RTM with bit 12 and nothing else */
#define PDPTE_RESERVED 0x1E6ULL            /* bits 2:1 and 8:5 */
#define EPTP_RESERVED_LOW 0xF00ULL         /* bits 11:8 */
#define EPTP_SSS (1ULL << 7)
#define EPTP_AD (1ULL << 6)
#define EPT_CAP_WALK_LENGTH_5 (1ULL << 7)
#define EPT_CAP_MEMTYPE_UC (1ULL << 8)
#define VMX_BASIC_32BIT_ADDRESSES (1ULL << 48)
#define VMX_BASIC_NO_ERROR_CODE_CHECK (1ULL << 56)
#define VMX_MISC_ZERO_LENGTH_INJECTION (1ULL << 30)
#define VMX_MISC_CR3_TARGETS(misc) (((misc) >> 16) & 0x1FF)
#define VMFUNC_EPTP_SWITCHING 1ULL

/* Activity states (SDM Vol. 3C 25.4.2, Table 25-4). */
enum { ACT_ACTIVE, ACT_HLT, ACT_SHUTDOWN, ACT_WAIT_SIPI };
/* VM-entry interruption information (SDM Vol. 3C 25.8.3, Table 25-17). */
#define INJ_RESERVED 0x7FFFF000u
enum { INJ_EXTINT = 0, INJ_NMI = 2, INJ_HW_EXCEPTION = 3, INJ_SOFT_INT = 4,
       INJ_PRIV_SOFT_EXCEPTION = 5, INJ_SOFT_EXCEPTION = 6, INJ_OTHER = 7 };

/* ---- Lazily read VMCS fields ---- */

#define EC_COUNT_FIELD(name, enc, width, access) +1
enum { EC_FIELD_COUNT = 0 VMCS_FIELDS(EC_COUNT_FIELD) };
#undef EC_COUNT_FIELD

enum { FIELD_UNREAD, FIELD_READ, FIELD_MISSING };

struct ec {
	const struct vmx_entry_env *env;
	const struct vmx_caps *caps;
	struct vmx_entry_report *report;
	unsigned failed;
	unsigned by_kind[3];
	unsigned struct_addr_bits; /* width of VMX data-structure addresses */
	uint64_t value[EC_FIELD_COUNT];
	uint8_t state[EC_FIELD_COUNT];
	/* The control words as VM entry sees them (SDM 27.2.1.1: without
	 * "activate secondary controls" the secondary controls act as 0). */
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t proc3;
};

static int field_index(uint32_t encoding)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding);
	return f ? (int)(f - vmcs_field_table) : -1;
}

static uint64_t ec_get(struct ec *c, uint32_t encoding)
{
	int i = field_index(encoding);

	if (i < 0)
		return 0;
	if (c->state[i] == FIELD_UNREAD) {
		uint64_t v = 0;
		c->state[i] = vmcs_try_read(encoding, &v) ? FIELD_READ : FIELD_MISSING;
		c->value[i] = c->state[i] == FIELD_READ ? v : 0;
	}
	return c->value[i];
}

#define V(field) ec_get(c, (field).encoding)

/* ---- Reporting ---- */

struct line {
	char text[LOG_LINE_MAX];
	size_t len;
};

static void line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(l->text) - l->len;

	va_start(ap, fmt);
	size_t n = fmt_vsnprintf(l->text + l->len, room, fmt, ap);
	va_end(ap);
	l->len += n < room ? n : room - 1;
}

/* The rule text with '@' replaced by the subject. */
static void line_add_text(struct line *l, const char *text, const char *subject)
{
	for (const char *p = text; *p; p++) {
		if (*p == '@')
			line_add(l, "%s", subject ? subject : "?");
		else
			line_add(l, "%c", *p);
	}
}

static const char *const kind_consequence[3] = {
	[VMX_ENTRY_KIND_CONTROL] = "controls: VMfailValid, VM-instruction error 7",
	[VMX_ENTRY_KIND_HOST] = "host state: VMfailValid, VM-instruction error 8",
	[VMX_ENTRY_KIND_GUEST] = "guest state: VM exit 33",
};

static void ec_record(struct ec *c, enum vmx_entry_rule rule, const char *subject, bool ok)
{
	struct vmx_entry_report *r = c->report;

	if (r)
		r->outcome[rule] |= ok ? VMX_ENTRY_RULE_PASSED : VMX_ENTRY_RULE_FAILED;
	if (ok)
		return;
	c->failed++;
	c->by_kind[vmx_entry_rules[rule].kind]++;
	if (r && r->recorded < VMX_ENTRY_REPORT_MAX)
		r->failures[r->recorded++] = (struct vmx_entry_failure){ rule, subject };
}

/*
 * One evaluated rule.  On failure: the rule text, its SDM section and the
 * listed fields on one line, then the rule id, what the hardware would do
 * and the requirement as written in this file.
 */
static void ec_verdict(struct ec *c, enum vmx_entry_rule rule, const char *subject, bool ok,
		       const char *requirement, const char *xname, uint64_t xvalue,
		       const uint32_t *fields, unsigned nfields)
{
	const struct vmx_entry_rule_info *info = &vmx_entry_rules[rule];
	struct line l = { .len = 0 };

	ec_record(c, rule, subject, ok);
	if (ok)
		return;
	line_add(&l, "cvisor: VM-entry check failed: ");
	line_add_text(&l, info->text, subject);
	line_add(&l, " (SDM %s) [", info->section);
	for (unsigned i = 0; i < nfields; i++) {
		const struct vmcs_field_info *f = vmcs_field_lookup(fields[i]);
		uint64_t v = ec_get(c, fields[i]);
		int idx = field_index(fields[i]);

		line_add(&l, "%s%s=", i ? " " : "", f ? f->name : "?");
		if (idx >= 0 && c->state[idx] == FIELD_MISSING)
			line_add(&l, "(not on this CPU)");
		else
			line_add(&l, "0x%llx", (unsigned long long)v);
	}
	if (xname)
		line_add(&l, "%s%s=0x%llx", nfields ? " " : "", xname, (unsigned long long)xvalue);
	line_add(&l, "]");
	log_printf("%s\n", l.text);
	log_printf("cvisor:   rule %s (%s): requires %s\n", info->id,
		   kind_consequence[info->kind], requirement);
}

/* CHECK(RULE, when, requirement, FIELD...): up to four VMCS fields. */
#define EC_ENC(f) (f).encoding
#define EC_MAP1(a) EC_ENC(a)
#define EC_MAP2(a, b) EC_ENC(a), EC_ENC(b)
#define EC_MAP3(a, b, d) EC_ENC(a), EC_ENC(b), EC_ENC(d)
#define EC_MAP4(a, b, d, e) EC_ENC(a), EC_ENC(b), EC_ENC(d), EC_ENC(e)
#define EC_PICK(_1, _2, _3, _4, name, ...) name
#define EC_ENCODINGS(...) EC_PICK(__VA_ARGS__, EC_MAP4, EC_MAP3, EC_MAP2, EC_MAP1, none)(__VA_ARGS__)
#define EC_LIST(...)                                           \
	(const uint32_t[]){ EC_ENCODINGS(__VA_ARGS__) },       \
	(unsigned)(sizeof((const uint32_t[]){ EC_ENCODINGS(__VA_ARGS__) }) / sizeof(uint32_t))

/* The requirement is stringified in the outer macros, before V() and the
 * bit names are expanded, so the report shows it as written here. */
#define CHECK_FULL(rule, subject, when, requirement, text, xname, xvalue, ...)             \
	do {                                                                                \
		if (when)                                                                   \
			ec_verdict(c, VMX_RULE_##rule, (subject), (requirement), (text),    \
				   (xname), (xvalue), EC_LIST(__VA_ARGS__));                \
	} while (0)
#define CHECK(rule, when, requirement, ...) \
	CHECK_FULL(rule, NULL, when, requirement, #requirement, NULL, 0, __VA_ARGS__)
#define CHECK_S(rule, subject, when, requirement, ...) \
	CHECK_FULL(rule, subject, when, requirement, #requirement, NULL, 0, __VA_ARGS__)
#define CHECK_X(rule, when, requirement, xname, xvalue, ...) \
	CHECK_FULL(rule, NULL, when, requirement, #requirement, xname, xvalue, __VA_ARGS__)

/* ---- Helpers the rules use ---- */

/* Bits at or above `bits`. */
static uint64_t bits_above(unsigned bits)
{
	return bits >= 64 ? 0 : ~0ULL << bits;
}

static uint64_t low_mask(unsigned bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

/* Bits 63:N-1 all equal (SDM Vol. 1 3.3.7.1). */
static bool canonical(const struct ec *c, uint64_t v)
{
	unsigned n = c->env->linear_addr_bits;
	if (n == 0 || n >= 64)
		return true;
	uint64_t top = v >> (n - 1);
	return top == 0 || top == (~0ULL >> (n - 1));
}

/* An address of a VMX data structure: aligned and within the physical-
 * address width (32 bits when IA32_VMX_BASIC[48] says so, SDM A.1). */
static bool struct_addr_ok(const struct ec *c, uint64_t addr, uint64_t align)
{
	return (addr & (align - 1)) == 0 && (addr & bits_above(c->struct_addr_bits)) == 0;
}

/* An MSR-load/store area: 16-byte aligned, first and last byte in range. */
static bool msr_area_ok(const struct ec *c, uint64_t addr, uint32_t count)
{
	return struct_addr_ok(c, addr, 16) &&
	       ((addr + (uint64_t)count * 16 - 1) & bits_above(c->struct_addr_bits)) == 0;
}

/* Reserved CR3 bits: above MAXPHYADDR, except the LAM bits 62:61. */
static uint64_t cr3_reserved(const struct ec *c)
{
	uint64_t lam = c->env->has_lam ? (3ULL << 61) : 0;
	return bits_above(c->env->phys_addr_bits) & ~lam;
}

/* IA32_PAT: each byte a valid memory type (SDM Vol. 3A 13.12.2). */
static bool pat_ok(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xFF;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* An address field that is canonical in 64-bit mode and 32-bit otherwise. */
static bool mode_addr_ok(const struct ec *c, uint64_t v, bool wide)
{
	return wide ? canonical(c, v) : (v >> 32) == 0;
}

/* IA32_S_CET as WRMSR would take it (SDM Vol. 1 17.3.3). */
static bool s_cet_ok(const struct ec *c, uint64_t v, bool wide)
{
	return (v & CET_RESERVED) == 0 &&
	       (v & CET_SUPPRESS_AND_TRACKER) != CET_SUPPRESS_AND_TRACKER &&
	       mode_addr_ok(c, v, wide);
}

static bool in_set(unsigned v, uint32_t set_mask)
{
	return v < 32 && (set_mask >> v) & 1;
}

/* Exceptions that push an error code: #DF #TS #NP #SS #GP #PF #AC. */
#define ERROR_CODE_VECTORS ((1u << 8) | (1u << 10) | (1u << 11) | (1u << 12) | \
			    (1u << 13) | (1u << 14) | (1u << 17))

static bool default_read_phys(uint64_t pa, void *buf, size_t len)
{
	const void *p = plat_phys_to_virt(pa);

	if (!p)
		return false;
	memcpy(buf, p, len);
	return true;
}

static bool read_phys(const struct ec *c, uint64_t pa, void *buf, size_t len)
{
	return (c->env->read_phys ? c->env->read_phys : default_read_phys)(pa, buf, len);
}

static uint32_t cap_must_be_one(const struct ec *c, enum vmx_control_kind k)
{
	return (uint32_t)c->caps->controls[k];
}

static uint32_t cap_may_be_one(const struct ec *c, enum vmx_control_kind k)
{
	return (uint32_t)(c->caps->controls[k] >> 32);
}

/* ---- 27.2.1.1 VM-execution control fields ---- */

static void check_execution_controls(struct ec *c)
{
	const struct vmx_entry_env *env = c->env;
	const struct vmx_caps *caps = c->caps;
	uint32_t pin = c->pin, proc = c->proc, proc2 = c->proc2, exit = c->exit, entry = c->entry;
	uint64_t ept_cap = caps->ept_vpid;
	bool tpr_shadow = proc & PROC_USE_TPR_SHADOW;
	bool ept = proc2 & PROC2_ENABLE_EPT;

	CHECK_X(CTRL_PIN_ALLOWED0, true, (~pin & cap_must_be_one(c, VMX_CONTROLS_PIN)) == 0,
		"offending bits", ~pin & cap_must_be_one(c, VMX_CONTROLS_PIN), PIN_BASED_VM_EXEC_CONTROL);
	CHECK_X(CTRL_PIN_ALLOWED1, true, (pin & ~cap_may_be_one(c, VMX_CONTROLS_PIN)) == 0,
		"offending bits", pin & ~cap_may_be_one(c, VMX_CONTROLS_PIN), PIN_BASED_VM_EXEC_CONTROL);
	CHECK_X(CTRL_PROC_ALLOWED0, true, (~proc & cap_must_be_one(c, VMX_CONTROLS_PROC)) == 0,
		"offending bits", ~proc & cap_must_be_one(c, VMX_CONTROLS_PROC), CPU_BASED_VM_EXEC_CONTROL);
	CHECK_X(CTRL_PROC_ALLOWED1, true, (proc & ~cap_may_be_one(c, VMX_CONTROLS_PROC)) == 0,
		"offending bits", proc & ~cap_may_be_one(c, VMX_CONTROLS_PROC), CPU_BASED_VM_EXEC_CONTROL);
	CHECK_X(CTRL_PROC2_ALLOWED0, proc & PROC_SECONDARY_CONTROLS,
		(~proc2 & cap_must_be_one(c, VMX_CONTROLS_PROC2)) == 0,
		"offending bits", ~proc2 & cap_must_be_one(c, VMX_CONTROLS_PROC2), SECONDARY_VM_EXEC_CONTROL);
	CHECK_X(CTRL_PROC2_ALLOWED1, proc & PROC_SECONDARY_CONTROLS,
		(proc2 & ~cap_may_be_one(c, VMX_CONTROLS_PROC2)) == 0,
		"offending bits", proc2 & ~cap_may_be_one(c, VMX_CONTROLS_PROC2), SECONDARY_VM_EXEC_CONTROL);
	CHECK_X(CTRL_PROC3_ALLOWED1, proc & PROC_TERTIARY_CONTROLS, (c->proc3 & ~env->proc3_allowed) == 0,
		"offending bits", c->proc3 & ~env->proc3_allowed, TERTIARY_VM_EXEC_CONTROL);
	CHECK_X(CTRL_CR3_TARGET_COUNT, true, V(CR3_TARGET_COUNT) <= VMX_MISC_CR3_TARGETS(caps->misc),
		"IA32_VMX_MISC", caps->misc, CR3_TARGET_COUNT);

	CHECK_S(CTRL_IO_BITMAP_ADDR, "A", proc & PROC_USE_IO_BITMAPS, struct_addr_ok(c, V(IO_BITMAP_A), 4096), IO_BITMAP_A);
	CHECK_S(CTRL_IO_BITMAP_ADDR, "B", proc & PROC_USE_IO_BITMAPS, struct_addr_ok(c, V(IO_BITMAP_B), 4096), IO_BITMAP_B);
	CHECK(CTRL_MSR_BITMAP_ADDR, proc & PROC_USE_MSR_BITMAPS, struct_addr_ok(c, V(MSR_BITMAP), 4096), MSR_BITMAP);

	/* TPR shadow and APIC virtualization. */
	CHECK(CTRL_VIRTUAL_APIC_ADDR, tpr_shadow, struct_addr_ok(c, V(VIRTUAL_APIC_PAGE_ADDR), 4096),
	      VIRTUAL_APIC_PAGE_ADDR);
	CHECK(CTRL_TPR_THRESHOLD_BITS, tpr_shadow && !(proc2 & PROC2_VIRTUAL_INTR_DELIVERY),
	      (V(TPR_THRESHOLD) & ~0xFull) == 0, TPR_THRESHOLD);
	uint8_t vtpr = 0;
	bool have_vtpr = tpr_shadow && !(proc2 & (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUAL_INTR_DELIVERY)) &&
			 struct_addr_ok(c, V(VIRTUAL_APIC_PAGE_ADDR), 4096) &&
			 read_phys(c, V(VIRTUAL_APIC_PAGE_ADDR) + 0x80, &vtpr, 1);
	CHECK_X(CTRL_TPR_THRESHOLD_VTPR, have_vtpr, (V(TPR_THRESHOLD) & 0xF) <= (uint64_t)(vtpr >> 4),
		"VTPR", vtpr, TPR_THRESHOLD, VIRTUAL_APIC_PAGE_ADDR);
	CHECK(CTRL_APICV_NEEDS_TPR_SHADOW, !tpr_shadow,
	      !(proc2 & (PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY)),
	      CPU_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_X2APIC_NO_APIC_ACCESS, proc2 & PROC2_VIRTUALIZE_X2APIC,
	      !(proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES), SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_VID_NEEDS_EXT_INT_EXITING, proc2 & PROC2_VIRTUAL_INTR_DELIVERY,
	      pin & PIN_EXTERNAL_INTERRUPT_EXITING, PIN_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL);

	/* Posted interrupts. */
	bool posted = pin & PIN_POSTED_INTERRUPTS;
	CHECK(CTRL_POSTED_NEEDS_VID, posted, proc2 & PROC2_VIRTUAL_INTR_DELIVERY,
	      PIN_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_POSTED_NEEDS_ACK_ON_EXIT, posted, exit & EXIT_ACK_INTERRUPT_ON_EXIT,
	      PIN_BASED_VM_EXEC_CONTROL, VM_EXIT_CONTROLS);
	CHECK(CTRL_POSTED_VECTOR, posted, (V(POSTED_INTR_NOTIFICATION_VECTOR) & 0xFF00) == 0,
	      POSTED_INTR_NOTIFICATION_VECTOR);
	CHECK(CTRL_POSTED_DESC_ADDR, posted, struct_addr_ok(c, V(POSTED_INTR_DESC_ADDR), 64),
	      POSTED_INTR_DESC_ADDR);

	/* NMIs. */
	CHECK(CTRL_VNMI_NEEDS_NMI_EXITING, pin & PIN_VIRTUAL_NMIS, pin & PIN_NMI_EXITING,
	      PIN_BASED_VM_EXEC_CONTROL);
	CHECK(CTRL_NMI_WINDOW_NEEDS_VNMI, proc & PROC_NMI_WINDOW_EXITING, pin & PIN_VIRTUAL_NMIS,
	      PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL);

	CHECK(CTRL_APIC_ACCESS_ADDR, proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES,
	      struct_addr_ok(c, V(APIC_ACCESS_ADDR), 4096), APIC_ACCESS_ADDR);
	CHECK(CTRL_VPID_NONZERO, proc2 & PROC2_ENABLE_VPID, V(VIRTUAL_PROCESSOR_ID) != 0,
	      VIRTUAL_PROCESSOR_ID);

	/* The EPT pointer (SDM Vol. 3C 25.6.11, A.10). */
	uint64_t eptp = ept ? V(EPT_POINTER) : 0;
	unsigned ept_type = eptp & 7, ept_walk = (eptp >> 3) & 7;
	uint64_t eptp_reserved = EPTP_RESERVED_LOW | (env->has_cet_shadow_stack ? 0 : EPTP_SSS) |
				 bits_above(env->phys_addr_bits);
	CHECK_X(CTRL_EPTP_MEMORY_TYPE, ept,
		(ept_type == 0 && (ept_cap & EPT_CAP_MEMTYPE_UC)) || (ept_type == 6 && (ept_cap & EPT_CAP_MEMTYPE_WB)),
		"IA32_VMX_EPT_VPID_CAP", ept_cap, EPT_POINTER);
	CHECK_X(CTRL_EPTP_WALK_LENGTH, ept,
		(ept_walk == 3 && (ept_cap & EPT_CAP_WALK_LENGTH_4)) || (ept_walk == 4 && (ept_cap & EPT_CAP_WALK_LENGTH_5)),
		"IA32_VMX_EPT_VPID_CAP", ept_cap, EPT_POINTER);
	CHECK_X(CTRL_EPTP_ACCESSED_DIRTY, ept && (eptp & EPTP_AD), ept_cap & EPT_CAP_ACCESSED_DIRTY,
		"IA32_VMX_EPT_VPID_CAP", ept_cap, EPT_POINTER);
	CHECK_X(CTRL_EPTP_RESERVED, ept, (eptp & eptp_reserved) == 0,
		"offending bits", eptp & eptp_reserved, EPT_POINTER);

	CHECK(CTRL_UNRESTRICTED_NEEDS_EPT, proc2 & PROC2_UNRESTRICTED_GUEST, ept, SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_PML_NEEDS_EPT, proc2 & PROC2_ENABLE_PML, ept, SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_PML_ADDR, proc2 & PROC2_ENABLE_PML, struct_addr_ok(c, V(PML_ADDRESS), 4096), PML_ADDRESS);
	CHECK(CTRL_MBEC_NEEDS_EPT, proc2 & PROC2_MODE_BASED_EPT_EXEC, ept, SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_SPP_NEEDS_EPT, proc2 & PROC2_EPT_SUBPAGE_WRITE, ept, SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_SPPTP_ADDR, proc2 & PROC2_EPT_SUBPAGE_WRITE, struct_addr_ok(c, V(SPP_TABLE_POINTER), 4096),
	      SPP_TABLE_POINTER);

	/* VM functions (SDM Vol. 3C 25.6.14, A.11). */
	bool vmfunc_on = proc2 & PROC2_ENABLE_VMFUNC;
	uint64_t vmfunc = vmfunc_on ? V(VM_FUNCTION_CONTROLS) : 0;
	CHECK_X(CTRL_VMFUNC_ALLOWED, vmfunc_on, (vmfunc & ~env->vmfunc_allowed) == 0,
		"offending bits", vmfunc & ~env->vmfunc_allowed, VM_FUNCTION_CONTROLS);
	CHECK(CTRL_EPTP_SWITCHING_NEEDS_EPT, vmfunc & VMFUNC_EPTP_SWITCHING, ept,
	      VM_FUNCTION_CONTROLS, SECONDARY_VM_EXEC_CONTROL);
	CHECK(CTRL_EPTP_LIST_ADDR, vmfunc & VMFUNC_EPTP_SWITCHING, struct_addr_ok(c, V(EPTP_LIST_ADDR), 4096),
	      EPTP_LIST_ADDR);

	CHECK_S(CTRL_VMCS_SHADOW_BITMAP_ADDR, "VMREAD", proc2 & PROC2_VMCS_SHADOWING,
		struct_addr_ok(c, V(VMREAD_BITMAP), 4096), VMREAD_BITMAP);
	CHECK_S(CTRL_VMCS_SHADOW_BITMAP_ADDR, "VMWRITE", proc2 & PROC2_VMCS_SHADOWING,
		struct_addr_ok(c, V(VMWRITE_BITMAP), 4096), VMWRITE_BITMAP);
	CHECK(CTRL_VE_INFO_ADDR, proc2 & PROC2_EPT_VE, struct_addr_ok(c, V(VE_INFO_ADDR), 4096), VE_INFO_ADDR);
	CHECK(CTRL_PT_GPA_NEEDS, proc2 & PROC2_PT_USES_GPA,
	      ept && (entry & ENTRY_LOAD_RTIT_CTL) && (exit & EXIT_CLEAR_RTIT_CTL),
	      SECONDARY_VM_EXEC_CONTROL, VM_ENTRY_CONTROLS, VM_EXIT_CONTROLS);
}

/* ---- 27.2.1.2 VM-exit control fields ---- */

static void check_exit_controls(struct ec *c)
{
	uint32_t exit = c->exit;
	uint32_t store_count = (uint32_t)V(VM_EXIT_MSR_STORE_COUNT);
	uint32_t load_count = (uint32_t)V(VM_EXIT_MSR_LOAD_COUNT);

	CHECK_X(CTRL_EXIT_ALLOWED0, true, (~exit & cap_must_be_one(c, VMX_CONTROLS_EXIT)) == 0,
		"offending bits", ~exit & cap_must_be_one(c, VMX_CONTROLS_EXIT), VM_EXIT_CONTROLS);
	CHECK_X(CTRL_EXIT_ALLOWED1, true, (exit & ~cap_may_be_one(c, VMX_CONTROLS_EXIT)) == 0,
		"offending bits", exit & ~cap_may_be_one(c, VMX_CONTROLS_EXIT), VM_EXIT_CONTROLS);
	CHECK(CTRL_SAVE_TIMER_NEEDS_TIMER, exit & EXIT_SAVE_PREEMPTION_TIMER, c->pin & PIN_PREEMPTION_TIMER,
	      VM_EXIT_CONTROLS, PIN_BASED_VM_EXEC_CONTROL);
	CHECK(CTRL_EXIT_MSR_STORE_ADDR, store_count != 0, msr_area_ok(c, V(VM_EXIT_MSR_STORE_ADDR), store_count),
	      VM_EXIT_MSR_STORE_ADDR, VM_EXIT_MSR_STORE_COUNT);
	CHECK(CTRL_EXIT_MSR_LOAD_ADDR, load_count != 0, msr_area_ok(c, V(VM_EXIT_MSR_LOAD_ADDR), load_count),
	      VM_EXIT_MSR_LOAD_ADDR, VM_EXIT_MSR_LOAD_COUNT);
}

/* ---- 27.2.1.3 VM-entry control fields ---- */

static void check_entry_controls(struct ec *c)
{
	const struct vmx_caps *caps = c->caps;
	uint32_t entry = c->entry;
	uint32_t info = (uint32_t)V(VM_ENTRY_INTR_INFO);
	bool inject = info & INTR_INFO_VALID;
	unsigned type = (info >> 8) & 7, vector = info & 0xFF;
	bool deliver = info & INTR_INFO_DELIVER_ERROR;
	bool mtf_supported = cap_may_be_one(c, VMX_CONTROLS_PROC) & PROC_MONITOR_TRAP_FLAG;
	bool relaxed = caps->basic & VMX_BASIC_NO_ERROR_CODE_CHECK;
	/* "Unrestricted guest" 0 implies CR0.PE = 1 (27.3.1.1). */
	bool protected_mode = !(c->proc2 & PROC2_UNRESTRICTED_GUEST) || (V(GUEST_CR0) & CR0_PE);
	bool soft = type == INJ_SOFT_INT || type == INJ_PRIV_SOFT_EXCEPTION || type == INJ_SOFT_EXCEPTION;
	uint32_t load_count = (uint32_t)V(VM_ENTRY_MSR_LOAD_COUNT);

	CHECK_X(CTRL_ENTRY_ALLOWED0, true, (~entry & cap_must_be_one(c, VMX_CONTROLS_ENTRY)) == 0,
		"offending bits", ~entry & cap_must_be_one(c, VMX_CONTROLS_ENTRY), VM_ENTRY_CONTROLS);
	CHECK_X(CTRL_ENTRY_ALLOWED1, true, (entry & ~cap_may_be_one(c, VMX_CONTROLS_ENTRY)) == 0,
		"offending bits", entry & ~cap_may_be_one(c, VMX_CONTROLS_ENTRY), VM_ENTRY_CONTROLS);

	/* Event injection (SDM Vol. 3C 25.8.3, 27.2.1.3). */
	CHECK(CTRL_INJECT_TYPE, inject, type != 1 && (type != INJ_OTHER || mtf_supported), VM_ENTRY_INTR_INFO);
	CHECK(CTRL_INJECT_NMI_VECTOR, inject && type == INJ_NMI, vector == 2, VM_ENTRY_INTR_INFO);
	CHECK(CTRL_INJECT_EXCEPTION_VECTOR, inject && type == INJ_HW_EXCEPTION, vector <= 31, VM_ENTRY_INTR_INFO);
	CHECK(CTRL_INJECT_OTHER_VECTOR, inject && type == INJ_OTHER, vector == 0, VM_ENTRY_INTR_INFO);
	CHECK(CTRL_INJECT_ERROR_CODE_NEEDED,
	      inject && type == INJ_HW_EXCEPTION && protected_mode && !relaxed && in_set(vector, ERROR_CODE_VECTORS),
	      deliver, VM_ENTRY_INTR_INFO, GUEST_CR0);
	CHECK(CTRL_INJECT_ERROR_CODE_FORBIDDEN,
	      inject && (type != INJ_HW_EXCEPTION || !protected_mode || (!relaxed && !in_set(vector, ERROR_CODE_VECTORS))),
	      !deliver, VM_ENTRY_INTR_INFO, GUEST_CR0);
	CHECK(CTRL_INJECT_RESERVED, inject, (info & INJ_RESERVED) == 0, VM_ENTRY_INTR_INFO);
	CHECK(CTRL_INJECT_ERROR_CODE_BITS, inject && deliver, (V(VM_ENTRY_EXCEPTION_ERROR_CODE) >> 16) == 0,
	      VM_ENTRY_EXCEPTION_ERROR_CODE);
	CHECK_X(CTRL_INJECT_INSTRUCTION_LENGTH, inject && soft,
		V(VM_ENTRY_INSTRUCTION_LEN) <= 15 &&
			(V(VM_ENTRY_INSTRUCTION_LEN) != 0 || (caps->misc & VMX_MISC_ZERO_LENGTH_INJECTION)),
		"IA32_VMX_MISC", caps->misc, VM_ENTRY_INSTRUCTION_LEN, VM_ENTRY_INTR_INFO);

	CHECK(CTRL_ENTRY_MSR_LOAD_ADDR, load_count != 0, msr_area_ok(c, V(VM_ENTRY_MSR_LOAD_ADDR), load_count),
	      VM_ENTRY_MSR_LOAD_ADDR, VM_ENTRY_MSR_LOAD_COUNT);
	CHECK(CTRL_ENTRY_SMM_OUTSIDE_SMM, !c->env->in_smm,
	      !(entry & (ENTRY_TO_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR)), VM_ENTRY_CONTROLS);
	CHECK(CTRL_ENTRY_SMM_AND_DEACTIVATE, true,
	      (entry & (ENTRY_TO_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR)) != (ENTRY_TO_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR),
	      VM_ENTRY_CONTROLS);
}

/* ---- 27.2.2 - 27.2.4 host state ---- */

static const struct {
	const char *name;
	const vmcs_RW16_t *field;
} host_selectors[] = {
	{ "ES", &HOST_ES_SELECTOR }, { "CS", &HOST_CS_SELECTOR }, { "SS", &HOST_SS_SELECTOR },
	{ "DS", &HOST_DS_SELECTOR }, { "FS", &HOST_FS_SELECTOR }, { "GS", &HOST_GS_SELECTOR },
	{ "TR", &HOST_TR_SELECTOR },
};

static const struct {
	const char *name;
	const vmcs_RWNAT_t *field;
} host_bases[] = {
	{ "FS", &HOST_FS_BASE }, { "GS", &HOST_GS_BASE }, { "GDTR", &HOST_GDTR_BASE },
	{ "IDTR", &HOST_IDTR_BASE }, { "TR", &HOST_TR_BASE },
};

static void check_host_state(struct ec *c)
{
	const struct vmx_entry_env *env = c->env;
	const struct vmx_caps *caps = c->caps;
	uint32_t exit = c->exit;
	bool wide = exit & EXIT_HOST_ADDR_SPACE_SIZE;
	bool cet = exit & EXIT_LOAD_CET_STATE;
	uint64_t cr0 = V(HOST_CR0), cr4 = V(HOST_CR4);
	uint64_t cr0_bad = (~cr0 & caps->cr0_fixed0) | (cr0 & ~caps->cr0_fixed1);
	uint64_t cr4_bad = (~cr4 & caps->cr4_fixed0) | (cr4 & ~caps->cr4_fixed1);

	/* 27.2.2: control registers and MSRs. */
	CHECK_X(HOST_CR0_FIXED, true, cr0_bad == 0, "offending bits", cr0_bad, HOST_CR0);
	CHECK_X(HOST_CR4_FIXED, true, cr4_bad == 0, "offending bits", cr4_bad, HOST_CR4);
	CHECK(HOST_CR4_CET_NEEDS_WP, cr4 & CR4_CET, cr0 & CR0_WP, HOST_CR4, HOST_CR0);
	CHECK(HOST_CR3_WIDTH, true, (V(HOST_CR3) & cr3_reserved(c)) == 0, HOST_CR3);
	CHECK_S(HOST_SYSENTER_CANONICAL, "SYSENTER_ESP", true, canonical(c, V(HOST_IA32_SYSENTER_ESP)),
		HOST_IA32_SYSENTER_ESP);
	CHECK_S(HOST_SYSENTER_CANONICAL, "SYSENTER_EIP", true, canonical(c, V(HOST_IA32_SYSENTER_EIP)),
		HOST_IA32_SYSENTER_EIP);
	CHECK(HOST_S_CET_VALID, cet, s_cet_ok(c, V(HOST_S_CET), wide), HOST_S_CET);
	CHECK(HOST_SSP_VALID, cet, (V(HOST_SSP) & 3) == 0 && mode_addr_ok(c, V(HOST_SSP), wide), HOST_SSP);
	CHECK(HOST_INTR_SSP_TABLE_VALID, cet, mode_addr_ok(c, V(HOST_INTR_SSP_TABLE_ADDR), wide),
	      HOST_INTR_SSP_TABLE_ADDR);
	CHECK_X(HOST_PERF_GLOBAL_CTRL_RESERVED, exit & EXIT_LOAD_PERF_GLOBAL_CTRL,
		(V(HOST_IA32_PERF_GLOBAL_CTRL) & ~env->perf_global_ctrl_valid) == 0,
		"offending bits", V(HOST_IA32_PERF_GLOBAL_CTRL) & ~env->perf_global_ctrl_valid,
		HOST_IA32_PERF_GLOBAL_CTRL);
	CHECK(HOST_PAT_VALID, exit & EXIT_LOAD_IA32_PAT, pat_ok(V(HOST_IA32_PAT)), HOST_IA32_PAT);
	CHECK(HOST_EFER_RESERVED, exit & EXIT_LOAD_IA32_EFER, (V(HOST_IA32_EFER) & ~EFER_VALID) == 0,
	      HOST_IA32_EFER);
	CHECK(HOST_EFER_LMA_LME, exit & EXIT_LOAD_IA32_EFER,
	      !!(V(HOST_IA32_EFER) & EFER_LMA) == wide && !!(V(HOST_IA32_EFER) & EFER_LME) == wide,
	      HOST_IA32_EFER, VM_EXIT_CONTROLS);
	CHECK(HOST_PKRS_RESERVED, exit & EXIT_LOAD_PKRS, (V(HOST_IA32_PKRS) >> 32) == 0, HOST_IA32_PKRS);

	/* 27.2.3: segment and descriptor-table registers. */
	for (unsigned i = 0; i < sizeof(host_selectors) / sizeof(host_selectors[0]); i++)
		CHECK_S(HOST_SELECTOR_RPL_TI, host_selectors[i].name, true,
			(V(*host_selectors[i].field) & 7) == 0, *host_selectors[i].field);
	CHECK(HOST_CS_NONZERO, true, V(HOST_CS_SELECTOR) != 0, HOST_CS_SELECTOR);
	CHECK(HOST_TR_NONZERO, true, V(HOST_TR_SELECTOR) != 0, HOST_TR_SELECTOR);
	CHECK(HOST_SS_NONZERO, !wide, V(HOST_SS_SELECTOR) != 0, HOST_SS_SELECTOR, VM_EXIT_CONTROLS);
	for (unsigned i = 0; i < sizeof(host_bases) / sizeof(host_bases[0]); i++)
		CHECK_S(HOST_BASE_CANONICAL, host_bases[i].name, true,
			canonical(c, V(*host_bases[i].field)), *host_bases[i].field);

	/* 27.2.4: address-space size. */
	bool ia32e_guest = c->entry & ENTRY_IA32E_MODE_GUEST;
	CHECK(HOST_IA32E_NEEDS_HOST_SIZE, env->host_in_ia32e_mode, wide, VM_EXIT_CONTROLS);
	CHECK(HOST_LEGACY_NO_64BIT, !env->host_in_ia32e_mode, !ia32e_guest && !wide,
	      VM_ENTRY_CONTROLS, VM_EXIT_CONTROLS);
	CHECK(HOST_SIZE0_NO_IA32E_GUEST, !wide, !ia32e_guest, VM_ENTRY_CONTROLS, VM_EXIT_CONTROLS);
	CHECK(HOST_SIZE0_NO_PCIDE, !wide, !(cr4 & CR4_PCIDE), HOST_CR4, VM_EXIT_CONTROLS);
	CHECK(HOST_SIZE0_RIP_32BIT, !wide, (V(HOST_RIP) >> 32) == 0, HOST_RIP, VM_EXIT_CONTROLS);
	CHECK(HOST_SIZE1_PAE, wide, cr4 & CR4_PAE, HOST_CR4);
	CHECK(HOST_SIZE1_RIP_CANONICAL, wide, canonical(c, V(HOST_RIP)), HOST_RIP);
}

/* ---- 27.3.1.2 guest segment registers: one table for all eight ---- */

enum seg_id { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

struct seg {
	enum seg_id id;
	uint16_t sel;
	uint64_t base;
	uint32_t limit, ar;
	unsigned type, dpl, rpl;
	bool s, p, l, db, g, usable, ti;
};

/* What the segment rules need besides the segment itself. */
struct guest_mode {
	bool v86, ia32e, unrestricted, pe;
	const struct seg *cs, *ss;
	const struct ec *c;
};

static const struct {
	const char *name;
	const vmcs_RW16_t *sel;
	const vmcs_RWNAT_t *base;
	const vmcs_RW32_t *limit, *ar;
} seg_fields[SEG_COUNT] = {
	[SEG_ES] = { "ES", &GUEST_ES_SELECTOR, &GUEST_ES_BASE, &GUEST_ES_LIMIT, &GUEST_ES_AR_BYTES },
	[SEG_CS] = { "CS", &GUEST_CS_SELECTOR, &GUEST_CS_BASE, &GUEST_CS_LIMIT, &GUEST_CS_AR_BYTES },
	[SEG_SS] = { "SS", &GUEST_SS_SELECTOR, &GUEST_SS_BASE, &GUEST_SS_LIMIT, &GUEST_SS_AR_BYTES },
	[SEG_DS] = { "DS", &GUEST_DS_SELECTOR, &GUEST_DS_BASE, &GUEST_DS_LIMIT, &GUEST_DS_AR_BYTES },
	[SEG_FS] = { "FS", &GUEST_FS_SELECTOR, &GUEST_FS_BASE, &GUEST_FS_LIMIT, &GUEST_FS_AR_BYTES },
	[SEG_GS] = { "GS", &GUEST_GS_SELECTOR, &GUEST_GS_BASE, &GUEST_GS_LIMIT, &GUEST_GS_AR_BYTES },
	[SEG_LDTR] = { "LDTR", &GUEST_LDTR_SELECTOR, &GUEST_LDTR_BASE, &GUEST_LDTR_LIMIT, &GUEST_LDTR_AR_BYTES },
	[SEG_TR] = { "TR", &GUEST_TR_SELECTOR, &GUEST_TR_BASE, &GUEST_TR_LIMIT, &GUEST_TR_AR_BYTES },
};

/* Fields a segment rule's report shows. */
enum {
	SF_SEL = 1, SF_BASE = 2, SF_LIMIT = 4, SF_AR = 8,
	SF_CS_SEL = 16, SF_CS_AR = 32, SF_SS_AR = 64, SF_CR0 = 128, SF_ENTRY = 256,
};

/* Register classes of SDM 27.3.1.2. */
#define LEGACY(s) ((s)->id <= SEG_GS) /* ES, CS, SS, DS, FS, GS */
#define DATA(s) ((s)->id == SEG_ES || (s)->id == SEG_DS || (s)->id == SEG_FS || (s)->id == SEG_GS)
/* Code/data checks outside virtual-8086 mode: CS always, the others if usable. */
#define CODE_DATA_CHECKED(s) (LEGACY(s) && !m->v86 && ((s)->id == SEG_CS || (s)->usable))
/* Registers whose P, reserved-bit and G checks apply. */
#define AR_CHECKED(s) (CODE_DATA_CHECKED(s) || (s)->id == SEG_TR || ((s)->id == SEG_LDTR && (s)->usable))

static bool limit_matches_g(uint32_t limit, bool g)
{
	return ((limit & 0xFFF) == 0xFFF || !g) && ((limit >> 20) == 0 || g);
}

/* X(rule, fields shown, when, requirement) over struct seg *s and struct guest_mode *m. */
#define SEG_RULES(X)                                                                                     \
	X(GUEST_TR_TI, SF_SEL, s->id == SEG_TR, !s->ti)                                                  \
	X(GUEST_LDTR_TI, SF_SEL, s->id == SEG_LDTR && s->usable, !s->ti)                                 \
	X(GUEST_SS_RPL_EQ_CS_RPL, SF_SEL | SF_CS_SEL, s->id == SEG_SS && !m->v86 && !m->unrestricted,   \
	  s->rpl == m->cs->rpl)                                                                          \
	X(GUEST_SEG_V86_BASE, SF_SEL | SF_BASE, LEGACY(s) && m->v86, s->base == (uint64_t)s->sel << 4) \
	X(GUEST_SEG_V86_LIMIT, SF_LIMIT, LEGACY(s) && m->v86, s->limit == 0xFFFF)                        \
	X(GUEST_SEG_V86_AR, SF_AR, LEGACY(s) && m->v86, s->ar == 0xF3)                                   \
	X(GUEST_SEG_BASE_CANONICAL, SF_BASE,                                                             \
	  s->id == SEG_TR || s->id == SEG_FS || s->id == SEG_GS || (s->id == SEG_LDTR && s->usable),     \
	  canonical(m->c, s->base))                                                                      \
	X(GUEST_SEG_BASE_32BIT, SF_BASE,                                                                 \
	  s->id == SEG_CS || ((s->id == SEG_SS || s->id == SEG_DS || s->id == SEG_ES) && s->usable),     \
	  (s->base >> 32) == 0)                                                                          \
	X(GUEST_CS_TYPE, SF_AR, s->id == SEG_CS && !m->v86,                                              \
	  s->type == 9 || s->type == 11 || s->type == 13 || s->type == 15 || (m->unrestricted && s->type == 3)) \
	X(GUEST_SEG_S, SF_AR, CODE_DATA_CHECKED(s), s->s)                                                \
	X(GUEST_CS_DPL_TYPE3, SF_AR, s->id == SEG_CS && !m->v86 && s->type == 3, s->dpl == 0)            \
	X(GUEST_CS_DPL_NONCONFORMING, SF_AR | SF_SS_AR,                                                  \
	  s->id == SEG_CS && !m->v86 && (s->type == 9 || s->type == 11), s->dpl == m->ss->dpl)           \
	X(GUEST_CS_DPL_CONFORMING, SF_AR | SF_SS_AR,                                                     \
	  s->id == SEG_CS && !m->v86 && (s->type == 13 || s->type == 15), s->dpl <= m->ss->dpl)          \
	X(GUEST_SEG_PRESENT, SF_AR, AR_CHECKED(s), s->p)                                                 \
	X(GUEST_SEG_AR_RESERVED, SF_AR, AR_CHECKED(s), (s->ar & 0xFFFE0F00u) == 0)                        \
	X(GUEST_CS_L_DB, SF_AR | SF_ENTRY, s->id == SEG_CS && !m->v86 && m->ia32e && s->l, !s->db)       \
	X(GUEST_SEG_G_LIMIT, SF_LIMIT | SF_AR, AR_CHECKED(s), limit_matches_g(s->limit, s->g))           \
	X(GUEST_SS_TYPE, SF_AR, s->id == SEG_SS && !m->v86 && s->usable, s->type == 3 || s->type == 7)  \
	X(GUEST_SS_DPL_RPL, SF_SEL | SF_AR, s->id == SEG_SS && !m->v86 && !m->unrestricted,             \
	  s->dpl == s->rpl)                                                                              \
	X(GUEST_SS_DPL_ZERO, SF_AR | SF_CS_AR | SF_CR0,                                                  \
	  s->id == SEG_SS && !m->v86 && (m->cs->type == 3 || !m->pe), s->dpl == 0)                       \
	X(GUEST_DATA_ACCESSED, SF_AR, DATA(s) && !m->v86 && s->usable, s->type & 1)                      \
	X(GUEST_DATA_READABLE, SF_AR, DATA(s) && !m->v86 && s->usable && (s->type & 8), s->type & 2)     \
	X(GUEST_DATA_DPL_RPL, SF_SEL | SF_AR,                                                            \
	  DATA(s) && !m->v86 && s->usable && !m->unrestricted && s->type <= 11, s->dpl >= s->rpl)        \
	X(GUEST_TR_TYPE, SF_AR | SF_ENTRY, s->id == SEG_TR, s->type == 11 || (!m->ia32e && s->type == 3)) \
	X(GUEST_TR_S, SF_AR, s->id == SEG_TR, !s->s)                                                     \
	X(GUEST_TR_USABLE, SF_AR, s->id == SEG_TR, s->usable)                                            \
	X(GUEST_LDTR_TYPE, SF_AR, s->id == SEG_LDTR && s->usable, s->type == 2)                          \
	X(GUEST_LDTR_S, SF_AR, s->id == SEG_LDTR && s->usable, !s->s)

#define X(rule, fields, when, requirement)                                                   \
	static bool seg_when_##rule(const struct seg *s, const struct guest_mode *m)         \
	{                                                                                    \
		(void)s;                                                                     \
		(void)m;                                                                     \
		return (when);                                                               \
	}                                                                                    \
	static bool seg_requires_##rule(const struct seg *s, const struct guest_mode *m)     \
	{                                                                                    \
		(void)s;                                                                     \
		(void)m;                                                                     \
		return (requirement);                                                        \
	}
SEG_RULES(X)
#undef X

static const struct seg_rule {
	enum vmx_entry_rule rule;
	unsigned fields;
	bool (*when)(const struct seg *s, const struct guest_mode *m);
	bool (*requires)(const struct seg *s, const struct guest_mode *m);
	const char *requirement;
} seg_rules[] = {
#define X(rule, fields, when, requirement) \
	{ VMX_RULE_##rule, fields, seg_when_##rule, seg_requires_##rule, #requirement },
	SEG_RULES(X)
#undef X
};

static void read_segment(struct ec *c, enum seg_id id, struct seg *s)
{
	s->id = id;
	s->sel = (uint16_t)V(*seg_fields[id].sel);
	s->base = V(*seg_fields[id].base);
	s->limit = (uint32_t)V(*seg_fields[id].limit);
	s->ar = (uint32_t)V(*seg_fields[id].ar);
	s->rpl = s->sel & 3;
	s->ti = (s->sel >> 2) & 1;
	s->type = s->ar & 0xF;
	s->s = (s->ar >> 4) & 1;
	s->dpl = (s->ar >> 5) & 3;
	s->p = (s->ar >> 7) & 1;
	s->l = (s->ar >> 13) & 1;
	s->db = (s->ar >> 14) & 1;
	s->g = (s->ar >> 15) & 1;
	s->usable = !((s->ar >> 16) & 1);
}

/* Rules written for one register (no '@' in their text) carry no subject. */
static bool rule_names_a_subject(enum vmx_entry_rule rule)
{
	for (const char *p = vmx_entry_rules[rule].text; *p; p++)
		if (*p == '@')
			return true;
	return false;
}

static void check_segments(struct ec *c, const struct seg segs[SEG_COUNT], const struct guest_mode *m)
{
	for (unsigned r = 0; r < sizeof(seg_rules) / sizeof(seg_rules[0]); r++) {
		const struct seg_rule *rule = &seg_rules[r];

		for (unsigned i = 0; i < SEG_COUNT; i++) {
			const struct seg *s = &segs[i];
			uint32_t fields[9];
			unsigned n = 0;

			if (!rule->when(s, m))
				continue;
			if (rule->fields & SF_SEL)
				fields[n++] = seg_fields[i].sel->encoding;
			if (rule->fields & SF_BASE)
				fields[n++] = seg_fields[i].base->encoding;
			if (rule->fields & SF_LIMIT)
				fields[n++] = seg_fields[i].limit->encoding;
			if (rule->fields & SF_AR)
				fields[n++] = seg_fields[i].ar->encoding;
			if (rule->fields & SF_CS_SEL)
				fields[n++] = GUEST_CS_SELECTOR.encoding;
			if (rule->fields & SF_CS_AR)
				fields[n++] = GUEST_CS_AR_BYTES.encoding;
			if (rule->fields & SF_SS_AR)
				fields[n++] = GUEST_SS_AR_BYTES.encoding;
			if (rule->fields & SF_CR0)
				fields[n++] = GUEST_CR0.encoding;
			if (rule->fields & SF_ENTRY)
				fields[n++] = VM_ENTRY_CONTROLS.encoding;
			ec_verdict(c, rule->rule,
				   rule_names_a_subject(rule->rule) ? seg_fields[i].name : NULL,
				   rule->requires(s, m),
				   rule->requirement, NULL, 0, fields, n);
		}
	}
}

/* ---- 27.3 guest state ---- */

static void check_guest_state(struct ec *c)
{
	const struct vmx_entry_env *env = c->env;
	const struct vmx_caps *caps = c->caps;
	uint32_t pin = c->pin, proc2 = c->proc2, entry = c->entry;
	bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;
	bool unrestricted = proc2 & PROC2_UNRESTRICTED_GUEST;
	bool cet = entry & ENTRY_LOAD_CET_STATE;
	uint64_t cr0 = V(GUEST_CR0), cr4 = V(GUEST_CR4), rflags = V(GUEST_RFLAGS);
	uint64_t cr0_fixed0 = caps->cr0_fixed0 & ~(unrestricted ? CR0_PE | CR0_PG : 0);
	uint64_t cr0_bad = (~cr0 & cr0_fixed0) | (cr0 & ~caps->cr0_fixed1);
	uint64_t cr4_bad = (~cr4 & caps->cr4_fixed0) | (cr4 & ~caps->cr4_fixed1);
	uint32_t info = (uint32_t)V(VM_ENTRY_INTR_INFO);
	bool inject = info & INTR_INFO_VALID;
	unsigned type = (info >> 8) & 7, vector = info & 0xFF;

	/* 27.3.1.1: control registers, debug registers, MSRs. */
	CHECK_X(GUEST_CR0_FIXED, true, cr0_bad == 0, "offending bits", cr0_bad, GUEST_CR0);
	CHECK(GUEST_CR0_PG_NEEDS_PE, cr0 & CR0_PG, cr0 & CR0_PE, GUEST_CR0);
	CHECK_X(GUEST_CR4_FIXED, true, cr4_bad == 0, "offending bits", cr4_bad, GUEST_CR4);
	CHECK(GUEST_CR4_CET_NEEDS_WP, cr4 & CR4_CET, cr0 & CR0_WP, GUEST_CR4, GUEST_CR0);
	CHECK(GUEST_DEBUGCTL_RESERVED, entry & ENTRY_LOAD_DEBUG_CONTROLS,
	      (V(GUEST_IA32_DEBUGCTL) & DEBUGCTL_RESERVED) == 0, GUEST_IA32_DEBUGCTL);
	CHECK(GUEST_IA32E_NEEDS_PG, ia32e, cr0 & CR0_PG, GUEST_CR0, VM_ENTRY_CONTROLS);
	CHECK(GUEST_IA32E_NEEDS_PAE, ia32e, cr4 & CR4_PAE, GUEST_CR4, VM_ENTRY_CONTROLS);
	CHECK(GUEST_PCIDE_NEEDS_IA32E, !ia32e, !(cr4 & CR4_PCIDE), GUEST_CR4, VM_ENTRY_CONTROLS);
	CHECK(GUEST_CR3_WIDTH, true, (V(GUEST_CR3) & cr3_reserved(c)) == 0, GUEST_CR3);
	CHECK(GUEST_DR7_HIGH, entry & ENTRY_LOAD_DEBUG_CONTROLS, (V(GUEST_DR7) >> 32) == 0, GUEST_DR7);
	CHECK_S(GUEST_SYSENTER_CANONICAL, "SYSENTER_ESP", true, canonical(c, V(GUEST_SYSENTER_ESP)),
		GUEST_SYSENTER_ESP);
	CHECK_S(GUEST_SYSENTER_CANONICAL, "SYSENTER_EIP", true, canonical(c, V(GUEST_SYSENTER_EIP)),
		GUEST_SYSENTER_EIP);
	CHECK_X(GUEST_PERF_GLOBAL_CTRL_RESERVED, entry & ENTRY_LOAD_PERF_GLOBAL_CTRL,
		(V(GUEST_IA32_PERF_GLOBAL_CTRL) & ~env->perf_global_ctrl_valid) == 0,
		"offending bits", V(GUEST_IA32_PERF_GLOBAL_CTRL) & ~env->perf_global_ctrl_valid,
		GUEST_IA32_PERF_GLOBAL_CTRL);
	CHECK(GUEST_PAT_VALID, entry & ENTRY_LOAD_IA32_PAT, pat_ok(V(GUEST_IA32_PAT)), GUEST_IA32_PAT);
	CHECK(GUEST_EFER_RESERVED, entry & ENTRY_LOAD_IA32_EFER, (V(GUEST_IA32_EFER) & ~EFER_VALID) == 0,
	      GUEST_IA32_EFER);
	CHECK(GUEST_EFER_LMA, entry & ENTRY_LOAD_IA32_EFER, !!(V(GUEST_IA32_EFER) & EFER_LMA) == ia32e,
	      GUEST_IA32_EFER, VM_ENTRY_CONTROLS);
	CHECK(GUEST_EFER_LME, (entry & ENTRY_LOAD_IA32_EFER) && (cr0 & CR0_PG),
	      !!(V(GUEST_IA32_EFER) & EFER_LME) == ia32e, GUEST_IA32_EFER, GUEST_CR0, VM_ENTRY_CONTROLS);
	CHECK(GUEST_BNDCFGS_RESERVED, entry & ENTRY_LOAD_BNDCFGS, (V(GUEST_IA32_BNDCFGS) & BNDCFGS_RESERVED) == 0,
	      GUEST_IA32_BNDCFGS);
	CHECK(GUEST_BNDCFGS_CANONICAL, entry & ENTRY_LOAD_BNDCFGS, canonical(c, V(GUEST_IA32_BNDCFGS) & ~0xFFFULL),
	      GUEST_IA32_BNDCFGS);
	CHECK(GUEST_S_CET_VALID, cet, s_cet_ok(c, V(GUEST_S_CET), ia32e), GUEST_S_CET);
	CHECK(GUEST_SSP_VALID, cet, (V(GUEST_SSP) & 3) == 0 && mode_addr_ok(c, V(GUEST_SSP), ia32e), GUEST_SSP);
	CHECK(GUEST_INTR_SSP_TABLE_VALID, cet, mode_addr_ok(c, V(GUEST_INTR_SSP_TABLE_ADDR), ia32e),
	      GUEST_INTR_SSP_TABLE_ADDR);
	CHECK(GUEST_PKRS_RESERVED, entry & ENTRY_LOAD_PKRS, (V(GUEST_IA32_PKRS) >> 32) == 0, GUEST_IA32_PKRS);

	/* 27.3.1.2: segment registers. */
	struct seg segs[SEG_COUNT];
	for (unsigned i = 0; i < SEG_COUNT; i++)
		read_segment(c, (enum seg_id)i, &segs[i]);
	struct guest_mode m = {
		.v86 = rflags & RFLAGS_VM,
		.ia32e = ia32e,
		.unrestricted = unrestricted,
		.pe = cr0 & CR0_PE,
		.cs = &segs[SEG_CS],
		.ss = &segs[SEG_SS],
		.c = c,
	};
	check_segments(c, segs, &m);

	/* 27.3.1.3: GDTR and IDTR. */
	CHECK_S(GUEST_DTR_BASE_CANONICAL, "GDTR", true, canonical(c, V(GUEST_GDTR_BASE)), GUEST_GDTR_BASE);
	CHECK_S(GUEST_DTR_BASE_CANONICAL, "IDTR", true, canonical(c, V(GUEST_IDTR_BASE)), GUEST_IDTR_BASE);
	CHECK_S(GUEST_DTR_LIMIT, "GDTR", true, (V(GUEST_GDTR_LIMIT) >> 16) == 0, GUEST_GDTR_LIMIT);
	CHECK_S(GUEST_DTR_LIMIT, "IDTR", true, (V(GUEST_IDTR_LIMIT) >> 16) == 0, GUEST_IDTR_LIMIT);

	/* 27.3.1.4: RIP and RFLAGS. */
	bool long_mode = ia32e && segs[SEG_CS].l;
	CHECK(GUEST_RIP_32BIT, !long_mode, (V(GUEST_RIP) >> 32) == 0, GUEST_RIP, GUEST_CS_AR_BYTES);
	CHECK(GUEST_RIP_CANONICAL, long_mode, canonical(c, V(GUEST_RIP)), GUEST_RIP);
	CHECK(GUEST_RFLAGS_RESERVED, true, (rflags & RFLAGS_RESERVED_0) == 0, GUEST_RFLAGS);
	CHECK(GUEST_RFLAGS_BIT1, true, rflags & RFLAGS_RESERVED_1, GUEST_RFLAGS);
	CHECK(GUEST_RFLAGS_VM, ia32e || !(cr0 & CR0_PE), !(rflags & RFLAGS_VM),
	      GUEST_RFLAGS, GUEST_CR0, VM_ENTRY_CONTROLS);
	CHECK(GUEST_RFLAGS_IF_FOR_EXTINT, inject && type == INJ_EXTINT, rflags & RFLAGS_IF,
	      GUEST_RFLAGS, VM_ENTRY_INTR_INFO);

	/* 27.3.1.5: activity and interruptibility state. */
	uint64_t act = V(GUEST_ACTIVITY_STATE);
	uint32_t intr = (uint32_t)V(GUEST_INTERRUPTIBILITY_INFO);
	CHECK(GUEST_ACTIVITY_RANGE, true, act <= ACT_WAIT_SIPI, GUEST_ACTIVITY_STATE);
	CHECK_X(GUEST_ACTIVITY_SUPPORTED, act >= ACT_HLT && act <= ACT_WAIT_SIPI, caps->misc & (1ULL << (5 + act)),
		"IA32_VMX_MISC", caps->misc, GUEST_ACTIVITY_STATE);
	CHECK(GUEST_ACTIVITY_HLT_SS_DPL, act == ACT_HLT, segs[SEG_SS].dpl == 0, GUEST_ACTIVITY_STATE, GUEST_SS_AR_BYTES);
	CHECK(GUEST_ACTIVITY_BLOCKING_ACTIVE, intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS), act == ACT_ACTIVE,
	      GUEST_ACTIVITY_STATE, GUEST_INTERRUPTIBILITY_INFO);
	CHECK(GUEST_ACTIVITY_HLT_EVENT, act == ACT_HLT && inject,
	      type == INJ_EXTINT || type == INJ_NMI || (type == INJ_HW_EXCEPTION && (vector == 1 || vector == 18)) ||
		      (type == INJ_OTHER && vector == 0),
	      GUEST_ACTIVITY_STATE, VM_ENTRY_INTR_INFO);
	CHECK(GUEST_ACTIVITY_SHUTDOWN_EVENT, act == ACT_SHUTDOWN && inject,
	      type == INJ_NMI || (type == INJ_HW_EXCEPTION && vector == 18), GUEST_ACTIVITY_STATE, VM_ENTRY_INTR_INFO);
	CHECK(GUEST_ACTIVITY_SIPI_EVENT, act == ACT_WAIT_SIPI, !inject, GUEST_ACTIVITY_STATE, VM_ENTRY_INTR_INFO);
	CHECK(GUEST_ACTIVITY_SMM_SIPI, entry & ENTRY_TO_SMM, act != ACT_WAIT_SIPI, GUEST_ACTIVITY_STATE,
	      VM_ENTRY_CONTROLS);
	CHECK(GUEST_INTR_RESERVED, true, (intr & ~0x1Fu) == 0, GUEST_INTERRUPTIBILITY_INFO);
	CHECK(GUEST_INTR_STI_AND_MOVSS, true, (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS)) != (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS),
	      GUEST_INTERRUPTIBILITY_INFO);
	CHECK(GUEST_INTR_STI_NEEDS_IF, intr & INTERRUPTIBILITY_STI, rflags & RFLAGS_IF, GUEST_INTERRUPTIBILITY_INFO, GUEST_RFLAGS);
	CHECK(GUEST_INTR_EXTINT_BLOCKED, inject && type == INJ_EXTINT, !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS)),
	      GUEST_INTERRUPTIBILITY_INFO, VM_ENTRY_INTR_INFO);
	CHECK(GUEST_INTR_NMI_MOVSS, inject && type == INJ_NMI, !(intr & INTERRUPTIBILITY_MOVSS),
	      GUEST_INTERRUPTIBILITY_INFO, VM_ENTRY_INTR_INFO);
	CHECK(GUEST_INTR_SMI_OUTSIDE_SMM, !env->in_smm, !(intr & INTERRUPTIBILITY_SMI), GUEST_INTERRUPTIBILITY_INFO);
	CHECK(GUEST_INTR_SMI_FOR_SMM_ENTRY, entry & ENTRY_TO_SMM, intr & INTERRUPTIBILITY_SMI,
	      GUEST_INTERRUPTIBILITY_INFO, VM_ENTRY_CONTROLS);
	CHECK(GUEST_INTR_VNMI_NMI_BLOCKED, (pin & PIN_VIRTUAL_NMIS) && inject && type == INJ_NMI, !(intr & INTERRUPTIBILITY_NMI),
	      GUEST_INTERRUPTIBILITY_INFO, VM_ENTRY_INTR_INFO, PIN_BASED_VM_EXEC_CONTROL);
	CHECK(GUEST_INTR_ENCLAVE, intr & INTERRUPTIBILITY_ENCLAVE, !(intr & INTERRUPTIBILITY_MOVSS) && env->has_sgx,
	      GUEST_INTERRUPTIBILITY_INFO);

	/* 27.3.1.5: pending debug exceptions. */
	uint64_t pending = V(GUEST_PENDING_DBG_EXCEPTIONS);
	bool bs_rules = (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOVSS)) || act == ACT_HLT;
	bool tf = rflags & RFLAGS_TF;
	bool btf = V(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF;
	CHECK(GUEST_PENDING_DBG_RESERVED, true, (pending & PENDING_DBG_RESERVED) == 0, GUEST_PENDING_DBG_EXCEPTIONS);
	CHECK(GUEST_PENDING_DBG_BS_SET, bs_rules && tf && !btf, pending & PENDING_DBG_BS,
	      GUEST_PENDING_DBG_EXCEPTIONS, GUEST_RFLAGS, GUEST_IA32_DEBUGCTL, GUEST_INTERRUPTIBILITY_INFO);
	CHECK(GUEST_PENDING_DBG_BS_CLEAR, bs_rules && (!tf || btf), !(pending & PENDING_DBG_BS),
	      GUEST_PENDING_DBG_EXCEPTIONS, GUEST_RFLAGS, GUEST_IA32_DEBUGCTL, GUEST_INTERRUPTIBILITY_INFO);
	CHECK(GUEST_PENDING_DBG_RTM, pending & PENDING_DBG_RTM,
	      pending == PENDING_DBG_RTM_ONLY && env->has_rtm && !(intr & INTERRUPTIBILITY_MOVSS),
	      GUEST_PENDING_DBG_EXCEPTIONS, GUEST_INTERRUPTIBILITY_INFO);

	/* 27.3.1.5: the VMCS link pointer. */
	uint64_t link = V(VMCS_LINK_POINTER);
	bool has_link = link != ~0ULL;
	uint32_t header = 0;
	bool have_header = has_link && struct_addr_ok(c, link, 4096) && read_phys(c, link, &header, 4);
	bool smm_exec = env->in_smm && !(entry & ENTRY_TO_SMM);
	CHECK(GUEST_LINK_ADDR, has_link, struct_addr_ok(c, link, 4096), VMCS_LINK_POINTER);
	CHECK_X(GUEST_LINK_REVISION, have_header, (header & 0x7FFFFFFFu) == VMX_BASIC_REVISION(caps->basic),
		"revision identifier there", header & 0x7FFFFFFFu, VMCS_LINK_POINTER);
	CHECK_X(GUEST_LINK_SHADOW, have_header, !!(header >> 31) == !!(proc2 & PROC2_VMCS_SHADOWING),
		"its first 4 bytes", header, VMCS_LINK_POINTER);
	CHECK(GUEST_LINK_NOT_CURRENT, has_link && env->current_vmcs_pa != ~0ULL && !smm_exec,
	      link != env->current_vmcs_pa, VMCS_LINK_POINTER);
	CHECK(GUEST_LINK_NOT_EXECUTIVE, has_link && smm_exec, link != V(EXECUTIVE_VMCS_POINTER),
	      VMCS_LINK_POINTER, EXECUTIVE_VMCS_POINTER);

	/* 27.3.1.6: PDPTEs of a PAE-paging guest; from the VMCS with EPT,
	 * from the table CR3 points at without. */
	if (!((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !ia32e))
		return;
	static const char *const names[4] = { "PDPTE0", "PDPTE1", "PDPTE2", "PDPTE3" };
	static const vmcs_RW64_t *const pdpte_fields[4] = { &GUEST_PDPTE0, &GUEST_PDPTE1, &GUEST_PDPTE2,
							    &GUEST_PDPTE3 };
	uint64_t reserved = PDPTE_RESERVED | bits_above(env->phys_addr_bits);
	if (proc2 & PROC2_ENABLE_EPT) {
		for (unsigned i = 0; i < 4; i++)
			CHECK_S(GUEST_PDPTE_RESERVED, names[i], V(*pdpte_fields[i]) & 1,
				(V(*pdpte_fields[i]) & reserved) == 0, *pdpte_fields[i]);
		return;
	}
	uint64_t pdpte[4];
	if (!read_phys(c, V(GUEST_CR3) & 0xFFFFFFE0ULL, pdpte, sizeof(pdpte)))
		return;
	for (unsigned i = 0; i < 4; i++)
		CHECK_FULL(GUEST_PDPTE_RESERVED, names[i], pdpte[i] & 1, (pdpte[i] & reserved) == 0,
			   "(pdpte[i] & reserved) == 0", "entry in memory", pdpte[i], GUEST_CR3);
}

/* ---- Entry points ---- */

void vmx_entry_env_init(struct vmx_entry_env *env, const struct vmx_caps *caps,
			unsigned phys_addr_bits)
{
	struct cpuid_regs r;

	memset(env, 0, sizeof(*env));
	env->caps = caps;
	env->current_vmcs_pa = ~0ULL;
	env->phys_addr_bits = 36;
	env->linear_addr_bits = 48;
	cpuid(0x80000000, 0, &r);
	if (r.eax >= 0x80000008) {
		cpuid(0x80000008, 0, &r);
		env->phys_addr_bits = r.eax & 0xFF;
		if ((r.eax >> 8) & 0xFF)
			env->linear_addr_bits = (r.eax >> 8) & 0xFF;
	}
	if (phys_addr_bits)
		env->phys_addr_bits = phys_addr_bits;
	env->host_in_ia32e_mode = rdmsr(MSR_IA32_EFER) & EFER_LMA;

	cpuid(0, 0, &r);
	uint32_t max_leaf = r.eax;
	if (max_leaf >= 7) {
		cpuid(7, 0, &r);
		uint32_t max_subleaf = r.eax;
		env->has_sgx = (r.ebx >> 2) & 1;
		env->has_rtm = (r.ebx >> 11) & 1;
		env->has_cet_shadow_stack = (r.ecx >> 7) & 1;
		if (max_subleaf >= 1) {
			cpuid(7, 1, &r);
			env->has_lam = (r.eax >> 26) & 1;
		}
	}
	/* SDM Vol. 3B 21.2 (architectural performance monitoring): the
	 * general-purpose counters' enable bits start at 0, the fixed
	 * counters' at 32. */
	if (max_leaf >= 0xA) {
		cpuid(0xA, 0, &r);
		unsigned version = r.eax & 0xFF;
		if (version) {
			unsigned gp = (r.eax >> 8) & 0xFF, fixed = version > 1 ? r.edx & 0x1F : 0;
			env->perf_global_ctrl_valid = low_mask(gp > 32 ? 32 : gp) | low_mask(fixed) << 32;
		}
	}
	/* SDM Vol. 3C A.11, A.3.4: these capability MSRs exist only when the
	 * control that needs them may be 1. */
	if (vmx_control_allowed(caps, VMX_CONTROLS_PROC2, PROC2_ENABLE_VMFUNC))
		env->vmfunc_allowed = rdmsr(MSR_IA32_VMX_VMFUNC);
	if (vmx_control_allowed(caps, VMX_CONTROLS_PROC, PROC_TERTIARY_CONTROLS))
		env->proc3_allowed = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS3);
}

unsigned vmx_check_vm_entry_env(const struct vmx_entry_env *env, struct vmx_entry_report *report)
{
	struct ec c = { .env = env, .caps = env->caps, .report = report };

	if (report)
		memset(report, 0, sizeof(*report));
	c.struct_addr_bits = (env->caps->basic & VMX_BASIC_32BIT_ADDRESSES) && env->phys_addr_bits > 32
				     ? 32
				     : env->phys_addr_bits;

	struct ec *cp = &c;
	c.pin = (uint32_t)ec_get(cp, PIN_BASED_VM_EXEC_CONTROL.encoding);
	c.proc = (uint32_t)ec_get(cp, CPU_BASED_VM_EXEC_CONTROL.encoding);
	c.proc2 = c.proc & PROC_SECONDARY_CONTROLS ? (uint32_t)ec_get(cp, SECONDARY_VM_EXEC_CONTROL.encoding) : 0;
	c.proc3 = c.proc & PROC_TERTIARY_CONTROLS ? ec_get(cp, TERTIARY_VM_EXEC_CONTROL.encoding) : 0;
	c.exit = (uint32_t)ec_get(cp, VM_EXIT_CONTROLS.encoding);
	c.entry = (uint32_t)ec_get(cp, VM_ENTRY_CONTROLS.encoding);

	check_execution_controls(cp);
	check_exit_controls(cp);
	check_entry_controls(cp);
	check_host_state(cp);
	check_guest_state(cp);

	if (report) {
		report->failed = c.failed;
		for (unsigned k = 0; k < 3; k++)
			report->failed_by_kind[k] = c.by_kind[k];
	}
	if (c.failed)
		log_printf("cvisor: VM-entry checks: %u rule(s) failed: %u on controls (VM-instruction error 7), "
			   "%u on host state (error 8), %u on guest state (exit reason 33)\n",
			   c.failed, c.by_kind[VMX_ENTRY_KIND_CONTROL], c.by_kind[VMX_ENTRY_KIND_HOST],
			   c.by_kind[VMX_ENTRY_KIND_GUEST]);
	return c.failed;
}

unsigned vmx_check_vm_entry(const struct vmx_caps *caps, unsigned phys_addr_bits)
{
	struct vmx_entry_env env;

	vmx_entry_env_init(&env, caps, phys_addr_bits);
	return vmx_check_vm_entry_env(&env, NULL);
}
