/*
 * Instruction vectors for core/decode, shared by test_decode.c (every field
 * of the decoded instruction) and test_decode_zydis.c (cross-check against
 * Zydis).  Each accepted vector is exactly one instruction: its length is
 * the number of bytes listed.  Names are the Intel-syntax disassembly.
 */
#ifndef CVISOR_TESTS_DECODE_VECTORS_H
#define CVISOR_TESTS_DECODE_VECTORS_H

#include <stdint.h>

#include "decode/decode.h"

struct decode_vector {
	const char *name;
	enum x86_mode mode;
	uint8_t bytes[X86_MAX_INSN_LEN + 1];
	unsigned len;
	struct x86_insn expect; /* .length is taken from len */
};

struct decode_refusal {
	const char *name;
	enum x86_mode mode;
	uint8_t bytes[24];
	unsigned len;
	const char *reason;
};

#define BYTES(...) .bytes = { __VA_ARGS__ }, \
	.len = sizeof((const uint8_t[]){ __VA_ARGS__ })

#define NOREG X86_REG_NONE
#define RAX X86_REG_RAX
#define RCX X86_REG_RCX
#define RDX X86_REG_RDX
#define RBX X86_REG_RBX
#define RSP X86_REG_RSP
#define RBP X86_REG_RBP
#define RSI X86_REG_RSI
#define RDI X86_REG_RDI
#define R8 X86_REG_R8
#define R12 X86_REG_R12
#define R13 X86_REG_R13
#define R15 X86_REG_R15

/* A memory operand: segment, base, index, scale, displacement, address
 * size; RIPREL: RIP-relative (DS). */
#define MEM(seg, b, i, sc, d, as) { .segment = X86_SEG_##seg, .base = (b), \
	.index = (i), .scale = (sc), .disp = (d), .address_size = (as) }
#define RIPREL(d, as) { .segment = X86_SEG_DS, .base = NOREG, .index = NOREG, \
	.disp = (d), .rip_relative = true, .address_size = (as) }

/* The instruction kinds; every other field defaults to 0/false. */
#define STORE(sz, r, m) .op = X86_OP_MOV_STORE, .mem_size = (sz), \
	.reg_size = (sz), .reg = (r), .mem = m
#define STORE_HI(r, m) .op = X86_OP_MOV_STORE, .mem_size = 1, .reg_size = 1, \
	.reg = (r), .reg_high_byte = true, .mem = m
#define STORE_IMM(sz, imm, m) .op = X86_OP_MOV_STORE, .mem_size = (sz), \
	.reg = NOREG, .has_immediate = true, .immediate = (imm), .mem = m
#define LOAD(sz, r, m) .op = X86_OP_MOV_LOAD, .mem_size = (sz), \
	.reg_size = (sz), .reg = (r), .mem = m
#define LOAD_HI(r, m) .op = X86_OP_MOV_LOAD, .mem_size = 1, .reg_size = 1, \
	.reg = (r), .reg_high_byte = true, .mem = m
#define MOVZX(msz, rsz, r, m) .op = X86_OP_MOVZX, .mem_size = (msz), \
	.reg_size = (rsz), .reg = (r), .mem = m
#define MOVSX(msz, rsz, r, m) .op = X86_OP_MOVSX, .mem_size = (msz), \
	.reg_size = (rsz), .reg = (r), .mem = m
#define STOS(sz, rp, as) .op = X86_OP_STOS, .mem_size = (sz), .reg = NOREG, \
	.rep = (rp), .mem = MEM(ES, RDI, NOREG, 0, 0, as)
#define MOVS(sz, rp, srcseg, as) .op = X86_OP_MOVS, .mem_size = (sz), \
	.reg = NOREG, .rep = (rp), .mem = MEM(ES, RDI, NOREG, 0, 0, as), \
	.src = MEM(srcseg, RSI, NOREG, 0, 0, as)

#define M16 X86_MODE_16
#define M32 X86_MODE_32
#define M64 X86_MODE_64

static const struct decode_vector decode_vectors[] = {
	/* MOV r/m, r and r, r/m (88/89/8A/8B) with ModRM/SIB forms */
	{ "mov [rdi], al", M64, BYTES(0x88, 0x07),
	  { STORE(1, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "mov [rsp+8], rax", M64, BYTES(0x48, 0x89, 0x44, 0x24, 0x08),
	  { STORE(8, RAX, MEM(SS, RSP, NOREG, 0, 8, 8)) } },
	{ "mov eax, [rip+0x12345678]", M64, BYTES(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12),
	  { LOAD(4, RAX, RIPREL(0x12345678, 8)) } },
	{ "mov eax, [0x12345678] (32-bit: disp32, not RIP-relative)", M32,
	  BYTES(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12),
	  { LOAD(4, RAX, MEM(DS, NOREG, NOREG, 0, 0x12345678, 4)) } },
	{ "mov eax, [0x80000000] (disp32 sign-extended)", M32,
	  BYTES(0x8b, 0x05, 0x00, 0x00, 0x00, 0x80),
	  { LOAD(4, RAX, MEM(DS, NOREG, NOREG, 0, -0x80000000LL, 4)) } },
	{ "mov eax, [eip+0x10] (64-bit with 67)", M64,
	  BYTES(0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00),
	  { LOAD(4, RAX, RIPREL(0x10, 4)) } },
	{ "mov eax, [rip+0x10] (REX.B does not cancel RIP-relative)", M64,
	  BYTES(0x41, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00),
	  { LOAD(4, RAX, RIPREL(0x10, 8)) } },
	{ "mov ah, [rsp+1]", M64, BYTES(0x8a, 0x64, 0x24, 0x01),
	  { LOAD_HI(RAX, MEM(SS, RSP, NOREG, 0, 1, 8)) } },
	{ "mov sil, [rsp+1] (REX: not dh)", M64, BYTES(0x40, 0x8a, 0x74, 0x24, 0x01),
	  { LOAD(1, RSI, MEM(SS, RSP, NOREG, 0, 1, 8)) } },
	{ "mov dh, [rsp+1]", M64, BYTES(0x8a, 0x74, 0x24, 0x01),
	  { LOAD_HI(RDX, MEM(SS, RSP, NOREG, 0, 1, 8)) } },
	{ "mov [rsp+1], ah", M64, BYTES(0x88, 0x64, 0x24, 0x01),
	  { STORE_HI(RAX, MEM(SS, RSP, NOREG, 0, 1, 8)) } },
	{ "mov [rip+0], bh", M64, BYTES(0x88, 0x3d, 0x00, 0x00, 0x00, 0x00),
	  { STORE_HI(RBX, RIPREL(0, 8)) } },
	{ "mov [rsp], r15b", M64, BYTES(0x44, 0x88, 0x3c, 0x24),
	  { STORE(1, R15, MEM(SS, RSP, NOREG, 0, 0, 8)) } },
	{ "mov [rcx*4+0x1000], r8d (SIB, no base)", M64,
	  BYTES(0x44, 0x89, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00),
	  { STORE(4, R8, MEM(DS, NOREG, RCX, 4, 0x1000, 8)) } },
	{ "mov eax, [0x12345678] (SIB, no base no index: not RIP-relative)", M64,
	  BYTES(0x8b, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12),
	  { LOAD(4, RAX, MEM(DS, NOREG, NOREG, 0, 0x12345678, 8)) } },
	{ "mov eax, [r12*1+0] (REX.X: index 100 is r12)", M64,
	  BYTES(0x42, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00),
	  { LOAD(4, RAX, MEM(DS, NOREG, R12, 1, 0, 8)) } },
	{ "mov eax, [rax] (SIB scale without index)", M64, BYTES(0x8b, 0x04, 0xe0),
	  { LOAD(4, RAX, MEM(DS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov eax, [r12] (SIB needed, DS not SS)", M64, BYTES(0x41, 0x8b, 0x04, 0x24),
	  { LOAD(4, RAX, MEM(DS, R12, NOREG, 0, 0, 8)) } },
	{ "mov eax, [r13+0] (DS not SS)", M64, BYTES(0x41, 0x8b, 0x45, 0x00),
	  { LOAD(4, RAX, MEM(DS, R13, NOREG, 0, 0, 8)) } },
	{ "mov eax, [r13+r12*4-0x80]", M64, BYTES(0x43, 0x8b, 0x44, 0xa5, 0x80),
	  { LOAD(4, RAX, MEM(DS, R13, R12, 4, -0x80, 8)) } },
	{ "mov [eax*1+0x487ce913], ecx (67: SIB no base even with REX.B)", M64,
	  BYTES(0x67, 0x41, 0x89, 0x0c, 0x05, 0x13, 0xe9, 0x7c, 0x48),
	  { STORE(4, RCX, MEM(DS, NOREG, RAX, 1, 0x487ce913, 4)) } },
	{ "mov rax, [0x50000] (SIB no base even with REX.B)", M64,
	  BYTES(0x49, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x05, 0x00),
	  { LOAD(8, RAX, MEM(DS, NOREG, NOREG, 0, 0x50000, 8)) } },
	{ "mov eax, [rsp+0x100] (disp32)", M64,
	  BYTES(0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00),
	  { LOAD(4, RAX, MEM(SS, RSP, NOREG, 0, 0x100, 8)) } },
	{ "mov ecx, [rbp+rdx*8-0x12345678]", M64,
	  BYTES(0x8b, 0x8c, 0xd5, 0x88, 0xa9, 0xcb, 0xed),
	  { LOAD(4, RCX, MEM(SS, RBP, RDX, 8, -0x12345678, 8)) } },
	{ "mov [rsp], r15", M64, BYTES(0x4c, 0x89, 0x3c, 0x24),
	  { STORE(8, R15, MEM(SS, RSP, NOREG, 0, 0, 8)) } },
	{ "mov rbx, [rsi+rdi*2+0x7f]", M64, BYTES(0x48, 0x8b, 0x5c, 0x7e, 0x7f),
	  { LOAD(8, RBX, MEM(DS, RSI, RDI, 2, 0x7f, 8)) } },
	{ "mov [edi], eax (64-bit with 67)", M64, BYTES(0x67, 0x89, 0x07),
	  { STORE(4, RAX, MEM(DS, RDI, NOREG, 0, 0, 4)) } },
	{ "mov [ebp+esi*2+0x10], dx (32-bit)", M32, BYTES(0x66, 0x89, 0x54, 0x75, 0x10),
	  { STORE(2, RDX, MEM(SS, RBP, RSI, 2, 0x10, 4)) } },
	{ "mov eax, [ebp+8] (32-bit, SS)", M32, BYTES(0x8b, 0x45, 0x08),
	  { LOAD(4, RAX, MEM(SS, RBP, NOREG, 0, 8, 4)) } },
	{ "mov eax, ds:[ebp+8] (32-bit)", M32, BYTES(0x3e, 0x8b, 0x45, 0x08),
	  { LOAD(4, RAX, MEM(DS, RBP, NOREG, 0, 8, 4)) } },
	{ "mov eax, cs:[eax] (32-bit)", M32, BYTES(0x2e, 0x8b, 0x00),
	  { LOAD(4, RAX, MEM(CS, RAX, NOREG, 0, 0, 4)) } },
	{ "mov eax, es:[eax] (32-bit, repeated override)", M32, BYTES(0x26, 0x26, 0x8b, 0x00),
	  { LOAD(4, RAX, MEM(ES, RAX, NOREG, 0, 0, 4)) } },
	{ "mov eax, fs:[rax]", M64, BYTES(0x64, 0x8b, 0x00),
	  { LOAD(4, RAX, MEM(FS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov eax, fs:[eax] (32-bit)", M32, BYTES(0x64, 0x8b, 0x00),
	  { LOAD(4, RAX, MEM(FS, RAX, NOREG, 0, 0, 4)) } },
	{ "mov [rbx], esi (gs)", M64, BYTES(0x65, 0x89, 0x33),
	  { STORE(4, RSI, MEM(GS, RBX, NOREG, 0, 0, 8)) } },
	{ "mov eax, [rax] (64-bit ignores CS override)", M64, BYTES(0x2e, 0x8b, 0x00),
	  { LOAD(4, RAX, MEM(DS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov eax, [rbp+0] (64-bit ignores DS override)", M64, BYTES(0x3e, 0x8b, 0x45, 0x00),
	  { LOAD(4, RAX, MEM(SS, RBP, NOREG, 0, 0, 8)) } },
	{ "mov eax, [esp] (32-bit, SIB)", M32, BYTES(0x8b, 0x04, 0x24),
	  { LOAD(4, RAX, MEM(SS, RSP, NOREG, 0, 0, 4)) } },
	{ "mov eax, [ecx*8] (32-bit, SIB no base)", M32,
	  BYTES(0x8b, 0x04, 0xcd, 0x00, 0x00, 0x00, 0x00),
	  { LOAD(4, RAX, MEM(DS, NOREG, RCX, 8, 0, 4)) } },

	/* Prefix interplay */
	{ "mov [rdi], ax (REX before 66 is ignored)", M64, BYTES(0x48, 0x66, 0x89, 0x07),
	  { STORE(2, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "mov [rdi], rax (REX.W beats 66)", M64, BYTES(0x66, 0x48, 0x89, 0x07),
	  { STORE(8, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "mov [rdi], rax (only the last REX counts)", M64, BYTES(0x41, 0x48, 0x89, 0x07),
	  { STORE(8, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "mov [rdi], ah (ignored REX does not make it spl)", M64,
	  BYTES(0x40, 0x66, 0x88, 0x27),
	  { STORE_HI(RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "mov [rdi], al (66 does not widen byte ops)", M64, BYTES(0x66, 0x88, 0x07),
	  { STORE(1, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "mov [rdi], ax (13 prefixes: exactly 15 bytes)", M64,
	  BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x66, 0x66, 0x66, 0x89, 0x07),
	  { STORE(2, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },

	/* MOV r/m, imm (C6 /0, C7 /0) */
	{ "mov word [rax], 0x1234", M64, BYTES(0x66, 0xc7, 0x00, 0x34, 0x12),
	  { STORE_IMM(2, 0x1234, MEM(DS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov word [eax], 0x1234 (32-bit)", M32, BYTES(0x66, 0xc7, 0x00, 0x34, 0x12),
	  { STORE_IMM(2, 0x1234, MEM(DS, RAX, NOREG, 0, 0, 4)) } },
	{ "mov qword [rax], -1 (imm32 sign-extended)", M64,
	  BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
	  { STORE_IMM(8, 0xffffffffffffffffULL, MEM(DS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov qword [rax], 1 (REX.R ignored on /0)", M64,
	  BYTES(0x4c, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x00),
	  { STORE_IMM(8, 1, MEM(DS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov dword [rax], 0xffffffff", M64, BYTES(0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
	  { STORE_IMM(4, 0xffffffffULL, MEM(DS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov byte [rax], 0xab", M64, BYTES(0xc6, 0x00, 0xab),
	  { STORE_IMM(1, 0xab, MEM(DS, RAX, NOREG, 0, 0, 8)) } },
	{ "mov byte [rsp-1], 0x7f", M64, BYTES(0xc6, 0x44, 0x24, 0xff, 0x7f),
	  { STORE_IMM(1, 0x7f, MEM(SS, RSP, NOREG, 0, -1, 8)) } },
	{ "mov dword [rip+0x10], 0x12345678", M64,
	  BYTES(0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
	  { STORE_IMM(4, 0x12345678, RIPREL(0x10, 8)) } },
	{ "mov qword fs:[eax+ecx*4+0x12345678], 0xffffffffdeadbeef (15 bytes)", M64,
	  BYTES(0x66, 0x64, 0x67, 0x48, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12,
		0xef, 0xbe, 0xad, 0xde),
	  { STORE_IMM(8, 0xffffffffdeadbeefULL, MEM(FS, RAX, RCX, 4, 0x12345678, 4)) } },

	/* MOVZX, MOVSX */
	{ "movzx eax, byte [rdi]", M64, BYTES(0x0f, 0xb6, 0x07),
	  { MOVZX(1, 4, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "movsx eax, word [rdi+2]", M64, BYTES(0x0f, 0xbf, 0x47, 0x02),
	  { MOVSX(2, 4, RAX, MEM(DS, RDI, NOREG, 0, 2, 8)) } },
	{ "movsx rcx, byte [rsp]", M64, BYTES(0x48, 0x0f, 0xbe, 0x0c, 0x24),
	  { MOVSX(1, 8, RCX, MEM(SS, RSP, NOREG, 0, 0, 8)) } },
	{ "movzx ax, byte [rdi]", M64, BYTES(0x66, 0x0f, 0xb6, 0x07),
	  { MOVZX(1, 2, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "movzx ax, word [rdi]", M64, BYTES(0x66, 0x0f, 0xb7, 0x07),
	  { MOVZX(2, 2, RAX, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "movzx r8, word [rax+2]", M64, BYTES(0x4c, 0x0f, 0xb7, 0x40, 0x02),
	  { MOVZX(2, 8, R8, MEM(DS, RAX, NOREG, 0, 2, 8)) } },
	{ "movzx esi, byte [rdi] (REX: esi, no high byte)", M64,
	  BYTES(0x40, 0x0f, 0xb6, 0x37),
	  { MOVZX(1, 4, RSI, MEM(DS, RDI, NOREG, 0, 0, 8)) } },
	{ "movsx eax, byte [ebp-4] (32-bit)", M32, BYTES(0x0f, 0xbe, 0x45, 0xfc),
	  { MOVSX(1, 4, RAX, MEM(SS, RBP, NOREG, 0, -4, 4)) } },
	{ "movzx ax, byte [bx] (16-bit)", M16, BYTES(0x0f, 0xb6, 0x07),
	  { MOVZX(1, 2, RAX, MEM(DS, RBX, NOREG, 0, 0, 2)) } },

	/* MOV with moffs (A0-A3) */
	{ "mov eax, [0x12345678] (moffs32)", M32, BYTES(0xa1, 0x78, 0x56, 0x34, 0x12),
	  { LOAD(4, RAX, MEM(DS, NOREG, NOREG, 0, 0x12345678, 4)) } },
	{ "mov eax, [0x1122334455667788] (moffs64)", M64,
	  BYTES(0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11),
	  { LOAD(4, RAX, MEM(DS, NOREG, NOREG, 0, 0x1122334455667788LL, 8)) } },
	{ "mov eax, [0x12345678] (64-bit with 67: moffs32)", M64,
	  BYTES(0x67, 0xa1, 0x78, 0x56, 0x34, 0x12),
	  { LOAD(4, RAX, MEM(DS, NOREG, NOREG, 0, 0x12345678, 4)) } },
	{ "mov [0x123456789abcdef0], rax", M64,
	  BYTES(0x48, 0xa3, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12),
	  { STORE(8, RAX, MEM(DS, NOREG, NOREG, 0, 0x123456789abcdef0LL, 8)) } },
	{ "mov al, [0x1000] (32-bit)", M32, BYTES(0xa0, 0x00, 0x10, 0x00, 0x00),
	  { LOAD(1, RAX, MEM(DS, NOREG, NOREG, 0, 0x1000, 4)) } },
	{ "mov gs:[0x1000], al", M64,
	  BYTES(0x65, 0xa2, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
	  { STORE(1, RAX, MEM(GS, NOREG, NOREG, 0, 0x1000, 8)) } },
	{ "mov ax, [0x1234] (16-bit moffs16)", M16, BYTES(0xa1, 0x34, 0x12),
	  { LOAD(2, RAX, MEM(DS, NOREG, NOREG, 0, 0x1234, 2)) } },
	{ "mov ax, es:[0x12345678] (16-bit with 67)", M16,
	  BYTES(0x26, 0x67, 0xa1, 0x78, 0x56, 0x34, 0x12),
	  { LOAD(2, RAX, MEM(ES, NOREG, NOREG, 0, 0x12345678, 4)) } },
	{ "mov [0xfffe], ax (32-bit with 67: moffs16)", M32,
	  BYTES(0x66, 0x67, 0xa3, 0xfe, 0xff),
	  { STORE(2, RAX, MEM(DS, NOREG, NOREG, 0, -2, 2)) } },

	/* STOS, MOVS */
	{ "rep stosd", M64, BYTES(0xf3, 0xab), { STOS(4, true, 8) } },
	{ "stosb", M64, BYTES(0xaa), { STOS(1, false, 8) } },
	{ "stosq", M64, BYTES(0x48, 0xab), { STOS(8, false, 8) } },
	{ "rep stosw", M64, BYTES(0xf3, 0x66, 0xab), { STOS(2, true, 8) } },
	{ "stosb [edi] (64-bit with 67)", M64, BYTES(0x67, 0xaa), { STOS(1, false, 4) } },
	{ "stosd (fs override does not apply to ES:[edi])", M32, BYTES(0x64, 0xab),
	  { STOS(4, false, 4) } },
	{ "rep stosb [di] (32-bit with 67)", M32, BYTES(0x67, 0xf3, 0xaa),
	  { STOS(1, true, 2) } },
	{ "stosd (16-bit with 66)", M16, BYTES(0x66, 0xab), { STOS(4, false, 2) } },
	{ "rep movsq", M64, BYTES(0xf3, 0x48, 0xa5), { MOVS(8, true, DS, 8) } },
	{ "movsb", M64, BYTES(0xa4), { MOVS(1, false, DS, 8) } },
	{ "movsb fs:[rsi]", M64, BYTES(0x64, 0xa4), { MOVS(1, false, FS, 8) } },
	{ "movsb (64-bit ignores ES override)", M64, BYTES(0x26, 0xa4),
	  { MOVS(1, false, DS, 8) } },
	{ "movsb es:[esi] (32-bit)", M32, BYTES(0x26, 0xa4), { MOVS(1, false, ES, 4) } },
	{ "rep movsd gs:[esi] (64-bit with 67)", M64, BYTES(0x65, 0x67, 0xf3, 0xa5),
	  { MOVS(4, true, GS, 4) } },
	{ "rep movsw (16-bit)", M16, BYTES(0xf3, 0xa5), { MOVS(2, true, DS, 2) } },

	/* 16-bit addressing (Table 2-1) */
	{ "mov [bx], ax (16-bit)", M16, BYTES(0x89, 0x07),
	  { STORE(2, RAX, MEM(DS, RBX, NOREG, 0, 0, 2)) } },
	{ "mov ax, [bp-2] (16-bit)", M16, BYTES(0x8b, 0x46, 0xfe),
	  { LOAD(2, RAX, MEM(SS, RBP, NOREG, 0, -2, 2)) } },
	{ "mov ax, [bx+si] (16-bit)", M16, BYTES(0x8b, 0x00),
	  { LOAD(2, RAX, MEM(DS, RBX, RSI, 1, 0, 2)) } },
	{ "mov cx, [bx+di+0x10] (16-bit)", M16, BYTES(0x8b, 0x49, 0x10),
	  { LOAD(2, RCX, MEM(DS, RBX, RDI, 1, 0x10, 2)) } },
	{ "mov ax, [bp+si] (16-bit)", M16, BYTES(0x8b, 0x02),
	  { LOAD(2, RAX, MEM(SS, RBP, RSI, 1, 0, 2)) } },
	{ "mov ax, [bp+di+0x1234] (16-bit)", M16, BYTES(0x8b, 0x83, 0x34, 0x12),
	  { LOAD(2, RAX, MEM(SS, RBP, RDI, 1, 0x1234, 2)) } },
	{ "mov ax, [si+0x10] (16-bit)", M16, BYTES(0x8b, 0x44, 0x10),
	  { LOAD(2, RAX, MEM(DS, RSI, NOREG, 0, 0x10, 2)) } },
	{ "mov ax, [di] (16-bit)", M16, BYTES(0x8b, 0x05),
	  { LOAD(2, RAX, MEM(DS, RDI, NOREG, 0, 0, 2)) } },
	{ "mov ax, [0x1234] (16-bit, mod 00 rm 110)", M16, BYTES(0x8b, 0x06, 0x34, 0x12),
	  { LOAD(2, RAX, MEM(DS, NOREG, NOREG, 0, 0x1234, 2)) } },
	{ "mov ax, [bp+0x1234] (16-bit, mod 10 rm 110)", M16, BYTES(0x8b, 0x86, 0x34, 0x12),
	  { LOAD(2, RAX, MEM(SS, RBP, NOREG, 0, 0x1234, 2)) } },
	{ "mov ah, [bx] (16-bit)", M16, BYTES(0x8a, 0x27),
	  { LOAD_HI(RAX, MEM(DS, RBX, NOREG, 0, 0, 2)) } },
	{ "mov ax, es:[bx] (16-bit)", M16, BYTES(0x26, 0x8b, 0x07),
	  { LOAD(2, RAX, MEM(ES, RBX, NOREG, 0, 0, 2)) } },
	{ "mov eax, [bx] (16-bit with 66)", M16, BYTES(0x66, 0x8b, 0x07),
	  { LOAD(4, RAX, MEM(DS, RBX, NOREG, 0, 0, 2)) } },
	{ "mov ax, [esp] (16-bit with 67)", M16, BYTES(0x67, 0x8b, 0x04, 0x24),
	  { LOAD(2, RAX, MEM(SS, RSP, NOREG, 0, 0, 4)) } },
	{ "mov word [0x1234], 0x5678 (16-bit)", M16,
	  BYTES(0xc7, 0x06, 0x34, 0x12, 0x78, 0x56),
	  { STORE_IMM(2, 0x5678, MEM(DS, NOREG, NOREG, 0, 0x1234, 2)) } },
	{ "mov eax, [bx] (32-bit with 67)", M32, BYTES(0x67, 0x8b, 0x07),
	  { LOAD(4, RAX, MEM(DS, RBX, NOREG, 0, 0, 2)) } },
	{ "mov [bp+si-0x80], bl (32-bit with 67)", M32, BYTES(0x67, 0x88, 0x5a, 0x80),
	  { STORE(1, RBX, MEM(SS, RBP, RSI, 1, -0x80, 2)) } },
};

#define DECODE_VECTOR_COUNT (sizeof(decode_vectors) / sizeof(decode_vectors[0]))

#define PFX15 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, \
	0x66, 0x66, 0x66, 0x66, 0x66

static const struct decode_refusal decode_refusals[] = {
	{ "lock mov [rdi], eax", M64, BYTES(0xf0, 0x89, 0x07), "LOCK prefix" },
	{ "mov with lock after other prefixes", M64, BYTES(0x66, 0x64, 0xf0, 0x89, 0x07),
	  "LOCK prefix" },
	{ "repne mov [rdi], eax", M64, BYTES(0xf2, 0x89, 0x07), "REPNE prefix" },
	{ "repne movsb", M64, BYTES(0xf2, 0xa4), "REPNE prefix" },
	{ "rep mov [rdi], eax (xrelease)", M64, BYTES(0xf3, 0x89, 0x07),
	  "REP prefix on a non-string instruction" },
	{ "rep mov byte [rax], 1", M32, BYTES(0xf3, 0xc6, 0x00, 0x01),
	  "REP prefix on a non-string instruction" },
	{ "rep movzx (f3 0f b6)", M64, BYTES(0xf3, 0x0f, 0xb6, 0x07),
	  "REP prefix on a non-string instruction" },
	{ "rep mov eax, moffs", M32, BYTES(0xf3, 0xa1, 0, 0, 0, 0),
	  "REP prefix on a non-string instruction" },
	{ "mov eax, eax (mod=11)", M64, BYTES(0x89, 0xc0),
	  "register operand (ModRM mod=11), not a memory access" },
	{ "mov ax, bx (16-bit, mod=11)", M16, BYTES(0x8b, 0xc3),
	  "register operand (ModRM mod=11), not a memory access" },
	{ "movzx eax, al (mod=11)", M64, BYTES(0x0f, 0xb6, 0xc0),
	  "register operand (ModRM mod=11), not a memory access" },
	{ "mov eax, 1 (c7 /0 mod=11)", M64, BYTES(0xc7, 0xc0, 1, 0, 0, 0),
	  "register operand (ModRM mod=11), not a memory access" },
	{ "xbegin (c7 f8)", M64, BYTES(0xc7, 0xf8, 0, 0, 0, 0),
	  "register operand (ModRM mod=11), not a memory access" },
	{ "c6 /1 (not MOV)", M64, BYTES(0xc6, 0x08, 0x01),
	  "opcode C6/C7 with ModRM.reg != 0 is not MOV" },
	{ "c7 /7 with memory (not MOV)", M32, BYTES(0xc7, 0x38, 0, 0, 0, 0),
	  "opcode C6/C7 with ModRM.reg != 0 is not MOV" },
	{ "syscall", M64, BYTES(0x0f, 0x05), "two-byte opcode 0F xx is not a memory move" },
	{ "movsxd rax, [rdi]", M64, BYTES(0x48, 0x63, 0x07), "opcode is not a memory move" },
	{ "mov [rax], es (8c)", M64, BYTES(0x8c, 0x00), "opcode is not a memory move" },
	{ "mov es, [rax] (8e)", M32, BYTES(0x8e, 0x00), "opcode is not a memory move" },
	{ "lodsb", M64, BYTES(0xac), "opcode is not a memory move" },
	{ "cmpsb", M64, BYTES(0xa6), "opcode is not a memory move" },
	{ "add [rax], al", M64, BYTES(0x00, 0x00), "opcode is not a memory move" },
	{ "mov eax, imm32 (b8)", M64, BYTES(0xb8, 1, 0, 0, 0), "opcode is not a memory move" },
	{ "xchg [rdi], eax", M64, BYTES(0x87, 0x07), "opcode is not a memory move" },
	{ "movnti [rdi], eax", M64, BYTES(0x0f, 0xc3, 0x07),
	  "two-byte opcode 0F xx is not a memory move" },
	{ "movd [rdi], xmm0", M64, BYTES(0x66, 0x0f, 0x7e, 0x07),
	  "two-byte opcode 0F xx is not a memory move" },
	{ "vbroadcastss ymm0, [rdi] (VEX3)", M64, BYTES(0xc4, 0xe2, 0x7d, 0x18, 0x07),
	  "VEX/EVEX-encoded instruction" },
	{ "vmovups xmm0, [rdi] (VEX2)", M64, BYTES(0xc5, 0xf8, 0x10, 0x07),
	  "VEX/EVEX-encoded instruction" },
	{ "vmovups zmm0, [rdi] (EVEX)", M64, BYTES(0x62, 0xf1, 0x7c, 0x48, 0x10, 0x07),
	  "VEX/EVEX-encoded instruction" },
	{ "vmovups xmm0, [edi] (VEX2, 32-bit)", M32, BYTES(0xc5, 0xf8, 0x10, 0x07),
	  "opcode is not a memory move" },
	{ "les eax, [edi] (32-bit)", M32, BYTES(0xc4, 0x07), "opcode is not a memory move" },
	{ "dec eax; mov [edi], eax (32-bit: 48 is not REX)", M32, BYTES(0x48, 0x89, 0x07),
	  "opcode is not a memory move" },
	{ "inc ax; ... (16-bit: 40 is not REX)", M16, BYTES(0x40, 0x89, 0x07),
	  "opcode is not a memory move" },
	{ "REX then 0f then REX-like byte (0f 48 is cmovs)", M64,
	  BYTES(0x48, 0x0f, 0x48, 0x07), "two-byte opcode 0F xx is not a memory move" },
	{ "conflicting segment overrides", M32, BYTES(0x26, 0x64, 0x8b, 0x00),
	  "conflicting segment override prefixes" },
	{ "conflicting segment overrides (64-bit)", M64, BYTES(0x2e, 0x64, 0x8b, 0x00),
	  "conflicting segment override prefixes" },
	{ "15 prefixes", M64, BYTES(PFX15, 0x89, 0x07),
	  "instruction longer than 15 bytes" },
	{ "15 prefixes, only 15 bytes available", M64, BYTES(PFX15),
	  "instruction longer than 15 bytes" },
	{ "14 prefixes + 2-byte mov (16 bytes)", M64,
	  BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x66, 0x66, 0x66, 0x66, 0x89, 0x07),
	  "instruction longer than 15 bytes" },
	{ "16-byte immediate store", M64,
	  BYTES(0x66, 0x64, 0x67, 0x67, 0x48, 0xc7, 0x84, 0x88, 0x78, 0x56, 0x34,
		0x12, 0xef, 0xbe, 0xad, 0xde),
	  "instruction longer than 15 bytes" },
	{ "empty", M64, .len = 0, "truncated" },
};

#define DECODE_REFUSAL_COUNT (sizeof(decode_refusals) / sizeof(decode_refusals[0]))

#endif
