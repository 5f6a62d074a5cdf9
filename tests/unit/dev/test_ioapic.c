/*
 * Tests of core/dev/ioapic.c: the I/O APIC of a VM with four vCPUs (APIC
 * IDs 0-3) on the fake CPU, reached as a guest reaches it: through its
 * MMIO page (IOREGSEL, IOWIN, EOI) and the interrupt route (vm_set_irq),
 * with level EOIs coming back from a local APIC's page.  The register
 * model (each register, reserved and read-only bits, odd sizes and
 * offsets, reset) and delivery (each delivery mode, physical and logical
 * destinations, masks, edge and level, remote IRR, EOI and re-delivery,
 * ISA IRQ 0 on pin 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev/device.h"
#include "dev/ioapic.h"
#include "dev/mmio.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "irq/irq.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define VCPUS 4

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpus[VCPUS];

static int setup(void **state)
{
	(void)state;
	fixture_reset_machine();
	fixture_vmx_on_and_vm(&cpu, &vm, 0, "ioapic", VCPUS);
	for (unsigned i = VCPUS; i-- > 0;) /* vCPU 0 last: its VMCS is current */
		fixture_vcpu_create(&vcpus[i], &vm, &cpu, i);
	for (unsigned i = 0; i < VCPUS; i++)
		LAPIC_REG(&vcpus[i].lapic, APIC_SVR) = 0x1FF; /* software-enabled, as a guest leaves it */
	fake_console_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct vcpu *all[VCPUS];
	for (unsigned i = 0; i < VCPUS; i++)
		all[i] = &vcpus[i];
	fixture_teardown(&cpu, &vm, all, VCPUS);
	return 0;
}

/* ---- the guest's view ---- */

static const struct mmio_region *region_at(struct vcpu *v, uint64_t gpa, unsigned size)
{
	const struct mmio_region *region = mmio_find(v, gpa, size);
	assert_non_null(region);
	return region;
}

static uint64_t page_read(uint64_t offset, unsigned size)
{
	uint64_t gpa = IOAPIC_BASE + offset;
	return mmio_read(&vcpus[0], region_at(&vcpus[0], gpa, size), gpa, size);
}

static void page_write(uint64_t offset, unsigned size, uint64_t value)
{
	uint64_t gpa = IOAPIC_BASE + offset;
	mmio_write(&vcpus[0], region_at(&vcpus[0], gpa, size), gpa, size, value);
}

static uint32_t reg_read(uint8_t index)
{
	page_write(IOAPIC_IOREGSEL, 4, index);
	return (uint32_t)page_read(IOAPIC_IOWIN, 4);
}

static void reg_write(uint8_t index, uint32_t value)
{
	page_write(IOAPIC_IOREGSEL, 4, index);
	page_write(IOAPIC_IOWIN, 4, value);
}

/* As Linux writes an entry: the high dword (destination) first. */
static void entry_write(unsigned pin, uint64_t entry)
{
	reg_write((uint8_t)(0x11 + 2 * pin), (uint32_t)(entry >> 32));
	reg_write((uint8_t)(0x10 + 2 * pin), (uint32_t)entry);
}

static uint64_t entry_read(unsigned pin)
{
	uint64_t low = reg_read((uint8_t)(0x10 + 2 * pin));
	return (uint64_t)reg_read((uint8_t)(0x11 + 2 * pin)) << 32 | low;
}

static uint64_t fixed_entry(uint8_t vector, uint8_t destination)
{
	return vector | (uint64_t)destination << IOAPIC_RTE_DEST_SHIFT;
}

static uint64_t mode_entry(unsigned mode, uint8_t vector, uint8_t destination)
{
	return fixed_entry(vector, destination) | (uint64_t)mode << IOAPIC_RTE_DELIVERY_SHIFT;
}

/* ---- what a local APIC got ---- */

static bool irr(unsigned v, uint8_t vector)
{
	return LAPIC_VECTOR_WORD(&vcpus[v].lapic, APIC_IRR0, vector / 32) >> (vector % 32) & 1;
}

static bool tmr(unsigned v, uint8_t vector)
{
	return LAPIC_VECTOR_WORD(&vcpus[v].lapic, APIC_TMR0, vector / 32) >> (vector % 32) & 1;
}

/* The vCPUs whose IRR holds vector, as a bit mask of APIC IDs. */
static unsigned irr_holders(uint8_t vector)
{
	unsigned mask = 0;
	for (unsigned i = 0; i < VCPUS; i++)
		mask |= (unsigned)irr(i, vector) << i;
	return mask;
}

/* Forgets every pending vector (the test looks for new deliveries). */
static void clear_irrs(void)
{
	for (unsigned i = 0; i < VCPUS; i++) {
		for (unsigned w = 0; w < 8; w++)
			LAPIC_VECTOR_WORD(&vcpus[i].lapic, APIC_IRR0, w) = 0;
		vcpus[i].lapic.irr_words = 0;
	}
}

/* vCPU v takes vector (IRR to ISR) and writes its local APIC's EOI
 * register, as a guest's handler ends. */
static void take_and_eoi(unsigned v, uint8_t vector)
{
	lapic_accept(&vcpus[v].lapic, vector);
	uint64_t gpa = LAPIC_DEFAULT_BASE + APIC_EOI;
	mmio_write(&vcpus[v], region_at(&vcpus[v], gpa, 4), gpa, 4, 0);
}

/* ---- registers ---- */

static void version_register_reads_0x20_with_23_as_highest_entry(void **state)
{
	(void)state;
	assert_int_equal(reg_read(IOAPIC_REG_VERSION), 0x00170020);
	reg_write(IOAPIC_REG_VERSION, 0x12345678);
	assert_int_equal(reg_read(IOAPIC_REG_VERSION), 0x00170020); /* read-only */
}

static void id_register_keeps_bits_27_24_and_loads_the_arbitration_id(void **state)
{
	(void)state;
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
	assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0);
	reg_write(IOAPIC_REG_ID, 0xFFFFFFFF);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0x0F000000); /* reserved bits read 0 */
	assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0x0F000000);
	reg_write(IOAPIC_REG_ID, 0x05000000);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0x05000000);
	assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0x05000000);
}

static void arbitration_register_is_read_only(void **state)
{
	(void)state;
	reg_write(IOAPIC_REG_ID, 0x03000000);
	reg_write(IOAPIC_REG_ARBITRATION, 0x0A000000);
	assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0x03000000);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0x03000000);
}

static void every_entry_is_masked_after_reset(void **state)
{
	(void)state;
	assert_int_equal(page_read(IOAPIC_IOREGSEL, 4), 0);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(entry_read(pin), IOAPIC_RTE_MASKED);
}

static void redirection_entries_keep_their_writable_bits(void **state)
{
	(void)state;
	/* All ones: reserved 55:17 stay 0, read-only 12 and 14 stay 0. */
	reg_write(0x10 + 2 * 5, 0xFFFFFFFF);
	reg_write(0x11 + 2 * 5, 0xFFFFFFFF);
	assert_int_equal(reg_read(0x10 + 2 * 5), 0x0001AFFF);
	assert_int_equal(reg_read(0x11 + 2 * 5), 0xFF000000);
	/* Each entry is its own: distinct values in all 24 read back. */
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		entry_write(pin, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | IOAPIC_RTE_ACTIVE_LOW |
					 IOAPIC_RTE_LOGICAL | (uint64_t)(pin % 8) << 8 | (0x20 + pin) |
					 (uint64_t)(0x80 + pin) << 56);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(entry_read(pin),
				 IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | IOAPIC_RTE_ACTIVE_LOW |
					 IOAPIC_RTE_LOGICAL | (uint64_t)(pin % 8) << 8 | (0x20 + pin) |
					 (uint64_t)(0x80 + pin) << 56);
	/* The high dword's write leaves the low one alone, and the other way. */
	reg_write(0x11, 0x12000000);
	assert_int_equal(entry_read(0), (uint64_t)0x12 << 56 | (IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL |
						IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_LOGICAL | 0x20));
	reg_write(0x10, IOAPIC_RTE_MASKED | 0x33);
	assert_int_equal(entry_read(0), (uint64_t)0x12 << 56 | IOAPIC_RTE_MASKED | 0x33);
}

static void delivery_status_and_remote_irr_ignore_writes(void **state)
{
	(void)state;
	reg_write(0x10 + 2 * 9, (uint32_t)(IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL |
					   IOAPIC_RTE_DELIVERY_STATUS | IOAPIC_RTE_REMOTE_IRR | 0x40));
	assert_int_equal(reg_read(0x10 + 2 * 9), IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x40);
	/* A remote IRR the I/O APIC set is not cleared by writing 0 there. */
	entry_write(9, IOAPIC_RTE_LEVEL | fixed_entry(0x40, 0));
	vm_set_irq(&vm, 9, true);
	assert_true(entry_read(9) & IOAPIC_RTE_REMOTE_IRR);
	reg_write(0x10 + 2 * 9, (uint32_t)(IOAPIC_RTE_LEVEL | 0x40));
	assert_true(entry_read(9) & IOAPIC_RTE_REMOTE_IRR);
	assert_false(entry_read(9) & IOAPIC_RTE_DELIVERY_STATUS); /* delivery is never held up */
}

static void registers_that_do_not_exist_read_all_ones(void **state)
{
	(void)state;
	const uint8_t missing[] = { 0x03, 0x0F, 0x40, 0x41, 0x80, 0xFF };
	for (unsigned i = 0; i < sizeof(missing); i++) {
		reg_write(missing[i], 0);
		assert_int_equal(reg_read(missing[i]), 0xFFFFFFFF);
	}
	/* Nothing else changed. */
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(entry_read(pin), IOAPIC_RTE_MASKED);
}

static void ioregsel_holds_one_byte_and_takes_any_size(void **state)
{
	(void)state;
	page_write(IOAPIC_IOREGSEL, 4, 0xFFFFFF01);
	assert_int_equal(page_read(IOAPIC_IOREGSEL, 4), 0x01); /* bits 31:8 read 0 */
	assert_int_equal(page_read(IOAPIC_IOWIN, 4), 0x00170020);
	page_write(IOAPIC_IOREGSEL, 1, 0x02); /* the 82093AA's byte write */
	assert_int_equal(page_read(IOAPIC_IOREGSEL, 1), 0x02);
	page_write(IOAPIC_IOREGSEL, 2, 0x1234);
	assert_int_equal(page_read(IOAPIC_IOREGSEL, 2), 0x34);
	page_write(IOAPIC_IOREGSEL, 8, 0xFFFFFFFF00000010ull);
	assert_int_equal(page_read(IOAPIC_IOREGSEL, 8), 0x10);
	/* The register's other bytes are reserved: they read 0. */
	for (unsigned offset = 1; offset < 4; offset++)
		assert_int_equal(page_read(offset, 1), 0);
}

static void iowin_takes_only_dword_accesses(void **state)
{
	(void)state;
	page_write(IOAPIC_IOREGSEL, 4, IOAPIC_REG_VERSION);
	assert_int_equal(page_read(IOAPIC_IOWIN, 1), 0);
	assert_int_equal(page_read(IOAPIC_IOWIN, 2), 0);
	assert_int_equal(page_read(IOAPIC_IOWIN, 8), 0);
	assert_int_equal(page_read(IOAPIC_IOWIN + 1, 4), 0); /* unaligned */
	assert_int_equal(page_read(IOAPIC_IOWIN - 2, 4), 0); /* straddling */
	page_write(IOAPIC_IOREGSEL, 4, IOAPIC_REG_ID);
	page_write(IOAPIC_IOWIN, 1, 0xFF);
	page_write(IOAPIC_IOWIN, 2, 0xFFFF);
	page_write(IOAPIC_IOWIN, 8, 0xFFFFFFFFFFFFFFFFull);
	page_write(IOAPIC_IOWIN + 3, 1, 0x0F);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
}

static void other_offsets_read_zero_and_drop_writes(void **state)
{
	(void)state;
	const uint64_t offsets[] = { 0x04, 0x08, 0x14, 0x20, 0x30, 0x44, 0x100, 0xFF0, 0xFFC };
	for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		page_write(offsets[i], 4, 0xFFFFFFFF);
		assert_int_equal(page_read(offsets[i], 4), 0);
	}
	assert_int_equal(page_read(0xFFF, 1), 0);
	assert_int_equal(page_read(IOAPIC_EOI, 4), 0); /* write-only */
	assert_int_equal(page_read(IOAPIC_IOREGSEL, 4), 0);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(entry_read(pin), IOAPIC_RTE_MASKED);
	/* The page ends at 4 KiB: the next byte is not the I/O APIC's. */
	assert_null(mmio_find(&vcpus[0], IOAPIC_BASE + IOAPIC_PAGE_SIZE, 1));
}

static void reset_masks_every_entry_and_clears_the_id(void **state)
{
	(void)state;
	reg_write(IOAPIC_REG_ID, 0x07000000);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		entry_write(pin, IOAPIC_RTE_LEVEL | fixed_entry((uint8_t)(0x30 + pin), 1));
	vm_set_irq(&vm, 11, true); /* sets entry 11's remote IRR */
	page_write(IOAPIC_IOREGSEL, 4, 0x15);
	spin_lock(&vm.devices.lock);
	vm_reset_devices(&vm);
	spin_unlock(&vm.devices.lock);
	assert_int_equal(page_read(IOAPIC_IOREGSEL, 4), 0);
	assert_int_equal(reg_read(IOAPIC_REG_ID), 0);
	assert_int_equal(reg_read(IOAPIC_REG_ARBITRATION), 0);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		assert_int_equal(entry_read(pin), IOAPIC_RTE_MASKED);
	/* The line is still asserted: unmasking its pin delivers. */
	clear_irrs();
	entry_write(11, IOAPIC_RTE_LEVEL | fixed_entry(0x3B, 1));
	assert_int_equal(irr_holders(0x3B), 1u << 1);
}

/* ---- delivery ---- */

static void an_edge_pin_sends_once_per_rising_edge(void **state)
{
	(void)state;
	entry_write(4, fixed_entry(0x41, 1));
	vm_set_irq(&vm, 4, true);
	assert_int_equal(irr_holders(0x41), 1u << 1);
	assert_false(tmr(1, 0x41)); /* edge-triggered */
	assert_false(entry_read(4) & IOAPIC_RTE_REMOTE_IRR);
	clear_irrs();
	vm_set_irq(&vm, 4, true); /* still high: no edge */
	assert_int_equal(irr_holders(0x41), 0);
	vm_set_irq(&vm, 4, false);
	assert_int_equal(irr_holders(0x41), 0);
	vm_pulse_irq(&vm, 4);
	assert_int_equal(irr_holders(0x41), 1u << 1);
}

static void a_masked_edge_is_ignored_not_held(void **state)
{
	(void)state;
	entry_write(6, IOAPIC_RTE_MASKED | fixed_entry(0x46, 0));
	vm_pulse_irq(&vm, 6);
	vm_set_irq(&vm, 6, true);
	entry_write(6, fixed_entry(0x46, 0)); /* unmasked while high */
	assert_int_equal(irr_holders(0x46), 0);
	vm_set_irq(&vm, 6, false);
	vm_set_irq(&vm, 6, true);
	assert_int_equal(irr_holders(0x46), 1u << 0);
}

static void isa_irq_0_reaches_pin_2(void **state)
{
	(void)state;
	assert_int_equal(ioapic_pin_of_line(0), 2);
	entry_write(0, fixed_entry(0x30, 0));
	entry_write(2, fixed_entry(0x32, 0));
	vm_pulse_irq(&vm, 0);
	assert_int_equal(irr_holders(0x32), 1u << 0);
	assert_int_equal(irr_holders(0x30), 0); /* pin 0 has no source */
}

static void line_n_reaches_pin_n(void **state)
{
	(void)state;
	for (unsigned pin = 1; pin < IOAPIC_PINS; pin++) {
		assert_int_equal(ioapic_pin_of_line(pin), pin);
		entry_write(pin, fixed_entry((uint8_t)(0x50 + pin), (uint8_t)(pin % VCPUS)));
	}
	for (unsigned line = 1; line < IOAPIC_PINS; line++) {
		clear_irrs();
		vm_pulse_irq(&vm, line);
		for (unsigned pin = 1; pin < IOAPIC_PINS; pin++)
			assert_int_equal(irr_holders((uint8_t)(0x50 + pin)),
					 pin == line ? 1u << (pin % VCPUS) : 0);
	}
}

static void a_level_pin_sends_once_until_the_eoi(void **state)
{
	(void)state;
	entry_write(10, IOAPIC_RTE_LEVEL | fixed_entry(0x51, 2));
	vm_set_irq(&vm, 10, true);
	assert_int_equal(irr_holders(0x51), 1u << 2);
	assert_true(tmr(2, 0x51)); /* level-triggered: the local APIC reports its EOI */
	assert_true(entry_read(10) & IOAPIC_RTE_REMOTE_IRR);
	/* Asserted again (or still): nothing new while remote IRR is set. */
	clear_irrs();
	vm_set_irq(&vm, 10, true);
	assert_int_equal(irr_holders(0x51), 0);
}

static void the_eoi_of_a_level_vector_redelivers_an_asserted_pin(void **state)
{
	(void)state;
	entry_write(10, IOAPIC_RTE_LEVEL | fixed_entry(0x51, 2));
	vm_set_irq(&vm, 10, true);
	take_and_eoi(2, 0x51); /* through vCPU 2's local APIC page */
	/* Remote IRR cleared, the line is still high: sent again. */
	assert_int_equal(irr_holders(0x51), 1u << 2);
	assert_true(entry_read(10) & IOAPIC_RTE_REMOTE_IRR);
	/* The device lets go; the next EOI clears remote IRR for good. */
	vm_set_irq(&vm, 10, false);
	take_and_eoi(2, 0x51);
	assert_int_equal(irr_holders(0x51), 0);
	assert_false(entry_read(10) & IOAPIC_RTE_REMOTE_IRR);
	/* And the line's next assertion is sent. */
	vm_set_irq(&vm, 10, true);
	assert_int_equal(irr_holders(0x51), 1u << 2);
}

static void an_eoi_of_another_vector_leaves_remote_irr(void **state)
{
	(void)state;
	entry_write(10, IOAPIC_RTE_LEVEL | fixed_entry(0x51, 2));
	entry_write(12, IOAPIC_RTE_LEVEL | fixed_entry(0x52, 2));
	vm_set_irq(&vm, 10, true);
	vm_set_irq(&vm, 12, true);
	vm_set_irq(&vm, 12, false);
	clear_irrs();
	LAPIC_VECTOR_WORD(&vcpus[2].lapic, APIC_TMR0, 0x52 / 32) |= 1u << (0x52 % 32);
	take_and_eoi(2, 0x52);
	assert_false(entry_read(12) & IOAPIC_RTE_REMOTE_IRR);
	assert_true(entry_read(10) & IOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(irr_holders(0x51), 0);
	/* The EOI of an edge vector (TMR clear) never reaches the I/O APIC. */
	LAPIC_VECTOR_WORD(&vcpus[2].lapic, APIC_TMR0, 0x51 / 32) &= ~(1u << (0x51 % 32));
	take_and_eoi(2, 0x51);
	assert_true(entry_read(10) & IOAPIC_RTE_REMOTE_IRR);
}

static void the_eoi_register_clears_every_entry_with_the_vector(void **state)
{
	(void)state;
	entry_write(13, IOAPIC_RTE_LEVEL | fixed_entry(0x60, 1));
	entry_write(14, IOAPIC_RTE_LEVEL | fixed_entry(0x60, 3));
	entry_write(15, IOAPIC_RTE_LEVEL | fixed_entry(0x61, 3));
	vm_set_irq(&vm, 13, true);
	vm_set_irq(&vm, 14, true);
	vm_set_irq(&vm, 15, true);
	assert_int_equal(irr_holders(0x60), 1u << 1 | 1u << 3);
	vm_set_irq(&vm, 13, false);
	clear_irrs();
	page_write(IOAPIC_EOI, 4, 0xABCDEF60); /* bits 31:8 are ignored */
	assert_false(entry_read(13) & IOAPIC_RTE_REMOTE_IRR);
	/* Pin 14 is still asserted: cleared and sent again. */
	assert_true(entry_read(14) & IOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(irr_holders(0x60), 1u << 3);
	assert_true(entry_read(15) & IOAPIC_RTE_REMOTE_IRR); /* another vector */
	vm_set_irq(&vm, 14, false);
	page_write(IOAPIC_EOI, 1, 0x60); /* a byte write names the vector too */
	assert_false(entry_read(14) & IOAPIC_RTE_REMOTE_IRR);
}

static void unmasking_an_asserted_level_pin_delivers(void **state)
{
	(void)state;
	entry_write(7, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | fixed_entry(0x47, 3));
	vm_set_irq(&vm, 7, true);
	assert_int_equal(irr_holders(0x47), 0); /* masked: nothing, no remote IRR */
	assert_false(entry_read(7) & IOAPIC_RTE_REMOTE_IRR);
	entry_write(7, IOAPIC_RTE_LEVEL | fixed_entry(0x47, 3));
	assert_int_equal(irr_holders(0x47), 1u << 3);
	assert_true(entry_read(7) & IOAPIC_RTE_REMOTE_IRR);
	/* Writing the entry again (remote IRR set) sends nothing more. */
	clear_irrs();
	entry_write(7, IOAPIC_RTE_LEVEL | fixed_entry(0x47, 3));
	assert_int_equal(irr_holders(0x47), 0);
	/* A pin masked after delivery keeps remote IRR until the EOI. */
	entry_write(7, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | fixed_entry(0x47, 3));
	assert_true(entry_read(7) & IOAPIC_RTE_REMOTE_IRR);
	page_write(IOAPIC_EOI, 4, 0x47);
	assert_false(entry_read(7) & IOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(irr_holders(0x47), 0); /* masked: not sent again */
}

static void a_masked_deasserted_level_pin_sends_nothing_when_unmasked(void **state)
{
	(void)state;
	entry_write(8, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | fixed_entry(0x48, 0));
	vm_pulse_irq(&vm, 8); /* asserted and released while masked */
	entry_write(8, IOAPIC_RTE_LEVEL | fixed_entry(0x48, 0));
	assert_int_equal(irr_holders(0x48), 0);
	assert_false(entry_read(8) & IOAPIC_RTE_REMOTE_IRR);
}

static void switching_a_pin_to_edge_clears_remote_irr(void **state)
{
	(void)state;
	entry_write(5, IOAPIC_RTE_LEVEL | fixed_entry(0x45, 0));
	vm_set_irq(&vm, 5, true);
	assert_true(entry_read(5) & IOAPIC_RTE_REMOTE_IRR);
	clear_irrs();
	entry_write(5, IOAPIC_RTE_MASKED | fixed_entry(0x45, 0)); /* Linux's edge trick */
	assert_false(entry_read(5) & IOAPIC_RTE_REMOTE_IRR);
	entry_write(5, IOAPIC_RTE_LEVEL | fixed_entry(0x45, 0));
	/* Level again, the line still high: sent again. */
	assert_int_equal(irr_holders(0x45), 1u << 0);
	assert_true(entry_read(5) & IOAPIC_RTE_REMOTE_IRR);
}

static void polarity_is_kept_but_does_not_invert_the_line(void **state)
{
	(void)state;
	entry_write(3, IOAPIC_RTE_ACTIVE_LOW | fixed_entry(0x43, 1));
	assert_int_equal(irr_holders(0x43), 0); /* an idle line sends nothing */
	vm_pulse_irq(&vm, 3);
	assert_int_equal(irr_holders(0x43), 1u << 1);
	entry_write(9, IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_LEVEL | fixed_entry(0x49, 1));
	assert_int_equal(irr_holders(0x49), 0);
	vm_set_irq(&vm, 9, true);
	assert_int_equal(irr_holders(0x49), 1u << 1);
	assert_true(entry_read(9) & IOAPIC_RTE_ACTIVE_LOW);
}

static void lowest_priority_reaches_one_named_vcpu(void **state)
{
	(void)state;
	/* Logical flat: vCPU i has LDR bit i. */
	for (unsigned i = 0; i < VCPUS; i++) {
		LAPIC_REG(&vcpus[i].lapic, APIC_DFR) = 0xFFFFFFFF;
		LAPIC_REG(&vcpus[i].lapic, APIC_LDR) = (1u << i) << 24;
	}
	entry_write(16, IOAPIC_RTE_LOGICAL | mode_entry(APIC_DM_LOWEST, 0x70, 0x0C));
	vm_pulse_irq(&vm, 16);
	unsigned got = irr_holders(0x70);
	assert_true(got == 1u << 2 || got == 1u << 3);
	assert_false(tmr(2, 0x70) || tmr(3, 0x70));
	/* Level-triggered lowest priority keeps remote IRR like fixed. */
	clear_irrs();
	entry_write(17, IOAPIC_RTE_LEVEL | IOAPIC_RTE_LOGICAL | mode_entry(APIC_DM_LOWEST, 0x71, 0x0C));
	vm_set_irq(&vm, 17, true);
	got = irr_holders(0x71);
	assert_true(got == 1u << 2 || got == 1u << 3);
	assert_true(entry_read(17) & IOAPIC_RTE_REMOTE_IRR);
	assert_true(tmr(got == 1u << 2 ? 2 : 3, 0x71));
}

static void nmi_init_and_extint_set_the_vcpus_latches(void **state)
{
	(void)state;
	entry_write(18, mode_entry(APIC_DM_NMI, 0, 1));
	entry_write(19, mode_entry(APIC_DM_INIT, 0, 2));
	entry_write(20, mode_entry(APIC_DM_EXTINT, 0, 3));
	vm_pulse_irq(&vm, 18);
	vm_pulse_irq(&vm, 19);
	vm_pulse_irq(&vm, 20);
	assert_int_equal(vcpus[1].pending.nmi, 1);
	assert_int_equal(vcpus[2].pending.init, 1);
	assert_int_equal(vcpus[3].pending.extint, EXTINT_VIA_IOAPIC);
	for (unsigned i = 0; i < VCPUS; i++) {
		assert_int_equal(vcpus[i].pending.nmi, i == 1);
		assert_int_equal(vcpus[i].pending.init, i == 2);
		assert_int_equal(vcpus[i].pending.extint, i == 3 ? EXTINT_VIA_IOAPIC : 0);
		assert_int_equal(vcpus[i].lapic.irr_words, 0); /* no vector reached an IRR */
	}
}

static void nmi_and_init_are_edge_triggered_even_when_programmed_level(void **state)
{
	(void)state;
	entry_write(21, IOAPIC_RTE_LEVEL | mode_entry(APIC_DM_NMI, 0, 0));
	vm_set_irq(&vm, 21, true);
	assert_int_equal(vcpus[0].pending.nmi, 1);
	assert_false(entry_read(21) & IOAPIC_RTE_REMOTE_IRR);
	vcpus[0].pending.nmi = 0;
	vm_set_irq(&vm, 21, true); /* still high: no new NMI */
	entry_write(21, IOAPIC_RTE_LEVEL | mode_entry(APIC_DM_NMI, 0, 0));
	assert_int_equal(vcpus[0].pending.nmi, 0);
	vm_set_irq(&vm, 21, false);
	vm_set_irq(&vm, 21, true);
	assert_int_equal(vcpus[0].pending.nmi, 1);

	entry_write(22, IOAPIC_RTE_LEVEL | mode_entry(APIC_DM_INIT, 0, 1));
	vm_set_irq(&vm, 22, true);
	assert_int_equal(vcpus[1].pending.init, 1);
	assert_false(entry_read(22) & IOAPIC_RTE_REMOTE_IRR);
}

static void smi_and_reserved_modes_are_dropped_and_reported_once(void **state)
{
	(void)state;
	entry_write(23, mode_entry(APIC_DM_SMI, 0, 0xFF));
	vm_pulse_irq(&vm, 23);
	vm_pulse_irq(&vm, 23);
	assert_true(fake_console_contains("I/O APIC pin 23: delivery mode 2 is not emulated"));
	entry_write(1, mode_entry(3, 0x44, 0xFF)); /* reserved 011 */
	vm_pulse_irq(&vm, 1);
	assert_true(fake_console_contains("I/O APIC pin 1: delivery mode 3 is not emulated"));
	entry_write(1, mode_entry(6, 0x44, 0xFF)); /* reserved 110 */
	vm_pulse_irq(&vm, 1);
	assert_int_equal(irr_holders(0x44), 0);
	for (unsigned i = 0; i < VCPUS; i++)
		assert_int_equal(vcpus[i].pending.any, 0);
	/* Once per pin: the second pulse of pin 23 added no line. */
	const char *text = fake_console_text();
	const char *first = strstr(text, "pin 23: delivery mode");
	assert_non_null(first);
	assert_null(strstr(first + 1, "pin 23: delivery mode"));
}

static void physical_destinations_name_one_apic_or_all(void **state)
{
	(void)state;
	for (unsigned v = 0; v < VCPUS; v++) {
		clear_irrs();
		entry_write(4, fixed_entry(0x80, (uint8_t)v));
		vm_pulse_irq(&vm, 4);
		assert_int_equal(irr_holders(0x80), 1u << v);
	}
	clear_irrs();
	entry_write(4, fixed_entry(0x80, 0xFF)); /* broadcast */
	vm_pulse_irq(&vm, 4);
	assert_int_equal(irr_holders(0x80), (1u << VCPUS) - 1);
	clear_irrs();
	entry_write(4, fixed_entry(0x80, 0x07)); /* no such APIC */
	vm_pulse_irq(&vm, 4);
	assert_int_equal(irr_holders(0x80), 0);
}

static void logical_flat_destinations_name_a_set(void **state)
{
	(void)state;
	for (unsigned i = 0; i < VCPUS; i++) {
		LAPIC_REG(&vcpus[i].lapic, APIC_DFR) = 0xFFFFFFFF; /* flat model */
		LAPIC_REG(&vcpus[i].lapic, APIC_LDR) = (1u << i) << 24;
	}
	entry_write(4, IOAPIC_RTE_LOGICAL | fixed_entry(0x81, 0x05));
	vm_pulse_irq(&vm, 4);
	assert_int_equal(irr_holders(0x81), 1u << 0 | 1u << 2);
	clear_irrs();
	entry_write(4, IOAPIC_RTE_LOGICAL | fixed_entry(0x81, 0xF0));
	vm_pulse_irq(&vm, 4);
	assert_int_equal(irr_holders(0x81), 0);
}

static void logical_cluster_destinations_name_members_of_one_cluster(void **state)
{
	(void)state;
	/* Cluster model: vCPUs 0 and 1 in cluster 1, vCPUs 2 and 3 in cluster 2. */
	const uint8_t ldr[VCPUS] = { 0x11, 0x12, 0x21, 0x22 };
	for (unsigned i = 0; i < VCPUS; i++) {
		LAPIC_REG(&vcpus[i].lapic, APIC_DFR) = 0x0FFFFFFF;
		LAPIC_REG(&vcpus[i].lapic, APIC_LDR) = (uint32_t)ldr[i] << 24;
	}
	entry_write(4, IOAPIC_RTE_LOGICAL | fixed_entry(0x82, 0x13));
	vm_pulse_irq(&vm, 4);
	assert_int_equal(irr_holders(0x82), 1u << 0 | 1u << 1);
	clear_irrs();
	entry_write(4, IOAPIC_RTE_LOGICAL | fixed_entry(0x82, 0x22));
	vm_pulse_irq(&vm, 4);
	assert_int_equal(irr_holders(0x82), 1u << 3);
}

static void the_chip_is_on_the_route(void **state)
{
	(void)state;
	/* Reached by the route's EOI broadcast without a local APIC. */
	entry_write(11, IOAPIC_RTE_LEVEL | fixed_entry(0x3C, 0));
	vm_set_irq(&vm, 11, true);
	vm_set_irq(&vm, 11, false);
	vm_irq_eoi(&vm, 0x3C);
	assert_false(entry_read(11) & IOAPIC_RTE_REMOTE_IRR);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(version_register_reads_0x20_with_23_as_highest_entry),
		T(id_register_keeps_bits_27_24_and_loads_the_arbitration_id),
		T(arbitration_register_is_read_only),
		T(every_entry_is_masked_after_reset),
		T(redirection_entries_keep_their_writable_bits),
		T(delivery_status_and_remote_irr_ignore_writes),
		T(registers_that_do_not_exist_read_all_ones),
		T(ioregsel_holds_one_byte_and_takes_any_size),
		T(iowin_takes_only_dword_accesses),
		T(other_offsets_read_zero_and_drop_writes),
		T(reset_masks_every_entry_and_clears_the_id),
		T(an_edge_pin_sends_once_per_rising_edge),
		T(a_masked_edge_is_ignored_not_held),
		T(isa_irq_0_reaches_pin_2),
		T(line_n_reaches_pin_n),
		T(a_level_pin_sends_once_until_the_eoi),
		T(the_eoi_of_a_level_vector_redelivers_an_asserted_pin),
		T(an_eoi_of_another_vector_leaves_remote_irr),
		T(the_eoi_register_clears_every_entry_with_the_vector),
		T(unmasking_an_asserted_level_pin_delivers),
		T(a_masked_deasserted_level_pin_sends_nothing_when_unmasked),
		T(switching_a_pin_to_edge_clears_remote_irr),
		T(polarity_is_kept_but_does_not_invert_the_line),
		T(lowest_priority_reaches_one_named_vcpu),
		T(nmi_init_and_extint_set_the_vcpus_latches),
		T(nmi_and_init_are_edge_triggered_even_when_programmed_level),
		T(smi_and_reserved_modes_are_dropped_and_reported_once),
		T(physical_destinations_name_one_apic_or_all),
		T(logical_flat_destinations_name_a_set),
		T(logical_cluster_destinations_name_members_of_one_cluster),
		T(the_chip_is_on_the_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
