/* Power off: how a bare-metal run ends, in Bochs, QEMU or on hardware. */
#include "power.h"

#include "boot.h"
#include "serial.h"
#include "vmx/intrin.h"

/*
 * Bochs's "Shutdown port": writing the bytes "Shutdown" to port 0x8900 stops
 * the emulator (Bochs 2.7 logs "[UNMAP ] >>PANIC<< Shutdown port: shutdown
 * requested").  Elsewhere the port is normally unused and the writes do
 * nothing.
 */
#define BOCHS_SHUTDOWN_PORT 0x8900

/*
 * ACPI soft-off: write SLP_EN (bit 13) with SLP_TYP 0 to PM1a_CNT (ACPI spec,
 * "PM1 Control Registers").  The sleep type for S5 really comes from the
 * DSDT's \_S5 object; 0 is what the Bochs and QEMU DSDTs use.  PM1a_CNT
 * sits at PMBASE + 4: 0xB004 with the Bochs BIOS (Bochs 2.7 logs
 * "[ACPI  ] >>PANIC<< ACPI control: soft power off"), 0x604 with QEMU
 * (PM base 0x600).
 */
#define ACPI_SLP_EN 0x2000
#define ACPI_PM1A_CNT_BOCHS 0xB004
#define ACPI_PM1A_CNT_QEMU  0x604

_Noreturn void plat_power_off(bool success)
{
	static const char ok[] = "cvisor: power off (success)\n";
	static const char fail[] = "cvisor: power off (failure)\n";
	static const char shutdown[] = "Shutdown";

	if (success)
		console_write_emergency(ok, sizeof(ok) - 1);
	else
		console_write_emergency(fail, sizeof(fail) - 1);
	serial_flush();

	for (const char *p = shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	outw(ACPI_PM1A_CNT_BOCHS, ACPI_SLP_EN);
	outw(ACPI_PM1A_CNT_QEMU, ACPI_SLP_EN);

	irq_disable();
	for (;;)
		cpu_halt();
}
