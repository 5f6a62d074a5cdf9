/*
 * The assembly of core/vm/hosted_os_entry.S for host unit tests: the
 * launch runs hosted_os_start on the test's stack; handing the CPU back
 * records what would be loaded and jumps back to the launch with longjmp.
 */
#include "fake_hosted_os.h"

#include <setjmp.h>
#include <string.h>

#include "fake_cpu.h"

struct fake_hosted_os fake_hosted_os;
static jmp_buf os_resumes;

int hosted_os_launch(struct hosted_os_cpu *pc, uint64_t host_stack_top,
		     int (*start)(struct hosted_os_cpu *pc, uint64_t os_rsp, uint64_t os_rip,
				  uint64_t os_rflags))
{
	(void)host_stack_top;
	fake_hosted_os.launches++;
	if (setjmp(os_resumes) != 0)
		return 0; /* the OS "continued" after a scripted devirtualization */
	return start(pc, FAKE_OS_RSP, FAKE_OS_RIP, FAKE_OS_RFLAGS);
}

_Noreturn void hosted_os_resume_os(const struct hosted_os_resume *state)
{
	fake_hosted_os.resumed = *state;
	fake_hosted_os.resumed_gprs = *state->gprs;
	fake_hosted_os.resumes++;
	longjmp(os_resumes, 1);
}

int64_t hosted_os_hypercall(uint64_t nr)
{
	fake_hosted_os.hypercalls++;
	fake_hosted_os.last_hypercall = nr;
	return fake_hosted_os.hypercall_result;
}
