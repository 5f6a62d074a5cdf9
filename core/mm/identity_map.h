/*
 * An identity EPT over host-physical memory, for the running OS as a guest
 * (core/vm/hosted_os.c): guest-physical = host-physical, each page with
 * the MTRR memory type of its range, 1 GiB and 2 MiB pages where the type
 * is uniform, and cvisor's own pages read-only to the guest.
 */
#ifndef CVISOR_MM_IDENTITY_MAP_H
#define CVISOR_MM_IDENTITY_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/spinlock.h"
#include "mm/ept.h"
#include "mm/mtrr.h"

/* A physical address range [start, end), page aligned. */
struct phys_range {
	uint64_t start, end;
};

/* What the guest may do with cvisor's pages: read them (statistics, log
 * rings), never write or execute them (SDM Vol. 3C 29.3.3.2 EPT violations). */
#define IDENTITY_PROTECTED_PERMS EPT_READ

struct vm;

struct identity_map {
	struct ept *ept;
	/* The VM whose EPT this is: pages of its protected ranges (vm/protect.h)
	 * get their range's permissions whenever they are mapped; NULL: none. */
	struct vm *vm;
	const struct mtrr_state *mtrr;
	const struct phys_range *protect; /* cvisor's own memory */
	unsigned protect_count;
	unsigned large_pages;             /* VM_PAGES_2M | VM_PAGES_1G allowed */
	uint64_t pages_4k, pages_2m, pages_1g;
	/* Serializes on-demand mapping by several CPUs in root operation. */
	spinlock_t lock;
};

/*
 * Maps [0, end) (end a multiple of 2 MiB): RWX with the MTRR type, except
 * the protected pages; false when out of memory.
 */
bool identity_map_range(struct identity_map *map, uint64_t end);

/*
 * Maps the 2 MiB (or, if its type is not uniform or a protected page or a
 * page of one of the VM's protected ranges lies inside, the 4 KiB) page
 * around pa, which is not mapped yet (a guest
 * access past the initial map, e.g. to MMIO above RAM).  False when out of
 * memory or pa is beyond the CPU's physical-address width.
 */
bool identity_map_on_demand(struct identity_map *map, uint64_t pa);

/* True when pa lies in one of the protected ranges. */
bool identity_map_is_protected(const struct identity_map *map, uint64_t pa);

#endif
