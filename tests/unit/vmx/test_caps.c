/*
 * VMX capabilities and bring-up (core/vmx/caps.c, vmx_cpu.c, vmx_error.c)
 * against the fake CPU loaded with the capability MSRs Bochs 2.7 reports.
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

/* "GenuineIntel" and "AuthenticAMD" as CPUID leaf 0 returns them (EBX, ECX, EDX). */
#define INTEL_EBX 0x756E6547u
#define INTEL_ECX 0x6C65746Eu
#define INTEL_EDX 0x49656E69u
#define AMD_EBX 0x68747541u
#define AMD_ECX 0x444D4163u
#define AMD_EDX 0x69746E65u

static int setup_tigerlake(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	return 0;
}

static int setup_sandy_bridge(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	fake_cpu_load_bochs_sandy_bridge();
	return 0;
}

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

/* ---- vmx_cpu_enable ---- */

static void check_enabled(const struct vmx_cpu *cpu, uint32_t revision)
{
	assert_true(fake_cpu.vmx_on);
	assert_true(cpu->vmx_on);
	assert_true(fake_cpu.cr4 & CR4_VMXE);
	assert_true(fake_cpu.cr0 & CR0_NE); /* CR0_FIXED0 */
	assert_int_equal(fake_cpu.vmxon_calls, 1);
	assert_non_null(cpu->vmxon_region);
	assert_int_equal(cpu->vmxon_region_pa, fake_cpu.last_vmxon_pa);
	assert_int_equal(fake_cpu.vmxon_pa, (uint64_t)(uintptr_t)cpu->vmxon_region);
	assert_int_equal(cpu->vmxon_region_pa & 0xFFF, 0);
	assert_true(fake_page_is_allocated(cpu->vmxon_region));
	assert_int_equal(*(const uint32_t *)cpu->vmxon_region, revision);
	assert_int_equal(fake_pages_outstanding(), 1);
}

static void test_enable_on_tigerlake_enters_vmx_operation(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	assert_int_equal(vmx_cpu_enable(&cpu, 3), VMX_OK);
	check_enabled(&cpu, 4);
	assert_int_equal(cpu.cpu_id, 3);
	assert_int_equal(cpu.caps.basic, 0x1d8100000000004ULL);
	assert_true(vmx_cr4_vmxe_set());
	vmx_cpu_disable(&cpu);
}

static void test_enable_on_sandy_bridge_enters_vmx_operation(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_OK);
	check_enabled(&cpu, 0x2b);
	vmx_cpu_disable(&cpu);
}

/* Enabling VMX alone leaves the OS's FPU configuration as it was (cvisor.ko). */
static void test_enable_leaves_the_fpu_bits_alone(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_cpu.cr4 &= ~(CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_OK);
	assert_false(cpu.host_xsave);
	assert_false(fake_cpu.cr4 & (CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE));
	vmx_cpu_disable(&cpu);
}

static void test_fpu_switching_sets_the_host_fpu_bits(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_OK);
	vmx_prepare_guest_fpu_switching(&cpu);
	/* CPUID.1:ECX.XSAVE is set for the model: OSFXSR, OSXMMEXCPT, OSXSAVE. */
	assert_true(cpu.host_xsave);
	assert_true(fake_cpu.cr4 & CR4_OSFXSR);
	assert_true(fake_cpu.cr4 & CR4_OSXMMEXCPT);
	assert_true(fake_cpu.cr4 & CR4_OSXSAVE);
	vmx_cpu_disable(&cpu);
}

static void test_fpu_switching_without_xsave_leaves_osxsave_clear(void **state)
{
	(void)state;
	struct cpuid_regs r;
	struct vmx_cpu cpu;

	cpuid(1, 0, &r);
	fake_cpuid_set(1, FAKE_ANY_SUBLEAF, r.eax, r.ebx, r.ecx & ~(1u << 26), r.edx);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_OK);
	vmx_prepare_guest_fpu_switching(&cpu);
	assert_false(cpu.host_xsave);
	assert_true(fake_cpu.cr4 & CR4_OSFXSR);
	assert_false(fake_cpu.cr4 & CR4_OSXSAVE);
	vmx_cpu_disable(&cpu);
}

/* Checks a refused enable left the machine as it was. */
static void check_nothing_enabled(const struct vmx_cpu *cpu)
{
	assert_false(fake_cpu.vmx_on);
	assert_false(cpu->vmx_on);
	assert_null(cpu->vmxon_region);
	assert_int_equal(fake_cpu.cr0, FAKE_HOST_CR0);
	assert_int_equal(fake_cpu.cr4, FAKE_HOST_CR4);
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_enable_on_amd_is_not_intel(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0xD, AMD_EBX, AMD_ECX, AMD_EDX);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_NOT_INTEL);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	check_nothing_enabled(&cpu);
}

static void test_enable_with_vendor_registers_swapped_is_not_intel(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	/* "GenuineIntel" spelt EBX, ECX, EDX instead of EBX, EDX, ECX. */
	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0xD, INTEL_EBX, INTEL_EDX, INTEL_ECX);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_NOT_INTEL);
}

static void test_enable_without_cpuid_vmx_bit_is_no_vmx(void **state)
{
	(void)state;
	struct cpuid_regs r;
	struct vmx_cpu cpu;

	cpuid(1, 0, &r);
	fake_cpuid_set(1, FAKE_ANY_SUBLEAF, r.eax, r.ebx, r.ecx & ~(1u << 5), r.edx);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_NO_VMX);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	check_nothing_enabled(&cpu);
}

static void test_enable_with_feature_control_locked_off_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCK, false);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_FEATURE_CONTROL_LOCKED_OFF);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	assert_int_equal(fake_msr(MSR_IA32_FEATURE_CONTROL)->writes, 0);
	check_nothing_enabled(&cpu);
}

static void test_enable_with_feature_control_unlocked_writes_it(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_FEATURE_CONTROL, 0, false);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_OK);
	assert_int_equal(fake_msr(MSR_IA32_FEATURE_CONTROL)->writes, 1);
	assert_int_equal(fake_msr_value(MSR_IA32_FEATURE_CONTROL), 0x5);
	check_enabled(&cpu, 4);
	vmx_cpu_disable(&cpu);
}

static void test_enable_when_feature_control_write_has_no_effect_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_FEATURE_CONTROL, 0, false);
	fake_msr(MSR_IA32_FEATURE_CONTROL)->ignore_writes = true;
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_FEATURE_CONTROL_WRITE);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	check_nothing_enabled(&cpu);
}

static void test_enable_with_vmxe_already_set_is_already_on(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_cpu.cr4 |= CR4_VMXE;
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_ALREADY_ON);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	assert_true(fake_cpu.cr4 & CR4_VMXE); /* not ours to clear */
	assert_int_equal(fake_pages_outstanding(), 0);
}

static void test_enable_when_vmxon_fails_restores_cr0_cr4_and_frees_region(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_cpu.fail_vmxon.result = VMX_FAIL_INVALID;
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_VMXON_FAILED);
	assert_int_equal(fake_cpu.vmxon_calls, 1);
	assert_console_contains("VMXON");
	assert_console_contains("VMfailInvalid");
	check_nothing_enabled(&cpu);
}

static void test_enable_out_of_memory_restores_cr0_cr4(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_pages_set_limit(0);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_NO_MEMORY);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	check_nothing_enabled(&cpu);
}

static void test_enable_with_region_larger_than_a_page_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	/* IA32_VMX_BASIC bits 44:32 = 6144 (the SDM promises at most 4096). */
	fake_msr_set(MSR_IA32_VMX_BASIC, 0x1d8180000000004ULL, true);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_BASIC_REGION_SIZE);
	check_nothing_enabled(&cpu);
}

static void test_enable_with_uncacheable_vmcs_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	/* IA32_VMX_BASIC bits 53:50 = 0 (UC). */
	fake_msr_set(MSR_IA32_VMX_BASIC, 0x1d8100000000004ULL & ~(0xFULL << 50), true);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_BASIC_MEMORY_TYPE);
	check_nothing_enabled(&cpu);
}

static void test_enable_without_unrestricted_guest_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_VMX_PROCBASED_CTLS2, 0x7f00000000ULL, true);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_PROC2_CONTROLS);
	assert_console_contains("\"unrestricted guest\" (bit 7)");
	check_nothing_enabled(&cpu);
}

static void test_enable_without_4_level_ept_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_VMX_EPT_VPID_CAP, 0xf0106b34141ULL & ~EPT_CAP_WALK_LENGTH_4, true);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_EPT_CAPS);
	check_nothing_enabled(&cpu);
}

static void test_enable_without_all_context_invept_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_VMX_EPT_VPID_CAP, 0xf0106b34141ULL & ~EPT_CAP_INVEPT_ALL, true);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_EPT_CAPS);
	check_nothing_enabled(&cpu);
}

static void test_enable_without_invvpid_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_VMX_EPT_VPID_CAP, 0xf0106b34141ULL & ~VPID_CAP_INVVPID, true);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_VPID_CAPS);
	check_nothing_enabled(&cpu);
}

static void test_enable_when_cr4_fixed1_forbids_vmxe_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_msr_set(MSR_IA32_VMX_CR4_FIXED1, 0xf72fffULL & ~CR4_VMXE, true);
	fake_msr_set(MSR_IA32_VMX_CR4_FIXED0, 0, true);
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_CR4_FIXED);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	check_nothing_enabled(&cpu);
}

static void test_enable_when_cr4_write_does_not_stick_refuses(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	fake_cpu.cr4_stuck_bits = CR4_VMXE;
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_CR4_FIXED);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	check_nothing_enabled(&cpu);
}

static void test_enable_never_turns_paging_on_for_cr0_fixed0(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	/* A host running without paging cannot satisfy CR0_FIXED0.PG. */
	fake_cpu.cr0 = CR0_PE | CR0_ET;
	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_ERR_CR0_FIXED);
	assert_int_equal(fake_cpu.cr0, CR0_PE | CR0_ET);
	assert_int_equal(fake_cpu.cr4, FAKE_HOST_CR4);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
}

/* ---- vmx_cpu_disable ---- */

static void test_disable_leaves_vmx_clears_vmxe_and_frees_region(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_OK);
	assert_int_equal(vmx_cpu_disable(&cpu), VMX_OK);
	assert_int_equal(fake_cpu.vmxoff_calls, 1);
	assert_false(fake_cpu.vmx_on);
	assert_false(cpu.vmx_on);
	assert_false(fake_cpu.cr4 & CR4_VMXE);
	assert_false(vmx_cr4_vmxe_set());
	assert_null(cpu.vmxon_region);
	assert_int_equal(fake_pages_outstanding(), 0);
	/* All-context invalidations before leaving (type 2). */
	assert_int_equal(fake_cpu.invept_calls, 1);
	assert_int_equal(fake_cpu.last_invept_type, 2);
	assert_int_equal(fake_cpu.invvpid_calls, 1);
	assert_int_equal(fake_cpu.last_invvpid_type, 2);
}

static void test_disable_when_not_on_does_nothing(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	memset(&cpu, 0, sizeof(cpu));
	assert_int_equal(vmx_cpu_disable(&cpu), VMX_OK);
	assert_int_equal(fake_cpu.vmxoff_calls, 0);
}

static void test_disable_when_vmxoff_fails_keeps_state(void **state)
{
	(void)state;
	struct vmx_cpu cpu;

	assert_int_equal(vmx_cpu_enable(&cpu, 0), VMX_OK);
	fake_cpu.fail_vmxoff.result = VMX_FAIL_INVALID;
	assert_int_equal(vmx_cpu_disable(&cpu), VMX_ERR_VMXOFF_FAILED);
	assert_true(cpu.vmx_on);
	assert_true(fake_cpu.cr4 & CR4_VMXE);
	assert_true(fake_page_is_allocated(cpu.vmxon_region));
	fake_cpu.fail_vmxoff.result = VMX_SUCCEED;
	assert_int_equal(vmx_cpu_disable(&cpu), VMX_OK);
	assert_int_equal(fake_pages_outstanding(), 0);
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

static void test_every_error_has_a_distinct_message(void **state)
{
	(void)state;
	for (unsigned a = 0; a < VMX_ERROR_COUNT; a++) {
		const char *m = vmx_error_message(a);
		assert_non_null(m);
		assert_true(strlen(m) > 5);
		for (unsigned b = 0; b < a; b++)
			assert_string_not_equal(m, vmx_error_message(b));
	}
	assert_string_equal(vmx_error_message(VMX_ERROR_COUNT), "unknown VMX error");
}

static void test_every_error_has_a_distinct_name(void **state)
{
	(void)state;
	assert_string_equal(vmx_error_name(VMX_OK), "VMX_OK");
	assert_string_equal(vmx_error_name(VMX_ERR_NO_VMX), "VMX_ERR_NO_VMX");
	for (unsigned a = 1; a < VMX_ERROR_COUNT; a++) {
		const char *n = vmx_error_name(a);
		assert_non_null(n);
		assert_int_equal(strncmp(n, "VMX_ERR_", 8), 0);
		for (unsigned b = 0; b < a; b++)
			assert_string_not_equal(n, vmx_error_name(b));
	}
	assert_string_equal(vmx_error_name(VMX_ERROR_COUNT + 7), "VMX_ERR_UNKNOWN");
}

#define TL(f) cmocka_unit_test_setup(f, setup_tigerlake)
#define SB(f) cmocka_unit_test_setup(f, setup_sandy_bridge)

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
		TL(test_enable_on_tigerlake_enters_vmx_operation),
		SB(test_enable_on_sandy_bridge_enters_vmx_operation),
		TL(test_enable_leaves_the_fpu_bits_alone),
		TL(test_fpu_switching_sets_the_host_fpu_bits),
		TL(test_fpu_switching_without_xsave_leaves_osxsave_clear),
		TL(test_enable_on_amd_is_not_intel),
		TL(test_enable_with_vendor_registers_swapped_is_not_intel),
		TL(test_enable_without_cpuid_vmx_bit_is_no_vmx),
		TL(test_enable_with_feature_control_locked_off_refuses),
		TL(test_enable_with_feature_control_unlocked_writes_it),
		TL(test_enable_when_feature_control_write_has_no_effect_refuses),
		TL(test_enable_with_vmxe_already_set_is_already_on),
		TL(test_enable_when_vmxon_fails_restores_cr0_cr4_and_frees_region),
		TL(test_enable_out_of_memory_restores_cr0_cr4),
		TL(test_enable_with_region_larger_than_a_page_refuses),
		TL(test_enable_with_uncacheable_vmcs_refuses),
		SB(test_enable_without_unrestricted_guest_refuses),
		TL(test_enable_without_4_level_ept_refuses),
		TL(test_enable_without_all_context_invept_refuses),
		TL(test_enable_without_invvpid_refuses),
		TL(test_enable_when_cr4_fixed1_forbids_vmxe_refuses),
		TL(test_enable_when_cr4_write_does_not_stick_refuses),
		TL(test_enable_never_turns_paging_on_for_cr0_fixed0),
		TL(test_disable_leaves_vmx_clears_vmxe_and_frees_region),
		TL(test_disable_when_not_on_does_nothing),
		TL(test_disable_when_vmxoff_fails_keeps_state),
		TL(test_caps_summary_names_the_features),
		SB(test_caps_summary_sandy_bridge_has_no_1g_pages),
		TL(test_caps_summary_says_what_is_missing),
		TL(test_every_error_has_a_distinct_message),
		TL(test_every_error_has_a_distinct_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
