/*
 * Fuzz mode (see fuzz.h): each case is a fresh VM made from the same image
 * with vm_build and the Multiboot loader, its vCPUs on this CPU, run until
 * it ends or its watchdog stops it, then torn down and checked.  Resetting
 * by re-creating is what snapshot fuzzers do: no state of one case leaks
 * into the next.
 *
 * One case in four (fuzz_case_vcpus) has two vCPUs, time-shared on this
 * CPU in short slices: the guest's second vCPU sends and takes IPIs, NMIs,
 * INIT and SIPI and I/O APIC interrupts while the first runs its actions.
 * Both stay on one CPU because the fuzz runs in Bochs with one emulated
 * CPU (tests/fuzz/run): a second one would halve the speed of every case,
 * 1-vCPU ones included, for the parked CPU spins.
 */
#include "fuzz.h"

#include <stdarg.h>

#include "boot.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "page_alloc.h"
#include "platform.h"
#include "serial.h"
#include "loader/multiboot.h"
#include "run/run_loop.h"
#include "run/schedule.h"
#include "vcpu/events.h"
#include "vm/builder.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vcpu/apicv.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

/* A case that has not ended after this many time slices (per vCPU) is
 * stopped (a guest spinning in a loop: not a finding). */
#define CASE_SLICES 2
/* Two vCPUs on this CPU take turns in slices this long, so that each
 * sees the other's IPIs and device interrupts often. */
#define SHARED_SLICE_TSC (VCPU_SLICE_TSC / 8)
/* The guest describes each action in a replay (cases == 1), which takes
 * far longer than the actions themselves. */
#define REPLAY_SLOWDOWN 32
/*
 * One vcpu_run_slice() returning this late means cvisor itself did not
 * get back to its scheduler: the VMX-preemption timer ends each slice
 * after VCPU_SLICE_TSC ticks, and one exit's handler does bounded work
 * (4096 string iterations at most), far below this.
 */
#define HANG_TSC (32ULL * VCPU_SLICE_TSC)

#define CAPTURE_BYTES (24 * 1024)
#define CANARY_WORDS 512
#define GUARD_WORDS 64
#define CANARY_PATTERN 0xC0FFEE5AFE5EC0DEULL
#define CMDLINE_MAX 256
#define VCPU_PAGES ((sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE)
/* One page more than the vCPU needs: everything after the struct is a guard. */
#define VCPU_ALLOC_PAGES (VCPU_PAGES + 1)
#define FUZZ_MAX_VCPUS 2

unsigned fuzz_case_vcpus(uint64_t seed)
{
	/* Seeds 1 and 7 mod 8: one of the two is also a case without
	 * strict_mem (seed mod 4 = 3), so the open bus meets two vCPUs too. */
	return seed % 8 == 1 || seed % 8 == 7 ? 2 : 1;
}

bool fuzz_case_apicv(uint64_t seed)
{
	return (seed / 8) % 2 == 0;
}

const char *fuzz_parse_plan(const char *text, struct fuzz_plan *plan)
{
	static const char usage[] = "fuzz= needs SEED[:CASES], decimal numbers (e.g. fuzz=1:200)";
	const char *p = text;

	plan->first_seed = 0;
	plan->cases = 1;
	if (*p < '0' || *p > '9')
		return usage;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (plan->first_seed > (~0ULL - 9) / 10)
			return usage;
		plan->first_seed = plan->first_seed * 10 + (uint64_t)(*p - '0');
	}
	if (*p == ':') {
		uint64_t cases = 0;
		if (p[1] < '0' || p[1] > '9')
			return usage;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if ((cases = cases * 10 + (uint64_t)(*p - '0')) > FUZZ_MAX_CASES)
				return usage;
		if (cases == 0)
			return usage;
		plan->cases = (unsigned)cases;
	}
	return *p == ' ' || *p == '\0' ? NULL : usage;
}

/* ---- the case being run --------------------------------------------------- */

static struct {
	bool in_case; /* from a case's creation to the end of its checks */
	bool running; /* its console output is being captured */
	bool echo; /* a single case (a replay): print its output as it comes */
	uint64_t seed;
	/* Console output of the case: a ring of the last CAPTURE_BYTES. */
	char ring[CAPTURE_BYTES];
	size_t written; /* total bytes; ring position is written % CAPTURE_BYTES */
	/* What the output said. */
	bool entry_rules_broken; /* the software entry checks (entry_checks.c) named a broken rule */
	bool vmcs_access_failed; /* a VMREAD/VMWRITE failed */
	bool bug_reported;       /* cvisor said "BUG" (e.g. a bad page free) */
	bool vmclear_failed;
} capture;

static bool contains(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(text + i, needle, n) == 0)
			return true;
	return false;
}

bool fuzz_console_capture(const char *text, size_t len)
{
	if (!capture.running || plat_this_cpu() != 0)
		return false;
	if (!capture.echo) {
		for (size_t i = 0; i < len; i++)
			capture.ring[(capture.written + i) % CAPTURE_BYTES] = text[i];
		capture.written += len;
	}
	/* Log lines arrive whole (lib/log.c), so markers are never split. */
	if (contains(text, len, "VM-entry check failed"))
		capture.entry_rules_broken = true;
	if (contains(text, len, "cvisor: VMREAD ") || contains(text, len, "cvisor: VMWRITE "))
		capture.vmcs_access_failed = true;
	if (contains(text, len, "cvisor: BUG"))
		capture.bug_reported = true;
	if (contains(text, len, "VMCLEAR failed"))
		capture.vmclear_failed = true;
	return !capture.echo;
}

/* Writes the captured output with `write` (log or emergency console). */
static void replay_capture(void (*write)(const char *text, size_t len))
{
	static const char header[] = "cvisor: fuzz: ---- console output of the case ----\n";
	static const char dropped[] = "cvisor: fuzz: (earlier output dropped)\n";
	static const char footer[] = "cvisor: fuzz: ---- end of the case's console output ----\n";
	size_t n = capture.written < CAPTURE_BYTES ? capture.written : CAPTURE_BYTES;
	size_t start = (capture.written - n) % CAPTURE_BYTES;

	write(header, sizeof(header) - 1);
	if (capture.written > CAPTURE_BYTES)
		write(dropped, sizeof(dropped) - 1);
	if (start + n <= CAPTURE_BYTES) {
		write(capture.ring + start, n);
	} else {
		write(capture.ring + start, CAPTURE_BYTES - start);
		write(capture.ring, n - (CAPTURE_BYTES - start));
	}
	write(footer, sizeof(footer) - 1);
}

void fuzz_report_fatal(const char *line)
{
	char finding[LOG_LINE_MAX];

	if (!capture.in_case)
		return;
	if (capture.running && !capture.echo)
		replay_capture(console_write_emergency);
	capture.running = capture.in_case = false;
	/* "cvisor: CPU exception ..." -> "CPU exception ..." */
	if (strncmp(line, "cvisor: ", 8) == 0)
		line += 8;
	size_t len = strlen(line);
	while (len && line[len - 1] == '\n')
		len--;
	size_t n = fmt_snprintf(finding, sizeof(finding),
				"cvisor: fuzz: FINDING seed=%llu: hypervisor stopped: %.*s\n",
				(unsigned long long)capture.seed, (int)len, line);
	if (n >= sizeof(finding)) {
		n = sizeof(finding) - 1;
		finding[n - 1] = '\n';
	}
	console_write_emergency(finding, n);
	serial_flush();
}

/* ---- canaries -------------------------------------------------------------- */

/* cvisor's own memory that no guest action may change. */
static volatile uint64_t static_canary[CANARY_WORDS];
static struct {
	uint64_t before[GUARD_WORDS];
	struct vm vm;
	uint64_t after[GUARD_WORDS];
} guarded_vm;
extern char _kernel_start[], _kernel_read_only_end[]; /* linker.ld: code and read-only data */
static uint64_t read_only_sum;

static uint64_t canary_word(unsigned i)
{
	return CANARY_PATTERN ^ ((uint64_t)i * 0x9E3779B97F4A7C15ULL);
}

static void fill_words(volatile uint64_t *w, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		w[i] = canary_word(i);
}

/* Index of the first changed word, or -1. */
static int changed_word(const volatile uint64_t *w, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (w[i] != canary_word(i))
			return (int)i;
	return -1;
}

static uint64_t checksum_read_only(void)
{
	uint64_t sum = 0;
	for (const uint64_t *p = (const uint64_t *)_kernel_start;
	     p < (const uint64_t *)_kernel_read_only_end; p++)
		sum = (sum ^ *p) * 0x100000001B3ULL + 1;
	return sum;
}

/* ---- one case ----------------------------------------------------------- */

struct case_result {
	unsigned findings;
	uint64_t longest_slice;
};

static void finding(struct case_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void finding(struct case_result *r, const char *fmt, ...)
{
	char what[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	log_printf("cvisor: fuzz: FINDING seed=%llu: %s\n", (unsigned long long)capture.seed, what);
	r->findings++;
}

/*
 * Runs the VM's vCPUs on this CPU until the VM ends, or stops it (the
 * watchdog, or no event left that could wake any of them): round robin
 * among those with work, one slice each, as run/schedule.c does, with the
 * watchdog and each slice's length measured.
 */
static void run_vcpus(struct vcpu *const *vcpus, unsigned count, struct case_result *r)
{
	struct vm *vm = vcpus[0]->vm;
	struct vcpu *current = NULL;
	uint64_t start = rdtsc(), budget = (uint64_t)CASE_SLICES * count * VCPU_SLICE_TSC;
	uint64_t slice = count == 1 ? VCPU_SLICE_TSC : SHARED_SLICE_TSC;
	unsigned turn = 0;

	/* A replay prints every action the guest takes: give it the time. */
	if (capture.echo)
		budget *= REPLAY_SLOWDOWN;

	while (!vm->ended) {
		uint64_t now = rdtsc();
		if (now - start >= budget) {
			vm_end(vm, false, "fuzz watchdog: the case did not end within %u time slices",
			       CASE_SLICES * count);
			break;
		}
		struct vcpu *v = NULL;
		for (unsigned i = 0; i < count && !v; i++) {
			unsigned k = (turn + i) % count;
			if (vcpu_has_work(vcpus[k], now)) {
				v = vcpus[k];
				turn = k + 1;
			}
		}
		if (!v) {
			/* ~0: any armed APIC timer counts (vcpu.h). */
			bool can_wake = false;
			for (unsigned k = 0; k < count; k++)
				can_wake |= vcpu_has_work(vcpus[k], ~0ULL);
			if (!can_wake) {
				vm_end(vm, false, count == 1 ? "its only vCPU waits for an event nothing can send"
							     : "its vCPUs wait for events nothing can send");
				break;
			}
			/* Sleep until the first of their timers (Bochs skips the
			 * halted time), the watchdog at the latest. */
			uint64_t wake = schedule_idle_deadline(vcpus, count, rdtsc());
			uint64_t watchdog = start + budget;
			if (wake != SCHEDULE_NO_IDLE)
				plat_idle_until(wake && wake < watchdog ? wake : watchdog);
			continue;
		}
		if (!vcpu_make_current(v, current)) {
			current = NULL; /* VMPTRLD failed; vm_end said so */
			break;
		}
		current = v;
		vcpu_run_slice(v, slice);
		uint64_t took = rdtsc() - now;
		if (took > r->longest_slice)
			r->longest_slice = took;
	}
	if (current)
		vcpu_put(current);
}

/* End reasons that only a cvisor bug produces (the guest cannot cause them
 * by anything it does). */
static const char *const cvisor_bug_reasons[] = {
	"EPT misconfiguration",
	"exception exit (interruption information",
	"I/O exit with an invalid access size",
	"unexpected control-register access",
	"string I/O with a 64-bit address outside 64-bit mode",
	"VMPTRLD of its VMCS failed",
};

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void judge_end(const struct vm *vm, struct case_result *r)
{
	const char *reason = vm->end_reason;
	bool entry_failed = starts_with(reason, "VMLAUNCH failed") ||
			    starts_with(reason, "VMRESUME failed") ||
			    starts_with(reason, "VM entry failed");

	/* The entry checks run before the first entry and after cvisor rewrote
	 * guest state (debug builds), and always after a failed entry. */
	if (entry_failed)
		finding(r, "failed VM entry, %s: %s",
			capture.entry_rules_broken ? "cvisor's entry checks name the broken rule"
						   : "which cvisor's entry checks do NOT explain",
			reason);
	else if (capture.entry_rules_broken)
		finding(r, "cvisor's entry checks named a broken rule, but the CPU entered the guest");
	for (unsigned i = 0; i < sizeof(cvisor_bug_reasons) / sizeof(cvisor_bug_reasons[0]); i++)
		if (strlen(reason) >= strlen(cvisor_bug_reasons[i]) &&
		    contains(reason, strlen(reason), cvisor_bug_reasons[i]))
			finding(r, "an end only a cvisor bug explains: %s", reason);
	if (capture.vmcs_access_failed)
		finding(r, "a VMREAD or VMWRITE failed");
	if (capture.vmclear_failed)
		finding(r, "VMCLEAR of the case's VMCS failed");
	if (capture.bug_reported)
		finding(r, "cvisor reported a BUG");
}

/* Tally of how cases ended, for the summary ("N name, N name, ..."; a name
 * must not contain ", ", which tests/fuzz/run splits the line at). */
enum end_kind { END_COMPLETED, END_STOP, END_TRIPLE_FAULT, END_WILD_ACCESS, END_MMIO_REFUSED,
		END_UNHANDLED_EXIT, END_HALTED, END_DEBUG_EXIT, END_WATCHDOG, END_OTHER, END_KINDS };

static const char *const end_kind_names[END_KINDS] = {
	"completed", "other stop hypercall", "triple fault", "access outside RAM or devices",
	"MMIO form refused", "unhandled exit", "halted for good", "debug-exit or power-off (port or ACPI S5)",
	"watchdog", "other",
};

static enum end_kind end_kind_of(const char *reason)
{
	static const char completed[] = "stop hypercall with status 0";
	if (strncmp(reason, completed, sizeof(completed)) == 0) /* with the NUL: all of it */
		return END_COMPLETED;
	if (starts_with(reason, "stop hypercall"))
		return END_STOP;
	if (starts_with(reason, "triple fault"))
		return END_TRIPLE_FAULT;
	if (contains(reason, strlen(reason), "neither RAM nor a device") ||
	    contains(reason, strlen(reason), "is not guest RAM") ||
	    contains(reason, strlen(reason), "while delivering vector"))
		return END_WILD_ACCESS;
	if (contains(reason, strlen(reason), "cvisor does not emulate"))
		return END_MMIO_REFUSED;
	if (starts_with(reason, "unhandled exit"))
		return END_UNHANDLED_EXIT;
	if (starts_with(reason, "the guest halted") || starts_with(reason, "its only vCPU waits") ||
	    starts_with(reason, "its vCPUs wait"))
		return END_HALTED;
	if (starts_with(reason, "debug-exit port") || starts_with(reason, "powered off") ||
	    starts_with(reason, "ACPI power-off"))
		return END_DEBUG_EXIT;
	if (starts_with(reason, "fuzz watchdog"))
		return END_WATCHDOG;
	return END_OTHER;
}

static unsigned end_counts[END_KINDS];

static uint64_t first_seed;

/* A vCPU's pages; everything after the struct is a guard of canary words. */
static uint64_t *vcpu_slack(struct vcpu *v, unsigned *words)
{
	*words = (unsigned)((VCPU_ALLOC_PAGES * PAGE_SIZE - sizeof(struct vcpu)) / 8);
	return (uint64_t *)((uint8_t *)v + sizeof(struct vcpu));
}

static void run_case(struct vmx_cpu *cpu, const struct fuzz_image *image, uint64_t seed,
		     struct case_result *r)
{
	char cmdline[CMDLINE_MAX];
	struct vm *vm = &guarded_vm.vm;
	uint64_t free_before = page_alloc_free_count();
	uint64_t refused_before = page_alloc_refused_count();
	unsigned vcpu_count = fuzz_case_vcpus(seed);
	struct vcpu *vcpus[FUZZ_MAX_VCPUS] = { NULL };
	const char *err;

	/* A replay (one case, output shown) asks the guest to describe its
	 * actions; "vcpus=2" tells it to start its second vCPU. */
	fmt_snprintf(cmdline, sizeof(cmdline), "%s seed=%llu%s%s", image->cmdline,
		     (unsigned long long)seed, vcpu_count == 2 ? " vcpus=2" : "",
		     capture.echo ? " verbose" : "");
	capture.written = 0;
	capture.entry_rules_broken = capture.vmcs_access_failed = false;
	capture.bug_reported = capture.vmclear_failed = false;
	capture.seed = seed;
	capture.in_case = capture.running = true;
	fill_words(guarded_vm.before, GUARD_WORDS);
	fill_words(guarded_vm.after, GUARD_WORDS);

	/* Pages from the allocator right before and after the VM's own: an
	 * overrun of its EPT tables or vCPU pages lands in one of them. */
	uint64_t *page_before = plat_alloc_page();
	const struct vm_config config = {
		.id = 0, .name = image->name, .ram_size = image->ram,
		.large_pages = image->large_pages, .vcpu_count = vcpu_count,
		/* Three cases in four are strict: a stray access ends them, so
		 * accesses cvisor mishandles are not hidden by the open bus; the
		 * fourth meets the open bus, so its paths (MOVs, strings, the
		 * reports) are attacked too. */
		.strict_mem = seed % 4 != 3,
		.apicv = fuzz_case_apicv(seed) ? image->apicv : 0,
	};
	err = vm_build(vm, &config);
	bool built = !err;
	if (built)
		err = multiboot_load(vm, image->data, image->size, cmdline);
	for (unsigned k = 0; !err && k < vcpu_count; k++)
		if (!(vcpus[k] = plat_alloc_pages(VCPU_ALLOC_PAGES, 1)))
			err = "out of memory for the vCPUs";
	uint64_t *page_after = plat_alloc_page();
	if (page_before)
		fill_words(page_before, PAGE_SIZE / 8);
	if (page_after)
		fill_words(page_after, PAGE_SIZE / 8);

	if (err) {
		for (unsigned k = 0; k < vcpu_count; k++)
			if (vcpus[k])
				plat_free_pages(vcpus[k], VCPU_ALLOC_PAGES);
		if (built)
			vm_destroy(vm);
	} else {
		unsigned created = 0, words;
		const char *verr = NULL;
		for (unsigned k = 0; k < vcpu_count; k++)
			fill_words(vcpu_slack(vcpus[k], &words), words);
		/* Every vCPU exists before any runs, so an early INIT or SIPI
		 * always finds its target. */
		while (created < vcpu_count && !(verr = vm_build_vcpu(vm, created, cpu, vcpus[created]))) {
			if (created == 0 && image->after_vcpu_create)
				image->after_vcpu_create(vcpus[0]); /* its VMCS is still current */
			created++;
		}
		if (!verr) {
			run_vcpus(vcpus, vcpu_count, r);
			if (image->fault_in_first_case && seed == first_seed)
				__builtin_trap(); /* UD2 (GCC on x86): the exception handler takes over */
		} else {
			vm_end(vm, false, "vCPU %u not created: %s", created, verr);
		}
		for (unsigned k = 0; k < created; k++)
			vcpu_destroy(vcpus[k]);
		capture.running = false;
		for (unsigned k = 0; k < vcpu_count; k++) {
			int at = changed_word(vcpu_slack(vcpus[k], &words), words);
			if (at >= 0)
				finding(r, "canary CHANGED: the guard after vCPU %u's structure, word %d", k, at);
			plat_free_pages(vcpus[k], VCPU_ALLOC_PAGES);
		}
		vm_destroy(vm);
	}
	if (err) {
		vm_end(vm, false, "not created: %s", err);
		capture.running = false;
		finding(r, "the case's VM could not be created: %s", err);
	}

	int at;
	if (page_before && (at = changed_word(page_before, PAGE_SIZE / 8)) >= 0)
		finding(r, "canary CHANGED: the page allocated before the VM's, word %d", at);
	if (page_after && (at = changed_word(page_after, PAGE_SIZE / 8)) >= 0)
		finding(r, "canary CHANGED: the page allocated after the VM's, word %d", at);
	plat_free_page(page_before);
	plat_free_page(page_after);
	if ((at = changed_word(guarded_vm.before, GUARD_WORDS)) >= 0)
		finding(r, "canary CHANGED: the guard before struct vm, word %d", at);
	if ((at = changed_word(guarded_vm.after, GUARD_WORDS)) >= 0)
		finding(r, "canary CHANGED: the guard after struct vm, word %d", at);
	if ((at = changed_word(static_canary, CANARY_WORDS)) >= 0)
		finding(r, "canary CHANGED: cvisor's static canary, word %d", at);
	if (checksum_read_only() != read_only_sum)
		finding(r, "canary CHANGED: cvisor's code or read-only data");
	if (page_alloc_free_count() != free_before)
		finding(r, "the case leaked %lld page(s)",
			(long long)(free_before - page_alloc_free_count()));
	if (page_alloc_refused_count() != refused_before)
		finding(r, "the case freed %llu page(s) that were not allocated",
			(unsigned long long)(page_alloc_refused_count() - refused_before));
	if (r->longest_slice > HANG_TSC)
		finding(r, "hang: one time slice lasted %llu TSC ticks; the VMX-preemption timer ends it after %u",
			(unsigned long long)r->longest_slice, VCPU_SLICE_TSC);
	judge_end(vm, r);
	end_counts[end_kind_of(vm->end_reason)]++;
	capture.in_case = false;
}

unsigned fuzz_run(struct vmx_cpu *cpu, const struct fuzz_plan *plan,
		  const struct fuzz_image *image)
{
	unsigned findings = 0, cases_with_findings = 0;
	uint64_t last_seed = plan->first_seed + plan->cases - 1;

	capture.echo = plan->cases == 1;
	first_seed = plan->first_seed;
	/* Most cases end in a report with a VMCS dump that nobody reads, and
	 * the dump costs more than the rest of the case; a replay shows it. */
	vmcs_dump_enabled = capture.echo;
	fill_words(static_canary, CANARY_WORDS);
	read_only_sum = checksum_read_only();
	log_printf("cvisor: fuzz: %u case(s), seeds %llu..%llu, guest \"%s\" with %llu KiB RAM, "
		   "watchdog %u time slices per vCPU, 2 vCPUs sharing this CPU when seed mod 8 is 1 or 7\n",
		   plan->cases, (unsigned long long)plan->first_seed,
		   (unsigned long long)last_seed, image->name,
		   (unsigned long long)(image->ram >> 10), CASE_SLICES);
	for (unsigned i = 0; i < plan->cases; i++) {
		uint64_t seed = plan->first_seed + i;
		struct case_result r = { 0 };
		uint64_t t0 = rdtsc();

		run_case(cpu, image, seed, &r);
		if (r.findings && !capture.echo) {
			/* The case's own output explains the finding: show it. */
			replay_capture(plat_console_write);
			log_printf("cvisor: fuzz: replay with: make fuzz SEED=%llu CASES=1\n",
				   (unsigned long long)seed);
			cases_with_findings++;
			findings += r.findings;
		}
		log_printf("cvisor: fuzz: case %u seed=%llu: %s: %s (%s%llu kTSC)%s\n", i,
			   (unsigned long long)seed, guarded_vm.vm.success ? "success" : "failure",
			   guarded_vm.vm.end_reason, fuzz_case_vcpus(seed) == 2 ? "2 vCPUs, " : "",
			   (unsigned long long)((rdtsc() - t0) / 1000),
			   fuzz_case_apicv(seed) ? "" : " apicv=off");
	}
	char tally[LOG_LINE_MAX];
	size_t n = 0;
	for (unsigned k = 0; k < END_KINDS; k++)
		if (end_counts[k] && n < sizeof(tally))
			n += fmt_snprintf(tally + n, sizeof(tally) - n, "%s%u %s", n ? ", " : "",
					  end_counts[k], end_kind_names[k]);
	log_printf("cvisor: fuzz: how the cases ended: %s\n", tally);
	unsigned two = 0;
	for (unsigned i = 0; i < plan->cases; i++)
		two += fuzz_case_vcpus(plan->first_seed + i) == 2;
	log_printf("cvisor: fuzz: %u case(s) with 2 vCPUs\n", two);
	unsigned software_apic = 0;
	for (unsigned i = 0; i < plan->cases; i++)
		software_apic += !fuzz_case_apicv(plan->first_seed + i);
	log_printf("cvisor: fuzz: %u case(s) with apicv=off (local APIC otherwise: %s)\n",
		   software_apic, apicv_describe(image->apicv));
	log_printf("cvisor: fuzz: %u cases, seeds %llu..%llu, %u findings\n", plan->cases,
		   (unsigned long long)plan->first_seed, (unsigned long long)last_seed, findings);
	if (cases_with_findings)
		log_printf("cvisor: fuzz: %u case(s) with findings; each printed its seed above\n",
			   cases_with_findings);
	return findings;
}
