/*
 * Multiboot2 boot information parser (Multiboot2 specification 2.0,
 * "Boot information format" and "Basic tags structure").
 *
 * Layout: u32 total_size, u32 reserved, then tags, each starting on an
 * 8-byte boundary with u32 type, u32 size (size excludes the padding), and
 * ended by a tag of type 0 and size 8.
 */
#include "multiboot2.h"

#include <stddef.h>

#define MB2_TAG_END        0
#define MB2_TAG_CMDLINE    1
#define MB2_TAG_MODULE     3
#define MB2_TAG_MMAP       6
#define MB2_TAG_ACPI_OLD   14
#define MB2_TAG_ACPI_NEW   15

struct mb2_tag {
	uint32_t type, size;
};

struct mb2_tag_module {
	uint32_t type, size;
	uint32_t mod_start, mod_end;
	char cmdline[];
};

struct mb2_tag_mmap {
	uint32_t type, size;
	uint32_t entry_size, entry_version;
	/* entries of entry_size bytes follow */
};

struct mb2_raw_mmap_entry {
	uint64_t base_addr, length;
	uint32_t type, reserved;
};

/* Size of the header before the RSDP copy in the ACPI tags. */
#define MB2_TAG_HEADER_SIZE 8
/* ACPI 1.0 RSDP is 20 bytes (ACPI spec "Root System Description Pointer"). */
#define ACPI_RSDP_V1_SIZE 20

const char *mb2_parse(uint64_t info_pa, struct mb2_boot *out)
{
	const uint8_t *info = (const uint8_t *)(uintptr_t)info_pa;
	uint32_t total;
	uint32_t off;
	int seen_end = 0, seen_mmap = 0;
	uint64_t rsdp_old = 0, rsdp_new = 0;

	*out = (struct mb2_boot){ 0 };
	out->cmdline = "";
	out->info_pa = info_pa;

	if (info_pa == 0 || (info_pa & 7) != 0)
		return "Multiboot2 information address is null or not 8-byte aligned";
	total = *(const uint32_t *)info;
	if (total < 16)
		return "Multiboot2 information is shorter than its minimum of 16 bytes";
	out->info_size = total;

	for (off = 8; off + sizeof(struct mb2_tag) <= total;
	     off += (((const struct mb2_tag *)(info + off))->size + 7) & ~7u) {
		const struct mb2_tag *tag = (const struct mb2_tag *)(info + off);

		if (tag->size < sizeof(struct mb2_tag) || tag->size > total - off)
			return "Multiboot2 information has a tag whose size runs outside it";

		switch (tag->type) {
		case MB2_TAG_END:
			seen_end = 1;
			break;
		case MB2_TAG_CMDLINE:
			if (tag->size > sizeof(*tag) && info[off + tag->size - 1] == '\0')
				out->cmdline = (const char *)(info + off + 8);
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_tag_module *m = (const struct mb2_tag_module *)tag;
			struct boot_module *bm;

			if (tag->size < sizeof(*m))
				return "Multiboot2 module tag is too short";
			if (m->mod_end < m->mod_start)
				return "Multiboot2 module ends before it starts";
			if (out->module_count >= BOOT_MAX_MODULES)
				return "more Multiboot2 modules than cvisor supports (BOOT_MAX_MODULES = 16)";
			bm = &out->modules[out->module_count++];
			bm->start = m->mod_start;
			bm->end = m->mod_end;
			bm->cmdline = "";
			if (tag->size > sizeof(*m) && info[off + tag->size - 1] == '\0')
				bm->cmdline = m->cmdline;
			break;
		}
		case MB2_TAG_MMAP: {
			const struct mb2_tag_mmap *mm = (const struct mb2_tag_mmap *)tag;
			uint32_t e;

			if (tag->size < sizeof(*mm) ||
			    mm->entry_size < sizeof(struct mb2_raw_mmap_entry))
				return "Multiboot2 memory map tag is malformed";
			seen_mmap = 1;
			for (e = sizeof(*mm); e + mm->entry_size <= tag->size;
			     e += mm->entry_size) {
				const struct mb2_raw_mmap_entry *r =
					(const struct mb2_raw_mmap_entry *)((const uint8_t *)mm + e);
				struct mb2_mmap_entry *d;

				if (out->mmap_count >= MB2_MAX_MMAP)
					return "Multiboot2 memory map has more entries than cvisor supports (128)";
				d = &out->mmap[out->mmap_count++];
				d->base = r->base_addr;
				d->length = r->length;
				d->type = r->type;
			}
			break;
		}
		case MB2_TAG_ACPI_OLD:
			if (tag->size >= MB2_TAG_HEADER_SIZE + ACPI_RSDP_V1_SIZE)
				rsdp_old = info_pa + off + MB2_TAG_HEADER_SIZE;
			break;
		case MB2_TAG_ACPI_NEW:
			if (tag->size >= MB2_TAG_HEADER_SIZE + ACPI_RSDP_V1_SIZE)
				rsdp_new = info_pa + off + MB2_TAG_HEADER_SIZE;
			break;
		default:
			break;	/* other tags are of no use to cvisor */
		}
		if (seen_end)
			break;
	}

	if (!seen_end)
		return "Multiboot2 information has no end tag";
	if (!seen_mmap)
		return "Multiboot2 information has no memory map (cvisor needs the memory map tag)";
	if (rsdp_new) {
		out->acpi_rsdp_pa = rsdp_new;
		out->acpi_rsdp_revision = 2;
	} else if (rsdp_old) {
		out->acpi_rsdp_pa = rsdp_old;
		out->acpi_rsdp_revision = 1;
	}
	return NULL;
}
