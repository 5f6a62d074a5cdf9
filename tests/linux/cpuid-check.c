// cpuid-check: runs in the Linux test bed (static, no kernel module needed)
// and checks, on every online CPU, what CPUID says about a hypervisor.
//
//   cpuid-check present   every online CPU sees cvisor:
//                         CPUID.1:ECX[31] (hypervisor) = 1, CPUID.1:ECX[5] (VMX) = 0,
//                         leaf 0x40000000: EAX >= 0x40000001, EBX:ECX:EDX = "cvisor"
//   cpuid-check absent    no online CPU reports a hypervisor (CPUID.1:ECX[31] = 0)
//
// Prints one line per CPU ("cpuid-check: cpu1 present ok ..." or "... FAIL: why")
// and exits 0 when every online CPU passed, 1 otherwise, 2 on bad usage.
// Each check pins the process to the CPU with sched_setaffinity and verifies
// with sched_getcpu that it really runs there.
#define _GNU_SOURCE
#include <cpuid.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define HV_BIT (1u << 31)
#define VMX_BIT (1u << 5)
#define CVISOR_EBX 0x73697663u /* "cvis" */
#define CVISOR_ECX 0x0000726Fu /* "or\0\0" */
#define CVISOR_EDX 0x00000000u
#define CVISOR_MAX_LEAF 0x40000001u

struct regs {
	uint32_t a, b, c, d;
};

static struct regs cpuid(uint32_t leaf)
{
	struct regs r;
	__cpuid_count(leaf, 0, r.a, r.b, r.c, r.d);
	return r;
}

static int pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		return -1;
	return sched_getcpu() == cpu ? 0 : -1;
}

// Online CPUs, from /sys/devices/system/cpu/online ("0-1", "0,2-3", ...).
static int online_cpus(cpu_set_t *set)
{
	char buf[256];
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	CPU_ZERO(set);
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	for (char *p = buf; *p && *p != '\n';) {
		int lo, hi, n;
		if (sscanf(p, "%d%n", &lo, &n) != 1)
			return -1;
		p += n;
		hi = lo;
		if (*p == '-') {
			if (sscanf(p + 1, "%d%n", &hi, &n) != 1)
				return -1;
			p += 1 + n;
		}
		for (int c = lo; c <= hi && c < CPU_SETSIZE; c++)
			CPU_SET(c, set);
		if (*p == ',')
			p++;
	}
	return CPU_COUNT(set) > 0 ? 0 : -1;
}

// Returns 1 when the check passes; prints the CPU's line either way.
static int check_cpu(int cpu, int want_present)
{
	struct regs l1 = cpuid(1);
	int hv = !!(l1.c & HV_BIT), vmx = !!(l1.c & VMX_BIT);

	if (!want_present) {
		if (hv) {
			struct regs h = cpuid(0x40000000);
			printf("cpuid-check: cpu%d absent FAIL: CPUID.1:ECX[31] (hypervisor) is set "
			       "(leaf 0x40000000: eax=%#x ebx=%#x ecx=%#x edx=%#x)\n",
			       cpu, h.a, h.b, h.c, h.d);
			return 0;
		}
		printf("cpuid-check: cpu%d absent ok (hypervisor bit clear, vmx=%d)\n", cpu, vmx);
		return 1;
	}

	struct regs h = cpuid(0x40000000);
	char sig[13];
	memcpy(sig, &h.b, 4);
	memcpy(sig + 4, &h.c, 4);
	memcpy(sig + 8, &h.d, 4);
	sig[12] = 0;
	for (int i = 0; i < 12; i++)
		if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
			sig[i] = '?';

	const char *why = NULL;
	if (!hv)
		why = "CPUID.1:ECX[31] (hypervisor) is clear";
	else if (vmx)
		why = "CPUID.1:ECX[5] (VMX) is still set";
	else if (h.b != CVISOR_EBX || h.c != CVISOR_ECX || h.d != CVISOR_EDX)
		why = "leaf 0x40000000 signature is not \"cvisor\"";
	else if (h.a < CVISOR_MAX_LEAF)
		why = "leaf 0x40000000 EAX (max leaf) is below 0x40000001";
	if (why) {
		printf("cpuid-check: cpu%d present FAIL: %s (leaf 1 ecx=%#x; leaf 0x40000000: "
		       "eax=%#x ebx=%#x ecx=%#x edx=%#x \"%s\")\n",
		       cpu, why, l1.c, h.a, h.b, h.c, h.d, sig);
		return 0;
	}
	printf("cpuid-check: cpu%d present ok (\"%s\", max leaf %#x)\n", cpu, sig, h.a);
	return 1;
}

int main(int argc, char **argv)
{
	int want_present;
	if (argc == 2 && strcmp(argv[1], "present") == 0) {
		want_present = 1;
	} else if (argc == 2 && strcmp(argv[1], "absent") == 0) {
		want_present = 0;
	} else {
		fprintf(stderr, "usage: cpuid-check present|absent\n");
		return 2;
	}

	cpu_set_t online;
	if (online_cpus(&online) != 0) {
		printf("cpuid-check: FAIL: cannot read /sys/devices/system/cpu/online\n");
		return 1;
	}
	int failed = 0, checked = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &online))
			continue;
		checked++;
		if (pin(cpu) != 0) {
			printf("cpuid-check: cpu%d FAIL: cannot pin this process to it\n", cpu);
			failed++;
			continue;
		}
		if (!check_cpu(cpu, want_present))
			failed++;
	}
	fflush(stdout);
	return failed || !checked ? 1 : 0;
}
