/*
 * Tests of core/vcpu/apicv.c: which APIC virtualization each Bochs CPU
 * model offers, the controls and VMCS fields a vCPU gets with and without
 * it, the virtual-APIC page being the software APIC's register page, the
 * TPR threshold, RVI/SVI and the EOI-exit bitmap before an entry, and a
 * globally disabled APIC leaving the hardware path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "exit/msr.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "mm/ept.h"
#include "platform.h"
#include "vcpu/apicv.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "x86.h"

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpu;

static uint64_t field(uint32_t encoding)
{
	return fake_vmcs_get(encoding);
}

static void build(bool sandy_bridge, bool apicv)
{
	fake_platform_reset();
	fake_cpu_reset();
	if (sandy_bridge)
		fake_cpu_load_bochs_sandy_bridge();
	else
		fake_cpu_load_bochs_tigerlake();
	memset(&vcpu, 0, sizeof(vcpu));
	fixture_vmx_on_and_vm_apicv(&cpu, &vm, 0, "apicv", 1, apicv);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
}

static int setup_tigerlake(void **state) { (void)state; build(false, true); return 0; }
static int setup_tigerlake_off(void **state) { (void)state; build(false, false); return 0; }
static int setup_sandy_bridge(void **state) { (void)state; build(true, true); return 0; }

static int teardown(void **state)
{
	(void)state;
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
	return 0;
}

/* Bochs tigerlake offers all four; Sandy Bridge the TPR shadow and
 * virtualized APIC accesses only (its IA32_VMX_PROCBASED_CTLS2 allows
 * neither APIC-register virtualization nor virtual-interrupt delivery). */
static void offered_per_model(void **state)
{
	(void)state;
	const unsigned all = APICV_TPR_SHADOW | APICV_APIC_ACCESSES | APICV_REGISTERS |
			     APICV_INTR_DELIVERY;
	assert_int_equal(vm.apicv, all);
	assert_int_equal(apicv_offered(&cpu.caps), all);
	struct vmx_caps no_tpr_shadow = cpu.caps;
	no_tpr_shadow.controls[VMX_CONTROLS_PROC] &= ~((uint64_t)PROC_USE_TPR_SHADOW << 32);
	assert_int_equal(apicv_offered(&no_tpr_shadow), 0);
	struct vmx_caps no_registers = cpu.caps;
	no_registers.controls[VMX_CONTROLS_PROC2] &= ~((uint64_t)PROC2_APIC_REGISTER_VIRT << 32);
	assert_int_equal(apicv_offered(&no_registers), APICV_TPR_SHADOW | APICV_APIC_ACCESSES);
	assert_string_equal(apicv_describe(0), "off (software APIC)");
}

static void sandy_bridge_offers_part(void **state)
{
	(void)state;
	assert_int_equal(vm.apicv, APICV_TPR_SHADOW | APICV_APIC_ACCESSES);
	uint32_t proc2 = (uint32_t)field(SECONDARY_VM_EXEC_CONTROL.encoding);
	assert_true(proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES);
	assert_false(proc2 & (PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY));
}

/* With the TPR shadow, CR8 does not exit (SDM Vol. 3C 29.3); the
 * virtual-APIC page is the APIC's register page, and the xAPIC page maps
 * the VM's APIC-access page, readable and writable, not executable. */
static void controls_and_pages_with_apicv(void **state)
{
	(void)state;
	uint32_t proc = (uint32_t)field(CPU_BASED_VM_EXEC_CONTROL.encoding);
	uint32_t proc2 = (uint32_t)field(SECONDARY_VM_EXEC_CONTROL.encoding);
	assert_true(proc & PROC_USE_TPR_SHADOW);
	assert_false(proc & (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING));
	assert_int_equal(proc2 & (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT |
				  PROC2_VIRTUAL_INTR_DELIVERY),
			 PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT |
				 PROC2_VIRTUAL_INTR_DELIVERY);
	assert_int_equal(field(VIRTUAL_APIC_PAGE_ADDR.encoding), plat_virt_to_phys(vcpu.lapic.regs));
	assert_int_equal(field(APIC_ACCESS_ADDR.encoding), plat_virt_to_phys(vm.apic_access_page));
	uint64_t perms;
	assert_int_equal(ept_translate(&vm.ept, LAPIC_DEFAULT_BASE, &perms),
			 plat_virt_to_phys(vm.apic_access_page));
	assert_int_equal(perms, EPT_READ | EPT_WRITE);
	/* The page holds the registers where the CPU reads them (29.4.2). */
	const uint32_t *page = plat_phys_to_virt(field(VIRTUAL_APIC_PAGE_ADDR.encoding));
	assert_int_equal(page[APIC_VERSION / 4], lapic_read(&vcpu.lapic, APIC_VERSION));
	assert_int_equal(page[APIC_ID / 4], 0);
	assert_int_equal(page[APIC_SVR / 4], 0xFF);
}

/* apicv=off: CR8 exits (else it would reach the real TPR), nothing of the
 * hardware path is on, and the xAPIC page stays unmapped (EPT violations). */
static void controls_without_apicv(void **state)
{
	(void)state;
	uint32_t proc = (uint32_t)field(CPU_BASED_VM_EXEC_CONTROL.encoding);
	uint32_t proc2 = (uint32_t)field(SECONDARY_VM_EXEC_CONTROL.encoding);
	assert_int_equal(vm.apicv, 0);
	assert_false(proc & PROC_USE_TPR_SHADOW);
	assert_int_equal(proc & (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING),
			 PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING);
	assert_false(proc2 & (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT |
			      PROC2_VIRTUAL_INTR_DELIVERY));
	assert_null(vm.apic_access_page);
	assert_int_equal(ept_translate(&vm.ept, LAPIC_DEFAULT_BASE, NULL), EPT_NO_MAPPING);
}

/* TPR shadow without virtual-interrupt delivery: the threshold is the
 * class of the waiting vector the TPR holds back (SDM Vol. 3C 29.1.2). */
static void tpr_threshold_follows_the_waiting_vector(void **state)
{
	(void)state;
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(TPR_THRESHOLD.encoding), 0);
	LAPIC_REG(&vcpu.lapic, APIC_TPR) = 0x50; /* as MOV to CR8 of 5 leaves VTPR */
	lapic_set_irr(&vcpu.lapic, 0x41);
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(TPR_THRESHOLD.encoding), 4);
	LAPIC_REG(&vcpu.lapic, APIC_TPR) = 0x30; /* no longer held back by the TPR */
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(TPR_THRESHOLD.encoding), 0);
	LAPIC_REG(&vcpu.lapic, APIC_TPR) = 0x40; /* the same class holds it back */
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(TPR_THRESHOLD.encoding), 4);
	lapic_accept(&vcpu.lapic, 0x41);
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(TPR_THRESHOLD.encoding), 0);
}

/* Virtual-interrupt delivery: RVI and SVI from VIRR and VISR (SDM Vol. 3C
 * 29.1.1), and the level-triggered vectors in the EOI-exit bitmap. */
static void rvi_svi_and_eoi_exit_bitmap(void **state)
{
	(void)state;
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(GUEST_INTR_STATUS.encoding), 0);
	lapic_set_irr_trigger(&vcpu.lapic, 0x41, false);
	lapic_set_irr_trigger(&vcpu.lapic, 0x62, true); /* an I/O APIC level pin */
	LAPIC_VECTOR_WORD(&vcpu.lapic, APIC_ISR0, 1) = 1u << 16; /* vector 0x30 in service */
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(GUEST_INTR_STATUS.encoding), 0x3062);
	assert_int_equal(field(EOI_EXIT_BITMAP0.encoding), 0);
	assert_int_equal(field(EOI_EXIT_BITMAP1.encoding), 1ULL << (0x62 - 64));
	assert_int_equal(field(EOI_EXIT_BITMAP2.encoding), 0);
	assert_int_equal(field(EOI_EXIT_BITMAP3.encoding), 0);
	/* The CPU delivers 0x62 (VIRR to VISR): the summary of empty IRR words
	 * goes, RVI drops to 0x41 and SVI is 0x62. */
	LAPIC_VECTOR_WORD(&vcpu.lapic, APIC_IRR0, 3) = 0;
	LAPIC_VECTOR_WORD(&vcpu.lapic, APIC_ISR0, 3) = 1u << 2;
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(GUEST_INTR_STATUS.encoding), 0x6241);
	assert_int_equal(vcpu.lapic.irr_words, 1u << 2);
	/* The same vector delivered edge-triggered later leaves the bitmap. */
	lapic_set_irr_trigger(&vcpu.lapic, 0x62, false);
	apicv_sync_before_entry(&vcpu);
	assert_int_equal(field(EOI_EXIT_BITMAP1.encoding), 0);
}

/* A globally disabled APIC (IA32_APIC_BASE[11] clear) keeps only the
 * APIC-access page, so every access exits; CR8 exits; enabled again, the
 * hardware path comes back. */
static void global_disable_leaves_the_hardware_path(void **state)
{
	(void)state;
	uint64_t base = vcpu.msrs.apic_base;
	assert_true(msr_emulate_write(&vcpu, MSR_IA32_APIC_BASE, base & ~APIC_BASE_ENABLE));
	uint32_t proc = (uint32_t)field(CPU_BASED_VM_EXEC_CONTROL.encoding);
	uint32_t proc2 = (uint32_t)field(SECONDARY_VM_EXEC_CONTROL.encoding);
	assert_false(proc & PROC_USE_TPR_SHADOW);
	assert_true(proc & PROC_CR8_LOAD_EXITING);
	assert_int_equal(proc2 & (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT |
				  PROC2_VIRTUAL_INTR_DELIVERY),
			 PROC2_VIRTUALIZE_APIC_ACCESSES);
	assert_int_equal(vcpu.apicv, APICV_APIC_ACCESSES);
	assert_true(msr_emulate_write(&vcpu, MSR_IA32_APIC_BASE, base));
	proc = (uint32_t)field(CPU_BASED_VM_EXEC_CONTROL.encoding);
	proc2 = (uint32_t)field(SECONDARY_VM_EXEC_CONTROL.encoding);
	assert_true(proc & PROC_USE_TPR_SHADOW);
	assert_false(proc & PROC_CR8_LOAD_EXITING);
	assert_true(proc2 & PROC2_VIRTUAL_INTR_DELIVERY);
	assert_int_equal(vcpu.apicv, vm.apicv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(offered_per_model, setup_tigerlake, teardown),
		cmocka_unit_test_setup_teardown(sandy_bridge_offers_part, setup_sandy_bridge, teardown),
		cmocka_unit_test_setup_teardown(controls_and_pages_with_apicv, setup_tigerlake, teardown),
		cmocka_unit_test_setup_teardown(controls_without_apicv, setup_tigerlake_off, teardown),
		cmocka_unit_test_setup_teardown(tpr_threshold_follows_the_waiting_vector,
						setup_sandy_bridge, teardown),
		cmocka_unit_test_setup_teardown(rvi_svi_and_eoi_exit_bitmap, setup_tigerlake, teardown),
		cmocka_unit_test_setup_teardown(global_disable_leaves_the_hardware_path,
						setup_tigerlake, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
