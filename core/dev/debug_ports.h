/*
 * The debug ports of QEMU and Bochs that test kernels use: the debug
 * console at 0xE9, QEMU's isa-debug-exit at 0xF4 and the Bochs/QEMU BIOS
 * power-off port at 0x8900.
 */
#ifndef CVISOR_DEV_DEBUG_PORTS_H
#define CVISOR_DEV_DEBUG_PORTS_H

#include <stdbool.h>

struct vm;

bool debug_ports_attach(struct vm *vm);

#endif
