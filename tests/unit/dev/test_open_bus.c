/*
 * Tests of core/dev/open_bus.c: guest-physical addresses that are neither
 * RAM nor a device, on a VM built without strict_mem, through the EPT
 * violation exit (core/exit/ept_violation.c) and the string loop
 * (core/emulate/string.c): reads return all ones, writes are dropped, each
 * access is counted, the first access to each page is reported once.  A
 * strict VM (the fixture's) ends instead: tests/unit/exit/test_ept_violation.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev/mmio.h"
#include "dev/open_bus.h"
#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_exit.h"
#include "fixture_vm.h"
#include "mm/ept.h"
#include "mm/guest_memory.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "x86.h"

#define NOWHERE 0x40000000ULL /* far above the fixture's 2 MiB of RAM */

/* The fixture's VM is strict; give it the open bus a default VM has. */
static int setup_open_bus(void **state)
{
	setup_vcpu(state);
	if (!open_bus_attach(&vm))
		fail_msg("open_bus_attach failed");
	return 0;
}

static unsigned count_lines_with(const char *needle)
{
	unsigned n = 0;
	for (const char *p = fake_console_text(); (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void a_read_returns_all_ones_and_is_reported_once(void **state)
{
	(void)state;
	/* mov eax, [edi] twice, EDI in a page nothing answers. */
	assert_true(guest_write(&vm, ENTRY, "\x8b\x07\x8b\x07", 4));
	*reg(GPR_RDI) = NOWHERE + 0x10;
	*reg(GPR_RAX) = 0x1234;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, NOWHERE + 0x10);
	exit_with(R_EPT_VIOLATION, 0x1 /* read */, 0);
	assert_int_equal(*reg(GPR_RAX), 0xFFFFFFFFu);
	*reg(GPR_RAX) = 0;
	exit_with(R_EPT_VIOLATION, 0x1, 0);
	assert_int_equal(*reg(GPR_RAX), 0xFFFFFFFFu);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 4);
	assert_int_equal(vcpu.open_bus_reads, 2);
	assert_int_equal(vcpu.open_bus_writes, 0);
	assert_int_equal(count_lines_with("which is neither RAM nor a device: open bus"), 1);
	assert_true(fake_console_contains("4-byte read at guest-physical 0x40000010"));
	assert_true(fake_console_contains("at RIP 0x100000"));
}

static void a_write_is_dropped_and_counted(void **state)
{
	(void)state;
	/* mov [edi], eax, then mov [edi], al in another page. */
	assert_true(guest_write(&vm, ENTRY, "\x89\x07\x88\x07", 4));
	*reg(GPR_RDI) = NOWHERE;
	*reg(GPR_RAX) = 0xBAD0BAD0;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, NOWHERE);
	exit_with(R_EPT_VIOLATION, 0x2 /* write */, 0);
	*reg(GPR_RDI) = NOWHERE + 0x5000;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, NOWHERE + 0x5000);
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 4);
	assert_int_equal(vcpu.open_bus_writes, 2);
	assert_int_equal(count_lines_with("open bus (dropped)"), 2); /* two pages */
	/* Nothing was mapped: the EPT still has no page there. */
	assert_int_equal(ept_translate(&vm.ept, NOWHERE, NULL), EPT_NO_MAPPING);
}

static void a_string_store_meets_the_open_bus_too(void **state)
{
	(void)state;
	/* rep stosb of 3 bytes at EDI in a page nothing answers. */
	assert_true(guest_write(&vm, ENTRY, "\xf3\xaa", 2));
	*reg(GPR_RDI) = NOWHERE + 0x100;
	*reg(GPR_RCX) = 3;
	*reg(GPR_RAX) = 'x';
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, NOWHERE + 0x100);
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	check_vm_running();
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(*reg(GPR_RDI), NOWHERE + 0x103);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	assert_int_equal(vcpu.open_bus_writes, 3);
}

static void code_is_never_fetched_from_it(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, NOWHERE);
	exit_with(R_EPT_VIOLATION, 0x4 | 0x1 /* fetch */, 0);
	check_vm_ended(false, "instruction fetch at guest-physical 0x40000000");
	assert_int_equal(vcpu.open_bus_reads, 0);
}

static void the_statistics_count_it(void **state)
{
	(void)state;
	assert_true(guest_write(&vm, ENTRY, "\x8b\x07", 2));
	*reg(GPR_RDI) = NOWHERE;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, NOWHERE);
	exit_with(R_EPT_VIOLATION, 0x1, 0);
	fake_console_clear();
	exit_print_statistics(&vcpu);
	assert_true(fake_console_contains("open bus (neither RAM nor a device): 1 read(s), 0 write(s)"));
}

#define O(f) cmocka_unit_test_setup_teardown(f, setup_open_bus, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		O(a_read_returns_all_ones_and_is_reported_once),
		O(a_write_is_dropped_and_counted),
		O(a_string_store_meets_the_open_bus_too),
		O(code_is_never_fetched_from_it),
		O(the_statistics_count_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
