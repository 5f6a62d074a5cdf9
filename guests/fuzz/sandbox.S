/*
 * The fuzz guest's machinery (fuzz.c builds the tables and picks what to
 * run): entering a random instruction snippet at CPL 0 or 3, in 32-bit
 * (legacy or compatibility) or 64-bit mode; catching every vector 0-255
 * in both the 32-bit and the IA-32e IDT; and recovering from whatever the
 * snippet did, back to the C code that called fuzz_try().
 *
 * A snippet always ends in a trap: it runs with EFLAGS.TF = 1, every
 * instruction raises a single-step #DB (SDM Vol. 3A 18.3.1.4), and the
 * #DB handler resumes it (IRET) until fuzz_db_budget steps are used up.
 * Any other vector, or the last step, recovers: the flat GDT is reloaded,
 * then every segment register, the stack of fuzz_try() and the IDT of the
 * current paging mode; a same-level IRET ends any NMI blocking (SDM Vol.
 * 3A 6.7.1), and fuzz_try() returns the vector.
 *
 * Selectors (fuzz.c builds the GDT in this order).
 */
#define KERNEL_CS   0x08
#define KERNEL_DS   0x10
#define KERNEL_CS64 0x18
#define USER_CS     0x23
#define USER_DS     0x2B
#define USER_CS64   0x33

#define MSR_EFER    0xC0000080
#define EFER_LMA    0x400
#define CR0_PG      0x80000000

/* struct fuzz_entry (fuzz.c): gpr[16] as qwords, then rip, rsp, rflags,
 * steps, cs, ss as dwords. */
#define ENTRY_GPR(n) (8 * (n))
#define ENTRY_RIP    128
#define ENTRY_RSP    132
#define ENTRY_RFLAGS 136
#define ENTRY_STEPS  140
#define ENTRY_CS     144
#define ENTRY_SS     148

/* struct fuzz_mode (fuzz.c): cr0, cr3, cr4, efer_low, efer_high. */
#define MODE_CR0       0
#define MODE_CR3       4
#define MODE_CR4       8
#define MODE_EFER_LOW  12
#define MODE_EFER_HIGH 16

	.data
	.align 4
	.globl fuzz_recovery_esp, fuzz_armed, fuzz_db_budget, fuzz_ia32e, fuzz_trap_vector
fuzz_recovery_esp: .long 0 /* ESP of the innermost fuzz_try() */
fuzz_armed:        .long 0 /* inside fuzz_try(): traps recover */
fuzz_db_budget:    .long 0 /* single steps left before the snippet ends */
fuzz_ia32e:        .long 0 /* IA32_EFER.LMA as fuzz_set_mode() left it */
fuzz_trap_vector:  .long 0 /* the vector that ended the last fuzz_try() */
null_idt_ptr:
	.word 0
	.long 0

	.text
	.code32

/*
 * int fuzz_try(void (*fn)(void)): calls fn; returns -1 when it returned,
 * else the vector of the trap that ended it.
 */
	.globl fuzz_try
	.type fuzz_try, @function
fuzz_try:
	push %ebp
	push %ebx
	push %esi
	push %edi
	mov %esp, fuzz_recovery_esp
	movl $1, fuzz_armed
	call *20(%esp)
	mov $-1, %eax
try_leave:
	movl $0, fuzz_armed
	movl $0, fuzz_db_budget
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret
	.size fuzz_try, . - fuzz_try

/* ---- entering snippets ------------------------------------------------ */

/*
 * void fuzz_enter_32(void): IRET to fuzz_entry.cs:rip with rflags.  At
 * CPL 0 the frame sits on the snippet's own stack (same-level IRET pops
 * EIP, CS, EFLAGS only); at CPL 3 it carries SS:ESP as well and the data
 * segments get the user selector.  General registers come last: the low
 * halves of fuzz_entry.gpr[].
 */
	.globl fuzz_enter_32
	.type fuzz_enter_32, @function
fuzz_enter_32:
	mov fuzz_entry + ENTRY_STEPS, %eax
	mov %eax, fuzz_db_budget
	testl $3, fuzz_entry + ENTRY_CS
	jnz 1f
	mov fuzz_entry + ENTRY_RSP, %esp
	pushl fuzz_entry + ENTRY_RFLAGS
	pushl fuzz_entry + ENTRY_CS
	pushl fuzz_entry + ENTRY_RIP
	jmp 2f
1:	pushl fuzz_entry + ENTRY_SS
	pushl fuzz_entry + ENTRY_RSP
	pushl fuzz_entry + ENTRY_RFLAGS
	pushl fuzz_entry + ENTRY_CS
	pushl fuzz_entry + ENTRY_RIP
	mov fuzz_entry + ENTRY_SS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	/* DS is the user's now: read the rest through SS (flat kernel data). */
2:	mov %ss:fuzz_entry + ENTRY_GPR(1), %ecx
	mov %ss:fuzz_entry + ENTRY_GPR(2), %edx
	mov %ss:fuzz_entry + ENTRY_GPR(3), %ebx
	mov %ss:fuzz_entry + ENTRY_GPR(5), %ebp
	mov %ss:fuzz_entry + ENTRY_GPR(6), %esi
	mov %ss:fuzz_entry + ENTRY_GPR(7), %edi
	mov %ss:fuzz_entry + ENTRY_GPR(0), %eax
	iret
	.size fuzz_enter_32, . - fuzz_enter_32

/*
 * void fuzz_enter_64(void): in IA-32e mode only.  A far jump to the 64-bit
 * code segment, then IRETQ (which always pops SS:RSP in 64-bit mode, SDM
 * Vol. 2A IRET) to fuzz_entry.cs:rip with all sixteen 64-bit registers.
 */
	.globl fuzz_enter_64
	.type fuzz_enter_64, @function
fuzz_enter_64:
	mov fuzz_entry + ENTRY_STEPS, %eax
	mov %eax, fuzz_db_budget
	ljmp $KERNEL_CS64, $1f
	.code64
	/* Addresses as 32-bit immediates: this is an ELF32 object, which has
	 * no relocation for 64-bit absolute operands. */
1:	mov $fuzz_entry, %eax
	mov ENTRY_SS(%rax), %ecx
	push %rcx
	mov ENTRY_RSP(%rax), %ecx
	push %rcx
	mov ENTRY_RFLAGS(%rax), %ecx
	push %rcx
	mov ENTRY_CS(%rax), %ecx
	push %rcx
	mov ENTRY_RIP(%rax), %ecx
	push %rcx
	mov ENTRY_GPR(1)(%rax), %rcx
	mov ENTRY_GPR(2)(%rax), %rdx
	mov ENTRY_GPR(3)(%rax), %rbx
	mov ENTRY_GPR(5)(%rax), %rbp
	mov ENTRY_GPR(6)(%rax), %rsi
	mov ENTRY_GPR(7)(%rax), %rdi
	mov ENTRY_GPR(8)(%rax), %r8
	mov ENTRY_GPR(9)(%rax), %r9
	mov ENTRY_GPR(10)(%rax), %r10
	mov ENTRY_GPR(11)(%rax), %r11
	mov ENTRY_GPR(12)(%rax), %r12
	mov ENTRY_GPR(13)(%rax), %r13
	mov ENTRY_GPR(14)(%rax), %r14
	mov ENTRY_GPR(15)(%rax), %r15
	mov ENTRY_GPR(0)(%rax), %rax
	iretq
	.code32
	.size fuzz_enter_64, . - fuzz_enter_64

/* ---- control registers ------------------------------------------------ */

/*
 * void fuzz_set_mode(void): switches to the paging mode in fuzz_mode, one
 * architectural step at a time (SDM Vol. 3A 10.8.5): paging off (which
 * also leaves IA-32e mode), EFER, CR4, CR3, then CR0.  Any step may fault.
 * Across each CR0 write fuzz_ia32e is FUZZ_MODE_SWITCHING and the IDT is
 * one that serves both modes (fuzz.c, idt_switch_down/up): the write's own
 * fault in the old mode, an NMI in the old or the new one (the other vCPU
 * sends them, and they come at the exit of the write itself).  Recovery
 * then asks the CPU which mode it is in (IA32_EFER.LMA).
 */
#define FUZZ_MODE_SWITCHING 2
	.globl fuzz_set_mode
	.type fuzz_set_mode, @function
fuzz_set_mode:
	cmpl $0, fuzz_ia32e
	je 1f
	lidt fuzz_idt_down_ptr
1:	movl $FUZZ_MODE_SWITCHING, fuzz_ia32e
	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0
	lidt fuzz_idt32_ptr
	movl $0, fuzz_ia32e
	mov $MSR_EFER, %ecx
	mov fuzz_mode + MODE_EFER_LOW, %eax
	mov fuzz_mode + MODE_EFER_HIGH, %edx
	wrmsr
	mov fuzz_mode + MODE_CR4, %eax
	mov %eax, %cr4
	mov fuzz_mode + MODE_CR3, %eax
	mov %eax, %cr3
	lidt fuzz_idt_up_ptr
	movl $FUZZ_MODE_SWITCHING, fuzz_ia32e
	mov fuzz_mode + MODE_CR0, %eax
	mov %eax, %cr0
	mov $MSR_EFER, %ecx
	rdmsr
	test $EFER_LMA, %eax
	jz 2f
	lidt fuzz_idt64_ptr
	movl $1, fuzz_ia32e
	ret
2:	lidt fuzz_idt32_ptr
	movl $0, fuzz_ia32e
	ret
	.size fuzz_set_mode, . - fuzz_set_mode

/*
 * void fuzz_triple_fault(void): an IDT of limit 0 makes INT3, then the #GP
 * and the #DF, undeliverable: shutdown (SDM Vol. 3A 6.15, interrupt 8).
 */
	.globl fuzz_triple_fault
	.type fuzz_triple_fault, @function
fuzz_triple_fault:
	lidt null_idt_ptr
	int3
	ret
	.size fuzz_triple_fault, . - fuzz_triple_fault

/* void fuzz_load_tables(uint16_t tss_selector): GDT, segments, TR, IDT. */
	.globl fuzz_load_tables
	.type fuzz_load_tables, @function
fuzz_load_tables:
	lgdt fuzz_gdt_ptr
	ljmp $KERNEL_CS, $1f
1:	mov $KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	mov 4(%esp), %eax
	ltr %ax
	lidt fuzz_idt32_ptr
	ret
	.size fuzz_load_tables, . - fuzz_load_tables

/*
 * void fuzz_reload_task(uint32_t tss_selector): after a task-switch snippet
 * (fuzz.c made the TSS descriptor available again): TR, and LDTR empty.
 * Legacy mode only (in IA-32e mode a TSS descriptor takes 16 bytes).
 */
	.globl fuzz_reload_task
	.type fuzz_reload_task, @function
fuzz_reload_task:
	mov 4(%esp), %eax
	ltr %ax
	xor %eax, %eax
	lldt %ax
	ret
	.size fuzz_reload_task, . - fuzz_reload_task

/* void fuzz_write_cr4(void): CR4 = fuzz_cr4 (may fault). */
	.globl fuzz_write_cr4
	.type fuzz_write_cr4, @function
fuzz_write_cr4:
	mov fuzz_cr4, %eax
	mov %eax, %cr4
	ret
	.size fuzz_write_cr4, . - fuzz_write_cr4

/* ---- traps -------------------------------------------------------------- */

/*
 * One stub per vector.  Vector 1 is the single-step budget: resume the
 * snippet while steps are left (the stub touches no register; the flags it
 * changes come back with IRET).  Vector 2: an NMI (the other vCPU sends
 * them in the two-vCPU mode) may come while the guest's own code runs,
 * outside any action: it returns there (the IRET ends NMI blocking, SDM
 * Vol. 3A 6.7.1); inside an action it ends the action like any vector.
 * The error code some exceptions push does not matter: recovery drops the
 * whole frame.
 */
.macro STUB32 v
fuzz_isr32_\v:
	.if \v == 1
	decl %ss:fuzz_db_budget
	js 1f
	iret
1:
	.endif
	.if \v == 2
	cmpl $0, %ss:fuzz_armed
	jne 1f
	iret
1:
	.endif
	pushl $\v
	jmp trap32
.endm

trap32:
	mov %ss:(%esp), %eax
	jmp recover

	.code64
.macro STUB64 v
fuzz_isr64_\v:
	.if \v == 1
	push %rax
	mov $fuzz_db_budget, %eax
	decl (%rax)
	pop %rax
	js 1f
	iretq
1:
	.endif
	.if \v == 2
	push %rax
	mov $fuzz_armed, %eax
	cmpl $0, (%rax)
	pop %rax
	jne 1f
	iretq
1:
	.endif
	pushq $\v
	jmp trap64
.endm

/* IA-32e mode: leave 64-bit mode with IRETQ to the 32-bit recovery code
 * (compatibility mode), on the stack of fuzz_try(). */
trap64:
	mov (%rsp), %eax
	mov $fuzz_recovery_esp, %edx
	mov (%rdx), %edx
	pushq $KERNEL_DS
	push %rdx
	pushq $2
	pushq $KERNEL_CS
	mov $recover, %ecx /* zero-extends; no sign-extended relocation in ELF32 */
	push %rcx
	iretq
	.code32

/* EAX = vector; any stack, any segments, possibly a foreign GDT/IDT. */
recover:
	lgdt %cs:fuzz_gdt_ptr
	mov $KERNEL_DS, %edx
	mov %edx, %ss
	mov %ss:fuzz_recovery_esp, %esp
	mov %edx, %ds
	mov %edx, %es
	mov %edx, %fs
	mov %edx, %gs
	ljmp $KERNEL_CS, $1f
1:	cld
	cmpl $FUZZ_MODE_SWITCHING, fuzz_ia32e
	jne 6f
	/* Trapped across a mode switch's CR0 write: which mode is it now?
	 * (try_leave restores the registers this clobbers.) */
	mov %eax, %esi
	mov $MSR_EFER, %ecx
	rdmsr
	shr $10, %eax                     /* EFER_LMA */
	and $1, %eax
	mov %eax, fuzz_ia32e
	mov %esi, %eax
6:	cmpl $0, fuzz_ia32e
	je 2f
	lidt fuzz_idt64_ptr
	jmp 3f
2:	lidt fuzz_idt32_ptr
3:	pushf
	pushl $KERNEL_CS
	pushl $4f
	iret
4:	mov %eax, fuzz_trap_vector
	cmpl $0, fuzz_armed
	jne try_leave
	push %eax
	call fuzz_unarmed_trap /* does not return */
5:	cli
	hlt
	jmp 5b

	.altmacro
	.set vector, 0
	.rept 256
	STUB32 %vector
	.set vector, vector + 1
	.endr
	.code64
	.set vector, 0
	.rept 256
	STUB64 %vector
	.set vector, vector + 1
	.endr
	.code32

.macro STUB32_ADDRESS v
	.long fuzz_isr32_\v
.endm
.macro STUB64_ADDRESS v
	.long fuzz_isr64_\v
.endm

	.section .rodata
	.align 4
	.globl fuzz_isr32_table, fuzz_isr64_table
fuzz_isr32_table:
	.set vector, 0
	.rept 256
	STUB32_ADDRESS %vector
	.set vector, vector + 1
	.endr
fuzz_isr64_table:
	.set vector, 0
	.rept 256
	STUB64_ADDRESS %vector
	.set vector, vector + 1
	.endr
	.noaltmacro

	.section .note.GNU-stack, "", @progbits
