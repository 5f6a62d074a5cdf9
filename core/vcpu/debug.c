#include "vcpu/debug.h"

#include "vcpu/vcpu.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* DR7 fields (SDM Vol. 3B 18.2.4, Figure 18-2). */
#define DR7_ENABLE_BITS(n) (3ULL << (2 * (n)))                 /* Ln, Gn */
#define DR7_RW(dr7, n)     ((unsigned)((dr7) >> (16 + 4 * (n))) & 3)
#define DR7_LEN(dr7, n)    ((unsigned)((dr7) >> (18 + 4 * (n))) & 3)
enum { DR7_RW_EXECUTE = 0, DR7_RW_WRITE = 1, DR7_RW_IO = 2, DR7_RW_READ_WRITE = 3 };

/* Pending debug exceptions: "enabled breakpoint" (SDM Vol. 3C 25.4.2). */
#define PENDING_DBG_ENABLED_BREAKPOINT (1ULL << 12)

/* LEN: 00b 1 byte, 01b 2 bytes, 10b 8 bytes (IA-32e capable processors),
 * 11b 4 bytes (18.2.4). */
static uint64_t breakpoint_length(unsigned len)
{
	static const uint8_t bytes[4] = { 1, 2, 8, 4 };
	return bytes[len];
}

static bool rw_matches(unsigned rw, enum breakpoint_access access, bool cr4_de)
{
	switch (access) {
	case BREAKPOINT_READ:
		return rw == DR7_RW_READ_WRITE;
	case BREAKPOINT_WRITE:
		return rw == DR7_RW_WRITE || rw == DR7_RW_READ_WRITE;
	case BREAKPOINT_IO:
		return rw == DR7_RW_IO && cr4_de;
	}
	return false;
}

unsigned breakpoints_met(uint64_t dr7, const uint64_t dr[4], bool cr4_de,
			 enum breakpoint_access access, uint64_t address, unsigned size)
{
	unsigned met = 0;

	for (unsigned n = 0; n < 4; n++) {
		if (!(dr7 & DR7_ENABLE_BITS(n)) || !rw_matches(DR7_RW(dr7, n), access, cr4_de))
			continue;
		/* The breakpoint covers [start, start + length): its address's
		 * low bits are ignored (18.2.5); an I/O address is 16 bits. */
		uint64_t length = breakpoint_length(DR7_LEN(dr7, n));
		uint64_t start = dr[n] & ~(length - 1);
		if (access == BREAKPOINT_IO)
			start &= 0xFFFF;
		/* Overlap of [address, address + size) and the range, without
		 * overflow at the top of the address space. */
		if (address - start < length || start - address < size)
			met |= 1u << n;
	}
	return met;
}

bool vcpu_check_breakpoints_enabled(struct vcpu *vcpu, uint64_t dr7, enum breakpoint_access access,
				    uint64_t address, unsigned size)
{
	(void)vcpu;
	/* DR0-DR3 are the guest's while it is loaded (vcpu_load). */
	uint64_t dr[4], dr6;
	read_debug_registers(dr, &dr6);
	unsigned met = breakpoints_met(dr7, dr, vmcs_read(GUEST_CR4) & CR4_DE, access, address, size);
	if (!met)
		return false;
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS) | met |
							 PENDING_DBG_ENABLED_BREAKPOINT);
	return true;
}
