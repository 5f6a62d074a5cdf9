/*
 * cvisor's first instructions: the Multiboot2 header and the 32-bit entry
 * that GRUB jumps to, which checks the CPU, builds the boot page tables and
 * switches to 64-bit long mode before calling boot_main() in C.
 *
 * References:
 *  - Multiboot2 specification 2.0, "OS image format", "The layout of
 *    Multiboot2 header", "I386 machine state".
 *  - Intel SDM Vol. 3A, "Initializing IA-32e Mode" and "4-Level Paging and
 *    5-Level Paging" (4.5), and Vol. 2A "CPUID".
 */

#define MB2_HEADER_MAGIC     0xE85250D6
#define MB2_ARCH_I386        0
#define MB2_TAG_END          0
#define MB2_TAG_MODULE_ALIGN 6

#define COM1                 0x3F8

#define CR0_PE  (1 << 0)
#define CR0_NE  (1 << 5)
#define CR0_WP  (1 << 16)
#define CR0_NW  (1 << 29)
#define CR0_CD  (1 << 30)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)

#define MSR_EFER  0xC0000080
#define EFER_LME  (1 << 8)
#define EFER_NXE  (1 << 11)

/* Paging-structure entry bits (SDM Vol. 3A 4.5, the tables "Format of a
 * PML4 Entry" ... "Format of a Page-Directory Entry that Maps a 2-MByte Page"). */
#define PTE_P    (1 << 0)
#define PTE_RW   (1 << 1)
#define PTE_PWT  (1 << 3)
#define PTE_PCD  (1 << 4)
#define PTE_PS   (1 << 7)

/* 2 MiB pages from here up are device space (local APIC, I/O APIC, PCI
 * MMIO, flash): mapped uncached (PCD|PWT selects UC with the power-on PAT). */
#define UNCACHED_FROM_2M_INDEX (0xC0000000 >> 21)

#define GDT_CODE64 0x08
#define GDT_DATA   0x10

/* ------------------------------------------------------------------------ */
/* Multiboot2 header: 8-byte aligned, inside the first 32 KiB of the file.  */

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	/* magic + architecture + header_length + checksum == 0 (mod 2^32) */
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* Module alignment tag: modules must be page aligned (guests are run
	 * from module memory and mapped with page granularity). */
	.balign 8
	.word MB2_TAG_MODULE_ALIGN, 0
	.long 8

	.balign 8
	.word MB2_TAG_END, 0
	.long 8
mb2_header_end:

/* ------------------------------------------------------------------------ */
/* 32-bit entry.  Machine state (Multiboot2 "I386 machine state"): EAX holds
 * the magic 0x36d76289, EBX the physical address of the boot information,
 * CS/DS/ES/SS are flat 32-bit segments, paging and interrupts are off, ESP
 * and GDTR are undefined (so no segment register may be loaded before our own
 * GDT is in place).                                                         */

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl	%eax, mb2_saved_magic
	movl	%ebx, mb2_saved_info

	/* Zero .bss ourselves (page tables and stacks live there), whatever
	 * the loader did. */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl

	movl	$boot_stack_top, %esp

	/* Does the CPU have CPUID at all?  EFLAGS.ID (bit 21) is writable
	 * exactly when it does (SDM Vol. 1, "Identification of Earlier IA-32
	 * Processors"). */
	pushfl
	popl	%eax
	movl	%eax, %ecx
	xorl	$(1 << 21), %eax
	pushl	%eax
	popfl
	pushfl
	popl	%eax
	pushl	%ecx
	popfl
	xorl	%ecx, %eax
	testl	$(1 << 21), %eax
	jz	no_long_mode

	/* Long mode: CPUID.80000001H:EDX.LM[bit 29]; the extended leaf must
	 * exist first (CPUID.80000000H:EAX is the highest extended leaf). */
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_long_mode
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx
	jnc	no_long_mode
	movl	%edx, %ebp		/* keep bit 20 (NX) for EFER.NXE */

	/* Page tables: PML4[0] -> PDPT, PDPT[0..3] -> four page directories
	 * of 512 2-MiB pages each: identity map of [0, 4 GiB). */
	movl	$boot_pdpt, %eax
	orl	$(PTE_P | PTE_RW), %eax
	movl	%eax, boot_pml4
	movl	$0, boot_pml4 + 4

	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$boot_pd, %eax
	orl	$(PTE_P | PTE_RW), %eax
	movl	%eax, boot_pdpt(, %ecx, 8)
	movl	$0, boot_pdpt + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$4, %ecx
	jb	1b

	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$(PTE_P | PTE_RW | PTE_PS), %eax
	cmpl	$UNCACHED_FROM_2M_INDEX, %ecx
	jb	3f
	orl	$(PTE_PCD | PTE_PWT), %eax
3:	movl	%eax, boot_pd(, %ecx, 8)
	movl	$0, boot_pd + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$(4 * 512), %ecx
	jb	2b

	/* Enter IA-32e mode in the order SDM Vol. 3A "Initializing IA-32e
	 * Mode" prescribes: CR4.PAE, CR3, IA32_EFER.LME, then CR0.PG. */
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4

	movl	$boot_pml4, %eax
	movl	%eax, %cr3

	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	btl	$20, %ebp
	jnc	4f
	orl	$EFER_NXE, %eax
4:	wrmsr

	lgdt	boot_gdt_ptr

	/* CR0.NE is also one of the bits VMX operation requires to be 1
	 * (IA32_VMX_CR0_FIXED0); WP makes read-only pages read-only for us.
	 * Clear CD and NW: the Bochs BIOS leaves them at their reset value 1
	 * (caches off); turning caching on needs no cache flush. */
	movl	%cr0, %eax
	andl	$~(CR0_CD | CR0_NW), %eax
	orl	$(CR0_PG | CR0_WP | CR0_NE | CR0_PE), %eax
	movl	%eax, %cr0

	/* Now in compatibility mode; the far jump loads a 64-bit CS. */
	ljmp	$GDT_CODE64, $long_mode_entry

/* The CPU cannot run cvisor: say so on COM1 from 32-bit code, power off. */
no_long_mode:
	call	serial32_init
	movl	$msg_no_long_mode, %esi
	call	serial32_puts
	movl	$msg_power_off_failure, %esi
	call	serial32_puts
	call	serial32_flush

	/* Same power-off sequence as power.c: Bochs/QEMU BIOS shutdown port,
	 * then ACPI soft-off (SLP_TYPa=0 | SLP_EN) at the two usual PM1a_CNT
	 * ports, then halt forever. */
	movl	$msg_shutdown, %esi
	movw	$0x8900, %dx
5:	lodsb
	testb	%al, %al
	jz	6f
	outb	%al, %dx
	jmp	5b
6:	movw	$0x2000, %ax
	movw	$0xB004, %dx
	outw	%ax, %dx
	movw	$0x604, %dx
	outw	%ax, %dx
7:	cli
	hlt
	jmp	7b

/* 16550 at COM1: 115200 baud (divisor 1), 8N1, FIFOs on, polled. */
serial32_init:
	movw	$(COM1 + 1), %dx	/* IER: no interrupts */
	xorb	%al, %al
	outb	%al, %dx
	movw	$(COM1 + 3), %dx	/* LCR: DLAB on */
	movb	$0x80, %al
	outb	%al, %dx
	movw	$(COM1 + 0), %dx	/* DLL */
	movb	$1, %al
	outb	%al, %dx
	movw	$(COM1 + 1), %dx	/* DLM */
	xorb	%al, %al
	outb	%al, %dx
	movw	$(COM1 + 3), %dx	/* LCR: 8N1, DLAB off */
	movb	$0x03, %al
	outb	%al, %dx
	movw	$(COM1 + 2), %dx	/* FCR: enable and clear FIFOs */
	movb	$0xC7, %al
	outb	%al, %dx
	movw	$(COM1 + 4), %dx	/* MCR: DTR, RTS */
	movb	$0x03, %al
	outb	%al, %dx
	ret

/* Waits until LSR.TEMT (bit 6): the last byte has left the UART. */
serial32_flush:
	movl	$100000, %ecx
	movw	$(COM1 + 5), %dx
1:	inb	%dx, %al
	testb	$0x40, %al
	jnz	2f
	loop	1b
2:	ret

/* Writes the NUL-terminated string at %esi. */
serial32_puts:
1:	lodsb
	testb	%al, %al
	jz	3f
	movb	%al, %bl
	movl	$100000, %ecx		/* bounded wait: never hang on no UART */
	movw	$(COM1 + 5), %dx	/* LSR */
2:	inb	%dx, %al
	testb	$0x20, %al		/* THR empty */
	jnz	4f
	loop	2b
4:	movw	$COM1, %dx
	movb	%bl, %al
	outb	%al, %dx
	jmp	1b
3:	ret

/* ------------------------------------------------------------------------ */
/* 64-bit entry.                                                             */

	.code64
long_mode_entry:
	movw	$GDT_DATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%ax, %ax
	movw	%ax, %fs
	movw	%ax, %gs

	movq	$boot_stack_top, %rsp	/* 16-byte aligned before the call */
	xorl	%ebp, %ebp
	/* 32-bit loads zero-extend: the upper halves of the registers are
	 * undefined after the mode switch. */
	movl	mb2_saved_magic, %edi
	movl	mb2_saved_info, %esi
	call	boot_main
8:	cli
	hlt
	jmp	8b

/*
 * void gdt_load(const struct desc_ptr *gdtr, uint16_t code_sel, uint16_t data_sel)
 *
 * Loads GDTR and reloads every segment register from the new table: CS via
 * a far return, DS/ES/SS with data_sel, FS/GS with the null selector.
 */
	.text
	.globl gdt_load
gdt_load:
	lgdt	(%rdi)
	movw	%dx, %ds
	movw	%dx, %es
	movw	%dx, %ss
	xorl	%eax, %eax
	movw	%ax, %fs
	movw	%ax, %gs
	movzwq	%si, %rsi
	popq	%rax			/* return address */
	pushq	%rsi
	pushq	%rax
	lretq

/* ------------------------------------------------------------------------ */

	.section .rodata
	.balign 8
/* The boot GDT: same selectors as the final one built in descriptors.c. */
boot_gdt:
	.quad 0				/* 0x00 null */
	.quad 0x00AF9A000000FFFF	/* 0x08 64-bit code: L=1, D=0, P, DPL 0 */
	.quad 0x00CF92000000FFFF	/* 0x10 data: writable, P, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:				/* 32-bit LGDT: 16-bit limit, 32-bit base */
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

msg_no_long_mode:
	.asciz "cvisor: this CPU does not support 64-bit long mode; cvisor needs an x86-64 CPU with Intel VT-x\r\n"
msg_power_off_failure:
	.asciz "cvisor: power off (failure)\r\n"
msg_shutdown:
	.asciz "Shutdown"

	.data
	.balign 4
mb2_saved_magic:
	.long 0
mb2_saved_info:
	.long 0

	.bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip 16384
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
