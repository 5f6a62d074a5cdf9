/* The hosted OS's descriptors and MSR bitmap check (fixture_os_gdt.h). */
#include "fixture_os_gdt.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "x86.h"

uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (limit & 0xFFFFULL) | ((uint64_t)(base & 0xFFFFFF) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xF) << 48) |
	       ((uint64_t)(flags & 0xF) << 52) | ((uint64_t)(base >> 24) << 56);
}

/* A 16-byte system descriptor (TSS, LDT) in IA-32e mode (SDM Vol. 3A 7.2.3). */
void system_descriptor(uint64_t *slot, uint64_t base, uint32_t limit, uint8_t access)
{
	slot[0] = descriptor((uint32_t)base, limit, access, 0);
	slot[1] = base >> 32;
}

void build_os_gdt(uint64_t *gdt)
{
	memset(gdt, 0, (OS_GDT_LIMIT + 1));
	gdt[1] = descriptor(0, 0xFFFFF, 0x9B, 0xC);
	gdt[OS_CS / 8] = descriptor(0, 0xFFFFF, 0x9B, 0xA);
	gdt[OS_DS / 8] = descriptor(0, 0xFFFFF, 0x93, 0xC);
	gdt[4] = descriptor(0, 0xFFFFF, 0xFB, 0xC);
	gdt[5] = descriptor(0, 0xFFFFF, 0xF3, 0xC);
	gdt[6] = descriptor(0, 0xFFFFF, 0xFB, 0xA);
	system_descriptor(&gdt[OS_TR / 8], OS_TSS_BASE, OS_TSS_LIMIT, 0x8B);
	system_descriptor(&gdt[OS_LDT / 8], OS_LDT_BASE, 0xFFF, 0x82);
	gdt[OS_BASED / 8] = descriptor(0x12345678, 0xABCDE, 0x93, 0x4);
	gdt[OS_FRESH / 8] = descriptor(0, 0xFFFFF, 0x9A, 0xA);
}

bool bitmap_intercepts(const uint8_t *bitmap, uint32_t msr, bool write)
{
	unsigned offset = (write ? 2048 : 0) + (msr >= 0xC0000000u ? 1024 : 0);
	uint32_t index = msr & 0x1FFF;
	return bitmap[offset + index / 8] & (1u << (index % 8));
}

void check_hosted_os_bitmap(const uint8_t *bitmap)
{
	static const uint32_t bases[] = { 0, 0xC0000000u };
	for (unsigned b = 0; b < 2; b++)
		for (uint32_t i = 0; i <= 0x1FFF; i++) {
			uint32_t msr = bases[b] + i;
			bool hidden = msr == MSR_IA32_FEATURE_CONTROL || (msr >= 0x480 && msr <= 0x491);
			for (int write = 0; write < 2; write++)
				if (bitmap_intercepts(bitmap, msr, write) != hidden)
					fail_msg("MSR 0x%x %s: %s", msr, write ? "write" : "read",
						 hidden ? "passes through" : "exits");
		}
}
