/* printf-style formatting for the freestanding core (no libc). */
#ifndef CVISOR_LIB_FORMAT_H
#define CVISOR_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Supports %c %s %d %i %u %x %X %p %%, the flags '-' and '0', a field width,
 * a precision (also as .*) and the length modifiers hh h l ll z.
 * Always NUL-terminates when size > 0; returns the length that the full
 * output would have had.
 */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
