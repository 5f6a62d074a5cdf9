/*
 * TSC deadlines where 0 means "none" (a device timer, the APIC timer, a
 * halted vCPU's wake-up): the earlier of two, ignoring an absent one.
 */
#ifndef CVISOR_LIB_DEADLINE_H
#define CVISOR_LIB_DEADLINE_H

#include <stdint.h>

static inline uint64_t deadline_earlier(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	return b && b < a ? b : a;
}

#endif
