/*
 * Tests of core/vcpu/cpu_features.c: the one table of CPUID feature bits
 * that need a control or state to work in a guest.  For each recorded
 * Bochs CPU model, a vCPU is built as the type-1 builds it, and every leaf
 * of the table goes through the CPUID exit (core/exit/cpuid.c): a bit the
 * guest sees must have what it needs (its secondary control on in the
 * vCPU's VMCS) and must not be one cvisor hides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exit/cpuid.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "vcpu/cpu_features.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpu;

static uint32_t reg_of(const struct cpuid_regs *r, enum cpuid_reg reg)
{
	return reg == CPUID_EAX ? r->eax : reg == CPUID_EBX ? r->ebx : reg == CPUID_ECX ? r->ecx : r->edx;
}

/*
 * What the SDM says a feature needs in VMX non-root operation, written down
 * here independently of the table under test: the instructions that #UD
 * unless a secondary control is 1 (SDM Vol. 3C 26.3), and features whose
 * state cvisor does not switch or emulate (need 0: must never be seen).
 */
static const struct {
	const char *name;
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	unsigned bit;
	uint32_t needs; /* the control; 0: cvisor must hide it */
} sdm_requirements[] = {
	{ "RDTSCP", 0x80000001, 0, CPUID_EDX, 27, PROC2_ENABLE_RDTSCP },
	{ "RDPID", 7, 0, CPUID_ECX, 22, PROC2_ENABLE_RDTSCP },
	{ "INVPCID", 7, 0, CPUID_EBX, 10, PROC2_ENABLE_INVPCID },
	{ "WAITPKG (TPAUSE, UMONITOR, UMWAIT)", 7, 0, CPUID_ECX, 5, 0 },
	{ "MPX (IA32_BNDCFGS is not switched)", 7, 0, CPUID_EBX, 14, 0 },
	{ "CET_SS (the CET MSRs are not switched)", 7, 0, CPUID_ECX, 7, 0 },
	{ "CET_IBT (the CET MSRs are not switched)", 7, 0, CPUID_EDX, 20, 0 },
	{ "PKS (IA32_PKRS is not switched)", 7, 0, CPUID_ECX, 31, 0 },
	{ "KL (the wrapping key is not switched)", 7, 0, CPUID_ECX, 23, 0 },
	{ "ENQCMD (IA32_PASID is not emulated)", 7, 0, CPUID_ECX, 29, 0 },
	{ "UINTR (its MSRs are not emulated)", 7, 0, CPUID_EDX, 5, 0 },
	{ "PCONFIG (#UD without its control)", 7, 0, CPUID_EDX, 18, 0 },
	{ "ARCH_LBR (its MSRs are not emulated)", 7, 0, CPUID_EDX, 19, 0 },
	{ "AMX-BF16 (XCR0 cannot enable AMX)", 7, 0, CPUID_EDX, 22, 0 },
	{ "AMX-TILE (XCR0 cannot enable AMX)", 7, 0, CPUID_EDX, 24, 0 },
	{ "AMX-INT8 (XCR0 cannot enable AMX)", 7, 0, CPUID_EDX, 25, 0 },
	{ "XSAVES (IA32_XSS is not emulated)", 0xD, 1, CPUID_EAX, 3, 0 },
	{ "VMX (nested VMX is not emulated)", 1, 0, CPUID_ECX, 5, 0 },
	{ "MONITOR (MWAIT exits unhandled)", 1, 0, CPUID_ECX, 3, 0 },
	{ "x2APIC (not emulated)", 1, 0, CPUID_ECX, 21, 0 },
	/* Leaf 7 EDX, speculation control: MSRs cvisor does not emulate. */
	{ "IBRS_IBPB (IA32_SPEC_CTRL, IA32_PRED_CMD)", 7, 0, CPUID_EDX, 26, 0 },
	{ "STIBP (IA32_SPEC_CTRL)", 7, 0, CPUID_EDX, 27, 0 },
	{ "L1D_FLUSH (IA32_FLUSH_CMD)", 7, 0, CPUID_EDX, 28, 0 },
	{ "ARCH_CAPABILITIES (IA32_ARCH_CAPABILITIES)", 7, 0, CPUID_EDX, 29, 0 },
	{ "CORE_CAPABILITIES (IA32_CORE_CAPABILITIES)", 7, 0, CPUID_EDX, 30, 0 },
	{ "SSBD (IA32_SPEC_CTRL)", 7, 0, CPUID_EDX, 31, 0 },
	/* Leaf 6, thermal and power management: MSRs cvisor does not emulate. */
	{ "digital thermal sensor (IA32_THERM_STATUS)", 6, 0, CPUID_EAX, 0, 0 },
	{ "package thermal management (IA32_PACKAGE_THERM_STATUS)", 6, 0, CPUID_EAX, 6, 0 },
	{ "HWP (IA32_PM_ENABLE, IA32_HWP_*)", 6, 0, CPUID_EAX, 7, 0 },
	{ "APERFMPERF (IA32_MPERF, IA32_APERF)", 6, 0, CPUID_ECX, 0, 0 },
	{ "EPB (IA32_ENERGY_PERF_BIAS)", 6, 0, CPUID_ECX, 3, 0 },
};

/* Builds the vCPU on the loaded model, then checks every requirement
 * against what the CPUID exit policy gives the guest. */
static void check_model(const char *model)
{
	fixture_vmx_on_and_vm(&cpu, &vm, 0, "feat", 1);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	assert_int_equal(vcpu.proc2, (uint32_t)vmcs_read(SECONDARY_VM_EXEC_CONTROL));
	for (unsigned i = 0; i < sizeof(sdm_requirements) / sizeof(sdm_requirements[0]); i++) {
		struct cpuid_regs r;
		cpuid(sdm_requirements[i].leaf, sdm_requirements[i].subleaf, &r);
		r.eax = r.ebx = r.ecx = r.edx = ~0u; /* as if the host had every feature */
		cpuid_apply_policy(sdm_requirements[i].leaf, sdm_requirements[i].subleaf, 0, 0,
				   vcpu.proc2, 0, &r);
		if (!(reg_of(&r, sdm_requirements[i].reg) >> sdm_requirements[i].bit & 1))
			continue;
		uint32_t needs = sdm_requirements[i].needs;
		if (!needs || (needs & ~vcpu.proc2))
			fail_msg("%s: the guest sees %s, which needs %s (controls 0x%x)", model,
				 sdm_requirements[i].name, needs ? "a control it lacks" : "to be hidden",
				 vcpu.proc2);
	}
	/* Where the host has a feature and the CPU allows its control, it is
	 * offered: the table does not hide more than it must. */
	uint32_t allowed2 = (uint32_t)(cpu.caps.controls[VMX_CONTROLS_PROC2] >> 32);
	for (unsigned i = 0; i < cpu_feature_count; i++) {
		const struct cpu_feature *f = &cpu_features[i];
		uint32_t subleaf = f->subleaf == CPUID_ANY_SUBLEAF ? 0 : f->subleaf;
		struct cpuid_regs host;
		cpuid(f->leaf, subleaf, &host);
		if (f->hidden || !(reg_of(&host, f->reg) >> f->bit & 1) || (f->proc2 & ~allowed2))
			continue;
		assert_true((vcpu.proc2 & f->proc2) == f->proc2);
	}
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
}

static void tigerlake_sees_only_features_that_work(void **state)
{
	(void)state;
	fixture_reset_machine();
	check_model("tigerlake");
	/* Its RDTSCP, RDPID and INVPCID are offered, with their controls. */
	fixture_reset_machine();
	fixture_vmx_on_and_vm(&cpu, &vm, 0, "feat", 1);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	assert_true(vcpu.proc2 & PROC2_ENABLE_RDTSCP);
	assert_true(vcpu.proc2 & PROC2_ENABLE_INVPCID);
	struct cpuid_regs r;
	cpuid(0x80000001, 0, &r);
	cpuid_apply_policy(0x80000001, 0, 0, 0, vcpu.proc2, 0, &r);
	assert_true(r.edx & (1u << 27)); /* RDTSCP */
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
}

static void sandy_bridge_sees_only_features_that_work(void **state)
{
	(void)state;
	fixture_reset_machine();
	fake_cpu_load_bochs_sandy_bridge();
	check_model("sandy bridge");
}

/* Without a control, its features go; hidden ones go always. */
static void the_filter_clears_what_lacks_its_control(void **state)
{
	(void)state;
	struct cpuid_regs r = { 0, 0, 0, 1u << 27 };
	cpu_features_filter(0x80000001, 0x1234, 0, &r);
	assert_int_equal(r.edx, 0);
	r.edx = 1u << 27;
	cpu_features_filter(0x80000001, 0, PROC2_ENABLE_RDTSCP, &r);
	assert_int_equal(r.edx, 1u << 27);
	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0x1B, 0, 0, 0); /* PKRU's XSAVE component enumerated */
	fake_cpuid_set(0xD, 0, 0x2E7, 0x240, 0xAC0, 0);
	fake_cpuid_set(0xD, 9, 8, 2688, 0, 0);
	r = (struct cpuid_regs){ 0, 1u << 10, (1u << 22) | (1u << 5) | (1u << 3), 0 };
	cpu_features_filter(7, 0, PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID, &r);
	assert_int_equal(r.ebx, 1u << 10);  /* INVPCID kept */
	/* RDPID and PKU (PKRU switched with XSAVE, vcpu.c) kept, WAITPKG hidden */
	assert_int_equal(r.ecx, (1u << 22) | (1u << 3));
	r = (struct cpuid_regs){ 0, 1u << 10, 0, 0 };
	cpu_features_filter(7, 1, 0, &r); /* subleaf 1 of leaf 7 is another table */
	assert_int_equal(r.ebx, 1u << 10);
	r = (struct cpuid_regs){ 0xF, 0, 0, 0 };
	cpu_features_filter(0xD, 1, ~0u, &r);
	assert_int_equal(r.eax, 0x5); /* XSAVEC and XSAVES hidden */
	assert_int_equal(cpu_features_wanted_proc2(), PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID);
}

/* The CR4 bits of features the CPUID policy does not offer (Bochs's
 * tigerlake: leaf 7 without LA57, KL, CET, PKS, UINTR; with UMIP,
 * FSGSBASE, SMEP, SMAP; leaf 1 with PCID and XSAVE; PKU only where CPUID
 * enumerates the PKRU state component, which Bochs does not). */
static void cr4_bits_follow_the_offered_features(void **state)
{
	(void)state;
	fixture_reset_machine();
	assert_int_equal(cpu_features_cr4_unoffered(0),
			 CR4_LA57 | CR4_KL | CR4_CET | CR4_PKS | CR4_UINTR | CR4_PKE);
	fake_cpuid_set(0xD, 0, 0x2E7, 0x240, 0xAC0, 0);
	fake_cpuid_set(0xD, 9, 8, 2688, 0, 0);
	assert_int_equal(cpu_features_cr4_unoffered(0),
			 CR4_LA57 | CR4_KL | CR4_CET | CR4_PKS | CR4_UINTR);
	/* A feature the host lacks takes its bit with it. */
	fake_cpuid_set(7, 0, 0, 0xF2BF27EF, 0x40405F4E & ~(1u << 3), 0xBC000410);
	assert_true(cpu_features_cr4_unoffered(0) & CR4_PKE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tigerlake_sees_only_features_that_work),
		cmocka_unit_test(sandy_bridge_sees_only_features_that_work),
		cmocka_unit_test(the_filter_clears_what_lacks_its_control),
		cmocka_unit_test(cr4_bits_follow_the_offered_features),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
