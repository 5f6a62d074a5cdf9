/*
 * Entry stubs for every vector: the exceptions 0-31 and the interrupts
 * 32-255 (the bare-metal host takes interrupts only while an idle CPU
 * sleeps; platform/baremetal/idle.c).
 *
 * In 64-bit mode the CPU aligns RSP to 16 bytes and pushes SS, RSP, RFLAGS,
 * CS, RIP and, for some vectors, an error code (SDM Vol. 3A "64-Bit Mode
 * Stack Frame"; which vectors push one: "Exception and Interrupt Reference"
 * and the table "Protected-Mode Exceptions and Interrupts").  Each stub pushes a dummy 0 where the CPU
 * pushes none, so every frame has the same shape, then the vector number,
 * and jumps to the common stub, which saves the general-purpose registers
 * and calls exception_handler(struct exception_frame *) in exceptions.c.
 * The layout must match struct exception_frame in descriptors.h.
 */

	.text

.macro ISR_NOERR vec
isr_\vec:
	pushq	$0
	pushq	$\vec
	jmp	isr_common
.endm

.macro ISR_ERR vec
isr_\vec:
	pushq	$\vec
	jmp	isr_common
.endm

	ISR_NOERR 0	/* #DE */
	ISR_NOERR 1	/* #DB */
	ISR_NOERR 2	/* NMI */
	ISR_NOERR 3	/* #BP */
	ISR_NOERR 4	/* #OF */
	ISR_NOERR 5	/* #BR */
	ISR_NOERR 6	/* #UD */
	ISR_NOERR 7	/* #NM */
	ISR_ERR   8	/* #DF (error code always 0) */
	ISR_NOERR 9	/* coprocessor segment overrun (reserved) */
	ISR_ERR   10	/* #TS */
	ISR_ERR   11	/* #NP */
	ISR_ERR   12	/* #SS */
	ISR_ERR   13	/* #GP */
	ISR_ERR   14	/* #PF */
	ISR_NOERR 15	/* reserved */
	ISR_NOERR 16	/* #MF */
	ISR_ERR   17	/* #AC (error code always 0) */
	ISR_NOERR 18	/* #MC */
	ISR_NOERR 19	/* #XM */
	ISR_NOERR 20	/* #VE */
	ISR_ERR   21	/* #CP */
	ISR_NOERR 22
	ISR_NOERR 23
	ISR_NOERR 24
	ISR_NOERR 25
	ISR_NOERR 26
	ISR_NOERR 27
	ISR_NOERR 28	/* #HV (AMD) */
	ISR_ERR   29	/* #VC (AMD) */
	ISR_ERR   30	/* #SX (AMD) */
	ISR_NOERR 31

/* Interrupts push no error code (SDM Vol. 3A "Exception and Interrupt
 * Reference": only some exceptions do). */
	.altmacro
	.set	vec, 32
	.rept	256 - 32
	ISR_NOERR %vec
	.set	vec, vec + 1
	.endr
	.noaltmacro

isr_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld
	movq	%rsp, %rdi		/* struct exception_frame * */
	movq	%rsp, %rbx		/* callee-saved: restored after the call */
	andq	$-16, %rsp		/* SysV ABI call alignment */
	call	exception_handler
	movq	%rbx, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq

/* The stub addresses, indexed by vector, for descriptors.c. */
.macro STUB_ADDRESS vec
	.quad	isr_\vec
.endm
	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	.altmacro
	.set	vec, 0
	.rept	256
	STUB_ADDRESS %vec
	.set	vec, vec + 1
	.endr
	.noaltmacro

	.section .note.GNU-stack, "", @progbits
