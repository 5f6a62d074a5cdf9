/*
 * For the test bed's user-space checks (workload.c, and memory-check.c of
 * tests/linux-guest): run one child process per CPU this process may run
 * on, all at once, and gather their exit statuses.
 */
#ifndef CVISOR_TESTBED_ON_EVERY_CPU_H
#define CVISOR_TESTBED_ON_EVERY_CPU_H

/* The includer defines _GNU_SOURCE before its first include (CPU_SET). */
#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* child(cpu, arg) runs in a forked process (it pins itself); name starts
 * each failure line.  0 when every child exited with 0, else 1. */
static int on_every_cpu(const char *name, int (*child)(int cpu, const void *arg), const void *arg)
{
	cpu_set_t online;
	if (sched_getaffinity(0, sizeof(online), &online) != 0) {
		printf("%s: FAIL: sched_getaffinity\n", name);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int failed = 0, started = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &online))
			continue;
		pid_t pid = fork();
		if (pid < 0) {
			printf("%s: cpu%d FAIL: fork\n", name, cpu);
			failed = 1;
			continue;
		}
		if (pid == 0)
			_exit(child(cpu, arg));
		started++;
	}
	for (int i = 0; i < started; i++) {
		int status;
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed || !started ? 1 : 0;
}

#endif
