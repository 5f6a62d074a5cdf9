/*
 * Tests of the MSR bitmaps of core/vcpu/msr_state.c (built with
 * core/vmx/msr_bitmap.c): msr_bitmap_init passes through only the MSRs that
 * are safe for the guest to access directly, msr_bitmap_init_hosted_os
 * intercepts exactly IA32_FEATURE_CONTROL and the VMX MSRs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/cpuid.h"
#include "dev/fw_cfg.h"
#include "irq/lapic.h"
#include "dev/pic8259.h"
#include "exit/cpuid.h"
#include "exit/cr.h"
#include "exit/exit.h"
#include "exit/msr.h"
#include "mm/guest_memory.h"
#include "vmx/msr_bitmap.h"
#include "fake_platform.h"
#include "mm/ept.h"
#include "vm/vm.h"
#include "vmx/vmx_cpu.h"
#include "fixture_os_gdt.h"

static void msr_bitmap_passes_through_only_the_safe_msrs(void **state)
{
	(void)state;
	static uint8_t bitmap[4096];
	msr_bitmap_init(bitmap);
	/* pass through, both directions */
	assert_false(msr_bitmap_intercepts(bitmap, 0xC0000100, false)); /* FS_BASE */
	assert_false(msr_bitmap_intercepts(bitmap, 0xC0000102, true));  /* KERNEL_GS_BASE */
	assert_false(msr_bitmap_intercepts(bitmap, 0xC0000082, true));  /* LSTAR */
	assert_false(msr_bitmap_intercepts(bitmap, 0x176, true));       /* SYSENTER_EIP */
	/* TSC: reads pass, writes exit */
	assert_false(msr_bitmap_intercepts(bitmap, 0x10, false));
	assert_true(msr_bitmap_intercepts(bitmap, 0x10, true));
	/* emulated or faulting */
	assert_true(msr_bitmap_intercepts(bitmap, 0x1B, false));        /* APIC_BASE */
	assert_true(msr_bitmap_intercepts(bitmap, 0xC0000080, true));   /* EFER */
	assert_true(msr_bitmap_intercepts(bitmap, 0x480, false));       /* VMX_BASIC */
	assert_true(msr_bitmap_intercepts(bitmap, 0x3A, true));         /* FEATURE_CONTROL */
	/* outside both ranges: always exits (SDM Vol. 3C 26.1.3) */
	assert_true(msr_bitmap_intercepts(bitmap, 0x4B564D00, false));
}

static void msr_bitmap_intercepts_exactly_feature_control_and_vmx_msrs(void **state)
{
	(void)state;
	static uint8_t bitmap[4096];
	memset(bitmap, 0xFF, sizeof(bitmap));
	msr_bitmap_init_hosted_os(bitmap);
	check_hosted_os_bitmap(bitmap);
	assert_true(bitmap_intercepts(bitmap, 0x3A, false));
	assert_true(bitmap_intercepts(bitmap, 0x491, true));
	assert_false(bitmap_intercepts(bitmap, 0x492, false));
	assert_false(bitmap_intercepts(bitmap, 0x47F, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(msr_bitmap_passes_through_only_the_safe_msrs),
		cmocka_unit_test(msr_bitmap_intercepts_exactly_feature_control_and_vmx_msrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
