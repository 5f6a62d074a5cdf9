/*
 * Port I/O of a VM: the devices' port ranges, registered at VM creation,
 * and the bus that routes each access.  Guests never reach real ports.
 */
#ifndef CVISOR_DEV_PORTS_H
#define CVISOR_DEV_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"

struct vm;

/* Registers [first, last] for a device; false (and a log line) when the
 * range overlaps another or the VM's table is full. */
bool vm_register_ports(struct vm *vm, const char *name, uint16_t first, uint16_t last,
		       const struct port_ops *ops, void *state);

/* size is 1, 2 or 4.  Ports with no device read as all ones; writes to them
 * are ignored.  A write passes only the low size bytes of value on (the
 * caller may pass a whole register). */
uint32_t io_port_read(struct vm *vm, uint16_t port, unsigned size);
void io_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value);
/* For the unit tests: the VM's port table is sorted and its ranges do not overlap. */
bool io_port_table_is_sorted(const struct vm *vm);

#endif
