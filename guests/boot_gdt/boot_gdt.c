/*
 * A Multiboot kernel that keeps the GDT its boot loader left (legal under
 * GRUB and QEMU's -kernel, which both leave a valid flat GDT) and installs
 * only an IDT.  Delivering an exception reloads CS from that GDT (SDM Vol.
 * 3A 6.12.1), so without a real one it would triple-fault.  It checks the
 * GDT cvisor gives (code 0x08 and data 0x10, flat, matching the segment
 * registers it starts with), then takes #GP from an unknown MSR and #UD
 * from VMXOFF and comes back from both.
 */
#include "guest.h"
#include "probe.h"

/* A flat 4 GiB segment of this type (SDM Vol. 3A 3.4.5): base 0, limit
 * 0xFFFFF with G=1, D/B=1, P=1, DPL 0, S=1. */
static bool flat_descriptor(uint64_t d, uint8_t type)
{
	uint32_t base = (uint32_t)((d >> 16) & 0xFFFFFF) | (uint32_t)((d >> 56) & 0xFF) << 24;
	uint32_t limit = (uint32_t)(d & 0xFFFF) | (uint32_t)((d >> 48) & 0xF) << 16;
	uint8_t access = (uint8_t)(d >> 40), flags = (uint8_t)(d >> 52) & 0xF;

	return base == 0 && limit == 0xFFFFF && (access & 0x9F) == (0x90 | type) &&
	       (access & 0x60) == 0 && flags == 0xC;
}

/* Multiboot spec 3.3: mmap entries {size, base_addr, length, type}, type 1 RAM. */
struct __attribute__((packed)) mmap_entry {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
};

static bool reserved_in_memory_map(const struct multiboot_info *info, uint32_t start, uint32_t len)
{
	if (!(info->flags & (1u << 6)))
		return false;
	for (uint32_t at = info->mmap_addr; at < info->mmap_addr + info->mmap_length;) {
		const struct mmap_entry *e = (const struct mmap_entry *)(uintptr_t)at;
		if (e->base <= start && start + len <= e->base + e->length)
			return e->type != 1;
		at += e->size + 4;
	}
	return false;
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	struct guest_desc_ptr gdtr;
	uint64_t value;

	(void)magic;
	guest_sgdt(&gdtr);
	uint32_t gdt_base = gdtr.base;
	uint16_t gdt_limit = gdtr.limit;
	say("boot GDT at 0x%x, limit 0x%x", gdt_base, gdt_limit);
	check(gdt_limit >= 0x17, "the boot GDTR holds at least three descriptors");
	const uint64_t *gdt = (const uint64_t *)(uintptr_t)gdt_base;
	check(gdt_limit >= 0x17 && flat_descriptor(gdt[1], 0xB),
	      "selector 0x08 is a flat 32-bit code segment");
	check(gdt_limit >= 0x17 && flat_descriptor(gdt[2], 0x3),
	      "selector 0x10 is a flat 32-bit data segment");
	check(reserved_in_memory_map(info, gdt_base, (uint32_t)gdt_limit + 1),
	      "the memory map reports the boot GDT as reserved");

	traps_init_idt_only();
	int vec = probe_rdmsr(0x4B564D00, &value); /* KVM's paravirtual range: not offered */
	check(vec == VEC_GP, "an unknown MSR raises #GP through the boot GDT");
	vec = probe_vmxoff();
	check(vec == VEC_UD, "VMXOFF raises #UD through the boot GDT");
	say("boot_gdt: done, %u failure(s)", failures());
	return (int)failures();
}
