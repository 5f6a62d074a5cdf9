/*
 * What the loaders (loader/multiboot.c, loader/linux.c) share: the 4 KiB
 * boot area cvisor reserves at the top of conventional memory, the flat
 * boot GDT in it, and the 32-bit protected-mode start state whose segment
 * registers hold that GDT's selectors.
 *
 * Each boot protocol names its own selectors: Multiboot leaves GDTR
 * undefined (Multiboot spec 3.2) and cvisor gives code 0x08 and data 0x10
 * as GRUB and QEMU do; Linux's 32-bit boot protocol (Documentation/arch/
 * x86/boot.rst, "32-bit Boot Protocol") requires __BOOT_CS 0x10 and
 * __BOOT_DS 0x18.  One function builds both GDTs: flat descriptors at the
 * two selectors, null descriptors in every other slot below them.
 */
#ifndef CVISOR_LOADER_BOOT_GDT_H
#define CVISOR_LOADER_BOOT_GDT_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/guest_state.h"

struct vm;

/* The boot area: reported as reserved in every memory map cvisor gives;
 * the EBDA (dev/acpi_tables.h) is its last KiB. */
#define BOOT_AREA_GPA 0x9F000u
#define BOOT_AREA_END 0xA0000u
/* The boot GDT, up to 0x9FC00 where the EBDA starts (128 descriptors). */
#define BOOT_GDT_GPA       0x9F800u
#define BOOT_GDT_MAX_BYTES 0x400u

/* The selectors a boot protocol starts its kernel with (RPL 0, GDT). */
struct boot_selectors {
	uint16_t code, data;
};

/* Multiboot: 0x08 and 0x10, as GRUB and QEMU leave them. */
extern const struct boot_selectors boot_selectors_multiboot;
/* Linux's 32-bit boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18. */
extern const struct boot_selectors boot_selectors_linux;

/* The GDT limit for these selectors: the end of the higher descriptor - 1. */
uint16_t boot_gdt_limit(struct boot_selectors sel);

/*
 * Writes the boot GDT at BOOT_GDT_GPA: a null descriptor in each slot up
 * to the higher selector, except a flat 4 GiB 32-bit code segment (DPL 0,
 * execute/read, accessed) at sel.code and a flat 4 GiB data segment (DPL
 * 0, read/write, accessed) at sel.data.  False when the selectors are not
 * two distinct nonzero GDT selectors with RPL 0 that fit in
 * BOOT_GDT_MAX_BYTES, or guest RAM could not be written.
 */
bool boot_gdt_write(struct vm *vm, struct boot_selectors sel);

/*
 * 32-bit protected mode with paging off, interrupts off, every general
 * register zero, at eip (guest_state_flat_protected), with CS = sel.code,
 * SS = DS = ES = FS = GS = sel.data and GDTR on the boot GDT.
 */
void boot_gdt_start_state(struct guest_cpu_state *s, struct boot_selectors sel, uint32_t eip);

#endif
