#include "loader/multiboot.h"

#include "lib/endian.h"
#include "lib/mem.h"
#include "loader/boot_gdt.h"
#include "mm/guest_memory.h"

/* Multiboot spec 3.1.1: the header is 32-bit aligned within the first 8 KiB
 * and magic + flags + checksum == 0 (mod 2^32). */
static const uint8_t *find_multiboot_header(const uint8_t *image, size_t size)
{
	size_t limit = size < MULTIBOOT_SEARCH_BYTES ? size : MULTIBOOT_SEARCH_BYTES;

	for (size_t off = 0; off + 12 <= limit; off += 4) {
		const uint8_t *h = image + off;
		if (le32_read(h) == MULTIBOOT_HEADER_MAGIC &&
		    (uint32_t)(le32_read(h) + le32_read(h + 4) + le32_read(h + 8)) == 0)
			return h;
	}
	return NULL;
}

/* Copies file bytes to guest RAM and zeroes the rest of the segment. */
static const char *load_segment(struct vm *vm, const uint8_t *image, size_t size,
				uint64_t offset, uint64_t filesz, uint64_t paddr,
				uint64_t memsz, uint64_t *image_end)
{
	if (filesz > memsz)
		return "a segment's file size exceeds its memory size";
	if (offset > size || filesz > size - offset)
		return "a segment lies outside the image file";
	if (paddr >= vm->ram_size || memsz > vm->ram_size - paddr)
		return "a segment lies outside guest RAM";
	if (paddr < MULTIBOOT_AREA_END && paddr + memsz > MULTIBOOT_LOW_RAM_END)
		return "a segment overlaps the Multiboot information area at 0x9f000";
	if (!guest_write(vm, paddr, image + offset, filesz) ||
	    !guest_zero(vm, paddr + filesz, memsz - filesz))
		return "a segment could not be written to guest RAM";
	if (paddr + memsz > *image_end)
		*image_end = paddr + memsz;
	return NULL;
}

/* ELF: System V gABI; ELF32 and ELF64 little-endian x86 executables. */
static const char *load_elf(struct vm *vm, const uint8_t *image, size_t size,
			    uint32_t *entry, uint64_t *image_end)
{
	bool is64 = image[4] == 2;
	size_t ehdr_size = is64 ? 64 : 52;

	if (image[4] != 1 && image[4] != 2)
		return "unknown ELF class";
	if (size < ehdr_size)
		return "the ELF header is truncated";
	if (image[5] != 1)
		return "not a little-endian ELF file";
	uint16_t type = le16_read(image + 16), machine = le16_read(image + 18);
	if (type != 2)
		return "not an ELF executable (e_type is not ET_EXEC)";
	if (machine != (is64 ? 62 : 3))
		return "not an x86 ELF file";

	uint64_t e_entry = is64 ? le64_read(image + 24) : le32_read(image + 24);
	uint64_t phoff = is64 ? le64_read(image + 32) : le32_read(image + 28);
	uint16_t phentsize = le16_read(image + (is64 ? 54 : 42));
	uint16_t phnum = le16_read(image + (is64 ? 56 : 44));
	size_t min_phent = is64 ? 56 : 32;

	if (phnum == 0)
		return "the ELF file has no program headers";
	if (phentsize < min_phent || phoff > size ||
	    (uint64_t)phnum * phentsize > size - phoff)
		return "the ELF program headers lie outside the image file";
	if (e_entry >= vm->ram_size)
		return "the entry point lies outside guest RAM";

	unsigned loaded = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = image + phoff + (size_t)i * phentsize;
		if (le32_read(ph) != 1 /* PT_LOAD */)
			continue;
		const char *err;
		if (is64)
			err = load_segment(vm, image, size, le64_read(ph + 8), le64_read(ph + 32),
					   le64_read(ph + 24), le64_read(ph + 40), image_end);
		else
			err = load_segment(vm, image, size, le32_read(ph + 4), le32_read(ph + 16),
					   le32_read(ph + 12), le32_read(ph + 20), image_end);
		if (err)
			return err;
		loaded++;
	}
	if (!loaded)
		return "the ELF file has no loadable segment";
	*entry = (uint32_t)e_entry;
	return NULL;
}

/* Multiboot spec 3.1.3: header flag 16 gives the load addresses directly. */
static const char *load_aout_kludge(struct vm *vm, const uint8_t *image, size_t size,
				    const uint8_t *header, uint32_t *entry, uint64_t *image_end)
{
	uint64_t header_offset = (uint64_t)(header - image);
	if (size - header_offset < 32)
		return "the Multiboot header is truncated";
	uint32_t header_addr = le32_read(header + 12), load_addr = le32_read(header + 16);
	uint32_t load_end = le32_read(header + 20), bss_end = le32_read(header + 24);
	uint32_t entry_addr = le32_read(header + 28);

	if (load_addr > header_addr || header_addr - load_addr > header_offset)
		return "the Multiboot a.out kludge addresses are inconsistent";
	uint64_t file_offset = header_offset - (header_addr - load_addr);
	uint64_t file_bytes = load_end ? (uint64_t)load_end - load_addr : size - file_offset;
	if (load_end && load_end < load_addr)
		return "the Multiboot load_end_addr is below load_addr";
	uint64_t mem_bytes = bss_end > load_addr ? (uint64_t)bss_end - load_addr : file_bytes;
	if (mem_bytes < file_bytes)
		mem_bytes = file_bytes;
	const char *err = load_segment(vm, image, size, file_offset, file_bytes, load_addr,
				       mem_bytes, image_end);
	if (err)
		return err;
	if (entry_addr >= vm->ram_size)
		return "the entry point lies outside guest RAM";
	*entry = entry_addr;
	return NULL;
}

/* Copies the modules page-aligned above image_end and writes their list. */
static const char *load_modules(struct vm *vm, const struct multiboot_module *modules,
				unsigned count, uint64_t image_end)
{
	/* Above the kernel, and never in the low 1 MiB with the information area. */
	uint64_t at = image_end > 0x100000 ? (image_end + 0xFFF) & ~0xFFFULL : 0x100000;

	if (count > MULTIBOOT_MAX_MODULES)
		return "more than 8 modules for one guest";
	for (unsigned i = 0; i < count; i++) {
		const struct multiboot_module *m = &modules[i];
		if (at >= vm->ram_size || m->size > vm->ram_size - at)
			return "the guest's modules do not fit in its RAM";
		if (!guest_write(vm, at, m->data, m->size))
			return "a module could not be written to guest RAM";
		uint32_t string_gpa = MULTIBOOT_MOD_STRINGS_GPA + i * MULTIBOOT_MOD_STRING_MAX;
		size_t len = strnlen(m->cmdline, MULTIBOOT_MOD_STRING_MAX - 1);
		uint32_t entry[4] = { (uint32_t)at, (uint32_t)(at + m->size), string_gpa, 0 };
		if (!guest_write(vm, string_gpa, m->cmdline, len) ||
		    !guest_write(vm, MULTIBOOT_MODS_GPA + i * 16, entry, sizeof(entry)))
			return "the module list could not be written to guest RAM";
		at = (at + m->size + 0xFFF) & ~0xFFFULL;
	}
	return NULL;
}

/* Multiboot spec 3.3: the boot information block. */
static const char *write_info(struct vm *vm, const char *cmdline, unsigned module_count,
			      uint32_t *info_gpa)
{
	uint8_t info[88];
	uint8_t mmap[3 * 24];

	memset(info, 0, sizeof(info));
	/* flags: mem_* (bit 0), cmdline (bit 2), mods (bit 3), mmap (bit 6) */
	uint32_t flags = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6);
	uint32_t mem_lower = MULTIBOOT_LOW_RAM_END / 1024;
	uint32_t mem_upper = (uint32_t)((vm->ram_size - 0x100000) / 1024);
	struct {
		uint64_t base, len;
		uint32_t type;
	} ranges[3] = {
		{ 0, MULTIBOOT_LOW_RAM_END, 1 },
		/* Reserved: this area, the EBDA at 0x9FC00 and the ACPI tables
		 * in 0xE0000-0xFFFFF (dev/acpi_tables.h). */
		{ MULTIBOOT_LOW_RAM_END, 0x100000 - MULTIBOOT_LOW_RAM_END, 2 },
		{ 0x100000, vm->ram_size - 0x100000, 1 },
	};
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *e = mmap + i * 24;
		uint32_t entry_size = 20; /* size field excludes itself */
		memcpy(e, &entry_size, 4);
		memcpy(e + 4, &ranges[i].base, 8);
		memcpy(e + 12, &ranges[i].len, 8);
		memcpy(e + 20, &ranges[i].type, 4);
	}
	uint32_t cmdline_gpa = MULTIBOOT_CMDLINE_GPA;
	uint32_t mods_count = module_count, mods_addr = MULTIBOOT_MODS_GPA;
	uint32_t mmap_length = sizeof(mmap), mmap_addr = MULTIBOOT_MMAP_GPA;
	memcpy(info + 0, &flags, 4);
	memcpy(info + 4, &mem_lower, 4);
	memcpy(info + 8, &mem_upper, 4);
	memcpy(info + 16, &cmdline_gpa, 4);
	memcpy(info + 20, &mods_count, 4);
	memcpy(info + 24, &mods_addr, 4);
	memcpy(info + 44, &mmap_length, 4);
	memcpy(info + 48, &mmap_addr, 4);

	size_t cmdline_len = strnlen(cmdline, MULTIBOOT_MOD_STRINGS_GPA - MULTIBOOT_CMDLINE_GPA - 1);
	if (!guest_write(vm, MULTIBOOT_INFO_GPA, info, sizeof(info)) ||
	    !guest_write(vm, MULTIBOOT_MMAP_GPA, mmap, sizeof(mmap)) ||
	    !guest_write(vm, MULTIBOOT_CMDLINE_GPA, cmdline, cmdline_len))
		return "the Multiboot information could not be written to guest RAM";
	*info_gpa = MULTIBOOT_INFO_GPA;
	return NULL;
}

void multiboot_start_state(struct guest_cpu_state *s, uint32_t entry, uint32_t info_gpa)
{
	/* Multiboot spec 3.2: EAX = the boot loader's magic, EBX = the
	 * information block.  The spec leaves GDTR undefined, but an event's
	 * delivery reloads CS from the GDT (SDM Vol. 3A 6.12.1), so a kernel
	 * that keeps its loader's GDT needs one, as GRUB and QEMU give: the
	 * boot GDT with code at 0x08 and data at 0x10 (loader/boot_gdt.h). */
	boot_gdt_start_state(s, boot_selectors_multiboot, entry);
	s->gprs[GPR_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	s->gprs[GPR_RBX] = info_gpa;
}

const char *multiboot_load(struct vm *vm, const void *image, size_t size, const char *cmdline)
{
	return multiboot_load_with_modules(vm, image, size, cmdline, NULL, 0);
}

const char *multiboot_load_with_modules(struct vm *vm, const void *image_ptr, size_t size,
					const char *cmdline,
					const struct multiboot_module *modules,
					unsigned module_count)
{
	const uint8_t *image = image_ptr;
	uint64_t image_end = 0;
	uint32_t entry, info_gpa;

	if (vm->ram_size < VM_MIN_RAM)
		return "guest RAM is smaller than 2 MiB";
	const uint8_t *header = find_multiboot_header(image, size);
	if (!header)
		return "no Multiboot header in the first 8 KiB (not a Multiboot kernel)";
	uint32_t flags = le32_read(header + 4);
	const char *err;
	if (flags & MULTIBOOT_FLAG_AOUT_KLUDGE)
		err = load_aout_kludge(vm, image, size, header, &entry, &image_end);
	else if (size >= 4 && image[0] == 0x7F && image[1] == 'E' && image[2] == 'L' &&
		 image[3] == 'F')
		err = load_elf(vm, image, size, &entry, &image_end);
	else
		err = "not an ELF file and no a.out kludge in its Multiboot header";
	if (err)
		return err;
	if (!guest_zero(vm, MULTIBOOT_INFO_GPA, MULTIBOOT_AREA_END - MULTIBOOT_INFO_GPA))
		return "the Multiboot information could not be written to guest RAM";
	if ((err = load_modules(vm, modules, module_count, image_end)) != NULL)
		return err;
	if ((err = write_info(vm, cmdline, module_count, &info_gpa)) != NULL)
		return err;
	if (!boot_gdt_write(vm, boot_selectors_multiboot))
		return "the boot GDT could not be written to guest RAM";
	multiboot_start_state(&vm->boot, entry, info_gpa);
	return NULL;
}
