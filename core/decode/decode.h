/*
 * x86 instruction decoder for MMIO emulation.
 *
 * An EPT violation reports the guest-physical address of an access but not
 * the instruction.  cvisor fetches up to 15 bytes at the guest RIP and
 * decodes exactly the memory moves it knows how to emulate:
 *
 *   88 /r  MOV r/m8, r8          8A /r  MOV r8, r/m8
 *   89 /r  MOV r/m16/32/64, r    8B /r  MOV r, r/m16/32/64
 *   C6 /0  MOV r/m8, imm8        C7 /0  MOV r/m, imm16/imm32 (sign-ext. to 64)
 *   A0-A3  MOV AL/rAX <-> moffs
 *   0F B6/B7 MOVZX r, m8/m16     0F BE/BF MOVSX r, m8/m16
 *   AA/AB  STOS, A4/A5 MOVS, both with an optional REP (F3)
 *
 * with the 66, 67, segment-override (26 2E 36 3E 64 65) and, in 64-bit
 * mode, REX prefixes and every ModRM/SIB/displacement memory form.
 * Everything else is refused with a short reason: cvisor then ends the VM
 * instead of guessing.  See decode.c for the rules and their SDM sources.
 *
 * Freestanding: no allocation, no global state, reentrant.
 */
#ifndef CVISOR_DECODE_DECODE_H
#define CVISOR_DECODE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest legal instruction (SDM Vol. 2A 2.3.11). */
#define X86_MAX_INSN_LEN 15

/*
 * The code segment's default operand and address size: 16 = real mode,
 * virtual-8086 or CS.D=0; 32 = CS.D=1; 64 = IA-32e mode with CS.L=1.
 * (16-bit and 32-bit code in IA-32e compatibility mode decode the same as
 * their legacy counterparts.)
 */
enum x86_mode { X86_MODE_16, X86_MODE_32, X86_MODE_64 };

enum x86_op {
	X86_OP_MOV_STORE, /* reg or immediate -> memory: 88 89 C6 C7 A2 A3 */
	X86_OP_MOV_LOAD,  /* memory -> reg: 8A 8B A0 A1 */
	X86_OP_MOVZX,     /* memory zero-extended -> reg: 0F B6, 0F B7 */
	X86_OP_MOVSX,     /* memory sign-extended -> reg: 0F BE, 0F BF */
	X86_OP_STOS,      /* low mem_size bytes of rAX -> ES:[rDI]: AA AB */
	X86_OP_MOVS,      /* src ([rSI]) -> ES:[rDI]: A4 A5 */
};

/* Segment registers, numbered as the sreg field encodes them (SDM Vol. 2D
 * B.1.4.8, Table B-6). */
enum x86_seg {
	X86_SEG_ES = 0,
	X86_SEG_CS = 1,
	X86_SEG_SS = 2,
	X86_SEG_DS = 3,
	X86_SEG_FS = 4,
	X86_SEG_GS = 5,
};

/* General-purpose registers as ModRM/SIB/REX number them (Vol. 2A 2.1.5,
 * Table 2-4 and 3.1.1.1 Table 3-1). */
enum x86_gpr {
	X86_REG_NONE = -1,
	X86_REG_RAX = 0, X86_REG_RCX, X86_REG_RDX, X86_REG_RBX,
	X86_REG_RSP, X86_REG_RBP, X86_REG_RSI, X86_REG_RDI,
	X86_REG_R8, X86_REG_R9, X86_REG_R10, X86_REG_R11,
	X86_REG_R12, X86_REG_R13, X86_REG_R14, X86_REG_R15,
};

/*
 * A memory operand.  Its offset in the segment (the effective address) is
 *   (base + index * scale + disp [+ next RIP if rip_relative])
 * truncated to address_size bytes; x86_mem_offset() computes it.
 * With 16-bit addressing the registers are BX/BP/SI/DI and the sum wraps
 * at 64 KiB, which the truncation gives.
 */
struct x86_mem_operand {
	int segment;           /* effective segment, enum x86_seg: the
				  override prefix when it applies, else the
				  default (SS for rSP/rBP bases, ES for the
				  string destination, DS otherwise) */
	int base;              /* GPR 0-15 or X86_REG_NONE */
	int index;             /* GPR 0-15 or X86_REG_NONE */
	unsigned scale;        /* 1, 2, 4 or 8 with an index; 0 without */
	int64_t disp;          /* displacement (or moffs offset), sign-extended
				  from its encoded width; 0 when none */
	bool rip_relative;     /* relative to the next instruction's RIP
				  (EIP with a 67 prefix) */
	unsigned address_size; /* 2, 4 or 8 bytes */
};

struct x86_insn {
	unsigned length;       /* bytes, 1..15 */
	enum x86_op op;
	unsigned mem_size;     /* bytes accessed per memory operand: 1, 2, 4, 8
				  (per iteration for STOS/MOVS) */
	unsigned reg_size;     /* bytes of the register operand: equals
				  mem_size for MOV, 2/4/8 for MOVZX/MOVSX,
				  0 when reg is X86_REG_NONE */
	int reg;               /* GPR 0-15 (source of a store, destination of
				  a load); X86_REG_NONE for an immediate
				  source and for STOS/MOVS */
	bool reg_high_byte;    /* reg is AH/CH/DH/BH: bits 15:8 of GPR reg
				  (0-3).  Only for 1-byte MOVs without REX. */
	bool has_immediate;    /* C6/C7: the source is `immediate` */
	uint64_t immediate;    /* mem_size bytes wide, already sign-extended
				  from imm32 for a 64-bit C7 */
	bool rep;              /* F3 on STOS/MOVS: repeat rCX times, rCX
				  being mem.address_size wide */
	struct x86_mem_operand mem; /* the memory operand; for STOS/MOVS the
				       destination ES:[rDI] */
	struct x86_mem_operand src; /* MOVS only: the source seg:[rSI]
				       (segment overridable, default DS);
				       all zero for the other ops */
};

/*
 * Decodes the instruction at bytes[0..avail) for a code segment of the given
 * mode.  Reads at most min(avail, 15) bytes.  Returns NULL and fills *out
 * on success; otherwise returns a short static reason ("LOCK prefix",
 * "truncated", ...) and leaves *out zeroed.
 */
const char *x86_decode(const uint8_t *bytes, size_t avail, enum x86_mode mode,
		       struct x86_insn *out);

/*
 * The same decoder without its fast path for the common MOV forms
 * (decode.c): x86_decode gives exactly this function's result.  For tests
 * that check the two agree.
 */
const char *x86_decode_general(const uint8_t *bytes, size_t avail, enum x86_mode mode,
			       struct x86_insn *out);

/*
 * The effective address (offset into mem->segment) of a decoded operand,
 * given the guest GPRs indexed by enum x86_gpr and the RIP of the next
 * instruction (guest RIP + length), for rip_relative operands.
 */
uint64_t x86_mem_offset(const struct x86_mem_operand *mem,
			const uint64_t gpr[16], uint64_t next_rip);

#endif
