// workload: a short, self-checking workload run on every online CPU at once
// in the Linux test bed, to see that Linux still works (while cvisor.ko is
// loaded, and again after it is unloaded).
//
//   workload [LABEL]
//
// For each online CPU it forks a child pinned to that CPU, which
//   - counts the primes below 20000 (arithmetic; the answer must be 2262),
//   - forks and execs `/bin/busybox true` 8 times (each must exit 0),
//   - writes a 64 KiB pattern to a tmpfs file, reads it back and compares.
// Prints one line per CPU and exits 0 only when every CPU passed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "on_every_cpu.h"

#define PRIME_LIMIT 20000
#define PRIMES_BELOW_LIMIT 2262
#define EXECS 8
#define FILE_BYTES (64 * 1024)

static int count_primes(int limit)
{
	static unsigned char composite[PRIME_LIMIT];
	int n = 0;
	memset(composite, 0, sizeof(composite));
	for (int i = 2; i < limit; i++) {
		if (composite[i])
			continue;
		n++;
		for (int j = 2 * i; j < limit; j += i)
			composite[j] = 1;
	}
	return n;
}

static const char *fork_exec(void)
{
	for (int i = 0; i < EXECS; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return "fork failed";
		if (pid == 0) {
			char *argv[] = { "busybox", "true", NULL };
			execv("/bin/busybox", argv);
			_exit(127);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid)
			return "waitpid failed";
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return "an exec'd `busybox true` did not exit 0";
	}
	return NULL;
}

static const char *file_io(int cpu)
{
	static unsigned char out[FILE_BYTES], in[FILE_BYTES];
	char path[64];
	uint32_t x = 0x12345678u ^ (uint32_t)cpu;
	for (int i = 0; i < FILE_BYTES; i++) {
		x = x * 1103515245u + 12345u;
		out[i] = (unsigned char)(x >> 16);
	}
	snprintf(path, sizeof(path), "/tmp/workload.cpu%d", cpu);
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	if (fd < 0)
		return "cannot create the tmpfs file";
	const char *why = NULL;
	if (write(fd, out, sizeof(out)) != (ssize_t)sizeof(out))
		why = "short write";
	else if (fsync(fd) != 0)
		why = "fsync failed";
	else if (pread(fd, in, sizeof(in), 0) != (ssize_t)sizeof(in))
		why = "short read";
	else if (memcmp(in, out, sizeof(in)) != 0)
		why = "read back different data";
	close(fd);
	unlink(path);
	return why;
}

static int run_on(int cpu, const char *label)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	const char *why = NULL;
	int primes = 0;
	if (sched_setaffinity(0, sizeof(set), &set) != 0 || sched_getcpu() != cpu)
		why = "cannot pin to this CPU";
	if (!why && (primes = count_primes(PRIME_LIMIT)) != PRIMES_BELOW_LIMIT)
		why = "wrong prime count";
	if (!why)
		why = fork_exec();
	if (!why && sched_getcpu() != cpu)
		why = "no longer on this CPU";
	if (!why)
		why = file_io(cpu);
	if (why) {
		printf("workload%s: cpu%d FAIL: %s (primes=%d, errno %d)\n", label, cpu, why,
		       primes, errno);
		return 1;
	}
	printf("workload%s: cpu%d ok (%d primes, %d fork/exec, %d KiB tmpfs file)\n", label, cpu,
	       primes, EXECS, FILE_BYTES / 1024);
	return 0;
}

static int run_child(int cpu, const void *label)
{
	return run_on(cpu, label);
}

int main(int argc, char **argv)
{
	char label[64] = "", name[80];
	if (argc > 1)
		snprintf(label, sizeof(label), " %s", argv[1]);
	snprintf(name, sizeof(name), "workload%s", label);
	return on_every_cpu(name, run_child, label);
}
