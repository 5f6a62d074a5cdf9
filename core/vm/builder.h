/*
 * The one way a VM is put together (the type-1's main, the fuzzer and the
 * unit tests all use it): a config in, a VM with its RAM, its devices, its
 * exit table and its vCPU slots out.  A loader (loader/) then fills its
 * RAM and its initial register file (vm->boot).  Each vCPU is created
 * afterwards on the CPU it is pinned to, because its VMCS takes that
 * CPU's host state (SDM Vol. 3C 25.5).
 */
#ifndef CVISOR_VM_BUILDER_H
#define CVISOR_VM_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/reset.h"

struct vm;
struct vcpu;
struct vmx_cpu;

struct vm_config {
	unsigned id;
	const char *name;
	uint64_t ram_size;     /* VM_MIN_RAM to VM_MAX_RAM, a multiple of 4 KiB */
	unsigned large_pages;  /* VM_PAGES_2M | VM_PAGES_1G the CPU offers */
	unsigned vcpu_count;   /* 1 to VM_MAX_VCPUS */
	/* An access to an address that is neither RAM nor a device ends the
	 * VM, instead of reading all ones and dropping writes (open bus). */
	bool strict_mem;
	/* What a guest's reset request does (vm/reset.h): stop (the
	 * default) ends the VM, restart starts it again from its boot image
	 * (vm_set_boot_image). */
	enum vm_on_reset on_reset;
	/* The CPU's APIC virtualization to use (vcpu/apicv.h, APICV_*): what
	 * apicv_offered() found, or 0 (apicv=off) for the software APIC alone. */
	unsigned apicv;
};

/* NULL on success, else a one-line reason (nothing is left allocated). */
const char *vm_build(struct vm *vm, const struct vm_config *config);

/*
 * Creates vCPU `index` of vm in *vcpu (memory the caller owns) on this
 * CPU: vCPU 0 starts from vm->boot, the others wait for INIT and SIPI.  The
 * VMCS is left current.  NULL on success, else a one-line reason.
 */
const char *vm_build_vcpu(struct vm *vm, unsigned index, struct vmx_cpu *cpu, struct vcpu *vcpu);

#endif
