/* Human names for VMX numbers that otherwise reach the user as bare integers. */
#ifndef CVISOR_VMX_NAMES_H
#define CVISOR_VMX_NAMES_H

/* "CPUID", "EPT violation", ...; "unknown" past the table. */
const char *vmx_exit_reason_name(unsigned basic_reason);
/* The symbolic name, e.g. "EPT_VIOLATION". */
const char *vmx_exit_reason_symbol(unsigned basic_reason);
/* VM-instruction error numbers (SDM Vol. 3C 31.4, Table 31-1). */
const char *vmx_instruction_error_name(unsigned error);

#endif
