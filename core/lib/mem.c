/*
 * Freestanding implementations of the memory functions.  GCC may emit calls
 * to memset/memcpy/memmove/memcmp even with -ffreestanding, so they must exist.
 * Host unit tests link the C library's versions instead of this file.
 */
#include "lib/mem.h"

#include "vmx/intrin.h"

void *memset(void *dst, int value, size_t len)
{
	/* Whole 8-byte words with REP STOSQ: an emulator (Bochs) may take one
	 * step per iteration, and pages (guest RAM) are zeroed by the MiB. */
	uint8_t *d = dst;
#ifdef __x86_64__ /* the 32-bit test guests link this file too */
	size_t head = (size_t)(-(uintptr_t)d & 7);
	if (len >= 64 && head < len) {
		rep_stosb(d, (uint8_t)value, head);
		size_t words = (len - head) / 8;
		rep_stosq(d + head, 0x0101010101010101ULL * (uint8_t)value, words);
		d += head + words * 8;
		len -= head + words * 8;
	}
#endif
	rep_stosb(d, (uint8_t)value, len);
	return dst;
}

void *memcpy(void *dst, const void *src, size_t len)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (len--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t len)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d < s) {
		while (len--)
			*d++ = *s++;
	} else {
		while (len--)
			d[len] = s[len];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	for (; len; len--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t len)
{
	for (; len; len--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		if (!*a)
			return 0;
	}
	return 0;
}
