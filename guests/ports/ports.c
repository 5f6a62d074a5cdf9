/*
 * Port I/O through every instruction form (SDM Vol. 2A IN, Vol. 2B OUT,
 * OUTS, INS): each form prints its own text, so the system test can see
 * that every form reached the device.  Then the guest ends through the
 * QEMU isa-debug-exit port with value 0 (success; any failed check ends
 * it with a non-zero value instead).
 *
 *   OUT DX, AL / OUT imm8, AL / OUT DX, AX / OUT DX, EAX  to 0xE9
 *   OUT DX, AL to the 16550 UART at 0x3F8 after its usual initialisation
 *   IN AL/AX/EAX, DX from a port with no device (all ones)
 *   REP OUTSB to 0xE9 and to 0x3F8, OUTSB without REP, REP INSB from 0x3FD
 */
#include "abi/devices.h"
#include "guest.h"
#include "lib/mem.h"
#include "probe.h"

#define NO_DEVICE_PORT 0x2F0 /* nothing is emulated there */

/* 16550 registers (offsets from the base port) and values. */
#define UART_THR 0 /* DLL with DLAB */
#define UART_IER 1 /* DLM with DLAB */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define FCR_ENABLE_CLEAR_14 0xC7 /* FIFOs on, both cleared, 14-byte trigger */
#define MCR_DTR_RTS_OUT2 0x0B

static void e9_out_dx_al(const char *s)
{
	for (; *s; s++)
		guest_outb(PORT_DEBUGCON, (uint8_t)*s);
}

static void e9_out_imm8_al(const char *s)
{
	for (; *s; s++)
		guest_outb_imm(PORT_DEBUGCON, *s);
}

/* OUT DX, AX sends the low byte first: strings of even length only. */
static void e9_out_dx_ax(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		guest_outw(PORT_DEBUGCON, (uint16_t)((uint8_t)s[i] | (uint8_t)s[i + 1] << 8));
}

/* OUT DX, EAX sends four bytes, low byte first: lengths that are multiples of 4. */
static void e9_out_dx_eax(const char *s, size_t len)
{
	for (size_t i = 0; i + 3 < len; i += 4)
		guest_outl(PORT_DEBUGCON, (uint32_t)(uint8_t)s[i] | (uint32_t)(uint8_t)s[i + 1] << 8 |
						  (uint32_t)(uint8_t)s[i + 2] << 16 |
						  (uint32_t)(uint8_t)s[i + 3] << 24);
}

static void uart_init(void)
{
	guest_outb(PORT_COM1 + UART_IER, 0x00);      /* no interrupts */
	guest_outb(PORT_COM1 + UART_LCR, LCR_DLAB);  /* divisor latch access */
	guest_outb(PORT_COM1 + UART_THR, 0x01);      /* DLL: 115200 baud */
	guest_outb(PORT_COM1 + UART_IER, 0x00);      /* DLM */
	guest_outb(PORT_COM1 + UART_LCR, LCR_8N1);   /* 8N1, DLAB off */
	guest_outb(PORT_COM1 + UART_FCR, FCR_ENABLE_CLEAR_14);
	guest_outb(PORT_COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
}

static void uart_wait_empty(void)
{
	/* A real 16550 needs this; cvisor's transmits at once. */
	for (unsigned n = 0; n < 1000000; n++)
		if ((guest_inb(PORT_COM1 + UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT)) ==
		    (UART_LSR_THRE | UART_LSR_TEMT))
			return;
}

static void uart_out_dx_al(const char *s)
{
	for (; *s; s++) {
		while (!(guest_inb(PORT_COM1 + UART_LSR) & UART_LSR_THRE))
			;
		guest_outb(PORT_COM1 + UART_THR, (uint8_t)*s);
	}
}

static void check_in_forms(void)
{
	check(guest_inb_into(NO_DEVICE_PORT, 0x12345600u) == 0x123456FFu,
	      "IN AL, DX from a port with no device reads 0xff and keeps EAX[31:8]");
	check(guest_inw_into(NO_DEVICE_PORT, 0x12340000u) == 0x1234FFFFu,
	      "IN AX, DX from a port with no device reads 0xffff and keeps EAX[31:16]");
	check(guest_inl(NO_DEVICE_PORT) == 0xFFFFFFFFu,
	      "IN EAX, DX from a port with no device reads 0xffffffff");
}

static void check_uart_registers(void)
{
	guest_outb(PORT_COM1 + UART_LCR, LCR_DLAB | LCR_8N1);
	bool divisor = guest_inb(PORT_COM1 + UART_THR) == 0x01 &&
		       guest_inb(PORT_COM1 + UART_IER) == 0x00;
	guest_outb(PORT_COM1 + UART_LCR, LCR_8N1);
	check(divisor, "UART divisor latch reads back 1 (DLL) and 0 (DLM)");
	check(guest_inb(PORT_COM1 + UART_LCR) == LCR_8N1 &&
		      guest_inb(PORT_COM1 + UART_MCR) == MCR_DTR_RTS_OUT2,
	      "UART LCR and MCR read back what was written");
}

static void string_forms(void)
{
	static const char rep_e9[] = "E9 rep outsb: a whole line in one instruction\n";
	static const char rep_uart[] = "UART rep outsb\n"; /* fits the 16-byte FIFO */
	static const char single[] = "E9 outsb without rep, one byte each\n";
	struct guest_string_io r;

	r = guest_rep_outsb(PORT_DEBUGCON, rep_e9, sizeof(rep_e9) - 1);
	check(r.esi_or_edi == (uintptr_t)rep_e9 + sizeof(rep_e9) - 1 && r.ecx == 0,
	      "REP OUTSB to port 0xe9: ESI advanced by the length, ECX counted down to 0");

	uart_wait_empty();
	r = guest_rep_outsb(PORT_COM1, rep_uart, sizeof(rep_uart) - 1);
	check(r.esi_or_edi == (uintptr_t)rep_uart + sizeof(rep_uart) - 1 && r.ecx == 0,
	      "REP OUTSB to port 0x3f8: ESI advanced by the length, ECX counted down to 0");

	bool moved = true;
	for (size_t i = 0; i < sizeof(single) - 1; i++) {
		r = guest_outsb(PORT_DEBUGCON, single + i, 0x77);
		if (r.esi_or_edi != (uintptr_t)single + i + 1 || r.ecx != 0x77)
			moved = false;
	}
	check(moved, "OUTSB without REP: ESI advances by 1, ECX is untouched");

	/* REP INSB from the line status register: THRE|TEMT in every byte,
	 * nothing written before or after the buffer. */
	static uint8_t area[64];
	const uint32_t at = 8, n = 40;
	memset(area, 0xCC, sizeof(area));
	r = guest_rep_insb(PORT_COM1 + UART_LSR, area + at, n);
	bool filled = r.esi_or_edi == (uintptr_t)(area + at + n) && r.ecx == 0;
	for (uint32_t i = 0; i < sizeof(area); i++)
		if (area[i] != ((i >= at && i < at + n) ? (UART_LSR_THRE | UART_LSR_TEMT) : 0xCC))
			filled = false;
	check(filled, "REP INSB from port 0x3fd fills the buffer with 0x60, EDI advanced, ECX 0");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	static const char text_ax[] = "E9 out dx,ax: two bytes per OUT\n";
	static const char text_eax[] = "E9 out dx,eax: four bytes at a time\n";
	_Static_assert((sizeof(text_ax) - 1) % 2 == 0, "OUT DX, AX sends 2 bytes at a time");
	_Static_assert((sizeof(text_eax) - 1) % 4 == 0, "OUT DX, EAX sends 4 bytes at a time");
	(void)magic;
	(void)info;

	traps_init(); /* an unexpected fault is reported, not a triple fault */
	say("ports: every port I/O instruction form");
	e9_out_dx_al("E9 out dx,al: one byte per OUT\n");
	e9_out_imm8_al("E9 out imm8,al: port in the instruction\n");
	e9_out_dx_ax(text_ax, sizeof(text_ax) - 1);
	e9_out_dx_eax(text_eax, sizeof(text_eax) - 1);
	uart_init();
	uart_out_dx_al("UART out dx,al after the 16550 init (DLAB, divisor, LCR, FCR, MCR)\n");
	check_uart_registers();
	check_in_forms();
	string_forms();

	unsigned failed = failures();
	say("ports: done, %u failure(s); writing %u to the debug-exit port", failed,
	    failed ? 1 : 0);
	guest_outb(PORT_DEBUG_EXIT, failed ? 1 : 0);
	say("FAIL: still running after writing the debug-exit port");
	return 1;
}
