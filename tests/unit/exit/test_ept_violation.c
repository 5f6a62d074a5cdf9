/*
 * Tests of core/exit/ept_violation.c: EPT violations and misconfigurations of
 * a real VM and vCPU on the fake Tiger Lake CPU, fed to exit_dispatch:
 * accesses outside RAM end the VM naming address and access, a store to the
 * debug console page is emulated, and a misconfiguration is reported as a
 * cvisor bug.
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

static void test_ept_violation_outside_ram_names_address_and_access(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, 0x40000000);
	exit_with(R_EPT_VIOLATION, 0x2 /* write */, 0);
	check_vm_ended(false, "write at guest-physical 0x40000000");
}

static void test_ept_violation_on_instruction_fetch_says_so(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, 0x7FFFF000);
	exit_with(R_EPT_VIOLATION, 0x4 | 0x1, 0);
	check_vm_ended(false, "instruction fetch at guest-physical 0x7ffff000");
}

static void test_ept_violation_on_the_debug_console_emulates_the_store(void **state)
{
	(void)state;
	/* mov [edi], al at the guest's RIP, EDI in the debug-console page. */
	assert_true(guest_write(&vm, ENTRY, "\x88\x07", 2));
	*reg(GPR_RDI) = MMIO_DEBUG_CONSOLE_GPA;
	*reg(GPR_RAX) = 'Q';
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, MMIO_DEBUG_CONSOLE_GPA);
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	*reg(GPR_RAX) = '\n';
	assert_true(guest_write(&vm, ENTRY + 2, "\x88\x07", 2));
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	check_vm_running();
	assert_string_equal(fake_console_text(), "[t] Q\n");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 4);
}

/*
 * Fuzz finding (make fuzz, seed 20 of the first fuzz guest): a guest whose
 * stack lay in the debug-console page took an exception; pushing the frame
 * exited as an EPT violation on the device page while the event was being
 * delivered.  cvisor decoded the unrelated instruction at RIP (a REP STOS
 * whose next store faulted), injected #PF, whose delivery exited the same
 * way: an endless exit loop on one CPU.  Now the VM ends, naming the event.
 */
static void test_ept_violation_on_a_device_page_during_event_delivery_ends_the_vm(void **state)
{
	(void)state;
	assert_true(guest_write(&vm, ENTRY, "\x88\x07", 2)); /* mov [edi], al: not the culprit */
	*reg(GPR_RDI) = MMIO_DEBUG_CONSOLE_GPA;
	*reg(GPR_RAX) = 'Q';
	/* Valid, hardware exception (type 3), #PF with an error code (SDM Vol. 3C 25.9.3). */
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B0E);
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, MMIO_DEBUG_CONSOLE_GPA + 0x295);
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	check_vm_ended(false, "write to debug console at 0xfebff295 while delivering vector 14");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & (1u << 31), 0); /* not re-delivered */
	if (strstr(fake_console_text(), "[t] Q"))
		fail_msg("the instruction at RIP was emulated:\n%s", fake_console_text());
}

static void test_ept_misconfiguration_is_reported_as_a_cvisor_bug(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, 0x5000);
	exit_with(R_EPT_MISCONFIG, 0, 0);
	check_vm_ended(false, "EPT misconfiguration at guest-physical 0x5000");
	assert_console_contains("VMCS dump");
}
#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_ept_violation_outside_ram_names_address_and_access),
		C(test_ept_violation_on_instruction_fetch_says_so),
		C(test_ept_violation_on_the_debug_console_emulates_the_store),
		C(test_ept_violation_on_a_device_page_during_event_delivery_ends_the_vm),
		C(test_ept_misconfiguration_is_reported_as_a_cvisor_bug),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
