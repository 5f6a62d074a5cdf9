/*
 * The PC's real-time clock and CMOS RAM: a Motorola MC146818A (data sheet
 * references below are to its sections) behind the PC/AT's index port 0x70
 * and data port 0x71, on ISA IRQ 8.
 *
 * The chip's 128 bytes: the time, calendar and alarm registers 0x00-0x09,
 * the status registers A-D at 0x0A-0x0D, then 114 bytes of RAM (0x0E-0x7F)
 * that PC firmware fills by convention (shutdown status, equipment, memory
 * sizes, century, checksum).
 *
 * How time is kept (the data sheet leaves the representation to the
 * registers' mode bits): the clock is held as numbers (struct rtc_time),
 * not as the bytes the guest wrote.  A write is decoded with register B's
 * DM and 24/12 bits in force at the time of the write, a read is encoded
 * with those in force at the time of the read; so after switching DM or
 * 24/12 the registers read the same instant in the new representation at
 * once (the data sheet asks software to re-write the time after such a
 * switch; doing so here is harmless).  The alarm bytes are kept as written
 * and compared byte for byte with the encoded time, as the chip does.
 *
 * The 32.768 kHz time base is the host TSC: the divider's count of
 * 32.768 kHz ticks follows device_clock_ticks, and every update cycle,
 * periodic flag and UIP window derives from that count.  Nothing runs
 * between guest accesses: each access first brings the model up to the
 * host TSC (catching up the updates and flags that fell due), and a device
 * timer is armed only while an enabled interrupt is still to come.
 */
#ifndef CVISOR_DEV_RTC_CMOS_H
#define CVISOR_DEV_RTC_CMOS_H

#include <stdbool.h>
#include <stdint.h>

/* Register indexes (data sheet, "Address map"). */
#define RTC_SECONDS        0x00
#define RTC_SECONDS_ALARM  0x01
#define RTC_MINUTES        0x02
#define RTC_MINUTES_ALARM  0x03
#define RTC_HOURS          0x04
#define RTC_HOURS_ALARM    0x05
#define RTC_DAY_OF_WEEK    0x06
#define RTC_DAY_OF_MONTH   0x07
#define RTC_MONTH          0x08
#define RTC_YEAR           0x09
#define RTC_REG_A          0x0A
#define RTC_REG_B          0x0B
#define RTC_REG_C          0x0C
#define RTC_REG_D          0x0D

/* Register A. */
#define RTC_A_UIP          0x80 /* update in progress (read-only) */
#define RTC_A_DV_MASK      0x70 /* DV2-0: time base / divider control */
#define RTC_A_DV_32KHZ     0x20 /* 010: 32.768 kHz time base, the clock runs */
#define RTC_A_DV_RESET     0x60 /* 11x: divider chain held in reset */
#define RTC_A_RS_MASK      0x0F /* RS3-0: periodic interrupt rate */
/* Register B. */
#define RTC_B_SET          0x80
#define RTC_B_PIE          0x40
#define RTC_B_AIE          0x20
#define RTC_B_UIE          0x10
#define RTC_B_SQWE         0x08
#define RTC_B_DM_BINARY    0x04
#define RTC_B_24H          0x02
#define RTC_B_DSE          0x01
/* Register C: the flags sit at the same bit as their enable in B. */
#define RTC_C_IRQF         0x80
#define RTC_C_PF           0x40
#define RTC_C_AF           0x20
#define RTC_C_UF           0x10
/* Register D. */
#define RTC_D_VRT          0x80 /* valid RAM and time: the battery is good */

#define RTC_HOUR_PM        0x80 /* 12-hour mode: bit 7 of the hour bytes */
#define RTC_ALARM_DONT_CARE 0xC0 /* an alarm byte 0xC0-0xFF matches any value */

/* CMOS RAM by PC convention (IBM PC/AT Technical Reference, CMOS map). */
#define CMOS_SHUTDOWN_STATUS 0x0F
#define CMOS_EQUIPMENT       0x14
#define CMOS_BASE_MEM_LO     0x15 /* KiB below 1 MiB (640) */
#define CMOS_BASE_MEM_HI     0x16
#define CMOS_EXT_MEM_LO      0x17 /* KiB above 1 MiB, at most 0xFC00 */
#define CMOS_EXT_MEM_HI      0x18
#define CMOS_CHECKSUM_HI     0x2E /* sum of 0x10-0x2D, high byte first */
#define CMOS_CHECKSUM_LO     0x2F
#define CMOS_EXT_MEM2_LO     0x30 /* a copy of 0x17/0x18 (as POST leaves it) */
#define CMOS_EXT_MEM2_HI     0x31
#define CMOS_CENTURY         0x32
#define CMOS_HIGH_MEM_LO     0x34 /* 64 KiB blocks above 16 MiB (AMI/Phoenix, QEMU) */
#define CMOS_HIGH_MEM_HI     0x35
#define CMOS_PS2_CENTURY     0x37 /* where IBM PS/2 firmware kept the century */
#define CMOS_CHECKSUM_FIRST  0x10
#define CMOS_CHECKSUM_LAST   0x2D

#define RTC_IRQ_LINE 8 /* the PC/AT wires the RTC's IRQ output to IRQ 8 */
#define RTC_TIME_BASE_HZ 32768u

/* The clock as numbers: 24-hour time, day of week 1-7 (1 = Sunday, the
 * PC convention), date 1-31, month 1-12, year 0-99 in its century 0-99. */
struct rtc_time {
	uint8_t sec, min, hour, wday, mday, month, year, century;
};

struct device_timer;

struct rtc_cmos {
	uint8_t index;        /* port 0x70 bits 6-0: the register the data port reaches */
	bool nmi_masked;      /* port 0x70 bit 7 (the PC's NMI mask; kept, no NMI source uses it) */
	uint8_t reg_a;        /* DV and RS; UIP is computed on read */
	uint8_t reg_b;
	uint8_t flags;        /* register C's PF, AF and UF */
	bool irq_level;       /* IRQF, and the level of IRQ 8 */
	uint8_t alarm[3];     /* seconds, minutes, hours alarm bytes as written */
	struct rtc_time time;
	bool dst_fell_back;   /* DSE: October's 1:00-1:59 repeat has happened today */
	uint8_t ram[128];     /* 0x0E-0x7F (0x32 and 0x37 are the century instead) */
	/* The divider: its count of 32.768 kHz ticks was divider_ticks at host
	 * TSC divider_tsc and advances with the TSC while DV is 010; the model
	 * has applied every update and periodic tick up to count synced_ticks.
	 * An update cycle ends at each multiple of 32768. */
	uint64_t divider_tsc, divider_ticks, synced_ticks;
	struct device_timer *timer;
};

struct vm;

/* The register at index (0x00-0x7F) as the data port reads it, and a write
 * to it, at host TSC now.  Reading register C clears it. */
uint8_t rtc_cmos_read(struct vm *vm, struct rtc_cmos *rtc, uint8_t index, uint64_t now);
void rtc_cmos_write(struct vm *vm, struct rtc_cmos *rtc, uint8_t index, uint8_t value, uint64_t now);

/* The calendar date and time of seconds since 1970-01-01 00:00:00 UTC
 * (proleptic Gregorian). */
void rtc_time_from_unix(uint64_t seconds, struct rtc_time *t);
/* Days in the month of t (Gregorian: the century byte counts). */
unsigned rtc_days_in_month(const struct rtc_time *t);

/* Registers ports 0x70-0x71, the update timer and the reset behaviour;
 * starts the clock at the host's wall clock (plat_unix_time, UTC) and
 * fills CMOS RAM from the VM's RAM size. */
bool rtc_cmos_attach(struct vm *vm);

#endif
