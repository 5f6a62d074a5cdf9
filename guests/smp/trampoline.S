/*
 * The AP trampoline (see trampoline.h).  It is assembled into the guest
 * image and copied to TRAMPOLINE_PA, so every address in it is computed
 * from its offset: DS-relative in real mode (DS = CS = TRAMPOLINE_PA >> 4),
 * TRAMPOLINE_PA + offset once flat.
 */
#include "trampoline.h"

#define OFF(x) ((x) - smp_trampoline_start)
#define DATA(field) (OFF(smp_trampoline_data) + (field))

	.text
	.globl smp_trampoline_start, smp_trampoline_data, smp_trampoline_end

	.code16
smp_trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	movzwl %ax, %eax
	movl %eax, DATA(TD_REAL_CS)
	movl %cr0, %eax
	movl %eax, DATA(TD_REAL_CR0)
	lock incl DATA(TD_ENTRIES)
	/* LGDT with a 32-bit operand size takes the whole 32-bit base. */
	lgdtl DATA(TD_GDT_LIMIT)
	movl %cr0, %eax
	orl $1, %eax                      /* CR0.PE */
	movl %eax, %cr0
	/* A far jump right after setting PE (SDM Vol. 3A 10.9.1, step 4). */
	ljmpl $TRAMPOLINE_CS, $(TRAMPOLINE_PA + OFF(trampoline32))

	.code32
trampoline32:
	mov $TRAMPOLINE_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov TRAMPOLINE_PA + DATA(TD_STACK), %esp
	call *TRAMPOLINE_PA + DATA(TD_ENTRY)
1:	cli                               /* the entry does not return */
	hlt
	jmp 1b

	.align 8
smp_trampoline_data:
	.space TD_SIZE
smp_trampoline_end:

/* ---- helpers whose interrupt return addresses the checks know ------- */

/* STI delays interrupts by one instruction (SDM Vol. 2B STI): a pending
 * interrupt is taken after the NOP, so it returns to after_sti_nop. */
	.globl sti_nop_cli, after_sti_nop
	.type sti_nop_cli, @function
sti_nop_cli:
	sti
	nop
after_sti_nop:
	cli
	ret
	.size sti_nop_cli, . - sti_nop_cli

/* STI; CPUID: CPUID exits to cvisor from inside the STI shadow; the
 * shadow still ends after it (SDM Vol. 3C 26.3: emulating the instruction
 * ends the blocking), so the interrupt returns to after_sti_cpuid. */
	.globl sti_cpuid_cli, after_sti_cpuid
	.type sti_cpuid_cli, @function
sti_cpuid_cli:
	push %ebx
	xor %eax, %eax
	xor %ecx, %ecx
	sti
	cpuid
after_sti_cpuid:
	cli
	pop %ebx
	ret
	.size sti_cpuid_cli, . - sti_cpuid_cli

/* STI; HLT: no interrupt slips in between; the one that ends HLT returns
 * to the instruction after HLT (SDM Vol. 2A HLT). */
	.globl sti_hlt_cli, after_sti_hlt
	.type sti_hlt_cli, @function
sti_hlt_cli:
	sti
	hlt
after_sti_hlt:
	cli
	ret
	.size sti_hlt_cli, . - sti_hlt_cli

	.section .note.GNU-stack, "", @progbits
