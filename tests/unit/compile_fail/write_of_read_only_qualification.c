/* EXIT_QUALIFICATION (natural-width, read-only) cannot be written either.
 * expect-error: is not compatible with any association */
#include "vmx/vmcs.h"

void write_read_only_natural(void);

void write_read_only_natural(void)
{
	vmcs_write(EXIT_QUALIFICATION, 0);
}
