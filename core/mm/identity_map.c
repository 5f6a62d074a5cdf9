#include "mm/identity_map.h"

#include "lib/spinlock.h"
#include "vm/vm.h"

#define SIZE_4K (1ULL << 12)
#define SIZE_2M (1ULL << 21)
#define SIZE_1G (1ULL << 30)

bool identity_map_is_protected(const struct identity_map *map, uint64_t pa)
{
	for (unsigned i = 0; i < map->protect_count; i++)
		if (pa >= map->protect[i].start && pa < map->protect[i].end)
			return true;
	return false;
}

static bool overlaps_protected(const struct identity_map *map, uint64_t pa, uint64_t size)
{
	for (unsigned i = 0; i < map->protect_count; i++)
		if (map->protect[i].start < pa + size && pa < map->protect[i].end)
			return true;
	return false;
}

/* EPT leaf flags: permissions, memory type; "ignore PAT" stays clear so the
 * guest's PAT still applies (SDM Vol. 3C 29.3.7.2). */
static uint64_t leaf_flags(uint64_t perms, unsigned type)
{
	return perms | ((uint64_t)type << EPT_MEMTYPE_SHIFT);
}

/* One naturally aligned block of size 1 GiB, 2 MiB or 4 KiB: as one leaf
 * when uniform and unprotected, else as smaller blocks. */
static bool map_block(struct identity_map *map, uint64_t pa, uint64_t size)
{
	unsigned type;

	if (size == SIZE_4K) {
		uint64_t perms = identity_map_is_protected(map, pa) ? IDENTITY_PROTECTED_PERMS : EPT_RWX;
		if (!ept_map_4k(map->ept, pa, pa, leaf_flags(perms, mtrr_type_of(map->mtrr, pa))))
			return false;
		map->pages_4k++;
		return true;
	}
	bool allowed = size == SIZE_1G ? (map->large_pages & VM_PAGES_1G) : (map->large_pages & VM_PAGES_2M);
	if (allowed && !overlaps_protected(map, pa, size) && mtrr_range_type(map->mtrr, pa, size, &type)) {
		unsigned level = size == SIZE_1G ? 2 : 1;
		if (!ept_map_large(map->ept, pa, pa, level, leaf_flags(EPT_RWX, type)))
			return false;
		if (level == 2)
			map->pages_1g++;
		else
			map->pages_2m++;
		return true;
	}
	uint64_t part = size >> 9;
	for (uint64_t a = pa; a < pa + size; a += part)
		if (!map_block(map, a, part))
			return false;
	return true;
}

bool identity_map_range(struct identity_map *map, uint64_t end)
{
	uint64_t pa = 0;

	while (pa < end) {
		uint64_t size = (pa % SIZE_1G == 0 && end - pa >= SIZE_1G) ? SIZE_1G : SIZE_2M;
		if (!map_block(map, pa, size))
			return false;
		pa += size;
	}
	return true;
}

static bool map_on_demand_locked(struct identity_map *map, uint64_t pa)
{
	/* The CPU's physical-address width, and at most the 48 bits a 4-level
	 * EPT translates (SDM Vol. 3C 29.3.2). */
	unsigned bits = map->mtrr->phys_addr_bits ? map->mtrr->phys_addr_bits : 36;
	if (bits > 48)
		bits = 48;
	if (pa >> bits)
		return false;
	if (ept_mapping_size(map->ept, pa))
		return true; /* another CPU mapped it meanwhile */
	uint64_t block = pa & ~(SIZE_2M - 1);
	/* Only the unmapped part: a 2 MiB leaf where nothing of the block is
	 * mapped, else the one 4 KiB page. */
	for (uint64_t a = block; a < block + SIZE_2M; a += SIZE_4K)
		if (ept_mapping_size(map->ept, a))
			return map_block(map, pa & ~(SIZE_4K - 1), SIZE_4K);
	return map_block(map, block, SIZE_2M);
}

bool identity_map_on_demand(struct identity_map *map, uint64_t pa)
{
	spin_lock(&map->lock);
	bool ok = map_on_demand_locked(map, pa);
	spin_unlock(&map->lock);
	return ok;
}
