/*
 * Fault catching for the test guests: a flat GDT, an IDT for vectors 0-31,
 * and "probes" that run one instruction and report whether it faulted.
 *
 * A probe saves the callee-saved registers, records the stack pointer in
 * probe_recovery_esp, arms the handler (probe_armed = 1) and executes its
 * instruction.  Without a fault it falls through to probe_leave.  With a
 * fault, the CPU delivers the exception through the IDT to trap_common
 * (SDM Vol. 3A 6.12.1: same privilege level, so the frame is pushed on the
 * current stack: EFLAGS, CS, EIP and, for some vectors, an error code).
 * trap_common records the vector, the error code and the faulting EIP,
 * drops the exception frame by reloading ESP from probe_recovery_esp and
 * jumps to probe_leave.  The faulting instruction never completed, so the
 * state it would have changed is as it was (faults are restartable, SDM
 * Vol. 3A 6.5).  The handlers are interrupt gates: EFLAGS.IF stays clear,
 * as in every test guest (nothing enables interrupts).
 *
 * probe_leave disarms the handler and returns the vector, or -1 when the
 * instruction did not fault.  An exception while no probe is armed goes to
 * trap_unexpected() (probe.c), which reports it and stops the VM.
 *
 * Calling convention: cdecl (i386 System V); after PROBE_ENTER pushes four
 * registers, the first argument is at 20(%esp).
 */
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define KERNEL_CS64 0x18
#define IDT_VECTORS 32
#define ARG1 20(%esp)
#define ARG2 24(%esp)
#define ARG3 28(%esp)

	.code32

/* ---- GDT, IDT and their installation ---------------------------------- */

	.data
	.align 8
/*
 * Flat 4 GiB descriptors (SDM Vol. 3A 3.4.5), marked accessed so loading
 * them writes nothing: null, 32-bit code 0x08, data 0x10, and a 64-bit
 * code segment 0x18 (L=1) for the exception handlers in IA-32e mode.
 */
gdt:
	.quad 0
	.quad 0x00CF9B000000FFFF /* 0x08: 32-bit code, DPL 0, execute/read */
	.quad 0x00CF93000000FFFF /* 0x10: 32-bit data, DPL 0, read/write */
	.quad 0x00AF9B000000FFFF /* 0x18: 64-bit code, DPL 0, execute/read */
gdt_end:
	.align 4
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
/* Exported (no bytes added) for irq.h, which points it at a 256-gate IDT. */
	.globl traps_idt_ptr
idt_ptr:
traps_idt_ptr:
	.word IDT_VECTORS * 8 - 1
	.long idt
idt64_ptr:
	.word IDT_VECTORS * 16 - 1
	.long idt64

	.section .rodata
	.align 4
isr_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long isr\v
	.endr
isr64_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long isr64_\v
	.endr

	.bss
	.align 16
idt:
	.space IDT_VECTORS * 8
idt64:
	.space IDT_VECTORS * 16

	.data

	.globl probe_armed, probe_vector, probe_error_code, probe_fault_eip, probe_fault_eflags
	.globl probe_recovery_esp
	.align 4
probe_armed:        .long 0
probe_vector:       .long -1
probe_error_code:   .long 0
probe_fault_eip:    .long 0
probe_fault_eflags: .long 0
probe_recovery_esp: .long 0

	.text
/*
 * void traps_init(void): loads the flat GDT (the Multiboot state leaves
 * GDTR undefined; cvisor starts guests with GDTR limit 0), reloads every
 * segment register from it, fills the IDT with 32-bit interrupt gates
 * (type 0xE, P=1, DPL 0; SDM Vol. 3A 6.11) for vectors 0-31 and loads it.
 */
	.globl traps_init
	.type traps_init, @function
traps_init:
	lgdt gdt_ptr
	ljmp $KERNEL_CS, $1f
1:	mov $KERNEL_DS, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	/* fall through */
/*
 * void traps_init_idt_only(void): the IDT as traps_init loads it, with the
 * GDT and segments the boot loader left (a kernel that keeps them).
 */
	.globl traps_init_idt_only
traps_init_idt_only:
	xor %ecx, %ecx
2:	mov isr_table(, %ecx, 4), %eax
	mov %ax, idt(, %ecx, 8)                /* offset 15:0 */
	movw $KERNEL_CS, idt + 2(, %ecx, 8)    /* segment selector */
	movw $0x8E00, idt + 4(, %ecx, 8)       /* P, DPL 0, 32-bit interrupt gate */
	shr $16, %eax
	mov %ax, idt + 6(, %ecx, 8)            /* offset 31:16 */
	inc %ecx
	cmp $IDT_VECTORS, %ecx
	jb 2b
	/* The IA-32e mode IDT: 16-byte 64-bit interrupt gates (SDM Vol. 3A
	 * 6.14.1) to the 64-bit stubs; offset 63:32 and IST stay 0. */
	xor %ecx, %ecx
	mov $idt64, %edx
3:	mov isr64_table(, %ecx, 4), %eax
	mov %ax, (%edx)
	movw $KERNEL_CS64, 2(%edx)
	movw $0x8E00, 4(%edx)
	shr $16, %eax
	mov %ax, 6(%edx)
	add $16, %edx
	inc %ecx
	cmp $IDT_VECTORS, %ecx
	jb 3b
	lidt idt_ptr
	ret
	.size traps_init, . - traps_init

/* void traps_use_legacy_idt(void): the 32-bit IDT (paging off or 32-bit paging). */
	.globl traps_use_legacy_idt
	.type traps_use_legacy_idt, @function
traps_use_legacy_idt:
	lidt idt_ptr
	ret
	.size traps_use_legacy_idt, . - traps_use_legacy_idt

/* void traps_use_ia32e_idt(void): the 64-bit IDT, for compatibility mode. */
	.globl traps_use_ia32e_idt
	.type traps_use_ia32e_idt, @function
traps_use_ia32e_idt:
	lidt idt64_ptr
	ret
	.size traps_use_ia32e_idt, . - traps_use_ia32e_idt

/* ---- exception entry stubs -------------------------------------------- */

/* Vectors whose exceptions push an error code (SDM Vol. 3A 6.3.1, Table 6-1). */
.macro ISR v
isr\v:
	.if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	.else
	pushl $0
	.endif
	pushl $\v
	jmp trap_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR \v
	.endr

/*
 * IA-32e mode: exceptions arrive in 64-bit mode on a 64-bit frame (SDM
 * Vol. 3A 6.14.2: SS, RSP, RFLAGS, CS, RIP, error code).  The 64-bit stub
 * records vector, error code and RIP, then IRETQ returns to the interrupted
 * compatibility-mode code's CS, SS and RSP, but at trap_from_ia32e, which
 * rebuilds the 32-bit view (vector, error code, EIP) and joins trap_common.
 */
	.code64
.macro ISR64 v
isr64_\v:
	.if (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
	.else
	pushq $0
	.endif
	pushq $\v
	jmp trap64_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ISR64 \v
	.endr

/* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS (8 bytes each). */
trap64_common:
	/* Addresses as 32-bit immediates: this is an ELF32 object, which has
	 * no relocation for 64-bit absolute or sign-extended operands. */
	mov $trap64_vector, %edx
	mov (%rsp), %eax
	mov %eax, (%rdx)
	mov $trap64_error_code, %edx
	mov 8(%rsp), %eax
	mov %eax, (%rdx)
	mov $trap64_rip, %edx
	mov 16(%rsp), %eax
	mov %eax, (%rdx)
	mov $trap64_rflags, %edx
	mov 32(%rsp), %eax
	mov %eax, (%rdx)
	movl $trap_from_ia32e, 16(%rsp) /* RIP 31:0; RIP 63:32 is already 0 */
	add $16, %rsp
	iretq
	.code32

trap_from_ia32e:
	pushl trap64_rflags
	pushl $0 /* CS: not recorded */
	pushl trap64_rip
	pushl trap64_error_code
	pushl trap64_vector
	jmp trap_common

	.data
	.align 4
trap64_vector:     .long 0
trap64_error_code: .long 0
trap64_rip:        .long 0
trap64_rflags:     .long 0
	.text

/* Stack: vector, error code, EIP, CS, EFLAGS (trap_from_ia32e builds the same). */
trap_common:
	cld
	cmpl $0, probe_armed
	je 1f
	movl $0, probe_armed
	mov (%esp), %eax
	mov %eax, probe_vector
	mov 4(%esp), %eax
	mov %eax, probe_error_code
	mov 8(%esp), %eax
	mov %eax, probe_fault_eip
	mov 16(%esp), %eax
	mov %eax, probe_fault_eflags
	mov probe_recovery_esp, %esp
	jmp probe_leave
1:	mov (%esp), %eax
	mov 4(%esp), %edx
	mov 8(%esp), %ecx
	push %ecx
	push %edx
	push %eax
	call trap_unexpected /* does not return */
2:	cli
	hlt
	jmp 2b

/* ---- probes -------------------------------------------------------------- */

.macro PROBE_ENTER name
	.globl \name
	.type \name, @function
\name:
	push %ebp
	push %ebx
	push %esi
	push %edi
	movl $-1, probe_vector
	movl $0, probe_error_code
	movl $0, probe_fault_eip
	movl $0, probe_fault_eflags
	mov %esp, probe_recovery_esp
	movl $1, probe_armed
.endm

.macro PROBE_LEAVE name
	jmp probe_leave
	.size \name, . - \name
.endm

probe_leave:
	movl $0, probe_armed
	mov probe_vector, %eax
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

/* int probe_rdmsr(uint32_t msr, uint64_t *value) */
PROBE_ENTER probe_rdmsr
	mov ARG1, %ecx
	rdmsr
	mov ARG2, %edi
	mov %eax, (%edi)
	mov %edx, 4(%edi)
PROBE_LEAVE probe_rdmsr

/* int probe_wrmsr(uint32_t msr, uint64_t value) */
PROBE_ENTER probe_wrmsr
	mov ARG1, %ecx
	mov ARG2, %eax
	mov ARG3, %edx
	wrmsr
PROBE_LEAVE probe_wrmsr

/* int probe_write_cr0(uint32_t value) */
PROBE_ENTER probe_write_cr0
	mov ARG1, %eax
	mov %eax, %cr0
PROBE_LEAVE probe_write_cr0

/* int probe_write_cr4(uint32_t value) */
PROBE_ENTER probe_write_cr4
	mov ARG1, %eax
	mov %eax, %cr4
PROBE_LEAVE probe_write_cr4

/* int probe_xsetbv(uint32_t xcr, uint64_t value) */
PROBE_ENTER probe_xsetbv
	mov ARG1, %ecx
	mov ARG2, %eax
	mov ARG3, %edx
	xsetbv
PROBE_LEAVE probe_xsetbv

/* int probe_xgetbv(uint32_t xcr, uint64_t *value) */
PROBE_ENTER probe_xgetbv
	mov ARG1, %ecx
	xgetbv
	mov ARG2, %edi
	mov %eax, (%edi)
	mov %edx, 4(%edi)
PROBE_LEAVE probe_xgetbv

/* ---- VMX instructions (SDM Vol. 3C chapter 32); 32-bit operand forms ---- */

/* int probe_vmxon(const uint64_t *region_pa) */
PROBE_ENTER probe_vmxon
	mov ARG1, %eax
	vmxon (%eax)
PROBE_LEAVE probe_vmxon

/* int probe_vmxoff(void) */
PROBE_ENTER probe_vmxoff
	vmxoff
PROBE_LEAVE probe_vmxoff

/* int probe_vmclear(const uint64_t *vmcs_pa) */
PROBE_ENTER probe_vmclear
	mov ARG1, %eax
	vmclear (%eax)
PROBE_LEAVE probe_vmclear

/* int probe_vmptrld(const uint64_t *vmcs_pa) */
PROBE_ENTER probe_vmptrld
	mov ARG1, %eax
	vmptrld (%eax)
PROBE_LEAVE probe_vmptrld

/* int probe_vmptrst(uint64_t *vmcs_pa) */
PROBE_ENTER probe_vmptrst
	mov ARG1, %eax
	vmptrst (%eax)
PROBE_LEAVE probe_vmptrst

/* int probe_vmread(uint32_t field, uint32_t *value): VMREAD r/m32, r32 */
PROBE_ENTER probe_vmread
	mov ARG1, %eax
	vmread %eax, %edx
	mov ARG2, %edi
	mov %edx, (%edi)
PROBE_LEAVE probe_vmread

/* int probe_vmwrite(uint32_t field, uint32_t value): VMWRITE r32, r/m32 */
PROBE_ENTER probe_vmwrite
	mov ARG1, %eax
	mov ARG2, %edx
	vmwrite %edx, %eax
PROBE_LEAVE probe_vmwrite

/* int probe_vmlaunch(void) */
PROBE_ENTER probe_vmlaunch
	vmlaunch
PROBE_LEAVE probe_vmlaunch

/* int probe_vmresume(void) */
PROBE_ENTER probe_vmresume
	vmresume
PROBE_LEAVE probe_vmresume

/* int probe_invept(uint32_t type, const void *descriptor128): INVEPT r32, m128 */
PROBE_ENTER probe_invept
	mov ARG1, %eax
	mov ARG2, %edx
	invept (%edx), %eax
PROBE_LEAVE probe_invept

/* int probe_invvpid(uint32_t type, const void *descriptor128): INVVPID r32, m128 */
PROBE_ENTER probe_invvpid
	mov ARG1, %eax
	mov ARG2, %edx
	invvpid (%edx), %eax
PROBE_LEAVE probe_invvpid

/* int probe_vmfunc(uint32_t leaf, uint32_t ecx) */
PROBE_ENTER probe_vmfunc
	mov ARG1, %eax
	mov ARG2, %ecx
	vmfunc
PROBE_LEAVE probe_vmfunc

/* ---- other instructions ---------------------------------------------- */

/* int probe_invd(void) */
PROBE_ENTER probe_invd
	invd
PROBE_LEAVE probe_invd

/* int probe_rdtscp(uint64_t *tsc, uint32_t *aux) */
PROBE_ENTER probe_rdtscp
	rdtscp
	mov ARG1, %edi
	mov %eax, (%edi)
	mov %edx, 4(%edi)
	mov ARG2, %edi
	mov %ecx, (%edi)
PROBE_LEAVE probe_rdtscp

/* int probe_rdpid(uint32_t *value): RDPID r32 (F3 0F C7 /7). */
PROBE_ENTER probe_rdpid
	.byte 0xF3, 0x0F, 0xC7, 0xF8 /* rdpid %eax */
	mov ARG1, %edi
	mov %eax, (%edi)
PROBE_LEAVE probe_rdpid

/* int probe_invpcid(uint32_t type, const void *descriptor128) */
PROBE_ENTER probe_invpcid
	mov ARG1, %eax
	mov ARG2, %ecx
	invpcid (%ecx), %eax
PROBE_LEAVE probe_invpcid

/*
 * int probe_single_step_cpuid(void): CPUID (which always exits, SDM Vol. 3C
 * 26.1.2) with RFLAGS.TF set by the POPF before it, so the single-step
 * trap comes after the CPUID (SDM Vol. 3B 18.3.1.4): #DB with EIP at
 * probe_single_step_next.  Without the trap TF is cleared on the way out.
 */
PROBE_ENTER probe_single_step_cpuid
	pushf
	orl $0x100, (%esp)
	mov $0x40000000, %eax
	xor %ecx, %ecx
	popf
	cpuid
	.globl probe_single_step_next
probe_single_step_next:
	pushf
	andl $~0x100, (%esp)
	popf
PROBE_LEAVE probe_single_step_cpuid

/* int probe_single_step_nop(void): the same with a NOP, which runs natively. */
PROBE_ENTER probe_single_step_nop
	pushf
	orl $0x100, (%esp)
	popf
	nop
	.globl probe_single_step_nop_next
probe_single_step_nop_next:
	pushf
	andl $~0x100, (%esp)
	popf
PROBE_LEAVE probe_single_step_nop

/* int probe_single_step_hlt(void): HLT with RFLAGS.TF and IF = 0.  The
 * single-step trap is a debug exception, which ends the halt at once (SDM
 * Vol. 2A HLT): #DB with EIP at probe_single_step_hlt_next.  Without it,
 * the halt with interrupts off would never end. */
PROBE_ENTER probe_single_step_hlt
	pushf
	orl $0x100, (%esp)
	andl $~0x200, (%esp)
	popf
	hlt
	.globl probe_single_step_hlt_next
probe_single_step_hlt_next:
	pushf
	andl $~0x100, (%esp)
	popf
PROBE_LEAVE probe_single_step_hlt

/* int probe_single_step_rep_outsb(const void *src, uint32_t count, uint32_t
 * port): REP OUTSB with RFLAGS.TF.  Each iteration traps: the first #DB
 * is at probe_rep_outsb_insn while ECX is not exhausted, at
 * probe_rep_outsb_next when count is 1. */
PROBE_ENTER probe_single_step_rep_outsb
	mov ARG1, %esi
	mov ARG2, %ecx
	mov ARG3, %edx
	pushf
	orl $0x100, (%esp)
	popf
	.globl probe_rep_outsb_insn
probe_rep_outsb_insn:
	rep outsb
	.globl probe_rep_outsb_next
probe_rep_outsb_next:
	pushf
	andl $~0x100, (%esp)
	popf
PROBE_LEAVE probe_single_step_rep_outsb

/* int probe_out_byte(uint32_t port, uint32_t value): OUT DX, AL. */
PROBE_ENTER probe_out_byte
	mov ARG1, %edx
	mov ARG2, %eax
	out %al, %dx
	.globl probe_out_byte_next
probe_out_byte_next:
PROBE_LEAVE probe_out_byte

/* int probe_load32(const volatile void *address): MOV EAX, [address]. */
PROBE_ENTER probe_load32
	mov ARG1, %edx
	mov (%edx), %eax
	.globl probe_load32_next
probe_load32_next:
PROBE_LEAVE probe_load32

/* int probe_store32(volatile void *address, uint32_t value): MOV [address], value. */
PROBE_ENTER probe_store32
	mov ARG1, %edx
	mov ARG2, %eax
	mov %eax, (%edx)
PROBE_LEAVE probe_store32

/* int probe_call(const void *code): CALL code; a fault there (its fetch
 * included) comes back as the probe's vector. */
PROBE_ENTER probe_call
	mov ARG1, %eax
	call *%eax
PROBE_LEAVE probe_call

/* int probe_monitor(const void *address, uint32_t extensions, uint32_t hints) */
PROBE_ENTER probe_monitor
	mov ARG1, %eax
	mov ARG2, %ecx
	mov ARG3, %edx
	monitor
PROBE_LEAVE probe_monitor

/* int probe_mwait(uint32_t hints, uint32_t extensions) */
PROBE_ENTER probe_mwait
	mov ARG1, %eax
	mov ARG2, %ecx
	mwait
PROBE_LEAVE probe_mwait

/* int probe_ud2(void): always #UD; probe_ud2_insn is the UD2's address. */
PROBE_ENTER probe_ud2
	.globl probe_ud2_insn
probe_ud2_insn:
	ud2
PROBE_LEAVE probe_ud2

/* int probe_int3(void): #BP, a trap: the saved EIP follows the INT3. */
PROBE_ENTER probe_int3
	int3
	.globl probe_int3_next
probe_int3_next:
PROBE_LEAVE probe_int3

/* int probe_divide_error(void): DIV by zero, #DE at the DIV. */
PROBE_ENTER probe_divide_error
	xor %edx, %edx
	mov $1, %eax
	xor %ecx, %ecx
	.globl probe_divide_insn
probe_divide_insn:
	div %ecx
PROBE_LEAVE probe_divide_error

/* int probe_int80(void): INT 0x80, beyond the 32-vector IDT: #GP(0x80*8+2). */
PROBE_ENTER probe_int80
	int $0x80
PROBE_LEAVE probe_int80

	.section .note.GNU-stack, "", @progbits
