/*
 * A real VM and vCPU (core/vm/builder.c, core/vcpu/vcpu.c) on the fake Tiger Lake
 * CPU, and VM exits fed to exit_dispatch (core/exit/) or through the fake
 * vmx_enter_guest to vcpu_run_slice and the round-robin scheduler.
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
#include "loader/multiboot.h"
#include "run/run_loop.h"
#include "vm/builder.h"
#include "run/schedule.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

#define MiB (1ULL << 20)
#define ENTRY FIXTURE_ENTRY
#define INFO FIXTURE_INFO

/* Exit reasons used below (SDM Vol. 3C Appendix C). */
#define R_TRIPLE_FAULT 2
#define R_CPUID 10
#define R_GETSEC 11
#define R_HLT 12
#define R_INVD 13
#define R_VMCALL 18
#define R_VMXON 27
#define R_IO 30
#define R_INVALID_GUEST_STATE 33
#define R_EPT_VIOLATION 48
#define R_EPT_MISCONFIG 49
#define R_PREEMPTION_TIMER 52
#define ENTRY_FAILURE (1u << 31)

/* I/O exit qualification (SDM Vol. 3C Table 28-5). */
#define IO_IN (1u << 3)
#define IO_STRING (1u << 4)
#define IO_REP (1u << 5)
#define IO_PORT(p) ((uint64_t)(p) << 16)
#define IO_BYTE 0
#define IO_WORD 1
#define IO_DWORD 3

#define AR_CODE32 0xC09Bu
#define AR_CODE64 0xA09Bu
#define AR_DATA 0xC093u

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpu;
/* Pages in use once the CPU is in VMX operation and the VM exists. */
static size_t baseline_pages;

static int setup_vm(void **state)
{
	(void)state;
	fixture_reset_machine();
	memset(&vcpu, 0, sizeof(vcpu));
	fixture_vmx_on_and_vm(&cpu, &vm, 1, "t", 1);
	vmx_prepare_guest_fpu_switching(&cpu); /* as the type-1's main does */
	baseline_pages = fake_pages_outstanding();
	fake_console_clear();
	return 0;
}

/* vcpu_create itself (the builder's vm_build_vcpu adds the exit table). */
static enum vmx_error create_vcpu(void)
{
	return vcpu_create(&vcpu, &vm, &cpu, 0, &vm.boot);
}

static int setup_vcpu(void **state)
{
	setup_vm(state);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);
	fake_console_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct vcpu *all[] = { &vcpu };
	fixture_teardown(&cpu, &vm, all, 1);
	return 0;
}

static uint64_t vmcs(uint32_t encoding)
{
	return fake_vmcs_get(encoding);
}

static uint64_t *reg(unsigned gpr)
{
	return &vcpu.gprs.regs[gpr];
}

/* The CPU reports an exit; the core handles it. */
static void exit_with(uint32_t reason, uint64_t qualification, uint32_t instruction_len)
{
	fake_vmcs_set(VM_EXIT_REASON.encoding, reason);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, qualification);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, instruction_len);
	exit_dispatch(&vcpu, reason);
}

static void check_vm_ended(bool success, const char *reason_part)
{
	if (!vm.ended)
		fail_msg("the VM is still running; console:\n%s", fake_console_text());
	if (vm.success != success)
		fail_msg("the VM ended with %s (%s)", vm.success ? "success" : "failure",
			 vm.end_reason);
	if (!strstr(vm.end_reason, reason_part))
		fail_msg("end reason \"%s\" lacks \"%s\"", vm.end_reason, reason_part);
}

static void check_vm_running(void)
{
	if (vm.ended)
		fail_msg("the VM ended: %s\nconsole:\n%s", vm.end_reason, fake_console_text());
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

static void test_vcpu_exit_and_entry_controls_switch_efer_and_pat(void **state)
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

static void test_cpuid_ends_sti_blocking(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_INTERRUPTIBILITY_INFO.encoding, 1); /* blocking by STI */
	*reg(GPR_RAX) = 0;
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(vmcs(GUEST_INTERRUPTIBILITY_INFO.encoding), 0);
	assert_int_equal(*reg(GPR_RBX), 0x756E6547); /* "Genu" from the host */
}

/* ---- VMCALL ---- */

static void hypercall(uint64_t nr, uint64_t arg1, uint64_t arg2)
{
	*reg(GPR_RAX) = nr;
	*reg(GPR_RBX) = arg1;
	*reg(GPR_RCX) = arg2;
	exit_with(R_VMCALL, 0, 3);
}

static void test_vmcall_print_string_prints_guest_memory(void **state)
{
	(void)state;
	static const char text[] = "hello from the guest\n";
	assert_true(guest_write(&vm, 0x2000, text, sizeof(text) - 1));

	hypercall(HC_PRINT_STRING, 0x2000, sizeof(text) - 1);
	assert_int_equal(*reg(GPR_RAX), sizeof(text) - 1);
	assert_string_equal(fake_console_text(), "[t] hello from the guest\n");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
}

static void test_vmcall_print_string_of_a_long_text_prints_it_all(void **state)
{
	(void)state;
	char text[1000];
	for (unsigned i = 0; i < sizeof(text); i++)
		text[i] = (i % 100 == 99) ? '\n' : (char)('a' + i % 26);
	assert_true(guest_write(&vm, 0x1F80, text, sizeof(text))); /* across a page */

	hypercall(HC_PRINT_STRING, 0x1F80, sizeof(text));
	assert_int_equal(*reg(GPR_RAX), sizeof(text));
	assert_int_equal(fake_console_count("[t] "), 10);
}

static void test_vmcall_print_string_outside_ram_is_efault(void **state)
{
	(void)state;
	hypercall(HC_PRINT_STRING, 2 * MiB - 2, 5);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EFAULT);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
	check_vm_running();
}

static void test_vmcall_print_string_partly_outside_ram_prints_nothing(void **state)
{
	(void)state;
	char lines[200];
	for (unsigned i = 0; i < sizeof(lines); i++)
		lines[i] = (i % 10 == 9) ? '\n' : 'x';
	assert_true(guest_write(&vm, 2 * MiB - sizeof(lines), lines, sizeof(lines)));

	/* The first 200 bytes are RAM, the rest is not: nothing may be printed. */
	hypercall(HC_PRINT_STRING, 2 * MiB - sizeof(lines), 300);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EFAULT);
	assert_string_equal(fake_console_text(), "");
}

static void test_vmcall_print_string_too_long_is_einval(void **state)
{
	(void)state;
	hypercall(HC_PRINT_STRING, 0x2000, HC_PRINT_MAX + 1);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EINVAL);
	assert_string_equal(fake_console_text(), "");
}

static void test_vmcall_unknown_number_is_enosys(void **state)
{
	(void)state;
	hypercall(99, 0, 0);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_ENOSYS);
	check_vm_running();
}

static void test_vmcall_from_cpl_3_is_eperm(void **state)
{
	(void)state;
	assert_true(guest_write(&vm, 0x2000, "no\n", 3));
	fake_vmcs_set(GUEST_SS_AR_BYTES.encoding, AR_DATA | 3u << 5); /* DPL 3 */
	hypercall(HC_PRINT_STRING, 0x2000, 3);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EPERM);
	assert_string_equal(fake_console_text(), "");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
	hypercall(HC_STOP, 0, 0);
	check_vm_running();
}

static void test_vmcall_stop_0_ends_the_vm_with_success(void **state)
{
	(void)state;
	hypercall(HC_STOP, 0, 0);
	check_vm_ended(true, "status 0");
	assert_console_contains("cvisor: VM t ended: success");
}

static void test_vmcall_stop_5_ends_the_vm_with_failure(void **state)
{
	(void)state;
	hypercall(HC_STOP, 5, 0);
	check_vm_ended(false, "status 5");
}

static void test_vmcall_in_32_bit_mode_ignores_upper_register_halves(void **state)
{
	(void)state;
	hypercall(0xDEAD000000000000ULL | HC_STOP, 0xFFFFFFFF00000000ULL, 0);
	check_vm_ended(true, "status 0");
}

static void test_vmcall_in_64_bit_mode_uses_whole_registers(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_LME | EFER_LMA);
	fake_vmcs_set(GUEST_CS_AR_BYTES.encoding, AR_CODE64);
	assert_true(vcpu_guest_in_64bit_mode());
	hypercall(0xDEAD000000000000ULL | HC_STOP, 0, 0);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_ENOSYS);
	check_vm_running();
}

static void test_vmcall_get_ids_returns_vm_and_vcpu_ids(void **state)
{
	(void)state;
	hypercall(HC_GET_IDS, 77, 77);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(*reg(GPR_RBX), 1);
	assert_int_equal(*reg(GPR_RCX), 0);
}

static void test_vmcall_print_char_prints_one_byte(void **state)
{
	(void)state;
	hypercall(HC_PRINT_CHAR, 'A', 0);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	hypercall(HC_PRINT_CHAR, '\n', 0);
	assert_string_equal(fake_console_text(), "[t] A\n");
	hypercall(HC_PRINT_CHAR, 0x141, 0);
	assert_int_equal(*reg(GPR_RAX), (uint64_t)(int64_t)HC_EINVAL);
}

static void test_vmcall_nop_returns_ok(void **state)
{
	(void)state;
	hypercall(HC_NOP, 0, 0);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 3);
}

/* ---- Port I/O ---- */

static void test_out_to_com1_prints(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0xAAAAAA00u | 'X';
	exit_with(R_IO, IO_PORT(0x3F8) | IO_BYTE, 1);
	*reg(GPR_RAX) = '\n';
	exit_with(R_IO, IO_PORT(0x3F8) | IO_BYTE, 1);
	assert_string_equal(fake_console_text(), "[t] X\n");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

static void test_in_from_com1_line_status_keeps_the_rest_of_rax(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0x123456789ABCDEFFULL;
	exit_with(R_IO, IO_PORT(0x3FD) | IO_IN | IO_BYTE, 1);
	assert_int_equal(*reg(GPR_RAX), 0x123456789ABCDE60ULL); /* THRE | TEMT */
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 1);
}

static void test_in_dword_from_an_unknown_port_is_all_ones(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0x1111111122222222ULL;
	exit_with(R_IO, IO_PORT(0x1234) | IO_IN | IO_DWORD, 1);
	assert_int_equal(*reg(GPR_RAX), 0xFFFFFFFFULL); /* IN EAX zero-extends */
}

static void test_in_word_from_an_unknown_port_keeps_the_rest_of_rax(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0x1111111122222222ULL;
	exit_with(R_IO, IO_PORT(0x1234) | IO_IN | IO_WORD, 2);
	assert_int_equal(*reg(GPR_RAX), 0x111111112222FFFFULL);
}

static void test_out_0_to_debug_exit_ends_with_success(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 0xFFFFFF00u; /* OUT DX, AL sends only AL */
	exit_with(R_IO, IO_PORT(0xF4) | IO_BYTE, 1);
	check_vm_ended(true, "exit status 1");
}

static void test_out_3_to_debug_exit_ends_with_failure(void **state)
{
	(void)state;
	*reg(GPR_RAX) = 3;
	exit_with(R_IO, IO_PORT(0xF4) | IO_BYTE, 1);
	check_vm_ended(false, "exit status 7");
}

static void test_io_with_an_invalid_size_ends_the_vm(void **state)
{
	(void)state;
	exit_with(R_IO, IO_PORT(0x3F8) | 2, 1); /* size field 2 = 3 bytes */
	check_vm_ended(false, "invalid access size");
}

/* VM-exit instruction information for INS/OUTS: 32-bit addresses, DS. */
#define IO_INFO_ADDR32_DS ((1u << 7) | (3u << 15))

static void test_rep_outsb_to_com1_prints_guest_memory(void **state)
{
	(void)state;
	assert_true(guest_write(&vm, 0x3000, "hi\n", 3));
	fake_vmcs_set(VM_EXIT_INSTRUCTION_INFO.encoding, IO_INFO_ADDR32_DS);
	*reg(GPR_RSI) = 0x3000;
	*reg(GPR_RCX) = 3;
	exit_with(R_IO, IO_PORT(0x3F8) | IO_STRING | IO_REP | IO_BYTE, 2);
	assert_string_equal(fake_console_text(), "[t] hi\n");
	assert_int_equal(*reg(GPR_RSI), 0x3003);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

static void test_string_io_outside_guest_ram_ends_the_vm_with_a_report(void **state)
{
	(void)state;
	fake_vmcs_set(VM_EXIT_INSTRUCTION_INFO.encoding, IO_INFO_ADDR32_DS);
	*reg(GPR_RSI) = 0x40000000;
	exit_with(R_IO, IO_PORT(0x3F8) | IO_STRING | IO_BYTE, 1);
	check_vm_ended(false, "not guest RAM");
	assert_console_contains("0x40000000");
}

/* ---- Exits that end the VM ---- */

static void test_unhandled_exit_ends_the_vm_naming_it(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_RIP.encoding, 0x100123);
	exit_with(R_GETSEC, 0, 3);
	check_vm_ended(false, "GETSEC");
	assert_console_contains("unhandled exit");
	assert_console_contains("GETSEC");
	assert_console_contains("0x100123");
	assert_console_contains("VMCS dump");
	assert_int_equal(vmcs(GUEST_RIP.encoding), 0x100123); /* not skipped */
}

static void test_entry_failure_reports_invalid_guest_state(void **state)
{
	(void)state;
	exit_with(ENTRY_FAILURE | R_INVALID_GUEST_STATE, 0, 0);
	check_vm_ended(false, "invalid guest state");
	assert_console_contains("VM entry failed");
	assert_console_contains("VMCS dump");
	assert_int_equal(vcpu.exit_counts[R_INVALID_GUEST_STATE], 1);
}

static void test_ept_violation_outside_ram_names_address_and_access(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, 0x40000000);
	exit_with(R_EPT_VIOLATION, 0x2 /* write */, 0);
	check_vm_ended(false, "write at guest-physical 0x40000000");
}

static void test_ept_violation_on_instruction_fetch_says_so(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, 0x7FFFF000);
	exit_with(R_EPT_VIOLATION, 0x4 | 0x1, 0);
	check_vm_ended(false, "instruction fetch at guest-physical 0x7ffff000");
}

static void test_ept_violation_on_the_debug_console_emulates_the_store(void **state)
{
	(void)state;
	/* mov [edi], al at the guest's RIP, EDI in the debug-console page. */
	assert_true(guest_write(&vm, ENTRY, "\x88\x07", 2));
	*reg(GPR_RDI) = MMIO_DEBUG_CONSOLE_GPA;
	*reg(GPR_RAX) = 'Q';
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, MMIO_DEBUG_CONSOLE_GPA);
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	*reg(GPR_RAX) = '\n';
	assert_true(guest_write(&vm, ENTRY + 2, "\x88\x07", 2));
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	check_vm_running();
	assert_string_equal(fake_console_text(), "[t] Q\n");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 4);
}

/*
 * Fuzz finding (make fuzz, seed 20 of the first fuzz guest): a guest whose
 * stack lay in the debug-console page took an exception; pushing the frame
 * exited as an EPT violation on the device page while the event was being
 * delivered.  cvisor decoded the unrelated instruction at RIP (a REP STOS
 * whose next store faulted), injected #PF, whose delivery exited the same
 * way: an endless exit loop on one CPU.  Now the VM ends, naming the event.
 */
static void test_ept_violation_on_a_device_page_during_event_delivery_ends_the_vm(void **state)
{
	(void)state;
	assert_true(guest_write(&vm, ENTRY, "\x88\x07", 2)); /* mov [edi], al: not the culprit */
	*reg(GPR_RDI) = MMIO_DEBUG_CONSOLE_GPA;
	*reg(GPR_RAX) = 'Q';
	/* Valid, hardware exception (type 3), #PF with an error code (SDM Vol. 3C 25.9.3). */
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B0E);
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, MMIO_DEBUG_CONSOLE_GPA + 0x295);
	exit_with(R_EPT_VIOLATION, 0x2, 0);
	check_vm_ended(false, "write to debug console at 0xfebff295 while delivering vector 14");
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & (1u << 31), 0); /* not re-delivered */
	if (strstr(fake_console_text(), "[t] Q"))
		fail_msg("the instruction at RIP was emulated:\n%s", fake_console_text());
}

/* Exits caused by a guest instruction never happen during event delivery
 * (SDM Vol. 3C 28.2.4): the IDT-vectoring field is not even looked at. */
static void test_instruction_exits_do_not_redeliver_vectoring_info(void **state)
{
	(void)state;
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B0E); /* stale: #PF */
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	check_vm_running();
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & (1u << 31), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

/* trace=off (the release default): counts only, no ring, no TSC columns. */
static void test_exit_trace_off_keeps_counts_only(void **state)
{
	(void)state;
	enum exit_trace saved = exit_trace;

	exit_trace = EXIT_TRACE_OFF;
	*reg(GPR_RAX) = CVISOR_CPUID_BASE;
	exit_with(R_CPUID, 0, 2);
	exit_trace = saved;
	assert_int_equal(vcpu.exits_total, 1);
	assert_int_equal(vcpu.exit_counts[R_CPUID], 1);
	assert_int_equal(vcpu.exits_traced, 0);
	assert_int_equal(vcpu.exit_ticks[R_CPUID], 0);

	exit_trace = EXIT_TRACE_OFF;
	exit_print_trace(&vcpu);
	exit_print_statistics(&vcpu);
	exit_trace = saved;
	assert_console_contains("tracing is off (boot option trace=ring keeps the last 64 exits)");
	if (strstr(fake_console_text(), "TSC in cvisor"))
		fail_msg("TSC column printed with tracing off:\n%s", fake_console_text());

	/* With the ring on (the debug default) the same exit is recorded. */
	exit_with(R_CPUID, 0, 2);
	assert_int_equal(vcpu.exits_traced, 1);
	exit_print_trace(&vcpu);
	assert_console_contains("last 1 exit(s) of VM t vCPU 0");
}

static void test_ept_misconfiguration_is_reported_as_a_cvisor_bug(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, 0x5000);
	exit_with(R_EPT_MISCONFIG, 0, 0);
	check_vm_ended(false, "EPT misconfiguration at guest-physical 0x5000");
	assert_console_contains("VMCS dump");
}

static void test_triple_fault_ends_the_vm_with_its_registers(void **state)
{
	(void)state;
	*reg(GPR_R15) = 0x1515151515151515ULL;
	exit_with(R_TRIPLE_FAULT, 0, 0);
	check_vm_ended(false, "triple fault");
	assert_console_contains("R15 0x1515151515151515");
}

static void test_hlt_ends_the_vm(void **state)
{
	(void)state;
	exit_with(R_HLT, 0, 1);
	check_vm_ended(false, "halted");
	assert_console_contains("interrupts disabled");
}

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

static void test_exits_are_counted_by_reason(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++) {
		*reg(GPR_RAX) = 0;
		exit_with(R_CPUID, 0, 2);
	}
	hypercall(HC_NOP, 0, 0);
	assert_int_equal(vcpu.exit_counts[R_CPUID], 3);
	assert_int_equal(vcpu.exit_counts[R_VMCALL], 1);
	assert_int_equal(vcpu.exits_total, 4);
	exit_print_statistics(&vcpu);
	assert_console_contains("(4 exits)");
	assert_console_contains("CPUID");
}

/* ---- vcpu_run_slice through the fake vmx_enter_guest ---- */

static void guest_asks_hypervisor_leaf(struct guest_gprs *g)
{
	g->regs[GPR_RAX] = CVISOR_CPUID_BASE;
	g->regs[GPR_RCX] = 0;
}

/* The guest ran a whole time slice before the VMX-preemption timer exit. */
static void the_time_slice_elapses(struct guest_gprs *g)
{
	(void)g;
	fake_cpu.tsc += 2ULL * VCPU_SLICE_TSC;
}

static void guest_stops_with_0(struct guest_gprs *g)
{
	g->regs[GPR_RAX] = HC_STOP;
	g->regs[GPR_RBX] = 0;
}

static void test_run_slice_handles_exits_until_the_vm_stops(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = guest_asks_hypervisor_leaf },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 2);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(fake_cpu.launches, 1);
	assert_int_equal(fake_cpu.resumes, 1);
	assert_int_equal(vcpu.exit_counts[R_CPUID], 1);
	assert_int_equal(vcpu.exit_counts[R_VMCALL], 1);
	assert_int_equal(vcpu.exits_total, 2);
	assert_true(vcpu.launched);
	assert_int_equal(*reg(GPR_RAX), HC_OK);
	assert_int_equal(*reg(GPR_RBX), 0);
	assert_int_equal(*reg(GPR_RCX), 0x0000726F); /* from the CPUID exit */
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 5);
	assert_true(fake_vmcs_written(HOST_RSP.encoding));
	vcpu_put(&vcpu);
}

static void test_run_slice_vmlaunch_with_invalid_controls_ends_the_vm(void **state)
{
	(void)state;
	const struct fake_exit script[] = { { .result = 2, .instruction_error = 7 } };
	fake_script_exits(script, 1);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(false, "invalid control field");
	assert_console_contains("VMLAUNCH failed: VMfailValid, VM-instruction error 7");
	assert_console_contains("VMCS dump");
	assert_int_equal(vcpu.exits_total, 0);
	vcpu_put(&vcpu);
}

static void test_run_slice_vmfailinvalid_ends_the_vm(void **state)
{
	(void)state;
	const struct fake_exit script[] = { { .result = 1 } };
	fake_script_exits(script, 1);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(false, "VMfailInvalid");
	vcpu_put(&vcpu);
}

static void test_run_slice_returns_when_the_preemption_timer_fires(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_PREEMPTION_TIMER, .guest = the_time_slice_elapses },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 2);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_running();
	assert_true(vcpu.preempted);
	/* The timer was programmed for (at most) one slice: tigerlake counts TSC/2^0. */
	uint64_t programmed = vmcs(VMX_PREEMPTION_TIMER_VALUE.encoding);
	assert_true(programmed > 0 && programmed <= VCPU_SLICE_TSC);
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(fake_cpu.launches, 1);
	assert_int_equal(fake_cpu.resumes, 1); /* the second slice resumes */
	vcpu_put(&vcpu);
}

/* An exit that comes back on every entry (the delivery of an injected
 * event exits again, before the preemption timer can, SDM Vol. 3C 27.7.4)
 * still ends the slice once its time is up (found by make fuzz, seed 20). */
static void test_run_slice_ends_by_the_clock_when_exits_starve_the_timer(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = the_time_slice_elapses },
	};
	fake_script_exits(script, 1);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC); /* a second entry would run past the script */
	check_vm_running();
	assert_true(vcpu.preempted);
	assert_int_equal(fake_cpu.entries, 1);
	vcpu_put(&vcpu);
}

/*
 * The fast path: an exit after which nothing waits (no event, no deadline)
 * resumes the guest from vmx_run_guest itself; anything pending sends it
 * back through vcpu_run_slice's loop first.
 */
static void test_run_slice_resumes_directly_when_nothing_waits(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = guest_asks_hypervisor_leaf },
		{ .reason = R_CPUID, .instruction_len = 2, .guest = guest_asks_hypervisor_leaf },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 3);

	assert_true(vcpu_make_current(&vcpu, NULL));
	assert_true(vcpu.timer_saved_on_exit); /* tigerlake saves the timer on exit */
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(fake_cpu.direct_resumes, 2); /* after each CPUID */
	assert_int_equal(fake_cpu.launches, 1);
	assert_int_equal(fake_cpu.resumes, 2);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 7);
	vcpu_put(&vcpu);
}

static void another_cpu_posts_an_interrupt(struct guest_gprs *g)
{
	guest_asks_hypervisor_leaf(g);
	lapic_set_irr(&vcpu.lapic, 0x40);
}

static void another_cpu_posts_an_nmi(struct guest_gprs *g)
{
	guest_asks_hypervisor_leaf(g);
	vcpu.pending.nmi = 1;
}

static void test_run_slice_takes_the_loop_for_a_posted_interrupt(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = another_cpu_posts_an_interrupt },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 2);
	vcpu.lapic.svr = 0x1FF;

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(fake_cpu.direct_resumes, 0);
	/* The loop saw the interrupt: RFLAGS.IF is 0, so it asked for the window. */
	assert_true(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_INTERRUPT_WINDOW_EXITING);
	vcpu_put(&vcpu);
}

static void test_run_slice_takes_the_loop_for_a_posted_nmi(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = another_cpu_posts_an_nmi },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 2);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(fake_cpu.direct_resumes, 0);
	assert_int_equal(vcpu.pending.nmi, 0); /* injected by the loop */
	vcpu_put(&vcpu);
}

static void test_run_slice_takes_the_loop_after_hlt(void **state)
{
	(void)state;
	const struct fake_exit script[] = { { .reason = R_HLT, .instruction_len = 1 } };
	fake_script_exits(script, 1);

	assert_true(vcpu_make_current(&vcpu, NULL));
	/* HLT with interrupts on and an APIC timer armed to wake it later. */
	vm.vcpus[0] = &vcpu;
	vm.vcpu_count = 1;
	vmcs_write(GUEST_RFLAGS, 0x202);
	vcpu.lapic.timer_deadline = fake_cpu.tsc + 100ULL * VCPU_SLICE_TSC;
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC); /* a second entry would run past the script */
	check_vm_running();
	assert_int_equal(fake_cpu.direct_resumes, 0);
	assert_int_equal(vcpu.state, VCPU_HALTED);
	vcpu_put(&vcpu);
}

/* Without "save VMX-preemption timer value" each entry must reload the
 * timer: the fast path is off. */
static void test_run_slice_without_a_saved_timer_never_resumes_directly(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = guest_asks_hypervisor_leaf },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 2);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu.timer_saved_on_exit = false;
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(fake_cpu.direct_resumes, 0);
	vcpu_put(&vcpu);
}

static void test_make_current_and_put_switch_the_guest_only_state(void **state)
{
	(void)state;
	vcpu.msrs.lstar = 0xFFFF800000001000ULL;
	vcpu.xcr0 = 0x7;
	vcpu.cr2 = 0xC0DE000;
	assert_true(vcpu_make_current(&vcpu, NULL));
	assert_int_equal(fake_msr_value(0xC0000082), 0xFFFF800000001000ULL);
	assert_int_equal(fake_cpu.xcr0, 0x7);
	assert_int_equal(fake_cpu.cr2, 0xC0DE000);
	assert_int_equal(fake_cpu.fpu[0], 0x7F); /* FCW 0x37F of a fresh vCPU */
	assert_int_equal(fake_cpu.fpu[1], 0x03);

	/* The guest runs and changes them. */
	fake_msr_set(0xC0000082, 0xFFFF800000002000ULL, false);
	fake_cpu.xcr0 = 0x3;
	fake_cpu.cr2 = 0xBAD000;
	fake_cpu.fpu[0] = 0x55;
	vcpu_put(&vcpu);
	assert_int_equal(vcpu.msrs.lstar, 0xFFFF800000002000ULL);
	assert_int_equal(vcpu.xcr0, 0x3);
	assert_int_equal(vcpu.cr2, 0xBAD000);
	assert_int_equal(vcpu.fpu.bytes[0], 0x55);
	assert_int_equal(fake_cpu.xcr0, 1); /* the host's XCR0 is back */
}

/* Two VMs time-share the CPU: each is preempted once, then stops. */
static struct vm vm2;
static struct vcpu vcpu2;
static char entry_order[8];
static unsigned entry_count;
static unsigned vm_ended_calls;

static int two_vcpus_on_enter(struct guest_gprs *gprs, int launched, void *ctx)
{
	(void)launched;
	(void)ctx;
	bool first = fake_cpu.current_vmcs_pa == vcpu.vmcs_pa;
	struct vcpu *v = first ? &vcpu : &vcpu2;

	if (entry_count < sizeof(entry_order))
		entry_order[entry_count] = first ? 'A' : 'B';
	entry_count++;
	if (v->exits_total == 0) {
		/* the guest used up its slice */
		fake_cpu.tsc += 2ULL * VCPU_SLICE_TSC;
		fake_vmcs_set(VM_EXIT_REASON.encoding, R_PREEMPTION_TIMER);
	} else {
		fake_vmcs_set(VM_EXIT_REASON.encoding, R_VMCALL);
		fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, 3);
		guest_stops_with_0(gprs);
	}
	return 0;
}

static void count_vm_end(struct vm *ended)
{
	(void)ended;
	vm_ended_calls++;
}

static void test_round_robin_alternates_two_vms_until_both_end(void **state)
{
	(void)state;
	const struct vm_config config = { .id = 2, .name = "u", .ram_size = 2 * MiB, .vcpu_count = 1 };
	assert_null(vm_build(&vm2, &config));
	guest_state_flat_protected(&vm2.boot, 0x200000);
	assert_null(vm_build_vcpu(&vm2, 0, &cpu, &vcpu2));
	assert_int_not_equal(vcpu2.vpid, vcpu.vpid);
	entry_count = vm_ended_calls = 0;
	fake_cpu.on_enter = two_vcpus_on_enter;

	struct vcpu *const vcpus[2] = { &vcpu, &vcpu2 };
	schedule_round_robin(vcpus, 2, count_vm_end);

	assert_int_equal(entry_count, 4);
	assert_memory_equal(entry_order, "ABAB", 4);
	assert_int_equal(vm_ended_calls, 2);
	check_vm_ended(true, "status 0");
	assert_true(vm2.ended && vm2.success);
	assert_int_equal(fake_cpu.launches, 2); /* one VMLAUNCH per VMCS */
	assert_int_equal(fake_cpu.resumes, 2);
	vcpu_destroy(&vcpu2);
	vm_destroy(&vm2);
}

#define V(f) cmocka_unit_test_setup_teardown(f, setup_vm, teardown)
#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_vcpu_enables_ept_vpid_and_unrestricted_guest),
		C(test_vcpu_exits_on_hlt_and_every_port_access),
		C(test_vcpu_msr_bitmap_is_its_own_page),
		C(test_vcpu_exit_and_entry_controls_switch_efer_and_pat),
		C(test_vcpu_guest_starts_in_flat_32_bit_protected_mode),
		C(test_vcpu_guest_control_registers_obey_the_fixed_bits),
		C(test_vcpu_host_state_is_this_cpu),
		V(test_vcpu_host_selectors_have_rpl_and_ti_cleared),
		C(test_vcpu_vmcs_is_cleared_then_made_current),
		C(test_vcpu_flushes_its_ept_and_vpid_translations),
		C(test_vcpu_destroy_clears_the_vmcs_and_frees_its_pages),
		V(test_vcpu_create_fails_cleanly_when_vmclear_fails),
		V(test_vcpu_create_fails_cleanly_when_vmptrld_fails),
		V(test_vcpu_create_out_of_memory_for_the_msr_bitmap),
		V(test_vcpu_create_out_of_memory_for_the_vmcs_frees_the_bitmap),
		V(test_vcpu_create_failed_vmwrite_is_reported_and_the_vmcs_cleared),
		V(test_vcpu_create_missing_control_is_refused_and_the_vmcs_cleared),
		C(test_cpuid_hypervisor_leaf_returns_the_signature),
		C(test_cpuid_version_leaf_gives_the_abi_version),
		C(test_cpuid_leaf_1_hides_vmx_and_shows_a_hypervisor),
		C(test_cpuid_leaf_1_osxsave_mirrors_the_guest_cr4),
		C(test_cpuid_ends_sti_blocking),
		C(test_vmcall_print_string_prints_guest_memory),
		C(test_vmcall_print_string_of_a_long_text_prints_it_all),
		C(test_vmcall_print_string_outside_ram_is_efault),
		C(test_vmcall_print_string_partly_outside_ram_prints_nothing),
		C(test_vmcall_print_string_too_long_is_einval),
		C(test_vmcall_unknown_number_is_enosys),
		C(test_vmcall_from_cpl_3_is_eperm),
		C(test_vmcall_stop_0_ends_the_vm_with_success),
		C(test_vmcall_stop_5_ends_the_vm_with_failure),
		C(test_vmcall_in_32_bit_mode_ignores_upper_register_halves),
		C(test_vmcall_in_64_bit_mode_uses_whole_registers),
		C(test_vmcall_get_ids_returns_vm_and_vcpu_ids),
		C(test_vmcall_print_char_prints_one_byte),
		C(test_vmcall_nop_returns_ok),
		C(test_out_to_com1_prints),
		C(test_in_from_com1_line_status_keeps_the_rest_of_rax),
		C(test_in_dword_from_an_unknown_port_is_all_ones),
		C(test_in_word_from_an_unknown_port_keeps_the_rest_of_rax),
		C(test_out_0_to_debug_exit_ends_with_success),
		C(test_out_3_to_debug_exit_ends_with_failure),
		C(test_io_with_an_invalid_size_ends_the_vm),
		C(test_rep_outsb_to_com1_prints_guest_memory),
		C(test_string_io_outside_guest_ram_ends_the_vm_with_a_report),
		C(test_unhandled_exit_ends_the_vm_naming_it),
		C(test_entry_failure_reports_invalid_guest_state),
		C(test_ept_violation_outside_ram_names_address_and_access),
		C(test_ept_violation_on_instruction_fetch_says_so),
		C(test_ept_violation_on_the_debug_console_emulates_the_store),
		C(test_ept_violation_on_a_device_page_during_event_delivery_ends_the_vm),
		C(test_ept_misconfiguration_is_reported_as_a_cvisor_bug),
		C(test_triple_fault_ends_the_vm_with_its_registers),
		C(test_hlt_ends_the_vm),
		C(test_invd_writes_back_caches_and_continues),
		C(test_guest_vmxon_gets_an_invalid_opcode),
		C(test_exits_are_counted_by_reason),
		C(test_run_slice_handles_exits_until_the_vm_stops),
		C(test_run_slice_vmlaunch_with_invalid_controls_ends_the_vm),
		C(test_run_slice_vmfailinvalid_ends_the_vm),
		C(test_run_slice_returns_when_the_preemption_timer_fires),
		C(test_run_slice_ends_by_the_clock_when_exits_starve_the_timer),
		C(test_run_slice_resumes_directly_when_nothing_waits),
		C(test_instruction_exits_do_not_redeliver_vectoring_info),
		C(test_exit_trace_off_keeps_counts_only),
		C(test_run_slice_takes_the_loop_for_a_posted_interrupt),
		C(test_run_slice_takes_the_loop_for_a_posted_nmi),
		C(test_run_slice_takes_the_loop_after_hlt),
		C(test_run_slice_without_a_saved_timer_never_resumes_directly),
		C(test_make_current_and_put_switch_the_guest_only_state),
		C(test_round_robin_alternates_two_vms_until_both_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
