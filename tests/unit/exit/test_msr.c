/*
 * The MSR policy of docs/guest-contract.md, rule by rule, on a vCPU built
 * on the fake tigerlake CPU: what reads return, which writes stick, which
 * raise #GP (msr_emulate_* returning false).  Tests core/exit/msr.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exit/exit.h"
#include "exit/msr.h"
#include "vm/protect.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "vm/vm.h"
#include "vcpu/msr_state.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpu;

static int setup(void **state)
{
	(void)state;
	fixture_reset_machine();
	/* CPUID 0x80000001 EDX: SYSCALL (11), NX (20), LM (29); 0x80000008: 39-bit addresses */
	fake_cpuid_set(0x80000000, 0, 0x80000008, 0, 0, 0);
	fake_cpuid_set(0x80000001, 0, 0, 0, 0, (1u << 11) | (1u << 20) | (1u << 29));
	fake_cpuid_set(0x80000008, 0, 39, 0, 0, 0);
	fixture_vmx_on_and_vm(&cpu, &vm, 0, "msr", 1);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
	return 0;
}

static uint64_t read_ok(uint32_t msr)
{
	uint64_t v = 0xDEAD;
	if (!msr_emulate_read(&vcpu, msr, &v))
		fail_msg("RDMSR 0x%x raised #GP", msr);
	return v;
}

static void vmx_and_unknown_msrs_fault(void **state)
{
	(void)state;
	uint64_t v;
	for (uint32_t msr = 0x480; msr <= 0x491; msr++) {
		assert_false(msr_emulate_read(&vcpu, msr, &v));
		assert_false(msr_emulate_write(&vcpu, msr, 0));
	}
	assert_false(msr_emulate_read(&vcpu, 0x4B564D00, &v));
	assert_false(msr_emulate_read(&vcpu, 0xC0001234, &v));
	assert_false(msr_emulate_write(&vcpu, 0x12345678, 1));
	assert_false(msr_emulate_read(&vcpu, 0x802, &v)); /* x2APIC ID */
	assert_false(msr_emulate_write(&vcpu, 0x80B, 0)); /* x2APIC EOI */
}

static void feature_control_reads_locked_off_and_refuses_writes(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0x3A), 1);
	assert_false(msr_emulate_write(&vcpu, 0x3A, 5));
}

/* IA32_BIOS_SIGN_ID (8BH; SDM Vol. 4 Table 2-2, Vol. 3A 10.11.7.1): software
 * writes 0, executes CPUID.01H and reads the microcode update signature in
 * bits 63:32.  No update is ever loaded into a vCPU, so it reads 0 ("no
 * microcode update loaded"); writes are taken (the procedure writes it) and
 * change nothing.  Linux runs that sequence with unchecked accesses at boot
 * (intel_get_microcode_revision): a #GP there is an "unchecked MSR access
 * error" with a call trace. */
static void bios_sign_id_says_no_update_loaded(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0x8B), 0);
	assert_true(msr_emulate_write(&vcpu, 0x8B, 0));
	assert_int_equal(read_ok(0x8B), 0);
	assert_true(msr_emulate_write(&vcpu, 0x8B, 0x0000002100000000ULL));
	assert_int_equal(read_ok(0x8B), 0);
	/* Its neighbour IA32_BIOS_UPDT_TRIG (79H, loading an update) stays #GP. */
	uint64_t v;
	assert_false(msr_emulate_read(&vcpu, 0x79, &v));
	assert_false(msr_emulate_write(&vcpu, 0x79, 0x1000));
}

static void apic_base_is_virtual(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0x1B), 0xFEE00900);
	assert_true(msr_emulate_write(&vcpu, 0x1B, 0xFEE00100)); /* disable */
	assert_int_equal(read_ok(0x1B), 0xFEE00100);
	assert_true(msr_emulate_write(&vcpu, 0x1B, 0xFEE00900)); /* enable again */
	assert_false(msr_emulate_write(&vcpu, 0x1B, 0xFEE00D00)); /* x2APIC not offered */
	assert_false(msr_emulate_write(&vcpu, 0x1B, 0xFEE00901)); /* reserved bit 0 */
	assert_false(msr_emulate_write(&vcpu, 0x1B, 0xFEE00800)); /* BSP is read-only */
	assert_false(msr_emulate_write(&vcpu, 0x1B, (1ULL << 40) | 0x900)); /* above MAXPHYADDR */
	/* The fake CPU has no IA32_APIC_BASE: any real RDMSR/WRMSR of it would
	 * have failed this test, so the real APIC was never touched. */
}

/* SDM Vol. 4 Table 2-2: R/W bits 3, 16, 18, 22, 23, 34; read-only 7, 11, 12; 0 (fast
 * strings) is the host's, which the fake CPU has on. */
static void misc_enable_keeps_its_fixed_bits(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0x1A0), 0x1801);
	assert_true(msr_emulate_write(&vcpu, 0x1A0, 0));
	assert_int_equal(read_ok(0x1A0), 0x1801); /* 0 (the host's), 11 and 12 are read-only */
	assert_true(msr_emulate_write(&vcpu, 0x1A0, (1ULL << 22) | 1 | (1ULL << 18)));
	assert_int_equal(read_ok(0x1A0), 0x1801 | (1ULL << 22) | (1ULL << 18));
	/* The write the issue saw read back as 0x401801. */
	assert_true(msr_emulate_write(&vcpu, 0x1A0, 0x400c50809ULL));
	assert_int_equal(read_ok(0x1A0), 0x400c51809ULL);
}

/* Fast strings is the host's (the guest's string instructions run with the
 * host's setting): a write does not change it, either way. */
static void misc_enable_fast_strings_is_the_hosts(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0x1A0) & 1, 1); /* the fake host has them on */
	assert_true(msr_emulate_write(&vcpu, 0x1A0, 0x1800));
	assert_int_equal(read_ok(0x1A0), 0x1801);
	/* A CPU whose firmware turned them off: the vCPU's reset values
	 * (msr_state_init) read 0, and a write of 1 is taken without turning
	 * them on. */
	fake_msr_set(0x1A0, 0x50088, false);
	msr_state_init(&vcpu.msrs, true);
	assert_int_equal(read_ok(0x1A0), 0x1800);
	assert_true(msr_emulate_write(&vcpu, 0x1A0, 0x1801));
	assert_int_equal(read_ok(0x1A0), 0x1800);
	/* The host's own register is untouched. */
	assert_int_equal(fake_msr_value(0x1A0), 0x50088);
}

static void misc_enable_reserved_bits_fault(void **state)
{
	(void)state;
	const uint64_t defined = 0x1 | 1ULL << 3 | 1ULL << 7 | 1ULL << 11 | 1ULL << 12 |
				 1ULL << 16 | 1ULL << 18 | 1ULL << 22 | 1ULL << 23 | 1ULL << 34;
	for (unsigned bit = 0; bit < 64; bit++)
		if (!(defined >> bit & 1))
			assert_false(msr_emulate_write(&vcpu, 0x1A0, 0x1801 | 1ULL << bit));
	assert_int_equal(read_ok(0x1A0), 0x1801);
}

/* XD disable hides NX and refuses EFER.NXE; it cannot be set while NXE is. */
static void misc_enable_xd_disable_guards_efer_nxe(void **state)
{
	(void)state;
	const uint64_t xd_disable = 1ULL << 34;
	assert_true(msr_emulate_write(&vcpu, 0x1A0, 0x1801 | xd_disable));
	assert_false(msr_emulate_write(&vcpu, 0xC0000080, 1ULL << 11)); /* NXE */
	assert_true(msr_emulate_write(&vcpu, 0x1A0, 0x1801));
	assert_true(msr_emulate_write(&vcpu, 0xC0000080, 1ULL << 11));
	assert_false(msr_emulate_write(&vcpu, 0x1A0, 0x1801 | xd_disable));
}

static void mtrrs_validate_memory_types(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0xFE), 0x508);
	assert_false(msr_emulate_write(&vcpu, 0xFE, 0));
	assert_true(msr_emulate_write(&vcpu, 0x2FF, 0xC06));
	assert_int_equal(read_ok(0x2FF), 0xC06);
	assert_false(msr_emulate_write(&vcpu, 0x2FF, 0x2));     /* type 2 is reserved */
	assert_false(msr_emulate_write(&vcpu, 0x2FF, 0x1006));  /* reserved bit 12 */
	assert_true(msr_emulate_write(&vcpu, 0x250, 0x0606060606060606ULL));
	assert_int_equal(read_ok(0x250), 0x0606060606060606ULL);
	assert_false(msr_emulate_write(&vcpu, 0x26F, 0x0606060606060603ULL));
	assert_true(msr_emulate_write(&vcpu, 0x200, 0x80000006));      /* PHYSBASE0 */
	assert_true(msr_emulate_write(&vcpu, 0x201, 0x7F80000800ULL)); /* PHYSMASK0, valid */
	assert_int_equal(read_ok(0x201), 0x7F80000800ULL);
	assert_false(msr_emulate_write(&vcpu, 0x200, 0x80000106));     /* reserved bit 8 */
	assert_false(msr_emulate_write(&vcpu, 0x201, 1ULL << 45));     /* above MAXPHYADDR */
}

static void machine_check_banks(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0x179), 2);
	assert_false(msr_emulate_write(&vcpu, 0x179, 0));
	assert_true(msr_emulate_write(&vcpu, 0x17A, 0));
	assert_false(msr_emulate_write(&vcpu, 0x17A, 1));
	/* MCi_CTL: 0 or all ones (SDM Vol. 3B 16.3.2.1). */
	assert_false(msr_emulate_write(&vcpu, 0x404, 0xFF)); /* MC1_CTL */
	assert_false(msr_emulate_write(&vcpu, 0x404, 0x0000800000000000ULL)); /* non-canonical */
	assert_true(msr_emulate_write(&vcpu, 0x404, ~0ULL));
	assert_int_equal(read_ok(0x404), ~0ULL);
	/* MCi_STATUS: only 0. */
	assert_int_equal(read_ok(0x401), 0);
	assert_true(msr_emulate_write(&vcpu, 0x401, 0));
	assert_false(msr_emulate_write(&vcpu, 0x405, 1));
	/* MCi_ADDR and MCi_MISC: any value, read back. */
	assert_true(msr_emulate_write(&vcpu, 0x402, 0x123456789ABCDEF0ULL));
	assert_int_equal(read_ok(0x402), 0x123456789ABCDEF0ULL);
	assert_true(msr_emulate_write(&vcpu, 0x407, ~0ULL));
	assert_int_equal(read_ok(0x407), ~0ULL);
	/* Banks 2-31 do not exist (MCG_CAP.Count = 2). */
	uint64_t v;
	for (uint32_t msr = 0x408; msr < 0x480; msr++) {
		assert_false(msr_emulate_read(&vcpu, msr, &v));
		assert_false(msr_emulate_write(&vcpu, msr, 0));
	}
}

static void efer_goes_through_the_vmcs(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0xC0000080), 0);
	assert_true(msr_emulate_write(&vcpu, 0xC0000080, (1ULL << 8) | (1ULL << 11) | 1));
	assert_int_equal(vmcs_read(GUEST_IA32_EFER), (1ULL << 8) | (1ULL << 11) | 1);
	assert_true(msr_emulate_write(&vcpu, 0xC0000080, 1ULL << 10)); /* LMA: ignored */
	assert_int_equal(vmcs_read(GUEST_IA32_EFER) & (1ULL << 10), 0);
	assert_false(msr_emulate_write(&vcpu, 0xC0000080, 1ULL << 12)); /* reserved */
	/* LME cannot change while paging is on */
	vmcs_write(GUEST_CR0, vmcs_read(GUEST_CR0) | (1ULL << 31));
	assert_false(msr_emulate_write(&vcpu, 0xC0000080, 1ULL << 8));
}

static void pat_and_debugctl(void **state)
{
	(void)state;
	assert_int_equal(read_ok(0x277), 0x0007040600070406ULL);
	assert_true(msr_emulate_write(&vcpu, 0x277, 0x0001050400070406ULL));
	assert_int_equal(vmcs_read(GUEST_IA32_PAT), 0x0001050400070406ULL);
	assert_false(msr_emulate_write(&vcpu, 0x277, 0x0007040600070402ULL)); /* type 2 */
	assert_false(msr_emulate_write(&vcpu, 0x277, 0x0807040600070406ULL)); /* type 8 */
	assert_true(msr_emulate_write(&vcpu, 0x1D9, 2)); /* BTF */
	assert_false(msr_emulate_write(&vcpu, 0x1D9, 1)); /* LBR not offered */
}

static void tsc_write_sets_the_offset(void **state)
{
	(void)state;
	fake_cpu.tsc = 1000;
	assert_true(msr_emulate_write(&vcpu, 0x10, 5000));
	assert_int_equal(vmcs_read(TSC_OFFSET), 4000);
}

/* IA32_TSC_ADJUST (SDM Vol. 3B 17.17.3): writing it moves the TSC by the
 * difference; writing the TSC moves it by the same amount. */
static void tsc_adjust_moves_the_tsc_and_follows_tsc_writes(void **state)
{
	(void)state;
	fake_cpu.tsc = 1000;
	assert_int_equal(read_ok(0x3B), 0);
	assert_true(msr_emulate_write(&vcpu, 0x3B, 300));
	assert_int_equal(vmcs_read(TSC_OFFSET), 300);
	assert_int_equal(read_ok(0x3B), 300);
	assert_true(msr_emulate_write(&vcpu, 0x3B, 100)); /* down by 200 */
	assert_int_equal(vmcs_read(TSC_OFFSET), 100);
	assert_true(msr_emulate_write(&vcpu, 0x10, 5000)); /* guest TSC 1100 -> 5000 */
	assert_int_equal(vmcs_read(TSC_OFFSET), 4000);
	assert_int_equal(read_ok(0x3B), 4000);
	/* Without CPUID.7:EBX[1] the MSR does not exist. */
	fake_cpuid_set(7, 0, 0, 0, 0, 0);
	uint64_t v;
	assert_false(msr_emulate_read(&vcpu, 0x3B, &v));
	assert_false(msr_emulate_write(&vcpu, 0x3B, 0));
}

/* ---- Pinned MSRs (vm/protect.h), through the WRMSR exit ---- */

static void wrmsr_exit(uint32_t msr, uint64_t value)
{
	vcpu.gprs.regs[GPR_RCX] = msr;
	vcpu.gprs.regs[GPR_RAX] = (uint32_t)value;
	vcpu.gprs.regs[GPR_RDX] = value >> 32;
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
	fake_vmcs_set(GUEST_RIP.encoding, FIXTURE_ENTRY);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, 2);
	exit_dispatch(&vcpu, 32 /* WRMSR */);
}

/* A whole-value pin: the WRMSR completes (no #GP) and the value stays. */
static void pinned_sysenter_eip_keeps_its_value(void **state)
{
	(void)state;
	vmcs_write(GUEST_SYSENTER_EIP, 0x101234);
	assert_int_equal(protect_pin_msr(&vcpu, 0x176), PROTECT_OK);
	wrmsr_exit(0x176, 0xBAD00000);
	assert_int_equal(vmcs_read(GUEST_SYSENTER_EIP), 0x101234);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), 0);
	assert_int_equal(vmcs_read(GUEST_RIP), FIXTURE_ENTRY + 2);
	assert_int_equal(protect_pending_events(&vm), 1);
	assert_false(vm.ended);
}

/* EFER.NXE pinned: a write clearing it keeps it, the rest is written; the
 * EFER rules still refuse a reserved bit with #GP. */
static void pinned_efer_nxe_stays_set(void **state)
{
	(void)state;
	wrmsr_exit(0xC0000080, (1ULL << 11) | 1);
	assert_int_equal(vmcs_read(GUEST_IA32_EFER), (1ULL << 11) | 1);
	assert_int_equal(protect_pin_msr(&vcpu, 0xC0000080), PROTECT_OK);
	wrmsr_exit(0xC0000080, 0);
	assert_int_equal(vmcs_read(GUEST_IA32_EFER), 1ULL << 11);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), 0);
	assert_int_equal(vmcs_read(GUEST_RIP), FIXTURE_ENTRY + 2);
	wrmsr_exit(0xC0000080, 1ULL << 12);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & 0xFF, 13); /* #GP */
	assert_int_equal(vmcs_read(GUEST_IA32_EFER), 1ULL << 11);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_KEPT], 1); /* not the refused write */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(vmx_and_unknown_msrs_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(feature_control_reads_locked_off_and_refuses_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(bios_sign_id_says_no_update_loaded, setup, teardown),
		cmocka_unit_test_setup_teardown(apic_base_is_virtual, setup, teardown),
		cmocka_unit_test_setup_teardown(misc_enable_keeps_its_fixed_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(misc_enable_fast_strings_is_the_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(misc_enable_reserved_bits_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(misc_enable_xd_disable_guards_efer_nxe, setup, teardown),
		cmocka_unit_test_setup_teardown(mtrrs_validate_memory_types, setup, teardown),
		cmocka_unit_test_setup_teardown(machine_check_banks, setup, teardown),
		cmocka_unit_test_setup_teardown(efer_goes_through_the_vmcs, setup, teardown),
		cmocka_unit_test_setup_teardown(pat_and_debugctl, setup, teardown),
		cmocka_unit_test_setup_teardown(tsc_write_sets_the_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(tsc_adjust_moves_the_tsc_and_follows_tsc_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(pinned_sysenter_eip_keeps_its_value, setup, teardown),
		cmocka_unit_test_setup_teardown(pinned_efer_nxe_stays_set, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
