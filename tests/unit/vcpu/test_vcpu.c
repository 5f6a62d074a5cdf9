/*
 * Tests of core/vcpu/vcpu.c: vcpu_create on a real VM (core/vm/builder.c) on
 * the fake Tiger Lake CPU sets up the VMCS controls, the guest and host state,
 * the MSR bitmap and the EPT/VPID flushes, fails cleanly when a VMX
 * instruction or an allocation fails, vcpu_destroy frees everything, and
 * vcpu_reset puts a vCPU back into its power-up state.
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
#include "irq/lapic.h"
#include "loader/multiboot.h"
#include "run/run_loop.h"
#include "vm/builder.h"
#include "run/schedule.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

/* vcpu_create itself (the builder's vm_build_vcpu adds the exit table). */
static enum vmx_error create_vcpu(void)
{
	return vcpu_create(&vcpu, &vm, &cpu, 0, &vm.boot);
}

/* ---- vcpu_create ---- */

static void test_vcpu_enables_ept_vpid_and_unrestricted_guest(void **state)
{
	(void)state;
	uint32_t proc2 = (uint32_t)vmcs(SECONDARY_VM_EXEC_CONTROL.encoding);
	assert_int_equal(proc2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST),
			 PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST);
	assert_int_equal(vmcs(EPT_POINTER.encoding), vm.ept.eptp);
	assert_int_equal(vmcs(EPT_POINTER.encoding) & 0x3F, 0x1E); /* WB, 4 levels */
	assert_int_not_equal(vmcs(VIRTUAL_PROCESSOR_ID.encoding), 0);
	assert_int_equal(vmcs(VIRTUAL_PROCESSOR_ID.encoding), vcpu.vpid);
}

static void test_vcpu_exits_on_hlt_and_every_port_access(void **state)
{
	(void)state;
	uint32_t proc = (uint32_t)vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding);
	assert_true(proc & PROC_HLT_EXITING);
	assert_true(proc & PROC_UNCONDITIONAL_IO_EXITING);
	assert_false(proc & PROC_USE_IO_BITMAPS);
	assert_true(proc & PROC_SECONDARY_CONTROLS);
	/* The default-1 bits of the TRUE MSR's allowed-0 half are on. */
	assert_int_equal(proc & 0x04006172, 0x04006172);
}

static void test_vcpu_msr_bitmap_is_its_own_page(void **state)
{
	(void)state;
	uint32_t proc = (uint32_t)vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding);
	assert_true(proc & PROC_USE_MSR_BITMAPS);
	assert_non_null(vcpu.msr_bitmap);
	assert_true(fake_page_is_allocated(vcpu.msr_bitmap));
	assert_int_equal(vmcs(MSR_BITMAP.encoding), plat_virt_to_phys(vcpu.msr_bitmap));
}

static void test_vcpu_exit_and_entry_controls_switch_efer_pat_and_debug_controls(void **state)
{
	(void)state;
	uint32_t exit = (uint32_t)vmcs(VM_EXIT_CONTROLS.encoding);
	uint32_t entry = (uint32_t)vmcs(VM_ENTRY_CONTROLS.encoding);
	assert_true(exit & EXIT_HOST_ADDR_SPACE_SIZE);
	assert_true(exit & EXIT_LOAD_IA32_EFER);
	assert_true(exit & EXIT_SAVE_IA32_EFER);
	assert_true(exit & EXIT_LOAD_IA32_PAT);
	assert_true(entry & ENTRY_LOAD_IA32_EFER);
	assert_true(entry & ENTRY_LOAD_IA32_PAT);
	assert_false(entry & ENTRY_IA32E_MODE_GUEST); /* Multiboot guests start in 32-bit mode */
	/* DR7 and DEBUGCTL are the guest's: without these (the TRUE MSRs let
	 * them be 0) a guest's DR7 stayed armed in the CPU for the next vCPU,
	 * and cvisor read a stale GUEST_DR7 (SDM Vol. 3C 28.3.1, 27.3.2.1). */
	assert_true(exit & EXIT_SAVE_DEBUG_CONTROLS);
	assert_true(entry & ENTRY_LOAD_DEBUG_CONTROLS);
}

static void test_vcpu_guest_starts_in_flat_32_bit_protected_mode(void **state)
{
	(void)state;
	assert_int_equal(vmcs(GUEST_CS_SELECTOR.encoding), 0x08);
	assert_int_equal(vmcs(GUEST_CS_AR_BYTES.encoding), AR_CODE32);
	assert_int_equal(vmcs(GUEST_CS_BASE.encoding), 0);
	assert_int_equal(vmcs(GUEST_CS_LIMIT.encoding), 0xFFFFFFFF);
	assert_int_equal(vmcs(GUEST_SS_AR_BYTES.encoding), AR_DATA);
	assert_int_equal(vmcs(GUEST_DS_AR_BYTES.encoding), AR_DATA);
	assert_int_equal(vmcs(GUEST_TR_AR_BYTES.encoding), 0x8B);  /* busy 32-bit TSS */
	assert_true(vmcs(GUEST_LDTR_AR_BYTES.encoding) & (1u << 16)); /* unusable */
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(GUEST_RFLAGS.encoding), 0x2);
	assert_int_equal(vmcs(GUEST_IA32_EFER.encoding), 0);
	assert_int_equal(vmcs(VMCS_LINK_POINTER.encoding), ~0ULL);
	assert_int_equal(*reg(GPR_RAX), MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(*reg(GPR_RBX), INFO);
	assert_false(vcpu_guest_in_64bit_mode());
	assert_int_equal(vcpu_guest_cpl(), 0);
}

static void test_vcpu_guest_control_registers_obey_the_fixed_bits(void **state)
{
	(void)state;
	uint64_t cr0 = vmcs(GUEST_CR0.encoding), cr4 = vmcs(GUEST_CR4.encoding);
	assert_true(cr0 & CR0_PE);
	assert_true(cr0 & CR0_NE);     /* forced by CR0_FIXED0 */
	assert_false(cr0 & CR0_PG);    /* unrestricted guest: paging off */
	assert_true(cr4 & CR4_VMXE);   /* forced by CR4_FIXED0 */
	/* The guest reads back what it would have without VMX. */
	assert_int_equal(vmcs(CR0_READ_SHADOW.encoding), CR0_PE | CR0_ET);
	assert_int_equal(vmcs(CR4_READ_SHADOW.encoding), 0);
	assert_true(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_NE);
	assert_true(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_VMXE);
	assert_false(vmcs(CR0_GUEST_HOST_MASK.encoding) & (CR0_PE | CR0_PG));
}

static void test_vcpu_host_state_is_this_cpu(void **state)
{
	(void)state;
	assert_int_equal(vmcs(HOST_RIP.encoding), (uint64_t)(uintptr_t)vmx_exit_landing);
	assert_int_equal(vmcs(HOST_CR0.encoding), fake_cpu.cr0);
	assert_int_equal(vmcs(HOST_CR3.encoding), FAKE_HOST_CR3);
	assert_int_equal(vmcs(HOST_CR4.encoding), fake_cpu.cr4);
	assert_int_equal(vmcs(HOST_CS_SELECTOR.encoding), FAKE_HOST_CS);
	assert_int_equal(vmcs(HOST_TR_SELECTOR.encoding), FAKE_HOST_TR);
	assert_int_equal(vmcs(HOST_TR_BASE.encoding), FAKE_HOST_TSS_BASE);
	assert_int_equal(vmcs(HOST_GDTR_BASE.encoding), fake_cpu.gdtr.base);
	assert_int_equal(vmcs(HOST_IDTR_BASE.encoding), FAKE_HOST_IDT_BASE);
	assert_int_equal(vmcs(HOST_GS_BASE.encoding), FAKE_HOST_GS_BASE);
	assert_int_equal(vmcs(HOST_IA32_EFER.encoding), FAKE_HOST_EFER);
	assert_int_equal(vmcs(HOST_IA32_PAT.encoding), FAKE_HOST_PAT);
	/* vmx_enter_guest writes HOST_RSP before each entry. */
	assert_false(fake_vmcs_written(HOST_RSP.encoding));
}

static void test_vcpu_host_selectors_have_rpl_and_ti_cleared(void **state)
{
	(void)state;
	fake_cpu.ds = FAKE_HOST_DS | 3;
	fake_cpu.fs = 0x1F; /* TI set, RPL 3 */
	assert_int_equal(create_vcpu(), VMX_OK);
	assert_int_equal(vmcs(HOST_DS_SELECTOR.encoding), FAKE_HOST_DS);
	assert_int_equal(vmcs(HOST_FS_SELECTOR.encoding), 0x18);
}

static void test_vcpu_vmcs_is_cleared_then_made_current(void **state)
{
	(void)state;
	assert_int_equal(fake_cpu.vmclear_calls, 1);
	assert_int_equal(fake_cpu.last_vmclear_pa, vcpu.vmcs_pa);
	assert_int_equal(fake_cpu.current_vmcs_pa, vcpu.vmcs_pa);
	assert_int_equal(*(const uint32_t *)vcpu.vmcs, 4); /* revision of IA32_VMX_BASIC */
	assert_false(fake_vmcs_at(vcpu.vmcs_pa)->launched);
	assert_int_equal(vmcs_failed_writes(), 0);
	assert_false(vcpu.launched);
}

static void test_vcpu_flushes_its_ept_and_vpid_translations(void **state)
{
	(void)state;
	/* Tiger Lake has single-context INVEPT and INVVPID. */
	assert_int_equal(fake_cpu.last_invept_type, 1);
	assert_int_equal(fake_cpu.last_invept_eptp, vm.ept.eptp);
	assert_int_equal(fake_cpu.last_invvpid_type, 1);
	assert_int_equal(fake_cpu.last_invvpid_vpid, vcpu.vpid);
}

static void test_vcpu_destroy_clears_the_vmcs_and_frees_its_pages(void **state)
{
	(void)state;
	uint64_t pa = vcpu.vmcs_pa;

	assert_int_equal(fake_pages_outstanding(), baseline_pages + 2); /* VMCS, MSR bitmap */
	vcpu_destroy(&vcpu);
	assert_int_equal(fake_cpu.last_vmclear_pa, pa);
	assert_int_equal(fake_cpu.current_vmcs_pa, FAKE_NO_VMCS);
	assert_null(vcpu.vmcs);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

/* ---- vcpu_create failures ---- */

static void test_vcpu_create_fails_cleanly_when_vmclear_fails(void **state)
{
	(void)state;
	fake_cpu.fail_vmclear.result = VMX_FAIL_INVALID;
	assert_int_equal(create_vcpu(), VMX_ERR_VMCLEAR_FAILED);
	assert_null(vcpu.vmcs);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

static void test_vcpu_create_fails_cleanly_when_vmptrld_fails(void **state)
{
	(void)state;
	fake_cpu.fail_vmptrld.result = VMX_FAIL_INVALID;
	assert_int_equal(create_vcpu(), VMX_ERR_VMPTRLD_FAILED);
	assert_null(vcpu.vmcs);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

static void test_vcpu_create_out_of_memory_for_the_msr_bitmap(void **state)
{
	(void)state;
	fake_pages_set_limit(0);
	assert_int_equal(create_vcpu(), VMX_ERR_NO_MEMORY);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

static void test_vcpu_create_out_of_memory_for_the_vmcs_frees_the_bitmap(void **state)
{
	(void)state;
	fake_pages_set_limit(1); /* the MSR bitmap, not the VMCS */
	assert_int_equal(create_vcpu(), VMX_ERR_NO_MEMORY);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

static void test_vcpu_create_failed_vmwrite_is_reported_and_the_vmcs_cleared(void **state)
{
	(void)state;
	fake_cpu.fail_vmwrite_encoding = GUEST_TR_AR_BYTES.encoding;
	fake_cpu.fail_vmwrite = (struct fake_forced_result){ VMX_FAIL_VALID, 7 };
	/* The fake fails the test if the VMCS page is freed while still active. */
	assert_int_equal(create_vcpu(), VMX_ERR_VMWRITE_FAILED);
	assert_console_contains("VMWRITE GUEST_TR_AR_BYTES (0x4822) failed");
	assert_null(vcpu.vmcs);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

static void test_vcpu_create_missing_control_is_refused_and_the_vmcs_cleared(void **state)
{
	(void)state;
	/* Primary controls that cannot exit on HLT (allowed-1 bit 7 clear). */
	cpu.caps.controls[VMX_CONTROLS_PROC] &= ~((uint64_t)PROC_HLT_EXITING << 32);
	assert_int_equal(create_vcpu(), VMX_ERR_PROC_CONTROLS);
	assert_console_contains("\"HLT exiting\" (bit 7)");
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

#define V(f) cmocka_unit_test_setup_teardown(f, setup_vm, teardown)
/* What a guest makes visible through its features stays its own while
 * another vCPU uses the CPU: every XSAVE component its XCR0 enables (AVX
 * here), DR0-DR3 and DR6 (SDM Vol. 1 13.7-13.8, Vol. 3B 18.2). */
static void test_vcpu_put_and_load_keep_avx_and_debug_registers(void **state)
{
	(void)state;
	vcpu.xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX;
	fake_cpu.fpu[600] = 0x55; /* what ran before */
	vcpu_load(&vcpu);
	assert_int_equal(fake_cpu.xcr0, 0x7);
	assert_int_equal(fake_cpu.last_xrstor_mask, 0x7);
	assert_int_equal(fake_cpu.fpu[600], 0);  /* a fresh vCPU's AVX state is the initial one */
	assert_int_equal(fake_cpu.fpu[0], 0x7F); /* FCW 0x37F */
	assert_int_equal(fake_cpu.dr6, 0xFFFF0FF0);

	fake_cpu.fpu[600] = 0xAA; /* the guest uses YMM and a breakpoint */
	fake_cpu.dr[0] = 0x1234;
	fake_cpu.dr6 = 0xFFFF0FF1;
	vcpu_put(&vcpu);
	assert_int_equal(fake_cpu.last_xsave_mask, 0x7);
	assert_int_equal(vcpu.fpu.bytes[600], 0xAA);
	assert_int_equal(vcpu.dr[0], 0x1234);
	assert_int_equal(fake_cpu.xcr0, 1); /* the host's XCR0 is back */

	fake_cpu.fpu[600] = 0x55; /* another vCPU's state */
	fake_cpu.dr[0] = 0;
	fake_cpu.dr6 = 0xFFFF0FF0;
	vcpu_load(&vcpu);
	assert_int_equal(fake_cpu.fpu[600], 0xAA);
	assert_int_equal(fake_cpu.dr[0], 0x1234);
	assert_int_equal(fake_cpu.dr6, 0xFFFF0FF1);
	vcpu_put(&vcpu);

	/* A guest that never sets XCR0.SSE still uses XMM registers (CR4.OSFXSR):
	 * they move too, and its XCR0 stays x87 only. */
	vcpu.xcr0 = XCR0_X87;
	vcpu_load(&vcpu);
	assert_int_equal(fake_cpu.last_xrstor_mask, XCR0_X87 | XCR0_SSE);
	assert_int_equal(fake_cpu.xcr0, XCR0_X87);
	fake_cpu.fpu[200] = 0x77; /* XMM3 */
	vcpu_put(&vcpu);
	assert_int_equal(fake_cpu.last_xsave_mask, XCR0_X87 | XCR0_SSE);
	assert_int_equal(vcpu.fpu.bytes[200], 0x77);
	assert_int_equal(vcpu.xcr0, XCR0_X87);
}

/* PKRU moves with the vCPU wherever XCR0 can hold it, whatever the guest's
 * XCR0 (a guest with CR4.PKE uses it all the same, SDM Vol. 1 13.5.7), and
 * vcpu_guest_pkru reads the live value (its XSAVE offset from CPUID 0DH.9). */
static void test_pkru_moves_with_the_vcpu_and_reads_back(void **state)
{
	(void)state;
	cpu.host_xsave_pkru = true;
	fake_cpuid_set(0xD, 9, 8, 2688, 0, 0);
	vcpu.xcr0 = XCR0_X87 | XCR0_SSE;
	vcpu_load(&vcpu);
	assert_int_equal(fake_cpu.last_xrstor_mask, XCR0_X87 | XCR0_SSE | XCR0_PKRU);
	assert_int_equal(fake_cpu.xcr0, XCR0_X87 | XCR0_SSE); /* the guest's own */
	uint32_t pkru = 0x0000000C; /* key 1: access and write disabled */
	memcpy(fake_cpu.fpu + 2688, &pkru, 4);
	assert_int_equal(vcpu_guest_pkru(&vcpu), 0xC);
	assert_int_equal(fake_cpu.xcr0, XCR0_X87 | XCR0_SSE); /* put back */
	vcpu_put(&vcpu);
	assert_int_equal(fake_cpu.last_xsave_mask, XCR0_X87 | XCR0_SSE | XCR0_PKRU);
	assert_memory_equal(vcpu.fpu.bytes + 2688, &pkru, 4);
	/* Without the component there is no PKRU to read. */
	cpu.host_xsave_pkru = false;
	vcpu_load(&vcpu);
	assert_int_equal(vcpu_guest_pkru(&vcpu), 0);
	vcpu_put(&vcpu);
}

/* ---- vcpu_reset ---- */

/* After RESET the vCPU is as vcpu_create made it: power-up FPU, XCR0,
 * debug registers, MSRs and APIC, nothing pending, its VMCS controls and
 * guest state anew (SDM Vol. 3A Table 10-1), and the power-up state live. */
static void test_vcpu_reset_restores_the_power_up_state(void **state)
{
	(void)state;
	struct guest_cpu_state boot;
	multiboot_start_state(&boot, 0x300000, 0x9F000);
	boot.gprs[GPR_RSI] = 0x5151;
	vcpu_load(&vcpu);
	vcpu.xcr0 = XCR0_X87 | XCR0_SSE | XCR0_AVX;
	vcpu.fpu.bytes[600] = 0xAA;
	vcpu.fpu.bytes[0] = 0;
	vcpu.dr[1] = 0x1234;
	vcpu.dr6 = 0;
	vcpu.cr2 = 0xDEAD;
	vcpu.msrs.lstar = 0xFFFF800000001000ULL;
	vcpu.msrs.misc_enable = 0;
	vcpu.state = VCPU_PARKED;
	vcpu.event_injected = true;
	__atomic_store_n(&vcpu.pending.init, 1, __ATOMIC_RELAXED);
	lapic_set_irr(&vcpu.lapic, 0x41);
	vcpu.gprs.regs[GPR_RDI] = 7;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   vmcs_read(CPU_BASED_VM_EXEC_CONTROL) | PROC_INTERRUPT_WINDOW_EXITING);
	vmcs_write(VM_ENTRY_CONTROLS, vmcs_read(VM_ENTRY_CONTROLS) | ENTRY_IA32E_MODE_GUEST);
	vmcs_write(TSC_OFFSET, 0x777);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 1);
	unsigned invvpids = fake_cpu.invvpid_calls;

	assert_int_equal(vcpu_reset(&vcpu, &boot), VMX_OK);
	assert_int_equal(vcpu.state, VCPU_RUNNING);
	assert_int_equal(vcpu.pending.any, 0);
	assert_false(vcpu.event_injected);
	assert_false(lapic_has_pending(&vcpu.lapic));
	assert_int_equal(vcpu.gprs.regs[GPR_RSI], 0x5151);
	assert_int_equal(vcpu.gprs.regs[GPR_RDI], 0);
	assert_int_equal(vcpu.gprs.regs[GPR_RAX], MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(vcpu.xcr0, 1);
	assert_int_equal(vcpu.fpu.bytes[600], 0);
	assert_int_equal(vcpu.fpu.bytes[0], 0x7F);
	assert_int_equal(vcpu.dr[1], 0);
	assert_int_equal(vcpu.dr6, 0xFFFF0FF0);
	assert_int_equal(vcpu.cr2, 0);
	assert_int_equal(vcpu.msrs.lstar, 0);
	assert_int_equal(vcpu.msrs.misc_enable, 0x1801);
	/* The VMCS. */
	assert_int_equal(vmcs(GUEST_RIP.encoding), 0x300000);
	assert_false(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_false(vmcs(VM_ENTRY_CONTROLS.encoding) & ENTRY_IA32E_MODE_GUEST);
	assert_int_equal(vmcs(TSC_OFFSET.encoding), 0);
	assert_int_equal(vmcs(GUEST_INTERRUPTIBILITY_INFO.encoding), 0);
	assert_true(vcpu.check_before_entry);
	assert_true(fake_cpu.invvpid_calls > invvpids); /* no old translation survives */
	/* Live in the CPU: the power-up XCR0, FPU, CR2, debug registers, MSRs. */
	assert_int_equal(fake_cpu.xcr0, 1);
	assert_int_equal(fake_cpu.fpu[0], 0x7F);
	assert_int_equal(fake_cpu.cr2, 0);
	assert_int_equal(fake_cpu.dr[1], 0);
	assert_int_equal(fake_msr_value(MSR_IA32_LSTAR), 0);
	vcpu_put(&vcpu);
}

static void test_vcpu_reset_of_an_ap_waits_for_sipi(void **state)
{
	(void)state;
	static struct vcpu ap;
	assert_int_equal(vcpu_create(&ap, &vm, &cpu, 1, &vm.boot), VMX_OK);
	vcpu_load(&ap);
	ap.state = VCPU_RUNNING;
	ap.msrs.apic_base = 0;
	assert_int_equal(vcpu_reset(&ap, &vm.boot), VMX_OK);
	assert_int_equal(ap.state, VCPU_WAIT_SIPI);
	assert_int_equal(ap.msrs.apic_base, 0xFEE00800u); /* enabled, not the BSP */
	assert_int_equal(ap.lapic.id, 1u << 24);
	vcpu_put(&ap);
	vcpu_destroy(&ap);
}

static void test_vcpu_reset_reports_a_failed_vmwrite(void **state)
{
	(void)state;
	fake_cpu.fail_vmwrite_encoding = GUEST_RIP.encoding;
	fake_cpu.fail_vmwrite = (struct fake_forced_result){ VMX_FAIL_VALID, 7 };
	assert_int_equal(vcpu_reset(&vcpu, &vm.boot), VMX_ERR_VMWRITE_FAILED);
	fake_cpu.fail_vmwrite = (struct fake_forced_result){ VMX_SUCCEED, 0 };
}

/* ---- vcpu_retime_entry_for: a timer armed during an exit ---- */

/* An earlier deadline, still ahead: the saved VMX-preemption timer count
 * is rewritten for it (the next entry loads it, SDM Vol. 3C 26.5.1) and
 * the entry stays direct; a later one or none changes nothing. */
static void test_vcpu_retime_rewrites_the_saved_timer_count_for_an_earlier_deadline(void **state)
{
	(void)state;
	assert_true(vcpu.preemption_timer && vcpu.timer_saved_on_exit);
	unsigned shift = cpu.caps.misc & 0x1F;
	uint64_t timed_for = fake_cpu.tsc + (100000ULL << shift);
	vcpu.entry_deadline = timed_for;
	fake_vmcs_set(VMX_PREEMPTION_TIMER_VALUE.encoding, 100000);

	vcpu_retime_entry_for(&vcpu, timed_for + 5); /* later: the timer ends the entry first */
	vcpu_retime_entry_for(&vcpu, 0);             /* disarmed */
	assert_int_equal(vcpu.entry_deadline, timed_for);
	assert_int_equal(vmcs(VMX_PREEMPTION_TIMER_VALUE.encoding), 100000);

	uint64_t deadline = fake_cpu.tsc + (20000ULL << shift);
	vcpu_retime_entry_for(&vcpu, deadline);
	assert_int_equal(vcpu.entry_deadline, deadline);
	uint64_t count = vmcs(VMX_PREEMPTION_TIMER_VALUE.encoding);
	/* counted from the RDTSC inside, which the fake TSC put after ours */
	assert_true(count > 0 && count <= 20000);
}

/* A deadline already passed needs the run loop (an interrupt is due), and
 * without a saved count (entry_deadline 0) every entry goes through it. */
static void test_vcpu_retime_sends_a_passed_deadline_to_the_run_loop(void **state)
{
	(void)state;
	uint64_t passed = fake_cpu.tsc - 1;
	vcpu.entry_deadline = fake_cpu.tsc + 1000000;
	vcpu_retime_entry_for(&vcpu, passed);
	assert_int_equal(vcpu.entry_deadline, 0);
	vcpu_retime_entry_for(&vcpu, fake_cpu.tsc + 50000);
	assert_int_equal(vcpu.entry_deadline, 0);
}

#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_vcpu_enables_ept_vpid_and_unrestricted_guest),
		C(test_vcpu_exits_on_hlt_and_every_port_access),
		C(test_vcpu_msr_bitmap_is_its_own_page),
		C(test_vcpu_exit_and_entry_controls_switch_efer_pat_and_debug_controls),
		C(test_vcpu_guest_starts_in_flat_32_bit_protected_mode),
		C(test_vcpu_guest_control_registers_obey_the_fixed_bits),
		C(test_vcpu_host_state_is_this_cpu),
		V(test_vcpu_host_selectors_have_rpl_and_ti_cleared),
		C(test_vcpu_vmcs_is_cleared_then_made_current),
		C(test_vcpu_flushes_its_ept_and_vpid_translations),
		C(test_vcpu_destroy_clears_the_vmcs_and_frees_its_pages),
		C(test_vcpu_put_and_load_keep_avx_and_debug_registers),
		C(test_pkru_moves_with_the_vcpu_and_reads_back),
		C(test_vcpu_reset_restores_the_power_up_state),
		C(test_vcpu_reset_of_an_ap_waits_for_sipi),
		C(test_vcpu_reset_reports_a_failed_vmwrite),
		C(test_vcpu_retime_rewrites_the_saved_timer_count_for_an_earlier_deadline),
		C(test_vcpu_retime_sends_a_passed_deadline_to_the_run_loop),
		V(test_vcpu_create_fails_cleanly_when_vmclear_fails),
		V(test_vcpu_create_fails_cleanly_when_vmptrld_fails),
		V(test_vcpu_create_out_of_memory_for_the_msr_bitmap),
		V(test_vcpu_create_out_of_memory_for_the_vmcs_frees_the_bitmap),
		V(test_vcpu_create_failed_vmwrite_is_reported_and_the_vmcs_cleared),
		V(test_vcpu_create_missing_control_is_refused_and_the_vmcs_cleared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
