/*
 * Tests of core/run/schedule.c: the round-robin scheduler running two VMs,
 * each with one vCPU on the fake Tiger Lake CPU, until both end; and what
 * it does when no vCPU can run: the deadline it sleeps until
 * (schedule_idle_deadline) and the fake platform's plat_idle_until.
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
#include "dev/device.h"
#include "exit/exit.h"
#include "irq/irq.h"
#include "irq/lapic_regs.h"
#include "irq/lapic_timer.h"
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

static void guest_stops_with_0(struct guest_gprs *g)
{
	g->regs[GPR_RAX] = HC_STOP;
	g->regs[GPR_RBX] = 0;
}

/* Two VMs time-share the CPU: each is preempted once, then stops. */
static struct vm vm2;
static struct vcpu vcpu2;
static char entry_order[8];
static unsigned entry_count;
static unsigned vm_ended_calls;

static int two_vcpus_on_enter(struct guest_gprs *gprs, int launched, void *ctx)
{
	(void)launched;
	(void)ctx;
	bool first = fake_cpu.current_vmcs_pa == vcpu.vmcs_pa;
	struct vcpu *v = first ? &vcpu : &vcpu2;

	if (entry_count < sizeof(entry_order))
		entry_order[entry_count] = first ? 'A' : 'B';
	entry_count++;
	if (v->exits_total == 0) {
		/* the guest used up its slice */
		fake_cpu.tsc += 2ULL * VCPU_SLICE_TSC;
		fake_vmcs_set(VM_EXIT_REASON.encoding, R_PREEMPTION_TIMER);
	} else {
		fake_vmcs_set(VM_EXIT_REASON.encoding, R_VMCALL);
		fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, 3);
		guest_stops_with_0(gprs);
	}
	return 0;
}

static void count_vm_end(struct vm *ended)
{
	(void)ended;
	vm_ended_calls++;
}

static void test_round_robin_alternates_two_vms_until_both_end(void **state)
{
	(void)state;
	const struct vm_config config = { .id = 2, .name = "u", .ram_size = 2 * MiB, .vcpu_count = 1 };
	assert_null(vm_build(&vm2, &config));
	guest_state_flat_protected(&vm2.boot, 0x200000);
	assert_null(vm_build_vcpu(&vm2, 0, &cpu, &vcpu2));
	assert_int_not_equal(vcpu2.vpid, vcpu.vpid);
	entry_count = vm_ended_calls = 0;
	fake_cpu.on_enter = two_vcpus_on_enter;

	struct vcpu *const vcpus[2] = { &vcpu, &vcpu2 };
	schedule_round_robin(vcpus, 2, count_vm_end);

	assert_int_equal(entry_count, 4);
	assert_memory_equal(entry_order, "ABAB", 4);
	assert_int_equal(vm_ended_calls, 2);
	check_vm_ended(true, "status 0");
	assert_true(vm2.ended && vm2.success);
	assert_int_equal(fake_cpu.launches, 2); /* one VMLAUNCH per VMCS */
	assert_int_equal(fake_cpu.resumes, 2);
	vcpu_destroy(&vcpu2);
	vm_destroy(&vm2);
}

/* ---- Idle CPUs ---- */

/* vCPU v's APIC timer: one-shot, divide by 1, vector 0x40, count ticks from now. */
static void arm_apic_timer(struct vcpu *v, uint64_t now, uint32_t ticks)
{
	uint8_t unused;
	const uint32_t regs[][2] = {
		{ APIC_SVR, 0x1FF }, { APIC_TIMER_DIVIDE, 0xB }, { APIC_LVT_TIMER, 0x40 },
		{ APIC_TIMER_INITIAL, ticks },
	};
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		lapic_write(&v->lapic, regs[i][0], regs[i][1], &unused);
		lapic_timer_register_written(&v->lapic, regs[i][0], now, 1);
	}
}

static void no_fire(struct vm *v, void *state, uint64_t now)
{
	(void)v;
	(void)state;
	(void)now;
}

/* A second VM (vm2, vcpu2) beside the fixture's, for the tests below. */
static void build_second_vm(void)
{
	const struct vm_config config = { .id = 2, .name = "u", .ram_size = 2 * MiB, .vcpu_count = 1 };
	assert_null(vm_build(&vm2, &config));
	guest_state_flat_protected(&vm2.boot, 0x200000);
	assert_null(vm_build_vcpu(&vm2, 0, &cpu, &vcpu2));
}

static void destroy_second_vm(void)
{
	vcpu_destroy(&vcpu2);
	vm_destroy(&vm2);
}

static void test_idle_deadline_is_the_first_time_a_blocked_vcpu_wakes(void **state)
{
	(void)state;
	build_second_vm();
	struct vcpu *const vcpus[2] = { &vcpu, &vcpu2 };
	const uint64_t now = 1000000;
	struct device_timer *timer = vm_add_device_timer(&vm2, "test", no_fire, NULL);
	assert_non_null(timer);

	vcpu.state = VCPU_HALTED;
	vcpu2.state = VCPU_HALTED;
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now), 0); /* only a kick wakes them */

	arm_apic_timer(&vcpu, now, 50000);
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now), now + 50000);
	/* An earlier device timer of the other VM wakes its halted vCPU first. */
	device_timer_arm(&vm2, timer, now + 30000);
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now), now + 30000);
	/* A vCPU waiting for SIPI wakes for no timer (SDM Vol. 3A 9.4.4). */
	vcpu2.state = VCPU_WAIT_SIPI;
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now), now + 50000);
	/* A VM that ended is left out. */
	vcpu2.state = VCPU_HALTED;
	vm2.ended = true;
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now), now + 50000);
	vm2.ended = false;

	/* Looked at again before sleeping: a deadline that has passed since
	 * the round, or a vCPU that runs, means no sleep. */
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now + 30000), SCHEDULE_NO_IDLE);
	device_timer_arm(&vm2, timer, 0);
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now + 50000), SCHEDULE_NO_IDLE);
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now + 49999), now + 50000);
	vcpu2.state = VCPU_RUNNING;
	assert_int_equal(schedule_idle_deadline(vcpus, 2, now), SCHEDULE_NO_IDLE);
	destroy_second_vm();
}

/* The guest stops at its first entry, which must deliver `expect` (the
 * VM-entry interruption information). */
static uint32_t expected_entry_event;
static uint64_t tsc_at_first_entry;

static int stop_on_first_entry(struct guest_gprs *gprs, int launched, void *ctx)
{
	(void)launched;
	(void)ctx;
	entry_count++;
	tsc_at_first_entry = fake_cpu.tsc;
	assert_int_equal(fake_vmcs_get(VM_ENTRY_INTR_INFO.encoding), expected_entry_event);
	fake_vmcs_set(VM_EXIT_REASON.encoding, R_VMCALL);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, 3);
	guest_stops_with_0(gprs);
	return 0;
}

static void test_a_halted_vcpu_sleeps_until_its_apic_timer_then_takes_it(void **state)
{
	(void)state;
	struct vcpu *const vcpus[1] = { &vcpu };
	uint64_t now = fake_cpu.tsc;

	fake_vmcs_set(GUEST_RFLAGS.encoding, fake_vmcs_get(GUEST_RFLAGS.encoding) | RFLAGS_IF);
	vcpu.state = VCPU_HALTED;
	arm_apic_timer(&vcpu, now, 5000000);
	entry_count = 0;
	expected_entry_event = INTR_INFO_VALID | INTR_INFO_TYPE_EXTERNAL | 0x40;
	fake_cpu.on_enter = stop_on_first_entry;

	schedule_round_robin(vcpus, 1, NULL);

	/* One sleep, until the timer's deadline (the fake's TSC jumps there),
	 * then the vCPU runs and takes the interrupt at once. */
	assert_int_equal(fake_idle_calls, 1);
	assert_int_equal(fake_idle_last_deadline, now + 5000000);
	assert_int_equal(entry_count, 1);
	assert_true(tsc_at_first_entry >= now + 5000000);
	assert_true(tsc_at_first_entry < now + 5000000 + VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
}

/* Plays another CPU: an NMI IPI for the halted vCPU, as irq/ipi.c posts it. */
static void another_cpu_sends_an_nmi(uint64_t tsc_deadline)
{
	assert_int_equal(tsc_deadline, 0); /* nothing but a kick wakes the vCPU */
	vcpu_deliver_apic_interrupt(&vcpu, APIC_DM_NMI, 0, false);
}

static void test_an_event_from_another_cpu_ends_the_sleep(void **state)
{
	(void)state;
	struct vcpu *const vcpus[1] = { &vcpu };

	vcpu.state = VCPU_HALTED;
	entry_count = 0;
	expected_entry_event = INTR_INFO_VALID | INTR_INFO_TYPE_NMI | 2;
	fake_cpu.on_enter = stop_on_first_entry;
	fake_on_idle = another_cpu_sends_an_nmi;

	schedule_round_robin(vcpus, 1, NULL);

	assert_int_equal(fake_idle_calls, 1);
	assert_int_equal(entry_count, 1);
	check_vm_ended(true, "status 0");
}

static void test_a_cpu_with_a_vcpu_to_run_never_sleeps(void **state)
{
	(void)state;
	build_second_vm();
	entry_count = vm_ended_calls = 0;
	fake_cpu.on_enter = two_vcpus_on_enter;

	struct vcpu *const vcpus[2] = { &vcpu, &vcpu2 };
	schedule_round_robin(vcpus, 2, count_vm_end);

	assert_int_equal(fake_idle_calls, 0);
	assert_int_equal(vm_ended_calls, 2);
	destroy_second_vm();
}

#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_round_robin_alternates_two_vms_until_both_end),
		C(test_idle_deadline_is_the_first_time_a_blocked_vcpu_wakes),
		C(test_a_halted_vcpu_sleeps_until_its_apic_timer_then_takes_it),
		C(test_an_event_from_another_cpu_ends_the_sleep),
		C(test_a_cpu_with_a_vcpu_to_run_never_sleeps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
