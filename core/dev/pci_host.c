#include "dev/pci_host.h"

#include "dev/device.h"
#include "dev/ports.h"
#include "vm/vm.h"

/*
 * PCICMD (82441FX data sheet, PCICMD register, default 0006h): bit 1 memory access
 * enable and bit 2 bus master enable are hardwired to 1 (the PMC always
 * answers for main memory and always masters PCI); bit 6 parity error
 * enable and bit 8 SERR# enable are read/write; every other bit is 0.
 */
#define PMC_COMMAND_FIXED    0x0006u
#define PMC_COMMAND_WRITABLE 0x0140u

/*
 * PCISTS (data sheet, PCISTS register, default 0280h): DEVSEL# timing medium (10:9 =
 * 01) and fast back-to-back capable (bit 7), read-only.  Its error bits
 * (8, 12-15) are write-one-to-clear and record PCI bus errors, which never
 * happen here: they read 0, and writing them changes nothing.
 */
#define PMC_STATUS 0x0280u

/* Revision ID: QEMU's i440FX reports 02h (the data sheet lists it per
 * stepping). */
#define PMC_REVISION 0x02

/* MLT (data sheet, master latency timer register): bits 7:3 the count, read/write; 2:0 read 0. */
#define PMC_LATENCY_WRITABLE 0xF8u

uint8_t pci_host_bridge_read(const struct pci_host *host, unsigned offset)
{
	/* Each register as little-endian bytes (PCI 3.0, 6.1). */
	switch (offset) {
	case PCI_VENDOR_ID:
		return PCI_VENDOR_INTEL & 0xFF;
	case PCI_VENDOR_ID + 1:
		return PCI_VENDOR_INTEL >> 8;
	case PCI_DEVICE_ID:
		return PCI_DEVICE_82441FX & 0xFF;
	case PCI_DEVICE_ID + 1:
		return PCI_DEVICE_82441FX >> 8;
	case PCI_COMMAND:
		return (uint8_t)(PMC_COMMAND_FIXED | host->command);
	case PCI_COMMAND + 1:
		return (uint8_t)((PMC_COMMAND_FIXED | host->command) >> 8);
	case PCI_STATUS:
		return PMC_STATUS & 0xFF;
	case PCI_STATUS + 1:
		return PMC_STATUS >> 8;
	case PCI_REVISION_ID:
		return PMC_REVISION;
	case PCI_CLASS_CODE: /* programming interface, subclass, base class */
		return PCI_CLASS_HOST_BRIDGE & 0xFF;
	case PCI_CLASS_CODE + 1:
		return (PCI_CLASS_HOST_BRIDGE >> 8) & 0xFF;
	case PCI_CLASS_CODE + 2:
		return PCI_CLASS_HOST_BRIDGE >> 16;
	case PCI_LATENCY_TIMER:
		return host->latency_timer;
	default:
		/* Header type 00h, single function (data sheet, HEDT register); BIST 00h,
		 * no BARs, no subsystem IDs, no capabilities, no interrupt pin
		 * (the PMC has none of them: PCI 3.0, 6.2, reserved and
		 * unimplemented registers read 0).  The device-specific
		 * registers 50h-FFh (PAM, SMRAM, DRAM control) are not
		 * emulated: they read 0 as well. */
		return 0;
	}
}

void pci_host_bridge_write(struct pci_host *host, unsigned offset, uint8_t value)
{
	switch (offset) {
	case PCI_COMMAND:
		host->command = (uint16_t)((host->command & 0xFF00) | (value & PMC_COMMAND_WRITABLE));
		break;
	case PCI_COMMAND + 1:
		host->command = (uint16_t)((host->command & 0x00FF) |
					   (((unsigned)value << 8) & PMC_COMMAND_WRITABLE));
		break;
	case PCI_LATENCY_TIMER:
		host->latency_timer = value & PMC_LATENCY_WRITABLE;
		break;
	default:
		/* Read-only, or write-one-to-clear bits that are never set
		 * (PCISTS), or not emulated: the write changes nothing. */
		break;
	}
}

/*
 * The function CONFIG_ADDRESS selects, if it exists: with the enable bit,
 * bus 0 is the host bridge's own bus (a type 0 configuration cycle, PCI 3.0
 * 3.2.2.3.2), and on it only device 0 function 0 answers.  Every other
 * bus, device or function ends in a master abort: reads return all ones,
 * writes are dropped (PCI 3.0, 6.1).  Without the enable bit the data port
 * is an ordinary I/O port that nothing decodes.
 */
static bool selects_host_bridge(uint32_t address)
{
	return (address & PCI_CONFIG_ENABLE) && (address & 0x00FFFF00u) == 0;
}

/* CONFIG_DATA: the access's bytes at the register's offset + (port - 0xCFC);
 * bytes past 0xCFF are other ports, which nothing decodes. */
static uint32_t config_data_read(struct pci_host *host, uint16_t port, unsigned size)
{
	unsigned at = port - PCI_CONFIG_DATA_PORT;
	uint32_t value = 0;

	for (unsigned i = 0; i < size; i++) {
		uint8_t byte = 0xFF;
		if (at + i < 4 && selects_host_bridge(host->config_address))
			byte = pci_host_bridge_read(host, (host->config_address & 0xFC) + at + i);
		value |= (uint32_t)byte << (8 * i);
	}
	return value;
}

static void config_data_write(struct pci_host *host, uint16_t port, unsigned size,
			      uint32_t value)
{
	unsigned at = port - PCI_CONFIG_DATA_PORT;

	if (!selects_host_bridge(host->config_address))
		return;
	for (unsigned i = 0; i < size && at + i < 4; i++)
		pci_host_bridge_write(host, (host->config_address & 0xFC) + at + i,
				      (uint8_t)(value >> (8 * i)));
}

/* Ports 0xCF8 and 0xCFA-0xCFF: only a dword access at 0xCF8 is
 * CONFIG_ADDRESS ("anything other than a DWORD access ... is passed
 * through as a normal I/O transaction", PCI 3.0 3.2.2.3.2), and nothing
 * else decodes those ports; 0xCFA-0xCFB are no register at all. */
static uint32_t pci_host_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct pci_host *host = state;
	(void)vm;

	if (port == PCI_CONFIG_ADDRESS_PORT)
		return size == 4 ? host->config_address : 0xFFFFFFFFu;
	if (port >= PCI_CONFIG_DATA_PORT)
		return config_data_read(host, port, size);
	return 0xFFFFFFFFu;
}

static void pci_host_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			   uint32_t value)
{
	struct pci_host *host = state;
	(void)vm;

	if (port == PCI_CONFIG_ADDRESS_PORT) {
		if (size == 4)
			host->config_address = value & PCI_CONFIG_WRITABLE;
	} else if (port >= PCI_CONFIG_DATA_PORT) {
		config_data_write(host, port, size, value);
	}
}

/* RESET (PCIRST#): CONFIG_ADDRESS 0, PCICMD 0006h, MLT 00h (data sheet defaults). */
static void pci_host_reset(struct vm *vm, void *state)
{
	struct pci_host *host = state;
	(void)vm;

	*host = (struct pci_host){ 0 };
}

static const struct port_ops pci_host_ops = { .read = pci_host_read, .write = pci_host_write };

bool pci_host_attach(struct vm *vm)
{
	struct pci_host *host = vm_device_state(vm, sizeof(*host), "PCI host bridge");

	return host &&
	       vm_register_ports(vm, "PCI CONFIG_ADDRESS", PCI_CONFIG_ADDRESS_PORT,
				 PCI_CONFIG_ADDRESS_PORT, &pci_host_ops, host) &&
	       vm_register_ports(vm, "PCI CONFIG_DATA", PCI_CONFIG_ADDRESS_PORT + 2,
				 PCI_CONFIG_DATA_PORT + 3, &pci_host_ops, host) &&
	       vm_add_device_reset(vm, "PCI host bridge", pci_host_reset, host);
}
