/*
 * The PC's timers driving a guest's clock through the PC's interrupt
 * controllers, end to end: each source is programmed, the vCPU sleeps
 * with STI; HLT, and every tick must wake it and run its handler, at the
 * programmed rate.
 *
 *   1. Real mode: PIT counter 0 (mode 3, as a BIOS runs it) through the
 *      8259A (ICW2 0x08) to a handler in the IVT (real_mode.S).
 *   2. Protected mode: PIT counter 0 (mode 2) through the 8259A at vector
 *      0x20, the local APIC as cvisor starts it (virtual wire: LINT0 in
 *      ExtINT mode) and its timer untouched.
 *   3. The RTC's periodic interrupt (IRQ 8) through the slave 8259A and
 *      the master's IR2 (cascade), register C read in the handler.
 *   4. With the 8259A pair masked, LINT0 masked and the local APIC
 *      software-enabled: PIT ticks through I/O APIC pin 2 (the MADT's
 *      override of ISA IRQ 0), then the RTC through pin 8.
 *   5. A level-triggered interrupt through the I/O APIC: COM1's THR-empty
 *      interrupt on pin 4, with remote IRR holding back a re-raised
 *      request until the EOI, and an EOI without silencing the UART
 *      bringing the interrupt back; an edge-triggered pin for contrast.
 *
 * Rates are measured with the TSC, whose rate cvisor reports in CPUID
 * leaf 0x40000010 (EAX, kHz).  The mean period is timed from the second
 * tick to the last: the first can come early (a control word raises OUT
 * at once in modes 2 and 3, and a request masked earlier may wait in the
 * 8259's IRR).  Nothing is printed while ticks are counted.
 */
#define TRAPS_IRQ_IMPLEMENTATION
#include "abi/devices.h"
#include "cmos.h"
#include "guest.h"
#include "irq.h"
#include "lib/format.h"
#include "lib/mem.h"
#include "probe.h"
#include "real_mode.h"

/* ---- the devices' registers ---- */

#define PIC_MASTER_COMMAND 0x20
#define PIC_MASTER_DATA    0x21
#define PIC_SLAVE_COMMAND  0xA0
#define PIC_SLAVE_DATA     0xA1
#define PIC_MASTER_VECTORS 0x20
#define PIC_SLAVE_VECTORS  0x28
#define OCW2_EOI           0x20
#define OCW3_READ_ISR      0x0B
#define PIC_CASCADE_BIT    (1u << 2)

#define PIT_COUNTER0 0x40
#define PIT_CONTROL  0x43
#define PIT_HZ       1193182u
#define PIT_COUNT    1193u /* 1000.15 Hz */
#define PIT_RW_WORD  3     /* LSB then MSB */

#define RTC_REG_A  0x0A
#define RTC_REG_B  0x0B
#define RTC_REG_C  0x0C
#define RTC_A_1024HZ 0x26  /* DV 010 (32.768 kHz time base), RS 0110 */
#define RTC_B_PIE  0x40
#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_HZ     1024u

#define COM1_IER (PORT_COM1 + 1)
#define COM1_IIR (PORT_COM1 + 2)
#define COM1_LCR (PORT_COM1 + 3)
#define COM1_MCR (PORT_COM1 + 4)
#define LCR_8N1   0x03
#define IER_ETBEI 0x02
#define MCR_OUT2  0x08
#define IIR_ID_MASK 0x0F
#define IIR_NONE  0x01
#define IIR_THRE  0x02

#define APIC_REG(off) (*(volatile uint32_t *)(0xFEE00000u + (off)))
#define APIC_EOI        0xB0
#define APIC_SVR        0xF0
#define APIC_ISR0       0x100
#define APIC_TMR0       0x180
#define APIC_IRR0       0x200
#define APIC_LVT_TIMER  0x320
#define APIC_LVT_LINT0  0x350
#define APIC_TIMER_INITIAL 0x380
#define LVT_MASKED      (1u << 16)
#define LVT_DM_EXTINT   (7u << 8)
#define LVT_DM_MASK     (7u << 8)
#define SPURIOUS_VECTOR 0xFF
#define SVR_ENABLE      (1u << 8)

#define IOAPIC_BASE 0xFEC00000u
#define IOREGSEL    (*(volatile uint32_t *)(IOAPIC_BASE + 0x00))
#define IOWIN       (*(volatile uint32_t *)(IOAPIC_BASE + 0x10))
#define IOAPIC_ENTRY(pin) (0x10 + 2 * (pin))
#define RTE_LEVEL      (1u << 15)
#define RTE_REMOTE_IRR (1u << 14)
#define RTE_MASKED     (1u << 16)

#define PIT_PIN  2 /* ISA IRQ 0, the MADT's interrupt source override */
#define UART_PIN 4
#define RTC_PIN  8
#define PIT_APIC_VECTOR   0x30
#define PIN0_VECTOR       0x31
#define RTC_APIC_VECTOR   0x38
#define UART_APIC_VECTOR  0x44
#define REAL_MODE_VECTORS 0x08 /* ICW2 as a PC BIOS programs it */

#define TICKS     32u /* per run: about 32 ms of guest time */
#define MAX_TICKS 64u

/* ---- small helpers ---- */

static uint32_t tsc_khz;

static uint64_t tsc_hz(void)
{
	return (uint64_t)tsc_khz * 1000;
}

static void spin_with_interrupts(uint64_t tsc_ticks)
{
	uint64_t end = guest_rdtsc() + tsc_ticks;
	guest_irq_enable();
	while (guest_rdtsc() < end)
		;
	guest_irq_disable();
}

static uint8_t pic_read_isr(uint16_t command)
{
	guest_outb(command, OCW3_READ_ISR);
	return guest_inb(command);
}

/* ICW1-ICW4 as a PC programs the pair (Intel 8259A data sheet):
 * edge-triggered, cascaded on IR2, 8086 mode; everything masked. */
static void pic_initialize(uint8_t master_vectors, uint8_t slave_vectors)
{
	guest_outb(PIC_MASTER_COMMAND, 0x11);
	guest_outb(PIC_MASTER_DATA, master_vectors);
	guest_outb(PIC_MASTER_DATA, 0x04);
	guest_outb(PIC_MASTER_DATA, 0x01);
	guest_outb(PIC_SLAVE_COMMAND, 0x11);
	guest_outb(PIC_SLAVE_DATA, slave_vectors);
	guest_outb(PIC_SLAVE_DATA, 0x02);
	guest_outb(PIC_SLAVE_DATA, 0x01);
	guest_outb(PIC_MASTER_DATA, 0xFF);
	guest_outb(PIC_SLAVE_DATA, 0xFF);
}

static void pic_set_masks(uint8_t master, uint8_t slave)
{
	guest_outb(PIC_MASTER_DATA, master);
	guest_outb(PIC_SLAVE_DATA, slave);
}

/* Counter 0 periodic (mode 2 or 3) with a two-byte count (Intel 8254). */
static void pit_start_periodic(unsigned mode, uint16_t count)
{
	guest_outb(PIT_CONTROL, (uint8_t)(PIT_RW_WORD << 4 | mode << 1));
	guest_outb(PIT_COUNTER0, (uint8_t)count);
	guest_outb(PIT_COUNTER0, (uint8_t)(count >> 8));
}

/* A mode 0 control word without a count: OUT (IRQ 0) low, no counting. */
static void pit_stop(void)
{
	guest_outb(PIT_CONTROL, PIT_RW_WORD << 4);
}


/* 1024 Hz periodic interrupts (MC146818A: RS 0110, PIE); stale flags
 * are cleared first by reading register C. */
static void rtc_periodic_on(void)
{
	cmos_write(RTC_REG_A, RTC_A_1024HZ);
	(void)cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) | RTC_B_PIE);
}

static void rtc_periodic_off(void)
{
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) & ~RTC_B_PIE);
	(void)cmos_read(RTC_REG_C);
}

static bool apic_vector_bit(unsigned base, uint8_t vector)
{
	return APIC_REG(base + (vector / 32u) * 0x10) >> (vector % 32) & 1;
}

static uint32_t ioapic_read(uint8_t index)
{
	IOREGSEL = index;
	return IOWIN;
}

static void ioapic_write(uint8_t index, uint32_t value)
{
	IOREGSEL = index;
	IOWIN = value;
}

/* An entry to APIC ID 0 (physical), fixed delivery, active high. */
static void ioapic_route(unsigned pin, uint8_t vector, bool level, bool masked)
{
	ioapic_write((uint8_t)(IOAPIC_ENTRY(pin) + 1), 0);
	ioapic_write((uint8_t)IOAPIC_ENTRY(pin),
		     vector | (level ? RTE_LEVEL : 0) | (masked ? RTE_MASKED : 0));
}

static void ioapic_mask(unsigned pin)
{
	ioapic_write((uint8_t)IOAPIC_ENTRY(pin), RTE_MASKED);
}

/* ---- ticks ---- */

enum tick_eoi { EOI_MASTER, EOI_SLAVE_AND_MASTER, EOI_LOCAL_APIC };

static volatile enum tick_eoi tick_eoi;
static volatile bool tick_reads_register_c;
static volatile unsigned ticks, halts;
static volatile uint64_t tick_tsc[MAX_TICKS];
/* What the first handler of a run saw in service: the 8259s' ISRs (slave
 * in bits 15:8), or 1 when the local APIC's ISR held the vector. */
static volatile unsigned first_in_service;

static volatile unsigned unexpected;
static volatile uint32_t unexpected_vector;

static void tick_handler(uint32_t vector, uint32_t eip)
{
	(void)eip;
	uint64_t now = guest_rdtsc();
	if (ticks < MAX_TICKS)
		tick_tsc[ticks] = now;
	if (ticks == 0)
		first_in_service = tick_eoi == EOI_LOCAL_APIC
					   ? apic_vector_bit(APIC_ISR0, (uint8_t)vector)
					   : (unsigned)pic_read_isr(PIC_MASTER_COMMAND) |
						     (unsigned)pic_read_isr(PIC_SLAVE_COMMAND) << 8;
	ticks++;
	/* The RTC holds IRQ 8 high until register C is read (MC146818A). */
	if (tick_reads_register_c)
		(void)cmos_read(RTC_REG_C);
	switch (tick_eoi) {
	case EOI_SLAVE_AND_MASTER:
		/* The slave's IRQ, then the master's IR2 (the cascade). */
		guest_outb(PIC_SLAVE_COMMAND, OCW2_EOI);
		guest_outb(PIC_MASTER_COMMAND, OCW2_EOI);
		break;
	case EOI_MASTER:
		guest_outb(PIC_MASTER_COMMAND, OCW2_EOI);
		break;
	case EOI_LOCAL_APIC:
		APIC_REG(APIC_EOI) = 0;
		break;
	}
}

/* Any vector nobody expects: counted and ended. */
static void unexpected_handler(uint32_t vector, uint32_t eip)
{
	(void)eip;
	unexpected++;
	unexpected_vector = vector;
	if (vector >= PIC_SLAVE_VECTORS && vector < PIC_SLAVE_VECTORS + 8)
		guest_outb(PIC_SLAVE_COMMAND, OCW2_EOI);
	if (vector >= PIC_MASTER_VECTORS && vector < PIC_SLAVE_VECTORS + 8)
		guest_outb(PIC_MASTER_COMMAND, OCW2_EOI);
	else if (vector != SPURIOUS_VECTOR)
		APIC_REG(APIC_EOI) = 0;
}

static void ticks_reset(enum tick_eoi eoi, bool reads_register_c)
{
	tick_eoi = eoi;
	tick_reads_register_c = reads_register_c;
	ticks = 0;
	halts = 0;
	first_in_service = 0;
	for (unsigned i = 0; i < MAX_TICKS; i++)
		tick_tsc[i] = 0;
}

/* STI; HLT until n ticks are in: each HLT must end with a tick. */
static void sleep_until_ticks(unsigned n)
{
	while (ticks < n) {
		halts++;
		guest_sleep_with_interrupts();
	}
}

/*
 * The checks of one run: n ticks in n HLTs; the mean period from the
 * second tick to the last within 1% of the programmed one; no interval
 * off by half a period or more (a lost tick doubles one, a doubled tick
 * halves one).
 */
static void check_tick_run(const char *what, unsigned n_ticks, unsigned n_halts,
			   const volatile uint64_t *tsc, uint64_t period)
{
	char name[160];
	unsigned n = n_ticks < MAX_TICKS ? n_ticks : MAX_TICKS;

	fmt_snprintf(name, sizeof(name), "%s: %u ticks, each one ending a HLT", what, TICKS);
	check(n_ticks == TICKS && n_halts == TICKS, name);
	if (n < 3) {
		say("%s: %u ticks in %u HLTs: too few to time", what, n_ticks, n_halts);
		check(false, "enough ticks to measure the rate");
		return;
	}
	uint64_t shortest = ~0ull, longest = 0;
	for (unsigned i = 2; i < n; i++) {
		uint64_t interval = tsc[i] - tsc[i - 1];
		shortest = interval < shortest ? interval : shortest;
		longest = interval > longest ? interval : longest;
	}
	uint64_t mean = (tsc[n - 1] - tsc[1]) / (n - 2);
	uint64_t error = mean > period ? mean - period : period - mean;
	say("%s: %u ticks in %u HLTs; mean period %llu TSC ticks (programmed %llu), "
	    "intervals %llu to %llu",
	    what, n_ticks, n_halts, (unsigned long long)mean, (unsigned long long)period,
	    (unsigned long long)shortest, (unsigned long long)longest);
	fmt_snprintf(name, sizeof(name), "%s: the mean period is the programmed one (within 1%%)",
		     what);
	check(error * 100 <= period, name);
	fmt_snprintf(name, sizeof(name), "%s: no tick lost or doubled (every interval within 50%%)",
		     what);
	check(shortest * 2 > period && longest * 2 < period * 3, name);
}

static uint64_t pit_period(void)
{
	return tsc_hz() * PIT_COUNT / PIT_HZ;
}

static uint64_t rtc_period(void)
{
	return tsc_hz() / RTC_HZ;
}

/* ---- 1. real mode ---- */

static void check_real_mode_pit(void)
{
	struct real_mode_data *rd =
		(struct real_mode_data *)(uintptr_t)(REAL_MODE_PA +
						     (real_mode_data_block - real_mode_stub_start));

	memcpy((void *)(uintptr_t)REAL_MODE_PA, real_mode_stub_start,
	       (size_t)(real_mode_stub_end - real_mode_stub_start));
	memset(rd, 0, sizeof(*rd));
	rd->pit_control = PIT_RW_WORD << 4 | 3u << 1; /* counter 0, mode 3 */
	rd->pit_count = PIT_COUNT;
	rd->vector_base = REAL_MODE_VECTORS;
	rd->target_ticks = TICKS;
	real_mode_run();
	pit_stop();

	check((rd->cr0 & 1) == 0, "real mode: CR0.PE reads 0 after the switch");
	check_tick_run("real mode, PIT mode 3 through the 8259 (IVT vector 0x08)", rd->ticks,
		       rd->halts, rd->tick_tsc, pit_period());
	check(rd->cs == REAL_MODE_SEG && rd->isr == 0x01,
	      "real mode: the handler ran from IVT entry 0x08 (CS 0x0800) with IRQ 0 in service");
	check(rd->other == 0, "real mode: no interrupt at the master's other vectors");
}

/* ---- 2 and 3: through the 8259A pair ---- */

static void check_pit_through_8259(void)
{
	ticks_reset(EOI_MASTER, false);
	pic_initialize(PIC_MASTER_VECTORS, PIC_SLAVE_VECTORS);
	pic_set_masks(0xFE, 0xFF);
	pit_start_periodic(2, PIT_COUNT);
	sleep_until_ticks(TICKS);
	pic_set_masks(0xFF, 0xFF);
	pit_stop();

	check_tick_run("PIT mode 2 through the 8259 (vector 0x20)", ticks, halts, tick_tsc,
		       pit_period());
	check(first_in_service == 0x01, "PIT through the 8259: the handler sees IRQ 0 in service");
	check((APIC_REG(APIC_LVT_TIMER) & LVT_MASKED) && APIC_REG(APIC_TIMER_INITIAL) == 0,
	      "PIT through the 8259: the local APIC timer stayed masked and unarmed");
}

/*
 * IRQ 8 keeps its level until register C is read (MC146818A), and every
 * controller acts on its rising edge: a handler that leaves C unread gets
 * no second interrupt; the read lowers IRQ 8 and the next periodic flag
 * raises it again.
 */
static void check_register_c_gates_ticks(const char *what, enum tick_eoi eoi)
{
	char name[160];

	ticks_reset(eoi, false);
	rtc_periodic_on();
	sleep_until_ticks(1);
	spin_with_interrupts(8 * rtc_period());
	unsigned unread = ticks;
	uint8_t c = cmos_read(RTC_REG_C);
	sleep_until_ticks(2);
	unsigned after_read = ticks;
	rtc_periodic_off();

	fmt_snprintf(name, sizeof(name),
		     "%s: register C left unread, no further interrupt in 8 periods", what);
	check(unread == 1, name);
	fmt_snprintf(name, sizeof(name), "%s: register C then reads IRQF and PF", what);
	check((c & (RTC_C_IRQF | RTC_C_PF)) == (RTC_C_IRQF | RTC_C_PF), name);
	fmt_snprintf(name, sizeof(name), "%s: after that read the next periodic flag interrupts",
		     what);
	check(after_read == 2, name);
}

static void check_rtc_through_8259(void)
{
	ticks_reset(EOI_SLAVE_AND_MASTER, true);
	pic_set_masks((uint8_t)~PIC_CASCADE_BIT, 0xFE);
	rtc_periodic_on();
	sleep_until_ticks(TICKS);
	rtc_periodic_off();

	check_tick_run("RTC 1024 Hz through the slave 8259 (IRQ 8, vector 0x28)", ticks, halts,
		       tick_tsc, rtc_period());
	check(first_in_service == (0x01u << 8 | PIC_CASCADE_BIT),
	      "RTC through the 8259: the handler sees IRQ 8 in service on the slave, IR2 on the master");
	check_register_c_gates_ticks("RTC through the 8259", EOI_SLAVE_AND_MASTER);
	pic_set_masks(0xFF, 0xFF);
}

/* ---- 4: through the I/O APIC ---- */

/* What an APIC-mode OS does: the pair masked, LINT0 masked, the local
 * APIC software-enabled (SDM Vol. 3A 11.4.7.1). */
static void switch_to_apic_mode(void)
{
	pic_set_masks(0xFF, 0xFF);
	APIC_REG(APIC_SVR) = SVR_ENABLE | SPURIOUS_VECTOR;
	APIC_REG(APIC_LVT_LINT0) = LVT_MASKED | LVT_DM_EXTINT;
}

static void check_pit_through_ioapic(void)
{
	unsigned unexpected_before = unexpected;

	ticks_reset(EOI_LOCAL_APIC, false);
	ioapic_route(PIT_PIN, PIT_APIC_VECTOR, false, false);
	/* Pin 0 hears nothing on a PC with the override (its interrupts
	 * would count as unexpected). */
	ioapic_route(0, PIN0_VECTOR, false, false);
	pit_start_periodic(2, PIT_COUNT);
	sleep_until_ticks(TICKS);
	ioapic_mask(PIT_PIN);
	ioapic_mask(0);
	pit_stop();

	check_tick_run("PIT mode 2 through I/O APIC pin 2 (vector 0x30)", ticks, halts, tick_tsc,
		       pit_period());
	check(first_in_service == 1,
	      "PIT through the I/O APIC: the local APIC's ISR holds vector 0x30 in the handler");
	check(unexpected == unexpected_before,
	      "PIT through the I/O APIC: nothing from pin 0 or the masked 8259");
}

static void check_rtc_through_ioapic(void)
{
	ticks_reset(EOI_LOCAL_APIC, true);
	ioapic_route(RTC_PIN, RTC_APIC_VECTOR, false, false);
	rtc_periodic_on();
	sleep_until_ticks(TICKS);
	rtc_periodic_off();

	check_tick_run("RTC 1024 Hz through I/O APIC pin 8 (vector 0x38)", ticks, halts, tick_tsc,
		       rtc_period());
	check_register_c_gates_ticks("RTC through the I/O APIC", EOI_LOCAL_APIC);
	ioapic_mask(RTC_PIN);
}

/* ---- 5: a level-triggered interrupt ---- */

enum uart_handling {
	/* Read IIR (silences THRE), raise THRE again, look at IRR, EOI,
	 * look again; then UART_SILENCE. */
	UART_SILENCE_RERAISE_EOI,
	UART_SILENCE,
	/* EOI without silencing until the third interrupt. */
	UART_SILENCE_ON_THIRD,
};

static volatile enum uart_handling uart_handling;
static volatile unsigned uart_interrupts;
static volatile uint32_t entry_in_handler;
static volatile bool tmr_in_handler, irr_before_eoi, irr_after_eoi;

/* ETBEI off and on: a 16550 raises its THRE source anew (PC16550D IER). */
static void uart_raise_thre(void)
{
	guest_outb(COM1_IER, 0);
	guest_outb(COM1_IER, IER_ETBEI);
}

static void uart_handler(uint32_t vector, uint32_t eip)
{
	(void)eip;
	uart_interrupts++;
	if (uart_interrupts == 1) {
		entry_in_handler = ioapic_read((uint8_t)IOAPIC_ENTRY(UART_PIN));
		tmr_in_handler = apic_vector_bit(APIC_TMR0, (uint8_t)vector);
	}
	switch (uart_handling) {
	case UART_SILENCE_RERAISE_EOI:
		(void)guest_inb(COM1_IIR);
		uart_raise_thre();
		irr_before_eoi = apic_vector_bit(APIC_IRR0, (uint8_t)vector);
		APIC_REG(APIC_EOI) = 0;
		irr_after_eoi = apic_vector_bit(APIC_IRR0, (uint8_t)vector);
		uart_handling = UART_SILENCE;
		return;
	case UART_SILENCE:
		(void)guest_inb(COM1_IIR);
		break;
	case UART_SILENCE_ON_THIRD:
		if (uart_interrupts >= 3)
			(void)guest_inb(COM1_IIR);
		break;
	}
	APIC_REG(APIC_EOI) = 0;
}

static void uart_reset_handler(enum uart_handling how)
{
	uart_handling = how;
	uart_interrupts = 0;
	entry_in_handler = 0;
	tmr_in_handler = irr_before_eoi = irr_after_eoi = false;
}

static void check_level_triggered_uart(void)
{
	guest_outb(COM1_IER, 0);
	guest_outb(COM1_LCR, LCR_8N1);
	guest_outb(COM1_MCR, MCR_OUT2);
	ioapic_route(UART_PIN, UART_APIC_VECTOR, true, true);

	/* THRE asserts IRQ 4 while the pin is masked: nothing is sent. */
	uart_reset_handler(UART_SILENCE_RERAISE_EOI);
	guest_outb(COM1_IER, IER_ETBEI);
	bool quiet = !(ioapic_read((uint8_t)IOAPIC_ENTRY(UART_PIN)) & RTE_REMOTE_IRR) &&
		     !apic_vector_bit(APIC_IRR0, UART_APIC_VECTOR);
	ioapic_route(UART_PIN, UART_APIC_VECTOR, true, false);
	uint32_t entry = ioapic_read((uint8_t)IOAPIC_ENTRY(UART_PIN));
	bool sent = (entry & RTE_REMOTE_IRR) && apic_vector_bit(APIC_IRR0, UART_APIC_VECTOR) &&
		    apic_vector_bit(APIC_TMR0, UART_APIC_VECTOR);
	guest_take_pending_interrupts();
	unsigned level_interrupts = uart_interrupts;
	bool in_handler_irr = entry_in_handler & RTE_REMOTE_IRR, in_handler_tmr = tmr_in_handler;
	bool before = irr_before_eoi, after = irr_after_eoi;
	bool idle = (guest_inb(COM1_IIR) & IIR_ID_MASK) == IIR_NONE &&
		    !(ioapic_read((uint8_t)IOAPIC_ENTRY(UART_PIN)) & RTE_REMOTE_IRR);

	/* An EOI while the UART still asserts IRQ 4 sends it again. */
	uart_reset_handler(UART_SILENCE_ON_THIRD);
	uart_raise_thre();
	guest_take_pending_interrupts();
	unsigned storm = uart_interrupts;

	/* Edge-triggered for contrast: no remote IRR holds the re-raised
	 * request back. */
	ioapic_route(UART_PIN, UART_APIC_VECTOR, false, false);
	uart_reset_handler(UART_SILENCE_RERAISE_EOI);
	uart_raise_thre();
	guest_take_pending_interrupts();
	unsigned edge_interrupts = uart_interrupts;
	bool edge_before = irr_before_eoi, edge_tmr = tmr_in_handler;
	bool edge_remote = entry_in_handler & RTE_REMOTE_IRR;

	ioapic_mask(UART_PIN);
	guest_outb(COM1_IER, 0);
	guest_outb(COM1_MCR, 0);

	check(quiet, "level pin 4 masked: the UART's THRE asserts IRQ 4, nothing is sent");
	check(sent, "unmasked with IRQ 4 asserted: sent at once, remote IRR set, vector 0x44 in IRR and TMR");
	check(in_handler_irr && in_handler_tmr,
	      "in the handler: remote IRR is set, TMR marks vector 0x44 level-triggered");
	check(!before, "THRE raised again before the EOI: remote IRR holds it back (not in IRR)");
	check(after, "the EOI clears remote IRR and the asserted line sends again (in IRR)");
	check(level_interrupts == 2,
	      "the second interrupt comes after the EOI; the IIR read silences it: 2 in all");
	check(idle, "then IIR reads no interrupt pending and remote IRR is clear");
	check(storm == 3,
	      "an EOI while the UART still asserts IRQ 4 brings it back: 3 interrupts until silenced");
	check(edge_interrupts == 2 && edge_before && !edge_remote && !edge_tmr,
	      "edge-triggered pin 4: the re-raised THRE is in IRR before the EOI, no remote IRR or TMR bit");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	traps_init();
	for (unsigned v = 0x20; v <= 0xFF; v++)
		traps_set_handler(v, unexpected_handler);
	traps_set_handler(PIC_MASTER_VECTORS, tick_handler);
	traps_set_handler(PIC_SLAVE_VECTORS, tick_handler);
	traps_set_handler(PIT_APIC_VECTOR, tick_handler);
	traps_set_handler(RTC_APIC_VECTOR, tick_handler);
	traps_set_handler(UART_APIC_VECTOR, uart_handler);

	struct guest_cpuid max = guest_cpuid(0x40000000, 0);
	if (max.eax >= 0x40000010)
		tsc_khz = guest_cpuid(0x40000010, 0).eax;
	say("TSC %u kHz (CPUID 0x40000010); PIT period %llu, RTC period %llu TSC ticks", tsc_khz,
	    (unsigned long long)pit_period(), (unsigned long long)rtc_period());
	check(tsc_khz != 0, "CPUID leaf 0x40000010 reports the TSC rate");
	if (!tsc_khz)
		return (int)failures();

	uint32_t lint0 = APIC_REG(APIC_LVT_LINT0);
	check(!(lint0 & LVT_MASKED) && (lint0 & LVT_DM_MASK) == LVT_DM_EXTINT,
	      "vCPU 0 starts in virtual-wire mode: LINT0 is ExtINT, unmasked");

	check_real_mode_pit();
	check_pit_through_8259();
	check_rtc_through_8259();
	switch_to_apic_mode();
	check_pit_through_ioapic();
	check_rtc_through_ioapic();
	check_level_triggered_uart();

	check(unexpected == 0, "no interrupt arrived at any other vector");
	if (unexpected)
		say("%u unexpected interrupt(s), the last at vector 0x%x", unexpected,
		    (unsigned)unexpected_vector);
	say("pc_timers: done, %u failure(s)", failures());
	return (int)failures();
}
