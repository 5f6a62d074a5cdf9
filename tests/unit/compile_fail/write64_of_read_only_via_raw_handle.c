/* The read-only handle types have no write function at all.
 * expect-error: incompatible type for argument 1 of 'vmcs_write64' */
#include "vmx/vmcs.h"

void write_read_only_raw(void);

void write_read_only_raw(void)
{
	vmcs_write64(GUEST_PHYSICAL_ADDRESS, 0);
}
