/*
 * Tests of core/vm/reset.c: a guest's reset request with on_reset=stop and
 * on_reset=restart, and the restart's rendezvous of the vCPUs on the fake
 * Tiger Lake CPU, with one and with three vCPUs: nothing is reset until
 * every vCPU is out of its guest, vCPU 0 resets RAM, devices and the boot
 * image, the others reset themselves and wait for SIPI, vCPU 0 boots last.
 * The rendezvous is driven step by step (vm_reset_rendezvous on each vCPU
 * in a chosen order) and end to end (vcpu_run_slice and the round-robin
 * scheduler with the fake CPU playing the guests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "abi/hypercall.h"
#include "dev/device.h"
#include "dev/pci_host.h"
#include "dev/ports.h"
#include "dev/reset_control.h"
#include "exit/exit.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_exit.h"
#include "fixture_vm.h"
#include "irq/lapic.h"
#include "loader/multiboot.h"
#include "mm/guest_memory.h"
#include "run/run_loop.h"
#include "run/schedule.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "mm/ept.h"
#include "vm/protect.h"
#include "vm/reset.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"

/* vCPU 0 is the fixture's `vcpu`; these are vCPUs 1 and 2. */
static struct vcpu ap1, ap2;
static struct vcpu *const all_vcpus[3] = { &vcpu, &ap1, &ap2 };
static unsigned vcpu_count;
static struct vcpu *current; /* the vCPU whose VMCS is current and loaded */

/* ---- The boot image a restart loads ---- */

#define OLD_DATA_GPA 0x5000u   /* what the guest wrote before the reset */
#define NEW_ENTRY    0x180000u /* where the image loaded again starts */

struct test_image {
	const char *fail; /* what the loader answers */
};
static struct test_image image;
static unsigned loads;
static uint8_t old_data_seen_by_loader;

static const char *load_test_image(struct vm *v, const void *p)
{
	const struct test_image *img = p;
	static const uint8_t hlt = 0xF4;

	loads++;
	assert_true(guest_read(v, OLD_DATA_GPA, &old_data_seen_by_loader, 1));
	assert_true(guest_write(v, NEW_ENTRY, &hlt, 1));
	multiboot_start_state(&v->boot, NEW_ENTRY, FIXTURE_INFO);
	return img->fail;
}

/* A device of the test: counts its resets and checks the lock is held. */
static unsigned test_device_resets;
static bool lock_held_in_reset;
static void test_device_reset(struct vm *v, void *state)
{
	(void)state;
	test_device_resets++;
	lock_held_in_reset = __atomic_load_n(&v->devices.lock.locked, __ATOMIC_RELAXED);
}

static void never_fires(struct vm *v, void *state, uint64_t now)
{
	(void)v;
	(void)state;
	(void)now;
	fail_msg("a device timer fired after the reset disarmed it");
}

static void setup_machine(unsigned count, enum vm_on_reset on_reset)
{
	static const uint8_t old = 0x5A;

	fixture_reset_machine();
	memset(&vcpu, 0, sizeof(vcpu));
	fixture_vmx_on_and_vm(&cpu, &vm, 1, "r", count);
	vmx_prepare_guest_fpu_switching(&cpu);
	vcpu_count = count;
	for (unsigned i = 0; i < count; i++)
		fixture_vcpu_create(all_vcpus[i], &vm, &cpu, i);
	current = NULL;
	vm.reset.on_reset = on_reset;
	image.fail = NULL;
	vm_set_boot_image(&vm, load_test_image, &image);
	loads = test_device_resets = 0;
	old_data_seen_by_loader = 0;
	lock_held_in_reset = false;
	assert_true(vm_add_device_reset(&vm, "test device", test_device_reset, NULL));
	assert_true(guest_write(&vm, OLD_DATA_GPA, &old, 1));
	fake_console_clear();
}

static int setup_one(void **state)
{
	(void)state;
	setup_machine(1, VM_ON_RESET_RESTART);
	return 0;
}

static int setup_three(void **state)
{
	(void)state;
	setup_machine(3, VM_ON_RESET_RESTART);
	return 0;
}

static int setup_stop(void **state)
{
	(void)state;
	setup_machine(3, VM_ON_RESET_STOP);
	return 0;
}

static int teardown_machine(void **state)
{
	(void)state;
	if (current)
		vcpu_put(current);
	fake_cpu.on_enter = NULL;
	fixture_teardown(&cpu, &vm, all_vcpus, vcpu_count);
	return 0;
}

/* A device asks for a reset, its lock held, as a port handler would. */
static void request_reset(void)
{
	spin_lock(&vm.devices.lock);
	vm_request_reset(&vm, "port 0x%X (the test)", 0xCF9);
	spin_unlock(&vm.devices.lock);
}

/* The run loop of v reaches the rendezvous (v current on this CPU). */
static bool rendezvous(struct vcpu *v)
{
	assert_true(vcpu_make_current(v, current));
	current = v;
	return vm_reset_rendezvous(v);
}

static uint8_t old_data(void)
{
	uint8_t byte;
	assert_true(guest_read(&vm, OLD_DATA_GPA, &byte, 1));
	return byte;
}

/* ---- on_reset=stop ---- */

static void test_stop_ends_the_vm_with_the_path(void **state)
{
	(void)state;
	request_reset();
	check_vm_ended(false, "reset requested through port 0xCF9 (the test) (on_reset=stop)");
	assert_console_contains("cvisor: VM r ended: failure: reset requested through port 0xCF9");
	for (unsigned i = 0; i < vcpu_count; i++)
		assert_int_equal(all_vcpus[i]->vm_reset, VM_RESET_NONE);
	assert_int_equal(old_data(), 0x5A); /* nothing was reset */
	assert_int_equal(test_device_resets, 0);
}

static void test_restart_without_a_boot_image_ends_the_vm(void **state)
{
	(void)state;
	vm_set_boot_image(&vm, NULL, NULL);
	request_reset();
	check_vm_ended(false, "reset requested through port 0xCF9 (the test), but the VM has no "
			      "boot image to restart from");
	assert_int_equal(vcpu.vm_reset, VM_RESET_NONE);
}

/* ---- The request ---- */

static void test_request_marks_every_vcpu_and_prints_one_line(void **state)
{
	(void)state;
	ap2.state = VCPU_HALTED; /* asleep: the flag wakes it too */
	request_reset();
	assert_false(vm.ended);
	assert_int_equal(vm.reset.pending, 1);
	assert_int_equal(fake_console_count(
		"cvisor: VM r: reset requested through port 0xCF9 (the test): restarting it from its "
		"boot image (on_reset=restart, restart 1)"), 1);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(all_vcpus[i]->vm_reset, VM_RESET_LEAVE);
		assert_true(vcpu_has_work(all_vcpus[i], 0)); /* ap1 waits for SIPI, ap2 halted */
	}
	/* A second request while the restart is under way is part of it. */
	request_reset();
	assert_int_equal(fake_console_count("reset requested"), 1);
	/* The request itself resets nothing. */
	assert_int_equal(loads, 0);
	assert_int_equal(test_device_resets, 0);
	assert_int_equal(old_data(), 0x5A);
}

/* ---- The rendezvous, step by step ---- */

static void test_nothing_is_reset_until_every_vcpu_is_out(void **state)
{
	(void)state;
	request_reset();
	assert_false(rendezvous(&vcpu)); /* vCPU 0 first: ap1 and ap2 may be in their guests */
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&vcpu)); /* ap2 still out of reach */
	assert_false(rendezvous(&vcpu));
	assert_int_equal(vm.reset.arrived, 0x3);
	assert_int_equal(loads, 0);
	assert_int_equal(test_device_resets, 0);
	assert_int_equal(old_data(), 0x5A);
	assert_int_equal(ap1.vm_reset, VM_RESET_LEAVE);
	assert_false(rendezvous(&ap1)); /* waiting does not count twice or change anything */
	assert_int_equal(ap1.vm_reset, VM_RESET_LEAVE);

	assert_false(rendezvous(&ap2)); /* the last one out */
	assert_int_equal(vm.reset.arrived, 0x7);
	assert_int_equal(loads, 0);     /* vCPU 0 resets the machine, not ap2 */
	assert_false(rendezvous(&vcpu)); /* step 2, then it waits for ap1 and ap2 */
	assert_int_equal(loads, 1);
	assert_int_equal(old_data_seen_by_loader, 0); /* RAM was cleared before the load */
	assert_int_equal(old_data(), 0);
	char rsdp[8];
	assert_true(guest_read(&vm, 0xE0000, rsdp, sizeof(rsdp)));
	assert_memory_equal(rsdp, "RSD PTR ", 8); /* the firmware's tables are back */
	assert_int_equal(test_device_resets, 1);
	assert_true(lock_held_in_reset);
	assert_int_equal(ap1.vm_reset, VM_RESET_SELF);
	assert_int_equal(ap2.vm_reset, VM_RESET_SELF);
	assert_int_equal(vcpu.vm_reset, VM_RESET_SELF);

	assert_false(rendezvous(&ap2)); /* resets itself, then waits for SIPI */
	assert_int_equal(ap2.vm_reset, VM_RESET_NONE);
	assert_false(rendezvous(&vcpu)); /* ap1 has not reset itself yet */
	assert_int_equal(vcpu.vm_reset, VM_RESET_SELF);
	assert_false(rendezvous(&ap1));
	assert_true(rendezvous(&vcpu)); /* vCPU 0 boots */
	assert_int_equal(vcpu.vm_reset, VM_RESET_NONE);
	assert_int_equal(vm.reset.pending, 0);
	assert_int_equal(vm.reset.arrived, 0);
	assert_int_equal(vm.reset.aps_done, 0);
	assert_int_equal(vm.reset.restarts, 1);
	assert_int_equal(loads, 1);
	assert_int_equal(test_device_resets, 1);
	/* Once done, the rendezvous lets every vCPU through. */
	assert_true(rendezvous(&ap1));
}

static void test_vcpu0_boots_from_the_image_loaded_again(void **state)
{
	(void)state;
	assert_true(rendezvous(&vcpu));
	vcpu.gprs.regs[GPR_RAX] = 0x1234;
	vcpu.xcr0 = 0x7;
	vcpu.dr6 = 0;
	vcpu.msrs.apic_base = 0;
	vcpu.state = VCPU_PARKED;
	__atomic_store_n(&vcpu.pending.nmi, 1, __ATOMIC_RELAXED);
	fake_vmcs_set(GUEST_RIP.encoding, 0x123456);
	fake_vmcs_set(TSC_OFFSET.encoding, 0x1000);
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, 0x80000020u);
	request_reset();
	assert_false(rendezvous(&vcpu));
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_false(rendezvous(&vcpu));
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_true(rendezvous(&vcpu));
	assert_int_equal(vcpu.state, VCPU_RUNNING);
	assert_int_equal(vcpu.pending.any, 0);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_ENTRY);
	assert_int_equal(vcpu.gprs.regs[GPR_RAX], MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(vcpu.gprs.regs[GPR_RBX], FIXTURE_INFO);
	assert_int_equal(vmcs(TSC_OFFSET.encoding), 0);
	assert_int_equal(vmcs(VM_ENTRY_INTR_INFO.encoding), 0);
	assert_int_equal(vcpu.xcr0, 1);
	assert_int_equal(vcpu.dr6, 0xFFFF0FF0);
	assert_int_equal(vcpu.msrs.apic_base, 0xFEE00900u); /* enabled, BSP */
	assert_true(lapic_accepts_extint(&vcpu.lapic)); /* virtual wire, as built */
	assert_true(vcpu.check_before_entry);
}

static void test_the_others_reset_themselves_to_wait_for_sipi(void **state)
{
	(void)state;
	assert_true(rendezvous(&ap1));
	ap1.state = VCPU_RUNNING;
	ap1.xcr0 = 0x7;
	ap1.msrs.apic_base = 0xFEE00000u; /* globally disabled by the old guest */
	lapic_set_irr(&ap1.lapic, 0x40);
	fake_vmcs_set(GUEST_RIP.encoding, 0x9000);
	request_reset();
	__atomic_store_n(&ap1.pending.sipi, 0x100 | 0x12, __ATOMIC_RELAXED); /* a late SIPI */
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_false(rendezvous(&vcpu));
	assert_false(rendezvous(&ap1));
	assert_int_equal(ap1.state, VCPU_WAIT_SIPI);
	assert_int_equal(ap1.pending.any, 0);
	assert_false(lapic_has_pending(&ap1.lapic));
	assert_int_equal(ap1.lapic.id >> 24, 1); /* its APIC ID kept */
	assert_int_equal(ap1.msrs.apic_base, 0xFEE00800u); /* enabled, not the BSP */
	assert_int_equal(ap1.xcr0, 1);
	assert_int_equal(vmcs(GUEST_RIP.encoding), NEW_ENTRY); /* as vcpu_create writes it */
	assert_false(vcpu_has_work(&ap1, ~0ULL)); /* until an INIT/SIPI comes */
}

static void test_a_second_restart_starts_clean(void **state)
{
	(void)state;
	for (unsigned round = 1; round <= 2; round++) {
		request_reset();
		assert_false(rendezvous(&ap2));
		assert_false(rendezvous(&ap1));
		assert_false(rendezvous(&vcpu));
		assert_false(rendezvous(&ap1));
		assert_false(rendezvous(&ap2));
		assert_true(rendezvous(&vcpu));
		assert_int_equal(vm.reset.restarts, round);
		assert_int_equal(loads, round);
	}
	assert_int_equal(fake_console_count("(on_reset=restart, restart 2)"), 1);
	assert_int_equal(test_device_resets, 2);
}

static void test_a_failed_load_ends_the_vm(void **state)
{
	(void)state;
	image.fail = "the image is gone";
	request_reset();
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_false(rendezvous(&vcpu));
	check_vm_ended(false, "restart after a reset through port 0xCF9 (the test): the boot image "
			      "could not be loaded: the image is gone");
}

static void test_device_timers_are_disarmed(void **state)
{
	(void)state;
	struct device_timer *t = vm_add_device_timer(&vm, "test timer", never_fires, NULL);
	assert_non_null(t);
	spin_lock(&vm.devices.lock);
	device_timer_arm(&vm, t, rdtsc() + 1000000);
	spin_unlock(&vm.devices.lock);
	request_reset();
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_false(rendezvous(&vcpu));
	assert_int_equal(t->deadline, 0);
	assert_int_equal(vm_device_deadline(&vm.devices), 0);
	vm_device_timers_expire(&vm, ~0ULL);
}

/* The devices of the machine are reset: the PCI host bridge as an example. */
static void test_machine_devices_are_reset(void **state)
{
	(void)state;
	io_port_write(&vm, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000004u);
	io_port_write(&vm, PCI_CONFIG_DATA_PORT, 2, 0x0140);
	assert_int_equal(io_port_read(&vm, PCI_CONFIG_DATA_PORT, 2), 0x0146);
	request_reset();
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_false(rendezvous(&vcpu));
	assert_int_equal(io_port_read(&vm, PCI_CONFIG_ADDRESS_PORT, 4), 0);
	io_port_write(&vm, PCI_CONFIG_ADDRESS_PORT, 4, 0x80000004u);
	assert_int_equal(io_port_read(&vm, PCI_CONFIG_DATA_PORT, 2), 0x0006);
}

/* A VM whose vCPU slots are not all filled waits only for those it has. */
static void test_only_the_vcpus_the_vm_has_are_waited_for(void **state)
{
	(void)state;
	vm.vcpus[2] = NULL;
	request_reset();
	assert_int_equal(ap2.vm_reset, VM_RESET_NONE);
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&vcpu));
	assert_false(rendezvous(&ap1));
	assert_true(rendezvous(&vcpu));
	vm.vcpus[2] = &ap2;
}

/* ---- End to end: the run loop and the scheduler ---- */

static unsigned entries[3], entries_after_restart[3];
/* The entry of vCPU 0 that writes the reset control register (0: none). */
static unsigned reset_on_entry;

static unsigned vcpu_entering(void)
{
	for (unsigned i = 0; i < vcpu_count; i++)
		if (fake_cpu.current_vmcs_pa == all_vcpus[i]->vmcs_pa)
			return i;
	fail_msg("an entry with no vCPU's VMCS current");
	return 0;
}

static void exit_as(uint32_t reason, uint64_t qualification, uint32_t length)
{
	fake_vmcs_set(VM_EXIT_REASON.encoding, reason);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, qualification);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, length);
}

/*
 * The guests: vCPU 0 computes until its slice ends, then writes 06h to port
 * 0xCF9 (a hard reset) on entry reset_on_entry; after the restart it stops
 * with status 0.  The others compute until their slices end.  No vCPU may
 * enter its guest once it has reported out of it: not while the others are
 * still on their way out, not while the machine is reset.
 */
static int guests_on_enter(struct guest_gprs *gprs, int launched, void *ctx)
{
	(void)launched;
	(void)ctx;
	unsigned id = vcpu_entering();
	uint32_t arrived = __atomic_load_n(&vm.reset.arrived, __ATOMIC_RELAXED);

	if (arrived & (1u << id))
		fail_msg("vCPU %u entered its guest during the rendezvous (arrived 0x%x)", id, arrived);
	entries[id]++;
	if (vm.reset.restarts)
		entries_after_restart[id]++;
	if (id != 0 || (!vm.reset.restarts && entries[0] < reset_on_entry)) {
		fake_cpu.tsc += 2ULL * VCPU_SLICE_TSC;
		exit_as(R_PREEMPTION_TIMER, 0, 0);
	} else if (!vm.reset.restarts && entries[0] == reset_on_entry) {
		gprs->regs[GPR_RAX] = RST_CNT_SYS_RST | RST_CNT_RST_CPU;
		exit_as(R_IO, IO_PORT(PORT_RESET_CONTROL) | IO_BYTE, 1);
	} else {
		assert_int_equal(fake_vmcs_get(GUEST_RIP.encoding), vm.reset.restarts ? NEW_ENTRY
										       : FIXTURE_ENTRY);
		gprs->regs[GPR_RAX] = HC_STOP;
		gprs->regs[GPR_RBX] = 0;
		exit_as(R_VMCALL, 0, 3);
	}
	return 0;
}

static void start_guests(unsigned reset_entry)
{
	memset(entries, 0, sizeof(entries));
	memset(entries_after_restart, 0, sizeof(entries_after_restart));
	reset_on_entry = reset_entry;
	fake_cpu.on_enter = guests_on_enter;
}

static void test_a_single_vcpu_restarts_within_its_slice(void **state)
{
	(void)state;
	start_guests(1);
	assert_true(vcpu_make_current(&vcpu, NULL));
	current = &vcpu;
	vcpu_run_slice(&vcpu, VCPU_SLICE_TSC);
	check_vm_ended(true, "status 0");
	assert_int_equal(entries[0], 2);
	assert_int_equal(entries_after_restart[0], 1);
	assert_int_equal(fake_cpu.direct_resumes, 0); /* the OUT's exit went back to the loop */
	assert_int_equal(loads, 1);
	assert_int_equal(old_data(), 0);
	assert_int_equal(fake_console_count("reset requested through port 0xCF9 (reset control "
					    "register, hard reset, value 0x06): restarting"), 1);
}

static void test_three_vcpus_restart_under_the_scheduler(void **state)
{
	(void)state;
	start_guests(2); /* ap1 runs a slice before vCPU 0 asks */
	ap1.state = VCPU_RUNNING; /* as after INIT and SIPI */
	ap2.state = VCPU_HALTED;  /* asleep with nothing to wake it but the reset */
	schedule_round_robin(all_vcpus, 3, NULL);
	current = NULL; /* the scheduler put its last vCPU */
	check_vm_ended(true, "status 0");
	assert_int_equal(vm.reset.restarts, 1);
	assert_int_equal(loads, 1);
	assert_int_equal(test_device_resets, 1);
	assert_int_equal(entries[0], 3);
	assert_int_equal(entries_after_restart[0], 1);
	assert_int_equal(entries[1], 1);
	assert_int_equal(entries[2], 0);
	assert_int_equal(entries_after_restart[1], 0); /* waits for SIPI now */
	assert_int_equal(entries_after_restart[2], 0);
	assert_int_equal(ap1.state, VCPU_WAIT_SIPI);
	assert_int_equal(ap2.state, VCPU_WAIT_SIPI);
}

/* Any vCPU's request restarts the VM: here vCPU 1's (port 0x92, from its
 * exit handler) before vCPU 0 ever ran. */
static void test_the_requester_can_be_any_vcpu(void **state)
{
	(void)state;
	start_guests(0);
	ap1.state = VCPU_RUNNING;
	io_port_write(&vm, PORT_SYSTEM_CONTROL_A, 1, PORT92_INIT_NOW);
	assert_int_equal(fake_console_count("reset requested through port 0x92"), 1);
	schedule_round_robin(all_vcpus, 3, NULL);
	current = NULL;
	check_vm_ended(true, "status 0");
	assert_int_equal(vm.reset.restarts, 1);
	assert_int_equal(entries[1], 0); /* ap1 never entered again before the restart */
	assert_int_equal(entries_after_restart[0], 1);
}

#define ONE(f) cmocka_unit_test_setup_teardown(f, setup_one, teardown_machine)
#define THREE(f) cmocka_unit_test_setup_teardown(f, setup_three, teardown_machine)
/* A restart is a new boot: the old kernel's protections and pins go
 * (vm/protect.h), so the new one can be loaded and protect itself. */
static void test_a_restart_lifts_every_protection(void **state)
{
	(void)state;
	assert_true(rendezvous(&vcpu));
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x2000, HC_PROT_READ, HC_POLICY_DENY),
			 PROTECT_OK);
	vm.protect.cr0_pinned = CR0_WP;
	fake_vmcs_set(CR0_GUEST_HOST_MASK.encoding,
		      vmcs(CR0_GUEST_HOST_MASK.encoding) | CR0_WP);
	request_reset();
	assert_false(rendezvous(&vcpu));
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_false(rendezvous(&vcpu));
	assert_false(rendezvous(&ap1));
	assert_false(rendezvous(&ap2));
	assert_true(rendezvous(&vcpu));
	uint64_t perms = 0;
	ept_translate(&vm.ept, 0x4000, &perms);
	assert_int_equal(perms, EPT_RWX);
	assert_int_equal(vm.protect.range_count, 0);
	assert_int_equal(vm.protect.cr0_pinned, 0);
	assert_false(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_WP);
}

#define STOP(f) cmocka_unit_test_setup_teardown(f, setup_stop, teardown_machine)

int main(void)
{
	const struct CMUnitTest tests[] = {
		STOP(test_stop_ends_the_vm_with_the_path),
		ONE(test_restart_without_a_boot_image_ends_the_vm),
		THREE(test_request_marks_every_vcpu_and_prints_one_line),
		THREE(test_nothing_is_reset_until_every_vcpu_is_out),
		THREE(test_vcpu0_boots_from_the_image_loaded_again),
		THREE(test_the_others_reset_themselves_to_wait_for_sipi),
		THREE(test_a_second_restart_starts_clean),
		THREE(test_a_failed_load_ends_the_vm),
		THREE(test_device_timers_are_disarmed),
		THREE(test_machine_devices_are_reset),
		THREE(test_only_the_vcpus_the_vm_has_are_waited_for),
		ONE(test_a_single_vcpu_restarts_within_its_slice),
		THREE(test_three_vcpus_restart_under_the_scheduler),
		THREE(test_the_requester_can_be_any_vcpu),
		THREE(test_a_restart_lifts_every_protection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
