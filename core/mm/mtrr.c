#include "mm/mtrr.h"
#include "x86.h"

#include "lib/mem.h"
#include "vmx/intrin.h"

#define FIXED_RANGE_END 0x100000ULL

void mtrr_read(struct mtrr_state *state)
{
	struct cpuid_regs r;

	memset(state, 0, sizeof(*state));
	cpuid(0x80000000u, 0, &r);
	state->phys_addr_bits = 36; /* SDM Vol. 3A 4.1.4: the default without leaf 0x80000008 */
	if (r.eax >= 0x80000008u) {
		cpuid(0x80000008u, 0, &r);
		state->phys_addr_bits = r.eax & 0xFF;
	}
	cpuid(1, 0, &r);
	if (!(r.edx & CPUID1_EDX_MTRR))
		return; /* def_type 0: MTRRs disabled, everything UC */
	uint64_t cap = rdmsr(MSR_IA32_MTRRCAP);
	state->def_type = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
	state->has_fixed = cap & MTRRCAP_FIX;
	if (state->has_fixed) {
		state->fixed[0] = rdmsr(MSR_IA32_MTRR_FIX64K_00000);
		state->fixed[1] = rdmsr(MSR_IA32_MTRR_FIX16K_80000);
		state->fixed[2] = rdmsr(MSR_IA32_MTRR_FIX16K_A0000);
		for (unsigned i = 0; i < 8; i++)
			state->fixed[3 + i] = rdmsr(MSR_IA32_MTRR_FIX4K_C0000 + i);
	}
	state->variable_count = MTRRCAP_VCNT(cap);
	if (state->variable_count > MTRR_MAX_VARIABLE)
		state->variable_count = MTRR_MAX_VARIABLE;
	for (unsigned i = 0; i < state->variable_count; i++) {
		state->variable[i].base = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i);
		state->variable[i].mask = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i + 1);
	}
}

/* SDM Vol. 3A 12.11.2.2 "Fixed Range MTRRs": one type byte per sub-range. */
static unsigned fixed_type(const struct mtrr_state *s, uint64_t pa)
{
	unsigned msr, byte;

	if (pa < 0x80000) {
		msr = 0;
		byte = (unsigned)(pa >> 16);
	} else if (pa < 0xC0000) {
		msr = 1 + (unsigned)((pa - 0x80000) >> 17);
		byte = (unsigned)((pa >> 14) & 7);
	} else {
		msr = 3 + (unsigned)((pa - 0xC0000) >> 15);
		byte = (unsigned)((pa >> 12) & 7);
	}
	return (s->fixed[msr] >> (8 * byte)) & 0xFF;
}

static bool fixed_ranges_apply(const struct mtrr_state *s, uint64_t pa)
{
	return s->has_fixed && (s->def_type & MTRR_DEF_TYPE_FE) && pa < FIXED_RANGE_END;
}

static uint64_t address_mask(const struct mtrr_state *s)
{
	unsigned bits = s->phys_addr_bits ? s->phys_addr_bits : 36;
	return ((bits >= 64 ? ~0ULL : (1ULL << bits) - 1)) & ~0xFFFULL;
}

/*
 * SDM Vol. 3A 12.11.4.1 "MTRR Precedences": UC wins over everything; WT
 * wins over WB; any other overlap is undefined, for which cvisor takes UC.
 */
static unsigned combine(unsigned a, unsigned b)
{
	if (a == b)
		return a;
	if (a == MEMTYPE_UC || b == MEMTYPE_UC)
		return MEMTYPE_UC;
	if ((a == MEMTYPE_WT && b == MEMTYPE_WB) || (a == MEMTYPE_WB && b == MEMTYPE_WT))
		return MEMTYPE_WT;
	return MEMTYPE_UC;
}

/*
 * The variable ranges over [pa, pa + size): *type gets the combined type of
 * the ranges that cover all of it (or the default type when none does);
 * false when a range covers only part of it.
 */
static bool variable_type(const struct mtrr_state *s, uint64_t pa, uint64_t size, unsigned *type)
{
	uint64_t addr_mask = address_mask(s);
	bool matched = false;
	unsigned result = 0;

	for (unsigned i = 0; i < s->variable_count; i++) {
		uint64_t mask = s->variable[i].mask;
		if (!(mask & MTRR_PHYSMASK_VALID))
			continue;
		mask &= addr_mask;
		uint64_t base = s->variable[i].base & addr_mask;
		uint64_t high = mask & ~(size - 1);
		/* A range matches address a when (a & mask) == (base & mask). */
		if ((pa & high) != (base & high))
			continue; /* no address of the range matches */
		if (mask & (size - 1) & addr_mask)
			return false; /* mask bits inside the range: only part matches */
		unsigned t = s->variable[i].base & 0xFF;
		result = matched ? combine(result, t) : t;
		matched = true;
	}
	*type = matched ? result : (unsigned)(s->def_type & 0xFF);
	return true;
}

unsigned mtrr_type_of(const struct mtrr_state *state, uint64_t pa)
{
	unsigned type = MEMTYPE_UC;
	mtrr_range_type(state, pa & ~0xFFFULL, 0x1000, &type);
	return type;
}

bool mtrr_range_type(const struct mtrr_state *state, uint64_t pa, uint64_t size, unsigned *type)
{
	/* SDM Vol. 3A 12.11.2.1: with IA32_MTRR_DEF_TYPE.E clear, all memory is UC. */
	if (!(state->def_type & MTRR_DEF_TYPE_E)) {
		*type = MEMTYPE_UC;
		return true;
	}
	bool have = false;
	unsigned result = 0;
	/* Below 1 MiB the fixed ranges decide when enabled, at 4 KiB granularity. */
	for (uint64_t a = pa; fixed_ranges_apply(state, a) && a < pa + size; a += 0x1000) {
		unsigned t = fixed_type(state, a);
		if (have && t != result)
			return false;
		result = t;
		have = true;
	}
	uint64_t rest = pa < FIXED_RANGE_END && fixed_ranges_apply(state, pa) ? FIXED_RANGE_END : pa;
	if (rest < pa + size) {
		unsigned t;
		/* Query the variable ranges over the whole aligned range: a
		 * partial match anywhere in it makes the range non-uniform. */
		if (!variable_type(state, pa, size, &t))
			return false;
		if (have && t != result)
			return false;
		result = t;
	}
	*type = result;
	return true;
}
