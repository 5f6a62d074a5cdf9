#include "vmx/msr_bitmap.h"

#include "lib/mem.h"

/* SDM Vol. 3C 25.6.9: read-low at byte 0, read-high at 1024, write-low at
 * 2048, write-high at 3072; one bit per MSR.  MSRs outside 0-0x1FFF and
 * 0xC0000000-0xC0001FFF have no bit and always exit (26.1.3). */
static int bitmap_bit(uint32_t msr, bool write, unsigned *byte, unsigned *bit)
{
	unsigned base = write ? 2048 : 0;
	if (msr <= 0x1FFF) {
		*byte = base + msr / 8;
	} else if (msr >= 0xC0000000 && msr <= 0xC0001FFF) {
		*byte = base + 1024 + (msr - 0xC0000000) / 8;
	} else {
		return -1;
	}
	*bit = msr % 8;
	return 0;
}

void msr_bitmap_fill(uint8_t *bitmap, bool intercept)
{
	memset(bitmap, intercept ? 0xFF : 0, MSR_BITMAP_SIZE);
}

void msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool write, bool intercept)
{
	unsigned byte, bit;
	if (bitmap_bit(msr, write, &byte, &bit) != 0)
		return;
	if (intercept)
		bitmap[byte] |= (uint8_t)(1u << bit);
	else
		bitmap[byte] &= (uint8_t)~(1u << bit);
}

bool msr_bitmap_intercepts(const uint8_t *bitmap, uint32_t msr, bool write)
{
	unsigned byte, bit;
	if (bitmap_bit(msr, write, &byte, &bit) != 0)
		return true;
	return bitmap[byte] & (1u << bit);
}
