/*
 * The pure decision functions behind the exit handlers and devices:
 * CR0/CR4 write rules, XSETBV rules, the CPUID policy, the MSR bitmap,
 * fw_cfg, the 8259 PIC and the local APIC registers.
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

static void cpuid_signature_leaf(void **state)
{
	(void)state;
	struct cpuid_regs r = { 1, 2, 3, 4 };
	cpuid_apply_policy(CVISOR_CPUID_BASE, 0, 0, 0, &r);
	assert_int_equal(r.eax, CVISOR_CPUID_MAX_LEAF);
	assert_memory_equal(&r.ebx, "cvis", 4);
	assert_memory_equal(&r.ecx, "or\0\0", 4);
	assert_int_equal(r.edx, 0);
	r = (struct cpuid_regs){ 9, 9, 9, 9 };
	cpuid_apply_policy(CVISOR_CPUID_BASE + 1, 0, 0, 0, &r);
	assert_int_equal(r.eax, CVISOR_VERSION_MAJOR << 16 | CVISOR_VERSION_MINOR);
	assert_int_equal(r.ebx, CVISOR_HYPERCALL_ABI_VERSION);
	r = (struct cpuid_regs){ 9, 9, 9, 9 };
	cpuid_apply_policy(CVISOR_CPUID_BASE + 7, 0, 0, 0, &r);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
}

static void cpuid_leaf1_policy(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0, 0, 0xFFFFFFFFu & ~(1u << 31), 0xFFFFFFFFu };
	cpuid_apply_policy(1, 0, 0, 0, &r);
	assert_true(r.ecx & (1u << 31));  /* hypervisor */
	assert_false(r.ecx & (1u << 5));  /* VMX */
	assert_false(r.ecx & (1u << 21)); /* x2APIC */
	assert_false(r.ecx & (1u << 15)); /* PDCM */
	assert_false(r.ecx & (1u << 2));  /* DTES64 */
	assert_false(r.ecx & (1u << 3));  /* MONITOR */
	assert_false(r.ecx & (1u << 27)); /* OSXSAVE follows the guest's CR4 */
	assert_false(r.edx & (1u << 21)); /* DS */
	assert_true(r.ecx & (1u << 0));   /* untouched bits pass through */
	r = (struct cpuid_regs){ 0, 0, 0, 0 };
	cpuid_apply_policy(1, 0, CR4_OSXSAVE, 0, &r);
	assert_true(r.ecx & (1u << 27));
}

static void cpuid_pmu_leaf_zeroed(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0x07300402, 0, 0, 0x603 };
	cpuid_apply_policy(0xA, 0, 0, 0, &r);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	r = (struct cpuid_regs){ 0x12, 0x34, 0x56, 0x78 };
	cpuid_apply_policy(0x7, 0, 0, 0, &r); /* other leaves pass through */
	assert_int_equal(r.eax, 0x12);
	assert_int_equal(r.edx, 0x78);
}

/* IA32_MISC_ENABLE acts on CPUID (SDM Vol. 4 Table 2-2). */
static void cpuid_follows_misc_enable(void **state)
{
	(void)state;
	const uint64_t limit_cpuid = 1ULL << 22, xd_disable = 1ULL << 34;
	struct cpuid_regs r = { 0x1B, 0x756E6547, 0x6C65746E, 0x49656E69 };
	cpuid_apply_policy(0, 0, 0, limit_cpuid, &r);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 0x756E6547); /* the vendor stays */
	r.eax = 0x1B;
	cpuid_apply_policy(0, 0, 0, 0, &r);
	assert_int_equal(r.eax, 0x1B);
	r = (struct cpuid_regs){ 0, 0, 0x121, (1u << 11) | (1u << 20) | (1u << 29) };
	cpuid_apply_policy(0x80000001, 0, 0, xd_disable, &r);
	assert_int_equal(r.edx, (1u << 11) | (1u << 29)); /* NX hidden, the rest kept */
	r.edx |= 1u << 20;
	cpuid_apply_policy(0x80000001, 0, 0, 0, &r);
	assert_true(r.edx & (1u << 20));
}

static void msr_bitmap_passes_through_only_the_safe_msrs(void **state)
{
	(void)state;
	static uint8_t bitmap[4096];
	msr_bitmap_init(bitmap);
	/* pass through, both directions */
	assert_false(msr_bitmap_intercepts(bitmap, 0xC0000100, false)); /* FS_BASE */
	assert_false(msr_bitmap_intercepts(bitmap, 0xC0000102, true));  /* KERNEL_GS_BASE */
	assert_false(msr_bitmap_intercepts(bitmap, 0xC0000082, true));  /* LSTAR */
	assert_false(msr_bitmap_intercepts(bitmap, 0x176, true));       /* SYSENTER_EIP */
	/* TSC: reads pass, writes exit */
	assert_false(msr_bitmap_intercepts(bitmap, 0x10, false));
	assert_true(msr_bitmap_intercepts(bitmap, 0x10, true));
	/* emulated or faulting */
	assert_true(msr_bitmap_intercepts(bitmap, 0x1B, false));        /* APIC_BASE */
	assert_true(msr_bitmap_intercepts(bitmap, 0xC0000080, true));   /* EFER */
	assert_true(msr_bitmap_intercepts(bitmap, 0x480, false));       /* VMX_BASIC */
	assert_true(msr_bitmap_intercepts(bitmap, 0x3A, true));         /* FEATURE_CONTROL */
	/* outside both ranges: always exits (SDM Vol. 3C 26.1.3) */
	assert_true(msr_bitmap_intercepts(bitmap, 0x4B564D00, false));
}

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

static void lapic_registers(void **state)
{
	(void)state;
	struct lapic apic;
	lapic_reset(&apic, 3);
	assert_int_equal(lapic_read(&apic, 0x20), 3u << 24);
	assert_int_equal(lapic_read(&apic, 0x30) & 0xFF, 0x14);
	assert_int_equal(lapic_read(&apic, 0xF0), 0xFF);
	assert_true(lapic_read(&apic, 0x320) & (1u << 16));
	lapic_write(&apic, 0x80, 0x35);
	assert_int_equal(lapic_read(&apic, 0x80), 0x35);
	/* PPR = TPR when TPR's class is at least the in-service class (SDM 11.8.3.1) */
	assert_int_equal(lapic_read(&apic, 0xA0), 0x35);
	/* LVTs stay masked while the APIC is software-disabled */
	lapic_write(&apic, 0x350, 0x700);
	assert_int_equal(lapic_read(&apic, 0x350), 0x10700);
	lapic_write(&apic, 0xF0, 0x1FF);
	lapic_write(&apic, 0x350, 0x700);
	assert_int_equal(lapic_read(&apic, 0x350), 0x700);
	lapic_write(&apic, 0x300, 0x1C4500);
	assert_int_equal(lapic_read(&apic, 0x300) & (1u << 12), 0);
	lapic_write(&apic, 0x20, 0xFF000000u); /* ID is read-only here */
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
	lapic_write(&apic, 0xB0, 0);                            /* EOI */
	assert_int_equal(lapic_read(&apic, 0x100 + 0x10 * 3), 0);
	assert_int_equal(lapic_deliverable(&apic), 0x41);
	lapic_write(&apic, 0x80, 0x50);                         /* TPR class 5 masks 0x41 */
	assert_int_equal(lapic_deliverable(&apic), -1);
	assert_true(lapic_has_pending(&apic));
	assert_true(lapic_write(&apic, 0x300, 0x4041));         /* ICR low: send */
	assert_false(lapic_write(&apic, 0x310, 0x01000000));    /* ICR high: no send */
}

static void vm_ram_uses_2m_pages_where_allowed(void **state)
{
	(void)state;
	static struct vm vm;
	size_t before = fake_pages_outstanding();
	assert_null(vm_create_with_pages(&vm, 0, "big", 5ULL << 20, VM_PAGES_2M));
	assert_int_equal(ept_mapping_size(&vm.ept, 0), 2ULL << 20);
	assert_int_equal(ept_mapping_size(&vm.ept, (2ULL << 20) + 123), 2ULL << 20);
	assert_int_equal(ept_mapping_size(&vm.ept, 4ULL << 20), 4096); /* the odd 1 MiB */
	assert_int_equal(ept_mapping_size(&vm.ept, 5ULL << 20), 0);
	/* PML4, PDPT, PD, and one PT for the last MiB */
	assert_int_equal(vm.ept.table_pages, 4);
	uint32_t word = 0x12345678, back = 0;
	assert_true(guest_write(&vm, (2ULL << 20) - 2, &word, 4)); /* across two large pages */
	assert_true(guest_read(&vm, (2ULL << 20) - 2, &back, 4));
	assert_int_equal(back, word);
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), before);
}

static void vm_ram_uses_1g_pages_where_allowed(void **state)
{
	(void)state;
	static struct vm vm;
	size_t before = fake_pages_outstanding();
	assert_null(vm_create_with_pages(&vm, 0, "huge", 1ULL << 30, VM_PAGES_1G | VM_PAGES_2M));
	assert_int_equal(ept_mapping_size(&vm.ept, (1ULL << 30) - 1), 1ULL << 30);
	assert_int_equal(vm.ept.table_pages, 2); /* PML4 and PDPT only */
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), before);
}

static void vm_ram_falls_back_to_4k_pages(void **state)
{
	(void)state;
	static struct vm vm;
	size_t before = fake_pages_outstanding();
	assert_null(vm_create(&vm, 0, "small", 2ULL << 20));
	assert_int_equal(ept_mapping_size(&vm.ept, 0), 4096);
	assert_int_equal(vm.ept.table_pages, 4);
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), before);
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
		cmocka_unit_test(xsetbv_rules),
		cmocka_unit_test(cpuid_signature_leaf),
		cmocka_unit_test(cpuid_leaf1_policy),
		cmocka_unit_test(cpuid_pmu_leaf_zeroed),
		cmocka_unit_test(cpuid_follows_misc_enable),
		cmocka_unit_test(msr_bitmap_passes_through_only_the_safe_msrs),
		cmocka_unit_test(fw_cfg_items),
		cmocka_unit_test(pic_init_sequence_then_mask),
		cmocka_unit_test(pic_single_mode_skips_icw3),
		cmocka_unit_test(lapic_registers),
		cmocka_unit_test(lapic_priorities_irr_isr_and_eoi),
		cmocka_unit_test(vm_ram_uses_2m_pages_where_allowed),
		cmocka_unit_test(vm_ram_uses_1g_pages_where_allowed),
		cmocka_unit_test(vm_ram_falls_back_to_4k_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
