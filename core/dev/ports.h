/* Port I/O dispatch to a VM's emulated devices.  Guests never reach real ports. */
#ifndef CVISOR_DEV_PORTS_H
#define CVISOR_DEV_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* size is 1, 2 or 4.  Ports with no device read as all ones; writes to them
 * are ignored.  A write passes only the low size bytes of value on (the
 * caller may pass a whole register). */
uint32_t io_port_read(struct vm *vm, uint16_t port, unsigned size);
void io_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value);
/* For the unit tests: the device table is sorted and its ranges do not overlap. */
bool io_port_table_is_sorted(void);

#endif
