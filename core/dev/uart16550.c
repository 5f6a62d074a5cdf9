#include "dev/uart16550.h"

#include "dev/ports.h"
#include "abi/devices.h"
#include "vm/console.h"

#define LCR_DLAB 0x80

/*
 * Register map: 0 THR/RBR (DLL with DLAB), 1 IER (DLM with DLAB), 2 IIR/FCR,
 * 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR.  Transmission is instant, so the line
 * status always says the transmitter is empty; nothing is ever received.
 */
uint8_t uart16550_read(struct vm *vm, struct uart16550 *uart, unsigned offset)
{
	(void)vm;
	switch (offset) {
	case 0:
		return (uart->lcr & LCR_DLAB) ? uart->dll : 0;
	case 1:
		return (uart->lcr & LCR_DLAB) ? uart->dlm : uart->ier;
	case 2:
		/* no interrupt pending; FIFOs enabled when FCR bit 0 was set */
		return (uart->fcr & 1) ? 0xC1 : 0x01;
	case 3:
		return uart->lcr;
	case 4:
		return uart->mcr;
	case 5:
		return UART_LSR_THRE | UART_LSR_TEMT;
	case 6:
		/* In loopback the modem outputs feed the inputs (16550 data sheet):
		 * RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 -> DCD.  Otherwise CTS,
		 * DSR and DCD are asserted. */
		if (uart->mcr & 0x10)
			return (uint8_t)(((uart->mcr & 0x2) << 3) | ((uart->mcr & 0x1) << 5) |
					 ((uart->mcr & 0xC) << 4));
		return 0xB0;
	default:
		return uart->scr;
	}
}

void uart16550_write(struct vm *vm, struct uart16550 *uart, unsigned offset, uint8_t value)
{
	switch (offset) {
	case 0:
		if (uart->lcr & LCR_DLAB)
			uart->dll = value;
		else if (!(uart->mcr & 0x10)) /* loopback sends nothing out */
			vm_console_putc(vm, (char)value);
		break;
	case 1:
		if (uart->lcr & LCR_DLAB)
			uart->dlm = value;
		else
			uart->ier = value & 0x0F;
		break;
	case 2:
		uart->fcr = value;
		break;
	case 3:
		uart->lcr = value;
		break;
	case 4:
		uart->mcr = value & 0x1F;
		break;
	case 7:
		uart->scr = value;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

/* The UART's registers are bytes; wider accesses touch consecutive ones. */
static uint32_t com1_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	uint32_t value = 0;
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)uart16550_read(vm, state, (port + i - PORT_COM1) & 7) << (8 * i);
	return value;
}

static void com1_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size; i++)
		uart16550_write(vm, state, (port + i - PORT_COM1) & 7, (uint8_t)(value >> (8 * i)));
}

static const struct port_ops com1_ops = { .read = com1_read, .write = com1_write };

bool uart16550_attach(struct vm *vm)
{
	struct uart16550 *uart = vm_device_state(vm, sizeof(*uart), "COM1");

	return uart && vm_register_ports(vm, "COM1", PORT_COM1, PORT_COM1 + 7, &com1_ops, uart);
}
