/*
 * Tests of core/exit/vmcall.c: the hypercalls of core/abi/hypercall.h as
 * VMCALL exits of a real VM and vCPU on the fake Tiger Lake CPU, fed to
 * exit_dispatch: every argument checked, error codes in RAX, and the stop
 * hypercall ending the VM.
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

static void test_vmcall_print_string_prints_guest_memory(void **state)
{
	(void)state;
	static const char text[] = "hello from the guest\n";
	assert_true(guest_write(&vm, 0x2000, text, sizeof(text) - 1));

	hypercall(HC_PRINT_STRING, 0x2000, sizeof(text) - 1);
	assert_int_equal(*reg(GPR_RAX), sizeof(text) - 1);
	assert_string_equal(fake_console_text(), "[t] hello from the guest\n");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
}

static void test_vmcall_print_string_of_a_long_text_prints_it_all(void **state)
{
	(void)state;
	char text[1000];
	for (unsigned i = 0; i < sizeof(text); i++)
		text[i] = (i % 100 == 99) ? '\n' : (char)('a' + i % 26);
	assert_true(guest_write(&vm, 0x1F80, text, sizeof(text))); /* across a page */

	hypercall(HC_PRINT_STRING, 0x1F80, sizeof(text));
	assert_int_equal(*reg(GPR_RAX), sizeof(text));
	assert_int_equal(fake_console_count("[t] "), 10);
}

static void test_vmcall_print_string_outside_ram_is_efault(void **state)
{
	(void)state;
	hypercall(HC_PRINT_STRING, 2 * MiB - 2, 5);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EFAULT);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
	check_vm_running();
}

static void test_vmcall_print_string_partly_outside_ram_prints_nothing(void **state)
{
	(void)state;
	char lines[200];
	for (unsigned i = 0; i < sizeof(lines); i++)
		lines[i] = (i % 10 == 9) ? '\n' : 'x';
	assert_true(guest_write(&vm, 2 * MiB - sizeof(lines), lines, sizeof(lines)));

	/* The first 200 bytes are RAM, the rest is not: nothing may be printed. */
	hypercall(HC_PRINT_STRING, 2 * MiB - sizeof(lines), 300);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EFAULT);
	assert_string_equal(fake_console_text(), "");
}

static void test_vmcall_print_string_too_long_is_einval(void **state)
{
	(void)state;
	hypercall(HC_PRINT_STRING, 0x2000, HC_PRINT_MAX + 1);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EINVAL);
	assert_string_equal(fake_console_text(), "");
}

static void test_vmcall_unknown_number_is_enosys(void **state)
{
	(void)state;
	hypercall(99, 0, 0);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_ENOSYS);
	check_vm_running();
}

static void test_vmcall_from_cpl_3_is_eperm(void **state)
{
	(void)state;
	assert_true(guest_write(&vm, 0x2000, "no\n", 3));
	fake_vmcs_set(GUEST_SS_AR_BYTES.encoding, AR_DATA | 3u << 5); /* DPL 3 */
	hypercall(HC_PRINT_STRING, 0x2000, 3);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EPERM);
	assert_string_equal(fake_console_text(), "");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
	hypercall(HC_STOP, 0, 0);
	check_vm_running();
}

static void test_vmcall_stop_0_ends_the_vm_with_success(void **state)
{
	(void)state;
	hypercall(HC_STOP, 0, 0);
	check_vm_ended(true, "status 0");
	assert_console_contains("cvisor: VM t ended: success");
}

static void test_vmcall_stop_5_ends_the_vm_with_failure(void **state)
{
	(void)state;
	hypercall(HC_STOP, 5, 0);
	check_vm_ended(false, "status 5");
}

static void test_vmcall_in_32_bit_mode_ignores_upper_register_halves(void **state)
{
	(void)state;
	hypercall(0xDEAD000000000000ULL | HC_STOP, 0xFFFFFFFF00000000ULL, 0);
	check_vm_ended(true, "status 0");
}

static void test_vmcall_in_64_bit_mode_uses_whole_registers(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_LME | EFER_LMA);
	fake_vmcs_set(GUEST_CS_AR_BYTES.encoding, AR_CODE64);
	assert_true(vcpu_guest_in_64bit_mode());
	hypercall(0xDEAD000000000000ULL | HC_STOP, 0, 0);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_ENOSYS);
	check_vm_running();
}

static void test_vmcall_get_ids_returns_vm_and_vcpu_ids(void **state)
{
	(void)state;
	hypercall(HC_GET_IDS, 77, 77);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(*reg(GPR_RBX), 1);
	assert_int_equal(*reg(GPR_RCX), 0);
}

static void test_vmcall_print_char_prints_one_byte(void **state)
{
	(void)state;
	hypercall(HC_PRINT_CHAR, 'A', 0);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	hypercall(HC_PRINT_CHAR, '\n', 0);
	assert_string_equal(fake_console_text(), "[t] A\n");
	hypercall(HC_PRINT_CHAR, 0x141, 0);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EINVAL);
}

static void test_vmcall_nop_returns_ok(void **state)
{
	(void)state;
	hypercall(HC_NOP, 0, 0);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
}
#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_vmcall_print_string_prints_guest_memory),
		C(test_vmcall_print_string_of_a_long_text_prints_it_all),
		C(test_vmcall_print_string_outside_ram_is_efault),
		C(test_vmcall_print_string_partly_outside_ram_prints_nothing),
		C(test_vmcall_print_string_too_long_is_einval),
		C(test_vmcall_unknown_number_is_enosys),
		C(test_vmcall_from_cpl_3_is_eperm),
		C(test_vmcall_stop_0_ends_the_vm_with_success),
		C(test_vmcall_stop_5_ends_the_vm_with_failure),
		C(test_vmcall_in_32_bit_mode_ignores_upper_register_halves),
		C(test_vmcall_in_64_bit_mode_uses_whole_registers),
		C(test_vmcall_get_ids_returns_vm_and_vcpu_ids),
		C(test_vmcall_print_char_prints_one_byte),
		C(test_vmcall_nop_returns_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
