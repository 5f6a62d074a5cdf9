/*
 * Tests of core/dev/device.c: device state runs out with a report and is
 * handed out 16-byte aligned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/devices.h"
#include "dev/device.h"
#include "dev/mmio.h"
#include "dev/ports.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "irq/irq.h"
#include "vcpu/vcpu.h"
#include "vm/builder.h"
#include "vm/vm.h"
#include "fixture_vm.h"

static struct vm vm;

static void device_state_runs_out_with_a_report(void **state)
{
	(void)state;
	assert_null(vm_device_state(&vm, VM_DEVICE_STATE_BYTES, "huge"));
	assert_true(fake_console_contains("no device memory left for huge"));
	void *a = vm_device_state(&vm, 3, "a");
	void *b = vm_device_state(&vm, 3, "b");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(((uintptr_t)b - (uintptr_t)a), 16); /* 16-byte aligned */
}

/* A device whose timer re-arms itself every `period` ticks, and counts. */
struct ticker {
	struct device_timer *timer;
	unsigned fired;
	uint64_t last_now;
	uint64_t period; /* 0: one shot */
};

static void ticker_fire(struct vm *v, void *state, uint64_t now)
{
	struct ticker *t = state;
	t->fired++;
	t->last_now = now;
	if (t->period)
		device_timer_arm(v, t->timer, now + t->period);
}

static void device_timers_fire_once_due_and_the_earliest_deadline_is_kept(void **state)
{
	(void)state;
	struct ticker a = { .period = 0 }, b = { .period = 500 };

	a.timer = vm_add_device_timer(&vm, "a", ticker_fire, &a);
	b.timer = vm_add_device_timer(&vm, "b", ticker_fire, &b);
	assert_non_null(a.timer);
	assert_non_null(b.timer);
	assert_int_equal(vm_device_deadline(&vm.devices), 0); /* added disarmed */
	device_timer_arm(&vm, a.timer, 2000);
	device_timer_arm(&vm, b.timer, 1000);
	assert_int_equal(vm_device_deadline(&vm.devices), 1000);
	assert_false(device_timer_due(&vm.devices, 999));
	vm_device_timers_expire(&vm, 999);
	assert_int_equal(a.fired + b.fired, 0);
	vm_device_timers_expire(&vm, 1000);
	assert_int_equal(b.fired, 1);
	assert_int_equal(vm_device_deadline(&vm.devices), 1500); /* b re-armed itself */
	vm_device_timers_expire(&vm, 2100);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 2);
	assert_int_equal(a.last_now, 2100);
	assert_int_equal(vm_device_deadline(&vm.devices), 2600); /* a was a one-shot */
	device_timer_arm(&vm, b.timer, 0);
	assert_int_equal(vm_device_deadline(&vm.devices), 0);
	assert_false(vm.devices.lock.locked);
}

static void an_earlier_deadline_sends_the_vcpus_back_to_the_run_loop(void **state)
{
	(void)state;
	struct vcpu v = { .entry_deadline = 50000 };
	struct ticker t = { 0 };

	vm.vcpus[0] = &v;
	vm.vcpu_count = 1;
	t.timer = vm_add_device_timer(&vm, "t", ticker_fire, &t);
	device_timer_arm(&vm, t.timer, 9000);
	assert_int_equal(v.entry_deadline, 0);
	v.entry_deadline = 50000;
	device_timer_arm(&vm, t.timer, 9500); /* later than before: the entries' timing holds */
	assert_int_equal(v.entry_deadline, 50000);
	vm.vcpus[0] = NULL;
	vm.vcpu_count = 0;
}

/* A halted vCPU's CPU may sleep until a later time (run/schedule.c): an
 * earlier deadline kicks it; a vCPU that runs, or a later deadline, does not. */
static void an_earlier_deadline_kicks_the_cpus_of_halted_vcpus(void **state)
{
	(void)state;
	struct vcpu halted = { .state = VCPU_HALTED, .host_cpu = 1 };
	struct vcpu running = { .state = VCPU_RUNNING, .host_cpu = 2 };
	struct ticker t = { 0 };

	vm.vcpus[0] = &halted;
	vm.vcpus[1] = &running;
	vm.vcpu_count = 2;
	t.timer = vm_add_device_timer(&vm, "t", ticker_fire, &t);
	device_timer_arm(&vm, t.timer, 9000);
	assert_int_equal(fake_ipis_sent, 1);
	assert_int_equal(fake_ipi_last_cpu, 1);
	assert_int_equal(fake_ipi_last_vector, VCPU_KICK_VECTOR);
	device_timer_arm(&vm, t.timer, 9500);
	assert_int_equal(fake_ipis_sent, 1);
	halted.host_cpu = 0; /* this CPU: it looks for the deadline before it sleeps */
	device_timer_arm(&vm, t.timer, 8000);
	assert_int_equal(fake_ipis_sent, 1);
	vm.vcpus[0] = vm.vcpus[1] = NULL;
	vm.vcpu_count = 0;
}

static void device_timers_run_out_with_a_report(void **state)
{
	(void)state;
	struct ticker t = { 0 };
	while (vm.devices.timer_count < VM_MAX_DEVICE_TIMERS)
		assert_non_null(vm_add_device_timer(&vm, "t", ticker_fire, &t));
	assert_null(vm_add_device_timer(&vm, "one too many", ticker_fire, &t));
	assert_true(fake_console_contains("no room for the timer of one too many"));
}

static unsigned resets_seen;
static void count_reset(struct vm *v, void *state)
{
	(void)v;
	(void)state;
	resets_seen++;
}

static void a_vm_reset_runs_every_reset_hook_and_disarms_the_timers(void **state)
{
	(void)state;
	struct ticker t = { 0 };
	unsigned before = vm.devices.reset_count;

	resets_seen = 0;
	t.timer = vm_add_device_timer(&vm, "t", ticker_fire, &t);
	device_timer_arm(&vm, t.timer, 100);
	assert_true(vm_add_device_reset(&vm, "x", count_reset, NULL));
	assert_true(vm_add_device_reset(&vm, "y", count_reset, NULL));
	vm_reset_devices(&vm);
	assert_int_equal(vm.devices.reset_count, before + 2);
	assert_int_equal(resets_seen, 2);
	assert_int_equal(vm_device_deadline(&vm.devices), 0);
	vm_device_timers_expire(&vm, 1000);
	assert_int_equal(t.fired, 0);
}

/* Clock conversions without 128-bit division: exact for a 3 GHz TSC over
 * a day of ticks, and the round trip never comes back short. */
static void device_clock_conversions_are_exact(void **state)
{
	(void)state;
	const uint64_t tsc_hz = 3000000000ULL, pit_hz = 1193182;
	uint64_t day = 86400ULL * tsc_hz;

	assert_int_equal(device_clock_ticks(day, tsc_hz, pit_hz), 86400ULL * pit_hz);
	assert_int_equal(device_clock_ticks(tsc_hz / 2, tsc_hz, pit_hz), pit_hz / 2);
	assert_int_equal(device_clock_ticks(0, tsc_hz, pit_hz), 0);
	for (uint64_t ticks = 1; ticks < 100000; ticks += 997) {
		uint64_t tsc = device_clock_to_tsc(ticks, pit_hz, tsc_hz);
		assert_true(device_clock_ticks(tsc, tsc_hz, pit_hz) >= ticks);
		assert_true(device_clock_ticks(tsc - 1, tsc_hz, pit_hz) < ticks);
	}
}

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(device_state_runs_out_with_a_report),
		T(device_timers_fire_once_due_and_the_earliest_deadline_is_kept),
		T(an_earlier_deadline_sends_the_vcpus_back_to_the_run_loop),
		T(an_earlier_deadline_kicks_the_cpus_of_halted_vcpus),
		T(device_timers_run_out_with_a_report),
		T(a_vm_reset_runs_every_reset_hook_and_disarms_the_timers),
		T(device_clock_conversions_are_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
