#include "vm/reset.h"

#include "dev/acpi_tables.h"

#include <stdarg.h>

#include "dev/device.h"
#include "irq/lapic.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mm/guest_memory.h"
#include "vcpu/vcpu.h"
#include "vm/console.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/intrin.h"

void vm_set_boot_image(struct vm *vm, vm_boot_loader load, const void *image)
{
	vm->reset.load = load;
	vm->reset.image = image;
}

void vm_request_reset(struct vm *vm, const char *fmt, ...)
{
	struct vm_reset *r = &vm->reset;
	char path[VM_RESET_PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (r->on_reset == VM_ON_RESET_STOP) {
		vm_end(vm, false, "reset requested through %s (on_reset=stop)", path);
		return;
	}
	if (!r->load) {
		vm_end(vm, false, "reset requested through %s, but the VM has no boot image to restart from",
		       path);
		return;
	}
	/* Requests come from devices, under the one device lock; one that
	 * finds a restart under way is part of it. */
	uint32_t idle = 0;
	if (!__atomic_compare_exchange_n(&r->pending, &idle, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	memcpy(r->path, path, sizeof(r->path));
	vm_console_flush(vm); /* the guest's last words before the line below */
	log_printf("cvisor: VM %s: reset requested through %s: restarting it from its boot image "
		   "(on_reset=restart, restart %u)\n", vm->name, path, r->restarts + 1);
	/* Every vCPU leaves its guest at its next exit (the flag is part of
	 * back_to_loop) and its run loop comes to vm_reset_rendezvous. */
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v)
			continue;
		__atomic_store_n(&v->vm_reset, VM_RESET_LEAVE, __ATOMIC_RELEASE);
		vcpu_kick(v);
	}
}

/* Bit i for every vCPU i the VM has. */
static uint32_t vcpus_present(const struct vm *vm)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < vm->vcpu_count; i++)
		if (vm->vcpus[i])
			mask |= 1u << i;
	return mask;
}

/* Step 2 (vCPU 0, every vCPU out of its guest): RAM, devices, boot image. */
static bool restart_machine(struct vm *vm)
{
	struct vm_reset *r = &vm->reset;

	if (!guest_zero(vm, 0, vm->ram_size)) {
		vm_end(vm, false, "restart after a reset through %s: guest RAM could not be cleared",
		       r->path);
		return false;
	}
	/* A new boot: the protections of the old one go (vm/protect.h). */
	protect_reset(vm);
	/* The firmware's tables were in the RAM just cleared (vm_build). */
	if (!acpi_tables_write(vm)) {
		vm_end(vm, false, "restart after a reset through %s: the ACPI tables could not be written",
		       r->path);
		return false;
	}
	/* Each device's RESET, under the lock every device call takes. */
	spin_lock(&vm->devices.lock);
	vm_reset_devices(vm);
	spin_unlock(&vm->devices.lock);
	const char *err = r->load(vm, r->image);
	if (err) {
		vm_end(vm, false, "restart after a reset through %s: the boot image could not be loaded: %s",
		       r->path, err);
		return false;
	}
	return true;
}

/* Steps 3 and 4: the vCPU's own state after RESET, on its own CPU. */
static bool restart_vcpu(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	enum vmx_error err = vcpu_reset(vcpu, &vm->boot);

	if (err != VMX_OK) {
		vm_end(vm, false, "restart after a reset through %s: vCPU %u could not be reset: %s",
		       vm->reset.path, vcpu->id, vmx_error_message(err));
		return false;
	}
	/* The boot processor's APIC as firmware leaves it (as vm_build_vcpu). */
	if (vcpu->id == 0)
		lapic_set_virtual_wire(&vcpu->lapic);
	return true;
}

/* A vCPU other than 0: report out of the guest, then reset itself when told. */
static bool rendezvous_other_vcpu(struct vcpu *vcpu, uint8_t step)
{
	struct vm_reset *r = &vcpu->vm->reset;
	uint32_t self = 1u << vcpu->id;

	if (step == VM_RESET_LEAVE) {
		__atomic_fetch_or(&r->arrived, self, __ATOMIC_RELEASE);
		cpu_relax();
		return false;
	}
	if (!restart_vcpu(vcpu))
		return false;
	/* Its part is done: its flag first, so that it never touches the
	 * restart's state again once vCPU 0 sees it done. */
	__atomic_store_n(&vcpu->vm_reset, VM_RESET_NONE, __ATOMIC_RELEASE);
	__atomic_fetch_or(&r->aps_done, self, __ATOMIC_RELEASE);
	return false; /* it waits for INIT and SIPI */
}

bool vm_reset_rendezvous(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct vm_reset *r = &vm->reset;
	uint8_t step = __atomic_load_n(&vcpu->vm_reset, __ATOMIC_ACQUIRE);
	uint32_t all = vcpus_present(vm);

	if (step == VM_RESET_NONE)
		return true;
	if (vcpu->id != 0)
		return rendezvous_other_vcpu(vcpu, step);
	if (step == VM_RESET_LEAVE) {
		/* Step 1: wait until every vCPU is out of its guest. */
		__atomic_fetch_or(&r->arrived, 1u, __ATOMIC_RELEASE);
		if (__atomic_load_n(&r->arrived, __ATOMIC_ACQUIRE) != all) {
			cpu_relax();
			return false;
		}
		/* Step 2; the others reset themselves once they see this. */
		if (!restart_machine(vm))
			return false;
		__atomic_store_n(&vcpu->vm_reset, VM_RESET_SELF, __ATOMIC_RELAXED);
		/* Each waits in its run loop (vcpu_has_work counts vm_reset as
		 * work, so its CPU does not sleep); the kick makes sure of it. */
		for (unsigned i = 1; i < vm->vcpu_count; i++)
			if (vm->vcpus[i]) {
				__atomic_store_n(&vm->vcpus[i]->vm_reset, VM_RESET_SELF, __ATOMIC_RELEASE);
				vcpu_kick(vm->vcpus[i]);
			}
	}
	/* Step 4: once every other vCPU has reset itself, vCPU 0 boots. */
	if (__atomic_load_n(&r->aps_done, __ATOMIC_ACQUIRE) != (all & ~1u)) {
		cpu_relax();
		return false;
	}
	if (!restart_vcpu(vcpu))
		return false;
	r->arrived = 0;
	r->aps_done = 0;
	r->restarts++;
	__atomic_store_n(&vcpu->vm_reset, VM_RESET_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&r->pending, 0, __ATOMIC_RELEASE);
	return true;
}
