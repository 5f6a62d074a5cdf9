/*
 * core/platform.h on the host, for the unit tests (fake_platform.c).
 *
 * Pages and contiguous runs of pages come from aligned_alloc and are
 * tracked, so a test can assert that the core freed everything it allocated
 * (fake_pages_outstanding) and can make allocation fail after a number of
 * pages (fake_pages_set_limit) or make runs unavailable (fake_pages_refuse_runs).
 * Freeing a page or run that was not handed out, or freeing it twice, fails
 * the test; freed memory is poisoned with 0xA5.
 * Virtual and physical addresses are the same (a cast).  Everything the
 * core logs is appended to a capture buffer (fake_console_*); set
 * CVISOR_TEST_CONSOLE=1 in the environment to see it on stderr as well.
 * plat_panic fails the running test.
 */
#ifndef CVISOR_TESTS_FAKE_PLATFORM_H
#define CVISOR_TESTS_FAKE_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

/* Frees every page and run still allocated, clears the console, removes
 * the limit and the refusal of runs.  Call in each test's setup. */
void fake_platform_reset(void);

/* Pages allocated and not freed yet (single pages and the pages of runs). */
size_t fake_pages_outstanding(void);
/* Pages handed out since the last reset. */
size_t fake_pages_allocated_total(void);
/* True when page is a page plat_alloc_page returned and nobody freed. */
bool fake_page_is_allocated(const void *page);
/* From now on only n more pages can be allocated (then NULL; a run needs
 * all its pages); n < 0: no limit. */
void fake_pages_set_limit(long n);
/* Contiguous runs (plat_alloc_pages) not freed yet. */
size_t fake_page_runs_outstanding(void);
/* With refuse set, plat_alloc_pages finds no contiguous run (single pages
 * still work), as on a fragmented host.  Off after reset. */
void fake_pages_refuse_runs(bool refuse);

/* Everything written to the console since the last clear (NUL-terminated). */
const char *fake_console_text(void);
void fake_console_clear(void);
bool fake_console_contains(const char *needle);
/* How many times needle occurs in the console text. */
size_t fake_console_count(const char *needle);

/* Fails the running test with a message (like cmocka's fail_msg). */
_Noreturn void fake_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Console assertions that print the console when they fail (need cmocka.h). */
#define assert_console_contains(needle)                                               \
	do {                                                                          \
		if (!fake_console_contains(needle))                                   \
			fail_msg("the console lacks \"%s\"; it holds:\n%s", (needle),  \
				 fake_console_text());                                \
	} while (0)
#define assert_console_lacks(needle)                                                  \
	do {                                                                          \
		if (fake_console_contains(needle))                                    \
			fail_msg("the console has \"%s\"; it holds:\n%s", (needle),    \
				 fake_console_text());                                \
	} while (0)

/* IPIs plat_send_ipi was asked for since the reset, and the last one. */
extern unsigned fake_ipis_sent;
extern unsigned fake_ipi_last_cpu;
extern uint8_t fake_ipi_last_vector;

/*
 * plat_idle_until: calls since the reset and the last deadline.  Without a
 * hook it moves the fake TSC to the deadline (as the timer interrupt
 * would) and fails the test when there is none; fake_on_idle, when set,
 * runs instead (a test playing another CPU that posts an event).  More
 * than 1000 calls fail the test.  The reset clears all three.
 */
extern unsigned fake_idle_calls;
extern uint64_t fake_idle_last_deadline;
extern void (*fake_on_idle)(uint64_t tsc_deadline);

/*
 * Makes a page read-only at plat_phys_to_virt (mprotect), as Linux maps its
 * kernel text in the direct map cvisor.ko sees: a write through that
 * mapping crashes the test; plat_write_phys writes it (and counts in
 * fake_phys_writes).  fake_platform_reset and freeing pages undo it.
 */
void fake_phys_set_read_only(uint64_t page);
extern size_t fake_phys_writes;

/* What plat_tsc_hz and plat_unix_time answer (fake_platform_reset keeps them). */
extern uint64_t fake_tsc_hz;
extern uint64_t fake_unix_time;

#endif
