/*
 * Tests of core/dev/acpi_pm.c: the ACPI PM1a event and control blocks and
 * the PM timer of a VM built on the fake platform, through its ports as a
 * guest reaches them (ACPI 6.3 4.8.3): the timer's rate and width, TMR_STS
 * and its write-1-to-clear, PM1_EN, the SCI on IRQ 9 with its device
 * timer, PM1_CNT (SCI_EN, SLP_TYP, the write-only bits), S5 power-off,
 * odd access sizes and offsets, and the reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dev/acpi_pm.h"
#include "dev/acpi_tables.h"
#include "dev/ports.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "irq/irq.h"
#include "vm/vm.h"

static struct vm vm;

/* An interrupt controller that records what the SCI's line does. */
static bool sci_level;
static unsigned sci_changes;

static void record_line(struct vm *v, void *opaque, unsigned line, bool level)
{
	(void)v;
	(void)opaque;
	if (line == ACPI_SCI_IRQ) {
		sci_level = level;
		sci_changes++;
	}
}

static const struct irq_chip recorder = { .name = "recorder", .set_line = record_line };

static int setup(void **state)
{
	void *vm_state = &vm;
	(void)state;
	fixture_setup_vm_dev(&vm_state);
	sci_level = false;
	sci_changes = 0;
	assert_true(vm_add_irq_chip(&vm, &recorder));
	return 0;
}

static int teardown(void **state)
{
	void *vm_state = &vm;
	(void)state;
	return fixture_teardown_vm(&vm_state);
}

/* The device's state, found as the port bus finds it. */
static struct acpi_pm *pm(void)
{
	for (unsigned i = 0; i < vm.devices.port_count; i++)
		if (vm.devices.ports[i].first == ACPI_PM1A_EVT_BLK)
			return vm.devices.ports[i].state;
	fail_msg("no device at port 0x%x", ACPI_PM1A_EVT_BLK);
	return NULL;
}

/* The host TSC at which `ticks` ticks of the 3.579545 MHz clock have
 * passed since the timer started (rounded up), computed in 128 bits. */
static uint64_t tsc_at_ticks(uint64_t ticks)
{
	unsigned __int128 hz = vm.devices.tsc_hz;
	return pm()->timer_start +
	       (uint64_t)((ticks * hz + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

/* Whole ticks at host TSC now. */
static uint64_t ticks_at_tsc(uint64_t now)
{
	unsigned __int128 elapsed = now - pm()->timer_start;
	return (uint64_t)(elapsed * ACPI_PM_TIMER_HZ / vm.devices.tsc_hz);
}

static uint32_t read_at(uint64_t tsc, uint16_t port, unsigned size)
{
	fake_cpu.tsc = tsc;
	return io_port_read(&vm, port, size);
}

static void write_at(uint64_t tsc, uint16_t port, unsigned size, uint32_t value)
{
	fake_cpu.tsc = tsc;
	io_port_write(&vm, port, size, value);
}

#define STS ACPI_PM1A_EVT_BLK
#define EN  (ACPI_PM1A_EVT_BLK + 2)
#define CNT ACPI_PM1A_CNT_BLK
#define TMR ACPI_PM_TMR_BLK

static uint64_t now_tsc(void)
{
	return pm()->timer_start + 1000;
}

/* ---- the block ---- */

static void test_the_block_is_at_0x600_to_0x60b(void **state)
{
	(void)state;
	bool found = false;
	for (unsigned i = 0; i < vm.devices.port_count; i++)
		if (vm.devices.ports[i].first == 0x600) {
			assert_int_equal(vm.devices.ports[i].last, 0x60B);
			found = true;
		}
	assert_true(found);
	assert_true(io_port_table_is_sorted(&vm));
	assert_int_equal(io_port_read(&vm, 0x5FF, 1), 0xFF);
	assert_int_equal(io_port_read(&vm, 0x60C, 1), 0xFF);
}

/* ---- PM timer (4.8.3.3) ---- */

static void check_rate(uint64_t tsc_hz)
{
	static const uint64_t ticks[] = { 0, 1, 2, 1000, 3579545 / 2, 3579545, 12345678, 0xFFFFFF };
	vm.devices.tsc_hz = tsc_hz;
	for (size_t i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++) {
		uint64_t at = tsc_at_ticks(ticks[i]);
		assert_int_equal(read_at(at, TMR, 4), ticks[i] & 0xFFFFFF);
		/* One TSC tick earlier it had not reached that count. */
		if (ticks[i])
			assert_int_equal(read_at(at - 1, TMR, 4), (ticks[i] - 1) & 0xFFFFFF);
	}
	/* A second of TSC is 3,579,545 ticks. */
	assert_int_equal(read_at(pm()->timer_start + tsc_hz, TMR, 4), 3579545);
}

static void test_timer_counts_at_3_579545_mhz_of_host_tsc(void **state)
{
	(void)state;
	check_rate(1000000000ULL);   /* the fake platform's 1 GHz */
	check_rate(2904000000ULL);   /* a real-looking rate */
	check_rate(10000000ULL);     /* Bochs's ips=10M TSC */
}

static void test_timer_is_24_bits_and_wraps(void **state)
{
	(void)state;
	assert_int_equal(read_at(tsc_at_ticks(0x1000005), TMR, 4), 5);
	assert_int_equal(read_at(tsc_at_ticks(0xFFFFFF), TMR, 4), 0xFFFFFF);
	/* Bits 31:24 read 0 (TMR_VAL_EXT = 0). */
	assert_int_equal(read_at(tsc_at_ticks(0x3FFFFFF), TMR, 4), 0xFFFFFF);
	assert_int_equal(read_at(tsc_at_ticks(0x3FFFFFF), TMR + 3, 1), 0);
	/* Hours of guest time later it still counts. */
	uint64_t far = 3579545ULL * 3600 * 10 + 77;
	assert_int_equal(read_at(tsc_at_ticks(far), TMR, 4), far & 0xFFFFFF);
}

static void test_timer_is_read_only(void **state)
{
	(void)state;
	uint64_t at = tsc_at_ticks(4242);
	write_at(at, TMR, 4, 0);
	write_at(at, TMR, 1, 0xAA);
	write_at(at, TMR + 2, 2, 0x1234);
	assert_int_equal(read_at(at, TMR, 4), 4242);
}

static void test_timer_bytes_and_words_compose_the_dword(void **state)
{
	(void)state;
	uint64_t at = tsc_at_ticks(0xABCDEF);
	assert_int_equal(read_at(at, TMR, 1), 0xEF);
	assert_int_equal(read_at(at, TMR + 1, 1), 0xCD);
	assert_int_equal(read_at(at, TMR + 2, 1), 0xAB);
	assert_int_equal(read_at(at, TMR, 2), 0xCDEF);
	assert_int_equal(read_at(at, TMR + 1, 2), 0xABCD);
	assert_int_equal(read_at(at, TMR + 2, 2), 0x00AB);
	/* A dword at 0x60A runs past the block: those bytes read all ones. */
	assert_int_equal(read_at(at, TMR + 2, 4), 0xFFFF00AB);
}

static void test_the_timer_follows_the_tsc_as_rdtsc_reads_it(void **state)
{
	(void)state;
	/* Through the port handler, time is rdtsc() at the access. */
	fake_cpu.tsc = pm()->timer_start + vm.devices.tsc_hz / 10;
	uint32_t v = io_port_read(&vm, TMR, 4);
	assert_int_equal(v, 357954); /* 0.1 s; rdtsc's own +1000 is below one tick at 1 GHz */
}

/* ---- PM1_STS and PM1_EN (4.8.3.1) ---- */

static void test_tmr_sts_sets_each_time_bit_23_toggles(void **state)
{
	(void)state;
	uint64_t toggle = 1u << 23;
	assert_int_equal(read_at(tsc_at_ticks(toggle) - 1, STS, 2), 0);
	assert_int_equal(read_at(tsc_at_ticks(toggle), STS, 2), PM1_TMR);
	/* Cleared, it stays clear until the next toggle (bit 23 going 1 -> 0). */
	write_at(tsc_at_ticks(toggle + 5), STS, 2, PM1_TMR);
	assert_int_equal(read_at(tsc_at_ticks(2 * toggle) - 1, STS, 2), 0);
	assert_int_equal(read_at(tsc_at_ticks(2 * toggle), STS, 2), PM1_TMR);
	/* Several toggles unacknowledged leave it simply set. */
	assert_int_equal(read_at(tsc_at_ticks(7 * toggle), STS, 2), PM1_TMR);
	write_at(tsc_at_ticks(7 * toggle), STS, 2, 0xFFFF);
	assert_int_equal(read_at(tsc_at_ticks(8 * toggle) - 1, STS, 2), 0);
}

static void test_pm1_sts_is_write_one_to_clear(void **state)
{
	(void)state;
	uint64_t at = tsc_at_ticks(1u << 23);
	write_at(at, STS, 2, 0);          /* 0 keeps it */
	assert_int_equal(read_at(at, STS, 2), PM1_TMR);
	write_at(at, STS + 1, 1, 0xFF);   /* the high byte holds no TMR_STS */
	assert_int_equal(read_at(at, STS, 2), PM1_TMR);
	write_at(at, EN, 2, 0);           /* PM1_EN writes leave it */
	assert_int_equal(read_at(at, STS, 2), PM1_TMR);
	write_at(at, STS, 1, PM1_TMR);    /* a byte write clears it */
	assert_int_equal(read_at(at, STS, 2), 0);
	/* No other status source: the rest of PM1_STS reads 0. */
	write_at(at, STS, 2, 0xFFFF);
	assert_int_equal(read_at(at, STS, 2), 0);
}

static void test_pm1_en_keeps_the_defined_enable_bits(void **state)
{
	(void)state;
	uint64_t at = now_tsc();
	assert_int_equal(read_at(at, EN, 2), 0);
	write_at(at, EN, 2, 0xFFFF);
	assert_int_equal(read_at(at, EN, 2), PM1_EN_DEFINED);
	assert_int_equal(PM1_EN_DEFINED, 0x4721);
	write_at(at, EN + 1, 1, 0x00);    /* one byte changes only its bits */
	assert_int_equal(read_at(at, EN, 2), PM1_EN_DEFINED & 0xFF);
	write_at(at, EN, 2, 0);
	assert_int_equal(read_at(at, EN, 2), 0);
	/* A dword at 0x600 reads PM1_STS in its low half, PM1_EN in its high. */
	write_at(at, EN, 2, PM1_TMR);
	assert_int_equal(read_at(at, STS, 4), (uint32_t)PM1_TMR << 16);
	/* ... and writes both. */
	write_at(at, STS, 4, (uint32_t)PM1_PWRBTN << 16);
	assert_int_equal(read_at(at, EN, 2), PM1_PWRBTN);
}

/* ---- the SCI (IRQ 9) ---- */

static void test_sci_rises_when_the_timer_toggles_with_tmr_en(void **state)
{
	(void)state;
	uint64_t toggle_tsc = tsc_at_ticks(1u << 23);
	write_at(now_tsc(), EN, 2, PM1_TMR);
	assert_false(sci_level);
	/* A device timer waits for the toggle. */
	assert_int_equal(pm()->timer->deadline, toggle_tsc);
	vm_device_timers_expire(&vm, toggle_tsc - 1);
	assert_false(sci_level);
	vm_device_timers_expire(&vm, toggle_tsc);
	assert_true(sci_level);
	assert_int_equal(sci_changes, 1);
	/* While TMR_STS is set nothing more to wait for. */
	assert_int_equal(pm()->timer->deadline, 0);
	/* Clearing TMR_STS drops the SCI and waits for the next toggle. */
	write_at(toggle_tsc + 10, STS, 2, PM1_TMR);
	assert_false(sci_level);
	assert_int_equal(pm()->timer->deadline, tsc_at_ticks(2u << 23));
	vm_device_timers_expire(&vm, tsc_at_ticks(2u << 23));
	assert_true(sci_level);
	assert_int_equal(sci_changes, 3);
}

static void test_sci_follows_tmr_en_while_tmr_sts_is_set(void **state)
{
	(void)state;
	uint64_t after = tsc_at_ticks((1u << 23) + 100);
	write_at(after, EN, 2, PM1_TMR);  /* TMR_STS already set: SCI at once */
	assert_true(sci_level);
	write_at(after, EN, 2, 0);        /* TMR_EN off: SCI off, no timer */
	assert_false(sci_level);
	assert_int_equal(pm()->timer->deadline, 0);
	assert_int_equal(read_at(after, STS, 2), PM1_TMR); /* status stays */
	write_at(after, EN, 2, PM1_PWRBTN); /* enables with no status: no SCI */
	assert_false(sci_level);
	assert_int_equal(sci_changes, 2);
}

static void test_no_timer_without_tmr_en(void **state)
{
	(void)state;
	write_at(now_tsc(), EN, 2, PM1_GBL | PM1_RTC);
	assert_int_equal(pm()->timer->deadline, 0);
	vm_device_timers_expire(&vm, tsc_at_ticks(5u << 23));
	assert_false(sci_level);
	assert_int_equal(sci_changes, 0);
}

/* ---- PM1_CNT (4.8.3.2) ---- */

static void test_sci_en_reads_one_and_write_only_bits_read_zero(void **state)
{
	(void)state;
	uint64_t at = now_tsc();
	assert_int_equal(read_at(at, CNT, 2), PM1_CNT_SCI_EN);
	write_at(at, CNT, 2, 0);              /* SCI_EN cannot be cleared */
	assert_int_equal(read_at(at, CNT, 2), PM1_CNT_SCI_EN);
	/* BM_RLD and SLP_TYP are read/write; GBL_RLS, SLP_EN and the reserved
	 * bits read 0. */
	write_at(at, CNT, 2, PM1_CNT_BM_RLD | PM1_CNT_GBL_RLS | (3u << PM1_CNT_SLP_TYP_SHIFT) |
				     (1u << 9) | (3u << 14) | 0x1F8);
	assert_int_equal(read_at(at, CNT, 2),
			 PM1_CNT_SCI_EN | PM1_CNT_BM_RLD | (3u << PM1_CNT_SLP_TYP_SHIFT));
	assert_false(vm.ended);
	/* Its high byte alone. */
	write_at(at, CNT + 1, 1, 5u << 2);
	assert_int_equal(read_at(at, CNT + 1, 1), 5u << 2);
	assert_int_equal(read_at(at, CNT, 1), PM1_CNT_SCI_EN | PM1_CNT_BM_RLD);
}

static void check_powered_off(void)
{
	assert_true(vm.ended);
	assert_true(vm.success);
	assert_non_null(strstr(vm.end_reason, "ACPI power-off (S5"));
	assert_console_contains("VM dev ended: success: ACPI power-off (S5: SLP_TYP 7 and SLP_EN "
				"written to PM1a_CNT 0x604)");
}

static void test_s5_with_slp_en_powers_the_vm_off(void **state)
{
	(void)state;
	write_at(now_tsc(), CNT, 2, (ACPI_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
	check_powered_off();
}

static void test_s5_as_acpica_writes_it(void **state)
{
	(void)state;
	/* ACPICA writes SLP_TYP first, then SLP_TYP with SLP_EN (7.4.2). */
	uint32_t cnt = read_at(now_tsc(), CNT, 2) & ~PM1_CNT_SLP_TYP;
	write_at(now_tsc(), CNT, 2, cnt | (ACPI_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT));
	assert_false(vm.ended);
	write_at(now_tsc(), CNT, 2,
		 cnt | (ACPI_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
	check_powered_off();
}

static void test_s5_through_a_byte_write_of_the_high_byte(void **state)
{
	(void)state;
	write_at(now_tsc(), CNT + 1, 1, (ACPI_SLP_TYP_S5 << 2) | (PM1_CNT_SLP_EN >> 8));
	check_powered_off();
}

static void test_s5_through_a_dword_write_at_the_block(void **state)
{
	(void)state;
	/* 0x604-0x607: PM1_CNT and two unclaimed bytes. */
	write_at(now_tsc(), CNT, 4, 0xFFFF0000u | (ACPI_SLP_TYP_S5 << 10) | PM1_CNT_SLP_EN);
	check_powered_off();
}

static void test_other_sleep_types_leave_the_vm_running(void **state)
{
	(void)state;
	for (unsigned typ = 0; typ < 7; typ++) {
		write_at(now_tsc(), CNT, 2, (typ << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN);
		assert_false(vm.ended);
		/* SLP_TYP keeps the value; SLP_EN reads 0. */
		assert_int_equal(read_at(now_tsc(), CNT, 2),
				 PM1_CNT_SCI_EN | (typ << PM1_CNT_SLP_TYP_SHIFT));
	}
	/* SLP_EN alone writes SLP_TYP 0 with it: S0, nothing happens. */
	write_at(now_tsc(), CNT, 2, ACPI_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT);
	write_at(now_tsc(), CNT, 2, PM1_CNT_SLP_EN);
	assert_false(vm.ended);
	/* S5 written without SLP_EN does nothing either. */
	write_at(now_tsc(), CNT, 2, ACPI_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT);
	write_at(now_tsc(), CNT, 1, PM1_CNT_BM_RLD);
	assert_false(vm.ended);
}

/* ---- odd accesses ---- */

static void test_bytes_outside_every_register_read_all_ones(void **state)
{
	(void)state;
	uint64_t at = now_tsc();
	assert_int_equal(read_at(at, 0x606, 1), 0xFF);
	assert_int_equal(read_at(at, 0x607, 1), 0xFF);
	assert_int_equal(read_at(at, 0x606, 2), 0xFFFF);
	assert_int_equal(read_at(at, CNT, 4), 0xFFFF0000u | PM1_CNT_SCI_EN);
	assert_int_equal(read_at(at, CNT + 1, 2), 0xFF00);     /* PM1_CNT high byte, 0x606 */
	assert_int_equal(read_at(at, 0x607, 2) & 0xFF, 0xFF);  /* 0x607, then the timer's low byte */
	write_at(at, 0x606, 2, 0);                             /* ignored */
	assert_int_equal(read_at(at, 0x606, 2), 0xFFFF);
	/* A word at 0x603 spans PM1_EN's high byte and PM1_CNT's low byte. */
	write_at(at, 0x603, 2, (uint16_t)((PM1_CNT_BM_RLD << 8) | (PM1_PWRBTN >> 8)));
	assert_int_equal(read_at(at, EN, 2), PM1_PWRBTN);
	assert_int_equal(read_at(at, CNT, 2), PM1_CNT_SCI_EN | PM1_CNT_BM_RLD);
	assert_int_equal(read_at(at, 0x603, 2), (PM1_CNT_SCI_EN | PM1_CNT_BM_RLD) << 8 | 1);
	/* A dword at 0x60B: the timer's top byte (0), then three unclaimed. */
	assert_int_equal(read_at(tsc_at_ticks(0x123456), 0x60B, 4), 0xFFFFFF00u);
	assert_false(vm.ended);
}

/* ---- reset ---- */

static void test_reset_clears_enables_sleep_type_and_the_sci(void **state)
{
	(void)state;
	uint64_t at = tsc_at_ticks((1u << 23) + 1);
	write_at(at, EN, 2, PM1_TMR | PM1_GBL);
	write_at(at, CNT, 2, PM1_CNT_BM_RLD | (5u << PM1_CNT_SLP_TYP_SHIFT));
	assert_true(sci_level);
	fake_cpu.tsc = at;
	vm_reset_devices(&vm);
	assert_false(sci_level);
	assert_int_equal(read_at(at, EN, 2), 0);
	assert_int_equal(read_at(at, CNT, 2), PM1_CNT_SCI_EN);
	assert_int_equal(read_at(at, STS, 2), 0);
	assert_int_equal(pm()->timer->deadline, 0);
	/* The timer runs on, and TMR_STS sets again at the next toggle. */
	assert_int_equal(read_at(at, TMR, 4), ticks_at_tsc(at) & 0xFFFFFF);
	assert_int_equal(read_at(tsc_at_ticks(2u << 23), STS, 2), PM1_TMR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_the_block_is_at_0x600_to_0x60b),
		T(test_timer_counts_at_3_579545_mhz_of_host_tsc),
		T(test_timer_is_24_bits_and_wraps),
		T(test_timer_is_read_only),
		T(test_timer_bytes_and_words_compose_the_dword),
		T(test_the_timer_follows_the_tsc_as_rdtsc_reads_it),
		T(test_tmr_sts_sets_each_time_bit_23_toggles),
		T(test_pm1_sts_is_write_one_to_clear),
		T(test_pm1_en_keeps_the_defined_enable_bits),
		T(test_sci_rises_when_the_timer_toggles_with_tmr_en),
		T(test_sci_follows_tmr_en_while_tmr_sts_is_set),
		T(test_no_timer_without_tmr_en),
		T(test_sci_en_reads_one_and_write_only_bits_read_zero),
		T(test_s5_with_slp_en_powers_the_vm_off),
		T(test_s5_as_acpica_writes_it),
		T(test_s5_through_a_byte_write_of_the_high_byte),
		T(test_s5_through_a_dword_write_at_the_block),
		T(test_other_sleep_types_leave_the_vm_running),
		T(test_bytes_outside_every_register_read_all_ones),
		T(test_reset_clears_enables_sleep_type_and_the_sci),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
