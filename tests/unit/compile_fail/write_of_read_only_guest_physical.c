/* GUEST_PHYSICAL_ADDRESS (64-bit, read-only) cannot be written.
 * expect-error: is not compatible with any association */
#include "vmx/vmcs.h"

void write_read_only_64(void);

void write_read_only_64(void)
{
	vmcs_write(GUEST_PHYSICAL_ADDRESS, 0);
}
