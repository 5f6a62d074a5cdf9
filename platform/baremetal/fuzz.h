/*
 * cvisor's fuzz mode (boot option fuzz=SEED:CASES): many short VMs in one
 * boot, each created fresh from the same guest image (guests/fuzz) with
 * seed SEED+i on its command line, and checks after each that cvisor came
 * through unharmed.  A finding is printed as
 *
 *   cvisor: fuzz: FINDING seed=N: <what>
 *
 * after the case's captured console output, so `make fuzz SEED=N CASES=1`
 * replays it.  Findings: a hypervisor exception or panic, a failed VM
 * entry (saying whether cvisor's software entry checks name the broken
 * rule: if not, they miss one), entry checks that reject state the CPU
 * accepted, an end reason that only a
 * cvisor bug produces (EPT misconfiguration, an impossible exit), a failed
 * VMREAD/VMWRITE/VMCLEAR, a changed canary (static data, guard words
 * around the VM and vCPU, code and read-only data), a leaked or doubly
 * freed page, and a time slice the VMX-preemption timer did not end
 * (a hang in cvisor).  One case in four has two vCPUs (fuzz_case_vcpus),
 * and every check holds for both.  A guest that misbehaves is not a finding: it ends
 * with its one-line report and the next case starts.
 */
#ifndef CVISOR_BAREMETAL_FUZZ_H
#define CVISOR_BAREMETAL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct vmx_cpu;

struct fuzz_plan {
	uint64_t first_seed;
	unsigned cases;
};

#define FUZZ_MAX_CASES 100000000

/*
 * Parses the value of the boot option fuzz=SEED[:CASES] (CASES defaults to
 * 1); NULL when it is well formed, else what is wrong with it.
 */
const char *fuzz_parse_plan(const char *text, struct fuzz_plan *plan);

/*
 * How many vCPUs the case with this seed has: 2 when seed mod 8 is 1 or 7
 * (one case in four), else 1.  Both run on the fuzzing CPU, time-shared.
 */
unsigned fuzz_case_vcpus(uint64_t seed);
/* Whether a case uses the CPU's APIC virtualization (fuzz_image.apicv):
 * eight seeds in a row with it, the next eight with the software APIC
 * alone (apicv=off), so each mix of vCPUs and strict_mem meets both. */
bool fuzz_case_apicv(uint64_t seed);

/* The guest every case boots. */
struct fuzz_image {
	const void *data;
	size_t size;
	const char *name;
	const char *cmdline;     /* "<name> <guest args>"; " seed=N" is appended */
	uint64_t ram;
	unsigned large_pages;    /* VM_PAGES_2M / VM_PAGES_1G */
	unsigned apicv;          /* the APIC virtualization offered (vcpu/apicv.h) */
	/* Called with each case's vCPU right after vcpu_create (its VMCS is
	 * current); NULL for nothing.  main.c's debug.vmcs uses it. */
	void (*after_vcpu_create)(struct vcpu *vcpu);
	/* Boot option debug.fault: cvisor itself executes UD2 while the first
	 * case runs, to prove that a hypervisor exception is a finding. */
	bool fault_in_first_case;
};

/*
 * Runs plan->cases cases one after another on this CPU (in VMX operation,
 * cpu is its state), every vCPU of a case on it: one line per case, then
 * a summary.  Returns the
 * number of findings.
 */
unsigned fuzz_run(struct vmx_cpu *cpu, const struct fuzz_plan *plan,
		  const struct fuzz_image *image);

/*
 * The console hook (platform.c): while a case runs, its console output is
 * kept in a ring buffer instead of being printed, and shown only with a
 * finding.  Returns true when it took the text.
 */
bool fuzz_console_capture(const char *text, size_t len);

/*
 * Called on the way to a fatal stop (CPU exception, panic) with the line
 * about to be printed: when a case is running, prints its captured output
 * and its FINDING line.  Uses only the emergency console.
 */
void fuzz_report_fatal(const char *line);

#endif
