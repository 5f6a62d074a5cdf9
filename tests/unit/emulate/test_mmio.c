/*
 * Tests of core/emulate/mmio.c: MMIO emulation on a real VM and vCPU on the
 * fake Tiger Lake CPU, whose guest maps two code pages to unrelated
 * physical pages: the instruction fetch (guest_fetch_linear of core/mm/
 * guest_paging.c) across a page, at a page that is not present and at the
 * end of RAM; MMIO stores split across pages, instructions ending at or cut
 * by the last mapped page, a load into ESP; and REP STOS (the string loop
 * of core/emulate/string.c) whose per-page translations cross from a device
 * page into RAM or into a page that is not present.
 */
#include "mm/guest_memory.h"
#include "x86.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "abi/devices.h"
#include "dev/mmio.h"
#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "mm/guest_paging.h"
#include "vm/vm.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"

#define MiB (1ULL << 20)
#define R_EPT_VIOLATION 48
#define EPT_QUAL_WRITE 0x2
#define EPT_QUAL_LINEAR_VALID (1u << 7)
#define EPT_QUAL_LINEAR_TRANSLATED (1u << 8)

/* 32-bit paging (SDM Vol. 3A 4.3): one page directory, two page tables. */
#define PAGE_DIR 0x10000u
#define CODE_TABLE 0x11000u /* linear 0x400000-0x7FFFFF */
#define DATA_TABLE 0x12000u /* linear 0x800000-0xBFFFFF */

/* Linear code pages and where they are: A and B are adjacent in linear
 * memory but not in physical memory, the page after B is not present. */
#define CODE_A 0x400000u
#define CODE_A_PHYS 0x150000u
#define CODE_B 0x401000u
#define CODE_B_PHYS 0x130000u
#define CODE_ABSENT 0x402000u
/* Data pages: the debug console, then RAM, then the console, then nothing. */
#define DATA_CONSOLE 0x800000u
#define DATA_RAM 0x801000u
#define DATA_RAM_PHYS 0x140000u
#define DATA_CONSOLE2 0x802000u
#define DATA_ABSENT 0x803000u

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu vcpu;

static void put32(uint64_t gpa, uint32_t v)
{
	assert_true(guest_write(&vm, gpa, &v, 4));
}

static void map(uint32_t table, uint32_t linear, uint32_t phys)
{
	put32(table + ((linear >> 12) & 0x3FF) * 4, phys | PTE_P | PTE_RW);
}

static int setup(void **state)
{
	(void)state;
	fixture_reset_machine();
	fixture_vmx_on_and_vm(&cpu, &vm, 1, "t", 1);
	vmx_prepare_guest_fpu_switching(&cpu);
	fixture_vcpu_create(&vcpu, &vm, &cpu, 0);

	/* The page tables (all of guest RAM is zero: nothing else present). */
	put32(PAGE_DIR + (CODE_A >> 22) * 4, CODE_TABLE | PTE_P | PTE_RW);
	put32(PAGE_DIR + (DATA_CONSOLE >> 22) * 4, DATA_TABLE | PTE_P | PTE_RW);
	map(CODE_TABLE, CODE_A, CODE_A_PHYS);
	map(CODE_TABLE, CODE_B, CODE_B_PHYS);
	map(DATA_TABLE, DATA_CONSOLE, (uint32_t)MMIO_DEBUG_CONSOLE_GPA);
	map(DATA_TABLE, DATA_RAM, DATA_RAM_PHYS);
	map(DATA_TABLE, DATA_CONSOLE2, (uint32_t)MMIO_DEBUG_CONSOLE_GPA);
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

/* Guest code at a linear address: written where the guest maps it. */
static void put_code(uint32_t linear, const void *bytes, unsigned len)
{
	const uint8_t *b = bytes;
	for (unsigned i = 0; i < len; i++) {
		uint32_t l = linear + i, phys = 0;
		if ((l & ~0xFFFu) == CODE_A)
			phys = CODE_A_PHYS | (l & 0xFFF);
		else if ((l & ~0xFFFu) == CODE_B)
			phys = CODE_B_PHYS | (l & 0xFFF);
		else
			fail_msg("no code page at 0x%x", l);
		assert_true(guest_write(&vm, phys, &b[i], 1));
	}
	fake_vmcs_set(GUEST_RIP.encoding, linear);
}

/* The CPU reports a write to a device page; the core handles it. */
static void ept_write_exit(uint64_t gpa)
{
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, gpa);
	fake_vmcs_set(VM_EXIT_REASON.encoding, R_EPT_VIOLATION);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, EPT_QUAL_WRITE);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, 0);
	exit_dispatch(&vcpu, R_EPT_VIOLATION);
}

static void check_vm_running(void)
{
	if (vm.ended)
		fail_msg("the VM ended: %s\nconsole:\n%s", vm.end_reason, fake_console_text());
}

static void check_nothing_injected(void)
{
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & (1u << 31), 0);
}

/* Ends the console line the guest wrote so far, so that it is printed
 * (mov [edi], al with AL = '\n', paging on). */
static void flush_console_line(void)
{
	static const uint8_t mov_edi_al[] = { 0x88, 0x07 };
	put_code(CODE_A, mov_edi_al, sizeof(mov_edi_al));
	*reg(GPR_RAX) = '\n';
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	check_vm_running();
}

/* ---- guest_fetch_linear ---- */

static void test_fetch_across_a_page_reads_both_physical_pages(void **state)
{
	static const uint8_t code[15] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t got[15];

	(void)state;
	paging_on();
	put_code(CODE_B - 6, code, sizeof(code));
	memset(got, 0, sizeof(got));
	assert_int_equal(guest_fetch_linear(&vcpu, CODE_B - 6, got, 15), 15);
	assert_memory_equal(got, code, 15);
	check_nothing_injected();
}

static void test_fetch_stops_at_a_page_that_is_not_present(void **state)
{
	static const uint8_t code[5] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5 };
	uint8_t got[15];

	(void)state;
	paging_on();
	put_code(CODE_ABSENT - 5, code, sizeof(code));
	fake_cpu.cr2 = 0x1234;
	assert_int_equal(guest_fetch_linear(&vcpu, CODE_ABSENT - 5, got, 15), 5);
	assert_memory_equal(got, code, 5);
	/* Only the bytes an instruction needs are the CPU's to fetch: no #PF. */
	check_nothing_injected();
	assert_int_equal(fake_cpu.cr2, 0x1234);
	assert_int_equal(guest_fetch_linear(&vcpu, CODE_ABSENT, got, 15), 0);
	check_nothing_injected();
}

static void test_fetch_stops_at_the_end_of_ram(void **state)
{
	uint8_t got[15];

	(void)state;
	/* Paging off: linear = physical; RAM ends at 2 MiB. */
	assert_true(guest_write(&vm, 2 * MiB - 8, "\x11\x22\x33\x44\x55\x66\x77\x88", 8));
	assert_int_equal(guest_fetch_linear(&vcpu, 2 * MiB - 8, got, 15), 8);
	assert_memory_equal(got, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	assert_int_equal(guest_fetch_linear(&vcpu, 2 * MiB, got, 15), 0);
	check_nothing_injected();
}

/* ---- MMIO instructions at page boundaries ---- */

static void test_mmio_store_split_across_two_pages_is_emulated(void **state)
{
	/* mov [edi], ecx: 89 on the last byte of page A, its ModRM on page B
	 * (the byte after 89 in physical memory is 00: mov [eax], eax). */
	static const uint8_t mov_edi_ecx[] = { 0x89, 0x0f };

	(void)state;
	paging_on();
	put_code(CODE_B - 1, mov_edi_ecx, sizeof(mov_edi_ecx));
	*reg(GPR_RDI) = DATA_CONSOLE;
	*reg(GPR_RCX) = 0x434241; /* "ABC" */
	*reg(GPR_RAX) = 0x585858; /* "XXX" */
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_B + 1);
	flush_console_line();
	assert_string_equal(fake_console_text(), "[t] ABC\n");
}

static void test_mmio_store_split_after_a_prefix_is_emulated(void **state)
{
	/* mov [0xfebff000], ax: the 66 prefix on page A, A3 and its moffs32
	 * on page B (the general decoder's path, not the fast one). */
	static const uint8_t mov_moffs_ax[] = { 0x66, 0xa3, 0x00, 0xf0, 0xbf, 0xfe };

	(void)state;
	paging_on();
	put_code(CODE_B - 1, mov_moffs_ax, sizeof(mov_moffs_ax));
	*reg(GPR_RAX) = 0x5a5a5a59; /* "YZ" as a word */
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_B + 5);
	flush_console_line();
	assert_string_equal(fake_console_text(), "[t] YZ\n");
}

static void test_mmio_instruction_ending_at_the_last_mapped_page_is_emulated(void **state)
{
	/* mov [edi], al as the last two bytes before a page that is not present. */
	static const uint8_t mov_edi_al[] = { 0x88, 0x07 };

	(void)state;
	paging_on();
	put_code(CODE_ABSENT - 2, mov_edi_al, sizeof(mov_edi_al));
	*reg(GPR_RDI) = DATA_CONSOLE;
	*reg(GPR_RAX) = 'K';
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_ABSENT);
	flush_console_line();
	assert_string_equal(fake_console_text(), "[t] K\n");
}

static void test_mmio_instruction_cut_by_a_page_that_is_not_present_ends_the_vm(void **state)
{
	/* A3 and two bytes of its moffs32; the rest would be on the absent page. */
	static const uint8_t cut[] = { 0xa3, 0x00, 0xf0 };

	(void)state;
	paging_on();
	put_code(CODE_ABSENT - 3, cut, sizeof(cut));
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	assert_true(vm.ended);
	assert_false(vm.success);
	if (!strstr(vm.end_reason, "truncated"))
		fail_msg("end reason \"%s\" lacks \"truncated\"", vm.end_reason);
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_ABSENT - 3);
}

/* ---- the destination register ---- */

static void test_mmio_load_into_esp_writes_guest_rsp(void **state)
{
	/* mov esp, [edi] and movzx sp, byte [edi]: RSP lives in the VMCS.  The
	 * debug console reads 0. */
	static const uint8_t mov_esp_edi[] = { 0x8b, 0x27 };
	static const uint8_t movzx_sp_edi[] = { 0x66, 0x0f, 0xb6, 0x27 };

	(void)state;
	paging_on();
	put_code(CODE_A, mov_esp_edi, sizeof(mov_esp_edi));
	*reg(GPR_RDI) = DATA_CONSOLE;
	fake_vmcs_set(GUEST_RSP.encoding, 0x12345678);
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, MMIO_DEBUG_CONSOLE_GPA);
	fake_vmcs_set(VM_EXIT_REASON.encoding, R_EPT_VIOLATION);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, 0x1 /* read */);
	exit_dispatch(&vcpu, R_EPT_VIOLATION);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RSP.encoding), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_A + 2);

	put_code(CODE_A, movzx_sp_edi, sizeof(movzx_sp_edi));
	fake_vmcs_set(GUEST_RSP.encoding, 0x12345678);
	exit_dispatch(&vcpu, R_EPT_VIOLATION);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RSP.encoding), 0x12340000);
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_A + 4);
}

/* ---- REP STOS, one walk per page ---- */

static void test_rep_stos_from_a_device_page_into_ram(void **state)
{
	static const uint8_t rep_stosb[] = { 0xf3, 0xaa };
	uint8_t ram[3];

	(void)state;
	paging_on();
	put_code(CODE_A, rep_stosb, sizeof(rep_stosb));
	/* 2 bytes to the end of the console page, then 3 into RAM. */
	*reg(GPR_RDI) = DATA_RAM - 2;
	*reg(GPR_RCX) = 5;
	*reg(GPR_RAX) = 'Z';
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA + 0xFFE);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(*reg(GPR_RDI), DATA_RAM + 3);
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_A + 2);
	assert_true(guest_read(&vm, DATA_RAM_PHYS, ram, 3));
	assert_memory_equal(ram, "ZZZ", 3);
	flush_console_line();
	assert_string_equal(fake_console_text(), "[t] ZZ\n");
}

static void test_rep_stos_into_a_page_that_is_not_present_injects_page_fault(void **state)
{
	static const uint8_t rep_stosb[] = { 0xf3, 0xaa };

	(void)state;
	paging_on();
	put_code(CODE_A, rep_stosb, sizeof(rep_stosb));
	/* 3 bytes on the console page, then the absent page. */
	*reg(GPR_RDI) = DATA_ABSENT - 3;
	*reg(GPR_RCX) = 10;
	*reg(GPR_RAX) = 'P';
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA + 0xFFD);
	check_vm_running();
	/* #PF (vector 14, hardware exception, error code: a supervisor write
	 * to a page that is not present), CR2 the first byte not written; the
	 * completed iterations stay done and RIP stays (SDM Vol. 2B REP). */
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0x80000B0Eu);
	assert_int_equal(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE.encoding), 0x2);
	assert_int_equal(fake_cpu.cr2, DATA_ABSENT);
	assert_int_equal(*reg(GPR_RCX), 7);
	assert_int_equal(*reg(GPR_RDI), DATA_ABSENT);
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_A);
}

static void test_rep_stos_walks_each_page_again(void **state)
{
	static const uint8_t rep_stosd[] = { 0xf3, 0xab };
	uint32_t ram[2];

	(void)state;
	paging_on();
	put_code(CODE_A, rep_stosd, sizeof(rep_stosd));
	/* Backwards (DF=1): 2 dwords on console page 2, 1024 filling the RAM
	 * page, 2 on console page 1. */
	fake_vmcs_set(GUEST_RFLAGS.encoding, vmcs(GUEST_RFLAGS.encoding) | (1u << 10));
	*reg(GPR_RDI) = DATA_CONSOLE2 + 4;
	*reg(GPR_RCX) = 2 + 1024 + 2;
	*reg(GPR_RAX) = 0x21212121; /* "!!!!" */
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA + 4);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(*reg(GPR_RDI), DATA_RAM - 8 - 4);
	assert_true(guest_read(&vm, DATA_RAM_PHYS, ram, 4));
	assert_true(guest_read(&vm, DATA_RAM_PHYS + 0xFFC, &ram[1], 4));
	assert_int_equal(ram[0], 0x21212121);
	assert_int_equal(ram[1], 0x21212121);
	fake_vmcs_set(GUEST_RFLAGS.encoding, vmcs(GUEST_RFLAGS.encoding) & ~(1u << 10));
	flush_console_line();
	assert_string_equal(fake_console_text(), "[t] !!!!!!!!!!!!!!!!\n");
}

/* A data breakpoint on the device word a MOV stores to traps after it
 * (SDM Vol. 3B 18.2.4): the exit's linear address meets DR0 (R/W = 01b,
 * LEN = 4); an exit without a valid linear address cannot be checked. */
static void test_mmio_store_meets_a_data_breakpoint_at_its_linear_address(void **state)
{
	static const uint8_t mov_edi_ecx[] = { 0x89, 0x0f };

	(void)state;
	paging_on();
	fake_cpu.dr[0] = DATA_CONSOLE;
	fake_vmcs_set(GUEST_DR7.encoding, 0x400 | 1u | (1u << 16) | (3u << 18));
	put_code(CODE_A, mov_edi_ecx, sizeof(mov_edi_ecx));
	*reg(GPR_RDI) = DATA_CONSOLE;
	*reg(GPR_RCX) = 0x41;
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, DATA_CONSOLE);
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, MMIO_DEBUG_CONSOLE_GPA);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, EPT_QUAL_WRITE | EPT_QUAL_LINEAR_VALID |
							   EPT_QUAL_LINEAR_TRANSLATED);
	exit_dispatch(&vcpu, R_EPT_VIOLATION);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RIP.encoding), CODE_A + 2);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), (1u << 12) | 1u);
	/* a read of the same word does not meet a write breakpoint */
	static const uint8_t mov_ecx_edi[] = { 0x8b, 0x0f };
	put_code(CODE_A, mov_ecx_edi, sizeof(mov_ecx_edi));
	fake_vmcs_set(GUEST_PENDING_DBG_EXCEPTIONS.encoding, 0);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, 1u | EPT_QUAL_LINEAR_VALID | EPT_QUAL_LINEAR_TRANSLATED);
	exit_dispatch(&vcpu, R_EPT_VIOLATION);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0);
	/* without a valid linear address, nothing is checked */
	put_code(CODE_A, mov_edi_ecx, sizeof(mov_edi_ecx));
	ept_write_exit(MMIO_DEBUG_CONSOLE_GPA);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0);
}

int main(void)
{
#define C(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		C(test_fetch_across_a_page_reads_both_physical_pages),
		C(test_fetch_stops_at_a_page_that_is_not_present),
		C(test_fetch_stops_at_the_end_of_ram),
		C(test_mmio_store_split_across_two_pages_is_emulated),
		C(test_mmio_store_split_after_a_prefix_is_emulated),
		C(test_mmio_instruction_ending_at_the_last_mapped_page_is_emulated),
		C(test_mmio_instruction_cut_by_a_page_that_is_not_present_ends_the_vm),
		C(test_mmio_load_into_esp_writes_guest_rsp),
		C(test_rep_stos_from_a_device_page_into_ram),
		C(test_rep_stos_into_a_page_that_is_not_present_injects_page_fault),
		C(test_rep_stos_walks_each_page_again),
		C(test_mmio_store_meets_a_data_breakpoint_at_its_linear_address),
	};
	return cmocka_run_group_tests_name("mmio_fetch", tests, NULL, NULL);
}
