/*
 * Tests of core/exit/instructions.c: INVD and a guest's VMXON as exits of a
 * real VM and vCPU on the fake Tiger Lake CPU, fed to exit_dispatch. And
 * xsetbv_fault, the rules for the XCR0 values XSETBV may set.
 */
#include "mm/guest_memory.h"
#include "x86.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "abi/cpuid.h"
#include "abi/hypercall.h"
#include "abi/devices.h"
#include "dev/mmio.h"
#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "fixture_exit.h"
#include "loader/multiboot.h"
#include "run/run_loop.h"
#include "vm/builder.h"
#include "run/schedule.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "dev/fw_cfg.h"
#include "irq/lapic.h"
#include "dev/pic8259.h"
#include "exit/cpuid.h"
#include "exit/cr.h"
#include "exit/msr.h"
#include "vmx/msr_bitmap.h"
#include "mm/ept.h"
#include "vmx/vmx_cpu.h"

/* ---- Exits emulated in place ---- */

static void test_invd_writes_back_caches_and_continues(void **state)
{
	(void)state;
	exit_with(R_INVD, 0, 2);
	assert_int_equal(fake_cpu.wbinvds, 1);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	check_vm_running();
}

static void test_guest_vmxon_gets_an_invalid_opcode(void **state)
{
	(void)state;
	exit_with(R_VMXON, 0, 4);
	/* #UD: vector 6, hardware exception (type 3), valid, no error code. */
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0x80000306u);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY); /* faults, does not retire */
	check_vm_running();
}

/* MONITOR (exit 39) and MWAIT (36) are hidden by CPUID: #UD, as on a
 * processor without them (SDM Vol. 2B MONITOR, MWAIT). */
static void test_monitor_and_mwait_get_an_invalid_opcode(void **state)
{
	(void)state;
	exit_with(39, 0, 3);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0x80000306u);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
	exit_with(36, 0, 3);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0x80000306u);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	check_vm_running();
}

static void xsetbv_rules(void **state)
{
	(void)state;
	uint64_t supported = 0xE7; /* x87 SSE AVX AVX-512 */
	assert_null(xsetbv_fault(0, 0x1, supported));
	assert_null(xsetbv_fault(0, 0x3, supported));
	assert_null(xsetbv_fault(0, 0x7, supported));
	assert_null(xsetbv_fault(0, 0xE7, supported));
	assert_non_null(xsetbv_fault(1, 0x3, supported));        /* only XCR0 */
	assert_non_null(xsetbv_fault(0, 0x2, supported));        /* x87 clear */
	assert_non_null(xsetbv_fault(0, 0x5, supported));        /* AVX without SSE */
	assert_non_null(xsetbv_fault(0, 0x3 | (1ULL << 9), supported)); /* not supported */
	assert_non_null(xsetbv_fault(0, 0x27, supported));       /* AVX-512 partial */
	assert_non_null(xsetbv_fault(0, 0xE3, supported));       /* AVX-512 without AVX */
	assert_non_null(xsetbv_fault(0, 0x0B, 0x1F));            /* BNDREG without BNDCSR */
	assert_null(xsetbv_fault(0, 0x1B, 0x1F));
}

#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_invd_writes_back_caches_and_continues),
		C(test_guest_vmxon_gets_an_invalid_opcode),
		C(test_monitor_and_mwait_get_an_invalid_opcode),
		cmocka_unit_test(xsetbv_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
