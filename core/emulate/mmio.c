/*
 * MMIO instructions: an EPT violation reports the guest-physical address
 * of an access but not the instruction, so the instruction at the guest's
 * CS:RIP is fetched, decoded (decode/) and emulated on the device.
 */
#include "emulate/emulate.h"

#include "decode/decode.h"
#include "dev/mmio.h"
#include "emulate/operand.h"
#include "mm/guest_paging.h"
#include "vcpu/debug.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* The code segment's mode (SDM Vol. 3A 5.2.1): 64-bit mode, else CS.D
 * picks 32- or 16-bit; real mode is 16-bit. */
static enum x86_mode guest_code_mode(void)
{
	uint32_t cs_ar = vmcs_read(GUEST_CS_AR_BYTES);

	if (vcpu_guest_cs_in_64bit_mode(cs_ar))
		return X86_MODE_64;
	if (!(vmcs_read(GUEST_CR0) & CR0_PE))
		return X86_MODE_16;
	return (cs_ar & AR_DB) ? X86_MODE_32 : X86_MODE_16;
}

/* The instruction at CS:RIP, fetched with one guest page walk per page
 * (an instruction at the end of the last mapped page still decodes when
 * it is shorter than 15 bytes).  NULL, or the decoder's reason with the
 * first bytes in *failure. */
static const char *decode_at_rip(struct vcpu *vcpu, uint64_t rip, enum x86_mode mode,
				 struct x86_insn *insn, struct emulate_failure *failure)
{
	uint8_t bytes[X86_MAX_INSN_LEN];
	uint64_t linear = mode == X86_MODE_64 ? rip : (uint32_t)(vmcs_read(GUEST_CS_BASE) + rip);
	unsigned fetched = guest_fetch_linear(vcpu, linear, bytes, X86_MAX_INSN_LEN);
	const char *refused = x86_decode(bytes, fetched, mode, insn);

	if (refused) {
		failure->refused = refused;
		failure->byte_count = 0;
		for (unsigned i = 0; i < fetched && i < sizeof(failure->bytes); i++)
			failure->bytes[failure->byte_count++] = bytes[i];
	}
	return refused;
}

/* The linear address of a decoded memory operand: segment base plus
 * effective address (SDM Vol. 3A 3.4), 32 bits wide outside 64-bit mode. */
static uint64_t operand_linear(struct vcpu *vcpu, const struct x86_mem_operand *mem,
			       enum x86_mode mode, uint64_t next_rip)
{
	uint64_t gpr[16];

	for (unsigned i = 0; i < 16; i++)
		gpr[i] = vcpu->gprs.regs[i];
	gpr[GPR_RSP] = vmcs_read(GUEST_RSP); /* RSP lives in the VMCS */
	bool long_mode = mode == X86_MODE_64;
	uint64_t linear = guest_segment_base((unsigned)mem->segment, long_mode) +
			  x86_mem_offset(mem, gpr, next_rip);
	return long_mode ? linear : (uint32_t)linear;
}

enum emulate_result emulate_mmio(struct vcpu *vcpu, uint64_t gpa, uint64_t linear,
				 const struct mmio_region *region, struct emulate_failure *failure)
{
	struct x86_insn insn;
	enum x86_mode mode = guest_code_mode();
	uint64_t rip = vmcs_read(GUEST_RIP);

	if (decode_at_rip(vcpu, rip, mode, &insn, failure))
		return EMULATE_UNSUPPORTED;

	uint64_t next_rip = rip + insn.length;
	if (mode != X86_MODE_64)
		next_rip = (uint32_t)next_rip;
	if (linear == EMULATE_LINEAR_OF_OPERAND)
		linear = operand_linear(vcpu, &insn.mem, mode, next_rip);

	switch (insn.op) {
	case X86_OP_MOV_STORE: {
		uint64_t value = insn.has_immediate
					 ? insn.immediate
					 : read_register_operand(vcpu, insn.reg, insn.reg_high_byte,
								 insn.mem_size);
		mmio_write(vcpu, region, gpa, insn.mem_size, value & operand_mask(insn.mem_size));
		if (linear != EMULATE_NO_LINEAR)
			vcpu_check_breakpoints(vcpu, BREAKPOINT_WRITE, linear, insn.mem_size);
		break;
	}
	case X86_OP_MOV_LOAD:
	case X86_OP_MOVZX:
	case X86_OP_MOVSX: {
		uint64_t value = mmio_read(vcpu, region, gpa, insn.mem_size) &
				 operand_mask(insn.mem_size);
		if (linear != EMULATE_NO_LINEAR)
			vcpu_check_breakpoints(vcpu, BREAKPOINT_READ, linear, insn.mem_size);
		/* MOVSX copies the sign bit up (SDM Vol. 2B MOVSX). */
		if (insn.op == X86_OP_MOVSX && (value >> (8 * insn.mem_size - 1)) & 1)
			value |= ~operand_mask(insn.mem_size);
		write_register_operand(vcpu, insn.reg, insn.reg_high_byte, insn.reg_size, value);
		break;
	}
	case X86_OP_STOS:
	case X86_OP_MOVS: {
		struct string_insn string = {
			.source = insn.op == X86_OP_MOVS ? STRING_MEMORY : STRING_ACCUMULATOR,
			.source_segment = (unsigned)insn.src.segment,
			.destination = STRING_MEMORY,
			.element_size = insn.mem_size,
			.address_size = insn.mem.address_size,
			.rep = insn.rep,
			.next_rip = next_rip,
		};
		return emulate_string(vcpu, &string, failure);
	}
	}
	vcpu_advance_rip(vcpu, next_rip);
	return EMULATE_DONE;
}
