/*
 * A VM's emulated MMIO: guest-physical ranges that are not mapped in the
 * EPT, so every access exits with an EPT violation and is emulated.
 * Devices register their ranges at VM creation.
 */
#ifndef CVISOR_DEV_MMIO_H
#define CVISOR_DEV_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"

struct vm;
struct vcpu;

/* Registers [base, base+size) for a device; false (and a log line) when it
 * overlaps another range or the VM's table is full. */
bool vm_register_mmio(struct vm *vm, const char *name, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *state);

/* The region holding [gpa, gpa+size), or NULL. */
const struct mmio_region *mmio_find(struct vcpu *vcpu, uint64_t gpa, unsigned size);

/* The VM's open bus (dev/open_bus.c) for an address that is neither RAM
 * nor a device, or NULL when the VM has none (strict_mem). */
const struct mmio_region *mmio_open_bus(struct vcpu *vcpu);

/* An access of size bytes at guest-physical gpa inside region, with the
 * VM's device lock held (dev/device.h). */
uint64_t mmio_read(struct vcpu *vcpu, const struct mmio_region *region, uint64_t gpa,
		   unsigned size);
void mmio_write(struct vcpu *vcpu, const struct mmio_region *region, uint64_t gpa, unsigned size,
		uint64_t value);

#endif
