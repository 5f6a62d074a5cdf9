/*
 * x86 instruction decoder for MMIO emulation (see decode.h for the accepted
 * forms).  Each rule cites the Intel SDM: Vol. 2A chapter 2 "Instruction
 * Format" for prefixes, ModRM/SIB, REX and RIP-relative addressing; the
 * instruction pages (Vol. 2A/2B) for the opcodes; Vol. 1 chapter 3 for
 * operand/address sizes and default segments.
 *
 * The policy is to refuse anything not fully understood: a refused
 * instruction ends the VM with a report, a misdecoded one would corrupt it.
 */
#include "decode/decode.h"
#include "lib/mem.h"

/* REX prefix bits 0100WRXB (Vol. 2A 2.2.1, Table 2-4). */
#define REX_B 0x1u /* extends ModRM.rm, SIB.base */
#define REX_X 0x2u /* extends SIB.index */
#define REX_R 0x4u /* extends ModRM.reg */
#define REX_W 0x8u /* 64-bit operand size */

/* The bytes being decoded and how far we got. */
struct cursor {
	const uint8_t *bytes;
	size_t avail;
	unsigned pos;
};

/*
 * Next byte.  An instruction may not exceed 15 bytes (Vol. 2A 2.3.11; the
 * CPU raises #GP otherwise), so the 16th byte is never read and "too long"
 * wins over "truncated" there.  Never reads at or past avail.
 */
static const char *fetch8(struct cursor *c, uint8_t *b)
{
	if (c->pos >= X86_MAX_INSN_LEN)
		return "instruction longer than 15 bytes";
	if (c->pos >= c->avail)
		return "truncated";
	*b = c->bytes[c->pos++];
	return NULL;
}

/* A little-endian field of n (1, 2, 4 or 8) bytes at b, sign-extended to 64
 * bits (displacements are signed, Vol. 2A 2.1.4 and 2.2.1.3). */
static inline __attribute__((always_inline)) int64_t load_signed(const uint8_t *b, unsigned n)
{
	switch (n) {
	case 1:
		return (int8_t)b[0];
	case 2:
		return (int16_t)(uint16_t)(b[0] | (unsigned)b[1] << 8);
	case 4:
		return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
				 (uint32_t)b[3] << 24);
	default:
		return (int64_t)((uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
				 (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 |
				 (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 |
				 (uint64_t)b[7] << 56);
	}
}

/* The next such field.  The bounds are checked once for the whole field,
 * with fetch8's verdict for its first missing byte: "too long" when that
 * byte would be the 16th, else "truncated". */
static const char *fetch_signed(struct cursor *c, unsigned n, int64_t *val)
{
	size_t limit = c->avail < X86_MAX_INSN_LEN ? c->avail : X86_MAX_INSN_LEN;

	if (c->pos + n > limit)
		return c->avail >= X86_MAX_INSN_LEN ? "instruction longer than 15 bytes"
						     : "truncated";
	*val = load_signed(c->bytes + c->pos, n);
	c->pos += n;
	return NULL;
}

/* What the prefixes said. */
struct prefixes {
	bool opsize;  /* 66: operand-size override (group 3) */
	bool adsize;  /* 67: address-size override (group 4) */
	bool rep;     /* F3 (group 1) */
	int segment;  /* group 2 override, enum x86_seg, or -1 */
	uint8_t rex;  /* the effective REX byte, or 0 */
};

/*
 * Legacy prefixes (Vol. 2A 2.1.1) and REX (2.2.1), up to the first opcode
 * byte, which is returned in *opcode.
 */
static const char *decode_prefixes(struct cursor *c, enum x86_mode mode,
				   struct prefixes *p, uint8_t *opcode)
{
	const char *err;
	uint8_t b;
	int seg;

	p->segment = -1;
	for (;;) {
		err = fetch8(c, &b);
		if (err)
			return err;
		seg = -1;
		switch (b) {
		/* Group 1.  LOCK on a MOV is #UD (Vol. 2A, LOCK), and none of
		 * the accepted instructions is lockable.  REPNE has no meaning
		 * for STOS/MOVS (REP/REPE/REPNE page) and is a hint or
		 * mandatory prefix elsewhere: refused outright. */
		case 0xf0:
			return "LOCK prefix";
		case 0xf2:
			return "REPNE prefix";
		case 0xf3:
			p->rep = true;
			break;
		/* Group 2: segment overrides (Vol. 2A 2.1.1). */
		case 0x26: seg = X86_SEG_ES; break;
		case 0x2e: seg = X86_SEG_CS; break;
		case 0x36: seg = X86_SEG_SS; break;
		case 0x3e: seg = X86_SEG_DS; break;
		case 0x64: seg = X86_SEG_FS; break;
		case 0x65: seg = X86_SEG_GS; break;
		/* Group 3 and 4 (Vol. 2A 2.1.1).  Repeats are harmless. */
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->adsize = true;
			break;
		default:
			/* REX exists only in 64-bit mode: elsewhere 40-4F are
			 * INC/DEC opcodes (Vol. 2A 2.2.1).  A REX counts only
			 * when it immediately precedes the opcode; one followed
			 * by another prefix (legacy or REX) is ignored (2.2.1:
			 * "Other placements are ignored"). */
			if (mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
				p->rex = b;
				continue;
			}
			*opcode = b;
			return NULL;
		}
		/* A legacy prefix: any REX before it is void. */
		p->rex = 0;
		if (seg >= 0) {
			/* "Only useful to include up to one prefix code from
			 * each of the four groups" (2.1.1): which of two
			 * different overrides wins is not architectural, so
			 * refuse rather than pick one. */
			if (p->segment >= 0 && p->segment != seg)
				return "conflicting segment override prefixes";
			p->segment = seg;
		}
	}
}

/*
 * The effective segment of a memory operand: the override if any, else the
 * default (Vol. 1 3.7.4, Table 3-5: SS for a rSP/rBP base, DS otherwise).
 * In 64-bit mode the ES/CS/SS/DS overrides are ignored (Vol. 2A 2.1.1,
 * Vol. 1 3.7.4.1): only FS and GS apply.
 */
static int effective_segment(enum x86_mode mode, const struct prefixes *p,
			     int def)
{
	if (p->segment < 0)
		return def;
	if (mode == X86_MODE_64 && p->segment != X86_SEG_FS &&
	    p->segment != X86_SEG_GS)
		return def;
	return p->segment;
}

/*
 * Operand size for the non-byte forms (Vol. 1 3.6 Table 3-3 and 3.6.1
 * Table 3-4): 16-bit code defaults to 2, 32/64-bit code to 4; 66 toggles
 * 2 <-> 4; REX.W makes it 8 and takes precedence over 66.  8 bytes is thus
 * only reachable in 64-bit mode.
 */
static unsigned operand_size(enum x86_mode mode, const struct prefixes *p)
{
	if (mode == X86_MODE_64 && (p->rex & REX_W))
		return 8;
	if (mode == X86_MODE_16)
		return p->opsize ? 4 : 2;
	return p->opsize ? 2 : 4;
}

/* Address size (Vol. 1 3.6 Table 3-3, 3.6.1 Table 3-4): 67 toggles 2 <-> 4
 * in 16/32-bit code and 8 -> 4 in 64-bit code. */
static unsigned address_size(enum x86_mode mode, const struct prefixes *p)
{
	switch (mode) {
	case X86_MODE_16:
		return p->adsize ? 4 : 2;
	case X86_MODE_32:
		return p->adsize ? 2 : 4;
	default:
		return p->adsize ? 4 : 8;
	}
}

/*
 * 16-bit addressing, Vol. 2A Table 2-1: rm selects
 *   000 [BX+SI] 001 [BX+DI] 010 [BP+SI] 011 [BP+DI]
 *   100 [SI]    101 [DI]    110 [BP]    111 [BX]
 * plus disp8 (mod 01) or disp16 (mod 10); mod 00 rm 110 is [disp16] alone.
 * REX cannot reach this (67 in 64-bit mode gives 32-bit addressing).
 */
static const int8_t base16[8] = {
	X86_REG_RBX, X86_REG_RBX, X86_REG_RBP, X86_REG_RBP,
	X86_REG_RSI, X86_REG_RDI, X86_REG_RBP, X86_REG_RBX,
};
static const int8_t index16[8] = {
	X86_REG_RSI, X86_REG_RDI, X86_REG_RSI, X86_REG_RDI,
	X86_REG_NONE, X86_REG_NONE, X86_REG_NONE, X86_REG_NONE,
};

static const char *decode_modrm16(struct cursor *c, unsigned mod, unsigned rm,
				  struct x86_mem_operand *m)
{
	if (mod == 0 && rm == 6)
		return fetch_signed(c, 2, &m->disp);
	m->base = base16[rm];
	m->index = index16[rm];
	m->scale = m->index == X86_REG_NONE ? 0 : 1;
	if (mod == 1)
		return fetch_signed(c, 1, &m->disp);
	if (mod == 2)
		return fetch_signed(c, 2, &m->disp);
	return NULL;
}

/*
 * 32/64-bit addressing, Vol. 2A Tables 2-2 and 2-3 with the REX extensions
 * of 2.2.1.2 (Table 2-5 "Special Cases of REX Encodings"):
 *  - rm=100 means a SIB byte follows, also with REX.B (r12 needs a SIB);
 *  - mod=00 rm=101 means disp32 with no base, also with REX.B; in 64-bit
 *    mode it is RIP-relative instead (2.2.1.6), EIP-relative with 67;
 *  - SIB index=100 means no index, but with REX.X it is r12;
 *  - SIB base=101 with mod=00 means disp32 and no base, also with REX.B;
 *    with mod 01/10 it is rBP/r13 plus disp8/disp32.
 * mod=01 adds a sign-extended disp8, mod=10 a disp32 (2.1.4); in 64-bit
 * mode disp32 is sign-extended to 64 bits (2.2.1.3).
 */
static const char *decode_modrm32(struct cursor *c, enum x86_mode mode,
				  uint8_t rex, unsigned mod, unsigned rm,
				  struct x86_mem_operand *m)
{
	const char *err;
	uint8_t sib;

	if (rm == 4) {
		unsigned ss, idx, b;

		err = fetch8(c, &sib);
		if (err)
			return err;
		ss = sib >> 6;
		idx = ((sib >> 3) & 7) | ((rex & REX_X) ? 8 : 0);
		b = sib & 7;
		if (idx != 4) {
			m->index = (int)idx;
			m->scale = 1u << ss;
		}
		if (b == 5 && mod == 0)
			return fetch_signed(c, 4, &m->disp);
		m->base = (int)(b | ((rex & REX_B) ? 8 : 0));
	} else if (rm == 5 && mod == 0) {
		m->rip_relative = mode == X86_MODE_64;
		return fetch_signed(c, 4, &m->disp);
	} else {
		m->base = (int)(rm | ((rex & REX_B) ? 8 : 0));
	}
	if (mod == 1)
		return fetch_signed(c, 1, &m->disp);
	if (mod == 2)
		return fetch_signed(c, 4, &m->disp);
	return NULL;
}

/*
 * The ModRM byte (Vol. 2A 2.1.3, 2.1.5) and what follows it (SIB,
 * displacement).  Stores ModRM.reg, extended by REX.R, in *reg.  Only
 * memory forms are accepted: mod=11 names a register, not an MMIO access.
 */
static const char *decode_modrm(struct cursor *c, enum x86_mode mode,
				const struct prefixes *p, unsigned *reg,
				struct x86_mem_operand *m)
{
	unsigned mod, rm;
	const char *err;
	uint8_t modrm;

	err = fetch8(c, &modrm);
	if (err)
		return err;
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg = ((modrm >> 3) & 7) | ((p->rex & REX_R) ? 8 : 0);
	if (mod == 3)
		return "register operand (ModRM mod=11), not a memory access";

	m->base = X86_REG_NONE;
	m->index = X86_REG_NONE;
	m->scale = 0;
	m->disp = 0;
	m->rip_relative = false;
	m->address_size = address_size(mode, p);
	if (m->address_size == 2)
		err = decode_modrm16(c, mod, rm, m);
	else
		err = decode_modrm32(c, mode, p->rex, mod, rm, m);
	if (err)
		return err;
	m->segment = effective_segment(mode, p,
		(m->base == X86_REG_RSP || m->base == X86_REG_RBP) ?
		X86_SEG_SS : X86_SEG_DS);
	return NULL;
}

/*
 * The register operand of 88/8A (Vol. 2A 3.1.1.1 Table 3-1 and 2.2.1.2):
 * with a 1-byte size and no REX, numbers 4-7 are AH, CH, DH, BH, i.e.
 * bits 15:8 of registers 0-3; with any REX they are SPL, BPL, SIL, DIL.
 */
static void set_reg(struct x86_insn *out, const struct prefixes *p,
		    unsigned reg, unsigned size)
{
	out->reg_size = size;
	if (size == 1 && !p->rex && reg >= 4 && reg <= 7) {
		out->reg = (int)reg - 4;
		out->reg_high_byte = true;
	} else {
		out->reg = (int)reg;
	}
}

/* An immediate of n bytes (C6/C7; Vol. 2B MOV).  imm32 with a 64-bit
 * operand size is sign-extended (2.2.1.5). */
static const char *decode_imm(struct cursor *c, unsigned n, unsigned size,
			      struct x86_insn *out)
{
	int64_t v;
	const char *err = fetch_signed(c, n, &v);

	if (err)
		return err;
	out->has_immediate = true;
	out->immediate = size == 8 ? (uint64_t)v :
		(uint64_t)v & ((1ULL << (8 * size)) - 1);
	return NULL;
}

/* An operand without ModRM (moffs, or [rSI]/[rDI] of MOVS and STOS, Vol. 2B):
 * base register (or none) of the address size, in the given segment. */
static void implicit_operand(struct x86_mem_operand *m, int reg, int segment,
			     unsigned asize)
{
	m->segment = segment;
	m->base = reg;
	m->index = X86_REG_NONE;
	m->scale = 0;
	m->disp = 0;
	m->rip_relative = false;
	m->address_size = asize;
}

static const char *decode_opcode(struct cursor *c, enum x86_mode mode,
				 const struct prefixes *p, uint8_t opcode,
				 struct x86_insn *out)
{
	unsigned osize = operand_size(mode, p);
	const char *err;
	unsigned reg;
	uint8_t op2;

	/* REP is defined only for the string instructions (Vol. 2B,
	 * REP/REPE/REPZ/REPNE/REPNZ; "use with other instructions is
	 * reserved", Vol. 2A 2.1.1).  On a MOV to memory F3 is XRELEASE. */
	if (p->rep && opcode != 0xa4 && opcode != 0xa5 && opcode != 0xaa &&
	    opcode != 0xab)
		return "REP prefix on a non-string instruction";

	switch (opcode) {
	/* MOV r/m, r and MOV r, r/m (Vol. 2B MOV): bit 0 = full size
	 * rather than byte, bit 1 = direction (to the register). */
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		err = decode_modrm(c, mode, p, &reg, &out->mem);
		if (err)
			return err;
		out->op = (opcode & 2) ? X86_OP_MOV_LOAD : X86_OP_MOV_STORE;
		out->mem_size = (opcode & 1) ? osize : 1;
		set_reg(out, p, reg, out->mem_size);
		return NULL;

	/* MOV r/m8, imm8 (C6 /0) and MOV r/m, imm16/32 (C7 /0); imm32
	 * sign-extended with REX.W (Vol. 2B MOV).  ModRM.reg is an opcode
	 * extension: only /0 is MOV (C6 F8/C7 F8 are XABORT/XBEGIN). */
	case 0xc6:
	case 0xc7:
		err = decode_modrm(c, mode, p, &reg, &out->mem);
		if (err)
			return err;
		if ((reg & 7) != 0)
			return "opcode C6/C7 with ModRM.reg != 0 is not MOV";
		out->op = X86_OP_MOV_STORE;
		out->mem_size = opcode == 0xc6 ? 1 : osize;
		out->reg = X86_REG_NONE;
		return decode_imm(c, out->mem_size > 4 ? 4 : out->mem_size,
				  out->mem_size, out);

	/* MOV AL/rAX, moffs (A0/A1) and MOV moffs, AL/rAX (A2/A3) (Vol. 2B
	 * MOV, note on moffs): no ModRM; the offset is address-size wide
	 * (8 bytes in 64-bit mode, 4 with 67; 2.2.1.4). */
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		out->op = (opcode & 2) ? X86_OP_MOV_STORE : X86_OP_MOV_LOAD;
		out->mem_size = (opcode & 1) ? osize : 1;
		out->reg = X86_REG_RAX;
		out->reg_size = out->mem_size;
		implicit_operand(&out->mem, X86_REG_NONE,
				 effective_segment(mode, p, X86_SEG_DS),
				 address_size(mode, p));
		return fetch_signed(c, out->mem.address_size, &out->mem.disp);

	/* STOS m8 (AA) and STOS m16/32/64 (AB): rAX -> ES:[rDI]; the
	 * destination segment cannot be overridden (Vol. 2B STOS). */
	case 0xaa:
	case 0xab:
		out->op = X86_OP_STOS;
		out->mem_size = opcode == 0xaa ? 1 : osize;
		out->reg = X86_REG_NONE;
		out->rep = p->rep;
		implicit_operand(&out->mem, X86_REG_RDI, X86_SEG_ES,
				 address_size(mode, p));
		return NULL;

	/* MOVS m8 (A4) and MOVS m16/32/64 (A5): DS:[rSI] -> ES:[rDI]; only
	 * the source segment can be overridden (Vol. 2B MOVS). */
	case 0xa4:
	case 0xa5:
		out->op = X86_OP_MOVS;
		out->mem_size = opcode == 0xa4 ? 1 : osize;
		out->reg = X86_REG_NONE;
		out->rep = p->rep;
		implicit_operand(&out->mem, X86_REG_RDI, X86_SEG_ES,
				 address_size(mode, p));
		implicit_operand(&out->src, X86_REG_RSI,
				 effective_segment(mode, p, X86_SEG_DS),
				 address_size(mode, p));
		return NULL;

	/* Two-byte opcodes (Vol. 2A 2.1.2): MOVZX 0F B6/B7, MOVSX 0F BE/BF
	 * (Vol. 2B MOVZX, MOVSX): bit 0 = word source, bit 3 = sign. */
	case 0x0f:
		err = fetch8(c, &op2);
		if (err)
			return err;
		if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
			return "two-byte opcode 0F xx is not a memory move";
		err = decode_modrm(c, mode, p, &reg, &out->mem);
		if (err)
			return err;
		out->op = (op2 & 8) ? X86_OP_MOVSX : X86_OP_MOVZX;
		out->mem_size = (op2 & 1) ? 2 : 1;
		out->reg = (int)reg;
		out->reg_size = osize;
		return NULL;

	/* In 64-bit mode these can only start VEX (C4, C5) or EVEX (62)
	 * encodings (Vol. 2A 2.3, 2.7); elsewhere LES/LDS/BOUND. */
	case 0xc4:
	case 0xc5:
	case 0x62:
		if (mode == X86_MODE_64)
			return "VEX/EVEX-encoded instruction";
		return "opcode is not a memory move";
	default:
		return "opcode is not a memory move";
	}
}

/* decode_fast's ModRM forms (88-8B, C6/C7 /0), once the form is known to be
 * one of them; out of line, so that decode_fast stays cheap for what it
 * turns away.  ModRM and SIB as decode_modrm32 reads them. */
static __attribute__((noinline)) void decode_fast_modrm(const uint8_t *bytes, const uint8_t *b,
							 enum x86_mode mode, uint8_t rex,
							 uint8_t opcode, uint8_t modrm,
							 struct x86_insn *out)
{
	unsigned osize = (rex & REX_W) ? 8 : 4;
	unsigned asize = mode == X86_MODE_64 ? 8 : 4;
	unsigned mod = modrm >> 6, rm = modrm & 7;
	unsigned reg = ((modrm >> 3) & 7) | ((rex & REX_R) ? 8 : 0);

	__builtin_memset(out, 0, sizeof(*out));
	struct x86_mem_operand *m = &out->mem;
	m->base = X86_REG_NONE;
	m->index = X86_REG_NONE;
	m->address_size = asize;
	if (rm == 4) {
		uint8_t sib = *b++;
		unsigned idx = ((sib >> 3) & 7) | ((rex & REX_X) ? 8 : 0);
		if (idx != 4) {
			m->index = (int)idx;
			m->scale = 1u << (sib >> 6);
		}
		if ((sib & 7) == 5 && mod == 0) {
			m->disp = load_signed(b, 4);
			b += 4;
			goto operand_done;
		}
		m->base = (int)((sib & 7) | ((rex & REX_B) ? 8 : 0));
	} else if (rm == 5 && mod == 0) {
		m->rip_relative = mode == X86_MODE_64;
		m->disp = load_signed(b, 4);
		b += 4;
		goto operand_done;
	} else {
		m->base = (int)(rm | ((rex & REX_B) ? 8 : 0));
	}
	if (mod == 1) {
		m->disp = load_signed(b, 1);
		b += 1;
	} else if (mod == 2) {
		m->disp = load_signed(b, 4);
		b += 4;
	}
operand_done:
	m->segment = (m->base == X86_REG_RSP || m->base == X86_REG_RBP) ? X86_SEG_SS
									: X86_SEG_DS;
	out->mem_size = (opcode & 1) ? osize : 1;
	if (opcode >= 0xc6) {
		/* imm8, or imm16/32, sign-extended for a 64-bit operand (2.2.1.5) */
		out->op = X86_OP_MOV_STORE;
		out->reg = X86_REG_NONE;
		out->has_immediate = true;
		if (opcode == 0xc6) {
			out->immediate = b[0];
			b += 1;
		} else {
			out->immediate = osize == 8 ? (uint64_t)load_signed(b, 4)
						    : (uint64_t)(uint32_t)load_signed(b, 4);
			b += 4;
		}
	} else {
		out->op = (opcode & 2) ? X86_OP_MOV_LOAD : X86_OP_MOV_STORE;
		out->reg_size = out->mem_size;
		/* AH-BH without REX (Table 3-1), as set_reg */
		if (out->mem_size == 1 && !rex && reg >= 4 && reg <= 7) {
			out->reg = (int)reg - 4;
			out->reg_high_byte = true;
		} else {
			out->reg = (int)reg;
		}
	}
	out->length = (unsigned)(b - bytes);
}

/*
 * The fast path: the forms MMIO code uses nearly always, in 32- and 64-bit
 * code without legacy prefixes (a REX prefix right before the opcode is
 * fine): MOV r/m, r and MOV r, r/m (88-8B), MOV r/m, imm (C6/C7 /0) and
 * MOV with moffs (A0-A3).  The same rules as the general path (ModRM and
 * SIB as in decode_modrm32, operand size 4 or 8 with REX.W, address size
 * 4 or 8, default segments only), whose result it must equal byte for
 * byte: test_decode compares the two on every ModRM and SIB byte of these
 * opcodes and on random bytes.  Anything else, a ModRM register form, or
 * fewer than 15 bytes available returns false with *out untouched, for
 * the general path.  With 15 bytes no bound can be crossed: the longest
 * form here (REX, opcode, ModRM, SIB, disp32, imm32) is 12 bytes.
 */
static bool decode_fast(const uint8_t *bytes, size_t avail, enum x86_mode mode,
			struct x86_insn *out)
{
	const uint8_t *b = bytes;
	uint8_t rex = 0, opcode, modrm;

	if (avail < X86_MAX_INSN_LEN || (mode != X86_MODE_32 && mode != X86_MODE_64))
		return false;
	opcode = *b++;
	if (mode == X86_MODE_64 && (opcode & 0xf0) == 0x40) {
		rex = opcode;
		opcode = *b++;
	}
	unsigned osize = (rex & REX_W) ? 8 : 4; /* Vol. 1 3.6.1 Table 3-4 */
	unsigned asize = mode == X86_MODE_64 ? 8 : 4;

	if (opcode >= 0xa0 && opcode <= 0xa3) { /* moffs (2.2.1.4) */
		__builtin_memset(out, 0, sizeof(*out));
		out->op = (opcode & 2) ? X86_OP_MOV_STORE : X86_OP_MOV_LOAD;
		out->mem_size = (opcode & 1) ? osize : 1;
		out->reg = X86_REG_RAX;
		out->reg_size = out->mem_size;
		out->mem.segment = X86_SEG_DS;
		out->mem.base = X86_REG_NONE;
		out->mem.index = X86_REG_NONE;
		out->mem.address_size = asize;
		out->mem.disp = asize == 8 ? load_signed(b, 8) : load_signed(b, 4);
		out->length = (unsigned)(b - bytes) + asize;
		return true;
	}
	if (!((opcode >= 0x88 && opcode <= 0x8b) || opcode == 0xc6 || opcode == 0xc7))
		return false;
	modrm = *b++;
	/* Register forms and C6/C7 other than /0: the general path refuses
	 * them, with the reason. */
	if ((modrm >> 6) == 3 || (opcode >= 0xc6 && (modrm & 0x38)))
		return false;
	decode_fast_modrm(bytes, b, mode, rex, opcode, modrm, out);
	return true;
}

const char *x86_decode_general(const uint8_t *bytes, size_t avail, enum x86_mode mode,
			       struct x86_insn *out)
{
	struct cursor c = { .bytes = bytes, .avail = avail, .pos = 0 };
	struct prefixes p = { 0 };
	const char *err;
	uint8_t opcode;

	__builtin_memset(out, 0, sizeof(*out));
	if (mode != X86_MODE_16 && mode != X86_MODE_32 && mode != X86_MODE_64)
		return "bad decoder mode";
	err = decode_prefixes(&c, mode, &p, &opcode);
	if (!err)
		err = decode_opcode(&c, mode, &p, opcode, out);
	if (err) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	out->length = c.pos;
	return NULL;
}

const char *x86_decode(const uint8_t *bytes, size_t avail, enum x86_mode mode,
		       struct x86_insn *out)
{
	if (decode_fast(bytes, avail, mode, out))
		return NULL;
	return x86_decode_general(bytes, avail, mode, out);
}

uint64_t x86_mem_offset(const struct x86_mem_operand *mem,
			const uint64_t gpr[16], uint64_t next_rip)
{
	uint64_t ea = (uint64_t)mem->disp;

	if (mem->rip_relative)
		ea += next_rip;
	if (mem->base >= 0 && mem->base < 16)
		ea += gpr[mem->base];
	if (mem->index >= 0 && mem->index < 16)
		ea += gpr[mem->index] * mem->scale;
	/* The address size truncates the sum (Vol. 1 3.7.5 and 3.6.1). */
	if (mem->address_size < 8)
		ea &= (1ULL << (8 * mem->address_size)) - 1;
	return ea;
}
