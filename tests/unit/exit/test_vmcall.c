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
#include "mm/ept.h"
#include "mm/identity_map.h"
#include "vm/protect.h"
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
/* ---- Protection (vm/protect.h) ---- */

#define E(code) ((uint64_t)(int64_t)(code))

/* HC_PROTECT with RBX, RCX, RDX, RSI. */
static void hc_protect(uint64_t gpa, uint64_t length, uint64_t perms, uint64_t policy)
{
	*reg(GPR_RDX) = perms;
	*reg(GPR_RSI) = policy;
	hypercall(HC_PROTECT, gpa, length);
}

static uint64_t ept_perms(uint64_t gpa)
{
	uint64_t perms = 0;
	ept_translate(&vm.ept, gpa, &perms);
	return perms;
}

static void test_vmcall_protect_narrows_guest_ram(void **state)
{
	(void)state;
	hc_protect(0x3000, 0x2000, HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_DENY);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(ept_perms(0x4000), EPT_READ | EPT_EXECUTE);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
	/* In 32-bit mode the upper halves of RDX and RSI do not count. */
	hc_protect(0x8000, 0x1000, 0xFFFFFFFF00000000ULL | HC_PROT_READ, 0xFFFFFFFF00000000ULL);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(ept_perms(0x8000), EPT_READ);
	assert_int_equal(protect_range_at(&vm.protect, 0x8000)->policy, HC_POLICY_LOG);
}

static void test_vmcall_protect_argument_errors(void **state)
{
	(void)state;
	hc_protect(0x3800, 0x1000, HC_PROT_READ, HC_POLICY_DENY); /* not page aligned */
	assert_int_equal(*reg(GPR_RAX), E(HC_EINVAL));
	hc_protect(0x3000, 0x1000, HC_PROT_WRITE, HC_POLICY_DENY); /* write without read */
	assert_int_equal(*reg(GPR_RAX), E(HC_EINVAL));
	hc_protect(0x3000, 0x1000, HC_PROT_READ, 7); /* no such policy */
	assert_int_equal(*reg(GPR_RAX), E(HC_EINVAL));
	hc_protect(FIXTURE_RAM, 0x1000, HC_PROT_READ, HC_POLICY_DENY); /* not RAM */
	assert_int_equal(*reg(GPR_RAX), E(HC_EFAULT));
	hc_protect(MMIO_DEBUG_CONSOLE_GPA, 0x1000, HC_PROT_READ, HC_POLICY_DENY); /* a device */
	assert_int_equal(*reg(GPR_RAX), E(HC_EFAULT));
	/* More separate ranges than cvisor keeps: neighbouring pages whose
	 * permissions differ do not merge. */
	for (uint64_t i = 0; i < PROTECT_MAX_RANGES; i++) {
		hc_protect(0x1000 * i, 0x1000, i % 2 ? HC_PROT_READ | HC_PROT_EXEC : HC_PROT_READ,
			   HC_POLICY_DENY);
		assert_int_equal(*reg(GPR_RAX), HC_OK);
	}
	hc_protect(0x1000 * PROTECT_MAX_RANGES, 0x1000, HC_PROT_READ, HC_POLICY_DENY); /* unlike page 255 */
	assert_int_equal(*reg(GPR_RAX), E(HC_ENOMEM));
	assert_int_equal(ept_perms(0x1000 * PROTECT_MAX_RANGES), EPT_RWX);
	check_vm_running();
}

/* The hypercalls are for the guest kernel: CPL 3 gets HC_EPERM and
 * nothing changes. */
static void test_vmcall_protect_from_cpl_3_is_eperm(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_SS_AR_BYTES.encoding, AR_DATA | 3u << 5);
	hc_protect(0x3000, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	assert_int_equal(*reg(GPR_RAX), E(HC_EPERM));
	hypercall(HC_PIN_CR, 0, CR0_PE);
	assert_int_equal(*reg(GPR_RAX), E(HC_EPERM));
	assert_int_equal(ept_perms(0x3000), EPT_RWX);
}

static void test_vmcall_pin_cr_and_msr(void **state)
{
	(void)state;
	hypercall(HC_PIN_CR, 0, CR0_WP); /* WP is clear */
	assert_int_equal(*reg(GPR_RAX), E(HC_EINVAL));
	hypercall(HC_PIN_CR, 2, 0);
	assert_int_equal(*reg(GPR_RAX), E(HC_EINVAL));
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_WP);
	hypercall(HC_PIN_CR, 0, CR0_WP);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(vm.protect.cr0_pinned, CR0_WP);
	hypercall(HC_PIN_MSR, MSR_IA32_SYSENTER_EIP, 0);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	hypercall(HC_PIN_MSR, MSR_IA32_SYSENTER_ESP, 0);
	assert_int_equal(*reg(GPR_RAX), E(HC_EINVAL));
}

static void record_drop(uint64_t gpa)
{
	protect_record(&vcpu, (struct hc_protect_event){
		.kind = HC_EVENT_MEMORY, .address = gpa, .linear = gpa, .rip = 0x100123,
		.access = HC_PROT_WRITE, .action = HC_ACTION_DROPPED,
	});
}

static void test_vmcall_protect_events_reads_and_removes_the_oldest(void **state)
{
	(void)state;
	record_drop(0x3000);
	record_drop(0x5000);
	record_drop(0x7000);
	hypercall(HC_PROTECT_EVENTS, 0x9000, 0); /* how many wait */
	assert_int_equal(*reg(GPR_RAX), 3);
	hypercall(HC_PROTECT_EVENTS, 0x9000, 2);
	assert_int_equal(*reg(GPR_RAX), 2);
	struct hc_protect_event e[2];
	assert_true(guest_read(&vm, 0x9000, e, sizeof(e)));
	assert_int_equal(e[0].address, 0x3000);
	assert_int_equal(e[0].sequence, 0);
	assert_int_equal(e[1].address, 0x5000);
	assert_int_equal(e[1].rip, 0x100123);
	assert_int_equal(e[1].vm_id, 1);
	hypercall(HC_PROTECT_EVENTS, 0x9000, 100); /* more than wait: what there is */
	assert_int_equal(*reg(GPR_RAX), 1);
	assert_true(guest_read(&vm, 0x9000, e, sizeof(e[0])));
	assert_int_equal(e[0].sequence, 2);
	hypercall(HC_PROTECT_EVENTS, 0x9000, 4);
	assert_int_equal(*reg(GPR_RAX), 0);
}

/* cvisor writes no event where the guest could not write itself, nor
 * outside RAM; the events stay for a later call. */
static void test_vmcall_protect_events_refuses_a_protected_or_missing_buffer(void **state)
{
	(void)state;
	record_drop(0x3000);
	assert_int_equal(protect_memory(&vcpu, 0xA000, 0x1000, HC_PROT_READ, HC_POLICY_DENY),
			 PROTECT_OK);
	hypercall(HC_PROTECT_EVENTS, 0xA000, 1);
	assert_int_equal(*reg(GPR_RAX), E(HC_EFAULT));
	hypercall(HC_PROTECT_EVENTS, 0x9FF0, 1); /* runs into it */
	assert_int_equal(*reg(GPR_RAX), E(HC_EFAULT));
	hypercall(HC_PROTECT_EVENTS, FIXTURE_RAM - 8, 1);
	assert_int_equal(*reg(GPR_RAX), E(HC_EFAULT));
	hypercall(HC_PROTECT_EVENTS, 0, 0);
	assert_int_equal(*reg(GPR_RAX), 1);
}

/* The kernel under cvisor.ko does not have them yet. */
static void test_vmcall_protection_is_not_offered_to_the_hosted_os(void **state)
{
	(void)state;
	static struct identity_map fake_identity;
	vm.identity = &fake_identity;
	hc_protect(0x3000, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	assert_int_equal(*reg(GPR_RAX), E(HC_ENOSYS));
	hypercall(HC_PIN_CR, 0, CR0_PE);
	assert_int_equal(*reg(GPR_RAX), E(HC_ENOSYS));
	hypercall(HC_PIN_MSR, MSR_IA32_LSTAR, 0);
	assert_int_equal(*reg(GPR_RAX), E(HC_ENOSYS));
	hypercall(HC_PROTECT_EVENTS, 0x9000, 1);
	assert_int_equal(*reg(GPR_RAX), E(HC_ENOSYS));
	vm.identity = NULL;
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
		C(test_vmcall_protect_narrows_guest_ram),
		C(test_vmcall_protect_argument_errors),
		C(test_vmcall_protect_from_cpl_3_is_eperm),
		C(test_vmcall_pin_cr_and_msr),
		C(test_vmcall_protect_events_reads_and_removes_the_oldest),
		C(test_vmcall_protect_events_refuses_a_protected_or_missing_buffer),
		C(test_vmcall_protection_is_not_offered_to_the_hosted_os),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
