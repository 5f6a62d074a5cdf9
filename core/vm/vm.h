/*
 * A virtual machine: its guest RAM behind its own EPT, its vCPUs, its
 * devices, and how it ended.  vm/builder.c puts one together.
 */
#ifndef CVISOR_VM_VM_H
#define CVISOR_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "irq/irq.h"
#include "mm/ept.h"
#include "vcpu/guest_state.h"
#include "vm/console.h"
#include "vm/protect.h"
#include "vm/reset.h"

#define VM_NAME_MAX 32
#define VM_END_REASON_MAX 128
#define VM_DEFAULT_RAM (4ULL << 20)
#define VM_MIN_RAM (2ULL << 20)
#define VM_MAX_RAM (64ULL << 30)
#define VM_MAX_VCPUS 8

struct vcpu;
struct identity_map;
struct phys_range;

struct vm {
	unsigned id;
	char name[VM_NAME_MAX];
	uint64_t ram_size;
	struct ept ept;

	unsigned vcpu_count;
	struct vcpu *vcpus[VM_MAX_VCPUS]; /* vCPU i has APIC ID i */
	/* How vCPU 0 starts, set by the loader (loader/); the others wait
	 * for INIT and SIPI. */
	struct guest_cpu_state boot;
	/* Every vCPU starts with the MTRRs firmware programs
	 * (vcpu/msr_state.h), not the power-up ones: set by loaders that
	 * stand in for the firmware. */
	bool firmware_mtrrs;

	struct vm_console console;  /* what the guest prints (vm/console.c) */
	struct vm_devices devices;  /* its ports, MMIO ranges and device state (dev/) */
	struct vm_irq irq;          /* its interrupt lines (irq/irq.c) */
	struct vm_reset reset;      /* on_reset= and a restart under way (vm/reset.c) */
	struct vm_protect protect;  /* protected memory, pinned registers, violations (vm/protect.c) */

	/* The hosted OS (core/vm/hosted_os.c) is the running OS itself:
	 * guest-physical = host-physical through this identity map, and guest
	 * memory access is limited to these RAM ranges.  NULL otherwise. */
	struct identity_map *identity;
	const struct phys_range *ram_ranges;
	unsigned ram_range_count;

	/* The CPU's APIC virtualization its vCPUs use (vcpu/apicv.h,
	 * APICV_*), chosen at creation; with virtualized APIC accesses the
	 * page its xAPIC page maps (SDM Vol. 3C 29.4), never read or written. */
	unsigned apicv;
	void *apic_access_page;

	bool ended;
	bool success;
	char end_reason[VM_END_REASON_MAX];
};

/* Large EPT page sizes a VM's RAM may use (from IA32_VMX_EPT_VPID_CAP). */
#define VM_PAGES_2M (1u << 0)
#define VM_PAGES_1G (1u << 1)

/*
 * Creates a VM with ram_size bytes of RAM at guest-physical 0 (WB, RWX),
 * backed by 1 GiB and 2 MiB pages where large_pages allows, the range is
 * aligned and contiguous host memory is free, else by 4 KiB pages.  The VM
 * has no vCPU and no device yet: vm_build (vm/builder.h) adds them.
 */
const char *vm_create_with_pages(struct vm *vm, unsigned id, const char *name,
				 uint64_t ram_size, unsigned large_pages);
/* The same with 4 KiB pages only. */
const char *vm_create(struct vm *vm, unsigned id, const char *name, uint64_t ram_size);
void vm_destroy(struct vm *vm);

/*
 * Ends the VM once (later calls are ignored) and prints
 * "cvisor: VM <name> ended: <success|failure>: <reason>".
 */
void vm_end(struct vm *vm, bool success, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
