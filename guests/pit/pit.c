/*
 * The 8254 PIT (ports 0x40-0x43) and port 0x61 from the inside, with
 * interrupts off (Intel 8254 data sheet; the PC's port 0x61): counter 2's
 * gate and OUT through port 0x61 and a TSC calibration against it, as
 * Linux and firmware do; each mode counting down and reading back
 * coherently through the latch command and the read-back command; the
 * LSB-only and MSB-only formats; BCD; the refresh toggle.
 *
 * Every VM exit costs many CLK ticks in Bochs, so the checks compare
 * values against bounds, never against exact ticks.
 */
#include "guest.h"

#define PIT_COUNTER(n) ((uint16_t)(0x40 + (n)))
#define PIT_CONTROL 0x43
#define PORT_B 0x61
#define PORT_B_GATE2 0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_REFRESH 0x10
#define PORT_B_OUT2 0x20
#define PIT_HZ 1193182u

#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD 3
#define STATUS_OUT 0x80
#define STATUS_NULL_COUNT 0x40

#define MAX_POLLS 2000000u

static uint8_t control_word(unsigned counter, unsigned rw, unsigned mode, bool bcd)
{
	return (uint8_t)(counter << 6 | rw << 4 | mode << 1 | (bcd ? 1 : 0));
}

/* A control word and a two-byte count. */
static void pit_program(unsigned counter, unsigned mode, bool bcd, uint16_t count)
{
	guest_outb(PIT_CONTROL, control_word(counter, RW_WORD, mode, bcd));
	guest_outb(PIT_COUNTER(counter), (uint8_t)count);
	guest_outb(PIT_COUNTER(counter), (uint8_t)(count >> 8));
}

static uint16_t read_word(unsigned counter)
{
	uint8_t lsb = guest_inb(PIT_COUNTER(counter));
	return (uint16_t)(lsb | guest_inb(PIT_COUNTER(counter)) << 8);
}

/* The counter latch command, then the latched count. */
static uint16_t pit_latch(unsigned counter)
{
	guest_outb(PIT_CONTROL, control_word(counter, 0, 0, false));
	return read_word(counter);
}

/* The read-back command latching the status of one counter. */
static uint8_t pit_status(unsigned counter)
{
	guest_outb(PIT_CONTROL, (uint8_t)(0xE0 | 2u << counter));
	return guest_inb(PIT_COUNTER(counter));
}

static void set_port_b(uint8_t bits)
{
	guest_outb(PORT_B, bits);
}

/* Polls port 0x61 until OUT2 is high; false when it never is. */
static bool wait_for_out2(void)
{
	for (unsigned i = 0; i < MAX_POLLS; i++)
		if (guest_inb(PORT_B) & PORT_B_OUT2)
			return true;
	return false;
}

/* Counter 2 in mode 0 with count n, gated on: the TSC ticks until OUT2
 * rises n+1 CLKs later (Linux's pit_calibrate_tsc); 0 when it never does. */
static uint64_t tsc_for_pit_count(uint16_t n)
{
	set_port_b(0);
	pit_program(2, 0, false, n);
	uint64_t start = guest_rdtsc();
	set_port_b(PORT_B_GATE2);
	if (!wait_for_out2())
		return 0;
	uint64_t ticks = guest_rdtsc() - start;
	set_port_b(0);
	return ticks;
}

/* TSC ticks per 1000 PIT CLKs, from the calibration. */
static uint64_t tsc_per_1000_clk;

static void spin_clk(uint32_t clks)
{
	uint64_t until = guest_rdtsc() + tsc_per_1000_clk * clks / 1000;
	while (guest_rdtsc() < until)
		;
}

static void check_calibration(void)
{
	const uint16_t short_run = 20000, long_run = 60000; /* 16.8 ms and 50.3 ms */
	uint64_t a = tsc_for_pit_count(short_run);
	uint64_t b = tsc_for_pit_count(long_run);

	check(a && b, "calibration: OUT2 rose at terminal count in both runs");
	if (!a || !b)
		return;
	/* Rates in TSC ticks per 1000 CLKs (n+1 CLKs per run). */
	uint64_t rate_a = a * 1000 / (short_run + 1u), rate_b = b * 1000 / (long_run + 1u);
	uint64_t diff = rate_a > rate_b ? rate_a - rate_b : rate_b - rate_a;
	say("calibration: %llu and %llu TSC ticks for %u and %u CLKs: a %llu kHz TSC",
	    (unsigned long long)a, (unsigned long long)b, short_run + 1u, long_run + 1u,
	    (unsigned long long)(b * PIT_HZ / (long_run + 1u) / 1000));
	check(diff * 100 <= rate_b, "calibration: the two runs agree on the TSC rate within 1%");
	tsc_per_1000_clk = rate_b;
}

static void check_counter2_gate(void)
{
	set_port_b(0);
	pit_program(2, 0, false, 3000);
	uint16_t held = pit_latch(2);
	spin_clk(2000);
	check(held == 3000 && pit_latch(2) == 3000 && !(guest_inb(PORT_B) & PORT_B_OUT2),
	      "counter 2, mode 0: with GATE2 low (port 0x61 bit 0) the count is loaded and holds");
	/* No output until OUT2 rose: a line printed takes thousands of CLKs
	 * in Bochs. */
	set_port_b(PORT_B_GATE2);
	uint16_t counting = pit_latch(2);
	bool low = !(guest_inb(PORT_B) & PORT_B_OUT2);
	bool rose = wait_for_out2();
	uint16_t after = pit_latch(2);
	check(counting < 3000 && low, "counter 2, mode 0: GATE2 high: it counts down, OUT2 low");
	check(rose && after > 0xF000,
	      "counter 2, mode 0: OUT2 (port 0x61 bit 5) rises at terminal count, the count wraps to FFFF");
	spin_clk(500);
	check(guest_inb(PORT_B) & PORT_B_OUT2, "counter 2, mode 0: OUT2 stays high after terminal count");
	/* GATE low stops the count again. */
	set_port_b(0);
	uint16_t stopped = pit_latch(2);
	spin_clk(1000);
	check(pit_latch(2) == stopped, "counter 2, mode 0: GATE2 low stops the count");
}

/* Two latched counts, the second below the first by less than a quarter
 * of the count (no reload in between); a few tries, for a reload that
 * falls between two reads. */
static bool counts_down(unsigned counter, uint16_t count, uint16_t *first)
{
	for (unsigned tries = 0; tries < 3; tries++) {
		uint16_t a = pit_latch(counter), b = pit_latch(counter);
		if (b < a && (unsigned)(a - b) < count / 4u && a <= count) {
			*first = a;
			return true;
		}
	}
	return false;
}

static void check_mode(unsigned counter, unsigned mode, uint16_t count, const char *what)
{
	uint16_t a = 0;

	pit_program(counter, mode, false, count);
	uint8_t status = pit_status(counter);
	bool ok = (status & 0x3F) == (0x30 | mode << 1) && !(status & STATUS_NULL_COUNT);
	bool down = counts_down(counter, count, &a);
	switch (mode) {
	case 0:
		ok = ok && !(status & STATUS_OUT);
		break;
	case 3:
		ok = ok && !(a & 1); /* even counts, down by two */
		break;
	default: /* 2, 4: high except for one CLK */
		ok = ok && (status & STATUS_OUT);
		break;
	}
	check(ok && down, what);
}

static void check_modes(void)
{
	/* Each: the read-back status (mode, LSB then MSB, OUT, count loaded)
	 * and latched counts counting down. */
	check_mode(1, 0, 0xFFFF, "mode 0 (counter 1): status and latched counts counting down");
	check_mode(1, 2, 60000, "mode 2 (counter 1): status and latched counts counting down");
	check_mode(1, 3, 60000, "mode 3 (counter 1): status and even latched counts counting down");
	check_mode(1, 4, 0xFFFF, "mode 4 (counter 1): status and latched counts counting down");
	check_mode(0, 2, 60000, "mode 2 (counter 0): status and latched counts counting down");
	/* Counter 0 back to waiting for a count (no IRQ 0 edges). */
	guest_outb(PIT_CONTROL, control_word(0, RW_WORD, 0, false));

	/* Mode 3's OUT: a square wave (count 2000: 1000 CLKs each level). */
	pit_program(1, 3, false, 2000);
	unsigned high = 0, low = 0;
	for (unsigned i = 0; i < 4000 && (!high || !low); i++)
		(pit_status(1) & STATUS_OUT) ? high++ : low++;
	check(high && low, "mode 3: OUT is high, then low (square wave)");

	/* Mode 4: after terminal count the count wraps and OUT is high. */
	pit_program(1, 4, false, 200);
	spin_clk(1000);
	uint16_t wrapped = pit_latch(1);
	check(wrapped > 0xF000 && (pit_status(1) & STATUS_OUT), "mode 4: after the strobe the count wraps, OUT high");

	/* Mode 1 on counter 2: waits for a GATE2 edge, then a one-shot. */
	set_port_b(0);
	pit_program(2, 1, false, 3000);
	uint8_t waiting = pit_status(2);
	set_port_b(PORT_B_GATE2); /* trigger */
	uint8_t triggered = pit_status(2);
	uint16_t a = 0;
	bool down = counts_down(2, 3000, &a);
	bool ended = wait_for_out2() && pit_latch(2) > 0xF000;
	check((waiting & (STATUS_OUT | STATUS_NULL_COUNT)) == (STATUS_OUT | STATUS_NULL_COUNT) &&
	      (triggered & (STATUS_OUT | STATUS_NULL_COUNT)) == 0 && (triggered & 0x3F) == 0x32 && down,
	      "mode 1 (counter 2): no count before a GATE2 edge; the edge starts the one-shot, OUT low");
	check(ended, "mode 1: OUT2 rises when the one-shot ends, the count wraps");

	/* Mode 5 on counter 2: a strobe after a GATE2 edge. */
	set_port_b(0);
	pit_program(2, 5, false, 3000);
	waiting = pit_status(2);
	set_port_b(PORT_B_GATE2);
	down = counts_down(2, 3000, &a);
	check((waiting & STATUS_NULL_COUNT) && (pit_status(2) & (STATUS_OUT | STATUS_NULL_COUNT)) == STATUS_OUT &&
	      down, "mode 5 (counter 2): the GATE2 edge loads the count; it counts down, OUT high");
	set_port_b(0);
}

static void check_read_formats(void)
{
	/* Read-back of count and status together: status first, then the count. */
	pit_program(1, 2, false, 50000);
	guest_outb(PIT_CONTROL, 0xC4); /* count and status of counter 1 */
	uint8_t status = guest_inb(PIT_COUNTER(1));
	uint16_t latched = read_word(1);
	uint16_t later = pit_latch(1);
	check(status == (STATUS_OUT | 0x34) && latched <= 50000 && later < latched,
	      "read-back: the status byte, then the count latched with it");

	/* A latched count holds until it is read. */
	uint16_t before = pit_latch(1);
	guest_outb(PIT_CONTROL, control_word(1, 0, 0, false));
	spin_clk(5000);
	uint16_t held = read_word(1);
	uint16_t now = pit_latch(1);
	check(held < before && (unsigned)(before - held) < 2500 && held > now && (unsigned)(held - now) >= 4000,
	      "latch: the count latched before 5000 CLKs passed reads back afterwards");

	/* LSB-only and MSB-only formats. */
	guest_outb(PIT_CONTROL, control_word(1, RW_MSB, 2, false));
	guest_outb(PIT_COUNTER(1), 0xF0); /* count 0xF000 */
	uint8_t msb = guest_inb(PIT_COUNTER(1)), msb2 = guest_inb(PIT_COUNTER(1));
	check(msb <= 0xF0 && msb >= 0xE0 && msb2 <= msb && (pit_status(1) & 0x3F) == 0x24,
	      "MSB-only: one byte per access, the count's high byte");
	guest_outb(PIT_CONTROL, control_word(1, RW_LSB, 2, false));
	guest_outb(PIT_COUNTER(1), 200); /* count 200, periodic */
	uint8_t lsb[3];
	for (unsigned i = 0; i < 3; i++)
		lsb[i] = guest_inb(PIT_COUNTER(1));
	bool in_range = true;
	for (unsigned i = 0; i < 3; i++)
		in_range = in_range && lsb[i] >= 1 && lsb[i] <= 200;
	check(in_range && (lsb[0] != lsb[1] || lsb[1] != lsb[2]) && (pit_status(1) & 0x3F) == 0x14,
	      "LSB-only: one byte per access, the count (1-200 in mode 2)");
}

static bool is_bcd(uint16_t v)
{
	for (unsigned i = 0; i < 4; i++)
		if (((v >> (4 * i)) & 0xF) > 9)
			return false;
	return true;
}

static unsigned bcd_value(uint16_t v)
{
	return (v >> 12 & 0xF) * 1000u + (v >> 8 & 0xF) * 100u + (v >> 4 & 0xF) * 10u + (v & 0xF);
}

static void check_bcd(void)
{
	pit_program(1, 2, true, 0x5000); /* 5000 CLKs */
	bool ok = (pit_status(1) & 0x3F) == 0x35;
	unsigned decreasing = 0, prev = 10000;
	for (unsigned i = 0; i < 20; i++) {
		uint16_t v = pit_latch(1);
		ok = ok && is_bcd(v) && bcd_value(v) >= 1 && bcd_value(v) <= 5000;
		if (bcd_value(v) < prev)
			decreasing++;
		prev = bcd_value(v);
	}
	check(ok && decreasing >= 15, "BCD mode 2: counts of four decimal digits, from 5000 down");
	pit_program(1, 0, true, 0x0000); /* 0 is 10^4 in BCD */
	uint16_t first = pit_latch(1);
	check(is_bcd(first) && bcd_value(first) > 9000, "BCD mode 0: count 0 counts down from 10000 (9999...)");
}

static void check_port_b(void)
{
	set_port_b(0xFF & ~PORT_B_SPEAKER);
	uint8_t v = guest_inb(PORT_B);
	check((v & 0x0F) == 0x0D && !(v & 0xC0), "port 0x61: bits 3:0 read back, bits 7:6 (NMI sources) read 0");
	set_port_b(0);
	unsigned changes = 0, ones = 0;
	uint8_t last = guest_inb(PORT_B) & PORT_B_REFRESH;
	for (unsigned i = 0; i < 2000; i++) {
		spin_clk(i % 13); /* uneven sampling: no aliasing with the toggle */
		uint8_t r = guest_inb(PORT_B) & PORT_B_REFRESH;
		changes += r != last;
		ones += r != 0;
		last = r;
	}
	check(changes >= 10 && ones > 0 && ones < 2000, "port 0x61: bit 4 (refresh) toggles with time");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	check_calibration();
	if (!tsc_per_1000_clk)
		return (int)failures();
	check_counter2_gate();
	check_modes();
	check_read_formats();
	check_bcd();
	check_port_b();
	say("pit: done, %u failure(s)", failures());
	return (int)failures();
}
