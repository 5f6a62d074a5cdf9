#include "dev/uart16550.h"

#include "abi/devices.h"
#include "dev/device.h"
#include "dev/ports.h"
#include "irq/irq.h"
#include "vm/console.h"
#include "vm/vm.h"
#include "vmx/intrin.h"

/*
 * Register map (PC16550D data sheet, Table II "Summary of Registers"):
 * 0 RBR/THR (DLL with DLAB), 1 IER (DLM with DLAB), 2 IIR/FCR, 3 LCR,
 * 4 MCR, 5 LSR, 6 MSR, 7 SCR.
 *
 * Not emulated: a host input path (nothing is received outside
 * loopback); parity, framing and break conditions (a transmitted break is
 * not looped back, and loopback has no line noise, so LSR PE, FE, BI and
 * the FIFO error bit stay 0); the DMA-mode pins (FCR bit 3 is kept but
 * drives nothing: a PC wires no DMA to COM1); the transmitter's timing
 * (THR and the shift register empty at once).
 */

#define REG_DATA 0 /* RBR, THR; DLL with DLAB */
#define REG_IER  1 /* DLM with DLAB */
#define REG_IIR  2 /* FCR when written */
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_MSR  6
#define REG_SCR  7

/* IER, 8.5: bits 7:4 are always 0. */
#define IER_ERBFI 0x01 /* received data available (and character timeout) */
#define IER_ETBEI 0x02 /* transmitter holding register empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_BITS  0x0F

/* IIR, 8.4 and Table IV: bit 0 = 0 when an interrupt is pending, bits 3:1
 * its source, bits 7:6 set when the FIFOs are enabled. */
#define IIR_NONE          0x01
#define IIR_LINE_STATUS   0x06
#define IIR_RECEIVED_DATA 0x04
#define IIR_CHAR_TIMEOUT  0x0C
#define IIR_THRE          0x02
#define IIR_MODEM_STATUS  0x00
#define IIR_FIFOS_ENABLED 0xC0

/* FCR, 8.3. */
#define FCR_ENABLE   0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04
#define FCR_DMA_MODE 0x08
#define FCR_TRIGGER  0xC0
#define FCR_KEPT     (FCR_ENABLE | FCR_DMA_MODE | FCR_TRIGGER)

/* LCR, 8.1. */
#define LCR_WORD_LENGTH 0x03 /* 5 + n bits */
#define LCR_STOP_BITS   0x04 /* 1.5 (5-bit words) or 2 stop bits */
#define LCR_PARITY      0x08
#define LCR_DLAB        0x80

/* MCR, 8.7: bits 7:5 are always 0. */
#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_BITS 0x1F

/* LSR, 8.2 (THRE and TEMT are in abi/devices.h). */
#define LSR_DR 0x01
#define LSR_OE 0x02

/* MSR, 8.8. */
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0F
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80

/* The crystal a PC's UART runs from: 1.8432 MHz, 16 clocks per bit at
 * divisor 1 (8.10 "Baud Rate Generator"). */
#define UART_CLOCK_HZ 1843200u

static bool fifos_enabled(const struct uart16550 *u)
{
	return u->fcr & FCR_ENABLE;
}

/* The RCVR FIFO interrupt trigger level (FCR bits 7:6): 1, 4, 8, 14 bytes. */
static unsigned rx_trigger_level(const struct uart16550 *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };
	return levels[u->fcr >> 6];
}

/* Received data available: in 16450 mode any character (LSR DR); in FIFO
 * mode the FIFO at or above its trigger level (8.4, FIFO interrupt mode). */
static bool received_data_available(const struct uart16550 *u)
{
	return fifos_enabled(u) ? u->rx_count >= rx_trigger_level(u) : u->rx_count > 0;
}

/* The highest-priority enabled source, as IIR reports it (Table IV):
 * receiver line status, received data available, character timeout,
 * THR empty, modem status. */
static uint8_t interrupt_id(const struct uart16550 *u)
{
	if ((u->ier & IER_ELSI) && u->overrun)
		return IIR_LINE_STATUS;
	if ((u->ier & IER_ERBFI) && received_data_available(u))
		return IIR_RECEIVED_DATA;
	if ((u->ier & IER_ERBFI) && u->timeout_pending)
		return IIR_CHAR_TIMEOUT;
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
		return IIR_MODEM_STATUS;
	return IIR_NONE;
}

/* The INTRPT pin reaches ISA IRQ 4 through the PC's gate, which -OUT2
 * opens (MCR bit 3).  In loopback the -OUT2 pin is held inactive (MCR
 * bit 4: "the MODEM Control output pins are forced to their inactive
 * state"), so the gate stays shut while the UART's interrupts still show
 * in IIR.  The line is a level. */
static void update_irq(struct vm *vm, struct uart16550 *u)
{
	bool level = interrupt_id(u) != IIR_NONE && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);

	if (level != u->irq_level) {
		u->irq_level = level;
		vm_set_irq(vm, UART_COM1_IRQ, level);
	}
}

/* Four character times (the character timeout, 8.4) in UART clocks:
 * start bit, 5-8 data bits, parity, 1, 1.5 or 2 stop bits, each 16
 * clocks per divisor step.  A divisor of 0, which the data sheet leaves
 * undefined, counts as 65536 (the 16-bit divisor counter wraps). */
static uint64_t four_character_clocks(const struct uart16550 *u)
{
	unsigned data_bits = 5u + (u->lcr & LCR_WORD_LENGTH);
	unsigned half_bits = 2u * (1u + data_bits + ((u->lcr & LCR_PARITY) ? 1u : 0u));
	uint64_t divisor = (uint64_t)u->dlm << 8 | u->dll;

	if (!(u->lcr & LCR_STOP_BITS))
		half_bits += 2;
	else
		half_bits += data_bits == 5 ? 3 : 4;
	if (!divisor)
		divisor = 0x10000;
	return 4u * 16u * divisor * half_bits / 2u;
}

/* The timeout counter restarts whenever a character enters or leaves the
 * RCVR FIFO; it runs only in FIFO mode while the FIFO holds a character. */
static void restart_rx_timeout(struct vm *vm, struct uart16550 *u)
{
	if (!u->rx_timeout)
		return;
	if (!fifos_enabled(u) || !u->rx_count) {
		device_timer_arm(vm, u->rx_timeout, 0);
		return;
	}
	uint64_t wait = device_clock_to_tsc(four_character_clocks(u), UART_CLOCK_HZ, vm->devices.tsc_hz);
	device_timer_arm(vm, u->rx_timeout, rdtsc() + (wait ? wait : 1));
}

/* "A FIFO timeout interrupt will occur if ... at least one character is in
 * the FIFO, the most recent serial character received was longer than 4
 * continuous character times ago, the most recent CPU read of the FIFO was
 * longer than 4 continuous character times ago" (8.4). */
static void rx_timeout_fire(struct vm *vm, void *state, uint64_t now)
{
	struct uart16550 *u = state;
	(void)now;

	if (fifos_enabled(u) && u->rx_count) {
		u->timeout_pending = true;
		update_irq(vm, u);
	}
}

static void clear_rx_fifo(struct vm *vm, struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->timeout_pending = false;
	restart_rx_timeout(vm, u);
}

/*
 * A character arrives (loopback only).  In 16450 mode a character not yet
 * read is overwritten and OE set (8.2, bit 1); in FIFO mode a full FIFO
 * keeps its contents, the new character is lost and OE is set.  The
 * receiver assembles only the word length's bits.
 */
static void receive_character(struct vm *vm, struct uart16550 *u, uint8_t ch)
{
	unsigned capacity = fifos_enabled(u) ? UART_FIFO_BYTES : 1u;

	ch &= (uint8_t)(0xFFu >> (3u - (u->lcr & LCR_WORD_LENGTH)));
	if (u->rx_count == capacity) {
		u->overrun = true;
		if (!fifos_enabled(u))
			u->rx_fifo[u->rx_head] = ch;
	} else {
		u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_BYTES] = ch;
		u->rx_count++;
	}
	restart_rx_timeout(vm, u);
}

/* RBR: the oldest character; reading it clears DR when none is left and
 * the character timeout indication.  With nothing received it keeps the
 * last character. */
static uint8_t read_rbr(struct vm *vm, struct uart16550 *u)
{
	if (u->rx_count) {
		u->rbr = u->rx_fifo[u->rx_head];
		u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_BYTES);
		u->rx_count--;
		u->timeout_pending = false;
		restart_rx_timeout(vm, u);
	}
	return u->rbr;
}

/* THR: sent at once, so THR is empty again and the THRE source (reset by
 * the write, set when THR empties: Table IV) is set.  In loopback the
 * byte goes into the receiver and not out (MCR bit 4, SOUT held marking). */
static void write_thr(struct vm *vm, struct uart16550 *u, uint8_t value)
{
	if (u->mcr & MCR_LOOP)
		receive_character(vm, u, value);
	else
		vm_console_putc(vm, (char)value);
	u->thre_pending = true;
}

/* The modem inputs MSR[7:4] shows: outside loopback a partner that is
 * there (CTS, DSR, DCD asserted, no ring); in loopback the outputs wired
 * back, RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 -> DCD (MCR bit 4). */
static uint8_t modem_inputs(const struct uart16550 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	return (uint8_t)(((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
			 ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
}

/* MSR bits 3:0 (8.8): DCTS, DDSR, DDCD on any change of their input, TERI
 * when RI goes from on to off; they stay until MSR is read. */
static void update_modem_inputs(struct uart16550 *u)
{
	uint8_t was = u->msr & 0xF0, now = modem_inputs(u), changed = was ^ now;
	uint8_t deltas = 0;

	if (changed & MSR_CTS)
		deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		deltas |= MSR_DDSR;
	if ((was & MSR_RI) && !(now & MSR_RI))
		deltas |= MSR_TERI;
	if (changed & MSR_DCD)
		deltas |= MSR_DDCD;
	u->msr = (uint8_t)(now | (u->msr & MSR_DELTAS) | deltas);
}

/* FCR (8.3): bit 0 enables both FIFOs, and a change of it empties them;
 * the other bits are programmed only together with bit 0 = 1; bits 1 and
 * 2 reset the RCVR and XMIT FIFOs and clear themselves. */
static void write_fcr(struct vm *vm, struct uart16550 *u, uint8_t value)
{
	bool mode_change = (value ^ u->fcr) & FCR_ENABLE;

	if (!(value & FCR_ENABLE)) {
		u->fcr &= (uint8_t)~FCR_ENABLE;
	} else {
		u->fcr = value & FCR_KEPT;
		/* FCR_TX_RESET: the XMIT FIFO is always empty. */
	}
	if (mode_change || (value & (FCR_ENABLE | FCR_RX_RESET)) == (FCR_ENABLE | FCR_RX_RESET))
		clear_rx_fifo(vm, u);
}

static uint8_t read_register(struct vm *vm, struct uart16550 *u, unsigned offset)
{
	uint8_t id, value;

	switch (offset) {
	case REG_DATA:
		return (u->lcr & LCR_DLAB) ? u->dll : read_rbr(vm, u);
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR:
		/* Reading IIR resets the THRE source when it is the one reported. */
		id = interrupt_id(u);
		if (id == IIR_THRE)
			u->thre_pending = false;
		return (uint8_t)(id | (fifos_enabled(u) ? IIR_FIFOS_ENABLED : 0));
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		/* Reading LSR resets OE (and so the line status source). */
		value = (uint8_t)(UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? LSR_DR : 0) |
				  (u->overrun ? LSR_OE : 0));
		u->overrun = false;
		return value;
	case REG_MSR:
		/* Reading MSR resets the delta bits (and so the modem status source). */
		value = u->msr;
		u->msr &= (uint8_t)~MSR_DELTAS;
		return value;
	default:
		return u->scr;
	}
}

static void write_register(struct vm *vm, struct uart16550 *u, unsigned offset, uint8_t value)
{
	switch (offset) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			u->dll = value;
		else
			write_thr(vm, u, value);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = value;
			break;
		}
		/* Enabling ETBEI while THR is empty raises the THRE source, as a
		 * 16550 does (Linux's 8250 driver checks this at startup). */
		if ((value & IER_ETBEI) && !(u->ier & IER_ETBEI))
			u->thre_pending = true;
		u->ier = value & IER_BITS;
		break;
	case REG_IIR:
		write_fcr(vm, u, value);
		break;
	case REG_LCR:
		u->lcr = value;
		break;
	case REG_MCR:
		u->mcr = value & MCR_BITS;
		update_modem_inputs(u);
		break;
	case REG_SCR:
		u->scr = value;
		break;
	default: /* LSR and MSR: "not recommended" to write; ignored */
		break;
	}
}

uint8_t uart16550_read(struct vm *vm, struct uart16550 *uart, unsigned offset)
{
	uint8_t value = read_register(vm, uart, offset & 7u);
	update_irq(vm, uart);
	return value;
}

void uart16550_write(struct vm *vm, struct uart16550 *uart, unsigned offset, uint8_t value)
{
	write_register(vm, uart, offset & 7u, value);
	update_irq(vm, uart);
}

/* The UART's registers are bytes; a wider access is the ISA bus's byte
 * cycles on consecutive ports, and a byte past 0x3FF reaches nothing
 * (all ones, writes dropped). */
static uint32_t com1_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	uint32_t value = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned offset = (unsigned)(port - PORT_COM1) + i;
		uint32_t byte = offset < 8 ? uart16550_read(vm, state, offset) : 0xFF;
		value |= byte << (8 * i);
	}
	return value;
}

static void com1_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned offset = (unsigned)(port - PORT_COM1) + i;
		if (offset < 8)
			uart16550_write(vm, state, offset, (uint8_t)(value >> (8 * i)));
	}
}

static const struct port_ops com1_ops = { .read = com1_read, .write = com1_write };

/* Master reset (Table III "UART Reset Configuration"): IER, FCR, LCR, MCR
 * 0; IIR 01h; LSR 60h; MSR bits 3:0 0, bits 7:4 the inputs; both FIFOs
 * empty; INTRPT low.  RBR, the divisor latch and SCR keep their contents. */
static void uart_reset(struct vm *vm, void *state)
{
	struct uart16550 *u = state;

	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->overrun = false;
	u->thre_pending = false;
	u->msr = modem_inputs(u);
	clear_rx_fifo(vm, u);
	update_irq(vm, u);
}

bool uart16550_attach(struct vm *vm)
{
	struct uart16550 *uart = vm_device_state(vm, sizeof(*uart), "COM1");

	if (!uart)
		return false;
	uart_reset(vm, uart);
	uart->rx_timeout = vm_add_device_timer(vm, "COM1 character timeout", rx_timeout_fire, uart);
	return uart->rx_timeout && vm_register_ports(vm, "COM1", PORT_COM1, PORT_COM1 + 7, &com1_ops, uart) &&
	       vm_add_device_reset(vm, "COM1", uart_reset, uart);
}
