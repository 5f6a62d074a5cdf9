/*
 * Host unit tests of the ACPI walk to the MADT's processors
 * (platform/baremetal/acpi.c, pure logic).  The tables are built in a fake
 * physical memory.  Build and run on its own:
 *   gcc -std=c11 -Wall -Wextra -Werror -Icore -Iplatform/baremetal \
 *       tests/unit/platform/baremetal/test_acpi.c platform/baremetal/acpi.c -lcmocka -o /tmp/t && /tmp/t
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"

/* Fake physical memory: [FAKE_BASE, FAKE_BASE + FAKE_SIZE). */
#define FAKE_BASE 0x7FE0000ULL
#define FAKE_SIZE 0x10000ULL
static uint8_t fake_mem[FAKE_SIZE];
static unsigned map_calls;

/* Fake addresses of the tables. */
#define RSDP_PA  (FAKE_BASE + 0x0000)
#define RSDT_PA  (FAKE_BASE + 0x1000)
#define XSDT_PA  (FAKE_BASE + 0x2000)
#define FACP_PA  (FAKE_BASE + 0x3000)
#define MADT_PA  (FAKE_BASE + 0x4000)
#define MADT2_PA (FAKE_BASE + 0x5000)

static const void *fake_map(uint64_t pa, uint64_t len, void *ctx)
{
	(void)ctx;
	map_calls++;
	if (pa < FAKE_BASE || len > FAKE_SIZE || pa - FAKE_BASE > FAKE_SIZE - len)
		return NULL;
	return fake_mem + (pa - FAKE_BASE);
}

static uint8_t *at(uint64_t pa)
{
	return fake_mem + (pa - FAKE_BASE);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Sets p[where] so that the len bytes at p sum to zero. */
static void fix_checksum(uint8_t *p, size_t len, size_t where)
{
	uint8_t sum = 0;
	p[where] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	p[where] = (uint8_t)(0x100 - sum);
}

static void make_rsdp(uint8_t *p, unsigned revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(p, 0, ACPI_RSDP_V2_LENGTH);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "CVISOR", 6);
	p[15] = (uint8_t)revision;
	put32(p + 16, rsdt);
	if (revision >= 2) {
		put32(p + 20, ACPI_RSDP_V2_LENGTH);
		put64(p + 24, xsdt);
		fix_checksum(p, ACPI_RSDP_V2_LENGTH, 32);
	}
	fix_checksum(p, ACPI_RSDP_V1_LENGTH, 8);
	if (revision >= 2)
		fix_checksum(p, ACPI_RSDP_V2_LENGTH, 32);
}

/* A table header with signature sig and total length len; checksum fixed. */
static void make_sdt(uint8_t *p, const char *sig, uint32_t len)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = 1;
	memcpy(p + 10, "CVISOR", 6);
	fix_checksum(p, len, 9);
}

static void make_root(uint64_t pa, bool xsdt, const uint64_t *tables, unsigned n)
{
	uint8_t *p = at(pa);
	size_t esz = xsdt ? 8 : 4;
	uint32_t len = (uint32_t)(ACPI_SDT_HEADER_LENGTH + n * esz);

	memset(p, 0, len);
	for (unsigned i = 0; i < n; i++) {
		if (xsdt)
			put64(p + ACPI_SDT_HEADER_LENGTH + i * esz, tables[i]);
		else
			put32(p + ACPI_SDT_HEADER_LENGTH + i * esz, (uint32_t)tables[i]);
	}
	make_sdt(p, xsdt ? "XSDT" : "RSDT", len);
}

/* MADT builder: header, then entries appended with the helpers below. */
struct madt_builder {
	uint8_t *p;
	uint32_t len;
};

static struct madt_builder madt_begin(uint64_t pa, uint32_t lapic_pa, uint32_t flags)
{
	struct madt_builder b = { at(pa), 44 };
	memset(b.p, 0, 0x1000);
	put32(b.p + 36, lapic_pa);
	put32(b.p + 40, flags);
	return b;
}

static void madt_lapic(struct madt_builder *b, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t *e = b->p + b->len;
	e[0] = 0;
	e[1] = 8;
	e[2] = uid;
	e[3] = apic_id;
	put32(e + 4, flags);
	b->len += 8;
}

static void madt_x2apic(struct madt_builder *b, uint32_t x2apic_id, uint32_t flags, uint32_t uid)
{
	uint8_t *e = b->p + b->len;
	e[0] = 9;
	e[1] = 16;
	e[2] = e[3] = 0;
	put32(e + 4, x2apic_id);
	put32(e + 8, flags);
	put32(e + 12, uid);
	b->len += 16;
}

static void madt_ioapic(struct madt_builder *b)
{
	uint8_t *e = b->p + b->len;
	e[0] = 1;	/* I/O APIC: ignored by the parser */
	e[1] = 12;
	e[2] = 0;	/* I/O APIC ID */
	e[3] = 0;
	put32(e + 4, 0xFEC00000);
	put32(e + 8, 0);
	b->len += 12;
}

static void madt_override(struct madt_builder *b, uint64_t lapic_pa)
{
	uint8_t *e = b->p + b->len;
	e[0] = 5;
	e[1] = 12;
	e[2] = e[3] = 0;
	put64(e + 4, lapic_pa);
	b->len += 12;
}

static void madt_end(struct madt_builder *b)
{
	make_sdt(b->p, "APIC", b->len);
}

/* The usual machine: 4 CPUs with APIC IDs 0..3, one I/O APIC. */
static void make_standard_madt(uint64_t pa)
{
	struct madt_builder b = madt_begin(pa, 0xFEE00000, ACPI_MADT_PCAT_COMPAT);
	for (uint8_t i = 0; i < 4; i++)
		madt_lapic(&b, i, i, ACPI_LAPIC_ENABLED);
	madt_ioapic(&b);
	madt_end(&b);
}

static int reset(void **state)
{
	(void)state;
	memset(fake_mem, 0, sizeof(fake_mem));
	map_calls = 0;
	return 0;
}

/* ---- checksums and the RSDP ------------------------------------------- */

static void test_checksum(void **state)
{
	(void)state;
	uint8_t b[4] = { 1, 2, 3, 0xFA };
	assert_true(acpi_checksum_ok(b, 4));
	b[0] = 2;
	assert_false(acpi_checksum_ok(b, 4));
	assert_true(acpi_checksum_ok(b, 0));
}

static void test_rsdp_v1(void **state)
{
	(void)state;
	uint8_t r[ACPI_RSDP_V2_LENGTH];

	make_rsdp(r, 0, 0x1234, 0);
	assert_null(acpi_check_rsdp(r, ACPI_RSDP_V1_LENGTH));
	/* A v1 RSDP needs only 20 bytes. */
	assert_null(acpi_check_rsdp(r, 20));
	assert_non_null(acpi_check_rsdp(r, 19));

	r[16] ^= 1;	/* RsdtAddress changed: checksum now wrong */
	assert_string_equal(acpi_check_rsdp(r, 20), "the RSDP checksum is wrong");

	make_rsdp(r, 0, 0x1234, 0);
	r[0] = 'r';
	assert_string_equal(acpi_check_rsdp(r, 20), "the RSDP has no \"RSD PTR \" signature");
}

static void test_rsdp_v2(void **state)
{
	(void)state;
	uint8_t r[ACPI_RSDP_V2_LENGTH];

	make_rsdp(r, 2, 0x1234, 0x123456789ULL);
	assert_null(acpi_check_rsdp(r, sizeof(r)));
	/* v2 needs all 36 bytes */
	assert_non_null(acpi_check_rsdp(r, 20));

	/* The XSDT address is covered only by the extended checksum. */
	r[24] ^= 0x10;
	assert_true(acpi_checksum_ok(r, 20));
	assert_string_equal(acpi_check_rsdp(r, sizeof(r)),
			    "the ACPI 2.0 RSDP extended checksum is wrong");

	/* The v1 checksum still counts for a v2 RSDP. */
	make_rsdp(r, 2, 0x1234, 0x123456789ULL);
	r[8] ^= 1;
	assert_string_equal(acpi_check_rsdp(r, sizeof(r)), "the RSDP checksum is wrong");

	/* Length below 36 */
	make_rsdp(r, 2, 0x1234, 0);
	put32(r + 20, 20);
	fix_checksum(r, 20, 8);
	assert_string_equal(acpi_check_rsdp(r, sizeof(r)), "the ACPI 2.0 RSDP has a bad Length");
}

static void test_rsdp_scan(void **state)
{
	(void)state;
	uint8_t *area = at(FAKE_BASE);

	/* A broken candidate first, then the real one, both 16-byte aligned. */
	make_rsdp(area + 0x120, 0, 0x1000, 0);
	area[0x120 + 8] ^= 0xFF;
	make_rsdp(area + 0x340, 2, 0x1000, 0x2000);
	/* An unaligned one is never found. */
	make_rsdp(area + 0x108, 0, 0x1000, 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x1000, FAKE_BASE), FAKE_BASE + 0x340);
	/* Not found when the area ends before it. */
	assert_int_equal(acpi_scan_rsdp(area, 0x340, FAKE_BASE), 0);
	/* A v2 RSDP cut by the end of the area is refused. */
	assert_int_equal(acpi_scan_rsdp(area, 0x340 + 20, FAKE_BASE), 0);
	assert_int_equal(acpi_scan_rsdp(area, 0x340 + 36, FAKE_BASE), FAKE_BASE + 0x340);
	/* Scanning starts on the first 16-byte boundary of the area. */
	assert_int_equal(acpi_scan_rsdp(area + 0x338, 0x100, FAKE_BASE + 0x338), FAKE_BASE + 0x340);
}

/* ---- RSDT / XSDT walk -------------------------------------------------- */

static void test_rsdt_walk(void **state)
{
	(void)state;
	uint64_t tables[] = { FACP_PA, MADT_PA };
	struct acpi_madt_info info;

	make_sdt(at(FACP_PA), "FACP", 116);
	make_standard_madt(MADT_PA);
	make_root(RSDT_PA, false, tables, 2);
	make_rsdp(at(RSDP_PA), 0, (uint32_t)RSDT_PA, 0);

	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));
	assert_int_equal(info.madt_pa, MADT_PA);
	assert_false(info.from_xsdt);
	assert_int_equal(info.cpu_count, 4);
	assert_int_equal(info.lapic_pa, 0xFEE00000);
	assert_int_equal(info.flags, ACPI_MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(info.cpus[i].apic_id, i);
		assert_int_equal(info.cpus[i].uid, i);
		assert_false(info.cpus[i].x2apic_entry);
	}

	uint64_t pa;
	assert_null(acpi_find_table(fake_map, NULL, RSDP_PA, "FACP", &pa, NULL));
	assert_int_equal(pa, FACP_PA);
	assert_string_equal(acpi_find_table(fake_map, NULL, RSDP_PA, "HPET", &pa, NULL),
			    "the table is not listed");
}

static void test_xsdt_preferred(void **state)
{
	(void)state;
	/* The RSDT lists an MADT with 4 CPUs, the XSDT one with 2: a
	 * revision-2 RSDP means the XSDT wins. */
	uint64_t rsdt_tables[] = { MADT_PA };
	uint64_t xsdt_tables[] = { FACP_PA, MADT2_PA };
	struct acpi_madt_info info;

	make_standard_madt(MADT_PA);
	struct madt_builder b = madt_begin(MADT2_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	madt_lapic(&b, 1, 1, ACPI_LAPIC_ENABLED);
	madt_end(&b);
	make_sdt(at(FACP_PA), "FACP", 276);
	make_root(RSDT_PA, false, rsdt_tables, 1);
	make_root(XSDT_PA, true, xsdt_tables, 2);
	make_rsdp(at(RSDP_PA), 2, (uint32_t)RSDT_PA, XSDT_PA);

	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));
	assert_true(info.from_xsdt);
	assert_int_equal(info.madt_pa, MADT2_PA);
	assert_int_equal(info.cpu_count, 2);

	/* The same RSDP as revision 0 only knows the RSDT. */
	make_rsdp(at(RSDP_PA), 0, (uint32_t)RSDT_PA, 0);
	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));
	assert_false(info.from_xsdt);
	assert_int_equal(info.cpu_count, 4);

	/* Revision 2 with XsdtAddress 0: the RSDT. */
	make_rsdp(at(RSDP_PA), 2, (uint32_t)RSDT_PA, 0);
	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));
	assert_false(info.from_xsdt);
	assert_int_equal(info.cpu_count, 4);
}

static void test_bad_xsdt_falls_back_to_rsdt(void **state)
{
	(void)state;
	uint64_t tables[] = { MADT_PA };
	struct acpi_madt_info info;

	make_standard_madt(MADT_PA);
	make_root(RSDT_PA, false, tables, 1);
	make_root(XSDT_PA, true, tables, 1);
	at(XSDT_PA)[40] ^= 1;	/* the XSDT's checksum is now wrong */
	make_rsdp(at(RSDP_PA), 2, (uint32_t)RSDT_PA, XSDT_PA);

	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));
	assert_false(info.from_xsdt);
	assert_int_equal(info.cpu_count, 4);

	/* Without an RSDT, the XSDT's problem is the answer. */
	make_rsdp(at(RSDP_PA), 2, 0, XSDT_PA);
	assert_string_equal(acpi_read_madt(fake_map, NULL, RSDP_PA, &info),
			    "the XSDT checksum is wrong");
	assert_int_equal(info.cpu_count, 0);
}

/* ---- bad checksums and bad tables refused ------------------------------ */

static void test_bad_checksums_refused(void **state)
{
	(void)state;
	uint64_t tables[] = { MADT_PA };
	struct acpi_madt_info info;

	make_standard_madt(MADT_PA);
	make_root(RSDT_PA, false, tables, 1);
	make_rsdp(at(RSDP_PA), 0, (uint32_t)RSDT_PA, 0);
	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));

	/* RSDP */
	at(RSDP_PA)[10] ^= 1;
	assert_string_equal(acpi_read_madt(fake_map, NULL, RSDP_PA, &info),
			    "the RSDP checksum is wrong");
	at(RSDP_PA)[10] ^= 1;

	/* RSDT */
	at(RSDT_PA)[20] ^= 1;
	assert_string_equal(acpi_read_madt(fake_map, NULL, RSDP_PA, &info),
			    "the RSDT checksum is wrong");
	at(RSDT_PA)[20] ^= 1;

	/* MADT: one flipped CPU flag */
	at(MADT_PA)[44 + 4] ^= ACPI_LAPIC_ENABLED;
	assert_string_equal(acpi_read_madt(fake_map, NULL, RSDP_PA, &info),
			    "the table is listed but its checksum is wrong");
	assert_int_equal(info.cpu_count, 0);
	assert_string_equal(acpi_parse_madt(at(MADT_PA), 44 + 4 * 8 + 12, &info),
			    "the MADT checksum is wrong");
	at(MADT_PA)[44 + 4] ^= ACPI_LAPIC_ENABLED;
	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));
}

static void test_bad_pointers_refused(void **state)
{
	(void)state;
	uint64_t tables[] = { 0x10, MADT_PA };
	struct acpi_madt_info info;

	/* An RSDT entry outside reachable memory is skipped. */
	make_standard_madt(MADT_PA);
	make_root(RSDT_PA, false, tables, 2);
	make_rsdp(at(RSDP_PA), 0, (uint32_t)RSDT_PA, 0);
	assert_null(acpi_read_madt(fake_map, NULL, RSDP_PA, &info));
	assert_int_equal(info.cpu_count, 4);

	/* The RSDT itself outside memory. */
	make_rsdp(at(RSDP_PA), 0, 0x1000, 0);
	assert_string_equal(acpi_read_madt(fake_map, NULL, RSDP_PA, &info),
			    "the RSDT is missing or malformed");

	/* An RSDT address that points at the MADT (wrong signature). */
	make_rsdp(at(RSDP_PA), 0, (uint32_t)MADT_PA, 0);
	assert_string_equal(acpi_read_madt(fake_map, NULL, RSDP_PA, &info),
			    "the RSDT is missing or malformed");

	/* An RSDP that is not there. */
	assert_string_equal(acpi_read_madt(fake_map, NULL, 0x10, &info),
			    "the RSDP lies outside reachable memory");
	assert_string_equal(acpi_read_madt(fake_map, NULL, FACP_PA, &info),
			    "the RSDP has no \"RSD PTR \" signature");

	/* A table whose Length is absurd is not mapped. */
	make_rsdp(at(RSDP_PA), 0, (uint32_t)RSDT_PA, 0);
	put32(at(MADT_PA) + 4, 0x7FFFFFFF);
	assert_string_equal(acpi_read_madt(fake_map, NULL, RSDP_PA, &info),
			    "the table is not listed");
}

/* ---- MADT entries ------------------------------------------------------ */

static void test_madt_lapic_flags(void **state)
{
	(void)state;
	struct acpi_madt_info info;
	struct madt_builder b = madt_begin(MADT_PA, 0xFEE00000, 0);

	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	madt_lapic(&b, 1, 2, 0);				/* disabled */
	madt_lapic(&b, 2, 4, ACPI_LAPIC_ONLINE_CAPABLE);	/* hot-pluggable */
	madt_ioapic(&b);
	madt_lapic(&b, 3, 6, ACPI_LAPIC_ENABLED);
	madt_lapic(&b, 4, 6, ACPI_LAPIC_ENABLED);		/* duplicate ID */
	madt_lapic(&b, 5, 0xFF, ACPI_LAPIC_ENABLED);		/* invalid xAPIC ID */
	madt_lapic(&b, 6, 0xFF, 0);				/* unused slot: fine */
	madt_end(&b);

	assert_null(acpi_parse_madt(b.p, b.len, &info));
	assert_int_equal(info.cpu_count, 2);
	assert_int_equal(info.cpus[0].apic_id, 0);
	assert_int_equal(info.cpus[1].apic_id, 6);
	assert_int_equal(info.cpus[1].uid, 3);
	assert_int_equal(info.disabled, 2);
	assert_int_equal(info.online_capable, 1);
	assert_int_equal(info.duplicates, 1);
	assert_int_equal(info.invalid_ids, 1);
	assert_int_equal(info.over_limit, 0);
}

static void test_madt_x2apic(void **state)
{
	(void)state;
	struct acpi_madt_info info;
	struct madt_builder b = madt_begin(MADT_PA, 0xFEE00000, 0);

	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	madt_x2apic(&b, 0x100, ACPI_LAPIC_ENABLED, 300);
	madt_x2apic(&b, 0x101, ACPI_LAPIC_ONLINE_CAPABLE, 301);
	madt_x2apic(&b, 0x102, 0, 302);
	madt_x2apic(&b, 0xFFFFFFFF, ACPI_LAPIC_ENABLED, 303);
	madt_x2apic(&b, 0, ACPI_LAPIC_ENABLED, 0);	/* the same CPU again */
	madt_end(&b);

	assert_null(acpi_parse_madt(b.p, b.len, &info));
	assert_int_equal(info.cpu_count, 2);
	assert_false(info.cpus[0].x2apic_entry);
	assert_int_equal(info.cpus[1].apic_id, 0x100);
	assert_int_equal(info.cpus[1].uid, 300);
	assert_true(info.cpus[1].x2apic_entry);
	assert_int_equal(info.online_capable, 1);
	assert_int_equal(info.disabled, 1);
	assert_int_equal(info.invalid_ids, 1);
	assert_int_equal(info.duplicates, 1);
}

static void test_madt_lapic_override(void **state)
{
	(void)state;
	struct acpi_madt_info info;
	struct madt_builder b = madt_begin(MADT_PA, 0xFEE00000, 0);

	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	madt_override(&b, 0x1FEE00000ULL);
	madt_end(&b);
	assert_null(acpi_parse_madt(b.p, b.len, &info));
	assert_int_equal(info.lapic_pa, 0x1FEE00000ULL);
}

static void test_madt_too_many_cpus(void **state)
{
	(void)state;
	struct acpi_madt_info info;
	struct madt_builder b = madt_begin(MADT_PA, 0xFEE00000, 0);

	for (unsigned i = 0; i < ACPI_MAX_CPUS + 3; i++)
		madt_x2apic(&b, i, ACPI_LAPIC_ENABLED, i);
	madt_end(&b);
	assert_null(acpi_parse_madt(b.p, b.len, &info));
	assert_int_equal(info.cpu_count, ACPI_MAX_CPUS);
	assert_int_equal(info.over_limit, 3);
	assert_int_equal(info.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
}

static void test_madt_malformed(void **state)
{
	(void)state;
	struct acpi_madt_info info;
	struct madt_builder b;

	/* An entry running past the end of the table. */
	b = madt_begin(MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	b.p[b.len - 8 + 1] = 9;
	madt_end(&b);
	assert_string_equal(acpi_parse_madt(b.p, b.len, &info), "an MADT entry has a bad length");

	/* A zero-length entry would loop forever. */
	b = madt_begin(MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	b.p[b.len - 8 + 1] = 0;
	madt_end(&b);
	assert_string_equal(acpi_parse_madt(b.p, b.len, &info), "an MADT entry has a bad length");

	/* A type-0 entry too short to hold its flags. */
	b = madt_begin(MADT_PA, 0xFEE00000, 0);
	b.p[44] = 0;
	b.p[45] = 4;
	b.len += 4;
	madt_end(&b);
	assert_string_equal(acpi_parse_madt(b.p, b.len, &info),
			    "an MADT Processor Local APIC entry is too short");

	/* A lone trailing byte. */
	b = madt_begin(MADT_PA, 0xFEE00000, 0);
	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	b.len += 1;
	madt_end(&b);
	assert_string_equal(acpi_parse_madt(b.p, b.len, &info), "the MADT's last entry is cut short");

	/* Too short for the fixed part; Length that disagrees; signature. */
	b = madt_begin(MADT_PA, 0xFEE00000, 0);
	madt_end(&b);
	assert_null(acpi_parse_madt(b.p, b.len, &info));
	assert_int_equal(info.cpu_count, 0);
	assert_string_equal(acpi_parse_madt(b.p, 40, &info), "the MADT is too short");
	assert_string_equal(acpi_parse_madt(b.p, 48, &info), "the MADT's Length does not match");
	memcpy(b.p, "APIX", 4);
	assert_string_equal(acpi_parse_madt(b.p, b.len, &info), "the MADT has the wrong signature");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_checksum, reset),
		cmocka_unit_test_setup(test_rsdp_v1, reset),
		cmocka_unit_test_setup(test_rsdp_v2, reset),
		cmocka_unit_test_setup(test_rsdp_scan, reset),
		cmocka_unit_test_setup(test_rsdt_walk, reset),
		cmocka_unit_test_setup(test_xsdt_preferred, reset),
		cmocka_unit_test_setup(test_bad_xsdt_falls_back_to_rsdt, reset),
		cmocka_unit_test_setup(test_bad_checksums_refused, reset),
		cmocka_unit_test_setup(test_bad_pointers_refused, reset),
		cmocka_unit_test_setup(test_madt_lapic_flags, reset),
		cmocka_unit_test_setup(test_madt_x2apic, reset),
		cmocka_unit_test_setup(test_madt_lapic_override, reset),
		cmocka_unit_test_setup(test_madt_too_many_cpus, reset),
		cmocka_unit_test_setup(test_madt_malformed, reset),
	};
	return cmocka_run_group_tests_name("madt", tests, NULL, NULL);
}
