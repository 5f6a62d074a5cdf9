/* Reading segment descriptors from a descriptor table (SDM Vol. 3A 3.4.5, 7.2.3). */
#ifndef CVISOR_VMX_SEGMENT_H
#define CVISOR_VMX_SEGMENT_H

#include <stdint.h>

/*
 * Base address of the descriptor that selector names in the GDT at
 * gdt_base; system descriptors (S = 0, e.g. the 64-bit TSS) are 16 bytes
 * and carry bits 63:32 of the base in their second half.
 */
uint64_t segment_descriptor_base(const void *gdt_base, uint16_t selector);

#endif
