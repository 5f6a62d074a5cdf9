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

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(device_state_runs_out_with_a_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
