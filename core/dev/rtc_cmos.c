#include "dev/rtc_cmos.h"

#include "abi/devices.h"
#include "dev/device.h"
#include "dev/ports.h"
#include "irq/irq.h"
#include "lib/log.h"
#include "platform.h"
#include "vm/vm.h"
#include "vmx/intrin.h"

#define SECONDS_PER_DAY 86400u
#define DAYS_PER_400_YEARS 146097u /* the Gregorian calendar repeats after 400 years */
/* UIP rises 244 us before an update cycle (data sheet, register A: "UIP"):
 * 8 periods of the 32.768 kHz time base (244.1 us). */
#define UIP_TICKS 8u
/* The first update cycle begins one half second after the divider chain
 * leaves reset (data sheet, register A: "DV2-DV0"). */
#define HALF_SECOND_TICKS (RTC_TIME_BASE_HZ / 2)
/* DSE changes the time when it would reach 2:00:00 AM. */
#define DST_CHANGE_SECOND (2u * 3600)

/* ---- The calendar ---------------------------------------------------- */

static bool is_leap_year(uint64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned rtc_days_in_month(const struct rtc_time *t)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned month = t->month >= 1 && t->month <= 12 ? t->month : 1;

	if (month == 2 && is_leap_year(t->century * 100u + t->year))
		return 29;
	return days[month - 1];
}

static void set_second_of_day(struct rtc_time *t, uint32_t second)
{
	t->hour = (uint8_t)(second / 3600);
	t->min = (uint8_t)(second / 60 % 60);
	t->sec = (uint8_t)(second % 60);
}

static uint32_t second_of_day(const struct rtc_time *t)
{
	return t->hour * 3600u + t->min * 60u + t->sec;
}

void rtc_time_from_unix(uint64_t seconds, struct rtc_time *t)
{
	uint64_t days = seconds / SECONDS_PER_DAY;
	uint64_t year = 1970 + days / DAYS_PER_400_YEARS * 400;

	set_second_of_day(t, (uint32_t)(seconds % SECONDS_PER_DAY));
	t->wday = (uint8_t)((days + 4) % 7 + 1); /* 1970-01-01 was a Thursday (5; Sunday is 1) */
	days %= DAYS_PER_400_YEARS;
	while (days >= (is_leap_year(year) ? 366u : 365u)) {
		days -= is_leap_year(year) ? 366u : 365u;
		year++;
	}
	t->century = (uint8_t)(year / 100 % 100);
	t->year = (uint8_t)(year % 100);
	t->month = 1;
	while (days >= rtc_days_in_month(t)) {
		days -= rtc_days_in_month(t);
		t->month++;
	}
	t->mday = (uint8_t)(days + 1);
}

/* The date part of an update cycle that passes midnight (data sheet,
 * "Update cycle"): the day of week cycles 1-7; past the month's last day
 * the date goes to 1 and the month on, past December the month goes to 1
 * and the year on.  The chip has no century: the PC's century byte takes
 * the carry out of the year, and the Gregorian rule decides February
 * (the chip alone counts every fourth year as leap, 2100 included). */
static void next_day(struct rtc_time *t)
{
	t->wday = t->wday >= 7 ? 1 : (uint8_t)(t->wday + 1);
	if (t->mday < rtc_days_in_month(t)) {
		t->mday++;
		return;
	}
	t->mday = 1;
	if (t->month < 12) {
		t->month++;
		return;
	}
	t->month = 1;
	if (t->year < 99) {
		t->year++;
		return;
	}
	t->year = 0;
	t->century = (uint8_t)((t->century + 1) % 100);
}

/* ---- The registers' representation (data sheet, "Time, calendar and
 * alarm locations": binary or BCD by DM, 12- or 24-hour by 24/12) ------- */

static bool binary_mode(const struct rtc_cmos *rtc)
{
	return rtc->reg_b & RTC_B_DM_BINARY;
}

/* v is 0-99 (every field is). */
static uint8_t encode(const struct rtc_cmos *rtc, unsigned v)
{
	return binary_mode(rtc) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* A byte's value if it is a valid value from lo to hi in the current mode. */
static bool decode(const struct rtc_cmos *rtc, uint8_t byte, unsigned lo, unsigned hi, uint8_t *out)
{
	unsigned v = byte;

	if (!binary_mode(rtc)) {
		if ((byte & 0x0F) > 9 || (byte >> 4) > 9)
			return false;
		v = (byte >> 4) * 10u + (byte & 0x0Fu);
	}
	if (v < lo || v > hi)
		return false;
	*out = (uint8_t)v;
	return true;
}

/* 12-hour mode: 1-12 with bit 7 for PM; 12 AM is midnight, 12 PM noon. */
static uint8_t encode_hour(const struct rtc_cmos *rtc, unsigned hour)
{
	if (rtc->reg_b & RTC_B_24H)
		return encode(rtc, hour);
	unsigned h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(encode(rtc, h12) | (hour >= 12 ? RTC_HOUR_PM : 0));
}

static bool decode_hour(const struct rtc_cmos *rtc, uint8_t byte, uint8_t *out)
{
	uint8_t h12;

	if (rtc->reg_b & RTC_B_24H)
		return decode(rtc, byte, 0, 23, out);
	if (!decode(rtc, byte & (uint8_t)~RTC_HOUR_PM, 1, 12, &h12))
		return false;
	*out = (uint8_t)(h12 % 12 + ((byte & RTC_HOUR_PM) ? 12 : 0));
	return true;
}

/*
 * A write to a time or date register.  The data sheet leaves a value out
 * of the register's range undefined; here a byte that is no valid value in
 * the current mode (a BCD digit above 9, a number past the range, hour 0 or
 * 13 in 12-hour mode) sets the field to its first value (0, or 1 for the
 * day of week, date and month), so the clock always holds a time it can
 * count from.  The date is checked against 1-31 only: a date past the
 * month's end (February 30) rolls to the 1st of the next month at the next
 * midnight, as the chip's counter does.
 */
static void write_time_field(struct rtc_cmos *rtc, uint8_t index, uint8_t value)
{
	struct rtc_time *t = &rtc->time;
	uint8_t *field, v;
	unsigned lo = 0, hi = 99;

	switch (index) {
	case RTC_SECONDS:
		field = &t->sec;
		hi = 59;
		break;
	case RTC_MINUTES:
		field = &t->min;
		hi = 59;
		break;
	case RTC_HOURS:
		t->hour = decode_hour(rtc, value, &v) ? v : 0;
		return;
	case RTC_DAY_OF_WEEK:
		field = &t->wday;
		lo = 1;
		hi = 7;
		break;
	case RTC_DAY_OF_MONTH:
		field = &t->mday;
		lo = 1;
		hi = 31;
		break;
	case RTC_MONTH:
		field = &t->month;
		lo = 1;
		hi = 12;
		break;
	case RTC_YEAR:
		field = &t->year;
		break;
	default: /* the century (0x32, or 0x37 as PS/2 firmware placed it) */
		field = &t->century;
		break;
	}
	*field = decode(rtc, value, lo, hi, &v) ? v : (uint8_t)lo;
}

/* ---- Alarm (data sheet, "Alarm"): the three alarm bytes are compared
 * with the seconds, minutes and hours bytes at every update cycle; an
 * alarm byte with its two high bits set (0xC0-0xFF) matches anything. ---- */

enum { ALARM_SECONDS, ALARM_MINUTES, ALARM_HOURS };

static bool alarm_field_matches(const struct rtc_cmos *rtc, unsigned field, unsigned value)
{
	uint8_t alarm = rtc->alarm[field];

	if ((alarm & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
		return true;
	return alarm == (field == ALARM_HOURS ? encode_hour(rtc, value) : encode(rtc, value));
}

/* Does a time of day from second first to second last (inclusive) match
 * the alarm? */
static bool alarm_matches_between(const struct rtc_cmos *rtc, uint32_t first, uint32_t last)
{
	static const unsigned values[3] = { 60, 60, 24 };

	/* A byte that matches no value at all (neither a valid value nor
	 * don't care) keeps the alarm from ever going off; after this check
	 * every whole minute whose hour and minute match holds a match, so
	 * the search below ends within a day's 1440 minutes. */
	for (unsigned field = 0; field < 3; field++) {
		unsigned v = 0;
		while (v < values[field] && !alarm_field_matches(rtc, field, v))
			v++;
		if (v == values[field])
			return false;
	}
	for (uint32_t minute = first / 60; minute <= last / 60; minute++) {
		if (!alarm_field_matches(rtc, ALARM_HOURS, minute / 60)) {
			minute = minute / 60 * 60 + 59; /* the rest of this hour cannot match */
			continue;
		}
		if (!alarm_field_matches(rtc, ALARM_MINUTES, minute % 60))
			continue;
		uint32_t from = minute == first / 60 ? first % 60 : 0;
		uint32_t to = minute == last / 60 ? last % 60 : 59;
		for (uint32_t second = from; second <= to; second++)
			if (alarm_field_matches(rtc, ALARM_SECONDS, second))
				return true;
	}
	return false;
}

static void check_alarm(struct rtc_cmos *rtc, uint32_t first, uint32_t last)
{
	if (!(rtc->flags & RTC_C_AF) && first <= last && alarm_matches_between(rtc, first, last))
		rtc->flags |= RTC_C_AF;
}

/* ---- Update cycles ---------------------------------------------------- */

/* The last Sunday of the month (DSE's days): a Sunday within the month's
 * last seven days, by the day-of-week register as the chip reads it. */
static bool last_sunday_of(const struct rtc_time *t, unsigned month)
{
	return t->month == month && t->wday == 1 && t->mday + 7u > rtc_days_in_month(t);
}

/*
 * count update cycles, one per second (data sheet, "Update cycle"): each
 * advances the time by one second with the carries into the date, sets UF,
 * and sets AF when the new time matches the alarm.  Many at once (after a
 * stretch without guest accesses) go a day at a time.
 *
 * Daylight saving (register B DSE, data sheet): on the last Sunday in
 * April the time goes from 1:59:59 AM to 3:00:00 AM; on the last Sunday in
 * October, the first time it reaches 1:59:59 AM, it goes back to 1:00:00
 * AM.  These are the MC146818A's fixed (1980s United States) rules, applied
 * to whatever the guest's clock holds.
 */
static void run_update_cycles(struct rtc_cmos *rtc, uint64_t count)
{
	struct rtc_time *t = &rtc->time;

	rtc->flags |= RTC_C_UF;
	while (count) {
		uint32_t now = second_of_day(t), boundary = SECONDS_PER_DAY, landing = 0;

		if ((rtc->reg_b & RTC_B_DSE) && now < DST_CHANGE_SECOND) {
			if (last_sunday_of(t, 4)) {
				boundary = DST_CHANGE_SECOND;
				landing = DST_CHANGE_SECOND + 3600;
			} else if (last_sunday_of(t, 10) && !rtc->dst_fell_back) {
				boundary = DST_CHANGE_SECOND;
				landing = DST_CHANGE_SECOND - 3600;
			}
		}
		uint32_t to_boundary = boundary - now;
		if (count < to_boundary) {
			check_alarm(rtc, now + 1, now + (uint32_t)count);
			set_second_of_day(t, now + (uint32_t)count);
			return;
		}
		check_alarm(rtc, now + 1, boundary - 1);
		count -= to_boundary;
		if (boundary == SECONDS_PER_DAY) {
			next_day(t);
			rtc->dst_fell_back = false;
		} else if (landing < boundary) {
			rtc->dst_fell_back = true;
		}
		set_second_of_day(t, landing);
		check_alarm(rtc, landing, landing);
	}
}

/* The divider runs only with the PC's 32.768 kHz time base selected
 * (DV = 010).  A PC's crystal is 32.768 kHz: the 4.194304 and 1.048576 MHz
 * selections (000, 001) and the test patterns (011, 10x) would not keep
 * time with it, and 11x holds the divider chain in reset: in all of them
 * the clock, its updates and its periodic flag stop. */
static bool divider_runs(const struct rtc_cmos *rtc)
{
	return (rtc->reg_a & RTC_A_DV_MASK) == RTC_A_DV_32KHZ;
}

static uint64_t divider_count(const struct vm *vm, const struct rtc_cmos *rtc, uint64_t now)
{
	if (!divider_runs(rtc))
		return rtc->divider_ticks;
	uint64_t elapsed = now > rtc->divider_tsc ? now - rtc->divider_tsc : 0;
	return rtc->divider_ticks + device_clock_ticks(elapsed, vm->devices.tsc_hz, RTC_TIME_BASE_HZ);
}

/* The periodic rate (data sheet, register A, "Periodic interrupt rate"
 * table for a 32.768 kHz time base) in ticks of the time base: RS 0 none,
 * 1 and 2 the same as 8 and 9 (256 and 128 Hz), 3-15 2^(RS-1) ticks
 * (8192 Hz down to 2 Hz). */
static uint32_t periodic_ticks(const struct rtc_cmos *rtc)
{
	unsigned rs = rtc->reg_a & RTC_A_RS_MASK;

	if (!rs)
		return 0;
	return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

/* Brings the model to host TSC now: the periodic flag if a period ended
 * (one flag for any number of periods: a long pause does not become a
 * storm of stale ticks), and the update cycles that fell due (none while
 * SET stops them; the divider keeps counting). */
static void catch_up(struct vm *vm, struct rtc_cmos *rtc, uint64_t now)
{
	uint64_t count = divider_count(vm, rtc, now);
	uint32_t period = periodic_ticks(rtc);

	if (count <= rtc->synced_ticks)
		return;
	if (period && count / period > rtc->synced_ticks / period)
		rtc->flags |= RTC_C_PF;
	uint64_t updates = count / RTC_TIME_BASE_HZ - rtc->synced_ticks / RTC_TIME_BASE_HZ;
	if (updates && !(rtc->reg_b & RTC_B_SET))
		run_update_cycles(rtc, updates);
	rtc->synced_ticks = count;
}

/* UIP (data sheet, register A): 1 from 244 us before an update cycle until
 * it is done.  Updates take no time here (the registers change at the
 * second's end, where UF is set), so UIP is 1 in the last 244 us of each
 * second of the divider; 0 while SET or a stopped divider keeps updates
 * from happening. */
static bool update_in_progress(const struct vm *vm, const struct rtc_cmos *rtc, uint64_t now)
{
	if (!divider_runs(rtc) || (rtc->reg_b & RTC_B_SET))
		return false;
	return divider_count(vm, rtc, now) % RTC_TIME_BASE_HZ >= RTC_TIME_BASE_HZ - UIP_TICKS;
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE (data sheet, register C); the IRQ
 * output is a level that stays asserted until register C is read (or the
 * enables drop).  Then the device timer: armed for the next periodic tick
 * or update cycle only while an enabled interrupt can still raise the line
 * (with IRQF already 1 nothing changes until register C is read, and the
 * flags catch up lazily then). */
static void settle(struct vm *vm, struct rtc_cmos *rtc)
{
	bool irqf = rtc->flags & rtc->reg_b & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
	uint64_t next = 0;

	if (irqf != rtc->irq_level) {
		rtc->irq_level = irqf;
		vm_set_irq(vm, RTC_IRQ_LINE, irqf);
	}
	if (!irqf && divider_runs(rtc)) {
		uint32_t period = periodic_ticks(rtc);
		if ((rtc->reg_b & RTC_B_PIE) && period)
			next = (rtc->synced_ticks / period + 1) * period;
		if ((rtc->reg_b & (RTC_B_UIE | RTC_B_AIE)) && !(rtc->reg_b & RTC_B_SET)) {
			uint64_t update = (rtc->synced_ticks / RTC_TIME_BASE_HZ + 1) * RTC_TIME_BASE_HZ;
			if (!next || update < next)
				next = update;
		}
	}
	uint64_t deadline = 0;
	if (next) {
		deadline = rtc->divider_tsc + device_clock_to_tsc(next - rtc->divider_ticks,
								  RTC_TIME_BASE_HZ, vm->devices.tsc_hz);
		if (!deadline)
			deadline = 1; /* 0 would disarm */
	}
	device_timer_arm(vm, rtc->timer, deadline);
}

static void rtc_timer_fire(struct vm *vm, void *state, uint64_t now)
{
	catch_up(vm, state, now);
	settle(vm, state);
}

/* Register A: DV2-0 and RS3-0 are written, UIP is read-only. */
static void write_reg_a(struct rtc_cmos *rtc, uint8_t value, uint64_t now)
{
	bool ran = divider_runs(rtc);
	bool was_reset = (rtc->reg_a & RTC_A_DV_RESET) == RTC_A_DV_RESET;

	rtc->reg_a = value & (uint8_t)~RTC_A_UIP;
	if (ran == divider_runs(rtc))
		return;
	if (!ran) {
		/* Out of reset, the chain starts half way through a second, so
		 * the first update comes 500 ms later; the half second is a
		 * multiple of every periodic rate, so the first periodic flag
		 * comes one whole period later.  From another stopped setting
		 * the count goes on from where it stood. */
		if (was_reset)
			rtc->synced_ticks = rtc->synced_ticks - rtc->synced_ticks % RTC_TIME_BASE_HZ +
					    HALF_SECOND_TICKS;
		rtc->divider_ticks = rtc->synced_ticks;
		rtc->divider_tsc = now;
	} else {
		rtc->divider_ticks = rtc->synced_ticks; /* frozen (catch_up ran at now) */
	}
}

/* ---- The guest's view ------------------------------------------------- */

uint8_t rtc_cmos_read(struct vm *vm, struct rtc_cmos *rtc, uint8_t index, uint64_t now)
{
	const struct rtc_time *t = &rtc->time;
	uint8_t value;

	catch_up(vm, rtc, now);
	switch (index & 0x7F) {
	case RTC_SECONDS:
		value = encode(rtc, t->sec);
		break;
	case RTC_SECONDS_ALARM:
		value = rtc->alarm[ALARM_SECONDS];
		break;
	case RTC_MINUTES:
		value = encode(rtc, t->min);
		break;
	case RTC_MINUTES_ALARM:
		value = rtc->alarm[ALARM_MINUTES];
		break;
	case RTC_HOURS:
		value = encode_hour(rtc, t->hour);
		break;
	case RTC_HOURS_ALARM:
		value = rtc->alarm[ALARM_HOURS];
		break;
	case RTC_DAY_OF_WEEK:
		value = encode(rtc, t->wday);
		break;
	case RTC_DAY_OF_MONTH:
		value = encode(rtc, t->mday);
		break;
	case RTC_MONTH:
		value = encode(rtc, t->month);
		break;
	case RTC_YEAR:
		value = encode(rtc, t->year);
		break;
	case CMOS_CENTURY:
	case CMOS_PS2_CENTURY:
		value = encode(rtc, t->century);
		break;
	case RTC_REG_A:
		value = (uint8_t)(rtc->reg_a | (update_in_progress(vm, rtc, now) ? RTC_A_UIP : 0));
		break;
	case RTC_REG_B:
		value = rtc->reg_b;
		break;
	case RTC_REG_C:
		/* Reading register C clears it, IRQF with the flags, and the
		 * IRQ output goes inactive (data sheet, register C). */
		value = rtc->flags;
		if (rtc->flags & rtc->reg_b & (RTC_C_PF | RTC_C_AF | RTC_C_UF))
			value |= RTC_C_IRQF;
		rtc->flags = 0;
		break;
	case RTC_REG_D:
		value = RTC_D_VRT; /* bits 6-0 read 0 (data sheet, register D) */
		break;
	default:
		value = rtc->ram[index & 0x7F];
		break;
	}
	settle(vm, rtc);
	return value;
}

void rtc_cmos_write(struct vm *vm, struct rtc_cmos *rtc, uint8_t index, uint8_t value, uint64_t now)
{
	catch_up(vm, rtc, now);
	switch (index & 0x7F) {
	case RTC_SECONDS_ALARM:
		rtc->alarm[ALARM_SECONDS] = value;
		break;
	case RTC_MINUTES_ALARM:
		rtc->alarm[ALARM_MINUTES] = value;
		break;
	case RTC_HOURS_ALARM:
		rtc->alarm[ALARM_HOURS] = value;
		break;
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case CMOS_CENTURY:
	case CMOS_PS2_CENTURY:
		write_time_field(rtc, index & 0x7F, value);
		break;
	case RTC_REG_A:
		write_reg_a(rtc, value, now);
		break;
	case RTC_REG_B:
		/* SET = 1 stops the update cycles (an update "in progress" is
		 * abandoned: UIP reads 0) and clears UIE (data sheet, register
		 * B).  DM and 24/12 change how the time is read from now on. */
		if (value & RTC_B_SET)
			value &= (uint8_t)~RTC_B_UIE;
		rtc->reg_b = value;
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		rtc->ram[index & 0x7F] = value;
		break;
	}
	settle(vm, rtc);
}

/* The RESET input (data sheet, "RESET"): PIE, AIE, UIE and SQWE cleared,
 * IRQF, PF, AF and UF cleared and the IRQ output released; the time, the
 * calendar, the other register bits and the RAM stay (the chip runs on its
 * battery across a PC's reset). */
static void rtc_cmos_reset(struct vm *vm, void *state)
{
	struct rtc_cmos *rtc = state;

	catch_up(vm, rtc, rdtsc());
	rtc->reg_b &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	rtc->flags = 0;
	settle(vm, rtc);
}

/* Port 0x70: the index, bit 7 the NMI mask (kept, selects nothing); a
 * write-only port on the PC/AT, so it reads all ones.  Port 0x71: the
 * selected register.  Wider accesses reach consecutive ports; the bytes
 * past 0x71 belong to no device. */
static uint32_t rtc_port_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct rtc_cmos *rtc = state;
	uint32_t value = 0;
	uint64_t now = rdtsc();

	for (unsigned i = 0; i < size; i++) {
		uint8_t byte = 0xFF;
		if (port + i == PORT_RTC_DATA)
			byte = rtc_cmos_read(vm, rtc, rtc->index, now);
		value |= (uint32_t)byte << (8 * i);
	}
	return value;
}

static void rtc_port_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	struct rtc_cmos *rtc = state;
	uint64_t now = rdtsc();

	for (unsigned i = 0; i < size; i++) {
		uint8_t byte = (uint8_t)(value >> (8 * i));
		if (port + i == PORT_RTC_INDEX) {
			rtc->index = byte & 0x7F;
			rtc->nmi_masked = byte & 0x80;
		} else if (port + i == PORT_RTC_DATA) {
			rtc_cmos_write(vm, rtc, rtc->index, byte, now);
		}
	}
}

static const struct port_ops rtc_port_ops = { .read = rtc_port_read, .write = rtc_port_write };

static void put_word(uint8_t *ram, unsigned low_index, uint64_t value)
{
	ram[low_index] = (uint8_t)value;
	ram[low_index + 1] = (uint8_t)(value >> 8);
}

/*
 * CMOS RAM as PC firmware leaves it after POST (IBM PC/AT Technical
 * Reference, "CMOS RAM address map", and the AMI/Phoenix additions QEMU's
 * firmware reads too): shutdown status 0 (a normal POST), no diskette or
 * fixed-disk types, the equipment byte (math coprocessor present, primary
 * display "adapter with its own BIOS", no diskette drives), base memory
 * 640 KiB, memory from 1 MiB up in KiB at 0x17/0x18 and again at 0x30/0x31
 * (at most 0xFC00: 63 MiB, as 16 bits of KiB leave room for), memory above
 * 16 MiB (and below 4 GiB) in 64 KiB blocks at 0x34/0x35, and the
 * checksum of 0x10-0x2D at 0x2E (high byte) and 0x2F.  The RAM is plain
 * memory afterwards: the guest's writes do not update the checksum.
 */
static void fill_cmos_ram(const struct vm *vm, struct rtc_cmos *rtc)
{
	uint64_t kib = vm->ram_size / 1024, below_4g = vm->ram_size;
	uint64_t extended = kib > 1024 ? kib - 1024 : 0, above_16m = 0;
	unsigned sum = 0;

	if (below_4g > (4ULL << 30))
		below_4g = 4ULL << 30;
	if (below_4g > (16ULL << 20))
		above_16m = (below_4g - (16ULL << 20)) >> 16; /* at most 0xFF00 */
	if (extended > 0xFC00)
		extended = 0xFC00;
	rtc->ram[CMOS_SHUTDOWN_STATUS] = 0;
	rtc->ram[CMOS_EQUIPMENT] = 0x02;
	put_word(rtc->ram, CMOS_BASE_MEM_LO, kib < 640 ? kib : 640);
	put_word(rtc->ram, CMOS_EXT_MEM_LO, extended);
	put_word(rtc->ram, CMOS_EXT_MEM2_LO, extended);
	put_word(rtc->ram, CMOS_HIGH_MEM_LO, above_16m);
	for (unsigned i = CMOS_CHECKSUM_FIRST; i <= CMOS_CHECKSUM_LAST; i++)
		sum += rtc->ram[i];
	rtc->ram[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	rtc->ram[CMOS_CHECKSUM_LO] = (uint8_t)sum;
}

bool rtc_cmos_attach(struct vm *vm)
{
	struct rtc_cmos *rtc = vm_device_state(vm, sizeof(*rtc), "RTC/CMOS");

	if (!rtc)
		return false;
	if (!vm->devices.tsc_hz) {
		log_printf("cvisor: VM %s: the RTC needs the TSC's rate, which the platform did not give\n",
			   vm->name);
		return false;
	}
	/* As PC firmware leaves the chip: 32.768 kHz time base with the
	 * 1024 Hz periodic rate (0x26), 24-hour BCD (0x02); the time is the
	 * host's, in UTC. */
	rtc_time_from_unix(plat_unix_time(), &rtc->time);
	rtc->reg_a = RTC_A_DV_32KHZ | 0x06;
	rtc->reg_b = RTC_B_24H;
	rtc->divider_tsc = rdtsc();
	fill_cmos_ram(vm, rtc);
	rtc->timer = vm_add_device_timer(vm, "RTC", rtc_timer_fire, rtc);
	return rtc->timer && vm_add_device_reset(vm, "RTC", rtc_cmos_reset, rtc) &&
	       vm_register_ports(vm, "RTC/CMOS", PORT_RTC_INDEX, PORT_RTC_DATA, &rtc_port_ops, rtc);
}
