/*
 * The machine most core tests start from (fixture_vm.c): a fresh fake
 * platform and CPU (Bochs tigerlake), VMX on, one VM with 2 MiB of RAM and
 * its vCPUs made by vm_build_vcpu as a Multiboot kernel starts.  A test that
 * needs another CPU model changes it between fixture_reset_machine and
 * fixture_vmx_on_and_vm.  Every step fails the running test on error.
 */
#ifndef CVISOR_TESTS_FIXTURE_VM_H
#define CVISOR_TESTS_FIXTURE_VM_H

#include "vm/vm.h"
#include "vcpu/vcpu.h"
#include "vmx/vmx_cpu.h"

#define FIXTURE_RAM   (2ULL << 20)
#define FIXTURE_ENTRY 0x100000u /* the guest's EIP */
#define FIXTURE_INFO  0x9F000u  /* EBX: where the Multiboot information would be */

/* fake_platform_reset, fake_cpu_reset, then the Bochs tigerlake model. */
void fixture_reset_machine(void);
/* VMX operation on cpu (logical CPU 0), then vm_build with vcpu_count
 * vCPU slots, booting as a Multiboot kernel at FIXTURE_ENTRY would. */
void fixture_vmx_on_and_vm(struct vmx_cpu *cpu, struct vm *vm, unsigned vm_id, const char *name,
			   unsigned vcpu_count);
/* The same with the APIC virtualization the CPU offers (vcpu/apicv.h)
 * when apicv, else the software APIC alone (as fixture_vmx_on_and_vm). */
void fixture_vmx_on_and_vm_apicv(struct vmx_cpu *cpu, struct vm *vm, unsigned vm_id,
				 const char *name, unsigned vcpu_count, bool apicv);
/* vCPU id by vm_build_vcpu: EIP FIXTURE_ENTRY, EAX the Multiboot magic, EBX FIXTURE_INFO. */
void fixture_vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu, unsigned id);
/* vcpu_destroy of each vCPU, vm_destroy, VMX off; then no page may be left. */
void fixture_teardown(struct vmx_cpu *cpu, struct vm *vm, struct vcpu *const *vcpus,
		      unsigned count);

/*
 * cmocka setups and teardown of the tests that need a VM without vCPUs,
 * passed as the test's initial state (cmocka_unit_test_prestate_setup_
 * teardown with &vm): fixture_setup_plain resets the fake platform and CPU
 * only; fixture_setup_vm_con then builds VM 1 "con" with 2 MiB of RAM;
 * fixture_setup_vm_dev builds VM 0 "dev" with 2 MiB and clears the console;
 * fixture_teardown_vm destroys it and checks that no page is left.
 */
int fixture_setup_plain(void **state);
/* cmocka setups: the fake platform and CPU reset, then one Bochs model. */
int fixture_setup_tigerlake(void **state);
int fixture_setup_sandy_bridge(void **state);
int fixture_setup_vm_con(void **state);
int fixture_setup_vm_dev(void **state);
int fixture_teardown_vm(void **state);

#endif
