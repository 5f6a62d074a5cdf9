/*
 * Tests of core/dev/acpi_tables.c: the ACPI tables a VM built by vm_build
 * holds in its RAM, read back as an OS finds them (ACPI 6.3 chapter 5):
 * the RSDP by the standard scan, every checksum, the RSDT and XSDT, the
 * MADT for 1, 2 and 8 vCPUs (also through the bare-metal platform's own
 * MADT parser), the FADT's fields, the FACS, the DSDT's \_S5, and ACPICA's
 * disassembler (iasl -d) reading every table without an error or warning.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acpi.h" /* platform/baremetal: the host's own MADT walker */
#include "dev/acpi_pm.h"
#include "dev/acpi_tables.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "mm/guest_memory.h"
#include "vm/builder.h"
#include "vm/vm.h"

static struct vm vm;

static void build_vm(unsigned vcpus)
{
	fake_platform_reset();
	fake_cpu_reset();
	const struct vm_config config = {
		.id = 0, .name = "acpi", .ram_size = 2ULL << 20, .vcpu_count = vcpus,
	};
	const char *err = vm_build(&vm, &config);
	if (err)
		fail_msg("vm_build: %s\n%s", err, fake_console_text());
}

static int setup_one_vcpu(void **state)
{
	(void)state;
	build_vm(1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

static uint8_t rd8(uint64_t gpa)
{
	uint8_t v;
	assert_true(guest_read(&vm, gpa, &v, 1));
	return v;
}

static uint16_t rd16(uint64_t gpa)
{
	return (uint16_t)(rd8(gpa) | rd8(gpa + 1) << 8);
}

static uint32_t rd32(uint64_t gpa)
{
	return rd16(gpa) | (uint32_t)rd16(gpa + 2) << 16;
}

static uint64_t rd64(uint64_t gpa)
{
	return rd32(gpa) | (uint64_t)rd32(gpa + 4) << 32;
}

/* A copy of len bytes of guest RAM (freed by the caller). */
static uint8_t *copy_out(uint64_t gpa, size_t len)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	assert_true(guest_read(&vm, gpa, p, len));
	return p;
}

static bool sums_to_zero(uint64_t gpa, size_t len)
{
	uint8_t *p = copy_out(gpa, len);
	bool ok = acpi_byte_sum(p, len) == 0;
	free(p);
	return ok;
}

/* The OS's scan (5.2.5.1): the first KiB of the EBDA, then the BIOS area,
 * on 16-byte boundaries, for "RSD PTR " with a valid checksum. */
static uint64_t scan_for_rsdp(uint64_t from, uint64_t to)
{
	for (uint64_t a = from; a + 20 <= to; a += 16) {
		uint8_t sig[8];
		assert_true(guest_read(&vm, a, sig, 8));
		if (!memcmp(sig, "RSD PTR ", 8) && sums_to_zero(a, 20))
			return a;
	}
	return 0;
}

static uint64_t find_rsdp(void)
{
	uint64_t ebda = (uint64_t)rd16(0x40E) << 4;
	uint64_t at = ebda ? scan_for_rsdp(ebda, ebda + 1024) : 0;
	return at ? at : scan_for_rsdp(0xE0000, 0x100000);
}

/* The table the XSDT lists with this signature (0 when none). */
static uint64_t xsdt_table(const char *sig)
{
	uint64_t xsdt = rd64(find_rsdp() + 24);
	uint32_t len = rd32(xsdt + 4);
	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		uint64_t t = rd64(xsdt + off);
		char s[4];
		assert_true(guest_read(&vm, t, s, 4));
		if (!memcmp(s, sig, 4))
			return t;
	}
	return 0;
}

/* ---- where the tables are ---- */

static void test_ebda_pointer_names_an_empty_ebda_below_640k(void **state)
{
	(void)state;
	assert_int_equal(rd16(ACPI_BDA_EBDA_SEGMENT), ACPI_EBDA_GPA >> 4);
	assert_int_equal(ACPI_EBDA_GPA, 0x9FC00);
	assert_int_equal(scan_for_rsdp(ACPI_EBDA_GPA, ACPI_EBDA_GPA + 1024), 0);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(rd8(ACPI_EBDA_GPA + i), 0);
}

static void test_rsdp_is_found_by_the_standard_scan(void **state)
{
	(void)state;
	assert_int_equal(find_rsdp(), ACPI_RSDP_GPA);
	assert_int_equal(ACPI_RSDP_GPA % 16, 0);
	/* The bare-metal platform's scanner finds it too. */
	uint8_t *area = copy_out(0xE0000, 0x20000);
	assert_int_equal(acpi_scan_rsdp(area, 0x20000, 0xE0000), ACPI_RSDP_GPA);
	assert_null(acpi_check_rsdp(area + (ACPI_RSDP_GPA - 0xE0000), 36));
	free(area);
}

static void test_rsdp_revision_2_with_both_checksums(void **state)
{
	(void)state;
	uint64_t r = find_rsdp();
	assert_int_equal(rd8(r + 15), 2);            /* revision */
	assert_int_equal(rd32(r + 20), 36);          /* length */
	assert_true(sums_to_zero(r, 20));            /* ACPI 1.0 checksum */
	assert_true(sums_to_zero(r, 36));            /* extended checksum */
	assert_int_not_equal(rd32(r + 16), 0);       /* RSDT */
	assert_int_not_equal(rd64(r + 24), 0);       /* XSDT */
	char oem[7] = { 0 };
	assert_true(guest_read(&vm, r + 9, oem, 6));
	assert_string_equal(oem, "CVISOR");
	for (unsigned i = 33; i < 36; i++)           /* reserved */
		assert_int_equal(rd8(r + i), 0);
}

static void test_every_table_has_a_good_checksum_and_header(void **state)
{
	(void)state;
	uint64_t r = find_rsdp();
	uint64_t rsdt = rd32(r + 16), xsdt = rd64(r + 24);
	uint64_t fadt = xsdt_table("FACP"), madt = xsdt_table("APIC");
	uint64_t dsdt = rd64(fadt + 140);
	const struct {
		uint64_t at;
		const char *sig;
		uint8_t revision;
	} tables[] = {
		{ rsdt, "RSDT", 1 }, { xsdt, "XSDT", 1 }, { fadt, "FACP", 6 },
		{ madt, "APIC", 5 }, { dsdt, "DSDT", 2 },
	};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sig[5] = { 0 };
		assert_int_not_equal(tables[i].at, 0);
		assert_true(guest_read(&vm, tables[i].at, sig, 4));
		assert_string_equal(sig, tables[i].sig);
		uint32_t len = rd32(tables[i].at + 4);
		assert_true(len >= 36);
		assert_true(tables[i].at + len <= ACPI_TABLES_END);
		assert_int_equal(rd8(tables[i].at + 8), tables[i].revision);
		if (!sums_to_zero(tables[i].at, len))
			fail_msg("the %s checksum is wrong", tables[i].sig);
		assert_int_equal(tables[i].at % 16, 0);
	}
	assert_int_equal(rd32(fadt + 4), ACPI_FADT_LENGTH);
	assert_int_equal(rd32(dsdt + 4), acpi_dsdt_aml_size);
}

static void test_rsdt_and_xsdt_list_the_fadt_and_the_madt(void **state)
{
	(void)state;
	uint64_t r = find_rsdp();
	uint64_t rsdt = rd32(r + 16), xsdt = rd64(r + 24);
	assert_int_equal(rd32(rsdt + 4), 36 + 2 * 4);
	assert_int_equal(rd32(xsdt + 4), 36 + 2 * 8);
	assert_int_equal(rd32(rsdt + 36), rd64(xsdt + 36));
	assert_int_equal(rd32(rsdt + 40), rd64(xsdt + 44));
	assert_int_equal(rd64(xsdt + 36), xsdt_table("FACP"));
	assert_int_equal(rd64(xsdt + 44), xsdt_table("APIC"));
}

static void test_facs_is_64_byte_aligned_with_version_2(void **state)
{
	(void)state;
	uint64_t fadt = xsdt_table("FACP");
	uint64_t facs = rd32(fadt + 36);
	char sig[5] = { 0 };
	assert_int_equal(facs % 64, 0);
	assert_true(guest_read(&vm, facs, sig, 4));
	assert_string_equal(sig, "FACS");
	assert_int_equal(rd32(facs + 4), 64);
	assert_int_equal(rd32(facs + 12), 0); /* no waking vector */
	assert_int_equal(rd32(facs + 16), 0); /* global lock free */
	assert_int_equal(rd8(facs + 32), 2);  /* version */
}

/* ---- FADT ---- */

static void check_io_gas(uint64_t gas, unsigned bit_width, unsigned access, uint32_t port)
{
	assert_int_equal(rd8(gas), 1); /* system I/O */
	assert_int_equal(rd8(gas + 1), bit_width);
	assert_int_equal(rd8(gas + 2), 0);
	assert_int_equal(rd8(gas + 3), access);
	assert_int_equal(rd64(gas + 4), port);
}

static void test_fadt_names_the_pm_blocks_of_the_device(void **state)
{
	(void)state;
	uint64_t f = xsdt_table("FACP");
	assert_int_equal(rd32(f + 56), ACPI_PM1A_EVT_BLK);
	assert_int_equal(rd32(f + 60), 0); /* no PM1b */
	assert_int_equal(rd32(f + 64), ACPI_PM1A_CNT_BLK);
	assert_int_equal(rd32(f + 68), 0);
	assert_int_equal(rd32(f + 72), 0); /* no PM2 */
	assert_int_equal(rd32(f + 76), ACPI_PM_TMR_BLK);
	assert_int_equal(rd32(f + 80), 0); /* no GPE blocks */
	assert_int_equal(rd32(f + 84), 0);
	assert_int_equal(rd8(f + 88), 4);
	assert_int_equal(rd8(f + 89), 2);
	assert_int_equal(rd8(f + 90), 0);
	assert_int_equal(rd8(f + 91), 4);
	check_io_gas(f + 148, 32, 2, ACPI_PM1A_EVT_BLK);
	check_io_gas(f + 172, 16, 2, ACPI_PM1A_CNT_BLK);
	check_io_gas(f + 208, 32, 3, ACPI_PM_TMR_BLK);
	assert_int_equal(ACPI_PM1A_EVT_BLK, 0x600);
	assert_int_equal(ACPI_PM1A_CNT_BLK, 0x604);
	assert_int_equal(ACPI_PM_TMR_BLK, 0x608);
}

static void test_fadt_sci_mode_reset_register_and_flags(void **state)
{
	(void)state;
	uint64_t f = xsdt_table("FACP");
	assert_int_equal(rd16(f + 46), 9);      /* SCI_INT */
	assert_int_equal(rd32(f + 48), 0);      /* SMI_CMD: always ACPI mode */
	assert_int_equal(rd8(f + 52), 0);       /* ACPI_ENABLE */
	assert_int_equal(rd8(f + 53), 0);       /* ACPI_DISABLE */
	assert_int_equal(rd8(f + 108), 0x32);   /* CENTURY: the RTC's century byte */
	uint16_t boot = rd16(f + 109);
	assert_int_equal(boot & 3, 3);          /* LEGACY_DEVICES, 8042 */
	uint32_t flags = rd32(f + 112);
	assert_int_equal(flags & (1u << 8), 0); /* TMR_VAL_EXT: 24 bits */
	assert_true(flags & (1u << 10));        /* RESET_REG_SUP */
	assert_true(flags & (1u << 0));         /* WBINVD */
	assert_int_equal(flags & (1u << 20), 0); /* not hardware-reduced */
	check_io_gas(f + 116, 8, 1, 0xCF9);
	assert_int_equal(rd8(f + 128), 0x06);   /* RESET_VALUE */
	assert_int_equal(rd8(f + 131), 3);      /* minor version: 6.3 */
}

static void test_fadt_points_at_the_facs_and_the_dsdt(void **state)
{
	(void)state;
	uint64_t f = xsdt_table("FACP");
	/* Only one of FIRMWARE_CTRL and X_FIRMWARE_CTRL may be non-zero. */
	assert_int_not_equal(rd32(f + 36), 0);
	assert_int_equal(rd64(f + 132), 0);
	assert_int_not_equal(rd32(f + 40), 0);
	assert_int_equal(rd64(f + 140), rd32(f + 40));
	uint8_t *dsdt = copy_out(rd64(f + 140), acpi_dsdt_aml_size);
	assert_memory_equal(dsdt, acpi_dsdt_aml, acpi_dsdt_aml_size);
	free(dsdt);
}

/* acpi_tables_layout says where acpi_tables_write put each table (the
 * Linux loader's e820 map is made from it), for 1 and 8 vCPUs. */
static void assert_layout_matches_the_tables(unsigned vcpus)
{
	struct acpi_layout l;
	acpi_tables_layout(vcpus, &l);
	uint64_t r = find_rsdp(), f = xsdt_table("FACP"), dsdt = rd64(f + 140);
	assert_int_equal(l.rsdp, r);
	assert_int_equal(l.facs, rd32(f + 36));
	assert_int_equal(l.rsdt, rd32(r + 16));
	assert_int_equal(l.xsdt, rd64(r + 24));
	assert_int_equal(l.fadt, f);
	assert_int_equal(l.madt, xsdt_table("APIC"));
	assert_int_equal(l.dsdt, dsdt);
	assert_int_equal(l.end, dsdt + rd32(dsdt + 4));
	/* The order the e820 map relies on: RSDP and FACS, then the rest. */
	assert_true(l.rsdp < l.facs && l.facs + ACPI_FACS_LENGTH <= l.rsdt);
	assert_true(l.rsdt < l.xsdt && l.xsdt < l.fadt && l.fadt < l.madt && l.madt < l.dsdt);
	assert_true(l.end <= ACPI_TABLES_END);
}

static void test_layout_says_where_each_table_is(void **state)
{
	(void)state;
	assert_layout_matches_the_tables(1);
	vm_destroy(&vm);
	build_vm(8);
	assert_layout_matches_the_tables(8);
}

/* ---- MADT ---- */

struct madt_seen {
	unsigned lapics, ioapics, overrides, nmis, bad;
	uint8_t apic_ids[16];
	uint32_t ioapic_addr, ioapic_gsi_base;
	uint8_t ioapic_id;
	uint32_t irq0_gsi, irq9_gsi;
	uint16_t irq0_flags, irq9_flags;
	uint8_t nmi_uid, nmi_lint;
	uint16_t nmi_flags;
};

static void walk_madt(struct madt_seen *s)
{
	uint64_t m = xsdt_table("APIC");
	uint32_t len = rd32(m + 4);
	memset(s, 0, sizeof(*s));
	s->irq0_gsi = s->irq9_gsi = 0xFFFFFFFF;
	assert_int_equal(rd32(m + 36), 0xFEE00000);
	assert_int_equal(rd32(m + 40), 1); /* PCAT_COMPAT */
	for (uint32_t off = 44; off < len;) {
		uint8_t type = rd8(m + off), elen = rd8(m + off + 1);
		assert_true(elen >= 2 && off + elen <= len);
		uint64_t e = m + off;
		switch (type) {
		case 0:
			assert_int_equal(elen, 8);
			assert_int_equal(rd8(e + 2), rd8(e + 3)); /* UID = APIC ID */
			assert_int_equal(rd32(e + 4), 1);         /* enabled */
			if (s->lapics < 16)
				s->apic_ids[s->lapics] = rd8(e + 3);
			s->lapics++;
			break;
		case 1:
			assert_int_equal(elen, 12);
			s->ioapics++;
			s->ioapic_id = rd8(e + 2);
			s->ioapic_addr = rd32(e + 4);
			s->ioapic_gsi_base = rd32(e + 8);
			break;
		case 2:
			assert_int_equal(elen, 10);
			assert_int_equal(rd8(e + 2), 0); /* ISA */
			s->overrides++;
			if (rd8(e + 3) == 0) {
				s->irq0_gsi = rd32(e + 4);
				s->irq0_flags = rd16(e + 8);
			} else if (rd8(e + 3) == 9) {
				s->irq9_gsi = rd32(e + 4);
				s->irq9_flags = rd16(e + 8);
			}
			break;
		case 4:
			assert_int_equal(elen, 6);
			s->nmis++;
			s->nmi_uid = rd8(e + 2);
			s->nmi_flags = rd16(e + 3);
			s->nmi_lint = rd8(e + 5);
			break;
		default:
			s->bad++;
			break;
		}
		off += elen;
	}
}

static void check_madt_for(unsigned vcpus)
{
	struct madt_seen s;
	walk_madt(&s);
	assert_int_equal(s.lapics, vcpus);
	for (unsigned i = 0; i < vcpus; i++)
		assert_int_equal(s.apic_ids[i], i);
	assert_int_equal(s.ioapics, 1);
	assert_int_equal(s.ioapic_id, 0);
	assert_int_equal(s.ioapic_addr, 0xFEC00000);
	assert_int_equal(s.ioapic_gsi_base, 0);
	assert_int_equal(s.overrides, 2);
	assert_int_equal(s.irq0_gsi, 2);
	assert_int_equal(s.irq0_flags, 0);      /* conforming: ISA edge, high */
	assert_int_equal(s.irq9_gsi, 9);
	assert_int_equal(s.irq9_flags, 0x000D); /* level, active high */
	assert_int_equal(s.nmis, 1);
	assert_int_equal(s.nmi_uid, 0xFF);      /* every processor */
	assert_int_equal(s.nmi_lint, 1);
	assert_int_equal(s.nmi_flags, 0);
	assert_int_equal(s.bad, 0);

	/* The bare-metal platform's MADT walker agrees. */
	uint8_t *area = copy_out(0, 0x100000);
	struct acpi_madt_info info;
	assert_null(acpi_parse_madt(area + xsdt_table("APIC"), rd32(xsdt_table("APIC") + 4), &info));
	assert_int_equal(info.cpu_count, vcpus);
	assert_int_equal(info.lapic_pa, 0xFEE00000);
	assert_int_equal(info.flags & ACPI_MADT_PCAT_COMPAT, ACPI_MADT_PCAT_COMPAT);
	assert_int_equal(info.duplicates + info.disabled + info.invalid_ids, 0);
	free(area);
}

static void test_madt_one_vcpu(void **state)
{
	(void)state;
	check_madt_for(1);
}

static void test_madt_lists_every_vcpu(void **state)
{
	(void)state;
	static const unsigned counts[] = { 2, 3, VM_MAX_VCPUS };
	vm_destroy(&vm);
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		build_vm(counts[i]);
		check_madt_for(counts[i]);
		uint64_t m = xsdt_table("APIC");
		assert_true(sums_to_zero(m, rd32(m + 4)));
		/* The DSDT follows the MADT and still fits. */
		uint64_t dsdt = rd64(xsdt_table("FACP") + 140);
		assert_true(dsdt >= m + rd32(m + 4));
		assert_true(dsdt + acpi_dsdt_aml_size <= ACPI_TABLES_END);
		if (i + 1 < sizeof(counts) / sizeof(counts[0]))
			vm_destroy(&vm);
	}
}

static void test_a_vcpu_count_out_of_range_writes_nothing(void **state)
{
	(void)state;
	unsigned saved = vm.vcpu_count;
	vm.vcpu_count = 0;
	assert_false(acpi_tables_write(&vm));
	vm.vcpu_count = VM_MAX_VCPUS + 1;
	assert_false(acpi_tables_write(&vm));
	assert_console_contains("the ACPI tables do not fit");
	vm.vcpu_count = saved;
	assert_true(acpi_tables_write(&vm));
}

/* ---- DSDT ---- */

/* The value of the first element of the package named name (a 4-character
 * NameSeg right after a NameOp): AML 20.2.3 data objects ZeroOp, OneOp,
 * BytePrefix. */
static int dsdt_package_first_byte(const char *name)
{
	const uint8_t *aml = acpi_dsdt_aml;
	for (size_t i = 36; i + 10 < acpi_dsdt_aml_size; i++) {
		if (aml[i] != 0x08 /* NameOp */)
			continue;
		size_t at = i + 1;
		if (aml[at] == '\\')
			at++;
		if (memcmp(aml + at, name, 4) != 0)
			continue;
		at += 4;
		assert_int_equal(aml[at], 0x12); /* PackageOp */
		at++;
		at += 1 + (aml[at] >> 6);        /* PkgLength */
		at++;                            /* NumElements */
		if (aml[at] == 0x00)
			return 0;                /* ZeroOp */
		if (aml[at] == 0x01)
			return 1;                /* OneOp */
		assert_int_equal(aml[at], 0x0A); /* BytePrefix */
		return aml[at + 1];
	}
	fail_msg("no package %s in the DSDT", name);
	return -1;
}

static void test_dsdt_s5_matches_what_pm1_cnt_decodes(void **state)
{
	(void)state;
	assert_memory_equal(acpi_dsdt_aml, "DSDT", 4);
	assert_int_equal(acpi_byte_sum(acpi_dsdt_aml, acpi_dsdt_aml_size), 0);
	assert_int_equal(dsdt_package_first_byte("_S5_"), ACPI_SLP_TYP_S5);
	assert_int_equal(dsdt_package_first_byte("_S0_"), ACPI_SLP_TYP_S0);
}

/* ---- ACPICA reads every table ---- */

/* Runs cmd in dir; returns its exit status, its output (stdout and stderr) in out. */
static int run_in(const char *dir, const char *cmd, char *out, size_t out_size)
{
	char line[1024];
	snprintf(line, sizeof(line), "cd '%s' && %s 2>&1", dir, cmd);
	FILE *p = popen(line, "r");
	size_t n = 0;
	assert_non_null(p);
	while (n + 1 < out_size) {
		size_t got = fread(out + n, 1, out_size - 1 - n, p);
		if (!got)
			break;
		n += got;
	}
	out[n] = '\0';
	return pclose(p);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The whole file (NUL-terminated, freed by the caller); *len its size. */
static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* Runs iasl with args in dir: it must succeed without one error or warning
 * (-we makes warnings errors; the only line allowed to name them is the
 * summary that counts 0 of each). */
static void iasl_must_be_clean(const char *dir, const char *args)
{
	static char out[65536];
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "iasl -vs -we %s", args);
	int status = run_in(dir, cmd, out, sizeof(out));
	if (status != 0)
		fail_msg("iasl %s failed (status %d; is acpica-tools installed?):\n%s", args, status, out);
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if ((strstr(line, "rror") || strstr(line, "arning")) &&
		    !strstr(line, " 0 Errors, 0 Warnings"))
			fail_msg("iasl %s says: %s", args, line);
}

/* Bytes equal but the checksum (9) and the compiler ID and revision
 * (28-35), which iasl's compiler fills with its own. */
static void same_table_bytes(const char *name, const uint8_t *a, size_t a_len, const uint8_t *b,
			     size_t b_len)
{
	if (a_len != b_len)
		fail_msg("%s: iasl rebuilt %zu bytes from the disassembly, the table has %zu", name,
			 b_len, a_len);
	for (size_t i = 0; i < a_len; i++)
		if (a[i] != b[i] && i != 9 && !(i >= 28 && i < 36))
			fail_msg("%s: byte %zu is 0x%02x, iasl rebuilt it as 0x%02x", name, i, a[i], b[i]);
}

/*
 * One table: iasl -d disassembles it cleanly, the disassembly has no
 * complaint in it (iasl -d notes "Incorrect checksum", "Invalid ...", a
 * table that "terminates in the middle of a data structure" with "****"),
 * and compiling the disassembly back (iasl checks every field against the
 * specification's layout) gives the same table.
 */
static void check_table_with_iasl(const char *dir, const char *name, uint64_t gpa, size_t len)
{
	char file[64], args[160];
	size_t n;
	uint8_t *table = copy_out(gpa, len);

	snprintf(file, sizeof(file), "%s.dat", name);
	write_file(dir, file, table, len);
	iasl_must_be_clean(dir, file);
	snprintf(file, sizeof(file), "%s.dsl", name);
	char *dsl = read_file(dir, file, &n);
	if (!dsl)
		fail_msg("iasl -d %s.dat wrote no %s.dsl", name, name);
	static const char *complaints[] = { "Incorrect", "Invalid", "****", "Error", "Warning" };
	for (size_t i = 0; i < sizeof(complaints) / sizeof(complaints[0]); i++)
		if (strstr(dsl, complaints[i]))
			fail_msg("the disassembly of %s says \"%s\":\n%s", name, complaints[i], dsl);
	free(dsl);
	snprintf(args, sizeof(args), "-p rebuilt_%s %s.dsl", name, name);
	iasl_must_be_clean(dir, args);
	snprintf(file, sizeof(file), "rebuilt_%s.aml", name);
	uint8_t *rebuilt = (uint8_t *)read_file(dir, file, &n);
	if (!rebuilt)
		fail_msg("iasl wrote no %s", file);
	same_table_bytes(name, table, len, rebuilt, n);
	free(rebuilt);
	free(table);
}

static void test_iasl_disassembles_every_table_cleanly(void **state)
{
	(void)state;
	char dir[] = "/tmp/cvisor-acpi-XXXXXX";
	char cmd[128], out[256];
	assert_non_null(mkdtemp(dir));
	uint64_t r = find_rsdp();
	uint64_t rsdt = rd32(r + 16), xsdt = rd64(r + 24);
	uint64_t fadt = xsdt_table("FACP"), madt = xsdt_table("APIC");
	uint64_t facs = rd32(fadt + 36), dsdt = rd64(fadt + 140);
	check_table_with_iasl(dir, "rsdt", rsdt, rd32(rsdt + 4));
	check_table_with_iasl(dir, "xsdt", xsdt, rd32(xsdt + 4));
	check_table_with_iasl(dir, "facp", fadt, rd32(fadt + 4));
	check_table_with_iasl(dir, "apic", madt, rd32(madt + 4));
	check_table_with_iasl(dir, "facs", facs, rd32(facs + 4));
	check_table_with_iasl(dir, "dsdt", dsdt, rd32(dsdt + 4));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(run_in("/tmp", cmd, out, sizeof(out)), 0);
}

/*
 * The RSDP has no table header, so iasl -d cannot read it from a file;
 * iasl's data-table compiler builds one from its fields instead, with its
 * own checksums, and the result must be byte for byte the VM's.
 */
static void test_iasl_builds_the_same_rsdp(void **state)
{
	(void)state;
	char dir[] = "/tmp/cvisor-rsdp-XXXXXX";
	char src[1024], oem[7] = { 0 }, cmd[128], out[256];
	size_t n;
	assert_non_null(mkdtemp(dir));
	uint64_t r = find_rsdp();
	assert_true(guest_read(&vm, r + 9, oem, 6));
	snprintf(src, sizeof(src),
		 "[0008] Signature : \"RSD PTR \"\n"
		 "[0001] Checksum : 00\n"
		 "[0006] Oem ID : \"%s\"\n"
		 "[0001] Revision : %02X\n"
		 "[0004] RSDT Address : %08X\n"
		 "[0004] Length : %08X\n"
		 "[0008] XSDT Address : %016llX\n"
		 "[0001] Extended Checksum : 00\n"
		 "[0003] Reserved : 000000\n",
		 oem, rd8(r + 15), rd32(r + 16), rd32(r + 20), (unsigned long long)rd64(r + 24));
	write_file(dir, "rsdp.asl", src, strlen(src));
	iasl_must_be_clean(dir, "rsdp.asl");
	uint8_t *built = (uint8_t *)read_file(dir, "rsdp.aml", &n);
	assert_non_null(built);
	uint8_t *ours = copy_out(r, 36);
	assert_int_equal(n, 36);
	assert_memory_equal(built, ours, 36);
	free(ours);
	free(built);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(run_in("/tmp", cmd, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup_one_vcpu, teardown)
		T(test_ebda_pointer_names_an_empty_ebda_below_640k),
		T(test_rsdp_is_found_by_the_standard_scan),
		T(test_rsdp_revision_2_with_both_checksums),
		T(test_every_table_has_a_good_checksum_and_header),
		T(test_rsdt_and_xsdt_list_the_fadt_and_the_madt),
		T(test_facs_is_64_byte_aligned_with_version_2),
		T(test_fadt_names_the_pm_blocks_of_the_device),
		T(test_fadt_sci_mode_reset_register_and_flags),
		T(test_fadt_points_at_the_facs_and_the_dsdt),
		T(test_layout_says_where_each_table_is),
		T(test_madt_one_vcpu),
		T(test_madt_lists_every_vcpu),
		T(test_a_vcpu_count_out_of_range_writes_nothing),
		T(test_dsdt_s5_matches_what_pm1_cnt_decodes),
		T(test_iasl_disassembles_every_table_cleanly),
		T(test_iasl_builds_the_same_rsdp),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
