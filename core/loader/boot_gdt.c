#include "loader/boot_gdt.h"

#include "mm/guest_memory.h"

const struct boot_selectors boot_selectors_multiboot = { .code = 0x08, .data = 0x10 };
const struct boot_selectors boot_selectors_linux = { .code = 0x10, .data = 0x18 };

/* Segment descriptors (SDM Vol. 3A 3.4.5): base 0, limit 0xFFFFF with
 * G = 1 (4 GiB), D/B = 1 (32-bit), P = 1, DPL 0, S = 1 (code or data);
 * type 0xB is code execute/read accessed, 0x3 data read/write accessed.
 * The accessed bit is set as loading the selector would set it. */
#define FLAT_CODE_DESCRIPTOR 0x00CF9B000000FFFFULL
#define FLAT_DATA_DESCRIPTOR 0x00CF93000000FFFFULL

/* A selector (SDM Vol. 3A 3.4.2): index in bits 15:3, TI in bit 2 (0: the
 * GDT), RPL in bits 1:0. */
static bool valid_boot_selector(uint16_t selector)
{
	return selector != 0 && (selector & 7) == 0 && selector < BOOT_GDT_MAX_BYTES;
}

uint16_t boot_gdt_limit(struct boot_selectors sel)
{
	uint16_t top = sel.code > sel.data ? sel.code : sel.data;
	return (uint16_t)(top + 8 - 1);
}

bool boot_gdt_write(struct vm *vm, struct boot_selectors sel)
{
	uint64_t gdt[BOOT_GDT_MAX_BYTES / 8];

	if (!valid_boot_selector(sel.code) || !valid_boot_selector(sel.data) ||
	    sel.code == sel.data)
		return false;
	unsigned count = (boot_gdt_limit(sel) + 1u) / 8;
	for (unsigned i = 0; i < count; i++)
		gdt[i] = 0;
	gdt[sel.code / 8] = FLAT_CODE_DESCRIPTOR;
	gdt[sel.data / 8] = FLAT_DATA_DESCRIPTOR;
	return guest_write(vm, BOOT_GDT_GPA, gdt, count * 8);
}

void boot_gdt_start_state(struct guest_cpu_state *s, struct boot_selectors sel, uint32_t eip)
{
	/* guest_state_flat_protected gives the flat segments' hidden parts
	 * (base 0, limit 4 GiB, access rights); the selectors are this
	 * protocol's, so that a reload from the GDT finds the same segments. */
	guest_state_flat_protected(s, eip);
	s->cs.selector = sel.code;
	s->ss.selector = s->ds.selector = s->es.selector = sel.data;
	s->fs.selector = s->gs.selector = sel.data;
	s->gdtr_base = BOOT_GDT_GPA;
	s->gdtr_limit = boot_gdt_limit(sel);
}
