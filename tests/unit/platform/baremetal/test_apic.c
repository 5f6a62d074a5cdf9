/*
 * Host unit tests of the bare-metal APIC timer's one-shot arithmetic
 * (platform/baremetal/apic.h): the rate measured against the TSC and the
 * initial count for a wait, without 128-bit products.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "apic.h"

/* A 100 MHz bus clock against a 3 GHz TSC: 1 count per 30 ticks. */
static void the_rate_is_counts_per_tsc_tick(void **state)
{
	(void)state;
	uint64_t rate = apic_timer_rate_q32(100000, 3000000);

	assert_int_equal(rate, (1ULL << 32) / 30);
	assert_int_equal(apic_timer_rate_q32(0, 3000000), 0);
	assert_int_equal(apic_timer_rate_q32(5, 0), 0);
	/* The largest count over one tick does not overflow. */
	assert_int_equal(apic_timer_rate_q32(0xFFFFFFFFu, 1), 0xFFFFFFFFULL << 32);
}

static void the_count_ends_at_or_just_after_the_deadline(void **state)
{
	(void)state;
	uint64_t rate = apic_timer_rate_q32(100000, 3000000);

	/* 3,000,000 ticks are 100,000 counts; the rounding adds at most one. */
	uint32_t count = apic_timer_count_for(3000000, rate);
	assert_true(count >= 99999 && count <= 100001);
	for (uint64_t ticks = 0; ticks < 100000; ticks += 7) {
		count = apic_timer_count_for(ticks, rate);
		assert_true(count >= 1); /* 0 would stop the timer */
		assert_true((uint64_t)count * 30 + 30 >= ticks); /* never early by more than a count */
		assert_true((uint64_t)count * 30 <= ticks + 60);
	}
}

static void a_long_wait_is_cut_to_what_fits(void **state)
{
	(void)state;
	uint64_t slow = apic_timer_rate_q32(1, 1000);       /* 1 count per 1000 ticks */
	uint64_t fast = apic_timer_rate_q32(0xFFFFFFFFu, 1); /* far more counts than ticks */
	uint32_t count;

	assert_int_equal(apic_timer_count_for(~0ULL, slow), 0xFFFFFFFFu);
	assert_int_equal(apic_timer_count_for(1ULL << 43, slow), 0xFFFFFFFFu);
	/* The rate's rounding makes a long wait end a little early (a woken
	 * CPU looks at the time and sleeps again), by a millionth at most. */
	uint64_t exact = (1ULL << 40) / 1000;
	count = apic_timer_count_for(1ULL << 40, slow);
	assert_true(count <= exact + 1 && count >= exact - exact / 1000000);
	assert_int_equal(apic_timer_count_for(~0ULL, fast), 0xFFFFFFFFu);
	assert_int_equal(apic_timer_count_for(0, fast), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_rate_is_counts_per_tsc_tick),
		cmocka_unit_test(the_count_ends_at_or_just_after_the_deadline),
		cmocka_unit_test(a_long_wait_is_cut_to_what_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
