/*
 * cvisor-check: can cvisor run on this machine?  Like kvm-ok, for cvisor.
 *
 * Reports the CPU vendor and CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, and
 * the VMX capability MSRs decoded by the hypervisor's own decoder
 * (core/vmx/caps_report.c).  MSRs are read through /dev/cpu/N/msr (root and
 * the msr module), or from a text file for testing (--msr-file).
 *
 * Exit status:
 *   0  VT-x is usable and has everything cvisor needs
 *   1  no Intel VT-x (not an Intel CPU, or CPUID.1:ECX.VMX is 0)
 *   2  VT-x is disabled by the firmware (IA32_FEATURE_CONTROL locked off)
 *   3  /dev/cpu/N/msr does not exist (modprobe msr)
 *   4  VT-x lacks a capability cvisor needs (each one is named)
 *   5  an MSR could not be read (not root, or read error, or not in --msr-file)
 *   64 bad command line or unreadable --msr-file
 */
#define _POSIX_C_SOURCE 200809L

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmx/caps_report.h"
#include "x86.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_NO_VTX = 1,
	EXIT_FIRMWARE_OFF = 2,
	EXIT_NO_MSR_DEVICE = 3,
	EXIT_MISSING_CAPS = 4,
	EXIT_MSR_UNREADABLE = 5,
	EXIT_USAGE = 64,
};

#define PROG "cvisor-check"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [--cpu N] [--short] [--msr-file FILE]\n"
		"                    [--cpuid-vendor VENDOR] [--cpuid-vmx 0|1]\n"
		"\n"
		"Tells whether cvisor (an Intel VT-x hypervisor) can run on this machine,\n"
		"and decodes the VMX capability MSRs of CPU N (default 0).\n"
		"\n"
		"  --cpu N               read the MSRs of CPU N (/dev/cpu/N/msr)\n"
		"  --short               print the 3-line summary cvisor logs at boot\n"
		"                        instead of the full report\n"
		"  --msr-file FILE       read MSRs from FILE instead of /dev/cpu/N/msr:\n"
		"                        lines of \"0xINDEX 0xVALUE\", '#' starts a comment\n"
		"  --cpuid-vendor VENDOR pretend CPUID.0 returned VENDOR (e.g. GenuineIntel)\n"
		"  --cpuid-vmx 0|1       pretend CPUID.1:ECX.VMX is 0 or 1\n"
		"\n"
		"Reading /dev/cpu/N/msr needs root and the msr module (modprobe msr).\n"
		"Exit status: 0 cvisor can run, 1 no Intel VT-x, 2 VT-x disabled by the\n"
		"firmware, 3 no MSR device, 4 VT-x lacks what cvisor needs, 5 an MSR could\n"
		"not be read, 64 bad usage.\n");
}

/* ---- MSR sources ---- */

#define MSR_FILE_MAX 256

struct msr_source {
	/* /dev/cpu/N/msr */
	int fd;
	char device[64];
	int read_errno;
	/* --msr-file */
	const char *file;
	size_t count;
	uint32_t index[MSR_FILE_MAX];
	uint64_t value[MSR_FILE_MAX];
};

static bool source_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct msr_source *src = ctx;

	if (src->file) {
		for (size_t i = src->count; i-- > 0;) /* the last line for an MSR wins */
			if (src->index[i] == msr) {
				*value = src->value[i];
				return true;
			}
		return false;
	}
	uint64_t v;
	ssize_t n = pread(src->fd, &v, sizeof(v), (off_t)msr);
	if (n != (ssize_t)sizeof(v)) {
		src->read_errno = n < 0 ? errno : EIO;
		return false;
	}
	*value = v;
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* Loads "0xINDEX 0xVALUE" lines; prints why and returns false on error. */
static bool load_msr_file(struct msr_source *src)
{
	FILE *f = fopen(src->file, "r");
	char line[256];
	unsigned lineno = 0;

	if (!f) {
		fprintf(stderr, PROG ": cannot open the MSR file %s: %s\n", src->file,
			strerror(errno));
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		char idx[64], val[64], extra[2];
		uint64_t index, value;

		lineno++;
		if (hash)
			*hash = '\0';
		int fields = sscanf(line, "%63s %63s %1s", idx, val, extra);
		if (fields <= 0)
			continue;
		if (fields != 2 || !parse_u64(idx, &index) || index > UINT32_MAX ||
		    !parse_u64(val, &value)) {
			fprintf(stderr,
				PROG ": %s line %u: expected \"0xINDEX 0xVALUE\" (two numbers)\n",
				src->file, lineno);
			fclose(f);
			return false;
		}
		if (src->count == MSR_FILE_MAX) {
			fprintf(stderr, PROG ": %s: more than %d MSR lines\n", src->file,
				MSR_FILE_MAX);
			fclose(f);
			return false;
		}
		src->index[src->count] = (uint32_t)index;
		src->value[src->count] = value;
		src->count++;
	}
	fclose(f);
	return true;
}

/* Opens /dev/cpu/N/msr; on failure prints the one sentence and returns the
 * exit code, otherwise EXIT_OK. */
static int open_msr_device(struct msr_source *src, long cpu)
{
	struct stat st;

	snprintf(src->device, sizeof(src->device), "/dev/cpu/%ld/msr", cpu);
	src->fd = open(src->device, O_RDONLY);
	if (src->fd >= 0)
		return EXIT_OK;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
		if (cpu != 0 && stat("/dev/cpu/0/msr", &st) == 0) {
			printf(PROG ": there is no CPU %ld (%s does not exist).\n", cpu,
			       src->device);
			return EXIT_USAGE;
		}
		printf(PROG ": %s does not exist; load the MSR driver with `modprobe msr` "
		       "(as root) and run " PROG " again.\n",
		       src->device);
		return EXIT_NO_MSR_DEVICE;
	}
	if (errno == EACCES || errno == EPERM) {
		printf(PROG ": cannot open %s (%s); run " PROG " as root.\n", src->device,
		       strerror(errno));
		return EXIT_MSR_UNREADABLE;
	}
	printf(PROG ": cannot open %s: %s.\n", src->device, strerror(errno));
	return EXIT_MSR_UNREADABLE;
}

/* The sentence for an MSR that could not be read. */
static void say_unreadable(const struct msr_source *src, uint32_t msr, long cpu)
{
	const char *name = caps_report_msr_name(msr);

	if (src->file)
		printf(PROG ": %s has no value for MSR 0x%" PRIx32 " (%s).\n", src->file, msr,
		       name ? name : "unknown");
	else
		printf(PROG ": reading MSR 0x%" PRIx32 " (%s) of CPU %ld from %s failed: %s.\n",
		       msr, name ? name : "unknown", cpu, src->device,
		       strerror(src->read_errno));
}

/* ---- CPUID ---- */

static void read_cpuid(struct caps_report_facts *facts)
{
	unsigned eax, ebx, ecx, edx;

	facts->cpuid_known = true;
	facts->vendor[0] = '\0';
	if (__get_cpuid(0, &eax, &ebx, &ecx, &edx)) {
		memcpy(facts->vendor, &ebx, 4);
		memcpy(facts->vendor + 4, &edx, 4);
		memcpy(facts->vendor + 8, &ecx, 4);
		facts->vendor[12] = '\0';
	}
	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
		facts->cpuid_vmx = ecx & (1u << 5);
		facts->cpuid_smx = ecx & (1u << 6);
		facts->cpuid_hypervisor = ecx & (1u << 31);
	}
}

/* ---- Output ---- */

static void print_line(void *ctx, const char *line)
{
	(void)ctx;
	puts(line);
}

static void print_missing(void *ctx, const char *line)
{
	(void)ctx;
	printf(PROG ": %s\n", line);
}

int main(int argc, char **argv)
{
	struct caps_report_facts facts = { 0 };
	static struct msr_source src = { .fd = -1 };
	struct vmx_caps caps;
	const char *vendor_override = NULL;
	int vmx_override = -1;
	bool short_form = false;
	long cpu = 0;
	uint32_t failed;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--short")) {
			short_form = true;
			continue;
		}
		if (strcmp(a, "--cpu") && strcmp(a, "--msr-file") && strcmp(a, "--cpuid-vendor") &&
		    strcmp(a, "--cpuid-vmx")) {
			fprintf(stderr, PROG ": unknown option '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
		if (!v) {
			fprintf(stderr, PROG ": %s needs a value\n", a);
			return EXIT_USAGE;
		}
		i++;
		if (!strcmp(a, "--cpu")) {
			errno = 0;
			cpu = strtol(v, &end, 10);
			if (errno || *end || !*v || cpu < 0) {
				fprintf(stderr, PROG ": --cpu needs a CPU number, not '%s'\n", v);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "--msr-file")) {
			src.file = v;
		} else if (!strcmp(a, "--cpuid-vendor")) {
			if (strlen(v) > 12) {
				fprintf(stderr, PROG ": a CPUID vendor has at most 12 characters\n");
				return EXIT_USAGE;
			}
			vendor_override = v;
		} else {
			if (strcmp(v, "0") && strcmp(v, "1")) {
				fprintf(stderr, PROG ": --cpuid-vmx needs 0 or 1, not '%s'\n", v);
				return EXIT_USAGE;
			}
			vmx_override = v[0] == '1';
		}
	}

	/* 1. CPUID: an Intel CPU with VMX (SDM Vol. 3C 24.6). */
	read_cpuid(&facts);
	if (vendor_override)
		snprintf(facts.vendor, sizeof(facts.vendor), "%s", vendor_override);
	if (vmx_override >= 0)
		facts.cpuid_vmx = vmx_override;
	if (strcmp(facts.vendor, "GenuineIntel")) {
		printf(PROG ": this CPU (%s) has no Intel VT-x; cvisor cannot run here.\n",
		       facts.vendor[0] ? facts.vendor : "unknown vendor");
		return EXIT_NO_VTX;
	}
	if (!facts.cpuid_vmx) {
		printf(PROG ": this Intel CPU does not offer VT-x (CPUID.1:ECX.VMX is 0%s); "
		       "cvisor cannot run here.\n",
		       facts.cpuid_hypervisor ? ", and it runs under a hypervisor without nested VT-x"
					      : "");
		return EXIT_NO_VTX;
	}

	/* 2. The MSRs. */
	if (src.file) {
		if (!load_msr_file(&src))
			return EXIT_USAGE;
	} else if ((rc = open_msr_device(&src, cpu)) != EXIT_OK) {
		return rc;
	}

	/* 3. IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7). */
	if (!source_rdmsr(&src, MSR_IA32_FEATURE_CONTROL, &facts.feature_control)) {
		say_unreadable(&src, MSR_IA32_FEATURE_CONTROL, cpu);
		return EXIT_MSR_UNREADABLE;
	}
	facts.feature_control_known = true;
	if ((facts.feature_control & FEATURE_CONTROL_LOCK) &&
	    !(facts.feature_control & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		printf(PROG ": VT-x is disabled by the firmware (IA32_FEATURE_CONTROL is 0x%" PRIx64
		       ", locked with VMXON outside SMX off); enable Intel Virtualization "
		       "Technology in the BIOS/UEFI setup, then cvisor can run.\n",
		       facts.feature_control);
		return EXIT_FIRMWARE_OFF;
	}

	/* 4. The capability MSRs, decoded. */
	if (!caps_report_read(&caps, &facts, source_rdmsr, &src, &failed)) {
		say_unreadable(&src, failed, cpu);
		return EXIT_MSR_UNREADABLE;
	}
	if (!src.file)
		printf("CPU %ld (%s):\n", cpu, src.device);
	caps_report(&caps, &facts, short_form ? CAPS_REPORT_SHORT : CAPS_REPORT_FULL,
		    print_line, NULL);

	/* 5. The verdict. */
	unsigned missing = caps_report_missing(&caps, print_missing, NULL);
	if (missing) {
		printf(PROG ": this CPU has VT-x but lacks %u capabilit%s cvisor needs (listed "
		       "above); cvisor cannot run here.\n",
		       missing, missing == 1 ? "y" : "ies");
		return EXIT_MISSING_CAPS;
	}
	if (!(facts.feature_control & FEATURE_CONTROL_LOCK))
		printf(PROG ": IA32_FEATURE_CONTROL is unlocked; cvisor enables VMXON outside SMX "
		       "and locks it at boot.\n");
	printf(PROG ": VT-x is available and enabled; cvisor can run here.\n");
	return EXIT_OK;
}
