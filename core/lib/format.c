#include "lib/format.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width,
		       bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		while (fill-- > 0)
			put(o, pad);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		while (fill-- > 0)
			put(o, ' ');
}

static void put_number(struct out *o, uint64_t value, bool negative,
		       unsigned base, bool upper, int width, bool left,
		       char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[value % base];
		value /= base;
	} while (value);
	if (negative) {
		if (pad == '0') {
			put(o, '-');
			width--;
		} else {
			tmp[sizeof(tmp) - 1 - n++] = '-';
		}
	}
	put_padded(o, tmp + sizeof(tmp) - n, n, width, left, pad);
}

size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int precision = -1;
		if (*fmt == '.') {
			fmt++;
			precision = 0;
			if (*fmt == '*') {
				precision = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				precision = precision * 10 + (*fmt++ - '0');
		}
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t, -1 short, -2 char */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng = lng == 1 ? 2 : 1;
			else if (*fmt == 'z')
				lng = 3;
			else if (*fmt == 'h')
				lng = lng == -1 ? -2 : -1;
			else
				break;
		}
		if (left)
			pad = ' ';

		switch (*fmt) {
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_padded(&o, &c, 1, width, left, ' ');
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t n = 0;
			while (s[n] && (precision < 0 || (int)n < precision))
				n++;
			put_padded(&o, s, n, width, left, ' ');
			break;
		}
		case 'd':
		case 'i': {
			int64_t v;
			if (lng == 2)
				v = va_arg(ap, long long);
			else if (lng == 1 || lng == 3)
				v = va_arg(ap, long);
			else
				v = va_arg(ap, int);
			if (lng == -1)
				v = (short)v;
			else if (lng == -2)
				v = (signed char)v;
			put_number(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0,
				   10, false, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v;
			if (lng == 2)
				v = va_arg(ap, unsigned long long);
			else if (lng == 1 || lng == 3)
				v = va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned int);
			if (lng == -1)
				v = (uint16_t)v;
			else if (lng == -2)
				v = (uint8_t)v;
			put_number(&o, v, false, *fmt == 'u' ? 10 : 16,
				   *fmt == 'X', width, left, pad);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, (uintptr_t)va_arg(ap, void *), false, 16,
				   false, 0, false, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--; /* a lone '%' at the end */
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
