/*
 * Writes outside guest RAM.  First it fills all of its RAM above its image
 * with a pattern and reads it back (its own RAM is all usable); then it
 * writes to 0x10000000 (or 1 MiB above RAM when RAM reaches that far).
 * Only RAM is mapped in the EPT, so the write is an EPT violation (SDM
 * Vol. 3C 29.3.3).  With strict_mem, cvisor must end this VM with a report
 * naming the guest-physical address and the access ("write"), and nothing
 * else.  Without it the address is a PC's open bus: the write is dropped,
 * reads there and at a BIOS/flash probe address return all ones, and the
 * guest goes on.
 */
#include "guest.h"

extern char _end[]; /* guests/lib/linker.ld */

#define PATTERN 0xA5C3F00Du
#define PAGE 4096u

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	if (!(info->flags & 1)) {
		say("FAIL: the Multiboot information has no memory sizes");
		return 1;
	}
	/* mem_upper: KiB of RAM from 1 MiB up (Multiboot spec 3.3). */
	uint32_t ram_end = 0x100000u + info->mem_upper * 1024u;
	uint32_t start = ((uint32_t)(uintptr_t)_end + PAGE - 1) & ~(PAGE - 1);
	say("filling guest RAM 0x%x-0x%x (above the image) with a pattern", start, ram_end);
	for (uint32_t a = start; a < ram_end; a += 4)
		*(volatile uint32_t *)(uintptr_t)a = PATTERN ^ a;
	uint32_t wrong = 0;
	for (uint32_t a = start; a < ram_end; a += 4)
		if (*(volatile uint32_t *)(uintptr_t)a != (PATTERN ^ a))
			wrong++;
	check(wrong == 0, "all guest RAM above the image holds the pattern");

	uint32_t target = ram_end <= 0x10000000u ? 0x10000000u : ram_end + 0x100000u;
	say("writing to guest-physical 0x%x, outside guest RAM", target);
	*(volatile uint32_t *)(uintptr_t)target = 0xBAD0BAD0u;
	/* Only without strict_mem does the guest get here: the open bus. */
	check(*(volatile uint32_t *)(uintptr_t)target == 0xFFFFFFFFu,
	      "the write outside RAM was dropped and the address reads all ones");
	check(*(volatile uint8_t *)(uintptr_t)0xFF000000u == 0xFF &&
		      *(volatile uint16_t *)(uintptr_t)0xFF000010u == 0xFFFF,
	      "a flash probe at 0xff000000 reads all ones");
	*(volatile uint8_t *)(uintptr_t)0xFF000000u = 0x90;
	check(*(volatile uint8_t *)(uintptr_t)0xFF000000u == 0xFF, "a write to the flash probe is dropped");
	say("wild_write: done, %u failure(s)", failures());
	return (int)failures();
}
