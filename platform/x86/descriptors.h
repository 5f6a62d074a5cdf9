/*
 * The host GDT, TSS and IDT of each processor, built in C (shared by the
 * bare-metal platform and the Linux module, whose VM exits land on them).
 *
 * GDT layout (selectors):
 *   0x00 null
 *   0x08 64-bit ring-0 code
 *   0x10 ring-0 data
 *   0x18 64-bit TSS (16-byte descriptor, occupies 0x18 and 0x20)
 * The IDT holds interrupt gates for all 256 vectors (the exceptions, and
 * the interrupts a sleeping bare-metal CPU takes); #DF, NMI and #MC run on
 * their own IST stacks so they are reported even when the current stack is
 * what went wrong.  Every CPU has its own GDT and TSS
 * with the same layout; the IDT is one table shared by all CPUs.
 */
#ifndef CVISOR_X86_DESCRIPTORS_H
#define CVISOR_X86_DESCRIPTORS_H

#include <stdint.h>

#define GDT_SEL_CODE64 0x08
#define GDT_SEL_DATA   0x10
#define GDT_SEL_TSS    0x18

#define EXCEPTION_VECTORS 32
#define IDT_VECTORS 256

/* IST slots (1-based in the gate; 0 means "no stack switch"). */
#define IST_DF  1
#define IST_NMI 2
#define IST_MC  3
#define IST_COUNT 3
#define IST_STACK_SIZE 8192

/* 64-bit TSS (SDM Vol. 3A figure "64-Bit TSS Format"). */
struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

/*
 * One CPU's GDT and TSS: every CPU has its own (a TSS descriptor turns
 * busy when loaded, and each CPU needs its own IST stacks); the IDT is
 * shared.
 */
struct cpu_tables {
	uint64_t gdt[5] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
};

/* Each CPU's IST stacks: #DF, NMI, #MC. */
struct ist_stacks {
	uint8_t stack[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));
};

/*
 * What isr.S leaves on the stack, lowest address first: the registers the
 * common stub pushed, the vector and error code the per-vector stub pushed
 * (error code 0 where the CPU pushes none), then the CPU's own frame.
 */
struct exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct desc_ptr;

/*
 * Fills one CPU's GDT and TSS (IST stacks from ist) without loading them;
 * *gdtr receives the GDT's base and limit.
 */
void descriptors_fill_cpu_tables(struct cpu_tables *t, struct ist_stacks *ist,
				 struct desc_ptr *gdtr);
/* Builds the shared IDT (isr.S stubs); *idtr receives its base and limit. */
void descriptors_build_idt(struct desc_ptr *idtr);

/*
 * Bare metal (platform/baremetal/descriptors_load.c): builds the shared
 * IDT, then builds and loads the bootstrap processor's GDT, TSS (ltr 0x18)
 * and the IDT.
 */
void descriptors_init(void);

/*
 * On an application processor, after descriptors_init ran on the BSP:
 * builds this CPU's GDT and TSS in tables (IST stacks from ist), loads
 * them (CS/DS/ES/SS reloaded, FS/GS null, ltr 0x18) and the shared IDT.
 */
void descriptors_init_ap(struct cpu_tables *tables, struct ist_stacks *ist);

/* Linear base address of the running CPU's TSS (read back from its GDT). */
uint64_t descriptors_tss_base(void);

/* Called by isr.S for every exception and interrupt (each platform has its
 * own; frame->vector >= EXCEPTION_VECTORS is an interrupt). */
void exception_handler(struct exception_frame *frame);

/* entry.S: loads GDTR and reloads CS (far return), DS/ES/SS, FS/GS = 0. */
void gdt_load(const struct desc_ptr *gdtr, uint16_t code_sel, uint16_t data_sel);

#endif
