// rtc-update-irq: takes update interrupts from the real-time clock through
// /dev/rtc0 (the rtc-cmos driver: the MC146818A's interrupt on IRQ 8).
//
//   rtc-update-irq COUNT
//
// Turns update interrupts on (RTC_UIE_ON) and reads COUNT of them: each read
// blocks until the clock's next second, so consecutive ones must come about
// one second apart by the kernel's monotonic clock (within 20%), and the
// clock's time (RTC_RD_TIME) must advance by one second each time.  Prints
// one line; exits 0 only when all of that held.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long seconds_of_day(const struct rtc_time *t)
{
	return t->tm_hour * 3600L + t->tm_min * 60L + t->tm_sec;
}

int main(int argc, char **argv)
{
	int count = argc == 2 ? atoi(argv[1]) : 0;
	if (count < 2) {
		fprintf(stderr, "usage: rtc-update-irq COUNT (at least 2)\n");
		return 2;
	}
	int fd = open("/dev/rtc0", O_RDONLY);
	if (fd < 0) {
		printf("rtc-update-irq: FAIL: cannot open /dev/rtc0: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(fd, RTC_UIE_ON, 0) != 0) {
		printf("rtc-update-irq: FAIL: RTC_UIE_ON: %s\n", strerror(errno));
		return 1;
	}
	long long first_ns = 0, prev_ns = 0, worst_ms = 0;
	long prev_sec = -1;
	const char *why = NULL;
	for (int i = 0; i < count && !why; i++) {
		unsigned long data;
		if (read(fd, &data, sizeof(data)) != (ssize_t)sizeof(data)) {
			why = "read of /dev/rtc0 failed";
			break;
		}
		long long t = now_ns();
		struct rtc_time tm;
		if (ioctl(fd, RTC_RD_TIME, &tm) != 0) {
			why = "RTC_RD_TIME failed";
			break;
		}
		long sec = seconds_of_day(&tm);
		if (!(data & RTC_UF))
			why = "the interrupt is not an update interrupt";
		else if (i > 0 && sec != (prev_sec + 1) % 86400)
			why = "the clock did not advance by one second between interrupts";
		if (i == 0)
			first_ns = t;
		else {
			long long ms = (t - prev_ns) / 1000000;
			long long off = ms > 1000 ? ms - 1000 : 1000 - ms;
			if (off > worst_ms)
				worst_ms = off;
			if (off > 200 && !why)
				why = "update interrupts did not come one second apart";
		}
		prev_ns = t;
		prev_sec = sec;
	}
	ioctl(fd, RTC_UIE_OFF, 0);
	close(fd);
	if (why) {
		printf("rtc-update-irq: FAIL: %s (worst interval off by %lld ms)\n", why, worst_ms);
		return 1;
	}
	printf("rtc-update-irq: %d update interrupts, %lld ms apart (worst off by %lld ms)\n", count,
	       (prev_ns - first_ns) / 1000000 / (count - 1), worst_ms);
	return 0;
}
