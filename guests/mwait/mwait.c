/*
 * Executes INVD, an instruction that always exits (SDM Vol. 3C 26.1.2)
 * and that cvisor has no handler for: cvisor must stop this VM with a
 * named report and a VMCS dump, never skip the exit.
 */
#include "guest.h"

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	say("executing INVD, which cvisor does not handle");
	guest_invd();
	say("FAIL: execution continued after an unhandled exit");
	return 1;
}
