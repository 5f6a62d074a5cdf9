/*
 * Physical page allocator: one bitmap bit per 4 KiB page below 4 GiB (the
 * identity-mapped part of memory).  Pure logic, no locking, no asm, so host
 * unit tests link it as it is; platform.c adds the lock.
 */
#ifndef CVISOR_BAREMETAL_PAGE_ALLOC_H
#define CVISOR_BAREMETAL_PAGE_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_ALLOC_PAGE_SIZE 4096ULL
/* Memory below this is never handed out (real-mode IVT, BDA, EBDA, BIOS). */
#define PAGE_ALLOC_LOW_LIMIT (1ULL << 20)
/* Memory at or above this is ignored (not identity mapped). */
#define PAGE_ALLOC_HIGH_LIMIT (1ULL << 32)

/* A physical address range [start, end). */
struct mem_range {
	uint64_t start, end;
};

/*
 * Starts over with exactly the whole pages that lie inside one of the ram
 * ranges, inside [PAGE_ALLOC_LOW_LIMIT, PAGE_ALLOC_HIGH_LIMIT), and touch
 * none of the reserved ranges (a page partly covered by a ram range is not
 * usable; a page partly covered by a reserved range is not usable either).
 * Ranges may overlap and come in any order; empty or inverted ones count
 * for nothing.
 */
void page_alloc_init(const struct mem_range *ram, unsigned nram,
		     const struct mem_range *reserved, unsigned nres);

/* Allocates one page (the lowest free one); returns its physical address,
 * or 0 when no page is left (page 0 is never usable). */
uint64_t page_alloc_phys(void);

/*
 * Allocates npages physically contiguous pages whose first page address is
 * a multiple of align bytes (a power of two, at least 4096); returns the
 * first page's address, or 0 when there is no such run.  Free them one page
 * at a time with page_alloc_free_phys.
 */
uint64_t page_alloc_contig(uint64_t npages, uint64_t align);

/*
 * Returns a page to the allocator.  A page that is not currently allocated
 * (never usable, not page aligned, or already free) is refused: nothing
 * changes, false is returned and page_alloc_refused_count() goes up.
 */
bool page_alloc_free_phys(uint64_t pa);

uint64_t page_alloc_free_count(void);	/* pages free now */
uint64_t page_alloc_usable_count(void);	/* pages usable since init */
uint64_t page_alloc_refused_count(void);	/* refused frees since init */

#endif
