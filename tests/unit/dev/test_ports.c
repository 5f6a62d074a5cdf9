/*
 * Tests of core/dev/ports.c: port dispatch of a VM built on the fake platform:
 * the machine's devices (COM1, debugcon) through io_port_read/io_port_write,
 * unmapped ports reading all ones, the sorted port table, and registering
 * ports: a probe device reached with its state, overlaps and a full table
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "dev/ports.h"
#include "abi/devices.h"
#include "dev/uart16550.h"
#include "mm/guest_memory.h"
#include "vm/console.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "lib/format.h"
#include "mm/ept.h"
#include "vm/builder.h"
#include "vm/vm.h"
#include "vmx/segment.h"
#include "dev/device.h"
#include "dev/mmio.h"
#include "irq/irq.h"
#include "vcpu/vcpu.h"
#include "fixture_vm.h"

#define MiB (1ULL << 20)
#define RAM (2 * MiB)

static struct vm vm;

/* ---- Port dispatch ---- */

static void test_ports_reach_com1_registers(void **state)
{
	(void)state;
	io_port_write(&vm, 0x3F8, 1, 'h');
	io_port_write(&vm, 0x3F8, 1, '\n');
	assert_string_equal(fake_console_text(), "[con] h\n");
	assert_int_equal(io_port_read(&vm, 0x3FD, 1), 0x60);
	io_port_write(&vm, 0x3FF, 1, 0x42);
	assert_int_equal(io_port_read(&vm, 0x3FF, 1), 0x42);
	/* A word read covers two registers: MCR (0x3FC) and LSR (0x3FD). */
	io_port_write(&vm, 0x3FC, 1, 0x03);
	assert_int_equal(io_port_read(&vm, 0x3FC, 2), 0x6003);
}

static void test_ports_without_a_device_read_all_ones(void **state)
{
	(void)state;
	assert_int_equal(io_port_read(&vm, 0x1234, 1), 0xFF);
	assert_int_equal(io_port_read(&vm, 0x1234, 2), 0xFFFF);
	assert_int_equal(io_port_read(&vm, 0x1234, 4), 0xFFFFFFFFu);
	io_port_write(&vm, 0x1234, 4, 0xDEADBEEF);
	assert_false(vm.ended);
	assert_string_equal(fake_console_text(), "");
}

static void test_ports_debugcon_prints_each_byte(void **state)
{
	(void)state;
	io_port_write(&vm, 0xE9, 1, 'a');
	io_port_write(&vm, 0xE9, 2, 'b' | '\n' << 8);
	assert_string_equal(fake_console_text(), "[con] ab\n");
}

/* The lookup (which stops early) needs its table sorted; every device is still reached
 * at both ends of its range, and the ports between devices at none. */
static void test_ports_table_is_sorted_and_each_device_found(void **state)
{
	(void)state;
	assert_true(io_port_table_is_sorted(&vm));
	io_port_write(&vm, 0x21, 1, 0xFF); /* PIC master mask (last port of the first device) */
	assert_int_equal(io_port_read(&vm, 0x21, 1), 0xFF);
	io_port_write(&vm, 0xA1, 1, 0x5A); /* PIC slave mask */
	assert_int_equal(io_port_read(&vm, 0xA1, 1), 0x5A);
	assert_int_equal(io_port_read(&vm, 0x22, 1), 0xFF);  /* just past the master */
	assert_int_equal(io_port_read(&vm, 0x80, 1), 0xFF);  /* POST port: no device */
	assert_int_equal(io_port_read(&vm, 0x3F7, 1), 0xFF); /* just below COM1 */
	assert_int_equal(io_port_read(&vm, 0xFFFF, 1), 0xFF); /* past the last device */
	for (const char *c = "Shutdown"; *c; c++)
		io_port_write(&vm, 0x8900, 1, (uint8_t)*c); /* the last device */
	assert_true(vm.ended);
}

/* A device sees only the bytes of the access: OUT AL with junk in the rest
 * of EAX writes 0 to the debug-exit port, which is success (status 1). */
static void test_port_write_passes_only_the_access_size(void **state)
{
	(void)state;
	io_port_write(&vm, 0xF4, 1, 0xDEADBE00u);
	assert_true(vm.ended);
	assert_true(vm.success);
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
	unsigned added = 0, machine = vm.devices.port_count; /* the machine's own ranges */
	for (uint16_t port = 0x1000; port < 0x1100; port += 4)
		added += vm_register_ports(&vm, "many", port, port + 3, &probe_ops, NULL);
	assert_int_equal(vm.devices.port_count, VM_MAX_PORT_RANGES);
	assert_int_equal(added, VM_MAX_PORT_RANGES - machine);
	assert_true(fake_console_contains("the port table is full"));
}

#define V(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_con, fixture_teardown_vm, &vm)
#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		V(test_ports_reach_com1_registers),
		V(test_ports_without_a_device_read_all_ones),
		V(test_ports_debugcon_prints_each_byte),
		V(test_ports_table_is_sorted_and_each_device_found),
		V(test_port_write_passes_only_the_access_size),
		T(a_registered_range_is_reached_and_its_state_passed),
		T(overlapping_ports_are_refused),
		T(a_full_port_table_refuses_more),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
