/*
 * Tests of core/exit/lifecycle.c: the exits that end a guest, HLT and triple
 * fault, of a real VM and vCPU on the fake Tiger Lake CPU, fed to
 * exit_dispatch.
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
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "loader/multiboot.h"
#include "run/run_loop.h"
#include "vm/builder.h"
#include "run/schedule.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

static void test_triple_fault_ends_the_vm_with_its_registers(void **state)
{
	(void)state;
	*reg(GPR_R15) = 0x1515151515151515ULL;
	exit_with(R_TRIPLE_FAULT, 0, 0);
	check_vm_ended(false, "triple fault");
	assert_console_contains("R15 0x1515151515151515");
}

static void test_hlt_ends_the_vm(void **state)
{
	(void)state;
	exit_with(R_HLT, 0, 1);
	check_vm_ended(false, "halted");
	assert_console_contains("interrupts disabled");
}
/* HLT with RFLAGS.TF (even with IF = 0): the single-step trap is a debug
 * exception, which ends the halt (SDM Vol. 2A HLT): the vCPU stays active
 * with BS pending, and the VM is not ended as one that can never wake. */
static void test_hlt_with_tf_takes_its_single_step_trap_instead_of_halting(void **state)
{
	(void)state;
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1 | RFLAGS_TF);
	exit_with(R_HLT, 0, 1);
	check_vm_running();
	assert_int_equal(vcpu.state, VCPU_RUNNING);
	assert_int_equal(vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS);
	assert_int_equal(vmcs_read(GUEST_RIP), FIXTURE_ENTRY + 1);
	/* with IA32_DEBUGCTL.BTF, TF traps on branches only: HLT halts */
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(GUEST_IA32_DEBUGCTL, DEBUGCTL_BTF);
	exit_with(R_HLT, 0, 1);
	check_vm_ended(false, "halted");
}

/* An interrupt-window exit turns the window off: the interrupt it waited
 * for may no longer be deliverable (here the TPR rose above it), and a
 * window left on would exit before every guest instruction (make fuzz,
 * seed 5341).  Lowering the TPR delivers it at the next entry. */
static void test_interrupt_window_exit_turns_the_window_off(void **state)
{
	(void)state;
	LAPIC_REG(&vcpu.lapic, APIC_SVR) = 0x1FF;
	lapic_set_irr_trigger(&vcpu.lapic, 0x41, false);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1); /* IF = 0: the interrupt waits */
	assert_true(vcpu_process_events(&vcpu));
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	lapic_write(&vcpu.lapic, 0x80, 0xF0, NULL); /* TPR: class 15, above 0x41 */
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1 | RFLAGS_IF);
	exit_with(EXIT_REASON_INTERRUPT_WINDOW, 0, 0);
	check_vm_running();
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_true(vcpu_process_events(&vcpu));
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & (1u << 31), 0);
	lapic_write(&vcpu.lapic, 0x80, 0, NULL);
	assert_true(vcpu_process_events(&vcpu));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), (1u << 31) | 0x41);
}

/* STI; HLT with an interrupt already pending: HLT ends the STI shadow, so
 * the interrupt is taken at once, with EIP after the HLT (SDM Vol. 2A
 * HLT, STI): the vCPU does not sleep through it. */
static void test_sti_hlt_with_a_pending_interrupt_takes_it_after_the_hlt(void **state)
{
	(void)state;
	vm.vcpus[0] = &vcpu;
	vm.vcpu_count = 1;
	LAPIC_REG(&vcpu.lapic, APIC_SVR) = 0x1FF;
	lapic_set_irr(&vcpu.lapic, 0x51);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1 | RFLAGS_IF);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
	exit_with(R_HLT, 0, 1);
	check_vm_running();
	assert_int_equal(vmcs_read(GUEST_INTERRUPTIBILITY_INFO), 0); /* the shadow ended */
	assert_int_equal(vcpu.state, VCPU_HALTED);
	assert_true(vcpu_process_events(&vcpu));
	assert_int_equal(vcpu.state, VCPU_RUNNING);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_INFO_VALID | 0x51);
	assert_int_equal(vmcs_read(GUEST_RIP), FIXTURE_ENTRY + 1);
}

#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_triple_fault_ends_the_vm_with_its_registers),
		C(test_hlt_ends_the_vm),
		C(test_hlt_with_tf_takes_its_single_step_trap_instead_of_halting),
		C(test_sti_hlt_with_a_pending_interrupt_takes_it_after_the_hlt),
		C(test_interrupt_window_exit_turns_the_window_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
