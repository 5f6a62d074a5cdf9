/*
 * Tests of core/vmx/vmx_cpu.c against the fake CPU loaded with the capability
 * MSRs Bochs 2.7 reports: vmx_cpu_enable entering VMX operation, and refusing
 * (with CR0/CR4 restored and the region freed) on a CPU that is not Intel,
 * lacks VMX or a required feature, has IA32_FEATURE_CONTROL locked off, or
 * whose VMXON fails; the guest FPU switching bits; vmx_cpu_disable.
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

/* "GenuineIntel" and "AuthenticAMD" as CPUID leaf 0 returns them (EBX, ECX, EDX). */
#define INTEL_EBX 0x756E6547u
#define INTEL_ECX 0x6C65746Eu
#define INTEL_EDX 0x49656E69u
#define AMD_EBX 0x68747541u
#define AMD_ECX 0x444D4163u
#define AMD_EDX 0x69746E65u

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

#define TL(f) cmocka_unit_test_setup(f, fixture_setup_tigerlake)
#define SB(f) cmocka_unit_test_setup(f, fixture_setup_sandy_bridge)

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
