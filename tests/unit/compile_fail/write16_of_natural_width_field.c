/* A 16-bit write of a natural-width field (GUEST_RIP) must not compile.
 * expect-error: incompatible type for argument 1 of 'vmcs_write16' */
#include "vmx/vmcs.h"

void wrong_width(void);

void wrong_width(void)
{
	vmcs_write16(GUEST_RIP, 0);
}
