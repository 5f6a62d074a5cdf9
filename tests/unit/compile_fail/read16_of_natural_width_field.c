/* Reading GUEST_RIP as a 16-bit field must not compile.
 * expect-error: incompatible type for argument 1 of 'vmcs_read_RW16' */
#include <stdint.h>

#include "vmx/vmcs.h"

uint16_t read_wrong_width(void);

uint16_t read_wrong_width(void)
{
	uint16_t x = vmcs_read_RW16(GUEST_RIP);
	return x;
}
