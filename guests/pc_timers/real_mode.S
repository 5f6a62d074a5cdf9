/*
 * The real-mode part of the pc_timers guest (see real_mode.h).  The stub
 * between real_mode_stub_start and real_mode_stub_end runs from its copy
 * at REAL_MODE_PA, so every address in it is its offset from the start:
 * CS-relative in 16-bit protected mode (RM_CODE16 has base REAL_MODE_PA),
 * DS-relative in real mode (DS = CS = REAL_MODE_SEG).
 */
#include "real_mode.h"

#define OFF(x) ((x) - real_mode_stub_start)
#define DATA(field) (OFF(real_mode_data_block) + (field))
#define AT_COPY(field) (REAL_MODE_PA + DATA(field))

#define PIC_MASTER_COMMAND 0x20
#define PIC_MASTER_DATA    0x21
#define PIC_SLAVE_COMMAND  0xA0
#define PIC_SLAVE_DATA     0xA1
#define PIC_SLAVE_VECTORS  0x70 /* where a PC BIOS puts IRQs 8-15 */
#define PIT_COUNTER0       0x40
#define PIT_CONTROL        0x43
#define OCW2_EOI           0x20
#define OCW3_READ_ISR      0x0B

	.text
	.code32
/*
 * void real_mode_run(void).  The caller's GDT must hold flat code at 0x08
 * and flat data at 0x10 (traps_init's, and the Multiboot start state).
 */
	.globl real_mode_run
	.type real_mode_run, @function
real_mode_run:
	push %ebp
	push %ebx
	push %esi
	push %edi
	pushf
	cli
	sgdt saved_gdtr
	sidt saved_idtr
	mov %esp, saved_esp
	lgdt switch_gdt_ptr
	/* The way back loads the same GDT from the copy's data block (LGDT
	 * with a 32-bit operand takes the whole base); real mode's IDTR is
	 * the IVT at 0 (SDM Vol. 3A 20.1.4). */
	sgdt AT_COPY(RD_GDT_LIMIT)
	movw $0x3FF, AT_COPY(RD_IVT_LIMIT)
	movl $0, AT_COPY(RD_IVT_BASE)
	/* A 16-bit code segment first (SDM Vol. 3A 10.9.2, step 3). */
	ljmp $RM_CODE16, $OFF(stub_protected16)

	.code16
	.globl real_mode_stub_start, real_mode_data_block, real_mode_stub_end
real_mode_stub_start:
stub_protected16:
	/* Segment registers with real-mode limits (64 KiB, byte granular,
	 * expand-up, writable) before PE goes (step 4). */
	mov $RM_DATA16, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov %cr0, %eax
	and $~1, %eax                     /* CR0.PE = 0 (step 6) */
	mov %eax, %cr0
	ljmp $REAL_MODE_SEG, $OFF(stub_real) /* a far jump loads real-mode CS (step 7) */

stub_real:
	mov %cs, %ax
	mov %ax, %ds
	xor %ax, %ax
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov $REAL_MODE_SP, %esp
	lidt DATA(RD_IVT_LIMIT)           /* 16-bit operand: limit and a 24-bit base */
	mov %cr0, %eax
	mov %eax, DATA(RD_CR0)

	/* The IVT (ES = 0): the master's eight vectors, four bytes each
	 * (offset, then segment); IRQ 0's is the tick handler. */
	mov DATA(RD_VECTOR_BASE), %bx
	shl $2, %bx
	mov $8, %cx
1:	movw $OFF(stub_other_irq), %es:(%bx)
	movw $REAL_MODE_SEG, %es:2(%bx)
	add $4, %bx
	loop 1b
	mov DATA(RD_VECTOR_BASE), %bx
	shl $2, %bx
	movw $OFF(stub_irq0), %es:(%bx)

	/* The 8259A pair as a BIOS initializes it (Intel 8259A data sheet,
	 * ICW1-ICW4): edge-triggered, cascaded, 8086 mode; the master at
	 * the vector base given, the slave at 0x70; every input masked but
	 * IRQ 0. */
	mov $0x11, %al
	out %al, $PIC_MASTER_COMMAND
	mov DATA(RD_VECTOR_BASE), %al
	out %al, $PIC_MASTER_DATA
	mov $0x04, %al                    /* ICW3: a slave on IR2 */
	out %al, $PIC_MASTER_DATA
	mov $0x01, %al
	out %al, $PIC_MASTER_DATA
	mov $0x11, %al
	out %al, $PIC_SLAVE_COMMAND
	mov $PIC_SLAVE_VECTORS, %al
	out %al, $PIC_SLAVE_DATA
	mov $0x02, %al                    /* ICW3: slave ID 2 */
	out %al, $PIC_SLAVE_DATA
	mov $0x01, %al
	out %al, $PIC_SLAVE_DATA
	mov $0xFF, %al
	out %al, $PIC_SLAVE_DATA
	mov $0xFE, %al
	out %al, $PIC_MASTER_DATA

	/* PIT counter 0: the control word, then the count LSB, MSB (Intel
	 * 8254 data sheet). */
	mov DATA(RD_PIT_CONTROL), %al
	out %al, $PIT_CONTROL
	mov DATA(RD_PIT_COUNT), %al
	out %al, $PIT_COUNTER0
	mov DATA(RD_PIT_COUNT) + 1, %al
	out %al, $PIT_COUNTER0

	/* Sleep until the ticks are in: STI's shadow covers HLT, so a tick
	 * that is already pending ends the HLT rather than slip in before. */
2:	incl DATA(RD_HALTS)
	sti
	hlt
	cli
	mov DATA(RD_TICKS), %eax
	cmp DATA(RD_TARGET_TICKS), %eax
	jb 2b
	mov $0xFF, %al
	out %al, $PIC_MASTER_DATA

	/* Back to 32-bit protected mode (SDM Vol. 3A 10.9.1). */
	lgdtl DATA(RD_GDT_LIMIT)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $RM_CODE32, $back_in_protected_mode

/* IRQ 0 through the IVT: FLAGS, CS, IP on the stack (SDM Vol. 3A 20.1.4). */
stub_irq0:
	pushl %eax
	pushl %edx
	pushl %ebx
	push %ds
	mov %cs, %ax
	mov %ax, %ds
	rdtsc
	mov DATA(RD_TICKS), %ebx
	cmp $REAL_MODE_MAX_TICKS, %ebx
	jae 3f
	shl $3, %bx
	mov %eax, DATA(RD_TICK_TSC)(%bx)
	mov %edx, DATA(RD_TICK_TSC) + 4(%bx)
3:	incl DATA(RD_TICKS)
	mov %cs, %ax
	movzwl %ax, %eax
	mov %eax, DATA(RD_CS)
	cmpl $1, DATA(RD_TICKS)
	jne 4f
	mov $OCW3_READ_ISR, %al
	out %al, $PIC_MASTER_COMMAND
	in $PIC_MASTER_COMMAND, %al
	movzbl %al, %eax
	mov %eax, DATA(RD_ISR)
4:	mov $OCW2_EOI, %al
	out %al, $PIC_MASTER_COMMAND
	pop %ds
	popl %ebx
	popl %edx
	popl %eax
	iret

/* IRQs 1-7 (none is unmasked): counted, and ended with an EOI. */
stub_other_irq:
	push %ax
	push %ds
	mov %cs, %ax
	mov %ax, %ds
	incl DATA(RD_OTHER)
	mov $OCW2_EOI, %al
	out %al, $PIC_MASTER_COMMAND
	pop %ds
	pop %ax
	iret

	.align 8
real_mode_data_block:
	.space RD_SIZE
real_mode_stub_end:

	.code32
back_in_protected_mode:
	mov $RM_DATA32, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov saved_esp, %esp
	lgdt saved_gdtr
	ljmp $0x08, $5f
5:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	lidt saved_idtr
	popf
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret
	.size real_mode_run, . - real_mode_run

	.data
	.align 8
/* The GDT of the switch (SDM Vol. 3A 3.4.5): flat 32-bit code and data,
 * then the 16-bit code segment of the stub's copy and a 16-bit data
 * segment, both with limit 0xFFFF and byte granularity. */
switch_gdt:
	.quad 0
	.quad 0x00CF9B000000FFFF          /* 0x08: 32-bit code, execute/read, accessed */
	.quad 0x00CF93000000FFFF          /* 0x10: 32-bit data, read/write, accessed */
	/* 0x18: 16-bit code at REAL_MODE_PA: base 15:0 and limit 15:0, then
	 * base 31:24, G = D = 0, limit 19:16 = 0, P, DPL 0, type 0xB, base 23:16 */
	.long (REAL_MODE_PA & 0xFFFF) << 16 | 0xFFFF
	.long 0x00009B00 | (REAL_MODE_PA >> 16 & 0xFF)
	.quad 0x000093000000FFFF          /* 0x20: 16-bit data at 0 */
switch_gdt_end:
	.align 4
	.word 0
switch_gdt_ptr:
	.word switch_gdt_end - switch_gdt - 1
	.long switch_gdt
	.word 0
saved_gdtr:
	.word 0
	.long 0
	.word 0
saved_idtr:
	.word 0
	.long 0
saved_esp:
	.long 0

	.section .note.GNU-stack, "", @progbits
