#include "vmx/segment.h"

#include "lib/mem.h"

uint64_t segment_descriptor_base(const void *gdt_base, uint16_t selector)
{
	const uint8_t *d = (const uint8_t *)gdt_base + (selector & ~7u);
	uint64_t base = d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 |
			(uint64_t)d[7] << 24;

	if (!(d[5] & 0x10)) { /* S = 0: system descriptor, 16 bytes in IA-32e mode */
		uint32_t high;
		memcpy(&high, d + 8, 4);
		base |= (uint64_t)high << 32;
	}
	return base;
}
