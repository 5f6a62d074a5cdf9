/*
 * The I/O APIC's register model from the inside (Intel 82093AA data sheet
 * 3.1-3.2, with the ICH's version 0x20 EOI register): IOREGSEL and IOWIN
 * at 0xFEC00000, the ID, version and arbitration registers, the 24
 * redirection entries (round trips, reserved and read-only bits, masked
 * after reset), and what odd accesses give.
 *
 * No interrupt is delivered end to end here: no device of this tree raises
 * an interrupt line yet, so nothing drives an I/O APIC pin a guest could
 * observe (the unit tests deliver through the route instead).
 */
#include "guest.h"

#define IOAPIC_BASE 0xFEC00000u
#define IOREGSEL    (*(volatile uint32_t *)(IOAPIC_BASE + 0x00))
#define IOREGSEL_B  (*(volatile uint8_t *)(IOAPIC_BASE + 0x00))
#define IOWIN       (*(volatile uint32_t *)(IOAPIC_BASE + 0x10))
#define IOWIN_B     (*(volatile uint8_t *)(IOAPIC_BASE + 0x10))
#define EOI         (*(volatile uint32_t *)(IOAPIC_BASE + 0x40))
#define UNDEFINED   (*(volatile uint32_t *)(IOAPIC_BASE + 0x20))

#define REG_ID          0x00
#define REG_VERSION     0x01
#define REG_ARBITRATION 0x02
#define REG_ENTRY(n)    (0x10 + 2 * (n))
#define PINS            24

#define RTE_MASKED (1u << 16)

static uint32_t reg_read(uint32_t index)
{
	IOREGSEL = index;
	return IOWIN;
}

static void reg_write(uint32_t index, uint32_t value)
{
	IOREGSEL = index;
	IOWIN = value;
}

/* The low dword of entry n with distinct fields: vector, delivery mode,
 * destination mode, polarity, trigger mode, masked. */
static uint32_t pattern_low(unsigned n)
{
	return (0x30 + n) | (n % 8) << 8 | (n & 1) << 11 | (n & 2) << 12 | (n & 4) << 13 | RTE_MASKED;
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;

	/* Version register (3.2.2): version 0x20, highest entry 23, read-only. */
	uint32_t version = reg_read(REG_VERSION);
	say("I/O APIC version register 0x%08x", version);
	check((version & 0xFF) == 0x20, "version: 0x20 (the ICH's I/O APIC)");
	check((version >> 16 & 0xFF) == 23, "version: the highest redirection entry is 23");
	check((version & 0xFF00FF00u) == 0, "version: reserved bits read 0");
	reg_write(REG_VERSION, 0xFFFFFFFFu);
	check(reg_read(REG_VERSION) == version, "version: writes are ignored");

	/* ID (3.2.1) and arbitration ID (3.2.3). */
	check(reg_read(REG_ID) == 0, "ID: 0 after reset");
	check(reg_read(REG_ARBITRATION) == 0, "arbitration ID: 0 after reset");
	reg_write(REG_ID, 0xFFFFFFFFu);
	check(reg_read(REG_ID) == 0x0F000000u, "ID: bits 27:24 are kept, reserved bits read 0");
	check(reg_read(REG_ARBITRATION) == 0x0F000000u, "arbitration ID: loaded by the ID write");
	reg_write(REG_ARBITRATION, 0x03000000u);
	check(reg_read(REG_ARBITRATION) == 0x0F000000u, "arbitration ID: read-only");
	reg_write(REG_ID, 0);

	/* Redirection entries (3.2.4): masked after reset. */
	bool all_masked = true;
	for (unsigned n = 0; n < PINS; n++)
		all_masked = all_masked && reg_read(REG_ENTRY(n)) == RTE_MASKED &&
			     reg_read(REG_ENTRY(n) + 1) == 0;
	check(all_masked, "entries: all 24 masked (and otherwise 0) after reset");

	/* All ones: reserved bits 55:17 and read-only bits 12 and 14 stay 0. */
	reg_write(REG_ENTRY(5), 0xFFFFFFFFu);
	reg_write(REG_ENTRY(5) + 1, 0xFFFFFFFFu);
	uint32_t low = reg_read(REG_ENTRY(5)), high = reg_read(REG_ENTRY(5) + 1);
	say("entry 5 after writing all ones: 0x%08x%08x", high, low);
	check(low == 0x0001AFFFu, "entries: low dword keeps 16:15, 13, 11:0; delivery status and remote IRR read 0");
	check(high == 0xFF000000u, "entries: high dword keeps the destination, bits 55:32 read 0");

	/* Distinct values in every entry read back (each entry is its own). */
	for (unsigned n = 0; n < PINS; n++) {
		reg_write(REG_ENTRY(n) + 1, (0x80u + n) << 24);
		reg_write(REG_ENTRY(n), pattern_low(n));
	}
	bool round_trip = true;
	for (unsigned n = 0; n < PINS; n++)
		round_trip = round_trip && reg_read(REG_ENTRY(n)) == pattern_low(n) &&
			     reg_read(REG_ENTRY(n) + 1) == (0x80u + n) << 24;
	check(round_trip, "entries: 24 distinct entries read back");

	/* IOREGSEL (3.1.1): bits 7:0, loaded by a byte write too. */
	IOREGSEL = 0xFFFFFF01u;
	check(IOREGSEL == 0x01, "IOREGSEL: bits 7:0 are kept, bits 31:8 read 0");
	IOREGSEL_B = REG_ENTRY(7);
	check(IOWIN == pattern_low(7), "IOREGSEL: a byte write selects the register");

	/* What is not a register. */
	check(reg_read(0x03) == 0xFFFFFFFFu && reg_read(0x40) == 0xFFFFFFFFu,
	      "registers 0x03 and 0x40 do not exist: all ones");
	IOREGSEL = REG_VERSION;
	check(IOWIN_B == 0, "IOWIN: a byte read gives 0 (dword accesses only)");
	check(UNDEFINED == 0, "offset 0x20 of the page reads 0");
	check(EOI == 0, "the EOI register is write-only: reads 0");
	EOI = 0x30; /* no remote IRR is set: nothing changes */
	check(reg_read(REG_ENTRY(0)) == pattern_low(0), "an EOI with nothing pending changes no entry");

	/* Leave every pin masked, as after reset. */
	for (unsigned n = 0; n < PINS; n++) {
		reg_write(REG_ENTRY(n), RTE_MASKED);
		reg_write(REG_ENTRY(n) + 1, 0);
	}
	say("ioapic: done, %u failure(s)", failures());
	return (int)failures();
}
