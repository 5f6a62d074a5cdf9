/*
 * The reset guest (run with on_reset=restart): it resets its VM through each
 * of a PC's three reset paths in turn and checks, each time it comes back,
 * that it came back as a PC after RESET would, and from the inside the PCI
 * configuration space and the keyboard controller.
 *
 *   boot 1: PCI configuration reads of the host bridge and of absent
 *           functions, the i8042 without devices; then a hard reset through
 *           the reset control register (port 0xCF9)
 *   boot 2: a fast reset through System Control Port A (port 0x92)
 *   boot 3: a reset through the i8042 (command 0xFE)
 *   boot 4: done: stops with the number of failures of this boot
 *
 * A restart clears guest RAM, so the guest counts its boots where a PC's
 * reset leaves state alone by design: the 16550's scratch register (COM1
 * offset 7), which a master reset does not clear (PC16550D data sheet,
 * Table IV "UART Reset Configuration" lists no reset of SCR).  Each boot
 * also checks that what it changed before the reset was reset: RAM above
 * the image, the PCI CONFIG_ADDRESS register, the reset registers, the
 * i8042's command byte.  A request that does not reset (the guest still
 * runs after it) is a FAIL line and the guest stops.
 *
 * With on_reset=stop the first reset ends the VM: nothing after it runs.
 *
 * With the word "smp" on its command line (and cpus=2) the guest checks the
 * restart of a VM whose second vCPU runs: boot 1 starts the AP (INIT, SIPI,
 * SIPI), which computes without a VM exit of its own, and resets through
 * port 0xCF9 while it runs; boot 2 checks that the AP is no longer running
 * (it waits for SIPI again), starts it again and stops.
 */
#include "abi/devices.h"
#include "guest.h"
#include "lib/mem.h"
#include "../smp/trampoline.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA    0xCFC
#define PCI_ENABLE         0x80000000u
#define RESET_CONTROL      0xCF9
#define SYSTEM_CONTROL_A   0x92
#define I8042_DATA         0x60
#define I8042_STATUS       0x64
#define I8042_OBF          0x01
#define I8042_IBF          0x02
#define UART_SCR           (PORT_COM1 + 7)

/* Guest RAM outside the loaded image: a restart must leave it zero. */
#define SCRATCH_RAM ((volatile uint32_t *)0x300000)
#define RAM_PATTERN 0xC0DEB007u

/* Bounded waits: a device that never answers is a FAIL, never a hang.
 * An answer that must come comes at once (the controller answers its
 * commands as they are written); NO_ANSWER_POLLS is how long the guest
 * waits for one that must not come. */
#define POLL_LIMIT      100000u
#define NO_ANSWER_POLLS 2000u

static uint16_t guest_inw(uint16_t port)
{
	return (uint16_t)guest_inw_into(port, 0);
}

static uint32_t pci_read(uint32_t bus, uint32_t device, uint32_t function, uint32_t reg)
{
	guest_outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | bus << 16 | device << 11 | function << 8 | reg);
	return guest_inl(PCI_CONFIG_DATA);
}

static void check_pci(void)
{
	check(pci_read(0, 0, 0, 0x00) == 0x12378086u,
	      "PCI 00:00.0 reads vendor 8086h device 1237h (the 82441FX host bridge)");
	check(pci_read(0, 0, 0, 0x08) >> 8 == 0x060000u, "PCI 00:00.0 has class 060000h (host bridge)");
	check((pci_read(0, 0, 0, 0x0C) >> 16 & 0xFF) == 0x00,
	      "PCI 00:00.0 has header type 0, single function");
	check(guest_inl(PCI_CONFIG_ADDRESS) == (PCI_ENABLE | 0x0C),
	      "CONFIG_ADDRESS reads back what was written");
	guest_outl(PCI_CONFIG_ADDRESS, PCI_ENABLE);
	check(guest_inw(PCI_CONFIG_DATA + 2) == 0x1237 && guest_inb(PCI_CONFIG_DATA + 1) == 0x80,
	      "CONFIG_DATA answers word and byte reads at any offset");
	check(pci_read(0, 1, 0, 0x00) == 0xFFFFFFFFu && pci_read(0, 0, 1, 0x00) == 0xFFFFFFFFu &&
	      pci_read(1, 0, 0, 0x00) == 0xFFFFFFFFu && pci_read(0, 31, 7, 0x08) == 0xFFFFFFFFu,
	      "absent PCI functions (00:01.0, 00:00.1, 01:00.0, 00:1f.7) read all ones");
	guest_outl(PCI_CONFIG_ADDRESS, 0x0000000);
	check(guest_inl(PCI_CONFIG_DATA) == 0xFFFFFFFFu,
	      "CONFIG_DATA reads all ones while the enable bit is clear");
}

/* The output buffer's next byte, or -1 when none comes within polls reads. */
static int i8042_poll_output(unsigned polls)
{
	for (unsigned i = 0; i < polls; i++)
		if (guest_inb(I8042_STATUS) & I8042_OBF)
			return guest_inb(I8042_DATA);
	return -1;
}

static int i8042_wait_output(void)
{
	return i8042_poll_output(POLL_LIMIT);
}

static void i8042_command(uint8_t command)
{
	for (unsigned i = 0; i < POLL_LIMIT && (guest_inb(I8042_STATUS) & I8042_IBF); i++)
		;
	guest_outb(I8042_STATUS, command);
}

static void check_i8042(void)
{
	i8042_command(0xAA);
	check(i8042_wait_output() == 0x55, "the i8042 self-test answers 55h");
	i8042_command(0xAB);
	check(i8042_wait_output() == 0x00, "the i8042 keyboard interface test answers 00h");
	guest_outb(I8042_DATA, 0xF2); /* keyboard: identify */
	check(i8042_poll_output(NO_ANSWER_POLLS) == -1,
	      "a byte for the keyboard gets no answer (none attached)");
	/* Something for the next boot to find reset: command byte 0x00. */
	i8042_command(0x60);
	guest_outb(I8042_DATA, 0x00);
	i8042_command(0x20);
	check(i8042_wait_output() == 0x00, "the i8042 command byte reads back");
}

/* What the previous boot changed before its reset reads as after RESET. */
static void check_came_back_reset(const char *path)
{
	say("boot %u: came back after the reset through %s", guest_inb(UART_SCR) + 1, path);
	check(*SCRATCH_RAM == 0, "guest RAM outside the image was cleared by the restart");
	check(guest_inl(PCI_CONFIG_ADDRESS) == 0, "CONFIG_ADDRESS reads 0 after the restart");
	check(guest_inb(RESET_CONTROL) == 0x00 && guest_inb(SYSTEM_CONTROL_A) == 0x00,
	      "ports 0xCF9 and 0x92 read 00h after the restart");
	i8042_command(0x20);
	check(i8042_wait_output() == 0x03, "the i8042 command byte reads 03h after the restart");
}

/* Leaves state for the next boot to check, counts the boot, resets. */
static void prepare_for_reset(void)
{
	*SCRATCH_RAM = RAM_PATTERN;
	guest_outl(PCI_CONFIG_ADDRESS, PCI_ENABLE | 0x04);
	guest_outb(UART_SCR, (uint8_t)(guest_inb(UART_SCR) + 1));
}

/* Code after a reset request must never run. */
static int reset_did_not_happen(const char *path)
{
	for (volatile unsigned i = 0; i < POLL_LIMIT; i++)
		;
	check(false, path);
	return (int)failures();
}

/* ---- The smp flow ---- */

#define APIC_REG(off)    (*(volatile uint32_t *)(0xFEE00000u + (off)))
#define APIC_SVR         0x0F0
#define APIC_ICR_LOW     0x300
#define APIC_ICR_HIGH    0x310
#define SVR_ENABLE       (1u << 8)
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define ICR_ASSERT       (1u << 14)
#define AP_APIC_ID       1
/* The AP's progress, outside the image: a restart must leave it zero. */
#define AP_COUNTER ((volatile uint32_t *)0x310000)
#define AP_WAIT_LIMIT 2000000u

static uint8_t ap_stack[4096] __attribute__((aligned(16)));

static struct trampoline_data *trampoline_data(void)
{
	return (struct trampoline_data *)(uintptr_t)(TRAMPOLINE_PA +
						      (smp_trampoline_data - smp_trampoline_start));
}

/*
 * The AP computes forever, without an exit of its own: only cvisor's kick
 * (or the end of its time slice) takes it out of its guest.  It computes
 * with interrupts enabled (it takes none: none is sent to it): Bochs 2.7
 * does not exit on an external interrupt while its guest runs with IF = 0,
 * although external-interrupt exiting makes IF irrelevant (SDM Vol. 3C
 * 26.2), so there the kick would wait for the end of the AP's time slice.
 */
static void __attribute__((noreturn, used)) ap_main(void)
{
	__asm__ volatile("sti");
	for (;;)
		(*AP_COUNTER)++;
}

static void send_ipi(uint32_t icr_low)
{
	APIC_REG(APIC_ICR_HIGH) = (uint32_t)AP_APIC_ID << 24;
	APIC_REG(APIC_ICR_LOW) = icr_low;
}

/* INIT, SIPI, SIPI (SDM Vol. 3A 9.4.4); true once the AP counts. */
static bool start_ap(void)
{
	struct trampoline_data *td = trampoline_data();
	struct guest_desc_ptr gdtr;

	memcpy((void *)(uintptr_t)TRAMPOLINE_PA, smp_trampoline_start,
	       (size_t)(smp_trampoline_end - smp_trampoline_start));
	guest_sgdt(&gdtr); /* the boot GDT: code 0x08, data 0x10 */
	td->gdt_limit = gdtr.limit;
	td->gdt_base = gdtr.base;
	td->entry = (uint32_t)(uintptr_t)ap_main;
	td->stack = (uint32_t)(uintptr_t)(ap_stack + sizeof(ap_stack));
	td->entries = 0;
	APIC_REG(APIC_SVR) |= SVR_ENABLE;
	send_ipi(ICR_INIT | ICR_ASSERT);
	send_ipi(ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
	send_ipi(ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
	for (unsigned i = 0; i < AP_WAIT_LIMIT; i++)
		if (*AP_COUNTER > 1000)
			return td->entries == 1;
	return false;
}

static int smp_flow(uint8_t boot)
{
	if (boot == 0) {
		say("smp boot 1: power-on");
		check(start_ap(), "the AP started (INIT, SIPI, SIPI) and computes");
		guest_outb(UART_SCR, 1);
		say("smp boot 1: resetting through port 0xCF9 while the AP computes");
		guest_outb(RESET_CONTROL, 0x06);
		return reset_did_not_happen("the VM still runs after the reset through port 0xCF9");
	}
	say("smp boot 2: came back after the reset through port 0xCF9");
	for (volatile unsigned i = 0; i < AP_WAIT_LIMIT / 4; i++)
		;
	check(*AP_COUNTER == 0, "the AP no longer runs after the restart (it waits for SIPI)");
	check(start_ap(), "the AP starts again after INIT and SIPI");
	say("reset smp: done, %u failure(s)", failures());
	return (int)failures();
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	uint8_t boot = guest_inb(UART_SCR); /* boots before this one */

	if ((info->flags & 4) && cmdline_has_word((const char *)(uintptr_t)info->cmdline, "smp"))
		return smp_flow(boot);

	switch (boot) {
	case 0:
		say("boot 1: power-on");
		check(*SCRATCH_RAM == 0, "guest RAM outside the image reads 0 at power-on");
		check_pci();
		check_i8042();
		guest_outb(RESET_CONTROL, 0x02); /* SYS_RST: the next reset is a hard one */
		check(guest_inb(RESET_CONTROL) == 0x02, "port 0xCF9 reads back 02h");
		prepare_for_reset();
		say("boot 1: resetting through port 0xCF9 (hard reset)");
		guest_outb(RESET_CONTROL, 0x06); /* RST_CPU 0 -> 1 */
		return reset_did_not_happen("the VM still runs after the reset through port 0xCF9");
	case 1:
		check_came_back_reset("port 0xCF9");
		guest_outb(SYSTEM_CONTROL_A, 0x02); /* the A20 gate */
		check(guest_inb(SYSTEM_CONTROL_A) == 0x02, "port 0x92 reads back the A20 gate bit");
		prepare_for_reset();
		say("boot 2: resetting through port 0x92 (fast reset)");
		guest_outb(SYSTEM_CONTROL_A, 0x03); /* INIT_NOW 0 -> 1 */
		return reset_did_not_happen("the VM still runs after the reset through port 0x92");
	case 2:
		check_came_back_reset("port 0x92");
		prepare_for_reset();
		say("boot 3: resetting through the i8042 (command FEh)");
		i8042_command(0xFE);
		return reset_did_not_happen("the VM still runs after the reset through the i8042");
	case 3:
		check_came_back_reset("the i8042");
		say("reset: done, %u failure(s)", failures());
		return (int)failures();
	default:
		check(false, "the boot count in the UART's scratch register is in range");
		return (int)failures();
	}
}
