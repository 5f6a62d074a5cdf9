/*
 * COM1, a 16550A UART (National Semiconductor / TI PC16550D data sheet) at
 * ports 0x3F8-0x3FF on ISA IRQ 4.  Transmitted bytes go to the VM's
 * console at once, so the transmitter is always empty; nothing comes in
 * from the host.  In loopback mode (MCR bit 4) transmitted bytes come back
 * into the receiver instead.  The register model and its interrupts are
 * complete; see uart16550.c for what is not emulated.
 */
#ifndef CVISOR_DEV_UART16550_H
#define CVISOR_DEV_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#define UART_COM1_IRQ 4
#define UART_FIFO_BYTES 16

struct device_timer;

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t fcr;          /* FIFO enable, DMA mode and trigger bits as programmed */
	uint8_t msr;          /* MSR: the modem inputs (7:4) and their delta bits (3:0) */
	uint8_t rbr;          /* the last character moved out of the receiver */
	uint8_t rx_fifo[UART_FIFO_BYTES]; /* in 16450 mode only rx_fifo[rx_head] is used */
	uint8_t rx_head, rx_count;
	bool overrun;         /* LSR OE */
	bool thre_pending;    /* the THRE interrupt source */
	bool timeout_pending; /* the character timeout indication (FIFO mode) */
	bool irq_level;       /* what IRQ 4 was last set to */
	struct device_timer *rx_timeout;
};

struct vm;
/* offset 0..7 from the base port; one byte per access */
uint8_t uart16550_read(struct vm *vm, struct uart16550 *uart, unsigned offset);
void uart16550_write(struct vm *vm, struct uart16550 *uart, unsigned offset, uint8_t value);

/* Registers COM1 (ports 0x3F8-0x3FF) with its own state, its character
 * timeout timer and its reset. */
bool uart16550_attach(struct vm *vm);

#endif
