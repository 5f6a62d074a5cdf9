/*
 * Reading the Multiboot2 boot information that GRUB leaves in memory
 * (Multiboot2 specification 2.0, "Boot information format").
 * Pure logic on an identity-mapped structure: no asm, no I/O.
 */
#ifndef CVISOR_BAREMETAL_MULTIBOOT2_H
#define CVISOR_BAREMETAL_MULTIBOOT2_H

#include <stdint.h>

#include "boot.h"

/* EAX at entry when a Multiboot2 loader started us. */
#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Memory-map entry types ("Memory map" tag). */
#define MB2_MEMORY_AVAILABLE        1
#define MB2_MEMORY_RESERVED         2
#define MB2_MEMORY_ACPI_RECLAIMABLE 3
#define MB2_MEMORY_NVS              4
#define MB2_MEMORY_BADRAM           5

#define MB2_MAX_MMAP 128

struct mb2_mmap_entry {
	uint64_t base, length;
	uint32_t type;
};

/* What cvisor takes from the boot information. */
struct mb2_boot {
	uint64_t info_pa;	/* the structure itself: [info_pa, info_pa + info_size) */
	uint32_t info_size;
	const char *cmdline;	/* "" when there is no command-line tag */
	unsigned mmap_count;
	struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
	unsigned module_count;
	struct boot_module modules[BOOT_MAX_MODULES];
	uint64_t acpi_rsdp_pa;	/* RSDP copy in the info; 0 if no ACPI tag */
	unsigned acpi_rsdp_revision;	/* 1 = "ACPI old RSDP" tag, 2 = "new" */
};

/*
 * Parses the boot information at physical (== virtual) address info_pa.
 * Returns NULL on success, else a sentence saying what is wrong (malformed
 * structure, no memory map, more than BOOT_MAX_MODULES modules, ...).
 */
const char *mb2_parse(uint64_t info_pa, struct mb2_boot *out);

#endif
