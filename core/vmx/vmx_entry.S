/*
 * VM entry and VM exit.  vmx_enter_guest() behaves like a function call
 * that returns when the guest exits: it saves the host's callee-saved
 * registers, points HOST_RSP at them, loads the guest GPRs and enters the
 * guest.  On a VM exit the CPU loads HOST_RSP/HOST_RIP (SDM Vol. 3C 28.5.3)
 * and continues at vmx_exit_landing, which stores the guest GPRs and
 * returns 0 from vmx_enter_guest.
 */

#define HOST_RSP 0x6C14
#define REG(n) ((n) * 8)

	.text
	.code64

	.globl vmx_enter_guest
	.type vmx_enter_guest, @function
/* int vmx_enter_guest(struct guest_gprs *gprs, int launched) */
vmx_enter_guest:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi			/* gprs, found again at the exit landing */

	mov $HOST_RSP, %eax
	vmwrite %rsp, %rax
	jbe .Lvmwrite_failed		/* CF or ZF: the VMWRITE failed */

	test %esi, %esi			/* launched?  (mov keeps the flags) */
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
	jnz 1f
	vmlaunch
	jmp .Lentry_failed
1:	vmresume
.Lentry_failed:
	/* Still in root operation: VMfailInvalid (CF) or VMfailValid (ZF),
	 * SDM Vol. 3C 31.2. */
	mov $1, %eax
	jc 2f
	mov $2, %eax
2:	pop %rdi
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

.Lvmwrite_failed:
	mov $1, %eax
	jc 2b
	mov $2, %eax
	jmp 2b
	.size vmx_enter_guest, . - vmx_enter_guest

	.globl vmx_exit_landing
	.type vmx_exit_landing, @function
vmx_exit_landing:
	/* RSP = HOST_RSP: the saved gprs pointer is on top. */
	push %rdi			/* guest RDI */
	mov 8(%rsp), %rdi
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
	pop %rax
	mov %rax, REG(7)(%rdi)
	pop %rdi
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	xor %eax, %eax
	ret
	.size vmx_exit_landing, . - vmx_exit_landing

	.section .note.GNU-stack, "", @progbits
