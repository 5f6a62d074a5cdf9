/*
 * The DSDT of every cvisor VM (ACPI Specification 6.3, 5.2.11.1), compiled
 * by ACPICA's iasl at build time (see the Makefile) and written into guest
 * RAM by core/dev/acpi_tables.c.  Revision 2: 64-bit integers.
 *
 * What it holds:
 *   - the sleeping states the chipset decodes (7.4.2): \_S0 (working) and
 *     \_S5 (soft off); their SLP_TYP values are what PM1a_CNT decodes in
 *     core/dev/acpi_pm.c (ACPI_SLP_TYP_S0, ACPI_SLP_TYP_S5);
 *   - the PCI host bridge \_SB.PCI0 (PNP0A03) and, below it, the PC's
 *     legacy devices with their ports and ISA IRQs (6.4 resource
 *     descriptors): the 8259A pair, the 8254 PIT, the MC146818 RTC, COM1's
 *     16550 and the 8042 keyboard controller.
 */
DefinitionBlock ("", "DSDT", 2, "CVISOR", "CVISORPC", 0x00000001)
{
    /* Package: PM1a_CNT.SLP_TYP, PM1b_CNT.SLP_TYP (no PM1b block), two
     * reserved bytes (7.4.2). */
    Name (\_S0, Package (0x04) { 0x00, 0x00, 0x00, 0x00 })
    Name (\_S5, Package (0x04) { 0x07, 0x00, 0x00, 0x00 })

    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            /* Bus 0 and the I/O space around the configuration ports;
             * no memory window: guest RAM is not at a fixed size. */
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000, 0x0000, 0x00FF, 0x0000, 0x0100)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300)
            })

            /* The 8259A pair (Intel 8259A data sheet): master 0x20-0x21,
             * slave 0xA0-0xA1, cascaded on IRQ 2. */
            Device (PIC)
            {
                Name (_HID, EisaId ("PNP0000"))
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0020, 0x0020, 0x01, 0x02)
                    IO (Decode16, 0x00A0, 0x00A0, 0x01, 0x02)
                    IRQNoFlags () {2}
                })
            }

            /* The 8254 PIT (Intel 8254 data sheet): ports 0x40-0x43, IRQ 0. */
            Device (TMR)
            {
                Name (_HID, EisaId ("PNP0100"))
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0040, 0x0040, 0x01, 0x04)
                    IRQNoFlags () {0}
                })
            }

            /* The MC146818 RTC and CMOS RAM: ports 0x70-0x71, IRQ 8. */
            Device (RTC)
            {
                Name (_HID, EisaId ("PNP0B00"))
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0070, 0x0070, 0x01, 0x02)
                    IRQNoFlags () {8}
                })
            }

            /* COM1, a 16550 UART: ports 0x3F8-0x3FF, IRQ 4. */
            Device (COM1)
            {
                Name (_HID, EisaId ("PNP0501"))
                Name (_UID, One)
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08)
                    IRQNoFlags () {4}
                })
            }

            /* The 8042 keyboard controller: data 0x60, command 0x64, IRQ 1. */
            Device (KBD)
            {
                Name (_HID, EisaId ("PNP0303"))
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0060, 0x0060, 0x01, 0x01)
                    IO (Decode16, 0x0064, 0x0064, 0x01, 0x01)
                    IRQNoFlags () {1}
                })
            }
        }
    }
}
