#include "fixture_vm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "loader/multiboot.h"
#include "vcpu/apicv.h"
#include "vm/builder.h"

void fixture_reset_machine(void)
{
	fake_platform_reset();
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
}

void fixture_vmx_on_and_vm(struct vmx_cpu *cpu, struct vm *vm, unsigned vm_id, const char *name,
			   unsigned vcpu_count)
{
	fixture_vmx_on_and_vm_apicv(cpu, vm, vm_id, name, vcpu_count, false);
}

void fixture_vmx_on_and_vm_apicv(struct vmx_cpu *cpu, struct vm *vm, unsigned vm_id,
				 const char *name, unsigned vcpu_count, bool apicv)
{
	if (vmx_cpu_enable(cpu, 0) != VMX_OK)
		fail_msg("vmx_cpu_enable failed:\n%s", fake_console_text());
	const struct vm_config config = {
		.id = vm_id, .name = name, .ram_size = FIXTURE_RAM, .vcpu_count = vcpu_count,
		.strict_mem = true, /* a stray access ends the VM: the tests check each one */
		.apicv = apicv ? apicv_offered(&cpu->caps) : 0,
	};
	const char *err = vm_build(vm, &config);
	if (err)
		fail_msg("vm_build: %s", err);
	/* What the Multiboot loader leaves in vm->boot for such a kernel. */
	multiboot_start_state(&vm->boot, FIXTURE_ENTRY, FIXTURE_INFO);
}

void fixture_vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu, unsigned id)
{
	const char *err = vm_build_vcpu(vm, id, cpu, vcpu);
	if (err)
		fail_msg("vm_build_vcpu: %s\n%s", err, fake_console_text());
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

int fixture_setup_plain(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	return 0;
}

int fixture_setup_vm_con(void **state)
{
	struct vm *vm = *state;
	fixture_setup_plain(state);
	const struct vm_config config = { .id = 1, .name = "con", .ram_size = 2ULL << 20, .vcpu_count = 1 };
	const char *err = vm_build(vm, &config);
	if (err)
		fail_msg("vm_build: %s", err);
	return 0;
}

int fixture_setup_vm_dev(void **state)
{
	struct vm *vm = *state;
	fake_platform_reset();
	fake_cpu_reset();
	const struct vm_config config = { .id = 0, .name = "dev", .ram_size = 2ULL << 20, .vcpu_count = 1 };
	const char *err = vm_build(vm, &config);
	if (err)
		fail_msg("vm_build: %s", err);
	fake_console_clear();
	return 0;
}

int fixture_teardown_vm(void **state)
{
	vm_destroy(*state);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

int fixture_setup_tigerlake(void **state)
{
	(void)state;
	fixture_reset_machine();
	return 0;
}

int fixture_setup_sandy_bridge(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	fake_cpu_load_bochs_sandy_bridge();
	return 0;
}
