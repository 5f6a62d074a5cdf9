/*
 * How a device joins a VM.  Each device is one file in dev/ with its state
 * in its own struct and one attach function that takes its state from the
 * VM (vm_device_state) and registers its I/O ports (dev/ports.h) and MMIO
 * ranges (dev/mmio.h).  dev/machine.c lists the devices every VM gets;
 * the VM's builder attaches them.  struct vm holds only this table, no
 * device by name.
 */
#ifndef CVISOR_DEV_DEVICE_H
#define CVISOR_DEV_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* A device's port handlers: size is 1, 2 or 4; a write's value holds only
 * the access's bytes (the bus masks it). */
struct port_ops {
	uint32_t (*read)(struct vm *vm, void *state, uint16_t port, unsigned size);
	void (*write)(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value);
};

/* A device's MMIO handlers; offset is from the region's base.  The vCPU
 * is the one that accessed it (the local APIC page is per vCPU). */
struct mmio_ops {
	uint64_t (*read)(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size);
	void (*write)(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size, uint64_t value);
};

struct port_range {
	const char *name;
	uint32_t first, last; /* ports; first = 0x10000 marks the end of the table */
	const struct port_ops *ops;
	void *state;
};

struct mmio_region {
	const char *name;
	uint64_t base, size;
	const struct mmio_ops *ops;
	void *state;
};

#define VM_MAX_PORT_RANGES 16
#define VM_MAX_MMIO_REGIONS 8
#define VM_DEVICE_STATE_BYTES 2048

/* A VM's devices: port ranges sorted by port and MMIO regions sorted by
 * address, neither overlapping; the devices' state. */
struct vm_devices {
	/* The ranges, then an end marker that every port is below (so a
	 * lookup needs no bound: an exit costs fewer instructions). */
	struct port_range ports[VM_MAX_PORT_RANGES + 1];
	unsigned port_count;
	struct mmio_region mmio[VM_MAX_MMIO_REGIONS];
	unsigned mmio_count;
	/* What answers where nothing else does (dev/open_bus.c); no ops: none
	 * (strict_mem), such an access ends the VM. */
	struct mmio_region open_bus;
	size_t state_used;
	uint8_t state[VM_DEVICE_STATE_BYTES] __attribute__((aligned(16)));
};

#define PORT_TABLE_END 0x10000u

/* An empty device table (a VM starts zeroed: this adds the end marker). */
static inline void vm_devices_init(struct vm_devices *d)
{
	d->port_count = 0;
	d->ports[0].first = PORT_TABLE_END;
}

/* size bytes of zeroed device state that lives as long as the VM; NULL
 * (and a log line) when the VM's device memory is used up. */
void *vm_device_state(struct vm *vm, size_t size, const char *device);

#endif
