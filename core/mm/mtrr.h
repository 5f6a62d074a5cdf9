/*
 * Memory types from the MTRRs (SDM Vol. 3A 12.11), for an identity EPT that
 * keeps the caching the running OS set up: cvisor gives each EPT leaf the
 * MTRR type of its range and lets the guest's PAT combine with it
 * (SDM Vol. 3C 29.3.7.2, EPT "ignore PAT" clear).
 */
#ifndef CVISOR_MM_MTRR_H
#define CVISOR_MM_MTRR_H

#include "x86.h"

#include <stdbool.h>
#include <stdint.h>

/* MTRR and EPT memory types share their encodings (SDM Vol. 3A Table 12-8). */
#define MEMTYPE_UC 0
#define MEMTYPE_WC 1
#define MEMTYPE_WT 4
#define MEMTYPE_WP 5
#define MEMTYPE_WB 6


#define MTRRCAP_VCNT(cap)   ((unsigned)((cap) & 0xFF))
#define MTRRCAP_FIX         (1ULL << 8)
#define MTRR_DEF_TYPE_FE    (1ULL << 10) /* fixed-range MTRRs enabled */
#define MTRR_DEF_TYPE_E     (1ULL << 11) /* MTRRs enabled */
#define MTRR_PHYSMASK_VALID (1ULL << 11)
#define MTRR_FIXED_MSRS     11
#define MTRR_MAX_VARIABLE   32

struct mtrr_state {
	uint64_t def_type;              /* IA32_MTRR_DEF_TYPE */
	bool has_fixed;                 /* IA32_MTRRCAP.FIX */
	uint64_t fixed[MTRR_FIXED_MSRS]; /* 64K_00000, 16K_80000, 16K_A0000, 4K_C0000..4K_F8000 */
	unsigned variable_count;
	struct { uint64_t base, mask; } variable[MTRR_MAX_VARIABLE];
	/* Physical-address bits the CPU implements (CPUID 0x80000008 EAX[7:0]). */
	unsigned phys_addr_bits;
};

/* Reads this CPU's MTRRs (CPUID.1:EDX.MTRR must be set; otherwise all UC). */
void mtrr_read(struct mtrr_state *state);

/* Memory type of one physical address. */
unsigned mtrr_type_of(const struct mtrr_state *state, uint64_t pa);

/*
 * When every byte of [pa, pa + size) has the same type (size a power of two
 * of at least 4 KiB, pa aligned to it), stores it in *type and returns true.
 */
bool mtrr_range_type(const struct mtrr_state *state, uint64_t pa, uint64_t size, unsigned *type);

#endif
