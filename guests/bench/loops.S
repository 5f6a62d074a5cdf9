/*
 * The timed loops of the exit round-trip benchmark.  Each function runs
 *
 *     1: mov $A, %eax; mov $C, %ecx; <insn>; dec %edi; jnz 1b
 *
 * BENCH_ITERATIONS times between two RDTSCs and returns the TSC delta
 * (uint64_t in EDX:EAX, cdecl).  loop_floor is the same loop without an
 * instruction; bench.c subtracts it.
 */
#define BENCH_ITERATIONS 1000	/* must match bench.c */

	.macro BENCH_LOOP name, a, c, insn:vararg
	.text
	.globl \name
	.type \name, @function
\name:
	push %ebx
	push %esi
	push %edi
	push %ebp
	mov $BENCH_ITERATIONS, %edi
	rdtsc
	mov %eax, %esi
	mov %edx, %ebp
1:	mov $\a, %eax
	mov $\c, %ecx
	\insn
	dec %edi
	jnz 1b
	rdtsc
	sub %esi, %eax
	sbb %ebp, %edx
	pop %ebp
	pop %edi
	pop %esi
	pop %ebx
	ret
	.size \name, . - \name
	.endm

	BENCH_LOOP loop_floor, 0, 0
	BENCH_LOOP loop_nop, 0, 0, nop
	BENCH_LOOP loop_add, 0, 0, add %ecx, %eax
	BENCH_LOOP loop_cpuid, 0x40000000, 0, cpuid
	BENCH_LOOP loop_vmcall, 0, 0, vmcall		/* HC_NOP */
	BENCH_LOOP loop_out80, 0, 0, outb %al, $0x80
	BENCH_LOOP loop_tpr_write, 0, 0, movl %eax, 0xFEE00080
	BENCH_LOOP loop_apic_ver_read, 0, 0, movl 0xFEE00030, %eax
	BENCH_LOOP loop_rdmsr, 0, 0x1A0, rdmsr		/* IA32_MISC_ENABLE */
	BENCH_LOOP loop_eoi_write, 0, 0, movl %eax, 0xFEE000B0
	/* A write to the page bench.c protected with the `log` policy at
	 * 3 MiB (EPT violation, the write let through by emulation, the event
	 * folded into the last one). */
	BENCH_LOOP loop_protect_log_write, 0, 0, movl %eax, 0x300000

	.section .note.GNU-stack, "", @progbits
