/*
 * The seam between the two halves of cvisor.ko:
 *   module.c        Linux side: built by Kbuild with the kernel's headers;
 *                   runs only in normal kernel context.
 *   cvisor_glue.c   cvisor side: freestanding, built with the core; it is
 *                   the core's platform (core/platform.h) and the only code,
 *                   with the core, that runs in VMX root operation.
 * Only plain C types cross it, so neither side includes the other's headers.
 */
#ifndef CVISOR_LINUX_BRIDGE_H
#define CVISOR_LINUX_BRIDGE_H

#define CVISOR_LINUX_MAX_RAM_RANGES 64
#define CVISOR_LINUX_MAX_CPUS 256
#define CVISOR_LOG_RING_SIZE 16384 /* bytes per CPU, a power of two */
#define CVISOR_LINUX_MAX_SELF_RANGES 128 /* physical ranges of cvisor.ko protect=1 protects */

/*
 * The pages of every writable variable of the core and of cvisor_glue.c
 * (platform/linux/cvisor-core.lds): page aligned, holding nothing else.
 */
extern char cvisor_state_start[], cvisor_state_end[];

/* Set up once at load, in normal kernel context, before any CPU is virtualized. */
struct cvisor_linux_setup {
	void *pool;                          /* physically contiguous, zeroed */
	unsigned long long pool_phys;
	unsigned long pool_pages;
	unsigned long long direct_map_base;  /* PAGE_OFFSET: virt = phys + base */
	unsigned cpu_count;                  /* CPU numbers 0 .. cpu_count-1 */
	unsigned long long ram[CVISOR_LINUX_MAX_RAM_RANGES][2]; /* [start, end) */
	unsigned ram_count;
	/* Where plat_eoi writes: MSR 0x80B when Linux runs the local APIC in
	 * x2APIC mode, else apic_eoi_mmio, the EOI register in the kernel's
	 * own xAPIC mapping (its fixmap, which cvisor's page table shares). */
	int x2apic;
	unsigned long long apic_eoi_mmio;
	/* Time (platform.h): the TSC's rate, and the wall clock (seconds since
	 * 1970, UTC) when the TSC read wall_clock_tsc. */
	unsigned long long tsc_hz;
	unsigned long long wall_clock_seconds, wall_clock_tsc;
	/*
	 * protect=1 (README, "Protecting the running kernel"): the kernel's
	 * text and read-only data as physical ranges [start, end), page
	 * aligned; text_deny: `deny` rather than `log` for the text; the
	 * first linear address of the kernel half, through which writes to
	 * the text are refused (text_poke writes through its lower-half mm).
	 */
	int protect;
	unsigned long long protect_text[2], protect_rodata[2];
	int protect_text_deny;
	unsigned long long kernel_half_start;
	/*
	 * cvisor.ko itself under protect=1, as physical ranges [start, end),
	 * page aligned (the module's memory is not physically contiguous):
	 * its code and read-only data (the text's policy), and its state, the
	 * pages from cvisor_state_start to cvisor_state_end (`deny`).
	 */
	unsigned long long protect_self_code[CVISOR_LINUX_MAX_SELF_RANGES][2];
	unsigned protect_self_code_count;
	unsigned long long protect_self_state[CVISOR_LINUX_MAX_SELF_RANGES][2];
	unsigned protect_self_state_count;
};

/* One CPU's log ring: written only by that CPU (root mode or its own
 * virtualize path), read by module.c, which keeps its own read position. */
struct cvisor_log_ring {
	unsigned long long head;             /* bytes ever written */
	char bytes[CVISOR_LOG_RING_SIZE];
};

/* Implemented by cvisor_glue.c. */
/* On the calling CPU: 0 when it is an Intel CPU with VMX that firmware
 * allows and nobody uses, else a vmx_error number (see the message). */
int cvisor_linux_check_cpu(void);
/* NULL on success, else one sentence; nothing is left allocated on failure. */
const char *cvisor_linux_init(const struct cvisor_linux_setup *setup);
/* On the calling CPU, interrupts off: 0 or a vmx_error number. */
int cvisor_linux_virtualize_this_cpu(unsigned long long gdt_writable_alias);
/* On the calling CPU, interrupts off: 0 when it left VMX operation. */
long long cvisor_linux_devirtualize_this_cpu(void);
int cvisor_linux_cpu_virtualized(unsigned cpu);
const char *cvisor_linux_error_message(int error);
const char *cvisor_linux_error_name(int error);
/* The error says another hypervisor (KVM, say) has VMX on this CPU. */
int cvisor_linux_error_means_busy(int error);
const struct cvisor_log_ring *cvisor_linux_log_ring(unsigned cpu);
unsigned cvisor_linux_exit_reason_count(void);
const char *cvisor_linux_exit_reason_name(unsigned reason);
unsigned long long cvisor_linux_exit_count(unsigned cpu, unsigned reason);
/* Protection events (protect=1), counted by vCPU and action. */
unsigned cvisor_linux_protect_action_count(void);
const char *cvisor_linux_protect_action_name(unsigned action);
unsigned long long cvisor_linux_protect_count(unsigned cpu, unsigned action);
/* The index-th event kept (oldest first) as one line of text without a
 * newline, in buf; its length, or -1 past the last one. Read without a lock
 * (the kernel cannot take cvisor's, which it cannot write): an event written
 * meanwhile may show torn. */
int cvisor_linux_protect_event_text(unsigned index, char *buf, unsigned len);
/* The address of the core's exit trace flag (exit/exit.h, exit_trace), one
 * of the variables in cvisor's state pages: debugfs protect_self names it
 * for the test bed's attack on it. */
unsigned long long cvisor_linux_trace_flag_address(void);
/* True when this CPU runs under cvisor already (CPUID leaf 0x40000000). */
int cvisor_linux_running_under_cvisor(void);
/* After every CPU was devirtualized: forget the pool (module.c frees it). */
void cvisor_linux_fini(void);
/*
 * debugfs platform_check, in process context with CPU hotplug held off:
 * plat_run_on_all_cpus with a function that counts in runs[cpu] each call
 * it gets on CPU cpu (runs is kernel memory: the function runs as the
 * kernel, which cannot write cvisor's), then plat_send_ipi(cpu, vector) to
 * every CPU it ran on.
 */
void cvisor_linux_platform_check(unsigned vector, unsigned *runs);

/* Implemented by module.c; safe in VMX root operation (no locks, no calls
 * into the kernel beyond a per-CPU read). */
unsigned cvisor_linux_this_cpu(void);

/*
 * Implemented by module.c with Linux's own code: never to be called in VMX
 * root operation (cvisor_glue.c refuses there).  Each reports a bad call
 * itself with one kernel log line and then does nothing.
 */
/* Any kernel context: a fixed IPI through Linux's APIC driver (apic->send_IPI). */
void cvisor_linux_send_ipi(unsigned cpu, unsigned vector);
/* Process context, interrupts on: fn(cpu, arg) on every online CPU at once
 * (Linux's on_each_cpu), the calling CPU included; returns when all have. */
void cvisor_linux_run_on_all_cpus(void (*fn)(unsigned cpu, void *arg), void *arg);

#endif
