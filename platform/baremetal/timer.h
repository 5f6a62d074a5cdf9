/*
 * Short, bounded delays for the bare-metal platform, measured with the TSC
 * after calibrating it against the legacy PIT (channel 2, which needs no
 * interrupt).  In Bochs the TSC advances one tick per emulated instruction,
 * so a calibrated delay costs the same emulated time on every host.
 */
#ifndef CVISOR_BAREMETAL_TIMER_H
#define CVISOR_BAREMETAL_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Measures the TSC frequency (about 10 ms of PIT time).  If the PIT does
 * not answer, falls back to CPUID leaf 0x16 or to an assumed 5 GHz, which
 * makes delays longer than asked, never shorter.  Returns the frequency in
 * Hz; later calls return the first result.
 */
uint64_t timer_calibrate(void);

/* The TSC value us microseconds from now (timer_calibrate first). */
uint64_t timer_deadline_us(uint64_t us);
bool timer_passed(uint64_t deadline);
void timer_delay_us(uint64_t us);

#endif
