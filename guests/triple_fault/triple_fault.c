/*
 * Triple fault: with an IDT limit of 0, INT3 cannot be delivered (vector 3
 * lies beyond the limit: #GP), nor can the #GP, nor the #DF that follows,
 * so the CPU shuts down (SDM Vol. 3A 6.15, "Interrupt 8").  In VMX
 * non-root operation this is a triple-fault VM exit (SDM Vol. 3C 26.2):
 * cvisor ends this VM only, with a register dump.
 */
#include "guest.h"

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	say("loading an IDT with limit 0 and executing INT3: expecting a triple fault");
	guest_lidt(0, 0);
	guest_int3();
	say("FAIL: still running after INT3 with an IDT limit of 0");
	return 1;
}
