/* A 16550 UART as polled guest drivers use it (NS16550A data sheet). */
#ifndef CVISOR_DEV_UART16550_H
#define CVISOR_DEV_UART16550_H

#include <stdbool.h>
#include <stdint.h>

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
};

struct vm;
/* offset 0..7 from the base port; one byte per access */
uint8_t uart16550_read(struct vm *vm, struct uart16550 *uart, unsigned offset);
void uart16550_write(struct vm *vm, struct uart16550 *uart, unsigned offset, uint8_t value);

/* Registers COM1 (ports 0x3F8-0x3FF) with its own state. */
bool uart16550_attach(struct vm *vm);

#endif
