/*
 * Extended page tables (SDM Vol. 3C 29.3): a 4-level table that maps
 * guest-physical to host-physical addresses, one per VM.
 */
#ifndef CVISOR_MM_EPT_H
#define CVISOR_MM_EPT_H

#include <stdbool.h>
#include <stdint.h>

/* EPT paging-structure entry bits (SDM Vol. 3C 29.3.2, Tables 29-1..29-6). */
#define EPT_READ         (1ULL << 0)
#define EPT_WRITE        (1ULL << 1)
#define EPT_EXECUTE      (1ULL << 2)
#define EPT_RWX          (EPT_READ | EPT_WRITE | EPT_EXECUTE)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_UC   0ULL
#define EPT_MEMTYPE_WB   6ULL
#define EPT_IGNORE_PAT   (1ULL << 6)
#define EPT_LARGE_PAGE   (1ULL << 7)
#define EPT_ADDR_MASK    0x000FFFFFFFFFF000ULL
/* Bit 52 is ignored by the CPU in every EPT entry (SDM Vol. 3C 29.3.2,
 * Tables 29-2..29-6); cvisor marks with it the entries that splitting a
 * large page made, so that ept_merge_splits can put the large page back. */
#define EPT_SPLIT        (1ULL << 52)

/* EPTP (SDM Vol. 3C 25.6.11): memory type WB, page-walk length 4 (stored as 3). */
#define EPTP_MEMTYPE_WB   6ULL
#define EPTP_WALK_LENGTH_4 (3ULL << 3)

#define EPT_NO_MAPPING (~0ULL)

struct ept {
	uint64_t *pml4;
	uint64_t eptp;
	unsigned table_pages; /* paging-structure pages allocated */
};

/* Allocates the top-level table; false when out of memory. */
bool ept_init(struct ept *ept);
/* Maps one 4 KiB guest page; flags are permissions | memory type << 3. */
bool ept_map_4k(struct ept *ept, uint64_t gpa, uint64_t hpa, uint64_t flags);
/* Maps one 2 MiB (level 1) or 1 GiB (level 2) page; both addresses aligned. */
bool ept_map_large(struct ept *ept, uint64_t gpa, uint64_t hpa, unsigned level, uint64_t flags);
/* Size of the mapping that covers gpa (4 KiB, 2 MiB or 1 GiB), 0 if none. */
uint64_t ept_mapping_size(const struct ept *ept, uint64_t gpa);
/*
 * Walks the table: host-physical address for gpa, or EPT_NO_MAPPING.
 * *perms (optional) receives the leaf's R/W/X bits.
 */
uint64_t ept_translate(const struct ept *ept, uint64_t gpa, uint64_t *perms);
/*
 * Permissions of the leaf that maps gpa (whatever its size): its R/W/X bits
 * become perms (a subset of EPT_RWX, not 0: an entry without them is not
 * present, SDM Vol. 3C 29.3.2).  Returns the leaf's size, 0 when gpa is not
 * mapped.  The caller invalidates what the CPU cached (INVEPT).
 */
uint64_t ept_set_permissions(struct ept *ept, uint64_t gpa, uint64_t perms);
/*
 * Replaces the large page that maps gpa by a table of 512 pages one level
 * smaller with the same host memory, memory type and permissions, each
 * marked EPT_SPLIT.  False when gpa is not mapped by a large page or out of
 * memory (then nothing changed).
 */
bool ept_split_large(struct ept *ept, uint64_t gpa);
/*
 * Puts back every large page ept_split_large split (smaller splits first),
 * with the permissions and memory type of its first page, and frees the
 * tables that held the pieces.  vm_destroy calls it so that guest memory
 * goes back in the runs it was allocated in.
 */
void ept_merge_splits(struct ept *ept);
/* Frees the paging structures (not the guest pages they map). */
void ept_destroy(struct ept *ept);

#endif
