/*
 * Writes the line "abcdefghijklm" to the MMIO debug-console page, one
 * letter (or three) per instruction form, so the output proves that each
 * form was decoded and emulated: void mmio_print_forms(void *page).
 */
	.text
	.code32
	.globl mmio_print_forms
mmio_print_forms:
	push %ebx
	push %esi
	push %edi
	mov 16(%esp), %ebx
	movb $'a', (%ebx)			/* C6 /0 ib, [reg] */
	movb $'b', 0xFEBFF000			/* C6 /0 ib, [disp32] */
	mov $'c', %al
	mov %al, 0x10(%ebx)			/* 88 /r, [reg+disp8] */
	mov $'d', %ah
	mov %ah, 0x200(%ebx)			/* 88 /r with AH, [reg+disp32] */
	movw $'e', (%ebx)			/* 66 C7 /0 iw: "e\0" */
	mov $1, %ecx
	mov $'f', %eax
	mov %eax, (%ebx,%ecx,4)			/* 89 /r, SIB base+index*4 */
	mov $4, %esi
	mov $'g', %edx
	mov %edx, -4(%ebx,%esi,2)		/* 89 /r, SIB + disp8 */
	movl $'h', 8(%ebx)			/* C7 /0 id */
	mov $'i', %al
	mov %al, 0xFEBFF010			/* A2 moffs */
	mov $'j', %al
	mov %ebx, %edi
	mov $1, %ecx
	cld
	rep stosb				/* F3 AA */
	lea letters, %esi
	mov %ebx, %edi
	mov $3, %ecx
	rep movsb				/* F3 A4, RAM -> MMIO */
	movb $'\n', (%ebx)
	pop %edi
	pop %esi
	pop %ebx
	ret

/* uint32_t mmio_load_forms(void *page): the OR of loads that must all read 0. */
	.globl mmio_load_forms
mmio_load_forms:
	push %ebx
	mov 8(%esp), %ebx
	movzbl (%ebx), %eax			/* 0F B6 */
	movswl 2(%ebx), %ecx			/* 0F BF */
	or %ecx, %eax
	mov 4(%ebx), %ecx			/* 8B /r */
	or %ecx, %eax
	mov 0xFEBFF008, %cl			/* A0 moffs */
	or %ecx, %eax
	pop %ebx
	ret

	.section .rodata
letters:
	.ascii "klm"

	.section .note.GNU-stack, "", @progbits
