/*
 * Tests of core/irq/irq.c: the interrupt lines of a VM: every chip sees each
 * line change, lines out of range are reported and ignored, and too many chips
 * are refused.
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
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ .name = "pic", .set_line = chip_set_line, .opaque = &pic }));
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ .name = "ioapic", .set_line = chip_set_line, .opaque = &ioapic }));

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
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ .name = "pic", .set_line = chip_set_line, .opaque = &log }));
	vm_set_irq(&vm, VM_IRQ_LINES, true);
	assert_int_equal(log.calls, 0);
	assert_false(vm_irq_level(&vm, VM_IRQ_LINES));
	assert_true(fake_console_contains("interrupt line 24 does not exist"));
}

static void too_many_chips_are_refused(void **state)
{
	(void)state;
	/* The machine's own controllers (the 8259A pair) are there already. */
	for (unsigned i = vm.irq.chip_count; i < VM_MAX_IRQ_CHIPS; i++)
		assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ .name = "c", .set_line = chip_set_line }));
	assert_false(vm_add_irq_chip(&vm, &(struct irq_chip){ .name = "extra", .set_line = chip_set_line }));
	assert_true(fake_console_contains("no room for interrupt controller extra"));
}

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(every_chip_sees_each_line_change),
		T(a_line_out_of_range_is_reported_and_ignored),
		T(too_many_chips_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
