/*
 * Cross-check of the x86 decoder (core/decode/decode.c) against Zydis 4: every
 * accepted vector of decode_vectors.h, then a few hundred thousand random
 * byte strings per mode.  Whenever cvisor accepts, Zydis must decode the
 * same instruction: length, mnemonic, operand sizes, register, immediate,
 * REP and every part of the memory operand(s).  Conversely, a string that
 * Zydis decodes as one of the accepted forms (no LOCK/REPNE, REP only on
 * strings, one segment override) must not be refused by cvisor.
 * Build and run:
 *   gcc -std=c11 -g -O1 -Wall -Wextra -Werror -Icore -Itests/unit \
 *       -fsanitize=address,undefined tests/unit/decode/test_decode_zydis.c \
 *       core/decode/decode.c -lcmocka -lZydis -o /tmp/tz && /tmp/tz
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <Zydis/Zydis.h>

#include "decode/decode.h"
#include "decode_vectors.h"

static const char *const mode_names[] = { "16-bit", "32-bit", "64-bit" };

static void zydis_init(ZydisDecoder *d, enum x86_mode mode)
{
	static const ZydisMachineMode machine[] = {
		ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_MACHINE_MODE_LEGACY_32,
		ZYDIS_MACHINE_MODE_LONG_64,
	};
	static const ZydisStackWidth stack[] = {
		ZYDIS_STACK_WIDTH_16, ZYDIS_STACK_WIDTH_32, ZYDIS_STACK_WIDTH_64,
	};

	assert_true(ZYAN_SUCCESS(ZydisDecoderInit(d, machine[mode], stack[mode])));
}

/* A Zydis general-purpose register as cvisor numbers it: GPR 0-15, high
 * byte flag, width in bits.  False for anything else. */
static bool zydis_gpr(ZydisRegister r, int *num, bool *high, unsigned *bits)
{
	*high = false;
	if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL) {
		*num = (int)(r - ZYDIS_REGISTER_AL);
		*bits = 8;
	} else if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) {
		*num = (int)(r - ZYDIS_REGISTER_AH);
		*high = true;
		*bits = 8;
	} else if (r >= ZYDIS_REGISTER_SPL && r <= ZYDIS_REGISTER_DIL) {
		*num = 4 + (int)(r - ZYDIS_REGISTER_SPL);
		*bits = 8;
	} else if (r >= ZYDIS_REGISTER_R8B && r <= ZYDIS_REGISTER_R15B) {
		*num = 8 + (int)(r - ZYDIS_REGISTER_R8B);
		*bits = 8;
	} else if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W) {
		*num = (int)(r - ZYDIS_REGISTER_AX);
		*bits = 16;
	} else if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D) {
		*num = (int)(r - ZYDIS_REGISTER_EAX);
		*bits = 32;
	} else if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) {
		*num = (int)(r - ZYDIS_REGISTER_RAX);
		*bits = 64;
	} else {
		return false;
	}
	return true;
}

/* Where a comparison writes why it failed. */
struct why {
	char text[512];
};

#define DIFFER(w, ...) (snprintf((w)->text, sizeof((w)->text), __VA_ARGS__), false)

static bool same_mem(const struct x86_mem_operand *m, unsigned mem_size,
		     const ZydisDecodedOperand *zo, const char *which,
		     struct why *w)
{
	unsigned abits = m->address_size * 8;
	uint64_t mask = abits == 64 ? ~0ULL : (1ULL << abits) - 1;
	int num;
	bool high;
	unsigned bits;

	if (zo->type != ZYDIS_OPERAND_TYPE_MEMORY || zo->mem.type != ZYDIS_MEMOP_TYPE_MEM)
		return DIFFER(w, "%s: Zydis operand is not a memory access", which);
	if (zo->size != mem_size * 8)
		return DIFFER(w, "%s: size %u bits, Zydis %u", which, mem_size * 8, zo->size);
	if (zo->mem.segment != (ZydisRegister)(ZYDIS_REGISTER_ES + m->segment))
		return DIFFER(w, "%s: segment %d, Zydis %s", which, m->segment,
			      ZydisRegisterGetString(zo->mem.segment));
	/* base */
	if (zo->mem.base == ZYDIS_REGISTER_RIP || zo->mem.base == ZYDIS_REGISTER_EIP) {
		if (!m->rip_relative || m->base != X86_REG_NONE)
			return DIFFER(w, "%s: Zydis has a RIP-relative operand", which);
		if ((zo->mem.base == ZYDIS_REGISTER_RIP) != (abits == 64))
			return DIFFER(w, "%s: RIP/EIP vs address size %u", which, abits);
	} else if (m->rip_relative) {
		return DIFFER(w, "%s: RIP-relative, Zydis not", which);
	} else if (zo->mem.base == ZYDIS_REGISTER_NONE) {
		if (m->base != X86_REG_NONE)
			return DIFFER(w, "%s: base %d, Zydis none", which, m->base);
	} else {
		if (!zydis_gpr(zo->mem.base, &num, &high, &bits) || high || bits != abits)
			return DIFFER(w, "%s: Zydis base %s", which,
				      ZydisRegisterGetString(zo->mem.base));
		if (num != m->base)
			return DIFFER(w, "%s: base %d, Zydis %s", which, m->base,
				      ZydisRegisterGetString(zo->mem.base));
	}
	/* index and scale */
	if (zo->mem.index == ZYDIS_REGISTER_NONE) {
		if (m->index != X86_REG_NONE)
			return DIFFER(w, "%s: index %d, Zydis none", which, m->index);
	} else {
		if (!zydis_gpr(zo->mem.index, &num, &high, &bits) || high || bits != abits)
			return DIFFER(w, "%s: Zydis index %s", which,
				      ZydisRegisterGetString(zo->mem.index));
		if (num != m->index)
			return DIFFER(w, "%s: index %d, Zydis %s", which, m->index,
				      ZydisRegisterGetString(zo->mem.index));
	}
	if (zo->mem.scale != m->scale)
		return DIFFER(w, "%s: scale %u, Zydis %u", which, m->scale, zo->mem.scale);
	/* displacement, modulo the address size (the sign convention of
	 * wide moffs values is not semantic) */
	if (((uint64_t)zo->mem.disp.value ^ (uint64_t)m->disp) & mask)
		return DIFFER(w, "%s: disp 0x%llx, Zydis 0x%llx", which,
			      (unsigned long long)m->disp,
			      (unsigned long long)zo->mem.disp.value);
	return true;
}

static bool same_reg(const struct x86_insn *in, const ZydisDecodedOperand *zo,
		     struct why *w)
{
	int num;
	bool high;
	unsigned bits;

	if (zo->type != ZYDIS_OPERAND_TYPE_REGISTER ||
	    !zydis_gpr(zo->reg.value, &num, &high, &bits))
		return DIFFER(w, "Zydis register operand is not a GPR");
	if (num != in->reg || high != in->reg_high_byte || bits != in->reg_size * 8)
		return DIFFER(w, "register %d%s/%u bits, Zydis %s", in->reg,
			      in->reg_high_byte ? " (high byte)" : "", in->reg_size * 8,
			      ZydisRegisterGetString(zo->reg.value));
	return true;
}

static bool same_mnemonic(const struct x86_insn *in, ZydisMnemonic m)
{
	static const ZydisMnemonic stos[] = { ZYDIS_MNEMONIC_STOSB, ZYDIS_MNEMONIC_STOSW,
		ZYDIS_MNEMONIC_STOSD, ZYDIS_MNEMONIC_STOSQ };
	static const ZydisMnemonic movs[] = { ZYDIS_MNEMONIC_MOVSB, ZYDIS_MNEMONIC_MOVSW,
		ZYDIS_MNEMONIC_MOVSD, ZYDIS_MNEMONIC_MOVSQ };
	unsigned lg = in->mem_size == 1 ? 0 : in->mem_size == 2 ? 1 :
		      in->mem_size == 4 ? 2 : 3;

	switch (in->op) {
	case X86_OP_MOV_STORE:
	case X86_OP_MOV_LOAD:
		return m == ZYDIS_MNEMONIC_MOV;
	case X86_OP_MOVZX:
		return m == ZYDIS_MNEMONIC_MOVZX;
	case X86_OP_MOVSX:
		return m == ZYDIS_MNEMONIC_MOVSX;
	case X86_OP_STOS:
		return m == stos[lg];
	case X86_OP_MOVS:
		return m == movs[lg];
	}
	return false;
}

/*
 * Zydis 4.0 bug (zyantific/zydis issue #592, fixed after 4.0 by PR #593):
 * in 64-bit code with a 67 prefix and REX.B, the SIB form mod=00 base=101
 * comes out as [r13d + index] without the displacement, although it reads
 * the disp32 (the length is right).  The SDM (Vol. 2A Table 2-5) says
 * REX.B is ignored there: no base, disp32.  Patch Zydis's operands to the
 * SDM reading so the rest of the comparison stays strict; counts the
 * patches.
 */
static unsigned zydis_592_patches;

static void patch_zydis_592(const ZydisDecodedInstruction *zi, ZydisDecodedOperand *zo)
{
	if (zi->machine_mode != ZYDIS_MACHINE_MODE_LONG_64 || zi->address_width != 32 ||
	    !(zi->attributes & ZYDIS_ATTRIB_HAS_SIB) || !zi->raw.rex.B ||
	    zi->raw.modrm.mod != 0 || zi->raw.sib.base != 5)
		return;
	for (unsigned i = 0; i < zi->operand_count; i++) {
		if (zo[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    zo[i].mem.base == ZYDIS_REGISTER_R13D) {
			zo[i].mem.base = ZYDIS_REGISTER_NONE;
			zo[i].mem.disp.has_displacement = ZYAN_TRUE;
			zo[i].mem.disp.value = zi->raw.disp.value;
			zydis_592_patches++;
		}
	}
}

/* Does Zydis see in the same instruction as cvisor? */
static bool agrees(const ZydisDecoder *dec, const uint8_t *bytes, size_t avail,
		   const struct x86_insn *in, ZydisDecodedInstruction *zi,
		   ZydisDecodedOperand *zo, struct why *w)
{
	const ZydisDecodedOperand *mem[2];
	unsigned nmem = 0;

	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, bytes, avail, zi, zo)))
		return DIFFER(w, "Zydis refuses it");
	patch_zydis_592(zi, zo);
	if (zi->length != in->length)
		return DIFFER(w, "length %u, Zydis %u", in->length, zi->length);
	if (!same_mnemonic(in, zi->mnemonic))
		return DIFFER(w, "op %d size %u, Zydis %s", in->op, in->mem_size,
			      ZydisMnemonicGetString(zi->mnemonic));
	if (zi->address_width != in->mem.address_size * 8)
		return DIFFER(w, "address size %u, Zydis %u", in->mem.address_size * 8,
			      zi->address_width);
	if (!!(zi->attributes & ZYDIS_ATTRIB_HAS_REP) != in->rep)
		return DIFFER(w, "rep %d, Zydis the opposite", in->rep);
	for (unsigned i = 0; i < zi->operand_count; i++) {
		if (zo[i].type != ZYDIS_OPERAND_TYPE_MEMORY)
			continue;
		if (nmem == 2)
			return DIFFER(w, "Zydis has 3 memory operands");
		mem[nmem++] = &zo[i];
	}
	if (nmem != (in->op == X86_OP_MOVS ? 2u : 1u))
		return DIFFER(w, "Zydis has %u memory operands", nmem);
	if (!same_mem(&in->mem, in->mem_size, mem[0], "mem", w))
		return false;

	switch (in->op) {
	case X86_OP_MOV_STORE:
		if (&zo[0] != mem[0])
			return DIFFER(w, "store, but Zydis operand 0 is not memory");
		if (in->has_immediate) {
			uint64_t mask = in->mem_size == 8 ? ~0ULL :
				(1ULL << (8 * in->mem_size)) - 1;

			if (zo[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
			    (zo[1].imm.value.u & mask) != in->immediate)
				return DIFFER(w, "immediate 0x%llx, Zydis 0x%llx",
					      (unsigned long long)in->immediate,
					      (unsigned long long)zo[1].imm.value.u);
			if (in->reg != X86_REG_NONE || in->reg_size != 0)
				return DIFFER(w, "immediate store with a register");
			return true;
		}
		return same_reg(in, &zo[1], w);
	case X86_OP_MOV_LOAD:
	case X86_OP_MOVZX:
	case X86_OP_MOVSX:
		if (&zo[1] != mem[0])
			return DIFFER(w, "load, but Zydis operand 1 is not memory");
		return same_reg(in, &zo[0], w);
	case X86_OP_STOS:
		/* ES:[rDI] <- AL/AX/EAX/RAX */
		if (&zo[0] != mem[0] || zo[1].type != ZYDIS_OPERAND_TYPE_REGISTER ||
		    ZydisRegisterGetWidth(zi->machine_mode, zo[1].reg.value) != in->mem_size * 8)
			return DIFFER(w, "Zydis STOS operands differ");
		return in->reg == X86_REG_NONE;
	case X86_OP_MOVS:
		if (&zo[0] != mem[0])
			return DIFFER(w, "Zydis MOVS destination is not operand 0");
		return same_mem(&in->src, in->mem_size, mem[1], "src", w);
	}
	return DIFFER(w, "unknown op");
}

/* Both views, for debugging a disagreement. */
static void show(const uint8_t *bytes, size_t avail, enum x86_mode mode,
		 const struct x86_insn *in, const char *err,
		 const ZydisDecoder *dec, const char *why)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	ZydisFormatter fmt;
	char text[256];

	fprintf(stderr, "DISAGREEMENT (%s): %s\n  bytes:", mode_names[mode], why);
	for (size_t i = 0; i < avail; i++)
		fprintf(stderr, " %02x", bytes[i]);
	if (err) {
		fprintf(stderr, "\n  cvisor: refused: %s\n", err);
	} else {
		fprintf(stderr, "\n  cvisor: len %u op %d mem_size %u reg %d%s/%u imm %d:0x%llx rep %d\n",
			in->length, in->op, in->mem_size, in->reg,
			in->reg_high_byte ? "h" : "", in->reg_size, in->has_immediate,
			(unsigned long long)in->immediate, in->rep);
		for (int k = 0; k < (in->op == X86_OP_MOVS ? 2 : 1); k++) {
			const struct x86_mem_operand *m = k ? &in->src : &in->mem;

			fprintf(stderr, "  cvisor %s: seg %d base %d index %d scale %u disp 0x%llx rip %d asize %u\n",
				k ? "src" : "mem", m->segment, m->base, m->index, m->scale,
				(unsigned long long)m->disp, m->rip_relative, m->address_size);
		}
	}
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, bytes, avail, &zi, zo))) {
		fprintf(stderr, "  Zydis: refused\n");
		return;
	}
	ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL);
	ZydisFormatterFormatInstruction(&fmt, &zi, zo, zi.operand_count_visible, text,
					sizeof(text), 0, NULL);
	fprintf(stderr, "  Zydis: %s (len %u, opw %u, adw %u)\n", text, zi.length,
		zi.operand_width, zi.address_width);
	for (unsigned i = 0; i < zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &zo[i];

		fprintf(stderr, "    op%u type %d size %u", i, o->type, o->size);
		if (o->type == ZYDIS_OPERAND_TYPE_MEMORY)
			fprintf(stderr, " %s:[%s + %s*%u + 0x%llx]",
				ZydisRegisterGetString(o->mem.segment),
				ZydisRegisterGetString(o->mem.base),
				ZydisRegisterGetString(o->mem.index), o->mem.scale,
				(unsigned long long)o->mem.disp.value);
		else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
			fprintf(stderr, " %s", ZydisRegisterGetString(o->reg.value));
		else if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			fprintf(stderr, " 0x%llx", (unsigned long long)o->imm.value.u);
		fprintf(stderr, "\n");
	}
}

/* Every accepted vector agrees with Zydis. */
static void test_vectors_agree(void **state)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	ZydisDecoder dec;
	struct x86_insn in;
	struct why w;
	unsigned bad = 0;

	(void)state;
	for (size_t i = 0; i < DECODE_VECTOR_COUNT; i++) {
		const struct decode_vector *v = &decode_vectors[i];

		zydis_init(&dec, v->mode);
		assert_null(x86_decode(v->bytes, v->len, v->mode, &in));
		if (!agrees(&dec, v->bytes, v->len, &in, &zi, zo, &w)) {
			fprintf(stderr, "vector \"%s\":\n", v->name);
			show(v->bytes, v->len, v->mode, &in, NULL, &dec, w.text);
			bad++;
		}
	}
	printf("%zu vectors compared with Zydis, %u disagreements; "
	       "Zydis bug #592 worked around %u times\n",
	       DECODE_VECTOR_COUNT, bad, zydis_592_patches);
	assert_int_equal(bad, 0);
}

/*
 * Would cvisor be expected to accept what Zydis decoded?  One of the
 * accepted mnemonics with a memory operand, no segment/control register,
 * no LOCK or REPNE, REP only on strings, at most one distinct segment
 * override.
 */
static bool zydis_says_accepted_form(const ZydisDecodedInstruction *zi,
				     const ZydisDecodedOperand *zo)
{
	bool string = false, has_mem = false;
	int seg = -1;

	switch (zi->mnemonic) {
	case ZYDIS_MNEMONIC_STOSB: case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_STOSD: case ZYDIS_MNEMONIC_STOSQ:
	case ZYDIS_MNEMONIC_MOVSB: case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_MOVSQ:
		string = true;
		break;
	case ZYDIS_MNEMONIC_MOV:
	case ZYDIS_MNEMONIC_MOVZX:
	case ZYDIS_MNEMONIC_MOVSX:
		break;
	default:
		return false;
	}
	if (zi->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		return false;
	for (unsigned i = 0; i < zi->operand_count; i++) {
		if (zo[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
			has_mem = true;
		if (zo[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(zo[i].reg.value) != ZYDIS_REGCLASS_GPR8 &&
		    ZydisRegisterGetClass(zo[i].reg.value) != ZYDIS_REGCLASS_GPR16 &&
		    ZydisRegisterGetClass(zo[i].reg.value) != ZYDIS_REGCLASS_GPR32 &&
		    ZydisRegisterGetClass(zo[i].reg.value) != ZYDIS_REGCLASS_GPR64 &&
		    ZydisRegisterGetClass(zo[i].reg.value) != ZYDIS_REGCLASS_FLAGS)
			return false;
	}
	if (!has_mem)
		return false;
	for (unsigned i = 0; i < zi->raw.prefix_count; i++) {
		uint8_t p = zi->raw.prefixes[i].value;

		if (p == 0xf0 || p == 0xf2 || (p == 0xf3 && !string))
			return false;
		if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65) {
			if (seg >= 0 && seg != p)
				return false;
			seg = p;
		}
	}
	return true;
}

/* xorshift64 (Marsaglia), fixed seed: the same strings on every run. */
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 15 random bytes, most of them shaped like an accepted instruction: a
 * few prefixes from the accepted set (sometimes LOCK/REPNE/REX/anything),
 * an accepted opcode, then random ModRM/SIB/displacement/immediate bytes. */
static void random_candidate(enum x86_mode mode, uint8_t *b)
{
	static const uint8_t prefixes[] = { 0x66, 0x67, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	static const uint8_t opcodes[] = { 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0, 0xa1,
		0xa2, 0xa3, 0xa4, 0xa5, 0xaa, 0xab, 0x0f };
	static const uint8_t opcodes0f[] = { 0xb6, 0xb7, 0xbe, 0xbf };
	unsigned pos = 0, npfx;
	uint64_t r;

	for (unsigned i = 0; i < X86_MAX_INSN_LEN; i++)
		b[i] = (uint8_t)next_random();
	r = next_random();
	if (r % 8 == 0)
		return;	/* entirely random */
	r >>= 3;
	npfx = r % 5;
	r >>= 3;
	for (unsigned i = 0; i < npfx; i++) {
		uint64_t s = next_random();

		switch (s % 16) {
		case 0: /* REX (an opcode outside 64-bit mode) */
		case 1:
			b[pos++] = 0x40 | ((s >> 8) & 15);
			break;
		case 2: /* anything */
			b[pos++] = (uint8_t)(s >> 8);
			break;
		case 3: /* LOCK or REPNE, now and then */
			b[pos++] = (s >> 8) % 4 == 0 ? ((s >> 10) & 1 ? 0xf0 : 0xf2) : 0x66;
			break;
		default:
			b[pos++] = prefixes[(s >> 8) % sizeof(prefixes)];
		}
	}
	if (mode == X86_MODE_64 && r % 4 == 0)
		b[pos++] = 0x40 | ((r >> 2) & 15);	/* a REX right before the opcode */
	r >>= 6;
	b[pos] = opcodes[r % sizeof(opcodes)];
	r >>= 4;
	if (b[pos] == 0x0f)
		b[++pos] = opcodes0f[r % 4];
	r >>= 2;
	pos++;
	/* ModRM: C6/C7 mostly /0; mostly a memory form */
	if ((b[pos - 1] == 0xc6 || b[pos - 1] == 0xc7) && r % 8 != 0)
		b[pos] &= 0xc7;
	r >>= 3;
	if ((b[pos] & 0xc0) == 0xc0 && r % 4 != 0)
		b[pos] &= 0x3f | ((r >> 2 & 3) % 3) << 6;
}

static void random_mode(enum x86_mode mode, unsigned count)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	ZydisDecoder dec;
	uint8_t b[X86_MAX_INSN_LEN];
	struct x86_insn in, again;
	struct why w;
	unsigned accepted = 0, bad = 0, missed = 0, refused = 0;
	unsigned patches = zydis_592_patches;
	unsigned ops[6] = { 0 };
	const char *err;

	zydis_init(&dec, mode);
	for (unsigned n = 0; n < count; n++) {
		random_candidate(mode, b);
		err = x86_decode(b, sizeof(b), mode, &in);
		if (err) {
			refused++;
			if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, b, sizeof(b), &zi, zo)) &&
			    zydis_says_accepted_form(&zi, zo)) {
				if (missed++ < 10)
					show(b, sizeof(b), mode, NULL, err, &dec,
					     "cvisor refuses an accepted form");
			}
			continue;
		}
		accepted++;
		ops[in.op]++;
		if (!agrees(&dec, b, sizeof(b), &in, &zi, zo, &w)) {
			if (bad++ < 10)
				show(b, sizeof(b), mode, &in, NULL, &dec, w.text);
			continue;
		}
		/* The same from exactly length bytes; truncated one short. */
		assert_null(x86_decode(b, in.length, mode, &again));
		assert_memory_equal(&in, &again, sizeof(in));
		assert_string_equal(x86_decode(b, in.length - 1, mode, &again), "truncated");
	}
	printf("%s: %u random strings, %u accepted and compared with Zydis "
	       "(mov store %u, load %u, movzx %u, movsx %u, stos %u, movs %u), "
	       "%u refused; %u disagreements, %u wrongly refused; "
	       "Zydis bug #592 worked around %u times\n",
	       mode_names[mode], count, accepted, ops[X86_OP_MOV_STORE],
	       ops[X86_OP_MOV_LOAD], ops[X86_OP_MOVZX], ops[X86_OP_MOVSX],
	       ops[X86_OP_STOS], ops[X86_OP_MOVS], refused, bad, missed,
	       zydis_592_patches - patches);
	assert_int_equal(bad, 0);
	assert_int_equal(missed, 0);
	assert_true(accepted > 50000);
	for (unsigned i = 0; i < 6; i++)
		assert_true(ops[i] > 1000);
}

#define RANDOM_COUNT 250000

static void test_random_16(void **state)
{
	(void)state;
	random_mode(X86_MODE_16, RANDOM_COUNT);
}

static void test_random_32(void **state)
{
	(void)state;
	random_mode(X86_MODE_32, RANDOM_COUNT);
}

static void test_random_64(void **state)
{
	(void)state;
	random_mode(X86_MODE_64, RANDOM_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_agree),
		cmocka_unit_test(test_random_16),
		cmocka_unit_test(test_random_32),
		cmocka_unit_test(test_random_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
