/*
 * Sleeping CPUs (idle.c): plat_idle_until for bare metal, and the handler
 * of the interrupts that wake them.
 */
#ifndef CVISOR_BAREMETAL_IDLE_H
#define CVISOR_BAREMETAL_IDLE_H

#include <stdint.h>

#include "vcpu/vcpu.h"

/* The IPI that wakes a sleeping CPU to look again: the vCPUs' kick, whose
 * handler, like every wake-up's, only signals EOI. */
#define IDLE_WAKE_VECTOR VCPU_KICK_VECTOR

/* This CPU's sleeps since boot: TSC ticks asleep (in Bochs, instructions
 * it did not have to execute) and how many. */
struct idle_counts {
	uint64_t asleep_tsc;
	uint64_t sleeps;
};
struct idle_counts idle_counts(void);

/* An interrupt (vector >= 32) reached this CPU while it slept: EOI as the
 * vector needs (exceptions.c passes it on). */
void idle_interrupt(uint64_t vector);

#endif
