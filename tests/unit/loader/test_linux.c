/*
 * The Linux bzImage loader (core/loader/linux.c) against a VM built by
 * vm_build (its devices and ACPI tables in place), with bzImages made in
 * memory by the tests: a setup area with a boot protocol 2.15 header and a
 * small recognizable "kernel".  What is checked is what the kernel reads
 * (Documentation/arch/x86/boot.rst, zero-page.rst): where its
 * protected-mode part lands, the zero page's fields and e820 map, the
 * command line and initrd, and the 32-bit boot protocol's start state;
 * then every refusal, each with nothing written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi/devices.h"
#include "dev/acpi_tables.h"
#include "dev/ioapic.h"
#include "fake_cpu.h"
#include "lib/endian.h"
#include "fake_platform.h"
#include "loader/boot_gdt.h"
#include "loader/linux.h"
#include "mm/guest_memory.h"
#include "vm/builder.h"
#include "vm/vm.h"
#include "x86.h"

#define MiB (1ULL << 20)
#define RAM (32 * MiB)
#define SETUP_SECTS 3
#define SETUP_BYTES ((SETUP_SECTS + 1) * 512)
#define KERNEL_BYTES 0x3000
#define IMAGE_SIZE (SETUP_BYTES + KERNEL_BYTES)
#define HEADER_END 0x26C /* protocol 2.15: kernel_info_offset ends it */
#define PREF 0x1000000u  /* 16 MiB, as x86-64 kernels ask */
#define ALIGN 0x200000u
#define INIT_SIZE 0x400000u

static struct vm vm;
static uint8_t image[64 * 1024];
static uint8_t initrd[3 * 4096 + 100];
static struct linux_placement placed;

static int setup_vm(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	const struct vm_config config = {
		.id = 0, .name = "linux", .ram_size = RAM, .large_pages = VM_PAGES_2M,
		.vcpu_count = 1, .strict_mem = true,
	};
	const char *err = vm_build(&vm, &config);
	if (err)
		fail_msg("vm_build: %s\n%s", err, fake_console_text());
	memset(&vm.boot, 0xEE, sizeof(vm.boot));
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13 + 5);
	return 0;
}

static int teardown_vm(void **state)
{
	(void)state;
	vm_destroy(&vm);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

/* ---- Building images ---- */

/* Little-endian fields of the image being built. */
static void put16(size_t off, uint16_t v)
{
	le16_write(image + off, v);
}

static void put32(size_t off, uint32_t v)
{
	le32_write(image + off, v);
}

static void put64(size_t off, uint64_t v)
{
	le64_write(image + off, v);
}


/* A relocatable x86-64 bzImage as Linux 5.5+ builds one (boot.rst's
 * header, protocol 2.15), with KERNEL_BYTES of protected-mode code. */
static void build_bzimage(void)
{
	memset(image, 0, sizeof(image));
	for (size_t i = 0; i < SETUP_BYTES; i++)
		image[i] = 0x90; /* setup code cvisor never runs: must not be loaded */
	memset(image + LINUX_HDR_START, 0, HEADER_END - LINUX_HDR_START);
	image[0x1F1] = SETUP_SECTS;
	put16(0x1F2, 1);                   /* root_flags */
	put32(0x1F4, KERNEL_BYTES / 16);   /* syssize */
	put16(0x1FA, 0xFFFD);              /* vid_mode: ASK_VGA as built */
	put16(0x1FE, 0xAA55);              /* boot_flag */
	image[0x200] = 0xEB;               /* jump */
	image[0x201] = HEADER_END - 0x202;
	put32(0x202, 0x53726448);          /* "HdrS" */
	put16(0x206, 0x020F);              /* version 2.15 */
	put16(0x20E, 0x100);               /* kernel_version */
	image[0x211] = LINUX_LOADED_HIGH;  /* loadflags */
	put32(0x214, 0x100000);            /* code32_start */
	put32(0x22C, 0x7FFFFFFF);          /* initrd_addr_max */
	put32(0x230, ALIGN);               /* kernel_alignment */
	image[0x234] = 1;                  /* relocatable_kernel */
	image[0x235] = 21;                 /* min_alignment */
	put16(0x236, 0x7F);                /* xloadflags: 64-bit, above 4G, EFI... */
	put32(0x238, 2047);                /* cmdline_size */
	put64(0x258, PREF);                /* pref_address */
	put32(0x260, INIT_SIZE);           /* init_size */
	put32(0x264, 0x190);               /* handover_offset */
	put32(0x268, 0x2000);              /* kernel_info_offset */
	for (size_t i = SETUP_BYTES; i < IMAGE_SIZE; i++)
		image[i] = (uint8_t)(i * 7 + 3);
}

static const char *load(size_t size, const void *rd, size_t rd_size, const char *cmdline)
{
	return linux_load(&vm, image, size, rd, rd_size, cmdline, &placed);
}

static const char *load_standard(void)
{
	build_bzimage();
	return load(IMAGE_SIZE, initrd, sizeof(initrd), "console=ttyS0 quiet");
}

/* ---- Guest memory helpers ---- */

static void guest_fill(uint64_t gpa, uint8_t byte, size_t len)
{
	uint8_t buf[4096];
	memset(buf, byte, sizeof(buf));
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		assert_true(guest_write(&vm, gpa, buf, n));
		gpa += n;
		len -= n;
	}
}

static uint8_t guest8(uint64_t gpa)
{
	uint8_t b;
	assert_true(guest_read(&vm, gpa, &b, 1));
	return b;
}

static uint16_t guest16(uint64_t gpa)
{
	return (uint16_t)(guest8(gpa) | guest8(gpa + 1) << 8);
}

static uint32_t guest32(uint64_t gpa)
{
	uint8_t b[4];
	assert_true(guest_read(&vm, gpa, b, 4));
	return le32_read(b);
}

static uint64_t guest64(uint64_t gpa)
{
	uint8_t b[8];
	assert_true(guest_read(&vm, gpa, b, 8));
	return le64_read(b);
}

#define ZP(off) (LINUX_ZERO_PAGE_GPA + (off))

#define assert_refused(err, reason)                                                  \
	do {                                                                         \
		const char *e_ = (err);                                              \
		if (!e_)                                                             \
			fail_msg("the image was accepted; expected \"%s\"", reason);  \
		if (!strstr(e_, reason))                                             \
			fail_msg("refused with \"%s\"; expected \"%s\"", e_, reason); \
		if (strchr(e_, '\n'))                                                \
			fail_msg("the reason is more than one line: \"%s\"", e_);      \
	} while (0)

/* ---- Recognizing a bzImage ---- */

static void test_a_bzimage_is_recognized_by_its_signatures(void **state)
{
	(void)state;
	build_bzimage();
	assert_true(linux_is_bzimage(image, IMAGE_SIZE));
	assert_true(linux_is_bzimage(image, 0x206));
	assert_false(linux_is_bzimage(image, 0x205)); /* "HdrS" cut short */
	assert_false(linux_is_bzimage(NULL, IMAGE_SIZE));
	put16(0x1FE, 0xAA56);
	assert_false(linux_is_bzimage(image, IMAGE_SIZE));
	build_bzimage();
	image[0x205] = 'T';
	assert_false(linux_is_bzimage(image, IMAGE_SIZE));
	/* A Multiboot ELF is not one. */
	memset(image, 0, 0x400);
	memcpy(image, "\x7f" "ELF", 4);
	assert_false(linux_is_bzimage(image, 0x400));
}

/* ---- Where the kernel and the initrd go ---- */

static void test_kernel_loads_at_pref_address_without_the_setup(void **state)
{
	(void)state;
	guest_fill(PREF - 0x1000, 0xCC, 0x1000);
	assert_null(load_standard());
	for (size_t i = 0; i < KERNEL_BYTES; i++)
		if (guest8(PREF + i) != image[SETUP_BYTES + i])
			fail_msg("kernel byte %zu differs", i);
	assert_int_equal(guest8(PREF - 1), 0xCC); /* the setup is not loaded before it */
	assert_int_equal(placed.kernel_gpa, PREF);
	assert_int_equal(placed.kernel_end, PREF + INIT_SIZE);
	assert_false(placed.relocated);
	assert_int_equal(placed.protocol, 0x020F);
	assert_true(placed.kernel_64);
	/* The loader stands in for the firmware, MTRRs included. */
	assert_true(vm.firmware_mtrrs);
}

static void test_setup_sects_zero_means_four(void **state)
{
	(void)state;
	build_bzimage();
	image[0x1F1] = 0; /* boot.rst: 0 means 4 setup sectors, 5 * 512 bytes in all */
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(guest8(PREF), image[5 * 512]);
	assert_int_equal(guest8(PREF + IMAGE_SIZE - 5 * 512 - 1), image[IMAGE_SIZE - 1]);
}

static void test_relocatable_kernel_goes_lower_when_pref_does_not_fit(void **state)
{
	(void)state;
	build_bzimage();
	put32(0x260, 0x1000000 + 0x1000); /* init_size: 16 MiB + 4 KiB from PREF is past RAM */
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	/* The lowest 2 MiB-aligned address from 1 MiB on. */
	assert_int_equal(placed.kernel_gpa, 0x200000);
	assert_true(placed.relocated);
	assert_int_equal(guest8(0x200000), image[SETUP_BYTES]);
	assert_int_equal(guest32(ZP(LINUX_HDR_CODE32_START)), 0x200000);
	assert_int_equal(vm.boot.rip, 0x200000);
}

static void test_relocatable_kernel_with_unaligned_pref_goes_to_an_aligned_address(void **state)
{
	(void)state;
	build_bzimage();
	put64(0x258, PREF + 0x1000);
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(placed.kernel_gpa % ALIGN, 0);
	assert_int_equal(placed.kernel_gpa, 0x200000);
}

static void test_relocatable_kernel_with_1_mib_alignment_starts_at_1_mib(void **state)
{
	(void)state;
	build_bzimage();
	put32(0x230, 0x100000);
	put64(0x258, RAM); /* pref_address at the end of RAM: does not fit */
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(placed.kernel_gpa, 0x100000);
}

static void test_non_relocatable_kernel_loads_at_pref_address(void **state)
{
	(void)state;
	build_bzimage();
	image[0x234] = 0;
	put32(0x230, 0x12345); /* kernel_alignment means nothing then */
	put64(0x258, 0x400000);
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(placed.kernel_gpa, 0x400000);
	assert_int_equal(vm.boot.rip, 0x400000);
}

static void test_zero_pref_address_means_1_mib(void **state)
{
	(void)state;
	build_bzimage();
	image[0x234] = 0;
	put64(0x258, 0);
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(placed.kernel_gpa, LINUX_DEFAULT_LOAD_GPA);
}

static void test_an_image_larger_than_init_size_is_covered_whole(void **state)
{
	(void)state;
	build_bzimage();
	put32(0x260, 0x1000); /* init_size below the file's protected-mode bytes */
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(placed.kernel_end, PREF + KERNEL_BYTES);
}

static void test_initrd_goes_high_and_page_aligned(void **state)
{
	(void)state;
	assert_null(load_standard());
	uint64_t at = (RAM - sizeof(initrd)) & ~0xFFFULL;
	assert_int_equal(placed.initrd_gpa, at);
	assert_int_equal(placed.initrd_size, sizeof(initrd));
	assert_int_equal(guest32(ZP(LINUX_HDR_RAMDISK_IMAGE)), at);
	assert_int_equal(guest32(ZP(LINUX_HDR_RAMDISK_SIZE)), sizeof(initrd));
	for (size_t i = 0; i < sizeof(initrd); i++)
		if (guest8(at + i) != initrd[i])
			fail_msg("initrd byte %zu differs", i);
}

static void test_initrd_stays_below_initrd_addr_max(void **state)
{
	(void)state;
	build_bzimage();
	put32(0x22C, 0x17FFFFF); /* the highest byte an initrd may have: 24 MiB - 1 */
	assert_null(load(IMAGE_SIZE, initrd, sizeof(initrd), ""));
	assert_int_equal(placed.initrd_gpa, (0x1800000 - sizeof(initrd)) & ~0xFFFULL);
	assert_true(placed.initrd_gpa + sizeof(initrd) <= 0x1800000);
	assert_true(placed.initrd_gpa >= placed.kernel_end);
}

static void test_no_initrd_leaves_the_ramdisk_fields_zero(void **state)
{
	(void)state;
	build_bzimage();
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(guest32(ZP(LINUX_HDR_RAMDISK_IMAGE)), 0);
	assert_int_equal(guest32(ZP(LINUX_HDR_RAMDISK_SIZE)), 0);
	assert_int_equal(placed.initrd_gpa, 0);
	/* A zero-length initrd is none. */
	assert_null(load(IMAGE_SIZE, initrd, 0, ""));
	assert_int_equal(guest32(ZP(LINUX_HDR_RAMDISK_SIZE)), 0);
}

/* ---- The zero page ---- */

static void test_zero_page_has_the_image_setup_header(void **state)
{
	(void)state;
	guest_fill(LINUX_ZERO_PAGE_GPA, 0xCC, LINUX_ZERO_PAGE_SIZE);
	assert_null(load_standard());
	/* Fields the loader writes (boot.rst "write"/"modify"); the rest of
	 * the header, up to its end (0x202 + jump byte), is the image's. */
	static const struct {
		unsigned off, len;
	} written[] = {
		{ LINUX_HDR_VID_MODE, 2 }, { LINUX_HDR_TYPE_OF_LOADER, 1 },
		{ LINUX_HDR_CODE32_START, 4 }, { LINUX_HDR_RAMDISK_IMAGE, 4 },
		{ LINUX_HDR_RAMDISK_SIZE, 4 }, { LINUX_HDR_CMD_LINE_PTR, 4 },
	};
	for (unsigned off = LINUX_HDR_START; off < HEADER_END; off++) {
		bool loader_field = false;
		for (size_t w = 0; w < sizeof(written) / sizeof(written[0]); w++)
			if (off >= written[w].off && off < written[w].off + written[w].len)
				loader_field = true;
		if (!loader_field && guest8(ZP(off)) != image[off])
			fail_msg("zero page byte 0x%x is 0x%x, the image has 0x%x", off,
				 guest8(ZP(off)), image[off]);
	}
	assert_int_equal(guest8(ZP(0x1F1)), SETUP_SECTS);
	assert_int_equal(guest32(ZP(0x202)), 0x53726448);
	assert_int_equal(guest64(ZP(0x258)), PREF);
	assert_int_equal(guest32(ZP(0x260)), INIT_SIZE);
}

static void test_zero_page_is_zero_outside_the_fields(void **state)
{
	(void)state;
	guest_fill(LINUX_ZERO_PAGE_GPA, 0xCC, LINUX_ZERO_PAGE_SIZE);
	assert_null(load_standard());
	unsigned e820_end = LINUX_BP_E820_TABLE + placed.e820_entries * LINUX_E820_ENTRY_SIZE;
	for (unsigned off = 0; off < LINUX_ZERO_PAGE_SIZE; off++) {
		bool field = (off >= LINUX_BP_ACPI_RSDP_ADDR && off < LINUX_BP_ACPI_RSDP_ADDR + 8) ||
			     off == LINUX_BP_E820_ENTRIES ||
			     (off >= LINUX_HDR_START && off < HEADER_END) ||
			     (off >= LINUX_BP_E820_TABLE && off < e820_end);
		if (!field && guest8(ZP(off)) != 0)
			fail_msg("zero page byte 0x%x is 0x%x, not 0", off, guest8(ZP(off)));
	}
	/* The sentinel stays 0, or the kernel would clear what the loader set. */
	assert_int_equal(guest8(ZP(0x1EF)), 0);
}

static void test_zero_page_loader_fields(void **state)
{
	(void)state;
	assert_null(load_standard());
	assert_int_equal(guest8(ZP(LINUX_HDR_TYPE_OF_LOADER)), 0xFF);
	assert_int_equal(guest16(ZP(LINUX_HDR_VID_MODE)), 0xFFFF);
	assert_int_equal(guest32(ZP(LINUX_HDR_CODE32_START)), PREF);
	assert_int_equal(guest8(ZP(LINUX_HDR_LOADFLAGS)), LINUX_LOADED_HIGH);
	/* acpi_rsdp_addr (zero-page.rst 0x070) names the RSDP the tables hold. */
	assert_int_equal(guest64(ZP(LINUX_BP_ACPI_RSDP_ADDR)), ACPI_RSDP_GPA);
	char sig[9] = { 0 };
	assert_true(guest_read(&vm, ACPI_RSDP_GPA, sig, 8));
	assert_string_equal(sig, "RSD PTR ");
}

static void test_command_line_is_written_and_pointed_at(void **state)
{
	(void)state;
	char got[64];

	guest_fill(LINUX_CMDLINE_GPA, 0xCC, 64);
	assert_null(load_standard());
	assert_int_equal(guest32(ZP(LINUX_HDR_CMD_LINE_PTR)), LINUX_CMDLINE_GPA);
	assert_true(guest_read(&vm, LINUX_CMDLINE_GPA, got, sizeof(got)));
	assert_string_equal(got, "console=ttyS0 quiet"); /* NUL-terminated */
}

static void test_empty_command_line_is_an_empty_string(void **state)
{
	(void)state;
	guest_fill(LINUX_CMDLINE_GPA, 0xCC, 16);
	build_bzimage();
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(guest32(ZP(LINUX_HDR_CMD_LINE_PTR)), LINUX_CMDLINE_GPA);
	assert_int_equal(guest8(LINUX_CMDLINE_GPA), 0);
}

static void test_command_line_of_exactly_cmdline_size_is_taken(void **state)
{
	(void)state;
	char cmdline[64];

	build_bzimage();
	put32(0x238, 40);
	memset(cmdline, 'x', 40);
	cmdline[40] = 0;
	assert_null(load(IMAGE_SIZE, NULL, 0, cmdline));
	assert_int_equal(guest8(LINUX_CMDLINE_GPA + 39), 'x');
	assert_int_equal(guest8(LINUX_CMDLINE_GPA + 40), 0);
}

/* ---- The e820 map ---- */

struct e820 {
	uint64_t addr, size;
	uint32_t type;
};

static unsigned read_e820(struct e820 *e, unsigned max)
{
	unsigned n = guest8(ZP(LINUX_BP_E820_ENTRIES));
	assert_true(n <= max);
	for (unsigned i = 0; i < n; i++) {
		uint64_t at = ZP(LINUX_BP_E820_TABLE) + i * LINUX_E820_ENTRY_SIZE;
		e[i].addr = guest64(at);
		e[i].size = guest64(at + 8);
		e[i].type = guest32(at + 16);
	}
	return n;
}

/* The type of the entry holding [addr, addr + len), 0 if no one entry does. */
static uint32_t e820_type_of(const struct e820 *e, unsigned n, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (addr >= e[i].addr && addr + len <= e[i].addr + e[i].size)
			return e[i].type;
	return 0;
}

static void test_e820_is_sorted_and_non_overlapping(void **state)
{
	(void)state;
	struct e820 e[LINUX_E820_MAX_ENTRIES];

	assert_null(load_standard());
	unsigned n = read_e820(e, LINUX_E820_MAX_ENTRIES);
	assert_int_equal(n, placed.e820_entries);
	assert_true(n >= 6);
	for (unsigned i = 0; i < n; i++) {
		assert_true(e[i].size > 0);
		assert_true(e[i].type >= E820_TYPE_RAM && e[i].type <= E820_TYPE_ACPI);
		if (i) {
			assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size);
			/* Neighbours of one type would have been one entry. */
			if (e[i].addr == e[i - 1].addr + e[i - 1].size)
				assert_int_not_equal(e[i].type, e[i - 1].type);
		}
	}
}

static void test_e820_ram_is_low_memory_and_from_1_mib_to_the_end(void **state)
{
	(void)state;
	struct e820 e[LINUX_E820_MAX_ENTRIES];

	assert_null(load_standard());
	unsigned n = read_e820(e, LINUX_E820_MAX_ENTRIES);
	unsigned ram = 0;
	for (unsigned i = 0; i < n; i++) {
		if (e[i].type != E820_TYPE_RAM)
			continue;
		if (ram == 0) {
			assert_int_equal(e[i].addr, 0);
			assert_int_equal(e[i].size, BOOT_AREA_GPA); /* 636 KiB */
		} else {
			assert_int_equal(e[i].addr, 0x100000);
			assert_int_equal(e[i].size, RAM - 0x100000);
		}
		ram++;
	}
	assert_int_equal(ram, 2);
	/* The zero page and the command line are in low RAM, the kernel and
	 * the initrd in high RAM. */
	assert_int_equal(e820_type_of(e, n, LINUX_ZERO_PAGE_GPA, 4096), E820_TYPE_RAM);
	assert_int_equal(e820_type_of(e, n, LINUX_CMDLINE_GPA, 4096), E820_TYPE_RAM);
	assert_int_equal(e820_type_of(e, n, placed.kernel_gpa, INIT_SIZE), E820_TYPE_RAM);
	assert_int_equal(e820_type_of(e, n, placed.initrd_gpa, sizeof(initrd)), E820_TYPE_RAM);
}

static void test_e820_reserves_the_boot_area_the_hole_and_the_bios_area(void **state)
{
	(void)state;
	struct e820 e[LINUX_E820_MAX_ENTRIES];

	assert_null(load_standard());
	unsigned n = read_e820(e, LINUX_E820_MAX_ENTRIES);
	/* The boot GDT, the EBDA, the legacy hole: reserved. */
	assert_int_equal(e820_type_of(e, n, BOOT_GDT_GPA, 32), E820_TYPE_RESERVED);
	assert_int_equal(e820_type_of(e, n, ACPI_EBDA_GPA, 1024), E820_TYPE_RESERVED);
	assert_int_equal(e820_type_of(e, n, 0x9F000, 0xE0000 - 0x9F000), E820_TYPE_RESERVED);
	/* Nothing of [0x9F000, 1 MiB) is RAM. */
	for (uint64_t a = 0x9F000; a < 0x100000; a += 0x400)
		assert_int_not_equal(e820_type_of(e, n, a, 0x400), E820_TYPE_RAM);
}

static void test_e820_acpi_tables_are_acpi_memory_but_not_the_facs(void **state)
{
	(void)state;
	struct e820 e[LINUX_E820_MAX_ENTRIES];

	assert_null(load_standard());
	unsigned n = read_e820(e, LINUX_E820_MAX_ENTRIES);
	/* Follow the tables as the guest would: RSDP, RSDT, XSDT, FADT, its
	 * FACS and DSDT (ACPI 6.3 5.2). */
	uint64_t rsdp = ACPI_RSDP_GPA;
	uint64_t rsdt = guest32(rsdp + 16), xsdt = guest64(rsdp + 24);
	uint64_t fadt = guest64(xsdt + 36);
	char sig[5] = { 0 };
	assert_true(guest_read(&vm, fadt, sig, 4));
	assert_string_equal(sig, "FACP");
	uint64_t facs = guest32(fadt + 36), dsdt = guest64(fadt + 140); /* FIRMWARE_CTRL, X_DSDT */
	assert_true(facs && dsdt);
	const uint64_t tables[] = { rsdt, xsdt, fadt, guest64(xsdt + 44), dsdt };
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		assert_int_equal(e820_type_of(e, n, tables[i], guest32(tables[i] + 4)),
				 E820_TYPE_ACPI);
	/* ACPI 6.3 5.2.10: the FACS must not be memory the OS may take. */
	assert_int_equal(e820_type_of(e, n, facs, 64), E820_TYPE_RESERVED);
	assert_int_equal(e820_type_of(e, n, rsdp, 36), E820_TYPE_RESERVED);
	/* The ACPI entry is exactly the tables from the RSDT to the DSDT's end. */
	unsigned acpi = 0;
	for (unsigned i = 0; i < n; i++) {
		if (e[i].type != E820_TYPE_ACPI)
			continue;
		acpi++;
		assert_int_equal(e[i].addr, rsdt);
		assert_int_equal(e[i].addr + e[i].size, dsdt + guest32(dsdt + 4));
	}
	assert_int_equal(acpi, 1);
	/* The rest of the BIOS area up to 1 MiB is reserved. */
	assert_int_equal(e820_type_of(e, n, dsdt + guest32(dsdt + 4),
				      0x100000 - (dsdt + guest32(dsdt + 4))),
			 E820_TYPE_RESERVED);
}

static void test_e820_reserves_every_device_page(void **state)
{
	(void)state;
	struct e820 e[LINUX_E820_MAX_ENTRIES];

	assert_null(load_standard());
	unsigned n = read_e820(e, LINUX_E820_MAX_ENTRIES);
	assert_true(vm.devices.mmio_count >= 3);
	for (unsigned i = 0; i < vm.devices.mmio_count; i++)
		assert_int_equal(e820_type_of(e, n, vm.devices.mmio[i].base, vm.devices.mmio[i].size),
				 E820_TYPE_RESERVED);
	assert_int_equal(e820_type_of(e, n, IOAPIC_BASE, 0x1000), E820_TYPE_RESERVED);
	assert_int_equal(e820_type_of(e, n, 0xFEE00000, 0x1000), E820_TYPE_RESERVED);
	assert_int_equal(e820_type_of(e, n, MMIO_DEBUG_CONSOLE_GPA, 0x1000), E820_TYPE_RESERVED);
	/* And nothing more up there: the entries above RAM are device pages. */
	for (unsigned i = 0; i < n; i++) {
		if (e[i].addr < RAM)
			continue;
		bool covered = true;
		for (uint64_t a = e[i].addr; a < e[i].addr + e[i].size; a += 0x1000) {
			bool device = false;
			for (unsigned d = 0; d < vm.devices.mmio_count; d++)
				if (a >= vm.devices.mmio[d].base &&
				    a < vm.devices.mmio[d].base + vm.devices.mmio[d].size)
					device = true;
			covered &= device;
		}
		assert_true(covered);
	}
}

/* ---- The start state (boot.rst, "32-bit Boot Protocol") ---- */

static void assert_flat_segment(const struct vmcs_segment *s, uint16_t selector, bool code)
{
	assert_int_equal(s->selector, selector);
	assert_int_equal(s->base, 0);
	assert_int_equal(s->limit, 0xFFFFFFFF);
	assert_true(s->access_rights & AR_P);
	assert_true(s->access_rights & AR_S);
	assert_true(s->access_rights & AR_DB);
	assert_true(s->access_rights & AR_G);
	assert_int_equal(s->access_rights & 0x60, 0); /* DPL 0 */
	assert_int_equal(s->access_rights & AR_UNUSABLE, 0);
	if (code)
		assert_int_equal(s->access_rights & 0xF, AR_TYPE_CODE_RX_ACCESSED);
	else
		assert_int_equal(s->access_rights & 0xF, AR_TYPE_DATA_RW_ACCESSED);
}

static void test_start_state_is_the_32_bit_boot_protocol(void **state)
{
	(void)state;
	assert_null(load_standard());
	assert_int_equal(vm.boot.rip, PREF);                      /* the load address */
	assert_int_equal(vm.boot.gprs[GPR_RSI], LINUX_ZERO_PAGE_GPA);
	assert_int_equal(vm.boot.gprs[GPR_RBP], 0);
	assert_int_equal(vm.boot.gprs[GPR_RDI], 0);
	assert_int_equal(vm.boot.gprs[GPR_RBX], 0);
	assert_int_equal(vm.boot.cr0, CR0_PE | CR0_ET);           /* protected, paging off */
	assert_int_equal(vm.boot.cr4, 0);
	assert_int_equal(vm.boot.efer, 0);
	assert_int_equal(vm.boot.rflags, RFLAGS_RESERVED_1);      /* interrupts off */
	assert_flat_segment(&vm.boot.cs, 0x10, true);             /* __BOOT_CS */
	assert_flat_segment(&vm.boot.ds, 0x18, false);            /* __BOOT_DS */
	assert_flat_segment(&vm.boot.es, 0x18, false);
	assert_flat_segment(&vm.boot.ss, 0x18, false);
	assert_flat_segment(&vm.boot.fs, 0x18, false);
	assert_flat_segment(&vm.boot.gs, 0x18, false);
}

static void test_gdt_has_boot_cs_and_boot_ds(void **state)
{
	(void)state;
	guest_fill(BOOT_GDT_GPA, 0xCC, 64);
	assert_null(load_standard());
	assert_int_equal(vm.boot.gdtr_base, BOOT_GDT_GPA);
	assert_int_equal(vm.boot.gdtr_limit, 4 * 8 - 1);
	uint64_t gdt[4];
	assert_true(guest_read(&vm, BOOT_GDT_GPA, gdt, sizeof(gdt)));
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0);                      /* 0x08: nothing */
	assert_int_equal(gdt[2], 0x00CF9B000000FFFFULL);  /* 0x10: flat code, execute/read */
	assert_int_equal(gdt[3], 0x00CF93000000FFFFULL);  /* 0x18: flat data, read/write */
	assert_int_equal(guest8(BOOT_GDT_GPA + 32), 0xCC); /* nothing past the limit */
}

static void test_a_second_load_gives_the_same_result(void **state)
{
	(void)state;
	/* A restart (on_reset=restart) loads again into cleared RAM. */
	assert_null(load_standard());
	struct guest_cpu_state first = vm.boot;
	uint8_t zp1[LINUX_ZERO_PAGE_SIZE], zp2[LINUX_ZERO_PAGE_SIZE];
	assert_true(guest_read(&vm, LINUX_ZERO_PAGE_GPA, zp1, sizeof(zp1)));
	assert_true(guest_zero(&vm, 0, RAM));
	assert_true(acpi_tables_write(&vm));
	assert_null(load_standard());
	assert_true(guest_read(&vm, LINUX_ZERO_PAGE_GPA, zp2, sizeof(zp2)));
	assert_memory_equal(zp1, zp2, sizeof(zp1));
	assert_memory_equal(&first, &vm.boot, sizeof(first));
}

/* ---- Refused images ---- */

static void test_refuses_an_image_without_signatures(void **state)
{
	(void)state;
	build_bzimage();
	put16(0x1FE, 0);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "not a bzImage");
	build_bzimage();
	put32(0x202, 0x53726449);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "not a bzImage");
	build_bzimage();
	assert_refused(load(0x200, NULL, 0, ""), "not a bzImage");
}

static void test_refuses_protocols_before_2_12(void **state)
{
	(void)state;
	build_bzimage();
	put16(0x206, 0x020B);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""),
		       "boot protocol 2.11; cvisor needs 2.12 or later");
	put16(0x206, 0x0100);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "boot protocol 1.00");
	put16(0x206, 0x020C); /* 2.12 itself is fine */
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	assert_int_equal(placed.protocol, 0x020C);
}

static void test_refuses_a_header_that_ends_too_early(void **state)
{
	(void)state;
	build_bzimage();
	image[0x201] = 0x260 - 0x202; /* ends before init_size */
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "ends it at 0x260");
	image[0x201] = 0x80; /* a backward jump: -128 */
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "ends it at 0x182");
	build_bzimage();
	image[0x200] = 0xE9; /* not a short jump */
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "setup header's jump");
	build_bzimage();
	image[0x201] = LINUX_HDR_MIN_END - 0x202; /* just long enough */
	assert_null(load(IMAGE_SIZE, NULL, 0, ""));
	/* Only the header up to its end is copied: handover_offset is not. */
	assert_int_equal(guest32(ZP(0x264)), 0);
}

static void test_refuses_an_image_that_ends_in_its_setup(void **state)
{
	(void)state;
	build_bzimage();
	assert_refused(load(SETUP_BYTES, NULL, 0, ""), "ends inside its 2048 bytes of real-mode setup");
	image[0x1F1] = 200;
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "real-mode setup");
	/* A file that ends right after "HdrS": no field past it is read
	 * (AddressSanitizer watches the exact-size copy). */
	build_bzimage();
	uint8_t *cut = malloc(0x206);
	assert_non_null(cut);
	memcpy(cut, image, 0x206);
	assert_refused(linux_load(&vm, cut, 0x206, NULL, 0, "", &placed), "real-mode setup");
	free(cut);
}

static void test_refuses_a_zimage(void **state)
{
	(void)state;
	build_bzimage();
	image[0x211] = 0x80; /* CAN_USE_HEAP, no LOADED_HIGH */
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "loadflags lacks LOADED_HIGH");
}

static void test_refuses_a_bad_kernel_alignment(void **state)
{
	(void)state;
	build_bzimage();
	put32(0x230, 0x300000);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "kernel_alignment 0x300000 is not a power of two");
	put32(0x230, 0);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "kernel_alignment 0x0 is not a power of two");
}

static void test_refuses_a_relocatable_kernel_that_fits_nowhere(void **state)
{
	(void)state;
	build_bzimage();
	put32(0x260, RAM); /* init_size: all of RAM */
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""),
		       "the kernel needs 0x2000000 bytes (init_size) at a 0x200000-aligned address "
		       "from 1 MiB on, but the VM's RAM ends at 0x2000000: give it more mem=");
	build_bzimage();
	put32(0x230, 0x80000000); /* 2 GiB alignment: the first aligned address is past RAM */
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "0x80000000-aligned");
}

static void test_refuses_a_fixed_kernel_that_does_not_fit(void **state)
{
	(void)state;
	build_bzimage();
	image[0x234] = 0;
	put64(0x258, RAM - 0x100000);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""),
		       "the kernel is not relocatable and needs RAM 0x1f00000-0x22fffff");
	put64(0x258, 0x10000);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "pref_address 0x10000 is below 1 MiB");
	put64(0x258, UINT64_MAX - 0xFFF);
	assert_refused(load(IMAGE_SIZE, NULL, 0, ""), "not relocatable");
}

static void test_refuses_an_initrd_that_does_not_fit(void **state)
{
	(void)state;
	uint8_t *big = calloc(1, RAM);
	assert_non_null(big);
	build_bzimage();
	/* RAM ends at 32 MiB, the kernel at 20 MiB: 12 MiB are free. */
	assert_refused(load(IMAGE_SIZE, big, RAM - (PREF + INIT_SIZE) + 1, ""),
		       "the initrd (12582913 bytes) does not fit between the kernel's end "
		       "0x1400000 and 0x2000000");
	assert_null(load(IMAGE_SIZE, big, RAM - (PREF + INIT_SIZE) - 0x1000, ""));
	assert_refused(load(IMAGE_SIZE, big, RAM + 1, ""), "does not fit");
	put32(0x22C, PREF + INIT_SIZE); /* initrd_addr_max inside the kernel */
	assert_refused(load(IMAGE_SIZE, initrd, sizeof(initrd), ""), "initrd_addr_max");
	free(big);
}

static void test_refuses_a_command_line_longer_than_cmdline_size(void **state)
{
	(void)state;
	char cmdline[64];

	build_bzimage();
	put32(0x238, 40);
	memset(cmdline, 'x', 41);
	cmdline[41] = 0;
	assert_refused(load(IMAGE_SIZE, NULL, 0, cmdline),
		       "the kernel command line has 41 characters; the kernel takes at most 40");
}

static void test_refuses_ram_over_the_device_pages(void **state)
{
	(void)state;
	build_bzimage();
	/* As a mem= reaching the device pages would make it (refused before
	 * anything is written, so RAM of this size is never touched). */
	vm.ram_size = 0xFEC01000;
	const char *err = load(IMAGE_SIZE, NULL, 0, "");
	vm.ram_size = RAM;
	assert_refused(err, "reaches the debug console page at 0xfebff000");
	assert_refused(err, "mem= at most 4173820K");
}

static void test_refuses_guest_ram_below_2_mib(void **state)
{
	(void)state;
	build_bzimage();
	vm.ram_size = MiB;
	const char *err = load(IMAGE_SIZE, NULL, 0, "");
	vm.ram_size = RAM;
	assert_refused(err, "smaller than 2 MiB");
}

static void test_refused_image_leaves_guest_memory_and_boot_state_alone(void **state)
{
	(void)state;
	static uint8_t big[4096];
	struct guest_cpu_state before;

	guest_fill(PREF, 0xCC, 0x1000);
	guest_fill(LINUX_ZERO_PAGE_GPA, 0xDD, LINUX_ZERO_PAGE_SIZE);
	guest_fill(LINUX_CMDLINE_GPA, 0xEE, 0x100);
	guest_fill(BOOT_GDT_GPA, 0xBB, 0x40);
	memcpy(&before, &vm.boot, sizeof(before));
	build_bzimage();
	/* Refused last of all checks: the initrd, then the command line. */
	assert_refused(load(IMAGE_SIZE, big, RAM, "x"), "initrd");
	put32(0x238, 0);
	assert_refused(load(IMAGE_SIZE, NULL, 0, "x"), "command line");
	assert_int_equal(guest8(PREF), 0xCC);
	assert_int_equal(guest32(LINUX_ZERO_PAGE_GPA + 0x200), 0xDDDDDDDD);
	assert_int_equal(guest8(LINUX_CMDLINE_GPA), 0xEE);
	assert_int_equal(guest8(BOOT_GDT_GPA + 0x10), 0xBB);
	assert_int_equal(guest8(RAM - 1), 0);
	assert_memory_equal(&before, &vm.boot, sizeof(before));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_vm, teardown_vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_a_bzimage_is_recognized_by_its_signatures),
		T(test_kernel_loads_at_pref_address_without_the_setup),
		T(test_setup_sects_zero_means_four),
		T(test_relocatable_kernel_goes_lower_when_pref_does_not_fit),
		T(test_relocatable_kernel_with_unaligned_pref_goes_to_an_aligned_address),
		T(test_relocatable_kernel_with_1_mib_alignment_starts_at_1_mib),
		T(test_non_relocatable_kernel_loads_at_pref_address),
		T(test_zero_pref_address_means_1_mib),
		T(test_an_image_larger_than_init_size_is_covered_whole),
		T(test_initrd_goes_high_and_page_aligned),
		T(test_initrd_stays_below_initrd_addr_max),
		T(test_no_initrd_leaves_the_ramdisk_fields_zero),
		T(test_zero_page_has_the_image_setup_header),
		T(test_zero_page_is_zero_outside_the_fields),
		T(test_zero_page_loader_fields),
		T(test_command_line_is_written_and_pointed_at),
		T(test_empty_command_line_is_an_empty_string),
		T(test_command_line_of_exactly_cmdline_size_is_taken),
		T(test_e820_is_sorted_and_non_overlapping),
		T(test_e820_ram_is_low_memory_and_from_1_mib_to_the_end),
		T(test_e820_reserves_the_boot_area_the_hole_and_the_bios_area),
		T(test_e820_acpi_tables_are_acpi_memory_but_not_the_facs),
		T(test_e820_reserves_every_device_page),
		T(test_start_state_is_the_32_bit_boot_protocol),
		T(test_gdt_has_boot_cs_and_boot_ds),
		T(test_a_second_load_gives_the_same_result),
		T(test_refuses_an_image_without_signatures),
		T(test_refuses_protocols_before_2_12),
		T(test_refuses_a_header_that_ends_too_early),
		T(test_refuses_an_image_that_ends_in_its_setup),
		T(test_refuses_a_zimage),
		T(test_refuses_a_bad_kernel_alignment),
		T(test_refuses_a_relocatable_kernel_that_fits_nowhere),
		T(test_refuses_a_fixed_kernel_that_does_not_fit),
		T(test_refuses_an_initrd_that_does_not_fit),
		T(test_refuses_a_command_line_longer_than_cmdline_size),
		T(test_refuses_ram_over_the_device_pages),
		T(test_refuses_guest_ram_below_2_mib),
		T(test_refused_image_leaves_guest_memory_and_boot_state_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
