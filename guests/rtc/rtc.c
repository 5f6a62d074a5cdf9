/*
 * The MC146818A real-time clock and the CMOS RAM (ports 0x70/0x71) checked
 * from the inside, without interrupts: the flags are polled in register C.
 *
 *   the state firmware leaves (registers A, B, D), a plausible date (BCD
 *   fields, year >= 2025, the day of week agreeing with the date), a
 *   seconds tick seen through UIP and the seconds register, binary and
 *   12-hour reads, a 12-hour 11:59:59 PM rolling into the next day, SET
 *   holding the clock, a divider reset stopping it and the first update
 *   0.5 s after its release, the periodic flag PF at two rates, register C
 *   clearing on read, the alarm with don't-care bytes, the NMI bit of the
 *   index port, and the CMOS memory sizes against the Multiboot memory
 *   size (what the mem= option gave the VM).
 *
 * One RTC second is measured in TSC ticks between two UIP rises; the
 * other durations are checked against it with a 5% tolerance (polling
 * costs a few thousand TSC ticks per read in Bochs, where a second is
 * about ten million).
 */
#include "abi/devices.h"
#include "cmos.h"
#include "guest.h"

#define REG_SECONDS        0x00
#define REG_SECONDS_ALARM  0x01
#define REG_MINUTES        0x02
#define REG_MINUTES_ALARM  0x03
#define REG_HOURS          0x04
#define REG_HOURS_ALARM    0x05
#define REG_DAY_OF_WEEK    0x06
#define REG_DAY_OF_MONTH   0x07
#define REG_MONTH          0x08
#define REG_YEAR           0x09
#define REG_A              0x0A
#define REG_B              0x0B
#define REG_C              0x0C
#define REG_D              0x0D
#define REG_CENTURY        0x32

#define A_UIP       0x80
#define A_DV_32KHZ  0x20
#define A_DV_RESET  0x60
#define B_SET       0x80
#define B_BINARY    0x04
#define B_24H       0x02
#define C_IRQF      0x80
#define C_PF        0x40
#define C_AF        0x20
#define C_UF        0x10
#define HOUR_PM     0x80
#define DONT_CARE   0xC0
#define NMI_MASK    0x80

/* Before the TSC is calibrated, waits are bounded by a number of reads. */
#define MAX_POLLS 20000000u

static uint64_t tsc_per_second; /* measured between two UIP rises */


static bool valid_bcd(uint8_t v)
{
	return (v & 0x0F) <= 9 && (v >> 4) <= 9;
}

static unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10u + (v & 0x0Fu);
}

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static bool is_leap(unsigned year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Day of week 1-7, 1 = Sunday (the PC's RTC convention), for year >= 2000. */
static unsigned weekday(unsigned year, unsigned month, unsigned day)
{
	unsigned days = day - 1;
	for (unsigned y = 2000; y < year; y++)
		days += is_leap(y) ? 366 : 365;
	for (unsigned m = 1; m < month; m++)
		days += days_in_month(year, m);
	return (days + 6) % 7 + 1; /* 2000-01-01 was a Saturday (7) */
}

/* Waits until UIP reads `level`; false after MAX_POLLS reads. */
static bool wait_uip(bool level)
{
	for (unsigned i = 0; i < MAX_POLLS; i++)
		if (!!(cmos_read(REG_A) & A_UIP) == level)
			return true;
	return false;
}

/* The end of the next update cycle: UIP rises, then falls.  Afterwards the
 * registers hold still for nearly a second. */
static bool wait_update_end(void)
{
	return wait_uip(true) && wait_uip(false);
}

/* ms milliseconds of RTC time, in TSC ticks. */
static uint64_t ms_ticks(unsigned ms)
{
	return tsc_per_second * ms / 1000;
}

/* Polls register C until one of `flags` is set or ms milliseconds pass;
 * returns everything register C held at the read that had the flag (0 on
 * time-out) and the TSC of that read in *when.  Each read clears C. */
static uint8_t wait_flag(uint8_t flags, unsigned ms, uint64_t *when)
{
	uint64_t start = guest_rdtsc(), limit = ms_ticks(ms);
	uint8_t seen = 0;

	for (;;) {
		uint8_t c = cmos_read(REG_C);
		uint64_t now = guest_rdtsc();
		seen |= c;
		if (c & flags) {
			if (when)
				*when = now;
			return seen;
		}
		if (now - start > limit)
			return 0;
	}
}

static void spin_ms(unsigned ms)
{
	uint64_t end = guest_rdtsc() + ms_ticks(ms);
	while (guest_rdtsc() < end)
		;
}

static bool within_5_percent(uint64_t measured, uint64_t expected)
{
	uint64_t slack = expected / 20;
	return measured + slack >= expected && measured <= expected + slack;
}

static void check_firmware_state(void)
{
	check(cmos_read(REG_D) == 0x80, "register D reads 0x80 (VRT: valid RAM and time)");
	check((cmos_read(REG_A) & 0x7F) == 0x26,
	      "register A holds the 32.768 kHz time base and the 1024 Hz rate (0x26)");
	check(cmos_read(REG_B) == B_24H, "register B: 24-hour BCD, no interrupt enabled (0x02)");
}

/* A seconds tick, and the TSC's ticks per RTC second between two UIP rises. */
static bool check_seconds_tick(void)
{
	bool ok = wait_update_end();
	uint8_t first = cmos_read(REG_SECONDS);
	ok = ok && wait_uip(true);
	uint64_t rise = guest_rdtsc();
	ok = ok && wait_uip(false);
	uint8_t second = cmos_read(REG_SECONDS);
	ok = ok && wait_uip(true);
	tsc_per_second = guest_rdtsc() - rise;
	say("seconds %02x then %02x across an update; one RTC second is %llu TSC ticks", first,
	    second, (unsigned long long)tsc_per_second);
	check(ok && valid_bcd(first) && to_bcd((from_bcd(first) + 1) % 60) == second,
	      "a seconds tick: UIP rose and fell and the seconds register counted on by one");
	ok = ok && tsc_per_second > 1000;
	check(ok, "UIP rises once per second (the TSC measured a second)");
	return ok;
}

static void check_plausible_date(void)
{
	wait_update_end();
	uint8_t sec = cmos_read(REG_SECONDS), min = cmos_read(REG_MINUTES);
	uint8_t hour = cmos_read(REG_HOURS), wday = cmos_read(REG_DAY_OF_WEEK);
	uint8_t mday = cmos_read(REG_DAY_OF_MONTH), month = cmos_read(REG_MONTH);
	uint8_t year = cmos_read(REG_YEAR), century = cmos_read(REG_CENTURY);

	say("the clock reads %02x%02x-%02x-%02x %02x:%02x:%02x, day of week %x", century, year,
	    month, mday, hour, min, sec, wday);
	bool bcd = valid_bcd(sec) && valid_bcd(min) && valid_bcd(hour) && valid_bcd(wday) &&
		   valid_bcd(mday) && valid_bcd(month) && valid_bcd(year) && valid_bcd(century);
	check(bcd, "every time and date field is valid BCD");
	unsigned full_year = from_bcd(century) * 100 + from_bcd(year);
	bool ranges = bcd && from_bcd(sec) < 60 && from_bcd(min) < 60 && from_bcd(hour) < 24 &&
		      from_bcd(month) >= 1 && from_bcd(month) <= 12 && from_bcd(mday) >= 1 &&
		      from_bcd(mday) <= days_in_month(full_year, from_bcd(month));
	check(ranges, "the fields are in range (seconds, minutes, hours, month, date in its month)");
	check(bcd && full_year >= 2025, "the year (with the century byte 0x32) is 2025 or later");
	check(ranges && full_year >= 2025 &&
		      from_bcd(wday) == weekday(full_year, from_bcd(month), from_bcd(mday)),
	      "the day of week agrees with the date");
}

static void check_binary_and_12_hour(void)
{
	wait_update_end();
	uint8_t sec = cmos_read(REG_SECONDS), min = cmos_read(REG_MINUTES);
	uint8_t hour = cmos_read(REG_HOURS), year = cmos_read(REG_YEAR);
	cmos_write(REG_B, B_24H | B_BINARY);
	bool binary = cmos_read(REG_SECONDS) == from_bcd(sec) && cmos_read(REG_MINUTES) == from_bcd(min) &&
		      cmos_read(REG_HOURS) == from_bcd(hour) && cmos_read(REG_YEAR) == from_bcd(year);
	check(binary, "binary mode (DM) reads the same time as binary numbers");

	unsigned h24 = from_bcd(hour), h12 = h24 % 12 ? h24 % 12 : 12;
	uint8_t pm = h24 >= 12 ? HOUR_PM : 0;
	cmos_write(REG_B, B_BINARY);
	bool twelve = cmos_read(REG_HOURS) == (uint8_t)(h12 | pm);
	cmos_write(REG_B, 0);
	twelve = twelve && cmos_read(REG_HOURS) == (uint8_t)(to_bcd(h12) | pm);
	check(twelve, "12-hour mode reads hours 1-12 with the PM bit, in binary and BCD");

	/* 11:59:59 PM in 12-hour BCD, then one update: 12:00:00 AM the next day. */
	uint8_t mday = cmos_read(REG_DAY_OF_MONTH);
	cmos_write(REG_B, B_SET);
	cmos_write(REG_HOURS, HOUR_PM | 0x11);
	cmos_write(REG_MINUTES, 0x59);
	cmos_write(REG_SECONDS, 0x59);
	cmos_write(REG_B, 0);
	wait_update_end();
	uint8_t new_hour = cmos_read(REG_HOURS), new_mday = cmos_read(REG_DAY_OF_MONTH);
	say("12-hour: 11:59:59 PM on day %02x became %02x:%02x:%02x on day %02x", mday, new_hour,
	    cmos_read(REG_MINUTES), cmos_read(REG_SECONDS), new_mday);
	check(new_hour == 0x12 && cmos_read(REG_MINUTES) == 0 && new_mday != mday &&
		      (new_mday == 0x01 || new_mday == to_bcd(from_bcd(mday) + 1)),
	      "12-hour mode: 11:59:59 PM rolls over to 12:00:00 AM of the next day");
	cmos_write(REG_B, B_24H);
}

static void check_set_holds_the_clock(void)
{
	wait_update_end();
	cmos_write(REG_B, B_24H | B_SET);
	cmos_read(REG_C);
	uint8_t held = cmos_read(REG_SECONDS);
	bool uip_seen = false;
	uint64_t end = guest_rdtsc() + ms_ticks(1200);
	while (guest_rdtsc() < end)
		uip_seen |= cmos_read(REG_A) & A_UIP;
	check(cmos_read(REG_SECONDS) == held && !(cmos_read(REG_C) & C_UF) && !uip_seen,
	      "SET holds the clock: 1.2 s later the seconds are the same, no update, no UIP");
	cmos_write(REG_B, B_24H);
	check(wait_flag(C_UF, 1100, 0) && cmos_read(REG_SECONDS) != held,
	      "with SET cleared the clock runs again within a second");
}

static void check_divider_reset(void)
{
	wait_update_end();
	cmos_write(REG_A, A_DV_RESET | 0x06);
	cmos_read(REG_C);
	uint8_t held = cmos_read(REG_SECONDS);
	spin_ms(1200);
	check(cmos_read(REG_SECONDS) == held && cmos_read(REG_C) == 0,
	      "a divider reset (DV 110) stops the clock: no update, no periodic flag");
	cmos_write(REG_A, A_DV_32KHZ | 0x00); /* no periodic rate, to see UF alone */
	uint64_t released = guest_rdtsc(), updated = 0;
	bool ok = wait_flag(C_UF, 1500, &updated) != 0;
	say("first update %llu TSC ticks after the divider's release",
	    (unsigned long long)(updated - released));
	check(ok && within_5_percent(updated - released, tsc_per_second / 2),
	      "the first update comes 0.5 s (+-5%) after the divider leaves reset");
}

/* count periodic flags at rate select rs (hz per second), timed by the TSC. */
static void check_periodic_rate(unsigned rs, unsigned hz, unsigned count)
{
	uint64_t first = 0, last = 0;
	uint8_t seen = 0;
	bool ok = true;

	cmos_write(REG_A, (uint8_t)(A_DV_32KHZ | rs));
	cmos_read(REG_C);
	ok = wait_flag(C_PF, 100, &first) != 0;
	for (unsigned i = 0; ok && i < count; i++) {
		uint8_t c = wait_flag(C_PF, 100, &last);
		seen |= c;
		ok = c != 0;
	}
	uint64_t period = ok ? (last - first) / count : 0;
	say("RS %u: %u periodic flags, %llu TSC ticks apart (expected %llu)", rs, count,
	    (unsigned long long)period, (unsigned long long)(tsc_per_second / hz));
	check(ok && within_5_percent(period, tsc_per_second / hz),
	      hz == 1024 ? "PF appears at 1024 Hz (RS 0110), within 5%"
			 : "PF appears at 64 Hz (RS 1010), within 5%");
	check(ok && !(seen & C_IRQF), hz == 1024 ? "PF without PIE leaves IRQF clear (1024 Hz)"
						 : "PF without PIE leaves IRQF clear (64 Hz)");
}

static void check_register_c_clears_on_read(void)
{
	cmos_write(REG_A, A_DV_32KHZ); /* no periodic flag */
	cmos_read(REG_C);
	uint8_t first = wait_flag(C_UF, 1100, 0);
	uint8_t again = cmos_read(REG_C);
	check(first == C_UF && again == 0, "register C: UF after an update, and 0 at the next read");
}

static void check_alarm_dont_care(void)
{
	wait_update_end();
	uint8_t now = cmos_read(REG_SECONDS);
	uint8_t target = to_bcd((from_bcd(now) + 2) % 60);
	cmos_write(REG_SECONDS_ALARM, target);
	cmos_write(REG_MINUTES_ALARM, DONT_CARE);
	cmos_write(REG_HOURS_ALARM, 0xFF);
	cmos_read(REG_C);
	uint8_t first = wait_flag(C_UF, 1100, 0);
	uint8_t second = wait_flag(C_UF, 1100, 0);
	uint8_t at = cmos_read(REG_SECONDS);
	say("alarm at seconds %02x, any minute and hour: register C read %02x then %02x at %02x",
	    target, first, second, at);
	check(first == C_UF && second == (C_UF | C_AF) && at == target,
	      "the alarm with don't-care minutes and hours sets AF at its second, not before");
}

static void check_nmi_bit(void)
{
	guest_outb(PORT_RTC_INDEX, NMI_MASK | REG_D);
	uint8_t d = guest_inb(PORT_RTC_DATA);
	guest_outb(PORT_RTC_INDEX, NMI_MASK | REG_B);
	uint8_t b = guest_inb(PORT_RTC_DATA);
	guest_outb(PORT_RTC_INDEX, REG_D);
	check(d == 0x80 && b == B_24H, "bit 7 of the index port (NMI mask) does not change the register");
}

static unsigned cmos_word(uint8_t low)
{
	return cmos_read(low) | (unsigned)cmos_read((uint8_t)(low + 1)) << 8;
}

static void check_memory_sizes(const struct multiboot_info *info)
{
	uint64_t ram = ((uint64_t)info->mem_upper + 1024) * 1024;
	unsigned extended = info->mem_upper < 0xFC00 ? info->mem_upper : 0xFC00;
	unsigned above_16m = ram > (16u << 20) ? (unsigned)((ram - (16u << 20)) >> 16) : 0;
	unsigned sum = 0;

	say("CMOS: base %u KiB, extended %u KiB (copy %u KiB), above 16 MiB %u blocks of 64 KiB",
	    cmos_word(0x15), cmos_word(0x17), cmos_word(0x30), cmos_word(0x34));
	check(cmos_word(0x15) == 640, "CMOS 0x15/0x16: 640 KiB of base memory");
	check(cmos_word(0x17) == extended && cmos_word(0x30) == extended,
	      "CMOS 0x17/0x18 and 0x30/0x31: the memory above 1 MiB (at most 0xFC00 KiB)");
	check(cmos_word(0x34) == above_16m, "CMOS 0x34/0x35: the memory above 16 MiB in 64 KiB blocks");
	for (uint8_t i = 0x10; i <= 0x2D; i++)
		sum += cmos_read(i);
	check(((unsigned)cmos_read(0x2E) << 8 | cmos_read(0x2F)) == sum,
	      "CMOS 0x2E/0x2F: the checksum of 0x10-0x2D");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	say("rtc: started");
	check_firmware_state();
	check_nmi_bit();
	check_memory_sizes(info);
	if (check_seconds_tick()) {
		check_plausible_date();
		check_binary_and_12_hour();
		check_set_holds_the_clock();
		check_divider_reset();
		check_periodic_rate(0x06, 1024, 64);
		check_periodic_rate(0x0A, 64, 8);
		check_register_c_clears_on_read();
		check_alarm_dont_care();
	}
	say("rtc: done, %u failure(s)", failures());
	return (int)failures();
}
