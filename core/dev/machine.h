/*
 * The machine every VM gets: the devices its builder attaches, in the
 * order they register.  To add a device: write dev/<name>.c with its state
 * struct and a <name>_attach(vm) that registers its ports or MMIO (see
 * dev/device.h), then add it to machine_devices[] in dev/machine.c.
 */
#ifndef CVISOR_DEV_MACHINE_H
#define CVISOR_DEV_MACHINE_H

struct vm;

/* Attaches every device; NULL on success, else the device that failed. */
const char *machine_attach_devices(struct vm *vm);

#endif
