/*
 * Data and I/O breakpoints (DR0-DR3 with DR7, SDM Vol. 3B 18.2) met by the
 * accesses of instructions that cvisor emulates: the CPU checks them only
 * for what it executes itself, and an exit happens before the access.
 * They are reported as hardware does, as a #DB trap after the instruction
 * (or after the iteration of a repeated string instruction) with DR6's
 * B0-B3 bits, through the VMCS pending debug exceptions (SDM Vol. 3C
 * 25.4.2), which VM entry delivers (27.7.3).
 */
#ifndef CVISOR_VCPU_DEBUG_H
#define CVISOR_VCPU_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/vmcs.h"

struct vcpu;

/* The kind of an access, as DR7's R/W fields classify them (18.2.4). */
enum breakpoint_access {
	BREAKPOINT_READ,  /* met by R/W = 11b (reads or writes) */
	BREAKPOINT_WRITE, /* met by R/W = 01b and 11b */
	BREAKPOINT_IO,    /* a port: met by R/W = 10b when CR4.DE = 1 */
};

/*
 * The B0-B3 bits of the breakpoints enabled in dr7 (L or G) that an access
 * of size bytes at address meets: the R/W field matches the access and a
 * byte of it lies in the breakpoint's range (LEN 1, 2, 8 or 4 bytes, the
 * address's low bits ignored, 18.2.5).  R/W = 10b without CR4.DE is
 * undefined and meets nothing; so does R/W = 00b (instruction breakpoints).
 */
unsigned breakpoints_met(uint64_t dr7, const uint64_t dr[4], bool cr4_de,
			 enum breakpoint_access access, uint64_t address, unsigned size);

/* DR7's L0-L3 and G0-G3 (SDM Vol. 3B 18.2.4): no breakpoint is enabled
 * without one of them. */
#define DR7_ENABLE_MASK 0xFFULL

bool vcpu_check_breakpoints_enabled(struct vcpu *vcpu, uint64_t dr7, enum breakpoint_access access,
				    uint64_t address, unsigned size);

/* The guest made this access in an emulated instruction: the breakpoints
 * it meets become pending (B0-B3 and "enabled breakpoint", bit 12).
 * True when any did: a string loop stops after this element.  Inline: every
 * port and MMIO exit asks, and almost never has a breakpoint enabled. */
static inline bool vcpu_check_breakpoints(struct vcpu *vcpu, enum breakpoint_access access,
					  uint64_t address, unsigned size)
{
	uint64_t dr7 = vmcs_read(GUEST_DR7);

	if (__builtin_expect(!(dr7 & DR7_ENABLE_MASK), 1))
		return false;
	return vcpu_check_breakpoints_enabled(vcpu, dr7, access, address, size);
}

#endif
