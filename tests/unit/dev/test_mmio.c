/*
 * Tests of core/dev/mmio.c: MMIO registration refuses overlapping ranges.
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

static void overlapping_mmio_is_refused(void **state)
{
	(void)state;
	static const struct mmio_ops none = { 0 };
	assert_false(vm_register_mmio(&vm, "clash", 0xFEE00800ULL, 0x1000, &none, NULL));
	assert_true(fake_console_contains("overlaps local APIC"));
	assert_false(vm_register_mmio(&vm, "wraps", ~0ULL - 0xFFF, 0x2000, &none, NULL));
	assert_false(vm_register_mmio(&vm, "on the I/O APIC", 0xFEC00FFCULL, 8, &none, NULL));
	assert_true(fake_console_contains("overlaps I/O APIC"));
	assert_true(vm_register_mmio(&vm, "below", 0xFED00000ULL, 0x1000, &none, NULL));
	/* Kept sorted: debug console, I/O APIC, the new page, local APIC. */
	assert_int_equal(vm.devices.mmio[1].base, 0xFEC00000ULL);
	assert_int_equal(vm.devices.mmio[2].base, 0xFED00000ULL);
	assert_int_equal(vm.devices.mmio[3].base, 0xFEE00000ULL);
}

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(overlapping_mmio_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
