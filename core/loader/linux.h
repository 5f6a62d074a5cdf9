/*
 * Loads a Linux bzImage into a VM through the Linux/x86 boot protocol's
 * 32-bit entry (the kernel's Documentation/arch/x86/boot.rst, "32-bit Boot
 * Protocol", and Documentation/arch/x86/zero-page.rst), as a boot loader
 * without firmware does:
 *
 *   - the image is a bzImage: the boot sector's 0xAA55 at 0x1FE, "HdrS"
 *     at 0x202, protocol 2.12 or later, LOADED_HIGH in loadflags;
 *   - its protected-mode part (the bytes after the (setup_sects + 1) * 512
 *     bytes of real-mode setup, which never runs) is copied to
 *     pref_address, or, for a relocatable kernel whose pref_address does
 *     not fit, to the lowest address at or above 1 MiB aligned to
 *     kernel_alignment; init_size bytes from there must be RAM;
 *   - the initrd goes as high as RAM and initrd_addr_max allow, page
 *     aligned, above the kernel's init_size;
 *   - the zero page (struct boot_params) gets the image's setup header and
 *     what the loader fills in: type_of_loader 0xFF (cvisor has no
 *     assigned boot loader ID), code32_start, cmd_line_ptr, the ramdisk
 *     fields, vid_mode "normal", the RSDP's address (acpi_rsdp_addr) and
 *     the e820 memory map;
 *   - the vCPU starts in 32-bit protected mode with paging off, CS =
 *     __BOOT_CS (0x10), DS = ES = SS = FS = GS = __BOOT_DS (0x18) from the
 *     boot GDT (loader/boot_gdt.h), interrupts off, ESI = the zero page,
 *     every other general register 0, EIP = the load address.
 *
 * Guest-physical layout below 1 MiB: the zero page at LINUX_ZERO_PAGE_GPA
 * and the command line at LINUX_CMDLINE_GPA, in RAM the kernel copies them
 * out of before it uses that RAM (they are in the e820 map as RAM, as a
 * BIOS loader's setup area is); the boot GDT in the reserved boot area.
 */
#ifndef CVISOR_LOADER_LINUX_H
#define CVISOR_LOADER_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm.h"

/* Setup header fields (boot.rst, "The Real-Mode Kernel Header"): offsets
 * in the image's first sectors and in the zero page alike. */
#define LINUX_HDR_START            0x1F1 /* the header's first byte: setup_sects */
#define LINUX_HDR_SETUP_SECTS      0x1F1 /* 1: setup sectors; 0 means 4 */
#define LINUX_HDR_VID_MODE         0x1FA /* 2: video mode control */
#define LINUX_HDR_BOOT_FLAG        0x1FE /* 2: 0xAA55 */
#define LINUX_HDR_JUMP             0x200 /* 2: 0xEB, then the header's end - 0x202 */
#define LINUX_HDR_HEADER           0x202 /* 4: "HdrS" */
#define LINUX_HDR_VERSION          0x206 /* 2: protocol version, (major << 8) | minor */
#define LINUX_HDR_TYPE_OF_LOADER   0x210 /* 1: boot loader identifier */
#define LINUX_HDR_LOADFLAGS        0x211 /* 1: boot protocol option flags */
#define LINUX_HDR_CODE32_START     0x214 /* 4: the 32-bit entry (the load address) */
#define LINUX_HDR_RAMDISK_IMAGE    0x218 /* 4: initrd load address */
#define LINUX_HDR_RAMDISK_SIZE     0x21C /* 4: initrd size */
#define LINUX_HDR_CMD_LINE_PTR     0x228 /* 4: the command line's address */
#define LINUX_HDR_INITRD_ADDR_MAX  0x22C /* 4: highest address an initrd byte may have */
#define LINUX_HDR_KERNEL_ALIGNMENT 0x230 /* 4: alignment of a relocatable kernel */
#define LINUX_HDR_RELOCATABLE      0x234 /* 1: nonzero: the kernel is relocatable */
#define LINUX_HDR_XLOADFLAGS       0x236 /* 2: more option flags (2.12+) */
#define LINUX_HDR_CMDLINE_SIZE     0x238 /* 4: longest command line, without its NUL */
#define LINUX_HDR_PREF_ADDRESS     0x258 /* 8: preferred load address */
#define LINUX_HDR_INIT_SIZE        0x260 /* 4: bytes the kernel needs from its start */
#define LINUX_HDR_MIN_END          0x264 /* the header must reach past init_size */

#define LINUX_BOOT_FLAG            0xAA55
#define LINUX_HDRS_MAGIC           0x53726448u /* "HdrS" */
#define LINUX_MIN_PROTOCOL         0x020C      /* 2.12: xloadflags (Linux 3.8) */
#define LINUX_LOADED_HIGH          0x01        /* loadflags bit 0: a bzImage */
#define LINUX_XLF_KERNEL_64        0x0001      /* xloadflags bit 0: 64-bit entry at +0x200 */
#define LINUX_TYPE_OF_LOADER       0xFF        /* "undefined": no assigned ID */
#define LINUX_VID_MODE_NORMAL      0xFFFF      /* boot.rst, vga=normal */

/* struct boot_params (zero-page.rst): the fields the loader fills in. */
#define LINUX_ZERO_PAGE_SIZE       4096
#define LINUX_BP_ACPI_RSDP_ADDR    0x070 /* 8: the RSDP's physical address */
#define LINUX_BP_E820_ENTRIES      0x1E8 /* 1: entries in the e820 table */
#define LINUX_BP_E820_TABLE        0x2D0 /* 128 entries of 20 bytes */
#define LINUX_E820_MAX_ENTRIES     128
#define LINUX_E820_ENTRY_SIZE      20    /* u64 addr, u64 size, u32 type, packed */

/* e820 types (ACPI 6.3 table 15.1, address range types). */
#define E820_TYPE_RAM      1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI     3

/* Where the loader puts things in guest RAM. */
#define LINUX_ZERO_PAGE_GPA        0x7000u
#define LINUX_CMDLINE_GPA          0x20000u
#define LINUX_CMDLINE_ROOM         0x10000u  /* bytes, with the terminating NUL */
#define LINUX_KERNEL_MIN_GPA       0x100000u /* above the legacy hole and the BIOS area */
#define LINUX_DEFAULT_LOAD_GPA     0x100000u /* a bzImage's load address (boot.rst) */

#define LINUX_REASON_MAX 200

/* What the load decided, for the boot log, or why it refused. */
struct linux_placement {
	uint16_t protocol;        /* the image's boot protocol version */
	bool kernel_64;           /* xloadflags: it has a 64-bit entry */
	bool relocated;           /* relocatable, and not loaded at pref_address */
	uint64_t kernel_gpa;      /* load address = code32_start = EIP */
	uint64_t kernel_end;      /* kernel_gpa + init_size (or the image, if larger) */
	uint64_t initrd_gpa;      /* 0: no initrd */
	uint64_t initrd_size;
	unsigned e820_entries;
	char reason[LINUX_REASON_MAX]; /* a refusal's one line */
};

/* The image starts like a bzImage: 0xAA55 at 0x1FE and "HdrS" at 0x202
 * (older kernels and other images are not). */
bool linux_is_bzimage(const void *image, size_t size);

/*
 * Loads kernel (a bzImage, kernel_size bytes of host memory), the initrd
 * (initrd_size bytes; NULL or 0 for none) and the command line into vm
 * and sets vm->boot.  Everything is checked before anything is written.
 * Returns NULL on success, with *placement filled in, else a one-line
 * reason the guest is refused (in placement->reason).
 */
const char *linux_load(struct vm *vm, const void *kernel, size_t kernel_size,
		       const void *initrd, size_t initrd_size, const char *cmdline,
		       struct linux_placement *placement);

#endif
