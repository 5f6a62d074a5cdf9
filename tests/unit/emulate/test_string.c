/*
 * Tests of core/emulate/string.c: the string loop both REP INS/OUTS (port
 * I/O exits, core/exit/io.c) and REP MOVS/STOS (MMIO, core/exit/
 * ept_violation.c) run, on a real VM and vCPU on the fake Tiger Lake CPU,
 * driven by exits through exit_dispatch: strings and single elements that
 * cross a page boundary between unrelated physical pages, DF=1, 16-bit
 * address wrap, a device page as the memory of string I/O, the per-exit
 * budget, a #PF in the middle of a string, and memory that is neither RAM
 * nor a device.
 */
#include "x86.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "abi/devices.h"
#include "dev/fw_cfg.h"
#include "dev/mmio.h"
#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "mm/guest_memory.h"
#include "vm/vm.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"

#define ENTRY FIXTURE_ENTRY

/* Exit reasons (SDM Vol. 3C Appendix C). */
#define R_IO 30
#define R_EPT_VIOLATION 48

/* I/O exit qualification (SDM Vol. 3C Table 28-5). */
#define IO_IN (1u << 3)
#define IO_STRING (1u << 4)
#define IO_REP (1u << 5)
#define IO_PORT(p) ((uint64_t)(p) << 16)
#define IO_BYTE 0
#define IO_WORD 1
#define IO_DWORD 3

/* VM-exit instruction information for INS/OUTS (SDM Vol. 3C Table 28-8):
 * address size in bits 9:7, segment in bits 17:15. */
#define IO_INFO_ADDR16 (0u << 7)
#define IO_INFO_ADDR32 (1u << 7)
#define IO_INFO_ADDR64 (2u << 7)
#define IO_INFO_DS (3u << 15)

/* The #PF cvisor injects (SDM Vol. 3C 25.8.3): valid, hardware exception, error code, vector 14. */
#define PF_INJECTED 0x80000B0Eu

/* 32-bit paging (SDM Vol. 3A 4.3): one page directory, one page table for
 * linear 0x400000-0x7FFFFF. */
#define PAGE_DIR 0x10000u
#define PAGE_TABLE 0x11000u
/* Linear pages: A and B adjacent in linear memory, not in physical memory;
 * then the debug console, RAM, a page that is not present, a page that
 * maps to guest-physical memory that is neither RAM nor a device, and the
 * debug console again. */
#define LIN_A 0x400000u
#define PHYS_A 0x150000u
#define LIN_B 0x401000u
#define PHYS_B 0x130000u
#define LIN_CONSOLE 0x402000u
#define LIN_C 0x403000u
#define PHYS_C 0x170000u
#define LIN_ABSENT 0x404000u
#define LIN_OUTSIDE 0x405000u
#define PHYS_OUTSIDE 0x40000000u
#define LIN_CONSOLE2 0x406000u

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpu;

static void put32(uint64_t gpa, uint32_t v)
{
	assert_true(guest_write(&vm, gpa, &v, 4));
}

static void map(uint32_t linear, uint32_t phys)
{
	put32(PAGE_TABLE + ((linear >> 12) & 0x3FF) * 4, phys | PTE_P | PTE_RW);
}

static int setup(void **state)
{
	(void)state;
	fixture_reset_machine();
	fixture_vmx_on_and_vm(&cpu, &vm, 1, "t", 1);
	vmx_prepare_guest_fpu_switching(&cpu);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);

	/* The page tables (guest RAM is zero: nothing else present). */
	put32(PAGE_DIR + (LIN_A >> 22) * 4, PAGE_TABLE | PTE_P | PTE_RW);
	map(LIN_A, PHYS_A);
	map(LIN_B, PHYS_B);
	map(LIN_CONSOLE, (uint32_t)MMIO_DEBUG_CONSOLE_GPA);
	map(LIN_C, PHYS_C);
	map(LIN_OUTSIDE, PHYS_OUTSIDE);
	map(LIN_CONSOLE2, (uint32_t)MMIO_DEBUG_CONSOLE_GPA);
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

static void paging_on(void)
{
	fake_vmcs_set(GUEST_CR3.encoding, PAGE_DIR);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_PE | CR0_PG);
}

static void direction_down(void)
{
	fake_vmcs_set(GUEST_RFLAGS.encoding, vmcs(GUEST_RFLAGS.encoding) | RFLAGS_DF);
}

/* Bytes at a linear address on pages A, B or C, where the guest maps them. */
static uint32_t phys_of(uint32_t linear)
{
	switch (linear & ~0xFFFu) {
	case LIN_A: return PHYS_A | (linear & 0xFFF);
	case LIN_B: return PHYS_B | (linear & 0xFFF);
	case LIN_C: return PHYS_C | (linear & 0xFFF);
	}
	fail_msg("no RAM page at linear 0x%x", linear);
	return 0;
}

static void put_linear(uint32_t linear, const void *bytes, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		assert_true(guest_write(&vm, phys_of(linear + i), (const uint8_t *)bytes + i, 1));
}

static void get_linear(uint32_t linear, void *bytes, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		assert_true(guest_read(&vm, phys_of(linear + i), (uint8_t *)bytes + i, 1));
}

/* The CPU reports a port I/O exit of an instruction 2 bytes long. */
static void io_exit(uint64_t qualification, uint32_t instruction_info)
{
	fake_vmcs_set(VM_EXIT_INSTRUCTION_INFO.encoding, instruction_info);
	fake_vmcs_set(VM_EXIT_REASON.encoding, R_IO);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, qualification);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, 2);
	exit_dispatch(&vcpu, R_IO);
}

/* The CPU reports a write to a device page by the instruction at RIP. */
static void ept_write_exit(uint64_t gpa)
{
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, gpa);
	fake_vmcs_set(VM_EXIT_REASON.encoding, R_EPT_VIOLATION);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, 0x2 /* write */);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, 0);
	exit_dispatch(&vcpu, R_EPT_VIOLATION);
}

/* OUT DX, AX to the fw_cfg selector: key 0, whose data is "QEMU". */
static void select_fw_cfg_signature(void)
{
	uint64_t rip = vmcs(GUEST_RIP.encoding);

	*reg(GPR_RAX) = 0;
	io_exit(IO_PORT(FW_CFG_PORT_SELECTOR) | IO_WORD, 0);
	fake_vmcs_set(GUEST_RIP.encoding, rip);
}

/* OUT DX, AL with AL = '\n' to the debug console port: ends the line. */
static void end_console_line(void)
{
	uint64_t rip = vmcs(GUEST_RIP.encoding);

	*reg(GPR_RAX) = '\n';
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_BYTE, 0);
	fake_vmcs_set(GUEST_RIP.encoding, rip);
}

static void check_vm_running(void)
{
	if (vm.ended)
		fail_msg("the VM ended: %s\nconsole:\n%s", vm.end_reason, fake_console_text());
}

static void check_vm_ended_with(const char *reason_part)
{
	if (!vm.ended)
		fail_msg("the VM is still running; console:\n%s", fake_console_text());
	assert_false(vm.success);
	if (!strstr(vm.end_reason, reason_part))
		fail_msg("end reason \"%s\" lacks \"%s\"", vm.end_reason, reason_part);
}

static void check_nothing_injected(void)
{
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & INTR_INFO_VALID, 0);
}

/* ---- Page boundaries ---- */

static void test_rep_outsb_across_a_page_boundary_reads_both_physical_pages(void **state)
{
	(void)state;
	paging_on();
	/* 3 bytes at the end of page A, 3 at the start of page B. */
	put_linear(LIN_B - 3, "abcdef", 6);
	*reg(GPR_RSI) = LIN_B - 3;
	*reg(GPR_RCX) = 6;
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RSI), LIN_B + 3);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] abcdef\n");
}

static void test_outsd_of_an_element_across_a_page_boundary_reads_both_pages(void **state)
{
	(void)state;
	paging_on();
	/* One dword: "xy" on page A, "z!" on page B. */
	put_linear(LIN_B - 2, "xyz!", 4);
	*reg(GPR_RSI) = LIN_B - 2;
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_DWORD, IO_INFO_ADDR32 | IO_INFO_DS);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RSI), LIN_B + 2);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] xyz!\n");
}

static void test_insw_of_an_element_across_a_page_boundary_writes_both_pages(void **state)
{
	char got[4];

	(void)state;
	paging_on();
	select_fw_cfg_signature();
	/* REP INSW, 2 words: the first one's bytes on pages A and B. */
	*reg(GPR_RDI) = LIN_B - 1;
	*reg(GPR_RCX) = 2;
	io_exit(IO_PORT(FW_CFG_PORT_DATA) | IO_IN | IO_STRING | IO_REP | IO_WORD, IO_INFO_ADDR32);
	check_vm_running();
	check_nothing_injected();
	get_linear(LIN_B - 1, got, 4);
	assert_memory_equal(got, "QEMU", 4);
	assert_int_equal(*reg(GPR_RDI), LIN_B + 3);
	assert_int_equal(*reg(GPR_RCX), 0);
}

/* ---- Direction and address size ---- */

static void test_rep_insw_with_df_set_fills_memory_downwards(void **state)
{
	char got[4];

	(void)state;
	select_fw_cfg_signature();
	direction_down();
	/* Paging off: "QE" at 0x3002, then "MU" at 0x3000. */
	*reg(GPR_RDI) = 0x3002;
	*reg(GPR_RCX) = 2;
	io_exit(IO_PORT(FW_CFG_PORT_DATA) | IO_IN | IO_STRING | IO_REP | IO_WORD, IO_INFO_ADDR32);
	check_vm_running();
	assert_true(guest_read(&vm, 0x3000, got, 4));
	assert_memory_equal(got, "MUQE", 4);
	assert_int_equal(*reg(GPR_RDI), 0x2FFE);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

static void test_rep_outsb_with_16_bit_addresses_wraps_si_and_keeps_the_upper_bits(void **state)
{
	(void)state;
	/* 16-bit addresses use SI and CX (SDM Vol. 2B OUTS, REP): SI = 0xFFFF,
	 * CX = 2, so the second byte is at DS:0, and the rest of ESI and ECX
	 * stays. */
	assert_true(guest_write(&vm, 0xFFFF, "s", 1));
	assert_true(guest_write(&vm, 0x0000, "w", 1));
	*reg(GPR_RSI) = 0xAB0FFFF;
	*reg(GPR_RCX) = 0xCD0002;
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR16 | IO_INFO_DS);
	check_vm_running();
	assert_int_equal(*reg(GPR_RSI), 0xAB00001);
	assert_int_equal(*reg(GPR_RCX), 0xCD0000);
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] sw\n");
}

static void test_string_io_with_64_bit_addresses_outside_64_bit_mode_ends_the_vm(void **state)
{
	(void)state;
	*reg(GPR_RSI) = 0x3000;
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_BYTE, IO_INFO_ADDR64 | IO_INFO_DS);
	check_vm_ended_with("64-bit address outside 64-bit mode");
	assert_int_equal(*reg(GPR_RSI), 0x3000);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
}

/* ---- Devices as string memory ---- */

static void test_rep_stosd_into_the_debug_console_page_prints_each_dword(void **state)
{
	(void)state;
	/* rep stosd at RIP, EDI in the debug-console page (paging off). */
	assert_true(guest_write(&vm, ENTRY, "\xf3\xab", 2));
	*reg(GPR_RDI) = MMIO_DEBUG_CONSOLE_GPA + 0x10;
	*reg(GPR_RCX) = 3;
	*reg(GPR_RAX) = 0x64636261; /* "abcd" */
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA + 0x10);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RDI), MMIO_DEBUG_CONSOLE_GPA + 0x1C);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] abcdabcdabcd\n");
}

static void test_rep_insb_into_the_debug_console_page_writes_the_device(void **state)
{
	(void)state;
	paging_on();
	select_fw_cfg_signature();
	*reg(GPR_RDI) = LIN_CONSOLE + 0x100;
	*reg(GPR_RCX) = 4;
	io_exit(IO_PORT(FW_CFG_PORT_DATA) | IO_IN | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32);
	check_vm_running();
	assert_int_equal(*reg(GPR_RDI), LIN_CONSOLE + 0x104);
	assert_int_equal(*reg(GPR_RCX), 0);
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] QEMU\n");
}

static void test_rep_movsb_from_ram_into_the_debug_console_page(void **state)
{
	(void)state;
	paging_on();
	/* rep movsb at linear LIN_C (code and data on page C). */
	put_linear(LIN_C, "\xf3\xa4", 2);
	put_linear(LIN_C + 0x800, "mov", 3);
	fake_vmcs_set(GUEST_RIP.encoding, LIN_C);
	*reg(GPR_RSI) = LIN_C + 0x800;
	*reg(GPR_RDI) = LIN_CONSOLE;
	*reg(GPR_RCX) = 3;
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	check_vm_running();
	assert_int_equal(*reg(GPR_RSI), LIN_C + 0x803);
	assert_int_equal(*reg(GPR_RDI), LIN_CONSOLE + 3);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), LIN_C + 2);
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] mov\n");
}

/* ---- The per-exit budget ---- */

static void test_rep_outsb_past_the_budget_keeps_rip_and_shows_progress(void **state)
{
	(void)state;
	/* 5000 bytes to port 0x80 (writes ignored): 4096 in the first exit,
	 * RIP stays so that the guest executes the instruction again. */
	*reg(GPR_RSI) = 0x10000;
	*reg(GPR_RCX) = 5000;
	io_exit(IO_PORT(0x80) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RSI), 0x10000 + 4096);
	assert_int_equal(*reg(GPR_RCX), 5000 - 4096);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);

	/* The re-executed instruction finishes the count. */
	io_exit(IO_PORT(0x80) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
	check_vm_running();
	assert_int_equal(*reg(GPR_RSI), 0x10000 + 5000);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

static void test_rep_stosb_past_the_budget_stops_at_4096_elements(void **state)
{
	(void)state;
	paging_on();
	/* rep stosb of 5000 NULs (not printed) from the start of the console
	 * page: the budget ends exactly at the page after it. */
	put_linear(LIN_C, "\xf3\xaa", 2);
	fake_vmcs_set(GUEST_RIP.encoding, LIN_C);
	*reg(GPR_RDI) = LIN_CONSOLE;
	*reg(GPR_RCX) = 5000;
	*reg(GPR_RAX) = 0;
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RDI), LIN_C);
	assert_int_equal(*reg(GPR_RCX), 5000 - 4096);
	assert_int_equal(vmcs(GUEST_RIP.encoding), LIN_C);
}

/* ---- #PF ---- */

static void test_rep_insb_into_a_page_that_is_not_present_injects_page_fault(void **state)
{
	char got[2];

	(void)state;
	paging_on();
	select_fw_cfg_signature();
	/* 2 bytes fit on page C, the third is on the absent page. */
	*reg(GPR_RDI) = LIN_ABSENT - 2;
	*reg(GPR_RCX) = 5;
	io_exit(IO_PORT(FW_CFG_PORT_DATA) | IO_IN | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32);
	check_vm_running();
	/* #PF, CR2 the first byte not written, error code a supervisor write
	 * to a page that is not present (SDM Vol. 3A 4.7); the completed
	 * elements stay done, RIP stays. */
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), PF_INJECTED);
	assert_int_equal(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE.encoding), PF_WRITE);
	assert_int_equal(fake_cpu.cr2, LIN_ABSENT);
	assert_int_equal(*reg(GPR_RDI), LIN_ABSENT);
	assert_int_equal(*reg(GPR_RCX), 3);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	get_linear(LIN_ABSENT - 2, got, 2);
	assert_memory_equal(got, "QE", 2);
}

static void test_outsw_of_an_element_into_a_page_that_is_not_present_outputs_nothing(void **state)
{
	(void)state;
	paging_on();
	/* REP OUTSW: one word on page C, then one whose second byte is on
	 * the absent page: #PF for that page (a read), the word not sent. */
	put_linear(LIN_ABSENT - 3, "ok!", 3);
	*reg(GPR_RSI) = LIN_ABSENT - 3;
	*reg(GPR_RCX) = 2;
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_WORD, IO_INFO_ADDR32 | IO_INFO_DS);
	check_vm_running();
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), PF_INJECTED);
	assert_int_equal(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE.encoding), 0);
	assert_int_equal(fake_cpu.cr2, LIN_ABSENT);
	assert_int_equal(*reg(GPR_RSI), LIN_ABSENT - 1);
	assert_int_equal(*reg(GPR_RCX), 1);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] ok\n");
}

/* ---- Neither RAM nor a device ---- */

static void test_rep_outsb_from_memory_that_is_not_ram_ends_the_vm(void **state)
{
	(void)state;
	paging_on();
	*reg(GPR_RSI) = LIN_OUTSIDE + 0x10;
	*reg(GPR_RCX) = 4;
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
	check_vm_ended_with("not guest RAM");
	assert_console_contains("linear 0x405010");
	assert_console_contains("guest-physical 0x40000010");
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RCX), 4);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
}

static void test_rep_stosb_from_a_device_into_memory_that_is_not_ram_ends_the_vm(void **state)
{
	(void)state;
	paging_on();
	put_linear(LIN_C, "\xf3\xaa", 2);
	fake_vmcs_set(GUEST_RIP.encoding, LIN_C);
	/* Down (DF=1) from the second console page into the page below it,
	 * which is neither RAM nor a device: 2 bytes done, then the VM ends. */
	direction_down();
	*reg(GPR_RDI) = LIN_CONSOLE2 + 1;
	*reg(GPR_RCX) = 3;
	*reg(GPR_RAX) = 'x';
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA + 1);
	check_vm_ended_with("string MMIO touched guest-physical 0x40000fff, which is neither RAM nor a device");
	assert_int_equal(*reg(GPR_RDI), LIN_CONSOLE2 - 1);
	assert_int_equal(*reg(GPR_RCX), 1);
	assert_int_equal(vmcs(GUEST_RIP.encoding), LIN_C);
}

/* ---- Traps after an iteration (single-step, breakpoints) ---- */

/* RFLAGS.TF: each iteration of REP OUTSB traps, RIP stays at the
 * instruction until rCX is exhausted (SDM Vol. 3B 18.3.1.4, Vol. 2B REP). */
static void test_single_stepping_rep_outs_traps_after_each_iteration(void **state)
{
	(void)state;
	paging_on();
	put_linear(LIN_A, "xyz", 3);
	*reg(GPR_RSI) = LIN_A;
	*reg(GPR_RCX) = 3;
	fake_vmcs_set(GUEST_RFLAGS.encoding, vmcs(GUEST_RFLAGS.encoding) | RFLAGS_TF);
	for (unsigned left = 2; left > 0; left--) {
		fake_vmcs_set(GUEST_PENDING_DBG_EXCEPTIONS.encoding, 0);
		io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
		assert_int_equal(*reg(GPR_RCX), left);
		assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY); /* resumes the instruction */
		assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), PENDING_DBG_BS);
	}
	fake_vmcs_set(GUEST_PENDING_DBG_EXCEPTIONS.encoding, 0);
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), PENDING_DBG_BS);
	check_nothing_injected();
	end_console_line();
	assert_string_equal(fake_console_text(), "[t] xyz\n");
}

/* A data breakpoint on the second byte of the source (DR1, R/W = 11b,
 * LEN = 1): the loop stops after that element with B1 and "enabled
 * breakpoint" pending, RIP at the instruction for the rest. */
static void test_a_data_breakpoint_stops_rep_outs_after_the_element_it_meets(void **state)
{
	(void)state;
	paging_on();
	put_linear(LIN_A, "abcd", 4);
	*reg(GPR_RSI) = LIN_A;
	*reg(GPR_RCX) = 4;
	fake_cpu.dr[1] = LIN_A + 1;
	fake_vmcs_set(GUEST_DR7.encoding, 0x400 | (1u << 3) | (3u << 20)); /* G1, R/W1 = 11b */
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
	assert_int_equal(*reg(GPR_RCX), 2);
	assert_int_equal(*reg(GPR_RSI), LIN_A + 2);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), (1u << 12) | (1u << 1));
	/* the guest takes its #DB and resumes: the rest goes through */
	fake_vmcs_set(GUEST_PENDING_DBG_EXCEPTIONS.encoding, 0);
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_STRING | IO_REP | IO_BYTE, IO_INFO_ADDR32 | IO_INFO_DS);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
}

/* An I/O breakpoint (R/W = 10b) needs CR4.DE; then an OUT to its port
 * traps after the instruction (SDM Vol. 3B 18.2.4). */
static void test_an_io_breakpoint_needs_cr4_de_and_traps_after_out(void **state)
{
	(void)state;
	fake_cpu.dr[2] = PORT_DEBUGCON;
	fake_vmcs_set(GUEST_DR7.encoding, 0x400 | (1u << 4) | (2u << 24)); /* L2, R/W2 = 10b */
	*reg(GPR_RAX) = 'q';
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_BYTE, 0);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0); /* CR4.DE = 0 */
	fake_vmcs_set(GUEST_CR4.encoding, vmcs(GUEST_CR4.encoding) | CR4_DE);
	io_exit(IO_PORT(PORT_DEBUGCON) | IO_BYTE, 0);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), (1u << 12) | (1u << 2));
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 4);
	fake_vmcs_set(GUEST_PENDING_DBG_EXCEPTIONS.encoding, 0);
	io_exit(IO_PORT(PORT_DEBUGCON + 1) | IO_BYTE, 0); /* another port */
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0);
}

int main(void)
{
#define C(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		C(test_rep_outsb_across_a_page_boundary_reads_both_physical_pages),
		C(test_outsd_of_an_element_across_a_page_boundary_reads_both_pages),
		C(test_insw_of_an_element_across_a_page_boundary_writes_both_pages),
		C(test_rep_insw_with_df_set_fills_memory_downwards),
		C(test_rep_outsb_with_16_bit_addresses_wraps_si_and_keeps_the_upper_bits),
		C(test_string_io_with_64_bit_addresses_outside_64_bit_mode_ends_the_vm),
		C(test_rep_stosd_into_the_debug_console_page_prints_each_dword),
		C(test_rep_insb_into_the_debug_console_page_writes_the_device),
		C(test_rep_movsb_from_ram_into_the_debug_console_page),
		C(test_rep_outsb_past_the_budget_keeps_rip_and_shows_progress),
		C(test_rep_stosb_past_the_budget_stops_at_4096_elements),
		C(test_rep_insb_into_a_page_that_is_not_present_injects_page_fault),
		C(test_outsw_of_an_element_into_a_page_that_is_not_present_outputs_nothing),
		C(test_rep_outsb_from_memory_that_is_not_ram_ends_the_vm),
		C(test_rep_stosb_from_a_device_into_memory_that_is_not_ram_ends_the_vm),
		C(test_single_stepping_rep_outs_traps_after_each_iteration),
		C(test_a_data_breakpoint_stops_rep_outs_after_the_element_it_meets),
		C(test_an_io_breakpoint_needs_cr4_de_and_traps_after_out),
	};
	return cmocka_run_group_tests_name("emulate", tests, NULL, NULL);
}
