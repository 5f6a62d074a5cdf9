/*
 * Tests of core/exit/protect.c: EPT violations on protected pages of a real
 * VM and vCPU on the fake Tiger Lake CPU, fed to exit_dispatch, one policy
 * at a time: deny (an instruction's write dropped and skipped, a read of a
 * page without read giving 0, a fetch or an instruction cvisor does not
 * emulate faulting, the CPU's own accesses ending the VM), log (an
 * instruction cvisor emulates goes through on RAM; otherwise the page is
 * lifted with the monitor trap flag and put back at the MTF exit, no event
 * injected in between), stop; and the other exits around them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "abi/devices.h"
#include "abi/hypercall.h"
#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_exit.h"
#include "fixture_vm.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "mm/ept.h"
#include "mm/guest_memory.h"
#include "run/run_loop.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* EPT-violation exit qualification (SDM Vol. 3C 28.2.1, Table 28-7). */
#define Q_READ (1u << 0)
#define Q_WRITE (1u << 1)
#define Q_FETCH (1u << 2)
#define Q_READABLE (1u << 3)
#define Q_WRITABLE (1u << 4)
#define Q_EXECUTABLE (1u << 5)
#define Q_LINEAR_VALID (1u << 7)
#define Q_TRANSLATED (1u << 8)
#define Q_NMI_UNBLOCKING (1u << 12)
#define Q_LINEAR (Q_LINEAR_VALID | Q_TRANSLATED)
#define R_MTF 37

#define PAGE 0x3000ULL

static const uint8_t canary[8] = { 'c', 'a', 'n', 'a', 'r', 'y', '!', '!' };

/* The guest's instruction at its RIP (ENTRY). */
static void code(const char *bytes, size_t n)
{
	assert_true(guest_write(&vm, ENTRY, bytes, n));
}

/* An EPT violation at gpa (linear = gpa: paging is off). */
static void violation(uint64_t gpa, uint64_t qualification)
{
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, gpa);
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, gpa);
	exit_with(R_EPT_VIOLATION, qualification, 0);
}

static uint64_t perms_at(uint64_t gpa)
{
	uint64_t perms = 0;
	ept_translate(&vm.ept, gpa, &perms);
	return perms;
}

static struct hc_protect_event only_event(void)
{
	struct hc_protect_event e[2];
	assert_int_equal(protect_take_events(&vm, e, 2), 1);
	return e[0];
}

static void protect(uint64_t gpa, uint64_t length, unsigned perms, unsigned policy)
{
	assert_int_equal(protect_memory(&vcpu, gpa, length, perms, policy), PROTECT_OK);
	assert_true(guest_write(&vm, gpa, canary, sizeof(canary)));
}

static void check_canary(uint64_t gpa)
{
	uint8_t now[8];
	assert_true(guest_read(&vm, gpa, now, sizeof(now)));
	assert_memory_equal(now, canary, sizeof(now));
}

#define GP_INFO (VECTOR_GP | INTR_INFO_TYPE_HW_EXCEPTION | INTR_INFO_DELIVER_ERROR | INTR_INFO_VALID)
#define PF_INFO (VECTOR_PF | INTR_INFO_TYPE_HW_EXCEPTION | INTR_INFO_DELIVER_ERROR | INTR_INFO_VALID)

/* ---- deny ---- */

static void deny_drops_a_mov_store_and_skips_it(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_DENY);
	code("\x89\x07", 2); /* mov [edi], eax */
	*reg(GPR_RDI) = PAGE;
	*reg(GPR_RAX) = 0x11223344;
	violation(PAGE, Q_WRITE | Q_READABLE | Q_EXECUTABLE | Q_LINEAR);
	check_vm_running();
	check_canary(PAGE);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & INTR_INFO_VALID, 0);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.kind, HC_EVENT_MEMORY);
	assert_int_equal(e.address, PAGE);
	assert_int_equal(e.linear, PAGE);
	assert_int_equal(e.rip, ENTRY); /* the instruction's, not the one after it */
	assert_int_equal(e.access, HC_PROT_WRITE);
	assert_int_equal(e.action, HC_ACTION_DROPPED);
	assert_int_equal(e.repeats, 1);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_DROPPED], 1);
	assert_console_contains("protection: write of guest-physical 0x3000 at RIP 0x100000: dropped");
}

/* Every element of a REP STOS into the page is dropped: one event. */
static void deny_drops_every_element_of_a_rep_stos(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	code("\xF3\xAA", 2); /* rep stosb */
	*reg(GPR_RDI) = PAGE;
	*reg(GPR_RCX) = 8;
	*reg(GPR_RAX) = 'x';
	violation(PAGE, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	check_canary(PAGE);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(*reg(GPR_RDI), PAGE + 8);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.action, HC_ACTION_DROPPED);
	assert_int_equal(e.repeats, 8);
}

/* A page without read (execute-only): a MOV load reads 0, not the page. */
static void deny_read_of_an_execute_only_page_reads_zero(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_EXEC, HC_POLICY_DENY);
	code("\x8B\x07", 2); /* mov eax, [edi] */
	*reg(GPR_RDI) = PAGE;
	*reg(GPR_RAX) = 0xFFFFFFFF;
	violation(PAGE, Q_READ | Q_EXECUTABLE | Q_LINEAR);
	check_vm_running();
	assert_int_equal(*reg(GPR_RAX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.access, HC_PROT_READ);
	assert_int_equal(e.action, HC_ACTION_DROPPED);
}

/* An instruction cvisor does not emulate gets the fault instead: #GP(0)
 * with paging off, RIP at it, nothing written. */
static void deny_faults_an_instruction_cvisor_does_not_emulate(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	code("\x01\x07", 2); /* add [edi], eax */
	*reg(GPR_RDI) = PAGE;
	violation(PAGE, Q_READ | Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	check_canary(PAGE);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), GP_INFO);
	assert_int_equal(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE.encoding), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(only_event().action, HC_ACTION_FAULTED);
}

/* A fetch cannot be skipped: #GP(0) without paging. */
static void deny_fetch_without_paging_is_gp(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ | HC_PROT_WRITE, HC_POLICY_DENY);
	fake_vmcs_set(GUEST_RIP.encoding, PAGE);
	violation(PAGE, Q_FETCH | Q_READABLE | Q_WRITABLE | Q_LINEAR);
	check_vm_running();
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), GP_INFO);
	assert_int_equal(vmcs(GUEST_RIP.encoding), PAGE);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.access, HC_PROT_EXEC);
	assert_int_equal(e.action, HC_ACTION_FAULTED);
	assert_int_equal(e.rip, PAGE);
}

/* With paging, the #PF the guest's own tables would give for an NX page:
 * P and I/D (PAE paging with EFER.NXE, SDM Vol. 3A 4.7), CR2 = the address;
 * U/S from CPL 3; without SMEP or NXE the CPU does not report I/D. */
static void deny_fetch_with_paging_is_the_pf_of_an_nx_page(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_PG);
	fake_vmcs_set(GUEST_CR4.encoding, vmcs(GUEST_CR4.encoding) | CR4_PAE);
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_NXE);
	fake_vmcs_set(GUEST_RIP.encoding, 0xC0003000);
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, PAGE);
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, 0xC0003000);
	exit_with(R_EPT_VIOLATION, Q_FETCH | Q_READABLE | Q_LINEAR, 0);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), PF_INFO);
	assert_int_equal(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE.encoding), PF_PRESENT | PF_FETCH);
	assert_int_equal(fake_cpu.cr2, 0xC0003000);

	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
	fake_vmcs_set(GUEST_IA32_EFER.encoding, 0);
	fake_vmcs_set(GUEST_SS_AR_BYTES.encoding, AR_DATA | 3u << 5); /* CPL 3 */
	exit_with(R_EPT_VIOLATION, Q_FETCH | Q_READABLE | Q_LINEAR, 0);
	assert_int_equal(vmcs(VM_ENTRY_EXCEPTION_ERROR_CODE.encoding), PF_PRESENT | PF_USER);
	check_vm_running();
}

/* The CPU's own accesses (event delivery, the guest's page walk) cannot be
 * dropped: the VM ends, naming why. */
static void deny_of_the_cpus_own_access_ends_the_vm(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000B0E); /* #PF being delivered */
	violation(PAGE + 0xFF0, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_ended(false, "write of protected guest-physical 0x3ff0 (policy deny) while delivering");
	assert_int_equal(only_event().action, HC_ACTION_STOPPED);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding) & INTR_INFO_VALID, 0);
}

static void deny_of_a_page_walk_ends_the_vm(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	violation(PAGE + 8, Q_WRITE | Q_READABLE | Q_LINEAR_VALID); /* bit 8 clear */
	check_vm_ended(false, "by the guest's page walk");
}

/* ---- log ---- */

/* A MOV cvisor emulates: its write lands, the instruction completes, the
 * page is never lifted (no other vCPU can slip through). */
static void log_emulates_a_mov_store_on_ram(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_LOG);
	code("\x89\x07", 2); /* mov [edi], eax */
	*reg(GPR_RDI) = PAGE + 4;
	*reg(GPR_RAX) = 0x11223344;
	violation(PAGE + 4, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	uint32_t now = 0;
	assert_true(guest_read(&vm, PAGE + 4, &now, 4));
	assert_int_equal(now, 0x11223344);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	assert_int_equal(perms_at(PAGE), EPT_READ);
	assert_false(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_MONITOR_TRAP_FLAG);
	assert_int_equal(vcpu.protect.step_count, 0);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.action, HC_ACTION_ALLOWED);
	assert_int_equal(e.rip, ENTRY);
}

/* A `log` write whose linear address is in the VM's deny window is dropped
 * as under `deny` (cvisor.ko: kernel-half aliases of the kernel's text). */
static void log_write_through_the_deny_window_is_dropped(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_LOG);
	vm.protect.log_deny_linear = true;
	vm.protect.log_deny_linear_first = PAGE;
	vm.protect.log_deny_linear_last = ~0ULL;
	code("\x89\x07", 2); /* mov [edi], eax */
	*reg(GPR_RDI) = PAGE;
	*reg(GPR_RAX) = 0x11223344;
	violation(PAGE, Q_WRITE | Q_READABLE | Q_EXECUTABLE | Q_LINEAR);
	check_vm_running();
	check_canary(PAGE);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	assert_false(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_MONITOR_TRAP_FLAG);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.action, HC_ACTION_DROPPED);
	assert_int_equal(e.linear, PAGE);
}

/* Outside the window (and for reads inside it) `log` stays `log`. */
static void log_outside_the_deny_window_goes_through(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_EXEC, HC_POLICY_LOG);
	vm.protect.log_deny_linear = true;
	vm.protect.log_deny_linear_first = PAGE + 0x1000;
	vm.protect.log_deny_linear_last = ~0ULL;
	code("\x89\x07", 2); /* mov [edi], eax */
	*reg(GPR_RDI) = PAGE;
	*reg(GPR_RAX) = 0x11223344;
	violation(PAGE, Q_WRITE | Q_EXECUTABLE | Q_LINEAR);
	check_vm_running();
	uint32_t now = 0;
	assert_true(guest_read(&vm, PAGE, &now, 4));
	assert_int_equal(now, 0x11223344);
	assert_int_equal(only_event().action, HC_ACTION_ALLOWED);

	/* A read inside the window: still `log`. */
	vm.protect.log_deny_linear_first = PAGE;
	fake_vmcs_set(GUEST_RIP.encoding, ENTRY);
	code("\x8b\x07", 2); /* mov eax, [edi] */
	violation(PAGE, Q_READ | Q_EXECUTABLE | Q_LINEAR);
	check_vm_running();
	assert_int_equal((uint32_t)*reg(GPR_RAX), 0x11223344);
	assert_int_equal(only_event().action, HC_ACTION_ALLOWED);
}

/* A store that crosses into a `deny` page: the `log` page's part lands, the
 * other page keeps its protection (its part is dropped); two events. */
static void log_emulation_keeps_the_next_pages_protection(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_LOG);
	protect(PAGE + 0x1000, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	assert_true(guest_write(&vm, PAGE + 0xFFC, "abcd", 4));
	code("\x89\x07", 2); /* mov [edi], eax */
	*reg(GPR_RDI) = PAGE + 0xFFE;
	*reg(GPR_RAX) = 0x44332211;
	violation(PAGE + 0xFFE, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	uint8_t now[6];
	assert_true(guest_read(&vm, PAGE + 0xFFC, now, 6));
	assert_memory_equal(now, "ab\x11\x22" "ca", 6);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	struct hc_protect_event e[3];
	assert_int_equal(protect_take_events(&vm, e, 3), 2);
	assert_int_equal(e[0].action, HC_ACTION_DROPPED);
	assert_int_equal(e[0].address, PAGE + 0x1000);
	assert_int_equal(e[1].action, HC_ACTION_ALLOWED);
	assert_int_equal(e[1].address, PAGE + 0xFFE);
	assert_int_equal(e[1].linear, PAGE + 0xFFE);
}

/* A REP STOS into the page: every element lands, one event counts them. */
static void log_emulates_every_element_of_a_rep_stos(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_EXEC, HC_POLICY_LOG);
	code("\xF3\xAA", 2); /* rep stosb */
	*reg(GPR_RDI) = PAGE;
	*reg(GPR_RCX) = 6;
	*reg(GPR_RAX) = 'z';
	violation(PAGE, Q_WRITE | Q_EXECUTABLE | Q_LINEAR);
	check_vm_running();
	char now[8] = { 0 };
	assert_true(guest_read(&vm, PAGE, now, 7));
	assert_string_equal(now, "zzzzzz!");
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.action, HC_ACTION_ALLOWED);
	assert_int_equal(e.repeats, 6);
	assert_int_equal(perms_at(PAGE), EPT_EXECUTE);
}

/* A REP STOS through the deny window: every element is judged at its own
 * linear address, so none of them lands (memcpy is REP MOVSB on CPUs with
 * fast short REP MOVSB: text_poke's as well as an attacker's). */
static void log_rep_stos_through_the_deny_window_is_dropped(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_LOG);
	vm.protect.log_deny_linear = true;
	vm.protect.log_deny_linear_first = PAGE;
	vm.protect.log_deny_linear_last = ~0ULL;
	code("\xF3\xAA", 2); /* rep stosb */
	*reg(GPR_RDI) = PAGE;
	*reg(GPR_RCX) = 6;
	*reg(GPR_RAX) = 'z';
	violation(PAGE, Q_WRITE | Q_READABLE | Q_EXECUTABLE | Q_LINEAR);
	check_vm_running();
	check_canary(PAGE);
	assert_int_equal(*reg(GPR_RCX), 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.action, HC_ACTION_DROPPED);
	assert_int_equal(e.linear, PAGE);
	assert_int_equal(e.repeats, 6);
}

/* An instruction cvisor does not emulate takes the MTF step. */
static void log_lifts_the_page_for_one_instruction(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_LOG);
	code("\x01\x07", 2); /* add [edi], eax */
	fake_vmcs_set(CPU_BASED_VM_EXEC_CONTROL.encoding,
		      vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) | PROC_INTERRUPT_WINDOW_EXITING);
	unsigned inveptions = fake_cpu.invept_calls;
	violation(PAGE + 4, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	/* The guest re-executes its instruction with the page writable and the
	 * monitor trap flag set; no window exit may come first. */
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(perms_at(PAGE), EPT_READ | EPT_WRITE);
	uint32_t proc = vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding);
	assert_true(proc & PROC_MONITOR_TRAP_FLAG);
	assert_false(proc & PROC_INTERRUPT_WINDOW_EXITING);
	assert_int_equal(fake_cpu.invept_calls, inveptions + 1);
	assert_int_equal(vcpu.protect.step_count, 1);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.action, HC_ACTION_ALLOWED);
	assert_int_equal(e.address, PAGE + 4);

	/* One instruction later: the MTF exit puts the protection back. */
	fake_vmcs_set(GUEST_RIP.encoding, ENTRY + 2);
	exit_with(R_MTF, 0, 0);
	check_vm_running();
	assert_int_equal(perms_at(PAGE), EPT_READ);
	assert_false(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_MONITOR_TRAP_FLAG);
	assert_int_equal(vcpu.protect.step_count, 0);
	assert_int_equal(fake_cpu.invept_calls, inveptions + 2);
	assert_int_equal(vcpu.exit_counts[R_MTF], 1);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_ALLOWED], 1);
}

/* A MOVS from one protected page to another: both lifted, both put back. */
static void log_lifts_every_page_of_the_instruction(void **state)
{
	(void)state;
	protect(PAGE, 0x2000, HC_PROT_EXEC, HC_POLICY_LOG);
	code("\x01\x07", 2); /* add [edi], eax: not emulated */
	violation(PAGE + 0x10, Q_READ | Q_EXECUTABLE | Q_LINEAR);
	violation(PAGE + 0x1010, Q_WRITE | Q_EXECUTABLE | Q_LINEAR);
	assert_int_equal(vcpu.protect.step_count, 2);
	assert_int_equal(perms_at(PAGE), EPT_READ | EPT_EXECUTE);
	assert_int_equal(perms_at(PAGE + 0x1000), EPT_RWX);
	exit_with(R_MTF, 0, 0);
	assert_int_equal(perms_at(PAGE), EPT_EXECUTE);
	assert_int_equal(perms_at(PAGE + 0x1000), EPT_EXECUTE);
	assert_int_equal(protect_pending_events(&vm), 2);
}

/* The access was the delivery of an event (pushing a frame onto the page):
 * the event is delivered again, the delivery is the one access let
 * through, and the MTF exit comes before the handler's first instruction
 * (SDM Vol. 3C 26.5.2). */
static void log_lets_an_event_delivery_through(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_LOG);
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000030); /* external interrupt 0x30 */
	violation(PAGE + 0xFFC, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0x80000030);
	assert_true(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_MONITOR_TRAP_FLAG);
	assert_int_equal(perms_at(PAGE), EPT_READ | EPT_WRITE);
}

/* An IRET that unblocked NMIs exited: NMIs are blocked again before it runs
 * again (SDM Vol. 3C 28.2.3). */
static void log_of_an_iret_restores_nmi_blocking(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_EXEC, HC_POLICY_LOG);
	code("\xCF", 1); /* iret: not emulated */
	fake_vmcs_set(GUEST_INTERRUPTIBILITY_INFO.encoding, 0);
	violation(PAGE, Q_READ | Q_EXECUTABLE | Q_LINEAR | Q_NMI_UNBLOCKING);
	assert_true(vmcs(GUEST_INTERRUPTIBILITY_INFO.encoding) & INTERRUPTIBILITY_NMI);
}

/* ---- log on a CPU without the monitor trap flag ---- */

/* Only cvisor.ko's ranges can be `log` there (protect_narrow; HC_PROTECT
 * refuses it): the CPU's capability is taken away after the range is set. */
static void protect_log_then_lose_mtf(void)
{
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_LOG);
	cpu.caps.controls[VMX_CONTROLS_PROC] &= ~((uint64_t)PROC_MONITOR_TRAP_FLAG << 32);
}

/* What cvisor emulates needs no step: the write goes through, logged. */
static void log_without_mtf_emulates_a_mov_store(void **state)
{
	(void)state;
	protect_log_then_lose_mtf();
	code("\x89\x07", 2); /* mov [edi], eax */
	*reg(GPR_RDI) = PAGE + 4;
	*reg(GPR_RAX) = 0x55667788;
	violation(PAGE + 4, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	uint32_t now = 0;
	assert_true(guest_read(&vm, PAGE + 4, &now, 4));
	assert_int_equal(now, 0x55667788);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	assert_int_equal(only_event().action, HC_ACTION_ALLOWED);
}

/* Any other instruction gets deny's fault: nothing written, no page
 * lifted, no monitor trap flag set, the event says faulted. */
static void log_without_mtf_faults_an_instruction_cvisor_does_not_emulate(void **state)
{
	(void)state;
	protect_log_then_lose_mtf();
	code("\x01\x07", 2); /* add [edi], eax */
	*reg(GPR_RDI) = PAGE;
	unsigned inveptions = fake_cpu.invept_calls;
	violation(PAGE, Q_READ | Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_running();
	check_canary(PAGE);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), GP_INFO);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_false(vmcs(CPU_BASED_VM_EXEC_CONTROL.encoding) & PROC_MONITOR_TRAP_FLAG);
	assert_int_equal(perms_at(PAGE), EPT_READ);
	assert_int_equal(fake_cpu.invept_calls, inveptions);
	assert_int_equal(vcpu.protect.step_count, 0);
	struct hc_protect_event e = only_event();
	assert_int_equal(e.action, HC_ACTION_FAULTED);
	assert_int_equal(e.access, HC_PROT_READ | HC_PROT_WRITE);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_ALLOWED], 0);
}

/* The CPU's own access cannot be let through without the step, nor
 * dropped: the VM ends, naming both. */
static void log_without_mtf_ends_the_vm_on_the_cpus_own_access(void **state)
{
	(void)state;
	protect_log_then_lose_mtf();
	fake_vmcs_set(IDT_VECTORING_INFO.encoding, 0x80000030); /* external interrupt 0x30 */
	violation(PAGE + 0xFFC, Q_WRITE | Q_READABLE | Q_LINEAR);
	check_vm_ended(false, "write of protected guest-physical 0x3ffc (policy log, no monitor "
			      "trap flag) while delivering an event");
	check_canary(PAGE);
	assert_int_equal(perms_at(PAGE), EPT_READ);
	assert_int_equal(only_event().action, HC_ACTION_STOPPED);
}

/* ---- stop ---- */

static void stop_ends_the_vm_with_the_usual_report(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_STOP);
	code("\x89\x07", 2);
	violation(PAGE, Q_WRITE | Q_READABLE | Q_EXECUTABLE | Q_LINEAR);
	check_vm_ended(false, "write of protected guest-physical 0x3000 (policy stop)");
	assert_console_contains("exit EPT_VIOLATION (48) at RIP 0x100000");
	check_canary(PAGE);
	assert_int_equal(only_event().action, HC_ACTION_STOPPED);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_STOPPED], 1);
}

/* ---- Around them ---- */

/* The range allows the access: a translation cached before the range
 * changed.  It is dropped (INVEPT) and the guest retries. */
static void a_violation_the_range_allows_is_retried(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	unsigned inveptions = fake_cpu.invept_calls;
	violation(PAGE, Q_READ | Q_LINEAR);
	check_vm_running();
	assert_int_equal(fake_cpu.invept_calls, inveptions + 1);
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY);
	assert_int_equal(protect_pending_events(&vm), 0);
}

static void devices_still_work_beside_protected_pages(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	code("\x88\x07", 2); /* mov [edi], al */
	*reg(GPR_RDI) = MMIO_DEBUG_CONSOLE_GPA;
	*reg(GPR_RAX) = 'Q';
	violation(MMIO_DEBUG_CONSOLE_GPA, Q_WRITE | Q_LINEAR);
	check_vm_running();
	assert_int_equal(vmcs(GUEST_RIP.encoding), ENTRY + 2);
	assert_int_equal(protect_pending_events(&vm), 0);
}

static void an_mtf_exit_without_a_step_ends_the_vm(void **state)
{
	(void)state;
	exit_with(R_MTF, 0, 0);
	check_vm_ended(false, "monitor trap flag exit with no protection step in flight");
}

/* ---- The run loop holds events back during a step ---- */

static void guest_writes_the_log_page(struct guest_gprs *g)
{
	(void)g;
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, PAGE);
	/* An interrupt arrives for the guest, which can take it (IF = 1). */
	lapic_set_irr(&vcpu.lapic, 0x40);
}

static uint32_t injected_at_step, injected_after_step;

static void guest_runs_the_step(struct guest_gprs *g)
{
	(void)g;
	injected_at_step = vmcs(VM_ENTRY_INTR_INFO.encoding);
}

static void guest_takes_the_interrupt_and_stops(struct guest_gprs *g)
{
	injected_after_step = vmcs(VM_ENTRY_INTR_INFO.encoding);
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
	g->regs[GPR_RAX] = HC_STOP;
	g->regs[GPR_RBX] = 0;
}

static void no_event_is_injected_before_the_step_ends(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_LOG);
	code("\x01\x07", 2); /* add [edi], eax: the MTF step */
	LAPIC_REG(&vcpu.lapic, APIC_SVR) = 0x1FF;
	fake_vmcs_set(GUEST_RFLAGS.encoding, RFLAGS_RESERVED_1 | RFLAGS_IF);
	const struct fake_exit script[] = {
		{ .reason = R_EPT_VIOLATION, .qualification = Q_WRITE | Q_READABLE | Q_LINEAR,
		  .guest_physical = PAGE, .guest = guest_writes_the_log_page },
		{ .reason = R_MTF, .guest = guest_runs_the_step },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_takes_the_interrupt_and_stops },
	};
	fake_script_exits(script, 3);
	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(injected_at_step & INTR_INFO_VALID, 0);
	assert_int_equal(injected_after_step, 0x40 | INTR_INFO_TYPE_EXTERNAL | INTR_INFO_VALID);
	assert_int_equal(perms_at(PAGE), EPT_READ);
	vcpu_put(&vcpu);
}

/* ---- INIT and the protection (docs/hypercalls.md, "INIT") ---- */

#define R_CR_ACCESS 28
#define CR_MOV_TO_CR0 0 /* qualification: MOV to CR0 from RAX (Table 28-3) */
#define CR_MOV_TO_CR4 4
#define SIPI_VECTOR_8 0x108 /* pending.sipi: valid, vector 8 (irq/irq.c) */

static void mov_to_cr(unsigned qualification, uint64_t value)
{
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0);
	fake_vmcs_set(GUEST_RIP.encoding, ENTRY);
	*reg(GPR_RAX) = value;
	exit_with(R_CR_ACCESS, qualification, 3);
	check_vm_running();
}

static void guest_sets(vmcs_RWNAT_t real, vmcs_RWNAT_t shadow, uint64_t bits)
{
	fake_vmcs_set(real.encoding, vmcs(real.encoding) | bits);
	fake_vmcs_set(shadow.encoding, vmcs(shadow.encoding) | bits);
}

/*
 * INIT resets the vCPU's architectural state (SDM Vol. 3A 9.1.1, Table
 * 9-1: CR0 = 60000010H, CR4 = 0): a vCPU the VM's pins bound starts again
 * with the pinned bits clear, runs its real-mode start-up, may write CR0
 * and CR4 without them (no event), and is bound again as soon as it sets
 * them.  The protected memory is not touched.
 */
static void init_starts_the_vcpu_unpinned_until_it_sets_the_bits(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_DENY);
	guest_sets(GUEST_CR0, CR0_READ_SHADOW, CR0_WP | CR0_PE);
	guest_sets(GUEST_CR4, CR4_READ_SHADOW, CR4_SMEP);
	assert_int_equal(protect_pin_cr(&vcpu, 0, CR0_WP), PROTECT_OK);
	assert_int_equal(protect_pin_cr(&vcpu, 4, CR4_SMEP), PROTECT_OK);

	vcpu.pending.init = 1;
	vcpu.pending.sipi = SIPI_VECTOR_8;
	assert_true(vcpu_process_events(&vcpu));
	assert_int_equal(vmcs(CR0_READ_SHADOW.encoding) & (CR0_WP | CR0_PE), 0);
	assert_int_equal(vmcs(GUEST_CR0.encoding) & CR0_WP, 0);
	assert_int_equal(vmcs(CR4_READ_SHADOW.encoding) & CR4_SMEP, 0);
	assert_int_equal(vmcs(GUEST_CR4.encoding) & CR4_SMEP, 0);
	assert_int_equal(vmcs(GUEST_CS_SELECTOR.encoding), 0x800);
	/* The pinned bits stay cvisor's: every write of them exits. */
	assert_true(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_WP);
	assert_true(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_SMEP);
	assert_int_equal(perms_at(PAGE), EPT_READ);

	/* The start-up code enters protected mode without WP: no event. */
	mov_to_cr(CR_MOV_TO_CR0, CR0_PE | CR0_ET);
	assert_int_equal(vmcs(CR0_READ_SHADOW.encoding) & CR0_WP, 0);
	mov_to_cr(CR_MOV_TO_CR4, CR4_PAE);
	assert_int_equal(protect_pending_events(&vm), 0);

	/* Once it sets them, they stay. */
	mov_to_cr(CR_MOV_TO_CR0, CR0_PE | CR0_ET | CR0_WP);
	mov_to_cr(CR_MOV_TO_CR4, CR4_PAE | CR4_SMEP);
	mov_to_cr(CR_MOV_TO_CR0, CR0_PE | CR0_ET);
	mov_to_cr(CR_MOV_TO_CR4, CR4_PAE);
	assert_true(vmcs(CR0_READ_SHADOW.encoding) & CR0_WP);
	assert_true(vmcs(GUEST_CR0.encoding) & CR0_WP);
	assert_true(vmcs(CR4_READ_SHADOW.encoding) & CR4_SMEP);
	assert_true(vmcs(GUEST_CR4.encoding) & CR4_SMEP);
	struct hc_protect_event e[3];
	assert_int_equal(protect_take_events(&vm, e, 3), 2);
	assert_int_equal(e[0].kind, HC_EVENT_CR);
	assert_int_equal(e[0].address, 0);
	assert_int_equal(e[0].action, HC_ACTION_KEPT);
	assert_int_equal(e[1].address, 4);
	assert_int_equal(e[1].action, HC_ACTION_KEPT);
}

/* The pinned MSRs: INIT clears EFER (NXE with it) and leaves LSTAR; a
 * whole-value pin still keeps LSTAR, and NXE is bound again once set. */
static void init_keeps_whole_value_msr_pins(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_NXE | EFER_LME | EFER_LMA);
	assert_int_equal(protect_pin_msr(&vcpu, MSR_IA32_EFER), PROTECT_OK);
	assert_int_equal(protect_pin_msr(&vcpu, MSR_IA32_SYSENTER_EIP), PROTECT_OK);
	uint64_t entry = vmcs(GUEST_SYSENTER_EIP.encoding);

	vcpu.pending.init = 1;
	vcpu.pending.sipi = SIPI_VECTOR_8;
	assert_true(vcpu_process_events(&vcpu));
	assert_int_equal(vmcs(GUEST_IA32_EFER.encoding) & EFER_NXE, 0);
	uint64_t value = EFER_LME; /* NXE clear in the vCPU now: free */
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_EFER, &value), PROTECT_MSR_FREE);
	value = entry + 0x1000;
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_SYSENTER_EIP, &value), PROTECT_MSR_DONE);
	assert_int_equal(protect_pending_events(&vm), 1);
}

/* An INIT (and its SIPI) that arrives during a `log` step waits for the
 * step's MTF exit: the lifted page is back before the vCPU resets, so an
 * INIT cannot leave it lifted while the vCPU waits for its SIPI. */
static void guest_writes_the_log_page_and_gets_init(struct guest_gprs *g)
{
	(void)g;
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, PAGE);
	vcpu.pending.init = 1;
	vcpu.pending.sipi = SIPI_VECTOR_8;
}

static uint64_t cs_at_step, cs_after_step, perms_after_step;

static void guest_runs_the_step_before_init(struct guest_gprs *g)
{
	(void)g;
	cs_at_step = vmcs(GUEST_CS_SELECTOR.encoding);
}

static void guest_starts_at_the_sipi_and_stops(struct guest_gprs *g)
{
	cs_after_step = vmcs(GUEST_CS_SELECTOR.encoding);
	perms_after_step = perms_at(PAGE);
	g->regs[GPR_RAX] = HC_STOP;
	g->regs[GPR_RBX] = 0;
}

static void an_init_waits_for_the_log_step_to_end(void **state)
{
	(void)state;
	protect(PAGE, 0x1000, HC_PROT_READ, HC_POLICY_LOG);
	code("\x01\x07", 2); /* add [edi], eax: the MTF step */
	fake_vmcs_set(GUEST_CS_SELECTOR.encoding, 0x10);
	const struct fake_exit script[] = {
		{ .reason = R_EPT_VIOLATION, .qualification = Q_WRITE | Q_READABLE | Q_LINEAR,
		  .guest_physical = PAGE, .guest = guest_writes_the_log_page_and_gets_init },
		{ .reason = R_MTF, .guest = guest_runs_the_step_before_init },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_starts_at_the_sipi_and_stops },
	};
	fake_script_exits(script, 3);
	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(cs_at_step, 0x10);      /* the step ran as the guest was */
	assert_int_equal(cs_after_step, 0x800);  /* then INIT and SIPI 8 */
	assert_int_equal(perms_after_step, EPT_READ);
	vcpu_put(&vcpu);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(deny_drops_a_mov_store_and_skips_it),
		T(deny_drops_every_element_of_a_rep_stos),
		T(deny_read_of_an_execute_only_page_reads_zero),
		T(deny_faults_an_instruction_cvisor_does_not_emulate),
		T(deny_fetch_without_paging_is_gp),
		T(deny_fetch_with_paging_is_the_pf_of_an_nx_page),
		T(deny_of_the_cpus_own_access_ends_the_vm),
		T(deny_of_a_page_walk_ends_the_vm),
		T(log_emulates_a_mov_store_on_ram),
		T(log_emulation_keeps_the_next_pages_protection),
		T(log_write_through_the_deny_window_is_dropped),
		T(log_rep_stos_through_the_deny_window_is_dropped),
		T(log_outside_the_deny_window_goes_through),
		T(log_emulates_every_element_of_a_rep_stos),
		T(log_lifts_the_page_for_one_instruction),
		T(log_lifts_every_page_of_the_instruction),
		T(log_lets_an_event_delivery_through),
		T(log_of_an_iret_restores_nmi_blocking),
		T(log_without_mtf_emulates_a_mov_store),
		T(log_without_mtf_faults_an_instruction_cvisor_does_not_emulate),
		T(log_without_mtf_ends_the_vm_on_the_cpus_own_access),
		T(stop_ends_the_vm_with_the_usual_report),
		T(a_violation_the_range_allows_is_retried),
		T(devices_still_work_beside_protected_pages),
		T(an_mtf_exit_without_a_step_ends_the_vm),
		T(no_event_is_injected_before_the_step_ends),
		T(init_starts_the_vcpu_unpinned_until_it_sets_the_bits),
		T(init_keeps_whole_value_msr_pins),
		T(an_init_waits_for_the_log_step_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
