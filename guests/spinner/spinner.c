/*
 * Computes for a long time without a single exit.  Run beside other VMs it
 * shows that the VMX-preemption timer time-shares the CPU: the others
 * finish while this one still spins.
 */
#include "guest.h"

#define SPIN_ITERATIONS 12000000u

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	volatile uint32_t counter = 0;

	say("spinning for %u iterations without exits", SPIN_ITERATIONS);
	for (uint32_t i = 0; i < SPIN_ITERATIONS; i++)
		counter = counter + 1;
	say("done spinning (%u)", counter);
	return counter == SPIN_ITERATIONS ? 0 : 1;
}
