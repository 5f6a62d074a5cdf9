/*
 * Tests of core/exit/task_switch.c: task-switch exits (SDM Vol. 3C 26.4.2,
 * qualification 28.2.1) of a real VM and vCPU on the fake Tiger Lake CPU,
 * paging off, with a GDT and TSSs in guest RAM: JMP, CALL and IRET back
 * (back link, NT, busy flags), a task gate in the IDT for an exception with
 * an error code, a 16-bit TSS, the faults before the commit point (old
 * task) and after it (new task), CR0.TS, the T flag, and what stops the VM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_exit.h"
#include "fixture_vm.h"
#include "mm/guest_memory.h"
#include "abi/hypercall.h"
#include "vcpu/vcpu.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "x86.h"

#define R_TASK_SWITCH 9
/* Task-switch exit qualification: selector, source (Table 28-2). */
#define Q_CALL(sel) ((uint64_t)(sel))
#define Q_IRET(sel) ((uint64_t)(sel) | 1ULL << 30)
#define Q_JMP(sel)  ((uint64_t)(sel) | 2ULL << 30)
#define Q_GATE(sel) ((uint64_t)(sel) | 3ULL << 30)

/* Guest memory (paging off: linear = physical). */
#define GDT      0x1000u
#define OLD_TSS  0x2000u /* 32-bit, selector 0x18, the current task */
#define NEW_TSS  0x2100u /* 32-bit, selector 0x20 */
#define TSS16    0x2200u /* 16-bit, selector 0x28 */
#define NEW_EIP  0x5000u
#define NEW_ESP  0x8000u

#define SEL_CODE  0x08
#define SEL_DATA  0x10
#define SEL_OLD   0x18
#define SEL_NEW   0x20
#define SEL_TSS16 0x28
#define SEL_LDT   0x30

#define RFLAGS_NT (1ULL << 14)
#define DR6_BT    (1ULL << 15)

static uint64_t descriptor(uint32_t base, uint32_t limit, uint32_t type_and_flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)type_and_flags << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(base >> 24) << 56;
}

static void set_gdt(unsigned index, uint64_t d)
{
	assert_true(guest_write(&vm, GDT + 8 * index, &d, 8));
}

static uint64_t gdt_entry(unsigned index)
{
	uint64_t d = 0;
	assert_true(guest_read(&vm, GDT + 8 * index, &d, 8));
	return d;
}

static unsigned type_of(unsigned index) { return (unsigned)(gdt_entry(index) >> 40) & 0xF; }

static uint32_t mem32(uint32_t gpa)
{
	uint32_t v = 0;
	assert_true(guest_read(&vm, gpa, &v, 4));
	return v;
}

static uint16_t mem16(uint32_t gpa)
{
	uint16_t v = 0;
	assert_true(guest_read(&vm, gpa, &v, 2));
	return v;
}

static void put32(uint32_t gpa, uint32_t v) { assert_true(guest_write(&vm, gpa, &v, 4)); }
static void put16(uint32_t gpa, uint16_t v) { assert_true(guest_write(&vm, gpa, &v, 2)); }

/* A 32-bit TSS image for a task at NEW_EIP, flat segments, EAX = eax. */
static void write_tss32(uint32_t at, uint32_t eax)
{
	uint8_t zero[0x68] = { 0 };
	assert_true(guest_write(&vm, at, zero, sizeof(zero)));
	put32(at + 0x20, NEW_EIP);
	put32(at + 0x24, 0x2); /* EFLAGS */
	put32(at + 0x28, eax);
	put32(at + 0x38, NEW_ESP);
	put32(at + 0x48, SEL_DATA); /* ES */
	put32(at + 0x4C, SEL_CODE); /* CS */
	put32(at + 0x50, SEL_DATA); /* SS */
	put32(at + 0x54, SEL_DATA); /* DS */
	put32(at + 0x58, SEL_DATA); /* FS */
	put32(at + 0x5C, SEL_DATA); /* GS */
}

static void set_segment(uint32_t sel_enc, uint16_t sel, uint32_t ar)
{
	/* Selector, limit, AR, base encodings: 0x08xx, 0x48xx, 0x48xx+0x14, 0x68xx. */
	fake_vmcs_set(sel_enc, sel);
	fake_vmcs_set(sel_enc - 0x800 + 0x4800, 0xFFFFFFFF);
	fake_vmcs_set(sel_enc - 0x800 + 0x4814, ar);
	fake_vmcs_set(sel_enc - 0x800 + 0x6806, 0);
}

/* The machine: GDT with flat code and data, the current 32-bit task (busy,
 * in TR), an available 32-bit task and an available 16-bit task. */
static int setup(void **state)
{
	setup_vcpu(state);
	set_gdt(0, 0);
	set_gdt(1, descriptor(0, 0xFFFFF, 0xC09B));
	set_gdt(2, descriptor(0, 0xFFFFF, 0xC093));
	set_gdt(3, descriptor(OLD_TSS, 0x67, 0x008B));
	set_gdt(4, descriptor(NEW_TSS, 0x67, 0x0089));
	set_gdt(5, descriptor(TSS16, 0x2B, 0x0081));
	write_tss32(OLD_TSS, 0);
	write_tss32(NEW_TSS, 0x12345678);
	fake_vmcs_set(GUEST_GDTR_BASE.encoding, GDT);
	fake_vmcs_set(GUEST_GDTR_LIMIT.encoding, 8 * 8 - 1);
	fake_vmcs_set(GUEST_TR_SELECTOR.encoding, SEL_OLD);
	fake_vmcs_set(GUEST_TR_BASE.encoding, OLD_TSS);
	fake_vmcs_set(GUEST_TR_LIMIT.encoding, 0x67);
	fake_vmcs_set(GUEST_TR_AR_BYTES.encoding, 0x8B);
	set_segment(GUEST_CS_SELECTOR.encoding, SEL_CODE, AR_CODE32);
	set_segment(GUEST_SS_SELECTOR.encoding, SEL_DATA, AR_DATA);
	set_segment(GUEST_DS_SELECTOR.encoding, SEL_DATA, AR_DATA);
	set_segment(GUEST_ES_SELECTOR.encoding, SEL_DATA, AR_DATA);
	set_segment(GUEST_FS_SELECTOR.encoding, SEL_DATA, AR_DATA);
	set_segment(GUEST_GS_SELECTOR.encoding, SEL_DATA, AR_DATA);
	fake_vmcs_set(GUEST_RIP.encoding, ENTRY);
	fake_vmcs_set(GUEST_RSP.encoding, 0x7000);
	fake_vmcs_set(GUEST_RFLAGS.encoding, 0x202);
	fake_vmcs_set(GUEST_DR7.encoding, 0x400 | 0x3); /* L0, G0 */
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0);
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
	*reg(GPR_RAX) = 0xAAAA0001;
	*reg(GPR_RBX) = 0xBBBB0002;
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* The exception the next VM entry injects: vector, and its error code. */
static void check_injected(unsigned vector, uint32_t error_code)
{
	uint32_t info = (uint32_t)vmcs(VM_ENTRY_INTR_INFO.encoding);
	if (!(info & INTR_INFO_VALID))
		fail_msg("nothing injected; expected vector %u", vector);
	assert_int_equal(info & 0xFF, vector);
	assert_int_equal((info >> 8) & 7, 3);
	assert_true(info & INTR_INFO_DELIVER_ERROR);
	assert_int_equal(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE.encoding), error_code);
}

static void check_nothing_injected(void)
{
	assert_false(vmcs(VM_ENTRY_INTR_INFO.encoding) & INTR_INFO_VALID);
}

/* The old task is still current: RIP, TR and busy flags unchanged. */
static void check_old_task_kept(void)
{
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_OLD);
	assert_int_equal(type_of(3), 0xB);
	assert_int_equal(type_of(4), 0x9);
}

static void jmp_switches_to_an_available_task(void **state)
{
	(void)state;
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_nothing_injected();
	/* The old task's dynamic state, EIP past the JMP. */
	assert_int_equal(mem32(OLD_TSS + 0x20), ENTRY + 7);
	assert_int_equal(mem32(OLD_TSS + 0x24), 0x202);
	assert_int_equal(mem32(OLD_TSS + 0x28), 0xAAAA0001);
	assert_int_equal(mem32(OLD_TSS + 0x34), 0xBBBB0002);
	assert_int_equal(mem32(OLD_TSS + 0x38), 0x7000);
	assert_int_equal(mem32(OLD_TSS + 0x4C), SEL_CODE);
	/* Busy flags: old cleared, new set; no back link, no NT. */
	assert_int_equal(type_of(3), 0x9);
	assert_int_equal(type_of(4), 0xB);
	assert_int_equal(mem16(NEW_TSS), 0);
	assert_false(vmcs(GUEST_RFLAGS.encoding) & RFLAGS_NT);
	/* The new task. */
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_NEW);
	assert_int_equal(vmcs(GUEST_TR_BASE.encoding), NEW_TSS);
	assert_int_equal(vmcs(GUEST_TR_LIMIT.encoding), 0x67);
	assert_int_equal(vmcs(GUEST_TR_AR_BYTES.encoding), 0x8B);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_EIP);
	assert_int_equal(vmcs(GUEST_RSP.encoding), NEW_ESP);
	assert_int_equal(*reg(GPR_RAX), 0x12345678);
	assert_int_equal(vmcs(GUEST_CS_SELECTOR.encoding), SEL_CODE);
	assert_int_equal(vmcs(GUEST_CS_AR_BYTES.encoding), AR_CODE32);
	assert_int_equal(vmcs(GUEST_SS_AR_BYTES.encoding), AR_DATA);
	assert_int_equal(vmcs(GUEST_LDTR_AR_BYTES.encoding) & AR_UNUSABLE, AR_UNUSABLE);
	/* CR0.TS set; the local breakpoint enable cleared, the global kept. */
	assert_true(vmcs(GUEST_CR0.encoding) & CR0_TS);
	assert_int_equal(vmcs(GUEST_DR7.encoding), 0x402);
}

/* Loading a code or data segment sets its descriptor's accessed flag in the
 * GDT (SDM Vol. 3A 3.4.5.1); the VMCS gets the same type. */
static void loading_a_segment_sets_its_accessed_flag(void **state)
{
	(void)state;
	set_gdt(1, descriptor(0, 0xFFFFF, 0xC09A));
	set_gdt(2, descriptor(0, 0xFFFFF, 0xC092));
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(type_of(1), 0xB);
	assert_int_equal(type_of(2), 0x3);
	assert_int_equal(vmcs(GUEST_CS_AR_BYTES.encoding), AR_CODE32);
	assert_int_equal(vmcs(GUEST_SS_AR_BYTES.encoding), AR_DATA);
}

static void call_and_iret_return_through_the_back_link(void **state)
{
	(void)state;
	exit_with(R_TASK_SWITCH, Q_CALL(SEL_NEW), 7);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(mem16(NEW_TSS), SEL_OLD); /* back link */
	assert_true(vmcs(GUEST_RFLAGS.encoding) & RFLAGS_NT);
	assert_int_equal(type_of(3), 0xB); /* the caller stays busy */
	assert_int_equal(type_of(4), 0xB);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_EIP);

	/* The called task returns: IRET with NT = 1 to the back link. */
	*reg(GPR_RAX) = 0x77;
	fake_vmcs_set(GUEST_RIP.encoding, NEW_EIP + 0x10);
	exit_with(R_TASK_SWITCH, Q_IRET(SEL_OLD), 1);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_OLD);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 7);
	assert_int_equal(*reg(GPR_RAX), 0xAAAA0001);
	assert_int_equal(vmcs(GUEST_RFLAGS.encoding), 0x202);
	/* The called task: saved past the IRET, NT cleared in its image, not busy. */
	assert_int_equal(mem32(NEW_TSS + 0x20), NEW_EIP + 0x11);
	assert_false(mem32(NEW_TSS + 0x24) & RFLAGS_NT);
	assert_int_equal(mem32(NEW_TSS + 0x28), 0x77);
	assert_int_equal(type_of(4), 0x9);
	assert_int_equal(type_of(3), 0xB);
}

static void a_task_gate_for_an_exception_pushes_its_error_code(void **state)
{
	(void)state;
	/* #GP (hardware exception, error code 0x1234) met a task gate. */
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B0D);
	fake_vmcs_set(IDT_VECTORING_ERROR_CODE.encoding, 0x1234);
	exit_with(R_TASK_SWITCH, Q_GATE(SEL_NEW), 0);
	check_vm_running();
	/* Delivered by the switch: not put back for the next entry. */
	check_nothing_injected();
	/* The faulting instruction is where the old task resumes, with RF. */
	assert_int_equal(mem32(OLD_TSS + 0x20), ENTRY);
	assert_true(mem32(OLD_TSS + 0x24) & RFLAGS_RF);
	assert_int_equal(mem16(NEW_TSS), SEL_OLD);
	assert_true(vmcs(GUEST_RFLAGS.encoding) & RFLAGS_NT);
	assert_int_equal(type_of(3), 0xB);
	assert_int_equal(type_of(4), 0xB);
	assert_int_equal(vmcs(GUEST_RSP.encoding), NEW_ESP - 4);
	assert_int_equal(mem32(NEW_ESP - 4), 0x1234);
}

static void int_n_through_a_task_gate_resumes_after_the_instruction(void **state)
{
	(void)state;
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000440); /* INT 0x40 */
	exit_with(R_TASK_SWITCH, Q_GATE(SEL_NEW), 2);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(mem32(OLD_TSS + 0x20), ENTRY + 2);
	assert_int_equal(vmcs(GUEST_RSP.encoding), NEW_ESP);
}

static void a_16bit_tss_loads_the_16bit_state(void **state)
{
	(void)state;
	uint8_t zero[0x2C] = { 0 };
	assert_true(guest_write(&vm, TSS16, zero, sizeof(zero)));
	put16(TSS16 + 0x0E, 0x1234);    /* IP */
	put16(TSS16 + 0x10, 0x0002);    /* FLAGS */
	put16(TSS16 + 0x12, 0xBEEF);    /* AX */
	put16(TSS16 + 0x1A, 0x6000);    /* SP */
	put16(TSS16 + 0x22, SEL_DATA);  /* ES */
	put16(TSS16 + 0x24, SEL_CODE);  /* CS */
	put16(TSS16 + 0x26, SEL_DATA);  /* SS */
	put16(TSS16 + 0x28, SEL_DATA);  /* DS */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_TSS16), 5);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_TSS16);
	assert_int_equal(vmcs(GUEST_TR_AR_BYTES.encoding), 0x83);
	assert_int_equal(vmcs(GUEST_TR_LIMIT.encoding), 0x2B);
	assert_int_equal(type_of(5), 0x3);
	assert_int_equal(vmcs(GUEST_RIP.encoding), 0x1234);
	assert_int_equal(*reg(GPR_RAX), 0xAAAABEEF); /* the upper half is not in a 16-bit TSS */
	assert_int_equal(vmcs(GUEST_RSP.encoding), 0x6000);

	/* And back to the 32-bit task by JMP: the 16-bit TSS gets the 16-bit state. */
	*reg(GPR_RAX) = 0x4321;
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_OLD), 3);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(mem16(TSS16 + 0x0E), 0x1234 + 3);
	assert_int_equal(mem16(TSS16 + 0x12), 0x4321);
	assert_int_equal(mem16(TSS16 + 0x24), SEL_CODE);
	assert_int_equal(type_of(5), 0x1);
	assert_int_equal(type_of(3), 0xB);
	assert_int_equal(vmcs(GUEST_TR_AR_BYTES.encoding), 0x8B);
}

static void a_not_present_tss_is_np_in_the_old_task(void **state)
{
	(void)state;
	set_gdt(4, descriptor(NEW_TSS, 0x67, 0x0009));
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_injected(11, SEL_NEW);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_OLD);
	assert_int_equal(mem32(OLD_TSS + 0x20), NEW_EIP); /* nothing saved */
}

static void a_tss_limit_below_67h_is_ts(void **state)
{
	(void)state;
	set_gdt(4, descriptor(NEW_TSS, 0x60, 0x0089));
	exit_with(R_TASK_SWITCH, Q_CALL(SEL_NEW), 7);
	check_injected(10, SEL_NEW);
	check_old_task_kept();
}

static void jmp_to_a_busy_task_is_gp(void **state)
{
	(void)state;
	set_gdt(4, descriptor(NEW_TSS, 0x67, 0x008B));
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_injected(13, SEL_NEW);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_OLD);
	assert_int_equal(type_of(3), 0xB);
}

static void iret_to_a_task_that_is_not_busy_is_ts(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_RFLAGS.encoding, 0x202 | RFLAGS_NT);
	exit_with(R_TASK_SWITCH, Q_IRET(SEL_NEW), 1);
	check_injected(10, SEL_NEW);
	check_old_task_kept();
}

static void iret_to_a_selector_that_is_no_tss_is_ts(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_RFLAGS.encoding, 0x202 | RFLAGS_NT);
	exit_with(R_TASK_SWITCH, Q_IRET(SEL_DATA), 1);
	check_injected(10, SEL_DATA);
	check_old_task_kept();
}

static void jmp_to_a_selector_beyond_the_gdt_is_gp(void **state)
{
	(void)state;
	exit_with(R_TASK_SWITCH, Q_JMP(0x1230), 7);
	check_injected(13, 0x1230);
	check_old_task_kept();
}

static void an_old_tss_too_small_for_the_saved_state_is_ts(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_TR_LIMIT.encoding, 0x50);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_injected(10, SEL_OLD);
	check_old_task_kept();
}

static void a_fault_through_the_gate_of_a_gp_is_a_double_fault(void **state)
{
	(void)state;
	set_gdt(4, descriptor(NEW_TSS, 0x67, 0x0009));
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B0D);
	fake_vmcs_set(IDT_VECTORING_ERROR_CODE.encoding, 0);
	exit_with(R_TASK_SWITCH, Q_GATE(SEL_NEW), 0);
	check_injected(8, 0);
	check_old_task_kept();
}

static void a_bad_code_selector_is_ts_in_the_new_task(void **state)
{
	(void)state;
	put32(NEW_TSS + 0x4C, SEL_DATA); /* CS names a data segment */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_injected(10, SEL_DATA);
	/* After the commit point: the new task is current. */
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_NEW);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_EIP);
	assert_int_equal(mem32(OLD_TSS + 0x20), ENTRY + 7);
	assert_int_equal(type_of(4), 0xB);
	assert_int_equal(vmcs(GUEST_CS_SELECTOR.encoding), SEL_CODE); /* not loaded */
}

static void a_not_present_data_segment_is_np_in_the_new_task(void **state)
{
	(void)state;
	set_gdt(6, descriptor(0, 0xFFFFF, 0xC013)); /* data, P = 0 */
	put32(NEW_TSS + 0x54, 0x30); /* DS */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_injected(11, 0x30);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_NEW);
}

static void a_bad_ldt_selector_is_ts_with_the_ldt_selector(void **state)
{
	(void)state;
	put16(NEW_TSS + 0x60, SEL_DATA); /* not an LDT descriptor */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_injected(10, SEL_DATA);
}

static void a_task_gate_of_an_external_interrupt_sets_ext(void **state)
{
	(void)state;
	put32(NEW_TSS + 0x50, 0); /* a null SS */
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000030); /* external interrupt 0x30 */
	exit_with(R_TASK_SWITCH, Q_GATE(SEL_NEW), 0);
	check_injected(10, 1); /* #TS(0 + EXT) */
}

static void cr0_ts_is_set_through_the_read_shadow(void **state)
{
	(void)state;
	fake_vmcs_set(CR0_GUEST_HOST_MASK.encoding, vmcs(CR0_GUEST_HOST_MASK.encoding) | CR0_TS);
	fake_vmcs_set(CR0_READ_SHADOW.encoding, vmcs(CR0_READ_SHADOW.encoding) & ~CR0_TS);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	assert_true(vmcs(CR0_READ_SHADOW.encoding) & CR0_TS);
	assert_true(vmcs(GUEST_CR0.encoding) & CR0_TS);
}

static void the_t_flag_raises_a_debug_trap_with_bt(void **state)
{
	(void)state;
	put16(NEW_TSS + 0x64, 1);
	fake_cpu.dr6 = 0xFFFF0FF0;
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	uint32_t info = (uint32_t)vmcs(VM_ENTRY_INTR_INFO.encoding);
	assert_int_equal(info, INTR_INFO_VALID | INTR_INFO_TYPE_HW_EXCEPTION | VECTOR_DB);
	assert_true(fake_cpu.dr6 & DR6_BT);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_EIP);
}

static void a_tss_outside_ram_stops_the_vm(void **state)
{
	(void)state;
	set_gdt(4, descriptor(0x00F00000, 0x67, 0x0089)); /* past the 2 MiB of RAM */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_ended(false, "the new task's TSS is not guest RAM");
}

/* The switch's own writes honour the VM's protected memory (vm/protect.h):
 * a TSS in a `deny` page is not written (the old task's state would land
 * there with the guest's register values): the VM stops, as for the CPU's
 * own accesses at an EPT violation, and the event says so. */
static void a_tss_in_denied_memory_stops_the_vm_unwritten(void **state)
{
	(void)state;
	uint8_t before[0x68], after[0x68];
	assert_int_equal(protect_memory(&vcpu, OLD_TSS & ~0xFFFu, 0x1000,
					HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_DENY), PROTECT_OK);
	assert_true(guest_read(&vm, OLD_TSS, before, sizeof(before)));
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_ended(false, "is protected memory (policy deny), and the CPU's own access "
			      "cannot be dropped");
	assert_true(guest_read(&vm, OLD_TSS, after, sizeof(after)));
	assert_memory_equal(before, after, sizeof(before));
	struct hc_protect_event e[2];
	assert_int_equal(protect_take_events(&vm, e, 2), 1);
	assert_int_equal(e[0].action, HC_ACTION_STOPPED);
	assert_int_equal(e[0].access, HC_PROT_WRITE);
}

/* Under `log` the write is recorded and goes ahead. */
static void a_tss_in_logged_memory_is_written_and_recorded(void **state)
{
	(void)state;
	assert_int_equal(protect_memory(&vcpu, OLD_TSS & ~0xFFFu, 0x1000,
					HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_LOG), PROTECT_OK);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	assert_int_equal(mem32(OLD_TSS + 0x20), ENTRY + 7);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_NEW);
	struct hc_protect_event e[8];
	unsigned n = protect_take_events(&vm, e, 8);
	assert_true(n >= 1);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(e[i].action, HC_ACTION_ALLOWED);
}

static void a_task_switch_exit_in_ia32e_mode_stops_the_vm(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_LME | EFER_LMA);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_ended(false, "IA-32e mode");
}

/* 32-bit paging with 4 MiB pages (SDM Vol. 3A 4.3): a page directory at pd
 * mapping the first 4 MiB 1:1 with the given U/S bit; everything above not
 * present. */
#define PD_A 0x10000u
#define PD_B 0x11000u
static void paging_32bit(uint32_t pd, bool user)
{
	uint8_t zero[4096] = { 0 };
	assert_true(guest_write(&vm, pd, zero, sizeof(zero)));
	put32(pd, 0x83u | (user ? 0x4u : 0)); /* P, RW, PS */
	fake_vmcs_set(GUEST_CR4.encoding, vmcs(GUEST_CR4.encoding) | CR4_PSE);
	fake_vmcs_set(CR4_READ_SHADOW.encoding, vmcs(CR4_READ_SHADOW.encoding) | CR4_PSE);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_PG);
	fake_vmcs_set(CR0_READ_SHADOW.encoding, vmcs(CR0_READ_SHADOW.encoding) | CR0_PG);
	fake_vmcs_set(GUEST_CR3.encoding, pd);
}

static void cr3_comes_from_the_tss_with_paging_on(void **state)
{
	(void)state;
	paging_32bit(PD_A, false);
	assert_true(guest_write(&vm, PD_B, &(uint32_t){ 0x83 }, 4));
	put32(NEW_TSS + 0x1C, PD_B);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_CR3.encoding), PD_B);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_EIP);
}

static void cr3_is_left_alone_with_paging_off(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_CR3.encoding, 0x7000);
	put32(NEW_TSS + 0x1C, PD_B);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_CR3.encoding), 0x7000);
}

/* PAE paging (SDM Vol. 3A 4.4): the new CR3's PDPTEs go into the VMCS. */
#define PDPT_NEW 0x12020u
#define PD_PAE   0x13000u
static void pae_paging_loads_the_new_pdptes(void **state)
{
	(void)state;
	uint8_t zero[4096] = { 0 };
	assert_true(guest_write(&vm, PD_PAE, zero, sizeof(zero)));
	uint64_t pde = 0x83; /* 2 MiB, P, RW */
	assert_true(guest_write(&vm, PD_PAE, &pde, 8));
	uint64_t pdpt[4] = { PD_PAE | 1, 0x14000 | 1, 0, 0 };
	assert_true(guest_write(&vm, PDPT_NEW, pdpt, sizeof(pdpt)));
	fake_vmcs_set(GUEST_PDPTE0.encoding, PD_PAE | 1);
	fake_vmcs_set(GUEST_PDPTE1.encoding, 0);
	fake_vmcs_set(GUEST_CR4.encoding, vmcs(GUEST_CR4.encoding) | CR4_PAE);
	fake_vmcs_set(CR4_READ_SHADOW.encoding, vmcs(CR4_READ_SHADOW.encoding) | CR4_PAE);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_PG);
	fake_vmcs_set(CR0_READ_SHADOW.encoding, vmcs(CR0_READ_SHADOW.encoding) | CR0_PG);
	put32(NEW_TSS + 0x1C, PDPT_NEW);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_CR3.encoding), PDPT_NEW);
	assert_int_equal(vmcs(GUEST_PDPTE1.encoding), 0x14000 | 1);

	/* A PDPTE with a reserved bit: #GP(0) with the registers and CR3 of
	 * the task that switched (7.3 step 12's "prior execution environment"),
	 * TR already the new one. */
	uint64_t bad[4] = { PD_PAE | 1, 0x15000 | 1 | 0x20, 0, 0 };
	assert_true(guest_write(&vm, 0x12040, bad, sizeof(bad)));
	put32(OLD_TSS + 0x1C, 0x12040);
	*reg(GPR_RAX) = 0x99;
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_OLD), 7);
	check_injected(13, 0);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_OLD);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_EIP);
	assert_int_equal(*reg(GPR_RAX), 0x99);
	assert_int_equal(vmcs(GUEST_CR3.encoding), PDPT_NEW);
	assert_int_equal(vmcs(GUEST_PDPTE1.encoding), 0x14000 | 1);
}

static void a_task_at_cpl3_reaches_supervisor_only_tss_and_gdt_pages(void **state)
{
	(void)state;
	/* The GDT and TSSs are on a supervisor page; the task runs at CPL 3:
	 * the CPU's accesses to them are supervisor accesses (Vol. 3A 4.6). */
	paging_32bit(PD_A, false);
	put32(NEW_TSS + 0x1C, PD_A);
	fake_vmcs_set(GUEST_SS_AR_BYTES.encoding, AR_DATA | 3u << 5);
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_nothing_injected();
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_NEW);
	assert_int_equal(vmcs(GUEST_SS_AR_BYTES.encoding), AR_DATA);
}

static void an_unmapped_tss_is_a_page_fault_in_the_old_task(void **state)
{
	(void)state;
	paging_32bit(PD_A, false);
	set_gdt(4, descriptor(0x00800000, 0x67, 0x0089)); /* above the mapped 4 MiB */
	exit_with(R_TASK_SWITCH, Q_CALL(SEL_NEW), 7);
	check_injected(14, 0); /* not present, read, supervisor */
	assert_int_equal(fake_cpu.cr2, 0x00800000);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), SEL_OLD);
	assert_int_equal(type_of(4), 0x9);
}

static void an_nmi_through_a_task_gate_blocks_nmis_and_iret_unblocks(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_INTERRUPTIBILITY_INFO.encoding, 0);
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000202); /* NMI */
	exit_with(R_TASK_SWITCH, Q_GATE(SEL_NEW), 0);
	check_nothing_injected();
	assert_true(vmcs(GUEST_INTERRUPTIBILITY_INFO.encoding) & INTERRUPTIBILITY_NMI);
	assert_int_equal(mem32(OLD_TSS + 0x20), ENTRY); /* an NMI returns to where it came */

	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0);
	exit_with(R_TASK_SWITCH, Q_IRET(SEL_OLD), 1);
	check_nothing_injected();
	assert_false(vmcs(GUEST_INTERRUPTIBILITY_INFO.encoding) & INTERRUPTIBILITY_NMI);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
}

static void a_virtual_8086_task_gets_real_mode_segments(void **state)
{
	(void)state;
	put32(NEW_TSS + 0x24, 0x20002); /* EFLAGS.VM */
	put32(NEW_TSS + 0x4C, 0x1234);  /* CS */
	put32(NEW_TSS + 0x50, 0x2000);  /* SS */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_nothing_injected();
	assert_true(vmcs(GUEST_RFLAGS.encoding) & RFLAGS_VM);
	assert_int_equal(vmcs(GUEST_CS_BASE.encoding), 0x12340);
	assert_int_equal(vmcs(GUEST_CS_LIMIT.encoding), 0xFFFF);
	assert_int_equal(vmcs(GUEST_CS_AR_BYTES.encoding), 0xF3);
	assert_int_equal(vmcs(GUEST_SS_BASE.encoding), 0x20000);
	assert_int_equal(vmcs(GUEST_SS_AR_BYTES.encoding), 0xF3);
}

/* Found by the fuzzer (FOCUS_TASK_SWITCH): a virtual-8086 task whose LDT
 * selector is bad faulted with RFLAGS.VM set beside the old task's
 * protected-mode segments, a state VM entry refuses (SDM Vol. 3C
 * 27.3.1.2).  Its segments load first now; the #TS comes with them. */
static void a_virtual_8086_task_with_a_bad_ldt_is_ts_with_its_segments(void **state)
{
	(void)state;
	put32(NEW_TSS + 0x24, 0x20002); /* EFLAGS.VM */
	put32(NEW_TSS + 0x4C, 0x0700);  /* CS */
	put32(NEW_TSS + 0x50, 0x0600);  /* SS */
	put16(NEW_TSS + 0x60, SEL_DATA); /* not an LDT descriptor */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_running();
	check_injected(10, SEL_DATA);
	assert_true(vmcs(GUEST_RFLAGS.encoding) & RFLAGS_VM);
	assert_int_equal(vmcs(GUEST_CS_SELECTOR.encoding), 0x0700);
	assert_int_equal(vmcs(GUEST_CS_BASE.encoding), 0x7000);
	assert_int_equal(vmcs(GUEST_CS_LIMIT.encoding), 0xFFFF);
	assert_int_equal(vmcs(GUEST_CS_AR_BYTES.encoding), 0xF3);
	assert_int_equal(vmcs(GUEST_SS_BASE.encoding), 0x6000);
	assert_int_equal(vmcs(GUEST_DS_AR_BYTES.encoding), 0xF3);
}

/* The other way round: from a virtual-8086 task, a protected-mode task
 * whose CS does not load would leave virtual-8086 segments beside
 * RFLAGS.VM = 0; the SDM leaves them undefined, and the VM stops. */
static void a_segment_fault_after_a_virtual_8086_task_stops_the_vm(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_RFLAGS.encoding, 0x20202);
	set_segment(GUEST_CS_SELECTOR.encoding, 0x0700, 0xF3);
	set_segment(GUEST_SS_SELECTOR.encoding, 0x0600, 0xF3);
	put32(NEW_TSS + 0x4C, SEL_DATA); /* CS names a data segment: #TS */
	exit_with(R_TASK_SWITCH, Q_JMP(SEL_NEW), 7);
	check_vm_ended(false, "after a virtual-8086 task");
}

static void a_fault_through_a_double_fault_gate_is_a_triple_fault(void **state)
{
	(void)state;
	set_gdt(4, descriptor(NEW_TSS, 0x60, 0x0089)); /* limit too small: #TS */
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B08); /* #DF */
	fake_vmcs_set(IDT_VECTORING_ERROR_CODE.encoding, 0);
	exit_with(R_TASK_SWITCH, Q_GATE(SEL_NEW), 0);
	check_vm_ended(false, "triple fault");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(jmp_switches_to_an_available_task),
		T(loading_a_segment_sets_its_accessed_flag),
		T(call_and_iret_return_through_the_back_link),
		T(a_task_gate_for_an_exception_pushes_its_error_code),
		T(int_n_through_a_task_gate_resumes_after_the_instruction),
		T(a_16bit_tss_loads_the_16bit_state),
		T(a_not_present_tss_is_np_in_the_old_task),
		T(a_tss_limit_below_67h_is_ts),
		T(jmp_to_a_busy_task_is_gp),
		T(iret_to_a_task_that_is_not_busy_is_ts),
		T(iret_to_a_selector_that_is_no_tss_is_ts),
		T(jmp_to_a_selector_beyond_the_gdt_is_gp),
		T(an_old_tss_too_small_for_the_saved_state_is_ts),
		T(a_fault_through_the_gate_of_a_gp_is_a_double_fault),
		T(a_bad_code_selector_is_ts_in_the_new_task),
		T(a_not_present_data_segment_is_np_in_the_new_task),
		T(a_bad_ldt_selector_is_ts_with_the_ldt_selector),
		T(a_task_gate_of_an_external_interrupt_sets_ext),
		T(cr0_ts_is_set_through_the_read_shadow),
		T(the_t_flag_raises_a_debug_trap_with_bt),
		T(a_tss_outside_ram_stops_the_vm),
		T(a_tss_in_denied_memory_stops_the_vm_unwritten),
		T(a_tss_in_logged_memory_is_written_and_recorded),
		T(a_task_switch_exit_in_ia32e_mode_stops_the_vm),
		T(cr3_comes_from_the_tss_with_paging_on),
		T(cr3_is_left_alone_with_paging_off),
		T(pae_paging_loads_the_new_pdptes),
		T(a_task_at_cpl3_reaches_supervisor_only_tss_and_gdt_pages),
		T(an_unmapped_tss_is_a_page_fault_in_the_old_task),
		T(an_nmi_through_a_task_gate_blocks_nmis_and_iret_unblocks),
		T(a_virtual_8086_task_gets_real_mode_segments),
		T(a_fault_through_a_double_fault_gate_is_a_triple_fault),
		T(a_virtual_8086_task_with_a_bad_ldt_is_ts_with_its_segments),
		T(a_segment_fault_after_a_virtual_8086_task_stops_the_vm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
