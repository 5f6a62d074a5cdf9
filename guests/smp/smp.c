/*
 * The multi-vCPU guest (run with "smp cpus=2"): the BSP starts the AP the
 * way firmware and operating systems do (INIT, SIPI, SIPI through the
 * local APIC, SDM Vol. 3A 9.4.4), then both exchange IPIs and check the
 * APIC's delivery rules from the inside: physical, logical-flat and
 * shorthand destinations, IRR/ISR/EOI, interrupts held while IF = 0 and
 * released after the STI shadow, and HLT woken by an interrupt.
 *
 * The two vCPUs work in lockstep: the BSP names a step in `go`, the AP
 * runs it and acknowledges it in `done`, so that only one of them prints
 * at a time and the PASS lines come out in a fixed order.  Every wait of
 * the BSP is bounded: a missing AP or a lost IPI is a FAIL line, never a
 * hang.  At the end the AP parks (cli; hlt) and the BSP returns the
 * failure count, which entry.S hands to HC_STOP.
 */
#include "abi/hypercall.h"
#include "guest.h"
#include "lib/mem.h"
#include "probe.h"
#include "trampoline.h"
#define TRAPS_IRQ_IMPLEMENTATION /* this guest links the handlers of irq.h */
#include "irq.h"

/* xAPIC registers (SDM Vol. 3A 11.4.1, Table 11-1). */
#define APIC_BASE     0xFEE00000u
#define APIC_ID       0x020
#define APIC_TPR      0x080
#define APIC_EOI      0x0B0
#define APIC_LDR      0x0D0
#define APIC_DFR      0x0E0
#define APIC_SVR      0x0F0
#define APIC_ISR      0x100 /* 8 words, 16 bytes apart */
#define APIC_IRR      0x200
#define APIC_ICR_LOW  0x300
#define APIC_ICR_HIGH 0x310

#define SVR_ENABLE (1u << 8)

/* ICR low (SDM Vol. 3A 11.6.1, Figure 11-12). */
#define ICR_FIXED        (0u << 8)
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define ICR_LOGICAL      (1u << 11)
#define ICR_PENDING      (1u << 12)
#define ICR_ASSERT       (1u << 14)
#define ICR_LEVEL        (1u << 15)
#define ICR_SELF         (1u << 18)
#define ICR_ALL          (2u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)

#define VEC_TO_BSP 0x40 /* the BSP's handler counts it */
#define VEC_TO_AP  0x41 /* the AP's handler counts it (and answers in ping-pong) */
#define AP_ID      1
#define PING_PONG_ROUNDS 10

/* Bounded waits, in PAUSE loop iterations: SPIN_LIMIT for an answer that
 * must come, SETTLE for letting a wrongly sent IPI arrive before checking
 * that it did not. */
#define SPIN_LIMIT 5000000u
#define SETTLE     600000u

/* Steps the BSP names in `go` and the AP acknowledges in `done`. */
enum step {
	STEP_AP_UP = 1,     /* AP: reached C and checked its identity */
	STEP_PING_PONG,     /* AP: checks what it received */
	STEP_LOGICAL,       /* AP: sets its LDR */
	STEP_IF0,           /* AP: IPI while IF = 0, released by STI */
	STEP_HLT,           /* AP: sti; hlt, woken by the BSP */
	STEP_INIT_DEASSERT, /* AP: only answers: it still runs */
	STEP_PARK,          /* AP: cli; hlt for good */
};

static volatile uint32_t go, done;
/* Handshakes inside a step. */
static volatile uint32_t ap_ready, bsp_sent;

/* hits[v][cpu]: how often vector VEC_TO_BSP + v reached APIC ID cpu (2: any other). */
static volatile uint32_t hits[2][3];
static volatile uint32_t last_eip[3];      /* EIP the last interrupt returned to */
static volatile uint32_t in_service[3];    /* the ISR bit of the vector, seen in the handler */
static volatile uint32_t ap_answers;       /* ping-pong: the AP answers VEC_TO_AP */

static uint32_t bsp_vm_id;
static uint8_t ap_stack[16384] __attribute__((aligned(16)));

/* ---- small helpers ------------------------------------------------------ */

static inline uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg);
}

static inline void apic_write(uint32_t reg, uint32_t value)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_BASE + reg) = value;
}

/* The bit of vector in the ISR or IRR (base APIC_ISR or APIC_IRR). */
static bool apic_vector_bit(uint32_t base, uint8_t vector)
{
	return (apic_read(base + (vector / 32u) * 0x10u) >> (vector % 32u)) & 1;
}

static void spin(uint32_t iterations)
{
	for (uint32_t i = 0; i < iterations; i++)
		guest_pause();
}

/* Waits until *p == want, at most SPIN_LIMIT iterations. */
static bool wait_for(volatile uint32_t *p, uint32_t want)
{
	for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
		if (*p == want)
			return true;
		guest_pause();
	}
	return *p == want;
}

/* ICR high first, then ICR low, which sends (SDM Vol. 3A 11.6.1); with
 * interrupts off so a handler's own IPI cannot come in between. */
static void send_ipi(uint8_t destination, uint32_t icr_low)
{
	uint32_t flags = guest_irq_save();
	apic_write(APIC_ICR_HIGH, (uint32_t)destination << 24);
	apic_write(APIC_ICR_LOW, icr_low);
	guest_irq_restore(flags);
}

static unsigned this_apic_id(void)
{
	unsigned id = apic_read(APIC_ID) >> 24;
	return id < 2 ? id : 2;
}

struct ids {
	int32_t ret;
	uint32_t vm, vcpu;
};

/* HC_GET_IDS: RBX = VM id, RCX = vCPU id (docs/hypercalls.md). */
static struct ids get_ids(void)
{
	uint32_t regs[5] = { HC_GET_IDS, 0, 0, 0, 0 };
	guest_vmcall_regs(regs);
	return (struct ids){ (int32_t)regs[0], regs[1], regs[2] };
}

/* fw_cfg key 0x05, FW_CFG_NB_CPUS: 16 bits, little-endian. */
static unsigned fw_cfg_cpus(void)
{
	guest_outw(0x510, 0x0005);
	unsigned lo = guest_inb(0x511);
	return lo | (unsigned)guest_inb(0x511) << 8;
}

static struct trampoline_data *trampoline_data(void)
{
	return (struct trampoline_data *)(uintptr_t)(TRAMPOLINE_PA +
						      (smp_trampoline_data - smp_trampoline_start));
}

/*
 * VEC_TO_BSP and VEC_TO_AP, on either vCPU: count it per APIC ID, note
 * where it returns and whether the ISR shows it in service, EOI.  In
 * ping-pong, the AP answers VEC_TO_AP with VEC_TO_BSP to the BSP.
 */
static void on_ipi(uint32_t vector, uint32_t eip)
{
	unsigned cpu = this_apic_id();

	in_service[cpu] = apic_vector_bit(APIC_ISR, (uint8_t)vector);
	last_eip[cpu] = eip;
	hits[vector - VEC_TO_BSP][cpu]++;
	apic_write(APIC_EOI, 0);
	if (vector == VEC_TO_AP && cpu == AP_ID && ap_answers)
		send_ipi(0, ICR_FIXED | ICR_ASSERT | VEC_TO_BSP);
}

/* ---- the application processor ----------------------------------------- */

static void ap_wait(enum step step)
{
	while (go != step)
		guest_pause();
}

static void ap_step_if0(void)
{
	guest_irq_disable();
	uint32_t before = hits[1][AP_ID];
	ap_ready = 1;
	while (bsp_sent != 1)
		guest_pause();
	spin(SETTLE);
	check(hits[1][AP_ID] == before,
	      "IF=0: the IPI sent to the AP is not delivered while its interrupts are off");
	check(apic_vector_bit(APIC_IRR, VEC_TO_AP), "IF=0: the AP's IRR shows vector 0x41 pending");
	sti_nop_cli();
	bool once = hits[1][AP_ID] == before + 1;
	check(once && last_eip[AP_ID] == (uint32_t)(uintptr_t)after_sti_nop,
	      "after STI the IPI arrives right after the one-instruction STI shadow (sti; nop; <here>)");
	check(once && in_service[AP_ID], "the AP's handler sees vector 0x41 in service (ISR bit set)");
	check(!apic_vector_bit(APIC_IRR, VEC_TO_AP) && !apic_vector_bit(APIC_ISR, VEC_TO_AP),
	      "after the handler's EOI neither IRR nor ISR holds vector 0x41");

	/* Again, with an instruction that exits to cvisor inside the shadow. */
	ap_ready = 2;
	while (bsp_sent != 2)
		guest_pause();
	spin(SETTLE);
	bool held = hits[1][AP_ID] == before + 1;
	sti_cpuid_cli();
	check(held && hits[1][AP_ID] == before + 2 &&
		      last_eip[AP_ID] == (uint32_t)(uintptr_t)after_sti_cpuid,
	      "with CPUID (a VM exit) in the STI shadow the IPI arrives right after it (sti; cpuid; <here>)");
	guest_irq_enable();
	spin(SETTLE);
	check(hits[1][AP_ID] == before + 2, "each IPI held while IF=0 was delivered exactly once");
}

static void ap_step_hlt(void)
{
	guest_irq_disable();
	uint32_t before = hits[1][AP_ID];
	ap_ready = 3;
	sti_hlt_cli();
	check(hits[1][AP_ID] == before + 1 && last_eip[AP_ID] == (uint32_t)(uintptr_t)after_sti_hlt,
	      "HLT with IF=1: the BSP's IPI woke the AP, its handler ran and execution continued after HLT");
	guest_irq_enable();
}

/* Called by the trampoline in 32-bit protected mode on ap_stack. */
static void __attribute__((noreturn, used)) ap_main(void)
{
	const struct trampoline_data *td = trampoline_data();

	traps_use_legacy_idt(); /* the IDT the BSP built, with its 0x40/0x41 gates */
	apic_write(APIC_SVR, apic_read(APIC_SVR) | SVR_ENABLE);

	struct ids ids = get_ids();
	check(ids.ret == 0 && ids.vcpu == 1, "HC_GET_IDS on the AP says vCPU 1");
	check(ids.ret == 0 && ids.vm == bsp_vm_id, "HC_GET_IDS on the AP gives the BSP's VM id");
	check(apic_read(APIC_ID) == 1u << 24, "the AP's APIC ID register reads 0x01000000 (APIC ID 1)");
	check(guest_cpuid(1, 0).ebx >> 24 == 1 && guest_cpuid(0xB, 0).edx == 1,
	      "the AP's CPUID names APIC ID 1 (leaf 1 EBX[31:24], leaf 0BH EDX)");
	check(td->real_cs == (SIPI_VECTOR << 8) && !(td->real_cr0 & 1),
	      "the AP entered the trampoline in real mode (CR0.PE=0) with CS 0x0800");
	check(apic_read(APIC_SVR) & SVR_ENABLE, "the AP's APIC is software-enabled (SVR bit 8)");
	say("AP vCPU %u started in real mode at 0x%x and reached 32-bit C", (unsigned)ids.vcpu,
	    (unsigned)TRAMPOLINE_PA);
	guest_irq_enable();
	done = STEP_AP_UP;

	ap_wait(STEP_PING_PONG);
	check(hits[1][AP_ID] == PING_PONG_ROUNDS && hits[0][AP_ID] == 0,
	      "IPI ping-pong: the AP took vector 0x41 10 times and answered each");
	done = STEP_PING_PONG;

	ap_wait(STEP_LOGICAL);
	apic_write(APIC_DFR, 0xFFFFFFFFu);
	apic_write(APIC_LDR, 0x02000000u);
	check(apic_read(APIC_LDR) == 0x02000000u && apic_read(APIC_DFR) == 0xFFFFFFFFu,
	      "the AP's LDR reads back 0x02000000 in the flat model (DFR 0xffffffff)");
	done = STEP_LOGICAL;

	ap_wait(STEP_IF0);
	ap_step_if0();
	done = STEP_IF0;

	ap_wait(STEP_HLT);
	ap_step_hlt();
	done = STEP_HLT;

	ap_wait(STEP_INIT_DEASSERT);
	done = STEP_INIT_DEASSERT;

	ap_wait(STEP_PARK);
	say("AP: done, parking with cli; hlt");
	done = STEP_PARK;
	for (;;)
		guest_hlt(); /* cli; hlt */
}

/* ---- the bootstrap processor ------------------------------------------- */

static bool ap_alive;

/* Has the AP run `step` (bounded)?  A silent AP ends the AP part. */
static bool ap_step(enum step step, const char *what)
{
	if (!ap_alive)
		return false;
	go = step;
	if (!wait_for(&done, step)) {
		ap_alive = false;
		say("BSP: the AP did not finish the step \"%s\" within the spin limit", what);
		check(false, "the AP answers every step");
		return false;
	}
	return true;
}

static void start_ap(void)
{
	struct trampoline_data *td = trampoline_data();

	memcpy((void *)(uintptr_t)TRAMPOLINE_PA, smp_trampoline_start,
	       (size_t)(smp_trampoline_end - smp_trampoline_start));
	struct guest_desc_ptr gdtr;
	guest_sgdt(&gdtr); /* the flat GDT traps_init() loaded */
	td->gdt_limit = gdtr.limit;
	td->gdt_base = gdtr.base;
	td->entry = (uint32_t)(uintptr_t)ap_main;
	td->stack = (uint32_t)(uintptr_t)(ap_stack + sizeof(ap_stack));
	td->entries = 0;

	say("BSP: sending INIT, SIPI, SIPI (vector 0x%02x) to APIC ID 1", SIPI_VECTOR);
	send_ipi(AP_ID, ICR_INIT | ICR_ASSERT);
	send_ipi(AP_ID, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
	send_ipi(AP_ID, ICR_STARTUP | ICR_ASSERT | SIPI_VECTOR);
	/* Printed only once the AP has reported: it prints as soon as it runs. */
	bool idle = !(apic_read(APIC_ICR_LOW) & ICR_PENDING);

	uint32_t spins = 0;
	while (done != STEP_AP_UP && spins < SPIN_LIMIT) {
		guest_pause();
		spins++;
	}
	ap_alive = done == STEP_AP_UP;
	check(idle, "ICR delivery status reads idle after INIT, SIPI, SIPI");
	if (ap_alive)
		say("BSP: the AP reported after %u spin iterations", (unsigned)spins);
	check(ap_alive, "the AP reached 32-bit C and reported within the spin limit");
	if (!ap_alive)
		return;
	spin(SETTLE);
	check(td->entries == 1, "the second SIPI did not restart the running AP (trampoline entered once)");
}

static void bsp_ping_pong(void)
{
	unsigned rounds = 0;

	ap_answers = 1;
	for (unsigned i = 0; i < PING_PONG_ROUNDS; i++) {
		send_ipi(AP_ID, ICR_FIXED | ICR_ASSERT | VEC_TO_AP);
		if (!wait_for(&hits[0][0], i + 1))
			break;
		rounds++;
	}
	ap_answers = 0;
	spin(SETTLE);
	if (rounds < PING_PONG_ROUNDS)
		say("BSP: ping-pong stopped after %u round(s)", rounds);
	check(rounds == PING_PONG_ROUNDS && hits[0][0] == PING_PONG_ROUNDS && hits[1][0] == 0,
	      "IPI ping-pong: 10 rounds, the BSP took vector 0x40 10 times");
	ap_step(STEP_PING_PONG, "ping-pong");
}

/*
 * Sends one fixed IPI and checks who got it: want_bsp/want_ap are the
 * numbers of deliveries each vCPU must see (0 or 1).
 */
static void bsp_ipi_reaches(uint8_t destination, uint32_t icr_low, unsigned want_bsp,
			    unsigned want_ap, const char *what)
{
	unsigned v = (icr_low & 0xFF) - VEC_TO_BSP;
	uint32_t bsp0 = hits[v][0], ap0 = hits[v][AP_ID];

	send_ipi(destination, icr_low);
	if (want_bsp)
		wait_for(&hits[v][0], bsp0 + want_bsp);
	if (want_ap)
		wait_for(&hits[v][AP_ID], ap0 + want_ap);
	spin(SETTLE); /* time for a delivery that must not happen */
	check(hits[v][0] == bsp0 + want_bsp && hits[v][AP_ID] == ap0 + want_ap && !hits[v][2], what);
}

static void bsp_destinations(void)
{
	bsp_ipi_reaches(0, ICR_FIXED | ICR_ASSERT | ICR_ALL_BUT_SELF | VEC_TO_AP, 0, 1,
			"shorthand all-excluding-self from the BSP reaches the AP and not the BSP");
	bsp_ipi_reaches(0, ICR_FIXED | ICR_ASSERT | ICR_SELF | VEC_TO_BSP, 1, 0,
			"shorthand self reaches the sender (the BSP) only");
	bsp_ipi_reaches(0, ICR_FIXED | ICR_ASSERT | ICR_ALL | VEC_TO_AP, 1, 1,
			"shorthand all-including-self reaches both vCPUs");
	bsp_ipi_reaches(0xFF, ICR_FIXED | ICR_ASSERT | VEC_TO_AP, 1, 1,
			"physical destination 0xff (broadcast) reaches both vCPUs");
	bsp_ipi_reaches(5, ICR_FIXED | ICR_ASSERT | VEC_TO_AP, 0, 0,
			"physical destination 5 (no such APIC ID) reaches nobody");

	/* Logical flat model (SDM Vol. 3A 11.6.2.2): LDR[31:24] is a bit mask. */
	apic_write(APIC_DFR, 0xFFFFFFFFu);
	apic_write(APIC_LDR, 0x01000000u);
	if (!ap_step(STEP_LOGICAL, "set the logical ID"))
		return;
	bsp_ipi_reaches(0x02, ICR_FIXED | ICR_ASSERT | ICR_LOGICAL | VEC_TO_AP, 0, 1,
			"logical flat destination mask 0x02 reaches the AP (LDR 0x02000000) only");
	bsp_ipi_reaches(0x03, ICR_FIXED | ICR_ASSERT | ICR_LOGICAL | VEC_TO_AP, 1, 1,
			"logical flat destination mask 0x03 reaches both vCPUs");
}

/*
 * The TPR holds back a pending interrupt whose priority class is not above
 * its own (SDM Vol. 3A 11.8.3.1), which waits in IRR; lowering the TPR
 * lets it in before the next instruction (with a TPR shadow, through the
 * CPU's TPR virtualization and the TPR-below-threshold exit or virtual
 * interrupt delivery, SDM Vol. 3C 29.1.2).
 */
static void bsp_tpr(void)
{
	uint32_t before = hits[0][0];

	apic_write(APIC_TPR, VEC_TO_BSP & 0xF0);
	send_ipi(0, ICR_FIXED | ICR_ASSERT | ICR_SELF | VEC_TO_BSP);
	spin(SETTLE);
	bool held = hits[0][0] == before && apic_vector_bit(APIC_IRR, VEC_TO_BSP);
	apic_write(APIC_TPR, 0);
	uint32_t right_after = hits[0][0];
	check(held && right_after == before + 1,
	      "TPR 0x40 holds vector 0x40 in IRR; lowering it to 0 lets it in before the next instruction");
}

static void bsp_if0(void)
{
	if (!ap_alive)
		return;
	ap_ready = 0;
	bsp_sent = 0;
	go = STEP_IF0;
	for (uint32_t round = 1; round <= 2; round++) {
		if (!wait_for(&ap_ready, round))
			break; /* ap_step() reports the silent AP */
		send_ipi(AP_ID, ICR_FIXED | ICR_ASSERT | VEC_TO_AP);
		bsp_sent = round;
	}
	ap_step(STEP_IF0, "IF=0");
}

static void bsp_hlt(void)
{
	if (!ap_alive)
		return;
	go = STEP_HLT;
	if (wait_for(&ap_ready, 3)) {
		spin(SETTLE); /* the AP is in HLT by now */
		send_ipi(AP_ID, ICR_FIXED | ICR_ASSERT | VEC_TO_AP);
	}
	ap_step(STEP_HLT, "HLT wake-up");
}

static void bsp_init_deassert(void)
{
	if (!ap_alive)
		return;
	/* INIT, level de-assert (level 0, trigger mode level): ignored by the
	 * Pentium 4 and later (SDM Vol. 3A 11.6.1). */
	send_ipi(AP_ID, ICR_INIT | ICR_LEVEL);
	spin(SETTLE);
	check(ap_step(STEP_INIT_DEASSERT, "after INIT de-assert") && trampoline_data()->entries == 1,
	      "an INIT level de-assert to the running AP is ignored: it keeps running");
}

static void bsp_park(void)
{
	if (!ap_step(STEP_PARK, "park"))
		return;
	spin(SETTLE); /* the AP reaches cli; hlt */
	uint32_t before = hits[1][AP_ID];
	send_ipi(AP_ID, ICR_FIXED | ICR_ASSERT | VEC_TO_AP);
	spin(SETTLE);
	check(hits[1][AP_ID] == before, "the parked AP (cli; hlt) takes no interrupt");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	say("smp guest: started on the BSP");
	traps_init();

	struct ids ids = get_ids();
	bsp_vm_id = ids.vm;
	check(ids.ret == 0 && ids.vcpu == 0, "HC_GET_IDS on the BSP says vCPU 0");
	check(apic_read(APIC_ID) == 0, "the BSP's APIC ID register reads 0");
	check(guest_cpuid(1, 0).ebx >> 24 == 0 && guest_cpuid(0xB, 0).edx == 0 &&
		      guest_cpuid(0xB, 1).ebx == fw_cfg_cpus(),
	      "the BSP's CPUID names APIC ID 0 and as many cores as the VM has vCPUs (leaf 0BH)");
	check(fw_cfg_cpus() == 2, "fw_cfg key 0x05 reports 2 CPUs");

	traps_set_handler(VEC_TO_BSP, on_ipi);
	traps_set_handler(VEC_TO_AP, on_ipi);
	apic_write(APIC_SVR, apic_read(APIC_SVR) | SVR_ENABLE);
	check(apic_read(APIC_SVR) == 0x1FF, "the BSP's APIC is software-enabled (SVR reads 0x1ff)");
	guest_irq_enable();

	start_ap();
	if (ap_alive) {
		bsp_ping_pong();
		bsp_destinations();
		bsp_tpr();
		bsp_if0();
		bsp_hlt();
		bsp_init_deassert();
		bsp_park();
	}
	say("smp guest: done, %u failure(s)", failures());
	return (int)failures();
}
