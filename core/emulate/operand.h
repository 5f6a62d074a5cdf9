/*
 * Operands of emulated instructions: operand and address sizes, register
 * operands (RSP in the VMCS, AH-BH), segment bases.  Shared by the string
 * loop (emulate/string.c), the MMIO instructions (emulate/mmio.c) and the
 * port I/O exit (exit/io.c).
 */
#ifndef CVISOR_EMULATE_OPERAND_H
#define CVISOR_EMULATE_OPERAND_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "x86.h"

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
 * Writes an instruction's destination register of `size` bytes, AH-BH
 * (bits 15:8 of RAX-RBX) when high_byte; RSP (SP, ESP, SPL) is the VMCS's
 * GUEST_RSP, not gprs (vmx/vmx_run.h).
 */
static inline void write_register_operand(struct vcpu *vcpu, int reg, bool high_byte,
					  unsigned size, uint64_t value)
{
	if (reg == GPR_RSP) {
		uint64_t rsp = vmcs_read(GUEST_RSP);
		write_sized_register(&rsp, value, size);
		vmcs_write(GUEST_RSP, rsp);
		return;
	}
	uint64_t *r = &vcpu->gprs.regs[reg];
	if (high_byte)
		*r = (*r & ~0xFF00ULL) | (value & 0xFF) << 8;
	else
		write_sized_register(r, value, size);
}

/* An instruction's source register of `size` bytes (AH-BH when
 * high_byte); size is at most 4 outside 64-bit mode (REX.W exists only
 * there), so the mask also drops the upper half there. */
static inline uint64_t read_register_operand(struct vcpu *vcpu, int reg, bool high_byte,
					     unsigned size)
{
	uint64_t v = reg == GPR_RSP ? vmcs_read(GUEST_RSP) : vcpu->gprs.regs[reg];
	return high_byte ? (v >> 8) & 0xFF : v & operand_mask(size);
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
