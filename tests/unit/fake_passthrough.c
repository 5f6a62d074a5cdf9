/*
 * The assembly of core/vm/passthrough_entry.S for host unit tests: the
 * launch runs passthrough_start on the test's stack; handing the CPU back
 * records what would be loaded and jumps back to the launch with longjmp.
 */
#include "fake_passthrough.h"

#include <setjmp.h>
#include <string.h>

#include "fake_cpu.h"

struct fake_passthrough fake_passthrough;
static jmp_buf os_resumes;

int passthrough_launch(struct passthrough_cpu *pc, uint64_t host_stack_top)
{
	(void)host_stack_top;
	fake_passthrough.launches++;
	if (setjmp(os_resumes) != 0)
		return 0; /* the OS "continued" after a scripted devirtualization */
	return passthrough_start(pc, FAKE_OS_RSP, FAKE_OS_RIP, FAKE_OS_RFLAGS);
}

_Noreturn void passthrough_resume_os(const struct passthrough_resume *state)
{
	fake_passthrough.resumed = *state;
	fake_passthrough.resumed_gprs = *state->gprs;
	fake_passthrough.resumes++;
	longjmp(os_resumes, 1);
}

int64_t passthrough_hypercall(uint64_t nr)
{
	fake_passthrough.hypercalls++;
	fake_passthrough.last_hypercall = nr;
	return fake_passthrough.hypercall_result;
}
