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
	/* PIC master and slave, ELCR, 8254 PIT, port 0x61, debugcon,
	 * isa-debug-exit, COM1, fw_cfg, RTC/CMOS, ACPI PM, power-off, PCI CONFIG_ADDRESS and
	 * CONFIG_DATA, reset control and port 0x92, the i8042's two ports. */
	assert_int_equal(d->port_count, 18);
	/* The debug-console page, the I/O APIC and the local APIC page,
	 * sorted by address. */
	assert_int_equal(d->mmio_count, 3);
	assert_int_equal(d->mmio[0].base, MMIO_DEBUG_CONSOLE_GPA);
	assert_int_equal(d->mmio[1].base, 0xFEC00000ULL);
	assert_string_equal(d->mmio[1].name, "I/O APIC");
	assert_int_equal(d->mmio[2].base, 0xFEE00000ULL);
	assert_string_equal(d->mmio[2].name, "local APIC");
	/* The 8259A pair and the I/O APIC listen to the interrupt lines, as
	 * on a PC; only the 8259 answers an interrupt acknowledge. */
	assert_int_equal(vm.irq.chip_count, 2);
	assert_string_equal(vm.irq.chips[0].name, "8259A pair");
	assert_non_null(vm.irq.chips[0].acknowledge);
	assert_string_equal(vm.irq.chips[1].name, "I/O APIC");
	assert_null(vm.irq.chips[1].acknowledge);
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
