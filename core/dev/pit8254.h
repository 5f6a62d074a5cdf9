/*
 * The PC's interval timer, an Intel 8254 Programmable Interval Timer
 * (ports 0x40-0x43), and the PC's system control port B at 0x61 (the
 * PIIX/ICH "NMI status and control" register), which gates counter 2 and
 * reads its OUT pin.
 *
 * The counters' CLK is 1.193182 MHz derived from the host TSC, which the
 * guest TSC follows: nothing ticks in software; a counter's count and OUT
 * are computed from the TSC when read.  Counter 0's GATE is tied high and
 * its OUT drives ISA IRQ 0 (vm_set_irq); one device timer raises its edges
 * at the right TSC.  Counter 1 (DRAM refresh on a PC) counts and drives
 * nothing.  Counter 2's GATE is port 0x61 bit 0 and its OUT is port 0x61
 * bit 5.
 */
#ifndef CVISOR_DEV_PIT8254_H
#define CVISOR_DEV_PIT8254_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct device_timer;

#define PIT_PORT_COUNTER0 0x40
#define PIT_PORT_COUNTER2 0x42
#define PIT_PORT_CONTROL  0x43 /* control word register (write only) */
#define PORT_SYSTEM_CONTROL_B 0x61

/* The PC's 8254 input clock: 14.31818 MHz / 12. */
#define PIT_CLOCK_HZ 1193182u

/* Port 0x61 bits (PIIX4/ICH NMI_SC register). */
#define PORT_B_GATE2         0x01 /* rw: counter 2's GATE */
#define PORT_B_SPEAKER       0x02 /* rw: speaker data enable (OUT2 to the speaker) */
#define PORT_B_SERR_DISABLE  0x04 /* rw: PCI SERR# NMI enable (1: disabled) */
#define PORT_B_IOCHK_DISABLE 0x08 /* rw: IOCHK# NMI enable (1: disabled) */
#define PORT_B_REFRESH       0x10 /* ro: refresh cycle toggle */
#define PORT_B_OUT2          0x20 /* ro: counter 2's OUT */
#define PORT_B_WRITABLE      0x0F

/* The refresh toggle flips every 18 CLKs of the 8254 (15.085 us). */
#define PIT_REFRESH_TOGGLE_CLKS 18
/* Counter 0's timer is re-armed from its callback no sooner than this
 * after it ran (KVM's min_timer_period_us): a guest cannot keep a vCPU
 * in its timer callbacks with a tiny periodic count. */
#define PIT_IRQ_MIN_REARM_US 200

/* A count loaded into the counting element (CE): at CLK tick `start` the
 * CE holds `period` (1-65536, or 1-10000 in BCD), and everything after
 * follows from the mode and the ticks elapsed. */
struct pit_segment {
	uint64_t start;
	uint32_t period;
};

struct pit_counter {
	/* From the last control word (8254 data sheet, "Control Word Format"). */
	uint8_t control;         /* bits 5:0 as written: RW, mode, BCD (the status byte's low bits) */
	uint8_t mode;            /* 0-5 (modes 6 and 7 are 2 and 3) */
	uint8_t access;          /* RW: 1 LSB only, 2 MSB only, 3 LSB then MSB */
	bool bcd;
	bool gate;
	/* The count register (CR) as written, and its two flip-flops. */
	uint16_t count_register;
	bool count_written;      /* a whole count was written since the control word */
	bool write_msb_next, read_msb_next;
	/* The output latch (OL) and the status latch. */
	bool count_latched, status_latched;
	uint16_t latched_count;
	uint8_t latched_status;
	/* NULL COUNT reads 1 at ticks before this (UINT64_MAX: until a trigger). */
	uint64_t null_count_until;
	/* The counting element: without a loaded segment it holds held_value
	 * and OUT is held_out; so also at ticks before cur.start. */
	bool loaded;
	bool running;            /* counting; else frozen at frozen_elapsed (GATE low) */
	uint64_t frozen_elapsed;
	struct pit_segment cur;
	/* Modes 2 and 3: a new count that takes over at tick next_from (the
	 * end of the current cycle or half-cycle); next.start may lie before
	 * next_from (a mode 3 count that starts in its low half). */
	bool has_next;
	uint64_t next_from;
	struct pit_segment next;
	uint16_t held_value;
	bool held_out;
};

struct pit8254 {
	struct pit_counter counter[3];
	uint8_t port_b;          /* port 0x61 bits 3:0 */
	/* IRQ 0: the level given to the interrupt route, the OUT0 change the
	 * timer is armed for (tick; 0: none) and the timer. */
	bool irq0_level;
	uint64_t irq0_edge_tick;
	struct device_timer *irq0_timer;
};

/* Port accesses at host TSC now: offset 0-3 from port 0x40, one byte. */
uint8_t pit8254_read(struct vm *vm, struct pit8254 *pit, unsigned offset, uint64_t now);
void pit8254_write(struct vm *vm, struct pit8254 *pit, unsigned offset, uint8_t value, uint64_t now);
uint8_t pit_port_b_read(struct vm *vm, struct pit8254 *pit, uint64_t now);
void pit_port_b_write(struct vm *vm, struct pit8254 *pit, uint8_t value, uint64_t now);

/* Registers ports 0x40-0x43 and 0x61, counter 0's timer and the reset. */
bool pit8254_attach(struct vm *vm);

#endif
