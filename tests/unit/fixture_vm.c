#include "fixture_vm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "vm/multiboot_loader.h"

void fixture_reset_machine(void)
{
	fake_platform_reset();
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
}

void fixture_vmx_on_and_vm(struct vmx_cpu *cpu, struct vm *vm, unsigned vm_id, const char *name)
{
	if (vmx_cpu_enable(cpu, 0) != VMX_OK)
		fail_msg("vmx_cpu_enable failed:\n%s", fake_console_text());
	const char *err = vm_create(vm, vm_id, name, FIXTURE_RAM);
	if (err)
		fail_msg("vm_create: %s", err);
}

void fixture_vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu, unsigned id)
{
	struct vcpu_start_state start = {
		.eip = FIXTURE_ENTRY, .eax = MULTIBOOT_BOOTLOADER_MAGIC, .ebx = FIXTURE_INFO,
	};
	if (vcpu_create(vcpu, vm, cpu, id, &start) != VMX_OK)
		fail_msg("vcpu_create failed:\n%s", fake_console_text());
}

void fixture_teardown(struct vmx_cpu *cpu, struct vm *vm, struct vcpu *const *vcpus,
		      unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		vcpu_destroy(vcpus[i]);
	vm_destroy(vm);
	assert_int_equal(vmx_cpu_disable(cpu), VMX_OK);
	assert_int_equal(fake_pages_outstanding(), 0);
}
