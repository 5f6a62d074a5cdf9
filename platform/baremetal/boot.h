/*
 * The bare-metal platform's boot interface: what boot_main() found out about
 * the machine and hands to cvisor_main(), plus the few helpers the
 * platform's own files share.
 */
#ifndef CVISOR_BAREMETAL_BOOT_H
#define CVISOR_BAREMETAL_BOOT_H

#include <stddef.h>
#include <stdint.h>

#define BOOT_MAX_MODULES 16

/* One GRUB module (module2 command), physical [start, end). */
struct boot_module {
	uint64_t start, end;
	const char *cmdline;	/* module2 arguments; "" if none */
};

struct boot_info {
	const char *cmdline;	/* multiboot2 arguments; "" if none */
	unsigned module_count;
	struct boot_module modules[BOOT_MAX_MODULES];
	/*
	 * Physical address of an ACPI RSDP, 0 if none.  Multiboot2 hands over
	 * a copy of the RSDP (ACPI new/old RSDP tags) inside the boot
	 * information, so this points at that copy (checksums intact, prefers
	 * the ACPI 2.0+ one); its RsdtAddress/XsdtAddress are the real ones.
	 */
	uint64_t acpi_rsdp_pa;
	/* Sum of all type-1 (available) memory-map ranges, also above 4 GiB. */
	uint64_t usable_ram_bytes;
	/* TSC when boot_main started (make bench: instructions to the first VM entry). */
	uint64_t entry_tsc;
};

/* Called by entry.S in 64-bit mode with GRUB's EAX and EBX. */
void boot_main(uint32_t mb2_magic, uint64_t mb2_info_pa);

/* The hypervisor proper (platform/baremetal/main.c).  If it returns,
 * boot_main powers the machine off with failure. */
void cvisor_main(const struct boot_info *info);

/* Linker-script symbols: the loaded image, [_kernel_start, _kernel_end). */
extern char _kernel_start[], _kernel_end[];

/*
 * Console output for fatal paths (exceptions, panic, power off): waits only
 * a bounded time for the console lock, so a CPU that faulted while holding
 * it still gets its last words out.  Translates "\n" to "\r\n".
 */
void console_write_emergency(const char *text, size_t len);

#endif
