/*
 * ACPI table walk to the MADT's processors (see acpi.h).  Every field is
 * read byte by byte: ACPI tables are packed, and XSDT entries are 8-byte
 * values at 4-byte-aligned offsets.
 */
#include "acpi.h"

/* RSDP offsets (ACPI 6.5 table 5.3 "RSDP Structure"). */
#define RSDP_CHECKSUM      8
#define RSDP_REVISION      15
#define RSDP_RSDT_ADDRESS  16
#define RSDP_LENGTH        20
#define RSDP_XSDT_ADDRESS  24

/* System description table header (ACPI 6.5 table 5.4). */
#define SDT_LENGTH 4

/* MADT layout (ACPI 6.5 table 5.19) and entry types (table 5.21). */
#define MADT_LAPIC_ADDRESS 36
#define MADT_FLAGS         40
#define MADT_ENTRIES       44
#define MADT_TYPE_LAPIC          0
#define MADT_TYPE_LAPIC_OVERRIDE 5
#define MADT_TYPE_X2APIC         9
#define MADT_LAPIC_LENGTH          8	/* table 5.22 */
#define MADT_LAPIC_OVERRIDE_LENGTH 12	/* table 5.28 */
#define MADT_X2APIC_LENGTH         16	/* table 5.37 */

/* No sane table is this big; a larger Length is garbage. */
#define SDT_MAX_LENGTH (1u << 20)

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static bool same_bytes(const uint8_t *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != (uint8_t)b[i])
			return false;
	return true;
}

bool acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

const char *acpi_check_rsdp(const void *rsdp, size_t avail)
{
	const uint8_t *r = rsdp;

	if (avail < ACPI_RSDP_V1_LENGTH)
		return "the RSDP is cut short";
	if (!same_bytes(r, "RSD PTR ", 8))
		return "the RSDP has no \"RSD PTR \" signature";
	if (!acpi_checksum_ok(r, ACPI_RSDP_V1_LENGTH))
		return "the RSDP checksum is wrong";
	if (r[RSDP_REVISION] < 2)
		return NULL;
	if (avail < ACPI_RSDP_V2_LENGTH)
		return "the ACPI 2.0 RSDP is cut short";
	uint32_t length = get32(r + RSDP_LENGTH);
	if (length < ACPI_RSDP_V2_LENGTH || length > avail)
		return "the ACPI 2.0 RSDP has a bad Length";
	if (!acpi_checksum_ok(r, length))
		return "the ACPI 2.0 RSDP extended checksum is wrong";
	return NULL;
}

uint64_t acpi_scan_rsdp(const void *area, size_t len, uint64_t area_pa)
{
	const uint8_t *a = area;
	size_t first = (size_t)((16 - (area_pa & 15)) & 15);

	for (size_t off = first; off + ACPI_RSDP_V1_LENGTH <= len; off += 16)
		if (acpi_check_rsdp(a + off, len - off) == NULL)
			return area_pa + off;
	return 0;
}

/* Maps a whole table at pa whose signature must be sig (NULL: any). */
static const char *map_table(acpi_map_fn map, void *ctx, uint64_t pa, const char *sig,
			     const uint8_t **table, uint32_t *length)
{
	const uint8_t *h = map(pa, ACPI_SDT_HEADER_LENGTH, ctx);

	if (!h)
		return "a table lies outside reachable memory";
	if (sig && !same_bytes(h, sig, 4))
		return "a table has the wrong signature";
	uint32_t len = get32(h + SDT_LENGTH);
	if (len < ACPI_SDT_HEADER_LENGTH || len > SDT_MAX_LENGTH)
		return "a table has a bad Length";
	h = map(pa, len, ctx);
	if (!h)
		return "a table lies outside reachable memory";
	*table = h;
	*length = len;
	return NULL;
}

/* Looks through one RSDT (entry_size 4) or XSDT (8) for signature. */
static const char *search_root(acpi_map_fn map, void *ctx, uint64_t root_pa, bool xsdt,
			       const char signature[4], uint64_t *table_pa)
{
	const uint8_t *root;
	uint32_t root_len;
	const char *err = map_table(map, ctx, root_pa, xsdt ? "XSDT" : "RSDT", &root, &root_len);

	if (err)
		return xsdt ? "the XSDT is missing or malformed" : "the RSDT is missing or malformed";
	if (!acpi_checksum_ok(root, root_len))
		return xsdt ? "the XSDT checksum is wrong" : "the RSDT checksum is wrong";

	size_t entry_size = xsdt ? 8 : 4;
	bool bad_match = false;
	for (size_t off = ACPI_SDT_HEADER_LENGTH; off + entry_size <= root_len; off += entry_size) {
		uint64_t pa = xsdt ? get64(root + off) : get32(root + off);
		const uint8_t *t;
		uint32_t len;

		if (pa == 0 || map_table(map, ctx, pa, signature, &t, &len) != NULL)
			continue;	/* unreachable, or another table */
		if (!acpi_checksum_ok(t, len)) {
			bad_match = true;	/* keep looking: a later copy may be good */
			continue;
		}
		*table_pa = pa;
		return NULL;
	}
	return bad_match ? "the table is listed but its checksum is wrong" : "the table is not listed";
}

const char *acpi_find_table(acpi_map_fn map, void *ctx, uint64_t rsdp_pa,
			    const char signature[4], uint64_t *table_pa, bool *from_xsdt)
{
	const uint8_t *r = map(rsdp_pa, ACPI_RSDP_V1_LENGTH, ctx);
	const char *err;

	if (!r)
		return "the RSDP lies outside reachable memory";
	if ((err = acpi_check_rsdp(r, ACPI_RSDP_V1_LENGTH)) != NULL &&
	    r[RSDP_REVISION] < 2)
		return err;
	if (r[RSDP_REVISION] >= 2) {
		uint32_t len = get32(r + RSDP_LENGTH);
		if (len < ACPI_RSDP_V2_LENGTH || len > SDT_MAX_LENGTH)
			return "the ACPI 2.0 RSDP has a bad Length";
		r = map(rsdp_pa, len, ctx);
		if (!r)
			return "the RSDP lies outside reachable memory";
		if ((err = acpi_check_rsdp(r, len)) != NULL)
			return err;
	}

	uint64_t xsdt = r[RSDP_REVISION] >= 2 ? get64(r + RSDP_XSDT_ADDRESS) : 0;
	uint64_t rsdt = get32(r + RSDP_RSDT_ADDRESS);
	const char *xsdt_err = NULL;

	if (xsdt) {
		xsdt_err = search_root(map, ctx, xsdt, true, signature, table_pa);
		if (!xsdt_err) {
			if (from_xsdt)
				*from_xsdt = true;
			return NULL;
		}
	}
	if (rsdt) {
		err = search_root(map, ctx, rsdt, false, signature, table_pa);
		if (!err) {
			if (from_xsdt)
				*from_xsdt = false;
			return NULL;
		}
		/* The XSDT's reason is the better one when both are present. */
		return xsdt_err ? xsdt_err : err;
	}
	return xsdt_err ? xsdt_err : "the RSDP lists neither an RSDT nor an XSDT";
}

static void add_cpu(struct acpi_madt_info *out, uint32_t apic_id, uint32_t uid,
		    uint32_t flags, bool x2apic)
{
	if (!(flags & ACPI_LAPIC_ENABLED)) {
		if (flags & ACPI_LAPIC_ONLINE_CAPABLE)
			out->online_capable++;
		else
			out->disabled++;
		return;
	}
	for (unsigned i = 0; i < out->cpu_count; i++) {
		if (out->cpus[i].apic_id == apic_id) {
			out->duplicates++;
			return;
		}
	}
	if (out->cpu_count >= ACPI_MAX_CPUS) {
		out->over_limit++;
		return;
	}
	out->cpus[out->cpu_count++] = (struct acpi_cpu){
		.apic_id = apic_id, .uid = uid, .x2apic_entry = x2apic,
	};
}

const char *acpi_parse_madt(const void *madt, size_t len, struct acpi_madt_info *out)
{
	const uint8_t *m = madt;

	*out = (struct acpi_madt_info){ 0 };
	if (len < MADT_ENTRIES)
		return "the MADT is too short";
	if (!same_bytes(m, "APIC", 4))
		return "the MADT has the wrong signature";
	if (get32(m + SDT_LENGTH) != len)
		return "the MADT's Length does not match";
	if (!acpi_checksum_ok(m, len))
		return "the MADT checksum is wrong";
	out->lapic_pa = get32(m + MADT_LAPIC_ADDRESS);
	out->flags = get32(m + MADT_FLAGS);

	for (size_t off = MADT_ENTRIES; off < len;) {
		if (off + 2 > len)
			return "the MADT's last entry is cut short";
		uint8_t type = m[off], elen = m[off + 1];
		const uint8_t *e = m + off;

		if (elen < 2 || off + elen > len)
			return "an MADT entry has a bad length";
		switch (type) {
		case MADT_TYPE_LAPIC:
			if (elen < MADT_LAPIC_LENGTH)
				return "an MADT Processor Local APIC entry is too short";
			/* APIC ID 0xFF cannot be an xAPIC ID: such a
			 * processor needs a type-9 entry. */
			if (e[3] == 0xFF && (get32(e + 4) & ACPI_LAPIC_ENABLED))
				out->invalid_ids++;
			else
				add_cpu(out, e[3], e[2], get32(e + 4), false);
			break;
		case MADT_TYPE_LAPIC_OVERRIDE:
			if (elen < MADT_LAPIC_OVERRIDE_LENGTH)
				return "an MADT Local APIC Address Override entry is too short";
			out->lapic_pa = get64(e + 4);
			break;
		case MADT_TYPE_X2APIC:
			if (elen < MADT_X2APIC_LENGTH)
				return "an MADT Processor Local x2APIC entry is too short";
			if (get32(e + 4) == 0xFFFFFFFFu && (get32(e + 8) & ACPI_LAPIC_ENABLED))
				out->invalid_ids++;
			else
				add_cpu(out, get32(e + 4), get32(e + 12), get32(e + 8), true);
			break;
		default:
			break;	/* I/O APICs, overrides, NMI sources: not needed */
		}
		off += elen;
	}
	return NULL;
}

const char *acpi_read_madt(acpi_map_fn map, void *ctx, uint64_t rsdp_pa,
			   struct acpi_madt_info *out)
{
	uint64_t pa;
	bool from_xsdt = false;
	const char *err = acpi_find_table(map, ctx, rsdp_pa, "APIC", &pa, &from_xsdt);
	const uint8_t *t;
	uint32_t len;

	*out = (struct acpi_madt_info){ 0 };
	if (err)
		return err;
	if ((err = map_table(map, ctx, pa, "APIC", &t, &len)) != NULL)
		return err;
	if ((err = acpi_parse_madt(t, len, out)) != NULL)
		return err;
	out->madt_pa = pa;
	out->from_xsdt = from_xsdt;
	return NULL;
}
