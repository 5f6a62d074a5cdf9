/*
 * Console logging for the core.  Each call formats into a local buffer and
 * hands the platform one write, so lines from different CPUs never
 * interleave within a line (the platform serializes writes).
 */
#ifndef CVISOR_LIB_LOG_H
#define CVISOR_LIB_LOG_H

#include <stdarg.h>

/* Longest line log_printf writes in one piece; longer output is cut. */
#define LOG_LINE_MAX 256

void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_vprintf(const char *fmt, va_list ap);

#endif
