/*
 * Tests of core/exit/report.c: the exit trace ring and statistics of a real
 * vCPU on the fake Tiger Lake CPU, with tracing off and on.
 */
#include "mm/guest_memory.h"
#include "x86.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "abi/cpuid.h"
#include "abi/hypercall.h"
#include "abi/devices.h"
#include "dev/mmio.h"
#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "fixture_exit.h"
#include "loader/multiboot.h"
#include "run/run_loop.h"
#include "vm/builder.h"
#include "run/schedule.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

/* trace=off (the release default): counts only, no ring, no TSC columns. */
static void test_exit_trace_off_keeps_counts_only(void **state)
{
	(void)state;
	enum exit_trace saved = exit_trace;

	exit_trace = EXIT_TRACE_OFF;
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	exit_trace = saved;
	assert_int_equal(vcpu.exits_total, 1);
	assert_int_equal(vcpu.exit_counts[R_CPUID], 1);
	assert_int_equal(vcpu.exits_traced, 0);
	assert_int_equal(vcpu.exit_ticks[R_CPUID], 0);

	exit_trace = EXIT_TRACE_OFF;
	exit_print_trace(&vcpu);
	exit_print_statistics(&vcpu);
	exit_trace = saved;
	assert_console_contains("tracing is off (boot option trace=ring keeps the last 64 exits)");
	if (strstr(fake_console_text(), "TSC in cvisor"))
		fail_msg("TSC column printed with tracing off:\n%s", fake_console_text());

	/* With the ring on (the debug default) the same exit is recorded. */
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(vcpu.exits_traced, 1);
	exit_print_trace(&vcpu);
	assert_console_contains("last 1 exit(s) of VM t vCPU 0");
}
/* Protection violations count in the statistics, by what cvisor did
 * (vm/protect.h); a VM without any prints no such line. */
static void test_statistics_count_protection_violations(void **state)
{
	(void)state;
	exit_print_statistics(&vcpu);
	assert_console_lacks("protection violations");
	vcpu.protect.actions[HC_ACTION_DROPPED] = 3;
	vcpu.protect.actions[HC_ACTION_KEPT] = 2;
	vcpu.protect.actions[HC_ACTION_ALLOWED] = 1;
	exit_print_statistics(&vcpu);
	assert_console_contains("protection violations: 6 (let through once 1, dropped 3, faulted 0, "
				"stopped 0, pinned bits kept 2)");
	fake_console_clear();
	struct vcpu *all[] = { &vcpu, &vcpu };
	exit_print_vm_statistics(all, 2);
	assert_console_contains("protection violations: 12 (let through once 2, dropped 6");
}

#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_exit_trace_off_keeps_counts_only),
		C(test_statistics_count_protection_violations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
