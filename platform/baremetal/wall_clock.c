/*
 * The host's wall clock for the type-1 platform: the PC's real-time clock
 * (Motorola MC146818A data sheet, at ports 0x70/0x71), read once and then
 * carried forward with the TSC.
 */
#include "platform.h"

#include "lib/spinlock.h"
#include "timer.h"
#include "vmx/intrin.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
/* MC146818A registers: time and date, then the status registers. */
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS   0x04
#define RTC_DAY     0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_STATUS_A 0x0A
#define RTC_STATUS_B 0x0B
#define STATUS_A_UIP   0x80 /* an update is in progress: the time is not stable */
#define STATUS_B_24H   0x02
#define STATUS_B_BINARY 0x04
#define HOUR_PM        0x80 /* 12-hour mode */
/* Bit 7 of the index port is the NMI mask on a PC: keep NMIs enabled. */

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static unsigned from_bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10u + (v & 0xF);
}

/* Days from 1970-01-01 to the date (proleptic Gregorian, year >= 1970). */
static uint64_t days_since_epoch(unsigned year, unsigned month, unsigned day)
{
	static const unsigned before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	uint64_t days = 365ULL * (year - 1970) + (year - 1969) / 4 - (year - 1901) / 100 + (year - 1601) / 400;
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12)
		month = 1;
	return days + before_month[month - 1] + (leap && month > 2) + (day ? day - 1 : 0);
}

static uint64_t read_rtc(void)
{
	/* Wait out an update (at most 2 ms after UIP rises), bounded. */
	for (unsigned polls = 0; polls < 100000 && (cmos_read(RTC_STATUS_A) & STATUS_A_UIP); polls++)
		;
	uint8_t status_b = cmos_read(RTC_STATUS_B);
	bool binary = status_b & STATUS_B_BINARY;
	unsigned sec = from_bcd(cmos_read(RTC_SECONDS), binary);
	unsigned min = from_bcd(cmos_read(RTC_MINUTES), binary);
	uint8_t raw_hour = cmos_read(RTC_HOURS);
	unsigned hour = from_bcd(raw_hour & 0x7F, binary);
	unsigned day = from_bcd(cmos_read(RTC_DAY), binary);
	unsigned month = from_bcd(cmos_read(RTC_MONTH), binary);
	unsigned year = 2000 + from_bcd(cmos_read(RTC_YEAR), binary) % 100;

	if (!(status_b & STATUS_B_24H)) /* 12-hour mode: 12 AM is 0, 12 PM is 12 */
		hour = (hour % 12) + ((raw_hour & HOUR_PM) ? 12 : 0);
	return days_since_epoch(year, month, day) * 86400 + hour * 3600ULL + min * 60ULL + sec;
}

static spinlock_t clock_lock;
static uint64_t base_seconds, base_tsc;
static bool clock_read;

uint64_t plat_tsc_hz(void)
{
	return timer_calibrate();
}

uint64_t plat_unix_time(void)
{
	spin_lock(&clock_lock);
	if (!clock_read) {
		base_seconds = read_rtc();
		base_tsc = rdtsc();
		clock_read = true;
	}
	uint64_t seconds = base_seconds + (rdtsc() - base_tsc) / plat_tsc_hz();
	spin_unlock(&clock_lock);
	return seconds;
}
