/*
 * Tests of core/run/schedule.c: the round-robin scheduler running two VMs,
 * each with one vCPU on the fake Tiger Lake CPU, until both end.
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

static void guest_stops_with_0(struct guest_gprs *g)
{
	g->regs[GPR_RAX] = HC_STOP;
	g->regs[GPR_RBX] = 0;
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
#define C(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		C(test_round_robin_alternates_two_vms_until_both_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
