#include "dev/vm_console.h"

#include "lib/log.h"
#include "vm/vm.h"

void vm_console_flush(struct vm *vm)
{
	struct vm_console *con = &vm->console;

	if (!con->len)
		return;
	log_printf("[%s] %.*s\n", vm->name, (int)con->len, con->line);
	con->len = 0;
}

void vm_console_putc(struct vm *vm, char c)
{
	struct vm_console *con = &vm->console;

	if (c == '\n') {
		if (con->len)
			vm_console_flush(vm);
		else
			log_printf("[%s]\n", vm->name);
		return;
	}
	if (c == '\r')
		return;
	/* Guests may print anything: show control bytes as '.' so they
	 * cannot drive the host terminal. */
	if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7F)
		c = c == '\t' ? ' ' : '.';
	con->line[con->len++] = c;
	if (con->len == VM_CONSOLE_LINE_MAX)
		vm_console_flush(vm);
}

void vm_console_write(struct vm *vm, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		vm_console_putc(vm, text[i]);
}
