/*
 * A bzImage-format test guest: what a Linux kernel's 32-bit entry finds
 * when cvisor boots it through the Linux/x86 boot protocol (Documentation/
 * arch/x86/boot.rst, "32-bit Boot Protocol"; zero-page.rst), checked from
 * the inside: the registers and segments at entry, the boot GDT, the zero
 * page's setup header and loader fields, the command line, the initrd and
 * the e820 map (with the ACPI tables it points at).  It prints PASS/FAIL
 * lines on the debug console (port 0xE9), as an early kernel would, and
 * no hypercall: it stops with isa-debug-exit (0xF4), 0 when all passed.
 *
 * tests/system/run-all (case linux_boot) boots it with mem=16M, the
 * command line after "--" below and an initrd holding INITRD_TEXT.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_intrin.h"
#include "lib/endian.h"
#include "lib/mem.h"

#define EXPECTED_CMDLINE "console=ttyS0 mem=999M linux_boot.check=42"
#define INITRD_TEXT      "cvisor initrd for the linux_boot guest\n"
#define VM_RAM           (16u << 20)
#define PORT_DEBUGCON    0xE9

/* Setup header and zero page offsets (boot.rst, zero-page.rst). */
#define HDR_SETUP_SECTS     0x1F1
#define HDR_BOOT_FLAG       0x1FE
#define HDR_HEADER          0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_CODE32_START    0x214
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21C
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_E820_ENTRIES     0x1E8
#define BP_SENTINEL         0x1EF
#define BP_E820_TABLE       0x2D0
#define E820_ENTRY_SIZE     20
#define E820_RAM            1
#define E820_RESERVED       2
#define E820_ACPI           3

/* What the entry (header.S) saved before it changed any register. */
struct boot_regs {
	uint32_t esi, ebp, edi, ebx;
	uint16_t cs, ds, es, ss, fs, gs;
	uint32_t cr0, eflags;
	uint16_t gdt_limit;
	uint32_t gdt_base;
} __attribute__((packed));
_Static_assert(offsetof(struct boot_regs, cr0) == 28, "header.S stores CR0 at +28");
_Static_assert(offsetof(struct boot_regs, eflags) == 32, "header.S stores EFLAGS at +32");
_Static_assert(offsetof(struct boot_regs, gdt_limit) == 36, "header.S stores GDTR at +36");

struct boot_regs boot_regs __attribute__((section(".data"))); /* header.S clears the BSS */
extern char linux_boot_entry[], _end[];
extern char kernel_init_size[]; /* a linker symbol: its address is the value */

int linux_boot_main(const struct boot_regs *regs);

static unsigned failed;

/* ---- The debug console ---- */

static void put_char(char c)
{
	guest_outb(PORT_DEBUGCON, (uint8_t)c);
}

static void put_string(const char *s)
{
	while (*s)
		put_char(*s++);
}

static void put_hex(uint32_t v)
{
	put_string("0x");
	for (int shift = 28; shift >= 0; shift -= 4)
		put_char("0123456789abcdef"[(v >> shift) & 0xF]);
}

static void put_hex64(uint64_t v)
{
	put_hex((uint32_t)(v >> 32));
	for (int shift = 28; shift >= 0; shift -= 4)
		put_char("0123456789abcdef"[(v >> shift) & 0xF]);
}

static void put_decimal(uint32_t v)
{
	char digits[10];
	unsigned n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		put_char(digits[--n]);
}

static void check(bool ok, const char *what)
{
	if (!ok)
		failed++;
	put_string(ok ? "PASS: " : "FAIL: ");
	put_string(what);
	put_char('\n');
}

/* Physical memory (paging is off).  The empty asm hides the constant
 * address from GCC, which otherwise takes a small one for a null pointer
 * plus an offset (-Warray-bounds). */
static const uint8_t *phys(uint32_t pa)
{
	uintptr_t p = pa;
	__asm__("" : "+r"(p));
	return (const uint8_t *)p;
}

/* ---- Entry state ---- */

/* A flat 4 GiB segment of this type (SDM Vol. 3A 3.4.5): base 0, limit
 * 0xFFFFF with G = 1, D/B = 1, P = 1, DPL 0, S = 1. */
static bool flat_descriptor(uint64_t d, uint8_t type)
{
	uint32_t base = (uint32_t)((d >> 16) & 0xFFFFFF) | (uint32_t)((d >> 56) & 0xFF) << 24;
	uint32_t limit = (uint32_t)(d & 0xFFFF) | (uint32_t)((d >> 48) & 0xF) << 16;
	uint8_t access = (uint8_t)(d >> 40), flags = (uint8_t)(d >> 52) & 0xF;

	return base == 0 && limit == 0xFFFFF && (access & 0x9E) == (0x90 | (type & 0xE)) &&
	       (access & 0x60) == 0 && flags == 0xC;
}

static void check_entry_state(const struct boot_regs *r)
{
	put_string("entry: ESI ");
	put_hex(r->esi);
	put_string(", CS ");
	put_hex(r->cs);
	put_string(", DS ");
	put_hex(r->ds);
	put_string(", GDT at ");
	put_hex(r->gdt_base);
	put_string(" limit ");
	put_hex(r->gdt_limit);
	put_char('\n');
	check((r->cr0 & 1) && !(r->cr0 & 0x80000000u),
	      "protected mode with paging off (CR0.PE = 1, CR0.PG = 0)");
	check(!(r->eflags & 0x200), "interrupts are off (EFLAGS.IF = 0)");
	check(r->cs == 0x10, "CS is __BOOT_CS (0x10)");
	check(r->ds == 0x18 && r->es == 0x18 && r->ss == 0x18, "DS, ES and SS are __BOOT_DS (0x18)");
	check(r->ebp == 0 && r->edi == 0 && r->ebx == 0, "EBP, EDI and EBX are zero");
	check(r->esi != 0 && (r->esi & 0xFFF) == 0 && r->esi < 0x9F000,
	      "ESI holds a page-aligned zero page in low memory");
	const uint8_t *gdt = phys(r->gdt_base);
	bool room = r->gdt_limit >= 0x1F;
	check(room && flat_descriptor(le64_read(gdt + 0x10), 0xA),
	      "the GDT's 0x10 is a flat 32-bit execute/read code segment");
	check(room && flat_descriptor(le64_read(gdt + 0x18), 0x2),
	      "the GDT's 0x18 is a flat 32-bit read/write data segment");
}

/* ---- The zero page ---- */

static void check_zero_page(const uint8_t *zp)
{
	put_string("zero page: protocol ");
	put_hex(le16_read(zp + HDR_VERSION));
	put_string(", type_of_loader ");
	put_hex(zp[HDR_TYPE_OF_LOADER]);
	put_string(", code32_start ");
	put_hex(le32_read(zp + HDR_CODE32_START));
	put_char('\n');
	check(le16_read(zp + HDR_BOOT_FLAG) == 0xAA55 && le32_read(zp + HDR_HEADER) == 0x53726448 &&
		      zp[HDR_SETUP_SECTS] == 1 && le16_read(zp + HDR_VERSION) == 0x020F,
	      "the zero page holds this image's setup header");
	check(le32_read(zp + HDR_PREF_ADDRESS) == (uint32_t)(uintptr_t)linux_boot_entry &&
		      le32_read(zp + HDR_INIT_SIZE) == (uint32_t)(uintptr_t)kernel_init_size &&
		      le32_read(zp + HDR_CMDLINE_SIZE) == 255,
	      "pref_address, init_size and cmdline_size are the image's");
	check(zp[HDR_TYPE_OF_LOADER] == 0xFF, "type_of_loader is 0xFF (no assigned ID)");
	check(zp[HDR_LOADFLAGS] & 0x01, "loadflags keeps LOADED_HIGH");
	check(le32_read(zp + HDR_CODE32_START) == (uint32_t)(uintptr_t)linux_boot_entry,
	      "code32_start is where the kernel runs (its 32-bit entry)");
	check(zp[BP_SENTINEL] == 0, "the sentinel at 0x1EF is 0");
}

static void check_command_line(const uint8_t *zp)
{
	uint32_t ptr = le32_read(zp + HDR_CMD_LINE_PTR);
	const char *cmdline = (const char *)phys(ptr);
	size_t len = strnlen(cmdline, 256);

	put_string("command line at ");
	put_hex(ptr);
	put_string(": \"");
	put_string(len < 256 ? cmdline : "(not terminated)");
	put_string("\"\n");
	check(ptr != 0 && len == sizeof(EXPECTED_CMDLINE) - 1 &&
		      memcmp(cmdline, EXPECTED_CMDLINE, len) == 0,
	      "cmd_line_ptr names the command line given after --, with its NUL");
}

static void check_initrd(const uint8_t *zp)
{
	uint32_t at = le32_read(zp + HDR_RAMDISK_IMAGE), size = le32_read(zp + HDR_RAMDISK_SIZE);
	uint32_t kernel_end = (uint32_t)(uintptr_t)linux_boot_entry +
			      (uint32_t)(uintptr_t)kernel_init_size;

	put_string("initrd: ");
	put_decimal(size);
	put_string(" bytes at ");
	put_hex(at);
	put_char('\n');
	check(size == sizeof(INITRD_TEXT) - 1 && memcmp(phys(at), INITRD_TEXT, size) == 0,
	      "ramdisk_image and ramdisk_size name the initrd module's bytes");
	check((at & 0xFFF) == 0 && at >= kernel_end && at + size <= VM_RAM &&
		      at + size - 1 <= le32_read(zp + HDR_INITRD_ADDR_MAX),
	      "the initrd is page aligned, above init_size and below the end of RAM");
	check(VM_RAM - at <= 0x1000, "the initrd sits in the highest page that holds it");
}

/* ---- The e820 map ---- */

struct e820 {
	uint64_t addr, size;
	uint32_t type;
};

static struct e820 e820_entry(const uint8_t *zp, unsigned i)
{
	const uint8_t *e = zp + BP_E820_TABLE + i * E820_ENTRY_SIZE;
	return (struct e820){ le64_read(e), le64_read(e + 8), le32_read(e + 16) };
}

/* The type of the entry holding all of [addr, addr + len), or 0. */
static uint32_t e820_type(const uint8_t *zp, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < zp[BP_E820_ENTRIES]; i++) {
		struct e820 e = e820_entry(zp, i);
		if (addr >= e.addr && addr + len <= e.addr + e.size)
			return e.type;
	}
	return 0;
}

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

static void check_e820(const struct boot_regs *r, const uint8_t *zp)
{
	unsigned n = zp[BP_E820_ENTRIES];
	bool sorted = n > 0 && n <= 128;
	uint64_t ram = 0;

	for (unsigned i = 0; i < n && i < 128; i++) {
		struct e820 e = e820_entry(zp, i);
		put_string("e820: ");
		put_hex64(e.addr);
		put_string(" + ");
		put_hex64(e.size);
		put_string(" type ");
		put_decimal(e.type);
		put_char('\n');
		if (e.size == 0 || (i && e.addr < e820_entry(zp, i - 1).addr + e820_entry(zp, i - 1).size))
			sorted = false;
		if (e.type == E820_RAM)
			ram += e.size;
	}
	check(sorted, "the e820 entries are sorted and do not overlap");
	check(e820_type(zp, 0, 0x9F000) == E820_RAM &&
		      e820_type(zp, 0x100000, VM_RAM - 0x100000) == E820_RAM &&
		      ram == VM_RAM - 0x100000 + 0x9F000,
	      "RAM is 0-0x9efff and 1 MiB to the end of the VM's 16 MiB");
	check(e820_type(zp, r->esi, 4096) == E820_RAM &&
		      e820_type(zp, (uint32_t)(uintptr_t)linux_boot_entry,
				(uint32_t)(uintptr_t)kernel_init_size) == E820_RAM,
	      "the zero page and the kernel's init_size are in RAM");
	check(e820_type(zp, r->gdt_base, r->gdt_limit + 1u) == E820_RESERVED &&
		      e820_type(zp, 0x9FC00, 0x400) == E820_RESERVED &&
		      e820_type(zp, 0xA0000, 0x40000) == E820_RESERVED,
	      "the boot GDT, the EBDA and the legacy hole are reserved");
	check(e820_type(zp, 0xFEC00000, 0x1000) == E820_RESERVED &&
		      e820_type(zp, 0xFEE00000, 0x1000) == E820_RESERVED &&
		      e820_type(zp, 0xFEBFF000, 0x1000) == E820_RESERVED,
	      "the I/O APIC, local APIC and debug-console pages are reserved");

	/* acpi_rsdp_addr and what it leads to. */
	uint64_t rsdp_addr = le64_read(zp + BP_ACPI_RSDP_ADDR);
	const uint8_t *rsdp = phys((uint32_t)rsdp_addr);
	check(rsdp_addr && rsdp_addr < 0x100000 && memcmp(rsdp, "RSD PTR ", 8) == 0 &&
		      checksum_ok(rsdp, 20) && checksum_ok(rsdp, 36),
	      "acpi_rsdp_addr names a valid RSDP");
	uint32_t rsdt = le32_read(rsdp + 16);
	const uint8_t *fadt = phys(le32_read(phys(rsdt) + 36));
	uint32_t facs = le32_read(fadt + 36);
	check(memcmp(phys(rsdt), "RSDT", 4) == 0 &&
		      e820_type(zp, rsdt, le32_read(phys(rsdt) + 4)) == E820_ACPI &&
		      memcmp(fadt, "FACP", 4) == 0 &&
		      e820_type(zp, (uint32_t)(uintptr_t)fadt, le32_read(fadt + 4)) == E820_ACPI,
	      "the RSDT and the FADT are in ACPI memory (type 3)");
	check(e820_type(zp, rsdp_addr, 36) == E820_RESERVED && e820_type(zp, facs, 64) == E820_RESERVED,
	      "the RSDP and the FACS are reserved (ACPI 6.3 5.2.10)");
}

int linux_boot_main(const struct boot_regs *regs)
{
	put_string("linux_boot: started by the 32-bit boot protocol at ");
	put_hex((uint32_t)(uintptr_t)linux_boot_entry);
	put_char('\n');
	check_entry_state(regs);
	const uint8_t *zp = phys(regs->esi);
	check_zero_page(zp);
	check_command_line(zp);
	check_initrd(zp);
	check_e820(regs, zp);
	put_string("linux_boot: done, ");
	put_decimal(failed);
	put_string(" failure(s)\n");
	return (int)failed;
}
