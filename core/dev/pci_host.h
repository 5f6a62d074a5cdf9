/*
 * PCI configuration mechanism #1 (PCI Local Bus Specification 3.0,
 * 3.2.2.3.2) and the one device on the VM's PCI bus: the host bridge at
 * 00:00.0, an Intel 82441FX PCI and Memory Controller (PMC) of the 440FX
 * chipset (82441FX data sheet, its configuration registers), as QEMU's pc machine has it.
 *
 *   0xCF8       CONFIG_ADDRESS: dword accesses only (enable bit 31, bus
 *               23:16, device 15:11, function 10:8, register 7:2)
 *   0xCFC-CFF   CONFIG_DATA: byte, word and dword accesses at any offset
 *               of the dword CONFIG_ADDRESS selects
 *
 * The byte at 0xCF9 is the PIIX's reset control register (dev/reset_control.c),
 * which is why this device registers 0xCF8 and 0xCFA-0xCFF.
 */
#ifndef CVISOR_DEV_PCI_HOST_H
#define CVISOR_DEV_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT    0xCFC

/* CONFIG_ADDRESS fields (PCI 3.0, Figure 3-2). */
#define PCI_CONFIG_ENABLE    (1u << 31)
#define PCI_CONFIG_WRITABLE  0x80FFFFFCu /* 30:24 reserved and 1:0 read 0 */

/* The 82441FX's identity (data sheet: VID, DID, CLASSC). */
#define PCI_VENDOR_INTEL       0x8086
#define PCI_DEVICE_82441FX     0x1237
#define PCI_CLASS_HOST_BRIDGE  0x060000 /* base class 06h bridge, subclass 00h host */

/* Configuration-space offsets of the type 0 header (PCI 3.0, 6.1). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_CODE     0x09
#define PCI_LATENCY_TIMER  0x0D
#define PCI_HEADER_TYPE    0x0E

struct pci_host {
	uint32_t config_address; /* CONFIG_ADDRESS as the guest last wrote it */
	uint16_t command;        /* PCICMD's read/write bits */
	uint8_t latency_timer;   /* MLT's read/write bits */
};

struct vm;
/* One byte of the host bridge's configuration space as a read returns it. */
uint8_t pci_host_bridge_read(const struct pci_host *host, unsigned offset);
/* One byte written to it (read-only bits keep their value). */
void pci_host_bridge_write(struct pci_host *host, unsigned offset, uint8_t value);

/* Registers the ports and the reset; false (with a log line) on failure. */
bool pci_host_attach(struct vm *vm);

#endif
