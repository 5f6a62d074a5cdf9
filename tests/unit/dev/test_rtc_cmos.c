/*
 * Tests of core/dev/rtc_cmos.c: the MC146818A real-time clock and the PC's
 * CMOS RAM of a VM built on the fake platform (host TSC 1 GHz, wall clock
 * 2026-01-01 00:00:00 UTC unless a test says otherwise): the calendar,
 * BCD/binary and 12/24-hour representations, UIP, SET, the divider, the
 * periodic, alarm and update-ended flags with IRQ 8, register C, the
 * device timer, RESET, daylight saving, the CMOS memory bytes and the
 * index port.  Time is set exactly through the `now` argument of
 * rtc_cmos_read/rtc_cmos_write, or through fake_cpu.tsc for the ports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/devices.h"
#include "dev/device.h"
#include "dev/ports.h"
#include "dev/rtc_cmos.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "irq/irq.h"
#include "vm/builder.h"
#include "vm/vm.h"

#define HZ 1000000000ULL /* the fake host TSC */
#define MiB (1ULL << 20)
#define JAN_1_2026 1767225600ULL

static struct vm vm;
static struct rtc_cmos *rtc;
static uint64_t t0; /* host TSC at which the divider's count was 0 (the VM's creation) */

/* ---- IRQ 8 as an interrupt controller sees it ---- */

static bool irq8_level;
static unsigned irq8_rises, irq8_falls;

static void record_line(struct vm *v, void *opaque, unsigned line, bool level)
{
	(void)v;
	(void)opaque;
	if (line != RTC_IRQ_LINE)
		return;
	if (level && !irq8_level)
		irq8_rises++;
	if (!level && irq8_level)
		irq8_falls++;
	irq8_level = level;
}

static struct rtc_cmos *rtc_of(struct vm *v)
{
	for (unsigned i = 0; i < v->devices.port_count; i++)
		if (v->devices.ports[i].first == PORT_RTC_INDEX)
			return v->devices.ports[i].state;
	fail_msg("no device at port 0x70");
	return NULL;
}

static void build(uint64_t unix_time, uint64_t ram_size)
{
	const struct vm_config config = { .id = 0, .name = "rtc", .ram_size = ram_size, .vcpu_count = 1 };
	const struct irq_chip chip = { .name = "recorder", .set_line = record_line };

	fake_unix_time = unix_time;
	const char *err = vm_build(&vm, &config);
	fake_unix_time = JAN_1_2026;
	if (err)
		fail_msg("vm_build: %s", err);
	assert_true(vm_add_irq_chip(&vm, &chip));
	rtc = rtc_of(&vm);
	t0 = rtc->divider_tsc;
	irq8_level = false;
	irq8_rises = irq8_falls = 0;
}

static int setup(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	fake_tsc_hz = HZ;
	fake_cpu.tsc = 5 * HZ; /* the host has been up 5 s */
	build(JAN_1_2026, 2 * MiB);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

/* ---- helpers ---- */

/* The host TSC at which the divider has counted `count` 32.768 kHz ticks. */
static uint64_t at_count(uint64_t count)
{
	return t0 + device_clock_to_tsc(count, RTC_TIME_BASE_HZ, HZ);
}

/* s seconds and ns nanoseconds after the VM's creation. */
static uint64_t at(uint64_t s, uint64_t ns)
{
	return t0 + s * HZ + ns;
}

static uint8_t rd(uint8_t index, uint64_t now)
{
	return rtc_cmos_read(&vm, rtc, index, now);
}

static void wr(uint8_t index, uint8_t value, uint64_t now)
{
	rtc_cmos_write(&vm, rtc, index, value, now);
}

/* The time and date bytes 0x00-0x09 (alarms skipped) and the century. */
struct clock_bytes {
	uint8_t century, year, month, mday, wday, hour, min, sec;
};

/* Sets the clock as a guest does: SET, the bytes, SET cleared. */
static void set_clock(uint64_t now, struct clock_bytes c)
{
	uint8_t b = rd(RTC_REG_B, now);
	wr(RTC_REG_B, b | RTC_B_SET, now);
	wr(CMOS_CENTURY, c.century, now);
	wr(RTC_YEAR, c.year, now);
	wr(RTC_MONTH, c.month, now);
	wr(RTC_DAY_OF_MONTH, c.mday, now);
	wr(RTC_DAY_OF_WEEK, c.wday, now);
	wr(RTC_HOURS, c.hour, now);
	wr(RTC_MINUTES, c.min, now);
	wr(RTC_SECONDS, c.sec, now);
	wr(RTC_REG_B, b, now);
}

static void assert_clock(uint64_t now, struct clock_bytes c)
{
	assert_int_equal(rd(CMOS_CENTURY, now), c.century);
	assert_int_equal(rd(RTC_YEAR, now), c.year);
	assert_int_equal(rd(RTC_MONTH, now), c.month);
	assert_int_equal(rd(RTC_DAY_OF_MONTH, now), c.mday);
	assert_int_equal(rd(RTC_DAY_OF_WEEK, now), c.wday);
	assert_int_equal(rd(RTC_HOURS, now), c.hour);
	assert_int_equal(rd(RTC_MINUTES, now), c.min);
	assert_int_equal(rd(RTC_SECONDS, now), c.sec);
}

static uint8_t bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | v % 10);
}

/* ---- the calendar ---- */

static void calendar_from_unix_time(void **state)
{
	(void)state;
	static const struct {
		uint64_t unix_time;
		unsigned year, month, mday, wday, hour, min, sec;
	} dates[] = {
		{ 0, 1970, 1, 1, 5, 0, 0, 0 },
		{ 946684799, 1999, 12, 31, 6, 23, 59, 59 },
		{ 951782400, 2000, 2, 29, 3, 0, 0, 0 },     /* 2000 is a leap year (divisible by 400) */
		{ 951868799, 2000, 2, 29, 3, 23, 59, 59 },
		{ 1709251199, 2024, 2, 29, 5, 23, 59, 59 },
		{ JAN_1_2026, 2026, 1, 1, 5, 0, 0, 0 },
		{ 2147483647, 2038, 1, 19, 3, 3, 14, 7 },
		{ 4107542400, 2100, 3, 1, 2, 0, 0, 0 },     /* 2100 is not (divisible by 100) */
		{ 4294967295, 2106, 2, 7, 1, 6, 28, 15 },
		{ 253402300799, 9999, 12, 31, 6, 23, 59, 59 },
	};
	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		struct rtc_time t;
		rtc_time_from_unix(dates[i].unix_time, &t);
		assert_int_equal(t.century * 100 + t.year, dates[i].year);
		assert_int_equal(t.month, dates[i].month);
		assert_int_equal(t.mday, dates[i].mday);
		assert_int_equal(t.wday, dates[i].wday);
		assert_int_equal(t.hour, dates[i].hour);
		assert_int_equal(t.min, dates[i].min);
		assert_int_equal(t.sec, dates[i].sec);
	}
}

static void calendar_month_lengths(void **state)
{
	(void)state;
	struct rtc_time t = { .century = 20, .year = 24, .month = 2 };
	assert_int_equal(rtc_days_in_month(&t), 29);
	t.year = 25;
	assert_int_equal(rtc_days_in_month(&t), 28);
	t.year = 0;
	assert_int_equal(rtc_days_in_month(&t), 29); /* 2000 */
	t.century = 21;
	assert_int_equal(rtc_days_in_month(&t), 28); /* 2100 */
	t.month = 4;
	assert_int_equal(rtc_days_in_month(&t), 30);
	t.month = 12;
	assert_int_equal(rtc_days_in_month(&t), 31);
}

/* 400 years of midnights counted by the update cycles (from 1970, a day
 * of updates at a time) land on the date rtc_time_from_unix computes. */
static void update_cycles_count_400_years_of_days(void **state)
{
	(void)state;
	set_clock(t0, (struct clock_bytes){ 0x19, 0x70, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00 });
	for (uint64_t day = 1; day <= 146097; day++) {
		struct rtc_time want;
		uint64_t now = at(day * 86400, 0);
		rtc_time_from_unix(day * 86400, &want);
		if (rd(RTC_DAY_OF_MONTH, now) != bcd(want.mday) || rd(RTC_MONTH, now) != bcd(want.month) ||
		    rd(RTC_YEAR, now) != bcd(want.year) || rd(CMOS_CENTURY, now) != bcd(want.century) ||
		    rd(RTC_DAY_OF_WEEK, now) != bcd(want.wday) || rd(RTC_HOURS, now) != 0 ||
		    rd(RTC_MINUTES, now) != 0 || rd(RTC_SECONDS, now) != 0)
			fail_msg("day %llu: the clock reads %02x%02x-%02x-%02x (day %x), expected %02u%02u-%02u-%02u (day %u)",
				 (unsigned long long)day, rd(CMOS_CENTURY, now), rd(RTC_YEAR, now),
				 rd(RTC_MONTH, now), rd(RTC_DAY_OF_MONTH, now), rd(RTC_DAY_OF_WEEK, now),
				 want.century, want.year, want.month, want.mday, want.wday);
	}
}

/* Month ends, leap days, the year's end and the century byte's carry. */
static void update_cycles_carry_into_the_date(void **state)
{
	(void)state;
	static const struct {
		struct clock_bytes before, after;
	} carries[] = {
		{ { 0x20, 0x26, 0x01, 0x31, 0x07, 0x23, 0x59, 0x59 }, { 0x20, 0x26, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00 } },
		{ { 0x20, 0x26, 0x04, 0x30, 0x05, 0x23, 0x59, 0x59 }, { 0x20, 0x26, 0x05, 0x01, 0x06, 0x00, 0x00, 0x00 } },
		{ { 0x20, 0x24, 0x02, 0x28, 0x04, 0x23, 0x59, 0x59 }, { 0x20, 0x24, 0x02, 0x29, 0x05, 0x00, 0x00, 0x00 } },
		{ { 0x20, 0x25, 0x02, 0x28, 0x06, 0x23, 0x59, 0x59 }, { 0x20, 0x25, 0x03, 0x01, 0x07, 0x00, 0x00, 0x00 } },
		{ { 0x20, 0x00, 0x02, 0x28, 0x02, 0x23, 0x59, 0x59 }, { 0x20, 0x00, 0x02, 0x29, 0x03, 0x00, 0x00, 0x00 } },
		{ { 0x21, 0x00, 0x02, 0x28, 0x01, 0x23, 0x59, 0x59 }, { 0x21, 0x00, 0x03, 0x01, 0x02, 0x00, 0x00, 0x00 } },
		{ { 0x20, 0x26, 0x12, 0x31, 0x05, 0x23, 0x59, 0x59 }, { 0x20, 0x27, 0x01, 0x01, 0x06, 0x00, 0x00, 0x00 } },
		{ { 0x19, 0x99, 0x12, 0x31, 0x06, 0x23, 0x59, 0x59 }, { 0x20, 0x00, 0x01, 0x01, 0x07, 0x00, 0x00, 0x00 } },
		{ { 0x20, 0x26, 0x03, 0x15, 0x01, 0x09, 0x59, 0x59 }, { 0x20, 0x26, 0x03, 0x15, 0x01, 0x10, 0x00, 0x00 } },
		/* A date past the month's end rolls over at midnight, as the chip's counter does. */
		{ { 0x20, 0x26, 0x02, 0x30, 0x02, 0x23, 0x59, 0x59 }, { 0x20, 0x26, 0x03, 0x01, 0x03, 0x00, 0x00, 0x00 } },
	};
	uint64_t second = 0;
	for (size_t i = 0; i < sizeof(carries) / sizeof(carries[0]); i++, second += 2) {
		set_clock(at(second, 0), carries[i].before);
		assert_clock(at(second + 1, 0) - 1, carries[i].before);
		assert_clock(at(second + 1, 0), carries[i].after);
	}
	/* The PS/2 century location 0x37 is the same byte. */
	assert_int_equal(rd(CMOS_PS2_CENTURY, at(second, 0)), 0x20);
	wr(CMOS_PS2_CENTURY, 0x21, at(second, 0));
	assert_int_equal(rd(CMOS_CENTURY, at(second, 0)), 0x21);
}

/* ---- what the VM starts with ---- */

static void the_clock_starts_at_the_hosts_wall_clock_in_bcd_24_hour(void **state)
{
	(void)state;
	assert_clock(t0, (struct clock_bytes){ 0x20, 0x26, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00 });
	assert_int_equal(rd(RTC_REG_A, t0), 0x26);
	assert_int_equal(rd(RTC_REG_B, t0), 0x02);
	assert_int_equal(rd(RTC_REG_C, t0), 0x00);
	assert_int_equal(rd(RTC_REG_D, t0), RTC_D_VRT);
	/* One second later, by the host TSC. */
	assert_int_equal(rd(RTC_SECONDS, at(1, 0) - 1), 0x00);
	assert_int_equal(rd(RTC_SECONDS, at(1, 0)), 0x01);
	assert_int_equal(rd(RTC_HOURS, at(3 * 3600 + 25 * 60 + 45, 0)), 0x03);
	assert_int_equal(rd(RTC_MINUTES, at(3 * 3600 + 25 * 60 + 45, 0)), 0x25);
	assert_int_equal(rd(RTC_SECONDS, at(3 * 3600 + 25 * 60 + 45, 0)), 0x45);
}

static void a_vm_made_on_a_leap_day_evening_counts_into_march(void **state)
{
	(void)state;
	vm_destroy(&vm);
	build(1709251198, 2 * MiB); /* 2024-02-29 23:59:58 UTC, a Thursday */
	assert_clock(t0, (struct clock_bytes){ 0x20, 0x24, 0x02, 0x29, 0x05, 0x23, 0x59, 0x58 });
	assert_clock(at(2, 0), (struct clock_bytes){ 0x20, 0x24, 0x03, 0x01, 0x06, 0x00, 0x00, 0x00 });
}

/* ---- representation: BCD or binary, 24 or 12 hours ---- */

static void dm_and_24_12_change_what_the_same_instant_reads(void **state)
{
	(void)state;
	uint64_t now = t0;
	set_clock(now, (struct clock_bytes){ 0x20, 0x26, 0x07, 0x14, 0x03, 0x22, 0x45, 0x30 });
	wr(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY, now);
	assert_clock(now, (struct clock_bytes){ 20, 26, 7, 14, 3, 22, 45, 30 });
	wr(RTC_REG_B, RTC_B_DM_BINARY, now); /* binary, 12-hour: 10 PM */
	assert_int_equal(rd(RTC_HOURS, now), RTC_HOUR_PM | 10);
	wr(RTC_REG_B, 0, now); /* BCD, 12-hour */
	assert_int_equal(rd(RTC_HOURS, now), RTC_HOUR_PM | 0x10);
	assert_int_equal(rd(RTC_MINUTES, now), 0x45);

	/* 12-hour mode around midnight and noon: 12 AM, 1 AM, 11 AM, 12 PM, 1 PM, 11 PM. */
	static const struct {
		uint8_t hour24, bcd12, bin12;
	} hours[] = {
		{ 0, 0x12, 12 }, { 1, 0x01, 1 }, { 11, 0x11, 11 },
		{ 12, 0x92, 0x8C }, { 13, 0x81, 0x81 }, { 23, 0x91, 0x8B },
	};
	for (size_t i = 0; i < sizeof(hours) / sizeof(hours[0]); i++) {
		wr(RTC_REG_B, RTC_B_24H | RTC_B_SET, now);
		wr(RTC_HOURS, bcd(hours[i].hour24), now);
		wr(RTC_REG_B, 0, now);
		assert_int_equal(rd(RTC_HOURS, now), hours[i].bcd12);
		wr(RTC_REG_B, RTC_B_DM_BINARY, now);
		assert_int_equal(rd(RTC_HOURS, now), hours[i].bin12);
		/* Written in 12-hour binary, read back in 24-hour BCD. */
		wr(RTC_HOURS, hours[i].bin12, now);
		wr(RTC_REG_B, RTC_B_24H, now);
		assert_int_equal(rd(RTC_HOURS, now), bcd(hours[i].hour24));
		/* Written in 12-hour BCD, read back in 24-hour binary. */
		wr(RTC_REG_B, 0, now);
		wr(RTC_HOURS, hours[i].bcd12, now);
		wr(RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY, now);
		assert_int_equal(rd(RTC_HOURS, now), hours[i].hour24);
	}
}

static void twelve_hour_mode_counts_through_noon_and_midnight(void **state)
{
	(void)state;
	wr(RTC_REG_B, RTC_B_SET, t0); /* 12-hour BCD */
	wr(RTC_HOURS, 0x11, t0);
	wr(RTC_MINUTES, 0x59, t0);
	wr(RTC_SECONDS, 0x59, t0);
	wr(RTC_REG_B, 0, t0);
	assert_int_equal(rd(RTC_HOURS, at(1, 0)), 0x92); /* 11:59:59 AM -> 12:00:00 PM */
	assert_int_equal(rd(RTC_HOURS, at(3601, 0)), 0x81); /* 1 PM */
	wr(RTC_REG_B, RTC_B_SET, at(3601, 0));
	wr(RTC_HOURS, 0x91, at(3601, 0)); /* 11 PM */
	wr(RTC_MINUTES, 0x59, at(3601, 0));
	wr(RTC_SECONDS, 0x59, at(3601, 0));
	uint8_t day = rd(RTC_DAY_OF_MONTH, at(3601, 0));
	wr(RTC_REG_B, 0, at(3601, 0));
	assert_int_equal(rd(RTC_HOURS, at(3602, 0)), 0x12); /* 12 AM, the next day */
	assert_int_equal(rd(RTC_DAY_OF_MONTH, at(3602, 0)), day + 1);
}

/* Bytes that are no valid value in the current mode set the field to its
 * first value (documented in rtc_cmos.c). */
static void invalid_time_bytes_give_the_fields_first_value(void **state)
{
	(void)state;
	uint64_t now = t0;
	set_clock(now, (struct clock_bytes){ 0x20, 0x26, 0x07, 0x14, 0x03, 0x22, 0x45, 0x30 });
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET, now);
	wr(RTC_SECONDS, 0x5A, now); /* BCD digit above 9 */
	wr(RTC_MINUTES, 0x60, now); /* past 59 */
	wr(RTC_HOURS, 0x24, now);
	wr(RTC_DAY_OF_WEEK, 0x08, now);
	wr(RTC_DAY_OF_MONTH, 0x00, now);
	wr(RTC_MONTH, 0x13, now);
	wr(RTC_YEAR, 0xA0, now);
	wr(CMOS_CENTURY, 0xFF, now);
	assert_clock(now, (struct clock_bytes){ 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00 });
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_DM_BINARY, now);
	wr(RTC_SECONDS, 60, now);
	wr(RTC_HOURS, 0x85, now); /* the PM bit means nothing in 24-hour mode */
	wr(RTC_YEAR, 99, now);
	assert_int_equal(rd(RTC_SECONDS, now), 0);
	assert_int_equal(rd(RTC_HOURS, now), 0);
	assert_int_equal(rd(RTC_YEAR, now), 99);
	wr(RTC_REG_B, RTC_B_SET, now); /* 12-hour BCD: hours 0 and 13 do not exist */
	wr(RTC_HOURS, 0x05, now);
	assert_int_equal(rd(RTC_HOURS, now), 0x05);
	wr(RTC_HOURS, 0x00, now);
	assert_int_equal(rd(RTC_HOURS, now), 0x12);
	wr(RTC_HOURS, 0x93, now);
	assert_int_equal(rd(RTC_HOURS, now), 0x12);
}

/* ---- register A: UIP and the divider ---- */

static void uip_is_set_in_the_244_us_before_each_update(void **state)
{
	(void)state;
	for (uint64_t second = 0; second < 3; second++) {
		uint64_t boundary = (second + 1) * RTC_TIME_BASE_HZ;
		assert_int_equal(rd(RTC_REG_A, at_count(boundary - 8) - 1), 0x26);
		assert_int_equal(rd(RTC_REG_A, at_count(boundary - 8)), 0x26 | RTC_A_UIP);
		assert_int_equal(rd(RTC_SECONDS, at_count(boundary) - 1), bcd((unsigned)second));
		assert_int_equal(rd(RTC_REG_A, at_count(boundary) - 1), 0x26 | RTC_A_UIP);
		assert_int_equal(rd(RTC_REG_A, at_count(boundary)), 0x26);
		assert_int_equal(rd(RTC_SECONDS, at_count(boundary)), bcd((unsigned)second + 1));
	}
	/* 244.1 us: the window opens 244140.625 ns before the second. */
	assert_int_equal(at(1, 0) - at_count(RTC_TIME_BASE_HZ - 8), 244140);
	/* UIP is 0 while SET holds the updates, and with the divider stopped. */
	uint64_t now = at_count(4 * RTC_TIME_BASE_HZ - 4);
	assert_int_equal(rd(RTC_REG_A, now) & RTC_A_UIP, RTC_A_UIP);
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET, now);
	assert_int_equal(rd(RTC_REG_A, now) & RTC_A_UIP, 0);
	wr(RTC_REG_B, RTC_B_24H, now);
	wr(RTC_REG_A, 0x06, now); /* DV 000 */
	assert_int_equal(rd(RTC_REG_A, now), 0x06);
}

static void register_a_keeps_dv_and_rs_and_uip_is_read_only(void **state)
{
	(void)state;
	wr(RTC_REG_A, 0xAF, t0);
	assert_int_equal(rd(RTC_REG_A, t0), 0x2F);
	wr(RTC_REG_A, 0x2A, t0);
	assert_int_equal(rd(RTC_REG_A, t0), 0x2A);
}

static void set_holds_the_clock_and_the_divider_keeps_its_phase(void **state)
{
	(void)state;
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_UIE, at(0, 500000000));
	assert_int_equal(rd(RTC_REG_B, at(0, 500000000)), RTC_B_24H | RTC_B_SET); /* SET clears UIE */
	assert_int_equal(rd(RTC_REG_C, at(0, 500000000)), RTC_C_PF); /* no update yet */
	assert_int_equal(rd(RTC_SECONDS, at(5, 0)), 0x00);
	assert_int_equal(rd(RTC_REG_C, at(5, 0)) & RTC_C_UF, 0); /* no update cycles */
	wr(RTC_SECONDS, 0x30, at(5, 0));
	wr(RTC_REG_B, RTC_B_24H, at(5, 200000000));
	assert_int_equal(rd(RTC_SECONDS, at(6, 0) - 1), 0x30);
	assert_int_equal(rd(RTC_SECONDS, at(6, 0)), 0x31); /* the divider's next second */
	assert_int_equal(rd(RTC_REG_C, at(6, 0)) & RTC_C_UF, RTC_C_UF);
	/* SET does not stop the periodic flag. */
	wr(RTC_REG_B, RTC_B_24H | RTC_B_SET, at(6, 0));
	rd(RTC_REG_C, at(6, 0));
	assert_int_equal(rd(RTC_REG_C, at(6, 1000000)), RTC_C_PF);
}

static void divider_reset_stops_the_clock_and_the_first_update_comes_half_a_second_after(void **state)
{
	(void)state;
	wr(RTC_REG_A, 0x66, at(0, 300000000)); /* DV 110: divider chain in reset */
	rd(RTC_REG_C, at(0, 300000000));
	assert_int_equal(rd(RTC_SECONDS, at(3, 0)), 0x00);
	assert_int_equal(rd(RTC_REG_A, at(3, 0)), 0x66); /* no UIP */
	assert_int_equal(rd(RTC_REG_C, at(3, 0)), 0);  /* no update, no periodic flag */
	wr(RTC_REG_A, 0x26, at(3, 0));
	assert_int_equal(rd(RTC_SECONDS, at(3, 500000000) - 1), 0x00);
	assert_int_equal(rd(RTC_REG_C, at(3, 500000000) - 1), RTC_C_PF);
	assert_int_equal(rd(RTC_SECONDS, at(3, 500000000)), 0x01);
	assert_int_equal(rd(RTC_SECONDS, at(4, 500000000)), 0x02);
	/* 111 is a reset too. */
	wr(RTC_REG_A, 0x76, at(5, 0));
	assert_int_equal(rd(RTC_SECONDS, at(9, 0)), 0x02);
	wr(RTC_REG_A, 0x26, at(9, 0));
	assert_int_equal(rd(RTC_SECONDS, at(9, 500000000)), 0x03);
}

static void other_time_bases_stop_the_clock_which_then_goes_on_from_where_it_stood(void **state)
{
	(void)state;
	/* At 0.75 s the divider is three quarters through its second. */
	wr(RTC_REG_A, 0x06, at(0, 750000000)); /* DV 000: a 4.194304 MHz crystal */
	rd(RTC_REG_C, at(0, 750000000));
	assert_int_equal(rd(RTC_SECONDS, at(10, 0)), 0x00);
	assert_int_equal(rd(RTC_REG_C, at(10, 0)), 0);
	wr(RTC_REG_A, 0x16, at(10, 0)); /* 001 */
	wr(RTC_REG_A, 0x36, at(10, 0)); /* 011: a test pattern */
	wr(RTC_REG_A, 0x46, at(10, 0)); /* 100 */
	assert_int_equal(rd(RTC_SECONDS, at(20, 0)), 0x00);
	wr(RTC_REG_A, 0x26, at(20, 0));
	assert_int_equal(rd(RTC_SECONDS, at(20, 250000000) - 1), 0x00);
	assert_int_equal(rd(RTC_SECONDS, at(20, 250000000)), 0x01);
}

/* ---- periodic flag, rates, interrupts ---- */

static void periodic_flag_follows_every_rate_select(void **state)
{
	(void)state;
	/* The data sheet's table for a 32.768 kHz time base, RS = 1..15. */
	static const unsigned hz[16] = { 0, 256, 128, 8192, 4096, 2048, 1024, 512,
					 256, 128, 64, 32, 16, 8, 4, 2 };
	uint64_t count = 0;
	for (unsigned rs = 1; rs <= 15; rs++) {
		uint64_t period = RTC_TIME_BASE_HZ / hz[rs];
		wr(RTC_REG_A, (uint8_t)(0x20 | rs), at_count(count));
		rd(RTC_REG_C, at_count(count));
		uint64_t next = (count / period + 1) * period;
		for (int k = 0; k < 3; k++, next += period) {
			if (rd(RTC_REG_C, at_count(next) - 1) & RTC_C_PF)
				fail_msg("RS %u: PF before count %llu", rs, (unsigned long long)next);
			if (!(rd(RTC_REG_C, at_count(next)) & RTC_C_PF))
				fail_msg("RS %u: no PF at count %llu", rs, (unsigned long long)next);
		}
		count = next + period / 2;
	}
	/* RS 0: never. */
	wr(RTC_REG_A, 0x20, at_count(count));
	rd(RTC_REG_C, at_count(count));
	assert_int_equal(rd(RTC_REG_C, at_count(count + RTC_TIME_BASE_HZ / 2)) & RTC_C_PF, 0);
}

static void flags_are_set_without_their_enable_but_irqf_and_the_line_need_it(void **state)
{
	(void)state;
	/* PIE off: PF appears in register C, IRQF and IRQ 8 do not. */
	assert_int_equal(rd(RTC_REG_C, at_count(32)), RTC_C_PF);
	assert_false(irq8_level);
	assert_false(vm_irq_level(&vm, RTC_IRQ_LINE));
	assert_int_equal(rtc->timer->deadline, 0); /* no enabled interrupt: no timer */

	/* Enabling PIE while PF is set raises IRQF at once (IRQF = PF.PIE + ...). */
	rd(RTC_REG_A, at_count(64));                 /* PF latched, nobody read C */
	wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE, at_count(64));
	assert_true(irq8_level);
	assert_true(vm_irq_level(&vm, RTC_IRQ_LINE));
	assert_int_equal(rtc->timer->deadline, 0); /* the line is high until C is read */
	/* Dropping the enable drops IRQF and the line; the flag stays. */
	wr(RTC_REG_B, RTC_B_24H, at_count(64));
	assert_false(irq8_level);
	assert_int_equal(rd(RTC_REG_C, at_count(64)), RTC_C_PF);
	assert_int_equal(rd(RTC_REG_C, at_count(64)), 0); /* read clears */
	assert_int_equal(irq8_rises, 1);
	assert_int_equal(irq8_falls, 1);
}

static void the_periodic_interrupt_is_a_level_until_register_c_is_read(void **state)
{
	(void)state;
	wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE, t0); /* 1024 Hz: every 32 ticks */
	assert_int_equal(rtc->timer->deadline, at_count(32));
	vm_device_timers_expire(&vm, at_count(32) - 1);
	assert_false(irq8_level);
	vm_device_timers_expire(&vm, at_count(32));
	assert_true(irq8_level);
	assert_int_equal(irq8_rises, 1);
	assert_int_equal(rtc->timer->deadline, 0);
	/* Stays high however long nobody reads register C. */
	vm_device_timers_expire(&vm, at_count(320));
	assert_true(vm_irq_level(&vm, RTC_IRQ_LINE));
	assert_int_equal(rd(RTC_REG_C, at_count(330)), RTC_C_IRQF | RTC_C_PF);
	assert_false(irq8_level);
	assert_int_equal(rtc->timer->deadline, at_count(352));
	assert_int_equal(rd(RTC_REG_C, at_count(330)), 0);
	vm_device_timers_expire(&vm, at_count(352));
	assert_int_equal(irq8_rises, 2);
}

/* After a long pause (a VM not scheduled, a host busy) one flag and one
 * rise of the line stand for every missed period; the next tick is the
 * next period boundary after now, not the first missed one. */
static void a_long_pause_coalesces_the_missed_periodic_ticks(void **state)
{
	(void)state;
	wr(RTC_REG_B, RTC_B_24H | RTC_B_PIE, t0);
	uint64_t late = at(10, 123456);
	vm_device_timers_expire(&vm, late);
	assert_int_equal(irq8_rises, 1);
	vm_device_timers_expire(&vm, late + 1);
	assert_int_equal(irq8_rises, 1);
	assert_int_equal(rd(RTC_REG_C, late), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	uint64_t count = device_clock_ticks(late - t0, HZ, RTC_TIME_BASE_HZ);
	assert_int_equal(rtc->timer->deadline, at_count((count / 32 + 1) * 32));
	assert_true(rtc->timer->deadline > late);
	assert_true(rtc->timer->deadline - late <= device_clock_to_tsc(32, RTC_TIME_BASE_HZ, HZ));
}

static void update_ended_flag_and_interrupt(void **state)
{
	(void)state;
	/* UF without UIE: in register C after each update, no line. */
	assert_int_equal(rd(RTC_REG_C, at(1, 0) - 1) & RTC_C_UF, 0);
	assert_int_equal(rd(RTC_REG_C, at(1, 0)) & RTC_C_UF, RTC_C_UF);
	assert_false(irq8_level);
	wr(RTC_REG_A, 0x20, at(1, 0)); /* no periodic rate */
	wr(RTC_REG_B, RTC_B_24H | RTC_B_UIE, at(1, 0));
	assert_int_equal(rtc->timer->deadline, at(2, 0));
	vm_device_timers_expire(&vm, at(2, 0));
	assert_true(irq8_level);
	assert_int_equal(rd(RTC_REG_C, at(2, 100)), RTC_C_IRQF | RTC_C_UF);
	assert_false(irq8_level);
	assert_int_equal(rd(RTC_SECONDS, at(2, 100)), 0x02);
	assert_int_equal(rtc->timer->deadline, at(3, 0));
}

static void alarm_matches_exact_times_and_dont_care_bytes(void **state)
{
	(void)state;
	wr(RTC_REG_A, 0x20, t0); /* no periodic flag in the way */
	wr(RTC_SECONDS_ALARM, 0x05, t0);
	wr(RTC_MINUTES_ALARM, 0x00, t0);
	wr(RTC_HOURS_ALARM, 0x00, t0);
	assert_int_equal(rd(RTC_SECONDS_ALARM, t0), 0x05);
	rd(RTC_REG_C, t0);
	assert_int_equal(rd(RTC_REG_C, at(5, 0) - 1) & RTC_C_AF, 0);
	assert_int_equal(rd(RTC_REG_C, at(5, 0)) & RTC_C_AF, RTC_C_AF);
	assert_int_equal(rd(RTC_REG_C, at(65, 0)) & RTC_C_AF, 0); /* 00:01:05 is not 00:00:05 */

	/* Seconds 30 of any minute of any hour. */
	wr(RTC_MINUTES_ALARM, 0xC0, at(65, 0));
	wr(RTC_HOURS_ALARM, 0xFF, at(65, 0));
	wr(RTC_SECONDS_ALARM, 0x30, at(65, 0));
	assert_int_equal(rd(RTC_REG_C, at(90, 0) - 1) & RTC_C_AF, 0);
	assert_int_equal(rd(RTC_REG_C, at(90, 0)) & RTC_C_AF, RTC_C_AF);
	assert_int_equal(rd(RTC_REG_C, at(150, 0) - 1) & RTC_C_AF, 0);
	assert_int_equal(rd(RTC_REG_C, at(150, 0)) & RTC_C_AF, RTC_C_AF);
	/* All three don't care: every second. */
	wr(RTC_SECONDS_ALARM, 0xC7, at(150, 0));
	for (uint64_t s = 151; s < 155; s++)
		assert_int_equal(rd(RTC_REG_C, at(s, 0)) & RTC_C_AF, RTC_C_AF);
	/* Hour 2, any minute, second 0: matched within a 3-hour catch-up. */
	wr(RTC_SECONDS_ALARM, 0x00, at(155, 0));
	wr(RTC_MINUTES_ALARM, 0xC0, at(155, 0));
	wr(RTC_HOURS_ALARM, 0x02, at(155, 0));
	rd(RTC_REG_C, at(155, 0));
	assert_int_equal(rd(RTC_REG_C, at(7199, 0)) & RTC_C_AF, 0);
	assert_int_equal(rd(RTC_REG_C, at(3 * 3600 + 5, 0)) & RTC_C_AF, RTC_C_AF);
	/* One catch-up over hours that do not match, into the first second of one that does. */
	wr(RTC_HOURS_ALARM, 0x04, at(3 * 3600 + 5, 0));
	rd(RTC_REG_C, at(3 * 3600 + 5, 0));
	assert_int_equal(rd(RTC_REG_C, at(4 * 3600, 0)) & RTC_C_AF, RTC_C_AF);
	/* 12-hour mode: the hour alarm byte carries the PM bit, compared as a byte. */
	wr(RTC_REG_B, 0, at(4 * 3600, 0));
	wr(RTC_HOURS_ALARM, 0x83, at(4 * 3600, 0)); /* 3 PM */
	rd(RTC_REG_C, at(4 * 3600, 0));
	assert_int_equal(rd(RTC_REG_C, at(15 * 3600, 0) - 1) & RTC_C_AF, 0);
	assert_int_equal(rd(RTC_REG_C, at(15 * 3600, 0)) & RTC_C_AF, RTC_C_AF);
	/* A byte no time can match (BCD seconds 0x60) never goes off, even over days. */
	wr(RTC_SECONDS_ALARM, 0x60, at(15 * 3600, 0));
	wr(RTC_HOURS_ALARM, 0xC0, at(15 * 3600, 0));
	assert_int_equal(rd(RTC_REG_C, at(3 * 86400, 0)) & RTC_C_AF, 0);
}

static void the_alarm_interrupt_fires_at_the_matching_update(void **state)
{
	(void)state;
	wr(RTC_REG_A, 0x20, t0);
	wr(RTC_SECONDS_ALARM, 0x03, t0);
	wr(RTC_MINUTES_ALARM, 0xC0, t0);
	wr(RTC_HOURS_ALARM, 0xC0, t0);
	wr(RTC_REG_B, RTC_B_24H | RTC_B_AIE, t0);
	for (uint64_t s = 1; s <= 3; s++) {
		assert_int_equal(rtc->timer->deadline, at(s, 0));
		vm_device_timers_expire(&vm, at(s, 0));
	}
	assert_true(irq8_level);
	assert_int_equal(irq8_rises, 1);
	assert_int_equal(rd(RTC_REG_C, at(3, 10)), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	assert_false(irq8_level);
}

static void register_c_and_d_ignore_writes(void **state)
{
	(void)state;
	wr(RTC_REG_C, 0xFF, at(1, 0));
	wr(RTC_REG_D, 0x00, at(1, 0));
	assert_int_equal(rd(RTC_REG_C, at(1, 0)), RTC_C_PF | RTC_C_UF);
	assert_int_equal(rd(RTC_REG_C, at(1, 0)), 0);
	assert_int_equal(rd(RTC_REG_D, at(1, 0)), RTC_D_VRT);
}

/* ---- RESET ---- */

static void reset_clears_the_enables_and_flags_and_keeps_time_and_ram(void **state)
{
	(void)state;
	uint64_t now = at(7, 0);
	wr(0x40, 0x5A, now);
	wr(RTC_REG_B, RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE | RTC_B_DM_BINARY | RTC_B_24H |
			      RTC_B_DSE, now);
	assert_true(irq8_level); /* PF and UF were pending */
	fake_cpu.tsc = now;
	vm_reset_devices(&vm);
	assert_false(irq8_level);
	assert_int_equal(rtc->timer->deadline, 0);
	now = fake_cpu.tsc;
	assert_int_equal(rd(RTC_REG_B, now), RTC_B_DM_BINARY | RTC_B_24H | RTC_B_DSE);
	assert_int_equal(rd(RTC_REG_C, now), 0);
	assert_int_equal(rd(RTC_REG_A, now), 0x26);
	assert_int_equal(rd(RTC_SECONDS, now), 7);
	assert_int_equal(rd(0x40, now), 0x5A);
	assert_int_equal(rd(CMOS_BASE_MEM_LO, now), 0x80);
}

/* ---- daylight saving ---- */

static void dse_springs_forward_and_falls_back_on_the_last_sundays(void **state)
{
	(void)state;
	uint64_t s = 0;
	/* Last Sunday of April 2026 (the 26th): 1:59:59 AM -> 3:00:00 AM. */
	wr(RTC_REG_B, RTC_B_24H | RTC_B_DSE, at(s, 0));
	set_clock(at(s, 0), (struct clock_bytes){ 0x20, 0x26, 0x04, 0x26, 0x01, 0x01, 0x59, 0x59 });
	assert_clock(at(s + 1, 0), (struct clock_bytes){ 0x20, 0x26, 0x04, 0x26, 0x01, 0x03, 0x00, 0x00 });
	/* Not on a Sunday with another one left in the month (the 23rd of
	 * April: the 30th is a Sunday too); on the 24th it is the last. */
	s += 2;
	set_clock(at(s, 0), (struct clock_bytes){ 0x20, 0x26, 0x04, 0x23, 0x01, 0x01, 0x59, 0x59 });
	assert_int_equal(rd(RTC_HOURS, at(s + 1, 0)), 0x02);
	s += 2;
	set_clock(at(s, 0), (struct clock_bytes){ 0x20, 0x26, 0x04, 0x24, 0x01, 0x01, 0x59, 0x59 });
	assert_int_equal(rd(RTC_HOURS, at(s + 1, 0)), 0x03);
	/* Last Sunday of October 2026 (the 25th): the first 1:59:59 AM goes
	 * back to 1:00:00 AM, the second one on to 2:00:00 AM. */
	s += 2;
	set_clock(at(s, 0), (struct clock_bytes){ 0x20, 0x26, 0x10, 0x25, 0x01, 0x01, 0x59, 0x59 });
	assert_clock(at(s + 1, 0), (struct clock_bytes){ 0x20, 0x26, 0x10, 0x25, 0x01, 0x01, 0x00, 0x00 });
	assert_int_equal(rd(RTC_HOURS, at(s + 3600, 0)), 0x01);
	assert_int_equal(rd(RTC_HOURS, at(s + 3601, 0)), 0x02);
	/* Set back to the night before: the day starts anew and the hour repeats again. */
	s += 3602;
	set_clock(at(s, 0), (struct clock_bytes){ 0x20, 0x26, 0x10, 0x24, 0x07, 0x23, 0x59, 0x59 });
	assert_clock(at(s + 1 + 7200, 0), (struct clock_bytes){ 0x20, 0x26, 0x10, 0x25, 0x01, 0x01, 0x00, 0x00 });
	/* Within one long catch-up: April's last Sunday has 23 hours, so
	 * 86401 s after Saturday 11:59:59 PM the clock reads 1:00:00 AM on
	 * Monday. */
	s += 7202;
	set_clock(at(s, 0), (struct clock_bytes){ 0x20, 0x26, 0x04, 0x25, 0x07, 0x23, 0x59, 0x59 });
	assert_clock(at(s + 86401, 0), (struct clock_bytes){ 0x20, 0x26, 0x04, 0x27, 0x02, 0x01, 0x00, 0x00 });
	/* Without DSE nothing special happens. */
	s += 86402;
	wr(RTC_REG_B, RTC_B_24H, at(s, 0));
	set_clock(at(s, 0), (struct clock_bytes){ 0x20, 0x26, 0x04, 0x26, 0x01, 0x01, 0x59, 0x59 });
	assert_int_equal(rd(RTC_HOURS, at(s + 1, 0)), 0x02);
}

/* ---- CMOS RAM ---- */

static void cmos_ram_holds_the_memory_sizes_and_checksum(void **state)
{
	(void)state;
	static const struct {
		uint64_t ram;
		unsigned base_kib, extended_kib, above_16m_blocks;
	} sizes[] = {
		{ 512ULL << 10, 512, 0, 0 },
		{ 2 * MiB, 640, 1024, 0 },
		{ 16 * MiB, 640, 15 * 1024, 0 },
		{ 20 * MiB, 640, 19 * 1024, 64 },
		{ 64 * MiB, 640, 0xFC00, 768 },      /* 63 MiB above 1 MiB: just the cap */
		{ 128 * MiB, 640, 0xFC00, 1792 },
		{ 3072 * MiB, 640, 0xFC00, 48896 },
		{ 8192 * MiB, 640, 0xFC00, 65280 },  /* only what lies below 4 GiB */
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* A VM without RAM behind it: the device reads only ram_size. */
		static struct vm bare;
		memset(&bare, 0, sizeof(bare));
		vm_devices_init(&bare.devices);
		bare.devices.tsc_hz = HZ;
		bare.ram_size = sizes[i].ram;
		strcpy(bare.name, "bare");
		assert_true(rtc_cmos_attach(&bare));
		struct rtc_cmos *c = rtc_of(&bare);
		uint64_t now = c->divider_tsc;
#define WORD(lo) (rtc_cmos_read(&bare, c, (lo), now) | rtc_cmos_read(&bare, c, (lo) + 1, now) << 8)
		assert_int_equal(WORD(CMOS_BASE_MEM_LO), sizes[i].base_kib);
		assert_int_equal(WORD(CMOS_EXT_MEM_LO), sizes[i].extended_kib);
		assert_int_equal(WORD(CMOS_EXT_MEM2_LO), sizes[i].extended_kib);
		assert_int_equal(WORD(CMOS_HIGH_MEM_LO), sizes[i].above_16m_blocks);
		unsigned sum = 0;
		for (uint8_t r = CMOS_CHECKSUM_FIRST; r <= CMOS_CHECKSUM_LAST; r++)
			sum += rtc_cmos_read(&bare, c, r, now);
		assert_int_equal(rtc_cmos_read(&bare, c, CMOS_CHECKSUM_HI, now), sum >> 8);
		assert_int_equal(rtc_cmos_read(&bare, c, CMOS_CHECKSUM_LO, now), sum & 0xFF);
		assert_true(sum != 0);
		assert_int_equal(rtc_cmos_read(&bare, c, CMOS_SHUTDOWN_STATUS, now), 0);
		assert_int_equal(rtc_cmos_read(&bare, c, CMOS_EQUIPMENT, now), 0x02);
		assert_int_equal(rtc_cmos_read(&bare, c, CMOS_CENTURY, now), 0x20);
#undef WORD
	}
}

static void cmos_ram_bytes_read_back_what_was_written(void **state)
{
	(void)state;
	for (unsigned i = 0x0E; i < 0x80; i++)
		if (i != CMOS_CENTURY && i != CMOS_PS2_CENTURY)
			wr((uint8_t)i, (uint8_t)(i ^ 0xA5), t0);
	for (unsigned i = 0x0E; i < 0x80; i++)
		if (i != CMOS_CENTURY && i != CMOS_PS2_CENTURY)
			assert_int_equal(rd((uint8_t)i, t0), i ^ 0xA5);
	/* The checksum is the firmware's business: writes leave it alone. */
	assert_int_equal(rd(CMOS_CHECKSUM_HI, t0), CMOS_CHECKSUM_HI ^ 0xA5);
}

/* ---- the ports ---- */

static uint8_t port_read_register(uint8_t index)
{
	io_port_write(&vm, PORT_RTC_INDEX, 1, index);
	return (uint8_t)io_port_read(&vm, PORT_RTC_DATA, 1);
}

static void the_index_port_keeps_the_nmi_bit_apart_from_the_index(void **state)
{
	(void)state;
	fake_cpu.tsc = t0;
	assert_int_equal(port_read_register(RTC_REG_D), RTC_D_VRT);
	assert_false(rtc->nmi_masked);
	assert_int_equal(port_read_register(0x80 | RTC_REG_D), RTC_D_VRT); /* NMI masked, still register D */
	assert_true(rtc->nmi_masked);
	assert_int_equal(rtc->index, RTC_REG_D);
	assert_int_equal(port_read_register(0x80 | RTC_YEAR), 0x26);
	assert_int_equal(port_read_register(RTC_MONTH), 0x01);
	assert_false(rtc->nmi_masked);
	/* 0xFF: NMI masked and the last RAM byte 0x7F. */
	io_port_write(&vm, PORT_RTC_INDEX, 1, 0xFF);
	io_port_write(&vm, PORT_RTC_DATA, 1, 0x3C);
	assert_true(rtc->nmi_masked);
	assert_int_equal(port_read_register(0x7F), 0x3C);
	/* The index port is write-only: it reads all ones. */
	assert_int_equal(io_port_read(&vm, PORT_RTC_INDEX, 1), 0xFF);
	/* The selected register stays selected across data accesses. */
	io_port_write(&vm, PORT_RTC_INDEX, 1, 0x20);
	io_port_write(&vm, PORT_RTC_DATA, 1, 0x11);
	assert_int_equal(io_port_read(&vm, PORT_RTC_DATA, 1), 0x11);
	assert_int_equal(io_port_read(&vm, PORT_RTC_DATA, 1), 0x11);
}

static void wide_port_accesses_reach_consecutive_ports(void **state)
{
	(void)state;
	fake_cpu.tsc = t0;
	io_port_write(&vm, PORT_RTC_INDEX, 2, 0x5A0E); /* index 0x0E, then 0x5A into it */
	assert_int_equal(rtc->index, 0x0E);
	assert_int_equal(port_read_register(0x0E), 0x5A);
	assert_int_equal(io_port_read(&vm, PORT_RTC_INDEX, 2), 0x5AFF);
	assert_int_equal(io_port_read(&vm, PORT_RTC_DATA, 2), 0xFF5A); /* 0x72 is nobody's */
	assert_int_equal(io_port_read(&vm, PORT_RTC_DATA, 4), 0xFFFFFF5A);
	io_port_write(&vm, PORT_RTC_DATA, 4, 0xFFFFFF77); /* bytes past 0x71 go nowhere */
	assert_int_equal(port_read_register(0x0E), 0x77);
	assert_int_equal(rtc->index, 0x0E);
}

static void the_ports_read_the_clock_at_the_host_tsc(void **state)
{
	(void)state;
	fake_cpu.tsc = at(59, 0);
	assert_int_equal(port_read_register(RTC_SECONDS), 0x59);
	fake_cpu.tsc = at(61, 0);
	assert_int_equal(port_read_register(RTC_MINUTES), 0x01);
	/* Setting the time through the ports moves this VM's clock only from then on. */
	fake_cpu.tsc = at(62, 0);
	io_port_write(&vm, PORT_RTC_INDEX, 1, RTC_REG_B);
	io_port_write(&vm, PORT_RTC_DATA, 1, RTC_B_SET | RTC_B_24H);
	io_port_write(&vm, PORT_RTC_INDEX, 1, RTC_HOURS);
	io_port_write(&vm, PORT_RTC_DATA, 1, 0x17);
	io_port_write(&vm, PORT_RTC_INDEX, 1, RTC_REG_B);
	io_port_write(&vm, PORT_RTC_DATA, 1, RTC_B_24H);
	fake_cpu.tsc = at(3600 + 62, 0);
	assert_int_equal(port_read_register(RTC_HOURS), 0x18);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(calendar_from_unix_time),
		T(calendar_month_lengths),
		T(update_cycles_count_400_years_of_days),
		T(update_cycles_carry_into_the_date),
		T(the_clock_starts_at_the_hosts_wall_clock_in_bcd_24_hour),
		T(a_vm_made_on_a_leap_day_evening_counts_into_march),
		T(dm_and_24_12_change_what_the_same_instant_reads),
		T(twelve_hour_mode_counts_through_noon_and_midnight),
		T(invalid_time_bytes_give_the_fields_first_value),
		T(uip_is_set_in_the_244_us_before_each_update),
		T(register_a_keeps_dv_and_rs_and_uip_is_read_only),
		T(set_holds_the_clock_and_the_divider_keeps_its_phase),
		T(divider_reset_stops_the_clock_and_the_first_update_comes_half_a_second_after),
		T(other_time_bases_stop_the_clock_which_then_goes_on_from_where_it_stood),
		T(periodic_flag_follows_every_rate_select),
		T(flags_are_set_without_their_enable_but_irqf_and_the_line_need_it),
		T(the_periodic_interrupt_is_a_level_until_register_c_is_read),
		T(a_long_pause_coalesces_the_missed_periodic_ticks),
		T(update_ended_flag_and_interrupt),
		T(alarm_matches_exact_times_and_dont_care_bytes),
		T(the_alarm_interrupt_fires_at_the_matching_update),
		T(register_c_and_d_ignore_writes),
		T(reset_clears_the_enables_and_flags_and_keeps_time_and_ram),
		T(dse_springs_forward_and_falls_back_on_the_last_sundays),
		T(cmos_ram_holds_the_memory_sizes_and_checksum),
		T(cmos_ram_bytes_read_back_what_was_written),
		T(the_index_port_keeps_the_nmi_bit_apart_from_the_index),
		T(wide_port_accesses_reach_consecutive_ports),
		T(the_ports_read_the_clock_at_the_host_tsc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
