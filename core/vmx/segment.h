/* Reading segment descriptors from a descriptor table (SDM Vol. 3A 3.4.5, 7.2.3). */
#ifndef CVISOR_VMX_SEGMENT_H
#define CVISOR_VMX_SEGMENT_H

#include "x86.h"

#include <stdint.h>

/*
 * Base address of the descriptor that selector names in the GDT at
 * gdt_base; system descriptors (S = 0, e.g. the 64-bit TSS) are 16 bytes
 * and carry bits 63:32 of the base in their second half.
 */
uint64_t segment_descriptor_base(const void *gdt_base, uint16_t selector);

/* A segment register as the VMCS guest-state area holds it (SDM Vol. 3C 25.4.1). */
struct vmcs_segment {
	uint16_t selector;
	uint64_t base;
	uint32_t limit;
	uint32_t access_rights;
};

/* Access-rights bit 16: the register holds no usable segment (SDM Vol. 3C 25.4.1). */

/*
 * The access-rights format of the VMCS from a descriptor's second dword
 * bits: type, S, DPL, P in 7:0, AVL, L, D/B, G in 15:12 (SDM Vol. 3C
 * Table 25-2, Vol. 3A 3.4.5).
 */
uint32_t segment_access_rights(uint64_t descriptor);
/* Limit in bytes - 1, scaled by 4 KiB when G is set (SDM Vol. 3A 3.4.5). */
uint32_t segment_limit(uint64_t descriptor);

/*
 * The segment that selector names in a loaded GDT (or LDT, not supported:
 * TI = 1 gives an unusable segment), as the CPU caches it: a null selector
 * gives an unusable segment whose DPL is the selector's RPL.
 */
struct vmcs_segment segment_from_gdt(const void *gdt_base, uint16_t gdt_limit, uint16_t selector);

#endif
