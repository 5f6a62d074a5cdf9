/* core/platform.h on the host: see fake_platform.h. */
/* mmap flags (MAP_ANONYMOUS, MAP_NORESERVE) under -std=c11. */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fake_cpu.h"
#include "fake_platform.h"

/* Every page handed out and not freed yet, in no particular order. */
static void **pages;
static size_t pages_len, pages_cap;
static size_t pages_total;
static long pages_left = -1; /* allocations still allowed; < 0: no limit */

static char *console;
static void fake_phys_all_writable(void);
static size_t console_len, console_cap;

/*
 * UBSan only prints a report and carries on by default, which would let a
 * test pass over undefined behaviour in the core: stop at the first one.
 */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

_Noreturn void fake_fail(const char *fmt, ...)
{
	va_list ap;

	print_error("ERROR: ");
	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	fail();
	abort(); /* only reached outside a running test */
}

static size_t find_page(const void *page)
{
	for (size_t i = 0; i < pages_len; i++)
		if (pages[i] == page)
			return i;
	return SIZE_MAX;
}

void *plat_alloc_page(void)
{
	if (pages_left == 0)
		return NULL;
	void *page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!page)
		fake_fail("fake plat_alloc_page: the host is out of memory");
	memset(page, 0, PAGE_SIZE);
	if (pages_len == pages_cap) {
		pages_cap = pages_cap ? pages_cap * 2 : 64;
		pages = realloc(pages, pages_cap * sizeof(*pages));
		if (!pages)
			fake_fail("fake plat_alloc_page: the host is out of memory");
	}
	pages[pages_len++] = page;
	pages_total++;
	if (pages_left > 0)
		pages_left--;
	return page;
}

void plat_free_page(void *page)
{
	if (!page)
		return;
	fake_phys_all_writable();
	size_t i = find_page(page);
	if (i == SIZE_MAX)
		fake_fail("plat_free_page(%p): not a page plat_alloc_page handed out "
			  "(or freed twice)", page);
	fake_cpu_page_freed(page);
	pages[i] = pages[--pages_len];
	/* Poison it: a use after free shows as garbage (ASan reports it too). */
	memset(page, 0xA5, PAGE_SIZE);
	free(page);
}

/* Contiguous runs are tracked as blocks (first page, page count); their
 * pages count in fake_pages_outstanding() like single pages. */
struct page_block {
	void *first;
	size_t count;
};
static struct page_block *blocks;
static size_t blocks_len, blocks_cap, block_pages;
static bool refuse_runs; /* fake_pages_refuse_runs() */

/*
 * Runs of 1 GiB and more (1 GiB EPT pages of big VMs) come from mmap: the
 * kernel zeroes them lazily, so a test of a 4 GiB VM costs only the pages
 * it touches.  Aligned by mapping align bytes more and trimming.
 */
#define HUGE_RUN_PAGES ((1UL << 30) / PAGE_SIZE)

static void *huge_run_alloc(size_t count, size_t align)
{
	size_t len = count * PAGE_SIZE;
	uint8_t *raw = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uint8_t *first = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (first > raw)
		munmap(raw, (size_t)(first - raw));
	size_t tail = (size_t)(raw + len + align - (first + len));
	if (tail)
		munmap(first + len, tail);
	return first;
}

static void huge_run_free(void *first, size_t count)
{
	munmap(first, count * PAGE_SIZE);
}

void *plat_alloc_pages(size_t count, size_t align_pages)
{
	if (refuse_runs || count == 0 || (pages_left >= 0 && (size_t)pages_left < count))
		return NULL;
	size_t align = (align_pages ? align_pages : 1) * PAGE_SIZE;
	uint8_t *first;
	if (count >= HUGE_RUN_PAGES) {
		first = huge_run_alloc(count, align);
	} else {
		first = aligned_alloc(align, (count * PAGE_SIZE + align - 1) / align * align);
		if (first)
			memset(first, 0, count * PAGE_SIZE);
	}
	if (!first)
		return NULL;
	if (blocks_len == blocks_cap) {
		blocks_cap = blocks_cap ? blocks_cap * 2 : 16;
		blocks = realloc(blocks, blocks_cap * sizeof(*blocks));
		if (!blocks)
			fake_fail("fake plat_alloc_pages: the host is out of memory");
	}
	blocks[blocks_len++] = (struct page_block){ first, count };
	block_pages += count;
	pages_total += count;
	if (pages_left > 0)
		pages_left -= (long)count;
	return first;
}

void plat_free_pages(void *first, size_t count)
{
	fake_phys_all_writable();
	for (size_t i = 0; i < blocks_len; i++) {
		if (blocks[i].first != first)
			continue;
		if (blocks[i].count != count)
			fake_fail("plat_free_pages(%p, %zu): the run has %zu pages", first, count,
				  blocks[i].count);
		for (size_t p = 0; p < count; p++)
			fake_cpu_page_freed((uint8_t *)first + p * PAGE_SIZE);
		block_pages -= count;
		blocks[i] = blocks[--blocks_len];
		if (count >= HUGE_RUN_PAGES) {
			huge_run_free(first, count);
			return;
		}
		memset(first, 0xA5, count * PAGE_SIZE);
		free(first);
		return;
	}
	fake_fail("plat_free_pages(%p, %zu): not a run plat_alloc_pages handed out", first, count);
}

uint64_t plat_virt_to_phys(const void *virt)
{
	return (uint64_t)(uintptr_t)virt;
}

void *plat_phys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)phys;
}

/* Pages fake_phys_set_read_only made read-only at plat_phys_to_virt (as
 * Linux maps its kernel text in the direct map under cvisor.ko). */
#define FAKE_READ_ONLY_MAX 8
static uintptr_t read_only_pages[FAKE_READ_ONLY_MAX];
static size_t read_only_count;
size_t fake_phys_writes;

void fake_phys_set_read_only(uint64_t page)
{
	if (read_only_count == FAKE_READ_ONLY_MAX || (page & (PAGE_SIZE - 1)))
		fake_fail("fake_phys_set_read_only(0x%llx): not a page, or too many",
			  (unsigned long long)page);
	if (mprotect((void *)(uintptr_t)page, PAGE_SIZE, PROT_READ))
		fake_fail("fake_phys_set_read_only: mprotect failed");
	read_only_pages[read_only_count++] = (uintptr_t)page;
}

/* Every page writable again (fake_platform_reset, and before a page is freed). */
static void fake_phys_all_writable(void)
{
	for (size_t i = 0; i < read_only_count; i++)
		mprotect((void *)read_only_pages[i], PAGE_SIZE, PROT_READ | PROT_WRITE);
	read_only_count = 0;
}

static bool fake_phys_is_read_only(uintptr_t page)
{
	for (size_t i = 0; i < read_only_count; i++)
		if (read_only_pages[i] == page)
			return true;
	return false;
}

/* A locked compare-exchange, through the same lifted protection. */
bool plat_cmpxchg_phys(uint64_t phys, unsigned size, uint64_t expected, uint64_t desired)
{
	uintptr_t page = (uintptr_t)phys & ~(uintptr_t)(PAGE_SIZE - 1);
	bool read_only = fake_phys_is_read_only(page), swapped;

	if ((size != 4 && size != 8) || (phys & (size - 1)))
		fake_fail("plat_cmpxchg_phys(0x%llx, %u): not a naturally aligned 4 or 8 bytes",
			  (unsigned long long)phys, size);
	if (read_only)
		mprotect((void *)page, PAGE_SIZE, PROT_READ | PROT_WRITE);
	if (size == 8) {
		swapped = __atomic_compare_exchange_n((uint64_t *)(uintptr_t)phys, &expected, desired,
						      false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	} else {
		uint32_t old32 = (uint32_t)expected;
		swapped = __atomic_compare_exchange_n((uint32_t *)(uintptr_t)phys, &old32,
						      (uint32_t)desired, false, __ATOMIC_SEQ_CST,
						      __ATOMIC_SEQ_CST);
	}
	if (read_only)
		mprotect((void *)page, PAGE_SIZE, PROT_READ);
	fake_phys_writes++;
	return swapped;
}

/* Like cvisor.ko's write window: a writable view of a read-only page for
 * this one write (here by lifting the protection meanwhile). */
void plat_write_phys(uint64_t phys, const void *src, size_t len)
{
	uintptr_t page = (uintptr_t)phys & ~(uintptr_t)(PAGE_SIZE - 1);
	bool read_only = fake_phys_is_read_only(page);

	if ((phys & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		fake_fail("plat_write_phys(0x%llx, %zu): crosses a page", (unsigned long long)phys,
			  len);
	if (read_only)
		mprotect((void *)page, PAGE_SIZE, PROT_READ | PROT_WRITE);
	if (src)
		memcpy((void *)(uintptr_t)phys, src, len);
	else
		memset((void *)(uintptr_t)phys, 0, len);
	if (read_only)
		mprotect((void *)page, PAGE_SIZE, PROT_READ);
	fake_phys_writes++;
}

void plat_console_write(const char *text, size_t len)
{
	if (getenv("CVISOR_TEST_CONSOLE"))
		fwrite(text, 1, len, stderr);
	if (console_len + len + 1 > console_cap) {
		size_t cap = console_cap ? console_cap : 4096;
		while (console_len + len + 1 > cap)
			cap *= 2;
		char *bigger = realloc(console, cap);
		if (!bigger)
			fake_fail("fake plat_console_write: the host is out of memory");
		console = bigger;
		console_cap = cap;
	}
	memcpy(console + console_len, text, len);
	console_len += len;
	console[console_len] = '\0';
}

_Noreturn void plat_panic(const char *reason)
{
	fake_fail("plat_panic: %s\nconsole:\n%s", reason ? reason : "(no reason)",
		  fake_console_text());
}

void fake_platform_reset(void)
{
	fake_phys_all_writable();
	fake_phys_writes = 0;
	while (pages_len) {
		void *page = pages[--pages_len];
		free(page);
	}
	free(pages);
	pages = NULL;
	pages_cap = 0;
	while (blocks_len)
		free(blocks[--blocks_len].first);
	free(blocks);
	blocks = NULL;
	blocks_cap = 0;
	block_pages = 0;
	refuse_runs = false;
	pages_total = 0;
	pages_left = -1;
	fake_ipis_sent = 0;
	fake_ipi_last_cpu = 0;
	fake_ipi_last_vector = 0;
	fake_idle_calls = 0;
	fake_idle_last_deadline = 0;
	fake_on_idle = NULL;
	fake_console_clear();
}

void fake_pages_refuse_runs(bool refuse)
{
	refuse_runs = refuse;
}

size_t fake_page_runs_outstanding(void)
{
	return blocks_len;
}

size_t fake_pages_outstanding(void)
{
	return pages_len + block_pages;
}

size_t fake_pages_allocated_total(void)
{
	return pages_total;
}

bool fake_page_is_allocated(const void *page)
{
	return page && find_page(page) != SIZE_MAX;
}

void fake_pages_set_limit(long n)
{
	pages_left = n < 0 ? -1 : n;
}

const char *fake_console_text(void)
{
	return console ? console : "";
}

void fake_console_clear(void)
{
	console_len = 0;
	if (console)
		console[0] = '\0';
}

bool fake_console_contains(const char *needle)
{
	return strstr(fake_console_text(), needle) != NULL;
}

size_t fake_console_count(const char *needle)
{
	size_t n = 0, step = strlen(needle);
	const char *p = fake_console_text();

	if (!step)
		return 0;
	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += step;
	}
	return n;
}

/* One CPU on the host: the core's per-CPU code runs as CPU 0. */
unsigned plat_cpu_count(void)
{
	return 1;
}

unsigned plat_this_cpu(void)
{
	return 0;
}

void plat_run_on_all_cpus(void (*fn)(unsigned cpu, void *arg), void *arg)
{
	fn(0, arg);
}

/* Host IPIs: the fake runs as CPU 0; an IPI to another CPU (a vCPU whose
 * host_cpu a test set) is only counted. */
unsigned fake_ipis_sent;
unsigned fake_ipi_last_cpu;
uint8_t fake_ipi_last_vector;

void plat_send_ipi(unsigned cpu, uint8_t vector)
{
	fake_ipis_sent++;
	fake_ipi_last_cpu = cpu;
	fake_ipi_last_vector = vector;
}

/* Sleeping: the TSC jumps to the deadline (a timer interrupt), unless the
 * test's hook plays another CPU that posts an event and kicks first. */
unsigned fake_idle_calls;
uint64_t fake_idle_last_deadline;
void (*fake_on_idle)(uint64_t tsc_deadline);

void plat_idle_until(uint64_t tsc_deadline)
{
	fake_idle_calls++;
	fake_idle_last_deadline = tsc_deadline;
	if (fake_idle_calls > 1000)
		fake_fail("fake plat_idle_until: called %u times: the scheduler does not make progress",
			  fake_idle_calls);
	if (fake_on_idle) {
		fake_on_idle(tsc_deadline);
		return;
	}
	if (!tsc_deadline)
		fake_fail("fake plat_idle_until: no deadline and nobody to kick: it would sleep forever");
	if (fake_cpu.tsc < tsc_deadline)
		fake_cpu.tsc = tsc_deadline;
}

void plat_eoi(void)
{
}

/* A 1 GHz TSC and a wall clock the tests set (fake_platform.h). */
uint64_t fake_tsc_hz = 1000000000ULL;
uint64_t fake_unix_time = 1767225600ULL; /* 2026-01-01 00:00:00 UTC */

uint64_t plat_tsc_hz(void)
{
	return fake_tsc_hz;
}

uint64_t plat_unix_time(void)
{
	return fake_unix_time;
}
