/*
 * Tests of core/exit/cpuid.c: CPUID exits of a real VM and vCPU on the fake
 * Tiger Lake CPU, fed to exit_dispatch: the hypervisor leaves, leaf 1 as the
 * guest sees it, and the end of STI blocking.  Then the policies alone:
 * cpuid_apply_policy (the signature leaf, leaf 1, the zeroed PMU leaf) and
 * cpuid_apply_hosted_os_policy.
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

/* ---- CPUID ---- */

static void test_cpuid_hypervisor_leaf_returns_the_signature(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0xFFFFFFFF00000000ULL | CVISOR_CPUID_BASE; /* upper half ignored */
	*reg(GPR_RCX) = 0;
	*reg(GPR_RBX) = 0xFFFFFFFFFFFFFFFFULL;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RAX), CVISOR_CPUID_MAX_LEAF);
	assert_int_equal(*reg(GPR_RBX), 0x73697663); /* "cvis" */
	assert_int_equal(*reg(GPR_RCX), 0x0000726F); /* "or" */
	assert_int_equal(*reg(GPR_RDX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	check_vm_running();
}

/* Leaf 0x40000010 (VMware's and KVM's timing leaf): the TSC rate and the
 * APIC timer's, which counts TSC ticks, both in kHz. */
static void test_cpuid_timing_leaf_gives_the_tsc_rate_in_khz(void **state)
{
	(void)state;
	uint64_t saved = fake_tsc_hz;
	fake_tsc_hz = 2904123456ULL;
	*reg(GPR_RAX) = CVISOR_CPUID_TIMING;
	*reg(GPR_RCX) = 0;
	*reg(GPR_RDX) = 0xFFFF;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RAX), 2904123);
	assert_int_equal(*reg(GPR_RBX), 2904123);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(*reg(GPR_RDX), 0);
	/* The leaves between the version and timing leaves read 0. */
	*reg(GPR_RAX) = CVISOR_CPUID_BASE + 2;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RAX), 0);
	/* The signature leaf names it as the highest. */
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RAX), CVISOR_CPUID_TIMING);
	fake_tsc_hz = saved;
}

static void test_cpuid_version_leaf_gives_the_abi_version(void **state)
{
	(void)state;
	*reg(GPR_RAX) = CVISOR_CPUID_BASE + 1;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RAX), CVISOR_VERSION_MAJOR << 16 | CVISOR_VERSION_MINOR);
	assert_int_equal(*reg(GPR_RBX), CVISOR_HYPERCALL_ABI_VERSION);
}

static void test_cpuid_leaf_1_hides_vmx_and_shows_a_hypervisor(void **state)
{
	(void)state;
	struct cpuid_regs host;
	cpuid(1, 0, &host);
	assert_true(host.ecx & (1u << 5)); /* the host has VMX */

	*reg(GPR_RAX) = 1;
	exit_with(R_CPUID, 0, 2);
	uint32_t ecx = (uint32_t)*reg(GPR_RCX);
	assert_false(ecx & (1u << 5));  /* VMX */
	assert_true(ecx & (1u << 31));  /* hypervisor present */
	assert_false(ecx & (1u << 21)); /* x2APIC */
	assert_int_equal(*reg(GPR_RAX), host.eax);
	assert_int_equal(ecx & (1u << 26), host.ecx & (1u << 26)); /* XSAVE passes */
}

static void test_cpuid_leaf_1_osxsave_mirrors_the_guest_cr4(void **state)
{
	(void)state;
	/* The host runs with CR4.OSXSAVE (vmx_prepare_guest_fpu_switching set it), the guest without. */
	assert_true(fake_cpu.cr4 & CR4_OSXSAVE);
	*reg(GPR_RAX) = 1;
	exit_with(R_CPUID, 0, 2);
	assert_false(*reg(GPR_RCX) & (1u << 27));

	fake_cpu.cr4 &= ~CR4_OSXSAVE;
	fake_vmcs_set(GUEST_CR4.encoding, vmcs(GUEST_CR4.encoding) | CR4_OSXSAVE);
	*reg(GPR_RAX) = 1;
	exit_with(R_CPUID, 0, 2);
	assert_true(*reg(GPR_RCX) & (1u << 27));
}

/* A CPUID exit is fault-like: the CPU has not run the instruction, so no
 * single-step trap is pending yet.  cvisor completes it, and with RFLAGS.TF
 * the trap must follow (SDM Vol. 3B 18.3.1.4): BS in the pending debug
 * exceptions, delivered after VM entry (Vol. 3C 27.7.3).  (Bochs sets BS on
 * such exits itself; hardware does not.) */
static void test_cpuid_single_step_trap_is_made_pending(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PENDING_DBG_EXCEPTIONS.encoding, 0);
	fake_vmcs_set(GUEST_RFLAGS.encoding, RFLAGS_RESERVED_1);
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0); /* no TF: no trap */

	fake_vmcs_set(GUEST_RFLAGS.encoding, RFLAGS_RESERVED_1 | RFLAGS_TF);
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), PENDING_DBG_BS);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 4);

	/* With DEBUGCTL.BTF, TF traps on taken branches only (Vol. 3B 18.4.3). */
	fake_vmcs_set(GUEST_PENDING_DBG_EXCEPTIONS.encoding, 0);
	fake_vmcs_set(GUEST_IA32_DEBUGCTL.encoding, DEBUGCTL_BTF);
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0);
}

static void test_cpuid_ends_sti_blocking(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_INTERRUPTIBILITY_INFO.encoding, 1); /* blocking by STI */
	*reg(GPR_RAX) = 0;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(vmcs(GUEST_INTERRUPTIBILITY_INFO.encoding), 0);
	assert_int_equal(*reg(GPR_RBX), 0x756E6547); /* "Genu" from the host */
}

static void cpuid_signature_leaf(void **state)
{
	(void)state;
	struct cpuid_regs r = { 1, 2, 3, 4 };
	cpuid_apply_policy(CVISOR_CPUID_BASE, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, CVISOR_CPUID_MAX_LEAF);
	assert_memory_equal(&r.ebx, "cvis", 4);
	assert_memory_equal(&r.ecx, "or\0\0", 4);
	assert_int_equal(r.edx, 0);
	r = (struct cpuid_regs){ 9, 9, 9, 9 };
	cpuid_apply_policy(CVISOR_CPUID_BASE + 1, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, CVISOR_VERSION_MAJOR << 16 | CVISOR_VERSION_MINOR);
	assert_int_equal(r.ebx, CVISOR_HYPERCALL_ABI_VERSION);
	r = (struct cpuid_regs){ 9, 9, 9, 9 };
	cpuid_apply_policy(CVISOR_CPUID_BASE + 7, 0, 0, 0, 0, &r);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
}

static void cpuid_leaf1_policy(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0, 0, 0xFFFFFFFFu & ~(1u << 31), 0xFFFFFFFFu };
	cpuid_apply_policy(1, 0, 0, 0, 0, &r);
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
	cpuid_apply_policy(1, 0, CR4_OSXSAVE, 0, 0, &r);
	assert_true(r.ecx & (1u << 27));
}

static void cpuid_pmu_leaf_zeroed(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0x07300402, 0, 0, 0x603 };
	cpuid_apply_policy(0xA, 0, 0, 0, 0, &r);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	r = (struct cpuid_regs){ 0x12, 0x34, 0x56, 0x78 };
	cpuid_apply_policy(0x7, 0, 0, 0, 0, &r); /* other leaves pass through */
	assert_int_equal(r.eax, 0x12);
	assert_int_equal(r.edx, 0x78);
}

/* ---- The hosted_os CPUID policy and MSR bitmap ---- */

/* IA32_MISC_ENABLE acts on CPUID (SDM Vol. 4 Table 2-2). */
static void cpuid_follows_misc_enable(void **state)
{
	(void)state;
	const uint64_t limit_cpuid = 1ULL << 22, xd_disable = 1ULL << 34;
	struct cpuid_regs r = { 0x1B, 0x756E6547, 0x6C65746E, 0x49656E69 };
	cpuid_apply_policy(0, 0, 0, limit_cpuid, 0, &r);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 0x756E6547); /* the vendor stays */
	r.eax = 0x1B;
	cpuid_apply_policy(0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, 0x1B);
	r = (struct cpuid_regs){ 0, 0, 0x121, (1u << 11) | (1u << 20) | (1u << 29) };
	cpuid_apply_policy(0x80000001, 0, 0, xd_disable, 0, &r);
	assert_int_equal(r.edx, (1u << 11) | (1u << 29)); /* NX hidden, the rest kept */
	r.edx |= 1u << 20;
	cpuid_apply_policy(0x80000001, 0, 0, 0, 0, &r);
	assert_true(r.edx & (1u << 20));
}

static void cpuid_policy_adds_the_hypervisor_and_hides_vmx_only(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0x000806C1, 0x00010800, 0x77FAFBBF, 0xBFEBFBFF };
	cpuid_apply_hosted_os_policy(1, &r);
	assert_int_equal(r.eax, 0x000806C1);
	assert_int_equal(r.ebx, 0x00010800);
	/* VMX (5) cleared, hypervisor (31) set; x2APIC, PDCM, OSXSAVE, DTES64,
	 * MONITOR stay as the CPU says (the OS keeps what it uses). */
	assert_int_equal(r.ecx, (0x77FAFBBFu & ~(1u << 5)) | (1u << 31));
	assert_int_equal(r.edx, 0xBFEBFBFF);

	/* The PMU leaf is the CPU's. */
	struct cpuid_regs pmu = { 0x07300805, 0, 0, 0x603 };
	cpuid_apply_hosted_os_policy(0xA, &pmu);
	assert_int_equal(pmu.eax, 0x07300805);
	assert_int_equal(pmu.edx, 0x603);
	struct cpuid_regs other = { 1, 2, 3, 4 };
	cpuid_apply_hosted_os_policy(7, &other);
	assert_int_equal(other.eax, 1);
	assert_int_equal(other.ebx, 2);
	assert_int_equal(other.ecx, 3);
	assert_int_equal(other.edx, 4);

	/* cvisor's leaves. */
	struct cpuid_regs base = { 0xDEAD, 0xDEAD, 0xDEAD, 0xDEAD };
	cpuid_apply_hosted_os_policy(CVISOR_CPUID_BASE, &base);
	assert_int_equal(base.eax, CVISOR_CPUID_MAX_LEAF);
	assert_int_equal(base.ebx, CVISOR_CPUID_SIG_EBX);
	assert_int_equal(base.ecx, CVISOR_CPUID_SIG_ECX);
	assert_int_equal(base.edx, CVISOR_CPUID_SIG_EDX);
	assert_memory_equal(&base.ebx, "cvis", 4);
	assert_memory_equal(&base.ecx, "or\0\0", 4);
	struct cpuid_regs ver = { 0xDEAD, 0xDEAD, 0xDEAD, 0xDEAD };
	cpuid_apply_hosted_os_policy(CVISOR_CPUID_BASE + 1, &ver);
	assert_int_equal(ver.eax, CVISOR_VERSION_MAJOR << 16 | CVISOR_VERSION_MINOR);
	assert_int_equal(ver.ebx, CVISOR_HYPERCALL_ABI_VERSION);
	/* The rest of the hypervisor range reads as zeros. */
	struct cpuid_regs high = { 0xDEAD, 0xDEAD, 0xDEAD, 0xDEAD };
	cpuid_apply_hosted_os_policy(0x4FFFFFFF, &high);
	assert_int_equal(high.eax | high.ebx | high.ecx | high.edx, 0);
	struct cpuid_regs beyond = { 0x11, 0x22, 0x33, 0x44 };
	cpuid_apply_hosted_os_policy(0x50000000, &beyond);
	assert_int_equal(beyond.eax, 0x11);
	assert_int_equal(beyond.edx, 0x44);
}

#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_cpuid_hypervisor_leaf_returns_the_signature),
		C(test_cpuid_version_leaf_gives_the_abi_version),
		C(test_cpuid_timing_leaf_gives_the_tsc_rate_in_khz),
		C(test_cpuid_leaf_1_hides_vmx_and_shows_a_hypervisor),
		C(test_cpuid_leaf_1_osxsave_mirrors_the_guest_cr4),
		C(test_cpuid_ends_sti_blocking),
		C(test_cpuid_single_step_trap_is_made_pending),
		cmocka_unit_test(cpuid_signature_leaf),
		cmocka_unit_test(cpuid_leaf1_policy),
		cmocka_unit_test(cpuid_pmu_leaf_zeroed),
		cmocka_unit_test(cpuid_follows_misc_enable),
		cmocka_unit_test(cpuid_policy_adds_the_hypervisor_and_hides_vmx_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
