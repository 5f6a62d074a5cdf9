/*
 * core/platform.h for bare metal: memory is identity-mapped below 4 GiB
 * (entry.S), so virtual == physical; pages come from page_alloc.c; the
 * console is COM1.
 */
#include "platform.h"

#include "boot.h"
#include "fuzz.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/spinlock.h"
#include "page_alloc.h"
#include "power.h"
#include "serial.h"
#include "vmx/intrin.h"

/* How long fatal paths wait for the console lock before writing anyway. */
#define EMERGENCY_LOCK_SPINS 1000000UL

static bool spin_trylock(spinlock_t *lock)
{
	return !__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE);
}

/* console_lock: whole console writes (plat_console_write); page_lock: the
 * page allocator's bitmap. */
static spinlock_t console_lock;
static spinlock_t page_lock;

void plat_console_write(const char *text, size_t len)
{
	if (fuzz_console_capture(text, len))
		return; /* fuzz mode keeps a case's output until it is needed */
	spin_lock(&console_lock);
	serial_write(text, len);
	spin_unlock(&console_lock);
}

void console_write_emergency(const char *text, size_t len)
{
	bool locked = false;

	for (unsigned long i = 0; i < EMERGENCY_LOCK_SPINS; i++) {
		if (spin_trylock(&console_lock)) {
			locked = true;
			break;
		}
		cpu_relax();
	}
	serial_write(text, len);
	if (locked)
		spin_unlock(&console_lock);
}

_Noreturn void plat_panic(const char *reason)
{
	char line[LOG_LINE_MAX];
	size_t n = fmt_snprintf(line, sizeof(line), "cvisor: PANIC: %s\n",
				reason ? reason : "(no reason given)");

	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	fuzz_report_fatal(line);
	console_write_emergency(line, n);
	plat_power_off(false);
}

void *plat_alloc_page(void)
{
	uint64_t pa;
	void *page;

	spin_lock(&page_lock);
	pa = page_alloc_phys();
	spin_unlock(&page_lock);
	if (pa == 0)
		return NULL;
	page = plat_phys_to_virt(pa);
	memset(page, 0, PAGE_SIZE);
	return page;
}

void plat_free_page(void *page)
{
	uint64_t pa;
	bool ok;

	if (page == NULL)
		return;
	pa = plat_virt_to_phys(page);
	spin_lock(&page_lock);
	ok = page_alloc_free_phys(pa);
	spin_unlock(&page_lock);
	if (!ok)
		log_printf("cvisor: BUG: plat_free_page(0x%llx): not an allocated page; ignored\n",
			   (unsigned long long)pa);
}

void *plat_alloc_pages(size_t count, size_t align_pages)
{
	uint64_t pa;

	spin_lock(&page_lock);
	pa = page_alloc_contig(count, (align_pages ? align_pages : 1) * PAGE_SIZE);
	spin_unlock(&page_lock);
	if (pa == 0)
		return NULL;
	void *first = plat_phys_to_virt(pa);
	memset(first, 0, count * PAGE_SIZE);
	return first;
}

void plat_free_pages(void *first, size_t count)
{
	uint8_t *page = first;
	for (size_t i = 0; i < count; i++)
		plat_free_page(page + i * PAGE_SIZE);
}

uint64_t plat_virt_to_phys(const void *virt)
{
	return (uint64_t)(uintptr_t)virt;
}

void *plat_phys_to_virt(uint64_t phys)
{
	if (phys >= PAGE_ALLOC_HIGH_LIMIT)
		plat_panic("plat_phys_to_virt: address above the 4 GiB identity map");
	return (void *)(uintptr_t)phys;
}

/* The identity map is writable everywhere: a write goes straight through it. */
void plat_write_phys(uint64_t phys, const void *src, size_t len)
{
	uint8_t *dst = plat_phys_to_virt(phys);
	if (src)
		memcpy(dst, src, len);
	else
		memset(dst, 0, len);
}

bool plat_cmpxchg_phys(uint64_t phys, unsigned size, uint64_t expected, uint64_t desired)
{
	void *dst = plat_phys_to_virt(phys);
	if (size == 8)
		return __atomic_compare_exchange_n((uint64_t *)dst, &expected, desired, false,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	uint32_t old32 = (uint32_t)expected;
	return __atomic_compare_exchange_n((uint32_t *)dst, &old32, (uint32_t)desired, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
