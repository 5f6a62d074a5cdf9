/*
 * Tests of core/exit/cr.c: the pure CR0/CR4 write rules (cr0_write_fault,
 * cr4_write_fault) that decide which MOV to CR writes raise #GP, and the
 * pinned bits (vm/protect.h) that writes keep set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/vmx_cpu.h"
#include "fake_cpu.h"
#include "fixture_exit.h"
#include "fixture_vm.h"
#include "vcpu/vcpu.h"
#include "vmx/entry_checks.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

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

/* SDM Vol. 2B MOV CR: PCIDE 0 -> 1 needs CR3[11:0] = 0; LA57 cannot change
 * in IA-32e mode (outside it, it may). */
static void cr4_pcide_needs_pcid_0_and_la57_is_fixed_in_ia32e_mode(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	ctx.cr4_fixed1 |= CR4_LA57 | CR4_PCIDE;
	ctx.efer = EFER_LME | EFER_LMA;
	ctx.cr4 = CR4_PAE;
	ctx.cr3 = 0x5000 | 0x12;
	assert_non_null(cr4_write_fault(&ctx, CR4_PAE | CR4_PCIDE));
	ctx.cr3 = 0x5000;
	assert_null(cr4_write_fault(&ctx, CR4_PAE | CR4_PCIDE));
	ctx.cr4 = CR4_PAE | CR4_PCIDE;
	ctx.cr3 = 0x5000 | 0x12; /* already on: a PCID in CR3 is fine */
	assert_null(cr4_write_fault(&ctx, CR4_PAE | CR4_PCIDE));
	assert_non_null(cr4_write_fault(&ctx, CR4_PAE | CR4_PCIDE | CR4_LA57));
	ctx.cr4 = CR4_PAE | CR4_LA57;
	assert_non_null(cr4_write_fault(&ctx, CR4_PAE));
	ctx.efer = 0;
	ctx.cr4 = 0;
	assert_null(cr4_write_fault(&ctx, CR4_PAE | CR4_LA57));
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

#define R_CR_ACCESS_PAE 28

/* Found by the walk below: PCIDE needs IA-32e mode, so paging cannot be
 * switched off under it (SDM Vol. 2B MOV CR). */
static void cr0_paging_stays_on_while_pcide_is_set(void **state)
{
	(void)state;
	struct cr_context ctx = protected_mode();
	ctx.cr0 |= CR0_PG;
	ctx.cr4 = CR4_PAE | CR4_PCIDE;
	ctx.efer = EFER_LME | EFER_LMA; /* compatibility mode: CS.L = 0 */
	assert_non_null(cr0_write_fault(&ctx, CR0_PE | CR0_ET));
	ctx.cr4 = CR4_PAE;
	assert_null(cr0_write_fault(&ctx, CR0_PE | CR0_ET)); /* leaves IA-32e mode */
}

/* Turning on PAE paging outside IA-32e mode loads the PDPTEs into the VMCS
 * (SDM Vol. 3C 27.3.2.4): one with a reserved bit set gives #GP, also the
 * bits above MAXPHYADDR (a fuzz finding: the entry then failed on them,
 * 27.3.1.6). */
static void pae_paging_refuses_pdptes_with_reserved_bits(void **state)
{
	(void)state;
	uint64_t pdptes[4] = { 0x3001, 0, 0, 0 };
	fake_vmcs_set(GUEST_CR3.encoding, 0x2000);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_PG);
	fake_vmcs_set(CR0_READ_SHADOW.encoding, CR0_PE | CR0_ET | CR0_PG);

	pdptes[1] = 0x8000000000004001ULL; /* bit 63: above MAXPHYADDR, reserved in a PDPTE */
	assert_true(guest_write(&vm, 0x2000, pdptes, sizeof(pdptes)));
	*reg(GPR_RAX) = CR4_PAE;
	exit_with(R_CR_ACCESS_PAE, 4, 3);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), VECTOR_GP | (3u << 8) | (1u << 11) | (1u << 31));
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);

	pdptes[1] = 0x4001; /* now valid */
	assert_true(guest_write(&vm, 0x2000, pdptes, sizeof(pdptes)));
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
	exit_with(R_CR_ACCESS_PAE, 4, 3);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0);
	assert_int_equal(vmcs(GUEST_PDPTE1.encoding), 0x4001);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
}

/*
 * No guest-writable control-register state may fail a VM entry (issue 14,
 * item 6): a random walk of MOV to CR0/CR4 and WRMSR EFER through the real
 * exit handlers, and after every write cvisor accepted, the software
 * VM-entry checks (the guest-state rules of SDM Vol. 3C 27.3.1) must all
 * pass.  A rule a write breaks that the CR emulation let through is a
 * missing #GP rule: the fuzzer once reached CR4.CET=1 with CR0.WP=0 so.
 */
#define R_CR_ACCESS 28
#define R_WRMSR_EXIT 32

static uint32_t walk_state = 12345;
static uint32_t walk_random(void)
{
	walk_state = walk_state * 1103515245u + 12345u;
	return walk_state >> 8;
}

static void no_accepted_cr_write_fails_a_vm_entry(void **state)
{
	(void)state;
	static const uint64_t cr0_bits[] = { CR0_PE, CR0_MP, CR0_EM, CR0_TS, CR0_ET, CR0_NE,
					     CR0_WP, CR0_AM, CR0_NW, CR0_CD, CR0_PG };
	static const uint64_t cr4_bits[] = { 1u << 0, 1u << 1, 1u << 2, 1u << 3, CR4_PSE, CR4_PAE,
					     1u << 6, 1u << 7, 1u << 8, CR4_OSFXSR, CR4_OSXMMEXCPT,
					     1u << 11, 1u << 16, CR4_PCIDE, CR4_OSXSAVE, 1u << 20,
					     1u << 21, 1u << 22, CR4_CET };
	static const uint64_t efer_bits[] = { EFER_SCE, EFER_LME, EFER_NXE };
	char history[16][48];
	unsigned accepted = 0;

	for (unsigned step = 0; step < 4000; step++) {
		unsigned what = walk_random() % 5;
		uint64_t value = 0;
		const uint64_t *pool = what <= 1 ? cr0_bits : what <= 3 ? cr4_bits : efer_bits;
		unsigned n = what <= 1 ? 11 : what <= 3 ? 19 : 3;
		for (unsigned i = 0; i < n; i++)
			if (walk_random() % 2)
				value |= pool[i];
		fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
		fake_vmcs_set(GUEST_RIP.encoding, ENTRY);
		if (what <= 3) {
			unsigned cr = what <= 1 ? 0 : 4;
			*reg(GPR_RAX) = value;
			exit_with(R_CR_ACCESS, cr, 3);
			snprintf(history[step % 16], sizeof(history[0]), "CR%u <- 0x%llx", cr,
				 (unsigned long long)value);
		} else {
			*reg(GPR_RCX) = 0xC0000080;
			*reg(GPR_RAX) = (uint32_t)value;
			*reg(GPR_RDX) = value >> 32;
			exit_with(R_WRMSR_EXIT, 0, 2);
			snprintf(history[step % 16], sizeof(history[0]), "EFER <- 0x%llx",
				 (unsigned long long)value);
		}
		check_vm_running();
		if (vmcs(VM_ENTRY_INTR_INFO.encoding) & (1u << 31))
			continue; /* refused with #GP: nothing changed */
		accepted++;
		fake_console_clear();
		/* Only the guest-state rules: the fake platform's addresses are not
		 * what the control rules expect of real memory. */
		struct vmx_entry_env env;
		static struct vmx_entry_report report;
		vmx_entry_env_init(&env, &cpu.caps, 0);
		vmx_check_vm_entry_env(&env, &report);
		unsigned broken = report.failed_by_kind[VMX_ENTRY_KIND_GUEST];
		if (broken) {
			char trail[16 * 52] = "";
			for (unsigned i = step >= 15 ? step - 15 : 0; i <= step; i++) {
				strcat(trail, history[i % 16]);
				strcat(trail, "\n");
			}
			fail_msg("step %u: an accepted write breaks %u VM-entry rule(s):\n%s\nlast writes:\n%s",
				 step, broken, fake_console_text(), trail);
		}
	}
	assert_true(accepted > 200); /* the walk reached many states */
}

/* ---- Pinned bits (vm/protect.h) ---- */

#define CR_MOV_TO_CR0 0 /* qualification: CR0, MOV to, RAX */
#define CR_MOV_TO_CR4 4
#define CR_CLTS (2u << 4)
#define GP_INJECTED (VECTOR_GP | (3u << 8) | (1u << 11) | (1u << 31))

/* The guest set a bit it owned (no exit): the real register and shadow. */
static void guest_sets(vmcs_RWNAT_t real, vmcs_RWNAT_t shadow, uint64_t bits)
{
	fake_vmcs_set(real.encoding, vmcs(real.encoding) | bits);
	fake_vmcs_set(shadow.encoding, vmcs(shadow.encoding) | bits);
}

static void mov_to_cr(unsigned qualification, uint64_t value)
{
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
	fake_vmcs_set(GUEST_RIP.encoding, ENTRY);
	*reg(GPR_RAX) = value;
	exit_with(R_CR_ACCESS, qualification, 3);
	check_vm_running();
}

/* A write that would clear pinned CR0.WP completes with WP kept: no #GP,
 * the guest reads WP back set, one event; the other bits are written. */
static void pinned_cr0_wp_stays_set(void **state)
{
	(void)state;
	guest_sets(GUEST_CR0, CR0_READ_SHADOW, CR0_WP);
	assert_int_equal(protect_pin_cr(&vcpu, 0, CR0_WP), PROTECT_OK);

	mov_to_cr(CR_MOV_TO_CR0, CR0_PE | CR0_ET | CR0_MP); /* clears WP, sets MP */
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
	assert_int_equal(vmcs(CR0_READ_SHADOW.encoding), CR0_PE | CR0_ET | CR0_MP | CR0_WP);
	assert_true(vmcs(GUEST_CR0.encoding) & CR0_WP);
	assert_true(vmcs(GUEST_CR0.encoding) & CR0_MP);
	struct hc_protect_event e[2];
	assert_int_equal(protect_take_events(&vm, e, 2), 1);
	assert_int_equal(e[0].kind, HC_EVENT_CR);
	assert_int_equal(e[0].address, 0);
	assert_int_equal(e[0].value, CR0_PE | CR0_ET | CR0_MP);
	assert_int_equal(e[0].action, HC_ACTION_KEPT);
	assert_int_equal(e[0].rip, ENTRY);
	assert_console_contains("protection: write of 0x13 to CR0 at RIP 0x100000: pinned bits kept");

	/* Unpinned bits stay the guest's, and keeping WP is no event. */
	mov_to_cr(CR_MOV_TO_CR0, CR0_PE | CR0_ET | CR0_WP);
	assert_int_equal(vmcs(CR0_READ_SHADOW.encoding), CR0_PE | CR0_ET | CR0_WP);
	mov_to_cr(CR_CLTS, 0);
	assert_int_equal(protect_pending_events(&vm), 0);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_KEPT], 1);
}

/* exit/cr.c's architectural rules still come first: a write they refuse
 * is #GP, whatever it does to pinned bits (and no event). */
static void pinned_bits_do_not_lift_the_cr_rules(void **state)
{
	(void)state;
	guest_sets(GUEST_CR0, CR0_READ_SHADOW, CR0_WP);
	assert_int_equal(protect_pin_cr(&vcpu, 0, CR0_WP), PROTECT_OK);
	mov_to_cr(CR_MOV_TO_CR0, CR0_PE | CR0_ET | CR0_NW); /* NW without CD */
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), GP_INJECTED);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_true(vmcs(CR0_READ_SHADOW.encoding) & CR0_WP);
	assert_int_equal(protect_pending_events(&vm), 0);

	guest_sets(GUEST_CR4, CR4_READ_SHADOW, CR4_SMEP);
	assert_int_equal(protect_pin_cr(&vcpu, 4, CR4_SMEP), PROTECT_OK);
	mov_to_cr(CR_MOV_TO_CR4, CR4_VMXE);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), GP_INJECTED);
	assert_true(vmcs(CR4_READ_SHADOW.encoding) & CR4_SMEP);
}

/* CR4: each pinned bit stays; an unpinned one (SMAP here) clears. */
static void pinned_cr4_bits_stay_set_and_others_clear(void **state)
{
	(void)state;
	guest_sets(GUEST_CR4, CR4_READ_SHADOW, CR4_SMEP | CR4_SMAP | CR4_UMIP);
	assert_int_equal(protect_pin_cr(&vcpu, 4, CR4_SMEP | CR4_UMIP), PROTECT_OK);
	assert_true(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_SMEP);
	assert_true(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_UMIP);
	assert_false(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_SMAP);
	mov_to_cr(CR_MOV_TO_CR4, CR4_PAE);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0);
	assert_int_equal(vmcs(CR4_READ_SHADOW.encoding) & (CR4_SMEP | CR4_UMIP | CR4_SMAP),
			 CR4_SMEP | CR4_UMIP);
	uint64_t cr4 = vmcs(GUEST_CR4.encoding);
	assert_true(cr4 & CR4_SMEP);
	assert_true(cr4 & CR4_UMIP);
	assert_false(cr4 & CR4_SMAP);
	assert_true(cr4 & CR4_PAE);
	assert_int_equal(protect_pending_events(&vm), 1);
}

/* A CR4 bit whose feature the guest's CPUID does not offer is #GP, even
 * where VMX's fixed bits allow it (Bochs's tigerlake: CR4.CET without CET
 * in CPUID): cvisor owns it, so setting it exits; offered ones do not. */
static void cr4_bits_of_unoffered_features_fault(void **state)
{
	(void)state;
	assert_true(vcpu.cpu->caps.cr4_fixed1 & CR4_CET);
	assert_true(vcpu.cr4_unoffered & CR4_CET);
	assert_false(vcpu.cr4_unoffered & (CR4_SMEP | CR4_OSXSAVE));
	assert_true(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_CET);
	assert_false(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_SMEP);
	guest_sets(GUEST_CR0, CR0_READ_SHADOW, CR0_WP);
	mov_to_cr(CR_MOV_TO_CR4, CR4_CET);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & 0xFF, 13); /* #GP */
	assert_false(vmcs(GUEST_CR4.encoding) & CR4_CET);
	assert_false(vmcs(CR4_READ_SHADOW.encoding) & CR4_CET);
}

/* Without a TPR shadow (apicv=off, the fixture's VM) MOV to/from CR8
 * exits and uses the software APIC's TPR: CR8[3:0] = TPR[7:4] (SDM Vol.
 * 3A 11.8.6.1); a write with bits 63:4 set is #GP (Vol. 2B MOV CR). */
static void cr8_uses_the_software_tpr_without_a_tpr_shadow(void **state)
{
	(void)state;
	assert_true(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_CR8_LOAD_EXITING);
	mov_to_cr(8 /* CR8, MOV to, RAX */, 0x9);
	assert_int_equal(lapic_read(&vcpu.lapic, APIC_TPR), 0x90);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
	lapic_write(&vcpu.lapic, APIC_TPR, 0x7F, &(uint8_t){ 0 });
	*reg(GPR_RBX) = ~0ULL;
	exit_with(R_CR_ACCESS, 8 | (1u << 4) | (GPR_RBX << 8) /* MOV from CR8 to RBX */, 3);
	assert_int_equal(*reg(GPR_RBX), 0x7);
	mov_to_cr(8, 0x10);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), GP_INJECTED);
	assert_int_equal(lapic_read(&vcpu.lapic, APIC_TPR), 0x7F);
}

/* With the TPR shadow CR8 does not exit at all: an exit for it is a bug. */
static void cr8_does_not_exit_with_a_tpr_shadow(void **state)
{
	(void)state;
	uint32_t proc = (uint32_t)vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding);
	assert_true(proc & PROC_USE_TPR_SHADOW);
	assert_false(proc & (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cr0_paging_needs_protection),
		cmocka_unit_test(cr0_paging_stays_on_while_pcide_is_set),
		cmocka_unit_test_setup_teardown(pae_paging_refuses_pdptes_with_reserved_bits, setup_vcpu, teardown),
		cmocka_unit_test_setup_teardown(no_accepted_cr_write_fails_a_vm_entry, setup_vcpu, teardown),
		cmocka_unit_test(cr0_nw_needs_cd),
		cmocka_unit_test(cr0_upper_bits_reserved),
		cmocka_unit_test(cr0_long_mode_paging_needs_pae),
		cmocka_unit_test(cr0_paging_stays_on_in_64bit_mode),
		cmocka_unit_test(cr4_vmxe_and_unsupported_bits_fault),
		cmocka_unit_test(cr4_pae_stays_on_in_ia32e_mode),
		cmocka_unit_test(cr4_cet_and_cr0_wp_go_together),
		cmocka_unit_test(cr4_pcide_needs_pcid_0_and_la57_is_fixed_in_ia32e_mode),
		cmocka_unit_test_setup_teardown(pinned_cr0_wp_stays_set, setup_vcpu, teardown),
		cmocka_unit_test_setup_teardown(cr8_uses_the_software_tpr_without_a_tpr_shadow,
						setup_vcpu, teardown),
		cmocka_unit_test_setup_teardown(cr8_does_not_exit_with_a_tpr_shadow, setup_vcpu_apicv,
						teardown),
		cmocka_unit_test_setup_teardown(pinned_bits_do_not_lift_the_cr_rules, setup_vcpu, teardown),
		cmocka_unit_test_setup_teardown(pinned_cr4_bits_stay_set_and_others_clear, setup_vcpu, teardown),
		cmocka_unit_test_setup_teardown(cr4_bits_of_unoffered_features_fault, setup_vcpu, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
