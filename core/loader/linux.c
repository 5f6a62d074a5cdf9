#include "loader/linux.h"

#include <stdarg.h>

#include "dev/acpi_tables.h"
#include "lib/endian.h"
#include "lib/format.h"
#include "lib/mem.h"
#include "loader/boot_gdt.h"
#include "mm/guest_memory.h"

#define PAGE_BYTES 0x1000ULL

/* The setup header fields the loader reads (boot.rst, "Details of Header
 * Fields"), from the image's first sectors. */
struct bzimage {
	const uint8_t *image;
	size_t size;
	uint16_t version;
	unsigned header_end;  /* 0x202 + the jump's offset: the header's end */
	size_t setup_bytes;   /* (setup_sects + 1) * 512: boot sector and setup */
	uint8_t loadflags;
	bool relocatable;
	uint16_t xloadflags;
	uint32_t kernel_alignment, initrd_addr_max, cmdline_size, init_size;
	uint64_t pref_address;
};

/* One line, formatted into the caller's placement; returned as the reason. */
static const char *refuse(struct linux_placement *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *refuse(struct linux_placement *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
	return p->reason;
}

bool linux_is_bzimage(const void *image_ptr, size_t size)
{
	const uint8_t *image = image_ptr;

	/* boot_flag (0x1FE) is the boot sector's signature; "HdrS" (0x202)
	 * marks protocol 2.00 and later (boot.rst). */
	return image && size >= LINUX_HDR_HEADER + 4 &&
	       le16_read(image + LINUX_HDR_BOOT_FLAG) == LINUX_BOOT_FLAG &&
	       le32_read(image + LINUX_HDR_HEADER) == LINUX_HDRS_MAGIC;
}

static const char *read_setup_header(const uint8_t *image, size_t size, struct bzimage *k,
				     struct linux_placement *p)
{
	if (!linux_is_bzimage(image, size))
		return refuse(p, "not a bzImage (no boot sector signature 0xAA55 at 0x1FE and "
				 "\"HdrS\" at 0x202)");
	memset(k, 0, sizeof(*k));
	k->image = image;
	k->size = size;
	/* setup_sects (0x1F1): 0 means 4; the boot sector is one more.  The
	 * whole header lies in the first 1 KiB, so from here on every field
	 * read is in the file. */
	unsigned setup_sects = image[LINUX_HDR_SETUP_SECTS] ? image[LINUX_HDR_SETUP_SECTS] : 4;
	k->setup_bytes = (size_t)(setup_sects + 1) * 512;
	if (size <= k->setup_bytes)
		return refuse(p, "the image ends inside its %zu bytes of real-mode setup (no "
				 "protected-mode kernel follows)", k->setup_bytes);
	k->version = le16_read(image + LINUX_HDR_VERSION);
	if (k->version < LINUX_MIN_PROTOCOL)
		return refuse(p, "the kernel speaks boot protocol %u.%02u; cvisor needs 2.12 or "
				 "later (Linux 3.8 and later)",
			      k->version >> 8, k->version & 0xFF);
	/* jump (0x200): 0xEB and a signed offset from 0x202, which is where
	 * the header ends: the loader copies the header up to there. */
	int header_end = LINUX_HDR_HEADER + (int8_t)image[LINUX_HDR_JUMP + 1];
	if (image[LINUX_HDR_JUMP] != 0xEB || header_end < LINUX_HDR_MIN_END)
		return refuse(p, "the setup header's jump at 0x200 ends it at 0x%x, before the "
				 "protocol 2.12 fields (init_size at 0x260)", header_end);
	k->header_end = (unsigned)header_end;
	/* loadflags bit 0, LOADED_HIGH: the protected-mode code loads at 1 MiB
	 * or above; without it, a zImage loads at 0x10000. */
	k->loadflags = image[LINUX_HDR_LOADFLAGS];
	if (!(k->loadflags & LINUX_LOADED_HIGH))
		return refuse(p, "loadflags lacks LOADED_HIGH: a zImage loads at 0x10000, which "
				 "cvisor does not do");
	k->relocatable = image[LINUX_HDR_RELOCATABLE] != 0;
	k->xloadflags = le16_read(image + LINUX_HDR_XLOADFLAGS);
	k->kernel_alignment = le32_read(image + LINUX_HDR_KERNEL_ALIGNMENT);
	k->initrd_addr_max = le32_read(image + LINUX_HDR_INITRD_ADDR_MAX);
	k->cmdline_size = le32_read(image + LINUX_HDR_CMDLINE_SIZE);
	k->pref_address = le64_read(image + LINUX_HDR_PREF_ADDRESS);
	k->init_size = le32_read(image + LINUX_HDR_INIT_SIZE);
	/* kernel_alignment: a relocatable kernel runs at an address aligned
	 * to it, so it must be a power of two. */
	if (k->relocatable && (k->kernel_alignment == 0 ||
			       (k->kernel_alignment & (k->kernel_alignment - 1)) != 0))
		return refuse(p, "the relocatable kernel's kernel_alignment 0x%x is not a power "
				 "of two", k->kernel_alignment);
	return NULL;
}

/* [at, at + bytes) lies in RAM at or above LINUX_KERNEL_MIN_GPA. */
static bool kernel_fits_at(const struct vm *vm, uint64_t at, uint64_t bytes)
{
	return at >= LINUX_KERNEL_MIN_GPA && at <= vm->ram_size && bytes <= vm->ram_size - at;
}

/*
 * Where the protected-mode kernel goes.  The kernel runs from its load
 * address and needs init_size bytes from there before it reads the memory
 * map (boot.rst, init_size; for a relocatable kernel the runtime start is
 * the load address aligned up to kernel_alignment, which is the load
 * address itself here).  pref_address first; a relocatable kernel may go
 * anywhere aligned to kernel_alignment (boot.rst, relocatable_kernel), so
 * the lowest such address from 1 MiB on is the fallback.
 */
static const char *place_kernel(const struct vm *vm, const struct bzimage *k,
				struct linux_placement *p)
{
	uint64_t protected_bytes = k->size - k->setup_bytes;
	uint64_t need = k->init_size > protected_bytes ? k->init_size : protected_bytes;
	uint64_t pref = k->pref_address ? k->pref_address : LINUX_DEFAULT_LOAD_GPA;
	uint64_t align = k->kernel_alignment;

	if (kernel_fits_at(vm, pref, need) && (!k->relocatable || (pref & (align - 1)) == 0)) {
		p->kernel_gpa = pref;
	} else if (k->relocatable) {
		uint64_t low = (LINUX_KERNEL_MIN_GPA + align - 1) & ~(align - 1);
		if (!kernel_fits_at(vm, low, need))
			return refuse(p, "the kernel needs 0x%llx bytes (init_size) at a 0x%llx-aligned "
					 "address from 1 MiB on, but the VM's RAM ends at 0x%llx: give "
					 "it more mem=",
				      (unsigned long long)need, (unsigned long long)align,
				      (unsigned long long)vm->ram_size);
		p->kernel_gpa = low;
		p->relocated = true;
	} else if (pref < LINUX_KERNEL_MIN_GPA) {
		return refuse(p, "the kernel is not relocatable and its pref_address 0x%llx is "
				 "below 1 MiB, where cvisor keeps the zero page and the BIOS area",
			      (unsigned long long)pref);
	} else {
		return refuse(p, "the kernel is not relocatable and needs RAM 0x%llx-0x%llx "
				 "(pref_address + init_size), but the VM's RAM ends at 0x%llx: give "
				 "it more mem=",
			      (unsigned long long)pref, (unsigned long long)(pref + need - 1),
			      (unsigned long long)vm->ram_size);
	}
	p->kernel_end = p->kernel_gpa + need;
	return NULL;
}

/*
 * The initrd goes high (boot.rst, initrd_addr_max: the highest address an
 * initrd byte may have): its end at RAM's end or initrd_addr_max + 1,
 * whichever is lower, its start page aligned, and above the kernel's
 * init_size so that the kernel does not overwrite it while it starts.
 */
static const char *place_initrd(const struct vm *vm, const struct bzimage *k, size_t size,
				struct linux_placement *p)
{
	uint64_t top = (uint64_t)k->initrd_addr_max + 1;
	if (top > vm->ram_size)
		top = vm->ram_size;
	uint64_t start = size <= top ? (top - size) & ~(PAGE_BYTES - 1) : 0;

	if (size > top || start < p->kernel_end || size > UINT32_MAX)
		return refuse(p, "the initrd (%zu bytes) does not fit between the kernel's end "
				 "0x%llx and 0x%llx (the end of RAM or initrd_addr_max + 1): give "
				 "the VM more mem=",
			      size, (unsigned long long)p->kernel_end, (unsigned long long)top);
	p->initrd_gpa = start;
	p->initrd_size = size;
	return NULL;
}

/* A Linux guest's RAM must end below every device page: its e820 map
 * could not describe RAM over a device's MMIO range. */
static const char *check_devices_above_ram(const struct vm *vm, struct linux_placement *p)
{
	for (unsigned i = 0; i < vm->devices.mmio_count; i++) {
		const struct mmio_region *r = &vm->devices.mmio[i];
		if (r->base < vm->ram_size)
			return refuse(p, "the VM's RAM (0x%llx bytes) reaches the %s page at 0x%llx: a "
					 "Linux guest needs mem= at most %lluK",
				      (unsigned long long)vm->ram_size, r->name,
				      (unsigned long long)r->base,
				      (unsigned long long)(r->base >> 10));
	}
	return NULL;
}

/* The e820 map being built: ranges in ascending order, a range that
 * continues the previous one with the same type merged into it. */
struct e820_map {
	unsigned count;
	uint8_t table[LINUX_E820_MAX_ENTRIES * LINUX_E820_ENTRY_SIZE];
	uint64_t last_end;
	uint32_t last_type;
	bool overflow;
};

static void e820_add(struct e820_map *m, uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start)
		return;
	if (m->count && start == m->last_end && type == m->last_type) {
		uint8_t *last = m->table + (m->count - 1) * LINUX_E820_ENTRY_SIZE;
		le_write(last + 8, end - le64_read(last), 8);
	} else if (m->count == LINUX_E820_MAX_ENTRIES) {
		m->overflow = true;
		return;
	} else {
		uint8_t *e = m->table + m->count * LINUX_E820_ENTRY_SIZE;
		le_write(e, start, 8);
		le_write(e + 8, end - start, 8);
		le_write(e + 16, type, 4);
		m->count++;
	}
	m->last_end = end;
	m->last_type = type;
}

/*
 * The PC memory map the guest gets, as a BIOS's INT 15h E820 reports it
 * (ACPI 6.3 chapter 15): RAM below the boot area; the boot area (boot
 * GDT, EBDA), the legacy hole 0xA0000-0xDFFFF and the BIOS area reserved,
 * except the ACPI tables from the RSDT on, which are ACPI memory the OS
 * may reclaim once it read them (the RSDP and the FACS before them stay
 * reserved: 5.2.10 forbids reporting the FACS as reclaimable); RAM from
 * 1 MiB to the end of the VM's RAM; each device page (dev/mmio.h; the
 * VM keeps them sorted by address) reserved, as 15.4 says of
 * memory-mapped devices such as APICs.
 */
static bool build_e820(const struct vm *vm, struct e820_map *m)
{
	struct acpi_layout acpi;

	acpi_tables_layout(vm->vcpu_count, &acpi);
	memset(m, 0, sizeof(*m));
	if (acpi.rsdp != ACPI_TABLES_GPA || acpi.facs >= acpi.rsdt || acpi.end > ACPI_TABLES_END)
		return false;
	e820_add(m, 0, BOOT_AREA_GPA, E820_TYPE_RAM);
	e820_add(m, BOOT_AREA_GPA, acpi.rsdt, E820_TYPE_RESERVED);
	e820_add(m, acpi.rsdt, acpi.end, E820_TYPE_ACPI);
	e820_add(m, acpi.end, ACPI_TABLES_END, E820_TYPE_RESERVED);
	e820_add(m, ACPI_TABLES_END, vm->ram_size, E820_TYPE_RAM);
	for (unsigned i = 0; i < vm->devices.mmio_count; i++) {
		const struct mmio_region *r = &vm->devices.mmio[i];
		if (r->base < m->last_end || r->size > UINT64_MAX - r->base)
			return false;
		e820_add(m, r->base, r->base + r->size, E820_TYPE_RESERVED);
	}
	return !m->overflow;
}

/* One field of the zero page in guest RAM. */
static bool put_zero_page(struct vm *vm, unsigned offset, uint64_t value, unsigned bytes)
{
	uint8_t b[8];
	le_write(b, value, bytes);
	return guest_write(vm, LINUX_ZERO_PAGE_GPA + offset, b, bytes);
}

/*
 * The zero page (boot.rst, "32-bit Boot Protocol"): all zero, then the
 * setup header from the image (0x1F1 to its end), then what a boot loader
 * writes: type_of_loader, vid_mode (obligatory; the real-mode code that
 * reads it does not run), code32_start (the load address of a relocated
 * kernel), the ramdisk and the command line; the RSDP's address
 * (acpi_rsdp_addr, zero-page.rst 0x070), and the e820 map.  The sentinel
 * at 0x1EF stays 0, so the kernel keeps these fields.
 */
static bool write_zero_page(struct vm *vm, const struct bzimage *k, const struct e820_map *m,
			    const struct linux_placement *p)
{
	return guest_zero(vm, LINUX_ZERO_PAGE_GPA, LINUX_ZERO_PAGE_SIZE) &&
	       guest_write(vm, LINUX_ZERO_PAGE_GPA + LINUX_HDR_START, k->image + LINUX_HDR_START,
			   k->header_end - LINUX_HDR_START) &&
	       put_zero_page(vm, LINUX_HDR_TYPE_OF_LOADER, LINUX_TYPE_OF_LOADER, 1) &&
	       put_zero_page(vm, LINUX_HDR_VID_MODE, LINUX_VID_MODE_NORMAL, 2) &&
	       put_zero_page(vm, LINUX_HDR_CODE32_START, p->kernel_gpa, 4) &&
	       put_zero_page(vm, LINUX_HDR_RAMDISK_IMAGE, p->initrd_gpa, 4) &&
	       put_zero_page(vm, LINUX_HDR_RAMDISK_SIZE, p->initrd_size, 4) &&
	       put_zero_page(vm, LINUX_HDR_CMD_LINE_PTR, LINUX_CMDLINE_GPA, 4) &&
	       put_zero_page(vm, LINUX_BP_ACPI_RSDP_ADDR, ACPI_RSDP_GPA, 8) &&
	       put_zero_page(vm, LINUX_BP_E820_ENTRIES, m->count, 1) &&
	       guest_write(vm, LINUX_ZERO_PAGE_GPA + LINUX_BP_E820_TABLE, m->table,
			   (size_t)m->count * LINUX_E820_ENTRY_SIZE);
}

const char *linux_load(struct vm *vm, const void *kernel, size_t kernel_size,
		       const void *initrd, size_t initrd_size, const char *cmdline,
		       struct linux_placement *p)
{
	struct bzimage k;
	struct e820_map map;
	const char *err;

	memset(p, 0, sizeof(*p));
	if (vm->ram_size < VM_MIN_RAM)
		return refuse(p, "guest RAM is smaller than 2 MiB");
	if ((err = read_setup_header(kernel, kernel_size, &k, p)) != NULL ||
	    (err = check_devices_above_ram(vm, p)) != NULL ||
	    (err = place_kernel(vm, &k, p)) != NULL)
		return err;
	if (initrd && initrd_size && (err = place_initrd(vm, &k, initrd_size, p)) != NULL)
		return err;
	/* cmdline_size (0x238): the longest command line, without its NUL. */
	size_t cmdline_len = strnlen(cmdline, LINUX_CMDLINE_ROOM);
	if (cmdline_len > k.cmdline_size || cmdline_len >= LINUX_CMDLINE_ROOM)
		return refuse(p, "the kernel command line has %zu characters; the kernel takes at "
				 "most %u (cmdline_size)", cmdline_len, k.cmdline_size);
	if (!build_e820(vm, &map))
		return refuse(p, "the memory map does not hold the VM's ACPI tables and devices");
	p->protocol = k.version;
	p->kernel_64 = (k.xloadflags & LINUX_XLF_KERNEL_64) != 0;
	p->e820_entries = map.count;

	/* Checked: now write.  The protected-mode kernel (boot.rst, "Loading
	 * The Rest of The Kernel"), the initrd, the command line with its
	 * NUL, the zero page, the boot GDT. */
	if (!guest_write(vm, p->kernel_gpa, k.image + k.setup_bytes, k.size - k.setup_bytes) ||
	    (p->initrd_size && !guest_write(vm, p->initrd_gpa, initrd, initrd_size)) ||
	    !guest_write(vm, LINUX_CMDLINE_GPA, cmdline, cmdline_len) ||
	    !guest_zero(vm, LINUX_CMDLINE_GPA + cmdline_len, 1) ||
	    !write_zero_page(vm, &k, &map, p) || !boot_gdt_write(vm, boot_selectors_linux))
		return refuse(p, "the kernel could not be written to guest RAM");

	/* The 32-bit boot protocol's start state: protected mode, paging
	 * off, __BOOT_CS and __BOOT_DS flat, interrupts off, ESI = the zero
	 * page, EBP = EDI = EBX = 0 (every other register too), at the
	 * kernel's 32-bit entry, its load address. */
	boot_gdt_start_state(&vm->boot, boot_selectors_linux, (uint32_t)p->kernel_gpa);
	vm->boot.gprs[GPR_RSI] = LINUX_ZERO_PAGE_GPA;
	/* The kernel comes after the firmware, which has set up the MTRRs
	 * of every processor (Linux skips PAT when they are disabled). */
	vm->firmware_mtrrs = true;
	return NULL;
}
