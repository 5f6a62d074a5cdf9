/*
 * Tests of core/exit/io.c: port I/O exits of a real VM and vCPU on the fake
 * Tiger Lake CPU, fed to exit_dispatch: IN/OUT to COM1, the debug-exit port
 * and unknown ports, invalid sizes, and string I/O from guest memory.
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

/* ---- Port I/O ---- */

static void test_out_to_com1_prints(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0xAAAAAA00u | 'X';
	exit_with(R_IO, IO_PORT(0x3F8) | IO_BYTE, 1);
	*reg(GPR_RAX) = '\n';
	exit_with(R_IO, IO_PORT(0x3F8) | IO_BYTE, 1);
	assert_string_equal(fake_console_text(), "[t] X\n");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

static void test_in_from_com1_line_status_keeps_the_rest_of_rax(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0x123456789ABCDEFFULL;
	exit_with(R_IO, IO_PORT(0x3FD) | IO_IN | IO_BYTE, 1);
	assert_int_equal(*reg(GPR_RAX), 0x123456789ABCDE60ULL); /* THRE | TEMT */
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 1);
}

static void test_in_dword_from_an_unknown_port_is_all_ones(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0x1111111122222222ULL;
	exit_with(R_IO, IO_PORT(0x1234) | IO_IN | IO_DWORD, 1);
	assert_int_equal(*reg(GPR_RAX), 0xFFFFFFFFULL); /* IN EAX zero-extends */
}

static void test_in_word_from_an_unknown_port_keeps_the_rest_of_rax(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0x1111111122222222ULL;
	exit_with(R_IO, IO_PORT(0x1234) | IO_IN | IO_WORD, 2);
	assert_int_equal(*reg(GPR_RAX), 0x111111112222FFFFULL);
}

static void test_out_0_to_debug_exit_ends_with_success(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0xFFFFFF00u; /* OUT DX, AL sends only AL */
	exit_with(R_IO, IO_PORT(0xF4) | IO_BYTE, 1);
	check_vm_ended(true, "exit status 1");
}

static void test_out_3_to_debug_exit_ends_with_failure(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 3;
	exit_with(R_IO, IO_PORT(0xF4) | IO_BYTE, 1);
	check_vm_ended(false, "exit status 7");
}

static void test_io_with_an_invalid_size_ends_the_vm(void **state)
{
	(void)state;
	exit_with(R_IO, IO_PORT(0x3F8) | 2, 1); /* size field 2 = 3 bytes */
	check_vm_ended(false, "invalid access size");
}

/* VM-exit instruction information for INS/OUTS: 32-bit addresses, DS. */
#define IO_INFO_ADDR32_DS ((1u << 7) | (3u << 15))

static void test_rep_outsb_to_com1_prints_guest_memory(void **state)
{
	(void)state;
	assert_true(guest_write(&vm, 0x3000, "hi\n", 3));
	fake_vmcs_set(VM_EXIT_INSTRUCTION_INFO.encoding, IO_INFO_ADDR32_DS);
	*reg(GPR_RSI) = 0x3000;
	*reg(GPR_RCX) = 3;
	exit_with(R_IO, IO_PORT(0x3F8) | IO_STRING | IO_REP | IO_BYTE, 2);
	assert_string_equal(fake_console_text(), "[t] hi\n");
	assert_int_equal(*reg(GPR_RSI), 0x3003);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

static void test_string_io_outside_guest_ram_ends_the_vm_with_a_report(void **state)
{
	(void)state;
	fake_vmcs_set(VM_EXIT_INSTRUCTION_INFO.encoding, IO_INFO_ADDR32_DS);
	*reg(GPR_RSI) = 0x40000000;
	exit_with(R_IO, IO_PORT(0x3F8) | IO_STRING | IO_BYTE, 1);
	check_vm_ended(false, "not guest RAM");
	assert_console_contains("0x40000000");
}
#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_out_to_com1_prints),
		C(test_in_from_com1_line_status_keeps_the_rest_of_rax),
		C(test_in_dword_from_an_unknown_port_is_all_ones),
		C(test_in_word_from_an_unknown_port_keeps_the_rest_of_rax),
		C(test_out_0_to_debug_exit_ends_with_success),
		C(test_out_3_to_debug_exit_ends_with_failure),
		C(test_io_with_an_invalid_size_ends_the_vm),
		C(test_rep_outsb_to_com1_prints_guest_memory),
		C(test_string_io_outside_guest_ram_ends_the_vm_with_a_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
