/*
 * Loads a Multiboot (v1) kernel into a VM the way QEMU's -kernel does
 * (Multiboot Specification 0.6.96, sections 3.1 and 3.3): ELF32/ELF64
 * PT_LOAD segments at their physical addresses (or the a.out kludge
 * addresses when header flag 16 is set), then a Multiboot information
 * block for EBX.  The VM's initial register file (vm->boot) is the state
 * the Multiboot specification gives the kernel, with GDTR pointing at a
 * real flat GDT in the reserved area as GRUB and QEMU leave one, so a
 * kernel that loads only an IDT can take exceptions.
 */
#ifndef CVISOR_LOADER_MULTIBOOT_H
#define CVISOR_LOADER_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "loader/boot_gdt.h"
#include "vm/vm.h"

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_SEARCH_BYTES     8192
#define MULTIBOOT_FLAG_AOUT_KLUDGE (1u << 16)

/* Where the information block, memory map, module list and strings go: a
 * 4 KiB area at the top of conventional memory, reported as reserved. */
#define MULTIBOOT_INFO_GPA        BOOT_AREA_GPA
#define MULTIBOOT_MMAP_GPA        0x9F100u
#define MULTIBOOT_MODS_GPA        0x9F180u /* up to MULTIBOOT_MAX_MODULES entries */
#define MULTIBOOT_CMDLINE_GPA     0x9F200u /* up to 512 bytes */
#define MULTIBOOT_MOD_STRINGS_GPA 0x9F400u /* MULTIBOOT_MOD_STRING_MAX each */
#define MULTIBOOT_GDT_GPA         BOOT_GDT_GPA /* the boot GDT: null, code 0x08, data 0x10 */
#define MULTIBOOT_AREA_END        BOOT_AREA_END
#define MULTIBOOT_LOW_RAM_END     BOOT_AREA_GPA
#define MULTIBOOT_MAX_MODULES     8
#define MULTIBOOT_MOD_STRING_MAX  128

/* A module handed to the guest (Multiboot spec 3.3, mods_addr). */
struct multiboot_module {
	const void *data;
	size_t size;
	const char *cmdline;
};


/* The machine state a Multiboot kernel starts in, at entry with its
 * information block at info_gpa (the boot GDT itself is written by the load). */
void multiboot_start_state(struct guest_cpu_state *s, uint32_t entry, uint32_t info_gpa);

/*
 * Loads image (size bytes, host memory) into vm and sets vm->boot.  Returns
 * NULL on success, else a one-line reason the image is refused (nothing
 * runs then).
 */
const char *multiboot_load(struct vm *vm, const void *image, size_t size, const char *cmdline);
/* The same with modules: each is copied, page-aligned, above the kernel
 * image and listed in the information block (flag bit 3). */
const char *multiboot_load_with_modules(struct vm *vm, const void *image, size_t size,
					const char *cmdline,
					const struct multiboot_module *modules,
					unsigned module_count);

#endif
