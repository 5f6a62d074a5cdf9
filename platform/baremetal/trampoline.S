/*
 * Application-processor start-up: real mode -> protected mode -> 64-bit
 * long mode with the boot page tables, then smp_ap_entry() in C.
 *
 * smp.c copies [ap_trampoline_start, ap_trampoline_end) to a free page P
 * below 1 MiB, fills the parameter block and sends INIT-SIPI-SIPI with
 * vector P >> 12: the AP starts in real mode at CS = P >> 4, IP = 0 (SDM
 * Vol. 3A 9.4.4 "MP Initialization Example", 11.6.1 "Start-Up IPI").  The
 * blob is position independent: real mode addresses it through CS, and
 * protected mode through ESI = P.  One AP runs it at a time.
 *
 * Mode switches as in entry.S (SDM Vol. 3A 10.9.1 "Switching to Protected
 * Mode", "Initializing IA-32e Mode"): CR0.PE and a far jump; then CR4.PAE,
 * CR3, IA32_EFER (LME, NXE as on the BSP), CR0.PG with NE and WP set and CD
 * and NW cleared, and a far jump to a 64-bit code segment.
 */
#include "smp_trampoline.h"

#define CR0_PE  (1 << 0)
#define CR0_NE  (1 << 5)
#define CR0_WP  (1 << 16)
#define CR0_NW  (1 << 29)
#define CR0_CD  (1 << 30)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080

/* Offset of the parameter block in the blob. */
#define P (ap_trampoline_params - ap_trampoline_start)

	.section .rodata
	.balign 16
	.globl ap_trampoline_start, ap_trampoline_end, ap_trampoline_params, ap_protected_mode
	.code16
ap_trampoline_start:
	cli
	jmp	ap_real_mode

	.balign 16
ap_trampoline_params:
	.skip	APB_SIZE

ap_real_mode:
	cld
	movw	%cs, %ax
	movw	%ax, %ds
	xorl	%esi, %esi
	movw	%ax, %si
	shll	$4, %esi		/* ESI = physical address of the blob */
	lgdtl	P + APB_GDTR
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	*(P + APB_FAR32)	/* -> ap_protected_mode, CS = code32 */

	.code32
ap_protected_mode:
	movw	$APB_SEL_DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	P + APB_CR3(%esi), %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	movl	P + APB_EFER(%esi), %eax
	movl	P + APB_EFER + 4(%esi), %edx
	wrmsr
	movl	%cr0, %eax
	andl	$~(CR0_CD | CR0_NW), %eax
	orl	$(CR0_PG | CR0_WP | CR0_NE | CR0_PE), %eax
	movl	%eax, %cr0
	/* Compatibility mode now; this far jump loads the 64-bit CS. */
	ljmpl	*P + APB_FAR64(%esi)	/* -> ap_entry64 */
ap_trampoline_end:

/* 64-bit, in the kernel image (identity mapped like everything below 4 GiB). */
	.text
	.code64
	.globl ap_entry64
ap_entry64:
	movw	$APB_SEL_DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorl	%eax, %eax
	movw	%ax, %fs
	movw	%ax, %gs
	movl	%esi, %esi		/* upper half undefined after the switch */
	movq	P + APB_STACK(%rsi), %rsp	/* 16-byte aligned */
	movq	P + APB_PERCPU(%rsi), %rdi
	xorl	%ebp, %ebp
	call	smp_ap_entry		/* never returns */
1:	cli
	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
