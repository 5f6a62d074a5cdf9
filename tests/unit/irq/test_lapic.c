/*
 * Tests of core/irq/lapic.c: the local APIC's registers, and its priorities,
 * IRR, ISR and EOI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/cpuid.h"
#include "dev/fw_cfg.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "dev/pic8259.h"
#include "exit/cpuid.h"
#include "exit/cr.h"
#include "exit/exit.h"
#include "exit/msr.h"
#include "mm/guest_memory.h"
#include "vmx/msr_bitmap.h"
#include "fake_platform.h"
#include "mm/ept.h"
#include "vm/vm.h"
#include "vmx/vmx_cpu.h"

static uint8_t eoi_vector; /* what lapic_write reports for a level EOI */

static void lapic_registers(void **state)
{
	(void)state;
	struct lapic apic;
	lapic_reset(&apic, 3);
	assert_int_equal(lapic_read(&apic, 0x20), 3u << 24);
	assert_int_equal(lapic_read(&apic, 0x30) & 0xFF, 0x14);
	assert_int_equal(lapic_read(&apic, 0xF0), 0xFF);
	assert_true(lapic_read(&apic, 0x320) & (1u << 16));
	lapic_write(&apic, 0x80, 0x35, &eoi_vector);
	assert_int_equal(lapic_read(&apic, 0x80), 0x35);
	/* PPR = TPR when TPR's class is at least the in-service class (SDM 11.8.3.1) */
	assert_int_equal(lapic_read(&apic, 0xA0), 0x35);
	/* LVTs stay masked while the APIC is software-disabled */
	lapic_write(&apic, 0x350, 0x700, &eoi_vector);
	assert_int_equal(lapic_read(&apic, 0x350), 0x10700);
	lapic_write(&apic, 0xF0, 0x1FF, &eoi_vector);
	lapic_write(&apic, 0x350, 0x700, &eoi_vector);
	assert_int_equal(lapic_read(&apic, 0x350), 0x700);
	lapic_write(&apic, 0x300, 0x1C4500, &eoi_vector);
	assert_int_equal(lapic_read(&apic, 0x300) & (1u << 12), 0);
	lapic_write(&apic, 0x20, 0xFF000000u, &eoi_vector); /* ID is read-only here */
	assert_int_equal(lapic_read(&apic, 0x20), 3u << 24);
	assert_int_equal(lapic_read(&apic, 0xB0), 0);
}

static void lapic_priorities_irr_isr_and_eoi(void **state)
{
	(void)state;
	struct lapic apic;
	lapic_reset(&apic, 0);
	assert_false(lapic_has_pending(&apic));
	lapic_set_irr(&apic, 0x41);
	lapic_set_irr(&apic, 0x62);
	assert_int_equal(lapic_read(&apic, 0x200 + 0x10 * (0x41 / 32)) & (1u << (0x41 % 32)), 1u << 1);
	assert_int_equal(lapic_deliverable(&apic), 0x62);       /* highest first */
	lapic_accept(&apic, 0x62);
	assert_int_equal(lapic_read(&apic, 0xA0), 0x60);        /* PPR = in-service class */
	assert_int_equal(lapic_deliverable(&apic), -1);         /* 0x41 is below class 6 */
	assert_int_equal(lapic_read(&apic, 0x100 + 0x10 * 3) & (1u << 2), 1u << 2); /* ISR bit 0x62 */
	lapic_write(&apic, 0xB0, 0, &eoi_vector);                            /* EOI */
	assert_int_equal(lapic_read(&apic, 0x100 + 0x10 * 3), 0);
	assert_int_equal(lapic_deliverable(&apic), 0x41);
	lapic_write(&apic, 0x80, 0x50, &eoi_vector);                         /* TPR class 5 masks 0x41 */
	assert_int_equal(lapic_deliverable(&apic), -1);
	assert_true(lapic_has_pending(&apic));
	assert_int_equal(lapic_write(&apic, 0x300, 0x4041, &eoi_vector), LAPIC_WRITE_SEND_IPI);         /* ICR low: send */
	assert_int_equal(lapic_write(&apic, 0x310, 0x01000000, &eoi_vector), LAPIC_WRITE_DONE);    /* ICR high: no send */
}

/* The registers live at their xAPIC offsets in the page the CPU uses as
 * the virtual-APIC page (SDM Vol. 3C 29.1.1): a read is the word there;
 * what a CPU wrote to a read-only or special word is put right by the
 * write that follows (ID, EOI). */
static void lapic_registers_live_in_the_page(void **state)
{
	(void)state;
	static struct lapic apic;
	lapic_reset(&apic, 2);
	assert_int_equal(apic.regs[APIC_ID / 4], 2u << 24);
	assert_int_equal(apic.regs[APIC_VERSION / 4], lapic_read(&apic, APIC_VERSION));
	assert_int_equal(apic.regs[APIC_DFR / 4], 0xFFFFFFFFu);
	assert_int_equal(apic.regs[APIC_LVT_TIMER / 4], 1u << 16);
	apic.regs[APIC_TPR / 4] = 0x20; /* the CPU's TPR virtualization */
	assert_int_equal(lapic_read(&apic, APIC_TPR), 0x20);
	apic.regs[APIC_ID / 4] = 0xFF000000u;
	lapic_write(&apic, APIC_ID, 0xFF000000u, &eoi_vector);
	assert_int_equal(apic.regs[APIC_ID / 4], 2u << 24);
	apic.regs[APIC_EOI / 4] = 0x1234;
	lapic_write(&apic, APIC_EOI, 0x1234, &eoi_vector);
	assert_int_equal(apic.regs[APIC_EOI / 4], 0);
	lapic_set_irr(&apic, 0x81);
	assert_int_equal(apic.regs[(APIC_IRR0 + 0x40) / 4], 1u << 1);
	/* Outside the 16-byte grid nothing is read or written. */
	assert_int_equal(lapic_read(&apic, APIC_TPR + 4), 0);
	assert_int_equal(lapic_read(&apic, 4096), 0);
}

/* The CPU took a vector out of VIRR itself (virtual-interrupt delivery):
 * the summary of pending words follows, so the exit path's one-load check
 * says "nothing pending" again. */
static void lapic_irr_summary_follows_the_page(void **state)
{
	(void)state;
	static struct lapic apic;
	lapic_reset(&apic, 0);
	lapic_set_irr(&apic, 0x41);
	lapic_set_irr(&apic, 0xF1);
	LAPIC_VECTOR_WORD(&apic, APIC_IRR0, 7) = 0;
	assert_int_equal(apic.irr_words, (1u << 2) | (1u << 7));
	lapic_refresh_irr_summary(&apic);
	assert_int_equal(apic.irr_words, 1u << 2);
	assert_true(lapic_has_pending(&apic));
	LAPIC_VECTOR_WORD(&apic, APIC_IRR0, 2) = 0;
	lapic_refresh_irr_summary(&apic);
	assert_int_equal(apic.irr_words, 0);
	assert_false(lapic_has_pending(&apic));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lapic_registers),
		cmocka_unit_test(lapic_priorities_irr_isr_and_eoi),
		cmocka_unit_test(lapic_registers_live_in_the_page),
		cmocka_unit_test(lapic_irr_summary_follows_the_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
