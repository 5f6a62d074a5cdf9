#include "lib/log.h"

#include "lib/format.h"
#include "platform.h"

void log_vprintf(const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n = fmt_vsnprintf(line, sizeof(line), fmt, ap);

	if (n >= sizeof(line)) {
		/* Cut output still ends its line. */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	plat_console_write(line, n);
}

void log_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprintf(fmt, ap);
	va_end(ap);
}
