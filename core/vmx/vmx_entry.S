/*
 * VM entry and VM exit.
 *
 *   int vmx_run_guest(struct guest_gprs *gprs, int launched,
 *                     bool (*on_exit)(void *ctx), void *ctx);
 *
 * saves the host's callee-saved registers, points HOST_RSP at them, loads
 * the guest GPRs and enters the guest (VMLAUNCH unless launched).  On a VM
 * exit the CPU loads HOST_RSP/HOST_RIP (SDM Vol. 3C 28.5.3) and continues
 * at vmx_exit_landing, which stores the guest GPRs and calls on_exit(ctx).
 * When on_exit returns true the guest is resumed at once, without leaving
 * this loop: that is the fast path of an exit that needs nothing else
 * before the next entry.  When it returns false, vmx_run_guest returns 0.
 * A VMLAUNCH/VMRESUME that fails returns 1 (VMfailInvalid) or 2
 * (VMfailValid), SDM Vol. 3C 31.2.
 *
 * The exit path is counted in instructions: 17 to store the guest GPRs,
 * 15 to load them, and nothing else but the call.
 */

#define HOST_RSP 0x6C14
#define REG(n) ((n) * 8)

/* Frame below the callee-saved registers (HOST_RSP points at its base). */
#define FRAME_GPRS    0
#define FRAME_ON_EXIT 8
#define FRAME_CTX     16

/* Loads the guest GPRs from the struct guest_gprs at %rdi (RDI last). */
.macro LOAD_GUEST_GPRS
	mov REG(0)(%rdi), %rax
	mov REG(1)(%rdi), %rcx
	mov REG(2)(%rdi), %rdx
	mov REG(3)(%rdi), %rbx
	mov REG(5)(%rdi), %rbp
	mov REG(6)(%rdi), %rsi
	mov REG(8)(%rdi), %r8
	mov REG(9)(%rdi), %r9
	mov REG(10)(%rdi), %r10
	mov REG(11)(%rdi), %r11
	mov REG(12)(%rdi), %r12
	mov REG(13)(%rdi), %r13
	mov REG(14)(%rdi), %r14
	mov REG(15)(%rdi), %r15
	mov REG(7)(%rdi), %rdi
.endm

	.text
	.code64

	.globl vmx_run_guest
	.type vmx_run_guest, @function
vmx_run_guest:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rcx			/* FRAME_CTX */
	push %rdx			/* FRAME_ON_EXIT */
	push %rdi			/* FRAME_GPRS */
	/* 6 + 3 pushes after the call: RSP is 16-byte aligned here, and so
	 * at the landing, as the C call there needs. */

	mov $HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lvmwrite_failed		/* CF or ZF: the VMWRITE failed */

	test %esi, %esi
	jnz .Lresume
	LOAD_GUEST_GPRS
	vmlaunch
	jmp .Lentry_failed
.Lresume:
	LOAD_GUEST_GPRS
	vmresume
.Lentry_failed:
	/* Still in root operation: VMfailInvalid (CF) or VMfailValid (ZF). */
	mov $1, %eax
	jc .Lreturn
	mov $2, %eax
.Lreturn:
	add $24, %rsp			/* the frame */
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

.Lvmwrite_failed:
	mov $1, %eax
	jc .Lreturn
	mov $2, %eax
	jmp .Lreturn
	.size vmx_run_guest, . - vmx_run_guest

	.globl vmx_exit_landing
	.type vmx_exit_landing, @function
vmx_exit_landing:
	/* RSP = HOST_RSP = the frame.  RFLAGS = 0x2 (SDM Vol. 3C 28.5.3):
	 * interrupts stay off in root operation. */
	push %rdi			/* guest RDI */
	mov FRAME_GPRS+8(%rsp), %rdi
	mov %rax, REG(0)(%rdi)
	mov %rcx, REG(1)(%rdi)
	mov %rdx, REG(2)(%rdi)
	mov %rbx, REG(3)(%rdi)
	mov %rbp, REG(5)(%rdi)
	mov %rsi, REG(6)(%rdi)
	mov %r8, REG(8)(%rdi)
	mov %r9, REG(9)(%rdi)
	mov %r10, REG(10)(%rdi)
	mov %r11, REG(11)(%rdi)
	mov %r12, REG(12)(%rdi)
	mov %r13, REG(13)(%rdi)
	mov %r14, REG(14)(%rdi)
	mov %r15, REG(15)(%rdi)
	popq REG(7)(%rdi)

	mov FRAME_CTX(%rsp), %rdi
	call *FRAME_ON_EXIT(%rsp)
	test %al, %al
	jz .Lexit_to_caller
	/* Fast path: the same VMCS, already launched. */
	mov FRAME_GPRS(%rsp), %rdi
	LOAD_GUEST_GPRS
	vmresume
	jmp .Lentry_failed

.Lexit_to_caller:
	xor %eax, %eax
	jmp .Lreturn
	.size vmx_exit_landing, . - vmx_exit_landing

	.section .note.GNU-stack, "", @progbits
