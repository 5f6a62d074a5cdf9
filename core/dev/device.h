/*
 * How a device joins a VM.  Each device is one file in dev/ with its state
 * in its own struct and one attach function that takes its state from the
 * VM (vm_device_state) and registers its I/O ports (dev/ports.h) and MMIO
 * ranges (dev/mmio.h).  dev/machine.c lists the devices every VM gets;
 * the VM's builder attaches them.  struct vm holds only this table, no
 * device by name.
 *
 * Concurrency: the vCPUs of a VM run on several CPUs.  Every call into a
 * device (port and MMIO handlers, timer callbacks, an interrupt
 * controller's acknowledge) runs with the VM's device lock held
 * (vm_devices.lock), so device code needs no lock of its own; it must not
 * take that lock itself.
 *
 * Time: a device that counts (a timer, a clock) derives its count from the
 * host TSC, which the guest TSC follows, with device_clock_ticks; it asks
 * to be called back at a host TSC with a device timer (device_timer_arm).
 */
#ifndef CVISOR_DEV_DEVICE_H
#define CVISOR_DEV_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/spinlock.h"

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

/* A device's timer: fire runs, with the device lock held, once the host
 * TSC has reached deadline; it may arm the timer again. */
struct device_timer {
	const char *name;
	uint64_t deadline; /* host TSC; 0: not armed */
	void (*fire)(struct vm *vm, void *state, uint64_t now);
	void *state;
};

/* What a device does when the VM is reset (a guest's reset request with
 * on_reset=restart): its state after its RESET input, per its data sheet.
 * Runs with the device lock held.  A device without one keeps its state
 * (what a PC's reset leaves alone, such as battery-backed CMOS). */
struct device_reset {
	const char *name;
	void (*reset)(struct vm *vm, void *state);
	void *state;
};

#define VM_MAX_PORT_RANGES 32
#define PORT_INDEX_LIMIT 0x1000u
#define VM_MAX_MMIO_REGIONS 8
#define VM_MAX_DEVICE_TIMERS 8
#define VM_MAX_DEVICE_RESETS 16
#define VM_DEVICE_STATE_BYTES 4096

/* A VM's devices: port ranges sorted by port and MMIO regions sorted by
 * address, neither overlapping; the devices' state. */
struct vm_devices {
	/* The ranges, then an end marker that every port is below (so a
	 * lookup needs no bound: an exit costs fewer instructions). */
	struct port_range ports[VM_MAX_PORT_RANGES + 1];
	unsigned port_count;
	/* For ports below PORT_INDEX_LIMIT, where a PC's devices sit: 1 + the
	 * index of the range holding the port, 0 for none.  One load finds a
	 * port's device whatever the number of devices (dev/ports.c). */
	uint8_t port_index[PORT_INDEX_LIMIT];
	struct mmio_region mmio[VM_MAX_MMIO_REGIONS];
	unsigned mmio_count;
	/* What answers where nothing else does (dev/open_bus.c); no ops: none
	 * (strict_mem), such an access ends the VM. */
	struct mmio_region open_bus;
	/* Protects every device's state (see above); taken by the port and
	 * MMIO dispatch, the timers and the interrupt acknowledge. */
	spinlock_t lock;
	struct device_timer timers[VM_MAX_DEVICE_TIMERS];
	unsigned timer_count;
	struct device_reset resets[VM_MAX_DEVICE_RESETS];
	unsigned reset_count;
	/* The earliest armed deadline, 0 when none (read without the lock). */
	uint64_t next_deadline;
	/* plat_tsc_hz() when the VM was built: the rate device clocks derive from. */
	uint64_t tsc_hz;
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

/* Registers what the device does on a VM reset; false (and a log line)
 * when the VM has no room. */
bool vm_add_device_reset(struct vm *vm, const char *name, void (*reset)(struct vm *vm, void *state),
			 void *state);
/* Runs every device's reset (the device lock held by the caller) and
 * disarms every device timer. */
void vm_reset_devices(struct vm *vm);

/* Adds a timer (not armed); NULL (and a log line) when the VM has no room. */
struct device_timer *vm_add_device_timer(struct vm *vm, const char *name,
					 void (*fire)(struct vm *vm, void *state, uint64_t now),
					 void *state);
/* Arms the timer for host TSC deadline (0 disarms); device lock held. */
void device_timer_arm(struct vm *vm, struct device_timer *timer, uint64_t deadline);
/* Fires every timer whose deadline is at or before now; takes the lock. */
void vm_device_timers_expire(struct vm *vm, uint64_t now);
/* The earliest armed deadline of the VM's device timers, 0 when none. */
static inline uint64_t vm_device_deadline(const struct vm_devices *d)
{
	return __atomic_load_n(&d->next_deadline, __ATOMIC_ACQUIRE);
}

/* A device timer is due at host TSC now. */
static inline bool device_timer_due(const struct vm_devices *d, uint64_t now)
{
	uint64_t next = vm_device_deadline(d);
	return next && now >= next;
}

/* Ticks of a clock_hz clock in tsc_delta ticks of a tsc_hz TSC, rounded
 * down, and the TSC ticks that ticks of the clock take, rounded up: exact
 * without 128-bit division for clocks below 2^24 Hz and TSCs below 2^39 Hz. */
static inline uint64_t device_clock_ticks(uint64_t tsc_delta, uint64_t tsc_hz, uint64_t clock_hz)
{
	return tsc_delta / tsc_hz * clock_hz + tsc_delta % tsc_hz * clock_hz / tsc_hz;
}

static inline uint64_t device_clock_to_tsc(uint64_t ticks, uint64_t clock_hz, uint64_t tsc_hz)
{
	return ticks / clock_hz * tsc_hz + (ticks % clock_hz * tsc_hz + clock_hz - 1) / clock_hz;
}

/* size bytes of zeroed device state that lives as long as the VM; NULL
 * (and a log line) when the VM's device memory is used up. */
void *vm_device_state(struct vm *vm, size_t size, const char *device);

#endif
