/*
 * Loads a Multiboot (v1) kernel into a VM the way QEMU's -kernel does
 * (Multiboot Specification 0.6.96, sections 3.1 and 3.3): ELF32/ELF64
 * PT_LOAD segments at their physical addresses (or the a.out kludge
 * addresses when header flag 16 is set), then a Multiboot information
 * block for EBX.
 */
#ifndef CVISOR_VM_MULTIBOOT_LOADER_H
#define CVISOR_VM_MULTIBOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "vm/vm.h"

#define MULTIBOOT_HEADER_MAGIC     0x1BADB002u
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_SEARCH_BYTES     8192
#define MULTIBOOT_FLAG_AOUT_KLUDGE (1u << 16)

/* Where the information block, memory map and command line go: a 4 KiB
 * area at the top of conventional memory, reported as reserved. */
#define MULTIBOOT_INFO_GPA    0x9F000u
#define MULTIBOOT_MMAP_GPA    0x9F100u
#define MULTIBOOT_CMDLINE_GPA 0x9F200u
#define MULTIBOOT_AREA_END    0xA0000u
#define MULTIBOOT_LOW_RAM_END 0x9F000u

struct multiboot_start {
	uint32_t entry;    /* EIP */
	uint32_t info_gpa; /* EBX; EAX is MULTIBOOT_BOOTLOADER_MAGIC */
};

/*
 * Loads image (size bytes, host memory) into vm.  Returns NULL on success,
 * else a one-line reason the image is refused (nothing runs then).
 */
const char *multiboot_load(struct vm *vm, const void *image, size_t size,
			   const char *cmdline, struct multiboot_start *start);

#endif
