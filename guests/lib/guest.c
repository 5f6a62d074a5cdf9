#include "guest.h"

#include <stdarg.h>

#include "abi/hypercall.h"
#include "lib/format.h"

static unsigned failed;

void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	size_t n = fmt_vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	guest_vmcall(HC_PRINT_STRING, (uint32_t)(uintptr_t)line, n, 0, 0);
}

void check(bool ok, const char *what)
{
	if (!ok)
		failed++;
	say("%s: %s", ok ? "PASS" : "FAIL", what);
}

unsigned failures(void)
{
	return failed;
}

/*
 * 64-bit division helpers GCC calls from 32-bit code (the formatter prints
 * 64-bit numbers); written here because no 32-bit libgcc is installed.
 */
uint64_t __udivmoddi4(uint64_t num, uint64_t den, uint64_t *rem);
uint64_t __udivdi3(uint64_t num, uint64_t den);
uint64_t __umoddi3(uint64_t num, uint64_t den);

uint64_t __udivmoddi4(uint64_t num, uint64_t den, uint64_t *rem)
{
	uint64_t quot = 0, r = 0;
	for (int bit = 63; bit >= 0; bit--) {
		r = (r << 1) | ((num >> bit) & 1);
		if (r >= den) {
			r -= den;
			quot |= 1ULL << bit;
		}
	}
	if (rem)
		*rem = r;
	return quot;
}

uint64_t __udivdi3(uint64_t num, uint64_t den)
{
	return __udivmoddi4(num, den, 0);
}

uint64_t __umoddi3(uint64_t num, uint64_t den)
{
	uint64_t r;
	__udivmoddi4(num, den, &r);
	return r;
}

bool cmdline_has_word(const char *cmdline, const char *word)
{
	for (const char *p = cmdline; *p; p++) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		unsigned i = 0;
		while (word[i] && p[i] == word[i])
			i++;
		if (!word[i] && (p[i] == ' ' || !p[i]))
			return true;
	}
	return false;
}
