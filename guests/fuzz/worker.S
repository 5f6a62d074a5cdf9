/*
 * The two-vCPU mode's assembly (second_vcpu.c): the real-mode trampoline a
 * start-up IPI enters, and the interrupt stubs of the workers' IDT.
 *
 * The trampoline is copied to TRAMPOLINE_PA; a start-up IPI with vector
 * SIPI_VECTOR starts a vCPU there in real mode, CS = SIPI_VECTOR << 8,
 * IP = 0 (SDM Vol. 3A 9.4.4.1).  It loads the shared GDT, enters 32-bit
 * protected mode (SDM Vol. 3A 10.9.1), asks cvisor which vCPU it is
 * (HC_GET_IDS) to take that vCPU's stack, and calls the worker's entry.
 */
#define TRAMPOLINE_PA 0x8000
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define HC_GET_IDS 3

/* struct trampoline_data (second_vcpu.c). */
#define TD_GDT_LIMIT 2 /* with TD_GDT_BASE: the 6-byte LGDT operand */
#define TD_GDT_BASE  4
#define TD_ENTRY     8  /* void (*)(unsigned vcpu), called in 32-bit mode */
#define TD_STACKS    12 /* two initial ESPs, by vCPU id */

#define OFF(x) ((x) - fuzz_trampoline_start)
#define DATA(field) (OFF(fuzz_trampoline_data) + (field))

	.text
	.globl fuzz_trampoline_start, fuzz_trampoline_data, fuzz_trampoline_end

	.code16
fuzz_trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	/* LGDT with a 32-bit operand size takes the whole 32-bit base. */
	lgdtl DATA(TD_GDT_LIMIT)
	movl %cr0, %eax
	orl $1, %eax                      /* CR0.PE */
	movl %eax, %cr0
	/* A far jump right after setting PE (SDM Vol. 3A 10.9.1, step 4). */
	ljmpl $KERNEL_CS, $(TRAMPOLINE_PA + OFF(trampoline32))

	.code32
trampoline32:
	mov $KERNEL_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov $HC_GET_IDS, %eax
	vmcall                            /* ECX = this vCPU's id */
	and $1, %ecx
	mov TRAMPOLINE_PA + DATA(TD_STACKS)(,%ecx,4), %esp
	push %ecx
	call *TRAMPOLINE_PA + DATA(TD_ENTRY)
1:	cli                               /* the entry does not return */
	hlt
	jmp 1b

	.align 8
fuzz_trampoline_data:
	.space 20
fuzz_trampoline_end:

/*
 * One stub per vector: second_vcpu_interrupt(vector) decides, and returns
 * for interrupts and NMIs, which push no error code (SDM Vol. 3A 6.13);
 * for the exceptions it does not return.
 */
.macro STUB v
worker_isr_\v:
	pushl $\v
	jmp worker_interrupt
.endm

worker_interrupt:
	pusha
	cld
	pushl 32(%esp)                    /* the vector */
	call second_vcpu_interrupt
	add $4, %esp
	popa
	add $4, %esp
	iret

	.altmacro
	.set vector, 0
	.rept 256
	STUB %vector
	.set vector, vector + 1
	.endr

.macro STUB_ADDRESS v
	.long worker_isr_\v
.endm

	.section .rodata
	.align 4
	.globl worker_isr_table
worker_isr_table:
	.set vector, 0
	.rept 256
	STUB_ADDRESS %vector
	.set vector, vector + 1
	.endr
	.noaltmacro

	.section .note.GNU-stack, "", @progbits
