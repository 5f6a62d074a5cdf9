#include "dev/machine.h"

#include <stdbool.h>
#include <stddef.h>

#include "dev/acpi_pm.h"
#include "dev/acpi_pm.h"
#include "dev/debug_console.h"
#include "dev/debug_ports.h"
#include "dev/fw_cfg.h"
#include "dev/i8042.h"
#include "dev/ioapic.h"
#include "dev/lapic_mmio.h"
#include "dev/pci_host.h"
#include "dev/pci_host.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/reset_control.h"
#include "dev/rtc_cmos.h"
#include "dev/uart16550.h"

static const struct {
	const char *name;
	bool (*attach)(struct vm *vm);
} machine_devices[] = {
	{ "8259A PICs", pic8259_attach },
	{ "8254 PIT", pit8254_attach },
	{ "debug ports", debug_ports_attach },
	{ "16550 UART (COM1)", uart16550_attach },
	{ "fw_cfg", fw_cfg_attach },
	{ "MC146818A RTC/CMOS", rtc_cmos_attach },
	{ "debug-console page", debug_console_attach },
	{ "local APIC page", lapic_mmio_attach },
	{ "I/O APIC", ioapic_attach },
	{ "ACPI PM registers", acpi_pm_attach },
	{ "PCI host bridge", pci_host_attach },
	{ "reset control (0xCF9, 0x92)", reset_control_attach },
	{ "i8042 keyboard controller", i8042_attach },
};

const char *machine_attach_devices(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(machine_devices) / sizeof(machine_devices[0]); i++)
		if (!machine_devices[i].attach(vm))
			return machine_devices[i].name;
	return NULL;
}
