/*
 * The xAPIC page at 0xFEE00000 (SDM Vol. 3A 11.4.1): each vCPU reaches its
 * own local APIC (irq/lapic.c) there.  While IA32_APIC_BASE[11] is clear
 * the APIC is globally disabled and gone from the bus (11.4.3): reads
 * return all ones, writes are dropped.  Relocating the page through
 * IA32_APIC_BASE is not emulated.
 */
#ifndef CVISOR_DEV_LAPIC_MMIO_H
#define CVISOR_DEV_LAPIC_MMIO_H

#include <stdbool.h>

struct vm;

bool lapic_mmio_attach(struct vm *vm);

#endif
