/*
 * Tests of core/run/run_loop.c: vcpu_run_slice on a real VM and vCPU on the
 * fake Tiger Lake CPU, whose fake vmx_enter_guest plays the guest's exits:
 * handling exits until the VM stops, failed VM entries, the preemption timer
 * and the clock, resuming directly or taking the loop, and vcpu_make_current /
 * vcpu_put switching the guest-only state.
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
#include "irq/lapic_regs.h"
#include "irq/lapic_timer.h"

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

/* MOV CR0, RAX with the value CR0 has: an exit cvisor handles by writing
 * guest state itself (check_before_entry). */
static void guest_rewrites_cr0(struct guest_gprs *g)
{
	g->regs[GPR_RAX] = vmcs(CR0_READ_SHADOW.encoding);
}

/*
 * Release builds check no VM-entry rules, but the request to check them
 * (check_before_entry, one of back_to_loop's reasons) is still consumed
 * by the next entry: left set, it sent every later exit through the loop
 * (a 64-bit guest, which wrote CR0 on its way there, paid 170 instructions
 * more per CPUID).
 */
static void test_run_slice_resumes_directly_after_a_cr_write_without_entry_checks(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = EXIT_REASON_CR_ACCESS, .qualification = 0, .instruction_len = 3,
		  .guest = guest_rewrites_cr0 },
		{ .reason = R_CPUID, .instruction_len = 2, .guest = guest_asks_hypervisor_leaf },
		{ .reason = R_CPUID, .instruction_len = 2, .guest = guest_asks_hypervisor_leaf },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 4);
	bool checks = vcpu_check_entries;

	vcpu_check_entries = false; /* as in RELEASE=1 */
	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	vcpu_check_entries = checks;
	check_vm_ended(true, "status 0");
	assert_false(vcpu.check_before_entry);
	assert_int_equal(fake_cpu.direct_resumes, 2); /* after each CPUID */
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
	LAPIC_REG(&vcpu.lapic, APIC_SVR) = 0x1FF;

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
/* A device timer: the entry is timed for it, it fires before the entry
 * after its deadline, and it keeps a halted VM alive (it can wake it). */
static unsigned device_fired;
static void count_device_fire(struct vm *v, void *state, uint64_t now)
{
	device_fired++;
	device_timer_arm(v, state, now + 100ULL * VCPU_SLICE_TSC); /* periodic */
}

static uint64_t timer_at_entry;
static void a_small_step(struct guest_gprs *g)
{
	(void)g;
	timer_at_entry = vmcs(VMX_PREEMPTION_TIMER_VALUE.encoding);
	fake_cpu.tsc += 5000;
}

static void test_run_slice_times_the_entry_for_device_timers_and_fires_them(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_PREEMPTION_TIMER, .guest = a_small_step },
		{ .reason = R_HLT, .instruction_len = 1 },
	};
	fake_script_exits(script, 2);
	struct device_timer *timer = vm_add_device_timer(&vm, "test", count_device_fire, NULL);
	timer->state = timer;

	device_fired = 0;
	assert_true(vcpu_make_current(&vcpu, NULL));
	vm.vcpus[0] = &vcpu;
	vm.vcpu_count = 1;
	vmcs_write(GUEST_RFLAGS, 0x202);
	device_timer_arm(&vm, timer, fake_cpu.tsc + 4000);
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	/* the first entry's timer was set for the device's deadline, not the slice */
	assert_true(timer_at_entry > 0 && timer_at_entry <= 4000);
	assert_int_equal(device_fired, 1);
	assert_int_equal(fake_cpu.direct_resumes, 0);
	check_vm_running(); /* halted, and the device timer will wake it */
	assert_int_equal(vcpu.state, VCPU_HALTED);
	assert_false(vcpu_has_work(&vcpu, fake_cpu.tsc));
	assert_true(vcpu_has_work(&vcpu, fake_cpu.tsc + 100ULL * VCPU_SLICE_TSC));
	vcpu_put(&vcpu);
}

/*
 * An APIC timer the guest arms in an exit that would resume directly: the
 * entry was timed for the slice's end (the VMX-preemption timer keeps its
 * count), so the next entry must be timed for the new deadline: the exit
 * rewrites the saved count (vcpu_retime_entry_for).  Otherwise the timer fires only at
 * the slice's end: Linux, alone on its CPU (a slice of 2^32 TSC ticks),
 * arms its TSC-deadline tick that way and got no tick at all while it
 * did not halt (it hung bringing up its second CPU, which waited for
 * jiffies to move).
 */
#define TIMER_VECTOR 0xEC
static uint64_t armed_deadline, deadline_at_entry;

static void guest_arms_tsc_deadline(struct guest_gprs *g)
{
	armed_deadline = fake_cpu.tsc + 1000000; /* the guest's TSC: TSC_OFFSET is 0 */
	g->regs[GPR_RCX] = MSR_IA32_TSC_DEADLINE;
	g->regs[GPR_RAX] = (uint32_t)armed_deadline;
	g->regs[GPR_RDX] = armed_deadline >> 32;
}

static void record_the_entry_timer(struct guest_gprs *g)
{
	timer_at_entry = vmcs(VMX_PREEMPTION_TIMER_VALUE.encoding);
	deadline_at_entry = vcpu.lapic.timer_deadline;
	guest_stops_with_0(g);
}

static void test_run_slice_retimes_the_entry_for_a_tsc_deadline_written(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_WRMSR, .instruction_len = 2, .guest = guest_arms_tsc_deadline },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = record_the_entry_timer },
	};
	fake_script_exits(script, 2);
	/* LVT timer: TSC-deadline mode, unmasked. */
	LAPIC_REG(&vcpu.lapic, APIC_LVT_TIMER) = TIMER_VECTOR | (LVT_TIMER_TSC_DEADLINE << 17);
	lapic_timer_register_written(&vcpu.lapic, APIC_LVT_TIMER, fake_cpu.tsc, 0);

	assert_true(vcpu_make_current(&vcpu, NULL));
	timer_at_entry = 0;
	vcpu_run_slice(&vcpu, VCPU_SLICE_ALONE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(deadline_at_entry, armed_deadline);
	/* The WRMSR's exit rewrote the saved timer count and resumed directly. */
	assert_int_equal(fake_cpu.direct_resumes, 1);
	assert_true(timer_at_entry > 0 && timer_at_entry <= 1000000);
	vcpu_put(&vcpu);
}

/* The same for the initial-count register of a one-shot timer, written
 * through the APIC page (an emulated MMIO store). */
static void guest_writes_the_initial_count(struct guest_gprs *g)
{
	g->regs[GPR_RDI] = LAPIC_DEFAULT_BASE + APIC_TIMER_INITIAL;
	g->regs[GPR_RAX] = 500000; /* with the divide register's 2: 1000000 ticks */
}

static void test_run_slice_retimes_the_entry_for_an_initial_count_written(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_EPT_VIOLATION, .qualification = 0x2,
		  .guest_physical = LAPIC_DEFAULT_BASE + APIC_TIMER_INITIAL,
		  .guest = guest_writes_the_initial_count },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = record_the_entry_timer },
	};
	fake_script_exits(script, 2);
	assert_true(guest_write(&vm, ENTRY, "\x89\x07", 2)); /* mov [edi], eax */
	LAPIC_REG(&vcpu.lapic, APIC_LVT_TIMER) = TIMER_VECTOR; /* one-shot, unmasked */

	assert_true(vcpu_make_current(&vcpu, NULL));
	timer_at_entry = 0;
	vcpu_run_slice(&vcpu, VCPU_SLICE_ALONE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(LAPIC_REG(&vcpu.lapic, APIC_TIMER_INITIAL), 500000);
	assert_true(deadline_at_entry != 0);
	assert_int_equal(fake_cpu.direct_resumes, 1); /* retimed at the exit, as above */
	assert_true(timer_at_entry > 0 && timer_at_entry <= 1000000);
	vcpu_put(&vcpu);
}

/* A deadline after the one this entry was timed for (the slice's end)
 * needs no loop: the VMX-preemption timer ends the entry first, and the
 * loop then times the next for the new deadline.  (A Linux-like guest
 * re-arms its timer on every tick, far ahead.) */
static void guest_arms_tsc_deadline_past_the_slice(struct guest_gprs *g)
{
	uint64_t deadline = fake_cpu.tsc + 100ULL * VCPU_SLICE_TSC;

	g->regs[GPR_RCX] = MSR_IA32_TSC_DEADLINE;
	g->regs[GPR_RAX] = (uint32_t)deadline;
	g->regs[GPR_RDX] = deadline >> 32;
}

static void test_run_slice_resumes_directly_for_a_deadline_after_the_entrys(void **state)
{
	(void)state;
	const struct fake_exit script[] = {
		{ .reason = R_WRMSR, .instruction_len = 2, .guest = guest_arms_tsc_deadline_past_the_slice },
		{ .reason = R_WRMSR, .instruction_len = 2, .guest = guest_arms_tsc_deadline_past_the_slice },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = guest_stops_with_0 },
	};
	fake_script_exits(script, 3);
	LAPIC_REG(&vcpu.lapic, APIC_LVT_TIMER) = TIMER_VECTOR | (LVT_TIMER_TSC_DEADLINE << 17);
	lapic_timer_register_written(&vcpu.lapic, APIC_LVT_TIMER, fake_cpu.tsc, 0);

	assert_true(vcpu_make_current(&vcpu, NULL));
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(fake_cpu.direct_resumes, 2); /* after each WRMSR */
	assert_true(vcpu.lapic.timer_deadline > fake_cpu.tsc + VCPU_SLICE_TSC);
	vcpu_put(&vcpu);
}

#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_run_slice_handles_exits_until_the_vm_stops),
		C(test_run_slice_vmlaunch_with_invalid_controls_ends_the_vm),
		C(test_run_slice_vmfailinvalid_ends_the_vm),
		C(test_run_slice_returns_when_the_preemption_timer_fires),
		C(test_run_slice_ends_by_the_clock_when_exits_starve_the_timer),
		C(test_run_slice_resumes_directly_when_nothing_waits),
		C(test_run_slice_resumes_directly_after_a_cr_write_without_entry_checks),
		C(test_run_slice_takes_the_loop_for_a_posted_interrupt),
		C(test_run_slice_takes_the_loop_for_a_posted_nmi),
		C(test_run_slice_takes_the_loop_after_hlt),
		C(test_run_slice_without_a_saved_timer_never_resumes_directly),
		C(test_make_current_and_put_switch_the_guest_only_state),
		C(test_run_slice_times_the_entry_for_device_timers_and_fires_them),
		C(test_run_slice_retimes_the_entry_for_a_tsc_deadline_written),
		C(test_run_slice_retimes_the_entry_for_an_initial_count_written),
		C(test_run_slice_resumes_directly_for_a_deadline_after_the_entrys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
