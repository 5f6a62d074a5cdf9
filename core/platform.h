/*
 * The platform interface: everything the freestanding core needs from the
 * environment it runs in.  One implementation per platform, chosen at link
 * time (platform/baremetal for the type-1 hypervisor, tests/unit/fake_platform.c
 * for host unit tests, platform/linux for the kernel module).
 */
#ifndef CVISOR_PLATFORM_H
#define CVISOR_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define PAGE_SIZE 4096ULL
#define PAGE_MASK (~(PAGE_SIZE - 1))

/* Physical pages.  Returns a zeroed, 4 KiB-aligned page, or NULL when out. */
void *plat_alloc_page(void);
void plat_free_page(void *page);
/*
 * count physically contiguous zeroed pages, the first aligned to
 * align_pages pages (for large EPT mappings), or NULL when no such run is
 * free.  Freed with plat_free_pages(first, count), never page by page.
 */
void *plat_alloc_pages(size_t count, size_t align_pages);
void plat_free_pages(void *first, size_t count);

/* Address translation between the core's pointers and host-physical addresses. */
uint64_t plat_virt_to_phys(const void *virt);
void *plat_phys_to_virt(uint64_t phys);

/*
 * Writes len bytes (from src, or zeros when src is NULL) to host-physical
 * phys, all within one 4 KiB page, even when the page's mapping at
 * plat_phys_to_virt is read-only: cvisor.ko's is the kernel's direct map,
 * where Linux maps its own text and read-only data read-only, and a `log`
 * write of the hosted OS (vm/protect.h) lands there.  guest_write and
 * guest_zero write a guest's RAM through it.
 */
void plat_write_phys(uint64_t phys, const void *src, size_t len);

/*
 * Replaces the naturally aligned 4- or 8-byte value at host-physical phys
 * with desired if it still holds expected, atomically (a locked
 * compare-exchange, as the CPU updates a paging-structure entry's accessed
 * and dirty flags, SDM Vol. 3A 4.8), through the same writable view as
 * plat_write_phys.  True when it replaced it.
 */
bool plat_cmpxchg_phys(uint64_t phys, unsigned size, uint64_t expected, uint64_t desired);

/* Writes one complete log line (or part of one) to the console. */
void plat_console_write(const char *text, size_t len);

/* Ends everything after an unrecoverable hypervisor error; never returns. */
_Noreturn void plat_panic(const char *reason);

/* Logical CPUs cvisor runs on, numbered 0 (boot CPU) .. plat_cpu_count()-1. */
unsigned plat_cpu_count(void);
unsigned plat_this_cpu(void);
/*
 * Runs fn(cpu, arg) on every CPU at once, the calling (boot) CPU included as
 * CPU 0, and returns when all of them have returned.  CPUs that could not be
 * started are reported and skipped (plat_cpu_count() counts only started CPUs).
 */
void plat_run_on_all_cpus(void (*fn)(unsigned cpu, void *arg), void *arg);
/* Sends a fixed interrupt with this vector (>= 32) to a CPU's local APIC. */
void plat_send_ipi(unsigned cpu, uint8_t vector);
/* Signals end of interrupt to this CPU's local APIC. */
void plat_eoi(void);
/*
 * Lets this CPU sleep: returns after an interrupt reaches it (a kick IPI
 * that plat_send_ipi sent) or once the host TSC reaches tsc_deadline (0: no
 * deadline), whichever comes first; it may return earlier, so the caller
 * checks again for work and calls it again.  The caller has just found no
 * work, with interrupts held as the core always runs (RFLAGS.IF = 0): an
 * interrupt sent since then also ends the wait at once, so a kick that
 * follows an event posted after the check is never lost.
 */
void plat_idle_until(uint64_t tsc_deadline);

/* Time for the devices that keep it (the RTC, the PIT, the ACPI PM timer).
 * plat_tsc_hz: ticks per second of the host TSC (which the guest TSC
 * follows); plat_unix_time: the host's wall clock, seconds since
 * 1970-01-01 00:00 UTC, read at a VM's creation. */
uint64_t plat_tsc_hz(void);
uint64_t plat_unix_time(void);

#endif
