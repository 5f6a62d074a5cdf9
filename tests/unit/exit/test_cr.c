/*
 * Tests of core/exit/cr.c: the pure CR0/CR4 write rules (cr0_write_fault,
 * cr4_write_fault) that decide which MOV to CR writes raise #GP.
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

static struct cr_context protected_mode(void)
{
	struct cr_context ctx = {
		.cr0 = CR0_PE | CR0_ET, .cr4 = 0, .efer = 0, .in_64bit_mode = false,
		.cr4_fixed1 = 0xf72fff, /* Bochs tigerlake IA32_VMX_CR4_FIXED1 */
	};
	return ctx;
}

static void cr0_paging_needs_protection(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	assert_null(cr0_write_fault(&ctx, CR0_PE | CR0_PG | CR0_ET));
	assert_non_null(cr0_write_fault(&ctx, CR0_PG | CR0_ET));
}

static void cr0_nw_needs_cd(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	assert_non_null(cr0_write_fault(&ctx, CR0_PE | CR0_NW));
	assert_null(cr0_write_fault(&ctx, CR0_PE | CR0_NW | CR0_CD));
}

static void cr0_upper_bits_reserved(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	assert_non_null(cr0_write_fault(&ctx, CR0_PE | (1ULL << 32)));
}

static void cr0_long_mode_paging_needs_pae(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	ctx.efer = EFER_LME;
	assert_non_null(cr0_write_fault(&ctx, CR0_PE | CR0_PG));
	ctx.cr4 = CR4_PAE;
	assert_null(cr0_write_fault(&ctx, CR0_PE | CR0_PG));
}

static void cr0_paging_stays_on_in_64bit_mode(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	ctx.cr0 |= CR0_PG;
	ctx.cr4 = CR4_PAE;
	ctx.efer = EFER_LME | EFER_LMA;
	ctx.in_64bit_mode = true;
	assert_non_null(cr0_write_fault(&ctx, CR0_PE));
	assert_null(cr0_write_fault(&ctx, CR0_PE | CR0_PG | CR0_NE));
}

static void cr4_vmxe_and_unsupported_bits_fault(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	assert_non_null(cr4_write_fault(&ctx, CR4_VMXE));
	assert_non_null(cr4_write_fault(&ctx, CR4_SMXE));
	assert_non_null(cr4_write_fault(&ctx, 1ULL << 31));
	assert_null(cr4_write_fault(&ctx, CR4_OSXSAVE | CR4_PAE));
}

static void cr4_pae_stays_on_in_ia32e_mode(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	ctx.efer = EFER_LME | EFER_LMA;
	ctx.cr4 = CR4_PAE;
	assert_non_null(cr4_write_fault(&ctx, 0));
	assert_null(cr4_write_fault(&ctx, CR4_PAE | CR4_PCIDE));
	ctx.efer = 0;
	ctx.cr4 = 0;
	assert_non_null(cr4_write_fault(&ctx, CR4_PCIDE));
}

/* The rule the fuzzer found missing (make fuzz SEED=1796461957): CET needs
 * WP, whichever register is written last (SDM Vol. 2B MOV CR). */
static void cr4_cet_and_cr0_wp_go_together(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	assert_non_null(cr4_write_fault(&ctx, CR4_CET)); /* WP is clear */
	ctx.cr0 |= CR0_WP;
	assert_null(cr4_write_fault(&ctx, CR4_CET));
	ctx.cr4 = CR4_CET;
	assert_non_null(cr0_write_fault(&ctx, CR0_PE | CR0_ET)); /* clears WP */
	assert_null(cr0_write_fault(&ctx, CR0_PE | CR0_ET | CR0_WP));
	ctx.cr4 = 0;
	assert_null(cr0_write_fault(&ctx, CR0_PE | CR0_ET));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cr0_paging_needs_protection),
		cmocka_unit_test(cr0_nw_needs_cd),
		cmocka_unit_test(cr0_upper_bits_reserved),
		cmocka_unit_test(cr0_long_mode_paging_needs_pae),
		cmocka_unit_test(cr0_paging_stays_on_in_64bit_mode),
		cmocka_unit_test(cr4_vmxe_and_unsupported_bits_fault),
		cmocka_unit_test(cr4_pae_stays_on_in_ia32e_mode),
		cmocka_unit_test(cr4_cet_and_cr0_wp_go_together),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
