/*
 * The debug-console page at MMIO_DEBUG_CONSOLE_GPA (abi/devices.h): every
 * non-NUL byte written is printed, with any instruction form the MMIO
 * emulator knows; reads return 0.
 */
#ifndef CVISOR_DEV_DEBUG_CONSOLE_H
#define CVISOR_DEV_DEBUG_CONSOLE_H

#include <stdbool.h>

struct vm;

bool debug_console_attach(struct vm *vm);

#endif
