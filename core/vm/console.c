#include "vm/console.h"

#include "lib/log.h"
#include "vm/vm.h"

/* Prints the pending line; the caller holds the console lock. */
static void flush_locked(struct vm *vm)
{
	struct vm_console *con = &vm->console;

	if (con->len)
		log_printf("[%s] %.*s\n", vm->name, (int)con->len, con->line);
	else
		log_printf("[%s]\n", vm->name);
	con->len = 0;
}

static void putc_locked(struct vm *vm, char c)
{
	struct vm_console *con = &vm->console;

	if (c == '\n') {
		flush_locked(vm);
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
		flush_locked(vm);
}

void vm_console_flush(struct vm *vm)
{
	spin_lock(&vm->console.lock);
	if (vm->console.len)
		flush_locked(vm);
	spin_unlock(&vm->console.lock);
}

void vm_console_putc(struct vm *vm, char c)
{
	spin_lock(&vm->console.lock);
	putc_locked(vm, c);
	spin_unlock(&vm->console.lock);
}

/* One lock for the whole write, so a vCPU's string stays together. */
void vm_console_write(struct vm *vm, const char *text, size_t len)
{
	spin_lock(&vm->console.lock);
	for (size_t i = 0; i < len; i++)
		putc_locked(vm, text[i]);
	spin_unlock(&vm->console.lock);
}
