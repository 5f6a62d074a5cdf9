/*
 * Tests of core/vcpu/debug.c: which DR7 breakpoints an emulated access
 * meets (SDM Vol. 3B 18.2.4, 18.2.5), and how a met one becomes a pending
 * debug exception (Vol. 3C 25.4.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fake_cpu.h"
#include "fixture_vm.h"
#include "vcpu/debug.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* DR7 for breakpoint n: enabled (L), its R/W and LEN fields. */
static uint64_t dr7_for(unsigned n, unsigned rw, unsigned len)
{
	return (1ULL << (2 * n)) | ((uint64_t)rw << (16 + 4 * n)) | ((uint64_t)len << (18 + 4 * n));
}

enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3 };

static void each_rw_field_meets_its_accesses(void **state)
{
	(void)state;
	uint64_t dr[4] = { 0x1000, 0, 0, 0 };

	assert_int_equal(breakpoints_met(dr7_for(0, RW_WRITE, LEN1), dr, false, BREAKPOINT_WRITE, 0x1000, 1), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_WRITE, LEN1), dr, false, BREAKPOINT_READ, 0x1000, 1), 0);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN1), dr, false, BREAKPOINT_READ, 0x1000, 1), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN1), dr, false, BREAKPOINT_WRITE, 0x1000, 1), 1);
	/* instruction breakpoints are the CPU's own: never met by data */
	assert_int_equal(breakpoints_met(dr7_for(0, RW_EXEC, LEN1), dr, true, BREAKPOINT_READ, 0x1000, 1), 0);
	/* I/O needs CR4.DE; without it R/W = 10b is undefined */
	assert_int_equal(breakpoints_met(dr7_for(0, RW_IO, LEN1), dr, false, BREAKPOINT_IO, 0x1000, 1), 0);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_IO, LEN1), dr, true, BREAKPOINT_IO, 0x1000, 1), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_IO, LEN1), dr, true, BREAKPOINT_WRITE, 0x1000, 1), 0);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN1), dr, true, BREAKPOINT_IO, 0x1000, 1), 0);
}

static void lengths_ranges_and_alignment(void **state)
{
	(void)state;
	uint64_t dr[4] = { 0x2003, 0, 0, 0 }; /* low bits ignored per LEN */

	/* LEN 4: 0x2000-0x2003 */
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN4), dr, false, BREAKPOINT_READ, 0x2000, 1), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN4), dr, false, BREAKPOINT_READ, 0x2004, 4), 0);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN4), dr, false, BREAKPOINT_READ, 0x1FFE, 4), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN4), dr, false, BREAKPOINT_READ, 0x1FFC, 4), 0);
	/* LEN 1 at 0x2003 only */
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN1), dr, false, BREAKPOINT_READ, 0x2002, 1), 0);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN1), dr, false, BREAKPOINT_READ, 0x2002, 2), 1);
	/* LEN 2: 0x2002-0x2003; LEN 8: 0x2000-0x2007 */
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN2), dr, false, BREAKPOINT_READ, 0x2001, 1), 0);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN2), dr, false, BREAKPOINT_READ, 0x2002, 1), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN8), dr, false, BREAKPOINT_READ, 0x2007, 1), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN8), dr, false, BREAKPOINT_READ, 0x2008, 8), 0);
	/* at the top of the address space, no wrap-around match */
	dr[0] = ~0ULL;
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN1), dr, false, BREAKPOINT_READ, ~0ULL, 1), 1);
	assert_int_equal(breakpoints_met(dr7_for(0, RW_RW, LEN1), dr, false, BREAKPOINT_READ, 0, 1), 0);
}

static void only_enabled_breakpoints_are_met_each_with_its_bit(void **state)
{
	(void)state;
	uint64_t dr[4] = { 0x3000, 0x3000, 0x4000, 0x3000 };
	uint64_t dr7 = dr7_for(1, RW_WRITE, LEN1) | dr7_for(2, RW_WRITE, LEN1) |
		       ((uint64_t)RW_WRITE << 28); /* DR3 with R/W set but neither L3 nor G3 */

	assert_int_equal(breakpoints_met(dr7, dr, false, BREAKPOINT_WRITE, 0x3000, 1), 1u << 1);
	assert_int_equal(breakpoints_met(dr7, dr, false, BREAKPOINT_WRITE, 0x3000, 0x1001), (1u << 1) | (1u << 2));
	/* G bits enable as L bits do */
	assert_int_equal(breakpoints_met(2ULL << 6 | (1ULL << 28), dr, false, BREAKPOINT_WRITE, 0x3000, 1), 1u << 3);
	/* I/O addresses are 16 bits */
	dr[0] = 0x10080;
	assert_int_equal(breakpoints_met(dr7_for(0, RW_IO, LEN1), dr, true, BREAKPOINT_IO, 0x80, 1), 1);
}

/* On the fake CPU: a met breakpoint ORs B<n> and "enabled breakpoint"
 * into the pending debug exceptions; nothing enabled costs nothing. */
static void met_breakpoints_become_pending_debug_exceptions(void **state)
{
	(void)state;
	struct vmx_cpu cpu;
	struct vm vm;
	struct vcpu vcpu;

	fixture_reset_machine();
	fixture_vmx_on_and_vm(&cpu, &vm, 0, "dbg", 1);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	fake_cpu.dr[3] = 0x5000;
	vmcs_write(GUEST_DR7, 0x400);
	assert_false(vcpu_check_breakpoints(&vcpu, BREAKPOINT_WRITE, 0x5000, 4));
	vmcs_write(GUEST_DR7, 0x400 | dr7_for(3, RW_WRITE, LEN4));
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	assert_false(vcpu_check_breakpoints(&vcpu, BREAKPOINT_READ, 0x5000, 4));
	assert_true(vcpu_check_breakpoints(&vcpu, BREAKPOINT_WRITE, 0x5002, 1));
	assert_int_equal(vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS | (1u << 12) | (1u << 3));
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_rw_field_meets_its_accesses),
		cmocka_unit_test(lengths_ranges_and_alignment),
		cmocka_unit_test(only_enabled_breakpoints_are_met_each_with_its_bit),
		cmocka_unit_test(met_breakpoints_become_pending_debug_exceptions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
