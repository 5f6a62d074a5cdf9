/*
 * Sliding under the running OS and handing the CPU back (core/vm/hosted_os.c).
 *
 * hosted_os_launch() is called by the OS-side code like a function.  It
 * pushes the callee-saved registers and RFLAGS on the OS stack, switches to
 * cvisor's host stack and calls hosted_os_start(pc, os_rsp, os_rip,
 * os_rflags) (passed in as start), which launches a VMCS whose guest RSP/RIP are that OS stack
 * and the label .Los_resumes_here.  The OS therefore continues at that
 * label in VMX non-root operation, pops what was pushed and returns 0.
 * If the launch fails, hosted_os_start returns the error on the host
 * stack and the OS stack is taken back here.
 */
#define REG(n) ((n) * 8)

	.text
	.code64

	.globl hosted_os_launch
	.type hosted_os_launch, @function
/* int hosted_os_launch(struct hosted_os_cpu *pc, uint64_t host_stack_top,
 *                      int (*start)(pc, os_rsp, os_rip, os_rflags)) */
hosted_os_launch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq
	mov %rdx, %r12			/* start: callee-saved, and pushed above */
	mov %rsp, %rbx			/* the OS stack; callee-saved across the call */
	mov %rsi, %rsp			/* cvisor's host stack (16-byte aligned) */
	mov %rbx, %rsi			/* os_rsp */
	lea .Los_resumes_here(%rip), %rdx /* os_rip */
	mov (%rbx), %rcx		/* os_rflags, pushed above */
	call *%r12			/* returns only when the launch failed */
	mov %rbx, %rsp
	popfq
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

.Los_resumes_here:
	/* VMX non-root operation: GUEST_RSP is the OS stack as pushed above. */
	popfq
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	xor %eax, %eax
	ret
	.size hosted_os_launch, . - hosted_os_launch

	.globl hosted_os_hypercall
	.type hosted_os_hypercall, @function
/* int64_t hosted_os_hypercall(uint64_t nr): VMCALL (SDM Vol. 3C 26.1.2). */
hosted_os_hypercall:
	mov %rdi, %rax
	vmcall
	ret
	.size hosted_os_hypercall, . - hosted_os_hypercall

	.globl hosted_os_resume_os
	.type hosted_os_resume_os, @function
/*
 * _Noreturn void hosted_os_resume_os(const struct hosted_os_resume *s)
 * VMX is already off.  Offsets follow struct hosted_os_resume.
 */
hosted_os_resume_os:
	sub $16, %rsp
	mov 8(%rdi), %rax		/* GDTR for LTR: limit, then the writable alias */
	mov %ax, (%rsp)
	mov 144(%rdi), %rax
	mov %rax, 2(%rsp)
	lgdt (%rsp)
	mov 32(%rdi), %rax		/* TR: its descriptor's busy bit was cleared */
	ltr %ax
	mov 0(%rdi), %rax		/* the OS's own GDTR */
	mov %rax, 2(%rsp)
	lgdt (%rsp)
	mov 24(%rdi), %rax		/* IDTR */
	mov %ax, (%rsp)
	mov 16(%rdi), %rax
	mov %rax, 2(%rsp)
	lidt (%rsp)
	mov 40(%rdi), %rax
	lldt %ax
	mov 48(%rdi), %rax
	mov %ax, %ds
	mov 56(%rdi), %rax
	mov %ax, %es
	mov 64(%rdi), %rax
	mov %ax, %fs
	mov 72(%rdi), %rax
	mov %ax, %gs
	/* A selector load sets the hidden base; the 64-bit bases come after
	 * (SDM Vol. 3A 3.4.4). */
	mov $0xC0000100, %ecx		/* IA32_FS_BASE */
	mov 80(%rdi), %eax
	mov 84(%rdi), %edx
	wrmsr
	mov $0xC0000101, %ecx		/* IA32_GS_BASE */
	mov 88(%rdi), %eax
	mov 92(%rdi), %edx
	wrmsr
	mov 96(%rdi), %rsi		/* struct guest_gprs * */
	lea 104(%rdi), %rsp		/* the IRETQ frame: RIP, CS, RFLAGS, RSP, SS */
	mov REG(0)(%rsi), %rax
	mov REG(1)(%rsi), %rcx
	mov REG(2)(%rsi), %rdx
	mov REG(3)(%rsi), %rbx
	mov REG(5)(%rsi), %rbp
	mov REG(7)(%rsi), %rdi
	mov REG(8)(%rsi), %r8
	mov REG(9)(%rsi), %r9
	mov REG(10)(%rsi), %r10
	mov REG(11)(%rsi), %r11
	mov REG(12)(%rsi), %r12
	mov REG(13)(%rsi), %r13
	mov REG(14)(%rsi), %r14
	mov REG(15)(%rsi), %r15
	mov REG(6)(%rsi), %rsi
	iretq
	.size hosted_os_resume_os, . - hosted_os_resume_os

	.section .note.GNU-stack, "", @progbits
