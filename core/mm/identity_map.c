#include "mm/identity_map.h"

#include "lib/spinlock.h"
#include "vm/protect.h"
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

/*
 * The VM's protected ranges (vm/protect.h), read here under their lock
 * rather than through vm/protect.c, which maps through guest memory and so
 * sits above this file.  The first range that ends after pa, or NULL.
 */
static const struct protect_range *vm_range_from(const struct vm_protect *p, uint64_t pa)
{
	for (unsigned i = 0; i < p->range_count; i++)
		if (p->ranges[i].end > pa)
			return &p->ranges[i];
	return NULL;
}

static bool vm_protects_some_of(struct vm *vm, uint64_t pa, uint64_t size)
{
	struct vm_protect *p = &vm->protect;

	if (!__atomic_load_n(&p->range_count, __ATOMIC_ACQUIRE))
		return false;
	spin_lock(&p->lock);
	const struct protect_range *r = vm_range_from(p, pa);
	bool some = r && r->start < pa + size;
	spin_unlock(&p->lock);
	return some;
}

static uint64_t vm_permissions_at(struct vm *vm, uint64_t pa)
{
	struct vm_protect *p = &vm->protect;

	if (!__atomic_load_n(&p->range_count, __ATOMIC_ACQUIRE))
		return EPT_RWX;
	spin_lock(&p->lock);
	const struct protect_range *r = vm_range_from(p, pa);
	uint64_t perms = r && r->start <= pa ? r->perms : EPT_RWX;
	spin_unlock(&p->lock);
	return perms;
}

/* cvisor's pages, or a range the VM protects (vm/protect.h), meet
 * [pa, pa + size): one leaf cannot map it. */
static bool overlaps_protected(const struct identity_map *map, uint64_t pa, uint64_t size)
{
	for (unsigned i = 0; i < map->protect_count; i++)
		if (map->protect[i].start < pa + size && pa < map->protect[i].end)
			return true;
	return map->vm && vm_protects_some_of(map->vm, pa, size);
}

/* A 4 KiB page's permissions: read-only for cvisor's pages, its range's in
 * a protected range of the VM, else all. */
static uint64_t page_permissions(const struct identity_map *map, uint64_t pa)
{
	if (identity_map_is_protected(map, pa))
		return IDENTITY_PROTECTED_PERMS;
	return map->vm ? vm_permissions_at(map->vm, pa) : EPT_RWX;
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
		uint64_t perms = page_permissions(map, pa);
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
