/* Tests of core/lib/deadline.h: 0 is "no deadline", never the earliest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "lib/deadline.h"

static void an_absent_deadline_never_wins(void **state)
{
	(void)state;
	assert_int_equal(deadline_earlier(0, 0), 0);
	assert_int_equal(deadline_earlier(0, 500), 500);
	assert_int_equal(deadline_earlier(500, 0), 500);
}

static void the_earlier_of_two_wins(void **state)
{
	(void)state;
	assert_int_equal(deadline_earlier(700, 500), 500);
	assert_int_equal(deadline_earlier(500, 700), 500);
	assert_int_equal(deadline_earlier(1, UINT64_MAX), 1);
	assert_int_equal(deadline_earlier(UINT64_MAX, UINT64_MAX), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_absent_deadline_never_wins),
		cmocka_unit_test(the_earlier_of_two_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
