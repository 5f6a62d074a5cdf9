/*
 * Bitmap page allocator.  Two bits of state per page below 4 GiB:
 * "usable" (may ever be handed out; fixed at init) and "free" (is free now;
 * always a subset of usable).  The bitmaps are static: 2 x 128 KiB.
 */
#include "page_alloc.h"

#define NPAGES (PAGE_ALLOC_HIGH_LIMIT / PAGE_ALLOC_PAGE_SIZE)
#define NWORDS (NPAGES / 64)

static uint64_t usable_map[NWORDS];
static uint64_t free_map[NWORDS];
static uint64_t free_pages;
static uint64_t usable_pages;
static uint64_t refused_frees;
/* No word below this one has a free bit. */
static uint64_t search_hint;

static uint64_t round_up(uint64_t x)
{
	if (x > UINT64_MAX - (PAGE_ALLOC_PAGE_SIZE - 1))
		return UINT64_MAX & ~(PAGE_ALLOC_PAGE_SIZE - 1);
	return (x + PAGE_ALLOC_PAGE_SIZE - 1) & ~(PAGE_ALLOC_PAGE_SIZE - 1);
}

static uint64_t round_down(uint64_t x)
{
	return x & ~(PAGE_ALLOC_PAGE_SIZE - 1);
}

static uint64_t clamp(uint64_t x, uint64_t lo, uint64_t hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* Sets (value true) or clears bits [first, last) of map. */
static void set_bits(uint64_t *map, uint64_t first, uint64_t last, bool value)
{
	while (first < last) {
		uint64_t word = first / 64, bit = first % 64;
		uint64_t n = 64 - bit;
		uint64_t mask;

		if (n > last - first)
			n = last - first;
		mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << bit;
		if (value)
			map[word] |= mask;
		else
			map[word] &= ~mask;
		first += n;
	}
}

static bool test_bit(const uint64_t *map, uint64_t page)
{
	return (map[page / 64] >> (page % 64)) & 1;
}

/* Bits set in x.  (__builtin_popcountll would need libgcc's __popcountdi2
 * in the freestanding kernel, which links without libgcc.) */
static uint64_t popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

static uint64_t popcount_map(const uint64_t *map)
{
	uint64_t n = 0;
	for (uint64_t w = 0; w < NWORDS; w++)
		n += popcount64(map[w]);
	return n;
}

void page_alloc_init(const struct mem_range *ram, unsigned nram,
		     const struct mem_range *reserved, unsigned nres)
{
	for (uint64_t w = 0; w < NWORDS; w++)
		usable_map[w] = 0;

	/* RAM: only whole pages inside the range count (round inwards). */
	for (unsigned i = 0; i < nram; i++) {
		uint64_t s = clamp(round_up(ram[i].start), PAGE_ALLOC_LOW_LIMIT,
				   PAGE_ALLOC_HIGH_LIMIT);
		uint64_t e = clamp(round_down(ram[i].end), PAGE_ALLOC_LOW_LIMIT,
				   PAGE_ALLOC_HIGH_LIMIT);
		if (s < e)
			set_bits(usable_map, s / PAGE_ALLOC_PAGE_SIZE,
				 e / PAGE_ALLOC_PAGE_SIZE, true);
	}
	/* Reserved: every page the range touches goes (round outwards). */
	for (unsigned i = 0; i < nres; i++) {
		uint64_t s = clamp(round_down(reserved[i].start), 0,
				   PAGE_ALLOC_HIGH_LIMIT);
		uint64_t e = clamp(round_up(reserved[i].end), 0,
				   PAGE_ALLOC_HIGH_LIMIT);
		if (reserved[i].end <= reserved[i].start)
			continue;
		if (s < e)
			set_bits(usable_map, s / PAGE_ALLOC_PAGE_SIZE,
				 e / PAGE_ALLOC_PAGE_SIZE, false);
	}

	for (uint64_t w = 0; w < NWORDS; w++)
		free_map[w] = usable_map[w];
	usable_pages = free_pages = popcount_map(usable_map);
	refused_frees = 0;
	search_hint = 0;
}

uint64_t page_alloc_phys(void)
{
	for (uint64_t w = search_hint; w < NWORDS; w++) {
		if (free_map[w]) {
			uint64_t page = w * 64 + (uint64_t)__builtin_ctzll(free_map[w]);
			free_map[w] &= free_map[w] - 1;	/* clear lowest set bit */
			free_pages--;
			search_hint = w;
			return page * PAGE_ALLOC_PAGE_SIZE;
		}
	}
	search_hint = NWORDS;
	return 0;
}

uint64_t page_alloc_contig(uint64_t npages, uint64_t align)
{
	uint64_t step, run = 0;

	if (npages == 0 || npages > free_pages || align < PAGE_ALLOC_PAGE_SIZE ||
	    (align & (align - 1)) != 0 || align > PAGE_ALLOC_HIGH_LIMIT)
		return 0;
	step = align / PAGE_ALLOC_PAGE_SIZE;

	/* Walk aligned candidate starts; a candidate fails at its first
	 * non-free page, and the next candidate is the first aligned page
	 * after that one. */
	for (uint64_t start = search_hint * 64; start + npages <= NPAGES;) {
		start = (start + step - 1) / step * step;
		if (start + npages > NPAGES)
			break;
		for (run = 0; run < npages; run++)
			if (!test_bit(free_map, start + run))
				break;
		if (run == npages) {
			set_bits(free_map, start, start + npages, false);
			free_pages -= npages;
			return start * PAGE_ALLOC_PAGE_SIZE;
		}
		start += run + 1;
	}
	return 0;
}

bool page_alloc_free_phys(uint64_t pa)
{
	uint64_t page = pa / PAGE_ALLOC_PAGE_SIZE;

	if ((pa & (PAGE_ALLOC_PAGE_SIZE - 1)) != 0 || pa >= PAGE_ALLOC_HIGH_LIMIT ||
	    !test_bit(usable_map, page) || test_bit(free_map, page)) {
		refused_frees++;
		return false;
	}
	free_map[page / 64] |= 1ULL << (page % 64);
	free_pages++;
	if (page / 64 < search_hint)
		search_hint = page / 64;
	return true;
}

uint64_t page_alloc_free_count(void)
{
	return free_pages;
}

uint64_t page_alloc_usable_count(void)
{
	return usable_pages;
}

uint64_t page_alloc_refused_count(void)
{
	return refused_frees;
}
