/*
 * core/platform.h for the Linux module, and the cvisor side of bridge.h.
 * Freestanding like the core: no kernel header, no kernel call except
 * cvisor_linux_this_cpu(), because this code also runs in VMX root
 * operation, where the kernel is a guest that may be stopped anywhere.
 *
 * Memory: one physically contiguous pool that module.c allocates at load;
 * every cvisor structure (VMXON regions, VMCSs, bitmaps, EPT tables, host
 * stacks and descriptor tables, log rings) comes from it, and the identity
 * EPT maps all of it read-only to the kernel.
 */
#include "bridge.h"

#include "descriptors.h"
#include "exit/exit.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/spinlock.h"
#include "mm/identity_map.h"
#include "mm/mtrr.h"
#include "platform.h"
#include "vm/hosted_os.h"
#include "vm/protect.h"
#include "vmx/caps.h"
#include "vmx/intrin.h"
#include "x86.h"
#include "vmx/vmx_names.h"

#define HOST_STACK_SIZE (16 * 1024)
#define PAGE_COUNT_FOR(bytes) (((bytes) + PAGE_SIZE - 1) / PAGE_SIZE)

/* Everything one CPU needs, in pool pages. */
struct linux_cpu {
	struct hosted_os_cpu pc;
	struct cpu_tables tables;
	struct cvisor_log_ring log;
	struct ist_stacks ist;
	uint8_t stack[HOST_STACK_SIZE] __attribute__((aligned(16)));
};

/* What all CPUs share, in pool pages. */
struct linux_shared {
	struct vm vm;
	struct identity_map map;
	struct mtrr_state mtrr;
	struct phys_range ram[CVISOR_LINUX_MAX_RAM_RANGES];
	struct phys_range protect[1];
	struct desc_ptr idtr;
};

/* The pool (written only at load and unload; like every writable variable
 * here and in the core, in the state pages of cvisor-core.lds, which
 * protect=1 makes read-only to the kernel). */
static uint8_t *pool;
static uint64_t pool_phys, pool_pages, direct_map_base;
static uint8_t *pool_used;  /* one byte per page, in the pool itself */
static spinlock_t pool_lock;
static unsigned cpu_count;
static struct linux_cpu *cpus[CVISOR_LINUX_MAX_CPUS];
static struct linux_shared *shared;
static uint64_t *host_page_table;
/* The write window's page table (plat_write_phys): entry i maps CPU i's window page. */
static uint64_t *write_window_pt;
/* Linux's local APIC mode and EOI register (bridge.h), for plat_eoi. */
static bool apic_x2apic;
static volatile uint32_t *apic_eoi_register;

/* ---- core/platform.h ---- */

void *plat_alloc_pages(size_t count, size_t align_pages)
{
	void *result = NULL;

	if (!pool || !count || !align_pages)
		return NULL;
	spin_lock(&pool_lock);
	uint64_t first_aligned = (align_pages - (pool_phys / PAGE_SIZE) % align_pages) % align_pages;
	for (uint64_t i = first_aligned; i + count <= pool_pages; i += align_pages) {
		uint64_t j = 0;
		while (j < count && !pool_used[i + j])
			j++;
		if (j == count) {
			memset(pool_used + i, 1, count);
			result = pool + i * PAGE_SIZE;
			break;
		}
	}
	spin_unlock(&pool_lock);
	if (result)
		memset(result, 0, count * PAGE_SIZE);
	return result;
}

void plat_free_pages(void *first, size_t count)
{
	uint64_t index = ((uint8_t *)first - pool) / PAGE_SIZE;

	if (!first || (uint8_t *)first < pool || index + count > pool_pages)
		return;
	spin_lock(&pool_lock);
	memset(pool_used + index, 0, count);
	spin_unlock(&pool_lock);
}

void *plat_alloc_page(void)
{
	return plat_alloc_pages(1, 1);
}

void plat_free_page(void *page)
{
	plat_free_pages(page, 1);
}

uint64_t plat_virt_to_phys(const void *virt)
{
	const uint8_t *p = virt;

	if (pool && p >= pool && p < pool + pool_pages * PAGE_SIZE)
		return pool_phys + (uint64_t)(p - pool);
	/* Anything else cvisor hands to the CPU lives in the kernel's direct map. */
	return (uint64_t)(uintptr_t)virt - direct_map_base;
}

void *plat_phys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)(phys + direct_map_base);
}

/*
 * cvisor's write window, in the lower half of its own page table (the
 * kernel's half is a copy of the kernel's, whose direct map has its text and
 * read-only data read-only): one page per CPU at WRITE_WINDOW_BASE, pointed
 * at the page to write, written, pointed nowhere again.  Supervisor
 * (U/S = 0) so SMAP and SMEP do not apply (SDM Vol. 3A 4.6), not global,
 * and PAT/PCD/PWT 0: write-back under the MTRRs, as the direct map maps RAM
 * (Vol. 3A 11.12.3).  INVLPG drops the old translation of the window before
 * and after each use (Vol. 3A 4.10.4.1).  Root operation runs with
 * interrupts off and NMIs only set a flag there, so a window is never used
 * twice at once.
 */
#define WRITE_WINDOW_BASE 0x200000ULL /* (PML5 0,) PML4 0, PDPT 0, PD 1 */
_Static_assert(CVISOR_LINUX_MAX_CPUS <= 512, "one write window page table holds 512 CPUs");

static bool in_root_operation(void);

static void *write_window_of(unsigned cpu)
{
	return (void *)(uintptr_t)(WRITE_WINDOW_BASE + (uint64_t)cpu * PAGE_SIZE);
}

/* Entry 0 of each level below the top down to the page directory (one more
 * with 5-level paging, CR4.LA57: SDM Vol. 3A 4.5), whose entry 1 is the
 * window's page table. */
static bool build_write_window(void)
{
	unsigned levels_to_pd = (read_cr4() & CR4_LA57) ? 3 : 2;
	uint64_t *table = host_page_table;

	for (unsigned i = 0; i < levels_to_pd; i++) {
		uint64_t *next = plat_alloc_page();
		if (!next)
			return false;
		table[0] = plat_virt_to_phys(next) | PTE_P | PTE_RW;
		table = next;
	}
	write_window_pt = plat_alloc_page();
	if (!write_window_pt)
		return false;
	table[WRITE_WINDOW_BASE >> 21] = plat_virt_to_phys(write_window_pt) | PTE_P | PTE_RW;
	return true;
}

/*
 * A writable view of host-physical phys: in root operation the CPU's write
 * window, mapped for this one access (end_write_view takes it away); in
 * kernel context (the module's load and unload, on pages cvisor owns) the
 * direct map, as the kernel itself would write.
 */
static uint8_t *begin_write_view(uint64_t phys, bool *windowed)
{
	unsigned cpu = plat_this_cpu();

	*windowed = in_root_operation() && cpu < cpu_count;
	if (!*windowed)
		return plat_phys_to_virt(phys);
	uint8_t *window = write_window_of(cpu);
	uint64_t nx = (rdmsr(MSR_IA32_EFER) & EFER_NXE) ? PTE_NX : 0;
	write_window_pt[cpu] = (phys & PTE_ADDR_52) | PTE_P | PTE_RW | nx;
	invlpg(window);
	return window + (phys & ~PAGE_MASK);
}

static void end_write_view(bool windowed)
{
	if (!windowed)
		return;
	unsigned cpu = plat_this_cpu();
	write_window_pt[cpu] = 0;
	invlpg(write_window_of(cpu));
}

void plat_write_phys(uint64_t phys, const void *src, size_t len)
{
	bool windowed;
	uint8_t *dst = begin_write_view(phys, &windowed);

	if (src)
		memcpy(dst, src, len);
	else
		memset(dst, 0, len);
	end_write_view(windowed);
}

bool plat_cmpxchg_phys(uint64_t phys, unsigned size, uint64_t expected, uint64_t desired)
{
	bool windowed, swapped;
	uint8_t *dst = begin_write_view(phys, &windowed);

	if (size == 8) {
		swapped = __atomic_compare_exchange_n((uint64_t *)dst, &expected, desired, false,
						      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	} else {
		uint32_t old32 = (uint32_t)expected;
		swapped = __atomic_compare_exchange_n((uint32_t *)dst, &old32, (uint32_t)desired,
						      false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	end_write_view(windowed);
	return swapped;
}

/* Each CPU appends to its own ring: no lock, whatever context it runs in. */
void plat_console_write(const char *text, size_t len)
{
	unsigned cpu = plat_this_cpu();
	if (cpu >= cpu_count || !cpus[cpu])
		return;
	struct cvisor_log_ring *ring = &cpus[cpu]->log;
	uint64_t head = ring->head;
	for (size_t i = 0; i < len; i++)
		ring->bytes[(head + i) % CVISOR_LOG_RING_SIZE] = text[i];
	__atomic_store_n(&ring->head, head + len, __ATOMIC_RELEASE);
}

unsigned plat_cpu_count(void)
{
	return cpu_count;
}

unsigned plat_this_cpu(void)
{
	return cvisor_linux_this_cpu();
}

/*
 * True in VMX root operation, where the kernel is a guest stopped at any
 * instruction and must not be called: a VM exit (and any exception taken
 * in root operation) runs on cvisor's own page table, which the kernel
 * itself never loads (hosted_os_host.cr3).
 */
static bool in_root_operation(void)
{
	return host_page_table &&
	       (read_cr3() & 0x000FFFFFFFFFF000ULL) == plat_virt_to_phys(host_page_table);
}

/*
 * plat_run_on_all_cpus and plat_send_ipi run Linux's own code (module.c):
 * they are for the module's paths, in kernel context, and are refused with
 * one line in root operation, where only type-1 paths would call them.
 * Only that refusal uses the log ring: in kernel context on a virtualized
 * CPU the ring is read-only, so module.c reports bad calls itself.
 *
 * fn(cpu, arg) runs on each online CPU at once, the calling one included,
 * with interrupts off and cpu = plat_this_cpu() (Linux's CPU id); this
 * returns when every one has returned.  Offline CPUs are skipped, as the
 * type-1 platform skips CPUs that did not start.  fn runs as the kernel
 * (on a virtualized CPU, in VMX non-root operation, where cvisor's memory
 * is read-only).  Process context with interrupts on only (module.c checks).
 */
void plat_run_on_all_cpus(void (*fn)(unsigned cpu, void *arg), void *arg)
{
	if (in_root_operation()) {
		log_printf("cvisor: CPU %u: plat_run_on_all_cpus refused: it needs Linux's "
			   "on_each_cpu, which VMX root operation must not call\n",
			   plat_this_cpu());
		return;
	}
	cvisor_linux_run_on_all_cpus(fn, arg);
}

/* A fixed IPI with this vector to CPU cpu (Linux's CPU id), through Linux's
 * APIC driver, from any kernel context; refused in root operation, where
 * Linux's APIC driver may be mid-send (xAPIC ICR is two writes). */
void plat_send_ipi(unsigned cpu, uint8_t vector)
{
	if (in_root_operation()) {
		log_printf("cvisor: CPU %u: IPI vector %u to CPU %u refused: it needs Linux's APIC "
			   "driver, which VMX root operation must not call\n",
			   plat_this_cpu(), vector, cpu);
		return;
	}
	cvisor_linux_send_ipi(cpu, vector);
}

/* The module's vCPUs are the hosted OS itself: a CPU never runs out of
 * work there (core/vm/hosted_os.c runs it until unload; nothing calls
 * schedule_round_robin), so sleeping is never asked for.  Should it be, a
 * PAUSE is a correct answer: plat_idle_until may return early. */
void plat_idle_until(uint64_t tsc_deadline)
{
	(void)tsc_deadline;
	cpu_relax();
}

/* One write to this CPU's local APIC, the way Linux's own driver does it
 * (MSR or its fixmap mapping, bridge.h): no kernel code runs, so it is
 * legal anywhere, VMX root operation included, where its caller
 * (handle_external_interrupt) runs. */
/* Time, as Linux gave it at load (bridge.h): the wall clock carried
 * forward with the TSC, which needs no kernel code in root operation. */
static uint64_t tsc_hz, wall_clock_seconds, wall_clock_tsc;

uint64_t plat_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t plat_unix_time(void)
{
	return wall_clock_seconds + (rdtsc() - wall_clock_tsc) / tsc_hz;
}

void plat_eoi(void)
{
	if (apic_x2apic)
		wrmsr(0x80B, 0); /* IA32_X2APIC_EOI (SDM Vol. 3A 11.12.1.2) */
	else if (apic_eoi_register)
		*apic_eoi_register = 0;
}

_Noreturn void plat_panic(const char *reason)
{
	log_printf("cvisor: CPU %u stopped: %s\n", plat_this_cpu(), reason);
	irq_disable();
	for (;;)
		cpu_halt();
}

/*
 * Exceptions in VMX root operation (platform/x86/isr.S).  An NMI belongs to
 * the kernel: it is injected at the next VM entry (NMI exiting is off, so
 * an NMI that arrives in root operation lands here, SDM Vol. 3C 26.2).
 * Anything else is a cvisor bug: it is reported and this CPU stops.
 */
void exception_handler(struct exception_frame *frame)
{
	unsigned cpu = plat_this_cpu();

	if (frame->vector == 2 && cpu < cpu_count && cpus[cpu]) {
		__atomic_store_n(&cpus[cpu]->pc.vcpu.pending.nmi, 1, __ATOMIC_RELEASE);
		return;
	}
	log_printf("cvisor: CPU %u: exception %llu (error code 0x%llx) in VMX root operation at "
		   "RIP 0x%llx\n",
		   cpu, (unsigned long long)frame->vector, (unsigned long long)frame->error_code,
		   (unsigned long long)frame->rip);
	plat_panic("exception in VMX root operation");
}

/* ---- bridge.h ---- */

/*
 * cvisor's own page table for root operation: a copy of the kernel's top
 * level, kernel half only (the lower levels are shared; the kernel never
 * changes its top-level kernel entries after boot), and in the lower half
 * cvisor's write window (plat_write_phys).
 */
static bool build_host_page_table(void)
{
	const uint64_t *os = plat_phys_to_virt(read_cr3() & 0x000FFFFFFFFFF000ULL);

	host_page_table = plat_alloc_page();
	if (!host_page_table)
		return false;
	for (unsigned i = 256; i < 512; i++)
		host_page_table[i] = os[i];
	return build_write_window();
}

static void forget_pool(void)
{
	pool = NULL;
	pool_used = NULL;
	shared = NULL;
	host_page_table = NULL;
	write_window_pt = NULL;
	for (unsigned i = 0; i < CVISOR_LINUX_MAX_CPUS; i++)
		cpus[i] = NULL;
	cpu_count = 0;
}

static const char *protect_error_text(enum protect_result r)
{
	switch (r) {
	case PROTECT_OK:
		return NULL;
	case PROTECT_EFAULT:
		return "protect=1: a kernel range is not System RAM";
	case PROTECT_ENOMEM:
		return "protect=1: no memory for the protected ranges' EPT tables";
	default:
		return "protect=1: a kernel range or its permissions were refused";
	}
}

static bool overlaps_pool(const unsigned long long range[2])
{
	return range[0] < pool_phys + pool_pages * PAGE_SIZE && pool_phys < range[1];
}

/* Narrows each of count physical ranges of cvisor.ko; NULL or why not. */
static const char *protect_self(struct vm *vm, const struct vmx_caps *caps,
				const unsigned long long (*ranges)[2], unsigned count, unsigned perms,
				unsigned policy)
{
	if (count > CVISOR_LINUX_MAX_SELF_RANGES)
		return "protect=1: cvisor.ko's own memory is in too many pieces";
	for (unsigned i = 0; i < count; i++) {
		if (ranges[i][0] >= ranges[i][1] || (ranges[i][0] | ranges[i][1]) & ~PAGE_MASK)
			return "protect=1: cvisor.ko's own memory must be in whole pages";
		if (overlaps_pool(ranges[i]))
			return "protect=1: cvisor.ko's own memory overlaps its pool";
		const char *why = protect_error_text(protect_narrow(
			vm, caps, ranges[i][0], ranges[i][1] - ranges[i][0], perms, policy));
		if (why)
			return why;
	}
	return NULL;
}

/*
 * protect=1, before any CPU is virtualized (nothing has cached the EPT):
 * the kernel's read-only data `deny` (read and execute: the vDSO's code,
 * which every process executes, is an image in __ro_after_init data; the
 * kernel's own page tables keep the rest of it non-executable), its text
 * `log` (read and execute; `deny` with text_deny), writes to the text through a kernel-half
 * alias handled as `deny`, and CR0.WP, CR4.SMEP, CR4.SMAP and CR4.UMIP
 * pinned where this CPU has them set (Linux sets the same bits on every
 * CPU).  cvisor.ko's own pages too: its code and read-only data (which run
 * and are read in VMX root operation: the exit handlers and their tables)
 * with the text's policy, and its state pages (cvisor-core.lds) `deny`,
 * read-only: cvisor itself writes them only in root operation, or in
 * kernel context on a CPU that is not virtualized (load, a CPU coming
 * online, unload), which the EPT does not cover.  cvisor's pool must stay
 * out of every range (its pages are read-only to the kernel anyway, and a
 * range's permissions would replace that).
 */
static const char *protect_kernel(const struct cvisor_linux_setup *setup,
				  const struct vmx_caps *caps)
{
	struct vm *vm = &shared->vm;
	const unsigned long long *text = setup->protect_text, *rodata = setup->protect_rodata;

	if (text[0] >= text[1] || rodata[0] >= rodata[1] || (text[0] | text[1] | rodata[0] |
							      rodata[1]) & ~PAGE_MASK)
		return "protect=1: the kernel's text and rodata must be non-empty page-aligned ranges";
	if (overlaps_pool(text) || overlaps_pool(rodata))
		return "protect=1: a kernel range overlaps cvisor's own memory";
	unsigned text_policy = setup->protect_text_deny ? HC_POLICY_DENY : HC_POLICY_LOG;
	const char *why = protect_error_text(protect_narrow(
		vm, caps, text[0], text[1] - text[0], HC_PROT_READ | HC_PROT_EXEC, text_policy));
	if (!why)
		why = protect_error_text(protect_narrow(vm, caps, rodata[0], rodata[1] - rodata[0],
							HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_DENY));
	if (!why)
		why = protect_self(vm, caps, setup->protect_self_code, setup->protect_self_code_count,
				   HC_PROT_READ | HC_PROT_EXEC, text_policy);
	if (!why && !setup->protect_self_state_count)
		why = "protect=1: cvisor.ko's state pages were not given";
	if (!why)
		why = protect_self(vm, caps, setup->protect_self_state, setup->protect_self_state_count,
				   HC_PROT_READ, HC_POLICY_DENY);
	if (why)
		return why;
	vm->protect.log_deny_linear = true;
	vm->protect.log_deny_linear_first = setup->kernel_half_start;
	vm->protect.log_deny_linear_last = ~0ULL;
	vm->protect.cr0_pinned = read_cr0() & PROTECT_CR0_PINNABLE;
	vm->protect.cr4_pinned = read_cr4() & (CR4_SMEP | CR4_SMAP | CR4_UMIP) & caps->cr4_fixed1;
	/* The system-call entry points keep their value and EFER.NXE stays
	 * set (Linux writes the same values on every CPU: syscall_init). */
	uint64_t efer = rdmsr(MSR_IA32_EFER);
	if ((efer & EFER_NXE) && !protect_pin_msr_value(vm, MSR_IA32_EFER, efer))
		return "protect=1: EFER.NXE cannot be pinned";
	if (!protect_pin_msr_value(vm, MSR_IA32_LSTAR, rdmsr(MSR_IA32_LSTAR)) ||
	    !protect_pin_msr_value(vm, MSR_IA32_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP)))
		return "protect=1: IA32_LSTAR and IA32_SYSENTER_EIP cannot be pinned";
	/* `log` lets an instruction cvisor does not emulate through with the
	 * monitor trap flag; without it only the writes cvisor emulates
	 * (text_poke's MOV and MOVS) go through, and the rest are denied
	 * (exit/protect.c). */
	bool exact_log = vmx_control_allowed(caps, VMX_CONTROLS_PROC, PROC_MONITOR_TRAP_FLAG);
	log_printf("cvisor: protection: kernel text 0x%llx-0x%llx (%s), read-only data "
		   "0x%llx-0x%llx (deny), cvisor.ko code %u range(s) (%s) and state %u range(s) "
		   "(deny), pinned CR0 0x%llx CR4 0x%llx, IA32_LSTAR, IA32_SYSENTER_EIP%s%s\n",
		   text[0], text[1], setup->protect_text_deny ? "deny" : "log", rodata[0], rodata[1],
		   setup->protect_self_code_count, setup->protect_text_deny ? "deny" : "log",
		   setup->protect_self_state_count,
		   (unsigned long long)vm->protect.cr0_pinned,
		   (unsigned long long)vm->protect.cr4_pinned,
		   (efer & EFER_NXE) ? ", EFER.NXE" : "",
		   setup->protect_text_deny || exact_log
			   ? ""
			   : "; no monitor trap flag: a text write by an instruction cvisor does "
			     "not emulate is denied");
	return NULL;
}

int cvisor_linux_check_cpu(void)
{
	enum vmx_error err;

	if ((err = vmx_check_vendor()) != VMX_OK || (err = vmx_check_cpuid_vmx()) != VMX_OK ||
	    (err = vmx_check_not_in_use()) != VMX_OK || (err = vmx_enable_feature_control()) != VMX_OK)
		return err;
	return VMX_OK;
}

const char *cvisor_linux_init(const struct cvisor_linux_setup *setup)
{
	uint64_t used_pages = PAGE_COUNT_FOR(setup->pool_pages);

	if (setup->cpu_count == 0 || setup->cpu_count > CVISOR_LINUX_MAX_CPUS)
		return "cvisor supports 1 to 256 CPUs";
	if (setup->pool_pages <= used_pages)
		return "the memory pool is too small";
	pool = setup->pool;
	pool_phys = setup->pool_phys;
	pool_pages = setup->pool_pages;
	direct_map_base = setup->direct_map_base;
	/* The allocator's map sits in the first pages of the pool. */
	pool_used = pool;
	apic_x2apic = setup->x2apic != 0;
	apic_eoi_register = (volatile uint32_t *)(uintptr_t)setup->apic_eoi_mmio;
	tsc_hz = setup->tsc_hz ? setup->tsc_hz : 1000000000ULL;
	wall_clock_seconds = setup->wall_clock_seconds;
	wall_clock_tsc = setup->wall_clock_tsc;
	memset(pool_used, 0, pool_pages);
	memset(pool_used, 1, used_pages);

	shared = plat_alloc_pages(PAGE_COUNT_FOR(sizeof(*shared)), 1);
	if (!shared || !build_host_page_table())
		goto out_of_memory;
	for (unsigned i = 0; i < setup->cpu_count; i++) {
		cpus[i] = plat_alloc_pages(PAGE_COUNT_FOR(sizeof(struct linux_cpu)), 1);
		if (!cpus[i])
			goto out_of_memory;
	}
	cpu_count = setup->cpu_count;

	uint64_t map_end = 4ULL << 30; /* at least the 32-bit MMIO hole */
	unsigned nram = setup->ram_count < CVISOR_LINUX_MAX_RAM_RANGES ? setup->ram_count
								       : CVISOR_LINUX_MAX_RAM_RANGES;
	for (unsigned i = 0; i < nram; i++) {
		shared->ram[i].start = setup->ram[i][0];
		shared->ram[i].end = setup->ram[i][1];
		if (shared->ram[i].end > map_end)
			map_end = shared->ram[i].end;
	}
	map_end = (map_end + (1ULL << 30) - 1) & ~((1ULL << 30) - 1);
	shared->protect[0].start = pool_phys;
	shared->protect[0].end = pool_phys + pool_pages * PAGE_SIZE;
	mtrr_read(&shared->mtrr);
	shared->map.mtrr = &shared->mtrr;
	shared->map.protect = shared->protect;
	shared->map.protect_count = 1;
	struct vmx_caps caps;
	vmx_caps_read(&caps);
	shared->map.large_pages = ((caps.ept_vpid & EPT_CAP_PDE_2MB) ? VM_PAGES_2M : 0) |
				  ((caps.ept_vpid & EPT_CAP_PDPTE_1GB) ? VM_PAGES_1G : 0);
	const char *err = hosted_os_vm_create(&shared->vm, "linux", &shared->map, map_end,
						shared->ram, nram);
	if (err) {
		forget_pool();
		return err;
	}
	if (setup->protect && (err = protect_kernel(setup, &caps)) != NULL) {
		hosted_os_vm_destroy(&shared->vm);
		forget_pool();
		return err;
	}
	descriptors_build_idt(&shared->idtr);
	return NULL;

out_of_memory:
	forget_pool();
	return "the memory pool is too small for cvisor's structures";
}

int cvisor_linux_virtualize_this_cpu(unsigned long long gdt_writable_alias)
{
	unsigned cpu = plat_this_cpu();
	struct desc_ptr gdtr;

	if (cpu >= cpu_count)
		return VMX_ERR_NO_MEMORY;
	struct linux_cpu *lc = cpus[cpu];
	if (lc->pc.virtualized)
		return VMX_OK;
	descriptors_fill_cpu_tables(&lc->tables, &lc->ist, &gdtr);
	lc->pc.host = (struct hosted_os_host){
		.cr3 = plat_virt_to_phys(host_page_table),
		.gdtr_base = gdtr.base,
		.idtr_base = shared->idtr.base,
		.tr_base = (uint64_t)(uintptr_t)&lc->tables.tss,
		.cs_selector = GDT_SEL_CODE64,
		.data_selector = GDT_SEL_DATA,
		.tr_selector = GDT_SEL_TSS,
		.fs_base = 0,
		/* The kernel's per-CPU base, so cvisor_linux_this_cpu() works in root operation. */
		.gs_base = rdmsr(MSR_IA32_GS_BASE),
		.stack_top = (uint64_t)(uintptr_t)(lc->stack + HOST_STACK_SIZE),
	};
	lc->pc.gdt_writable_alias = gdt_writable_alias;
	return hosted_os_virtualize(&lc->pc, &shared->vm, cpu);
}

long long cvisor_linux_devirtualize_this_cpu(void)
{
	unsigned cpu = plat_this_cpu();

	if (cpu >= cpu_count || !cpus[cpu]->pc.virtualized)
		return 0;
	return hosted_os_devirtualize();
}

int cvisor_linux_cpu_virtualized(unsigned cpu)
{
	return cpu < cpu_count && cpus[cpu] &&
	       __atomic_load_n(&cpus[cpu]->pc.virtualized, __ATOMIC_ACQUIRE);
}

const char *cvisor_linux_error_message(int error)
{
	return vmx_error_message((enum vmx_error)error);
}

const char *cvisor_linux_error_name(int error)
{
	return vmx_error_name((enum vmx_error)error);
}

int cvisor_linux_error_means_busy(int error)
{
	return error == VMX_ERR_ALREADY_ON;
}

const struct cvisor_log_ring *cvisor_linux_log_ring(unsigned cpu)
{
	return cpu < cpu_count && cpus[cpu] ? &cpus[cpu]->log : NULL;
}

unsigned cvisor_linux_exit_reason_count(void)
{
	return EXIT_REASON_COUNT;
}

const char *cvisor_linux_exit_reason_name(unsigned reason)
{
	return vmx_exit_reason_symbol(reason);
}

unsigned long long cvisor_linux_exit_count(unsigned cpu, unsigned reason)
{
	if (cpu >= cpu_count || !cpus[cpu] || reason >= EXIT_REASON_COUNT)
		return 0;
	return cpus[cpu]->pc.vcpu.exit_counts[reason];
}

unsigned cvisor_linux_protect_action_count(void)
{
	return HC_ACTION_COUNT;
}

const char *cvisor_linux_protect_action_name(unsigned action)
{
	static const char *const names[HC_ACTION_COUNT] = {
		[HC_ACTION_ALLOWED] = "PROTECT_ALLOWED", [HC_ACTION_DROPPED] = "PROTECT_DROPPED",
		[HC_ACTION_FAULTED] = "PROTECT_FAULTED", [HC_ACTION_STOPPED] = "PROTECT_STOPPED",
		[HC_ACTION_KEPT] = "PROTECT_KEPT",
	};
	return action < HC_ACTION_COUNT ? names[action] : "PROTECT_?";
}

unsigned long long cvisor_linux_protect_count(unsigned cpu, unsigned action)
{
	if (cpu >= cpu_count || !cpus[cpu] || action >= HC_ACTION_COUNT)
		return 0;
	return __atomic_load_n(&cpus[cpu]->pc.vcpu.protect.actions[action], __ATOMIC_RELAXED);
}

int cvisor_linux_protect_event_text(unsigned index, char *buf, unsigned len)
{
	static const char *const kinds[] = { "memory", "cr", "msr" };
	static const char *const actions[HC_ACTION_COUNT] = {
		[HC_ACTION_ALLOWED] = "allowed", [HC_ACTION_DROPPED] = "dropped",
		[HC_ACTION_FAULTED] = "faulted", [HC_ACTION_STOPPED] = "stopped",
		[HC_ACTION_KEPT] = "kept",
	};
	if (!shared)
		return -1;
	const struct vm_protect *p = &shared->vm.protect;
	unsigned count = __atomic_load_n(&p->ring_count, __ATOMIC_ACQUIRE);
	unsigned first = __atomic_load_n(&p->ring_first, __ATOMIC_RELAXED);
	if (index >= count || count > PROTECT_EVENT_RING)
		return -1;
	struct hc_protect_event e = p->ring[(first + index) % PROTECT_EVENT_RING];
	const char *kind = e.kind < 3 ? kinds[e.kind] : "?";
	const char *action = e.action < HC_ACTION_COUNT ? actions[e.action] : "?";
	const char *access = e.access & HC_PROT_EXEC ? "fetch"
			     : e.access & HC_PROT_WRITE ? "write" : "read";
	if (e.kind == HC_EVENT_MEMORY)
		return fmt_snprintf(buf, len, "%llu cpu%u memory %s gpa 0x%llx linear 0x%llx rip 0x%llx "
				    "%s x%u", (unsigned long long)e.sequence, e.vcpu_id, access,
				    (unsigned long long)e.address, (unsigned long long)e.linear,
				    (unsigned long long)e.rip, action, e.repeats);
	return fmt_snprintf(buf, len, "%llu cpu%u %s %s%llx value 0x%llx rip 0x%llx %s x%u",
			    (unsigned long long)e.sequence, e.vcpu_id, kind,
			    e.kind == HC_EVENT_CR ? "CR" : "0x", (unsigned long long)e.address,
			    (unsigned long long)e.value, (unsigned long long)e.rip, action, e.repeats);
}

unsigned long long cvisor_linux_trace_flag_address(void)
{
	return (unsigned long long)(uintptr_t)&exit_trace;
}

int cvisor_linux_running_under_cvisor(void)
{
	return hosted_os_running_under_cvisor();
}

static void count_run(unsigned cpu, void *arg)
{
	unsigned *runs = arg;

	if (cpu == plat_this_cpu() && cpu < CVISOR_LINUX_MAX_CPUS)
		__atomic_fetch_add(&runs[cpu], 1, __ATOMIC_RELAXED);
}

void cvisor_linux_platform_check(unsigned vector, unsigned *runs)
{
	plat_run_on_all_cpus(count_run, runs);
	for (unsigned cpu = 0; cpu < cpu_count; cpu++)
		if (runs[cpu])
			plat_send_ipi(cpu, (uint8_t)vector);
}

void cvisor_linux_fini(void)
{
	if (shared)
		hosted_os_vm_destroy(&shared->vm);
	forget_pool();
}
