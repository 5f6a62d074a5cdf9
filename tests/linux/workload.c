// workload: a short, self-checking workload run on every online CPU at once
// in the Linux test bed, to see that Linux still works (while cvisor.ko is
// loaded, and again after it is unloaded).
//
//   workload [LABEL]
//   workload load STOPFILE
//
// For each online CPU it forks a child pinned to that CPU, which
//   - counts the primes below 20000 (arithmetic; the answer must be 2262),
//   - forks and execs `/bin/busybox true` 8 times (each must exit 0),
//   - writes a 64 KiB pattern to a tmpfs file, reads it back and compares.
// Prints one line per CPU and exits 0 only when every CPU passed.
//
// `workload load STOPFILE` is a background load for the protect cycle: on
// every online CPU at once, until STOPFILE exists, a CPU-bound process (the
// prime count, over and over, each answer checked) and a system-call-heavy
// one (getppid, and a byte through a pipe and back, each checked), both at
// the lowest priority (nice 19) so that they take what the test's own steps
// leave.  Each creates STOPFILE.cpu<N>-cpu or -syscall once it runs.  Prints
// one line per CPU with the rounds done; exits 0 only when every round was
// right.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* ---- workload load ---- */

#define LOAD_PRIME_LIMIT 2000
#define LOAD_PRIMES_BELOW_LIMIT 303

static int stop_requested(const char *stop_file)
{
	return access(stop_file, F_OK) == 0;
}

/* After its first round each process creates STOPFILE.cpu<N>-<kind>: the
 * test waits for all of them before it attacks. */
static const char *say_running(const char *stop_file, int cpu, const char *kind)
{
	char path[256];
	snprintf(path, sizeof(path), "%s.cpu%d-%s", stop_file, cpu, kind);
	int fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		return "cannot create the running marker";
	close(fd);
	return NULL;
}

/* The CPU-bound half: prime counts until stop_file exists (checked every
 * 16 rounds). */
static const char *cpu_load(const char *stop_file, int cpu, long *rounds)
{
	for (*rounds = 0; *rounds == 0 || *rounds % 16 || !stop_requested(stop_file); ++*rounds) {
		if (count_primes(LOAD_PRIME_LIMIT) != LOAD_PRIMES_BELOW_LIMIT)
			return "wrong prime count";
		const char *why = *rounds == 0 ? say_running(stop_file, cpu, "cpu") : NULL;
		if (why)
			return why;
	}
	return NULL;
}

/* The system-call half: getppid and a pipe round trip per round. */
static const char *syscall_load(const char *stop_file, int cpu, long *rounds)
{
	int fds[2];
	pid_t parent = getppid();
	if (pipe(fds) != 0)
		return "pipe failed";
	const char *why = NULL;
	for (*rounds = 0; !why && (*rounds == 0 || *rounds % 16 || !stop_requested(stop_file));
	     ++*rounds) {
		unsigned char out = (unsigned char)*rounds, in = 0;
		if (getppid() != parent)
			why = "getppid changed";
		else if (write(fds[1], &out, 1) != 1 || read(fds[0], &in, 1) != 1)
			why = "pipe write or read failed";
		else if (in != out)
			why = "the pipe returned another byte";
		else if (*rounds == 0)
			why = say_running(stop_file, cpu, "syscall");
	}
	close(fds[0]);
	close(fds[1]);
	return why;
}

/* One CPU's load: the CPU-bound half in a forked child, the system-call
 * half here. */
static int load_on(int cpu, const void *arg)
{
	const char *stop_file = arg, *why = NULL, *cpu_why = "the CPU-bound process did not report";
	long cpu_rounds = 0, syscall_rounds = 0;
	int report[2];
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		why = "cannot pin to this CPU";
	if (!why && setpriority(PRIO_PROCESS, 0, 19) != 0)
		why = "cannot lower the priority";
	if (!why && pipe(report) != 0)
		why = "pipe failed";
	if (why) {
		printf("load: cpu%d FAIL: %s (errno %d)\n", cpu, why, errno);
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		const char *w = cpu_load(stop_file, cpu, &cpu_rounds);
		char line[96];
		int n = snprintf(line, sizeof(line), "%ld %s", cpu_rounds, w ? w : "ok");
		_exit(write(report[1], line, (size_t)n) == n && !w ? 0 : 1);
	}
	close(report[1]);
	why = pid < 0 ? "fork failed" : syscall_load(stop_file, cpu, &syscall_rounds);
	if (pid > 0) {
		char line[96] = "";
		ssize_t n = read(report[0], line, sizeof(line) - 1);
		int status;
		if (n > 0) {
			line[n] = '\0';
			cpu_rounds = strtol(line, NULL, 10);
			cpu_why = strchr(line, ' ') + 1;
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			why = why ? why : cpu_why;
	}
	printf("load: cpu%d %s%s (%ld prime counts, %ld getppid and pipe round trips)\n", cpu,
	       why ? "FAIL: " : "ok", why ? why : "", cpu_rounds, syscall_rounds);
	return why ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "load") == 0)
		return on_every_cpu("load", load_on, argv[2]);
	char label[64] = "", name[80];
	if (argc > 1)
		snprintf(label, sizeof(label), " %s", argv[1]);
	snprintf(name, sizeof(name), "workload%s", label);
	return on_every_cpu(name, run_child, label);
}
