/*
 * The demo guest: checks from the inside that cvisor started it like a
 * Multiboot kernel and that CPUID, the print hypercall and port I/O work.
 */
#include "abi/cpuid.h"
#include "abi/devices.h"
#include "abi/hypercall.h"
#include "guest.h"
#include "lib/mem.h"

static void uart_puts(const char *s)
{
	for (; *s; s++) {
		while (!(guest_inb(PORT_COM1 + UART_LSR_OFFSET) & UART_LSR_THRE))
			;
		guest_outb(PORT_COM1, (uint8_t)*s);
	}
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	say("cvisor demo guest: started at 0x%x", (unsigned)(uintptr_t)guest_main);
	check(magic == 0x2BADB002, "EAX holds the Multiboot boot-loader magic 0x2badb002");
	check(info->flags & 1, "the Multiboot information reports memory sizes");
	say("guest RAM: %u KiB low, %u KiB above 1 MiB", info->mem_lower, info->mem_upper);
	check((info->flags & 4) && strncmp((const char *)info->cmdline, "hello", 5) == 0,
	      "the command line starts with the image name");

	/* Multiboot modules (spec 3.3): start, end, string, reserved. */
	const uint32_t *mods = (const uint32_t *)(uintptr_t)info->mods_addr;
	for (uint32_t i = 0; (info->flags & 8) && i < info->mods_count; i++) {
		const char *text = (const char *)(uintptr_t)mods[4 * i];
		uint32_t size = mods[4 * i + 1] - mods[4 * i];
		uint32_t shown = 0;
		while (shown < size && shown < 60 && text[shown] != '\n')
			shown++;
		say("module %u \"%s\": %u bytes at 0x%x: %.*s", (unsigned)i,
		    (const char *)(uintptr_t)mods[4 * i + 2], (unsigned)size, (unsigned)mods[4 * i],
		    (int)shown, text);
		check(mods[4 * i] % 4096 == 0 && mods[4 * i] >= 0x100000,
		      "a module is page-aligned above 1 MiB");
	}

	struct guest_cpuid sig = guest_cpuid(CVISOR_CPUID_BASE, 0);
	char vendor[13];
	memcpy(vendor, &sig.ebx, 4);
	memcpy(vendor + 4, &sig.ecx, 4);
	memcpy(vendor + 8, &sig.edx, 4);
	vendor[12] = 0;
	say("cpuid 0x40000000: signature \"%s\", max leaf 0x%x", vendor, sig.eax);
	check(strncmp(vendor, "cvisor", 7) == 0 && sig.eax == CVISOR_CPUID_MAX_LEAF,
	      "cpuid 0x40000000 answers with the cvisor signature and its max leaf");
	struct guest_cpuid leaf1 = guest_cpuid(1, 0);
	check((leaf1.ecx >> 31) & 1, "cpuid 1 reports a hypervisor (ECX bit 31)");
	check(!((leaf1.ecx >> 5) & 1), "cpuid 1 hides VMX (ECX bit 5)");

	static const char msg[] = "printed by the print-string hypercall\n";
	int32_t ret = guest_vmcall(HC_PRINT_STRING, (uint32_t)(uintptr_t)msg, sizeof(msg) - 1, 0, 0);
	check(ret == (int32_t)sizeof(msg) - 1, "print-string hypercall returns the length");
	check(guest_vmcall(HC_PRINT_STRING, 0xFFFFF000u, 64, 0, 0) == HC_EFAULT,
	      "print-string of memory outside guest RAM is refused with EFAULT");
	check(guest_vmcall(HC_PRINT_STRING, (uint32_t)(uintptr_t)msg, HC_PRINT_MAX + 1, 0, 0) ==
		      HC_EINVAL,
	      "print-string longer than the limit is refused with EINVAL");
	check(guest_vmcall(0x7777, 0, 0, 0, 0) == HC_ENOSYS, "an unknown hypercall returns ENOSYS");

	uart_puts("printed through the 16550 UART at port 0x3f8\n");
	check((guest_inb(PORT_COM1 + UART_LSR_OFFSET) & (UART_LSR_THRE | UART_LSR_TEMT)) ==
		      (UART_LSR_THRE | UART_LSR_TEMT),
	      "UART line status reports an empty transmitter");
	check(guest_inl(0x2000) == 0xFFFFFFFFu, "a port with no device reads as all ones");

	/* QEMU fw_cfg: 16-bit selector at 0x510, data bytes at 0x511. */
	char fw_sig[5] = { 0 };
	guest_outw(PORT_FW_CFG, 0x0000);
	for (int i = 0; i < 4; i++)
		fw_sig[i] = (char)guest_inb(PORT_FW_CFG + 1);
	check(strncmp(fw_sig, "QEMU", 5) == 0, "fw_cfg signature reads \"QEMU\"");
	uint64_t fw_ram = 0;
	guest_outw(PORT_FW_CFG, 0x0003);
	for (int i = 0; i < 8; i++)
		fw_ram |= (uint64_t)guest_inb(PORT_FW_CFG + 1) << (8 * i);
	check(fw_ram == (uint64_t)(info->mem_upper + 1024) * 1024, "fw_cfg RAM size matches the Multiboot memory size");
	guest_outw(PORT_FW_CFG, 0x0005);
	uint16_t fw_cpus = guest_inb(PORT_FW_CFG + 1);
	fw_cpus |= (uint16_t)(guest_inb(PORT_FW_CFG + 1) << 8);
	check(fw_cpus == 1, "fw_cfg reports 1 CPU");
	guest_outw(PORT_FW_CFG, 0x1234);
	check(guest_inb(PORT_FW_CFG + 1) == 0 && guest_inb(PORT_FW_CFG + 1) == 0,
	      "fw_cfg reads zeros for an unknown key");

	/* Legacy PIC: the usual ICW1-ICW4 sequence, then masks read back. */
	guest_outb(0x20, 0x11);
	guest_outb(0x21, 0x20);
	guest_outb(0x21, 0x04);
	guest_outb(0x21, 0x01);
	guest_outb(0x21, 0xFB);
	guest_outb(0xA0, 0x11);
	guest_outb(0xA1, 0x28);
	guest_outb(0xA1, 0x02);
	guest_outb(0xA1, 0x01);
	guest_outb(0xA1, 0xFF);
	check(guest_inb(0x21) == 0xFB && guest_inb(0xA1) == 0xFF,
	      "PIC interrupt masks read back after initialization");
	check(guest_vmcall(HC_EXIT_STATS, 0, 0, 0, 0) == HC_OK,
	      "the exit-statistics hypercall prints the table and returns 0");
	say("cvisor demo guest: done, %u failure(s)", failures());
	return (int)failures();
}
