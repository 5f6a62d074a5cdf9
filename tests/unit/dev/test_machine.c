/*
 * Tests of core/dev/machine.c: the devices every VM gets, their ports and MMIO
 * pages.
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

static void the_machine_registers_every_device(void **state)
{
	(void)state;
	const struct vm_devices *d = &vm.devices;
	assert_true(io_port_table_is_sorted(&vm));
	/* PIC master and slave, debugcon, isa-debug-exit, COM1, fw_cfg, power-off,
	 * PCI CONFIG_ADDRESS and CONFIG_DATA, reset control and port 0x92, the
	 * i8042's data and status ports. */
	assert_int_equal(d->port_count, 13);
	/* The debug-console page and the local APIC page, sorted by address. */
	assert_int_equal(d->mmio_count, 2);
	assert_int_equal(d->mmio[0].base, MMIO_DEBUG_CONSOLE_GPA);
	assert_int_equal(d->mmio[1].base, 0xFEE00000ULL);
	assert_string_equal(d->mmio[1].name, "local APIC");
}

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(the_machine_registers_every_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
