/*
 * Tests of core/exit/apic.c: the exits of the CPU's APIC virtualization on
 * a vCPU of the fake Tiger Lake (TPR shadow, APIC-register virtualization,
 * virtual-interrupt delivery): APIC-write exits per register, the
 * virtualized EOI of a level-triggered vector, APIC-access exits that
 * emulate the instruction (the timer's current count, PPR), and the
 * TPR-below-threshold exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_exit.h"
#include "irq/irq.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "irq/lapic_timer.h"
#include "mm/guest_memory.h"
#include "vcpu/apicv.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"

/* The CPU's write to the virtual-APIC page that precedes an APIC-write
 * exit (SDM Vol. 3C 29.4.3.2), then the exit itself. */
static void guest_writes(uint32_t offset, uint32_t value)
{
	LAPIC_REG(&vcpu.lapic, offset) = value;
	exit_with(R_APIC_WRITE, offset, 0);
}

static void apic_write_of_icr_sends_the_ipi(void **state)
{
	(void)state;
	LAPIC_REG(&vcpu.lapic, APIC_SVR) = 0x1FF;
	guest_writes(APIC_ICR_HIGH, 0);
	guest_writes(APIC_ICR_LOW, 0x00045045); /* fixed, self, vector 0x45, delivery pending */
	check_vm_running();
	assert_int_equal(lapic_deliverable(&vcpu.lapic), 0x45);
	assert_int_equal(lapic_read(&vcpu.lapic, APIC_ICR_LOW) & ICR_DELIVERY_PENDING, 0);
}

static void apic_write_of_the_initial_count_starts_the_timer(void **state)
{
	(void)state;
	LAPIC_REG(&vcpu.lapic, APIC_SVR) = 0x1FF;
	guest_writes(APIC_LVT_TIMER, 0x30); /* one-shot, vector 0x30 */
	guest_writes(APIC_TIMER_DIVIDE, 0xB); /* divide by 1 */
	vcpu.entry_deadline = ~0ULL;
	guest_writes(APIC_TIMER_INITIAL, 1000);
	assert_int_not_equal(lapic_timer_deadline(&vcpu.lapic), 0);
	assert_int_equal(vcpu.entry_deadline, 0); /* the run loop times the next entry */
}

/* The page is the register page: what the CPU wrote to a register the
 * model keeps differently is put right (ID read-only, SVR's reserved
 * bits, ESR cleared by a write, LVTs masked while software-disabled). */
static void apic_write_keeps_the_model_right(void **state)
{
	(void)state;
	guest_writes(APIC_ID, 0xFF000000u);
	assert_int_equal(LAPIC_REG(&vcpu.lapic, APIC_ID), 0);
	guest_writes(APIC_LVT_ERROR, 0x55); /* the APIC is software-disabled */
	assert_int_equal(LAPIC_REG(&vcpu.lapic, APIC_LVT_ERROR), LVT_MASKED | 0x55);
	guest_writes(APIC_SVR, 0xFFFFFFFFu);
	assert_int_equal(LAPIC_REG(&vcpu.lapic, APIC_SVR), 0x13FF);
	LAPIC_REG(&vcpu.lapic, APIC_ESR) = 0x40;
	guest_writes(APIC_ESR, 0x1234);
	assert_int_equal(LAPIC_REG(&vcpu.lapic, APIC_ESR), 0);
	guest_writes(APIC_LDR, 0x12345678u);
	assert_int_equal(LAPIC_REG(&vcpu.lapic, APIC_LDR), 0x12000000u);
	guest_writes(APIC_DFR, 0);
	assert_int_equal(LAPIC_REG(&vcpu.lapic, APIC_DFR), 0x0FFFFFFFu);
	check_vm_running();
}

static uint8_t last_eoi;
static void record_eoi(struct vm *v, void *opaque, uint8_t vector)
{
	(void)v;
	(void)opaque;
	last_eoi = vector;
}
static void ignore_line(struct vm *v, void *opaque, unsigned line, bool level)
{
	(void)v, (void)opaque, (void)line, (void)level;
}

/* A level-triggered vector's EOI: with virtual-interrupt delivery the CPU
 * already cleared VISR (29.1.4); the exit passes it on to the controllers.
 * Without it, the EOI register's APIC-write exit does the whole EOI. */
static void eoi_of_a_level_vector_reaches_the_controllers(void **state)
{
	(void)state;
	const struct irq_chip recorder = { .name = "recorder", .set_line = ignore_line,
					   .eoi = record_eoi };
	assert_true(vm_add_irq_chip(&vm, &recorder));
	last_eoi = 0;
	exit_with(R_VIRTUALIZED_EOI, 0x62, 0);
	assert_int_equal(last_eoi, 0x62);

	lapic_set_irr_trigger(&vcpu.lapic, 0x63, true);
	lapic_accept(&vcpu.lapic, 0x63);
	guest_writes(APIC_EOI, 0);
	assert_int_equal(last_eoi, 0x63);
	assert_int_equal(lapic_highest_vector(&vcpu.lapic, APIC_ISR0), -1);
}

/* Reads the CPU does not virtualize (29.4.2) exit as APIC accesses and are
 * emulated: mov eax, [edi] of the timer's current count and of PPR. */
static void apic_access_emulates_the_read(void **state)
{
	(void)state;
	LAPIC_REG(&vcpu.lapic, APIC_SVR) = 0x1FF;
	LAPIC_REG(&vcpu.lapic, APIC_TIMER_DIVIDE) = 0xB;
	LAPIC_REG(&vcpu.lapic, APIC_TIMER_INITIAL) = 5000;
	lapic_timer_register_written(&vcpu.lapic, APIC_TIMER_INITIAL, fake_cpu.tsc, 0);
	fake_cpu.tsc += 1000;
	assert_true(guest_write(&vm, ENTRY, "\x8b\x07\x8b\x07", 4));
	*reg(GPR_RDI) = LAPIC_DEFAULT_BASE + APIC_TIMER_CURRENT;
	exit_with(R_APIC_ACCESS, APIC_TIMER_CURRENT /* type 0: linear read */, 0);
	check_vm_running();
	/* The fake TSC grows by 1000 at each RDTSC: the count read is what
	 * was left at the read, below 4000 and above 0. */
	assert_true(*reg(GPR_RAX) > 0 && *reg(GPR_RAX) <= 4000);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	LAPIC_REG(&vcpu.lapic, APIC_TPR) = 0x35;
	*reg(GPR_RDI) = LAPIC_DEFAULT_BASE + APIC_PPR;
	exit_with(R_APIC_ACCESS, APIC_PPR, 0);
	assert_int_equal(*reg(GPR_RAX), 0x35);
}

/* An APIC access cvisor does not emulate (during event delivery, type 3)
 * ends the VM with a report. */
static void apic_access_during_event_delivery_ends_the_vm(void **state)
{
	(void)state;
	exit_with(R_APIC_ACCESS, (3u << 12) | 0x100, 0);
	check_vm_ended(false, "APIC access of type 3 at guest-physical 0xfee00100");
}

/* The TPR dropped below the threshold: the waiting vector goes in at the
 * next entry (the exit changes nothing itself). */
static void tpr_below_threshold_changes_nothing(void **state)
{
	(void)state;
	uint64_t rip = vmcs(GUEST_RIP.encoding);
	exit_with(R_TPR_BELOW_THRESHOLD, 0, 0);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RIP.encoding), rip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(apic_write_of_icr_sends_the_ipi, setup_vcpu_apicv, teardown),
		cmocka_unit_test_setup_teardown(apic_write_of_the_initial_count_starts_the_timer,
						setup_vcpu_apicv, teardown),
		cmocka_unit_test_setup_teardown(apic_write_keeps_the_model_right, setup_vcpu_apicv, teardown),
		cmocka_unit_test_setup_teardown(eoi_of_a_level_vector_reaches_the_controllers,
						setup_vcpu_apicv, teardown),
		cmocka_unit_test_setup_teardown(apic_access_emulates_the_read, setup_vcpu_apicv, teardown),
		cmocka_unit_test_setup_teardown(apic_access_during_event_delivery_ends_the_vm,
						setup_vcpu_apicv, teardown),
		cmocka_unit_test_setup_teardown(tpr_below_threshold_changes_nothing, setup_vcpu_apicv,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
