/*
 * Executes MWAIT, which cvisor does not offer (CPUID.1:ECX.MONITOR[3] = 0)
 * and intercepts with "MWAIT exiting" (SDM Vol. 3C 26.1.3) without a
 * handler: cvisor must stop this VM with a named report (exit MWAIT, 36)
 * and a VMCS dump, never skip the exit.  No MONITOR runs first, so the exit
 * qualification (bit 0: monitoring hardware armed, SDM Vol. 3C 28.2.1) is 0.
 */
#include "guest.h"
#include "probe.h"

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	traps_init(); /* a fault instead of the exit is reported, not a triple fault */
	say("executing MWAIT, which cvisor does not handle");
	guest_mwait(0, 0);
	say("FAIL: execution continued after MWAIT, an unhandled exit");
	return 1;
}
