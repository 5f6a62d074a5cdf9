#include "mm/ept.h"

#include "platform.h"

static unsigned index_at(uint64_t gpa, unsigned level)
{
	/* level 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT (9 bits each, SDM Vol. 3C 29.3.2) */
	return (gpa >> (12 + 9 * level)) & 0x1FF;
}

static uint64_t *table_at(uint64_t entry)
{
	return plat_phys_to_virt(entry & EPT_ADDR_MASK);
}

bool ept_init(struct ept *ept)
{
	ept->pml4 = plat_alloc_page();
	if (!ept->pml4)
		return false;
	ept->table_pages = 1;
	ept->eptp = plat_virt_to_phys(ept->pml4) | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
	return true;
}

/* Walks down to the table at target_level (0 = PT, 1 = PD, 2 = PDPT),
 * allocating missing tables; NULL when out of memory or blocked by a large page. */
static uint64_t *table_for(struct ept *ept, uint64_t gpa, unsigned target_level)
{
	uint64_t *table = ept->pml4;

	for (unsigned level = 3; level > target_level; level--) {
		uint64_t *entry = &table[index_at(gpa, level)];
		if (!(*entry & EPT_RWX)) {
			uint64_t *next = plat_alloc_page();
			if (!next)
				return NULL;
			ept->table_pages++;
			/* Non-leaf entries grant everything; the leaf decides. */
			*entry = plat_virt_to_phys(next) | EPT_RWX;
		} else if (*entry & EPT_LARGE_PAGE) {
			return NULL; /* already mapped by a large page */
		}
		table = table_at(*entry);
	}
	return table;
}

bool ept_map_4k(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t flags)
{
	uint64_t *table = table_for(ept, gpa, 0);

	if (!table)
		return false;
	table[index_at(gpa, 0)] = (hpa & EPT_ADDR_MASK) | flags;
	return true;
}

/* SDM Vol. 3C 29.3.2: bit 7 in a PDE maps 2 MiB, in a PDPTE 1 GiB. */
bool ept_map_large(struct ept *ept, uint64_t gpa, uint64_t hpa, unsigned level, uint64_t flags)
{
	uint64_t size = 1ULL << (12 + 9 * level);
	uint64_t *table;

	if (level < 1 || level > 2 || (gpa | hpa) & (size - 1))
		return false;
	table = table_for(ept, gpa, level);
	if (!table || (table[index_at(gpa, level)] & EPT_RWX))
		return false;
	table[index_at(gpa, level)] = (hpa & EPT_ADDR_MASK) | flags | EPT_LARGE_PAGE;
	return true;
}

uint64_t ept_mapping_size(const struct ept *ept, uint64_t gpa)
{
	const uint64_t *table = ept->pml4;

	if (!table || gpa >> 48)
		return 0;
	for (unsigned level = 3;; level--) {
		uint64_t entry = table[index_at(gpa, level)];
		if (!(entry & EPT_RWX))
			return 0;
		if (level == 0 || (level <= 2 && (entry & EPT_LARGE_PAGE)))
			return 1ULL << (12 + 9 * level);
		table = table_at(entry);
	}
}

uint64_t ept_translate(const struct ept *ept, uint64_t gpa, uint64_t *perms)
{
	const uint64_t *table = ept->pml4;

	if (!table || gpa >> 48)
		return EPT_NO_MAPPING;
	for (unsigned level = 3;; level--) {
		uint64_t entry = table[index_at(gpa, level)];
		if (!(entry & EPT_RWX))
			return EPT_NO_MAPPING;
		if (level == 0 || (level <= 2 && (entry & EPT_LARGE_PAGE))) {
			uint64_t page_mask = (1ULL << (12 + 9 * level)) - 1;
			if (perms)
				*perms = entry & EPT_RWX;
			return (entry & EPT_ADDR_MASK & ~page_mask) | (gpa & page_mask);
		}
		table = table_at(entry);
	}
}

/* The leaf entry that maps gpa and its level, or NULL when gpa is not mapped. */
static uint64_t *leaf_entry(const struct ept *ept, uint64_t gpa, unsigned *level_out)
{
	uint64_t *table = ept->pml4;

	if (!table || gpa >> 48)
		return NULL;
	for (unsigned level = 3;; level--) {
		uint64_t *entry = &table[index_at(gpa, level)];
		if (!(*entry & EPT_RWX))
			return NULL;
		if (level == 0 || (level <= 2 && (*entry & EPT_LARGE_PAGE))) {
			*level_out = level;
			return entry;
		}
		table = table_at(*entry);
	}
}

uint64_t ept_set_permissions(struct ept *ept, uint64_t gpa, uint64_t perms)
{
	unsigned level;
	uint64_t *entry = leaf_entry(ept, gpa, &level);

	if (!entry || !(perms & EPT_RWX))
		return 0;
	*entry = (*entry & ~EPT_RWX) | (perms & EPT_RWX);
	return 1ULL << (12 + 9 * level);
}

/*
 * SDM Vol. 3C 29.3.2: a 1 GiB page becomes a page directory of 2 MiB pages
 * (bit 7 kept), a 2 MiB page a page table of 4 KiB pages (bit 7 is then
 * ignored, and cleared).  The table is filled before the entry points at
 * it, so a CPU walking the EPT meanwhile sees the old page or the new table.
 */
bool ept_split_large(struct ept *ept, uint64_t gpa)
{
	unsigned level;
	uint64_t *entry = leaf_entry(ept, gpa, &level);

	if (!entry || level == 0)
		return false;
	uint64_t *table = plat_alloc_page();
	if (!table)
		return false;
	uint64_t old = *entry, child_size = 1ULL << (12 + 9 * (level - 1));
	uint64_t flags = old & ~EPT_ADDR_MASK & ~EPT_LARGE_PAGE;
	uint64_t base = old & EPT_ADDR_MASK & ~((1ULL << (12 + 9 * level)) - 1);
	if (level > 1)
		flags |= EPT_LARGE_PAGE;
	for (unsigned i = 0; i < 512; i++)
		table[i] = (base + i * child_size) | flags | EPT_SPLIT;
	ept->table_pages++;
	/* Non-leaf entries grant everything (as table_for makes them); the
	 * split mark stays, for a 2 MiB piece of a split 1 GiB page. */
	__atomic_store_n(entry, plat_virt_to_phys(table) | EPT_RWX | (old & EPT_SPLIT),
			 __ATOMIC_RELEASE);
	return true;
}

/* Merges the split pages below the table at `level` (2 = PDPT, 1 = PD). */
static void merge_level(struct ept *ept, uint64_t *table, unsigned level)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t entry = table[i];
		if (!(entry & EPT_RWX) || (entry & EPT_LARGE_PAGE))
			continue;
		uint64_t *child = table_at(entry);
		if (level > 1)
			merge_level(ept, child, level - 1);
		/* Only a table ept_split_large made holds pieces marked EPT_SPLIT
		 * (all 512 of them, leaves after the merge below it). */
		bool pieces = (child[0] & EPT_SPLIT) && (level == 1 || (child[0] & EPT_LARGE_PAGE));
		if (!pieces)
			continue;
		uint64_t flags = child[0] & ~EPT_ADDR_MASK & ~EPT_SPLIT;
		table[i] = (child[0] & EPT_ADDR_MASK) | flags | EPT_LARGE_PAGE | (entry & EPT_SPLIT);
		plat_free_page(child);
		ept->table_pages--;
	}
}

void ept_merge_splits(struct ept *ept)
{
	if (!ept->pml4)
		return;
	for (unsigned i = 0; i < 512; i++)
		if (ept->pml4[i] & EPT_RWX)
			merge_level(ept, table_at(ept->pml4[i]), 2);
}

static void free_level(uint64_t *table, unsigned level)
{
	if (level > 0) {
		for (unsigned i = 0; i < 512; i++)
			if ((table[i] & EPT_RWX) && !(table[i] & EPT_LARGE_PAGE))
				free_level(table_at(table[i]), level - 1);
	}
	plat_free_page(table);
}

void ept_destroy(struct ept *ept)
{
	if (ept->pml4)
		free_level(ept->pml4, 3);
	ept->pml4 = NULL;
	ept->table_pages = 0;
}
