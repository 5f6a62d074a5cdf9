/*
 * What the fuzz guest's files share (fuzz.c: the boot processor's actions
 * and the snippet machinery; pc_devices.c: access sequences for the PC's
 * devices and for interrupts between vCPUs; second_vcpu.c: the second
 * vCPU of the two-vCPU mode).
 */
#ifndef FUZZ_GUEST_FUZZ_H
#define FUZZ_GUEST_FUZZ_H

#include <stdbool.h>
#include <stdint.h>

/* ---- architectural addresses (identity mapped in every paging mode) ---- */

#define APIC_PAGE   0xFEE00000u /* local APIC (SDM Vol. 3A 11.4.1) */
#define IOAPIC_PAGE 0xFEC00000u /* I/O APIC (82093AA data sheet, 3.0) */
#define DEBUG_PAGE  0xFEBFF000u /* cvisor's MMIO debug console */

/* Local APIC registers (SDM Vol. 3A Table 11-1). */
#define APIC_ID       0x020
#define APIC_TPR      0x080
#define APIC_EOI      0x0B0
#define APIC_LDR      0x0D0
#define APIC_DFR      0x0E0
#define APIC_SVR      0x0F0
#define APIC_ICR_LOW  0x300
#define APIC_ICR_HIGH 0x310

/* ICR fields (SDM Vol. 3A 11.6.1, Figure 11-12). */
#define ICR_FIXED        (0u << 8)
#define ICR_LOWEST       (1u << 8)
#define ICR_SMI          (2u << 8)
#define ICR_NMI          (4u << 8)
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define ICR_LOGICAL      (1u << 11)
#define ICR_ASSERT       (1u << 14)
#define ICR_LEVEL        (1u << 15)
#define ICR_SELF         (1u << 18)
#define ICR_ALL          (2u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)

/* Where the second vCPU starts: a start-up IPI with vector V starts an AP
 * in real mode at V << 12 (SDM Vol. 3A 9.4.4.1). */
#define TRAMPOLINE_PA 0x8000u
#define SIPI_VECTOR   (TRAMPOLINE_PA >> 12)

/* The HC_STOP status of vCPU 0 when INIT and SIPI restarted it as a worker
 * (second_vcpu.c) and it finished its actions. */
#define FUZZ_STOP_RESTARTED_BSP 0x5150u

/* ---- random numbers: xoshiro128** seeded by splitmix64 ----------------- */

/* One per vCPU: they run at the same time. */
struct fuzz_rng {
	uint32_t s[4];
};

static inline uint64_t fuzz_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static inline void fuzz_rng_seed(struct fuzz_rng *r, uint64_t seed)
{
	for (unsigned i = 0; i < 4; i += 2) {
		uint64_t v = fuzz_splitmix64(&seed);
		r->s[i] = (uint32_t)v;
		r->s[i + 1] = (uint32_t)(v >> 32);
	}
}

static inline uint32_t fuzz_rotl(uint32_t x, unsigned k)
{
	return (x << k) | (x >> (32 - k));
}

static inline uint32_t fuzz_rng_next(struct fuzz_rng *r)
{
	uint32_t *s = r->s;
	uint32_t result = fuzz_rotl(s[1] * 5, 7) * 9, t = s[1] << 9;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = fuzz_rotl(s[3], 11);
	return result;
}

/* Uniform in [0, n). */
static inline uint32_t fuzz_rng_below(struct fuzz_rng *r, uint32_t n)
{
	return (uint32_t)(((uint64_t)fuzz_rng_next(r) * n) >> 32);
}

static inline bool fuzz_rng_one_in(struct fuzz_rng *r, uint32_t n)
{
	return fuzz_rng_below(r, n) == 0;
}

/* ---- device access sequences (pc_devices.c) ---------------------------- */

enum device_op_kind { OP_PORT_WRITE, OP_PORT_READ, OP_MMIO_WRITE, OP_MMIO_READ };

/* One access: a port (0-0xFFFF) or a guest-physical address, 1, 2 or 4 bytes. */
struct device_op {
	uint8_t kind, size;
	uint32_t address;
	uint32_t value; /* written; ignored by reads */
};

#define DEVICE_OPS_MAX 24

struct device_ops {
	unsigned count;
	struct device_op op[DEVICE_OPS_MAX];
};

/* The PC devices the sequences aim at, at their architectural addresses. */
enum pc_device {
	DEV_PIC,      /* 8259A pair 0x20/0x21, 0xA0/0xA1, ELCR 0x4D0/0x4D1 */
	DEV_PIT,      /* 8254 0x40-0x43, port B 0x61 */
	DEV_RTC,      /* MC146818 0x70/0x71 */
	DEV_PCI,      /* configuration mechanism #1, 0xCF8 and 0xCFC-0xCFF */
	DEV_RESET,    /* 0xCF9, port 92, the i8042 0x60/0x64 */
	DEV_ACPI_PM,  /* ACPI fixed-hardware blocks, 0x600-0x63F and 0xB000-0xB03F */
	DEV_UART,     /* 16550 COM1 0x3F8-0x3FF */
	DEV_IOAPIC,   /* the I/O APIC page */
	PC_DEVICES
};

extern const char *const pc_device_names[PC_DEVICES];

/* A device picked by weight: the reset paths (which may end the VM) rarely. */
enum pc_device pc_device_pick(struct fuzz_rng *r);

/* Appends a random access sequence for one device to ops (as much as fits). */
void pc_device_sequence(struct fuzz_rng *r, enum pc_device device, struct device_ops *ops);

/* What one vCPU does to another, or to both, through the APICs. */
enum smp_action {
	SMP_FIXED_IPI,   /* fixed or lowest-priority IPIs: self, other, all, logical/physical */
	SMP_NMI,         /* NMI IPIs */
	SMP_INIT_SIPI,   /* INIT, then start-up IPIs, to the other vCPU */
	SMP_IOAPIC_LINE, /* a redirection entry, then device activity that raises its line */
	SMP_EOI,         /* local APIC, I/O APIC and 8259 EOIs */
	SMP_APIC_SETUP,  /* SVR, TPR, LDR, DFR, LVT entries */
	SMP_ACTIONS
};

extern const char *const smp_action_names[SMP_ACTIONS];

enum smp_action smp_action_pick(struct fuzz_rng *r);

/*
 * Appends the accesses of one action by the vCPU with APIC ID self_id to
 * ops; INIT reaches vCPU 0 (the boot processor) only one time in
 * init_bsp_one_in, since it takes vCPU 0 out of its actions.
 */
void smp_sequence(struct fuzz_rng *r, enum smp_action action, unsigned self_id,
		  unsigned init_bsp_one_in, struct device_ops *ops);

/* One line per few accesses, for a replay (verbose). */
void describe_device_ops(const char *who, const struct device_ops *ops);

/* ---- memory the second vCPU flips bits in --------------------------------- */

/*
 * Regions of the boot processor's task-switch and page-walk snippets
 * (fuzz.c): the GDT slots of their TSS descriptors and task gates, the TSS
 * images, the page tables of their linear window.  The second vCPU's worker
 * flips bits in them while the boot processor sets them up and uses them;
 * nothing else lives there.  A size of 0 is an unused region.
 */
#define SCRIBBLE_REGIONS 4

struct scribble_region {
	uint32_t base, size;
};

extern volatile struct scribble_region fuzz_scribble[SCRIBBLE_REGIONS];

/* ---- the second vCPU (second_vcpu.c) ---------------------------------- */

/*
 * Copies the trampoline, sends INIT, SIPI, SIPI to APIC ID 1, and waits
 * (bounded) until the second vCPU runs its actions; gdt_base/gdt_limit is
 * the GDT both share (flat code at 0x08, data at 0x10).  seed seeds its
 * actions.  Returns true when it started.
 */
bool second_vcpu_start(uint64_t seed, uint32_t gdt_base, uint16_t gdt_limit, bool verbose);

#endif
