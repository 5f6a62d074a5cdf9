/*
 * Entry of every test guest: a Multiboot v1 kernel (Multiboot spec 3.1.1)
 * started in 32-bit flat protected mode with paging off, EAX = 0x2BADB002
 * and EBX = the information block, exactly as QEMU -kernel starts it.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002 /* bit 1: please provide mem_* and the memory map */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	mov $stack_top, %esp
	push %ebx
	push %eax
	call guest_main
	/* guest_main returns the number of failed checks: stop with it. */
	mov %eax, %ebx
	mov $4, %eax /* HC_STOP */
	vmcall
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
