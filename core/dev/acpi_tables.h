/*
 * The ACPI tables of a VM (ACPI Specification 6.3, chapter 5), written into
 * its RAM when the VM is built, where a PC's BIOS leaves them:
 *
 *   - the RSDP (revision 2, 5.2.5.3) on a 16-byte boundary at the start of
 *     the BIOS area 0xE0000-0xFFFFF, which an OS scans (5.2.5.1); the BIOS
 *     data area's EBDA pointer (0x40E) names a zeroed 1 KiB EBDA at
 *     0x9FC00, so the scan of the EBDA's first KiB finds nothing and moves
 *     on to the BIOS area;
 *   - the RSDT and the XSDT (5.2.7, 5.2.8), each listing the FADT and the
 *     MADT;
 *   - the FADT (5.2.9, revision 6.3) with the PM1a event and control blocks
 *     and the PM timer of dev/acpi_pm.c, SCI_INT 9, no SMI command port
 *     (always in ACPI mode), the reset register (0xCF9, value 6), a PC with
 *     legacy devices and an 8042, the FACS and the DSDT;
 *   - the FACS (5.2.10, 64-byte aligned);
 *   - the MADT (5.2.12): the local APICs at 0xFEE00000 (one enabled entry
 *     per vCPU, APIC ID = vCPU index), the I/O APIC (ID 0) at 0xFEC00000
 *     with GSI base 0, the ISA overrides IRQ 0 -> GSI 2 and the SCI (IRQ 9,
 *     level, active high), the NMI on every local APIC's LINT1;
 *   - the DSDT, compiled by ACPICA's iasl from dev/acpi/dsdt.asl at build
 *     time (acpi_dsdt_aml): \_S5 and the PC's legacy devices.
 *
 * The whole area 0x9F000-0xFFFFF is reserved in the memory map the
 * Multiboot loader gives the guest (loader/multiboot.c).  Multiboot v1 has
 * no field for the RSDP: a guest finds it by the standard scan.  The Linux
 * loader's e820 map (loader/linux.c) reports the tables from the RSDT on
 * as ACPI memory and the rest of the area as reserved, and its zero page
 * gives the RSDP's address.
 */
#ifndef CVISOR_DEV_ACPI_TABLES_H
#define CVISOR_DEV_ACPI_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Where the tables go: the BIOS area (ACPI 6.3 5.2.5.1). */
#define ACPI_TABLES_GPA      0xE0000u
#define ACPI_TABLES_END      0x100000u
#define ACPI_RSDP_GPA        ACPI_TABLES_GPA
/* The BIOS data area's word holding the EBDA's real-mode segment, and the
 * EBDA it names (1 KiB below 640 KiB, as PC BIOSes place it). */
#define ACPI_BDA_EBDA_SEGMENT 0x40Eu
#define ACPI_EBDA_GPA        0x9FC00u

/* What the tables describe (the devices are other files'). */
#define ACPI_LAPIC_GPA       0xFEE00000u /* SDM Vol. 3A 11.4.1 */
#define ACPI_IOAPIC_GPA      0xFEC00000u /* 82093AA data sheet 3.0 */
#define ACPI_IOAPIC_ID       0
#define ACPI_SCI_IRQ         9           /* ISA IRQ 9, as PCs wire the SCI */
#define ACPI_RESET_PORT      0xCF9u      /* the PCI reset control register */
#define ACPI_RESET_VALUE     0x06        /* system reset + reset CPU */

/* Table lengths that do not depend on the VM. */
#define ACPI_RSDP_LENGTH     36
#define ACPI_HEADER_LENGTH   36
#define ACPI_FADT_LENGTH     276 /* revision 6 (5.2.9) */
#define ACPI_FACS_LENGTH     64

/* The DSDT's AML, made from dev/acpi/dsdt.asl by iasl (see the Makefile). */
extern const uint8_t acpi_dsdt_aml[];
extern const size_t acpi_dsdt_aml_size;

/*
 * Where the tables of a VM with cpu_count vCPUs go, each at its
 * guest-physical address, in this order; end is where the DSDT ends.  The
 * RSDP and the FACS come first: the FACS must not be reported as memory
 * an OS may reclaim (5.2.10), the tables from the RSDT on may be (ACPI 6.3
 * 15, AddressRangeACPI).  Loaders that give a memory map (loader/linux.c)
 * describe the BIOS area with it.
 */
struct acpi_layout {
	uint32_t rsdp, facs, rsdt, xsdt, fadt, madt, dsdt, end;
};
void acpi_tables_layout(unsigned cpu_count, struct acpi_layout *l);

/* The 8-bit sum of len bytes: 0 for a table whose checksum is right. */
uint8_t acpi_byte_sum(const void *p, size_t len);

/*
 * Writes every table for vm (its vcpu_count local APICs) into its RAM at
 * ACPI_TABLES_GPA, and the EBDA pointer.  False (and a log line) when the
 * VM's RAM cannot hold them.
 */
bool acpi_tables_write(struct vm *vm);

#endif
