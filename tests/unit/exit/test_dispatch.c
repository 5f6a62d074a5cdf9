/*
 * Tests of core/exit/dispatch.c: exits of a real VM and vCPU on the fake Tiger
 * Lake CPU fed to exit_dispatch that no single handler owns: an unhandled exit
 * and a failed VM entry end the VM with a report, exits are counted by reason,
 * and instruction exits do not redeliver a stale IDT-vectoring event.
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

/* ---- Exits that end the VM ---- */

static void test_unhandled_exit_ends_the_vm_naming_it(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_RIP.encoding, 0x100123);
	exit_with(R_GETSEC, 0, 3);
	check_vm_ended(false, "GETSEC");
	assert_console_contains("unhandled exit");
	assert_console_contains("GETSEC");
	assert_console_contains("0x100123");
	assert_console_contains("VMCS dump");
	assert_int_equal(vmcs(GUEST_RIP.encoding), 0x100123); /* not skipped */
}

static void test_entry_failure_reports_invalid_guest_state(void **state)
{
	(void)state;
	exit_with(ENTRY_FAILURE | R_INVALID_GUEST_STATE, 0, 0);
	check_vm_ended(false, "invalid guest state");
	assert_console_contains("VM entry failed");
	assert_console_contains("VMCS dump");
	assert_int_equal(vcpu.exit_counts[R_INVALID_GUEST_STATE], 1);
}

/* Exits caused by a guest instruction never happen during event delivery
 * (SDM Vol. 3C 28.2.4): the IDT-vectoring field is not even looked at. */
static void test_instruction_exits_do_not_redeliver_vectoring_info(void **state)
{
	(void)state;
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B0E); /* stale: #PF */
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	check_vm_running();
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & (1u << 31), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

static void test_exits_are_counted_by_reason(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		*reg(GPR_RAX) = 0;
		exit_with(R_CPUID, 0, 2);
	}
	hypercall(HC_NOP, 0, 0);
	assert_int_equal(vcpu.exit_counts[R_CPUID], 3);
	assert_int_equal(vcpu.exit_counts[R_VMCALL], 1);
	assert_int_equal(vcpu.exits_total, 4);
	exit_print_statistics(&vcpu);
	assert_console_contains("(4 exits)");
	assert_console_contains("CPUID");
}
#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_unhandled_exit_ends_the_vm_naming_it),
		C(test_entry_failure_reports_invalid_guest_state),
		C(test_exits_are_counted_by_reason),
		C(test_instruction_exits_do_not_redeliver_vectoring_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
