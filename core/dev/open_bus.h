/*
 * What answers a guest-physical address that is neither RAM nor a device:
 * as on a PC's open bus (and in QEMU), reads return all ones and writes
 * are dropped.  Nothing is ever mapped there: every access is emulated.
 * Each access is counted (the exit statistics print the counts), and the
 * first access to each page is reported once with its address, the access
 * and the RIP.  A VM built with strict_mem has no open bus: such an access
 * ends it instead.
 */
#ifndef CVISOR_DEV_OPEN_BUS_H
#define CVISOR_DEV_OPEN_BUS_H

#include <stdbool.h>

struct vm;

/* Makes the open bus answer for vm (vm->devices.open_bus). */
bool open_bus_attach(struct vm *vm);

#endif
