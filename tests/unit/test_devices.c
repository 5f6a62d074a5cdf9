/*
 * How devices join a VM (core/dev/device.h): port and MMIO registration
 * (core/dev/ports.c, core/dev/mmio.c), device state (core/dev/device.c),
 * the machine every VM gets (core/dev/machine.c), and the interrupt lines
 * that interrupt controllers listen to (core/irq/irq.c).
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

static struct vm vm;

static int setup_built_vm(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	const struct vm_config config = { .id = 0, .name = "dev", .ram_size = 2ULL << 20, .vcpu_count = 1 };
	const char *err = vm_build(&vm, &config);
	if (err)
		fail_msg("vm_build: %s", err);
	fake_console_clear();
	return 0;
}

static int teardown_vm(void **state)
{
	(void)state;
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

/* A device that remembers what it saw. */
struct probe {
	uint16_t last_port;
	unsigned last_size;
	uint32_t last_value;
	unsigned writes;
};

static uint32_t probe_read(struct vm *v, void *state, uint16_t port, unsigned size)
{
	(void)v;
	(void)size;
	struct probe *p = state;
	p->last_port = port;
	return 0xA5A5A500u | (port & 0xFF);
}

static void probe_write(struct vm *v, void *state, uint16_t port, unsigned size, uint32_t value)
{
	(void)v;
	struct probe *p = state;
	p->last_port = port;
	p->last_size = size;
	p->last_value = value;
	p->writes++;
}

static const struct port_ops probe_ops = { .read = probe_read, .write = probe_write };

static void the_machine_registers_every_device(void **state)
{
	(void)state;
	const struct vm_devices *d = &vm.devices;
	assert_true(io_port_table_is_sorted(&vm));
	/* PIC master and slave, debugcon, isa-debug-exit, COM1, fw_cfg, power-off. */
	assert_int_equal(d->port_count, 7);
	/* The debug-console page and the local APIC page, sorted by address. */
	assert_int_equal(d->mmio_count, 2);
	assert_int_equal(d->mmio[0].base, MMIO_DEBUG_CONSOLE_GPA);
	assert_int_equal(d->mmio[1].base, 0xFEE00000ULL);
	assert_string_equal(d->mmio[1].name, "local APIC");
}

static void a_registered_range_is_reached_and_its_state_passed(void **state)
{
	(void)state;
	struct probe *p = vm_device_state(&vm, sizeof(*p), "probe");
	assert_non_null(p);
	assert_int_equal(p->writes, 0); /* zeroed */
	assert_true(vm_register_ports(&vm, "probe", 0x300, 0x303, &probe_ops, p));
	assert_true(io_port_table_is_sorted(&vm));
	io_port_write(&vm, 0x302, 2, 0x12345678);
	assert_int_equal(p->last_port, 0x302);
	assert_int_equal(p->last_size, 2);
	assert_int_equal(p->last_value, 0x5678); /* only the access's bytes */
	assert_int_equal(io_port_read(&vm, 0x303, 1), 0x03);
	assert_int_equal(io_port_read(&vm, 0x304, 1), 0xFF); /* no device: all ones */
}

static void overlapping_ports_are_refused(void **state)
{
	(void)state;
	/* COM1 is 0x3F8-0x3FF. */
	assert_false(vm_register_ports(&vm, "clash", 0x3FC, 0x400, &probe_ops, NULL));
	assert_true(fake_console_contains("overlap COM1"));
	assert_false(vm_register_ports(&vm, "empty", 0x10, 0x0F, &probe_ops, NULL));
	assert_true(io_port_table_is_sorted(&vm));
}

static void a_full_port_table_refuses_more(void **state)
{
	(void)state;
	unsigned added = 0;
	for (uint16_t port = 0x1000; port < 0x1100; port += 4)
		added += vm_register_ports(&vm, "many", port, port + 3, &probe_ops, NULL);
	assert_int_equal(vm.devices.port_count, VM_MAX_PORT_RANGES);
	assert_int_equal(added, VM_MAX_PORT_RANGES - 7);
	assert_true(fake_console_contains("the port table is full"));
}

static void overlapping_mmio_is_refused(void **state)
{
	(void)state;
	static const struct mmio_ops none = { 0 };
	assert_false(vm_register_mmio(&vm, "clash", 0xFEE00800ULL, 0x1000, &none, NULL));
	assert_true(fake_console_contains("overlaps local APIC"));
	assert_false(vm_register_mmio(&vm, "wraps", ~0ULL - 0xFFF, 0x2000, &none, NULL));
	assert_true(vm_register_mmio(&vm, "below", 0xFEC00000ULL, 0x1000, &none, NULL));
	/* Kept sorted: debug console, the new page, local APIC. */
	assert_int_equal(vm.devices.mmio[1].base, 0xFEC00000ULL);
	assert_int_equal(vm.devices.mmio[2].base, 0xFEE00000ULL);
}

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

/* An interrupt controller that records the line changes it sees. */
struct chip_log {
	unsigned calls;
	unsigned line;
	bool level;
};

static void chip_set_line(struct vm *v, void *opaque, unsigned line, bool level)
{
	(void)v;
	struct chip_log *log = opaque;
	log->calls++;
	log->line = line;
	log->level = level;
}

static void every_chip_sees_each_line_change(void **state)
{
	(void)state;
	static struct chip_log pic, ioapic;
	memset(&pic, 0, sizeof(pic));
	memset(&ioapic, 0, sizeof(ioapic));
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ "pic", chip_set_line, &pic }));
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ "ioapic", chip_set_line, &ioapic }));

	vm_set_irq(&vm, 4, true);
	assert_true(vm_irq_level(&vm, 4));
	assert_int_equal(pic.calls, 1);
	assert_int_equal(ioapic.line, 4);
	assert_true(ioapic.level);

	vm_pulse_irq(&vm, 8);
	assert_int_equal(pic.calls, 3); /* high, then low */
	assert_int_equal(pic.line, 8);
	assert_false(pic.level);
	assert_false(vm_irq_level(&vm, 8));
	assert_true(vm_irq_level(&vm, 4)); /* other lines keep their level */
}

static void a_line_out_of_range_is_reported_and_ignored(void **state)
{
	(void)state;
	static struct chip_log log;
	memset(&log, 0, sizeof(log));
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ "pic", chip_set_line, &log }));
	vm_set_irq(&vm, VM_IRQ_LINES, true);
	assert_int_equal(log.calls, 0);
	assert_false(vm_irq_level(&vm, VM_IRQ_LINES));
	assert_true(fake_console_contains("interrupt line 24 does not exist"));
}

static void too_many_chips_are_refused(void **state)
{
	(void)state;
	for (unsigned i = 0; i < VM_MAX_IRQ_CHIPS; i++)
		assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ "c", chip_set_line, NULL }));
	assert_false(vm_add_irq_chip(&vm, &(struct irq_chip){ "extra", chip_set_line, NULL }));
	assert_true(fake_console_contains("no room for interrupt controller extra"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_built_vm, teardown_vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(the_machine_registers_every_device),
		T(a_registered_range_is_reached_and_its_state_passed),
		T(overlapping_ports_are_refused),
		T(a_full_port_table_refuses_more),
		T(overlapping_mmio_is_refused),
		T(device_state_runs_out_with_a_report),
		T(every_chip_sees_each_line_change),
		T(a_line_out_of_range_is_reported_and_ignored),
		T(too_many_chips_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
