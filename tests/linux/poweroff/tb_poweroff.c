// SPDX-License-Identifier: GPL-2.0
// tb_poweroff.ko: ends the Bochs run of the Linux test bed.  The test kernel
// has no ioperm(), and its ACPI power-off would depend on the Bochs BIOS's
// tables (the kernel is shared with tests/linux-guest, which needs ACPI);
// loading this module writes SLP_EN (sleep type 0) to the PIIX4 PM1a control register the
// Bochs BIOS puts at 0xB004, which Bochs logs as "ACPI control: soft power
// off" and exits.  If that did not stop the machine, it tries the Bochs/QEMU
// "Shutdown" port, then fails the load.
#include <linux/module.h>
#include <linux/io.h>
#include <linux/delay.h>

static int __init tb_poweroff_init(void)
{
	const char *s = "Shutdown";

	pr_info("tb_poweroff: ACPI soft power off (outw 0x2000 to port 0xB004)\n");
	outw(0x2000, 0xB004);
	mdelay(10);
	while (*s)
		outb(*s++, 0x8900);
	mdelay(10);
	pr_emerg("tb_poweroff: the machine is still running\n");
	return -EIO;
}
module_init(tb_poweroff_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cvisor Linux test bed: power off Bochs");
