/*
 * Finding the processors in the ACPI tables: the RSDP, the RSDT or XSDT,
 * and the MADT's local APIC entries (ACPI 6.5 specification, 5.2.5 "Root
 * System Description Pointer", 5.2.7 "RSDT", 5.2.8 "XSDT", 5.2.12
 * "Multiple APIC Description Table").
 *
 * Pure logic: no asm, no I/O, no global state, no library calls.  Table
 * memory is reached through a caller-supplied map function, so host unit
 * tests (tests/unit/platform/baremetal/test_acpi.c) can hand it fake physical memory.
 */
#ifndef CVISOR_BAREMETAL_ACPI_H
#define CVISOR_BAREMETAL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most processors cvisor takes from the MADT; more are counted, not kept. */
#define ACPI_MAX_CPUS 64

#define ACPI_RSDP_V1_LENGTH 20	/* ACPI 1.0 RSDP (revision 0) */
#define ACPI_RSDP_V2_LENGTH 36	/* ACPI 2.0+ RSDP (revision >= 2) */
#define ACPI_SDT_HEADER_LENGTH 36

/* Where the legacy BIOS may keep the RSDP (ACPI 6.5 5.2.5.1). */
#define ACPI_BDA_EBDA_SEGMENT_PA 0x40E	/* 16-bit real-mode segment of the EBDA */
#define ACPI_EBDA_SCAN_LENGTH    1024	/* the first 1 KiB of the EBDA */
#define ACPI_BIOS_AREA_START     0xE0000
#define ACPI_BIOS_AREA_END       0x100000

/* MADT flags (the dword after the local interrupt controller address). */
#define ACPI_MADT_PCAT_COMPAT (1u << 0)

/* Local APIC / x2APIC entry flags (ACPI 6.5 table 5.23 "Local APIC Flags"). */
#define ACPI_LAPIC_ENABLED        (1u << 0)
#define ACPI_LAPIC_ONLINE_CAPABLE (1u << 1)

struct acpi_cpu {
	uint32_t apic_id;	/* local APIC ID (8 bits) or x2APIC ID (32 bits) */
	uint32_t uid;		/* ACPI processor UID */
	bool x2apic_entry;	/* from a Processor Local x2APIC entry (type 9) */
};

struct acpi_madt_info {
	uint64_t madt_pa;	/* where the MADT was found (acpi_read_madt) */
	bool from_xsdt;		/* found through the XSDT, not the RSDT */
	uint64_t lapic_pa;	/* local APIC base: the header's, or a type-5 override */
	uint32_t flags;		/* ACPI_MADT_PCAT_COMPAT */
	/* Enabled processors, in MADT order, at most ACPI_MAX_CPUS. */
	unsigned cpu_count;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	/* Not in cpus[]: */
	unsigned online_capable;	/* not enabled, but could be hot-added later */
	unsigned disabled;		/* neither enabled nor online capable */
	unsigned duplicates;		/* an APIC ID that was already listed */
	unsigned invalid_ids;		/* APIC ID 0xFF in a type-0 entry, ~0 in type 9 */
	unsigned over_limit;		/* enabled beyond ACPI_MAX_CPUS */
};

/*
 * Returns a readable pointer to physical [pa, pa + len), or NULL when that
 * range cannot be read (outside the memory the caller can reach).
 */
typedef const void *(*acpi_map_fn)(uint64_t pa, uint64_t len, void *ctx);

/* The 8-bit sum of len bytes is zero (every ACPI checksum works this way). */
bool acpi_checksum_ok(const void *p, size_t len);

/*
 * Checks an RSDP of which avail bytes are readable: signature "RSD PTR ",
 * the ACPI 1.0 checksum over the first 20 bytes, and for revision >= 2 a
 * sane Length and the extended checksum over Length bytes.  Returns NULL
 * when valid, else the reason.
 */
const char *acpi_check_rsdp(const void *rsdp, size_t avail);

/*
 * Scans [area, area + len) on 16-byte boundaries for a valid RSDP; area is
 * at physical address area_pa.  Returns the RSDP's physical address, or 0.
 */
uint64_t acpi_scan_rsdp(const void *area, size_t len, uint64_t area_pa);

/*
 * Finds the first table with this 4-character signature through the RSDP
 * at rsdp_pa: the XSDT when the RSDP is revision 2+ with a non-zero
 * XsdtAddress, else (or when the XSDT is bad) the RSDT.  The table's
 * signature, length and checksum are checked.  Returns NULL and sets
 * *table_pa (and *from_xsdt if not NULL), else the reason.
 */
const char *acpi_find_table(acpi_map_fn map, void *ctx, uint64_t rsdp_pa,
			    const char signature[4], uint64_t *table_pa, bool *from_xsdt);

/*
 * Parses a whole MADT (header included, len bytes, checksum already
 * checked or not: it is checked again here).  Returns NULL on success.
 */
const char *acpi_parse_madt(const void *madt, size_t len, struct acpi_madt_info *out);

/* acpi_find_table("APIC") then acpi_parse_madt. */
const char *acpi_read_madt(acpi_map_fn map, void *ctx, uint64_t rsdp_pa,
			   struct acpi_madt_info *out);

#endif
