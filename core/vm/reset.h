/*
 * A guest's reset request, and restarting a VM from its boot image.
 *
 * A PC resets when software asks its chipset to (the reset control
 * register at 0xCF9, System Control Port A at 0x92, the keyboard
 * controller's reset line): every processor and device goes back to its
 * power-up state and the firmware boots again.  A cvisor VM has no
 * firmware; what it does on such a request is its module option
 * on_reset=:
 *
 *   stop (the default)  the VM ends (a failure: like the power-off port,
 *                       a reset is no success the guest reports), with a
 *                       line naming what asked for the reset;
 *   restart             the VM starts again from its boot image: guest RAM
 *                       is cleared, the loader runs again, every device's
 *                       reset hook runs (dev/device.h), vCPU 0 starts in the
 *                       boot state, the others wait for INIT and SIPI.
 *
 * A restart is a rendezvous of the VM's vCPUs, which run on several CPUs:
 * nothing may run in the guest, or in an exit handler, while RAM and the
 * devices are reset.  vm_request_reset (a device, its lock held) only
 * marks every vCPU (vcpu->vm_reset) and kicks it; each vCPU then reaches
 * vm_reset_rendezvous from its run loop, before it would enter its guest
 * (run/run_loop.c), and holds there:
 *
 *   1. every vCPU reports that it left its guest (reset.arrived) and waits;
 *   2. once all have, vCPU 0 resets RAM, devices and boot image, and tells
 *      the others to reset themselves (VM_RESET_SELF);
 *   3. each other vCPU resets its own state on its own CPU (its VMCS, FPU
 *      and MSRs live there) to the INIT/SIPI wait and reports it
 *      (reset.aps_done); it no longer holds;
 *   4. once all have, vCPU 0 resets itself to the boot state, the VM's
 *      reset state is cleared, and vCPU 0 enters the new guest.
 *
 * No vCPU enters its guest between 1 and 4, so no guest code runs while
 * the machine is reset, and no new request can come before 4.
 */
#ifndef CVISOR_VM_RESET_H
#define CVISOR_VM_RESET_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* The module option on_reset= (vm_config.on_reset). */
enum vm_on_reset {
	VM_ON_RESET_STOP,    /* the VM ends with a line naming the reset path */
	VM_ON_RESET_RESTART, /* the VM restarts from its boot image */
};

/* vcpu->vm_reset: where a vCPU is in a restart. */
enum {
	VM_RESET_NONE,  /* no restart under way */
	VM_RESET_LEAVE, /* leave the guest and wait (step 1) */
	VM_RESET_SELF,  /* the machine is reset: reset yourself (steps 3, 4) */
};

#define VM_RESET_PATH_MAX 96

/* Loads the boot image again: fills guest RAM and vm->boot; NULL on
 * success, else a one-line reason. */
typedef const char *(*vm_boot_loader)(struct vm *vm, const void *image);

/* A VM's reset state (struct vm.reset). */
struct vm_reset {
	enum vm_on_reset on_reset;
	/* What restarts it (vm_set_boot_image); no loader: a restart ends the VM. */
	vm_boot_loader load;
	const void *image;
	/* A restart is under way (set by the request, cleared by vCPU 0 last). */
	uint32_t pending;
	/* Bit i: vCPU i has left its guest and waits (step 1). */
	uint32_t arrived;
	/* Bit i (i > 0): vCPU i has reset itself (step 3). */
	uint32_t aps_done;
	/* Restarts done so far. */
	unsigned restarts;
	/* What asked for the restart under way. */
	char path[VM_RESET_PATH_MAX];
};

/* Sets what a restart loads: load(vm, image), called by vCPU 0 after guest
 * RAM was cleared.  The caller keeps image (and what it points to) alive
 * as long as the VM. */
void vm_set_boot_image(struct vm *vm, vm_boot_loader load, const void *image);

/*
 * A device asks for a reset of the whole VM (its port handler, device lock
 * held); the path (printf format) names what asked, e.g. "port 0xCF9
 * (reset control register, hard reset)".  on_reset=stop: the VM ends
 * (failure) with the path.  on_reset=restart: one line names the path and
 * every vCPU is marked and kicked; the restart itself happens later, in
 * vm_reset_rendezvous, never inside this call.  A request while a restart
 * is under way is part of that restart.
 */
void vm_request_reset(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The run loop of vcpu calls this before entering its guest while
 * vcpu->vm_reset is set (vcpu current on this CPU, no device lock held).
 * Returns true when the vCPU may go on to enter its guest (vCPU 0 after the
 * restart), false while it must stay out (it is then called again: its
 * flag keeps it runnable, see vcpu_has_work).
 */
bool vm_reset_rendezvous(struct vcpu *vcpu);

#endif
