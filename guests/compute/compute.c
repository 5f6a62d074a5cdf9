/*
 * Fixed compute workload for the overhead benchmark (make bench): a sieve of
 * Eratosthenes over 1,000,000 numbers, run SIEVE_ROUNDS (12) times, no I/O and no
 * hypercalls while it computes.  It measures its own RDTSC delta (in Bochs:
 * the number of emulated instructions, host ones included under cvisor) and
 * prints it on port 0xE9 and on COM1 (polled), so it runs both under cvisor
 * and directly on Bochs (GRUB "multiboot"):
 *
 *   compute: primes=78498 tsc=<delta> end
 *
 * With "exit-stats" on its command line (under cvisor) it asks cvisor for
 * its exit statistics before and after the workload.
 *
 * It ends with the QEMU debug-exit port (0xF4, value 0: success under
 * cvisor), then "Shutdown" on port 0x8900 (powers bare Bochs off).
 */
#include "guest.h"

#include "abi/devices.h"
#include "abi/hypercall.h"

#define SIEVE_N      1000000u
#define SIEVE_ROUNDS 12u

static uint8_t composite[SIEVE_N + 1];

static unsigned sieve(void)
{
	unsigned count = 0;

	for (uint32_t i = 0; i <= SIEVE_N; i++)
		composite[i] = 0;
	for (uint32_t i = 2; i * i <= SIEVE_N; i++)
		if (!composite[i])
			for (uint32_t j = i * i; j <= SIEVE_N; j += i)
				composite[j] = 1;
	for (uint32_t i = 2; i <= SIEVE_N; i++)
		count += !composite[i];
	return count;
}

static void com1_init(void)
{
	guest_outb(PORT_COM1 + 1, 0x00); /* no interrupts */
	guest_outb(PORT_COM1 + 3, 0x80); /* DLAB */
	guest_outb(PORT_COM1 + 0, 0x01); /* 115200 baud */
	guest_outb(PORT_COM1 + 1, 0x00);
	guest_outb(PORT_COM1 + 3, 0x03); /* 8N1 */
	guest_outb(PORT_COM1 + 2, 0xC7); /* FIFO */
}

/* The result line, built once and then sent whole to each output (under
 * cvisor both outputs reach the same VM console: no interleaving). */
static char line[96];
static unsigned line_len;

static void add_str(const char *s)
{
	while (*s && line_len < sizeof(line) - 1)
		line[line_len++] = *s++;
}

static void add_u64(uint64_t v)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && line_len < sizeof(line) - 1)
		line[line_len++] = buf[--n];
}

static void send_line(void)
{
	for (unsigned i = 0; i < line_len; i++)
		guest_outb(PORT_DEBUGCON, (uint8_t)line[i]);
	com1_init();
	for (unsigned i = 0; i < line_len; i++) {
		for (unsigned spin = 0; spin < 100000u; spin++)
			if (guest_inb(PORT_COM1 + UART_LSR_OFFSET) & UART_LSR_THRE)
				break;
		guest_outb(PORT_COM1, (uint8_t)line[i]);
	}
	/* Bare Bochs powers off at the Shutdown write: wait until the UART has
	 * sent its last byte (LSR.TEMT), or the line loses its tail. */
	for (unsigned spin = 0; spin < 1000000u; spin++)
		if (guest_inb(PORT_COM1 + UART_LSR_OFFSET) & UART_LSR_TEMT)
			break;
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	unsigned primes = 0;
	/* Under cvisor only (bare Bochs has no VMCALL): cvisor prints its exit
	 * statistics at main() and after the workload, from which tools/bench
	 * takes the exits before main() and during the computation. */
	bool exit_stats = (info->flags & 4) && cmdline_has_word((const char *)info->cmdline, "exit-stats");

	if (exit_stats)
		guest_vmcall(HC_EXIT_STATS, 0, 0, 0, 0);
	uint64_t t0 = guest_rdtsc();
	for (unsigned r = 0; r < SIEVE_ROUNDS; r++)
		primes = sieve();
	uint64_t t1 = guest_rdtsc();
	if (exit_stats)
		guest_vmcall(HC_EXIT_STATS, 0, 0, 0, 0);

	add_str("compute: primes=");
	add_u64(primes);
	add_str(" tsc=");
	add_u64(t1 - t0);
	add_str(" end\n"); /* tools/bench takes only a whole line */
	send_line();

	guest_outb(PORT_DEBUG_EXIT, primes == 78498 ? 0 : 1);
	for (const char *s = "Shutdown"; *s; s++)
		guest_outb(PORT_SHUTDOWN, (uint8_t)*s);
	for (;;)
		guest_hlt();
}
