/*
 * Tests of core/dev/pit8254.c: the 8254 PIT and port 0x61 of a VM built on
 * the fake platform, through their ports as a guest reaches them, at
 * chosen host TSCs.  The fake TSC runs at 1000 times the PIT's clock, so
 * CLK tick k spans TSC k*1000 to k*1000+999; every access happens in the
 * middle of a tick.  Covered: each mode's count sequence and OUT
 * waveform, GATE effects on counter 2, BCD, count 0, the latch command,
 * the read-back command and status byte, NULL COUNT, the flip-flops, port
 * 0x61, IRQ 0's edges from counter 0's timer (one edge for many missed
 * periods), the reset, and odd accesses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dev/device.h"
#include "dev/pit8254.h"
#include "dev/ports.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "irq/irq.h"
#include "vm/vm.h"

static struct vm vm;

#define TSC_PER_TICK 1000ULL
/* Tick 0 of every test: far from TSC 0, and a multiple of 18 so that the
 * refresh toggle's half-periods start at ticks 0, 18, 36, ... */
#define BASE_TICK (18ULL * 55556)

#define CH0 0x40
#define CH1 0x41
#define CH2 0x42
#define CTRL 0x43
#define PORTB 0x61

/* Control words: counter << 6 | RW << 4 | mode << 1 | BCD. */
#define CW(counter, rw, mode, bcd) ((uint8_t)((counter) << 6 | (rw) << 4 | (mode) << 1 | (bcd)))
#define LSB_MSB 3
/* Read-back: latch the status (and the count) of one counter. */
#define READ_BACK_STATUS(counter) ((uint8_t)(0xE0 | 2 << (counter)))
#define READ_BACK_BOTH(counter) ((uint8_t)(0xC0 | 2 << (counter)))
#define OUT 0x80
#define NULLC 0x40

static uint64_t tick_tsc(uint64_t tick)
{
	return (BASE_TICK + tick) * TSC_PER_TICK;
}

static void at(uint64_t tick)
{
	fake_cpu.tsc = tick_tsc(tick) + TSC_PER_TICK / 2;
}

static uint8_t in_at(uint16_t port, uint64_t tick)
{
	at(tick);
	return (uint8_t)io_port_read(&vm, port, 1);
}

static void out_at(uint16_t port, uint8_t v, uint64_t tick)
{
	at(tick);
	io_port_write(&vm, port, 1, v);
}

/* A control word and a two-byte count, all during one tick. */
static void program(unsigned counter, uint8_t mode, bool bcd, uint16_t count, uint64_t tick)
{
	out_at(CTRL, CW(counter, LSB_MSB, mode, bcd), tick);
	out_at((uint16_t)(CH0 + counter), (uint8_t)count, tick);
	out_at((uint16_t)(CH0 + counter), (uint8_t)(count >> 8), tick);
}

/* The count read LSB then MSB (no latch), both bytes at one tick. */
static uint16_t count_at(unsigned counter, uint64_t tick)
{
	uint8_t lsb = in_at((uint16_t)(CH0 + counter), tick);
	return (uint16_t)(lsb | in_at((uint16_t)(CH0 + counter), tick) << 8);
}

static uint8_t status_at(unsigned counter, uint64_t tick)
{
	out_at(CTRL, READ_BACK_STATUS(counter), tick);
	return in_at((uint16_t)(CH0 + counter), tick);
}

static bool out_at_tick(unsigned counter, uint64_t tick)
{
	return status_at(counter, tick) & OUT;
}

static bool out2_at(uint64_t tick)
{
	return in_at(PORTB, tick) & 0x20;
}

/* An interrupt controller that records line 0's levels. */
static struct irq_log {
	unsigned count;
	bool level[64];
	unsigned other_lines;
} irq_log;

static void record_line(struct vm *v, void *opaque, unsigned line, bool level)
{
	(void)v;
	(void)opaque;
	if (line != 0) {
		irq_log.other_lines++;
		return;
	}
	if (irq_log.count < 64)
		irq_log.level[irq_log.count] = level;
	irq_log.count++;
}

static void listen_to_irq0(void)
{
	memset(&irq_log, 0, sizeof(irq_log));
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ .name = "recorder", .set_line = record_line }));
}

/* Rising edges seen since the recorder started (low-to-high changes,
 * starting from the line's level then: low). */
static unsigned rising_edges(void)
{
	unsigned edges = 0;
	bool level = false;
	for (unsigned i = 0; i < irq_log.count && i < 64; i++) {
		if (irq_log.level[i] && !level)
			edges++;
		level = irq_log.level[i];
	}
	return edges;
}

static uint64_t deadline(void)
{
	return vm_device_deadline(&vm.devices);
}

/* ---- Power-up ---- */

static void power_up_counters_wait_for_a_count(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		/* As after control word "mode 0, LSB then MSB, binary": OUT
		 * low, NULL COUNT, nothing counting. */
		assert_int_equal(status_at(i, 0), NULLC | 0x30);
		assert_int_equal(count_at(i, 1), 0);
		assert_int_equal(count_at(i, 5000), 0);
		assert_int_equal(status_at(i, 5000), NULLC | 0x30);
	}
	assert_int_equal(in_at(PORTB, 0), 0x00);
	assert_false(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), 0); /* no timer until counter 0 counts */
}

/* ---- Mode 0 ---- */

static void mode0_out_rises_n_plus_1_clocks_after_the_count(void **state)
{
	(void)state;
	program(1, 0, false, 5, 10);
	/* Loaded on the CLK after the write: NULL COUNT until then. */
	assert_int_equal(status_at(1, 10), NULLC | 0x30);
	assert_int_equal(status_at(1, 11), 0x30);
	const uint16_t counts[] = { 5, 4, 3, 2, 1, 0, 0xFFFF, 0xFFFE };
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(count_at(1, 11 + i), counts[i]);
		assert_int_equal(out_at_tick(1, 11 + i), counts[i] == 0 || i > 5);
	}
	/* It stays high while the count wraps, until a new count. */
	assert_true(out_at_tick(1, 11 + 70000));
	out_at(CH1, 3, 80000);
	assert_false(out_at_tick(1, 80000)); /* the first byte sets OUT low at once */
	out_at(CH1, 0, 80000);
	assert_int_equal(count_at(1, 80001), 3);
	assert_false(out_at_tick(1, 80003));
	assert_true(out_at_tick(1, 80004));
}

static void mode0_first_byte_stops_counting(void **state)
{
	(void)state;
	program(1, 0, false, 100, 0);
	assert_int_equal(count_at(1, 50), 51);
	out_at(CH1, 10, 50); /* LSB: counting stops */
	assert_int_equal(count_at(1, 60), 51);
	assert_false(out_at_tick(1, 60));
	out_at(CH1, 0, 70); /* MSB: count 10, loaded on the next CLK */
	assert_int_equal(count_at(1, 71), 10);
	assert_int_equal(count_at(1, 80), 1);
	assert_false(out_at_tick(1, 80));
	assert_true(out_at_tick(1, 81));
}

static void mode0_gate_low_holds_the_count(void **state)
{
	(void)state;
	/* GATE2 low: the count is loaded but does not count. */
	program(2, 0, false, 10, 0);
	assert_int_equal(status_at(2, 1), 0x30); /* loaded: NULL COUNT clear */
	assert_int_equal(count_at(2, 4), 10);
	out_at(PORTB, 0x01, 5); /* GATE high: counts from the next CLK */
	assert_int_equal(count_at(2, 5), 10);
	assert_int_equal(count_at(2, 6), 9);
	out_at(PORTB, 0x00, 8);
	assert_int_equal(count_at(2, 8), 7);
	assert_int_equal(count_at(2, 20), 7);
	out_at(PORTB, 0x01, 30);
	assert_int_equal(count_at(2, 31), 6);
	assert_false(out2_at(36));
	assert_int_equal(count_at(2, 37), 0);
	assert_true(out2_at(37));
}

/* ---- Mode 1 ---- */

static void mode1_one_shot_starts_on_a_gate_edge(void **state)
{
	(void)state;
	program(2, 1, false, 5, 0);
	/* OUT high after the control word; no trigger, no count loaded. */
	assert_int_equal(status_at(2, 10), OUT | NULLC | 0x32);
	out_at(PORTB, 0x01, 20); /* trigger */
	assert_true(out2_at(20));
	assert_int_equal(status_at(2, 21), 0x32); /* low, loaded */
	assert_int_equal(count_at(2, 21), 5);
	assert_int_equal(count_at(2, 25), 1);
	assert_false(out2_at(25));
	assert_true(out2_at(26));
	assert_int_equal(count_at(2, 27), 0xFFFF);
	/* GATE's level does not matter, only its rising edge. */
	out_at(PORTB, 0x00, 30);
	assert_true(out2_at(40));

	/* Retriggered during the one-shot: OUT stays low N CLKs after the
	 * last trigger. */
	out_at(PORTB, 0x01, 40);
	assert_false(out2_at(41));
	out_at(PORTB, 0x00, 42);
	out_at(PORTB, 0x01, 43);
	assert_false(out2_at(43));
	assert_int_equal(count_at(2, 44), 5);
	assert_false(out2_at(48));
	assert_true(out2_at(49));

	/* A new count waits for the next trigger. */
	out_at(PORTB, 0x00, 50);
	out_at(PORTB, 0x01, 51);
	out_at(CH2, 3, 53);
	out_at(CH2, 0, 53);
	assert_int_equal(status_at(2, 54) & NULLC, NULLC);
	assert_int_equal(count_at(2, 54), 3); /* still the first one-shot: 5 - 2 */
	assert_true(out2_at(57));
	out_at(PORTB, 0x00, 60);
	out_at(PORTB, 0x01, 61);
	assert_int_equal(count_at(2, 62), 3);
	assert_int_equal(status_at(2, 62) & NULLC, 0);
	assert_true(out2_at(65));
}

static void mode1_never_triggers_with_gate_tied_high(void **state)
{
	(void)state;
	program(0, 1, false, 5, 0);
	assert_int_equal(status_at(0, 1000), OUT | NULLC | 0x32);
	assert_true(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), 0);
}

/* ---- Mode 2 ---- */

static void mode2_rate_generator_pulses_low_at_one(void **state)
{
	(void)state;
	program(1, 2, false, 4, 0);
	const uint16_t counts[] = { 4, 3, 2, 1, 4, 3, 2, 1, 4 };
	for (unsigned i = 0; i < 9; i++) {
		assert_int_equal(count_at(1, 1 + i), counts[i]);
		assert_int_equal(out_at_tick(1, 1 + i), counts[i] != 1);
	}
	/* A new count during counting waits for the end of the period
	 * (the period that started at tick 9 ends at 13). */
	out_at(CH1, 6, 10);
	out_at(CH1, 0, 10);
	assert_int_equal(status_at(1, 11), OUT | NULLC | 0x34);
	assert_int_equal(count_at(1, 11), 2);
	assert_int_equal(count_at(1, 12), 1);
	assert_int_equal(status_at(1, 12), NULLC | 0x34);
	assert_int_equal(status_at(1, 13), OUT | 0x34);
	const uint16_t next[] = { 6, 5, 4, 3, 2, 1, 6 };
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(count_at(1, 13 + i), next[i]);
		assert_int_equal(out_at_tick(1, 13 + i), next[i] != 1);
	}
}

static void mode6_is_mode2_and_status_shows_it_as_written(void **state)
{
	(void)state;
	program(1, 6, false, 3, 0);
	assert_int_equal(status_at(1, 1), OUT | 0x3C);
	assert_int_equal(count_at(1, 2), 2);
	assert_false(out_at_tick(1, 3));
	assert_int_equal(count_at(1, 4), 3);
}

static void mode2_gate_low_forces_out_high_and_a_rise_reloads(void **state)
{
	(void)state;
	out_at(PORTB, 0x01, 0);
	program(2, 2, false, 5, 0);
	assert_int_equal(count_at(2, 4), 2);
	assert_false(out2_at(5));
	out_at(PORTB, 0x00, 5);
	assert_true(out2_at(5));
	assert_int_equal(count_at(2, 10), 1);
	assert_true(out2_at(10));
	out_at(PORTB, 0x01, 12);
	assert_int_equal(count_at(2, 12), 1);
	assert_int_equal(count_at(2, 13), 5);
	assert_false(out2_at(17));
	assert_int_equal(count_at(2, 18), 5);
}

/* ---- Mode 3 ---- */

static void mode3_even_count_square_wave(void **state)
{
	(void)state;
	program(1, 3, false, 6, 0);
	const uint16_t counts[] = { 6, 4, 2, 6, 4, 2, 6, 4 };
	const bool outs[] = { 1, 1, 1, 0, 0, 0, 1, 1 };
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(count_at(1, 1 + i), counts[i]);
		assert_int_equal(out_at_tick(1, 1 + i), outs[i]);
	}
}

static void mode3_odd_count_is_high_one_clock_longer(void **state)
{
	(void)state;
	program(1, 3, false, 5, 0);
	/* N-1 loaded, down by two; high (N+1)/2, low (N-1)/2. */
	const uint16_t counts[] = { 4, 2, 0, 4, 2, 4, 2, 0, 4, 2, 4 };
	const bool outs[] = { 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1 };
	for (unsigned i = 0; i < 11; i++) {
		assert_int_equal(count_at(1, 1 + i), counts[i]);
		assert_int_equal(out_at_tick(1, 1 + i), outs[i]);
	}
}

static void mode3_new_count_takes_over_at_the_half_cycle(void **state)
{
	(void)state;
	program(1, 3, false, 5, 0); /* high at 1-3, low at 4-5, high at 6-8 */
	out_at(CH1, 4, 7);
	out_at(CH1, 0, 7);
	assert_int_equal(status_at(1, 8) & (OUT | NULLC), OUT | NULLC);
	/* At 9 the high half ends: the new count starts with its low half. */
	assert_int_equal(status_at(1, 9) & (OUT | NULLC), 0);
	const uint16_t counts[] = { 4, 2, 4, 2, 4 };
	const bool outs[] = { 0, 0, 1, 1, 0 };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(count_at(1, 9 + i), counts[i]);
		assert_int_equal(out_at_tick(1, 9 + i), outs[i]);
	}
}

static void mode3_count_0_starts_at_0_then_fffe(void **state)
{
	(void)state;
	program(1, 3, false, 0, 0);
	assert_int_equal(count_at(1, 1), 0);
	assert_int_equal(count_at(1, 2), 0xFFFE);
	assert_true(out_at_tick(1, 32768));
	assert_false(out_at_tick(1, 32769));
	assert_true(out_at_tick(1, 65537));
}

/* ---- Modes 4 and 5 ---- */

static void mode4_strobes_once(void **state)
{
	(void)state;
	program(1, 4, false, 3, 0);
	assert_int_equal(status_at(1, 0), OUT | NULLC | 0x38);
	const uint16_t counts[] = { 3, 2, 1, 0, 0xFFFF };
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(count_at(1, 1 + i), counts[i]);
		assert_int_equal(out_at_tick(1, 1 + i), counts[i] != 0);
	}
	assert_true(out_at_tick(1, 4 + 65536)); /* no second strobe */
	/* A new count during counting is loaded on the next CLK. */
	program(1, 4, false, 50, 100000);
	out_at(CH1, 10, 100010);
	out_at(CH1, 0, 100010);
	assert_int_equal(count_at(1, 100011), 10);
	assert_false(out_at_tick(1, 100021));
	assert_true(out_at_tick(1, 100022));
}

static void mode4_gate_low_holds_the_count(void **state)
{
	(void)state;
	out_at(PORTB, 0x01, 0);
	program(2, 4, false, 3, 0);
	out_at(PORTB, 0x00, 2);
	assert_int_equal(count_at(2, 10), 2);
	assert_true(out2_at(10));
	out_at(PORTB, 0x01, 20);
	assert_int_equal(count_at(2, 21), 1);
	assert_false(out2_at(22));
	assert_true(out2_at(23));
}

static void mode5_strobes_after_a_trigger(void **state)
{
	(void)state;
	program(2, 5, false, 3, 0);
	assert_int_equal(status_at(2, 10), OUT | NULLC | 0x3A);
	out_at(PORTB, 0x01, 10);
	assert_int_equal(count_at(2, 11), 3);
	assert_true(out2_at(13));
	assert_false(out2_at(14));
	assert_true(out2_at(15));
	assert_int_equal(count_at(2, 15), 0xFFFF);
	/* Retriggered: the strobe comes N+1 CLKs after the new trigger. */
	out_at(PORTB, 0x00, 20);
	out_at(PORTB, 0x01, 21);
	assert_true(out2_at(24));
	assert_false(out2_at(25));
}

/* ---- BCD and count 0 ---- */

static void bcd_counts_in_decimal(void **state)
{
	(void)state;
	program(1, 0, true, 0x0100, 0);
	assert_int_equal(status_at(1, 1), 0x31);
	assert_int_equal(count_at(1, 1), 0x0100);
	assert_int_equal(count_at(1, 2), 0x0099);
	assert_int_equal(count_at(1, 92), 0x0009);
	assert_int_equal(count_at(1, 101), 0x0000);
	assert_true(out_at_tick(1, 101));
	assert_int_equal(count_at(1, 102), 0x9999);

	/* Mode 2 in BCD: a period of 12 CLKs for the count 0x12. */
	program(1, 2, true, 0x0012, 1000);
	assert_int_equal(count_at(1, 1003), 0x0010);
	assert_int_equal(count_at(1, 1004), 0x0009);
	assert_int_equal(count_at(1, 1013), 0x0012);
}

static void bcd_count_0_is_10000(void **state)
{
	(void)state;
	program(1, 0, true, 0x0000, 0);
	assert_int_equal(count_at(1, 1), 0x0000);
	assert_int_equal(count_at(1, 2), 0x9999);
	assert_false(out_at_tick(1, 10000));
	assert_true(out_at_tick(1, 10001));
}

static void bcd_count_with_a_non_decimal_digit_is_defined(void **state)
{
	(void)state;
	/* Digits above 9 count with their value: 0x00AF is 10*10 + 15 = 115. */
	program(1, 0, true, 0x00AF, 0);
	assert_int_equal(count_at(1, 1), 0x0115);
	assert_true(out_at_tick(1, 116));
}

static void binary_count_0_is_65536(void **state)
{
	(void)state;
	program(1, 0, false, 0, 0);
	assert_int_equal(count_at(1, 1), 0);
	assert_int_equal(count_at(1, 2), 0xFFFF);
	assert_false(out_at_tick(1, 65536));
	assert_true(out_at_tick(1, 65537));
}

/* ---- Latches, read-back, flip-flops ---- */

static void latched_count_holds_until_read(void **state)
{
	(void)state;
	program(1, 2, false, 1000, 0);
	out_at(CTRL, CW(1, 0, 0, 0), 11); /* counter latch command */
	assert_int_equal(in_at(CH1, 50), 990 & 0xFF);
	out_at(CTRL, CW(1, 0, 0, 0), 60); /* ignored: the latch is not read yet */
	assert_int_equal(in_at(CH1, 70), 990 >> 8);
	assert_int_equal(count_at(1, 80), 921); /* released: live again */

	/* A control word releases a latch. */
	out_at(CTRL, CW(1, 0, 0, 0), 100);
	program(1, 2, false, 500, 110);
	assert_int_equal(count_at(1, 121), 490);

	/* LSB-only access: one read releases the latch. */
	out_at(CTRL, CW(1, 1, 2, 0), 200);
	out_at(CH1, 200, 200);
	out_at(CTRL, CW(1, 0, 0, 0), 211);
	assert_int_equal(in_at(CH1, 230), 190);
	assert_int_equal(in_at(CH1, 231), 170);
}

static void read_back_latches_status_then_count(void **state)
{
	(void)state;
	program(0, 3, false, 100, 0);
	program(1, 2, false, 50, 0);
	/* Count and status of counters 0 and 1 at once. */
	out_at(CTRL, 0xC6, 20);
	assert_int_equal(in_at(CH0, 40), OUT | 0x36);
	assert_int_equal(in_at(CH0, 41), 62); /* 100 - 2*19, latched at tick 20 */
	assert_int_equal(in_at(CH0, 42), 0);
	assert_int_equal(in_at(CH1, 43), OUT | 0x34);
	assert_int_equal(in_at(CH1, 44), 31);
	assert_int_equal(in_at(CH1, 45), 0);
	/* Status only: the reads after it are live. */
	out_at(CTRL, READ_BACK_STATUS(1), 60);
	assert_int_equal(in_at(CH1, 61), OUT | 0x34);
	assert_int_equal(count_at(1, 61), 50 - 60 % 50);
	/* "Command ignored, status already latched": the first status wins. */
	out_at(CTRL, READ_BACK_STATUS(1), 100); /* count 1: OUT low */
	out_at(CTRL, READ_BACK_STATUS(1), 101); /* OUT high again */
	assert_int_equal(in_at(CH1, 102), 0x34);
	assert_int_equal(count_at(1, 102), 49); /* live */
	/* Count only, then a latch command: the second latch is ignored. */
	out_at(CTRL, 0xD0 | 2 << 1, 120); /* COUNT latched, STATUS not */
	out_at(CTRL, CW(1, 0, 0, 0), 130);
	assert_int_equal(count_at(1, 140), 50 - 119 % 50);
	/* Reserved bit 0 set: still a read-back. */
	out_at(CTRL, READ_BACK_BOTH(1) | 1, 152);
	assert_int_equal(in_at(CH1, 153), OUT | 0x34);
	assert_int_equal(count_at(1, 160), 49); /* latched at tick 152 */
}

static void status_after_count_in_both_latched_order(void **state)
{
	(void)state;
	program(1, 0, false, 300, 0);
	/* The count latched first, then the status: status still comes first. */
	out_at(CTRL, CW(1, 0, 0, 0), 10);
	out_at(CTRL, READ_BACK_STATUS(1), 20);
	assert_int_equal(in_at(CH1, 30), 0x30);
	assert_int_equal(count_at(1, 40), 291);
}

static void read_and_write_flip_flops_interleave(void **state)
{
	(void)state;
	/* The data sheet's example: read LSB, write LSB, read MSB, write MSB. */
	program(1, 0, false, 0x1234, 0);
	assert_int_equal(in_at(CH1, 10), 0x2B); /* 0x1234 - 9 */
	out_at(CH1, 0x00, 11);
	assert_int_equal(in_at(CH1, 12), 0x12);
	out_at(CH1, 0x20, 13);
	assert_int_equal(count_at(1, 14), 0x2000);

	/* MSB-only and LSB-only counts. */
	out_at(CTRL, CW(1, 2, 0, 0), 100);
	out_at(CH1, 0x12, 100);
	assert_int_equal(status_at(1, 101), 0x20);
	assert_int_equal(in_at(CH1, 101), 0x12);
	assert_int_equal(in_at(CH1, 101), 0x12);
	assert_int_equal(in_at(CH1, 102), 0x11); /* 0x11FF */
	out_at(CTRL, CW(1, 1, 0, 0), 200);
	out_at(CH1, 0x34, 200);
	assert_int_equal(in_at(CH1, 201), 0x34);
	assert_int_equal(in_at(CH1, 202), 0x33);

	/* A control word resets the read flip-flop to the LSB. */
	program(1, 0, false, 0x0506, 300);
	assert_int_equal(in_at(CH1, 301), 0x06);
	out_at(CTRL, CW(1, LSB_MSB, 0, 0), 302);
	out_at(CH1, 0x08, 302);
	out_at(CH1, 0x07, 302);
	assert_int_equal(in_at(CH1, 303), 0x08);
}

static void null_count_follows_the_count_into_the_counting_element(void **state)
{
	(void)state;
	out_at(CTRL, CW(1, LSB_MSB, 0, 0), 0);
	assert_int_equal(status_at(1, 0) & NULLC, NULLC);
	out_at(CH1, 10, 1);
	assert_int_equal(status_at(1, 5) & NULLC, NULLC); /* one byte of two */
	out_at(CH1, 0, 6);
	assert_int_equal(status_at(1, 6) & NULLC, NULLC);
	assert_int_equal(status_at(1, 7) & NULLC, 0);
	/* Only the counter the control word names. */
	out_at(CTRL, CW(2, LSB_MSB, 0, 0), 8);
	assert_int_equal(status_at(1, 8) & NULLC, 0);
}

/* ---- Port 0x61 ---- */

static void port_b_bits(void **state)
{
	(void)state;
	out_at(PORTB, 0xFF, 0); /* bits 7:4 are read-only */
	assert_int_equal(in_at(PORTB, 0), 0x0F);
	out_at(PORTB, 0x0A, 1);
	assert_int_equal(in_at(PORTB, 1), 0x0A);
	/* The refresh toggle flips every 18 CLKs. */
	out_at(PORTB, 0x00, 2);
	assert_int_equal(in_at(PORTB, 17), 0x00);
	assert_int_equal(in_at(PORTB, 18), 0x10);
	assert_int_equal(in_at(PORTB, 35), 0x10);
	assert_int_equal(in_at(PORTB, 36), 0x00);
	/* Bit 5 is OUT2; bits 7:6 stay 0. */
	program(2, 2, false, 100, 50); /* mode 2: OUT high */
	assert_int_equal(in_at(PORTB, 54) & 0xE0, 0x20);
}

static void out2_calibration_as_linux_does_it(void **state)
{
	(void)state;
	/* GATE2 on, speaker off, counter 2 mode 0 count N: OUT2 rises N+1
	 * CLKs after the count is written. */
	out_at(PORTB, (uint8_t)((in_at(PORTB, 0) & ~0x02) | 0x01), 0);
	program(2, 0, false, 1000, 5);
	assert_false(out2_at(5));
	assert_false(out2_at(1005));
	assert_true(out2_at(1006));
	assert_true(out2_at(5000));
}

/* ---- IRQ 0 ---- */

static void irq0_mode2_edges_from_the_timer(void **state)
{
	(void)state;
	listen_to_irq0();
	out_at(CTRL, CW(0, LSB_MSB, 2, 0), 0);
	/* OUT0 goes high with the control word: IRQ 0 rises. */
	assert_int_equal(irq_log.count, 1);
	assert_true(irq_log.level[0]);
	out_at(CH0, 2000 & 0xFF, 0);
	out_at(CH0, 2000 >> 8, 0);
	/* The one-CLK low pulse at count 1 ends at tick 1 + 2000. */
	assert_int_equal(deadline(), tick_tsc(2001));
	vm_device_timers_expire(&vm, tick_tsc(2001));
	assert_int_equal(irq_log.count, 3);
	assert_false(irq_log.level[1]);
	assert_true(irq_log.level[2]);
	assert_int_equal(deadline(), tick_tsc(4001));
	vm_device_timers_expire(&vm, tick_tsc(4001) + 10);
	assert_int_equal(rising_edges(), 3);
	assert_int_equal(deadline(), tick_tsc(6001));
	assert_int_equal(irq_log.other_lines, 0);
}

static void irq0_mode3_follows_both_half_cycles(void **state)
{
	(void)state;
	listen_to_irq0();
	program(0, 3, false, 2000, 0);
	assert_int_equal(deadline(), tick_tsc(1001));
	vm_device_timers_expire(&vm, tick_tsc(1001));
	assert_false(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), tick_tsc(2001));
	vm_device_timers_expire(&vm, tick_tsc(2001));
	assert_true(vm_irq_level(&vm, 0));
	assert_int_equal(rising_edges(), 2); /* the control word's, then the period's */
	assert_int_equal(deadline(), tick_tsc(3001));
}

static void irq0_mode0_rises_once_at_terminal_count(void **state)
{
	(void)state;
	listen_to_irq0();
	program(0, 0, false, 100, 0);
	assert_int_equal(irq_log.count, 0); /* OUT0 was low and stays low */
	assert_int_equal(deadline(), tick_tsc(101));
	vm_device_timers_expire(&vm, tick_tsc(100) + 999); /* not yet */
	assert_int_equal(irq_log.count, 0);
	vm_device_timers_expire(&vm, tick_tsc(101));
	assert_int_equal(irq_log.count, 1);
	assert_true(irq_log.level[0]);
	assert_int_equal(deadline(), 0);
	/* A new count lowers it again. */
	program(0, 0, false, 100, 500);
	assert_false(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), tick_tsc(601));
}

static void irq0_mode4_strobe_is_one_edge(void **state)
{
	(void)state;
	listen_to_irq0();
	program(0, 4, false, 300, 0);
	assert_int_equal(rising_edges(), 1); /* the control word */
	assert_int_equal(deadline(), tick_tsc(302));
	vm_device_timers_expire(&vm, tick_tsc(302));
	assert_int_equal(rising_edges(), 2);
	assert_true(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), 0);
}

static void irq0_many_missed_periods_give_one_edge(void **state)
{
	(void)state;
	listen_to_irq0();
	program(0, 2, false, 2000, 0);
	unsigned before = irq_log.count;
	/* The guest did not run for 100 periods. */
	vm_device_timers_expire(&vm, tick_tsc(1 + 100 * 2000 + 5));
	assert_int_equal(irq_log.count - before, 2); /* low, high: one edge */
	assert_true(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), tick_tsc(1 + 101 * 2000));
}

static void irq0_short_periods_rearm_no_sooner_than_the_minimum(void **state)
{
	(void)state;
	listen_to_irq0();
	program(0, 2, false, 10, 0); /* 8.4 us */
	uint64_t min_gap = PIT_IRQ_MIN_REARM_US * (fake_tsc_hz / 1000000);
	uint64_t now = deadline();
	for (unsigned i = 0; i < 5; i++) {
		unsigned before = rising_edges();
		vm_device_timers_expire(&vm, now);
		assert_int_equal(rising_edges(), before + 1);
		assert_true(deadline() >= now + min_gap);
		now = deadline();
	}
}

static void irq0_degenerate_counts_arm_nothing(void **state)
{
	(void)state;
	/* Count 1 is below the minimum of modes 2 and 3: mode 2 goes low at
	 * the load and stays there, mode 3 stays high; no periodic timer. */
	program(0, 2, false, 1, 0);
	assert_int_equal(deadline(), tick_tsc(1));
	vm_device_timers_expire(&vm, tick_tsc(1));
	assert_false(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), 0);
	assert_false(out_at_tick(0, 10));
	program(0, 3, false, 1, 20);
	assert_int_equal(deadline(), 0);
	assert_true(out_at_tick(0, 30));
}

static void irq0_edge_is_not_lost_when_a_write_comes_first(void **state)
{
	(void)state;
	listen_to_irq0();
	program(0, 0, false, 10, 0);
	/* OUT0 rose at tick 11; the guest reprograms counter 0 before the
	 * timer ran: the edge still reaches the controllers. */
	out_at(CTRL, CW(0, LSB_MSB, 0, 0), 20);
	assert_int_equal(rising_edges(), 1);
	assert_false(vm_irq_level(&vm, 0));
	assert_int_equal(deadline(), 0);
}

static void reset_keeps_counting_and_rearms_counter0(void **state)
{
	(void)state;
	program(0, 2, false, 2000, 0);
	out_at(PORTB, 0x0F, 0);
	program(2, 0, false, 10, 0);
	at(500);
	vm_reset_devices(&vm);
	/* The 8254 has no RESET input: counter 0 goes on; port 0x61 is 0. */
	assert_int_equal(deadline(), tick_tsc(2001));
	assert_int_equal(count_at(0, 600), 2000 - 599);
	assert_int_equal(in_at(PORTB, 600) & 0x0F, 0);
	/* GATE2 fell at the reset: counter 2 holds. */
	assert_int_equal(count_at(2, 700), count_at(2, 800));
}

/* ---- Odd accesses ---- */

static void odd_accesses_have_defined_results(void **state)
{
	(void)state;
	assert_int_equal(in_at(CTRL, 0), 0xFF); /* the control word port is write-only */
	program(2, 2, false, 100, 0);
	at(10);
	/* Wider accesses reach consecutive ports; past 0x43 is nothing. */
	assert_int_equal(io_port_read(&vm, CH2, 2), 0xFF00 | 100); /* GATE2 low: held */
	at(11);
	assert_int_equal(io_port_read(&vm, PORTB, 4) & 0xFFFFFF00u, 0xFFFFFF00u);
	at(12);
	io_port_write(&vm, CH0, 2, 0x3412); /* 0x12 to counter 0, 0x34 to counter 1 */
	at(13);
	io_port_write(&vm, CTRL, 4, 0xFFFFFF00u | CW(1, 0, 0, 0)); /* latch counter 1 */
	/* Counter 1 (mode 0 from power-up) got LSB 0x34; MSB still to come. */
	assert_int_equal(status_at(1, 14), NULLC | 0x30);
	at(15);
	io_port_write(&vm, PORTB, 2, 0xFF01);
	assert_int_equal(in_at(PORTB, 15) & 0x0F, 0x01);
}

static int setup(void **state)
{
	fake_tsc_hz = (uint64_t)PIT_CLOCK_HZ * TSC_PER_TICK;
	return fixture_setup_vm_dev(state);
}

static int teardown(void **state)
{
	fake_tsc_hz = 1000000000ULL;
	return fixture_teardown_vm(state);
}

#define T(f) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(power_up_counters_wait_for_a_count),
		T(mode0_out_rises_n_plus_1_clocks_after_the_count),
		T(mode0_first_byte_stops_counting),
		T(mode0_gate_low_holds_the_count),
		T(mode1_one_shot_starts_on_a_gate_edge),
		T(mode1_never_triggers_with_gate_tied_high),
		T(mode2_rate_generator_pulses_low_at_one),
		T(mode6_is_mode2_and_status_shows_it_as_written),
		T(mode2_gate_low_forces_out_high_and_a_rise_reloads),
		T(mode3_even_count_square_wave),
		T(mode3_odd_count_is_high_one_clock_longer),
		T(mode3_new_count_takes_over_at_the_half_cycle),
		T(mode3_count_0_starts_at_0_then_fffe),
		T(mode4_strobes_once),
		T(mode4_gate_low_holds_the_count),
		T(mode5_strobes_after_a_trigger),
		T(bcd_counts_in_decimal),
		T(bcd_count_0_is_10000),
		T(bcd_count_with_a_non_decimal_digit_is_defined),
		T(binary_count_0_is_65536),
		T(latched_count_holds_until_read),
		T(read_back_latches_status_then_count),
		T(status_after_count_in_both_latched_order),
		T(read_and_write_flip_flops_interleave),
		T(null_count_follows_the_count_into_the_counting_element),
		T(port_b_bits),
		T(out2_calibration_as_linux_does_it),
		T(irq0_mode2_edges_from_the_timer),
		T(irq0_mode3_follows_both_half_cycles),
		T(irq0_mode0_rises_once_at_terminal_count),
		T(irq0_mode4_strobe_is_one_edge),
		T(irq0_many_missed_periods_give_one_edge),
		T(irq0_short_periods_rearm_no_sooner_than_the_minimum),
		T(irq0_degenerate_counts_arm_nothing),
		T(irq0_edge_is_not_lost_when_a_write_comes_first),
		T(reset_keeps_counting_and_rearms_counter0),
		T(odd_accesses_have_defined_results),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
