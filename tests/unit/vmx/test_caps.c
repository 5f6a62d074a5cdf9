/*
 * Tests of core/vmx/caps.c against the fake CPU loaded with the capability
 * MSRs Bochs 2.7 reports (tigerlake, corei7_sandy_bridge_2600k): clamping
 * controls to the allowed bits, vmx_caps_read with and without the TRUE
 * controls, secondary controls and EPT/VPID, vmx_controls_for and the missing
 * bits it names, the CR fixed bits, the IA32_FEATURE_CONTROL decision, and the
 * capability summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "x86.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_error.h"
#include "fixture_vm.h"

/* The controls cvisor asks for, as core/vcpu/vmcs_setup.c vmcs_setup_controls does. */
#define WANT_PIN 0u
#define WANT_PROC                                                                        \
	(PROC_HLT_EXITING | PROC_UNCONDITIONAL_IO_EXITING | PROC_USE_MSR_BITMAPS |       \
	 PROC_USE_TSC_OFFSETTING | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |           \
	 PROC_SECONDARY_CONTROLS)
#define WANT_PROC2 (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST)
#define WANT_EXIT                                                                        \
	(EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |         \
	 EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT)
#define WANT_ENTRY (ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT)

static struct vmx_caps read_caps(void)
{
	struct vmx_caps caps;
	memset(&caps, 0xEE, sizeof(caps));
	vmx_caps_read(&caps);
	return caps;
}

/* ---- vmx_clamp_controls ---- */

static void test_clamp_forces_allowed0_bits_on(void **state)
{
	(void)state;
	uint32_t missing = 0xFFFFFFFF;

	/* allowed-0 0x16: bits 1, 2, 4 must be 1 even when nobody asks. */
	assert_int_equal(vmx_clamp_controls(0x0000007F00000016ULL, 0, &missing), 0x16);
	assert_int_equal(missing, 0);
}

static void test_clamp_keeps_wanted_bits_that_may_be_one(void **state)
{
	(void)state;
	uint32_t missing = 0xFFFFFFFF;

	assert_int_equal(vmx_clamp_controls(0x0000007F00000016ULL, 0x48, &missing), 0x5E);
	assert_int_equal(missing, 0);
}

static void test_clamp_drops_bits_outside_allowed1_and_reports_them(void **state)
{
	(void)state;
	uint32_t missing = 0;

	/* allowed-1 0x7F: bits 7 and 31 cannot be 1. */
	uint32_t r = vmx_clamp_controls(0x0000007F00000016ULL, 0x80000088u, &missing);
	assert_int_equal(r, 0x1E);
	assert_int_equal(missing, 0x80000080u);
}

static void test_clamp_missing_ignores_unwanted_bits(void **state)
{
	(void)state;
	uint32_t missing = 0xFFFFFFFF;

	/* Nothing wanted: nothing missing, even with an empty allowed-1 half. */
	assert_int_equal(vmx_clamp_controls(0, 0, &missing), 0);
	assert_int_equal(missing, 0);
}

/* ---- vmx_caps_read ---- */

static void test_caps_read_takes_true_controls_when_basic_bit55_set(void **state)
{
	(void)state;
	struct vmx_caps caps = read_caps();

	assert_int_equal(caps.basic, 0x1d8100000000004ULL);
	assert_int_equal(caps.controls[VMX_CONTROLS_PIN], 0x7f00000016ULL);
	assert_int_equal(caps.controls[VMX_CONTROLS_PROC], 0xfff9fffe04006172ULL);
	assert_int_equal(caps.controls[VMX_CONTROLS_PROC2], 0x2977fff00000000ULL);
	assert_int_equal(caps.controls[VMX_CONTROLS_EXIT], 0x107fffff00036dfbULL);
	assert_int_equal(caps.controls[VMX_CONTROLS_ENTRY], 0x10ffff000011fbULL);
	assert_int_equal(caps.misc, 0x600401e0ULL);
	assert_int_equal(caps.cr0_fixed0, 0x80000021ULL);
	assert_int_equal(caps.cr0_fixed1, 0xffffffffULL);
	assert_int_equal(caps.cr4_fixed0, 0x2000ULL);
	assert_int_equal(caps.cr4_fixed1, 0xf72fffULL);
	assert_int_equal(caps.vmcs_enum, 0x34ULL);
	assert_int_equal(caps.ept_vpid, 0xf0106b34141ULL);
	assert_int_equal(fake_msr(MSR_IA32_VMX_PROCBASED_CTLS)->reads, 0);
}

static void test_caps_read_takes_legacy_controls_without_basic_bit55(void **state)
{
	(void)state;
	fake_msr_set(MSR_IA32_VMX_BASIC, 0x1d8100000000004ULL & ~VMX_BASIC_TRUE_CONTROLS, true);
	struct vmx_caps caps = read_caps();

	/* The 0x481-0x484 values: default-1 controls reported as must-be-1. */
	assert_int_equal(caps.controls[VMX_CONTROLS_PROC], 0xfff9fffe0401E172ULL);
	assert_int_equal(caps.controls[VMX_CONTROLS_EXIT], 0x107fffff00036dffULL);
	assert_int_equal(caps.controls[VMX_CONTROLS_ENTRY], 0x10ffff000011ffULL);
	assert_int_equal(fake_msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS)->reads, 0);
}

static void test_caps_read_skips_proc2_and_ept_msrs_without_secondary_controls(void **state)
{
	(void)state;
	/* SDM A.3.3: without "activate secondary controls" allowed-1 the MSR
	 * does not exist; reading it would #GP (the fake fails the test). */
	fake_msr_set(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0x7ff9fffe04006172ULL, true);
	fake_msr_remove(MSR_IA32_VMX_PROCBASED_CTLS2);
	fake_msr_remove(MSR_IA32_VMX_EPT_VPID_CAP);
	struct vmx_caps caps = read_caps();

	assert_int_equal(caps.controls[VMX_CONTROLS_PROC2], 0);
	assert_int_equal(caps.ept_vpid, 0);
}

static void test_caps_read_skips_ept_vpid_msr_without_ept_and_vpid(void **state)
{
	(void)state;
	fake_msr_set(MSR_IA32_VMX_PROCBASED_CTLS2, 0x0000005D00000000ULL, true); /* no bits 1, 5 */
	fake_msr_remove(MSR_IA32_VMX_EPT_VPID_CAP);
	struct vmx_caps caps = read_caps();

	assert_int_equal(caps.controls[VMX_CONTROLS_PROC2], 0x0000005D00000000ULL);
	assert_int_equal(caps.ept_vpid, 0);
}

/* ---- vmx_controls_for ---- */

static void check_wanted_controls(uint32_t pin, uint32_t proc, uint32_t proc2, uint32_t exit,
				  uint32_t entry)
{
	struct vmx_caps caps = read_caps();
	uint32_t r = 0;

	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_PIN, WANT_PIN, &r), VMX_OK);
	assert_int_equal(r, pin);
	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_PROC, WANT_PROC, &r), VMX_OK);
	assert_int_equal(r, proc);
	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_PROC2, WANT_PROC2, &r), VMX_OK);
	assert_int_equal(r, proc2);
	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_EXIT, WANT_EXIT, &r), VMX_OK);
	assert_int_equal(r, exit);
	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_ENTRY, WANT_ENTRY, &r), VMX_OK);
	assert_int_equal(r, entry);
	assert_console_lacks("missing");
}

static void test_controls_for_tigerlake_gives_the_expected_words(void **state)
{
	(void)state;
	check_wanted_controls(0x16, 0xB50065FA, 0xA2, 0x3F6FFB, 0xD1FB);
}

static void test_controls_for_sandy_bridge_gives_the_expected_words(void **state)
{
	(void)state;
	check_wanted_controls(0x16, 0xB50065FA, 0xA2, 0x3F6FFB, 0xD1FB);
}

static void test_controls_for_missing_unrestricted_guest_is_named(void **state)
{
	(void)state;
	/* Sandy Bridge's secondary controls without bit 7. */
	fake_msr_set(MSR_IA32_VMX_PROCBASED_CTLS2, 0x7f00000000ULL, true);
	struct vmx_caps caps = read_caps();
	uint32_t r;

	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_PROC2, WANT_PROC2, &r),
			 VMX_ERR_PROC2_CONTROLS);
	assert_int_equal(r, PROC2_ENABLE_EPT | PROC2_ENABLE_VPID);
	assert_console_contains("missing secondary processor-based VM-execution control(s): "
				"\"unrestricted guest\" (bit 7)\n");
	assert_int_equal(fake_console_count("\n"), 1);
}

static void test_controls_for_names_every_missing_bit(void **state)
{
	(void)state;
	/* Exit controls that allow neither EFER bit (20, 21). */
	fake_msr_set(MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x104fffff00036dfbULL, true);
	struct vmx_caps caps = read_caps();
	uint32_t r;

	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_EXIT, WANT_EXIT, &r),
			 VMX_ERR_EXIT_CONTROLS);
	assert_console_contains("missing VM-exit control(s): \"save IA32_EFER\" (bit 20) "
				"\"load IA32_EFER\" (bit 21)\n");
}

static void test_controls_for_unnamed_bit_says_unnamed(void **state)
{
	(void)state;
	struct vmx_caps caps = read_caps();
	uint32_t r;

	/* Pin-based bit 1 is reserved: allowed-1 of 0x7F has it, 0x7D not. */
	caps.controls[VMX_CONTROLS_PIN] = 0x0000007D00000014ULL;
	assert_int_equal(vmx_controls_for(&caps, VMX_CONTROLS_PIN, 1u << 1, &r),
			 VMX_ERR_PIN_CONTROLS);
	assert_console_contains("\"unnamed\" (bit 1)");
}

static void test_controls_for_each_kind_has_its_own_error(void **state)
{
	(void)state;
	static const enum vmx_error expected[VMX_CONTROL_KINDS] = {
		[VMX_CONTROLS_PIN] = VMX_ERR_PIN_CONTROLS,
		[VMX_CONTROLS_PROC] = VMX_ERR_PROC_CONTROLS,
		[VMX_CONTROLS_PROC2] = VMX_ERR_PROC2_CONTROLS,
		[VMX_CONTROLS_EXIT] = VMX_ERR_EXIT_CONTROLS,
		[VMX_CONTROLS_ENTRY] = VMX_ERR_ENTRY_CONTROLS,
	};
	struct vmx_caps caps;
	uint32_t r;

	memset(&caps, 0, sizeof(caps)); /* nothing may be 1 */
	for (unsigned k = 0; k < VMX_CONTROL_KINDS; k++)
		assert_int_equal(vmx_controls_for(&caps, k, 1u << 2, &r), expected[k]);
}

/* ---- CR0/CR4 fixed bits ---- */

static void test_apply_fixed_bits_forces_fixed0_and_clears_outside_fixed1(void **state)
{
	(void)state;
	/* CR0: NE forced on. */
	assert_int_equal(vmx_apply_fixed_bits(0x80000011ULL, 0x80000021ULL, 0xFFFFFFFFULL),
			 0x80000031ULL);
	/* CR4 on Sandy Bridge: VMXE forced on, bit 20 (SMEP) not allowed. */
	assert_int_equal(vmx_apply_fixed_bits(0x1000A0ULL, 0x2000ULL, 0x627FFULL), 0x20A0ULL);
}

static void test_fixed_bits_ok_only_when_nothing_must_change(void **state)
{
	(void)state;
	assert_true(vmx_fixed_bits_ok(0x80000031ULL, 0x80000021ULL, 0xFFFFFFFFULL));
	assert_false(vmx_fixed_bits_ok(0x80000011ULL, 0x80000021ULL, 0xFFFFFFFFULL));
	assert_true(vmx_fixed_bits_ok(0x20A0ULL, 0x2000ULL, 0x627FFULL));
	assert_false(vmx_fixed_bits_ok(0x1020A0ULL, 0x2000ULL, 0x627FFULL));
	/* Bits above 31 are outside a 32-bit FIXED1 too. */
	assert_false(vmx_fixed_bits_ok(0x1000020A0ULL, 0x2000ULL, 0xFFFFFFFFULL));
}

/* ---- IA32_FEATURE_CONTROL ---- */

static void test_feature_control_unlocked_must_write_lock_and_vmxon(void **state)
{
	(void)state;
	uint64_t value = 0;

	assert_int_equal(feature_control_decide(0, &value), FEATURE_CONTROL_MUST_WRITE);
	assert_int_equal(value, 0x5);
	/* Other bits (here VMXON inside SMX) are kept. */
	assert_int_equal(feature_control_decide(0x2, &value), FEATURE_CONTROL_MUST_WRITE);
	assert_int_equal(value, 0x7);
}

static void test_feature_control_locked_enabled_is_ready(void **state)
{
	(void)state;
	uint64_t value = 0;

	assert_int_equal(feature_control_decide(0x5, &value), FEATURE_CONTROL_READY);
	assert_int_equal(feature_control_decide(0xFF07, &value), FEATURE_CONTROL_READY);
}

static void test_feature_control_locked_disabled_is_locked_off(void **state)
{
	(void)state;
	uint64_t value = 0;

	assert_int_equal(feature_control_decide(0x1, &value), FEATURE_CONTROL_LOCKED_OFF);
	/* VMXON only inside SMX is still off for cvisor. */
	assert_int_equal(feature_control_decide(0x3, &value), FEATURE_CONTROL_LOCKED_OFF);
}

/* ---- Reports ---- */

static void test_caps_summary_names_the_features(void **state)
{
	(void)state;
	struct vmx_caps caps = read_caps();

	vmx_caps_print_summary(&caps);
	assert_console_contains("VMX revision 0x4, region 4096 bytes, true controls yes, "
				"EPT yes +2M +1G, VPID yes, unrestricted guest yes, "
				"preemption timer yes (TSC/2^0)");
	assert_console_contains("basic 0x1d8100000000004 ");
	assert_console_contains("ept_vpid 0xf0106b34141");
}

static void test_caps_summary_sandy_bridge_has_no_1g_pages(void **state)
{
	(void)state;
	struct vmx_caps caps = read_caps();

	vmx_caps_print_summary(&caps);
	assert_console_contains("VMX revision 0x2b, region 4096 bytes, true controls yes, EPT yes +2M, ");
}

static void test_caps_summary_says_what_is_missing(void **state)
{
	(void)state;
	struct vmx_caps caps = read_caps();

	caps.controls[VMX_CONTROLS_PROC2] &= ~((uint64_t)PROC2_UNRESTRICTED_GUEST << 32);
	caps.controls[VMX_CONTROLS_PIN] &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	vmx_caps_print_summary(&caps);
	assert_console_contains("unrestricted guest no, preemption timer no");
}

#define TL(f) cmocka_unit_test_setup(f, fixture_setup_tigerlake)
#define SB(f) cmocka_unit_test_setup(f, fixture_setup_sandy_bridge)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TL(test_clamp_forces_allowed0_bits_on),
		TL(test_clamp_keeps_wanted_bits_that_may_be_one),
		TL(test_clamp_drops_bits_outside_allowed1_and_reports_them),
		TL(test_clamp_missing_ignores_unwanted_bits),
		TL(test_caps_read_takes_true_controls_when_basic_bit55_set),
		TL(test_caps_read_takes_legacy_controls_without_basic_bit55),
		TL(test_caps_read_skips_proc2_and_ept_msrs_without_secondary_controls),
		TL(test_caps_read_skips_ept_vpid_msr_without_ept_and_vpid),
		TL(test_controls_for_tigerlake_gives_the_expected_words),
		SB(test_controls_for_sandy_bridge_gives_the_expected_words),
		SB(test_controls_for_missing_unrestricted_guest_is_named),
		TL(test_controls_for_names_every_missing_bit),
		TL(test_controls_for_unnamed_bit_says_unnamed),
		TL(test_controls_for_each_kind_has_its_own_error),
		TL(test_apply_fixed_bits_forces_fixed0_and_clears_outside_fixed1),
		TL(test_fixed_bits_ok_only_when_nothing_must_change),
		TL(test_feature_control_unlocked_must_write_lock_and_vmxon),
		TL(test_feature_control_locked_enabled_is_ready),
		TL(test_feature_control_locked_disabled_is_locked_off),
		TL(test_caps_summary_names_the_features),
		SB(test_caps_summary_sandy_bridge_has_no_1g_pages),
		TL(test_caps_summary_says_what_is_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
