/*
 * The timed loops of the bench guest's 64-bit half (called in 64-bit mode
 * through long_mode_call, long_mode.S).  Each runs
 *
 *     1: mov $A, %eax; mov $C, %ecx; mov $D, %edx; <insn>; dec %edi; jnz 1b
 *
 * BENCH_ITERATIONS times between two RDTSCs and returns the TSC delta in
 * RAX; loop64_floor is the loop without an instruction.  A 32-bit MOV
 * zero-extends, so RAX = A exactly (VMCALL with RAX = 0 is HC_NOP).  R8
 * holds the local APIC's base (0xFEE00000, mapped uncacheable by bench.c):
 * a 64-bit instruction cannot name that address as a 32-bit displacement
 * (it would be sign-extended).
 */
#define BENCH_ITERATIONS 1000	/* must match bench.c */
#define APIC_BASE 0xFEE00000

	.code64
	.macro BENCH_LOOP64 name, a, c, d, insn:vararg
	.text
	.globl \name
	.type \name, @function
\name:
	push %rbx
	push %rdi
	push %rsi
	mov $APIC_BASE, %r8d
	mov $BENCH_ITERATIONS, %edi
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %rsi
1:	mov $\a, %eax
	mov $\c, %ecx
	mov $\d, %edx
	\insn
	dec %edi
	jnz 1b
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %rsi, %rax
	pop %rsi
	pop %rdi
	pop %rbx
	ret
	.size \name, . - \name
	.endm

	BENCH_LOOP64 loop64_floor, 0, 0, 0
	BENCH_LOOP64 loop64_cpuid, 0x40000000, 0, 0, cpuid
	BENCH_LOOP64 loop64_vmcall, 0, 0, 0, vmcall		/* HC_NOP, RAX = 0 */
	BENCH_LOOP64 loop64_out80, 0, 0, 0, outb %al, $0x80
	BENCH_LOOP64 loop64_rdmsr, 0, 0x1A0, 0, rdmsr		/* IA32_MISC_ENABLE */
	/* The APIC rows (xAPIC registers, SDM Vol. 3A 11.4.1 Table 11-1). */
	BENCH_LOOP64 loop64_apic_eoi, 0, 0, 0, movl %eax, 0xB0(%r8)
	BENCH_LOOP64 loop64_cr8_write, 0, 0, 0, mov %rax, %cr8	/* TPR = 0 */
	BENCH_LOOP64 loop64_apic_tpr_write, 0, 0, 0, movl %eax, 0x80(%r8)
	BENCH_LOOP64 loop64_apic_id_read, 0, 0, 0, movl 0x20(%r8), %eax
	/* Initial count 0x7FFFFFFF: with divide-by-1 the one-shot timer bench.c
	 * set up is re-armed far beyond the loop's end. */
	BENCH_LOOP64 loop64_timer_initial_count, 0x7FFFFFFF, 0, 0, movl %eax, 0x380(%r8)
	/* IA32_TSC_DEADLINE (0x6E0) = 0x7FFFFFFF00000000: far in the future. */
	BENCH_LOOP64 loop64_tsc_deadline_write, 0, 0x6E0, 0x7FFFFFFF, wrmsr
	/* ICR low (0x300): vector 0x40, fixed, edge, assert, shorthand self
	 * (bits 19:18 = 01, SDM Vol. 3A 11.6.1); bench64_ipi_isr EOIs it. */
	BENCH_LOOP64 loop64_self_ipi, 0x44040, 0, 0, movl %eax, 0x300(%r8)

	.section .note.GNU-stack, "", @progbits
