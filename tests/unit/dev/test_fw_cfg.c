/*
 * Tests of core/dev/fw_cfg.c: the fw_cfg items a guest can select and read.
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

static void fw_cfg_items(void **state)
{
	(void)state;
	struct vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.ram_size = 64ULL << 20;
	vm.vcpu_count = 2;
	struct fw_cfg cfg = { 0 };
	char sig[5] = { 0 };
	fw_cfg_select(&cfg, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)fw_cfg_read_byte(&vm, &cfg);
	assert_string_equal(sig, "QEMU");
	assert_int_equal(fw_cfg_read_byte(&vm, &cfg), 0); /* past the end */
	fw_cfg_select(&cfg, FW_CFG_RAM_SIZE);
	uint64_t ram = 0;
	for (int i = 0; i < 8; i++)
		ram |= (uint64_t)fw_cfg_read_byte(&vm, &cfg) << (8 * i);
	assert_int_equal(ram, 64ULL << 20);
	fw_cfg_select(&cfg, FW_CFG_NB_CPUS);
	assert_int_equal(fw_cfg_read_byte(&vm, &cfg), 2);
	assert_int_equal(fw_cfg_read_byte(&vm, &cfg), 0);
	fw_cfg_select(&cfg, 0x4242);
	assert_int_equal(fw_cfg_read_byte(&vm, &cfg), 0);
	fw_cfg_select(&cfg, FW_CFG_ID);
	assert_int_equal(fw_cfg_read_byte(&vm, &cfg), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fw_cfg_items),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
