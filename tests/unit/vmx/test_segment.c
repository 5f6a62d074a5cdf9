/*
 * Tests of core/vmx/segment.c: the base of GDT descriptors, 8-byte code and
 * 16-byte TSS descriptors.
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

/* ---- Descriptors ---- */

/* A code/data/system descriptor's first 8 bytes (SDM Vol. 3A 3.4.5). */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

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

#define L(f) cmocka_unit_test_setup(f, fixture_setup_plain)

int main(void)
{
	const struct CMUnitTest tests[] = {
		L(test_segment_base_of_a_code_descriptor),
		L(test_segment_base_of_a_16_byte_tss_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
