/*
 * The software VM-entry checker (core/vmx/entry_checks.c) against a real
 * vCPU (vcpu_create) on the fake Tiger Lake CPU.
 *
 * Every rule is driven through both paths: a table of cases starts from
 * one of seven valid baselines (32-bit protected mode as vcpu_create builds
 * it, 64-bit, unrestricted-guest real mode, virtual-8086, paging without
 * unrestricted guest, PAE paging with and without EPT), changes a few
 * fields, and expects either no failure at all or exactly the named
 * rule(s).  The last test proves that every rule of VMX_ENTRY_RULES was
 * seen holding and seen failing somewhere in the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vmx/entry_checks.h"
#include "x86.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

/* MAXPHYADDR for the checks: the fake platform's pages are host heap
 * addresses, below 2^47. */
#define PHYS_BITS 48

/* Field encodings as integer constants, for the static case table. */
enum {
#define X(name, enc, width, access) E_##name = enc,
	VMCS_FIELDS(X)
#undef X
};

#define CR0_NE_BIT (1ULL << 5)
#define CR4_VMXE_BIT (1ULL << 13)

/* VM-entry interruption information: valid | type << 8 | vector. */
#define INJ(type, vector) ((1u << 31) | ((type) << 8) | (vector))
#define DELIVER (1u << 11)
#define T_EXTINT 0
#define T_NMI 2
#define T_HWEXC 3
#define T_SOFTINT 4
#define T_OTHER 7

#define NONCANONICAL 0x0000800000000000ULL

/* Pretend host-physical memory for read_phys: the virtual-APIC page at
 * 0x5000, a VMCS the link pointer names at 0x6000, a PDPT at 0x7000. */
#define VAPIC_PA 0x5000
#define LINK_PA 0x6000
#define PDPT_PA 0x7000
static uint8_t phys_mem[0x10000];

static bool test_read_phys(uint64_t pa, void *buf, size_t len)
{
	if (pa >= sizeof(phys_mem) || len > sizeof(phys_mem) - pa)
		return false;
	memcpy(buf, phys_mem + pa, len);
	return true;
}

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpu;
static struct vmx_caps caps;   /* what the checker sees; cases may widen it */
static struct vmx_entry_env env;
static struct vmx_entry_report report;

/* Outcomes seen over the whole run, for the coverage test at the end. */
static bool seen_pass[VMX_ENTRY_RULE_COUNT], seen_fail[VMX_ENTRY_RULE_COUNT];

static uint64_t get(uint32_t enc) { return fake_vmcs_get(enc); }
static void set(uint32_t enc, uint64_t v) { fake_vmcs_set(enc, v); }
static void or_bits(uint32_t enc, uint64_t v) { set(enc, get(enc) | v); }
static void clear_bits(uint32_t enc, uint64_t v) { set(enc, get(enc) & ~v); }

static void setup_machine(void (*load_model)(void))
{
	fake_platform_reset();
	fake_cpu_reset();
	load_model(); /* not fixture_reset_machine: another model than tigerlake */
	memset(&vcpu, 0, sizeof(vcpu));
	memset(phys_mem, 0, sizeof(phys_mem));
	fixture_vmx_on_and_vm(&cpu, &vm, 1, "t", 1);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	caps = cpu.caps;
	vmx_entry_env_init(&env, &caps, PHYS_BITS);
	env.read_phys = test_read_phys;
	env.current_vmcs_pa = vcpu.vmcs_pa;
	fake_console_clear();
}

static void load_tigerlake(void)
{
	fake_cpu_load_bochs_tigerlake();
	/* Tiger Lake allows "enable VM functions": IA32_VMX_VMFUNC exists
	 * (SDM A.11); Bochs reports EPTP switching only. */
	fake_msr_set(MSR_IA32_VMX_VMFUNC, 1, true);
}

static int setup(void **state)
{
	(void)state; /* keeps the case pointer cmocka put there */
	setup_machine(load_tigerlake);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
	return 0;
}

static unsigned run_checker(void)
{
	unsigned failed = vmx_check_vm_entry_env(&env, &report);

	for (unsigned r = 0; r < VMX_ENTRY_RULE_COUNT; r++)
		if (report.outcome[r] & VMX_ENTRY_RULE_PASSED)
			seen_pass[r] = true;
	return failed;
}

static void fail_with_report(const char *what)
{
	fail_msg("%s; the checker reported %u failure(s):\n%s", what, report.failed,
		 fake_console_text());
}

/* ---- The seven baselines ---- */

enum baseline { B32, B64, BREAL, BV86, BRESTRICTED, BPAE, BPAE_NOEPT };
static const char *const baseline_names[] = {
	[B32] = "32-bit protected mode (vcpu_create)", [B64] = "64-bit mode",
	[BREAL] = "unrestricted-guest real mode", [BV86] = "virtual-8086 mode",
	[BRESTRICTED] = "paging, no unrestricted guest", [BPAE] = "PAE paging with EPT",
	[BPAE_NOEPT] = "PAE paging without EPT",
};

static void make_64bit(void)
{
	or_bits(E_VM_ENTRY_CONTROLS, ENTRY_IA32E_MODE_GUEST);
	or_bits(E_GUEST_CR0, CR0_PG);
	or_bits(E_GUEST_CR4, CR4_PAE);
	set(E_GUEST_CR3, 0x1000);
	set(E_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	set(E_GUEST_CS_AR_BYTES, 0xA09B); /* G, L, P, S, code execute/read accessed */
}

static void make_real_mode(void)
{
	static const uint32_t data[][4] = {
		{ E_GUEST_SS_SELECTOR, E_GUEST_SS_BASE, E_GUEST_SS_LIMIT, E_GUEST_SS_AR_BYTES },
		{ E_GUEST_DS_SELECTOR, E_GUEST_DS_BASE, E_GUEST_DS_LIMIT, E_GUEST_DS_AR_BYTES },
		{ E_GUEST_ES_SELECTOR, E_GUEST_ES_BASE, E_GUEST_ES_LIMIT, E_GUEST_ES_AR_BYTES },
		{ E_GUEST_FS_SELECTOR, E_GUEST_FS_BASE, E_GUEST_FS_LIMIT, E_GUEST_FS_AR_BYTES },
		{ E_GUEST_GS_SELECTOR, E_GUEST_GS_BASE, E_GUEST_GS_LIMIT, E_GUEST_GS_AR_BYTES },
	};
	clear_bits(E_GUEST_CR0, CR0_PE);
	set(E_GUEST_CS_SELECTOR, 0xF000);
	set(E_GUEST_CS_BASE, 0xF0000);
	set(E_GUEST_CS_LIMIT, 0xFFFF);
	set(E_GUEST_CS_AR_BYTES, 0x9B);
	for (unsigned i = 0; i < 5; i++) {
		set(data[i][0], 0);
		set(data[i][1], 0);
		set(data[i][2], 0xFFFF);
		set(data[i][3], 0x93);
	}
	set(E_GUEST_RIP, 0xFFF0);
}

static void make_v86(void)
{
	static const uint32_t segs[][4] = {
		{ E_GUEST_ES_SELECTOR, E_GUEST_ES_BASE, E_GUEST_ES_LIMIT, E_GUEST_ES_AR_BYTES },
		{ E_GUEST_CS_SELECTOR, E_GUEST_CS_BASE, E_GUEST_CS_LIMIT, E_GUEST_CS_AR_BYTES },
		{ E_GUEST_SS_SELECTOR, E_GUEST_SS_BASE, E_GUEST_SS_LIMIT, E_GUEST_SS_AR_BYTES },
		{ E_GUEST_DS_SELECTOR, E_GUEST_DS_BASE, E_GUEST_DS_LIMIT, E_GUEST_DS_AR_BYTES },
		{ E_GUEST_FS_SELECTOR, E_GUEST_FS_BASE, E_GUEST_FS_LIMIT, E_GUEST_FS_AR_BYTES },
		{ E_GUEST_GS_SELECTOR, E_GUEST_GS_BASE, E_GUEST_GS_LIMIT, E_GUEST_GS_AR_BYTES },
	};
	set(E_GUEST_RFLAGS, RFLAGS_VM | 2);
	for (unsigned i = 0; i < 6; i++) {
		uint16_t sel = (uint16_t)(0x1000 + 0x100 * i);
		set(segs[i][0], sel);
		set(segs[i][1], (uint64_t)sel << 4);
		set(segs[i][2], 0xFFFF);
		set(segs[i][3], 0xF3);
	}
	set(E_GUEST_RIP, 0x100);
}

static void make_restricted(void)
{
	clear_bits(E_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST);
	or_bits(E_GUEST_CR0, CR0_PG);
	set(E_GUEST_CR3, 0x1000);
}

static void apply_baseline(enum baseline b)
{
	switch (b) {
	case B32:
		break;
	case B64:
		make_64bit();
		break;
	case BREAL:
		make_real_mode();
		break;
	case BV86:
		make_v86();
		break;
	case BRESTRICTED:
		make_restricted();
		break;
	case BPAE:
		or_bits(E_GUEST_CR0, CR0_PG);
		or_bits(E_GUEST_CR4, CR4_PAE);
		set(E_GUEST_CR3, PDPT_PA);
		break;
	case BPAE_NOEPT:
		make_restricted();
		clear_bits(E_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT);
		or_bits(E_GUEST_CR4, CR4_PAE);
		set(E_GUEST_CR3, PDPT_PA);
		break;
	}
}

/* ---- Tweaks of the capabilities, the environment, the memory ---- */

/* Every control allowed, for rules about controls Tiger Lake lacks. */
static void tw_wide(void)
{
	for (unsigned k = 0; k < VMX_CONTROL_KINDS; k++)
		caps.controls[k] |= 0xFFFFFFFF00000000ULL;
}
static void tw_proc2_requires_wbinvd_exiting(void)
{
	caps.controls[VMX_CONTROLS_PROC2] |= PROC2_WBINVD_EXITING;
}
static void tw_tertiary(void)
{
	caps.controls[VMX_CONTROLS_PROC] |= (uint64_t)PROC_TERTIARY_CONTROLS << 32;
	env.proc3_allowed = 1;
}
static void tw_vtpr_0x30(void) { phys_mem[VAPIC_PA + 0x80] = 0x30; }
static void tw_no_ept_ad(void) { caps.ept_vpid &= ~EPT_CAP_ACCESSED_DIRTY; }
static void tw_no_mtf(void)
{
	caps.controls[VMX_CONTROLS_PROC] &= ~((uint64_t)PROC_MONITOR_TRAP_FLAG << 32);
}
static void tw_strict_error_codes(void) { caps.basic &= ~(1ULL << 56); }
static void tw_no_zero_length(void) { caps.misc &= ~(1ULL << 30); }
static void tw_no_activity_states(void) { caps.misc &= ~0x1C0ULL; }
static void tw_smm(void) { env.in_smm = true; }
static void tw_legacy_host(void) { env.host_in_ia32e_mode = false; }
static void tw_rtm(void) { env.has_rtm = true; }
static void tw_no_sgx(void) { env.has_sgx = false; }
static void put32(uint64_t pa, uint32_t v) { memcpy(phys_mem + pa, &v, 4); }
static void put64(uint64_t pa, uint64_t v) { memcpy(phys_mem + pa, &v, 8); }
static void tw_link_ok(void) { put32(LINK_PA, VMX_BASIC_REVISION(caps.basic)); }
static void tw_link_bad_revision(void) { put32(LINK_PA, VMX_BASIC_REVISION(caps.basic) + 1); }
static void tw_link_shadow(void) { put32(LINK_PA, VMX_BASIC_REVISION(caps.basic) | 1u << 31); }
static void tw_link_is_current(void)
{
	tw_link_ok();
	env.current_vmcs_pa = LINK_PA;
}
static void tw_smm_link_ok(void)
{
	tw_smm();
	tw_link_ok();
}
static void tw_pdpt_ok(void)
{
	for (unsigned i = 0; i < 4; i++)
		put64(PDPT_PA + 8 * i, 0x3001 + 0x1000 * i);
}
static void tw_pdpt_bad(void)
{
	tw_pdpt_ok();
	put64(PDPT_PA + 8, 0x4081); /* bit 7 is reserved in a PAE PDPTE */
}

/* ---- The case table ---- */

enum op { END, SET, OR, CLR };
struct write {
	enum op op;
	uint32_t enc;
	uint64_t v;
};
struct expect {
	enum vmx_entry_rule rule;
	const char *subject;
};
struct check_case {
	const char *name;
	enum baseline base;
	void (*tweak)(void);
	struct write w[10];
	unsigned nfail; /* 0: the VMCS must pass every rule */
	struct expect fail[2];
};

#define S(f, v) { SET, E_##f, (v) }
#define O(f, v) { OR, E_##f, (v) }
#define C(f, v) { CLR, E_##f, (v) }
#define FAILS(rule, subject) .nfail = 1, .fail = { { VMX_RULE_##rule, subject } }
#define FAILS2(r1, s1, r2, s2) .nfail = 2, .fail = { { VMX_RULE_##r1, s1 }, { VMX_RULE_##r2, s2 } }

/* Writes that make a valid 32-bit host (host address-space size 0). */
#define LEGACY_HOST C(VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE), S(HOST_RIP, 0x100000), \
	C(HOST_IA32_EFER, EFER_LME | EFER_LMA)
/* Use TPR shadow with a valid virtual-APIC page. */
#define TPR_SHADOW O(CPU_BASED_VM_EXEC_CONTROL, PROC_USE_TPR_SHADOW), S(VIRTUAL_APIC_PAGE_ADDR, VAPIC_PA)
/* A valid posted-interrupt setup (needs tw_wide: Tiger Lake lacks it). */
#define POSTED_VID TPR_SHADOW, O(SECONDARY_VM_EXEC_CONTROL, PROC2_VIRTUAL_INTR_DELIVERY), \
	S(POSTED_INTR_NOTIFICATION_VECTOR, 0xF2), S(POSTED_INTR_DESC_ADDR, 0x4000)
#define POSTED_PIN O(PIN_BASED_VM_EXEC_CONTROL, PIN_POSTED_INTERRUPTS | PIN_EXTERNAL_INTERRUPT_EXITING)
#define POSTED_ACK O(VM_EXIT_CONTROLS, EXIT_ACK_INTERRUPT_ON_EXIT)
/* A usable LDT. */
#define LDTR_USABLE S(GUEST_LDTR_SELECTOR, 0x18), S(GUEST_LDTR_LIMIT, 0xFF), S(GUEST_LDTR_AR_BYTES, 0x82)
#define SMM_ENTRY O(VM_ENTRY_CONTROLS, ENTRY_TO_SMM), O(GUEST_INTERRUPTIBILITY_INFO, 4)

static const struct check_case cases[] = {
	/* The baselines themselves. */
	{ "baseline: 32-bit protected mode as vcpu_create builds it", B32, NULL, { { END, 0, 0 } }, 0, { { 0, 0 } } },
	{ "baseline: 64-bit guest (IA-32e mode guest, CS.L=1)", B64, NULL, { { END, 0, 0 } }, 0, { { 0, 0 } } },
	{ "baseline: unrestricted-guest real mode", BREAL, NULL, { { END, 0, 0 } }, 0, { { 0, 0 } } },
	{ "baseline: virtual-8086 mode", BV86, NULL, { { END, 0, 0 } }, 0, { { 0, 0 } } },
	{ "baseline: paging without unrestricted guest", BRESTRICTED, NULL, { { END, 0, 0 } }, 0, { { 0, 0 } } },
	{ "baseline: PAE paging with EPT", BPAE, NULL, { { END, 0, 0 } }, 0, { { 0, 0 } } },
	{ "baseline: PAE paging without EPT", BPAE_NOEPT, tw_pdpt_ok, { { END, 0, 0 } }, 0, { { 0, 0 } } },

	/* ---- 27.2.1.1 VM-execution controls ---- */
	{ "pin control required by the MSR cleared", B32, NULL, { C(PIN_BASED_VM_EXEC_CONTROL, 1u << 1) }, FAILS(CTRL_PIN_ALLOWED0, NULL) },
	{ "pin control bit 8 (not allowed) set", B32, NULL, { O(PIN_BASED_VM_EXEC_CONTROL, 1u << 8) }, FAILS(CTRL_PIN_ALLOWED1, NULL) },
	{ "primary control required by the MSR cleared", B32, NULL, { C(CPU_BASED_VM_EXEC_CONTROL, 1u << 1) }, FAILS(CTRL_PROC_ALLOWED0, NULL) },
	{ "primary control bit 0 (not allowed) set", B32, NULL, { O(CPU_BASED_VM_EXEC_CONTROL, 1u << 0) }, FAILS(CTRL_PROC_ALLOWED1, NULL) },
	{ "secondary control the MSR requires is 0", B32, tw_proc2_requires_wbinvd_exiting, { { END, 0, 0 } }, FAILS(CTRL_PROC2_ALLOWED0, NULL) },
	{ "secondary control bit 27 (not allowed) set", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, 1u << 27) }, FAILS(CTRL_PROC2_ALLOWED1, NULL) },
	{ "tertiary controls: an allowed bit", B32, tw_tertiary, { O(CPU_BASED_VM_EXEC_CONTROL, PROC_TERTIARY_CONTROLS), S(TERTIARY_VM_EXEC_CONTROL, 1) }, 0, { { 0, 0 } } },
	{ "tertiary controls: a bit IA32_VMX_PROCBASED_CTLS3 lacks", B32, tw_tertiary, { O(CPU_BASED_VM_EXEC_CONTROL, PROC_TERTIARY_CONTROLS), S(TERTIARY_VM_EXEC_CONTROL, 2) }, FAILS(CTRL_PROC3_ALLOWED1, NULL) },
	{ "CR3-target count 5 > 4", B32, NULL, { S(CR3_TARGET_COUNT, 5) }, FAILS(CTRL_CR3_TARGET_COUNT, NULL) },
	{ "I/O bitmaps at aligned addresses", B32, NULL, { O(CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS), S(IO_BITMAP_A, 0x1000), S(IO_BITMAP_B, 0x2000) }, 0, { { 0, 0 } } },
	{ "I/O bitmap A not 4-KiB aligned", B32, NULL, { O(CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS), S(IO_BITMAP_A, 0x1234), S(IO_BITMAP_B, 0x2000) }, FAILS(CTRL_IO_BITMAP_ADDR, "A") },
	{ "I/O bitmap B beyond MAXPHYADDR", B32, NULL, { O(CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS), S(IO_BITMAP_A, 0x1000), S(IO_BITMAP_B, 1ULL << 50) }, FAILS(CTRL_IO_BITMAP_ADDR, "B") },
	{ "MSR bitmap not 4-KiB aligned", B32, NULL, { O(MSR_BITMAP, 0x800) }, FAILS(CTRL_MSR_BITMAP_ADDR, NULL) },
	{ "TPR shadow with threshold 0 and VTPR 0", B32, NULL, { TPR_SHADOW }, 0, { { 0, 0 } } },
	{ "TPR shadow: virtual-APIC page misaligned", B32, NULL, { O(CPU_BASED_VM_EXEC_CONTROL, PROC_USE_TPR_SHADOW), S(VIRTUAL_APIC_PAGE_ADDR, VAPIC_PA + 1) }, FAILS(CTRL_VIRTUAL_APIC_ADDR, NULL) },
	{ "TPR shadow: threshold 0x10 sets bit 4", B32, NULL, { TPR_SHADOW, S(TPR_THRESHOLD, 0x10) }, FAILS(CTRL_TPR_THRESHOLD_BITS, NULL) },
	{ "TPR shadow: threshold 3 <= VTPR 0x30", B32, tw_vtpr_0x30, { TPR_SHADOW, S(TPR_THRESHOLD, 3) }, 0, { { 0, 0 } } },
	{ "TPR shadow: threshold 5 > VTPR 0x30", B32, tw_vtpr_0x30, { TPR_SHADOW, S(TPR_THRESHOLD, 5) }, FAILS(CTRL_TPR_THRESHOLD_VTPR, NULL) },
	{ "APIC-register virtualization without TPR shadow", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_APIC_REGISTER_VIRT) }, FAILS(CTRL_APICV_NEEDS_TPR_SHADOW, NULL) },
	{ "virtualize x2APIC mode with TPR shadow", B32, NULL, { TPR_SHADOW, O(SECONDARY_VM_EXEC_CONTROL, PROC2_VIRTUALIZE_X2APIC) }, 0, { { 0, 0 } } },
	{ "virtualize x2APIC mode with APIC-access virtualization", B32, NULL, { TPR_SHADOW, O(SECONDARY_VM_EXEC_CONTROL, PROC2_VIRTUALIZE_X2APIC | PROC2_VIRTUALIZE_APIC_ACCESSES), S(APIC_ACCESS_ADDR, 0x8000) }, FAILS(CTRL_X2APIC_NO_APIC_ACCESS, NULL) },
	{ "virtual-interrupt delivery with external-interrupt exiting", B32, NULL, { TPR_SHADOW, O(SECONDARY_VM_EXEC_CONTROL, PROC2_VIRTUAL_INTR_DELIVERY), O(PIN_BASED_VM_EXEC_CONTROL, PIN_EXTERNAL_INTERRUPT_EXITING) }, 0, { { 0, 0 } } },
	{ "virtual-interrupt delivery without external-interrupt exiting", B32, NULL, { TPR_SHADOW, O(SECONDARY_VM_EXEC_CONTROL, PROC2_VIRTUAL_INTR_DELIVERY), C(PIN_BASED_VM_EXEC_CONTROL, PIN_EXTERNAL_INTERRUPT_EXITING) }, FAILS(CTRL_VID_NEEDS_EXT_INT_EXITING, NULL) },
	{ "posted interrupts fully set up", B32, tw_wide, { POSTED_VID, POSTED_PIN, POSTED_ACK }, 0, { { 0, 0 } } },
	{ "posted interrupts without virtual-interrupt delivery", B32, tw_wide, { O(PIN_BASED_VM_EXEC_CONTROL, PIN_POSTED_INTERRUPTS), POSTED_ACK, S(POSTED_INTR_NOTIFICATION_VECTOR, 0xF2), S(POSTED_INTR_DESC_ADDR, 0x4000) }, FAILS(CTRL_POSTED_NEEDS_VID, NULL) },
	{ "posted interrupts without acknowledge on exit", B32, tw_wide, { POSTED_VID, POSTED_PIN, C(VM_EXIT_CONTROLS, EXIT_ACK_INTERRUPT_ON_EXIT) }, FAILS(CTRL_POSTED_NEEDS_ACK_ON_EXIT, NULL) },
	{ "posted-interrupt notification vector 0x1F2", B32, tw_wide, { POSTED_VID, POSTED_PIN, POSTED_ACK, S(POSTED_INTR_NOTIFICATION_VECTOR, 0x1F2) }, FAILS(CTRL_POSTED_VECTOR, NULL) },
	{ "posted-interrupt descriptor not 64-byte aligned", B32, tw_wide, { POSTED_VID, POSTED_PIN, POSTED_ACK, S(POSTED_INTR_DESC_ADDR, 0x4020) }, FAILS(CTRL_POSTED_DESC_ADDR, NULL) },
	{ "virtual NMIs with NMI exiting", B32, NULL, { O(PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS | PIN_NMI_EXITING), O(CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING) }, 0, { { 0, 0 } } },
	{ "virtual NMIs without NMI exiting", B32, NULL, { O(PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS), C(PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING) }, FAILS(CTRL_VNMI_NEEDS_NMI_EXITING, NULL) },
	{ "NMI-window exiting without virtual NMIs", B32, NULL, { C(PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS), O(CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING) }, FAILS(CTRL_NMI_WINDOW_NEEDS_VNMI, NULL) },
	{ "APIC-access page aligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_VIRTUALIZE_APIC_ACCESSES), S(APIC_ACCESS_ADDR, 0x8000) }, 0, { { 0, 0 } } },
	{ "APIC-access page misaligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_VIRTUALIZE_APIC_ACCESSES), S(APIC_ACCESS_ADDR, 0x8008) }, FAILS(CTRL_APIC_ACCESS_ADDR, NULL) },
	{ "Bochs cross-check: VPID 0 with enable VPID", B32, NULL, { S(VIRTUAL_PROCESSOR_ID, 0) }, FAILS(CTRL_VPID_NONZERO, NULL) },
	{ "EPTP memory type UC (EPT_VPID_CAP[8])", B32, NULL, { C(EPT_POINTER, 7) }, 0, { { 0, 0 } } },
	{ "EPTP memory type 5", B32, NULL, { C(EPT_POINTER, 7), O(EPT_POINTER, 5) }, FAILS(CTRL_EPTP_MEMORY_TYPE, NULL) },
	{ "EPTP 5-level walk without EPT_VPID_CAP[7]", B32, NULL, { C(EPT_POINTER, 0x38), O(EPT_POINTER, 4 << 3) }, FAILS(CTRL_EPTP_WALK_LENGTH, NULL) },
	{ "EPTP accessed/dirty flags with EPT_VPID_CAP[21]", B32, NULL, { O(EPT_POINTER, 0x40) }, 0, { { 0, 0 } } },
	{ "EPTP accessed/dirty flags without EPT_VPID_CAP[21]", B32, tw_no_ept_ad, { O(EPT_POINTER, 0x40) }, FAILS(CTRL_EPTP_ACCESSED_DIRTY, NULL) },
	{ "EPTP reserved bit 9", B32, NULL, { O(EPT_POINTER, 1u << 9) }, FAILS(CTRL_EPTP_RESERVED, NULL) },
	{ "EPTP bit 7 without CET shadow stacks", B32, NULL, { O(EPT_POINTER, 1u << 7) }, FAILS(CTRL_EPTP_RESERVED, NULL) },
	{ "unrestricted guest without EPT", B32, NULL, { C(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT) }, FAILS(CTRL_UNRESTRICTED_NEEDS_EPT, NULL) },
	{ "PML with EPT", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_PML), S(PML_ADDRESS, 0x8000) }, 0, { { 0, 0 } } },
	{ "PML without EPT", BRESTRICTED, NULL, { C(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT), O(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_PML), S(PML_ADDRESS, 0x8000) }, FAILS(CTRL_PML_NEEDS_EPT, NULL) },
	{ "PML address misaligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_PML), S(PML_ADDRESS, 0x8100) }, FAILS(CTRL_PML_ADDR, NULL) },
	{ "mode-based execute control with EPT", B32, tw_wide, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_MODE_BASED_EPT_EXEC) }, 0, { { 0, 0 } } },
	{ "mode-based execute control without EPT", BRESTRICTED, tw_wide, { C(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT), O(SECONDARY_VM_EXEC_CONTROL, PROC2_MODE_BASED_EPT_EXEC) }, FAILS(CTRL_MBEC_NEEDS_EPT, NULL) },
	{ "sub-page permissions with EPT", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_EPT_SUBPAGE_WRITE), S(SPP_TABLE_POINTER, 0x9000) }, 0, { { 0, 0 } } },
	{ "sub-page permissions without EPT", BRESTRICTED, NULL, { C(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT), O(SECONDARY_VM_EXEC_CONTROL, PROC2_EPT_SUBPAGE_WRITE), S(SPP_TABLE_POINTER, 0x9000) }, FAILS(CTRL_SPP_NEEDS_EPT, NULL) },
	{ "SPPTP misaligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_EPT_SUBPAGE_WRITE), S(SPP_TABLE_POINTER, 0x9010) }, FAILS(CTRL_SPPTP_ADDR, NULL) },
	{ "EPTP switching with an aligned EPTP list", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VMFUNC), S(VM_FUNCTION_CONTROLS, 1), S(EPTP_LIST_ADDR, 0xA000) }, 0, { { 0, 0 } } },
	{ "VM function 1 that IA32_VMX_VMFUNC lacks", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VMFUNC), S(VM_FUNCTION_CONTROLS, 2) }, FAILS(CTRL_VMFUNC_ALLOWED, NULL) },
	{ "EPTP switching without EPT", BRESTRICTED, NULL, { C(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT), O(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VMFUNC), S(VM_FUNCTION_CONTROLS, 1), S(EPTP_LIST_ADDR, 0xA000) }, FAILS(CTRL_EPTP_SWITCHING_NEEDS_EPT, NULL) },
	{ "EPTP list misaligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VMFUNC), S(VM_FUNCTION_CONTROLS, 1), S(EPTP_LIST_ADDR, 0xA001) }, FAILS(CTRL_EPTP_LIST_ADDR, NULL) },
	{ "VMCS shadowing with aligned bitmaps", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING), S(VMREAD_BITMAP, 0xB000), S(VMWRITE_BITMAP, 0xC000) }, 0, { { 0, 0 } } },
	{ "VMCS shadowing: VMREAD bitmap misaligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING), S(VMREAD_BITMAP, 0xB004), S(VMWRITE_BITMAP, 0xC000) }, FAILS(CTRL_VMCS_SHADOW_BITMAP_ADDR, "VMREAD") },
	{ "VMCS shadowing: VMWRITE bitmap misaligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_VMCS_SHADOWING), S(VMREAD_BITMAP, 0xB000), S(VMWRITE_BITMAP, 0xC001) }, FAILS(CTRL_VMCS_SHADOW_BITMAP_ADDR, "VMWRITE") },
	{ "EPT-violation #VE with an aligned information area", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_EPT_VE), S(VE_INFO_ADDR, 0xD000) }, 0, { { 0, 0 } } },
	{ "EPT-violation #VE information area misaligned", B32, NULL, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_EPT_VE), S(VE_INFO_ADDR, 0xD010) }, FAILS(CTRL_VE_INFO_ADDR, NULL) },
	{ "PT uses guest-physical addresses with its controls", B32, tw_wide, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_PT_USES_GPA), O(VM_ENTRY_CONTROLS, ENTRY_LOAD_RTIT_CTL), O(VM_EXIT_CONTROLS, EXIT_CLEAR_RTIT_CTL) }, 0, { { 0, 0 } } },
	{ "PT uses guest-physical addresses without load/clear RTIT_CTL", B32, tw_wide, { O(SECONDARY_VM_EXEC_CONTROL, PROC2_PT_USES_GPA) }, FAILS(CTRL_PT_GPA_NEEDS, NULL) },

	/* ---- 27.2.1.2 VM-exit controls ---- */
	{ "exit control required by the MSR cleared", B32, NULL, { C(VM_EXIT_CONTROLS, 1u << 0) }, FAILS(CTRL_EXIT_ALLOWED0, NULL) },
	{ "exit control bit 30 (not allowed) set", B32, NULL, { O(VM_EXIT_CONTROLS, 1u << 30) }, FAILS(CTRL_EXIT_ALLOWED1, NULL) },
	{ "save preemption timer without the timer", B32, NULL, { C(PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER) }, FAILS(CTRL_SAVE_TIMER_NEEDS_TIMER, NULL) },
	{ "VM-exit MSR-store area aligned", B32, NULL, { S(VM_EXIT_MSR_STORE_COUNT, 2), S(VM_EXIT_MSR_STORE_ADDR, 0xE000) }, 0, { { 0, 0 } } },
	{ "VM-exit MSR-store area misaligned", B32, NULL, { S(VM_EXIT_MSR_STORE_COUNT, 2), S(VM_EXIT_MSR_STORE_ADDR, 0xE008) }, FAILS(CTRL_EXIT_MSR_STORE_ADDR, NULL) },
	{ "VM-exit MSR-store area ends beyond MAXPHYADDR", B32, NULL, { S(VM_EXIT_MSR_STORE_COUNT, 2), S(VM_EXIT_MSR_STORE_ADDR, (1ULL << PHYS_BITS) - 16) }, FAILS(CTRL_EXIT_MSR_STORE_ADDR, NULL) },
	{ "VM-exit MSR-load area aligned", B32, NULL, { S(VM_EXIT_MSR_LOAD_COUNT, 1), S(VM_EXIT_MSR_LOAD_ADDR, 0xE000) }, 0, { { 0, 0 } } },
	{ "VM-exit MSR-load area misaligned", B32, NULL, { S(VM_EXIT_MSR_LOAD_COUNT, 1), S(VM_EXIT_MSR_LOAD_ADDR, 0xE001) }, FAILS(CTRL_EXIT_MSR_LOAD_ADDR, NULL) },

	/* ---- 27.2.1.3 VM-entry controls ---- */
	{ "entry control required by the MSR cleared", B32, NULL, { C(VM_ENTRY_CONTROLS, 1u << 0) }, FAILS(CTRL_ENTRY_ALLOWED0, NULL) },
	{ "entry control bit 24 (not allowed) set", B32, NULL, { O(VM_ENTRY_CONTROLS, 1u << 24) }, FAILS(CTRL_ENTRY_ALLOWED1, NULL) },
	{ "inject NMI vector 2", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2)) }, 0, { { 0, 0 } } },
	{ "inject type 1 (reserved)", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(1, 0)) }, FAILS(CTRL_INJECT_TYPE, NULL) },
	{ "inject type 7 without monitor-trap-flag support", B32, tw_no_mtf, { S(VM_ENTRY_INTR_INFO, INJ(T_OTHER, 0)) }, FAILS(CTRL_INJECT_TYPE, NULL) },
	{ "inject NMI with vector 3", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 3)) }, FAILS(CTRL_INJECT_NMI_VECTOR, NULL) },
	{ "inject #GP with error code 0", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 13) | DELIVER), S(VM_ENTRY_EXCEPTION_ERROR_CODE, 0) }, 0, { { 0, 0 } } },
	{ "inject hardware exception vector 40", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 40)) }, FAILS(CTRL_INJECT_EXCEPTION_VECTOR, NULL) },
	{ "inject pending MTF (type 7, vector 0)", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_OTHER, 0)) }, 0, { { 0, 0 } } },
	{ "inject type 7 with vector 1", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_OTHER, 1)) }, FAILS(CTRL_INJECT_OTHER_VECTOR, NULL) },
	{ "IA32_VMX_BASIC[56]=0: #GP with its error code", B32, tw_strict_error_codes, { S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 13) | DELIVER) }, 0, { { 0, 0 } } },
	{ "IA32_VMX_BASIC[56]=0: #GP without an error code", B32, tw_strict_error_codes, { S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 13)) }, FAILS(CTRL_INJECT_ERROR_CODE_NEEDED, NULL) },
	{ "IA32_VMX_BASIC[56]=0: #UD with an error code", B32, tw_strict_error_codes, { S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 6) | DELIVER) }, FAILS(CTRL_INJECT_ERROR_CODE_FORBIDDEN, NULL) },
	{ "inject NMI with an error code", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2) | DELIVER) }, FAILS(CTRL_INJECT_ERROR_CODE_FORBIDDEN, NULL) },
	{ "inject #GP with an error code into real mode", BREAL, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 13) | DELIVER) }, FAILS(CTRL_INJECT_ERROR_CODE_FORBIDDEN, NULL) },
	{ "interruption information bit 12 set", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2) | (1u << 12)) }, FAILS(CTRL_INJECT_RESERVED, NULL) },
	{ "error code 0x10000 (bits 31:16 set)", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 13) | DELIVER), S(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000) }, FAILS(CTRL_INJECT_ERROR_CODE_BITS, NULL) },
	{ "software interrupt with length 2", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_SOFTINT, 0x80)), S(VM_ENTRY_INSTRUCTION_LEN, 2) }, 0, { { 0, 0 } } },
	{ "software interrupt with length 0 (IA32_VMX_MISC[30]=1)", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_SOFTINT, 0x80)), S(VM_ENTRY_INSTRUCTION_LEN, 0) }, 0, { { 0, 0 } } },
	{ "software interrupt with length 16", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_SOFTINT, 0x80)), S(VM_ENTRY_INSTRUCTION_LEN, 16) }, FAILS(CTRL_INJECT_INSTRUCTION_LENGTH, NULL) },
	{ "software interrupt with length 0 (IA32_VMX_MISC[30]=0)", B32, tw_no_zero_length, { S(VM_ENTRY_INTR_INFO, INJ(T_SOFTINT, 0x80)), S(VM_ENTRY_INSTRUCTION_LEN, 0) }, FAILS(CTRL_INJECT_INSTRUCTION_LENGTH, NULL) },
	{ "VM-entry MSR-load area aligned", B32, NULL, { S(VM_ENTRY_MSR_LOAD_COUNT, 3), S(VM_ENTRY_MSR_LOAD_ADDR, 0xF000) }, 0, { { 0, 0 } } },
	{ "VM-entry MSR-load area misaligned", B32, NULL, { S(VM_ENTRY_MSR_LOAD_COUNT, 3), S(VM_ENTRY_MSR_LOAD_ADDR, 0xF004) }, FAILS(CTRL_ENTRY_MSR_LOAD_ADDR, NULL) },
	{ "deactivate dual-monitor treatment outside SMM", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_DEACTIVATE_DUAL_MONITOR) }, FAILS(CTRL_ENTRY_SMM_OUTSIDE_SMM, NULL) },
	{ "in SMM: entry to SMM with blocking by SMI", B32, tw_smm, { SMM_ENTRY }, 0, { { 0, 0 } } },
	{ "in SMM: entry to SMM and deactivate dual-monitor together", B32, tw_smm, { SMM_ENTRY, O(VM_ENTRY_CONTROLS, ENTRY_DEACTIVATE_DUAL_MONITOR) }, FAILS(CTRL_ENTRY_SMM_AND_DEACTIVATE, NULL) },

	/* ---- 27.2.2 host control registers and MSRs ---- */
	{ "host CR0.NE cleared", B32, NULL, { C(HOST_CR0, CR0_NE_BIT) }, FAILS(HOST_CR0_FIXED, NULL) },
	{ "host CR4.VMXE cleared", B32, NULL, { C(HOST_CR4, CR4_VMXE_BIT) }, FAILS(HOST_CR4_FIXED, NULL) },
	{ "host CR4.CET with CR0.WP", B32, NULL, { O(HOST_CR4, CR4_CET), O(HOST_CR0, CR0_WP) }, 0, { { 0, 0 } } },
	{ "host CR4.CET without CR0.WP", B32, NULL, { O(HOST_CR4, CR4_CET) }, FAILS(HOST_CR4_CET_NEEDS_WP, NULL) },
	{ "host CR3 beyond MAXPHYADDR", B32, NULL, { S(HOST_CR3, 1ULL << 50) }, FAILS(HOST_CR3_WIDTH, NULL) },
	{ "host SYSENTER_ESP not canonical", B32, NULL, { S(HOST_IA32_SYSENTER_ESP, NONCANONICAL) }, FAILS(HOST_SYSENTER_CANONICAL, "SYSENTER_ESP") },
	{ "host SYSENTER_EIP not canonical", B32, NULL, { S(HOST_IA32_SYSENTER_EIP, NONCANONICAL) }, FAILS(HOST_SYSENTER_CANONICAL, "SYSENTER_EIP") },
	{ "load CET state on exit with zero CET state", B32, NULL, { O(VM_EXIT_CONTROLS, EXIT_LOAD_CET_STATE) }, 0, { { 0, 0 } } },
	{ "host IA32_S_CET reserved bit 6", B32, NULL, { O(VM_EXIT_CONTROLS, EXIT_LOAD_CET_STATE), S(HOST_S_CET, 0x40) }, FAILS(HOST_S_CET_VALID, NULL) },
	{ "host IA32_S_CET SUPPRESS and TRACKER", B32, NULL, { O(VM_EXIT_CONTROLS, EXIT_LOAD_CET_STATE), S(HOST_S_CET, 0xC00) }, FAILS(HOST_S_CET_VALID, NULL) },
	{ "host SSP bits 1:0 set", B32, NULL, { O(VM_EXIT_CONTROLS, EXIT_LOAD_CET_STATE), S(HOST_SSP, 0x1002) }, FAILS(HOST_SSP_VALID, NULL) },
	{ "host interrupt SSP table not canonical", B32, NULL, { O(VM_EXIT_CONTROLS, EXIT_LOAD_CET_STATE), S(HOST_INTR_SSP_TABLE_ADDR, NONCANONICAL) }, FAILS(HOST_INTR_SSP_TABLE_VALID, NULL) },
	{ "host PERF_GLOBAL_CTRL enabling 8 GP + 3 fixed counters", B32, NULL, { O(VM_EXIT_CONTROLS, EXIT_LOAD_PERF_GLOBAL_CTRL), S(HOST_IA32_PERF_GLOBAL_CTRL, 0x7000000FFULL) }, 0, { { 0, 0 } } },
	{ "host PERF_GLOBAL_CTRL enabling a ninth GP counter", B32, NULL, { O(VM_EXIT_CONTROLS, EXIT_LOAD_PERF_GLOBAL_CTRL), S(HOST_IA32_PERF_GLOBAL_CTRL, 1ULL << 8) }, FAILS(HOST_PERF_GLOBAL_CTRL_RESERVED, NULL) },
	{ "host PAT with memory type 2", B32, NULL, { S(HOST_IA32_PAT, 0x0007040600070402ULL) }, FAILS(HOST_PAT_VALID, NULL) },
	{ "host EFER bit 9 set", B32, NULL, { O(HOST_IA32_EFER, 1u << 9) }, FAILS(HOST_EFER_RESERVED, NULL) },
	{ "host EFER.LME cleared in a 64-bit host", B32, NULL, { C(HOST_IA32_EFER, EFER_LME) }, FAILS(HOST_EFER_LMA_LME, NULL) },
	{ "host PKRS loaded with 0x55", B32, tw_wide, { O(VM_EXIT_CONTROLS, EXIT_LOAD_PKRS), S(HOST_IA32_PKRS, 0x55) }, 0, { { 0, 0 } } },
	{ "host PKRS bits 63:32 set", B32, tw_wide, { O(VM_EXIT_CONTROLS, EXIT_LOAD_PKRS), S(HOST_IA32_PKRS, 1ULL << 32) }, FAILS(HOST_PKRS_RESERVED, NULL) },

	/* ---- 27.2.3 host segment and descriptor-table registers ---- */
	{ "host DS selector with RPL 3", B32, NULL, { S(HOST_DS_SELECTOR, 0x13) }, FAILS(HOST_SELECTOR_RPL_TI, "DS") },
	{ "host TR selector with TI set", B32, NULL, { S(HOST_TR_SELECTOR, 0x24) }, FAILS(HOST_SELECTOR_RPL_TI, "TR") },
	{ "host CS selector 0", B32, NULL, { S(HOST_CS_SELECTOR, 0) }, FAILS(HOST_CS_NONZERO, NULL) },
	{ "Bochs cross-check: host TR selector 0", B32, NULL, { S(HOST_TR_SELECTOR, 0) }, FAILS(HOST_TR_NONZERO, NULL) },
	{ "host SS selector 0 in a 64-bit host", B32, NULL, { S(HOST_SS_SELECTOR, 0) }, 0, { { 0, 0 } } },
	{ "32-bit host: valid", B32, tw_legacy_host, { LEGACY_HOST }, 0, { { 0, 0 } } },
	{ "32-bit host: SS selector 0", B32, tw_legacy_host, { LEGACY_HOST, S(HOST_SS_SELECTOR, 0) }, FAILS(HOST_SS_NONZERO, NULL) },
	{ "host FS base not canonical", B32, NULL, { S(HOST_FS_BASE, NONCANONICAL) }, FAILS(HOST_BASE_CANONICAL, "FS") },
	{ "host GS base not canonical", B32, NULL, { S(HOST_GS_BASE, NONCANONICAL) }, FAILS(HOST_BASE_CANONICAL, "GS") },
	{ "host GDTR base not canonical", B32, NULL, { S(HOST_GDTR_BASE, NONCANONICAL) }, FAILS(HOST_BASE_CANONICAL, "GDTR") },
	{ "host IDTR base not canonical", B32, NULL, { S(HOST_IDTR_BASE, NONCANONICAL) }, FAILS(HOST_BASE_CANONICAL, "IDTR") },
	{ "host TR base not canonical", B32, NULL, { S(HOST_TR_BASE, NONCANONICAL) }, FAILS(HOST_BASE_CANONICAL, "TR") },

	/* ---- 27.2.4 address-space size ---- */
	{ "64-bit host with host address-space size 0", B32, NULL, { LEGACY_HOST }, FAILS(HOST_IA32E_NEEDS_HOST_SIZE, NULL) },
	{ "32-bit host with host address-space size 1", B32, tw_legacy_host, { { END, 0, 0 } }, FAILS(HOST_LEGACY_NO_64BIT, NULL) },
	{ "32-bit host entering a 64-bit guest", B64, tw_legacy_host, { LEGACY_HOST }, FAILS2(HOST_LEGACY_NO_64BIT, NULL, HOST_SIZE0_NO_IA32E_GUEST, NULL) },
	{ "32-bit host with CR4.PCIDE", B32, tw_legacy_host, { LEGACY_HOST, O(HOST_CR4, CR4_PCIDE) }, FAILS(HOST_SIZE0_NO_PCIDE, NULL) },
	{ "32-bit host with RIP above 4 GiB", B32, tw_legacy_host, { LEGACY_HOST, S(HOST_RIP, 1ULL << 32) }, FAILS(HOST_SIZE0_RIP_32BIT, NULL) },
	{ "64-bit host without CR4.PAE", B32, NULL, { C(HOST_CR4, CR4_PAE) }, FAILS(HOST_SIZE1_PAE, NULL) },
	{ "64-bit host with a non-canonical RIP", B32, NULL, { S(HOST_RIP, NONCANONICAL) }, FAILS(HOST_SIZE1_RIP_CANONICAL, NULL) },

	/* ---- 27.3.1.1 guest control registers, debug registers, MSRs ---- */
	{ "guest CR0.NE cleared", B32, NULL, { C(GUEST_CR0, CR0_NE_BIT) }, FAILS(GUEST_CR0_FIXED, NULL) },
	{ "guest CR0.PG cleared without unrestricted guest", BRESTRICTED, NULL, { C(GUEST_CR0, CR0_PG) }, FAILS(GUEST_CR0_FIXED, NULL) },
	{ "guest CR0.PG without CR0.PE", B32, NULL, { O(GUEST_CR0, CR0_PG), C(GUEST_CR0, CR0_PE) }, FAILS(GUEST_CR0_PG_NEEDS_PE, NULL) },
	{ "guest CR4.VMXE cleared", B32, NULL, { C(GUEST_CR4, CR4_VMXE_BIT) }, FAILS(GUEST_CR4_FIXED, NULL) },
	{ "guest CR4.CET with CR0.WP", B32, NULL, { O(GUEST_CR4, CR4_CET), O(GUEST_CR0, CR0_WP) }, 0, { { 0, 0 } } },
	{ "guest CR4.CET without CR0.WP", B32, NULL, { O(GUEST_CR4, CR4_CET) }, FAILS(GUEST_CR4_CET_NEEDS_WP, NULL) },
	{ "load debug controls with valid DEBUGCTL and DR7", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS), S(GUEST_IA32_DEBUGCTL, 3) }, 0, { { 0, 0 } } },
	{ "guest DEBUGCTL reserved bit 3", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS), S(GUEST_IA32_DEBUGCTL, 1u << 3) }, FAILS(GUEST_DEBUGCTL_RESERVED, NULL) },
	{ "64-bit guest without CR0.PG", B64, NULL, { C(GUEST_CR0, CR0_PG) }, FAILS(GUEST_IA32E_NEEDS_PG, NULL) },
	{ "64-bit guest without CR4.PAE", B64, NULL, { C(GUEST_CR4, CR4_PAE) }, FAILS(GUEST_IA32E_NEEDS_PAE, NULL) },
	{ "64-bit guest with CR4.PCIDE", B64, NULL, { O(GUEST_CR4, CR4_PCIDE) }, 0, { { 0, 0 } } },
	{ "32-bit guest with CR4.PCIDE", B32, NULL, { O(GUEST_CR4, CR4_PCIDE) }, FAILS(GUEST_PCIDE_NEEDS_IA32E, NULL) },
	{ "guest CR3 beyond MAXPHYADDR", B32, NULL, { S(GUEST_CR3, 1ULL << PHYS_BITS) }, FAILS(GUEST_CR3_WIDTH, NULL) },
	{ "guest DR7 bit 32", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS), S(GUEST_DR7, 1ULL << 32) }, FAILS(GUEST_DR7_HIGH, NULL) },
	{ "guest SYSENTER_ESP not canonical", B32, NULL, { S(GUEST_SYSENTER_ESP, NONCANONICAL) }, FAILS(GUEST_SYSENTER_CANONICAL, "SYSENTER_ESP") },
	{ "guest SYSENTER_EIP not canonical", B32, NULL, { S(GUEST_SYSENTER_EIP, NONCANONICAL) }, FAILS(GUEST_SYSENTER_CANONICAL, "SYSENTER_EIP") },
	{ "guest PERF_GLOBAL_CTRL with valid counters", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_PERF_GLOBAL_CTRL), S(GUEST_IA32_PERF_GLOBAL_CTRL, 0x7000000FFULL) }, 0, { { 0, 0 } } },
	{ "guest PERF_GLOBAL_CTRL enabling a fourth fixed counter", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_PERF_GLOBAL_CTRL), S(GUEST_IA32_PERF_GLOBAL_CTRL, 1ULL << 35) }, FAILS(GUEST_PERF_GLOBAL_CTRL_RESERVED, NULL) },
	{ "guest PAT with memory type 8", B32, NULL, { S(GUEST_IA32_PAT, 0x0007040600070408ULL) }, FAILS(GUEST_PAT_VALID, NULL) },
	{ "guest EFER bit 9 set", B32, NULL, { S(GUEST_IA32_EFER, 1u << 9) }, FAILS(GUEST_EFER_RESERVED, NULL) },
	{ "guest EFER.LMA without IA-32e mode guest", B32, NULL, { S(GUEST_IA32_EFER, EFER_LMA) }, FAILS(GUEST_EFER_LMA, NULL) },
	{ "guest EFER.LME with paging, no IA-32e mode guest", B32, NULL, { O(GUEST_CR0, CR0_PG), S(GUEST_IA32_EFER, EFER_LME) }, FAILS(GUEST_EFER_LME, NULL) },
	{ "guest BNDCFGS enabled with a base", B32, tw_wide, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_BNDCFGS), S(GUEST_IA32_BNDCFGS, 0x1003) }, 0, { { 0, 0 } } },
	{ "guest BNDCFGS reserved bit 2", B32, tw_wide, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_BNDCFGS), S(GUEST_IA32_BNDCFGS, 0x4) }, FAILS(GUEST_BNDCFGS_RESERVED, NULL) },
	{ "guest BNDCFGS base not canonical", B32, tw_wide, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_BNDCFGS), S(GUEST_IA32_BNDCFGS, NONCANONICAL) }, FAILS(GUEST_BNDCFGS_CANONICAL, NULL) },
	{ "load guest CET state, all zero", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE) }, 0, { { 0, 0 } } },
	{ "64-bit guest SSP in the upper half", B64, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE), S(GUEST_SSP, 0xFFFF800000001000ULL) }, 0, { { 0, 0 } } },
	{ "guest IA32_S_CET reserved bit 8", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE), S(GUEST_S_CET, 0x100) }, FAILS(GUEST_S_CET_VALID, NULL) },
	{ "guest SSP bit 0 set", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE), S(GUEST_SSP, 0x1001) }, FAILS(GUEST_SSP_VALID, NULL) },
	{ "32-bit guest SSP above 4 GiB", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE), S(GUEST_SSP, 1ULL << 32) }, FAILS(GUEST_SSP_VALID, NULL) },
	{ "32-bit guest interrupt SSP table above 4 GiB", B32, NULL, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_CET_STATE), S(GUEST_INTR_SSP_TABLE_ADDR, 1ULL << 32) }, FAILS(GUEST_INTR_SSP_TABLE_VALID, NULL) },
	{ "guest PKRS loaded with 0x55", B32, tw_wide, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_PKRS), S(GUEST_IA32_PKRS, 0x55) }, 0, { { 0, 0 } } },
	{ "guest PKRS bits 63:32 set", B32, tw_wide, { O(VM_ENTRY_CONTROLS, ENTRY_LOAD_PKRS), S(GUEST_IA32_PKRS, 1ULL << 40) }, FAILS(GUEST_PKRS_RESERVED, NULL) },

	/* ---- 27.3.1.2 guest segment registers ---- */
	{ "guest TR selector with TI set", B32, NULL, { S(GUEST_TR_SELECTOR, 0x4) }, FAILS(GUEST_TR_TI, NULL) },
	{ "usable LDT", B32, NULL, { LDTR_USABLE }, 0, { { 0, 0 } } },
	{ "usable LDTR selector with TI set", B32, NULL, { LDTR_USABLE, S(GUEST_LDTR_SELECTOR, 0x1C) }, FAILS(GUEST_LDTR_TI, NULL) },
	{ "usable LDTR of type 3", B32, NULL, { LDTR_USABLE, S(GUEST_LDTR_AR_BYTES, 0x83) }, FAILS(GUEST_LDTR_TYPE, NULL) },
	{ "usable LDTR with S=1", B32, NULL, { LDTR_USABLE, S(GUEST_LDTR_AR_BYTES, 0x92) }, FAILS(GUEST_LDTR_S, NULL) },
	{ "usable LDTR not present", B32, NULL, { LDTR_USABLE, S(GUEST_LDTR_AR_BYTES, 0x02) }, FAILS(GUEST_SEG_PRESENT, "LDTR") },
	{ "usable LDTR base not canonical", B32, NULL, { LDTR_USABLE, S(GUEST_LDTR_BASE, NONCANONICAL) }, FAILS(GUEST_SEG_BASE_CANONICAL, "LDTR") },
	{ "SS.RPL 3 with CS.RPL 0, no unrestricted guest", BRESTRICTED, NULL, { S(GUEST_SS_SELECTOR, 0x13), S(GUEST_SS_AR_BYTES, 0xC0F3), S(GUEST_CS_AR_BYTES, 0xC09F) }, FAILS(GUEST_SS_RPL_EQ_CS_RPL, NULL) },
	{ "virtual-8086 DS base not selector << 4", BV86, NULL, { S(GUEST_DS_BASE, 0x12340) }, FAILS(GUEST_SEG_V86_BASE, "DS") },
	{ "virtual-8086 ES limit 0xFFFFF", BV86, NULL, { S(GUEST_ES_LIMIT, 0xFFFFF) }, FAILS(GUEST_SEG_V86_LIMIT, "ES") },
	{ "virtual-8086 FS access rights 0xF2", BV86, NULL, { S(GUEST_FS_AR_BYTES, 0xF2) }, FAILS(GUEST_SEG_V86_AR, "FS") },
	{ "guest FS base not canonical", B32, NULL, { S(GUEST_FS_BASE, NONCANONICAL) }, FAILS(GUEST_SEG_BASE_CANONICAL, "FS") },
	{ "guest TR base not canonical", B32, NULL, { S(GUEST_TR_BASE, NONCANONICAL) }, FAILS(GUEST_SEG_BASE_CANONICAL, "TR") },
	{ "guest CS base above 4 GiB", B32, NULL, { S(GUEST_CS_BASE, 1ULL << 32) }, FAILS(GUEST_SEG_BASE_32BIT, "CS") },
	{ "guest DS base above 4 GiB", B32, NULL, { S(GUEST_DS_BASE, 1ULL << 32) }, FAILS(GUEST_SEG_BASE_32BIT, "DS") },
	{ "unusable DS with a base above 4 GiB", B32, NULL, { S(GUEST_DS_BASE, 1ULL << 32), S(GUEST_DS_AR_BYTES, 0x10000) }, 0, { { 0, 0 } } },
	{ "unrestricted guest CS of type 3", B32, NULL, { S(GUEST_CS_AR_BYTES, 0xC093) }, 0, { { 0, 0 } } },
	{ "guest CS of type 1", B32, NULL, { S(GUEST_CS_AR_BYTES, 0xC091) }, FAILS(GUEST_CS_TYPE, NULL) },
	{ "guest CS of type 3 without unrestricted guest", BRESTRICTED, NULL, { S(GUEST_CS_AR_BYTES, 0xC093) }, FAILS(GUEST_CS_TYPE, NULL) },
	{ "guest DS with S=0", B32, NULL, { S(GUEST_DS_AR_BYTES, 0xC083) }, FAILS(GUEST_SEG_S, "DS") },
	{ "guest CS of type 3 with DPL 1", B32, NULL, { S(GUEST_CS_AR_BYTES, 0xC0B3) }, FAILS(GUEST_CS_DPL_TYPE3, NULL) },
	{ "guest non-conforming CS DPL 1, SS DPL 0", B32, NULL, { S(GUEST_CS_AR_BYTES, 0xC0BB) }, FAILS(GUEST_CS_DPL_NONCONFORMING, NULL) },
	{ "guest conforming CS DPL 0, SS DPL 0", B32, NULL, { S(GUEST_CS_AR_BYTES, 0xC09F) }, 0, { { 0, 0 } } },
	{ "guest conforming CS DPL 1, SS DPL 0", B32, NULL, { S(GUEST_CS_AR_BYTES, 0xC0BF) }, FAILS(GUEST_CS_DPL_CONFORMING, NULL) },
	{ "guest SS not present", B32, NULL, { S(GUEST_SS_AR_BYTES, 0xC013) }, FAILS(GUEST_SEG_PRESENT, "SS") },
	{ "guest TR not present", B32, NULL, { S(GUEST_TR_AR_BYTES, 0x0B) }, FAILS(GUEST_SEG_PRESENT, "TR") },
	{ "guest DS access-rights bit 8", B32, NULL, { S(GUEST_DS_AR_BYTES, 0xC193) }, FAILS(GUEST_SEG_AR_RESERVED, "DS") },
	{ "guest TR access-rights bit 17", B32, NULL, { S(GUEST_TR_AR_BYTES, 0x2008B) }, FAILS(GUEST_SEG_AR_RESERVED, "TR") },
	{ "64-bit guest CS with L=1 and D=1", B64, NULL, { S(GUEST_CS_AR_BYTES, 0xE09B) }, FAILS(GUEST_CS_L_DB, NULL) },
	{ "guest ES limit 0xFFFF0000 with G=1", B32, NULL, { S(GUEST_ES_LIMIT, 0xFFFF0000) }, FAILS(GUEST_SEG_G_LIMIT, "ES") },
	{ "guest ES limit 0xFFFFFFFF with G=0", B32, NULL, { S(GUEST_ES_AR_BYTES, 0x4093) }, FAILS(GUEST_SEG_G_LIMIT, "ES") },
	{ "guest SS of type 11 (code)", B32, NULL, { S(GUEST_SS_AR_BYTES, 0xC09B) }, FAILS(GUEST_SS_TYPE, NULL) },
	{ "guest SS.DPL 3 with SS.RPL 0, no unrestricted guest", BRESTRICTED, NULL, { S(GUEST_SS_AR_BYTES, 0xC0F3), S(GUEST_CS_AR_BYTES, 0xC09F) }, FAILS(GUEST_SS_DPL_RPL, NULL) },
	{ "real-mode guest SS.DPL 3", BREAL, NULL, { S(GUEST_SS_AR_BYTES, 0xF3), S(GUEST_CS_AR_BYTES, 0x9F) }, FAILS(GUEST_SS_DPL_ZERO, NULL) },
	{ "guest GS not accessed", B32, NULL, { S(GUEST_GS_AR_BYTES, 0xC092) }, FAILS(GUEST_DATA_ACCESSED, "GS") },
	{ "guest DS a readable code segment", B32, NULL, { S(GUEST_DS_AR_BYTES, 0xC09B) }, 0, { { 0, 0 } } },
	{ "guest FS an execute-only code segment", B32, NULL, { S(GUEST_FS_AR_BYTES, 0xC099) }, FAILS(GUEST_DATA_READABLE, "FS") },
	{ "guest DS.RPL 3 > DS.DPL 0, no unrestricted guest", BRESTRICTED, NULL, { S(GUEST_DS_SELECTOR, 0x13) }, FAILS(GUEST_DATA_DPL_RPL, "DS") },
	{ "Bochs cross-check: guest TR of type 9 (available TSS)", B32, NULL, { S(GUEST_TR_AR_BYTES, 0x89) }, FAILS(GUEST_TR_TYPE, NULL) },
	{ "32-bit guest TR of type 3 (busy 16-bit TSS)", B32, NULL, { S(GUEST_TR_AR_BYTES, 0x83) }, 0, { { 0, 0 } } },
	{ "64-bit guest TR of type 3 (busy 16-bit TSS)", B64, NULL, { S(GUEST_TR_AR_BYTES, 0x83) }, FAILS(GUEST_TR_TYPE, NULL) },
	{ "guest TR with S=1", B32, NULL, { S(GUEST_TR_AR_BYTES, 0x9B) }, FAILS(GUEST_TR_S, NULL) },
	{ "guest TR unusable", B32, NULL, { S(GUEST_TR_AR_BYTES, 0x1008B) }, FAILS(GUEST_TR_USABLE, NULL) },

	/* ---- 27.3.1.3 GDTR and IDTR ---- */
	{ "guest GDTR base not canonical", B32, NULL, { S(GUEST_GDTR_BASE, NONCANONICAL) }, FAILS(GUEST_DTR_BASE_CANONICAL, "GDTR") },
	{ "guest IDTR base not canonical", B32, NULL, { S(GUEST_IDTR_BASE, NONCANONICAL) }, FAILS(GUEST_DTR_BASE_CANONICAL, "IDTR") },
	{ "guest GDTR limit 0x10000", B32, NULL, { S(GUEST_GDTR_LIMIT, 0x10000) }, FAILS(GUEST_DTR_LIMIT, "GDTR") },
	{ "guest IDTR limit 0x10000", B32, NULL, { S(GUEST_IDTR_LIMIT, 0x10000) }, FAILS(GUEST_DTR_LIMIT, "IDTR") },

	/* ---- 27.3.1.4 RIP and RFLAGS ---- */
	{ "32-bit guest RIP above 4 GiB", B32, NULL, { S(GUEST_RIP, 1ULL << 32) }, FAILS(GUEST_RIP_32BIT, NULL) },
	{ "64-bit guest RIP in the upper half", B64, NULL, { S(GUEST_RIP, 0xFFFF800000000000ULL) }, 0, { { 0, 0 } } },
	{ "64-bit guest RIP not canonical", B64, NULL, { S(GUEST_RIP, NONCANONICAL) }, FAILS(GUEST_RIP_CANONICAL, NULL) },
	{ "guest RFLAGS bit 3 set", B32, NULL, { S(GUEST_RFLAGS, 0xA) }, FAILS(GUEST_RFLAGS_RESERVED, NULL) },
	{ "guest RFLAGS bit 1 clear", B32, NULL, { S(GUEST_RFLAGS, 0) }, FAILS(GUEST_RFLAGS_BIT1, NULL) },
	{ "guest RFLAGS.VM with CR0.PE=0", BV86, NULL, { C(GUEST_CR0, CR0_PE) }, FAILS(GUEST_RFLAGS_VM, NULL) },
	{ "inject an external interrupt with IF=1", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_EXTINT, 0x20)), S(GUEST_RFLAGS, RFLAGS_IF | 2) }, 0, { { 0, 0 } } },
	{ "inject an external interrupt with IF=0", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_EXTINT, 0x20)), S(GUEST_RFLAGS, 2) }, FAILS(GUEST_RFLAGS_IF_FOR_EXTINT, NULL) },

	/* ---- 27.3.1.5 non-register state ---- */
	{ "activity state HLT", B32, NULL, { S(GUEST_ACTIVITY_STATE, 1) }, 0, { { 0, 0 } } },
	{ "activity state shutdown", B32, NULL, { S(GUEST_ACTIVITY_STATE, 2) }, 0, { { 0, 0 } } },
	{ "activity state wait-for-SIPI", B32, NULL, { S(GUEST_ACTIVITY_STATE, 3) }, 0, { { 0, 0 } } },
	{ "activity state 4", B32, NULL, { S(GUEST_ACTIVITY_STATE, 4) }, FAILS(GUEST_ACTIVITY_RANGE, NULL) },
	{ "activity state HLT not supported", B32, tw_no_activity_states, { S(GUEST_ACTIVITY_STATE, 1) }, FAILS(GUEST_ACTIVITY_SUPPORTED, NULL) },
	{ "HLT with SS.DPL 3", B32, NULL, { S(GUEST_ACTIVITY_STATE, 1), S(GUEST_SS_AR_BYTES, 0xC0F3), S(GUEST_CS_AR_BYTES, 0xC09F) }, FAILS(GUEST_ACTIVITY_HLT_SS_DPL, NULL) },
	{ "blocking by STI with IF=1", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 1), S(GUEST_RFLAGS, RFLAGS_IF | 2) }, 0, { { 0, 0 } } },
	{ "blocking by MOV SS in HLT", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 2), S(GUEST_ACTIVITY_STATE, 1) }, FAILS(GUEST_ACTIVITY_BLOCKING_ACTIVE, NULL) },
	{ "HLT: inject NMI", B32, NULL, { S(GUEST_ACTIVITY_STATE, 1), S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2)) }, 0, { { 0, 0 } } },
	{ "HLT: inject #UD", B32, NULL, { S(GUEST_ACTIVITY_STATE, 1), S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 6)) }, FAILS(GUEST_ACTIVITY_HLT_EVENT, NULL) },
	{ "shutdown: inject #MC", B32, NULL, { S(GUEST_ACTIVITY_STATE, 2), S(VM_ENTRY_INTR_INFO, INJ(T_HWEXC, 18)) }, 0, { { 0, 0 } } },
	{ "shutdown: inject an external interrupt", B32, NULL, { S(GUEST_ACTIVITY_STATE, 2), S(VM_ENTRY_INTR_INFO, INJ(T_EXTINT, 0x20)), S(GUEST_RFLAGS, RFLAGS_IF | 2) }, FAILS(GUEST_ACTIVITY_SHUTDOWN_EVENT, NULL) },
	{ "wait-for-SIPI: inject NMI", B32, NULL, { S(GUEST_ACTIVITY_STATE, 3), S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2)) }, FAILS(GUEST_ACTIVITY_SIPI_EVENT, NULL) },
	{ "in SMM: entry to SMM into wait-for-SIPI", B32, tw_smm, { SMM_ENTRY, S(GUEST_ACTIVITY_STATE, 3) }, FAILS(GUEST_ACTIVITY_SMM_SIPI, NULL) },
	{ "interruptibility bit 5 set", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 1u << 5) }, FAILS(GUEST_INTR_RESERVED, NULL) },
	{ "blocking by STI and MOV SS", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 3), S(GUEST_RFLAGS, RFLAGS_IF | 2) }, FAILS(GUEST_INTR_STI_AND_MOVSS, NULL) },
	{ "blocking by STI with IF=0", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 1), S(GUEST_RFLAGS, 2) }, FAILS(GUEST_INTR_STI_NEEDS_IF, NULL) },
	{ "inject an external interrupt under MOV-SS blocking", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_EXTINT, 0x20)), S(GUEST_RFLAGS, RFLAGS_IF | 2), S(GUEST_INTERRUPTIBILITY_INFO, 2) }, FAILS(GUEST_INTR_EXTINT_BLOCKED, NULL) },
	{ "inject NMI under MOV-SS blocking", B32, NULL, { S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2)), S(GUEST_INTERRUPTIBILITY_INFO, 2) }, FAILS(GUEST_INTR_NMI_MOVSS, NULL) },
	{ "blocking by SMI outside SMM", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 4) }, FAILS(GUEST_INTR_SMI_OUTSIDE_SMM, NULL) },
	{ "in SMM: entry to SMM without blocking by SMI", B32, tw_smm, { O(VM_ENTRY_CONTROLS, ENTRY_TO_SMM) }, FAILS(GUEST_INTR_SMI_FOR_SMM_ENTRY, NULL) },
	{ "virtual NMIs: inject NMI", B32, NULL, { O(PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS | PIN_NMI_EXITING), S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2)) }, 0, { { 0, 0 } } },
	{ "virtual NMIs: inject NMI under blocking by NMI", B32, NULL, { O(PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS | PIN_NMI_EXITING), S(VM_ENTRY_INTR_INFO, INJ(T_NMI, 2)), S(GUEST_INTERRUPTIBILITY_INFO, 8) }, FAILS(GUEST_INTR_VNMI_NMI_BLOCKED, NULL) },
	{ "enclave interruption with SGX", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 0x10) }, 0, { { 0, 0 } } },
	{ "enclave interruption with blocking by MOV SS", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 0x12) }, FAILS(GUEST_INTR_ENCLAVE, NULL) },
	{ "enclave interruption without SGX", B32, tw_no_sgx, { S(GUEST_INTERRUPTIBILITY_INFO, 0x10) }, FAILS(GUEST_INTR_ENCLAVE, NULL) },
	{ "pending debug exceptions bit 4", B32, NULL, { S(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4) }, FAILS(GUEST_PENDING_DBG_RESERVED, NULL) },
	{ "MOV-SS blocking, TF=1: pending BS set", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 2), S(GUEST_RFLAGS, RFLAGS_TF | 2), S(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14) }, 0, { { 0, 0 } } },
	{ "MOV-SS blocking, TF=1: pending BS clear", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 2), S(GUEST_RFLAGS, RFLAGS_TF | 2) }, FAILS(GUEST_PENDING_DBG_BS_SET, NULL) },
	{ "MOV-SS blocking, TF=0: pending BS set", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 2), S(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14) }, FAILS(GUEST_PENDING_DBG_BS_CLEAR, NULL) },
	{ "MOV-SS blocking, TF=1 and BTF=1: pending BS set", B32, NULL, { S(GUEST_INTERRUPTIBILITY_INFO, 2), S(GUEST_RFLAGS, RFLAGS_TF | 2), S(GUEST_IA32_DEBUGCTL, 2), S(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14) }, FAILS(GUEST_PENDING_DBG_BS_CLEAR, NULL) },
	{ "pending RTM debug exception with RTM", B32, tw_rtm, { S(GUEST_PENDING_DBG_EXCEPTIONS, 0x11000) }, 0, { { 0, 0 } } },
	{ "pending RTM debug exception without bit 12", B32, tw_rtm, { S(GUEST_PENDING_DBG_EXCEPTIONS, 0x10000) }, FAILS(GUEST_PENDING_DBG_RTM, NULL) },
	{ "pending RTM debug exception without RTM support", B32, NULL, { S(GUEST_PENDING_DBG_EXCEPTIONS, 0x11000) }, FAILS(GUEST_PENDING_DBG_RTM, NULL) },
	{ "VMCS link pointer to a VMCS of this revision", B32, tw_link_ok, { S(VMCS_LINK_POINTER, LINK_PA) }, 0, { { 0, 0 } } },
	{ "VMCS link pointer misaligned", B32, tw_link_ok, { S(VMCS_LINK_POINTER, LINK_PA + 4) }, FAILS(GUEST_LINK_ADDR, NULL) },
	{ "VMCS link pointer to another revision", B32, tw_link_bad_revision, { S(VMCS_LINK_POINTER, LINK_PA) }, FAILS(GUEST_LINK_REVISION, NULL) },
	{ "VMCS link pointer to a shadow VMCS without VMCS shadowing", B32, tw_link_shadow, { S(VMCS_LINK_POINTER, LINK_PA) }, FAILS(GUEST_LINK_SHADOW, NULL) },
	{ "VMCS link pointer equal to the current VMCS", B32, tw_link_is_current, { S(VMCS_LINK_POINTER, LINK_PA) }, FAILS(GUEST_LINK_NOT_CURRENT, NULL) },
	{ "in SMM: link pointer differs from the executive VMCS", B32, tw_smm_link_ok, { S(VMCS_LINK_POINTER, LINK_PA), S(EXECUTIVE_VMCS_POINTER, 0x9000) }, 0, { { 0, 0 } } },
	{ "in SMM: link pointer equal to the executive VMCS", B32, tw_smm_link_ok, { S(VMCS_LINK_POINTER, LINK_PA), S(EXECUTIVE_VMCS_POINTER, LINK_PA) }, FAILS(GUEST_LINK_NOT_EXECUTIVE, NULL) },

	/* ---- 27.3.1.6 PDPTEs ---- */
	{ "PAE with EPT: present PDPTEs from the VMCS", BPAE, NULL, { S(GUEST_PDPTE0, 0x2001), S(GUEST_PDPTE3, 0x5001) }, 0, { { 0, 0 } } },
	{ "PAE with EPT: PDPTE2 bits 2:1 set", BPAE, NULL, { S(GUEST_PDPTE2, 0x1007) }, FAILS(GUEST_PDPTE_RESERVED, "PDPTE2") },
	{ "PAE with EPT: not-present PDPTE with reserved bits", BPAE, NULL, { S(GUEST_PDPTE1, 0x1006) }, 0, { { 0, 0 } } },
	{ "PAE without EPT: PDPTE1 in memory sets bit 7", BPAE_NOEPT, tw_pdpt_bad, { { END, 0, 0 } }, FAILS(GUEST_PDPTE_RESERVED, "PDPTE1") },
};

#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))

static void apply_write(const struct write *w)
{
	switch (w->op) {
	case SET:
		set(w->enc, w->v);
		break;
	case OR:
		or_bits(w->enc, w->v);
		break;
	case CLR:
		clear_bits(w->enc, w->v);
		break;
	case END:
		break;
	}
}

static bool same_subject(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void run_case(void **state)
{
	const struct check_case *k = *state;

	apply_baseline(k->base);
	if (k->tweak)
		k->tweak();
	for (unsigned i = 0; i < 10 && k->w[i].op != END; i++)
		apply_write(&k->w[i]);

	unsigned failed = run_checker();
	if (failed != k->nfail || report.recorded != k->nfail)
		fail_with_report(k->nfail ? "expected exactly the named rule(s) to fail"
					  : "expected a VMCS that passes every rule");
	for (unsigned i = 0; i < k->nfail; i++) {
		bool found = false;
		for (unsigned j = 0; j < report.recorded; j++)
			found |= report.failures[j].rule == k->fail[i].rule &&
				 same_subject(report.failures[j].subject, k->fail[i].subject);
		if (!found) {
			char what[160];
			snprintf(what, sizeof(what), "expected rule %s (%s) to fail",
				 vmx_entry_rules[k->fail[i].rule].id,
				 k->fail[i].subject ? k->fail[i].subject : "-");
			fail_with_report(what);
		}
		char line[96];
		snprintf(line, sizeof(line), "rule %s (", vmx_entry_rules[k->fail[i].rule].id);
		assert_console_contains(line);
		seen_fail[k->fail[i].rule] = true;
	}
	if (k->nfail)
		assert_console_contains("cvisor: VM-entry check failed: ");
	else
		assert_int_equal(strlen(fake_console_text()), 0);
}

/* ---- Whole-checker tests ---- */

static void test_baseline_through_the_simple_entry_point(void **state)
{
	(void)state;
	assert_int_equal(vmx_check_vm_entry(&cpu.caps, PHYS_BITS), 0);
	assert_int_equal(strlen(fake_console_text()), 0);
}

static void test_env_init_reads_cpuid_and_the_capability_msrs(void **state)
{
	(void)state;
	struct vmx_entry_env e;
	vmx_entry_env_init(&e, &cpu.caps, 0);
	assert_int_equal(e.phys_addr_bits, 39);  /* CPUID 0x80000008 EAX = 0x3027 */
	assert_int_equal(e.linear_addr_bits, 48);
	assert_true(e.host_in_ia32e_mode);       /* host EFER.LMA */
	assert_int_equal(e.perf_global_ctrl_valid, 0x7000000FFULL); /* 8 GP, 3 fixed */
	assert_int_equal(e.vmfunc_allowed, 1);
	assert_int_equal(e.proc3_allowed, 0);    /* Tiger Lake: no tertiary controls */
	assert_true(e.has_sgx);
	assert_false(e.has_rtm);
	assert_int_equal(e.current_vmcs_pa, ~0ULL);
	assert_null(e.read_phys);
}

/* The report format of the issue: the rule text, the SDM section and the
 * field values on one line; the rule id, the consequence and the
 * requirement as written in the checker on the next. */
static void test_failure_line_names_rule_section_and_fields(void **state)
{
	(void)state;
	make_64bit();
	set(E_GUEST_CS_LIMIT, 0xFFFF);
	set(E_GUEST_CS_AR_BYTES, 0x609B);
	assert_int_equal(run_checker(), 1);
	assert_console_contains("cvisor: VM-entry check failed: guest CS.AR: L=1 requires D/B=0 "
				"(SDM 27.3.1.2) [GUEST_CS_AR_BYTES=0x609b VM_ENTRY_CONTROLS=0x");
	assert_console_contains("cvisor:   rule GUEST_CS_L_DB (guest state: VM exit 33): requires !s->db\n");
	assert_console_contains("cvisor: VM-entry checks: 1 rule(s) failed: 0 on controls (VM-instruction "
				"error 7), 0 on host state (error 8), 1 on guest state (exit reason 33)");
}

static void test_every_failure_is_reported_not_just_the_first(void **state)
{
	(void)state;
	set(E_VIRTUAL_PROCESSOR_ID, 0);    /* control */
	set(E_HOST_TR_SELECTOR, 0);        /* host */
	set(E_GUEST_TR_AR_BYTES, 0x89);    /* guest */
	set(E_GUEST_RFLAGS, 0);            /* guest */
	assert_int_equal(run_checker(), 4);
	assert_int_equal(report.failed_by_kind[VMX_ENTRY_KIND_CONTROL], 1);
	assert_int_equal(report.failed_by_kind[VMX_ENTRY_KIND_HOST], 1);
	assert_int_equal(report.failed_by_kind[VMX_ENTRY_KIND_GUEST], 2);
	assert_int_equal(fake_console_count("cvisor: VM-entry check failed: "), 4);
	assert_console_contains("rule CTRL_VPID_NONZERO (controls: VMfailValid, VM-instruction error 7)");
	assert_console_contains("rule HOST_TR_NONZERO (host state: VMfailValid, VM-instruction error 8)");
	assert_console_contains("rule GUEST_TR_TYPE (guest state: VM exit 33)");
	assert_console_contains("rule GUEST_RFLAGS_BIT1 (guest state: VM exit 33)");
	assert_console_contains("[VIRTUAL_PROCESSOR_ID=0x0]");
	assert_console_contains("[HOST_TR_SELECTOR=0x0]");
	/* The requirement as written in the checker, not macro-expanded. */
	assert_console_contains("requires V(VIRTUAL_PROCESSOR_ID) != 0\n");
	assert_console_contains("requires rflags & RFLAGS_RESERVED_1\n");
	assert_console_contains("guest TR.AR: type must be 11");
}

static void test_capability_failures_show_the_offending_bits(void **state)
{
	(void)state;
	or_bits(E_PIN_BASED_VM_EXEC_CONTROL, 1u << 8);
	assert_int_equal(run_checker(), 1);
	assert_console_contains("offending bits=0x100]");
}

static void test_the_report_array_keeps_the_count_when_it_overflows(void **state)
{
	(void)state;
	static const uint32_t host_selectors[] = {
		E_HOST_ES_SELECTOR, E_HOST_CS_SELECTOR, E_HOST_SS_SELECTOR, E_HOST_DS_SELECTOR,
		E_HOST_FS_SELECTOR, E_HOST_GS_SELECTOR, E_HOST_TR_SELECTOR,
	};
	static const uint32_t bases[] = {
		E_HOST_FS_BASE, E_HOST_GS_BASE, E_HOST_GDTR_BASE, E_HOST_IDTR_BASE, E_HOST_TR_BASE,
		E_GUEST_GDTR_BASE, E_GUEST_IDTR_BASE, E_GUEST_SYSENTER_ESP, E_GUEST_SYSENTER_EIP,
		E_HOST_IA32_SYSENTER_ESP, E_HOST_IA32_SYSENTER_EIP,
	};
	static const uint32_t guest_ar[] = {
		E_GUEST_ES_AR_BYTES, E_GUEST_CS_AR_BYTES, E_GUEST_SS_AR_BYTES, E_GUEST_DS_AR_BYTES,
		E_GUEST_FS_AR_BYTES, E_GUEST_GS_AR_BYTES, E_GUEST_TR_AR_BYTES,
	};
	for (unsigned i = 0; i < sizeof(host_selectors) / sizeof(host_selectors[0]); i++)
		set(host_selectors[i], 0x13);
	for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		set(bases[i], NONCANONICAL);
	/* Type 0, S=0, P=0, reserved bits 11:8, G=0 under a 4-GiB limit. */
	for (unsigned i = 0; i < sizeof(guest_ar) / sizeof(guest_ar[0]); i++)
		set(guest_ar[i], 0xF00);
	unsigned failed = run_checker();
	assert_true(failed > VMX_ENTRY_REPORT_MAX);
	assert_int_equal(report.failed, failed);
	assert_int_equal(report.recorded, VMX_ENTRY_REPORT_MAX);
	assert_int_equal(fake_console_count("cvisor: VM-entry check failed: "), failed);
}

static void test_a_field_the_cpu_lacks_is_reported_as_such(void **state)
{
	(void)state;
	make_64bit();
	fake_vmcs_mark_unsupported(E_GUEST_IA32_EFER);
	assert_int_equal(run_checker(), 2); /* EFER reads as 0: LMA and LME disagree */
	assert_console_contains("[GUEST_IA32_EFER=(not on this CPU) VM_ENTRY_CONTROLS=0x");
}

/* A VMREAD of a field the CPU lacks overwrites the VM-instruction error
 * (SDM 31.4, error 12), which the caller may still need after a failed
 * VMLAUNCH: the checker reads only the fields its controls make exist. */
static void test_checker_reads_no_field_the_controls_do_not_enable(void **state)
{
	(void)state;
	static const uint32_t optional[] = {
		E_TERTIARY_VM_EXEC_CONTROL, E_PML_ADDRESS, E_VM_FUNCTION_CONTROLS, E_EPTP_LIST_ADDR,
		E_VMREAD_BITMAP, E_VE_INFO_ADDR, E_SPP_TABLE_POINTER, E_POSTED_INTR_DESC_ADDR,
		E_GUEST_IA32_BNDCFGS, E_GUEST_IA32_PKRS, E_HOST_S_CET, E_GUEST_SSP,
		E_GUEST_IA32_PERF_GLOBAL_CTRL, E_GUEST_PDPTE0, E_EXECUTIVE_VMCS_POINTER,
		E_VIRTUAL_APIC_PAGE_ADDR,
	};
	for (unsigned i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		fake_vmcs_mark_unsupported(optional[i]);
	set(E_VM_INSTRUCTION_ERROR, 7);
	assert_int_equal(run_checker(), 0);
	assert_int_equal(get(E_VM_INSTRUCTION_ERROR), 7);
}

static void test_rule_table_is_complete_and_counted_by_section(void **state)
{
	(void)state;
	static const char *const sections[] = {
		"27.2.1.1", "27.2.1.2", "27.2.1.3", "27.2.2", "27.2.3", "27.2.4",
		"27.3.1.1", "27.3.1.2", "27.3.1.3", "27.3.1.4", "27.3.1.5", "27.3.1.6",
	};
	unsigned total = 0;
	char summary[512] = "";

	for (unsigned s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		unsigned n = 0;
		for (unsigned r = 0; r < VMX_ENTRY_RULE_COUNT; r++)
			n += strcmp(vmx_entry_rules[r].section, sections[s]) == 0;
		assert_true(n > 0);
		total += n;
		size_t len = strlen(summary);
		snprintf(summary + len, sizeof(summary) - len, "%s%s: %u", s ? ", " : "", sections[s], n);
	}
	assert_int_equal(total, VMX_ENTRY_RULE_COUNT);
	for (unsigned r = 0; r < VMX_ENTRY_RULE_COUNT; r++) {
		const struct vmx_entry_rule_info *i = &vmx_entry_rules[r];
		assert_non_null(i->id);
		assert_true(strlen(i->text) > 10);
		assert_true(i->kind == (strncmp(i->section, "27.3", 4) == 0 ? VMX_ENTRY_KIND_GUEST
					: strncmp(i->section, "27.2.1", 6) == 0 ? VMX_ENTRY_KIND_CONTROL
										 : VMX_ENTRY_KIND_HOST));
	}
	print_message("%u rules: %s\n", total, summary);
}

static void test_sandy_bridge_vcpu_passes_every_rule(void **state)
{
	(void)state;
	teardown(NULL);
	setup_machine(fake_cpu_load_bochs_sandy_bridge);
	if (run_checker())
		fail_with_report("the Sandy Bridge vCPU should pass");
}

/* Runs last: each rule has been seen holding and seen failing above. */
static void test_every_rule_was_driven_through_both_paths(void **state)
{
	(void)state;
	unsigned missing = 0;
	for (unsigned r = 0; r < VMX_ENTRY_RULE_COUNT; r++) {
		if (!seen_pass[r] || !seen_fail[r]) {
			print_error("rule %s: passing path %s, failing path %s\n", vmx_entry_rules[r].id,
				    seen_pass[r] ? "covered" : "MISSING", seen_fail[r] ? "covered" : "MISSING");
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test_setup_teardown(test_baseline_through_the_simple_entry_point, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_init_reads_cpuid_and_the_capability_msrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_line_names_rule_section_and_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_failure_is_reported_not_just_the_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capability_failures_show_the_offending_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_report_array_keeps_the_count_when_it_overflows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_field_the_cpu_lacks_is_reported_as_such, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checker_reads_no_field_the_controls_do_not_enable, setup, teardown),
		cmocka_unit_test(test_rule_table_is_complete_and_counted_by_section),
		cmocka_unit_test_setup_teardown(test_sandy_bridge_vcpu_passes_every_rule, setup, teardown),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const size_t n = nfixed + CASE_COUNT + 1;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	char (*names)[200] = calloc(CASE_COUNT, sizeof(*names));

	if (!tests || !names)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < CASE_COUNT; i++) {
		const struct check_case *k = &cases[i];
		if (k->nfail)
			snprintf(names[i], sizeof(names[i]), "%s [%s] fails %s%s%s", k->name,
				 baseline_names[k->base], vmx_entry_rules[k->fail[0].rule].id,
				 k->nfail > 1 ? " and " : "",
				 k->nfail > 1 ? vmx_entry_rules[k->fail[1].rule].id : "");
		else
			snprintf(names[i], sizeof(names[i]), "%s [%s] passes", k->name,
				 baseline_names[k->base]);
		tests[nfixed + i] = (struct CMUnitTest){ names[i], run_case, setup, teardown, (void *)k };
	}
	tests[n - 1] = (struct CMUnitTest){ "every rule was driven through both paths",
					    test_every_rule_was_driven_through_both_paths, NULL, NULL, NULL };
	int result = _cmocka_run_group_tests("entry_checks", tests, n, NULL, NULL);
	free(names);
	free(tests);
	return result;
}
