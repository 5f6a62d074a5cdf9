/* The few C library memory and string functions the freestanding core uses. */
#ifndef CVISOR_LIB_MEM_H
#define CVISOR_LIB_MEM_H

#include <stddef.h>

void *memset(void *dst, int value, size_t len);
void *memcpy(void *dst, const void *src, size_t len);
void *memmove(void *dst, const void *src, size_t len);
int memcmp(const void *a, const void *b, size_t len);
size_t strlen(const char *s);
/* The length of s, or max if s has no NUL in its first max bytes. */
size_t strnlen(const char *s, size_t max);
int strncmp(const char *a, const char *b, size_t len);

#endif
