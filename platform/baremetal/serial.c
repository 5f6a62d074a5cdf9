/*
 * Polled 16550 UART driver for COM1.  Register offsets and bits: the
 * PC16550D data sheet (RBR/THR 0, IER 1, IIR/FCR 2, LCR 3, MCR 4, LSR 5;
 * DLL/DLM at 0/1 while LCR.DLAB is set).
 */
#include "serial.h"

#include "vmx/intrin.h"

#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define LCR_8N1  0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR_14 0xC7	/* FIFOs on, both cleared, 14-byte trigger */
#define MCR_DTR_RTS 0x03
#define LSR_THRE 0x20			/* transmit holding register empty */
#define LSR_TEMT 0x40			/* holding and shift register both empty */

/* 1.8432 MHz clock / 16 / 115200 baud = 1. */
#define BAUD_DIVISOR 1

/* A missing UART reads 0xFF (THRE set), but never spin forever anyway. */
#define TX_WAIT_LIMIT 100000

void serial_init(void)
{
	outb(SERIAL_COM1 + UART_IER, 0x00);
	outb(SERIAL_COM1 + UART_LCR, LCR_DLAB);
	outb(SERIAL_COM1 + UART_DLL, BAUD_DIVISOR & 0xFF);
	outb(SERIAL_COM1 + UART_DLM, BAUD_DIVISOR >> 8);
	outb(SERIAL_COM1 + UART_LCR, LCR_8N1);
	outb(SERIAL_COM1 + UART_FCR, FCR_ENABLE_CLEAR_14);
	outb(SERIAL_COM1 + UART_MCR, MCR_DTR_RTS);
}

void serial_putc(char c)
{
	for (unsigned i = 0; i < TX_WAIT_LIMIT; i++) {
		if (inb(SERIAL_COM1 + UART_LSR) & LSR_THRE)
			break;
		cpu_relax();
	}
	outb(SERIAL_COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			serial_putc('\r');
		serial_putc(text[i]);
	}
}

void serial_flush(void)
{
	for (unsigned i = 0; i < TX_WAIT_LIMIT; i++) {
		if (inb(SERIAL_COM1 + UART_LSR) & LSR_TEMT)
			break;
		cpu_relax();
	}
}
