/*
 * Tests of core/vmx/segment.c: descriptors to VMCS access rights and limits,
 * the base of 8-byte code and 16-byte system (TSS, LDT) descriptors, and
 * segment_from_gdt on a Linux-like GDT (fixture_os_gdt.h): usable, null
 * and LDT selectors and the GDT limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "dev/ports.h"
#include "abi/devices.h"
#include "dev/uart16550.h"
#include "mm/guest_memory.h"
#include "vm/console.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "lib/format.h"
#include "mm/ept.h"
#include "vm/builder.h"
#include "vm/vm.h"
#include "vmx/segment.h"
#include "fixture_vm.h"
#include "fixture_os_gdt.h"

/* ---- Descriptors ---- */

static void test_segment_base_of_a_code_descriptor(void **state)
{
	(void)state;
	uint64_t gdt[4] = { 0, descriptor(0x12345678, 0xFFFFF, 0x9A, 0xC),
			    0xFFFFFFFFFFFFFFFFULL, 0 };

	/* S = 1: 8 bytes only, the next entry is not part of the base. */
	assert_int_equal(segment_descriptor_base(gdt, 0x08), 0x12345678);
	assert_int_equal(segment_descriptor_base(gdt, 0x0B), 0x12345678); /* RPL 3 */
}

static void test_segment_base_of_a_16_byte_tss_descriptor(void **state)
{
	(void)state;
	uint64_t gdt[5] = { 0, 0, descriptor(0x12345678, 0x67, 0x89, 0), 0xFFFF8000ULL, 0 };

	assert_int_equal(segment_descriptor_base(gdt, 0x10), 0xFFFF800012345678ULL);
	/* The fake CPU's host GDT: TR 0x20 with base FAKE_HOST_TSS_BASE. */
	assert_int_equal(segment_descriptor_base((const void *)(uintptr_t)fake_cpu.gdtr.base,
						 FAKE_HOST_TR),
			 FAKE_HOST_TSS_BASE);
}

/* ---- segment.c ---- */

static void access_rights_take_the_type_byte_and_flags(void **state)
{
	(void)state;
	assert_int_equal(segment_access_rights(descriptor(0, 0xFFFFF, 0x9B, 0xA)), 0xA09B);
	assert_int_equal(segment_access_rights(descriptor(0, 0xFFFFF, 0x93, 0xC)), 0xC093);
	assert_int_equal(segment_access_rights(descriptor(0, 0xFFFFF, 0xFB, 0xA)), 0xA0FB);
	assert_int_equal(segment_access_rights(descriptor(0x1000, 0x67, 0x8B, 0)), 0x008B);
	/* AVL is bit 12; bits 11:8 (limit 19:16 in the descriptor) stay 0. */
	assert_int_equal(segment_access_rights(descriptor(0, 0xF0000, 0x92, 0x1)), 0x1092);
	/* Base bits never leak in. */
	assert_int_equal(segment_access_rights(descriptor(0xFFFFFFFF, 0, 0x93, 0)), 0x0093);
	/* A not-present descriptor keeps P clear. */
	assert_int_equal(segment_access_rights(descriptor(0, 0xFFFF, 0x13, 0x4)), 0x4013);
}

static void limit_is_scaled_by_granularity(void **state)
{
	(void)state;
	assert_int_equal(segment_limit(descriptor(0, 0x67, 0x89, 0)), 0x67);
	assert_int_equal(segment_limit(descriptor(0, 0xABCDE, 0x93, 0)), 0xABCDE);
	assert_int_equal(segment_limit(descriptor(0, 0xFFFFF, 0x93, 0)), 0xFFFFF);
	assert_int_equal(segment_limit(descriptor(0, 0xFFFFF, 0x93, 0x8)), 0xFFFFFFFF);
	assert_int_equal(segment_limit(descriptor(0, 0, 0x93, 0x8)), 0xFFF);
	assert_int_equal(segment_limit(descriptor(0, 0x12345, 0x93, 0xC)), 0x12345FFF);
	assert_int_equal(segment_limit(descriptor(0xFFFFFFFF, 0x1, 0x93, 0)), 0x1);
}

static uint64_t seg_gdt[OS_GDT_LIMIT / 8 + 1];

static void descriptor_base_has_64_bits_for_system_descriptors(void **state)
{
	(void)state;
	build_os_gdt(seg_gdt);
	assert_int_equal(segment_descriptor_base(seg_gdt, OS_TR), OS_TSS_BASE);
	assert_int_equal(segment_descriptor_base(seg_gdt, OS_LDT | 3), OS_LDT_BASE);
	assert_int_equal(segment_descriptor_base(seg_gdt, OS_BASED), 0x12345678);
	/* A code/data descriptor is 8 bytes: the next one is not its base. */
	seg_gdt[OS_BASED / 8 + 1] = 0xFFFFFFFFFFFFFFFFULL;
	assert_int_equal(segment_descriptor_base(seg_gdt, OS_BASED), 0x12345678);
}

static void segment_from_gdt_reads_usable_segments(void **state)
{
	(void)state;
	build_os_gdt(seg_gdt);

	struct vmcs_segment cs = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, OS_CS);
	assert_int_equal(cs.selector, OS_CS);
	assert_int_equal(cs.base, 0);
	assert_int_equal(cs.limit, 0xFFFFFFFF);
	assert_int_equal(cs.access_rights, 0xA09B);

	struct vmcs_segment user = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, 0x33);
	assert_int_equal(user.selector, 0x33);
	assert_int_equal(user.access_rights, 0xA0FB);

	struct vmcs_segment based = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, OS_BASED);
	assert_int_equal(based.base, 0x12345678);
	assert_int_equal(based.limit, 0xABCDE);
	assert_int_equal(based.access_rights, 0x4093);

	struct vmcs_segment tr = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, OS_TR);
	assert_int_equal(tr.selector, OS_TR);
	assert_int_equal(tr.base, OS_TSS_BASE);
	assert_int_equal(tr.limit, OS_TSS_LIMIT);
	assert_int_equal(tr.access_rights, 0x8B);

	struct vmcs_segment ldt = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, OS_LDT);
	assert_int_equal(ldt.base, OS_LDT_BASE);
	assert_int_equal(ldt.limit, 0xFFF);
	assert_int_equal(ldt.access_rights, 0x82);
}

static void segment_from_gdt_null_and_ldt_selectors_are_unusable(void **state)
{
	(void)state;
	build_os_gdt(seg_gdt);
	/* The null descriptor's slot is not read (fill it to make sure). */
	seg_gdt[0] = descriptor(0, 0xFFFFF, 0x93, 0xC);

	for (uint16_t rpl = 0; rpl < 4; rpl++) {
		struct vmcs_segment s = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, rpl);
		assert_int_equal(s.selector, rpl);
		/* Unusable, DPL = RPL (what SS.DPL = CPL needs), nothing else. */
		assert_int_equal(s.access_rights, AR_UNUSABLE | (rpl << 5));
		assert_int_equal(s.base, 0);
		assert_int_equal(s.limit, 0);
	}
	/* TI = 1 names the LDT, which cvisor does not read. */
	struct vmcs_segment l = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, OS_DS | 4);
	assert_true(l.access_rights & AR_UNUSABLE);
	assert_int_equal(l.selector, OS_DS | 4);
	assert_int_equal(l.base, 0);
	l = segment_from_gdt(seg_gdt, OS_GDT_LIMIT, OS_CS | 4 | 3);
	assert_true(l.access_rights & AR_UNUSABLE);
}

static void segment_from_gdt_checks_the_gdt_limit(void **state)
{
	(void)state;
	build_os_gdt(seg_gdt);

	/* The whole 8 bytes must be inside the limit. */
	assert_int_equal(segment_from_gdt(seg_gdt, OS_DS + 7, OS_DS).access_rights, 0xC093);
	assert_true(segment_from_gdt(seg_gdt, OS_DS + 6, OS_DS).access_rights &
		    AR_UNUSABLE);
	assert_true(segment_from_gdt(seg_gdt, OS_DS - 1, OS_DS).access_rights &
		    AR_UNUSABLE);
	assert_true(segment_from_gdt(seg_gdt, 0x17, 0x78).access_rights & AR_UNUSABLE);
	/* A system descriptor needs all 16 bytes. */
	assert_int_equal(segment_from_gdt(seg_gdt, OS_TR + 15, OS_TR).access_rights, 0x8B);
	assert_int_equal(segment_from_gdt(seg_gdt, OS_TR + 15, OS_TR).base, OS_TSS_BASE);
	struct vmcs_segment half = segment_from_gdt(seg_gdt, OS_TR + 14, OS_TR);
	assert_true(half.access_rights & AR_UNUSABLE);
	half = segment_from_gdt(seg_gdt, OS_TR + 7, OS_TR);
	assert_true(half.access_rights & AR_UNUSABLE);
	assert_int_equal(half.base, 0);
	/* A code segment right at the end needs only its 8 bytes. */
	assert_int_equal(segment_from_gdt(seg_gdt, OS_FRESH + 7, OS_FRESH).access_rights, 0xA09A);
}

#define L(f) cmocka_unit_test_setup(f, fixture_setup_plain)

int main(void)
{
	const struct CMUnitTest tests[] = {
		L(test_segment_base_of_a_code_descriptor),
		L(test_segment_base_of_a_16_byte_tss_descriptor),
		cmocka_unit_test(access_rights_take_the_type_byte_and_flags),
		cmocka_unit_test(limit_is_scaled_by_granularity),
		cmocka_unit_test(descriptor_base_has_64_bits_for_system_descriptors),
		cmocka_unit_test(segment_from_gdt_reads_usable_segments),
		cmocka_unit_test(segment_from_gdt_null_and_ldt_selectors_are_unusable),
		cmocka_unit_test(segment_from_gdt_checks_the_gdt_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
