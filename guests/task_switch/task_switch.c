/*
 * Jumps to a task (a far JMP to a TSS selector), which cvisor does not
 * emulate: a task switch in VMX non-root operation always exits (SDM Vol.
 * 3C 26.4.2, exit reason 9) and cvisor has no handler for it.  cvisor must
 * stop this VM with a named report (exit TASK_SWITCH, 9) and a VMCS dump,
 * never skip the exit.
 */
#include "guest.h"
#include "probe.h"

/* A GDT of our own: null, flat code 0x08, flat data 0x10, then a 32-bit
 * available TSS at 0x18 (SDM Vol. 3A 7.2.2: type 1001b, present). */
static uint64_t gdt[4] __attribute__((aligned(8)));
static uint32_t tss[26] __attribute__((aligned(16))); /* 104 bytes (7.2.1) */

static uint64_t descriptor(uint32_t base, uint32_t limit, uint32_t type_and_flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)type_and_flags << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(base >> 24) << 56;
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	traps_init(); /* a fault instead of the exit is reported, not a triple fault */
	gdt[1] = descriptor(0, 0xFFFFF, 0xC09A); /* G, D, present, code RX */
	gdt[2] = descriptor(0, 0xFFFFF, 0xC092); /* G, D, present, data RW */
	gdt[3] = descriptor((uint32_t)(uintptr_t)tss, sizeof(tss) - 1, 0x0089);
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} gdtr = { sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };
	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	say("jumping to a task, which cvisor does not emulate");
	__asm__ volatile("ljmp $0x18, $0");
	say("FAIL: execution continued after a task switch, an unhandled exit");
	return 1;
}
