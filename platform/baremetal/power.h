/* Ending a bare-metal run. */
#ifndef CVISOR_BAREMETAL_POWER_H
#define CVISOR_BAREMETAL_POWER_H

#include <stdbool.h>

/*
 * Prints "cvisor: power off (success)" or "cvisor: power off (failure)",
 * then turns the machine off: Bochs/QEMU BIOS shutdown port 0x8900, then
 * ACPI soft-off at the usual PM1a control ports (0xB004 Bochs, 0x604 QEMU),
 * and if all that did nothing, halts forever with interrupts off.
 */
_Noreturn void plat_power_off(bool success);

#endif
