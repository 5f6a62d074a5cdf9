/*
 * The I/O APIC: 24 interrupt input pins, each with a redirection entry that
 * turns the pin's interrupt into an APIC message to the local APICs
 * (Intel 82093AA I/O APIC data sheet, 290566-001), with the end-of-interrupt
 * register of the version 0x20 I/O APICs in Intel's I/O controller hubs
 * (ICH4/ICH10 data sheets, "EOIR", at offset 0x40).
 *
 * The guest sees one 4 KiB page at 0xFEC00000 (the PC's default, the MP
 * specification's and the ACPI MADT's I/O APIC address):
 *
 *   offset 0x00  IOREGSEL  bits 7:0 select the register IOWIN shows (any
 *                          access size; the 82093AA loads it with a byte
 *                          write, 3.0); bits 31:8 read 0
 *   offset 0x10  IOWIN     the selected register, dword accesses only (3.0:
 *                          "must be accessed as a Dword quantity"); other
 *                          sizes read 0 and their writes are dropped
 *   offset 0x40  EOI       write-only: bits 7:0 name a vector; the remote
 *                          IRR of every entry with that vector clears (any
 *                          access size; reads 0)
 *   elsewhere              reads 0, writes dropped (as KVM and QEMU do)
 *
 * Registers behind IOWIN (3.2): 0x00 ID (bits 27:24, the rest reads 0),
 * 0x01 version (0x00170020: version 0x20, highest entry 23, read-only),
 * 0x02 arbitration ID (bits 27:24, read-only, loaded with each ID write),
 * 0x10 + 2n / 0x11 + 2n the low and high dwords of redirection entry n.
 * Any other index reads all ones and ignores writes (as KVM does).
 *
 * The interrupt route (irq/irq.h): ISA IRQ 0 (the PIT) reaches pin 2, as on
 * a PC and as the MADT's interrupt source override says; every other line n
 * (ISA IRQs 1-15, PCI lines 16-23) reaches pin n.  Pin 0, where a PC wires
 * the 8259's INTR, has no source here: the 8259 reaches vCPU 0's LINT0.
 */
#ifndef CVISOR_DEV_IOAPIC_H
#define CVISOR_DEV_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define IOAPIC_BASE      0xFEC00000ULL
#define IOAPIC_PAGE_SIZE 0x1000u
#define IOAPIC_PINS      24u
#define IOAPIC_VERSION   0x20u

/* The page's registers (offsets from IOAPIC_BASE). */
#define IOAPIC_IOREGSEL 0x00u
#define IOAPIC_IOWIN    0x10u
#define IOAPIC_EOI      0x40u

/* The registers IOREGSEL selects (82093AA 3.2, Table 2). */
#define IOAPIC_REG_ID          0x00u
#define IOAPIC_REG_VERSION     0x01u
#define IOAPIC_REG_ARBITRATION 0x02u
#define IOAPIC_REG_REDIRECTION 0x10u /* entry n: 0x10 + 2n low, 0x11 + 2n high */

/* A redirection entry's fields (82093AA 3.2.4). */
#define IOAPIC_RTE_VECTOR          0xFFull
#define IOAPIC_RTE_DELIVERY_SHIFT  8
#define IOAPIC_RTE_DELIVERY_MODE   (7ull << IOAPIC_RTE_DELIVERY_SHIFT)
#define IOAPIC_RTE_LOGICAL         (1ull << 11) /* destination mode */
#define IOAPIC_RTE_DELIVERY_STATUS (1ull << 12) /* read-only */
#define IOAPIC_RTE_ACTIVE_LOW      (1ull << 13) /* interrupt input pin polarity */
#define IOAPIC_RTE_REMOTE_IRR      (1ull << 14) /* read-only */
#define IOAPIC_RTE_LEVEL           (1ull << 15) /* trigger mode */
#define IOAPIC_RTE_MASKED          (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT      56
/* The bits a guest writes: bits 55:17 are reserved (read 0), 12 and 14
 * read-only. */
#define IOAPIC_RTE_WRITABLE                                                                  \
	(IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELIVERY_MODE | IOAPIC_RTE_LOGICAL |                 \
	 IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED |                      \
	 (0xFFull << IOAPIC_RTE_DEST_SHIFT))

struct ioapic {
	uint8_t ioregsel;       /* IOREGSEL bits 7:0 */
	uint8_t id;             /* ID register bits 27:24 */
	uint8_t arbitration_id; /* arbitration ID register bits 27:24 */
	uint64_t redirection[IOAPIC_PINS];
	/* Bit n: input pin n was asserted when the route last told us
	 * (edge detection). */
	uint32_t pin_levels;
	/* Bit n: pin n's undeliverable delivery mode was reported once. */
	uint32_t reported_pins;
};

/* The pin an interrupt line of the route (irq/irq.h) reaches. */
unsigned ioapic_pin_of_line(unsigned line);

/* The register IOREGSEL selects, as IOWIN reads and writes it. */
uint32_t ioapic_read_register(const struct ioapic *ioapic, uint8_t index);
void ioapic_write_register(struct vm *vm, struct ioapic *ioapic, uint8_t index, uint32_t value);

/* An EOI for vector (a local APIC's, or the EOI register's): clears the
 * remote IRR of every entry with that vector and delivers again those
 * whose level-triggered pin is still asserted. */
void ioapic_end_of_interrupt(struct vm *vm, struct ioapic *ioapic, uint8_t vector);

/* The state after RESET (82093AA 3.2.1, 3.2.4): ID 0, every entry masked. */
void ioapic_reset(struct ioapic *ioapic);

/* Registers the page, the interrupt controller and the reset hook. */
bool ioapic_attach(struct vm *vm);

#endif
