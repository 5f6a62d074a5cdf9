// memory-check: a memory workload for the Linux guest, on every online CPU at
// once.  Each CPU gets a child process pinned to it that
//   - maps MIB MiB of anonymous memory (every page a fresh page the kernel
//     zeroes and maps on the first touch),
//   - checks that it reads as zeros, fills it with a pattern that depends on
//     the CPU and the offset, reads it all back and compares,
//   - copies it in both directions with overlapping memmove()s of many
//     lengths and alignments and checks the result against a byte loop,
//   - unmaps it.
//
//   memory-check MIB
//
// Prints one line per CPU; exits 0 only when every CPU passed.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../linux/on_every_cpu.h"

#define COPY_AREA 2048

static uint64_t pattern_at(int cpu, size_t word)
{
	uint64_t x = ((uint64_t)cpu << 56) ^ (word * 0x9E3779B97F4A7C15ull);
	x ^= x >> 29;
	return x * 0xBF58476D1CE4E5B9ull;
}

static const char *fill_and_verify(int cpu, uint64_t *mem, size_t words, size_t *bad_word)
{
	for (size_t i = 0; i < words; i++)
		if (mem[i] != 0) {
			*bad_word = i;
			return "fresh anonymous memory is not zero";
		}
	for (size_t i = 0; i < words; i++)
		mem[i] = pattern_at(cpu, i);
	for (size_t i = 0; i < words; i++)
		if (mem[i] != pattern_at(cpu, i)) {
			*bad_word = i;
			return "the pattern read back differently";
		}
	return NULL;
}

// Overlapping moves of every length up to 300 bytes at several offsets, in
// both directions, against the same move done one byte at a time.
static const char *check_memmove(unsigned char *area, size_t *bad_len)
{
	static unsigned char expect[COPY_AREA];
	for (size_t len = 0; len <= 300; len++) {
		for (size_t shift = 1; shift <= 33; shift += 8) {
			for (int backwards = 0; backwards <= 1; backwards++) {
				for (size_t i = 0; i < COPY_AREA; i++)
					area[i] = expect[i] = (unsigned char)(i * 7 + len);
				size_t src = backwards ? 1000 + shift : 1000;
				size_t dst = backwards ? 1000 : 1000 + shift;
				memmove(area + dst, area + src, len);
				if (dst < src)
					for (size_t i = 0; i < len; i++)
						expect[dst + i] = expect[src + i];
				else
					for (size_t i = len; i-- > 0;)
						expect[dst + i] = expect[src + i];
				if (memcmp(area, expect, COPY_AREA) != 0) {
					*bad_len = len;
					return "an overlapping memmove gave a wrong result";
				}
			}
		}
	}
	return NULL;
}

static int run_on(int cpu, size_t mib)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	const char *why = NULL;
	size_t bytes = mib << 20, bad = 0;
	if (sched_setaffinity(0, sizeof(set), &set) != 0 || sched_getcpu() != cpu)
		why = "cannot pin to this CPU";
	uint64_t *mem = MAP_FAILED;
	if (!why) {
		mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			why = "mmap failed";
	}
	if (!why)
		why = fill_and_verify(cpu, mem, bytes / sizeof(uint64_t), &bad);
	if (!why)
		why = check_memmove((unsigned char *)mem, &bad);
	if (!why && sched_getcpu() != cpu)
		why = "no longer on this CPU";
	if (mem != MAP_FAILED && munmap(mem, bytes) != 0 && !why)
		why = "munmap failed";
	if (why) {
		printf("memory-check: cpu%d FAIL: %s (at %zu, errno %d)\n", cpu, why, bad, errno);
		return 1;
	}
	printf("memory-check: cpu%d ok (%zu MiB written and read back, overlapping memmoves)\n",
	       cpu, mib);
	return 0;
}

static int run_child(int cpu, const void *mib)
{
	return run_on(cpu, *(const size_t *)mib);
}

int main(int argc, char **argv)
{
	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: memory-check MIB\n");
		return 2;
	}
	size_t mib = (size_t)atoi(argv[1]);
	return on_every_cpu("memory-check", run_child, &mib);
}
