/*
 * Finding and starting the other processors (see smp.h).
 *
 * References: Intel SDM Vol. 3A 9.4 "Multiple-Processor (MP)
 * Initialization" (9.4.4.1 "Typical BSP Initialization Sequence": INIT IPI,
 * 10 ms, start-up IPI, 200 us, start-up IPI), 11.6 "Issuing
 * Interprocessor Interrupts"; ACPI 6.5 5.2.12 "Multiple APIC Description
 * Table (MADT)".
 *
 * Each AP is started alone: the BSP fills the trampoline's parameter block
 * (stack, struct percpu), sends INIT-SIPI-SIPI and waits a bounded time for
 * the AP to say it is online; only then does it start the next one.  A CPU
 * that does not answer gets an INIT again (which parks it in
 * wait-for-SIPI) and is reported and skipped.
 *
 * The host never sets RFLAGS.IF, so a parked AP cannot sleep in HLT (only
 * an NMI, SMI or INIT would wake it): it spins with PAUSE on the job
 * counter.  MONITOR/MWAIT would be the better wait, but Bochs 2.7 misses
 * some MWAIT wake-ups by stores from other CPUs (tried: CPUs stayed asleep
 * after the store), so cvisor does not use it.
 */
#include "smp.h"

#include "acpi.h"
#include "apic.h"
#include "idle.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "smp_trampoline.h"
#include "timer.h"
#include "vmx/intrin.h"
#include "x86.h"


/* SDM Vol. 3A 9.4.4.1: the delays of the INIT-SIPI-SIPI sequence. */
#define INIT_DELAY_US  10000
#define SIPI_DELAY_US  200
/* How long an AP may take from the second SIPI to running C code.  It
 * needs a few microseconds on hardware, a few thousand instructions in Bochs. */
#define AP_ONLINE_TIMEOUT_US 100000

/* Real-mode addresses the trampoline page may take: above the IVT and BDA
 * page, below the EBDA; the memory map and the reserved ranges decide. */
#define TRAMPOLINE_PREFERRED_PA 0x8000
#define TRAMPOLINE_LOWEST_PA    0x1000
#define TRAMPOLINE_END_PA       0x9F000

/* What each AP gets, in one physically contiguous allocation (15 pages).
 * No guard pages (the boot page tables map 2 MiB pages): a stack overflow
 * runs into the IST stacks below it. */
struct ap_block {
	struct percpu pc;
	struct ist_stacks ist __attribute__((aligned(4096)));
	uint8_t stack[SMP_AP_STACK_SIZE] __attribute__((aligned(4096)));
};
#define AP_BLOCK_PAGES ((sizeof(struct ap_block) + PAGE_SIZE - 1) / PAGE_SIZE)

static struct percpu bsp_percpu;
static struct percpu *cpus[SMP_MAX_CPUS] = { &bsp_percpu };
static unsigned cpu_count = 1;
/* The BSP's CR0 and CR4 (without VMXE), given to every AP. */
static uint64_t ap_cr0, ap_cr4;

/* The job of plat_run_on_all_cpus.  generation and remaining sit on their
 * own cache lines: parked APs poll the first, the BSP the second. */
static struct {
	uint64_t generation __attribute__((aligned(64)));
	uint64_t remaining __attribute__((aligned(64)));
	void (*fn)(unsigned cpu, void *arg) __attribute__((aligned(64)));
	void *arg;
	bool running;
} job;

void smp_init_boot_cpu(void)
{
	struct cpuid_regs r;

	bsp_percpu.self = &bsp_percpu;
	bsp_percpu.cpu = 0;
	/* CPUID.1:EBX[31:24]: initial APIC ID, until the APIC is up. */
	cpuid(1, 0, &r);
	bsp_percpu.apic_id = r.ebx >> 24;
	bsp_percpu.online = 1;
	wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)&bsp_percpu);
}

unsigned plat_cpu_count(void)
{
	return cpu_count;
}

unsigned plat_this_cpu(void)
{
	return gs_read32(__builtin_offsetof(struct percpu, cpu));
}

/* Sleeps until *p no longer holds v: whoever changes it kicks this CPU
 * (IDLE_WAKE_VECTOR) after the store, and a kick that comes between the
 * load and the HLT still wakes it (plat_idle_until). */
static void wait_while_equal(const uint64_t *p, uint64_t v)
{
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) == v)
		plat_idle_until(0);
}

void plat_run_on_all_cpus(void (*fn)(unsigned cpu, void *arg), void *arg)
{
	if (plat_this_cpu() != 0)
		plat_panic("plat_run_on_all_cpus called on an application processor");
	if (job.running)
		plat_panic("plat_run_on_all_cpus called from inside plat_run_on_all_cpus");
	job.running = true;
	job.fn = fn;
	job.arg = arg;
	__atomic_store_n(&job.remaining, cpu_count - 1, __ATOMIC_RELAXED);
	/* Release: fn, arg and remaining are visible before the new generation. */
	__atomic_fetch_add(&job.generation, 1, __ATOMIC_RELEASE);
	for (unsigned cpu = 1; cpu < cpu_count; cpu++)
		plat_send_ipi(cpu, IDLE_WAKE_VECTOR); /* parked APs sleep (park) */

	fn(0, arg);

	/* The last AP to finish wakes this CPU (park). */
	while (__atomic_load_n(&job.remaining, __ATOMIC_ACQUIRE) != 0)
		plat_idle_until(0);
	job.running = false;
}

/* An online AP between jobs. */
static _Noreturn void park(struct percpu *pc, uint64_t seen)
{
	for (;;) {
		wait_while_equal(&job.generation, seen);
		seen = __atomic_load_n(&job.generation, __ATOMIC_ACQUIRE);
		job.fn(pc->cpu, job.arg);
		if (__atomic_sub_fetch(&job.remaining, 1, __ATOMIC_RELEASE) == 0)
			plat_send_ipi(0, IDLE_WAKE_VECTOR); /* the BSP sleeps until then */
	}
}

_Noreturn void smp_ap_entry(struct percpu *pc)
{
	struct ap_block *blk = (struct ap_block *)pc;

	/* The same control registers as the BSP (the trampoline already set
	 * PE, PG, WP and NE and cleared CD and NW, as entry.S does). */
	write_cr0(ap_cr0);
	write_cr4(ap_cr4);
	descriptors_init_ap(&pc->tables, &blk->ist);
	wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)pc);
	apic_init_ap();
	uint32_t id = apic_id();
	if (id != pc->apic_id)
		log_printf("cvisor: CPU %u reports APIC ID %u, the MADT said %u\n", pc->cpu, id,
			   pc->apic_id);
	uint64_t seen = __atomic_load_n(&job.generation, __ATOMIC_ACQUIRE);
	__atomic_store_n(&pc->online, 1, __ATOMIC_RELEASE);
	park(pc, seen);
}

/* Identity map below 4 GiB (entry.S): physical == virtual.  Not inlined:
 * GCC would otherwise flag reads at small constant addresses (the BDA). */
__attribute__((noinline)) static const void *map_low_4g(uint64_t pa, uint64_t len, void *ctx)
{
	(void)ctx;
	if (pa == 0 || len == 0 || pa + len < pa || pa + len > PAGE_ALLOC_HIGH_LIMIT)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

/* The RSDP the boot loader handed over, else one in the EBDA or BIOS area. */
static uint64_t find_rsdp(const struct boot_info *info, const char **where)
{
	uint64_t pa;

	if (info->acpi_rsdp_pa) {
		*where = "the boot loader";
		return info->acpi_rsdp_pa;
	}
	/* ACPI 6.5 5.2.5.1: the first 1 KiB of the EBDA, whose segment is
	 * the word at 0x40E in the BIOS data area; then 0xE0000-0xFFFFF. */
	const uint16_t *bda_ebda = map_low_4g(ACPI_BDA_EBDA_SEGMENT_PA, 2, NULL);
	uint64_t ebda = (uint64_t)*bda_ebda << 4;
	if (ebda >= 0x80000 && ebda < 0xA0000) {
		pa = acpi_scan_rsdp(map_low_4g(ebda, ACPI_EBDA_SCAN_LENGTH, NULL),
				    ACPI_EBDA_SCAN_LENGTH, ebda);
		if (pa) {
			*where = "the EBDA";
			return pa;
		}
	}
	pa = acpi_scan_rsdp(map_low_4g(ACPI_BIOS_AREA_START,
				       ACPI_BIOS_AREA_END - ACPI_BIOS_AREA_START, NULL),
			    ACPI_BIOS_AREA_END - ACPI_BIOS_AREA_START, ACPI_BIOS_AREA_START);
	*where = "the BIOS area";
	return pa;
}

static bool overlaps(uint64_t a, uint64_t b, const struct mem_range *r)
{
	return a < r->end && r->start < b;
}

static bool page_usable_below_1m(uint64_t pa, const struct mem_range *ram, unsigned nram,
				 const struct mem_range *reserved, unsigned nres)
{
	bool in_ram = false;

	for (unsigned i = 0; i < nram; i++)
		if (ram[i].start <= pa && pa + PAGE_SIZE <= ram[i].end)
			in_ram = true;
	if (!in_ram)
		return false;
	for (unsigned i = 0; i < nres; i++)
		if (overlaps(pa, pa + PAGE_SIZE, &reserved[i]))
			return false;
	return true;
}

static uint64_t choose_trampoline_page(const struct mem_range *ram, unsigned nram,
				       const struct mem_range *reserved, unsigned nres)
{
	if (page_usable_below_1m(TRAMPOLINE_PREFERRED_PA, ram, nram, reserved, nres))
		return TRAMPOLINE_PREFERRED_PA;
	for (uint64_t pa = TRAMPOLINE_LOWEST_PA; pa < TRAMPOLINE_END_PA; pa += PAGE_SIZE)
		if (page_usable_below_1m(pa, ram, nram, reserved, nres))
			return pa;
	return 0;
}

/* Copies the trampoline to page pa; returns its parameter block. */
static struct ap_boot_params *install_trampoline(uint64_t pa)
{
	size_t size = (size_t)(ap_trampoline_end - ap_trampoline_start);
	size_t params_off = (size_t)(ap_trampoline_params - ap_trampoline_start);
	uint8_t *page = (uint8_t *)(uintptr_t)pa;
	struct ap_boot_params *p = (struct ap_boot_params *)(page + params_off);

	memcpy(page, ap_trampoline_start, size);
	*p = (struct ap_boot_params){ 0 };
	p->gdt[0] = 0;
	p->gdt[APB_SEL_CODE64 / 8] = 0x00AF9A000000FFFFULL;	/* 64-bit code, DPL 0 */
	p->gdt[APB_SEL_DATA / 8] = 0x00CF92000000FFFFULL;	/* flat data, 4 GiB */
	p->gdt[APB_SEL_CODE32 / 8] = 0x00CF9A000000FFFFULL;	/* flat 32-bit code */
	p->gdt_limit = sizeof(p->gdt) - 1;
	p->gdt_base = (uint32_t)(pa + params_off);
	p->far32_offset = (uint32_t)(pa + (uint64_t)(ap_protected_mode - ap_trampoline_start));
	p->far32_selector = APB_SEL_CODE32;
	p->far64_offset = (uint32_t)(uintptr_t)ap_entry64;
	p->far64_selector = APB_SEL_CODE64;
	p->cr3 = read_cr3();
	p->efer = rdmsr(MSR_IA32_EFER) & ~EFER_LMA;
	return p;
}

/* Starts the AP described by c as CPU cpu_count; true if it came online. */
static bool start_ap(const struct acpi_cpu *c, uint64_t tramp_pa, struct ap_boot_params *params)
{
	unsigned n = cpu_count;
	struct ap_block *blk = plat_alloc_pages(AP_BLOCK_PAGES, 1);
	uint32_t sipi = APIC_ICR_STARTUP | APIC_ICR_LEVEL_ASSERT | (uint32_t)(tramp_pa >> 12);
	bool accepted;

	if (!blk) {
		log_printf("cvisor: no memory for the CPU with APIC ID %u; not started\n", c->apic_id);
		return false;
	}
	struct percpu *pc = &blk->pc;
	pc->self = pc;
	pc->cpu = n;
	pc->apic_id = c->apic_id;
	pc->stack_top = (uint64_t)(uintptr_t)(blk->stack + SMP_AP_STACK_SIZE);
	params->stack = pc->stack_top;
	params->percpu = (uint64_t)(uintptr_t)pc;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	accepted = apic_send_ipi(c->apic_id, APIC_ICR_INIT | APIC_ICR_LEVEL_ASSERT);
	timer_delay_us(INIT_DELAY_US);
	accepted &= apic_send_ipi(c->apic_id, sipi);
	timer_delay_us(SIPI_DELAY_US);
	/* A second SIPI is ignored by an AP that already left wait-for-SIPI. */
	accepted &= apic_send_ipi(c->apic_id, sipi);

	uint64_t deadline = timer_deadline_us(AP_ONLINE_TIMEOUT_US);
	while (!__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE) && !timer_passed(deadline))
		cpu_relax();
	if (__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE)) {
		cpus[n] = pc;
		cpu_count = n + 1;
		log_printf("cvisor: CPU %u (APIC ID %u) started\n", n, c->apic_id);
		return true;
	}
	/* Park it for good wherever it got to (INIT -> wait-for-SIPI).  Its
	 * memory stays allocated: nothing else may ever land there. */
	apic_send_ipi(c->apic_id, APIC_ICR_INIT | APIC_ICR_LEVEL_ASSERT);
	log_printf("cvisor: the CPU with APIC ID %u (ACPI processor UID %u) did not start: %s; skipped\n",
		   c->apic_id, c->uid,
		   accepted ? "no answer 100 ms after INIT-SIPI-SIPI"
			    : "the local APIC did not accept the INIT or start-up IPI");
	return false;
}

static void print_madt_cpus(const struct acpi_madt_info *madt)
{
	char ids[LOG_LINE_MAX - 64];
	size_t n = 0;

	ids[0] = '\0';
	for (unsigned i = 0; i < madt->cpu_count; i++) {
		char one[16];
		size_t len = fmt_snprintf(one, sizeof(one), "%s%u", i ? " " : "", madt->cpus[i].apic_id);
		if (n + len + 5 > sizeof(ids)) {
			fmt_snprintf(ids + n, sizeof(ids) - n, " ...");
			break;
		}
		memcpy(ids + n, one, len + 1);
		n += len;
	}
	log_printf("cvisor: %u CPU(s) found in the ACPI MADT (APIC IDs %s)\n", madt->cpu_count, ids);
	if (madt->over_limit)
		log_printf("cvisor: %u more enabled CPU(s) in the MADT are past cvisor's limit of %u\n",
			   madt->over_limit, ACPI_MAX_CPUS);
	if (madt->invalid_ids || madt->duplicates)
		log_printf("cvisor: the MADT has %u enabled entr%s with an invalid or repeated APIC ID; ignored\n",
			   madt->invalid_ids + madt->duplicates,
			   madt->invalid_ids + madt->duplicates == 1 ? "y" : "ies");
}

/*
 * The legacy 8259 PICs: every IRQ masked (OCW1 = 0xFF to the data ports).
 * The host takes no device interrupts, and guests get an emulated PIC
 * (core/dev/pic8259.c), so nothing needs the real ones.
 */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1
static void mask_legacy_pics(void)
{
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
}

void smp_start(const struct boot_info *info, const struct mem_range *ram, unsigned nram,
	       const struct mem_range *reserved, unsigned nres)
{
	static struct acpi_madt_info madt;	/* 1 KiB: not on the boot stack */
	const char *where = "";
	const char *err;

	mask_legacy_pics();
	if ((err = apic_init_boot_cpu()) != NULL) {
		log_printf("cvisor: cannot use the local APIC: %s; running on the boot CPU only\n", err);
		return;
	}
	bsp_percpu.apic_id = apic_id();
	/* Before any AP starts: each programs its LVT timer in this mode. */
	timer_calibrate();
	switch (apic_timer_setup()) {
	case APIC_TIMER_TSC_DEADLINE:
		log_printf("cvisor: idle CPUs sleep (HLT); the local APIC timer wakes them in TSC-deadline mode\n");
		break;
	case APIC_TIMER_ONE_SHOT:
		log_printf("cvisor: idle CPUs sleep (HLT); the local APIC timer wakes them in one-shot mode\n");
		break;
	case APIC_TIMER_NONE:
		log_printf("cvisor: idle CPUs sleep (HLT) only until a kick: the local APIC timer did not count; "
			   "with a timer due they poll\n");
		break;
	}

	uint64_t rsdp = find_rsdp(info, &where);
	if (!rsdp) {
		log_printf("cvisor: no ACPI RSDP (none from the boot loader, none in the EBDA or BIOS area); running on the boot CPU only\n");
		return;
	}
	if ((err = acpi_read_madt(map_low_4g, NULL, rsdp, &madt)) != NULL) {
		log_printf("cvisor: cannot read the ACPI MADT (RSDP at 0x%llx from %s): %s; running on the boot CPU only\n",
			   (unsigned long long)rsdp, where, err);
		return;
	}
	print_madt_cpus(&madt);

	bool bsp_listed = false;
	for (unsigned i = 0; i < madt.cpu_count; i++)
		bsp_listed |= madt.cpus[i].apic_id == bsp_percpu.apic_id;
	if (!bsp_listed)
		log_printf("cvisor: the boot CPU's APIC ID %u is not in the MADT\n", bsp_percpu.apic_id);
	if (madt.cpu_count <= (bsp_listed ? 1u : 0u))
		return;

	uint64_t tramp_pa = choose_trampoline_page(ram, nram, reserved, nres);
	if (!tramp_pa) {
		log_printf("cvisor: no free RAM page below 640 KiB for the AP start-up code; running on the boot CPU only\n");
		return;
	}
	ap_cr0 = (read_cr0() | CR0_NE) & ~(CR0_CD | CR0_NW);
	ap_cr4 = read_cr4() & ~CR4_VMXE;
	struct ap_boot_params *params = install_trampoline(tramp_pa);

	for (unsigned i = 0; i < madt.cpu_count; i++) {
		const struct acpi_cpu *c = &madt.cpus[i];
		if (c->apic_id == bsp_percpu.apic_id)
			continue;
		if (cpu_count >= SMP_MAX_CPUS) {
			log_printf("cvisor: the CPU with APIC ID %u is past cvisor's limit of %u CPUs; skipped\n",
				   c->apic_id, SMP_MAX_CPUS);
			continue;
		}
		if (c->apic_id > apic_max_id()) {
			log_printf("cvisor: the CPU with APIC ID %u needs x2APIC mode, which the boot CPU is not in; skipped\n",
				   c->apic_id);
			continue;
		}
		start_ap(c, tramp_pa, params);
	}
}

void plat_send_ipi(unsigned cpu, uint8_t vector)
{
	if (vector < 32 || cpu >= cpu_count || !apic_ready()) {
		log_printf("cvisor: BUG: plat_send_ipi(CPU %u, vector %u) refused: %s\n", cpu, vector,
			   vector < 32 ? "vectors below 32 are exceptions"
			   : cpu >= cpu_count ? "no such CPU" : "no usable local APIC");
		return;
	}
	if (!apic_send_ipi(cpus[cpu]->apic_id, APIC_ICR_FIXED | APIC_ICR_LEVEL_ASSERT | vector))
		log_printf("cvisor: CPU %u: the local APIC did not send IPI vector 0x%x to CPU %u\n",
			   plat_this_cpu(), vector, cpu);
}

void plat_eoi(void)
{
	if (apic_ready())
		apic_eoi();
}
