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

uint32_t segment_access_rights(uint64_t descriptor)
{
	return (uint32_t)(((descriptor >> 40) & 0xFF) | (((descriptor >> 52) & 0xF) << 12));
}

uint32_t segment_limit(uint64_t descriptor)
{
	uint32_t limit = (uint32_t)((descriptor & 0xFFFF) | ((descriptor >> 32) & 0xF0000));
	if (descriptor & (1ULL << 55)) /* G: 4 KiB units */
		limit = (limit << 12) | 0xFFF;
	return limit;
}

struct vmcs_segment segment_from_gdt(const void *gdt_base, uint16_t gdt_limit, uint16_t selector)
{
	struct vmcs_segment seg = { .selector = selector };
	unsigned index = selector & ~7u;

	if (index == 0 || (selector & 4) || index + 7u > gdt_limit) {
		seg.access_rights = AR_UNUSABLE | ((selector & 3u) << 5);
		return seg;
	}
	uint64_t descriptor;
	memcpy(&descriptor, (const uint8_t *)gdt_base + index, sizeof(descriptor));
	/* System descriptors (S = 0) take 16 bytes in IA-32e mode (SDM Vol. 3A 7.2.3). */
	if (!(descriptor & (1ULL << 44)) && index + 15u > gdt_limit) {
		seg.access_rights = AR_UNUSABLE;
		return seg;
	}
	seg.access_rights = segment_access_rights(descriptor);
	seg.limit = segment_limit(descriptor);
	seg.base = segment_descriptor_base(gdt_base, selector);
	return seg;
}
