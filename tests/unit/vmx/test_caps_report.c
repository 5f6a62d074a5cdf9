/*
 * The VMX capability report (core/vmx/caps_report.c) against the capability
 * MSRs recorded from Bochs 2.7's "tigerlake" and "corei7_sandy_bridge_2600k"
 * models: the decoded lines of both forms, caps_report_read against
 * vmx_caps_read, and caps_report_missing against vmx_check_basic /
 * vmx_check_required_features.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "vmx/caps.h"
#include "vmx/caps_report.h"
#include "vmx/controls.h"
#include "x86.h"
#include "vmx/vmx_cpu.h"

/* ---- The recorded values ---- */

static struct vmx_caps tigerlake(void)
{
	struct vmx_caps c = {
		.basic = 0x1d8100000000004ULL,
		.controls = {
			[VMX_CONTROLS_PIN] = 0x7f00000016ULL,
			[VMX_CONTROLS_PROC] = 0xfff9fffe04006172ULL,
			[VMX_CONTROLS_PROC2] = 0x2977fff00000000ULL,
			[VMX_CONTROLS_EXIT] = 0x107fffff00036dfbULL,
			[VMX_CONTROLS_ENTRY] = 0x10ffff000011fbULL,
		},
		.misc = 0x600401e0ULL,
		.cr0_fixed0 = 0x80000021ULL,
		.cr0_fixed1 = 0xffffffffULL,
		.cr4_fixed0 = 0x2000ULL,
		.cr4_fixed1 = 0xf72fffULL,
		.vmcs_enum = 0x34ULL,
		.ept_vpid = 0xf0106b34141ULL,
	};
	return c;
}

static struct vmx_caps sandy_bridge(void)
{
	struct vmx_caps c = {
		.basic = 0xd810000000002bULL,
		.controls = {
			[VMX_CONTROLS_PIN] = 0x7f00000016ULL,
			[VMX_CONTROLS_PROC] = 0xf7f9fffe04006172ULL,
			[VMX_CONTROLS_PROC2] = 0xff00000000ULL,
			[VMX_CONTROLS_EXIT] = 0x7fffff00036dfbULL,
			[VMX_CONTROLS_ENTRY] = 0xffff000011fbULL,
		},
		.misc = 0x401e0ULL,
		.cr0_fixed0 = 0x80000021ULL,
		.cr0_fixed1 = 0xffffffffULL,
		.cr4_fixed0 = 0x2000ULL,
		.cr4_fixed1 = 0x627ffULL,
		.vmcs_enum = 0x34ULL,
		.ept_vpid = 0xf0106114141ULL,
	};
	return c;
}

/* ---- Collecting the emitted lines ---- */

#define MAX_LINES 400

static struct {
	unsigned count;
	char text[MAX_LINES][CAPS_REPORT_LINE_MAX];
} out;

static void collect(void *ctx, const char *line)
{
	assert_ptr_equal(ctx, &out);
	assert_true(out.count < MAX_LINES);
	/* A line that filled the buffer was cut. */
	assert_true(strlen(line) < CAPS_REPORT_LINE_MAX - 1);
	assert_null(strchr(line, '\n'));
	snprintf(out.text[out.count++], CAPS_REPORT_LINE_MAX, "%s", line);
}

static void dump_lines(void)
{
	for (unsigned i = 0; i < out.count; i++)
		fprintf(stderr, "  | %s\n", out.text[i]);
}

/* Index of the first line equal to text, or -1. */
static int find_line(const char *text)
{
	for (unsigned i = 0; i < out.count; i++)
		if (!strcmp(out.text[i], text))
			return (int)i;
	return -1;
}

static unsigned count_containing(const char *needle)
{
	unsigned n = 0;
	for (unsigned i = 0; i < out.count; i++)
		n += strstr(out.text[i], needle) != NULL;
	return n;
}

#define assert_line(text)                                                          \
	do {                                                                       \
		if (find_line(text) < 0) {                                         \
			dump_lines();                                              \
			fail_msg("no line \"%s\" among the %u above", (text),       \
				 out.count);                                       \
		}                                                                  \
	} while (0)
#define assert_some_line_contains(needle)                                          \
	do {                                                                       \
		if (!count_containing(needle)) {                                   \
			dump_lines();                                              \
			fail_msg("no line contains \"%s\"", (needle));              \
		}                                                                  \
	} while (0)
#define assert_no_line_contains(needle)                                            \
	do {                                                                       \
		if (count_containing(needle)) {                                    \
			dump_lines();                                              \
			fail_msg("a line contains \"%s\"", (needle));               \
		}                                                                  \
	} while (0)

static void report(const struct vmx_caps *caps, const struct caps_report_facts *facts,
		   enum caps_report_form form)
{
	out.count = 0;
	caps_report(caps, facts, form, collect, &out);
}

static void full(const struct vmx_caps *caps)
{
	report(caps, NULL, CAPS_REPORT_FULL);
}

static int setup(void **state)
{
	(void)state;
	out.count = 0;
	fake_platform_reset();
	fake_cpu_reset();
	return 0;
}

#define TIGERLAKE_SUMMARY                                                                \
	"VMX revision 0x4, region 4096 bytes, true controls yes, EPT yes +2M +1G, VPID yes, " \
	"unrestricted guest yes, preemption timer yes (TSC/2^0)"

/* ---- The short form ---- */

static void test_short_tigerlake_is_three_lines(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	report(&caps, NULL, CAPS_REPORT_SHORT);
	assert_int_equal(out.count, 3);
	assert_string_equal(out.text[0], TIGERLAKE_SUMMARY);
	assert_string_equal(out.text[1],
			    "VMX MSRs: basic 0x1d8100000000004 pin 0x7f00000016 "
			    "proc 0xfff9fffe04006172 proc2 0x2977fff00000000 "
			    "exit 0x107fffff00036dfb entry 0x10ffff000011fb");
	assert_string_equal(out.text[2],
			    "VMX MSRs: misc 0x600401e0 cr0 fixed 0x80000021/0xffffffff "
			    "cr4 fixed 0x2000/0xf72fff vmcs_enum 0x34 ept_vpid 0xf0106b34141");
}

static void test_short_sandy_bridge_has_no_1g_pages(void **state)
{
	(void)state;
	struct vmx_caps caps = sandy_bridge();

	report(&caps, NULL, CAPS_REPORT_SHORT);
	assert_int_equal(out.count, 3);
	assert_string_equal(out.text[0],
			    "VMX revision 0x2b, region 4096 bytes, true controls yes, EPT yes +2M, "
			    "VPID yes, unrestricted guest yes, preemption timer yes (TSC/2^0)");
}

static void test_short_with_facts_adds_one_line_first(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();
	struct caps_report_facts facts = {
		.cpuid_known = true, .vendor = "GenuineIntel", .cpuid_vmx = true,
		.feature_control_known = true, .feature_control = 5,
	};

	report(&caps, &facts, CAPS_REPORT_SHORT);
	assert_int_equal(out.count, 4);
	assert_string_equal(out.text[0], "CPU GenuineIntel, CPUID VMX yes, IA32_FEATURE_CONTROL "
					 "0x5 (locked, VMXON outside SMX allowed)");
	assert_string_equal(out.text[1], TIGERLAKE_SUMMARY);
}

static void test_short_says_what_is_missing(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.controls[VMX_CONTROLS_PROC2] &= ~((uint64_t)PROC2_UNRESTRICTED_GUEST << 32);
	caps.controls[VMX_CONTROLS_PIN] &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	caps.misc |= 5;
	report(&caps, NULL, CAPS_REPORT_SHORT);
	assert_some_line_contains("unrestricted guest no, preemption timer no (TSC/2^5)");
}

/* The boot log: vmx_caps_print_summary prints the short form with "cvisor: ". */
static void test_print_summary_logs_the_short_form(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	vmx_caps_print_summary(&caps);
	assert_console_contains("cvisor: " TIGERLAKE_SUMMARY "\n");
	assert_console_contains("cvisor: VMX MSRs: basic 0x1d8100000000004 pin 0x7f00000016 ");
	assert_console_contains("cvisor: VMX MSRs: misc 0x600401e0 ");
	assert_int_equal(fake_console_count("cvisor: "), 3);
	assert_int_equal(fake_console_count("cvisor: VMX MSRs:"), 2);
}

/* ---- IA32_VMX_BASIC ---- */

static void test_full_basic_tigerlake(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	full(&caps);
	assert_string_equal(out.text[0], TIGERLAKE_SUMMARY);
	assert_line("IA32_VMX_BASIC 0x1d8100000000004:");
	assert_line("  VMCS revision identifier: 0x4");
	assert_line("  VMXON/VMCS region size: 4096 bytes");
	assert_line("  VMCS memory type: write-back (WB) (6)");
	assert_line("  physical addresses of VMX structures limited to 32 bits (bit 48): no");
	assert_line("  dual-monitor treatment of SMIs and SMM (bit 49): no");
	assert_line("  VM-exit information for INS/OUTS (bit 54): yes");
	assert_line("  true control MSRs IA32_VMX_TRUE_*_CTLS (bit 55): yes");
	assert_line("  VM entry may deliver hardware exceptions without error code (bit 56): yes");
}

static void test_full_basic_sandy_bridge(void **state)
{
	(void)state;
	struct vmx_caps caps = sandy_bridge();

	full(&caps);
	assert_line("  VMCS revision identifier: 0x2b");
	assert_line("  VM entry may deliver hardware exceptions without error code (bit 56): no");
}

static void test_full_basic_other_bits(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	/* 32-bit limit and dual-monitor on; memory type UC; 6 KiB regions. */
	caps.basic = (caps.basic & ~(0xFULL << 50) & ~(0x1FFFULL << 32)) | (1ULL << 48) |
		     (1ULL << 49) | (0x1800ULL << 32);
	full(&caps);
	assert_line("  VMXON/VMCS region size: 6144 bytes");
	assert_line("  VMCS memory type: uncacheable (UC) (0)");
	assert_line("  physical addresses of VMX structures limited to 32 bits (bit 48): yes");
	assert_line("  dual-monitor treatment of SMIs and SMM (bit 49): yes");
}

/* ---- Controls ---- */

static void test_full_controls_tigerlake(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	full(&caps);
	assert_line("pin-based VM-execution controls (IA32_VMX_TRUE_PINBASED_CTLS 0x7f00000016):");
	assert_line("  bit  0 external-interrupt exiting: 0 or 1");
	assert_line("  bit  1 (reserved): fixed 1");
	assert_line("  bit  6 activate VMX-preemption timer: 0 or 1");
	assert_line("  bit  7 process posted interrupts: fixed 0");
	assert_line("primary processor-based VM-execution controls "
		    "(IA32_VMX_TRUE_PROCBASED_CTLS 0xfff9fffe04006172):");
	assert_line("  bit 17 activate tertiary controls: fixed 0");
	assert_line("  bit 31 activate secondary controls: 0 or 1");
	assert_line("secondary processor-based VM-execution controls "
		    "(IA32_VMX_PROCBASED_CTLS2 0x2977fff00000000):");
	assert_line("  bit  7 unrestricted guest: 0 or 1");
	assert_line("  bit 13 enable VM functions: 0 or 1");
	assert_line("  bit 15 enable ENCLS exiting: fixed 0");
	assert_line("  bit 25 use TSC scaling: 0 or 1");
	assert_line("VM-exit controls (IA32_VMX_TRUE_EXIT_CTLS 0x107fffff00036dfb):");
	assert_line("  bit  9 host address-space size: 0 or 1");
	assert_line("  bit 28 load CET state: 0 or 1");
	assert_line("VM-entry controls (IA32_VMX_TRUE_ENTRY_CTLS 0x10ffff000011fb):");
	assert_line("  bit  9 IA-32e mode guest: 0 or 1");
	assert_line("  bit 22 load PKRS: fixed 0");
	/* Reserved bits that are fixed 0 are not listed. */
	assert_no_line_contains("  bit 30 (reserved)");
}

static void test_full_controls_sandy_bridge(void **state)
{
	(void)state;
	struct vmx_caps caps = sandy_bridge();

	full(&caps);
	assert_line("  bit  7 unrestricted guest: 0 or 1");
	assert_line("  bit  8 APIC-register virtualization: fixed 0");
	assert_line("  bit 13 enable VM functions: fixed 0");
	assert_line("  bit 28 load CET state: fixed 0");
	assert_line("  bit 27 monitor trap flag: fixed 0");
}

/* Every control controls.h names is listed once, in its own kind. */
static void test_full_lists_every_named_control(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	full(&caps);
	for (unsigned kind = 0; kind < VMX_CONTROL_KINDS; kind++) {
		int header = -1;
		char prefix[160];

		snprintf(prefix, sizeof(prefix), "%s controls (", vmx_control_kind_name(kind));
		for (unsigned i = 0; i < out.count; i++)
			if (!strncmp(out.text[i], prefix, strlen(prefix)))
				header = (int)i;
		assert_true(header >= 0);
		for (unsigned bit = 0; bit < 32; bit++) {
			const char *name = vmx_control_bit_name(kind, bit);
			char want[160];
			int at = -1;

			if (!name)
				continue;
			snprintf(want, sizeof(want), "  bit %2u %s: ", bit, name);
			/* The first such line after this kind's header. */
			for (unsigned i = (unsigned)header + 1; i < out.count && at < 0; i++)
				if (!strncmp(out.text[i], want, strlen(want)))
					at = (int)i;
			if (at < 0) {
				dump_lines();
				fail_msg("no \"%s\" after \"%s\"", want, prefix);
			}
			for (int i = header + 1; i < at; i++)
				assert_true(out.text[i][0] == ' ');
		}
	}
}

static void test_full_controls_without_true_msrs_name_the_old_msrs(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.basic &= ~VMX_BASIC_TRUE_CONTROLS;
	full(&caps);
	assert_some_line_contains("(IA32_VMX_PINBASED_CTLS 0x7f00000016):");
	assert_some_line_contains("(IA32_VMX_PROCBASED_CTLS 0x");
	assert_some_line_contains("(IA32_VMX_EXIT_CTLS 0x");
	assert_some_line_contains("(IA32_VMX_ENTRY_CTLS 0x");
	assert_line("  true control MSRs IA32_VMX_TRUE_*_CTLS (bit 55): no");
	assert_no_line_contains("IA32_VMX_TRUE_PINBASED_CTLS");
}

static void test_full_control_settings(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	/* Bit 0: must be 1 and may not be 1; bit 30: an unnamed bit that may be 0 or 1. */
	caps.controls[VMX_CONTROLS_PIN] = (1ULL << 62) | 0x1;
	full(&caps);
	assert_line("  bit  0 external-interrupt exiting: inconsistent (must be 1 but may not be 1)");
	assert_line("  bit 30 (not named by cvisor): 0 or 1");
	assert_line("  bit  6 activate VMX-preemption timer: fixed 0");
}

static void test_full_without_secondary_controls(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.controls[VMX_CONTROLS_PROC] &= ~((uint64_t)PROC_SECONDARY_CONTROLS << 32);
	caps.controls[VMX_CONTROLS_PROC2] = 0;
	caps.ept_vpid = 0;
	full(&caps);
	assert_line("secondary processor-based VM-execution controls: not available "
		    "(\"activate secondary controls\" is fixed 0)");
	assert_line("IA32_VMX_EPT_VPID_CAP: not available "
		    "(neither \"enable EPT\" nor \"enable VPID\" may be 1)");
	assert_line("IA32_VMX_VMFUNC: not available (\"enable VM functions\" is fixed 0)");
	assert_no_line_contains("unrestricted guest: ");
	assert_string_equal(out.text[0],
			    "VMX revision 0x4, region 4096 bytes, true controls yes, EPT no, "
			    "VPID no, unrestricted guest no, preemption timer yes (TSC/2^0)");
}

/* ---- IA32_VMX_MISC ---- */

static void test_full_misc_tigerlake(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	full(&caps);
	assert_line("IA32_VMX_MISC 0x600401e0:");
	assert_line("  VMX-preemption timer rate: TSC/2^0 (the timer counts down by 1 every 1 TSC tick)");
	assert_line("  VM exits store EFER.LMA into \"IA-32e mode guest\" (bit 5): yes");
	assert_line("  activity states besides active (bits 8:6): HLT shutdown wait-for-SIPI");
	assert_line("  Intel PT in VMX operation (bit 14): no");
	assert_line("  RDMSR of IA32_SMBASE in SMM (bit 15): no");
	assert_line("  CR3-target values: 4");
	assert_line("  MSR-load/store lists: at most 512 MSRs each (bits 27:25 = 0)");
	assert_line("  IA32_SMM_MONITOR_CTL[2] may be set (SMIs block VMXOFF) (bit 28): no");
	assert_line("  VMWRITE to any VMCS field, including VM-exit information (bit 29): yes");
	assert_line("  VM entry may inject software events with instruction length 0 (bit 30): yes");
	assert_line("  MSEG revision identifier (bits 63:32): 0");
}

static void test_full_misc_sandy_bridge_has_no_vmwrite_to_exit_info(void **state)
{
	(void)state;
	struct vmx_caps caps = sandy_bridge();

	full(&caps);
	assert_line("IA32_VMX_MISC 0x401e0:");
	assert_line("  VMWRITE to any VMCS field, including VM-exit information (bit 29): no");
	assert_line("  VM entry may inject software events with instruction length 0 (bit 30): no");
	assert_line("  MSEG revision identifier (bits 63:32): 0");
}

static void test_full_misc_every_field(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	/* Rate 5, no activity states, PT, SMBASE, 3 CR3 targets, 3*512 MSRs,
	 * SMM_MONITOR_CTL[2], MSEG revision 0x1234. */
	caps.misc = (0x1234ULL << 32) | (1u << 28) | (2u << 25) | (3u << 16) | (1u << 15) |
		    (1u << 14) | 5;
	full(&caps);
	assert_line("  VMX-preemption timer rate: TSC/2^5 (the timer counts down by 1 every 32 TSC ticks)");
	assert_line("  VM exits store EFER.LMA into \"IA-32e mode guest\" (bit 5): no");
	assert_line("  activity states besides active (bits 8:6): none");
	assert_line("  Intel PT in VMX operation (bit 14): yes");
	assert_line("  RDMSR of IA32_SMBASE in SMM (bit 15): yes");
	assert_line("  CR3-target values: 3");
	assert_line("  MSR-load/store lists: at most 1536 MSRs each (bits 27:25 = 2)");
	assert_line("  IA32_SMM_MONITOR_CTL[2] may be set (SMIs block VMXOFF) (bit 28): yes");
	assert_line("  VMWRITE to any VMCS field, including VM-exit information (bit 29): no");
	assert_line("  MSEG revision identifier (bits 63:32): 4660");
}

/* ---- EPT and VPID ---- */

static void test_full_ept_vpid_tigerlake(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	full(&caps);
	assert_line("IA32_VMX_EPT_VPID_CAP 0xf0106b34141:");
	assert_line("  EPT execute-only translations (bit 0): yes");
	assert_line("  EPT page-walk length 4 (bit 6): yes");
	assert_line("  EPT page-walk length 5 (bit 7): no");
	assert_line("  EPT paging structures uncacheable (UC) (bit 8): yes");
	assert_line("  EPT paging structures write-back (WB) (bit 14): yes");
	assert_line("  EPT 2-MByte pages (bit 16): yes");
	assert_line("  EPT 1-GByte pages (bit 17): yes");
	assert_line("  EPT accessed and dirty flags (bit 21): yes");
	assert_line("  EPT violations report advanced VM-exit information (bit 22): no");
	assert_line("  EPT supervisor shadow-stack control (bit 23): yes");
	assert_line("  INVEPT (bit 20): yes");
	assert_line("  INVEPT single-context (bit 25): yes");
	assert_line("  INVEPT all-context (bit 26): yes");
	assert_line("  INVVPID (bit 32): yes");
	assert_line("  INVVPID individual-address (bit 40): yes");
	assert_line("  INVVPID single-context (bit 41): yes");
	assert_line("  INVVPID all-context (bit 42): yes");
	assert_line("  INVVPID single-context-retaining-globals (bit 43): yes");
	assert_no_line_contains("HLAT");
}

static void test_full_ept_vpid_sandy_bridge(void **state)
{
	(void)state;
	struct vmx_caps caps = sandy_bridge();

	full(&caps);
	assert_line("IA32_VMX_EPT_VPID_CAP 0xf0106114141:");
	assert_line("  EPT 2-MByte pages (bit 16): yes");
	assert_line("  EPT 1-GByte pages (bit 17): no");
	assert_line("  EPT accessed and dirty flags (bit 21): no");
	assert_line("  EPT supervisor shadow-stack control (bit 23): no");
	assert_line("  INVEPT single-context (bit 25): yes");
	assert_line("  INVEPT all-context (bit 26): yes");
	assert_line("  INVVPID all-context (bit 42): yes");
}

static void test_full_ept_vpid_hlat_and_missing_bits(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.ept_vpid = (3ULL << 48) | (1ULL << 7);
	full(&caps);
	assert_line("  EPT page-walk length 4 (bit 6): no");
	assert_line("  EPT page-walk length 5 (bit 7): yes");
	assert_line("  INVVPID (bit 32): no");
	assert_line("  HLAT prefix size (bits 53:48): 3");
}

/* ---- CR0/CR4, VMCS_ENUM, VMFUNC ---- */

static void test_full_cr_fixed_bits_tigerlake(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	full(&caps);
	assert_line("CR0 in VMX operation (IA32_VMX_CR0_FIXED0 0x80000021, "
		    "IA32_VMX_CR0_FIXED1 0xffffffff):");
	assert_line("  CR0 fixed 1: PE NE PG");
	assert_line("  CR0 0 or 1: MP EM TS ET WP AM NW CD");
	assert_line("  CR0 fixed 0: none");
	assert_line("CR4 in VMX operation (IA32_VMX_CR4_FIXED0 0x2000, IA32_VMX_CR4_FIXED1 0xf72fff):");
	assert_line("  CR4 fixed 1: VMXE");
	assert_line("  CR4 0 or 1: VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP "
		    "FSGSBASE PCIDE OSXSAVE SMEP SMAP PKE CET");
	assert_line("  CR4 fixed 0: LA57 SMXE KL PKS UINTR LAM_SUP");
}

static void test_full_cr_fixed_bits_sandy_bridge(void **state)
{
	(void)state;
	struct vmx_caps caps = sandy_bridge();

	full(&caps);
	assert_line("  CR4 fixed 1: VMXE");
	assert_line("  CR4 0 or 1: VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT PCIDE OSXSAVE");
	assert_line("  CR4 fixed 0: UMIP LA57 SMXE FSGSBASE KL SMEP SMAP PKE CET PKS UINTR LAM_SUP");
}

static void test_full_cr_fixed_one_unnamed_bit_is_numbered(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.cr0_fixed0 |= 1u << 7;
	full(&caps);
	assert_line("  CR0 fixed 1: PE NE bit7 PG");
}

static void test_full_vmcs_enum(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	full(&caps);
	assert_line("IA32_VMX_VMCS_ENUM 0x34: highest VMCS field index 26 (0x1a)");
}

static void test_full_vmfunc(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();
	struct caps_report_facts facts = { .vmfunc_known = true, .vmfunc = 1 };

	full(&caps);
	assert_line("IA32_VMX_VMFUNC: not read (\"enable VM functions\" may be 1)");
	report(&caps, &facts, CAPS_REPORT_FULL);
	assert_line("IA32_VMX_VMFUNC 0x1: EPTP switching (function 0) yes");
	facts.vmfunc = 0x12;
	report(&caps, &facts, CAPS_REPORT_FULL);
	assert_line("IA32_VMX_VMFUNC 0x12: EPTP switching (function 0) no, other functions: 1 4");
	facts.vmfunc = 0xFFFFFFFFFFFFFFFFULL;
	report(&caps, &facts, CAPS_REPORT_FULL);
	assert_line("IA32_VMX_VMFUNC 0xffffffffffffffff: EPTP switching (function 0) yes, "
		    "other functions: 1-63");

	caps = sandy_bridge();
	report(&caps, &facts, CAPS_REPORT_FULL);
	assert_line("IA32_VMX_VMFUNC: not available (\"enable VM functions\" is fixed 0)");
}

/* ---- CPUID and IA32_FEATURE_CONTROL ---- */

static void test_full_facts(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();
	struct caps_report_facts facts = {
		.cpuid_known = true, .vendor = "GenuineIntel", .cpuid_vmx = true,
		.cpuid_smx = true, .feature_control_known = true, .feature_control = 7,
	};

	report(&caps, &facts, CAPS_REPORT_FULL);
	assert_string_equal(out.text[0], "CPUID: vendor GenuineIntel, VMX (CPUID.1:ECX[5]) yes, "
					 "SMX (CPUID.1:ECX[6]) yes, hypervisor present "
					 "(CPUID.1:ECX[31]) no");
	assert_string_equal(out.text[1], "IA32_FEATURE_CONTROL 0x7: lock (bit 0) yes, VMXON inside "
					 "SMX (bit 1) yes, VMXON outside SMX (bit 2) yes");
	assert_string_equal(out.text[2], "  locked, VMXON outside SMX allowed");
	assert_string_equal(out.text[3], TIGERLAKE_SUMMARY);

	facts.feature_control = 1;
	report(&caps, &facts, CAPS_REPORT_FULL);
	assert_line("  locked with VMXON outside SMX off: VMX is disabled by the firmware");
	facts.feature_control = 0;
	report(&caps, &facts, CAPS_REPORT_SHORT);
	assert_string_equal(out.text[0], "CPU GenuineIntel, CPUID VMX yes, IA32_FEATURE_CONTROL 0x0 "
					 "(unlocked: VMXON is allowed once cvisor sets VMXON outside "
					 "SMX and the lock)");

	/* Unknown groups are left out. */
	facts.cpuid_known = false;
	report(&caps, &facts, CAPS_REPORT_FULL);
	assert_no_line_contains("CPUID: vendor");
	assert_some_line_contains("IA32_FEATURE_CONTROL 0x0:");
	facts.feature_control_known = false;
	report(&caps, &facts, CAPS_REPORT_SHORT);
	assert_int_equal(out.count, 3);
}

/* Every line of both models in both forms fits (collect checks the length). */
static void test_no_line_is_cut(void **state)
{
	(void)state;
	struct vmx_caps models[2] = { tigerlake(), sandy_bridge() };
	struct caps_report_facts facts = {
		.cpuid_known = true, .vendor = "GenuineIntel", .cpuid_vmx = true,
		.feature_control_known = true, .feature_control = 0xFFFFFFFFFFFFFFFFULL,
		.vmfunc_known = true, .vmfunc = 0xFFFFFFFFFFFFFFFFULL,
	};

	for (unsigned m = 0; m < 2; m++) {
		report(&models[m], &facts, CAPS_REPORT_FULL);
		assert_true(out.count > 100);
		report(&models[m], &facts, CAPS_REPORT_SHORT);
	}
	/* The widest values: every bit set. */
	struct vmx_caps all;
	memset(&all, 0xFF, sizeof(all));
	report(&all, &facts, CAPS_REPORT_FULL);
	report(&all, &facts, CAPS_REPORT_SHORT);
	assert_int_equal(out.count, 4);
}

/* ---- caps_report_msr_name ---- */

static void test_msr_names(void **state)
{
	(void)state;
	assert_string_equal(caps_report_msr_name(MSR_IA32_VMX_BASIC), "IA32_VMX_BASIC");
	assert_string_equal(caps_report_msr_name(MSR_IA32_VMX_TRUE_ENTRY_CTLS),
			    "IA32_VMX_TRUE_ENTRY_CTLS");
	assert_string_equal(caps_report_msr_name(MSR_IA32_VMX_VMFUNC), "IA32_VMX_VMFUNC");
	assert_string_equal(caps_report_msr_name(MSR_IA32_FEATURE_CONTROL),
			    "IA32_FEATURE_CONTROL");
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_VMFUNC; msr++)
		assert_non_null(caps_report_msr_name(msr));
	assert_null(caps_report_msr_name(MSR_IA32_EFER));
}

/* ---- caps_report_read ---- */

/* Reads from the fake CPU's MSR table; counts reads per MSR. */
struct table_reader {
	unsigned reads[0x20];
	uint32_t refuse; /* this MSR reads as absent (0: none) */
};

static bool fake_reader(void *ctx, uint32_t msr, uint64_t *value)
{
	struct table_reader *t = ctx;
	struct fake_msr *m = fake_msr(msr);

	if (msr >= MSR_IA32_VMX_BASIC && msr < MSR_IA32_VMX_BASIC + 0x20)
		t->reads[msr - MSR_IA32_VMX_BASIC]++;
	if (!m || msr == t->refuse)
		return false;
	*value = m->value;
	return true;
}

static void assert_same_as_vmx_caps_read(void)
{
	struct vmx_caps expected, got;
	struct table_reader reader = { .refuse = 0 };
	uint32_t failed = 0;

	memset(&expected, 0xEE, sizeof(expected));
	memset(&got, 0xDD, sizeof(got));
	vmx_caps_read(&expected);
	assert_true(caps_report_read(&got, NULL, fake_reader, &reader, &failed));
	assert_memory_equal(&got, &expected, sizeof(got));
	/* Never reads IA32_VMX_VMFUNC without facts. */
	assert_int_equal(reader.reads[MSR_IA32_VMX_VMFUNC - MSR_IA32_VMX_BASIC], 0);
}

static void test_read_matches_vmx_caps_read_tigerlake(void **state)
{
	(void)state;
	fake_cpu_load_bochs_tigerlake();
	assert_same_as_vmx_caps_read();
}

static void test_read_matches_vmx_caps_read_sandy_bridge(void **state)
{
	(void)state;
	fake_cpu_load_bochs_sandy_bridge();
	assert_same_as_vmx_caps_read();
}

static void test_read_matches_without_true_controls(void **state)
{
	(void)state;
	fake_cpu_load_bochs_tigerlake();
	fake_msr_set(MSR_IA32_VMX_BASIC, 0x1d8100000000004ULL & ~VMX_BASIC_TRUE_CONTROLS, true);
	assert_same_as_vmx_caps_read();
}

static void test_read_skips_absent_msrs(void **state)
{
	(void)state;
	struct vmx_caps caps;
	struct caps_report_facts facts = { .vmfunc_known = true };
	struct table_reader reader = { .refuse = 0 };
	uint32_t failed = 0;

	fake_cpu_load_bochs_tigerlake();
	/* No secondary controls: PROCBASED_CTLS2, EPT_VPID_CAP and VMFUNC
	 * do not exist and must not be read. */
	fake_msr_set(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0x7ff9fffe04006172ULL, true);
	fake_msr_remove(MSR_IA32_VMX_PROCBASED_CTLS2);
	fake_msr_remove(MSR_IA32_VMX_EPT_VPID_CAP);
	assert_true(caps_report_read(&caps, &facts, fake_reader, &reader, &failed));
	assert_int_equal(caps.controls[VMX_CONTROLS_PROC2], 0);
	assert_int_equal(caps.ept_vpid, 0);
	assert_false(facts.vmfunc_known);
	assert_int_equal(reader.reads[MSR_IA32_VMX_PROCBASED_CTLS2 - MSR_IA32_VMX_BASIC], 0);
	assert_int_equal(reader.reads[MSR_IA32_VMX_EPT_VPID_CAP - MSR_IA32_VMX_BASIC], 0);
	assert_int_equal(reader.reads[MSR_IA32_VMX_VMFUNC - MSR_IA32_VMX_BASIC], 0);
	/* TRUE controls: the legacy control MSRs are not read. */
	assert_int_equal(reader.reads[MSR_IA32_VMX_PINBASED_CTLS - MSR_IA32_VMX_BASIC], 0);
	assert_int_equal(reader.reads[MSR_IA32_VMX_TRUE_PINBASED_CTLS - MSR_IA32_VMX_BASIC], 1);
}

static void test_read_gets_vmfunc_when_vm_functions_may_be_enabled(void **state)
{
	(void)state;
	struct vmx_caps caps;
	struct caps_report_facts facts = { 0 };
	struct table_reader reader = { .refuse = 0 };
	uint32_t failed = 0;

	fake_cpu_load_bochs_tigerlake();
	fake_msr_set(MSR_IA32_VMX_VMFUNC, 1, true);
	assert_true(caps_report_read(&caps, &facts, fake_reader, &reader, &failed));
	assert_true(facts.vmfunc_known);
	assert_int_equal(facts.vmfunc, 1);

	/* Sandy Bridge cannot enable VM functions: no read, not known. */
	fake_cpu_reset();
	fake_cpu_load_bochs_sandy_bridge();
	facts.vmfunc_known = true;
	memset(&reader, 0, sizeof(reader));
	assert_true(caps_report_read(&caps, &facts, fake_reader, &reader, &failed));
	assert_false(facts.vmfunc_known);
	assert_int_equal(reader.reads[MSR_IA32_VMX_VMFUNC - MSR_IA32_VMX_BASIC], 0);
}

static void test_read_names_the_msr_that_failed(void **state)
{
	(void)state;
	struct vmx_caps caps;
	struct caps_report_facts facts = { 0 };
	struct table_reader reader = { .refuse = MSR_IA32_VMX_EPT_VPID_CAP };
	uint32_t failed = 0;

	fake_cpu_load_bochs_tigerlake();
	assert_false(caps_report_read(&caps, NULL, fake_reader, &reader, &failed));
	assert_int_equal(failed, MSR_IA32_VMX_EPT_VPID_CAP);

	reader.refuse = MSR_IA32_VMX_BASIC;
	assert_false(caps_report_read(&caps, NULL, fake_reader, &reader, &failed));
	assert_int_equal(failed, MSR_IA32_VMX_BASIC);

	reader.refuse = MSR_IA32_VMX_TRUE_EXIT_CTLS;
	assert_false(caps_report_read(&caps, NULL, fake_reader, &reader, NULL));

	/* VM functions may be enabled on tigerlake, so IA32_VMX_VMFUNC is read
	 * with facts: refusing it fails on 0x491. */
	reader.refuse = MSR_IA32_VMX_VMFUNC;
	assert_false(caps_report_read(&caps, &facts, fake_reader, &reader, &failed));
	assert_int_equal(failed, MSR_IA32_VMX_VMFUNC);
}

/* ---- caps_report_missing ---- */

static unsigned missing(const struct vmx_caps *caps)
{
	out.count = 0;
	unsigned n = caps_report_missing(caps, collect, &out);
	assert_int_equal(n, out.count);
	return n;
}

/* Does vmx_cpu.c accept these capabilities? */
static bool vmx_cpu_accepts(const struct vmx_caps *caps)
{
	return vmx_check_basic(caps) == VMX_OK && vmx_check_required_features(caps) == VMX_OK;
}

static void test_missing_none_on_both_models(void **state)
{
	(void)state;
	struct vmx_caps tl = tigerlake(), sb = sandy_bridge();

	assert_int_equal(missing(&tl), 0);
	assert_int_equal(missing(&sb), 0);
	assert_true(vmx_cpu_accepts(&tl));
	assert_true(vmx_cpu_accepts(&sb));
}

static void test_missing_agrees_with_vmx_cpu_checks(void **state)
{
	(void)state;
	static const struct {
		enum vmx_control_kind kind; /* VMX_CONTROL_KINDS: change basic/ept_vpid */
		uint64_t clear;
		uint64_t basic_set;
		bool vmx_cpu_refuses; /* vmx_cpu.c's checks refuse it (not only vcpu.c's) */
		const char *line;
	} cases[] = {
		{ VMX_CONTROLS_PROC2, (uint64_t)PROC2_UNRESTRICTED_GUEST << 32, 0, true,
		  "cvisor needs the secondary processor-based VM-execution control "
		  "\"unrestricted guest\" (bit 7); this CPU has it fixed 0" },
		{ VMX_CONTROLS_PROC2, (uint64_t)PROC2_ENABLE_EPT << 32, 0, true, "\"enable EPT\"" },
		{ VMX_CONTROLS_PROC2, (uint64_t)PROC2_ENABLE_VPID << 32, 0, true, "\"enable VPID\"" },
		{ VMX_CONTROLS_PROC, (uint64_t)PROC_SECONDARY_CONTROLS << 32, 0, true,
		  "\"activate secondary controls\" (bit 31)" },
		{ VMX_CONTROLS_PIN, (uint64_t)PIN_PREEMPTION_TIMER << 32, 0, false,
		  "cvisor needs the pin-based VM-execution control \"activate VMX-preemption "
		  "timer\" (bit 6); this CPU has it fixed 0" },
		{ VMX_CONTROLS_PROC, (uint64_t)PROC_USE_MSR_BITMAPS << 32, 0, false,
		  "\"use MSR bitmaps\"" },
		{ VMX_CONTROLS_EXIT, (uint64_t)EXIT_LOAD_IA32_EFER << 32, 0, false,
		  "VM-exit control \"load IA32_EFER\" (bit 21)" },
		{ VMX_CONTROLS_ENTRY, (uint64_t)ENTRY_LOAD_IA32_PAT << 32, 0, false,
		  "VM-entry control \"load IA32_PAT\" (bit 14)" },
		{ VMX_CONTROL_KINDS, EPT_CAP_PDPTE_1GB, 0, false, NULL },
		{ VMX_CONTROL_KINDS, EPT_CAP_ACCESSED_DIRTY, 0, false, NULL },
		{ VMX_CONTROL_KINDS, EPT_CAP_WALK_LENGTH_4, 0, true,
		  "cvisor needs EPT page-walk length 4; IA32_VMX_EPT_VPID_CAP 0xf0106b34101 lacks it" },
		{ VMX_CONTROL_KINDS, EPT_CAP_MEMTYPE_WB, 0, true, "write-back EPT paging structures" },
		{ VMX_CONTROL_KINDS, EPT_CAP_INVEPT, 0, true, "cvisor needs INVEPT;" },
		{ VMX_CONTROL_KINDS, EPT_CAP_INVEPT_ALL, 0, true, "all-context INVEPT" },
		{ VMX_CONTROL_KINDS, EPT_CAP_INVEPT_SINGLE, 0, false, NULL },
		{ VMX_CONTROL_KINDS, VPID_CAP_INVVPID, 0, true, "cvisor needs INVVPID;" },
		{ VMX_CONTROL_KINDS, VPID_CAP_INVVPID_ALL, 0, true, "all-context INVVPID" },
		{ VMX_CONTROL_KINDS, 0, 0x0800ULL << 32, true,
		  "cvisor needs a VMXON/VMCS region of at most 4096 bytes; IA32_VMX_BASIC says 6144" },
		{ VMX_CONTROL_KINDS, 0, 0, false, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmx_caps caps = tigerlake();

		if (cases[i].kind < VMX_CONTROL_KINDS)
			caps.controls[cases[i].kind] &= ~cases[i].clear;
		else
			caps.ept_vpid &= ~cases[i].clear;
		caps.basic |= cases[i].basic_set;
		fake_console_clear();
		unsigned n = missing(&caps);
		if (cases[i].line) {
			assert_true(n >= 1);
			assert_some_line_contains(cases[i].line);
		} else {
			assert_int_equal(n, 0);
		}
		/* Whatever vmx_cpu.c refuses, the report calls missing too. */
		assert_int_equal(!vmx_cpu_accepts(&caps), cases[i].vmx_cpu_refuses);
		if (cases[i].vmx_cpu_refuses)
			assert_true(n >= 1);
	}
}

static void test_missing_memory_type(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.basic &= ~(0xFULL << 50);
	assert_int_equal(missing(&caps), 1);
	assert_line("cvisor needs a write-back VMCS; IA32_VMX_BASIC says memory type 0");
	assert_false(vmx_cpu_accepts(&caps));
}

static void test_missing_lists_every_lack(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.controls[VMX_CONTROLS_PROC] &= ~((uint64_t)PROC_SECONDARY_CONTROLS << 32);
	caps.controls[VMX_CONTROLS_PROC2] = 0;
	caps.ept_vpid = 0;
	/* Secondary controls, EPT, VPID, unrestricted guest, 6 EPT/VPID capabilities. */
	assert_int_equal(missing(&caps), 10);
}

/* Every control a vCPU is set up with counts, e.g. virtual NMIs (pin) and
 * acknowledge interrupt on exit: the verdict uses vcpu.c's own table. */
static void test_missing_covers_every_control_vcpus_use(void **state)
{
	(void)state;
	struct vmx_caps caps = tigerlake();

	caps.controls[VMX_CONTROLS_PIN] &= ~((uint64_t)PIN_VIRTUAL_NMIS << 32);
	caps.controls[VMX_CONTROLS_EXIT] &= ~((uint64_t)EXIT_ACK_INTERRUPT_ON_EXIT << 32);
	assert_int_equal(missing(&caps), 2);
	for (unsigned kind = 0; kind < VMX_CONTROL_KINDS; kind++) {
		struct vmx_caps one = tigerlake();
		one.controls[kind] &= ~((uint64_t)vmx_required_controls[kind] << 32);
		assert_true(missing(&one) > 0);
	}
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_short_tigerlake_is_three_lines),
		T(test_short_sandy_bridge_has_no_1g_pages),
		T(test_short_with_facts_adds_one_line_first),
		T(test_short_says_what_is_missing),
		T(test_print_summary_logs_the_short_form),
		T(test_full_basic_tigerlake),
		T(test_full_basic_sandy_bridge),
		T(test_full_basic_other_bits),
		T(test_full_controls_tigerlake),
		T(test_full_controls_sandy_bridge),
		T(test_full_lists_every_named_control),
		T(test_full_controls_without_true_msrs_name_the_old_msrs),
		T(test_full_control_settings),
		T(test_full_without_secondary_controls),
		T(test_full_misc_tigerlake),
		T(test_full_misc_sandy_bridge_has_no_vmwrite_to_exit_info),
		T(test_full_misc_every_field),
		T(test_full_ept_vpid_tigerlake),
		T(test_full_ept_vpid_sandy_bridge),
		T(test_full_ept_vpid_hlat_and_missing_bits),
		T(test_full_cr_fixed_bits_tigerlake),
		T(test_full_cr_fixed_bits_sandy_bridge),
		T(test_full_cr_fixed_one_unnamed_bit_is_numbered),
		T(test_full_vmcs_enum),
		T(test_full_vmfunc),
		T(test_full_facts),
		T(test_no_line_is_cut),
		T(test_msr_names),
		T(test_read_matches_vmx_caps_read_tigerlake),
		T(test_read_matches_vmx_caps_read_sandy_bridge),
		T(test_read_matches_without_true_controls),
		T(test_read_skips_absent_msrs),
		T(test_read_gets_vmfunc_when_vm_functions_may_be_enabled),
		T(test_read_names_the_msr_that_failed),
		T(test_missing_none_on_both_models),
		T(test_missing_agrees_with_vmx_cpu_checks),
		T(test_missing_memory_type),
		T(test_missing_lists_every_lack),
		T(test_missing_covers_every_control_vcpus_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
