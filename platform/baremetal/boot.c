/*
 * boot_main: the first C code.  entry.S calls it in 64-bit mode on the boot
 * stack, with the first 4 GiB identity-mapped and interrupts off.
 */
#include "boot.h"

#include "descriptors.h"
#include "lib/log.h"
#include "multiboot2.h"
#include "page_alloc.h"
#include "power.h"
#include "serial.h"
#include "smp.h"
#include "vmx/intrin.h"

/* Static: the boot stack is only 16 KiB and these are a few KiB. */
static struct mb2_boot mb2;
static struct boot_info info;
static struct mem_range ram[MB2_MAX_MMAP];
/* Non-RAM map entries, the kernel, the boot information, the modules. */
static struct mem_range reserved[MB2_MAX_MMAP + 2 + BOOT_MAX_MODULES];
static unsigned ram_count, reserved_count;

static uint64_t range_end(uint64_t base, uint64_t length)
{
	return base + length < base ? UINT64_MAX : base + length;
}

/* Hands page_alloc exactly the memory nobody else owns. */
static void init_page_allocator(void)
{
	unsigned nram = 0, nres = 0;

	for (unsigned i = 0; i < mb2.mmap_count; i++) {
		struct mem_range r = {
			mb2.mmap[i].base,
			range_end(mb2.mmap[i].base, mb2.mmap[i].length),
		};
		if (mb2.mmap[i].type == MB2_MEMORY_AVAILABLE) {
			ram[nram++] = r;
			info.usable_ram_bytes += mb2.mmap[i].length;
		} else {
			/* Only type 1 is RAM; a reserved range overlapping
			 * it (broken firmware maps exist) still wins. */
			reserved[nres++] = r;
		}
	}
	reserved[nres++] = (struct mem_range){ (uint64_t)(uintptr_t)_kernel_start,
					       (uint64_t)(uintptr_t)_kernel_end };
	reserved[nres++] = (struct mem_range){ mb2.info_pa, mb2.info_pa + mb2.info_size };
	for (unsigned i = 0; i < mb2.module_count; i++)
		reserved[nres++] = (struct mem_range){ mb2.modules[i].start,
						       mb2.modules[i].end };

	page_alloc_init(ram, nram, reserved, nres);
	ram_count = nram;
	reserved_count = nres;
}

void boot_main(uint32_t mb2_magic, uint64_t mb2_info_pa)
{
	const char *err;

	info.entry_tsc = rdtsc();
	serial_init();
	descriptors_init();
	smp_init_boot_cpu();

	if (mb2_magic != MB2_BOOTLOADER_MAGIC) {
		log_printf("cvisor: not started by a Multiboot2 boot loader (EAX 0x%x, expected 0x%x); boot cvisor.elf with GRUB's multiboot2 command\n",
			   mb2_magic, MB2_BOOTLOADER_MAGIC);
		plat_power_off(false);
	}
	err = mb2_parse(mb2_info_pa, &mb2);
	if (err) {
		log_printf("cvisor: cannot use the boot information at 0x%llx: %s\n",
			   (unsigned long long)mb2_info_pa, err);
		plat_power_off(false);
	}

	init_page_allocator();
	if (page_alloc_free_count() == 0) {
		log_printf("cvisor: no usable RAM between 1 MiB and 4 GiB\n");
		plat_power_off(false);
	}

	info.cmdline = mb2.cmdline;
	info.module_count = mb2.module_count;
	for (unsigned i = 0; i < mb2.module_count; i++)
		info.modules[i] = mb2.modules[i];
	info.acpi_rsdp_pa = mb2.acpi_rsdp_pa;

	log_printf("cvisor: booted, %llu MiB usable RAM, %u module(s)\n",
		   (unsigned long long)(info.usable_ram_bytes >> 20),
		   info.module_count);
	/* The other CPUs (the trampoline page must avoid what the map reserves). */
	smp_start(&info, ram, ram_count, reserved, reserved_count);

	cvisor_main(&info);

	log_printf("cvisor: cvisor_main returned\n");
	plat_power_off(false);
}
