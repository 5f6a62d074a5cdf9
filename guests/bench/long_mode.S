/*
 * The 64-bit half of the bench guest: the way into 64-bit mode and back,
 * and its interrupt handlers.  bench.c builds the page tables (4-level
 * paging, bench64_pml4) and the 64-bit IDT (bench64_idt) before the first
 * call.
 *
 *   uint64_t long_mode_call(uint32_t fn64, uint32_t with_stats)   (cdecl)
 *
 * enters IA-32e mode the way SDM Vol. 3A 10.8.5 lists (CR4.PAE, CR3,
 * IA32_EFER.LME, then CR0.PG; a far jump to a code segment with L=1 enters
 * 64-bit mode), loads the 64-bit IDT, sets RFLAGS.IF and calls fn64, a
 * 64-bit function returning a 64-bit value in RAX (a timed loop of
 * loops64.S).  With with_stats, it brackets that call by two HC_EXIT_STATS
 * hypercalls, so that cvisor's exit counts before and after the loop (and
 * nothing else in between but the second hypercall) appear in the log.
 * It then clears IF, returns to compatibility mode and leaves IA-32e mode
 * (SDM Vol. 3A 10.8.5.4: CR0.PG off first, then EFER.LME) and returns
 * fn64's value in EDX:EAX.
 *
 * While the loop runs the guest is as an operating system is: long mode,
 * 4-level paging, its local APIC software-enabled (bench.c), IF = 1 and
 * nothing pending.
 */
#define CS32 0x08
#define DS32 0x10
#define CS64 0x18
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define HC_STOP 4
#define HC_EXIT_STATS 5
#define APIC_EOI 0xFEE000B0

	.data
	.align 8
/* Flat descriptors (SDM Vol. 3A 3.4.5), accessed bits set: null, 32-bit
 * code 0x08, data 0x10, 64-bit code 0x18 (L=1, SDM Vol. 3A 5.2.1). */
bench64_gdt:
	.quad 0
	.quad 0x00CF9B000000FFFF
	.quad 0x00CF93000000FFFF
	.quad 0x00AF9B000000FFFF
bench64_gdt_end:
	.align 4
	.word 0
bench64_gdt_ptr:
	.word bench64_gdt_end - bench64_gdt - 1
	.long bench64_gdt
	.align 8
	.word 0, 0, 0
/* The 64-bit IDTR image: limit, 64-bit base (SDM Vol. 3A 6.14.1). */
bench64_idt_ptr:
	.word 256 * 16 - 1
	.long bench64_idt, 0
saved_idt:
	.word 0
	.long 0
	.align 4
result_lo: .long 0
result_hi: .long 0
	.globl bench64_ipi_count, bench64_timer_count
bench64_ipi_count: .long 0
bench64_timer_count: .long 0

	.text
	.code32
	.globl long_mode_call
	.type long_mode_call, @function
long_mode_call:
	push %ebp
	push %ebx
	push %esi
	push %edi
	pushf
	cli
	mov 24(%esp), %esi	/* fn64 */
	mov 28(%esp), %edi	/* with_stats */
	sidt saved_idt
	lgdt bench64_gdt_ptr
	mov $DS32, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $bench64_pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	ljmp $CS64, $1f

	.code64
1:	/* The upper halves of the registers are undefined here (SDM Vol. 1
	 * 3.4.1.1): a 32-bit move clears them. */
	mov %esp, %esp
	mov %esi, %esi
	mov %edi, %r12d
	/* Addresses as 32-bit immediates (zero-extended): this is an ELF32
	 * object, without relocations for sign-extended 32-bit operands. */
	mov $bench64_idt_ptr, %eax
	lidt (%rax)
	sti
	test %r12d, %r12d
	jz 2f
	mov $HC_EXIT_STATS, %eax
	vmcall
2:	call *%rsi
	mov %rax, %r13
	test %r12d, %r12d
	jz 3f
	mov $HC_EXIT_STATS, %eax
	vmcall
3:	cli
	mov $result_lo, %eax
	mov %r13d, (%rax)
	shr $32, %r13
	mov $result_hi, %eax
	mov %r13d, (%rax)
	/* Back to compatibility mode: a far return to the 32-bit code segment. */
	mov $4f, %eax
	pushq $CS32
	push %rax
	lretq

	.code32
4:	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0
	mov $MSR_EFER, %ecx
	rdmsr
	and $~EFER_LME, %eax
	wrmsr
	mov %cr4, %eax
	and $~CR4_PAE, %eax
	mov %eax, %cr4
	lidt saved_idt
	mov result_lo, %eax
	mov result_hi, %edx
	popf
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret
	.size long_mode_call, . - long_mode_call

/* ---- 64-bit interrupt handlers (interrupt gates: IF = 0 inside) ---- */
	.code64
/* The self-IPI of the ipi item: counted, then EOI (SDM Vol. 3A 11.8.5). */
	.globl bench64_ipi_isr
bench64_ipi_isr:
	push %rax
	mov $bench64_ipi_count, %eax
	incl (%rax)
	mov $APIC_EOI, %eax
	movl $0, (%rax)
	pop %rax
	iretq

/* The APIC timer, armed far in the future by the timer items: it should
 * never fire; counted if it does. */
	.globl bench64_timer_isr
bench64_timer_isr:
	push %rax
	mov $bench64_timer_count, %eax
	incl (%rax)
	mov $APIC_EOI, %eax
	movl $0, (%rax)
	pop %rax
	iretq

/* The spurious-interrupt vector: no EOI (SDM Vol. 3A 11.9). */
	.globl bench64_spurious_isr
bench64_spurious_isr:
	iretq

/* Any other vector (an exception): the measurement is void; stop the VM
 * as a failure (status 64). */
	.globl bench64_unexpected_isr
bench64_unexpected_isr:
	mov $HC_STOP, %eax
	mov $64, %ebx
	vmcall
5:	hlt
	jmp 5b

	.section .note.GNU-stack, "", @progbits
