/*
 * Operand-size helpers shared by the emulators of string port I/O
 * (io.c) and MMIO instructions (ept_violation.c).
 */
#ifndef CVISOR_EXIT_OPERAND_H
#define CVISOR_EXIT_OPERAND_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/vmcs.h"

/* All ones in the low `bytes` bytes (1, 2, 4 or 8). */
static inline uint64_t operand_mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

/*
 * Writes a register as an instruction of this operand or address size
 * does: 8- and 16-bit writes keep the upper bits, 32-bit writes
 * zero-extend to 64 bits (SDM Vol. 1 3.4.1.1).
 */
static inline void write_sized_register(uint64_t *reg, uint64_t value, unsigned bytes)
{
	if (bytes < 4)
		*reg = (*reg & ~operand_mask(bytes)) | (value & operand_mask(bytes));
	else
		*reg = value & operand_mask(bytes);
}

/*
 * Base of a guest segment register (numbered ES, CS, SS, DS, FS, GS as
 * instructions encode them); in 64-bit mode only FS and GS have bases
 * (SDM Vol. 3A 3.4.4).
 */
static inline uint64_t guest_segment_base(unsigned segment, bool long_mode)
{
	static const vmcs_RWNAT_t bases[6] = {
		GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
		GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE,
	};
	if (segment >= 6 || (long_mode && segment < 4))
		return 0;
	return vmcs_read(bases[segment]);
}

#endif
