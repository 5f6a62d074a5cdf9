/*
 * MMIO emulation from the inside: every store, load and string form the
 * decoder accepts, on the debug-console page, then the local APIC page.
 */
#include "guest.h"
#include "probe.h"

#define DEBUG_CONSOLE_PAGE ((void *)0xFEBFF000u)
#define APIC_REG(off) (*(volatile uint32_t *)(0xFEE00000u + (off)))

void mmio_print_forms(void *page);
uint32_t mmio_load_forms(void *page);

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	say("MMIO forms follow on the next line");
	mmio_print_forms(DEBUG_CONSOLE_PAGE);
	check(mmio_load_forms(DEBUG_CONSOLE_PAGE) == 0,
	      "loads from the debug-console page (movzx, movsx, mov, moffs) read 0");

	uint32_t version = APIC_REG(0x30);
	say("local APIC version register 0x%x", version);
	check((version & 0xFF) == 0x14 && ((version >> 16) & 0xFF) == 6,
	      "APIC version 0x14 with 7 LVT entries");
	check(APIC_REG(0x20) == 0, "APIC ID of vCPU 0 is 0");
	check(APIC_REG(0xF0) == 0xFF, "APIC spurious-vector register resets to 0xFF");
	APIC_REG(0x80) = 0x20;
	check(APIC_REG(0x80) == 0x20 && APIC_REG(0xA0) == 0x20, "APIC TPR is kept and PPR follows it");
	APIC_REG(0x310) = 0x01000000;
	APIC_REG(0x300) = 0x000C4500; /* INIT to all but self: not delivered yet */
	check((APIC_REG(0x300) & (1u << 12)) == 0, "APIC ICR delivery status reads idle");
	check(APIC_REG(0x320) & (1u << 16), "APIC LVT timer is masked after reset");
	APIC_REG(0xB0) = 0; /* EOI */

	/* IA32_APIC_BASE[11] clear: the xAPIC page is gone (reads all ones). */
	uint64_t apic_base = 0;
	traps_init();
	check(probe_rdmsr(0x1B, &apic_base) < 0 && probe_wrmsr(0x1B, apic_base & ~(1ULL << 11)) < 0,
	      "IA32_APIC_BASE enable bit can be cleared");
	check(APIC_REG(0x30) == 0xFFFFFFFFu, "the APIC page reads all ones while the APIC is disabled");
	check(probe_wrmsr(0x1B, apic_base) < 0 && (APIC_REG(0x30) & 0xFF) == 0x14,
	      "re-enabling the APIC brings its registers back");
	check(APIC_REG(0x80) == 0x20, "APIC registers keep their values across disable/enable");
	return (int)failures();
}
