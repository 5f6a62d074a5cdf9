/*
 * Hypervisor-enforced integrity from inside a type-1 guest (issue 17,
 * docs/hypercalls.md "Protection"): the guest protects its own code and a
 * data table with HC_PROTECT, pins CR0.WP and CR4.SMEP (and two MSRs), then
 * attacks each from CPL 0 and checks that every attack fails the way cvisor
 * documents: a write to protected memory is dropped and the instruction
 * skipped, a jump into a page without execute faults, a pinned bit stays
 * set.  A `log` page lets each write through, recorded.  It reads the
 * events back, tries to lift a protection (it cannot), and measures a
 * `log` write in TSC ticks (in Bochs: emulated instructions).
 *
 * With the command-line word "stop" it protects a page with the `stop`
 * policy and writes to it: cvisor ends the VM (a failure, as it should).
 */
#include "abi/hypercall.h"
#include "guest.h"
#include "probe.h"
#include "x86_bits.h"

#define PAGE_SIZE 4096u
#define CPUID7_EBX_SMEP (1u << 7)
#define CPUID80000001_EDX_NX (1u << 20)
#define MSR_EFER 0xC0000080u
#define MSR_SYSENTER_EIP 0x176u
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
#define LOG_WRITES 100u

extern const char _etext[]; /* guests/lib/linker.ld */

/* Each in a page of its own (4 KiB aligned, 4 KiB long). */
static volatile uint32_t table[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE))) = {
	0x7AB1E000, 0x7AB1E001, 0x7AB1E002,
};
static volatile uint32_t log_page[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
/* Code in a data page: RET.  Protected without execute, calling it faults. */
static uint8_t no_exec[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE))) = { 0xC3 };
static volatile uint32_t stop_page[PAGE_SIZE / 4] __attribute__((aligned(PAGE_SIZE)));
static struct hc_protect_event events[32];

static int32_t hc_protect(const volatile void *start, uint32_t length, uint32_t perms,
			  uint32_t policy)
{
	return guest_vmcall(HC_PROTECT, (uint32_t)(uintptr_t)start, length, perms, policy);
}

static uint32_t text_start(void)
{
	return 0x100000; /* guests/lib/linker.ld */
}

/* Whole pages of code: up to the page that holds the end of .text. */
static uint32_t text_length(void)
{
	return ((uint32_t)(uintptr_t)_etext & ~(PAGE_SIZE - 1)) - text_start();
}

static const struct hc_protect_event *find_event(unsigned n, uint16_t kind, uint64_t address,
						 uint8_t action)
{
	for (unsigned i = 0; i < n; i++)
		if (events[i].kind == kind && events[i].address == address &&
		    events[i].action == action)
			return &events[i];
	return 0;
}

static void run_stop_case(void)
{
	check(hc_protect(stop_page, PAGE_SIZE, HC_PROT_READ, HC_POLICY_STOP) == HC_OK,
	      "stop: HC_PROTECT of a page with the stop policy succeeds");
	say("stop: writing to the page; cvisor ends this VM now");
	stop_page[0] = 1;
	check(0, "stop: the VM still runs after the write");
}

static void check_arguments(void)
{
	check(hc_protect(table, 100, HC_PROT_READ, HC_POLICY_DENY) == HC_EINVAL,
	      "HC_PROTECT of a length that is not whole pages is EINVAL");
	check(hc_protect(table, PAGE_SIZE, HC_PROT_WRITE, HC_POLICY_DENY) == HC_EINVAL,
	      "HC_PROTECT write without read (an EPT misconfiguration) is EINVAL");
	check(hc_protect((void *)0x40000000, PAGE_SIZE, HC_PROT_READ, HC_POLICY_DENY) == HC_EFAULT,
	      "HC_PROTECT of memory that is not the VM's RAM is EFAULT");
	check(guest_vmcall(HC_PIN_CR, 4, CR4_SMAP, 0, 0) == HC_EINVAL,
	      "HC_PIN_CR of a bit that is clear (CR4.SMAP) is EINVAL");
	check(guest_vmcall(HC_PIN_CR, 0, CR0_PE, 0, 0) == HC_EINVAL,
	      "HC_PIN_CR of a bit outside the pinnable set (CR0.PE) is EINVAL");
}

static void protect_and_pin(void)
{
	say("code 0x%x-0x%x, table 0x%x, log page 0x%x, no-execute page 0x%x", text_start(),
	    text_start() + text_length(), (unsigned)(uintptr_t)table, (unsigned)(uintptr_t)log_page,
	    (unsigned)(uintptr_t)no_exec);
	check(text_length() >= PAGE_SIZE, "the code fills at least one whole page");
	check(hc_protect((void *)text_start(), text_length(), HC_PROT_READ | HC_PROT_EXEC,
			 HC_POLICY_DENY) == HC_OK,
	      "HC_PROTECT of the guest's code: read and execute, deny");
	check(hc_protect(table, PAGE_SIZE, HC_PROT_READ, HC_POLICY_DENY) == HC_OK,
	      "HC_PROTECT of the data table: read only, deny");
	check(hc_protect(log_page, PAGE_SIZE, HC_PROT_READ, HC_POLICY_LOG) == HC_OK,
	      "HC_PROTECT of the log page: read only, log");
	check(hc_protect(no_exec, PAGE_SIZE, HC_PROT_READ | HC_PROT_WRITE, HC_POLICY_DENY) == HC_OK,
	      "HC_PROTECT of a page of code: read and write, no execute, deny");

	check(probe_write_cr0(guest_read_cr0() | CR0_WP) == PROBE_NO_FAULT &&
		      (guest_read_cr0() & CR0_WP),
	      "CR0.WP set");
	check(guest_vmcall(HC_PIN_CR, 0, CR0_WP, 0, 0) == HC_OK, "HC_PIN_CR pins CR0.WP");
	if (guest_cpuid(7, 0).ebx & CPUID7_EBX_SMEP) {
		check(probe_write_cr4(guest_read_cr4() | CR4_SMEP) == PROBE_NO_FAULT &&
			      (guest_read_cr4() & CR4_SMEP),
		      "CR4.SMEP set");
		check(guest_vmcall(HC_PIN_CR, 4, CR4_SMEP, 0, 0) == HC_OK,
		      "HC_PIN_CR pins CR4.SMEP");
	} else {
		check(0, "the CPU offers SMEP (CPUID.7:EBX[7])");
	}
}

static void attack(void)
{
	volatile uint32_t *code = (volatile uint32_t *)(uintptr_t)guest_main;
	uint32_t code_before = *code;

	check(probe_store32(code, 0xCCCCCCCC) == PROBE_NO_FAULT && *code == code_before,
	      "a write to protected code is dropped, and the guest goes on after it");
	check(probe_store32(&table[1], 0xBADBAD) == PROBE_NO_FAULT && table[1] == 0x7AB1E001,
	      "a write to the protected table is dropped");
	check(table[0] == 0x7AB1E000 && table[2] == 0x7AB1E002, "the table reads as before");

	check(probe_write_cr0(guest_read_cr0() & ~CR0_WP) == PROBE_NO_FAULT,
	      "MOV to CR0 clearing WP completes without a fault");
	check(guest_read_cr0() & CR0_WP, "CR0.WP is still set");
	check(probe_write_cr0(guest_read_cr0() | CR0_MP) == PROBE_NO_FAULT &&
		      (guest_read_cr0() & CR0_MP),
	      "an unpinned CR0 bit (MP) is still the guest's to change");
	probe_write_cr0(guest_read_cr0() & ~CR0_MP);
	check(probe_write_cr4(guest_read_cr4() & ~CR4_SMEP) == PROBE_NO_FAULT,
	      "MOV to CR4 clearing SMEP completes without a fault");
	check(guest_read_cr4() & CR4_SMEP, "CR4.SMEP is still set");

	/* Paging is off: the fetch from a page without execute is #GP(0). */
	int vector = probe_call(no_exec);
	check(vector == VEC_GP && probe_error_code == 0 && probe_fault_eip == (uintptr_t)no_exec,
	      "a call into the page without execute faults (#GP(0) at its first byte)");
	if (vector != VEC_GP)
		say("  got %s, error code 0x%x, EIP 0x%x", vector_name(vector), probe_error_code,
		    probe_fault_eip);
	check(no_exec[0] == 0xC3, "that page is still readable and holds its RET");

	log_page[5] = 0x5EE;
	check(log_page[5] == 0x5EE, "a write to the log page goes through");
}

static void pin_msrs(void)
{
	uint64_t value = 0;

	check(probe_wrmsr(MSR_SYSENTER_EIP, 0x100000) == PROBE_NO_FAULT &&
		      guest_vmcall(HC_PIN_MSR, MSR_SYSENTER_EIP, 0, 0, 0) == HC_OK,
	      "HC_PIN_MSR pins IA32_SYSENTER_EIP");
	check(probe_wrmsr(MSR_SYSENTER_EIP, 0xBAD000) == PROBE_NO_FAULT &&
		      probe_rdmsr(MSR_SYSENTER_EIP, &value) == PROBE_NO_FAULT && value == 0x100000,
	      "WRMSR IA32_SYSENTER_EIP completes, and the pinned value stays");
	if (!(guest_cpuid(0x80000001, 0).edx & CPUID80000001_EDX_NX))
		return;
	probe_rdmsr(MSR_EFER, &value);
	check(probe_wrmsr(MSR_EFER, value | EFER_NXE) == PROBE_NO_FAULT &&
		      guest_vmcall(HC_PIN_MSR, MSR_EFER, 0, 0, 0) == HC_OK,
	      "HC_PIN_MSR pins IA32_EFER.NXE");
	check(probe_wrmsr(MSR_EFER, value & ~EFER_NXE) == PROBE_NO_FAULT &&
		      probe_rdmsr(MSR_EFER, &value) == PROBE_NO_FAULT && (value & EFER_NXE),
	      "WRMSR IA32_EFER clearing NXE completes, and NXE stays set");
}

static void read_events(void)
{
	check(guest_vmcall(HC_PROTECT_EVENTS, (uint32_t)(uintptr_t)table, 1, 0, 0) == HC_EFAULT,
	      "HC_PROTECT_EVENTS into the protected table is EFAULT");
	int32_t waiting = guest_vmcall(HC_PROTECT_EVENTS, 0, 0, 0, 0);
	int32_t n = guest_vmcall(HC_PROTECT_EVENTS, (uint32_t)(uintptr_t)events, 32, 0, 0);
	say("%d event(s) waiting, %d read", waiting, n);
	check(n > 0 && n == waiting, "HC_PROTECT_EVENTS returns the events that were waiting");
	for (int i = 0; i < n; i++)
		say("  event %u: kind %u address 0x%x access %u action %u rip 0x%x repeats %u",
		    (unsigned)events[i].sequence, events[i].kind, (unsigned)events[i].address,
		    events[i].access, events[i].action, (unsigned)events[i].rip, events[i].repeats);
	unsigned count = n > 0 ? (unsigned)n : 0;
	const struct hc_protect_event *e =
		find_event(count, HC_EVENT_MEMORY, (uintptr_t)guest_main, HC_ACTION_DROPPED);
	check(e && e->access == HC_PROT_WRITE && e->linear == (uintptr_t)guest_main,
	      "event: the write to the code, dropped");
	check(find_event(count, HC_EVENT_MEMORY, (uintptr_t)&table[1], HC_ACTION_DROPPED),
	      "event: the write to the table, dropped");
	check(find_event(count, HC_EVENT_CR, 0, HC_ACTION_KEPT), "event: CR0 write, WP kept");
	check(find_event(count, HC_EVENT_CR, 4, HC_ACTION_KEPT), "event: CR4 write, SMEP kept");
	e = find_event(count, HC_EVENT_MEMORY, (uintptr_t)no_exec, HC_ACTION_FAULTED);
	check(e && e->access == HC_PROT_EXEC && e->rip == (uintptr_t)no_exec,
	      "event: the fetch from the page without execute, faulted");
	check(find_event(count, HC_EVENT_MEMORY, (uintptr_t)&log_page[5], HC_ACTION_ALLOWED),
	      "event: the write to the log page, let through");
	check(find_event(count, HC_EVENT_MSR, MSR_SYSENTER_EIP, HC_ACTION_KEPT),
	      "event: the WRMSR IA32_SYSENTER_EIP, kept");
	check(guest_vmcall(HC_PROTECT_EVENTS, 0, 0, 0, 0) == 0, "the events read are gone");
}

/* Nothing the guest does lifts a protection: asking for more changes nothing. */
static void try_to_lift(void)
{
	check(hc_protect(table, PAGE_SIZE, HC_PROT_READ | HC_PROT_WRITE | HC_PROT_EXEC,
			 HC_POLICY_LOG) == HC_OK,
	      "HC_PROTECT asking the table back read/write/execute is accepted");
	check(probe_store32(&table[1], 0xBADBAD) == PROBE_NO_FAULT && table[1] == 0x7AB1E001,
	      "yet a write to the table is still dropped (protection only narrows)");
	check(guest_vmcall(HC_PIN_CR, 0, CR0_WP, 0, 0) == HC_OK &&
		      probe_write_cr0(guest_read_cr0() & ~CR0_WP) == PROBE_NO_FAULT &&
		      (guest_read_cr0() & CR0_WP),
	      "pinning CR0.WP again keeps it pinned");
	guest_vmcall(HC_PROTECT_EVENTS, (uint32_t)(uintptr_t)events, 32, 0, 0);
}

/* The cost of a `log` write: EPT violation, MTF exit and re-protect. */
static void measure_log_write(void)
{
	uint64_t start = guest_rdtsc();
	for (unsigned i = 0; i < LOG_WRITES; i++)
		log_page[7] = i;
	uint64_t ticks = guest_rdtsc() - start;
	say("protect: log write %u TSC ticks each (%u writes)", (unsigned)(ticks / LOG_WRITES),
	    LOG_WRITES);
	check(log_page[7] == LOG_WRITES - 1, "every log write went through");
	int32_t n = guest_vmcall(HC_PROTECT_EVENTS, (uint32_t)(uintptr_t)events, 32, 0, 0);
	check(n == 1 && events[0].repeats == LOG_WRITES,
	      "the log writes from one instruction are one event with its repeat count");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	traps_init();
	say("protect guest: started");
	if ((info->flags & 4) && cmdline_has_word((const char *)(uintptr_t)info->cmdline, "stop")) {
		run_stop_case();
		return 1;
	}
	check_arguments();
	protect_and_pin();
	attack();
	pin_msrs();
	read_events();
	try_to_lift();
	measure_log_write();
	guest_vmcall(HC_EXIT_STATS, 0, 0, 0, 0);
	say("protect guest: done, %u failure(s)", failures());
	return (int)failures();
}
