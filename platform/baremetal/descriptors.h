/*
 * The final GDT, TSS and IDT of the bootstrap processor, built in C.
 *
 * GDT layout (selectors):
 *   0x00 null
 *   0x08 64-bit ring-0 code
 *   0x10 ring-0 data
 *   0x18 64-bit TSS (16-byte descriptor, occupies 0x18 and 0x20)
 * The IDT holds interrupt gates for the 32 exception vectors; #DF, NMI and
 * #MC run on their own IST stacks so they are reported even when the
 * current stack is what went wrong.
 */
#ifndef CVISOR_BAREMETAL_DESCRIPTORS_H
#define CVISOR_BAREMETAL_DESCRIPTORS_H

#include <stdint.h>

#define GDT_SEL_CODE64 0x08
#define GDT_SEL_DATA   0x10
#define GDT_SEL_TSS    0x18

#define EXCEPTION_VECTORS 32

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

/* Builds and loads GDT, TSS (ltr 0x18) and IDT on the bootstrap processor. */
void descriptors_init(void);

/* Linear base address of the TSS (for the VMCS host-state TR base). */
uint64_t descriptors_tss_base(void);

/* Called by isr.S for every exception; reports it and powers off. */
void exception_handler(struct exception_frame *frame);

/* entry.S: loads GDTR and reloads CS (far return), DS/ES/SS, FS/GS = 0. */
struct desc_ptr;
void gdt_load(const struct desc_ptr *gdtr, uint16_t code_sel, uint16_t data_sel);

#endif
