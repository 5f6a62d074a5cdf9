/*
 * Freestanding implementations of the memory functions.  GCC may emit calls
 * to memset/memcpy/memmove/memcmp even with -ffreestanding, so they must exist.
 * Host unit tests link the C library's versions instead of this file.
 */
#include "lib/mem.h"

#include "vmx/intrin.h"

void *memset(void *dst, int value, size_t len)
{
	rep_stosb(dst, (uint8_t)value, len);
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
