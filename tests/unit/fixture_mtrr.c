/* Hand-built MTRR states (fixture_mtrr.h). */
#include "fixture_mtrr.h"

#include <stdbool.h>
#include <string.h>

/* MTRRs enabled, fixed ranges present but off, default type def, 36 bits. */
struct mtrr_state mtrrs(unsigned def)
{
	struct mtrr_state s;

	memset(&s, 0, sizeof(s));
	s.def_type = E_ON | def;
	s.has_fixed = true;
	for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
		s.fixed[i] = FIXED_ALL(def);
	s.phys_addr_bits = 36;
	return s;
}

/* Variable range i: [base, base + size) of type, size a power of two. */
void set_variable(struct mtrr_state *s, unsigned i, uint64_t base, uint64_t size,
			 unsigned type)
{
	uint64_t width = (1ULL << s->phys_addr_bits) - 1;

	s->variable[i].base = base | type;
	s->variable[i].mask = (~(size - 1) & width & ~0xFFFULL) | MTRR_PHYSMASK_VALID;
	if (s->variable_count <= i)
		s->variable_count = i + 1;
}

/* Sets the type byte of the fixed range that covers pa (below 1 MiB). */
void set_fixed(struct mtrr_state *s, uint64_t pa, unsigned type)
{
	unsigned msr, byte;

	if (pa < 0x80000) {
		msr = 0;
		byte = (unsigned)(pa / (64 * KiB));
	} else if (pa < 0xC0000) {
		msr = 1 + (unsigned)((pa - 0x80000) / (128 * KiB));
		byte = (unsigned)(((pa - 0x80000) % (128 * KiB)) / (16 * KiB));
	} else {
		msr = 3 + (unsigned)((pa - 0xC0000) / (32 * KiB));
		byte = (unsigned)(((pa - 0xC0000) % (32 * KiB)) / (4 * KiB));
	}
	s->fixed[msr] &= ~(0xFFULL << (8 * byte));
	s->fixed[msr] |= (uint64_t)type << (8 * byte);
}
