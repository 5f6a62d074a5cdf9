/*
 * Ends through the QEMU isa-debug-exit port with value 3: the VM must end
 * as a failure with exit status (3 << 1) | 1 = 7 (docs/guest-contract.md).
 */
#include "abi/devices.h"
#include "guest.h"

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	say("writing 3 to the debug-exit port 0x%x: expecting exit status 7", PORT_DEBUG_EXIT);
	guest_outb(PORT_DEBUG_EXIT, 3);
	say("FAIL: still running after writing the debug-exit port");
	return 1;
}
