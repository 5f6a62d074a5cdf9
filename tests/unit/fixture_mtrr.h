/*
 * MTRR states built by hand (fixture_mtrr.c), shared by the tests of
 * core/mm/mtrr.c and core/mm/identity_map.c.
 */
#ifndef CVISOR_TESTS_FIXTURE_MTRR_H
#define CVISOR_TESTS_FIXTURE_MTRR_H

#include <stdint.h>

#include "mm/mtrr.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

#define E_ON  MTRR_DEF_TYPE_E
#define FE_ON MTRR_DEF_TYPE_FE

/* Eight copies of one type byte: a fixed-range MSR of one type. */
#define FIXED_ALL(t) (0x0101010101010101ULL * (uint64_t)(t))

/* MTRRs enabled, fixed ranges present but off, default type def, 36 bits. */
struct mtrr_state mtrrs(unsigned def);
/* Variable range i: [base, base + size) of type, size a power of two. */
void set_variable(struct mtrr_state *s, unsigned i, uint64_t base, uint64_t size, unsigned type);
/* Sets the type byte of the fixed range that covers pa (below 1 MiB). */
void set_fixed(struct mtrr_state *s, uint64_t pa, unsigned type);

#endif
