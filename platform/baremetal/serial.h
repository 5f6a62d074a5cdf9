/* 16550 UART on COM1 (I/O port 0x3F8): 115200 baud, 8N1, polled, no IRQs. */
#ifndef CVISOR_BAREMETAL_SERIAL_H
#define CVISOR_BAREMETAL_SERIAL_H

#include <stddef.h>

#define SERIAL_COM1 0x3F8

void serial_init(void);
void serial_putc(char c);
/* Writes len bytes, "\n" as "\r\n".  No locking: see plat_console_write. */
void serial_write(const char *text, size_t len);
/* Waits until the last byte has left the UART (before powering off: Bochs
 * drops bytes still in the transmitter when it stops). */
void serial_flush(void);

#endif
