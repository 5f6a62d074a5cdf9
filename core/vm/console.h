/* A VM's console: bytes from its UART, debug port or print hypercall,
 * gathered into lines and printed with the VM's name in front. */
#ifndef CVISOR_VM_CONSOLE_H
#define CVISOR_VM_CONSOLE_H

#include <stddef.h>

#include "lib/spinlock.h"

#define VM_CONSOLE_LINE_MAX 160

struct vm_console {
	/* lock protects line and len: the VM's vCPUs print from several CPUs. */
	spinlock_t lock;
	char line[VM_CONSOLE_LINE_MAX];
	size_t len;
};

struct vm;
void vm_console_putc(struct vm *vm, char c);
void vm_console_write(struct vm *vm, const char *text, size_t len);
/* Prints a partial line, if any (at VM end). */
void vm_console_flush(struct vm *vm);

#endif
