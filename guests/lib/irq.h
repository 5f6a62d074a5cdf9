/*
 * Interrupt handlers for test guests: vectors 32-255 (external interrupts,
 * IPIs, INT n) in 32-bit protected mode, next to the exception handling of
 * probe.h.
 *
 *   traps_init();
 *   traps_set_handler(0x40, my_handler);
 *
 * traps_set_handler(vector, fn) installs a 32-bit interrupt gate for the
 * vector (SDM Vol. 3A 6.11), raises the IDT limit to cover it and reloads
 * IDTR.  The first call moves the IDT that traps_init() built into a
 * 256-gate table (the exception gates are copied) and points probe.S's
 * IDT pointer at it, so traps_use_legacy_idt() loads the extended IDT:
 * that is how another CPU of the guest loads it.  Call traps_init() first
 * (it provides code segment 0x08).  Vectors above the highest installed
 * one stay beyond the IDT limit (#GP when raised).
 *
 * fn runs on the interrupted stack with EFLAGS.IF = 0 (interrupt gate) and
 * DF = 0, and gets the vector and the EIP the interrupt returns to; the
 * general registers are restored and IRET resumes the interrupted code.
 * Vectors 32-255 push no error code (SDM Vol. 3A 6.13).  It returns 0, or
 * -1 for a vector outside 32-255 (exceptions stay with the probes) or a
 * NULL fn.
 *
 * Opt-in, as a single-header library: exactly one C file of the guest
 * defines TRAPS_IRQ_IMPLEMENTATION before including this header.  Every
 * .c/.S file in guests/lib is linked into every guest, and the entry
 * stubs and the 256-gate IDT take about 4 KiB, which would move the
 * images (and the Multiboot modules placed after them) of guests that do
 * not use interrupts.
 */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdint.h>

typedef void (*trap_handler)(uint32_t vector, uint32_t eip);

int traps_set_handler(unsigned vector, trap_handler fn);

#ifdef TRAPS_IRQ_IMPLEMENTATION

#define TRAPS_IRQ_GATE32 0x8E00u /* P = 1, DPL 0, 32-bit interrupt gate */
#define TRAPS_IRQ_CS 0x08u       /* probe.S: flat 32-bit code */

struct __attribute__((packed)) traps_idt_pointer {
	uint16_t limit;
	uint32_t base;
};

/* probe.S: the operand of LIDT in traps_init() and traps_use_legacy_idt(). */
extern struct traps_idt_pointer traps_idt_ptr;
/* Below: the entry stub of each vector from 32 up. */
extern const uint32_t traps_irq_stub_table[256 - 32];
/* Read by traps_irq_common. */
trap_handler traps_irq_handlers[256];
static uint32_t traps_irq_idt[256 * 2] __attribute__((aligned(8)));

int traps_set_handler(unsigned vector, trap_handler fn)
{
	if (vector < 32 || vector > 255 || !fn)
		return -1;
	if (traps_idt_ptr.base != (uint32_t)(uintptr_t)traps_irq_idt) {
		/* First use: take over the gates installed so far. */
		const uint32_t *old = (const uint32_t *)(uintptr_t)traps_idt_ptr.base;
		unsigned words = ((unsigned)traps_idt_ptr.limit + 1) / 4;
		for (unsigned i = 0; i < words && i < 256 * 2; i++)
			traps_irq_idt[i] = old[i];
		traps_idt_ptr.base = (uint32_t)(uintptr_t)traps_irq_idt;
	}
	uint32_t stub = traps_irq_stub_table[vector - 32];
	traps_irq_handlers[vector] = fn;
	/* Gate descriptor (SDM Vol. 3A 6.11, Figure 6-2): offset 15:0 and the
	 * selector, then offset 31:16 and the type. */
	traps_irq_idt[vector * 2] = (stub & 0xFFFFu) | TRAPS_IRQ_CS << 16;
	traps_irq_idt[vector * 2 + 1] = (stub & 0xFFFF0000u) | TRAPS_IRQ_GATE32;
	if (traps_idt_ptr.limit < vector * 8 + 7)
		traps_idt_ptr.limit = (uint16_t)(vector * 8 + 7);
	__asm__ volatile("lidt %0" ::"m"(traps_idt_ptr) : "memory");
	return 0;
}

/*
 * One stub per vector pushes the vector and joins traps_irq_common, which
 * saves the general registers, calls traps_irq_handlers[vector](vector,
 * EIP) and returns with IRET.  Stack at traps_irq_common: vector, EIP, CS,
 * EFLAGS.
 */
__asm__(".pushsection .text\n"
	".code32\n"
	".altmacro\n"
	".macro TRAPS_IRQ_STUB v\n"
	"traps_irq_stub_\\v:\n"
	"	pushl $\\v\n"
	"	jmp traps_irq_common\n"
	".endm\n"
	".macro TRAPS_IRQ_STUB_ADDRESS v\n"
	"	.long traps_irq_stub_\\v\n"
	".endm\n"
	".set traps_irq_vector, 32\n"
	".rept 224\n"
	"	TRAPS_IRQ_STUB %traps_irq_vector\n"
	"	.set traps_irq_vector, traps_irq_vector + 1\n"
	".endr\n"
	"traps_irq_common:\n"
	"	pusha\n"                         /* 32 bytes */
	"	cld\n"
	"	mov 32(%esp), %eax\n"            /* vector */
	"	mov 36(%esp), %edx\n"            /* interrupted EIP */
	"	push %edx\n"
	"	push %eax\n"
	"	call *traps_irq_handlers(, %eax, 4)\n"
	"	add $8, %esp\n"
	"	popa\n"
	"	add $4, %esp\n"                  /* the vector */
	"	iret\n"
	".popsection\n"
	".pushsection .rodata\n"
	".align 4\n"
	".globl traps_irq_stub_table\n"
	"traps_irq_stub_table:\n"
	".set traps_irq_vector, 32\n"
	".rept 224\n"
	"	TRAPS_IRQ_STUB_ADDRESS %traps_irq_vector\n"
	"	.set traps_irq_vector, traps_irq_vector + 1\n"
	".endr\n"
	".popsection\n"
	".purgem TRAPS_IRQ_STUB\n"
	".purgem TRAPS_IRQ_STUB_ADDRESS\n"
	".noaltmacro\n");

#endif /* TRAPS_IRQ_IMPLEMENTATION */

#endif
