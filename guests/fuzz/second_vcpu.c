/*
 * The fuzz guest's two-vCPU mode ("vcpus=2" on its command line, which
 * cvisor's fuzzer gives one case in four).  The boot processor starts the
 * second vCPU the way firmware does (INIT, SIPI, SIPI through its local
 * APIC, SDM Vol. 3A 9.4.4) and goes on with its own actions (fuzz.c),
 * which then include IPIs and I/O APIC routes to the other vCPU.
 *
 * The second vCPU runs as a worker: in 32-bit protected mode without
 * paging, on its own stack and IDT, it takes random actions in C, each a
 * sequence of port and MMIO accesses (pc_devices.c): the PC's devices,
 * fixed IPIs to itself, the other and both (physical, logical and
 * shorthand destinations), NMIs, INIT and SIPI to the other vCPU,
 * redirection entries followed by device activity that raises their line,
 * EOIs, APIC setup; bit flips in the memory of the boot processor's
 * task-switch and page-walk snippets (fuzz.h, fuzz_scribble); and it
 * sleeps with STI; HLT.  Interrupts are counted
 * and mostly acknowledged.  After its actions it parks (CLI; HLT), where
 * an NMI, or INIT and SIPI, can still reach it.
 *
 * A start-up IPI may start any vCPU in the trampoline, vCPU 0 too (after
 * an INIT the worker rarely sends it): vCPU 0 then becomes a worker as
 * well, and when its actions are done it stops the VM with
 * FUZZ_STOP_RESTARTED_BSP, since its own actions were cut short.
 *
 * Exceptions do not belong in a worker (its accesses cannot fault): one
 * stops the VM with status 0xDEAD1000 | vCPU << 8 | vector, as the boot
 * processor does with 0xDEAD0000 | vector.
 */
#include "fuzz.h"

#include "abi/hypercall.h"
#include "guest.h"
#include "lib/mem.h"

#define WORKERS 2
#define WORKER_STACK_SIZE 8192
#define INIT_BSP_ONE_IN 16 /* a worker's INIT goes to vCPU 0 one time in this many */
#define START_WAIT_PAUSES 2000000u

/* The trampoline's data block (worker.S: TD_*). */
struct __attribute__((packed)) trampoline_data {
	uint16_t pad;
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint32_t entry;
	uint32_t stacks[WORKERS];
};
_Static_assert(sizeof(struct trampoline_data) == 20, "worker.S reserves 20 bytes");

extern const char fuzz_trampoline_start[], fuzz_trampoline_data[], fuzz_trampoline_end[];
extern const uint32_t worker_isr_table[256];

/*
 * Flips bits in the boot processor's task-switch and page-walk memory
 * (fuzz.h, fuzz_scribble): a GDT slot, a TSS image or a page-table entry
 * changes while vCPU 0 sets it up, while the CPU checks it and while cvisor
 * reads it again to emulate the task switch or the access.  Half of the
 * flips are undone a moment later (with the LOCK form half of the time, as
 * the locked accessed/dirty updates of a page walk are).  Returns whether
 * any region was there.
 */
static bool scribble(struct fuzz_rng *r)
{
	unsigned flips = 64 + fuzz_rng_below(r, 960);
	bool any = false;

	for (unsigned i = 0; i < flips; i++) {
		const volatile struct scribble_region *region =
			&fuzz_scribble[fuzz_rng_below(r, SCRIBBLE_REGIONS)];
		uint32_t base = region->base, size = region->size;
		if (size < 4)
			continue;
		any = true;
		volatile uint32_t *word = (volatile uint32_t *)(uintptr_t)((base + fuzz_rng_below(r, size)) & ~3u);
		uint32_t bit = 1u << fuzz_rng_below(r, 32);
		bool locked = fuzz_rng_one_in(r, 2), undo = fuzz_rng_one_in(r, 2);
		if (locked)
			__atomic_fetch_xor(word, bit, __ATOMIC_SEQ_CST);
		else
			*word ^= bit;
		if (i % 16 == 0)
			guest_pause();
		if (undo)
			__atomic_fetch_xor(word, bit, __ATOMIC_SEQ_CST);
	}
	return any;
}

void worker_main(unsigned vcpu) __attribute__((noreturn));
void second_vcpu_interrupt(uint32_t vector);

struct worker {
	struct fuzz_rng rng;
	volatile uint32_t starts;      /* trampoline entries */
	volatile uint32_t interrupts;  /* vectors 16-255 taken */
	volatile uint32_t nmis;
	unsigned action;
};

static struct worker workers[WORKERS];
static uint8_t worker_stacks[WORKERS][WORKER_STACK_SIZE] __attribute__((aligned(16)));
static uint64_t worker_idt[256] __attribute__((aligned(8)));
static struct __attribute__((packed)) {
	uint16_t limit;
	uint32_t base;
} worker_idt_ptr;
static uint64_t worker_seed;
static bool worker_verbose;

static void apic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_PAGE + reg) = value;
}

/* The worker whose stack this is: handlers run on the interrupted stack. */
static unsigned this_worker(void)
{
	uint8_t here;
	return (uintptr_t)&here >= (uintptr_t)worker_stacks[1] ? 1 : 0;
}

/* ---- performing an access sequence ---------------------------------------- */

static void perform(const struct device_op *op)
{
	uint16_t port = (uint16_t)op->address;
	uintptr_t address = op->address;
	uint32_t value = op->value;

	switch (op->kind) {
	case OP_PORT_WRITE:
		if (op->size == 1)
			__asm__ volatile("outb %%al, %%dx" ::"a"(value), "d"(port));
		else if (op->size == 2)
			__asm__ volatile("outw %%ax, %%dx" ::"a"(value), "d"(port));
		else
			__asm__ volatile("outl %%eax, %%dx" ::"a"(value), "d"(port));
		break;
	case OP_PORT_READ:
		if (op->size == 1)
			__asm__ volatile("inb %%dx, %%al" : "=a"(value) : "d"(port));
		else if (op->size == 2)
			__asm__ volatile("inw %%dx, %%ax" : "=a"(value) : "d"(port));
		else
			__asm__ volatile("inl %%dx, %%eax" : "=a"(value) : "d"(port));
		break;
	case OP_MMIO_WRITE:
		if (op->size == 1)
			*(volatile uint8_t *)address = (uint8_t)value;
		else if (op->size == 2)
			*(volatile uint16_t *)address = (uint16_t)value;
		else
			*(volatile uint32_t *)address = value;
		break;
	default:
		if (op->size == 1)
			(void)*(volatile uint8_t *)address;
		else if (op->size == 2)
			(void)*(volatile uint16_t *)address;
		else
			(void)*(volatile uint32_t *)address;
		break;
	}
}

/* ---- the worker -------------------------------------------------------------- */

void second_vcpu_interrupt(uint32_t vector)
{
	unsigned id = this_worker();
	struct worker *w = &workers[id];

	if (vector == 2) {
		w->nmis++; /* NMIs may come at any time: touch nothing else */
		return;
	}
	if (vector < 16) {
		say("fuzz guest: vCPU %u: exception %u in a worker (action %u)", id, vector, w->action);
		guest_vmcall(HC_STOP, 0xDEAD1000u | id << 8 | vector, 0, 0, 0);
		for (;;)
			guest_hlt();
	}
	/* An interrupt: it arrives only inside the worker's STI windows, so
	 * the generator is not in use.  Acknowledged mostly; a missing EOI
	 * keeps lower-priority vectors out (SDM Vol. 3A 11.8.3). */
	w->interrupts++;
	if (!fuzz_rng_one_in(&w->rng, 4))
		apic_write(APIC_EOI, 0);
}

static void worker_sleep(struct fuzz_rng *r)
{
	switch (fuzz_rng_below(r, 4)) {
	case 0:
		/* STI; HLT: sleeps until an interrupt, mostly its own APIC
		 * timer's, one-shot (SDM Vol. 3A 11.5.4); else one from the other
		 * vCPU or a device, or forever (the VM ends when the other vCPU
		 * stops it, or when nothing can wake either). */
		if (!fuzz_rng_one_in(r, 4)) {
			apic_write(0x3E0, 0xB);                              /* divide by 1 */
			apic_write(0x320, 0x30 + fuzz_rng_below(r, 0xC0));   /* one-shot, a vector */
			apic_write(0x380, 1000 + fuzz_rng_below(r, 50000));  /* initial count */
		}
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		break;
	case 1:
		__asm__ volatile("sti; nop; cli" ::: "memory");
		break;
	default: {
		unsigned pauses = 1 + fuzz_rng_below(r, 64);
		__asm__ volatile("sti" ::: "memory");
		for (unsigned i = 0; i < pauses; i++)
			guest_pause();
		__asm__ volatile("cli" ::: "memory");
		break;
	}
	}
}

void worker_main(unsigned vcpu)
{
	struct worker *w = &workers[vcpu];
	uint32_t start = __atomic_add_fetch(&w->starts, 1, __ATOMIC_SEQ_CST);

	__asm__ volatile("lidt %0" ::"m"(worker_idt_ptr));
	fuzz_rng_seed(&w->rng, worker_seed ^ (uint64_t)vcpu << 40 ^ (uint64_t)start << 48);
	struct fuzz_rng *r = &w->rng;
	/* As an OS sets up an AP's APIC (INIT left it software-disabled, SDM
	 * Vol. 3A 11.4.7.3): enabled, the flat logical model with bit n for
	 * vCPU n; one time in eight left as it is. */
	if (!fuzz_rng_one_in(r, 8)) {
		apic_write(APIC_SVR, 0x1FF);
		apic_write(APIC_DFR, 0xFFFFFFFFu);
		apic_write(APIC_LDR, (1u << vcpu) << 24);
	}
	unsigned actions = 16 + fuzz_rng_below(r, 48);
	if (worker_verbose)
		say("vCPU %u: worker start %u, %u actions", vcpu, start, actions);

	for (w->action = 0; w->action < actions; w->action++) {
		struct device_ops ops = { 0 };
		const char *what = NULL;
		unsigned kind = fuzz_rng_below(r, 16);
		if (kind < 5) {
			enum pc_device device = pc_device_pick(r);
			pc_device_sequence(r, device, &ops);
			what = pc_device_names[device];
		} else if (kind < 13) {
			enum smp_action action = smp_action_pick(r);
			smp_sequence(r, action, vcpu, INIT_BSP_ONE_IN, &ops);
			what = smp_action_names[action];
		} else if (kind < 15 && vcpu == 1 && scribble(r)) {
			what = "bit flips in the other vCPU's task-switch and page-walk memory";
		}
		if (worker_verbose) {
			say("vCPU %u action %u: %s", vcpu, w->action, what ? what : "sleep with interrupts on");
			describe_device_ops("  accesses", &ops);
		}
		for (unsigned i = 0; i < ops.count; i++)
			perform(&ops.op[i]);
		if (!what || fuzz_rng_one_in(r, 4))
			worker_sleep(r);
	}
	if (worker_verbose)
		say("vCPU %u: worker done (%u interrupts, %u NMIs)", vcpu, w->interrupts, w->nmis);
	if (vcpu == 0)
		guest_vmcall(HC_STOP, FUZZ_STOP_RESTARTED_BSP, 0, 0, 0);
	for (;;)
		guest_hlt(); /* CLI; HLT: an NMI returns here, INIT and SIPI start again */
}

/* ---- starting it (on the boot processor) ---------------------------------- */

static void send_ipi(uint32_t destination, uint32_t low)
{
	apic_write(APIC_ICR_HIGH, destination << 24);
	apic_write(APIC_ICR_LOW, low);
}

bool second_vcpu_start(uint64_t seed, uint32_t gdt_base, uint16_t gdt_limit, bool verbose)
{
	struct trampoline_data *td = (struct trampoline_data *)(uintptr_t)(TRAMPOLINE_PA +
		(uint32_t)(fuzz_trampoline_data - fuzz_trampoline_start));

	worker_seed = seed ^ 0x5EC0DD5EC0DDull;
	worker_verbose = verbose;
	/* Interrupt gates, flat code (SDM Vol. 3A 6.11). */
	for (unsigned v = 0; v < 256; v++) {
		uint32_t a = worker_isr_table[v];
		worker_idt[v] = (a & 0xFFFF) | (uint64_t)0x08 << 16 |
				(uint64_t)((a & 0xFFFF0000u) | 0x8E00u) << 32;
	}
	worker_idt_ptr.limit = sizeof(worker_idt) - 1;
	worker_idt_ptr.base = (uint32_t)(uintptr_t)worker_idt;

	memcpy((void *)(uintptr_t)TRAMPOLINE_PA, fuzz_trampoline_start,
	       (size_t)(fuzz_trampoline_end - fuzz_trampoline_start));
	td->gdt_limit = gdt_limit;
	td->gdt_base = gdt_base;
	td->entry = (uint32_t)(uintptr_t)worker_main;
	for (unsigned i = 0; i < WORKERS; i++)
		td->stacks[i] = (uint32_t)(uintptr_t)(worker_stacks[i] + WORKER_STACK_SIZE);

	/* The APIC software-enabled, logical ID bit 0 in the flat model, then
	 * INIT, SIPI, SIPI (SDM Vol. 3A 9.4.4.1). */
	apic_write(APIC_SVR, 0x1FF);
	apic_write(APIC_DFR, 0xFFFFFFFFu);
	apic_write(APIC_LDR, 1u << 24);
	send_ipi(1, ICR_INIT | ICR_ASSERT);
	send_ipi(1, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
	send_ipi(1, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
	/* vCPU 1 may share this CPU: it starts when this vCPU's time slice ends. */
	for (uint32_t i = 0; i < START_WAIT_PAUSES && !workers[1].starts; i++)
		guest_pause();
	if (verbose)
		say("vCPU 0: vCPU 1 %s", workers[1].starts ? "started" : "did not start");
	return workers[1].starts != 0;
}
