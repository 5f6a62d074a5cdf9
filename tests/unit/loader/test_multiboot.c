/*
 * The Multiboot v1 loader (core/loader/multiboot.c) with kernel images
 * built in memory by the tests: ELF32, ELF64 and a.out-kludge kernels, and
 * images that must be refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fake_cpu.h"
#include "lib/endian.h"
#include "fake_platform.h"
#include "loader/multiboot.h"
#include "mm/guest_memory.h"
#include "vm/vm.h"
#include "x86.h"

#define MiB (1ULL << 20)
#define RAM (4 * MiB)
#define KERNEL_PA 0x100000u
#define MB_HEADER_OFFSET 0x200u
#define SEGMENT_OFFSET 0x1000u
#define PT_LOAD 1
#define PT_NOTE 4

static struct vm vm;
static uint8_t image[16384];

static int setup_vm(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	const char *err = vm_create(&vm, 0, "mb", RAM);
	if (err)
		fail_msg("vm_create: %s", err);
	memset(image, 0, sizeof(image));
	memset(&vm.boot, 0xEE, sizeof(vm.boot));
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


/* Multiboot header (spec 3.1.1): magic, flags, checksum. */
static void put_multiboot_header(size_t off, uint32_t flags)
{
	put32(off, MULTIBOOT_HEADER_MAGIC);
	put32(off + 4, flags);
	put32(off + 8, (uint32_t)-(MULTIBOOT_HEADER_MAGIC + flags));
}

struct segment {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

/* Recognizable file contents: byte i of the image is (i * 7 + 3). */
static void fill_pattern(size_t from, size_t len)
{
	for (size_t i = from; i < from + len; i++)
		image[i] = (uint8_t)(i * 7 + 3);
}

/* ELF32 executable for i386 (System V gABI): header, program headers at 52. */
static void build_elf32(uint32_t entry, const struct segment *segs, unsigned n)
{
	memcpy(image, "\x7f" "ELF", 4);
	image[4] = 1; /* ELFCLASS32 */
	image[5] = 1; /* ELFDATA2LSB */
	image[6] = 1; /* EV_CURRENT */
	put16(16, 2); /* ET_EXEC */
	put16(18, 3); /* EM_386 */
	put32(20, 1);
	put32(24, entry);
	put32(28, 52); /* e_phoff */
	put16(40, 52); /* e_ehsize */
	put16(42, 32); /* e_phentsize */
	put16(44, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		size_t ph = 52 + 32 * i;
		put32(ph, segs[i].type);
		put32(ph + 4, (uint32_t)segs[i].offset);
		put32(ph + 8, (uint32_t)segs[i].paddr);  /* p_vaddr */
		put32(ph + 12, (uint32_t)segs[i].paddr); /* p_paddr */
		put32(ph + 16, (uint32_t)segs[i].filesz);
		put32(ph + 20, (uint32_t)segs[i].memsz);
		put32(ph + 24, 7);
		put32(ph + 28, 0x1000);
	}
}

/* ELF64 executable for x86-64: header, program headers at 64. */
static void build_elf64(uint64_t entry, const struct segment *segs, unsigned n)
{
	memcpy(image, "\x7f" "ELF", 4);
	image[4] = 2; /* ELFCLASS64 */
	image[5] = 1;
	image[6] = 1;
	put16(16, 2);
	put16(18, 62); /* EM_X86_64 */
	put32(20, 1);
	put64(24, entry);
	put64(32, 64); /* e_phoff */
	put16(52, 64); /* e_ehsize */
	put16(54, 56); /* e_phentsize */
	put16(56, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		size_t ph = 64 + 56 * i;
		put32(ph, segs[i].type);
		put32(ph + 4, 7);
		put64(ph + 8, segs[i].offset);
		put64(ph + 16, segs[i].paddr);
		put64(ph + 24, segs[i].paddr);
		put64(ph + 32, segs[i].filesz);
		put64(ph + 40, segs[i].memsz);
		put64(ph + 48, 0x1000);
	}
}

/* The usual test kernel: one PT_LOAD of 0x80 file bytes and 0x200 in memory. */
static const struct segment one_load = { PT_LOAD, SEGMENT_OFFSET, KERNEL_PA, 0x80, 0x200 };
#define IMAGE_SIZE (SEGMENT_OFFSET + 0x80)

static void build_standard_elf32(void)
{
	build_elf32(KERNEL_PA + 0x10, &one_load, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0x3);
	fill_pattern(SEGMENT_OFFSET, 0x80);
}

/* Guest memory helpers. */
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

static uint8_t guest_byte(uint64_t gpa)
{
	uint8_t b;
	assert_true(guest_read(&vm, gpa, &b, 1));
	return b;
}

static uint32_t guest32(uint64_t gpa)
{
	uint8_t b[4];
	assert_true(guest_read(&vm, gpa, b, 4));
	return le32_read(b);
}

static const char *load(size_t size, const char *cmdline)
{
	return multiboot_load(&vm, image, size, cmdline);
}

#define assert_refused(err, reason)                                                  \
	do {                                                                         \
		const char *e_ = (err);                                              \
		if (!e_)                                                             \
			fail_msg("the image was accepted; expected \"%s\"", reason);  \
		if (!strstr(e_, reason))                                             \
			fail_msg("refused with \"%s\"; expected \"%s\"", e_, reason); \
	} while (0)

/* ---- Accepted kernels ---- */

static void test_elf32_segment_is_copied_and_its_bss_zeroed(void **state)
{
	(void)state;
	guest_fill(KERNEL_PA, 0xCC, 0x400);
	build_standard_elf32();

	assert_null(load(IMAGE_SIZE, "k"));
	for (unsigned i = 0; i < 0x80; i++)
		assert_int_equal(guest_byte(KERNEL_PA + i), image[SEGMENT_OFFSET + i]);
	for (unsigned i = 0x80; i < 0x200; i++)
		assert_int_equal(guest_byte(KERNEL_PA + i), 0);
	assert_int_equal(guest_byte(KERNEL_PA + 0x200), 0xCC); /* memsz ends there */
}

static void test_elf32_entry_and_info_address_are_returned(void **state)
{
	(void)state;
	build_standard_elf32();
	assert_null(load(IMAGE_SIZE, "k"));
	assert_int_equal(vm.boot.rip, KERNEL_PA + 0x10);
	assert_int_equal(vm.boot.gprs[GPR_RBX], MULTIBOOT_INFO_GPA);
}

/* The start state: flat 32-bit protected mode at the entry, the magic in
 * EAX, and a real boot GDT (as GRUB and QEMU leave one) holding the
 * selectors the vCPU starts with, in the reserved area. */
static void test_start_state_has_a_real_boot_gdt(void **state)
{
	(void)state;
	build_standard_elf32();
	assert_null(load(IMAGE_SIZE, "k"));
	assert_int_equal(vm.boot.gprs[GPR_RAX], MULTIBOOT_BOOTLOADER_MAGIC);
	assert_int_equal(vm.boot.cr0, CR0_PE | CR0_ET);
	assert_int_equal(vm.boot.rflags, RFLAGS_RESERVED_1); /* IF = 0 */
	assert_int_equal(vm.boot.gdtr_base, MULTIBOOT_GDT_GPA);
	assert_int_equal(vm.boot.gdtr_limit, 3 * 8 - 1);
	assert_true(MULTIBOOT_GDT_GPA >= MULTIBOOT_INFO_GPA && MULTIBOOT_GDT_GPA + 24 <= MULTIBOOT_AREA_END);
	assert_int_equal(vm.boot.cs.selector, 0x08);
	assert_int_equal(vm.boot.ds.selector, 0x10);
	assert_int_equal(vm.boot.ss.selector, 0x10);
	uint64_t gdt[3];
	assert_true(guest_read(&vm, MULTIBOOT_GDT_GPA, gdt, sizeof(gdt)));
	assert_int_equal(gdt[0], 0);
	assert_int_equal(gdt[1], 0x00CF9B000000FFFFULL); /* flat code, DPL 0, accessed */
	assert_int_equal(gdt[2], 0x00CF93000000FFFFULL); /* flat data, DPL 0, accessed */
}

static void test_info_block_has_flags_and_memory_sizes(void **state)
{
	(void)state;
	build_standard_elf32();
	assert_null(load(IMAGE_SIZE, "k"));
	/* Multiboot spec 3.3: mem_* (bit 0), cmdline (2), mods (3), mmap (6). */
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA + 0), 0x4D);
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA + 4), 636);                 /* KiB below 0x9F000 */
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA + 8), (RAM - MiB) / 1024); /* KiB above 1 MiB */
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA + 20), 0);                  /* mods_count */
}

static void test_info_block_has_a_memory_map(void **state)
{
	(void)state;
	build_standard_elf32();
	assert_null(load(IMAGE_SIZE, "k"));
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA + 44), 3 * 24); /* mmap_length */
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA + 48), MULTIBOOT_MMAP_GPA);

	static const struct {
		uint64_t base, len;
		uint32_t type;
	} expected[3] = {
		{ 0, 0x9F000, 1 },
		{ 0x9F000, 0x61000, 2 },
		{ 0x100000, RAM - 0x100000, 1 },
	};
	uint8_t e[24];
	for (unsigned i = 0; i < 3; i++) {
		assert_true(guest_read(&vm, MULTIBOOT_MMAP_GPA + 24 * i, e, sizeof(e)));
		assert_int_equal(le32_read(e), 20); /* size, not counting itself */
		assert_int_equal(le64_read(e + 4), expected[i].base);
		assert_int_equal(le64_read(e + 12), expected[i].len);
		assert_int_equal(le32_read(e + 20), expected[i].type);
	}
}

static void test_info_block_has_the_command_line(void **state)
{
	(void)state;
	char cmdline[64] = { 0 };

	build_standard_elf32();
	assert_null(load(IMAGE_SIZE, "hello mem=4M verbose"));
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA + 16), MULTIBOOT_CMDLINE_GPA);
	assert_true(guest_read(&vm, MULTIBOOT_CMDLINE_GPA, cmdline, sizeof(cmdline)));
	assert_string_equal(cmdline, "hello mem=4M verbose");
}

static void test_long_command_line_is_cut_and_terminated(void **state)
{
	(void)state;
	static char cmdline[5000];
	size_t room = MULTIBOOT_MOD_STRINGS_GPA - MULTIBOOT_CMDLINE_GPA - 1;

	memset(cmdline, 'c', sizeof(cmdline) - 1);
	build_standard_elf32();
	assert_null(load(IMAGE_SIZE, cmdline));
	assert_int_equal(guest_byte(MULTIBOOT_CMDLINE_GPA + room - 1), 'c');
	assert_int_equal(guest_byte(MULTIBOOT_CMDLINE_GPA + room), 0);
	/* The module strings after the command line stay zero. */
	assert_int_equal(guest32(MULTIBOOT_MOD_STRINGS_GPA), 0);
}

static void test_elf32_non_load_headers_are_skipped(void **state)
{
	(void)state;
	const struct segment segs[3] = {
		{ PT_NOTE, 0xFFFFFF, 0xFFFFFFF, 0x1000, 0x10 }, /* nonsense, never loaded */
		{ PT_LOAD, SEGMENT_OFFSET, KERNEL_PA, 0x40, 0x40 },
		{ PT_LOAD, SEGMENT_OFFSET + 0x40, 0x300000, 0x40, 0x1000 },
	};
	build_elf32(KERNEL_PA, segs, 3);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	fill_pattern(SEGMENT_OFFSET, 0x80);

	assert_null(load(SEGMENT_OFFSET + 0x80, ""));
	assert_int_equal(guest_byte(KERNEL_PA + 0x3F), image[SEGMENT_OFFSET + 0x3F]);
	assert_int_equal(guest_byte(0x300000), image[SEGMENT_OFFSET + 0x40]);
	assert_int_equal(guest_byte(0x30003F), image[SEGMENT_OFFSET + 0x7F]);
}

static void test_elf64_kernel_is_loaded(void **state)
{
	(void)state;
	const struct segment seg = { PT_LOAD, SEGMENT_OFFSET, 0x200000, 0x100, 0x180 };
	guest_fill(0x200000, 0xCC, 0x200);
	build_elf64(0x200040, &seg, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0x2);
	fill_pattern(SEGMENT_OFFSET, 0x100);

	assert_null(load(SEGMENT_OFFSET + 0x100, "x"));
	assert_int_equal(vm.boot.rip, 0x200040);
	for (unsigned i = 0; i < 0x100; i++)
		assert_int_equal(guest_byte(0x200000 + i), image[SEGMENT_OFFSET + i]);
	assert_int_equal(guest_byte(0x200100), 0);
	assert_int_equal(guest_byte(0x20017F), 0);
	assert_int_equal(guest_byte(0x200180), 0xCC);
}

/* A flat binary whose Multiboot header (at 0x40) gives the addresses (spec 3.1.3). */
static size_t build_aout_kludge(uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	size_t size = 0x800;

	fill_pattern(0, size);
	image[0] = 0xEB; /* jmp: not ELF */
	put_multiboot_header(0x40, MULTIBOOT_FLAG_AOUT_KLUDGE);
	put32(0x40 + 12, KERNEL_PA + 0x40); /* header_addr */
	put32(0x40 + 16, KERNEL_PA);        /* load_addr */
	put32(0x40 + 20, load_end);
	put32(0x40 + 24, bss_end);
	put32(0x40 + 28, entry);
	return size;
}

static void test_aout_kludge_loads_the_whole_file_and_bss(void **state)
{
	(void)state;
	guest_fill(KERNEL_PA, 0xCC, 0x1000);
	size_t size = build_aout_kludge(0, KERNEL_PA + 0x900, KERNEL_PA + 0x20);

	assert_null(load(size, ""));
	assert_int_equal(vm.boot.rip, KERNEL_PA + 0x20);
	for (unsigned i = 0; i < size; i++)
		assert_int_equal(guest_byte(KERNEL_PA + i), image[i]);
	for (unsigned i = size; i < 0x900; i++)
		assert_int_equal(guest_byte(KERNEL_PA + i), 0);
	assert_int_equal(guest_byte(KERNEL_PA + 0x900), 0xCC);
}

static void test_aout_kludge_load_end_limits_the_file_bytes(void **state)
{
	(void)state;
	guest_fill(KERNEL_PA, 0xCC, 0x1000);
	size_t size = build_aout_kludge(KERNEL_PA + 0x100, KERNEL_PA + 0x200, KERNEL_PA);

	assert_null(load(size, ""));
	assert_int_equal(guest_byte(KERNEL_PA + 0xFF), image[0xFF]);
	assert_int_equal(guest_byte(KERNEL_PA + 0x100), 0);
	assert_int_equal(guest_byte(KERNEL_PA + 0x1FF), 0);
	assert_int_equal(guest_byte(KERNEL_PA + 0x200), 0xCC);
}

static void test_aout_kludge_load_addr_can_skip_the_start_of_the_file(void **state)
{
	(void)state;
	size_t size = build_aout_kludge(0, 0, KERNEL_PA);
	/* The header (file offset 0x40) loads at KERNEL_PA + 0x20: the file's
	 * first 0x20 bytes are not part of the kernel. */
	put32(0x40 + 12, KERNEL_PA + 0x20);

	assert_null(load(size, ""));
	for (unsigned i = 0; i < size - 0x20; i++)
		assert_int_equal(guest_byte(KERNEL_PA + i), image[0x20 + i]);
	assert_int_equal(guest_byte(KERNEL_PA + size - 0x20), 0);
}

static void test_header_in_the_last_slot_of_8_kib_is_found(void **state)
{
	(void)state;
	build_elf32(KERNEL_PA, &(struct segment){ PT_LOAD, 0x2100, KERNEL_PA, 0x10, 0x10 }, 1);
	put_multiboot_header(MULTIBOOT_SEARCH_BYTES - 12, 0);
	assert_null(load(0x2110, ""));
}

/* ---- Refused images ---- */

static void test_refuses_a_flat_binary_without_the_kludge(void **state)
{
	(void)state;
	fill_pattern(0, 0x400);
	put_multiboot_header(0x40, 0x3);
	assert_refused(load(0x400, ""), "not an ELF file and no a.out kludge");
}

static void test_refuses_an_elf_without_multiboot_header(void **state)
{
	(void)state;
	build_elf32(KERNEL_PA, &one_load, 1);
	assert_refused(load(IMAGE_SIZE, ""), "no Multiboot header in the first 8 KiB");
}

static void test_refuses_a_header_past_the_first_8_kib(void **state)
{
	(void)state;
	build_elf32(KERNEL_PA, &(struct segment){ PT_LOAD, 0x2100, KERNEL_PA, 0x10, 0x10 }, 1);
	put_multiboot_header(MULTIBOOT_SEARCH_BYTES - 8, 0); /* straddles the limit */
	assert_refused(load(0x2110, ""), "no Multiboot header");
	memset(image + MULTIBOOT_SEARCH_BYTES - 8, 0, 12);
	put_multiboot_header(MULTIBOOT_SEARCH_BYTES, 0);
	assert_refused(load(0x2110, ""), "no Multiboot header");
}

static void test_refuses_a_misaligned_header(void **state)
{
	(void)state;
	build_elf32(KERNEL_PA + 0x10, &one_load, 1);
	put_multiboot_header(MB_HEADER_OFFSET + 2, 0);
	assert_refused(load(IMAGE_SIZE, ""), "no Multiboot header");
}

static void test_refuses_a_header_with_a_bad_checksum(void **state)
{
	(void)state;
	build_standard_elf32();
	put32(MB_HEADER_OFFSET + 8, le32_read(image + MB_HEADER_OFFSET + 8) + 1);
	assert_refused(load(IMAGE_SIZE, ""), "no Multiboot header");
}

static void test_refuses_a_segment_outside_guest_ram(void **state)
{
	(void)state;
	const struct segment seg = { PT_LOAD, SEGMENT_OFFSET, RAM - 0x100, 0x80, 0x200 };
	build_elf32(KERNEL_PA, &seg, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(IMAGE_SIZE, ""), "a segment lies outside guest RAM");
}

static void test_refuses_a_segment_above_guest_ram(void **state)
{
	(void)state;
	const struct segment seg = { PT_LOAD, SEGMENT_OFFSET, 0xFFFFF000, 0x80, 0x80 };
	build_elf32(KERNEL_PA, &seg, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(IMAGE_SIZE, ""), "a segment lies outside guest RAM");
}

static void test_refuses_a_64_bit_segment_whose_end_wraps(void **state)
{
	(void)state;
	const struct segment seg = { PT_LOAD, SEGMENT_OFFSET, KERNEL_PA, 0x80,
				     UINT64_MAX - KERNEL_PA + 2 };
	build_elf64(KERNEL_PA, &seg, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(IMAGE_SIZE, ""), "a segment lies outside guest RAM");
}

static void test_refuses_a_segment_outside_the_file(void **state)
{
	(void)state;
	const struct segment seg = { PT_LOAD, SEGMENT_OFFSET, KERNEL_PA, 0x100, 0x100 };
	build_elf32(KERNEL_PA, &seg, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(SEGMENT_OFFSET + 0xFF, ""), "a segment lies outside the image file");
	const struct segment far = { PT_LOAD, 0x7FFFFFFF, KERNEL_PA, 0x10, 0x10 };
	build_elf32(KERNEL_PA, &far, 1);
	assert_refused(load(IMAGE_SIZE, ""), "a segment lies outside the image file");
}

static void test_refuses_filesz_larger_than_memsz(void **state)
{
	(void)state;
	const struct segment seg = { PT_LOAD, SEGMENT_OFFSET, KERNEL_PA, 0x80, 0x7F };
	build_elf32(KERNEL_PA, &seg, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(IMAGE_SIZE, ""), "file size exceeds its memory size");
}

static void test_refuses_a_segment_over_the_multiboot_area(void **state)
{
	(void)state;
	const struct segment seg = { PT_LOAD, SEGMENT_OFFSET, 0x9E000, 0x80, 0x2000 };
	build_elf32(0x9E000, &seg, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(IMAGE_SIZE, ""), "overlaps the Multiboot information area");
}

static void test_refuses_program_headers_outside_the_file(void **state)
{
	(void)state;
	build_standard_elf32();
	put32(28, IMAGE_SIZE - 16); /* e_phoff: the one header would end past the file */
	assert_refused(load(IMAGE_SIZE, ""), "program headers lie outside the image file");
	put32(28, 0xFFFFFFF0);
	assert_refused(load(IMAGE_SIZE, ""), "program headers lie outside the image file");
}

static void test_refuses_program_headers_that_are_too_small(void **state)
{
	(void)state;
	build_standard_elf32();
	put16(42, 16); /* e_phentsize below sizeof(Elf32_Phdr) */
	assert_refused(load(IMAGE_SIZE, ""), "program headers lie outside the image file");
}

static void test_refuses_an_entry_point_outside_ram(void **state)
{
	(void)state;
	build_standard_elf32();
	put32(24, RAM);
	assert_refused(load(IMAGE_SIZE, ""), "the entry point lies outside guest RAM");
}

static void test_refuses_an_aout_entry_point_outside_ram(void **state)
{
	(void)state;
	size_t size = build_aout_kludge(0, 0, RAM + 0x1000);
	assert_refused(load(size, ""), "the entry point lies outside guest RAM");
}

static void test_refuses_a_truncated_elf_header(void **state)
{
	(void)state;
	memcpy(image, "\x7f" "ELF", 4);
	image[4] = 1;
	image[5] = 1;
	put_multiboot_header(16, 0);
	assert_refused(load(40, ""), "the ELF header is truncated");
	image[4] = 2;
	assert_refused(load(60, ""), "the ELF header is truncated");
}

static void test_refuses_a_truncated_kludge_header(void **state)
{
	(void)state;
	fill_pattern(0, 0x100);
	put_multiboot_header(0x80, MULTIBOOT_FLAG_AOUT_KLUDGE);
	assert_refused(load(0x80 + 28, ""), "the Multiboot header is truncated");
}

static void test_refuses_an_elf_without_pt_load(void **state)
{
	(void)state;
	const struct segment note = { PT_NOTE, SEGMENT_OFFSET, KERNEL_PA, 0x10, 0x10 };
	build_elf32(KERNEL_PA, &note, 1);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(IMAGE_SIZE, ""), "the ELF file has no loadable segment");
}

static void test_refuses_an_elf_without_program_headers(void **state)
{
	(void)state;
	build_elf32(KERNEL_PA, NULL, 0);
	put_multiboot_header(MB_HEADER_OFFSET, 0);
	assert_refused(load(IMAGE_SIZE, ""), "the ELF file has no program headers");
}

static void test_refuses_elf_files_of_the_wrong_kind(void **state)
{
	(void)state;
	build_standard_elf32();
	image[4] = 3;
	assert_refused(load(IMAGE_SIZE, ""), "unknown ELF class");
	build_standard_elf32();
	image[5] = 2;
	assert_refused(load(IMAGE_SIZE, ""), "not a little-endian ELF file");
	build_standard_elf32();
	put16(16, 3); /* ET_DYN */
	assert_refused(load(IMAGE_SIZE, ""), "not an ELF executable");
	build_standard_elf32();
	put16(18, 62); /* EM_X86_64 in an ELF32 file */
	assert_refused(load(IMAGE_SIZE, ""), "not an x86 ELF file");
}

static void test_refuses_inconsistent_kludge_addresses(void **state)
{
	(void)state;
	size_t size = build_aout_kludge(0, 0, KERNEL_PA);
	put32(0x40 + 16, KERNEL_PA + 0x41); /* load_addr above header_addr */
	assert_refused(load(size, ""), "a.out kludge addresses are inconsistent");
	size = build_aout_kludge(0, 0, KERNEL_PA);
	put32(0x40 + 16, KERNEL_PA - 0x1000); /* the header would sit before the file */
	assert_refused(load(size, ""), "a.out kludge addresses are inconsistent");
	size = build_aout_kludge(KERNEL_PA - 1, 0, KERNEL_PA);
	assert_refused(load(size, ""), "load_end_addr is below load_addr");
}

static void test_refuses_guest_ram_below_2_mib(void **state)
{
	(void)state;
	build_standard_elf32();
	vm.ram_size = MiB; /* vm_create never makes one this small */
	const char *err = load(IMAGE_SIZE, "");
	vm.ram_size = RAM;
	assert_refused(err, "smaller than 2 MiB");
}

static void test_refused_image_leaves_guest_memory_alone(void **state)
{
	(void)state;
	guest_fill(KERNEL_PA, 0xCC, 0x400);
	guest_fill(MULTIBOOT_INFO_GPA, 0xDD, 0x1000);
	build_standard_elf32();
	put32(24, RAM + 4); /* refused before anything is copied */

	assert_refused(load(IMAGE_SIZE, ""), "entry point");
	assert_int_equal(guest_byte(KERNEL_PA), 0xCC);
	assert_int_equal(guest32(MULTIBOOT_INFO_GPA), 0xDDDDDDDD);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_vm, teardown_vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_elf32_segment_is_copied_and_its_bss_zeroed),
		T(test_elf32_entry_and_info_address_are_returned),
		T(test_start_state_has_a_real_boot_gdt),
		T(test_info_block_has_flags_and_memory_sizes),
		T(test_info_block_has_a_memory_map),
		T(test_info_block_has_the_command_line),
		T(test_long_command_line_is_cut_and_terminated),
		T(test_elf32_non_load_headers_are_skipped),
		T(test_elf64_kernel_is_loaded),
		T(test_aout_kludge_loads_the_whole_file_and_bss),
		T(test_aout_kludge_load_end_limits_the_file_bytes),
		T(test_aout_kludge_load_addr_can_skip_the_start_of_the_file),
		T(test_header_in_the_last_slot_of_8_kib_is_found),
		T(test_refuses_a_flat_binary_without_the_kludge),
		T(test_refuses_an_elf_without_multiboot_header),
		T(test_refuses_a_header_past_the_first_8_kib),
		T(test_refuses_a_misaligned_header),
		T(test_refuses_a_header_with_a_bad_checksum),
		T(test_refuses_a_segment_outside_guest_ram),
		T(test_refuses_a_segment_above_guest_ram),
		T(test_refuses_a_64_bit_segment_whose_end_wraps),
		T(test_refuses_a_segment_outside_the_file),
		T(test_refuses_filesz_larger_than_memsz),
		T(test_refuses_a_segment_over_the_multiboot_area),
		T(test_refuses_program_headers_outside_the_file),
		T(test_refuses_program_headers_that_are_too_small),
		T(test_refuses_an_entry_point_outside_ram),
		T(test_refuses_an_aout_entry_point_outside_ram),
		T(test_refuses_a_truncated_elf_header),
		T(test_refuses_a_truncated_kludge_header),
		T(test_refuses_an_elf_without_pt_load),
		T(test_refuses_an_elf_without_program_headers),
		T(test_refuses_elf_files_of_the_wrong_kind),
		T(test_refuses_inconsistent_kludge_addresses),
		T(test_refuses_guest_ram_below_2_mib),
		T(test_refused_image_leaves_guest_memory_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
