/*
 * TSC calibration against PIT channel 2 (Intel 8254 data sheet; the PC's
 * port 0x61 "system control port B": bit 0 gates channel 2, bit 1 feeds
 * the speaker, bit 5 reads channel 2's OUT pin).
 */
#include "timer.h"

#include "lib/log.h"
#include "vmx/intrin.h"

#define PIT_HZ          1193182ULL
#define PIT_CH2_DATA    0x42
#define PIT_COMMAND     0x43
#define PORT_B          0x61
#define PORT_B_GATE2    0x01
#define PORT_B_SPEAKER  0x02
#define PORT_B_OUT2     0x20
/* Channel 2, lobyte then hibyte, mode 0 (interrupt on terminal count), binary. */
#define PIT_CH2_MODE0   0xB0

#define CALIBRATE_MS    10
#define CALIBRATE_COUNT (PIT_HZ * CALIBRATE_MS / 1000)	/* 11931 */
/* Port reads take about 1 us on hardware and a few instructions in Bochs:
 * 10 ms of PIT time is far below this many polls. */
#define CALIBRATE_MAX_POLLS 5000000UL
#define FALLBACK_HZ     5000000000ULL

static uint64_t tsc_hz;

static uint64_t calibrate_with_pit(void)
{
	uint8_t b = inb(PORT_B);
	uint64_t start, end;
	unsigned long polls;

	/* Gate off while programming, speaker off. */
	outb(PORT_B, (uint8_t)(b & ~(PORT_B_GATE2 | PORT_B_SPEAKER)));
	outb(PIT_COMMAND, PIT_CH2_MODE0);
	outb(PIT_CH2_DATA, CALIBRATE_COUNT & 0xFF);
	outb(PIT_CH2_DATA, CALIBRATE_COUNT >> 8);
	/* Gate on: counting starts; OUT2 goes high at terminal count. */
	outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	start = rdtsc();
	for (polls = 0; polls < CALIBRATE_MAX_POLLS; polls++)
		if (inb(PORT_B) & PORT_B_OUT2)
			break;
	end = rdtsc();
	outb(PORT_B, b);
	if (polls == CALIBRATE_MAX_POLLS || polls == 0 || end <= start)
		return 0;
	return (end - start) * 1000 / CALIBRATE_MS;
}

uint64_t timer_calibrate(void)
{
	struct cpuid_regs r;

	if (tsc_hz)
		return tsc_hz;
	tsc_hz = calibrate_with_pit();
	if (tsc_hz)
		return tsc_hz;
	/* CPUID.16H:EAX = processor base frequency in MHz (SDM Vol. 2A CPUID). */
	cpuid(0, 0, &r);
	if (r.eax >= 0x16) {
		cpuid(0x16, 0, &r);
		if (r.eax)
			tsc_hz = (uint64_t)r.eax * 1000000;
	}
	if (!tsc_hz)
		tsc_hz = FALLBACK_HZ;
	log_printf("cvisor: the PIT did not answer; assuming a %llu MHz TSC for delays\n",
		   (unsigned long long)(tsc_hz / 1000000));
	return tsc_hz;
}

uint64_t timer_deadline_us(uint64_t us)
{
	uint64_t hz = tsc_hz ? tsc_hz : FALLBACK_HZ;
	return rdtsc() + us * (hz / 1000000 ? hz / 1000000 : 1);
}

bool timer_passed(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

void timer_delay_us(uint64_t us)
{
	uint64_t deadline = timer_deadline_us(us);
	while (!timer_passed(deadline))
		cpu_relax();
}
