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
#include <stdint.h>

struct vm;
struct vcpu;

bool lapic_mmio_attach(struct vm *vm);
/*
 * The guest wrote value to the 32-bit register at offset: the register
 * model takes it (irq/lapic.c) and its effects follow (an IPI, a
 * level-triggered EOI to the I/O APIC, the timer).  The MMIO path and the
 * APIC-write exits (exit/apic.c) both end here; with the device lock held.
 */
void lapic_mmio_register_written(struct vcpu *vcpu, uint32_t offset, uint32_t value);

#endif
