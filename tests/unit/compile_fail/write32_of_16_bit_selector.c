/* A 32-bit write of a 16-bit field (GUEST_CS_SELECTOR) must not compile.
 * expect-error: incompatible type for argument 1 of 'vmcs_write32' */
#include "vmx/vmcs.h"

void wrong_width_selector(void);

void wrong_width_selector(void)
{
	vmcs_write32(GUEST_CS_SELECTOR, 0);
}
