// ipi-pingpong: an IPI-heavy workload for the Linux guest.  Two processes,
// one pinned to each of two CPUs, pass a counter back and forth over two
// pipes.  Each blocks in read() until the other writes, so every hand-over
// wakes a task on the other CPU, which is idle in HLT: the scheduler sends
// it an IPI (a reschedule or a function-call interrupt) each time.
//
//   ipi-pingpong CPU_A CPU_B ROUNDS
//
// The process on CPU_A sends 0; each side sends back what it received plus
// one.  So CPU_B must receive 0, 2, ..., 2 * ROUNDS - 2 and CPU_A 1, 3, ...,
// 2 * ROUNDS - 1, each on its own CPU every time.  Prints one line; exits 0
// only when all of that held.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pin_to(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 && sched_getcpu() == cpu ? 0 : -1;
}

static int read_counter(int fd, uint32_t *value)
{
	size_t got = 0;
	while (got < sizeof(*value)) {
		ssize_t n = read(fd, (char *)value + got, sizeof(*value) - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_counter(int fd, uint32_t value)
{
	return write(fd, &value, sizeof(value)) == (ssize_t)sizeof(value) ? 0 : -1;
}

// One side of the exchange, `rounds` values received: the side that starts
// sends 0 and then expects 1, 3, ...; the other expects 0, 2, ....  Each value
// received goes back plus one, except the starter's last.  Counts the reads
// that returned on another CPU.  Returns NULL or what went wrong.
static const char *play(int cpu, int in, int out, uint32_t rounds, int starts,
			uint32_t *last_seen, uint32_t *off_cpu)
{
	uint32_t expect = starts ? 1 : 0;
	if (starts && write_counter(out, 0) != 0)
		return "write to the pipe failed";
	for (uint32_t i = 0; i < rounds; i++) {
		uint32_t value;
		if (read_counter(in, &value) != 0)
			return "read from the pipe failed";
		*last_seen = value;
		if (value != expect)
			return "the counter arrived with a wrong value";
		if (sched_getcpu() != cpu)
			(*off_cpu)++;
		if (starts && i + 1 == rounds)
			break; // the last value (2 * rounds - 1) ends the exchange
		if (write_counter(out, value + 1) != 0)
			return "write to the pipe failed";
		expect = value + 2;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: ipi-pingpong CPU_A CPU_B ROUNDS\n");
		return 2;
	}
	int cpu_a = atoi(argv[1]), cpu_b = atoi(argv[2]);
	uint32_t rounds = (uint32_t)strtoul(argv[3], NULL, 10);
	if (rounds == 0 || cpu_a == cpu_b) {
		fprintf(stderr, "ipi-pingpong: need two different CPUs and at least one round\n");
		return 2;
	}
	int a_to_b[2], b_to_a[2];
	if (pipe(a_to_b) != 0 || pipe(b_to_a) != 0) {
		printf("ipi-pingpong: FAIL: pipe: %s\n", strerror(errno));
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		printf("ipi-pingpong: FAIL: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		uint32_t last = 0, off_cpu = 0;
		const char *why = pin_to(cpu_b) != 0 ? "cannot pin to CPU B" : NULL;
		if (!why)
			why = play(cpu_b, a_to_b[0], b_to_a[1], rounds, 0, &last, &off_cpu);
		if (!why && off_cpu)
			why = "ran off its CPU";
		if (why)
			printf("ipi-pingpong: FAIL: CPU %d side: %s (last value %u, %u reads off CPU)\n",
			       cpu_b, why, last, off_cpu);
		fflush(stdout);
		_exit(why ? 1 : 0);
	}
	uint32_t last = 0, off_cpu = 0;
	const char *why = pin_to(cpu_a) != 0 ? "cannot pin to CPU A" : NULL;
	if (!why)
		why = play(cpu_a, b_to_a[0], a_to_b[1], rounds, 1, &last, &off_cpu);
	if (!why && off_cpu)
		why = "ran off its CPU";
	if (!why && last != 2 * rounds - 1)
		why = "the last counter value is wrong";
	if (why)
		kill(pid, SIGKILL);
	int status;
	int child_ok = waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (why) {
		printf("ipi-pingpong: FAIL: CPU %d side: %s (last value %u, %u reads off CPU)\n", cpu_a,
		       why, last, off_cpu);
		return 1;
	}
	if (!child_ok) {
		printf("ipi-pingpong: FAIL: the CPU %d side did not exit 0\n", cpu_b);
		return 1;
	}
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	printf("ipi-pingpong: %u round trips CPU %d <-> CPU %d, all values right, %lld us each\n",
	       rounds, cpu_a, cpu_b, ns / 1000 / rounds);
	return 0;
}
