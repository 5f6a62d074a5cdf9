/*
 * Tests of core/dev/pic8259.c: the 8259 PIC's initialization sequence,
 * masking, and single mode without ICW3.
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

static void pic_init_sequence_then_mask(void **state)
{
	(void)state;
	struct pic8259 pic;
	memset(&pic, 0, sizeof(pic));
	pic.imr = 0x55;
	pic8259_write(&pic, 0, 0x11); /* ICW1: edge, cascade, ICW4 needed */
	assert_int_equal(pic8259_read(&pic, 1), 0); /* mask cleared */
	pic8259_write(&pic, 1, 0x20); /* ICW2 */
	pic8259_write(&pic, 1, 0x04); /* ICW3 */
	pic8259_write(&pic, 1, 0x01); /* ICW4 */
	assert_int_equal(pic.vector_base, 0x20);
	assert_int_equal(pic.icw3, 0x04);
	pic8259_write(&pic, 1, 0xFB); /* OCW1 */
	assert_int_equal(pic8259_read(&pic, 1), 0xFB);
	pic8259_write(&pic, 0, 0x20); /* OCW2 EOI does not touch the mask */
	assert_int_equal(pic8259_read(&pic, 1), 0xFB);
	assert_int_equal(pic8259_read(&pic, 0), 0);
}

static void pic_single_mode_skips_icw3(void **state)
{
	(void)state;
	struct pic8259 pic;
	memset(&pic, 0, sizeof(pic));
	pic8259_write(&pic, 0, 0x12); /* ICW1: single, no ICW4 */
	pic8259_write(&pic, 1, 0x08); /* ICW2 */
	pic8259_write(&pic, 1, 0xF0); /* now OCW1 */
	assert_int_equal(pic8259_read(&pic, 1), 0xF0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pic_init_sequence_then_mask),
		cmocka_unit_test(pic_single_mode_skips_icw3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
