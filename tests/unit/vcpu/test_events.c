/*
 * Event delivery to vCPUs on the fake CPU: INIT/SIPI, fixed interrupts
 * against RFLAGS.IF and the interrupt window, NMIs against NMI blocking and
 * the NMI window, and IPI routing between the vCPUs of one VM
 * (core/vcpu/events.c, core/irq/ipi.c).
 */
#include "x86.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irq/lapic.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "irq/ipi.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu bsp, ap;

#define INTR_VALID (1u << 31)

static int setup(void **state)
{
	(void)state;
	fixture_reset_machine();
	fixture_vmx_on_and_vm(&cpu, &vm, 0, "ev", 2);
	fixture_vcpu_create(&ap, &vm, &cpu, 1);
	fixture_vcpu_create(&bsp, &vm, &cpu, 0); /* current VMCS */
	vm.vcpu_count = 2;
	vm.vcpus[0] = &bsp;
	vm.vcpus[1] = &ap;
	bsp.lapic.svr = ap.lapic.svr = 0x1FF;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct vcpu *all[] = { &bsp, &ap };
	fixture_teardown(&cpu, &vm, all, 2);
	return 0;
}

/* A vCPU of a VM that restarts has work whatever its state, so that its
 * run loop reaches the restart's rendezvous (vm/reset.h). */
static void a_restarting_vm_gives_every_vcpu_work(void **state)
{
	(void)state;
	assert_false(vcpu_has_work(&ap, ~0ULL)); /* waiting for SIPI */
	bsp.state = VCPU_PARKED;
	assert_false(vcpu_has_work(&bsp, ~0ULL));
	ap.vm_reset = VM_RESET_LEAVE;
	bsp.vm_reset = VM_RESET_SELF;
	assert_true(vcpu_has_work(&ap, 0));
	assert_true(vcpu_has_work(&bsp, 0));
	ap.vm_reset = bsp.vm_reset = VM_RESET_NONE;
	assert_false(vcpu_has_work(&ap, ~0ULL));
}

static void aps_wait_for_sipi_and_start_in_real_mode(void **state)
{
	(void)state;
	assert_int_equal(bsp.state, VCPU_RUNNING);
	assert_int_equal(ap.state, VCPU_WAIT_SIPI);
	vm_send_ipi(&bsp, 0x0000C500, 0x01000000); /* INIT assert to APIC ID 1 */
	vm_send_ipi(&bsp, 0x00000608, 0x01000000); /* SIPI, vector 8 */
	assert_true(ap.pending.init && ap.pending.sipi == 0x108);
	assert_int_equal(vmptrld(ap.vmcs_pa), VMX_SUCCEED);
	assert_true(vcpu_process_events(&ap));
	assert_int_equal(ap.state, VCPU_RUNNING);
	assert_int_equal(vmcs_read(GUEST_CS_SELECTOR), 0x0800);
	assert_int_equal(vmcs_read(GUEST_CS_BASE), 0x8000);
	assert_int_equal(vmcs_read(GUEST_RIP), 0);
	assert_int_equal(vmcs_read(GUEST_CR0) & 1, 0); /* real mode */
	assert_true(ap.check_before_entry);            /* cvisor wrote this state */
	/* a second SIPI to a running vCPU is ignored */
	vm_send_ipi(&bsp, 0x00000609, 0x01000000);
	assert_true(vcpu_process_events(&ap));
	assert_int_equal(vmcs_read(GUEST_CS_BASE), 0x8000);
}

static void init_deassert_is_ignored(void **state)
{
	(void)state;
	vm_send_ipi(&bsp, 0x00008500, 0x01000000); /* INIT, level de-assert */
	assert_int_equal(ap.pending.init, 0);
}

static void fixed_interrupt_waits_for_if_then_is_injected(void **state)
{
	(void)state;
	vmcs_write(GUEST_RFLAGS, 0x2); /* IF = 0 */
	vm_send_ipi(&bsp, 0x00040041, 0); /* self shorthand, vector 0x41 */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 1); /* STI shadow */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | 0x41); /* external, 0x41 */
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_int_equal(lapic_read(&bsp.lapic, 0x100 + 0x10 * 2) & 2, 2); /* in service */
}

/* A single-step trap pending on the previous instruction goes first (SDM
 * Vol. 3A 6.9); an injecting VM entry would drop it (Vol. 3C 27.7.3), so
 * the interrupt and the NMI wait for their windows. */
static void a_pending_single_step_trap_goes_before_interrupts_and_nmis(void **state)
{
	(void)state;
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF | RFLAGS_TF);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	vm_send_ipi(&bsp, 0x00040041, 0); /* self, vector 0x41 */
	vm_send_ipi(&bsp, 0x00040400, 0); /* self, NMI */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_NMI_WINDOW_EXITING);
	assert_int_equal(vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS); /* kept */
	/* The #DB was delivered (the window exits come after it): now the NMI. */
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | (2u << 8) | 2);
}

static void nmi_wakes_a_parked_vcpu_and_respects_nmi_blocking(void **state)
{
	(void)state;
	bsp.state = VCPU_PARKED;
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 1u << 3); /* blocked by NMI */
	vm_send_ipi(&bsp, 0x00000400, 0x00000000);        /* NMI to APIC ID 0 */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(bsp.state, VCPU_RUNNING);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_NMI_WINDOW_EXITING);
	assert_int_equal(bsp.pending.nmi, 1);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | (2u << 8) | 2);
	assert_int_equal(bsp.pending.nmi, 0);
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_NMI_WINDOW_EXITING);
}

static void ipi_routing(void **state)
{
	(void)state;
	vm_send_ipi(&bsp, 0x000C0050, 0); /* all excluding self */
	assert_true(lapic_has_pending(&ap.lapic));
	assert_false(lapic_has_pending(&bsp.lapic));
	memset(ap.lapic.irr, 0, sizeof(ap.lapic.irr));
	ap.lapic.ldr = 0x02000000;
	vm_send_ipi(&bsp, 0x00000851, 0x02000000); /* logical flat, mask 0x02 */
	assert_true(lapic_has_pending(&ap.lapic));
	assert_false(lapic_has_pending(&bsp.lapic));
	memset(ap.lapic.irr, 0, sizeof(ap.lapic.irr));
	vm_send_ipi(&bsp, 0x00000052, 0x05000000); /* physical APIC ID 5: nobody */
	assert_false(lapic_has_pending(&ap.lapic) || lapic_has_pending(&bsp.lapic));
	vm_send_ipi(&bsp, 0x0008000A, 0); /* vector 10 is illegal: dropped */
	assert_false(lapic_has_pending(&ap.lapic) || lapic_has_pending(&bsp.lapic));
	vm_send_ipi(&bsp, 0x00000153, 0xFF000000); /* lowest priority broadcast: one vCPU */
	assert_true(lapic_has_pending(&bsp.lapic) != lapic_has_pending(&ap.lapic));
}

/* The IRR summary the exit fast path reads: a word's bit goes only when its
 * last pending vector is accepted. */
/* SDM Vol. 3A 17.3.1.1: a fault pushes RFLAGS with RF set; VM entry injects
 * GUEST_RFLAGS as it is, so cvisor sets RF for faults, and only for them. */
static void an_injected_fault_pushes_rf_and_nothing_else_does(void **state)
{
	(void)state;
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vcpu_inject_exception(&bsp, VECTOR_DB, false, 0); /* trap or fault: left alone */
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1);
	vcpu_inject_exception(&bsp, 8, true, 0); /* #DF, an abort */
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1);
	vcpu_inject_gp(&bsp);
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1 | RFLAGS_RF);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), VECTOR_GP | (3u << 8) | (1u << 11) | INTR_VALID);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vcpu_inject_ud(&bsp);
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1 | RFLAGS_RF);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1 | RFLAGS_IF);
	vcpu_inject_page_fault(&bsp, 0x1234, 2);
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1 | RFLAGS_IF | RFLAGS_RF);
}

static void irr_summary_follows_the_pending_vectors(void **state)
{
	(void)state;
	struct lapic *apic = &bsp.lapic;

	assert_false(lapic_has_pending(apic));
	assert_int_equal(apic->irr_words, 0);
	lapic_set_irr(apic, 0x41);
	lapic_set_irr(apic, 0x42);
	lapic_set_irr(apic, 0xF3);
	assert_int_equal(apic->irr_words, (1u << 2) | (1u << 7));
	lapic_accept(apic, 0x41);
	assert_true(lapic_has_pending(apic));
	assert_int_equal(apic->irr_words, (1u << 2) | (1u << 7)); /* 0x42 is left in word 2 */
	lapic_accept(apic, 0xF3);
	assert_int_equal(apic->irr_words, 1u << 2);
	lapic_accept(apic, 0x42);
	assert_int_equal(apic->irr_words, 0);
	assert_false(lapic_has_pending(apic));
	/* A stale summary bit (IRR cleared behind its back) is not "pending". */
	apic->irr_words = 1u << 5;
	assert_false(lapic_has_pending(apic));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(aps_wait_for_sipi_and_start_in_real_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(a_restarting_vm_gives_every_vcpu_work, setup, teardown),
		cmocka_unit_test_setup_teardown(init_deassert_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(fixed_interrupt_waits_for_if_then_is_injected, setup, teardown),
		cmocka_unit_test_setup_teardown(nmi_wakes_a_parked_vcpu_and_respects_nmi_blocking, setup, teardown),
		cmocka_unit_test_setup_teardown(ipi_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(irr_summary_follows_the_pending_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(a_pending_single_step_trap_goes_before_interrupts_and_nmis, setup, teardown),
		cmocka_unit_test_setup_teardown(an_injected_fault_pushes_rf_and_nothing_else_does, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
