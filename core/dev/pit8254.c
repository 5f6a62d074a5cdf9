#include "dev/pit8254.h"

#include "dev/device.h"
#include "dev/ports.h"
#include "irq/irq.h"
#include "lib/log.h"
#include "vm/vm.h"
#include "vmx/intrin.h"

/*
 * Citations are to the Intel 8254 Programmable Interval Timer data sheet
 * (order number 231164): "Control Word Format", "Read-Back Command",
 * "Status Byte", "Null Count Operation", "Mode Definitions", "Operation
 * Common to All Modes", "Minimum and Maximum Initial Counts"; and, for
 * port 0x61, the PIIX4/ICH data sheets' NMI_SC register (I/O 61h).
 *
 * The model: the counters share one CLK grid, tick k starting at the host
 * TSC where device_clock_ticks reaches k.  A count loaded into the
 * counting element (CE) is a segment (start tick, count N); the CE's
 * value and OUT at any tick follow from the mode and the ticks elapsed
 * since start, so nothing runs while the guest does not look, and the
 * guest reads exact values whenever it looks.
 */

#define RW_LSB  1
#define RW_MSB  2
#define RW_WORD 3
/* "Control Word Format": SC = 11 is the read-back command; RW = 00 the
 * counter latch command. */
#define CW_SELECT_READ_BACK 3
#define CW_RW_LATCH 0
/* "Read-Back Command": bit 5 COUNT# and bit 4 STATUS# (0 = latch), bits
 * 3:1 select counters 2, 1, 0; bit 0 is reserved (ignored here). */
#define READ_BACK_NO_COUNT  0x20
#define READ_BACK_NO_STATUS 0x10
/* "Status Byte": bit 7 OUTPUT, bit 6 NULL COUNT, bits 5:0 as programmed. */
#define STATUS_OUTPUT     0x80
#define STATUS_NULL_COUNT 0x40
/* NULL COUNT stays 1 until a count is written and then loaded. */
#define NULL_COUNT_UNTIL_LOADED UINT64_MAX
/* A read of the control word port: "No-Operation (3-State)", so the
 * floating bus reads all ones. */
#define FLOATING_BUS 0xFF

/* The 8254's CLK ticks at host TSC tsc (the tick grid starts at TSC 0). */
static uint64_t pit_clock_tick(const struct vm *vm, uint64_t tsc)
{
	return device_clock_ticks(tsc, vm->devices.tsc_hz, PIT_CLOCK_HZ);
}

static uint64_t pit_tick_tsc(const struct vm *vm, uint64_t tick)
{
	return device_clock_to_tsc(tick, PIT_CLOCK_HZ, vm->devices.tsc_hz);
}

/* ---- Counting ---- */

/* A count of 0 is the largest: 2^16 in binary, 10^4 in BCD ("Minimum and
 * Maximum Initial Counts"); after terminal count modes 0, 1, 4 and 5 wrap
 * to FFFF or 9999 and go on counting. */
static uint32_t counter_modulus(const struct pit_counter *c)
{
	return c->bcd ? 10000u : 65536u;
}

/* A BCD count's value; a nibble above 9 (not BCD) counts with its binary
 * value, so every pattern has a defined count. */
static uint32_t bcd_value(uint16_t raw)
{
	return (raw >> 12 & 0xF) * 1000u + (raw >> 8 & 0xF) * 100u + (raw >> 4 & 0xF) * 10u + (raw & 0xF);
}

static uint16_t bcd_encode(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* The count register as a count N, 1 to the modulus. */
static uint32_t counter_initial_count(const struct pit_counter *c)
{
	uint32_t n = c->bcd ? bcd_value(c->count_register) % 10000u : c->count_register;
	return n ? n : counter_modulus(c);
}

/* The CE's count (binary) e ticks after segment s was loaded ("Mode
 * Definitions"): modes 0, 1, 4, 5 count N, N-1, ... and wrap; mode 2
 * counts N down to 1 and reloads; mode 3 loads N (N-1 when odd) and
 * counts down by two, reloading at each half-cycle. */
static uint32_t segment_count(const struct pit_counter *c, const struct pit_segment *s, uint64_t e)
{
	uint32_t m = counter_modulus(c), n = s->period;

	switch (c->mode) {
	case 2:
		return (n - (uint32_t)(e % n)) % m;
	case 3:
		return ((n - (uint32_t)(2 * (e % n) % n)) & ~1u) % m;
	default:
		return (n + m - (uint32_t)(e % m)) % m;
	}
}

/* OUT e ticks after segment s was loaded ("Mode Definitions"):
 * mode 0: low until terminal count (e = N), then high;
 * mode 1: low from the load after a trigger until terminal count;
 * mode 2: low for one CLK when the count reaches 1, every N CLKs;
 * mode 3: high for ceil(N/2) CLKs, low for floor(N/2), every N CLKs;
 * modes 4 and 5: low for one CLK at terminal count, once. */
static bool segment_out(const struct pit_counter *c, const struct pit_segment *s, uint64_t e)
{
	uint32_t n = s->period;

	switch (c->mode) {
	case 0:
	case 1:
		return e >= n;
	case 2:
		return e % n != n - 1;
	case 3:
		return e % n < (n + 1) / 2;
	default:
		return e != n;
	}
}

/* Ticks from e until OUT next changes in segment s; 0: never.  Counts
 * below the minimum of 2 in modes 2 and 3 keep OUT constant (low in mode
 * 2, high in mode 3) rather than toggling it every CLK. */
static uint64_t segment_next_change(const struct pit_counter *c, const struct pit_segment *s, uint64_t e)
{
	uint32_t n = s->period, r, h;

	switch (c->mode) {
	case 0:
	case 1:
		return e < n ? n - e : 0;
	case 2:
		if (n < 2)
			return 0;
		r = (uint32_t)(e % n);
		return r < n - 1 ? n - 1 - r : 1;
	case 3:
		if (n < 2)
			return 0;
		r = (uint32_t)(e % n);
		h = (n + 1) / 2;
		return r < h ? h - r : n - r;
	default:
		return e < n ? n - e : e == n ? 1 : 0;
	}
}

/* The segment that drives the CE at tick t and the ticks elapsed in it;
 * false when the CE holds held_value (no count loaded, or t before the
 * load).  Frozen counting (GATE low) stays at frozen_elapsed. */
static bool counter_segment_at(const struct pit_counter *c, uint64_t t, const struct pit_segment **s,
			       uint64_t *e)
{
	if (!c->loaded)
		return false;
	if (c->has_next && t >= c->next_from) {
		*s = &c->next;
		*e = t - c->next.start;
		return true;
	}
	if (t < c->cur.start)
		return false;
	*s = &c->cur;
	*e = c->running ? t - c->cur.start : c->frozen_elapsed;
	return true;
}

/* The CE's count at tick t, binary. */
static uint32_t counter_ce(const struct pit_counter *c, uint64_t t)
{
	const struct pit_segment *s;
	uint64_t e;

	if (!counter_segment_at(c, t, &s, &e))
		return c->held_value % counter_modulus(c);
	return segment_count(c, s, e);
}

/* The count as the guest reads it (BCD in BCD mode) at tick t. */
static uint16_t pit_counter_value(const struct pit_counter *c, uint64_t t)
{
	uint32_t v = counter_ce(c, t);
	return c->bcd ? bcd_encode(v) : (uint16_t)v;
}

/* Modes 2 and 3: "If GATE goes low ..., OUT is set high immediately". */
static bool gate_forces_out_high(const struct pit_counter *c)
{
	return (c->mode == 2 || c->mode == 3) && !c->gate;
}

/* The OUT pin at tick t. */
static bool pit_counter_out(const struct pit_counter *c, uint64_t t)
{
	const struct pit_segment *s;
	uint64_t e;

	if (gate_forces_out_high(c))
		return true;
	if (!counter_segment_at(c, t, &s, &e))
		return c->held_out;
	return segment_out(c, s, e);
}

/* The first tick after t at which OUT differs from the tick before; 0:
 * none (OUT stays as it is until the guest acts). */
static uint64_t counter_next_change(const struct pit_counter *c, uint64_t t)
{
	uint64_t d;

	if (!c->loaded || !c->running || gate_forces_out_high(c))
		return 0;
	if (t < c->cur.start) {
		if (segment_out(c, &c->cur, 0) != c->held_out)
			return c->cur.start;
		d = segment_next_change(c, &c->cur, 0);
		return d ? c->cur.start + d : 0;
	}
	if (c->has_next && t < c->next_from) {
		d = segment_next_change(c, &c->cur, t - c->cur.start);
		if (d && t + d < c->next_from)
			return t + d;
		uint64_t e = c->next_from - c->next.start;
		if (segment_out(c, &c->next, e) != segment_out(c, &c->cur, c->next_from - 1 - c->cur.start))
			return c->next_from;
		d = segment_next_change(c, &c->next, e);
		return d ? c->next_from + d : 0;
	}
	const struct pit_segment *s = c->has_next ? &c->next : &c->cur;
	d = segment_next_change(c, s, t - s->start);
	return d ? t + d : 0;
}

/* A new count that took over (modes 2 and 3) becomes the current one. */
static void counter_settle(struct pit_counter *c, uint64_t t)
{
	if (c->has_next && t >= c->next_from) {
		c->cur = c->next;
		c->has_next = false;
	}
}

/* "Counter Loading": the count goes from the CR into the CE on the CLK
 * after tick t; until then the CE keeps its count and OUT is out_until_load. */
static void counter_load(struct pit_counter *c, uint64_t t, uint32_t count, bool out_until_load)
{
	c->held_value = (uint16_t)counter_ce(c, t);
	c->held_out = out_until_load;
	c->loaded = true;
	c->running = true;
	c->frozen_elapsed = 0;
	c->has_next = false;
	c->cur = (struct pit_segment){ .start = t + 1, .period = count };
}

/* A trigger (a rising GATE edge) loads the CR on the next CLK. */
static void counter_trigger(struct pit_counter *c, uint64_t t, bool out_until_load)
{
	counter_load(c, t, counter_initial_count(c), out_until_load);
	if (c->null_count_until > t)
		c->null_count_until = t + 1;
}

/* Stops counting at tick t (GATE low): the CE keeps its count. */
static void counter_freeze(struct pit_counter *c, uint64_t t)
{
	if (!c->loaded || !c->running)
		return;
	c->frozen_elapsed = t >= c->cur.start ? t - c->cur.start : 0;
	c->running = false;
}

/* Modes 2 and 3, a count written while counting: "Writing a new count
 * while counting does not affect the current counting sequence"; it is
 * loaded at the end of the current period (mode 2) or half-cycle (mode 3).
 * A mode 3 count loaded at the end of a high half-cycle starts low. */
static void counter_reload_at_cycle_end(struct pit_counter *c, uint64_t t, uint32_t count)
{
	uint64_t e = t - c->cur.start;
	uint32_t p = c->cur.period, half = (p + 1) / 2;
	uint64_t cycle = c->cur.start + (e - e % p);

	if (c->mode == 3 && e % p < half) {
		c->next_from = cycle + half;
		c->next.start = c->next_from - (count + 1) / 2;
	} else {
		c->next_from = cycle + p;
		c->next.start = c->next_from;
	}
	c->next.period = count;
	c->has_next = true;
	c->null_count_until = c->next_from;
}

/* A whole count has been written to the CR ("Mode Definitions" for each
 * mode's reaction; "Null Count Operation"). */
static void counter_count_written(struct pit_counter *c, uint64_t t)
{
	uint32_t count = counter_initial_count(c);

	c->count_written = true;
	switch (c->mode) {
	case 0:
		/* OUT goes low; loaded on the next CLK, also with GATE low
		 * (which only keeps it from counting). */
		counter_load(c, t, count, false);
		c->running = c->gate;
		c->null_count_until = t + 1;
		break;
	case 4:
		/* Loaded on the next CLK; GATE low keeps it from counting. */
		counter_load(c, t, count, pit_counter_out(c, t));
		c->running = c->gate;
		c->null_count_until = t + 1;
		break;
	case 1:
	case 5:
		/* Waits for a trigger; a count in progress goes on. */
		c->null_count_until = NULL_COUNT_UNTIL_LOADED;
		break;
	default: /* 2, 3 */
		if (c->loaded && c->running && t >= c->cur.start) {
			counter_reload_at_cycle_end(c, t, count);
		} else if (c->loaded && c->running) {
			/* Written again before the CLK that loads the first. */
			c->cur.period = count;
			c->null_count_until = c->cur.start;
		} else {
			/* "After writing a Control Word and initial count, the
			 * Counter will be loaded on the next CLK pulse"; with
			 * GATE low it waits there for a trigger. */
			counter_load(c, t, count, true);
			c->running = c->gate;
			c->null_count_until = t + 1;
		}
		break;
	}
}

/* A data byte to a counter: the CR per the RW bits; LSB then MSB uses the
 * write flip-flop, which is separate from the read one (reads and writes
 * may interleave). */
static void counter_write_byte(struct pit_counter *c, uint8_t b, uint64_t t)
{
	counter_settle(c, t);
	switch (c->access) {
	case RW_LSB:
		c->count_register = b;
		break;
	case RW_MSB:
		c->count_register = (uint16_t)(b << 8);
		break;
	default:
		if (!c->write_msb_next) {
			c->count_register = (uint16_t)((c->count_register & 0xFF00) | b);
			c->write_msb_next = true;
			/* Mode 0: "Writing the first byte disables counting. OUT
			 * is set low immediately". */
			if (c->mode == 0) {
				c->held_value = (uint16_t)counter_ce(c, t);
				c->held_out = false;
				c->loaded = false;
				c->running = false;
				c->has_next = false;
			}
			return;
		}
		c->count_register = (uint16_t)((c->count_register & 0x00FF) | b << 8);
		c->write_msb_next = false;
		break;
	}
	counter_count_written(c, t);
}

/* GATE changed at tick t ("Gate" under "Operation Common to All Modes"
 * and each mode): modes 0 and 4 count only while it is high; in modes 1
 * and 5 a rising edge triggers; in modes 2 and 3 low stops counting and
 * forces OUT high, and a rising edge reloads the count. */
static void counter_set_gate(struct pit_counter *c, bool gate, uint64_t t)
{
	if (gate == c->gate)
		return;
	counter_settle(c, t);
	switch (c->mode) {
	case 0:
	case 4:
		if (!gate) {
			counter_freeze(c, t);
		} else if (c->loaded && !c->running) {
			/* The next CLK decrements again. */
			uint64_t from = t > c->cur.start ? t : c->cur.start;
			c->cur.start = from - c->frozen_elapsed;
			c->running = true;
		}
		break;
	case 1:
	case 5:
		if (gate && c->count_written)
			counter_trigger(c, t, pit_counter_out(c, t));
		break;
	default: /* 2, 3 */
		if (!gate) {
			counter_freeze(c, t);
			/* A count waiting for the end of the cycle stays in the
			 * CR: the next trigger loads it. */
			c->has_next = false;
			if (c->null_count_until > t)
				c->null_count_until = NULL_COUNT_UNTIL_LOADED;
		} else if (c->count_written) {
			counter_trigger(c, t, true);
		}
		break;
	}
	c->gate = gate;
}

/* ---- Latches and reads ---- */

/* "Counter Latch Command": a second latch before the count is read is
 * ignored; the latched count holds until read or until a control word. */
static void counter_latch_count(struct pit_counter *c, uint64_t t)
{
	if (c->count_latched)
		return;
	c->latched_count = pit_counter_value(c, t);
	c->count_latched = true;
}

/* "Status Byte", latched by a read-back command; again, only the first
 * latch before a read counts. */
static void counter_latch_status(struct pit_counter *c, uint64_t t)
{
	if (c->status_latched)
		return;
	c->latched_status = (uint8_t)((pit_counter_out(c, t) ? STATUS_OUTPUT : 0) |
				      (t < c->null_count_until ? STATUS_NULL_COUNT : 0) | c->control);
	c->status_latched = true;
}

/* A counter's data port read: a latched status first ("If both count and
 * status of a counter are latched, the first read operation of that
 * counter will return latched status"), then the latched count, else the
 * count at this moment; one or two bytes per the RW bits. */
static uint8_t counter_read(struct pit_counter *c, uint64_t t)
{
	bool msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->latched_status;
	}
	uint16_t v = c->count_latched ? c->latched_count : pit_counter_value(c, t);
	switch (c->access) {
	case RW_LSB:
		msb = false;
		c->count_latched = false;
		break;
	case RW_MSB:
		msb = true;
		c->count_latched = false;
		break;
	default:
		msb = c->read_msb_next;
		c->read_msb_next = !msb;
		if (msb)
			c->count_latched = false;
		break;
	}
	return (uint8_t)(msb ? v >> 8 : v);
}

/* A control word for one counter ("Control Word Format"): "all Control
 * Logic is immediately reset and OUT goes to a known initial state" (low
 * in mode 0, high in the others); both flip-flops and the latches are
 * reset and NULL COUNT is set.  The CE keeps its count, not counting,
 * until a count is written. */
static void counter_write_control(struct pit_counter *c, uint8_t cw, uint64_t t)
{
	counter_settle(c, t);
	c->held_value = (uint16_t)counter_ce(c, t);
	c->control = cw & 0x3F;
	c->mode = (cw >> 1) & 7;
	if (c->mode > 5) /* modes 6 and 7 are 2 and 3 (the M2 bit is "don't care") */
		c->mode -= 4;
	c->access = (cw >> 4) & 3;
	c->bcd = cw & 1;
	c->loaded = false;
	c->running = false;
	c->has_next = false;
	c->held_out = c->mode != 0;
	c->count_written = false;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->count_latched = false;
	c->status_latched = false;
	c->null_count_until = NULL_COUNT_UNTIL_LOADED;
}

/* ---- IRQ 0: counter 0's OUT ---- */

static void irq0_set_level(struct vm *vm, struct pit8254 *pit, bool level)
{
	if (pit->irq0_level == level)
		return;
	pit->irq0_level = level;
	vm_set_irq(vm, 0, level);
}

/*
 * OUT0's next change after tick t that the line must show.  A low pulse
 * of one CLK (838 ns: modes 2 and 4, mode 3 with a count of 3) is shown as
 * a fall and a rise together at its end: the 8259's IRQ 0 and the I/O
 * APIC's pin are edge-triggered, and one callback per pulse is enough.
 */
static uint64_t irq0_next_edge(const struct pit_counter *c, uint64_t t)
{
	uint64_t n = counter_next_change(c, t);

	if (n && !pit_counter_out(c, n) && pit_counter_out(c, n + 1))
		return n + 1;
	return n;
}

/*
 * Brings the line up to OUT0 at tick t: one rising edge when OUT0 rose
 * since the edge the timer was armed for (however many times: a guest
 * that has not run for many periods gets one tick, not a storm), then
 * OUT0's level.  Called before and after anything that changes counter 0,
 * and from the timer.
 */
static void irq0_catch_up(struct vm *vm, struct pit8254 *pit, uint64_t t)
{
	const struct pit_counter *c = &pit->counter[0];
	uint64_t edge = pit->irq0_edge_tick;

	if (edge && edge <= t) {
		bool rose = pit_counter_out(c, edge);
		if (!rose) {
			uint64_t rise = counter_next_change(c, edge);
			rose = rise && rise <= t;
		}
		if (rose) {
			irq0_set_level(vm, pit, false);
			irq0_set_level(vm, pit, true);
		}
		pit->irq0_edge_tick = 0;
	}
	irq0_set_level(vm, pit, pit_counter_out(c, t));
}

/* Arms the timer for OUT0's next edge after tick t, not before host TSC
 * not_before. */
static void irq0_arm(struct vm *vm, struct pit8254 *pit, uint64_t t, uint64_t not_before)
{
	uint64_t edge = irq0_next_edge(&pit->counter[0], t);
	uint64_t deadline = edge ? pit_tick_tsc(vm, edge) : 0;

	if (deadline && deadline < not_before)
		deadline = not_before;
	pit->irq0_edge_tick = edge;
	device_timer_arm(vm, pit->irq0_timer, deadline);
}

/*
 * The timer: the edges of a periodic mode re-arm it from here.  It is
 * re-armed no sooner than PIT_IRQ_MIN_REARM_US after it ran; edges in
 * between (a period that short, or a guest that did not run) become one.
 * KVM's in-kernel PIT instead counts missed periods and, by default,
 * reinjects them one per acknowledged interrupt (and clamps periodic counts
 * to 200 us); QEMU's own PIT steps through every missed transition at
 * once, and its 8259 merges those edges into the one request already
 * pending.  cvisor gives what that 8259 ends up with: one request.
 */
static void pit_irq0_fire(struct vm *vm, void *state, uint64_t now)
{
	struct pit8254 *pit = state;
	uint64_t t = pit_clock_tick(vm, now);

	irq0_catch_up(vm, pit, t);
	irq0_arm(vm, pit, t, now + device_clock_to_tsc(PIT_IRQ_MIN_REARM_US, 1000000, vm->devices.tsc_hz));
}

/* ---- Ports ---- */

/* "Read-Back Command": latches the count and/or status of each selected
 * counter. */
static void pit_read_back(struct pit8254 *pit, uint8_t cw, uint64_t t)
{
	for (unsigned i = 0; i < 3; i++) {
		if (!(cw & (2u << i)))
			continue;
		if (!(cw & READ_BACK_NO_STATUS))
			counter_latch_status(&pit->counter[i], t);
		if (!(cw & READ_BACK_NO_COUNT))
			counter_latch_count(&pit->counter[i], t);
	}
}

uint8_t pit8254_read(struct vm *vm, struct pit8254 *pit, unsigned offset, uint64_t now)
{
	if (offset > 2)
		return FLOATING_BUS;
	return counter_read(&pit->counter[offset], pit_clock_tick(vm, now));
}

void pit8254_write(struct vm *vm, struct pit8254 *pit, unsigned offset, uint8_t value, uint64_t now)
{
	if (offset > 3)
		return;
	uint64_t t = pit_clock_tick(vm, now);
	unsigned select = offset == 3 ? value >> 6 : offset;
	bool latch = offset == 3 && ((value >> 4) & 3) == CW_RW_LATCH;

	if (offset == 3 && select == CW_SELECT_READ_BACK) {
		pit_read_back(pit, value, t);
		return;
	}
	struct pit_counter *c = &pit->counter[select];
	if (latch) {
		counter_latch_count(c, t);
		return;
	}
	if (select == 0)
		irq0_catch_up(vm, pit, t);
	if (offset == 3)
		counter_write_control(c, value, t);
	else
		counter_write_byte(c, value, t);
	if (select == 0) {
		irq0_catch_up(vm, pit, t);
		irq0_arm(vm, pit, t, 0);
	}
}

/* Port 0x61 (NMI_SC): bits 3:0 read back as written; bit 4 toggles with
 * the refresh cycles a PC would run every 15.085 us, derived from time;
 * bit 5 is OUT2 at this moment; bits 7:6 report SERR# and IOCHK# NMI
 * sources, of which a VM has none: 0. */
uint8_t pit_port_b_read(struct vm *vm, struct pit8254 *pit, uint64_t now)
{
	uint64_t t = pit_clock_tick(vm, now);
	uint8_t v = pit->port_b;

	if ((t / PIT_REFRESH_TOGGLE_CLKS) & 1)
		v |= PORT_B_REFRESH;
	if (pit_counter_out(&pit->counter[2], t))
		v |= PORT_B_OUT2;
	return v;
}

/* Bits 7:4 are read-only; bit 0 is counter 2's GATE.  The speaker (bit 1
 * with OUT2) and the NMI enables (bits 3:2) have nothing to drive. */
void pit_port_b_write(struct vm *vm, struct pit8254 *pit, uint8_t value, uint64_t now)
{
	pit->port_b = value & PORT_B_WRITABLE;
	counter_set_gate(&pit->counter[2], value & PORT_B_GATE2, pit_clock_tick(vm, now));
}

/* The 8254 has 8-bit registers: a wider access touches consecutive ports
 * (what an ISA bridge does); bytes past 0x43 reach nothing. */
static uint32_t pit_port_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	uint64_t now = rdtsc();
	uint32_t value = 0;

	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)pit8254_read(vm, state, port + i - PIT_PORT_COUNTER0, now) << (8 * i);
	return value;
}

static void pit_port_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	uint64_t now = rdtsc();

	for (unsigned i = 0; i < size; i++)
		pit8254_write(vm, state, port + i - PIT_PORT_COUNTER0, (uint8_t)(value >> (8 * i)), now);
}

static uint32_t port_b_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	(void)port;
	/* Bytes past 0x61 reach nothing: all ones. */
	return pit_port_b_read(vm, state, rdtsc()) | (uint32_t)(0xFFFFFFFFull << 8 & ((1ull << (8 * size)) - 1));
}

static void port_b_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	(void)port;
	(void)size;
	pit_port_b_write(vm, state, (uint8_t)value, rdtsc());
}

static const struct port_ops pit_ops = { .read = pit_port_read, .write = pit_port_write };
static const struct port_ops port_b_ops = { .read = port_b_read, .write = port_b_write };

/*
 * The data sheet: "After power-up, the state of the 8254 is undefined.
 * The Mode, count value, and output of all Counters are undefined."  cvisor
 * starts each counter as if the control word "mode 0, LSB then MSB,
 * binary" had been written: OUT low (so IRQ 0 is low), NULL COUNT set, a
 * count of 0, and nothing counts until a count is written.  Port 0x61
 * starts at 00h (NMI_SC's default): GATE2 low.
 */
static void pit_power_up(struct pit8254 *pit)
{
	for (unsigned i = 0; i < 3; i++) {
		struct pit_counter *c = &pit->counter[i];
		*c = (struct pit_counter){ 0 };
		counter_write_control(c, (uint8_t)(i << 6 | RW_WORD << 4), 0);
		c->gate = i != 2; /* GATE0 and GATE1 are tied high on a PC */
	}
	pit->port_b = 0;
	pit->irq0_level = false;
	pit->irq0_edge_tick = 0;
}

/*
 * A VM reset: the 8254 has no RESET input, so the counters go on as
 * programmed; port 0x61 returns to 00h (NMI_SC is reset with the
 * platform), which lowers GATE2.  The reset disarmed every device timer:
 * counter 0's is armed again.
 */
static void pit_reset(struct vm *vm, void *state)
{
	struct pit8254 *pit = state;
	uint64_t now = rdtsc();
	uint64_t t = pit_clock_tick(vm, now);

	pit_port_b_write(vm, pit, 0, now);
	irq0_catch_up(vm, pit, t);
	irq0_arm(vm, pit, t, 0);
}

bool pit8254_attach(struct vm *vm)
{
	if (!vm->devices.tsc_hz) {
		log_printf("cvisor: VM %s: the 8254 needs the TSC's rate, which is unknown\n", vm->name);
		return false;
	}
	struct pit8254 *pit = vm_device_state(vm, sizeof(*pit), "8254 PIT");
	if (!pit)
		return false;
	pit_power_up(pit);
	pit->irq0_timer = vm_add_device_timer(vm, "8254 counter 0", pit_irq0_fire, pit);
	return pit->irq0_timer &&
	       vm_register_ports(vm, "8254 PIT", PIT_PORT_COUNTER0, PIT_PORT_CONTROL, &pit_ops, pit) &&
	       vm_register_ports(vm, "port 0x61", PORT_SYSTEM_CONTROL_B, PORT_SYSTEM_CONTROL_B,
				 &port_b_ops, pit) &&
	       vm_add_device_reset(vm, "8254 PIT", pit_reset, pit);
}
