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
	cpuid_apply_policy(CVISOR_CPUID_BASE, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, CVISOR_CPUID_MAX_LEAF);
	assert_memory_equal(&r.ebx, "cvis", 4);
	assert_memory_equal(&r.ecx, "or\0\0", 4);
	assert_int_equal(r.edx, 0);
	r = (struct cpuid_regs){ 9, 9, 9, 9 };
	cpuid_apply_policy(CVISOR_CPUID_BASE + 1, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, CVISOR_VERSION_MAJOR << 16 | CVISOR_VERSION_MINOR);
	assert_int_equal(r.ebx, CVISOR_HYPERCALL_ABI_VERSION);
	r = (struct cpuid_regs){ 9, 9, 9, 9 };
	cpuid_apply_policy(CVISOR_CPUID_BASE + 7, 0, 0, 0, 0, 0, &r);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
}

/* CPUID.7:ECX.OSPKE[4] mirrors the guest's CR4.PKE, where PKU is offered
 * (SDM Vol. 2A CPUID); PKU itself passes (PKRU is switched, vcpu.c). */
static void cpuid_leaf7_ospke_mirrors_the_guest_cr4(void **state)
{
	(void)state;
	/* A CPU that enumerates the PKRU state component (CPUID 0DH). */
	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0x1B, 0, 0, 0);
	fake_cpuid_set(0xD, 0, 0x2E7, 0x240, 0xAC0, 0);
	fake_cpuid_set(0xD, 9, 8, 2688, 0, 0);
	struct cpuid_regs r = { 0, 0, (1u << 3) | (1u << 4), 0 };
	cpuid_apply_policy(7, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.ecx, 1u << 3);
	r = (struct cpuid_regs){ 0, 0, 1u << 3, 0 };
	cpuid_apply_policy(7, 0, CR4_PKE, 0, 0, 0, &r);
	assert_int_equal(r.ecx, (1u << 3) | (1u << 4));
	r = (struct cpuid_regs){ 0, 0, 0, 0 }; /* no PKU: no OSPKE either */
	cpuid_apply_policy(7, 0, CR4_PKE, 0, 0, 0, &r);
	assert_int_equal(r.ecx, 0);
	/* Bochs 2.7 reports subleaf 9 as zeros: PKU and XCR0's PKRU go. */
	fake_cpuid_set(0xD, 9, 0, 0, 0, 0);
	r = (struct cpuid_regs){ 0, 0, 1u << 3, 0 };
	cpuid_apply_policy(7, 0, CR4_PKE, 0, 0, 0, &r);
	assert_int_equal(r.ecx, 0);
	r = (struct cpuid_regs){ 0x2E7, 0x240, 0xAC0, 0 };
	cpuid_apply_policy(0xD, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, 0xE7);
}

static void cpuid_leaf1_policy(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0, 0, 0xFFFFFFFFu & ~(1u << 31), 0xFFFFFFFFu };
	cpuid_apply_policy(1, 0, 0, 0, 0, 0, &r);
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
	cpuid_apply_policy(1, 0, CR4_OSXSAVE, 0, 0, 0, &r);
	assert_true(r.ecx & (1u << 27));
}

static void cpuid_pmu_leaf_zeroed(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0x07300402, 0, 0, 0x603 };
	cpuid_apply_policy(0xA, 0, 0, 0, 0, 0, &r);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	r = (struct cpuid_regs){ 0x12, 0x34, 0x56, 0x78 };
	cpuid_apply_policy(0x14, 0, 0, 0, 0, 0, &r); /* other leaves pass through */
	assert_int_equal(r.eax, 0x12);
	assert_int_equal(r.edx, 0x78);
}

/* Leaf 6, thermal and power management (SDM Vol. 2A CPUID): everything
 * but ARAT (EAX bit 2: the APIC timer runs in every C-state, as cvisor's
 * does) needs MSRs cvisor does not emulate (thermal status, HWP, MPERF and
 * APERF, the energy-performance bias): KVM offers ARAT alone too.  Linux
 * reads IA32_APERF unchecked when ECX bit 0 says it may. */
static void cpuid_thermal_leaf_offers_only_arat(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0x00FFFFF7, 0x2, 0xFF09, 0x1 }; /* thermal sensor, HWP, EPB, ... */
	cpuid_apply_policy(6, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, 1u << 2);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
	r = (struct cpuid_regs){ 0x1, 0, 0, 0 }; /* no ARAT: none offered */
	cpuid_apply_policy(6, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, 0);
}

/* ---- Leaf 0x15: the TSC and the core crystal clock ---- */

/* Leaf 0x15 (SDM Vol. 2A CPUID): TSC = ECX (crystal Hz) * EBX / EAX.  The
 * guest's clocks all count at the TSC rate cvisor measured, and so does its
 * APIC timer, which a guest takes to run at the crystal clock: the crystal
 * is that rate, the ratio 1/1, whatever the host's leaf said (Bochs's
 * Skylake-X says 3.5 GHz while its TSC counts instructions). */
static void test_cpuid_tsc_leaf_gives_the_measured_rate_as_the_crystal(void **state)
{
	(void)state;
	uint64_t saved = fake_tsc_hz;
	fake_cpuid_set(0x15, FAKE_ANY_SUBLEAF, 2, 280, 0, 0); /* 3.5 GHz from a 25 MHz crystal */
	fake_tsc_hz = 10012345;
	*reg(GPR_RAX) = 0x15;
	*reg(GPR_RCX) = 0;
	*reg(GPR_RDX) = 0xFFFF;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RAX), 1);
	assert_int_equal(*reg(GPR_RBX), 1);
	assert_int_equal(*reg(GPR_RCX), 10012345);
	assert_int_equal(*reg(GPR_RDX), 0);
	/* The largest rate ECX holds. */
	fake_tsc_hz = 0xFFFFFFFFULL;
	*reg(GPR_RAX) = 0x15;
	*reg(GPR_RCX) = 0;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RCX), 0xFFFFFFFFu);
	assert_int_equal(*reg(GPR_RBX), 1);
	fake_tsc_hz = saved;
	check_vm_running();
}

/* A rate ECX's 32 bits cannot hold: the leaf enumerates nothing (EBX = 0:
 * "the ratio is not enumerated"), so the guest measures the TSC itself. */
static void cpuid_tsc_leaf_not_enumerated_when_the_rate_does_not_fit(void **state)
{
	(void)state;
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	uint64_t saved = fake_tsc_hz;
	fake_tsc_hz = 5000000000ULL;
	struct cpuid_regs r = { 2, 200, 25000000, 0 };
	cpuid_apply_policy(0x15, 0, 0, 0, 0, 0, &r);
	assert_true(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	fake_tsc_hz = saved;
}

/* A CPU whose highest basic leaf is below 0x15 answers a query of 0x15
 * with its highest leaf's data (SDM Vol. 2A CPUID): left alone. */
static void test_cpuid_tsc_leaf_untouched_above_the_highest_leaf(void **state)
{
	(void)state;
	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0xD, 0x756E6547, 0x6C65746E, 0x49656E69);
	struct cpuid_regs r = { 0x11, 0x22, 0x33, 0x44 };
	cpuid_apply_policy(0x15, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, 0x11);
	assert_int_equal(r.ebx, 0x22);
	assert_int_equal(r.ecx, 0x33);
	assert_int_equal(r.edx, 0x44);
}

/* ---- The VM's topology: leaves 1, 4, 0BH, 1FH ---- */

/* Leaf 1 names the vCPU's APIC ID and the package's addressable IDs, not
 * the host CPU's (SDM Vol. 2A CPUID, leaf 01H EBX). */
static void cpuid_topology_leaf_1_names_the_vcpu(void **state)
{
	(void)state;
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	struct cpuid_regs r = { 0x806C1, 0x05100800, 0, 0 }; /* host APIC ID 5, 16 IDs */
	cpuid_apply_topology(1, 0, 1, 2, &r);
	assert_int_equal(r.ebx, 0x01020800);
	assert_true(r.edx & CPUID1_EDX_HTT);

	r = (struct cpuid_regs){ 0x806C1, 0x05100800, 0, CPUID1_EDX_HTT };
	cpuid_apply_topology(1, 0, 0, 1, &r);
	assert_int_equal(r.ebx, 0x00010800);
	assert_false(r.edx & CPUID1_EDX_HTT);

	/* Three vCPUs take two bits of ID: four addressable. */
	r = (struct cpuid_regs){ 0x806C1, 0, 0, 0 };
	cpuid_apply_topology(1, 0, 2, 3, &r);
	assert_int_equal(r.ebx, 0x02040000);
}

/* Leaf 0BH: an SMT level of one thread, a core level of the VM's vCPUs,
 * then the invalid level; EDX the x2APIC ID at every subleaf. */
static void cpuid_topology_leaf_b_levels(void **state)
{
	(void)state;
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake(); /* highest basic leaf 1BH */
	struct cpuid_regs r = { 0xAA, 0xBB, 0xCC, 0xDD };
	cpuid_apply_topology(0xB, 0, 2, 3, &r);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 1);
	assert_int_equal(r.ecx, 0x100);
	assert_int_equal(r.edx, 2);
	r = (struct cpuid_regs){ 0xAA, 0xBB, 0xCC, 0xDD };
	cpuid_apply_topology(0xB, 1, 2, 3, &r);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 3);
	assert_int_equal(r.ecx, 0x201);
	assert_int_equal(r.edx, 2);
	r = (struct cpuid_regs){ 0xAA, 0xBB, 0xCC, 0xDD };
	cpuid_apply_topology(0xB, 7, 2, 3, &r);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 7);
	assert_int_equal(r.edx, 2);
	/* One vCPU: no bits for the core ID. */
	cpuid_apply_topology(0xB, 1, 0, 1, &r);
	assert_int_equal(r.eax, 0);
	assert_int_equal(r.ebx, 1);
}

/* Leaf 1FH above the CPU's highest basic leaf answers with that leaf's
 * data (SDM Vol. 2A CPUID): left alone.  Below it, as leaf 0BH. */
static void cpuid_topology_leaf_1f_only_where_enumerated(void **state)
{
	(void)state;
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake(); /* highest basic leaf 1BH */
	struct cpuid_regs r = { 0x11, 0x22, 0x33, 0x44 };
	cpuid_apply_topology(0x1F, 1, 1, 2, &r);
	assert_int_equal(r.eax, 0x11);
	assert_int_equal(r.edx, 0x44);
	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0x1F, 0x756E6547, 0x6C65746E, 0x49656E69);
	cpuid_apply_topology(0x1F, 1, 1, 2, &r);
	assert_int_equal(r.eax, 1);
	assert_int_equal(r.ebx, 2);
	assert_int_equal(r.ecx, 0x201);
	assert_int_equal(r.edx, 1);
}

/* Leaf 4: the core count in EAX[31:26]; the last level cache shared by
 * every core, L1 and L2 by one; the cache's own description stays. */
static void cpuid_topology_leaf_4_cores_and_sharing(void **state)
{
	(void)state;
	struct cpuid_regs l1 = { 0xFC004121, 0x02C0003F, 0x3F, 0 }; /* type 1, level 1 */
	cpuid_apply_topology(4, 0, 0, 4, &l1);
	assert_int_equal(l1.eax, 0x0C000121);
	assert_int_equal(l1.ebx, 0x02C0003F);
	struct cpuid_regs l3 = { 0xFC0FC163, 0x03C0003F, 0x3FFF, 6 }; /* type 3, level 3 */
	cpuid_apply_topology(4, 3, 0, 4, &l3);
	assert_int_equal(l3.eax, 0x0C00C163);
	assert_int_equal(l3.edx, 6);
	struct cpuid_regs none = { 0xFC000000, 0, 0, 0 }; /* type 0: no more caches */
	cpuid_apply_topology(4, 4, 0, 4, &none);
	assert_int_equal(none.eax, 0xFC000000);
}

/* Through a CPUID exit: the guest's vCPU 0 of a one-vCPU VM reads APIC
 * ID 0 wherever the host CPU's own ID is. */
static void test_cpuid_leaf_1_apic_id_is_the_vcpus(void **state)
{
	(void)state;
	struct fake_cpuid_entry *e = fake_cpuid_entry(1, FAKE_ANY_SUBLEAF);
	assert_non_null(e);
	e->regs.ebx = (e->regs.ebx & 0xFFFFu) | 0x07100000u;
	*reg(GPR_RAX) = 1;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal((uint32_t)*reg(GPR_RBX) >> 24, 0);
	assert_int_equal(((uint32_t)*reg(GPR_RBX) >> 16) & 0xFF, 1);
	*reg(GPR_RAX) = 0xB;
	*reg(GPR_RCX) = 1;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RBX), 1);
	assert_int_equal(*reg(GPR_RDX), 0);
}

/* ---- Leaf 0xD subleaf 1: the compacted XSAVE area's size ---- */

/* Bochs 2.7's Skylake-X layout (leaf 0xD subleaf i: EAX size, EBX offset,
 * ECX bit 1 "64-byte aligned when compacted"). */
static void set_xsave_components(uint32_t zmm_hi256_ecx)
{
	fake_cpuid_set(0xD, 0, 0x2E7, 0xA88, 0xA88, 0);
	fake_cpuid_set(0xD, 1, 0xF, 0xA80, 0, 0); /* XSAVEOPT, XSAVEC, XGETBV1, XSAVES */
	fake_cpuid_set(0xD, 2, 256, 576, 0, 0);     /* AVX */
	fake_cpuid_set(0xD, 5, 64, 1088, 0, 0);     /* opmask */
	fake_cpuid_set(0xD, 6, 512, 1152, zmm_hi256_ecx, 0); /* ZMM_Hi256 */
	fake_cpuid_set(0xD, 7, 1024, 1664, 0, 0);   /* Hi16_ZMM */
	fake_cpuid_set(0xD, 9, 8, 2688, 0, 0);      /* PKRU */
}

/* CPUID.(EAX=0DH,ECX=1):EBX is the size of the XSAVE area for XCR0 |
 * IA32_XSS in the compacted format (SDM Vol. 1 13.4.3): the legacy area
 * and header (576 bytes), then each enabled component in order, at a
 * 64-byte boundary if its ECX bit 1 says so.  The guest's IA32_XSS is 0
 * (XSAVES is hidden), so its XCR0 alone counts.  Bochs 2.7 reports the
 * standard format's size (0xA80), which Linux checks and rejects with a
 * WARNING ("XSAVE consistency problem"). */
static void test_cpuid_xsave_compacted_size_follows_the_guest_xcr0(void **state)
{
	(void)state;
	set_xsave_components(0);
	vcpu.xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512;
	*reg(GPR_RAX) = 0xD;
	*reg(GPR_RCX) = 1;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RBX), 576 + 256 + 64 + 512 + 1024);
	/* XSAVEOPT and XGETBV1 stay; XSAVEC (Bochs 2.7 gets its layout
	 * wrong) and XSAVES are hidden, so a guest saves in the standard
	 * format, whose size subleaf 0 gives. */
	assert_int_equal(*reg(GPR_RAX), 0x5);

	vcpu.xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU;
	*reg(GPR_RAX) = 0xD;
	*reg(GPR_RCX) = 1;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RBX), 576 + 256 + 64 + 512 + 1024 + 8);

	vcpu.xcr0 = XCR0_X87 | XCR0_SSE;
	*reg(GPR_RAX) = 0xD;
	*reg(GPR_RCX) = 1;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(*reg(GPR_RBX), 576);
	check_vm_running();
}

static void cpuid_xsave_compacted_size_aligns_marked_components(void **state)
{
	(void)state;
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	set_xsave_components(1u << 1); /* ZMM_Hi256 starts 64-byte aligned */
	/* AVX 576-832, opmask 832-896, ZMM_Hi256 896 (aligned already) to
	 * 1408, Hi16_ZMM to 2432. */
	struct cpuid_regs r = { 0xF, 0xA80, 0, 0 };
	cpuid_apply_policy(0xD, 1, 0, 0, 0, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512, &r);
	assert_int_equal(r.ebx, 2432);
	/* An 8-byte component before it: 576-584, then ZMM_Hi256 at 640 (not
	 * 584) to 1152. */
	fake_cpuid_set(0xD, 5, 8, 1088, 0, 0);
	r = (struct cpuid_regs){ 0xF, 0xA80, 0, 0 };
	cpuid_apply_policy(0xD, 1, 0, 0, 0, XCR0_X87 | XCR0_SSE | (1ULL << 5) | (1ULL << 6), &r);
	assert_int_equal(r.ebx, 1152);
}

/* Without XSAVEC (EAX bit 1) nothing uses the compacted format: the
 * host's EBX stays. */
static void cpuid_xsave_subleaf_1_untouched_without_xsavec(void **state)
{
	(void)state;
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	set_xsave_components(0);
	struct cpuid_regs r = { 0x1, 0x1234, 0, 0 };
	cpuid_apply_policy(0xD, 1, 0, 0, 0, XCR0_X87 | XCR0_SSE | XCR0_AVX, &r);
	assert_int_equal(r.ebx, 0x1234);
	assert_int_equal(r.eax, 0x1);
}

/* ---- The hosted_os CPUID policy and MSR bitmap ---- */

/* IA32_MISC_ENABLE acts on CPUID (SDM Vol. 4 Table 2-2; Vol. 1 7.3.9.3). */
static void cpuid_follows_misc_enable(void **state)
{
	(void)state;
	const uint64_t limit_cpuid = 1ULL << 22, xd_disable = 1ULL << 34;
	struct cpuid_regs r = { 0x1B, 0x756E6547, 0x6C65746E, 0x49656E69 };
	cpuid_apply_policy(0, 0, 0, limit_cpuid, 0, 0, &r);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 0x756E6547); /* the vendor stays */
	r.eax = 0x1B;
	cpuid_apply_policy(0, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.eax, 0x1B);
	r = (struct cpuid_regs){ 0, 0, 0x121, (1u << 11) | (1u << 20) | (1u << 29) };
	cpuid_apply_policy(0x80000001, 0, 0, xd_disable, 0, 0, &r);
	assert_int_equal(r.edx, (1u << 11) | (1u << 29)); /* NX hidden, the rest kept */
	r.edx |= 1u << 20;
	cpuid_apply_policy(0x80000001, 0, 0, 0, 0, 0, &r);
	assert_true(r.edx & (1u << 20));
	/* Fast strings off: leaf 7 subleaf 0 loses ERMS (EBX 9) and FSRM
	 * (EDX 4), and keeps them while on; other subleaves are untouched. */
	const uint64_t fast_strings = 1;
	r = (struct cpuid_regs){ 0, (1u << 9) | (1u << 3), 0, (1u << 4) | (1u << 10) };
	cpuid_apply_policy(7, 0, 0, 0, 0, 0, &r);
	assert_int_equal(r.ebx, 1u << 3);
	assert_int_equal(r.edx, 1u << 10);
	r = (struct cpuid_regs){ 0, (1u << 9) | (1u << 3), 0, (1u << 4) | (1u << 10) };
	cpuid_apply_policy(7, 0, 0, fast_strings, 0, 0, &r);
	assert_int_equal(r.ebx, (1u << 9) | (1u << 3));
	assert_int_equal(r.edx, (1u << 4) | (1u << 10));
	r = (struct cpuid_regs){ 0, 1u << 9, 0, 1u << 4 };
	cpuid_apply_policy(7, 1, 0, 0, 0, 0, &r);
	assert_int_equal(r.ebx, 1u << 9);
	assert_int_equal(r.edx, 1u << 4);
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
		cmocka_unit_test(cpuid_leaf7_ospke_mirrors_the_guest_cr4),
		cmocka_unit_test(cpuid_pmu_leaf_zeroed),
		cmocka_unit_test(cpuid_follows_misc_enable),
		cmocka_unit_test(cpuid_policy_adds_the_hypervisor_and_hides_vmx_only),
		cmocka_unit_test(cpuid_thermal_leaf_offers_only_arat),
		C(test_cpuid_tsc_leaf_gives_the_measured_rate_as_the_crystal),
		C(test_cpuid_tsc_leaf_untouched_above_the_highest_leaf),
		cmocka_unit_test(cpuid_tsc_leaf_not_enumerated_when_the_rate_does_not_fit),
		C(test_cpuid_xsave_compacted_size_follows_the_guest_xcr0),
		cmocka_unit_test(cpuid_xsave_compacted_size_aligns_marked_components),
		cmocka_unit_test(cpuid_xsave_subleaf_1_untouched_without_xsavec),
		cmocka_unit_test(cpuid_topology_leaf_1_names_the_vcpu),
		cmocka_unit_test(cpuid_topology_leaf_b_levels),
		cmocka_unit_test(cpuid_topology_leaf_1f_only_where_enumerated),
		cmocka_unit_test(cpuid_topology_leaf_4_cores_and_sharing),
		C(test_cpuid_leaf_1_apic_id_is_the_vcpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
