/*
 * The application-processor start-up trampoline (trampoline.S): a blob
 * copied to a page below 1 MiB, where a start-up IPI begins it in real mode
 * at offset 0 (SDM Vol. 3A 9.4.4 "MP Initialization Example").  Shared by
 * the assembly and smp.c: the layout of the parameter block the BSP fills
 * before each start-up.  Offsets are from ap_trampoline_params.
 */
#ifndef CVISOR_BAREMETAL_SMP_TRAMPOLINE_H
#define CVISOR_BAREMETAL_SMP_TRAMPOLINE_H

#define APB_GDT     0x00	/* 4 descriptors: null, code64, data, code32 */
#define APB_GDTR    0x22	/* lgdtl operand: u16 limit, u32 base (at 0x24) */
#define APB_FAR32   0x28	/* ljmpl operand: u32 offset, u16 selector */
#define APB_FAR64   0x30	/* ljmpl operand: u32 offset, u16 selector */
#define APB_CR3     0x38	/* u64 */
#define APB_EFER    0x40	/* u64 */
#define APB_STACK   0x48	/* u64: the AP's initial RSP */
#define APB_PERCPU  0x50	/* u64: struct percpu *, smp_ap_entry's argument */
#define APB_SIZE    0x58

/* Selectors of the trampoline's GDT (0x08 and 0x10 as in the final GDT). */
#define APB_SEL_CODE64 0x08
#define APB_SEL_DATA   0x10
#define APB_SEL_CODE32 0x18

#ifndef __ASSEMBLER__
#include <stdint.h>

struct __attribute__((packed)) ap_boot_params {
	uint64_t gdt[4];
	uint16_t pad0;
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint32_t far32_offset;
	uint16_t far32_selector;
	uint16_t pad1;
	uint32_t far64_offset;
	uint16_t far64_selector;
	uint16_t pad2;
	uint64_t cr3;
	uint64_t efer;
	uint64_t stack;
	uint64_t percpu;
};
_Static_assert(__builtin_offsetof(struct ap_boot_params, gdt_limit) == APB_GDTR, "APB_GDTR");
_Static_assert(__builtin_offsetof(struct ap_boot_params, far32_offset) == APB_FAR32, "APB_FAR32");
_Static_assert(__builtin_offsetof(struct ap_boot_params, far64_offset) == APB_FAR64, "APB_FAR64");
_Static_assert(__builtin_offsetof(struct ap_boot_params, cr3) == APB_CR3, "APB_CR3");
_Static_assert(__builtin_offsetof(struct ap_boot_params, efer) == APB_EFER, "APB_EFER");
_Static_assert(__builtin_offsetof(struct ap_boot_params, stack) == APB_STACK, "APB_STACK");
_Static_assert(__builtin_offsetof(struct ap_boot_params, percpu) == APB_PERCPU, "APB_PERCPU");
_Static_assert(sizeof(struct ap_boot_params) == APB_SIZE, "APB_SIZE");

/* trampoline.S: the blob [start, end), its parameter block and where
 * its 32-bit part starts. */
extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_params[];
extern const char ap_protected_mode[];
/* trampoline.S: where the trampoline's far jump enters 64-bit mode. */
extern const char ap_entry64[];
#endif

#endif
