/*
 * The shared VM, vCPU and exit helpers of the exit, run-loop and vCPU tests
 * (fixture_exit.h).
 */
#include "fixture_exit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "vmx/vmcs.h"

struct vmx_cpu cpu;
struct vm vm;
struct vcpu vcpu;
/* Pages in use once the CPU is in VMX operation and the VM exists. */
size_t baseline_pages;

int setup_vm(void **state)
{
	(void)state;
	fixture_reset_machine();
	memset(&vcpu, 0, sizeof(vcpu));
	fixture_vmx_on_and_vm(&cpu, &vm, 1, "t", 1);
	vmx_prepare_guest_fpu_switching(&cpu); /* as the type-1's main does */
	baseline_pages = fake_pages_outstanding();
	fake_console_clear();
	return 0;
}

int setup_vcpu_apicv(void **state)
{
	(void)state;
	fixture_reset_machine();
	memset(&vcpu, 0, sizeof(vcpu));
	fixture_vmx_on_and_vm_apicv(&cpu, &vm, 1, "t", 1, true);
	vmx_prepare_guest_fpu_switching(&cpu);
	baseline_pages = fake_pages_outstanding();
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	fake_console_clear();
	return 0;
}

int setup_vcpu(void **state)
{
	setup_vm(state);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	fake_console_clear();
	return 0;
}

int teardown(void **state)
{
	(void)state;
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
	return 0;
}

uint64_t vmcs(uint32_t encoding)
{
	return fake_vmcs_get(encoding);
}

uint64_t *reg(unsigned gpr)
{
	return &vcpu.gprs.regs[gpr];
}

/* The CPU reports an exit; the core handles it. */
void exit_with(uint32_t reason, uint64_t qualification, uint32_t instruction_len)
{
	fake_vmcs_set(VM_EXIT_REASON.encoding, reason);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, qualification);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, instruction_len);
	exit_dispatch(&vcpu, reason);
}

void check_vm_ended(bool success, const char *reason_part)
{
	if (!vm.ended)
		fail_msg("the VM is still running; console:\n%s", fake_console_text());
	if (vm.success != success)
		fail_msg("the VM ended with %s (%s)", vm.success ? "success" : "failure",
			 vm.end_reason);
	if (!strstr(vm.end_reason, reason_part))
		fail_msg("end reason \"%s\" lacks \"%s\"", vm.end_reason, reason_part);
}

void check_vm_running(void)
{
	if (vm.ended)
		fail_msg("the VM ended: %s\nconsole:\n%s", vm.end_reason, fake_console_text());
}

void hypercall(uint64_t nr, uint64_t arg1, uint64_t arg2)
{
	*reg(GPR_RAX) = nr;
	*reg(GPR_RBX) = arg1;
	*reg(GPR_RCX) = arg2;
	exit_with(R_VMCALL, 0, 3);
}
