/*
 * Tests of core/mm/guest_paging.c: translations through the guest's own
 * 32-bit page tables (SDM Vol. 3A 4.3) on a real VM of the fake Tiger Lake
 * CPU: an access at the guest's CPL, and the CPU's implicit supervisor
 * accesses to system structures (4.6), which ignore the CPL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "fake_cpu.h"
#include "fixture_exit.h"
#include "mm/guest_memory.h"
#include "mm/guest_paging.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "x86.h"

#define PD 0x10000u

/* Paging on, one 4 MiB page at 0 with the given PDE flags (P and PS added),
 * the guest at CPL cpl. */
static void map_first_4mib(uint32_t flags, unsigned cpl)
{
	uint32_t pde = flags | 0x81u;
	assert_true(guest_zero(&vm, PD, 4096));
	assert_true(guest_write(&vm, PD, &pde, 4));
	fake_vmcs_set(GUEST_CR3.encoding, PD);
	fake_vmcs_set(GUEST_CR4.encoding, vmcs(GUEST_CR4.encoding) | CR4_PSE);
	fake_vmcs_set(GUEST_CR0.encoding, (vmcs(GUEST_CR0.encoding) | CR0_PG) & ~CR0_WP);
	fake_vmcs_set(GUEST_SS_AR_BYTES.encoding, AR_DATA | cpl << 5);
}

static void a_user_access_to_a_supervisor_page_faults(void **state)
{
	(void)state;
	uint64_t gpa = 0;
	uint32_t error = 0;
	map_first_4mib(0x2, 3); /* RW, supervisor */
	assert_false(guest_translate(&vcpu, 0x1234, GUEST_READ, &gpa, &error));
	assert_int_equal(error, PF_PRESENT | PF_USER);
}

static void a_supervisor_translation_ignores_the_cpl(void **state)
{
	(void)state;
	uint64_t gpa = 0;
	uint32_t error = 0;
	map_first_4mib(0x2, 3);
	assert_true(guest_translate_supervisor(&vcpu, 0x1234, GUEST_WRITE, &gpa, &error));
	assert_int_equal(gpa, 0x1234);
}

static void a_supervisor_write_to_a_read_only_page_needs_wp_clear(void **state)
{
	(void)state;
	uint64_t gpa = 0;
	uint32_t error = 0;
	map_first_4mib(0x0, 3); /* read-only, supervisor */
	assert_true(guest_translate_supervisor(&vcpu, 0x2000, GUEST_WRITE, &gpa, &error));
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_WP);
	assert_false(guest_translate_supervisor(&vcpu, 0x2000, GUEST_WRITE, &gpa, &error));
	assert_int_equal(error, PF_PRESENT | PF_WRITE); /* no U/S: a supervisor access */
	assert_false(guest_translate_supervisor(&vcpu, 0x00400000, GUEST_READ, &gpa, &error));
	assert_int_equal(error, 0); /* not present */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(a_user_access_to_a_supervisor_page_faults),
		T(a_supervisor_translation_ignores_the_cpl),
		T(a_supervisor_write_to_a_read_only_page_needs_wp_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
