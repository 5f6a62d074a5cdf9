/*
 * Tests of the MSR bitmaps of core/vcpu/msr_state.c (built with
 * core/vmx/msr_bitmap.c): msr_bitmap_init passes through only the MSRs that
 * are safe for the guest to access directly, msr_bitmap_init_hosted_os
 * intercepts exactly IA32_FEATURE_CONTROL and the VMX MSRs; the MTRRs as
 * firmware leaves them (msr_state_firmware_mtrrs).
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
#include "fake_cpu.h"
#include "mm/mtrr.h"
#include "vcpu/cpu_features.h"
#include "vcpu/msr_state.h"

/* Power-up: MTRRs disabled (SDM Vol. 3A Table 10-1); after firmware:
 * enabled, WB by default, the video window and the APIC window UC. */
static void firmware_mtrrs_are_a_pcs(void **state)
{
	(void)state;
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	struct msr_state m;
	msr_state_init(&m, true);
	assert_int_equal(m.mtrr_def_type, 0);
	msr_state_firmware_mtrrs(&m);
	assert_int_equal(m.mtrr_def_type, 0xC06);
	assert_int_equal(m.mtrr_fixed[0], 0x0606060606060606ULL); /* 00000-7FFFF WB */
	assert_int_equal(m.mtrr_fixed[1], 0x0606060606060606ULL); /* 80000-9FFFF WB */
	assert_int_equal(m.mtrr_fixed[2], 0);                     /* A0000-BFFFF UC */
	for (unsigned i = 3; i < MSR_MTRR_FIXED_COUNT; i++)
		assert_int_equal(m.mtrr_fixed[i], 0x0606060606060606ULL);
	/* 0xFE000000-0xFFFFFFFF UC: base & mask match for the APIC pages, not below. */
	uint64_t base = m.mtrr_variable[0], mask = m.mtrr_variable[1];
	assert_int_equal(base & 0xFF, MEMTYPE_UC);
	assert_true(mask & MTRR_PHYSMASK_VALID);
	uint64_t mask_bits = mask & ~0xFFFULL;
	assert_true((0xFEE00000ULL & mask_bits) == (base & mask_bits));
	assert_true((0xFEC00000ULL & mask_bits) == (base & mask_bits));
	assert_true((0xFFFFF000ULL & mask_bits) == (base & mask_bits));
	assert_false((0xFDFFF000ULL & mask_bits) == (base & mask_bits));
	assert_false((0x100000000ULL & mask_bits) == (base & mask_bits));
	/* No bit above MAXPHYADDR (reserved: the guest's own write would #GP). */
	assert_int_equal(mask & ~(cpu_physical_address_mask() | 0xFFFULL), 0);
	for (unsigned i = 2; i < 2 * MSR_MTRR_VARIABLE_COUNT; i++)
		assert_int_equal(m.mtrr_variable[i], 0);
}

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
		cmocka_unit_test(firmware_mtrrs_are_a_pcs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
