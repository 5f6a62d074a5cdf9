/*
 * Positive control for the compile-fail cases: the same kind of accesses,
 * done right.  It must compile, or the check's command itself is broken.
 */
#include <stdint.h>

#include "vmx/vmcs.h"

void correct_vmcs_accesses(void);

void correct_vmcs_accesses(void)
{
	vmcs_write(GUEST_RIP, 0x100000);
	vmcs_writenat(GUEST_RSP, 0x7000);
	vmcs_write16(GUEST_CS_SELECTOR, 0x08);
	vmcs_write32(GUEST_CS_LIMIT, 0xFFFFFFFF);
	vmcs_write64(EPT_POINTER, 0x1E);
	vmcs_write(GUEST_CS_SELECTOR, 0x08);
	uint16_t selector = vmcs_read_RW16(GUEST_CS_SELECTOR);
	uint32_t reason = vmcs_read(VM_EXIT_REASON);
	uint64_t qualification = vmcs_read(EXIT_QUALIFICATION);
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	uint64_t rip = vmcs_read(GUEST_RIP);
	(void)selector;
	(void)reason;
	(void)qualification;
	(void)gpa;
	(void)rip;
}
