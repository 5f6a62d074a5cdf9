/* VM_EXIT_REASON is VM-exit information, read-only: writing it must not compile.
 * expect-error: is not compatible with any association */
#include "vmx/vmcs.h"

void write_read_only(void);

void write_read_only(void)
{
	vmcs_write(VM_EXIT_REASON, 0);
}
