/*
 * The linux_boot guest's bzImage setup header (Documentation/arch/x86/
 * boot.rst, "The Real-Mode Kernel Header": each field at its offset, put
 * there by .org) and its 32-bit entry, which the 32-bit boot protocol
 * jumps to: it keeps every register the protocol defines before touching
 * one, takes a stack of its own (the protocol gives none), and calls
 * linux_boot_main, whose failure count it writes to isa-debug-exit.
 */
#define LOADED_HIGH 0x01

	.section .setup, "a"
	.code16
	/* The boot sector: nothing to run (cvisor never runs real-mode code). */
	hlt
	.org 0x1F1
	.byte 1                   /* 0x1F1 setup_sects: 1 setup sector */
	.word 0                   /* 0x1F2 root_flags */
	.long kernel_syssize      /* 0x1F4 syssize: 16-byte paragraphs */
	.word 0                   /* 0x1F8 ram_size (obsolete) */
	.word 0xFFFD              /* 0x1FA vid_mode: ask */
	.word 0                   /* 0x1FC root_dev */
	.word 0xAA55              /* 0x1FE boot_flag */
	.byte 0xEB                /* 0x200 jump: its offset is the header's length */
	.byte setup_header_end - 1f
1:	.ascii "HdrS"             /* 0x202 header */
	.word 0x020F              /* 0x206 version: 2.15 */
	.long 0                   /* 0x208 realmode_swtch */
	.word 0x1000              /* 0x20C start_sys_seg */
	.word kernel_version - 0x200 /* 0x20E kernel_version */
	.byte 0                   /* 0x210 type_of_loader: the loader's */
	.byte LOADED_HIGH         /* 0x211 loadflags: a bzImage */
	.word 0                   /* 0x212 setup_move_size */
	.long kernel_load_address /* 0x214 code32_start */
	.long 0                   /* 0x218 ramdisk_image: the loader's */
	.long 0                   /* 0x21C ramdisk_size: the loader's */
	.long 0                   /* 0x220 bootsect_kludge */
	.word 0                   /* 0x224 heap_end_ptr */
	.byte 0, 0                /* 0x226 ext_loader_ver, ext_loader_type */
	.long 0                   /* 0x228 cmd_line_ptr: the loader's */
	.org 0x22C
	.long 0x7FFFFFFF          /* 0x22C initrd_addr_max */
	.long 0x1000              /* 0x230 kernel_alignment */
	.byte 0                   /* 0x234 relocatable_kernel: no */
	.byte 12                  /* 0x235 min_alignment */
	.word 0                   /* 0x236 xloadflags: a 32-bit kernel */
	.long 255                 /* 0x238 cmdline_size */
	.long 0                   /* 0x23C hardware_subarch: a PC */
	.long 0, 0                /* 0x240 hardware_subarch_data */
	.long 0                   /* 0x248 payload_offset */
	.long 0                   /* 0x24C payload_length */
	.long 0, 0                /* 0x250 setup_data */
	.org 0x258
	.long kernel_load_address, 0 /* 0x258 pref_address */
	.long kernel_init_size    /* 0x260 init_size */
	.long 0                   /* 0x264 handover_offset */
	.long 0                   /* 0x268 kernel_info_offset */
setup_header_end:                 /* 0x26C */
	.org 0x26C
kernel_version:
	.asciz "linux_boot test guest"

	.section .text.entry, "ax"
	.code32
	.globl linux_boot_entry
linux_boot_entry:
	/* What the loader left, before any register changes. */
	movl	%esi, boot_regs + 0
	movl	%ebp, boot_regs + 4
	movl	%edi, boot_regs + 8
	movl	%ebx, boot_regs + 12
	movw	%cs, boot_regs + 16
	movw	%ds, boot_regs + 18
	movw	%es, boot_regs + 20
	movw	%ss, boot_regs + 22
	movw	%fs, boot_regs + 24
	movw	%gs, boot_regs + 26
	movl	%cr0, %eax
	movl	%eax, boot_regs + 28
	sgdt	boot_regs + 36
	movl	$stack_top, %esp
	pushfl
	popl	boot_regs + 32
	/* The boot protocol loads the file's bytes only: clear the BSS (in
	 * init_size) as a kernel does; boot_regs is in .data, and the stack
	 * holds nothing yet. */
	movl	$_edata, %edi
	movl	$_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	cld
	rep stosb
	pushl	$boot_regs
	call	linux_boot_main
	/* isa-debug-exit: 0 (no failure) ends the VM with success. */
	outb	%al, $0xF4
1:	cli
	hlt
	jmp	1b

	.bss
	.align 16
	.space 8192
stack_top:

	.section .note.GNU-stack, "", @progbits
