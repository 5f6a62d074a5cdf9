/*
 * Unit tests of the x86 decoder (core/decode/decode.c): every vector of
 * decode_vectors.h is one test asserting every field of the decoded
 * instruction, every refusal one test asserting the reason; then the
 * truncation and 15-byte rules and the effective-address helper.
 * Build and run:
 *   gcc -std=c11 -g -O1 -Wall -Wextra -Werror -Icore -Itests/unit \
 *       -fsanitize=address,undefined tests/unit/decode/test_decode.c \
 *       core/decode/decode.c -lcmocka -o /tmp/td && /tmp/td
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode/decode.h"
#include "decode_vectors.h"

static const char *const mode_names[] = { "16-bit", "32-bit", "64-bit" };

/* A copy of the first n bytes in a heap block of exactly n bytes, so
 * AddressSanitizer catches any read past avail. */
static uint8_t *exact_copy(const uint8_t *bytes, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, bytes, n);
	return p;
}

static const char *decode_exact(const uint8_t *bytes, size_t n,
				enum x86_mode mode, struct x86_insn *out)
{
	uint8_t *p = exact_copy(bytes, n);
	const char *err = x86_decode(p, n, mode, out);

	free(p);
	return err;
}

#define CHECK(what, got, want)                                               \
	do {                                                                 \
		unsigned long long g_ = (unsigned long long)(got);           \
		unsigned long long w_ = (unsigned long long)(want);          \
		if (g_ != w_) {                                              \
			print_error("%s (%s): %s is 0x%llx, expected 0x%llx\n", \
				    v->name, mode_names[v->mode], what, g_, w_); \
			fail();                                              \
		}                                                            \
	} while (0)

static void check_mem(const struct decode_vector *v, const char *which,
		      const struct x86_mem_operand *got,
		      const struct x86_mem_operand *want)
{
	char f[64];

#define CHECK_MEM(field)                                                     \
	do {                                                                 \
		snprintf(f, sizeof(f), "%s.%s", which, #field);              \
		CHECK(f, got->field, want->field);                           \
	} while (0)
	CHECK_MEM(segment);
	CHECK_MEM(base);
	CHECK_MEM(index);
	CHECK_MEM(scale);
	CHECK_MEM(disp);
	CHECK_MEM(rip_relative);
	CHECK_MEM(address_size);
#undef CHECK_MEM
}

/* Every field of the decoded instruction against the vector. */
static void check_insn(const struct decode_vector *v, const struct x86_insn *got)
{
	const struct x86_insn *want = &v->expect;

	CHECK("length", got->length, v->len);
	CHECK("op", got->op, want->op);
	CHECK("mem_size", got->mem_size, want->mem_size);
	CHECK("reg_size", got->reg_size, want->reg_size);
	CHECK("reg", got->reg, want->reg);
	CHECK("reg_high_byte", got->reg_high_byte, want->reg_high_byte);
	CHECK("has_immediate", got->has_immediate, want->has_immediate);
	CHECK("immediate", got->immediate, want->immediate);
	CHECK("rep", got->rep, want->rep);
	check_mem(v, "mem", &got->mem, &want->mem);
	check_mem(v, "src", &got->src, &want->src);
}

/* One vector: decoded from exactly its bytes, then followed by junk
 * (which must not change anything). */
static void test_vector(void **state)
{
	const struct decode_vector *v = *state;
	uint8_t buf[64];
	struct x86_insn insn;
	const char *err;

	assert_true(v->len >= 1 && v->len <= X86_MAX_INSN_LEN);
	err = decode_exact(v->bytes, v->len, v->mode, &insn);
	if (err)
		print_error("%s (%s): refused: %s\n", v->name, mode_names[v->mode], err);
	assert_null(err);
	check_insn(v, &insn);

	memset(buf, 0x89, sizeof(buf));
	memcpy(buf, v->bytes, v->len);
	err = x86_decode(buf, sizeof(buf), v->mode, &insn);
	assert_null(err);
	check_insn(v, &insn);
}

/* One refusal, with its reason; *out comes back zeroed. */
static void test_refusal(void **state)
{
	const struct decode_refusal *r = *state;
	struct x86_insn insn;
	const char *err;

	memset(&insn, 0xa5, sizeof(insn));
	err = decode_exact(r->bytes, r->len, r->mode, &insn);
	if (!err || strcmp(err, r->reason) != 0)
		print_error("%s (%s): got \"%s\", expected \"%s\"\n", r->name,
			    mode_names[r->mode], err ? err : "(accepted)", r->reason);
	assert_non_null(err);
	assert_string_equal(err, r->reason);
	for (size_t i = 0; i < sizeof(insn); i++)
		assert_int_equal(((const uint8_t *)&insn)[i], 0);
}

/* Every proper prefix of every accepted vector is "truncated", read from
 * a buffer of exactly that size (ASan catches overreads). */
static void test_truncated_prefixes(void **state)
{
	struct x86_insn insn;
	const char *err;
	unsigned n = 0;

	(void)state;
	for (size_t i = 0; i < DECODE_VECTOR_COUNT; i++) {
		const struct decode_vector *v = &decode_vectors[i];

		for (unsigned len = 0; len < v->len; len++) {
			err = decode_exact(v->bytes, len, v->mode, &insn);
			if (!err || strcmp(err, "truncated") != 0)
				print_error("%s (%s) cut to %u bytes: %s\n", v->name,
					    mode_names[v->mode], len,
					    err ? err : "accepted");
			assert_non_null(err);
			assert_string_equal(err, "truncated");
			assert_int_equal(insn.length, 0);
			n++;
		}
	}
	assert_true(n > 300);
}

/* Prefixes up to the 15-byte limit: 13 + a 2-byte MOV fits, 14 do not, in
 * every mode; and a too-long instruction is "too long" whatever avail is
 * beyond 15, "truncated" when avail stops first. */
static void test_length_limit(void **state)
{
	uint8_t buf[32];
	struct x86_insn insn;

	(void)state;
	for (int mode = X86_MODE_16; mode <= X86_MODE_64; mode++) {
		for (unsigned npfx = 0; npfx <= 20; npfx++) {
			memset(buf, 0x67, npfx);
			buf[npfx] = 0x89;
			buf[npfx + 1] = 0x07;
			const char *err = decode_exact(buf, npfx + 2, mode, &insn);
			if (npfx <= 13) {
				assert_null(err);
				assert_int_equal(insn.length, npfx + 2);
			} else {
				assert_non_null(err);
				assert_string_equal(err, "instruction longer than 15 bytes");
			}
		}
		memset(buf, 0x3e, sizeof(buf));
		assert_string_equal(decode_exact(buf, 32, mode, &insn),
				    "instruction longer than 15 bytes");
		assert_string_equal(decode_exact(buf, 15, mode, &insn),
				    "instruction longer than 15 bytes");
		assert_string_equal(decode_exact(buf, 14, mode, &insn), "truncated");
	}
}

static void test_bad_mode(void **state)
{
	static const uint8_t b[] = { 0x89, 0x07 };
	struct x86_insn insn;

	(void)state;
	assert_string_equal(x86_decode(b, sizeof(b), (enum x86_mode)3, &insn),
			    "bad decoder mode");
}

/* Decodes v's bytes and computes the effective address of out->mem. */
static uint64_t ea_of(const uint8_t *bytes, size_t n, enum x86_mode mode,
		      const uint64_t gpr[16], uint64_t rip)
{
	struct x86_insn insn;

	assert_null(decode_exact(bytes, n, mode, &insn));
	return x86_mem_offset(&insn.mem, gpr, rip + insn.length);
}

static void test_mem_offset(void **state)
{
	uint64_t gpr[16];

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		gpr[i] = 0x1111111111111111ULL * i;

	/* mov [rcx*4+0x1000], r8d */
	static const uint8_t sib_nobase[] = { 0x44, 0x89, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00 };
	assert_int_equal(ea_of(sib_nobase, sizeof(sib_nobase), X86_MODE_64, gpr, 0),
			 gpr[1] * 4 + 0x1000);

	/* mov ecx, [rbp+rdx*8-0x12345678] */
	static const uint8_t full[] = { 0x8b, 0x8c, 0xd5, 0x88, 0xa9, 0xcb, 0xed };
	assert_int_equal(ea_of(full, sizeof(full), X86_MODE_64, gpr, 0),
			 gpr[5] + gpr[2] * 8 - 0x12345678);

	/* mov dword [rip+0x10], imm32: relative to the end, after the imm */
	static const uint8_t riprel[] = { 0xc7, 0x05, 0x10, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 };
	assert_int_equal(ea_of(riprel, sizeof(riprel), X86_MODE_64, gpr, 0xffffffff80001000ULL),
			 0xffffffff80001000ULL + 10 + 0x10);

	/* mov eax, [eip+0x10]: wraps at 4 GiB */
	static const uint8_t eiprel[] = { 0x67, 0x8b, 0x05, 0x10, 0, 0, 0 };
	assert_int_equal(ea_of(eiprel, sizeof(eiprel), X86_MODE_64, gpr, 0x1fffffff0ULL),
			 (0x1fffffff0ULL + 7 + 0x10) & 0xffffffff);

	/* mov [edi], eax in 64-bit code: the upper half of rdi does not count */
	static const uint8_t edi[] = { 0x67, 0x89, 0x07 };
	assert_int_equal(ea_of(edi, sizeof(edi), X86_MODE_64, gpr, 0), gpr[7] & 0xffffffff);

	/* 16-bit: [bx+si-1] wraps at 64 KiB; bp-2 with bp=1 too */
	gpr[3] = 0xffff;
	gpr[6] = 2;
	static const uint8_t bxsi[] = { 0x8b, 0x40, 0xff };
	assert_int_equal(ea_of(bxsi, sizeof(bxsi), X86_MODE_16, gpr, 0), 0);
	gpr[5] = 1;
	static const uint8_t bp[] = { 0x8b, 0x46, 0xfe };
	assert_int_equal(ea_of(bp, sizeof(bp), X86_MODE_16, gpr, 0), 0xffff);

	/* 32-bit: [0x80000000] is 0x80000000, not a negative address */
	static const uint8_t abs32[] = { 0x8b, 0x05, 0x00, 0x00, 0x00, 0x80 };
	assert_int_equal(ea_of(abs32, sizeof(abs32), X86_MODE_32, gpr, 0), 0x80000000ULL);

	/* moffs64 */
	static const uint8_t moffs[] = { 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0xf1 };
	assert_int_equal(ea_of(moffs, sizeof(moffs), X86_MODE_64, gpr, 0),
			 0xf122334455667788ULL);

	/* stosd with 67 in 64-bit code: [edi] */
	static const uint8_t stos[] = { 0x67, 0xab };
	gpr[7] = 0xdeadbeef00001234ULL;
	assert_int_equal(ea_of(stos, sizeof(stos), X86_MODE_64, gpr, 0), 0x1234);
}

/*
 * x86_decode's fast path (the common MOV forms, decode.c decode_fast) must
 * give exactly the general decoder's result: the same reason, or the same
 * bytes in *out.  Every ModRM (and, with rm=100, every SIB) of 88-8B and
 * C6/C7 and every moffs opcode, with no REX or any REX in 64-bit mode,
 * over two different fillers for the rest; then random 15-byte strings.
 */
static void check_fast_equals_general(const uint8_t *b, enum x86_mode mode)
{
	struct x86_insn fast, general;
	const char *e1, *e2;

	memset(&fast, 0x5a, sizeof(fast));
	memset(&general, 0xa5, sizeof(general));
	e1 = x86_decode(b, X86_MAX_INSN_LEN, mode, &fast);
	e2 = x86_decode_general(b, X86_MAX_INSN_LEN, mode, &general);
	if ((e1 == NULL) != (e2 == NULL) || (e1 && strcmp(e1, e2) != 0) ||
	    memcmp(&fast, &general, sizeof(fast)) != 0) {
		char hex[3 * X86_MAX_INSN_LEN + 1];
		for (unsigned i = 0; i < X86_MAX_INSN_LEN; i++)
			snprintf(hex + 3 * i, 4, "%02x ", b[i]);
		print_error("%s: bytes %s: x86_decode says %s (length %u), the general "
			    "decoder %s (length %u)\n", mode_names[mode], hex,
			    e1 ? e1 : "accepted", fast.length, e2 ? e2 : "accepted",
			    general.length);
		fail();
	}
}

static void test_fast_path_matches_general_decoder(void **state)
{
	static const uint8_t opcodes[] = { 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7,
					   0xa0, 0xa1, 0xa2, 0xa3 };
	static const uint8_t fillers[] = { 0x00, 0xff };
	uint8_t b[X86_MAX_INSN_LEN];
	unsigned checked = 0;

	(void)state;
	for (int mode = X86_MODE_16; mode <= X86_MODE_64; mode++) {
		for (int rex = -1; rex < 16; rex++) {
			if (rex >= 0 && mode != X86_MODE_64)
				break;
			for (size_t o = 0; o < sizeof(opcodes); o++) {
				for (unsigned modrm = 0; modrm < 256; modrm++) {
					unsigned sibs = (modrm & 7) == 4 && modrm < 0xc0 ? 256 : 1;
					if (opcodes[o] >= 0xa0 && modrm > 0)
						break; /* moffs: no ModRM */
					for (unsigned sib = 0; sib < sibs; sib++) {
						for (size_t f = 0; f < sizeof(fillers); f++) {
							unsigned pos = 0;
							memset(b, fillers[f], sizeof(b));
							if (rex >= 0)
								b[pos++] = (uint8_t)(0x40 | rex);
							b[pos++] = opcodes[o];
							if (opcodes[o] < 0xa0) {
								b[pos++] = (uint8_t)modrm;
								b[pos++] = (uint8_t)sib;
							}
							b[pos] = 0x80; /* a negative disp8 */
							check_fast_equals_general(b, mode);
							checked++;
						}
					}
				}
			}
		}
	}
	/* Random strings, half of them starting with a fast-path opcode. */
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (unsigned n = 0; n < 300000; n++) {
		for (unsigned i = 0; i < X86_MAX_INSN_LEN; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[i] = (uint8_t)(x >> 24);
		}
		if (n & 1)
			b[(x >> 40) & 1] = opcodes[(x >> 48) % sizeof(opcodes)];
		check_fast_equals_general(b, (enum x86_mode)(n % 3));
		checked++;
	}
	assert_true(checked > 1000000);
}

int main(void)
{
	size_t n = DECODE_VECTOR_COUNT + DECODE_REFUSAL_COUNT;
	struct CMUnitTest *tests = calloc(n + 6, sizeof(*tests));
	char (*names)[160] = calloc(n, sizeof(*names));
	size_t t = 0;
	int failed;

	if (!tests || !names)
		return 1;
	for (size_t i = 0; i < DECODE_VECTOR_COUNT; i++, t++) {
		snprintf(names[t], sizeof(names[t]), "%s: %s",
			 mode_names[decode_vectors[i].mode], decode_vectors[i].name);
		tests[t].name = names[t];
		tests[t].test_func = test_vector;
		tests[t].initial_state = (void *)&decode_vectors[i];
	}
	for (size_t i = 0; i < DECODE_REFUSAL_COUNT; i++, t++) {
		snprintf(names[t], sizeof(names[t]), "refuse %s: %s",
			 mode_names[decode_refusals[i].mode], decode_refusals[i].name);
		tests[t].name = names[t];
		tests[t].test_func = test_refusal;
		tests[t].initial_state = (void *)&decode_refusals[i];
	}
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_truncated_prefixes);
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_length_limit);
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_bad_mode);
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_mem_offset);
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_fast_path_matches_general_decoder);

	failed = _cmocka_run_group_tests("decode", tests, t, NULL, NULL);
	free(names);
	free(tests);
	return failed;
}
