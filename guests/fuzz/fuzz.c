/*
 * The hostile guest of cvisor's fuzz mode (boot option fuzz=SEED:CASES,
 * platform/baremetal/fuzz.c).  cvisor boots it once per case with
 * "seed=N" on its command line; everything it does follows from that
 * seed, so a case replays from it (as far as its outcome does not depend
 * on time: APIC timers and TSC reads).
 *
 * It builds a GDT (kernel and user, 32- and 64-bit code, a TSS with a
 * random I/O permission bitmap), a 32-bit and an IA-32e IDT whose 256
 * gates all lead to sandbox.S's recovery, and identity page tables for
 * 32-bit, PAE and 4-level paging.  Then it performs a random sequence of
 * actions, each inside fuzz_try():
 *
 *  - a snippet of 1-4 instructions in a sandbox at CPL 0 or 3, in 32-bit
 *    or (in IA-32e mode) 64-bit code, with random register values: random
 *    bytes, or instructions picked from templates of everything cvisor
 *    intercepts or emulates (CPUID, VMCALL, IN/OUT/INS/OUTS, RDMSR/WRMSR,
 *    MOV CR, XSETBV, INVD, HLT, the VMX instructions, MMIO loads, stores
 *    and string forms) and of what stresses event delivery (INT n,
 *    exceptions, far jumps and segment loads with bad selectors, IRET,
 *    SYSENTER ...).  Register values aim at the sandbox, the APIC and
 *    debug-console pages, addresses outside RAM, MSR indices, ports and
 *    hypercall numbers;
 *  - a snippet that uses the local APIC as an interrupt source: its timer
 *    in each mode, IPIs to itself, EOI, TPR, SVR, then STI; HLT;
 *  - a snippet of port and MMIO accesses to the PC's devices at their
 *    architectural addresses (pc_devices.c): the 8259As and ELCR, the
 *    8254 and port 0x61, the RTC and CMOS, PCI configuration mechanism
 *    #1, the reset paths (0xCF9, port 0x92, the i8042; rarely asking for
 *    a reset), the ACPI PM blocks at 0x600 and 0xB000 (SLP_EN rarely),
 *    the UART and the I/O APIC page, following their programming models
 *    (initialization sequences, latches, indexed registers) with values
 *    those models do not expect mixed in;
 *  - in the two-vCPU mode ("vcpus=2", second_vcpu.c), a snippet that
 *    reaches the other vCPU: fixed IPIs, NMIs, INIT and SIPI, I/O APIC
 *    redirection entries followed by device activity that raises their
 *    line, EOIs, APIC setup; the second vCPU does the same to this one;
 *  - a snippet of the protection hypercalls (HC_PROTECT, HC_PIN_CR,
 *    HC_PIN_MSR, HC_PROTECT_EVENTS) with random arguments, followed by
 *    attacks on what they protected: stores, loads, read-modify-writes,
 *    string forms and jumps into the page, MOV to CR0/CR4 and WRMSR that
 *    clear pinned bits;
 *  - a hardware task switch (JMP, CALL, IRET with NT, INT n and exceptions
 *    through IDT task gates) over random TSS descriptors and TSS images,
 *    or MMIO and string accesses through a window of random page-table
 *    entries, sometimes under SMEP and SMAP (FOCUS_TASK_SWITCH,
 *    FOCUS_PAGE_WALK);
 *  - a paging-mode switch with random CR0/CR3/CR4/EFER values;
 *  - random changes to page-table entries outside the guest's own code;
 *  - rarely, a triple fault.
 *
 * Snippets run with EFLAGS.TF = 1 and end after a few single steps, so a
 * random jump or loop cannot run away; whatever faults is caught and the
 * next action starts.  Many actions end the VM instead (HLT with
 * interrupts off, MWAIT, a wild physical access, a triple fault, the
 * debug-exit port, HC_STOP): that is what the fuzzer wants to see cvisor
 * survive.  A guest that gets through all its actions stops with status 0.
 *
 * Command line: seed=N (the PRNG seed), actions=N (default 48),
 * focus=NAME (every snippet of that focus, focus_keys),
 * vcpus=2 (start the second vCPU, which cvisor created), and "verbose":
 * describe every action before taking it (cvisor adds it when it replays
 * one seed).
 */
#include <stddef.h>

#include "abi/hypercall.h"
#include "fuzz.h"
#include "guest.h"
#include "lib/format.h"
#include "lib/mem.h"
#include "x86_bits.h"

extern char _end[]; /* guests/lib/linker.ld */

/* ---- guest-physical layout (identity mapped in every paging mode) ---- */

#define SANDBOX_BASE      0x180000u /* above the image, below 2 MiB */
#define SANDBOX_SIZE      0x40000u
#define SANDBOX_CODE_SIZE 0x1000u   /* snippets go here */
#define SANDBOX_DATA      (SANDBOX_BASE + SANDBOX_CODE_SIZE)
#define SANDBOX_DATA_SIZE 0x30000u  /* random bytes: operands for LGDT, XRSTOR, IRET ... */
#define SANDBOX_RANDOM_DATA 0x4000u  /* of which the first bytes are random */
#define SANDBOX_STACK_TOP (SANDBOX_BASE + SANDBOX_SIZE - 0x100)
#define RAM_NEEDED        0x200000u

#define KERNEL_CS   0x08
#define KERNEL_DS   0x10
#define KERNEL_CS64 0x18
#define USER_CS     0x23
#define USER_DS     0x2B
#define USER_CS64   0x33
#define TSS_SEL     0x38
#define GDT_ENTRIES 16 /* 0x50 flat user data, 0x58-0x78 task-switch slots */


#define RFLAGS_TF   (1u << 8)
#define RFLAGS_IF   (1u << 9)
#define RFLAGS_DF   (1u << 10)
#define RFLAGS_IOPL (3u << 12)
#define RFLAGS_NT   (1u << 14)
#define RFLAGS_VM   (1u << 17)
#define RFLAGS_AC   (1u << 18)
#define RFLAGS_ARITH 0x8D5u /* CF PF AF ZF SF OF */

#define DEFAULT_ACTIONS 48

/* ---- what sandbox.S reads and writes ---------------------------------- */

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint32_t base;
};

/* Offsets are fixed in sandbox.S (ENTRY_*). */
struct fuzz_entry {
	uint64_t gpr[16]; /* x86 register numbers: RAX RCX RDX RBX RSP RBP RSI RDI R8-R15 */
	uint32_t rip, rsp, rflags, steps, cs, ss;
};

struct fuzz_mode {
	uint32_t cr0, cr3, cr4, efer_low, efer_high;
};

struct desc_ptr fuzz_gdt_ptr, fuzz_idt32_ptr, fuzz_idt64_ptr, fuzz_idt_down_ptr, fuzz_idt_up_ptr;
struct fuzz_entry fuzz_entry;
struct fuzz_mode fuzz_mode;
extern volatile uint32_t fuzz_ia32e, fuzz_trap_vector;
extern const uint32_t fuzz_isr32_table[256], fuzz_isr64_table[256];

int fuzz_try(void (*fn)(void));
void fuzz_enter_32(void);
void fuzz_enter_64(void);
void fuzz_set_mode(void);
void fuzz_triple_fault(void);
void fuzz_load_tables(uint32_t tss_selector);
void fuzz_unarmed_trap(uint32_t vector) __attribute__((noreturn));

/* ---- descriptor tables and page tables --------------------------------- */

struct __attribute__((packed)) tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
	uint8_t iomap[8192 + 1]; /* one bit per port, then the 0xFF end byte (SDM Vol. 1 19.5.2) */
};

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static uint64_t idt32[256] __attribute__((aligned(8)));
static uint64_t idt64[512] __attribute__((aligned(16)));
/* The IDTs across a CR0 write that leaves or enters IA-32e mode (sandbox.S,
 * fuzz_set_mode): valid for the write's own fault in the old mode and for
 * an NMI in either (the other vCPU sends NMIs at any time). */
static uint64_t idt_switch_down[512] __attribute__((aligned(16)));
static uint64_t idt_switch_up[256] __attribute__((aligned(16)));
static struct tss32 tss __attribute__((aligned(128)));
static uint8_t trap_stack[4096] __attribute__((aligned(16)));
static uint8_t ist_stack[4096] __attribute__((aligned(16)));

/* 32-bit paging: the low 4 MiB and the three device pages by 4 KiB pages
 * (the local and the I/O APIC share a page table). */
static uint32_t pd32[1024] __attribute__((aligned(4096)));
static uint32_t pt32_low[1024] __attribute__((aligned(4096)));
static uint32_t pt32_debug[1024] __attribute__((aligned(4096)));
static uint32_t pt32_apic[1024] __attribute__((aligned(4096)));
_Static_assert(IOAPIC_PAGE >> 22 == APIC_PAGE >> 22, "the APIC pages share pt32_apic");
/* PAE and 4-level paging share the page directories (2 MiB pages). */
static uint64_t pdpt_pae[4] __attribute__((aligned(32)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_high[512] __attribute__((aligned(4096)));
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt64[512] __attribute__((aligned(4096)));

static uint32_t ram_end;

/* ---- random numbers (fuzz.h): this vCPU's generator ------------------- */

static struct fuzz_rng rng;

static uint32_t next(void)
{
	return fuzz_rng_next(&rng);
}

/* Uniform in [0, n). */
static uint32_t below(uint32_t n)
{
	return fuzz_rng_below(&rng, n);
}

static bool one_in(uint32_t n)
{
	return fuzz_rng_one_in(&rng, n);
}

#define PICK(array) ((array)[below(sizeof(array) / sizeof((array)[0]))])

/* ---- values worth trying ---------------------------------------------- */

static const uint32_t special_values[] = {
	0, 1, 2, 3, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0xFFF, 0x1000, 0x1001, 0x7FFF, 0x8000, 0xFFFF,
	0x10000, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFF000, 0xFFFF0000,
};

/* The MSRs of docs/guest-contract.md, their neighbours, and some nobody emulates. */
static const uint32_t msr_indices[] = {
	0x0, 0x10, 0x1B, 0x3A, 0x48, 0x49, 0x8B, 0xE7, 0xE8, 0xFE, 0x10A, 0x174, 0x175, 0x176, 0x179,
	0x17A, 0x1A0, 0x1D9, 0x200, 0x201, 0x20E, 0x20F, 0x210, 0x250, 0x258, 0x259, 0x268, 0x26F,
	0x277, 0x2FF, 0x38F, 0x3F1, 0x400, 0x401, 0x402, 0x403, 0x404, 0x407, 0x408, 0x480, 0x485,
	0x48B, 0x491, 0x492, 0x6E0, 0x800, 0x802, 0x80F, 0x830, 0x8FF, 0x1FFF, 0x2000, 0x40000000,
	0x4B564D00, 0xC0000080, 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000100,
	0xC0000101, 0xC0000102, 0xC0000103, 0xC0001234, 0xC0001FFF, 0xC0002000, 0x12345678,
};

/* Every device port of the PC platform and its neighbours.  The reset
 * ports (0xCF9, 0x92) are left to FOCUS_DEVICES, which keeps their reset
 * bits rare: random values here would reset (end) too many cases. */
static const uint16_t ports[] = {
	0x20, 0x21, 0xA0, 0xA1, 0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0xE9,
	0x510, 0x511, 0x512, 0x8900, 0x60, 0x64, 0x70, 0x71, 0x80, 0xCF8, 0xCFC, 0x0, 0xFFFF,
	0xFFFE, 0x3F7, 0x400, 0x50F, 0xB004, 0x604,
	0x40, 0x41, 0x42, 0x43, 0x61, 0x4D0, 0x4D1, 0xCFA, 0xCFB, 0xCFD, 0xCFE, 0xCFF,
	0x600, 0x602, 0x608, 0x620, 0x63F, 0xB000, 0xB002, 0xB008, 0xB020, 0xB03F,
};

/* Segment selectors: every descriptor, with each RPL, the LDT, beyond the limit. */
static const uint16_t selectors[] = {
	0x00, 0x03, 0x04, 0x08, 0x0B, 0x10, 0x13, 0x18, 0x1B, 0x20, 0x23, 0x28, 0x2B, 0x30,
	0x33, 0x38, 0x3B, 0x40, 0x43, 0x48, 0x4B, 0x50, 0x57, 0xFFFF, 0xFFF8,
};

/* Registers of the local APIC page that cvisor emulates (and some it does not). */
static const uint16_t apic_registers[] = {
	0x20, 0x30, 0x80, 0x90, 0xA0, 0xB0, 0xD0, 0xE0, 0xF0, 0x100, 0x170, 0x180, 0x200,
	0x270, 0x280, 0x300, 0x310, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x380, 0x390,
	0x3E0, 0x3F0, 0xFF0, 0xFFC,
};

/* Whether this snippet aims at the device pages: outside the MMIO focus
 * they are rare, since most instruction forms on them end the VM (cvisor
 * emulates MOV, MOVZX/MOVSX, STOS and MOVS only). */
static bool aim_at_devices;

/* I/O APIC offsets: IOREGSEL, IOWIN, the EOI register, their neighbours. */
static const uint16_t ioapic_offsets[] = { 0x00, 0x00, 0x10, 0x10, 0x40, 0x04, 0x14, 0x20, 0x3C,
					   0x44, 0xFFC };

static uint32_t pick_device_address(void)
{
	switch (below(6)) {
	case 0: case 1:
		return APIC_PAGE + (one_in(3) ? below(4096) : PICK(apic_registers));
	case 2: case 3:
		return DEBUG_PAGE + (one_in(4) ? 4096 - 1 - below(8) : below(4096));
	default:
		return IOAPIC_PAGE + (one_in(4) ? below(4096) : PICK(ioapic_offsets) + below(4));
	}
}

static uint32_t pick_address(void)
{
	if (one_in(aim_at_devices ? 2 : 24))
		return pick_device_address();
	switch (below(8)) {
	case 0: case 1: case 2: case 3:
		return SANDBOX_DATA + below(SANDBOX_DATA_SIZE);
	case 4:
		return below(0xA0000);
	case 5: {
		/* Around the edges of RAM and of the device pages. */
		const uint32_t edges[] = { ram_end - 4, ram_end - 1, ram_end, ram_end + 0x1000,
					   0x9F000, 0x10000000, DEBUG_PAGE - 4, APIC_PAGE - 2,
					   APIC_PAGE + 0x1000, 0xFEC00000, 0xFED00000, 0xFFFFFFF0 };
		return PICK(edges);
	}
	default:
		return next();
	}
}

static uint32_t pick_value(void)
{
	switch (below(16)) {
	case 0: case 1: case 2: case 3: case 4: case 5:
		return pick_address();
	case 6: case 7:
		return PICK(msr_indices) + (one_in(4) ? below(3) - 1 : 0);
	case 8:
		return PICK(ports);
	case 9: case 10:
		return PICK(special_values);
	case 11:
		return below(16);
	case 12:
		return PICK(selectors);
	default:
		return next();
	}
}

/* ---- instruction templates ---------------------------------------------- */

enum operand_form {
	NO_OPERAND,
	MODRM_ANY,       /* ModRM, any mod, with SIB and displacement as encoded */
	MODRM_MEM,       /* a memory operand */
	MODRM_REG,       /* mod = 3 */
	IMM8,
	IMM16,
	MODRM_MEM_IMM8,
	MODRM_MEM_IMM32,
	FAR_POINTER,     /* ptr16:32 */
	MOFFS,           /* a 32-bit absolute address */
	IMM16_IMM8,      /* ENTER */
};

/* MEMORY: the forms cvisor's MMIO decoder emulates; MEMORY_OTHER: the
 * forms it refuses (ending the VM when they touch a device page). */
enum template_class { EXITING, PORT_IO, MSR_ACCESS, CONTROL_REG, MEMORY, MEMORY_OTHER,
		      CONTROL_FLOW, VMX };

#define ANY_REG 8

struct insn_template {
	uint8_t class, form, reg, len;
	uint8_t op[4];
	bool rare; /* usually ends the VM (or the guest's ability to recover): picked 1 time in 8 */
};

#define T(class, form, reg, ...) \
	{ class, form, reg, sizeof((const uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, false }
#define RARE(class, form, reg, ...) \
	{ class, form, reg, sizeof((const uint8_t[]){ __VA_ARGS__ }), { __VA_ARGS__ }, true }

static const struct insn_template templates[] = {
	/* Instructions that exit unconditionally or by cvisor's controls (SDM Vol. 3C 26.1). */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0xA2),             /* CPUID */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xC1),       /* VMCALL */
	RARE(EXITING, NO_OPERAND, 0, 0xF4),                   /* HLT */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x08),             /* INVD */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x09),             /* WBINVD */
	RARE(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xC8),       /* MONITOR */
	RARE(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xC9),       /* MWAIT */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x37),             /* GETSEC */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x31),             /* RDTSC */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xF9),       /* RDTSCP */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x33),             /* RDPMC */
	T(EXITING, NO_OPERAND, 0, 0xF3, 0x90),             /* PAUSE */
	T(EXITING, MODRM_REG, 6, 0x0F, 0xC7),              /* RDRAND */
	T(EXITING, MODRM_REG, 7, 0x0F, 0xC7),              /* RDSEED */
	T(EXITING, MODRM_MEM, 7, 0x0F, 0x01),              /* INVLPG */
	T(EXITING, MODRM_MEM, 0, 0x0F, 0xAE),              /* FXSAVE */
	T(EXITING, MODRM_MEM, 1, 0x0F, 0xAE),              /* FXRSTOR */
	T(EXITING, MODRM_MEM, 2, 0x0F, 0xAE),              /* LDMXCSR */
	T(EXITING, MODRM_MEM, 4, 0x0F, 0xAE),              /* XSAVE */
	T(EXITING, MODRM_MEM, 5, 0x0F, 0xAE),              /* XRSTOR */
	T(EXITING, MODRM_MEM, 7, 0x0F, 0xAE),              /* CLFLUSH */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xCA),       /* CLAC */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xCB),       /* STAC */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xEE),       /* RDPKRU */
	T(EXITING, NO_OPERAND, 0, 0x0F, 0x01, 0xEF),       /* WRPKRU */
	/* Port I/O, every size and form (SDM Vol. 2 IN, OUT, INS, OUTS). */
	T(PORT_IO, IMM8, 0, 0xE4), T(PORT_IO, IMM8, 0, 0xE5), T(PORT_IO, IMM8, 0, 0xE6),
	T(PORT_IO, IMM8, 0, 0xE7), T(PORT_IO, IMM8, 0, 0x66, 0xE5), T(PORT_IO, IMM8, 0, 0x66, 0xE7),
	T(PORT_IO, NO_OPERAND, 0, 0xEC), T(PORT_IO, NO_OPERAND, 0, 0xED),
	T(PORT_IO, NO_OPERAND, 0, 0xEE), T(PORT_IO, NO_OPERAND, 0, 0xEF),
	T(PORT_IO, NO_OPERAND, 0, 0x66, 0xED), T(PORT_IO, NO_OPERAND, 0, 0x66, 0xEF),
	T(PORT_IO, NO_OPERAND, 0, 0x6C), T(PORT_IO, NO_OPERAND, 0, 0x6D),
	T(PORT_IO, NO_OPERAND, 0, 0x6E), T(PORT_IO, NO_OPERAND, 0, 0x6F),
	T(PORT_IO, NO_OPERAND, 0, 0xF3, 0x6C), T(PORT_IO, NO_OPERAND, 0, 0xF3, 0x6D),
	T(PORT_IO, NO_OPERAND, 0, 0xF3, 0x6E), T(PORT_IO, NO_OPERAND, 0, 0xF3, 0x6F),
	T(PORT_IO, NO_OPERAND, 0, 0xF3, 0x66, 0x6D), T(PORT_IO, NO_OPERAND, 0, 0xF3, 0x66, 0x6F),
	T(PORT_IO, NO_OPERAND, 0, 0x67, 0xF3, 0x6E), T(PORT_IO, NO_OPERAND, 0, 0x26, 0x6E),
	T(PORT_IO, NO_OPERAND, 0, 0x64, 0xF3, 0x6F), T(PORT_IO, NO_OPERAND, 0, 0x67, 0x6D),
	/* MSRs. */
	T(MSR_ACCESS, NO_OPERAND, 0, 0x0F, 0x32), T(MSR_ACCESS, NO_OPERAND, 0, 0x0F, 0x30),
	/* Control and debug registers, XCR0, descriptor tables. */
	T(CONTROL_REG, MODRM_REG, ANY_REG, 0x0F, 0x22),    /* MOV to CRn */
	T(CONTROL_REG, MODRM_REG, ANY_REG, 0x0F, 0x20),    /* MOV from CRn */
	/* CR8 (REX.R with reg 0, 64-bit code; elsewhere INC/DEC ESP and CR0):
	 * the TPR shadow's VTPR, or an exit with apicv=off. */
	T(CONTROL_REG, MODRM_REG, 0, 0x44, 0x0F, 0x22),    /* MOV to CR8 */
	T(CONTROL_REG, MODRM_REG, 0, 0x44, 0x0F, 0x20),    /* MOV from CR8 */
	T(CONTROL_REG, MODRM_REG, ANY_REG, 0x0F, 0x23),    /* MOV to DRn */
	T(CONTROL_REG, MODRM_REG, ANY_REG, 0x0F, 0x21),    /* MOV from DRn */
	T(CONTROL_REG, NO_OPERAND, 0, 0x0F, 0x06),         /* CLTS */
	T(CONTROL_REG, MODRM_ANY, 6, 0x0F, 0x01),          /* LMSW */
	T(CONTROL_REG, MODRM_ANY, 4, 0x0F, 0x01),          /* SMSW */
	T(CONTROL_REG, NO_OPERAND, 0, 0x0F, 0x01, 0xD1),   /* XSETBV */
	T(CONTROL_REG, NO_OPERAND, 0, 0x0F, 0x01, 0xD0),   /* XGETBV */
	RARE(CONTROL_REG, MODRM_MEM, 2, 0x0F, 0x01),          /* LGDT */
	RARE(CONTROL_REG, MODRM_MEM, 3, 0x0F, 0x01),          /* LIDT */
	T(CONTROL_REG, MODRM_MEM, 0, 0x0F, 0x01),          /* SGDT */
	T(CONTROL_REG, MODRM_MEM, 1, 0x0F, 0x01),          /* SIDT */
	T(CONTROL_REG, MODRM_ANY, 2, 0x0F, 0x00),          /* LLDT */
	T(CONTROL_REG, MODRM_ANY, 3, 0x0F, 0x00),          /* LTR */
	T(CONTROL_REG, MODRM_ANY, 0, 0x0F, 0x00),          /* SLDT */
	T(CONTROL_REG, MODRM_ANY, 1, 0x0F, 0x00),          /* STR */
	T(CONTROL_REG, MODRM_ANY, 4, 0x0F, 0x00),          /* VERR */
	T(CONTROL_REG, MODRM_ANY, ANY_REG, 0x0F, 0x02),    /* LAR */
	T(CONTROL_REG, MODRM_ANY, ANY_REG, 0x0F, 0x03),    /* LSL */
	T(CONTROL_REG, NO_OPERAND, 0, 0x0F, 0x01, 0xF8),   /* SWAPGS */
	/* Memory forms: on the MMIO pages these go through cvisor's decoder. */
	T(MEMORY, MODRM_MEM, ANY_REG, 0x88), T(MEMORY, MODRM_MEM, ANY_REG, 0x89),
	T(MEMORY, MODRM_MEM, ANY_REG, 0x8A), T(MEMORY, MODRM_MEM, ANY_REG, 0x8B),
	T(MEMORY, MODRM_MEM, ANY_REG, 0x66, 0x89), T(MEMORY, MODRM_MEM, ANY_REG, 0x66, 0x8B),
	T(MEMORY, MODRM_MEM_IMM8, 0, 0xC6), T(MEMORY, MODRM_MEM_IMM32, 0, 0xC7),
	T(MEMORY, MODRM_MEM, ANY_REG, 0x0F, 0xB6), T(MEMORY, MODRM_MEM, ANY_REG, 0x0F, 0xB7),
	T(MEMORY, MODRM_MEM, ANY_REG, 0x0F, 0xBE), T(MEMORY, MODRM_MEM, ANY_REG, 0x0F, 0xBF),
	T(MEMORY, MOFFS, 0, 0xA0), T(MEMORY, MOFFS, 0, 0xA1), T(MEMORY, MOFFS, 0, 0xA2),
	T(MEMORY, MOFFS, 0, 0xA3), T(MEMORY, MOFFS, 0, 0x66, 0xA3),
	T(MEMORY, NO_OPERAND, 0, 0xA4), T(MEMORY, NO_OPERAND, 0, 0xA5),
	T(MEMORY, NO_OPERAND, 0, 0xF3, 0xA4), T(MEMORY, NO_OPERAND, 0, 0xF3, 0xA5),
	T(MEMORY, NO_OPERAND, 0, 0xF3, 0x66, 0xA5), T(MEMORY, NO_OPERAND, 0, 0xAA),
	T(MEMORY, NO_OPERAND, 0, 0xAB), T(MEMORY, NO_OPERAND, 0, 0xF3, 0xAA),
	T(MEMORY, NO_OPERAND, 0, 0xF3, 0xAB), T(MEMORY, NO_OPERAND, 0, 0x67, 0xF3, 0xAB),
	T(MEMORY_OTHER, NO_OPERAND, 0, 0xAC), T(MEMORY_OTHER, NO_OPERAND, 0, 0xF3, 0xAD),
	T(MEMORY_OTHER, NO_OPERAND, 0, 0xA6), T(MEMORY_OTHER, NO_OPERAND, 0, 0xAE),
	T(MEMORY_OTHER, MODRM_MEM, ANY_REG, 0x01), T(MEMORY_OTHER, MODRM_MEM, ANY_REG, 0x31),
	T(MEMORY_OTHER, MODRM_MEM, ANY_REG, 0x87), T(MEMORY_OTHER, MODRM_MEM, ANY_REG, 0x86),
	T(MEMORY_OTHER, MODRM_MEM, ANY_REG, 0x0F, 0xB1),
	T(MEMORY_OTHER, MODRM_MEM, ANY_REG, 0xF0, 0x0F, 0xC1),
	T(MEMORY_OTHER, MODRM_MEM, 1, 0x0F, 0xC7),         /* CMPXCHG8B */
	T(MEMORY_OTHER, MODRM_MEM_IMM8, 0, 0x83), T(MEMORY_OTHER, MODRM_MEM, 0, 0xFF),
	T(MEMORY_OTHER, MODRM_MEM, 6, 0xFF), T(MEMORY_OTHER, MODRM_MEM, 0, 0x8F),
	T(MEMORY_OTHER, MODRM_MEM_IMM8, 5, 0x0F, 0xBA),
	/* Events and control transfers (SDM Vol. 3A chapter 6). */
	T(CONTROL_FLOW, IMM8, 0, 0xCD),                    /* INT n */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0xCC),              /* INT3 */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0xCE),              /* INTO */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0xF1),              /* INT1 */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x0F, 0x0B),        /* UD2 */
	T(CONTROL_FLOW, MODRM_REG, 6, 0xF7),               /* DIV */
	T(CONTROL_FLOW, MODRM_REG, 7, 0xF7),               /* IDIV */
	T(CONTROL_FLOW, MODRM_MEM, ANY_REG, 0x62),         /* BOUND */
	T(CONTROL_FLOW, FAR_POINTER, 0, 0xEA),             /* JMP ptr16:32 */
	T(CONTROL_FLOW, FAR_POINTER, 0, 0x9A),             /* CALL ptr16:32 */
	T(CONTROL_FLOW, MODRM_MEM, 5, 0xFF),               /* JMP m16:32 */
	T(CONTROL_FLOW, MODRM_MEM, 3, 0xFF),               /* CALL m16:32 */
	T(CONTROL_FLOW, MODRM_REG, ANY_REG, 0x8E),         /* MOV Sreg, r */
	T(CONTROL_FLOW, MODRM_MEM, ANY_REG, 0x8E),         /* MOV Sreg, m */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0xCF),              /* IRET */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0xCB),              /* RETF */
	T(CONTROL_FLOW, IMM16, 0, 0xCA),                   /* RETF imm16 */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0xFB),              /* STI */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0xFA),              /* CLI */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x9D),              /* POPF */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x17),              /* POP SS */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x1F),              /* POP DS */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x0F, 0xA1),        /* POP FS */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x61),              /* POPA */
	T(CONTROL_FLOW, IMM16_IMM8, 0, 0xC8),              /* ENTER */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x0F, 0x34),        /* SYSENTER */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x0F, 0x35),        /* SYSEXIT */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x0F, 0x05),        /* SYSCALL */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x0F, 0x07),        /* SYSRET */
	T(CONTROL_FLOW, NO_OPERAND, 0, 0x0F, 0xFF),        /* UD0 */
	/* VMX instructions: #UD from cvisor (docs/guest-contract.md). */
	T(VMX, NO_OPERAND, 0, 0x0F, 0x01, 0xC2),           /* VMLAUNCH */
	T(VMX, NO_OPERAND, 0, 0x0F, 0x01, 0xC3),           /* VMRESUME */
	T(VMX, NO_OPERAND, 0, 0x0F, 0x01, 0xC4),           /* VMXOFF */
	T(VMX, NO_OPERAND, 0, 0x0F, 0x01, 0xD4),           /* VMFUNC */
	T(VMX, MODRM_ANY, ANY_REG, 0x0F, 0x78),            /* VMREAD */
	T(VMX, MODRM_ANY, ANY_REG, 0x0F, 0x79),            /* VMWRITE */
	T(VMX, MODRM_MEM, 6, 0x0F, 0xC7),                  /* VMPTRLD */
	T(VMX, MODRM_MEM, 6, 0x66, 0x0F, 0xC7),            /* VMCLEAR */
	T(VMX, MODRM_MEM, 6, 0xF3, 0x0F, 0xC7),            /* VMXON */
	T(VMX, MODRM_MEM, 7, 0x0F, 0xC7),                  /* VMPTRST */
	T(VMX, MODRM_MEM, ANY_REG, 0x66, 0x0F, 0x38),      /* INVEPT/INVVPID/INVPCID: next byte below */
};

#define TEMPLATE_COUNT (sizeof(templates) / sizeof(templates[0]))

/* ---- building a snippet -------------------------------------------------- */

static uint8_t *code, *code_end;
static bool snippet_64;
/* At CPL 0 outside IA-32e mode an exception on a wild stack is a triple
 * fault: register operands then mostly avoid ESP (loads, MOV from CR/DR). */
static bool protect_esp;

static void emit(uint8_t b)
{
	if (code < code_end)
		*code++ = b;
}

static void emit16(uint32_t v)
{
	emit((uint8_t)v);
	emit((uint8_t)(v >> 8));
}

static void emit32(uint32_t v)
{
	emit16(v);
	emit16(v >> 16);
}

static void emit_prefixes(void)
{
	static const uint8_t prefixes[] = { 0x66, 0x67, 0xF3, 0xF2, 0xF0, 0x2E, 0x36, 0x3E,
					    0x26, 0x64, 0x65 };
	while (one_in(aim_at_devices ? 12 : 5))
		emit(PICK(prefixes));
	if (snippet_64 && one_in(3))
		emit((uint8_t)(0x40 + below(16))); /* REX */
}

/* ModRM, SIB and displacement (SDM Vol. 2A 2.1.5). */
static void emit_modrm(enum operand_form form, unsigned reg)
{
	unsigned mod = form == MODRM_REG ? 3 : form == MODRM_ANY ? below(4) : below(3);
	unsigned rm = below(8), r = reg == ANY_REG ? below(8) : reg;

	if (protect_esp && reg == ANY_REG && r == 4)
		r = 5;
	if (protect_esp && mod == 3 && rm == 4)
		rm = 6;

	emit((uint8_t)(mod << 6 | r << 3 | rm));
	if (mod == 3)
		return;
	bool disp32 = mod == 2 || (mod == 0 && rm == 5);
	if (rm == 4) {
		unsigned base = below(8);
		emit((uint8_t)(below(4) << 6 | below(8) << 3 | base));
		if (mod == 0 && base == 5)
			disp32 = true;
	}
	if (mod == 1)
		emit(one_in(2) ? 0 : (uint8_t)next());
	else if (disp32)
		emit32(mod == 0 ? pick_address() : one_in(2) ? below(0x100) : pick_value());
}

static void emit_template(const struct insn_template *t)
{
	emit_prefixes();
	for (unsigned i = 0; i < t->len; i++)
		emit(t->op[i]);
	if (t->class == VMX && t->op[2] == 0x38)
		emit((uint8_t)(0x80 + below(3))); /* INVEPT, INVVPID, INVPCID */
	switch ((enum operand_form)t->form) {
	case NO_OPERAND:
		break;
	case MODRM_ANY:
	case MODRM_MEM:
	case MODRM_REG:
		emit_modrm((enum operand_form)t->form, t->reg);
		break;
	case IMM8:
		emit(t->class == PORT_IO ? (uint8_t)PICK(ports) : (uint8_t)next());
		break;
	case IMM16:
		emit16(next());
		break;
	case MODRM_MEM_IMM8:
		emit_modrm(MODRM_MEM, t->reg);
		emit((uint8_t)next());
		break;
	case MODRM_MEM_IMM32:
		emit_modrm(MODRM_MEM, t->reg);
		emit32(pick_value());
		break;
	case FAR_POINTER:
		emit32(one_in(2) ? SANDBOX_BASE + below(SANDBOX_CODE_SIZE) : pick_value());
		emit16(PICK(selectors));
		break;
	case MOFFS:
		emit32(pick_address());
		break;
	case IMM16_IMM8:
		emit16(below(0x100));
		emit((uint8_t)below(4));
		break;
	}
}

static const struct insn_template *pick_template(int class)
{
	for (;;) {
		const struct insn_template *t = &templates[below(TEMPLATE_COUNT)];
		if ((class < 0 || t->class == class) && (!t->rare || one_in(8)))
			return t;
	}
}

static void emit_random_bytes(void)
{
	unsigned n = 1 + below(12);
	emit_prefixes();
	for (unsigned i = 0; i < n; i++)
		emit((uint8_t)next());
}

/* What an action concentrates on: the instruction classes and the registers. */
enum focus { FOCUS_RANDOM_BYTES, FOCUS_MIXED, FOCUS_HYPERCALL, FOCUS_PORT, FOCUS_MMIO,
	     FOCUS_MSR, FOCUS_CONTROL_REG, FOCUS_EVENTS, FOCUS_VMX, FOCUS_APIC, FOCUS_DEVICES,
	     FOCUS_SMP, FOCUS_PROTECT, FOCUS_TASK_SWITCH, FOCUS_PAGE_WALK, FOCUSES };

/*
 * FOCUS_DEVICES: access sequences for the PC's devices (pc_devices.c: the
 * 8259As, the 8254, the RTC, PCI configuration, the reset paths, the ACPI
 * PM blocks, the UART, the I/O APIC), about one snippet in nine.
 * FOCUS_SMP: IPIs, NMIs, INIT/SIPI and I/O APIC routes to the other vCPU,
 * only in the two-vCPU mode.
 * FOCUS_PROTECT: the protection hypercalls with random arguments, then
 * attacks on what they protected (emit_protect_snippet).
 * FOCUS_TASK_SWITCH, FOCUS_PAGE_WALK: task switches and accesses through
 * a window of random page-table entries (emit_task_snippet,
 * emit_walk_snippet).
 *
 * "focus=NAME" on the command line (focus_keys) makes every snippet of the
 * case one of that focus.
 */
static const uint8_t focus_weights[FOCUSES] = {
	[FOCUS_RANDOM_BYTES] = 12, [FOCUS_MIXED] = 14, [FOCUS_HYPERCALL] = 10, [FOCUS_PORT] = 10,
	[FOCUS_MMIO] = 16, [FOCUS_MSR] = 12, [FOCUS_CONTROL_REG] = 10, [FOCUS_EVENTS] = 10,
	[FOCUS_VMX] = 3, [FOCUS_APIC] = 10, [FOCUS_DEVICES] = 14, [FOCUS_SMP] = 12,
	[FOCUS_PROTECT] = 10, [FOCUS_TASK_SWITCH] = 8, [FOCUS_PAGE_WALK] = 8,
};

static const char *const focus_keys[FOCUSES] = {
	[FOCUS_RANDOM_BYTES] = "bytes", [FOCUS_MIXED] = "mixed", [FOCUS_HYPERCALL] = "hypercall",
	[FOCUS_PORT] = "port", [FOCUS_MMIO] = "mmio", [FOCUS_MSR] = "msr",
	[FOCUS_CONTROL_REG] = "cr", [FOCUS_EVENTS] = "events", [FOCUS_VMX] = "vmx",
	[FOCUS_APIC] = "apic", [FOCUS_DEVICES] = "devices", [FOCUS_SMP] = "smp",
	[FOCUS_PROTECT] = "protect", [FOCUS_TASK_SWITCH] = "task", [FOCUS_PAGE_WALK] = "pagewalk",
};

/* The focus=NAME of the command line, or FOCUSES for a random one each snippet. */
static enum focus forced_focus = FOCUSES;

/* "vcpus=2" on the command line: vCPU 1 runs second_vcpu.c's worker. */
static bool two_vcpus;

/* An absolute 32-bit address operand: ModRM mod 00 r/m 100 (a SIB byte
 * follows), SIB 0x25 (no base, no index): disp32 (SDM Vol. 2A 2.1.5).  In
 * 64-bit code the disp32 would be sign-extended to 64 bits (0xFFFFFFFFFEE00000,
 * which the guest does not map): the address-size prefix 67 keeps the
 * address at 32 bits (Vol. 2A 2.2.1.3).  The caller emits the opcode
 * after prefix_absolute() and before operand_absolute(). */
static void prefix_absolute(void)
{
	if (snippet_64)
		emit(0x67);
}

static void operand_absolute(unsigned reg, uint32_t address)
{
	emit((uint8_t)(0x04 | reg << 3));
	emit(0x25);
	emit32(address);
}

/* MOV DWORD [APIC_PAGE + reg], imm32 (C7 /0). */
static void emit_apic_write(uint32_t reg, uint32_t value)
{
	prefix_absolute();
	emit(0xC7);
	operand_absolute(0, APIC_PAGE + reg);
	emit32(value);
}

/* ---- PC devices and the other vCPU: access sequences as instructions ---- */

static struct device_ops snippet_ops; /* the last sequence, for a replay's description */
static const char *snippet_ops_name;

/* One access of a sequence (fuzz.h) as MOV EAX/EDX, imm32 and IN/OUT (the
 * imm8 port forms for ports below 0x100 half the time), or MOV to or from
 * an absolute address.  Returns the number of instructions. */
static unsigned emit_device_op(const struct device_op *op)
{
	bool write = op->kind == OP_PORT_WRITE || op->kind == OP_MMIO_WRITE;
	unsigned instructions = 1;

	if (op->kind == OP_PORT_WRITE || op->kind == OP_PORT_READ) {
		bool imm8 = op->address < 0x100 && one_in(2);
		if (write) {
			emit(0xB8); /* MOV EAX, imm32 */
			emit32(op->value);
			instructions++;
		}
		if (!imm8) {
			emit(0xBA); /* MOV EDX, imm32 */
			emit32(op->address);
			instructions++;
		}
		if (op->size == 2)
			emit(0x66);
		/* IN AL/eAX, imm8 (E4/E5), OUT imm8, AL/eAX (E6/E7), IN from DX
		 * (EC/ED), OUT to DX (EE/EF). */
		uint8_t opcode = imm8 ? (write ? 0xE6 : 0xE4) : (write ? 0xEE : 0xEC);
		emit((uint8_t)(opcode + (op->size != 1)));
		if (imm8)
			emit((uint8_t)op->address);
		return instructions;
	}
	prefix_absolute();
	if (op->size == 2)
		emit(0x66);
	if (write) {
		emit(op->size == 1 ? 0xC6 : 0xC7); /* MOV r/m, imm */
		operand_absolute(0, op->address);
		if (op->size == 1)
			emit((uint8_t)op->value);
		else if (op->size == 2)
			emit16(op->value);
		else
			emit32(op->value);
	} else {
		emit(op->size == 1 ? 0x8A : 0x8B); /* MOV AL/eAX, r/m */
		operand_absolute(0, op->address);
	}
	return instructions;
}

/*
 * A device or SMP snippet: one or two sequences, then sometimes a wait
 * for what they may have raised (STI; HLT, or STI and PAUSEs).  Returns
 * the number of instructions, which sets the single-step budget.
 */
static unsigned emit_device_snippet(enum focus focus)
{
	unsigned instructions = 0;

	snippet_ops.count = 0;
	if (focus == FOCUS_SMP) {
		enum smp_action action = smp_action_pick(&rng);
		smp_sequence(&rng, action, 0, 1, &snippet_ops);
		snippet_ops_name = smp_action_names[action];
	} else {
		enum pc_device device = pc_device_pick(&rng);
		pc_device_sequence(&rng, device, &snippet_ops);
		snippet_ops_name = pc_device_names[device];
		if (one_in(4)) /* and a second device */
			pc_device_sequence(&rng, pc_device_pick(&rng), &snippet_ops);
	}
	for (unsigned i = 0; i < snippet_ops.count; i++)
		instructions += emit_device_op(&snippet_ops.op[i]);
	/* A wait that nothing may end runs into the watchdog: one time in four. */
	switch (below(8)) {
	case 0:
		emit(0xFB); /* STI; HLT */
		emit(0xF4);
		instructions += 2;
		break;
	case 1:
		emit(0xFB); /* STI; PAUSE; PAUSE */
		emit(0xF3);
		emit(0x90);
		emit(0xF3);
		emit(0x90);
		instructions += 3;
		break;
	default:
		break;
	}
	return instructions;
}

/* ---- protection: HC_PROTECT, HC_PIN_CR, HC_PIN_MSR, HC_PROTECT_EVENTS ---- */

/* Pages the protection snippets aim at most: the top of the sandbox data,
 * which other snippets also read and write. */
#define VICTIM_SIZE 0x8000u
#define VICTIM_BASE (SANDBOX_DATA + SANDBOX_DATA_SIZE - VICTIM_SIZE)

/* MOV r32, imm32 (B8+r); in 64-bit code the value is zero-extended. */
static unsigned emit_mov_imm(unsigned reg, uint32_t value)
{
	emit((uint8_t)(0xB8 + reg));
	emit32(value);
	return 1;
}

/* RAX = number, RBX, RCX, RDX, RSI = the arguments, then VMCALL. */
static unsigned emit_hypercall(uint32_t number, uint32_t rbx, uint32_t rcx, uint32_t rdx,
			       uint32_t rsi)
{
	emit_mov_imm(0, number);
	emit_mov_imm(3, rbx);
	emit_mov_imm(1, rcx);
	emit_mov_imm(2, rdx);
	emit_mov_imm(6, rsi);
	emit(0x0F);
	emit(0x01);
	emit(0xC1);
	return 6;
}

/* A page to protect: mostly a victim page; sometimes the snippets' own
 * code, the stack, the guest's tables that the CPU itself reads and writes
 * (GDT, IDT, TSS, page tables: their violations come from event delivery
 * and page walks), anywhere, or misaligned. */
static uint32_t protect_target(void)
{
	uint32_t page;

	switch (below(16)) {
	case 0:
		page = SANDBOX_BASE;
		break;
	case 1:
		page = (uint32_t)(uintptr_t)PICK(((const void *const[]){ gdt, idt32, idt64, &tss, pd32,
									 pt32_low, pd_low, pml4, pdpt64 }));
		break;
	case 2:
		page = SANDBOX_STACK_TOP - 0x1000;
		break;
	case 3:
		page = pick_address();
		break;
	default:
		page = VICTIM_BASE + below(VICTIM_SIZE / 0x1000) * 0x1000;
		break;
	}
	page &= ~0xFFFu;
	return one_in(16) ? page + below(0x1000) : page;
}

/* HC_PROTECT's permissions: the valid ones mostly (execute-only where the
 * CPU allows it), sometimes none, write without read, or undefined bits. */
static uint32_t protect_permissions(void)
{
	static const uint8_t valid[] = { HC_PROT_READ, HC_PROT_READ | HC_PROT_EXEC, HC_PROT_EXEC,
					 HC_PROT_READ | HC_PROT_WRITE,
					 HC_PROT_READ | HC_PROT_WRITE | HC_PROT_EXEC };
	static const uint32_t invalid[] = { 0, HC_PROT_WRITE, HC_PROT_WRITE | HC_PROT_EXEC, 8, 0xFF };
	return one_in(8) ? (one_in(2) ? next() : PICK(invalid)) : PICK(valid);
}

static uint32_t protect_policy(void)
{
	if (one_in(16))
		return one_in(2) ? HC_POLICY_STOP + 1 : next();
	/* stop ends the case at the first violation: rarer. */
	return one_in(6) ? HC_POLICY_STOP : below(2) ? HC_POLICY_DENY : HC_POLICY_LOG;
}

/* One access to protected (or any) memory at address: a store or load
 * cvisor emulates, an instruction it does not (ADD, XCHG), string forms, or
 * a jump into the page.  Returns the number of instructions. */
static unsigned emit_attack_memory(uint32_t address)
{
	switch (below(9)) {
	case 0: /* MOV [address], EAX */
	case 1:
		prefix_absolute();
		emit(0x89);
		operand_absolute(0, address);
		return 1;
	case 2: /* MOV EAX, [address] */
		prefix_absolute();
		emit(0x8B);
		operand_absolute(0, address);
		return 1;
	case 3: /* ADD [address], EAX: read-modify-write, not emulated */
		prefix_absolute();
		emit(0x01);
		operand_absolute(0, address);
		return 1;
	case 4: /* LOCK XCHG [address], EAX */
		emit(0xF0);
		prefix_absolute();
		emit(0x87);
		operand_absolute(0, address);
		return 1;
	case 5: /* REP STOSB at address */
		emit_mov_imm(7, address);
		emit_mov_imm(1, below(2) ? below(16) : 0x1000 + below(16));
		if (snippet_64)
			emit(0x67); /* EDI, ECX */
		emit(0xF3);
		emit(0xAA);
		return 3;
	case 6: /* REP MOVSD from address to a victim page, or the reverse */
		emit_mov_imm(6, one_in(2) ? address : VICTIM_BASE + below(VICTIM_SIZE - 64));
		emit_mov_imm(7, one_in(2) ? address : VICTIM_BASE + below(VICTIM_SIZE - 64));
		emit_mov_imm(1, below(16));
		if (snippet_64)
			emit(0x67);
		emit(0xF3);
		emit(0xA5);
		return 4;
	default: /* CALL or JMP EAX into the page: an instruction fetch */
		emit_mov_imm(0, address);
		emit(0xFF);
		emit(one_in(2) ? 0xD0 : 0xE0);
		return 2;
	}
}

/* Pins bits of CR0 or CR4 (sometimes bits that are clear or not
 * pinnable), then clears them: MOV EAX, CRn; AND EAX, ~bits; MOV CRn, EAX. */
static unsigned emit_attack_control_register(void)
{
	bool cr4 = one_in(2);
	/* CR4: UMIP (11), FSGSBASE (16), SMEP (20), SMAP (21), PKE (22). */
	static const uint32_t cr4_bits[] = { 1u << 11, 1u << 16, 1u << 20, 1u << 21, 1u << 22,
					     (1u << 20) | (1u << 21), 1u << 5 };
	uint32_t bits = one_in(8) ? next() : cr4 ? PICK(cr4_bits) : CR0_WP;
	unsigned n = 0;

	if (one_in(4)) { /* set them first, so that the pin takes */
		emit(0x0F);
		emit(0x20);
		emit(cr4 ? 0xE0 : 0xC0); /* MOV EAX, CR0/CR4 */
		emit(0x0D);              /* OR EAX, imm32 */
		emit32(bits);
		emit(0x0F);
		emit(0x22);
		emit(cr4 ? 0xE0 : 0xC0); /* MOV CR0/CR4, EAX */
		n += 3;
	}
	n += emit_hypercall(HC_PIN_CR, one_in(16) ? below(9) : cr4 ? 4 : 0, bits, 0, 0);
	emit(0x0F);
	emit(0x20);
	emit(cr4 ? 0xE0 : 0xC0);
	emit(0x25); /* AND EAX, imm32 */
	emit32(one_in(4) ? next() : ~bits);
	if (!cr4 && one_in(4)) {
		emit(0x0F); /* LMSW AX, or CLTS */
		emit(0x01);
		emit(0xF0);
	} else {
		emit(0x0F);
		emit(0x22);
		emit(cr4 ? 0xE0 : 0xC0);
	}
	return n + 3;
}

/* Pins an MSR (sometimes one HC_PIN_MSR does not take), then changes it:
 * RDMSR, clear or flip bits, WRMSR. */
static unsigned emit_attack_msr(void)
{
	static const uint32_t msrs[] = { 0xC0000080 /* IA32_EFER */, 0xC0000082 /* IA32_LSTAR */,
					 0x176 /* IA32_SYSENTER_EIP */, 0x174, 0xC0000081 };
	uint32_t msr = PICK(msrs);
	unsigned n = emit_hypercall(HC_PIN_MSR, msr, 0, 0, 0);

	n += emit_mov_imm(1, msr);
	emit(0x0F); /* RDMSR */
	emit(0x32);
	if (msr == 0xC0000080 && !one_in(4)) {
		emit(0x25); /* AND EAX, ~NXE */
		emit32(~(uint32_t)EFER_NXE);
	} else {
		emit(0x35); /* XOR EAX, imm32 */
		emit32(one_in(2) ? 0x1000 : next());
	}
	emit(0x0F); /* WRMSR */
	emit(0x30);
	return n + 3;
}

/*
 * FOCUS_PROTECT: HC_PROTECT with random arguments (mostly a page of the
 * sandbox, valid permissions and policies), then one to three attacks on
 * it, a CR or MSR pin and its attack, or HC_PROTECT_EVENTS into a random
 * buffer (a protected one included).  The protection lasts for the rest of
 * the case (it is one-way), so later snippets meet it too.  Returns the
 * number of instructions.
 */
static unsigned emit_protect_snippet(void)
{
	unsigned n = 0;
	uint32_t target = protect_target();

	switch (below(8)) {
	case 0:
		return emit_attack_control_register();
	case 1:
		return emit_attack_msr();
	case 2: {
		uint32_t buffer = one_in(2) ? VICTIM_BASE + below(VICTIM_SIZE - 0x400) : pick_address();
		return emit_hypercall(HC_PROTECT_EVENTS, buffer, one_in(4) ? next() : below(8), 0, 0);
	}
	default:
		break;
	}
	uint32_t length = one_in(8) ? next() : (1 + (one_in(4) ? below(4) : 0)) * 0x1000;
	n += emit_hypercall(HC_PROTECT, target, length, protect_permissions(), protect_policy());
	for (unsigned i = 1 + below(3); i > 0; i--)
		n += emit_attack_memory((target & ~0xFFFu) + below(0x1000 - 8));
	return n;
}

/* An interrupt vector: mostly valid (32-255), sometimes one the APIC
 * refuses (0-15) or an exception vector (16-31). */
static uint32_t apic_vector(void)
{
	return one_in(8) ? below(32) : 32 + below(224);
}

/*
 * The local APIC as an interrupt source (SDM Vol. 3A 11.5.4, 11.6): arm the
 * timer in one of its modes, send an IPI to itself, write EOI, TPR or SVR;
 * then often enable interrupts and wait, with HLT or a PAUSE.  Whatever
 * arrives ends the snippet through the IDT.
 */
static void emit_apic_snippet(void)
{
	unsigned writes = 1 + below(3);
	bool event_coming = false; /* something should arrive: HLT may wait for it */

	if (!one_in(4)) {
		/* Open the APIC up first: software-enabled, TPR 0, the interrupt in
		 * service (if any) acknowledged. */
		emit_apic_write(0xF0, 0x1FF);
		emit_apic_write(0x80, 0);
		emit_apic_write(0xB0, 0);
	}
	for (unsigned i = 0; i < writes; i++) {
		switch (below(8)) {
		case 0: case 1: case 2: {
			/* LVT timer: mode one-shot, periodic, TSC-deadline (or the reserved 3). */
			uint32_t mode = one_in(8) ? 3 : below(3);
			emit_apic_write(0x3E0, one_in(4) ? 0xB /* divide by 1 */ : below(16));
			emit_apic_write(0x320, apic_vector() | mode << 17 | (one_in(8) ? 1u << 16 : 0));
			if (mode == 2) {
				/* IA32_TSC_DEADLINE = TSC + a little: RDTSC; ADD EAX, imm32;
				 * MOV ECX, 0x6E0; WRMSR. */
				emit(0x0F);
				emit(0x31);
				emit(0x05);
				emit32(below(20000));
				emit(0xB9);
				emit32(0x6E0);
				emit(0x0F);
				emit(0x30);
			} else {
				/* Periodic with a tiny count is an interrupt storm: rarer. */
				uint32_t count = one_in(4) ? next()
						 : mode != 1 ? below(4000)
						 : one_in(8) ? below(8) : 2000 + below(20000);
				emit_apic_write(0x380, count);
				event_coming |= count < 4000;
			}
			break;
		}
		case 3: case 4: {
			/* ICR: fixed, lowest priority, NMI, INIT (rarely: it parks the
			 * only vCPU), start-up; the self, all and all-but-self shorthands. */
			static const uint32_t modes[] = { 0, 0, 0, 1, 4, 4, 6, 2, 7 };
			uint32_t mode = one_in(32) ? 5 : PICK(modes);
			/* With a second vCPU, start-up IPIs mostly name its trampoline. */
			uint32_t vector = mode == 6 && two_vcpus && !one_in(4) ? SIPI_VECTOR : apic_vector();
			emit_apic_write(0x310, one_in(2) ? 0 : next() & 0xFF000000u);
			emit_apic_write(0x300, vector | mode << 8 | (next() & (1u << 11 | 1u << 14 | 1u << 15)) |
					       below(4) << 18);
			event_coming = true;
			break;
		}
		case 5:
			emit_apic_write(0xB0, 0); /* EOI */
			break;
		case 6:
			emit_apic_write(0x80, below(256)); /* TPR */
			break;
		default:
			emit_apic_write(0xF0, (one_in(8) ? 0 : 1u << 8) | below(256)); /* SVR */
			break;
		}
	}
	switch (below(4)) {
	case 0:
		if (!event_coming && !one_in(16))
			break;
		emit(0xFB); /* STI; HLT: sleep until something arrives */
		emit(0xF4);
		break;
	case 1:
		emit(0xFB); /* STI; PAUSE; PAUSE */
		emit(0xF3);
		emit(0x90);
		emit(0xF3);
		emit(0x90);
		break;
	default:
		break;
	}
}

static unsigned focus_weight(unsigned focus)
{
	return focus == FOCUS_SMP && !two_vcpus ? 0 : focus_weights[focus];
}

static enum focus pick_focus(void)
{
	if (forced_focus != FOCUSES && focus_weight(forced_focus))
		return forced_focus;
	unsigned total = 0;
	for (unsigned i = 0; i < FOCUSES; i++)
		total += focus_weight(i);
	unsigned r = below(total);
	for (unsigned i = 0; i < FOCUSES; i++) {
		if (r < focus_weight(i))
			return (enum focus)i;
		r -= focus_weight(i);
	}
	return FOCUS_MIXED;
}

static uint32_t hypercall_number(void)
{
	unsigned r = below(64);
	if (r < 56)
		return r % 6 == HC_STOP ? HC_PRINT_STRING : r % 6;
	if (r < 57)
		return HC_STOP;
	return r < 60 ? 6 + below(4) : next();
}

static uint32_t xcr0_value(void)
{
	/* x87, SSE, AVX, MPX, AVX-512, PKRU, AMX: legal and illegal mixes. */
	static const uint32_t values[] = { 1, 3, 7, 0xE7, 0x207, 0x2E7, 0, 2, 5, 0x1F, 0x27,
					   0x67, 0x9, 0x11, 0x19, 0x60007, 0x20007, 0x200 };
	return one_in(4) ? next() : PICK(values);
}

static uint32_t control_register_value(void)
{
	switch (below(4)) {
	case 0:
		return CR0_PE | CR0_ET | (next() & (CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP |
						    CR0_AM | CR0_NW | CR0_CD | CR0_PG));
	case 1:
		return next() & 0x007F7FFF; /* CR4-looking */
	case 2:
		return (uint32_t)(uintptr_t)PICK(((const void *const[]){ pd32, pdpt_pae, pml4 }));
	default:
		return next();
	}
}

static void randomize_registers(enum focus focus)
{
	uint64_t *g = fuzz_entry.gpr;

	for (unsigned i = 0; i < 16; i++) {
		uint32_t high = 0;
		if (snippet_64)
			high = one_in(2) ? 0 : one_in(2) ? 0xFFFFFFFFu : next();
		g[i] = (uint64_t)high << 32 | pick_value();
	}
	/* RCX is the count of REP string forms: cvisor emulates up to 4096
	 * iterations per exit, so a huge one mostly just runs into the
	 * watchdog. */
	if (!one_in(4))
		g[1] = below(32);
	switch (focus) {
	case FOCUS_HYPERCALL:
		g[0] = hypercall_number();
		g[3] = one_in(2) ? pick_address() : one_in(2) ? below(0x100) : pick_value();
		g[1] = one_in(2) ? PICK(((const uint32_t[]){ 0, 1, 80, 4095, 4096, 4097, 0xFFFFFFFF }))
				 : pick_value();
		break;
	case FOCUS_PORT:
		g[2] = PICK(ports);
		g[1] = one_in(8) ? pick_value() : below(9); /* REP counts: huge ones are slow */
		g[6] = one_in(2) ? SANDBOX_DATA + below(SANDBOX_DATA_SIZE) : pick_address();
		g[7] = one_in(2) ? SANDBOX_DATA + below(SANDBOX_DATA_SIZE) : pick_address();
		break;
	case FOCUS_MMIO:
		for (unsigned i = 0; i < 8; i++)
			if (i != 4 && !one_in(4))
				g[i] = pick_device_address() - (one_in(4) ? below(4) : 0);
		g[1] = one_in(8) ? g[1] : below(20); /* REP counts: most stay on the page */
		break;
	case FOCUS_MSR:
		g[1] = PICK(msr_indices);
		if (one_in(3))
			g[0] = 0, g[2] = 0;
		break;
	case FOCUS_CONTROL_REG:
		for (unsigned i = 0; i < 8; i++)
			if (i != 4 && one_in(2))
				g[i] = control_register_value();
		if (one_in(2)) {
			g[1] = one_in(4) ? below(3) : 0;
			g[0] = xcr0_value();
			g[2] = one_in(4) ? next() : 0;
		} else if (one_in(3)) {
			g[1] = 0xC0000080; /* IA32_EFER */
			g[0] = next() & (one_in(2) ? 0xD01 : 0xFFFFFFFF);
			g[2] = one_in(4) ? next() : 0;
		}
		break;
	default:
		break;
	}
}

static enum template_class focus_class(enum focus focus)
{
	switch (focus) {
	case FOCUS_HYPERCALL:
	case FOCUS_RANDOM_BYTES:
	case FOCUS_MIXED:
		return EXITING;
	case FOCUS_PORT:
		return PORT_IO;
	case FOCUS_MMIO:
		return MEMORY;
	case FOCUS_MSR:
		return MSR_ACCESS;
	case FOCUS_CONTROL_REG:
		return CONTROL_REG;
	case FOCUS_EVENTS:
		return CONTROL_FLOW;
	case FOCUS_VMX:
		return VMX;
	case FOCUS_APIC:
		return MEMORY;
	case FOCUS_DEVICES:
	case FOCUS_SMP:
	case FOCUS_PROTECT:
	case FOCUS_TASK_SWITCH:
	case FOCUS_PAGE_WALK:
	case FOCUSES:
		return PORT_IO; /* unused: emit_device_snippet and emit_protect_snippet build these */
	}
	return EXITING;
}

static uint32_t snippet_rflags(bool user)
{
	uint32_t f = 0x2 | RFLAGS_TF | (next() & RFLAGS_ARITH);
	if (one_in(3))
		f |= RFLAGS_IF;
	if (one_in(8))
		f |= RFLAGS_DF;
	if (user && one_in(3))
		f |= RFLAGS_IOPL;
	if (one_in(16))
		f |= RFLAGS_AC;
	if (one_in(64))
		f |= RFLAGS_NT;
	/* IRET at CPL 0 with EFLAGS.VM = 1 enters virtual-8086 mode (SDM Vol. 3A 20.2.5). */
	if (!user && !fuzz_ia32e && one_in(64))
		f |= RFLAGS_VM;
	return f;
}

static unsigned traps_seen[256];

static void write_apic_eoi(void)
{
	*(volatile uint32_t *)(uintptr_t)(APIC_PAGE + 0xB0) = 0;
}
/* "verbose" on the command line (cvisor adds it when it replays one seed):
 * every action is described before it runs. */
static bool verbose;
static unsigned action_number;

static const char *const focus_names[] = {
	[FOCUS_RANDOM_BYTES] = "random bytes", [FOCUS_MIXED] = "mixed", [FOCUS_HYPERCALL] = "hypercall",
	[FOCUS_PORT] = "port I/O", [FOCUS_MMIO] = "MMIO", [FOCUS_MSR] = "MSR",
	[FOCUS_CONTROL_REG] = "control registers", [FOCUS_EVENTS] = "events", [FOCUS_VMX] = "VMX",
	[FOCUS_APIC] = "APIC timer and IPIs", [FOCUS_DEVICES] = "PC devices",
	[FOCUS_SMP] = "the other vCPU", [FOCUS_PROTECT] = "protection",
	[FOCUS_TASK_SWITCH] = "task switch", [FOCUS_PAGE_WALK] = "page walk",
};

static void describe_snippet(enum focus focus, uint32_t start)
{
	char hex[3 * 48 + 1];
	size_t n = 0;
	const uint8_t *p = (const uint8_t *)(uintptr_t)start;
	for (; p < code && n + 3 < sizeof(hex); p++)
		n += fmt_snprintf(hex + n, sizeof(hex) - n, "%02x ", *p);
	say("action %u: %s at CPL %u, %s, %u step(s), RFLAGS 0x%x, at 0x%x: %s", action_number,
	    focus_names[focus], fuzz_entry.cs & 3, snippet_64 ? "64-bit" : "32-bit",
	    fuzz_entry.steps, fuzz_entry.rflags, start, hex);
	const uint64_t *g = fuzz_entry.gpr;
	say("  RAX 0x%llx RCX 0x%llx RDX 0x%llx RBX 0x%llx RSP 0x%x RBP 0x%llx RSI 0x%llx RDI 0x%llx",
	    (unsigned long long)g[0], (unsigned long long)g[1], (unsigned long long)g[2],
	    (unsigned long long)g[3], fuzz_entry.rsp, (unsigned long long)g[5],
	    (unsigned long long)g[6], (unsigned long long)g[7]);
}

static uint64_t segment(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
static void reload_cr3(void);

/* ---- task switches and the guest page walk -------------------------------- */

/*
 * FOCUS_TASK_SWITCH: hardware task switches, which cvisor emulates
 * (core/exit/task_switch.c, SDM Vol. 3A 7.3): GDT slots with random TSS
 * descriptors (32- and 16-bit, available and busy, and wrong types; bases
 * in RAM, across its end, outside it, over the device pages or in the
 * fuzzed linear window; limits around the least ones, 0x67 and 0x2B) and
 * task gates, TSS images with random selectors, CR3, EFLAGS (VM and NT
 * included), EIP, LDT selector and T flag, then JMP or CALL to a TSS or a
 * task gate, IRET with NT and a random back link, INT n and exceptions (with
 * and without an error code) through IDT task gates.
 *
 * FOCUS_PAGE_WALK: MMIO and string accesses (which cvisor emulates after
 * its own walk of the guest's page tables, core/mm/guest_paging.c) through
 * a linear window whose page-table entries get random flags: not present,
 * read-only (CR0.WP random), user or supervisor, reserved bits, XD with and
 * without EFER.NXE, large pages; sometimes with CR4.SMEP and CR4.SMAP on
 * and EFLAGS.AC set or cleared (STAC, CLAC).
 *
 * In the two-vCPU mode the second vCPU flips bits in the GDT slots, the TSS
 * images and the window's page tables meanwhile (fuzz.h, fuzz_scribble).
 * A new task starts at a landing pad in the sandbox code page (or, in
 * virtual-8086 mode, below 1 MiB) that traps, returns with IRET (NT) or
 * jumps back; the trap recovers as any snippet does, and task_restore()
 * then gives the guest its own TSS, LDTR, IDT, CR3 and CR4 back.
 */
#define FLAT_USER_DS    0x53 /* gdt[10]: flat data at DPL 3, for CPL 3 window accesses */
#define TASK_SLOT_FIRST 11
#define TASK_SLOTS      5
#define TASK_SLOT_SEL(i) ((uint16_t)((TASK_SLOT_FIRST + (i)) << 3))
_Static_assert(TASK_SLOT_FIRST + TASK_SLOTS == GDT_ENTRIES, "the task slots end the GDT");

/* The task area, in the sandbox data (identity mapped): TSS images, an LDT,
 * the new tasks' stacks; the window's pages alias its pages. */
#define TASK_AREA       (SANDBOX_DATA + 0x10000u)
#define TASK_AREA_PAGES 8
#define TASK_IMAGES     4
#define TASK_IMAGE(i)   (TASK_AREA + 0x100u * (i))
#define TASK_LDT        (TASK_AREA + 0x800u)
#define TASK_GDT_POINTER (TASK_AREA + 0x900u)   /* LGDT's operand */
#define TASK_GDT_COPY   (TASK_AREA + 0x1000u)   /* below the ring-0 stack */
#define TASK_STACK0_TOP (TASK_AREA + 0x2000u - 0x10)
#define TASK_STACK3_TOP (TASK_AREA + 0x3000u - 0x10)
#define TASK_LANDING    (SANDBOX_BASE + SANDBOX_CODE_SIZE - 0x100) /* the snippets stay below */
/* Virtual-8086 tasks reach only the first MiB: their landing pad, stack,
 * and the 16-bit tasks' ring-0 stack sit below the trampoline (0x8000). */
#define V86_LANDING     0x7000u
#define V86_STACK       0x6F00u
#define TSS16_STACK0    0x6000u
_Static_assert(V86_LANDING + 0x100 <= TRAMPOLINE_PA, "below the trampoline");

/* The linear window: 32-bit paging maps it through pd32[WINDOW >> 22] and
 * pt32_window, PAE and 4-level paging through pd_low[WINDOW >> 21] and
 * pt_pae_window (above the RAM the fuzz cases have). */
#define WINDOW       0xC00000u
#define WINDOW_PAGES 16
static uint32_t pt32_window[1024] __attribute__((aligned(4096)));
static uint64_t pt_pae_window[512] __attribute__((aligned(4096)));

volatile struct scribble_region fuzz_scribble[SCRIBBLE_REGIONS];
uint32_t fuzz_cr4; /* sandbox.S, fuzz_write_cr4 */
void fuzz_reload_task(uint32_t tss_selector);
void fuzz_write_cr4(void);

/* What a task-switch or page-walk snippet changed, for task_restore(). */
static struct {
	bool task, paging_layout, cr4_changed, cr4_wanted;
	uint32_t cr3, cr4, new_cr4, vectors[8];
	unsigned vector_count;
} undo;

static bool legacy_paging(void)
{
	return !fuzz_ia32e && (guest_read_cr0() & CR0_PG);
}

static bool pae_paging(void)
{
	return (guest_read_cr0() & CR0_PG) && (guest_read_cr4() & CR4_PAE);
}

/* Whether paging (if on) uses the guest's own tables the way they are
 * meant: after a random mode (switch_mode's PAGING_RANDOM) the guest may
 * live on stale TLB entries only, which the CR3 load of a task switch
 * flushes. */
static bool own_paging(void)
{
	if (!(guest_read_cr0() & CR0_PG))
		return true;
	uint32_t cr3 = guest_read_cr3() & ~0xFFFu;
	if (!pae_paging())
		return cr3 == (uint32_t)(uintptr_t)pd32;
	return fuzz_ia32e ? cr3 == (uint32_t)(uintptr_t)pml4
			  : (guest_read_cr3() & ~0x1Fu) == (uint32_t)(uintptr_t)pdpt_pae;
}

/* The 32-bit IDT gate of vector v, as build_tables() makes it. */
static uint64_t idt32_gate(unsigned v)
{
	uint32_t dpl = (v % 2 == 0 || v == 3 || v == 4) ? 3u << 13 : 0;
	uint32_t a32 = fuzz_isr32_table[v];
	return (a32 & 0xFFFF) | (uint64_t)KERNEL_CS << 16 |
	       (uint64_t)((a32 & 0xFFFF0000u) | 0x8E00u | dpl) << 32;
}

/* A task gate (SDM Vol. 3A 7.2.5, Figure 7-6): the TSS selector, type 5. */
static uint64_t task_gate(uint16_t tss_selector, unsigned dpl, bool present)
{
	return (uint64_t)tss_selector << 16 |
	       (uint64_t)((present ? 0x80u : 0) | (dpl & 3) << 5 | 0x5) << 40;
}

/* A page-table entry's flags for the window: mostly present and writable,
 * else anything; user or supervisor; reserved bits and XD one time in
 * eight (reserved in 32-bit paging only where a 4 MiB page has them). */
static uint64_t window_flags(bool pae)
{
	uint64_t f = one_in(6) ? next() & 0x1FF : 0x3 | (next() & 0x17C);
	if (!one_in(8))
		f |= 1; /* P */
	if (pae && one_in(8))
		f |= 1ull << 63; /* XD: reserved without EFER.NXE (SDM Vol. 3A 4.4.2, 4.5.4) */
	if (pae && one_in(8))
		f |= (uint64_t)(1u << below(12)) << 40; /* above MAXPHYADDR on most CPUs */
	return f;
}

/* Where a window page points: the task area (so a TSS or a stack is seen
 * through the window), the device pages, sandbox data, past RAM. */
static uint32_t window_target(unsigned page, bool devices)
{
	static const uint32_t devices_pages[] = { APIC_PAGE, DEBUG_PAGE, IOAPIC_PAGE };
	unsigned r = below(16);
	if (r < (devices ? 6u : 2u))
		return PICK(devices_pages);
	if (r == 6 && one_in(16)) /* ends the VM with strict_mem: rare */
		return one_in(2) ? ram_end + below(4) * 0x1000 : 0x10000000u;
	if (r < 9)
		return SANDBOX_DATA + below(SANDBOX_RANDOM_DATA >> 12) * 0x1000;
	return TASK_AREA + (page % TASK_AREA_PAGES) * 0x1000;
}

/* New random window entries and the directory entry above them, in the
 * current paging mode's tables, then a TLB flush (MOV CR3). */
static void randomize_window(bool devices)
{
	bool pae = pae_paging();
	for (unsigned i = 0; i < WINDOW_PAGES; i++) {
		/* Pages 0 and 8 alias the TSS images mostly (tss_base), page 1
		 * the GDT copy (emit_task_snippet). */
		uint32_t target = !devices && i % 8 <= 1 && !one_in(4) ? TASK_AREA + (i % 8) * 0x1000
									: window_target(i, devices);
		uint64_t flags = one_in(3) ? window_flags(pae) : 0x7;
		if (pae)
			pt_pae_window[i] = target | flags;
		else
			pt32_window[i] = target | (uint32_t)(flags & 0xFFF);
	}
	/* The directory entry: mostly a table, present, writable, user; else
	 * random flags, or a large page (with reserved bits set one time in
	 * two: bits 21:13 of a 4 MiB PDE, 20:13 of a 2 MiB one, SDM Vol. 3A
	 * Tables 4-5, 4-18). */
	uint64_t pde = 0x7;
	if (one_in(6))
		pde = window_flags(pae) & ~0x80ull;
	if (one_in(10)) /* a set address bit beyond 4 GiB ends the VM with strict_mem: rare */
		pde = 0x87 | (one_in(8) ? (uint64_t)(1u << (13 + below(8))) : 0);
	if (pae)
		pd_low[WINDOW >> 21] = (pde & 0x80 ? 0 : (uint32_t)(uintptr_t)pt_pae_window) | pde;
	else
		pd32[WINDOW >> 22] = (pde & 0x80 ? 0 : (uint32_t)(uintptr_t)pt32_window) | (uint32_t)pde;
	fuzz_try(reload_cr3); /* a PAE PDPTE that mutate_page_table spoilt: #GP */
}

/* A linear address in the window. */
static uint32_t window_address(void)
{
	uint32_t offset = one_in(4) ? 0x1000 - 1 - below(8)     /* across a page */
			  : one_in(2) ? PICK(apic_registers) : below(0x1000 - 8);
	return WINDOW + below(WINDOW_PAGES) * 0x1000 + offset;
}

/* ---- FOCUS_TASK_SWITCH ---- */

/* A TSS base: mostly an image in the task area; sometimes across the end
 * of RAM, outside it, over a device page, in the window, or anywhere. */
static uint32_t tss_base(unsigned image, bool paging)
{
	/* Outside RAM and over the device pages the VM ends (no architectural
	 * fault, task_switch.c): rarer. */
	switch (below(32)) {
	case 0: case 1:
		if (one_in(4))
			return ram_end - 1 - below(0x68);
		return TASK_IMAGE(image);
	case 2:
		if (one_in(4))
			return one_in(2) ? ram_end + below(0x10000) : 0x10000000u + below(0x1000);
		return TASK_IMAGE(image);
	case 3:
		if (one_in(2))
			return PICK(((const uint32_t[]){ APIC_PAGE, DEBUG_PAGE, IOAPIC_PAGE })) + below(0x100) * 4;
		return TASK_IMAGE(image);
	case 4: case 5: case 6: case 7:
		/* Window pages 0 and 8 mostly alias the images' page; sometimes
		 * the TSS straddles two window pages (two walks, two sets of
		 * flags). */
		if (paging && one_in(4))
			return WINDOW + below(WINDOW_PAGES - 1) * 0x1000 + 0x1000 - 1 - below(0x67);
		if (paging)
			return WINDOW + (one_in(8) ? below(WINDOW_PAGES) : 8 * below(2)) * 0x1000 +
			       0x100 * image;
		return TASK_IMAGE(image);
	case 8:
		return one_in(4) ? next() : TASK_IMAGE(image) + below(0x100);
	default:
		return TASK_IMAGE(image);
	}
}

/* A GDT slot: a TSS descriptor (SDM Vol. 3A 7.2.2): 32- or 16-bit, available
 * or busy, or a wrong type; limit around the least; P, S, DPL random. */
static uint64_t tss_descriptor(unsigned image, bool want_busy, bool want16, bool paging,
			       bool user)
{
	static const uint8_t wrong_types[] = { 0x0, 0x2, 0x5, 0x8, 0xA, 0xC, 0xD, 0xE, 0xF };
	uint8_t type = want16 ? 0x1 : 0x9;
	if (want_busy)
		type |= 0x2;
	if (one_in(8))
		type = one_in(2) ? PICK(wrong_types) : type ^ 0x2;
	uint32_t least = (type & 0x8) ? 0x67 : 0x2B;
	uint32_t limit = one_in(4) ? least - 1 + below(3) : one_in(8) ? below(0x10000) : least;
	uint8_t flags = one_in(16) ? 0x8 : 0; /* G: limit in pages */
	unsigned dpl = one_in(4) ? below(4) : user ? 3 : 0;
	bool present = !one_in(16), system = !one_in(16);
	uint8_t access = (uint8_t)((present ? 0x80 : 0) | dpl << 5 | (system ? 0 : 0x10) | type);
	return segment(tss_base(image, paging), limit, access, flags);
}

/* A selector a TSS may hold: mostly ones that work for a task at CPL 0 or
 * 3, else any. */
static uint16_t task_selector(uint16_t good)
{
	switch (below(32)) {
	case 0:
		return PICK(selectors);
	case 1:
		return (uint16_t)next();
	case 2:
		return TASK_SLOT_SEL(below(TASK_SLOTS)) | (uint16_t)below(4);
	default:
		return good;
	}
}

static uint32_t task_eflags(bool v86)
{
	uint32_t f = 0x2 | (next() & RFLAGS_ARITH);
	if (!one_in(4))
		f |= RFLAGS_TF; /* single steps end it, as any snippet */
	if (one_in(8))
		f |= RFLAGS_NT;
	if (one_in(8))
		f |= RFLAGS_IF;
	if (v86)
		f |= RFLAGS_VM | (one_in(2) ? RFLAGS_IOPL : 0);
	if (one_in(32))
		f = next();
	return f;
}

/* One new task's TSS image (SDM Vol. 3A 7.2.1 Figure 7-2, 7.6 Figure 7-11)
 * at p; cr3 is the paging mode's own mostly. */
static void build_task_image(uint8_t *p, bool is16, uint32_t cr3)
{
	bool user = one_in(4), v86 = !is16 && one_in(10);
	uint32_t words[26];
	memset(p, 0, 0x100);
	for (unsigned i = 0; i < 26; i++)
		words[i] = pick_value();
	uint16_t cs = user ? USER_CS : KERNEL_CS, ss = user ? USER_DS : KERNEL_DS;
	uint32_t eip = user ? TASK_LANDING - SANDBOX_BASE : TASK_LANDING;
	uint32_t esp = user ? TASK_STACK3_TOP - SANDBOX_BASE : TASK_STACK0_TOP;
	if (one_in(32))
		esp = one_in(2) ? window_address() : pick_address(); /* the error code's push faults */
	uint16_t link = task_selector(TASK_SLOT_SEL(below(TASK_SLOTS)));
	uint16_t ldt = one_in(4) ? task_selector(TASK_SLOT_SEL(below(TASK_SLOTS))) : 0;

	if (is16) {
		/* 16-bit: IP is 16 bits, so the task runs in the user code segment
		 * (based at the sandbox) or the 16-bit one. */
		uint16_t *w = (uint16_t *)p;
		cs = one_in(4) ? 0x40 : USER_CS;
		ss = cs == 0x40 ? KERNEL_DS : USER_DS;
		w[0] = link;
		w[1] = TSS16_STACK0; /* SP0, SS0 */
		w[2] = KERNEL_DS;
		for (unsigned i = 3; i < 7; i++)
			w[i] = (uint16_t)words[i];
		w[7] = (uint16_t)(cs == 0x40 ? V86_LANDING : TASK_LANDING - SANDBOX_BASE); /* IP */
		w[8] = (uint16_t)task_eflags(false);
		for (unsigned i = 9; i < 17; i++)
			w[i] = (uint16_t)words[i];
		w[13] = (uint16_t)(ss == USER_DS ? TASK_STACK3_TOP - SANDBOX_BASE : V86_STACK); /* SP */
		w[17] = task_selector(ss); /* ES */
		w[18] = task_selector(cs);
		w[19] = task_selector(ss);
		w[20] = task_selector(ss); /* DS */
		w[21] = ldt;
		return;
	}
	struct tss32 *t = (struct tss32 *)p;
	t->link = one_in(8) ? next() : link;
	t->esp0 = one_in(32) ? pick_address() : TASK_STACK0_TOP;
	t->ss0 = one_in(2) ? task_selector(KERNEL_DS) : KERNEL_DS; /* a bad one: triple fault */
	t->esp1 = words[0];
	t->ss1 = words[1];
	/* A wrong CR3 or EIP mostly ends in a triple fault: rare. */
	t->cr3 = one_in(32) ? control_register_value() : cr3;
	t->eip = one_in(32) ? pick_address() : eip;
	t->eflags = task_eflags(v86);
	t->eax = words[2];
	t->ecx = words[3];
	t->edx = words[4];
	t->ebx = words[5];
	t->esp = esp;
	t->ebp = words[6];
	t->esi = words[7];
	t->edi = words[8];
	if (v86) {
		/* Virtual-8086 selectors are paragraph numbers (SDM Vol. 3A 20.1.1). */
		t->cs = V86_LANDING >> 4;
		t->eip = 0;
		t->ss = t->es = t->ds = t->fs = t->gs = 0;
		t->esp = V86_STACK;
	} else {
		t->es = task_selector(ss);
		t->cs = task_selector(cs);
		t->ss = task_selector(ss);
		t->ds = task_selector(ss);
		t->fs = task_selector(ss);
		t->gs = task_selector(ss);
	}
	t->ldt = ldt;
	t->trap = (uint16_t)(one_in(4) ? 1 : 0);                                /* T flag */
	t->iomap_base = (uint16_t)(one_in(4) ? next() : 0x68);
}

/* The landing pad new tasks start at: a trap, IRET (back to the task that
 * CALLed, NT set), a jump back to the guest's own TSS (available again
 * after a JMP), or a few random bytes. */
static void build_landing(uint8_t *p, bool v86)
{
	switch (below(8)) {
	case 0: case 1:
		*p++ = 0xCF; /* IRET */
		break;
	case 2:
		if (!v86) {
			*p++ = 0xEA; /* JMP FAR TSS_SEL:0 */
			memset(p, 0, 4);
			p += 4;
			*p++ = TSS_SEL;
			*p++ = 0;
		}
		break;
	case 3:
		for (unsigned i = 0; i < 4; i++)
			*p++ = (uint8_t)next();
		break;
	case 4:
		*p++ = 0xCC; /* INT3 */
		break;
	case 5:
		if (v86) {
			/* INT3 in virtual-8086 mode goes through the IDT with IOPL 3
			 * (SDM Vol. 3A 20.3.1.1), into a task gate when there is one:
			 * a switch away from a virtual-8086 task. */
			*p++ = 0xCC;
			break;
		}
		*p++ = 0x90;
		break;
	default:
		*p++ = 0x90; /* NOP */
		break;
	}
	*p++ = 0x0F; /* UD2 */
	*p++ = 0x0B;
}

/* A vector some snippet instruction raises through a task gate: an
 * exception (with or without an error code) or an INT n vector. */
static void set_idt_task_gate(unsigned vector, uint16_t tss_selector, unsigned dpl)
{
	if (undo.vector_count < 8)
		undo.vectors[undo.vector_count++] = vector;
	idt32[vector] = one_in(16) ? next() | (uint64_t)next() << 32
				   : task_gate(tss_selector, dpl, !one_in(16));
}

static uint16_t slot_for_gate(void)
{
	return (uint16_t)(TASK_SLOT_SEL(below(TASK_SLOTS)) | (one_in(8) ? below(4) : 0));
}

/*
 * Sets up the task area, the GDT slots and maybe IDT task gates, and emits
 * the snippet's triggers.  Returns the number of instructions.
 */
static unsigned emit_task_snippet(bool user)
{
	bool paging = legacy_paging(), image16[TASK_IMAGES];
	uint32_t cr3 = guest_read_cr3();
	unsigned n = 0;

	undo.task = true;
	undo.cr3 = cr3;
	/* A switch back to the guest's own task (IRET, or the landing pad's
	 * JMP) loads CR3 from its TSS (SDM Vol. 3A 7.3 step 12); the field is
	 * reserved in the 64-bit view. */
	tss.cr3 = cr3;
	/* The task area's own pages identity mapped again (mutate_page_table
	 * may have moved them). */
	for (unsigned i = 0; i < TASK_AREA_PAGES; i++)
		pt32_low[(TASK_AREA >> 12) + i] = (TASK_AREA + i * 0x1000) | 7;
	if (paging)
		randomize_window(false);
	else
		fuzz_try(reload_cr3); /* a PAE PDPTE that mutate_page_table spoilt: #GP */
	for (unsigned i = 0; i < TASK_IMAGES; i++) {
		image16[i] = one_in(4);
		build_task_image((uint8_t *)(uintptr_t)TASK_IMAGE(i), image16[i], cr3);
	}
	build_landing((uint8_t *)(uintptr_t)TASK_LANDING, false);
	build_landing((uint8_t *)(uintptr_t)V86_LANDING, true);
	if (one_in(4)) /* INT3 through a task gate, from the snippet or a new task */
		set_idt_task_gate(3, slot_for_gate(), 3);
	/* An LDT descriptor the images' LDT selectors may name, over a small
	 * LDT of flat segments. */
	uint64_t *ldt = (uint64_t *)(uintptr_t)TASK_LDT;
	for (unsigned i = 0; i < 4; i++)
		ldt[i] = one_in(4) ? next() | (uint64_t)next() << 32 : gdt[1 + below(6)];

	for (unsigned s = 0; s < TASK_SLOTS; s++) {
		unsigned image = s % TASK_IMAGES;
		bool is16 = image16[image] != one_in(16); /* a descriptor that does not fit, rarely */
		switch (below(12)) {
		case 0: /* a task gate in the GDT (SDM Vol. 3A 7.2.5) */
			gdt[TASK_SLOT_FIRST + s] = task_gate(slot_for_gate(), user ? 3 : below(4), !one_in(8));
			break;
		case 1: /* an LDT descriptor */
			gdt[TASK_SLOT_FIRST + s] = segment(TASK_LDT, one_in(2) ? 0x1F : below(0x100),
							    one_in(8) ? 0x02 : 0x82, 0);
			break;
		default:
			gdt[TASK_SLOT_FIRST + s] = tss_descriptor(image, one_in(3), is16, paging, user);
			break;
		}
	}

	/* One time in 32 with paging: LGDT of a copy of the GDT seen through
	 * the window (page 1 aliases TASK_GDT_COPY, its entry at times with
	 * random flags), so that the descriptor reads and busy-flag writes of
	 * the CPU and of cvisor's emulation walk the window's entries.  A
	 * GDT that does not translate is a triple fault at the next event. */
	if (paging && one_in(32)) {
		memcpy((void *)(uintptr_t)TASK_GDT_COPY, gdt, sizeof(gdt));
		struct desc_ptr *pointer = (struct desc_ptr *)(uintptr_t)TASK_GDT_POINTER;
		*pointer = (struct desc_ptr){ sizeof(gdt) - 1, WINDOW + 0x1000 };
		prefix_absolute();
		emit(0x0F); /* LGDT m16&32 (0F 01 /2) */
		emit(0x01);
		operand_absolute(2, TASK_GDT_POINTER);
		n++;
	}

	/* The triggers: one or two, then UD2 (emitted by the caller). */
	for (unsigned k = 1 + (one_in(4) ? 1 : 0); k > 0; k--) {
		uint16_t target = slot_for_gate();
		unsigned kind = below(8);
		switch (kind) {
		case 0: case 1: /* JMP FAR ptr16:32 (EA) */
		case 2: /* CALL FAR ptr16:32 (9A) */
			emit(kind == 2 ? 0x9A : 0xEA);
			emit32(one_in(4) ? next() : 0);
			emit16(target);
			n++;
			break;
		case 3: { /* IRET with NT: back to the link of the guest's own TSS */
			tss.link = one_in(8) ? next() : target;
			emit(0x9C); /* PUSHF; OR DWORD [ESP], NT; POPF; IRET */
			emit(0x81);
			emit(0x0C);
			emit(0x24);
			emit32(RFLAGS_NT);
			emit(0x9D);
			emit(0xCF);
			n += 4;
			break;
		}
		case 4: { /* INT n, INT3 through an IDT task gate */
			unsigned vector = one_in(4) ? 3 : 32 + below(224);
			set_idt_task_gate(vector, target, one_in(4) ? 0 : 3);
			if (vector == 3) {
				emit(0xCC);
			} else {
				emit(0xCD);
				emit((uint8_t)vector);
			}
			n++;
			break;
		}
		case 5: /* #UD (no error code) through a task gate */
			set_idt_task_gate(6, target, below(4));
			emit(0x0F);
			emit(0x0B);
			n++;
			break;
		case 6: /* #GP with an error code: MOV DS from a selector beyond the GDT */
			set_idt_task_gate(13, target, below(4));
			if (one_in(32)) /* and the #DF, as an OS does (a bad one: triple fault) */
				set_idt_task_gate(8, slot_for_gate(), 0);
			n += emit_mov_imm(0, 0xFFF8 | below(8));
			emit(0x8E); /* MOV DS, EAX */
			emit(0xD8);
			n++;
			break;
		default: /* #PF or #DE through a task gate */
			if (one_in(2) && paging) {
				set_idt_task_gate(14, target, below(4));
				prefix_absolute();
				emit(0x8B); /* MOV EAX, [window] */
				operand_absolute(0, window_address());
			} else {
				set_idt_task_gate(0, target, below(4));
				emit(0x31); /* XOR ECX, ECX; DIV ECX */
				emit(0xC9);
				emit(0xF7);
				emit(0xF1);
				n++;
			}
			n++;
			break;
		}
	}
	return n;
}

/* ---- FOCUS_PAGE_WALK ---- */

/* Ports for the string I/O forms: the debug port, the UART, POST. */
static const uint16_t walk_ports[] = { 0xE9, 0x3F8, 0x80, 0x70, 0x71, 0x21 };

/* One access through the window; the string forms take their addresses
 * from ESI/EDI, which cvisor translates with its own walk. */
static unsigned emit_walk_access(bool user)
{
	uint32_t a = window_address();
	switch (below(10)) {
	case 0: /* MOV [a], EAX */
		prefix_absolute();
		emit(0x89);
		operand_absolute(0, a);
		return 1;
	case 1: /* MOV EAX, [a] */
		prefix_absolute();
		emit(0x8B);
		operand_absolute(0, a);
		return 1;
	case 2: /* MOV BYTE [a], imm8 */
		prefix_absolute();
		emit(0xC6);
		operand_absolute(0, a);
		emit((uint8_t)next());
		return 1;
	case 3: /* REP STOSD or STOSB at a */
		emit_mov_imm(7, a);
		emit_mov_imm(1, below(6));
		if (snippet_64)
			emit(0x67);
		emit(0xF3);
		emit(one_in(2) ? 0xAB : 0xAA);
		return 3;
	case 4: /* REP MOVSD between the window and the window or the sandbox */
		emit_mov_imm(6, one_in(4) ? SANDBOX_DATA + below(SANDBOX_RANDOM_DATA) : window_address());
		emit_mov_imm(7, one_in(4) ? VICTIM_BASE + below(VICTIM_SIZE - 64) : a);
		emit_mov_imm(1, below(6));
		if (snippet_64)
			emit(0x67);
		emit(0xF3);
		emit(0xA5);
		return 4;
	case 5: /* MOVZX EAX, BYTE or WORD [a] (0F B6, 0F B7) */
		prefix_absolute();
		emit(0x0F);
		emit(one_in(2) ? 0xB6 : 0xB7);
		operand_absolute(0, a);
		return 1;
	case 6: /* REP OUTSB/OUTSD from a (6E/6F), REP INSB/INSD to a (6C/6D) */
	case 7: {
		bool out = one_in(2);
		emit_mov_imm(2, PICK(walk_ports));
		emit_mov_imm(out ? 6 : 7, a);
		emit_mov_imm(1, below(5));
		if (snippet_64)
			emit(0x67);
		emit(0xF3);
		emit((uint8_t)((out ? 0x6E : 0x6C) + below(2)));
		return 4;
	}
	case 8: /* STAC or CLAC (CPL 0), or POPF with AC flipped */
		if (!user) {
			emit(0x0F);
			emit(0x01);
			emit(one_in(2) ? 0xCB : 0xCA);
			return 1;
		}
		emit(0x9C); /* PUSHF; XOR DWORD [ESP], AC; POPF */
		emit(0x81);
		emit(0x34);
		emit(0x24);
		emit32(RFLAGS_AC);
		emit(0x9D);
		return 3;
	default: /* an instruction fetch from the window, rarely (a device page ends the VM) */
		if (!one_in(16))
			return emit_walk_access(user);
		emit_mov_imm(0, a);
		emit(0xFF);
		emit(0xD0); /* CALL EAX */
		return 2;
	}
}

/* The guest's own pages made supervisor pages, so that CR4.SMEP and
 * CR4.SMAP can be on while it recovers; the sandbox's code and stack pages
 * stay user pages for a snippet at CPL 3.  32-bit paging: by 4 KiB page;
 * PAE and 4-level paging: the 2 MiB page of all of them (CPL 0 only). */
static void supervisor_layout(bool on, bool sandbox_user)
{
	if (!pae_paging()) {
		for (uint32_t a = 0; a < SANDBOX_BASE && a < ram_end; a += 0x1000)
			pt32_low[a >> 12] = a | (on ? 3 : 7);
		uint32_t user_pages[] = { SANDBOX_BASE, SANDBOX_STACK_TOP & ~0xFFFu,
					  (SANDBOX_STACK_TOP & ~0xFFFu) - 0x1000 };
		for (unsigned i = 0; i < 3; i++)
			pt32_low[user_pages[i] >> 12] = user_pages[i] | (on && !sandbox_user ? 3 : 7);
	} else {
		pd_low[0] = on ? 0x83 : 0x87;
	}
	fuzz_try(reload_cr3); /* a PAE PDPTE that mutate_page_table spoilt: #GP */
}

static unsigned emit_walk_snippet(bool user)
{
	unsigned n = 0;
	bool paging = guest_read_cr0() & CR0_PG;

	if (paging)
		randomize_window(true);
	/* SMEP and SMAP (CR4 bits 20, 21, SDM Vol. 3A 4.6): one time in three,
	 * where the guest can recover under them. */
	uint32_t cr3 = guest_read_cr3();
	bool own_tables = pae_paging() ? cr3 == (uint32_t)(uintptr_t)pdpt_pae ||
						 cr3 == (uint32_t)(uintptr_t)pml4
				       : cr3 == (uint32_t)(uintptr_t)pd32;
	bool can_protect = paging && own_tables && (!pae_paging() || !user);
	if (can_protect && one_in(3)) {
		/* Turned on by walk_arm(), right before the snippet. */
		undo.paging_layout = true;
		supervisor_layout(true, user);
		undo.cr4 = guest_read_cr4();
		undo.cr4_wanted = true;
		undo.new_cr4 = undo.cr4 | (one_in(3) ? 1u << 20 : 0) | (!one_in(3) ? 1u << 21 : 0);
	}
	if (user && !snippet_64) {
		/* A flat data segment at DPL 3 reaches the window. */
		n += emit_mov_imm(0, FLAT_USER_DS);
		emit(0x8E); /* MOV DS, EAX; MOV ES, EAX */
		emit(0xD8);
		emit(0x8E);
		emit(0xC0);
		n += 2;
	}
	for (unsigned i = 1 + below(4); i > 0; i--)
		n += emit_walk_access(user);
	return n;
}

static void reload_guest_task(void)
{
	fuzz_reload_task(TSS_SEL);
}

/* A new task's TSS may have loaded another CR3 (SDM Vol. 3A 7.3 step 12). */
static void restore_cr3(void)
{
	guest_write_cr3(undo.cr3);
}

/* CR4.SMEP and SMAP on, last before the snippet: the guest's own code
 * between (a replay's description reads the sandbox) is not ready for them. */
static void walk_arm(void)
{
	if (!undo.cr4_wanted)
		return;
	undo.cr4_changed = true;
	fuzz_cr4 = undo.new_cr4;
	fuzz_try(fuzz_write_cr4);
}

/* After a task-switch or page-walk snippet: the guest's own TSS (available
 * again, its back link and the fields a switch saved into it), TR and
 * LDTR, the IDT gates, the paging mode's CR3, CR4 and the page layout. */
static void task_restore(void)
{
	if (undo.task) {
		for (unsigned i = 0; i < undo.vector_count; i++)
			idt32[undo.vectors[i]] = idt32_gate(undo.vectors[i]);
		for (unsigned s = 0; s < TASK_SLOTS; s++)
			gdt[TASK_SLOT_FIRST + s] = 0;
		tss.link = 0;
		/* The 64-bit view's IST1 (build_tables). */
		tss.eflags = (uint32_t)(uintptr_t)(ist_stack + sizeof(ist_stack));
		tss.eax = 0;
		if (!fuzz_ia32e) {
			/* LTR wants an available TSS (SDM Vol. 2A LTR). */
			gdt[TSS_SEL >> 3] = segment((uint32_t)(uintptr_t)&tss, sizeof(tss) - 1, 0x89, 0);
			fuzz_try(reload_guest_task);
			if (guest_read_cr0() & CR0_PG)
				fuzz_try(restore_cr3);
		}
	}
	if (undo.cr4_changed) {
		fuzz_cr4 = undo.cr4;
		fuzz_try(fuzz_write_cr4);
	}
	if (undo.paging_layout)
		supervisor_layout(false, false);
	undo.task = undo.paging_layout = undo.cr4_changed = undo.cr4_wanted = false;
	undo.vector_count = 0;
}

/*
 * The paging mode a task-switch or page-walk snippet wants: task switches
 * exist outside IA-32e mode only (SDM Vol. 3A 7.1), the window needs
 * paging.  32-bit paging (CR4.PSE random), PAE, or 4-level paging with the
 * guest's own tables, EFER.NXE and CR0.WP random; no paging for a task
 * switch one time in four.  A mode that faults falls back to 32-bit paging.
 */
static void focus_mode(bool task)
{
	unsigned kind = task ? (one_in(4) ? 0 : 1 + below(2)) : 1 + below(3);
	uint32_t cr0 = CR0_PE | CR0_ET | CR0_NE | (one_in(2) ? CR0_WP : 0);
	fuzz_mode = (struct fuzz_mode){ cr0, (uint32_t)(uintptr_t)pd32,
					one_in(2) ? CR4_PSE : 0, one_in(2) ? (uint32_t)EFER_NXE : 0, 0 };
	if (kind >= 1)
		fuzz_mode.cr0 |= CR0_PG;
	if (kind == 2) {
		fuzz_mode.cr4 |= CR4_PAE;
		fuzz_mode.cr3 = (uint32_t)(uintptr_t)pdpt_pae;
	} else if (kind == 3) {
		fuzz_mode.cr4 |= CR4_PAE;
		fuzz_mode.efer_low |= EFER_LME;
		fuzz_mode.cr3 = (uint32_t)(uintptr_t)pml4;
	}
	if (verbose)
		say("action %u: paging mode for the snippet: CR0 0x%x CR3 0x%x CR4 0x%x EFER 0x%x",
		    action_number, fuzz_mode.cr0, fuzz_mode.cr3, fuzz_mode.cr4, fuzz_mode.efer_low);
	if (fuzz_try(fuzz_set_mode) < 0)
		return;
	fuzz_mode = (struct fuzz_mode){ CR0_PE | CR0_ET | CR0_NE | CR0_PG, (uint32_t)(uintptr_t)pd32,
					0, 0, 0 };
	fuzz_try(fuzz_set_mode);
}

/* A replay's description of the set-up. */
static void describe_task_setup(void)
{
	for (unsigned s = 0; s < TASK_SLOTS; s++)
		say("  GDT 0x%x: 0x%llx", TASK_SLOT_SEL(s), (unsigned long long)gdt[TASK_SLOT_FIRST + s]);
	for (unsigned i = 0; i < undo.vector_count; i++)
		say("  IDT %u: 0x%llx", undo.vectors[i], (unsigned long long)idt32[undo.vectors[i]]);
	for (unsigned i = 0; i < TASK_IMAGES; i++) {
		const uint32_t *w = (const uint32_t *)(uintptr_t)TASK_IMAGE(i);
		say("  TSS image %u at 0x%x: link 0x%x esp0 0x%x ss0 0x%x cr3 0x%x eip 0x%x eflags 0x%x esp 0x%x cs 0x%x ss 0x%x ldt 0x%x t/iomap 0x%x",
		    i, TASK_IMAGE(i), w[0], w[1], w[2], w[7], w[8], w[9], w[14], w[19], w[20], w[24], w[25]);
	}
	const uint8_t *l = (const uint8_t *)(uintptr_t)TASK_LANDING;
	say("  own TSS link 0x%x; landing pad %02x %02x %02x %02x %02x %02x %02x %02x %02x", tss.link,
	    l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8]);
}

static void describe_window(void)
{
	bool pae = pae_paging();
	say("  window PDE 0x%llx, CR4 0x%x%s", pae ? (unsigned long long)pd_low[WINDOW >> 21]
					   : (unsigned long long)pd32[WINDOW >> 22],
	    undo.cr4_wanted ? undo.new_cr4 : guest_read_cr4(), undo.paging_layout ? " (guest pages supervisor)" : "");
	for (unsigned i = 0; i < WINDOW_PAGES; i += 4)
		say("  PTE %u-%u: 0x%llx 0x%llx 0x%llx 0x%llx", i, i + 3,
		    (unsigned long long)(pae ? pt_pae_window[i] : pt32_window[i]),
		    (unsigned long long)(pae ? pt_pae_window[i + 1] : pt32_window[i + 1]),
		    (unsigned long long)(pae ? pt_pae_window[i + 2] : pt32_window[i + 2]),
		    (unsigned long long)(pae ? pt_pae_window[i + 3] : pt32_window[i + 3]));
}

static void run_snippet(void)
{
	enum focus focus = pick_focus();
	bool task = focus == FOCUS_TASK_SWITCH, walk = focus == FOCUS_PAGE_WALK;
	/* Task switches want legacy mode, the window paging (focus_mode). */
	if (task && (fuzz_ia32e ? !one_in(8) : !own_paging() || one_in(4)))
		focus_mode(true);
	if (walk && (!(guest_read_cr0() & CR0_PG) || !own_paging() || one_in(4)))
		focus_mode(false);
	/* Random bytes at CPL 0 often wreck ESP (POP ESP, LEAVE, XCHG ESP ...),
	 * and an exception on a wild stack is a triple fault outside IA-32e
	 * mode: they run at CPL 3 mostly. */
	bool sequence = focus == FOCUS_DEVICES || focus == FOCUS_SMP || focus == FOCUS_PROTECT ||
			task || walk;
	/* Device sequences at CPL 3 meet IOPL and the I/O bitmap, and their
	 * MMIO accesses the user segments' limit: one time in eight. */
	bool user = focus == FOCUS_RANDOM_BYTES ? !one_in(4)
		    : focus == FOCUS_APIC || focus == FOCUS_SMP ? false
		    : focus == FOCUS_PROTECT ? one_in(16) /* the hypercalls are for CPL 0 */
		    : focus == FOCUS_DEVICES ? one_in(8) : task ? one_in(4) : one_in(3);
	aim_at_devices = focus == FOCUS_MMIO;
	snippet_64 = fuzz_ia32e && one_in(2);
	protect_esp = !user && !fuzz_ia32e && !one_in(16);

	/* Room for the longest snippet: a device sequence takes up to 12
	 * bytes an access. */
	uint32_t start = SANDBOX_BASE + below(SANDBOX_CODE_SIZE - (sequence ? 0x200 : 0x100));
	unsigned sequence_instructions = 0;
	code = (uint8_t *)(uintptr_t)start;
	code_end = (uint8_t *)(uintptr_t)(task ? TASK_LANDING : SANDBOX_BASE + SANDBOX_CODE_SIZE - 2);

	/* A wild stack pointer at CPL 0, loaded by the snippet itself so that
	 * the IRET frame that enters it still lands on the sandbox stack.  In
	 * IA-32e mode the IST stack takes the exception that follows; in
	 * legacy mode it cannot be delivered (a triple fault): rare there. */
	if (!user && one_in(snippet_64 ? 16 : 1024)) {
		emit(0xBC); /* MOV ESP, imm32 */
		emit32(pick_address());
		sequence_instructions++;
	}

	if (focus == FOCUS_PROTECT) {
		sequence_instructions += emit_protect_snippet();
	} else if (task) {
		sequence_instructions += emit_task_snippet(user);
	} else if (walk) {
		sequence_instructions += emit_walk_snippet(user);
	} else if (sequence) {
		sequence_instructions += emit_device_snippet(focus);
	} else if (focus == FOCUS_RANDOM_BYTES) {
		emit_random_bytes();
	} else if (focus == FOCUS_APIC) {
		emit_apic_snippet();
	} else if (focus == FOCUS_HYPERCALL) {
		emit_prefixes();
		emit(0x0F); /* VMCALL */
		emit(0x01);
		emit(0xC1);
	} else {
		unsigned n = 1 + (one_in(3) ? below(3) : 0);
		for (unsigned i = 0; i < n; i++) {
			int class = focus == FOCUS_MIXED ? -1 : (int)focus_class(focus);
			if (focus == FOCUS_MMIO && one_in(16))
				class = MEMORY_OTHER;
			emit_template(pick_template(class));
		}
	}
	emit(0x0F); /* UD2: falling off the end traps too */
	emit(0x0B);

	randomize_registers(focus);
	if (!user && !one_in(4))
		fuzz_entry.gpr[5] = SANDBOX_STACK_TOP - below(0x100) * 4; /* LEAVE keeps a good stack */
	fuzz_entry.steps = focus == FOCUS_APIC ? 8 + below(24)
			   /* and the new task's landing pad, or the task it returns to */
			   : task ? sequence_instructions + 2 + below(12)
			   : sequence ? (one_in(8) ? below(sequence_instructions + 1) /* cut short */
						   : sequence_instructions + 1)
			   : 1 + below(one_in(4) ? 24 : 6);
	fuzz_entry.rflags = snippet_rflags(user);
	if (walk && one_in(2))
		fuzz_entry.rflags ^= RFLAGS_AC; /* SMAP's exception (SDM Vol. 3A 4.6.1) */
	uint32_t stack = user && one_in(8) ? pick_address() : SANDBOX_STACK_TOP - below(0x100) * 4;
	if (user) {
		fuzz_entry.cs = snippet_64 ? USER_CS64 : USER_CS;
		fuzz_entry.ss = USER_DS;
		/* 32-bit user segments are based at the sandbox; 64-bit mode ignores the base. */
		uint32_t base = snippet_64 ? 0 : SANDBOX_BASE;
		fuzz_entry.rip = start - base;
		fuzz_entry.rsp = stack - base;
	} else {
		fuzz_entry.cs = snippet_64 ? KERNEL_CS64 : KERNEL_CS;
		fuzz_entry.ss = KERNEL_DS;
		fuzz_entry.rip = start;
		fuzz_entry.rsp = stack;
	}
	if (verbose) {
		describe_snippet(focus, start);
		if (focus == FOCUS_DEVICES || focus == FOCUS_SMP) {
			say("  %s:", snippet_ops_name);
			describe_device_ops("  accesses", &snippet_ops);
		}
		if (task)
			describe_task_setup();
		if (walk || (task && legacy_paging()))
			describe_window();
	}
	walk_arm();
	int vector = fuzz_try(snippet_64 ? fuzz_enter_64 : fuzz_enter_32);
	task_restore();
	if (vector >= 0)
		traps_seen[vector & 0xFF]++;
	/* An interrupt from the APIC stays in service until EOI: acknowledge
	 * it (cvisor emulates this store) so the next one can come. */
	if (vector >= 32 && one_in(2))
		fuzz_try(write_apic_eoi);
	if (verbose)
		say("  ended by vector %d", vector);
}

/* ---- paging modes ------------------------------------------------------- */

enum paging { PAGING_OFF, PAGING_32BIT, PAGING_PAE, PAGING_IA32E, PAGING_RANDOM };

static void choose_mode(void)
{
	/* Without paging, the next wild address ends the VM: rare. */
	enum paging kind = one_in(16) ? PAGING_OFF : one_in(10) ? PAGING_RANDOM
			   : (enum paging)(PAGING_32BIT + below(3));
	uint32_t cr0 = CR0_PE | CR0_ET | CR0_NE | (next() & (CR0_MP | CR0_WP | CR0_AM));
	/* VME PVI TSD DE PSE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP FSGSBASE OSXSAVE */
	uint32_t cr4 = next() & 0x50FDFu & ~CR4_PAE;
	uint32_t efer = next() & (EFER_SCE | EFER_NXE);

	if (one_in(8))
		cr0 |= next() & (CR0_TS | CR0_EM | CR0_CD);
	if (one_in(16))
		cr0 |= CR0_NW | CR0_CD;
	fuzz_mode.cr3 = (uint32_t)(uintptr_t)pd32;
	switch (kind) {
	case PAGING_OFF:
		efer |= one_in(4) ? EFER_LME : 0;
		break;
	case PAGING_32BIT:
		cr0 |= CR0_PG;
		break;
	case PAGING_PAE:
		cr0 |= CR0_PG;
		cr4 |= CR4_PAE;
		fuzz_mode.cr3 = (uint32_t)(uintptr_t)pdpt_pae;
		break;
	case PAGING_IA32E:
		cr0 |= CR0_PG;
		cr4 |= CR4_PAE | (one_in(8) ? 1u << 17 : 0); /* PCIDE */
		efer |= EFER_LME;
		fuzz_mode.cr3 = (uint32_t)(uintptr_t)pml4;
		break;
	case PAGING_RANDOM:
		cr0 = one_in(4) ? next() : cr0 | (next() & 0x6005003Fu) | (one_in(4) ? 0 : CR0_PG);
		cr4 = next() & (one_in(2) ? 0x01FFFFFFu : 0xFFFFFFFFu);
		efer = one_in(2) ? next() : efer | (next() & 0xD01);
		fuzz_mode.cr3 = control_register_value();
		break;
	}
	if (one_in(8)) {
		/* One wrong bit somewhere. */
		uint32_t bit = 1u << below(32);
		switch (below(3)) {
		case 0: cr0 ^= bit; break;
		case 1: cr4 ^= bit; break;
		default: efer ^= bit; break;
		}
	}
	fuzz_mode.cr0 = cr0;
	fuzz_mode.cr4 = cr4;
	fuzz_mode.efer_low = efer;
	fuzz_mode.efer_high = kind == PAGING_RANDOM && one_in(4) ? next() : 0;
}

/*
 * Paging-structure entries that do not map the guest's own code, data or
 * the snippet page and stack: the sandbox data pages, the device pages,
 * and unused directory slots.  A random one gets a random entry: present
 * or not, any flags (PS with and without CR4.PSE, reserved bits, XD),
 * pointing at sandbox data (so random bytes become the next table), past
 * RAM, or at a device page.  cvisor's own walk (guest_paging.c, used to
 * emulate MMIO and string I/O) then meets what the CPU's walk meets.
 * The TLB keeps old translations until the CR3 reload that may follow.
 */
static uint64_t random_entry(void)
{
	static const uint32_t targets[] = { 0x200000, 0x400000, 0x10000000, APIC_PAGE, DEBUG_PAGE,
					    0xFEC00000, 0 };
	uint64_t address = one_in(2) ? (SANDBOX_DATA + below(SANDBOX_RANDOM_DATA)) & ~0xFFFu
				     : PICK(targets);
	uint64_t flags = one_in(4) ? next() & 0xFFF : 0x7 | (next() & 0x1E0);
	if (one_in(8))
		flags |= (uint64_t)(next() & 0xFFF) << 52 | (uint64_t)below(16) << 40; /* XD, reserved */
	return address | flags;
}

static void mutate_page_table(void)
{
	uint64_t entry = random_entry();
	uint32_t sandbox_page = (SANDBOX_DATA >> 12) + below(SANDBOX_DATA_SIZE >> 12);

	switch (below(10)) {
	case 0: pt32_low[sandbox_page] = (uint32_t)entry; break;
	case 1: pt32_debug[(DEBUG_PAGE >> 12) & 1023] = (uint32_t)entry; break;
	case 2: pt32_apic[((one_in(2) ? APIC_PAGE : IOAPIC_PAGE) >> 12) & 1023] = (uint32_t)entry; break;
	case 3: pd32[1 + below(0x3F0)] = (uint32_t)entry; break;
	case 4: pd_low[1 + below(511)] = entry; break;
	case 5: pd_high[below(512)] = entry; break;
	case 6: pdpt64[1 + below(2)] = entry; break;
	case 7: pdpt64[4 + below(60)] = entry; break;
	case 8: pml4[1 + below(511)] = entry; break;
	default: pdpt_pae[1 + below(2)] = entry & ~0x1E6ull; break; /* PAE PDPTE: only P, PWT, PCD */
	}
}

/* Reloads CR3 with its own value (flushing the TLB; in PAE mode it also
 * reloads the PDPTEs, SDM Vol. 3A 4.4.1). */
static void reload_cr3(void)
{
	guest_write_cr3(guest_read_cr3());
}

/*
 * A mode switch that faults half way leaves paging off (its first step):
 * then go back to the last mode that worked, or stay without paging.
 */
static void switch_mode(void)
{
	/* Until a switch succeeds: 32-bit paging. */
	static struct fuzz_mode last_good = { CR0_PE | CR0_ET | CR0_NE | CR0_PG, 0, 0, 0, 0 };

	choose_mode();
	if (verbose)
		say("action %u: paging mode: CR0 0x%x CR3 0x%x CR4 0x%x EFER 0x%x%08x", action_number,
		    fuzz_mode.cr0, fuzz_mode.cr3, fuzz_mode.cr4, fuzz_mode.efer_high, fuzz_mode.efer_low);
	int vector = fuzz_try(fuzz_set_mode);
	if (verbose)
		say("  %s (vector %d), IA-32e mode %u", vector < 0 ? "done" : "faulted", vector, fuzz_ia32e);
	if (vector < 0) {
		last_good = fuzz_mode;
		return;
	}
	if (!last_good.cr3)
		last_good.cr3 = (uint32_t)(uintptr_t)pd32;
	fuzz_mode = last_good;
	fuzz_try(fuzz_set_mode);
}

/* ---- tables --------------------------------------------------------------- */

static uint64_t segment(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (limit & 0xFFFFull) | (uint64_t)(base & 0xFFFFFF) << 16 | (uint64_t)access << 40 |
	       (uint64_t)((limit >> 16) & 0xF) << 48 | (uint64_t)(flags & 0xF) << 52 |
	       (uint64_t)(base >> 24) << 56;
}

static void build_tables(void)
{
	/* Access bytes: P, DPL, S, type (accessed, so loading writes nothing);
	 * flags: G, D/B, L (SDM Vol. 3A 3.4.5). */
	gdt[1] = segment(0, 0xFFFFF, 0x9B, 0xC);                     /* 0x08 code, 32-bit */
	gdt[2] = segment(0, 0xFFFFF, 0x93, 0xC);                     /* 0x10 data */
	gdt[3] = segment(0, 0xFFFFF, 0x9B, 0xA);                     /* 0x18 code, 64-bit */
	gdt[4] = segment(SANDBOX_BASE, SANDBOX_SIZE - 1, 0xFB, 0x4); /* 0x23 user code, the sandbox */
	gdt[5] = segment(SANDBOX_BASE, SANDBOX_SIZE - 1, 0xF3, 0x4); /* 0x2B user data, the sandbox */
	gdt[6] = segment(0, 0xFFFFF, 0xFB, 0xA);                     /* 0x33 user code, 64-bit */
	gdt[7] = segment((uint32_t)(uintptr_t)&tss, sizeof(tss) - 1, 0x89, 0); /* 0x38 32-bit TSS */
	gdt[8] = segment(0, 0xFFFF, 0x9B, 0);                        /* 0x40 code, 16-bit */
	gdt[9] = segment(0, 0xFFFFF, 0x13, 0xC);                     /* 0x48 data, not present */
	gdt[10] = segment(0, 0xFFFFF, 0xF3, 0xC);                    /* 0x53 user data, flat */
	/* 0x58-0x78: FOCUS_TASK_SWITCH's slots, empty between its snippets. */
	fuzz_gdt_ptr = (struct desc_ptr){ sizeof(gdt) - 1, (uint32_t)(uintptr_t)gdt };

	/* Interrupt gates (SDM Vol. 3A 6.11, 6.14.1); even vectors, INT3 and
	 * INTO may be raised by INT n from CPL 3. */
	for (unsigned v = 0; v < 256; v++) {
		uint32_t dpl = (v % 2 == 0 || v == 3 || v == 4) ? 3u << 13 : 0;
		uint32_t a32 = fuzz_isr32_table[v], a64 = fuzz_isr64_table[v];
		idt32[v] = (a32 & 0xFFFF) | (uint64_t)KERNEL_CS << 16 |
			   (uint64_t)((a32 & 0xFFFF0000u) | 0x8E00u | dpl) << 32;
		idt64[2 * v] = (a64 & 0xFFFF) | (uint64_t)KERNEL_CS64 << 16 |
			       (uint64_t)((a64 & 0xFFFF0000u) | 0x8E00u | dpl | 1 /* IST1 */) << 32;
		idt64[2 * v + 1] = 0;
	}
	fuzz_idt32_ptr = (struct desc_ptr){ sizeof(idt32) - 1, (uint32_t)(uintptr_t)idt32 };
	fuzz_idt64_ptr = (struct desc_ptr){ sizeof(idt64) - 1, (uint32_t)(uintptr_t)idt64 };
	/* A 32-bit IDT's gate n is bytes 8n-8n+7, an IA-32e one's bytes
	 * 16n-16n+15 (SDM Vol. 3A 6.10, 6.14.1).  Leaving IA-32e mode: the
	 * 64-bit gates, and at bytes 16-23 the 32-bit gate of the NMI (vector
	 * 1's 64-bit gate is lost).  Entering it: the 32-bit gates, and at
	 * bytes 32-47 the 64-bit gate of the NMI (vectors 4 and 5 are lost). */
	memcpy(idt_switch_down, idt64, sizeof(idt64));
	idt_switch_down[2] = idt32[2];
	memcpy(idt_switch_up, idt32, sizeof(idt32));
	idt_switch_up[4] = idt64[4];
	idt_switch_up[5] = idt64[5];
	fuzz_idt_down_ptr = (struct desc_ptr){ sizeof(idt_switch_down) - 1,
					       (uint32_t)(uintptr_t)idt_switch_down };
	fuzz_idt_up_ptr = (struct desc_ptr){ sizeof(idt_switch_up) - 1,
					     (uint32_t)(uintptr_t)idt_switch_up };

	/* In IA-32e mode the same TSS reads as a 64-bit one: RSP0 = SS0:ESP0,
	 * 0x10_xxxxxxxx, which pdpt64[64] maps onto the low gigabyte. */
	tss.esp0 = (uint32_t)(uintptr_t)(trap_stack + sizeof(trap_stack));
	tss.ss0 = KERNEL_DS;
	/* IST1 of the 64-bit view sits where the 32-bit TSS keeps EFLAGS and
	 * EAX, which only a task switch uses (SDM Vol. 3A 8.2.1, 8.7): every
	 * IA-32e gate uses it, so even a wild RSP at CPL 0 is recoverable. */
	tss.eflags = (uint32_t)(uintptr_t)(ist_stack + sizeof(ist_stack));
	tss.eax = 0;
	tss.iomap_base = offsetof(struct tss32, iomap);
	for (unsigned i = 0; i < 8192; i += 4) {
		uint32_t bits = one_in(2) ? 0xFFFFFFFFu : next();
		memcpy(&tss.iomap[i], &bits, 4);
	}
	tss.iomap[8192] = 0xFF;

	/* Identity maps, present, writable, user (SDM Vol. 3A 4.3, 4.4, 4.5). */
	for (uint32_t a = 0; a < 0x400000; a += 4096)
		pt32_low[a >> 12] = a < ram_end ? a | 7 : 0;
	pt32_debug[(DEBUG_PAGE >> 12) & 1023] = DEBUG_PAGE | 7;
	pt32_apic[(APIC_PAGE >> 12) & 1023] = APIC_PAGE | 7;
	pt32_apic[(IOAPIC_PAGE >> 12) & 1023] = IOAPIC_PAGE | 7;
	pd32[0] = (uint32_t)(uintptr_t)pt32_low | 7;
	pd32[DEBUG_PAGE >> 22] = (uint32_t)(uintptr_t)pt32_debug | 7;
	pd32[APIC_PAGE >> 22] = (uint32_t)(uintptr_t)pt32_apic | 7;

	for (uint32_t a = 0; a < ram_end && a < 0x40000000; a += 0x200000)
		pd_low[a >> 21] = a | 0x87; /* PS */
	pd_high[(DEBUG_PAGE >> 21) & 511] = (DEBUG_PAGE & ~0x1FFFFFu) | 0x87;
	pd_high[(APIC_PAGE >> 21) & 511] = (APIC_PAGE & ~0x1FFFFFu) | 0x87;
	pd_high[(IOAPIC_PAGE >> 21) & 511] = (IOAPIC_PAGE & ~0x1FFFFFu) | 0x87;
	pdpt_pae[0] = (uint32_t)(uintptr_t)pd_low | 1; /* PAE PDPTEs: only P (SDM Vol. 3A 4.4.1) */
	pdpt_pae[3] = (uint32_t)(uintptr_t)pd_high | 1;
	pdpt64[0] = (uint32_t)(uintptr_t)pd_low | 7;
	pdpt64[3] = (uint32_t)(uintptr_t)pd_high | 7;
	pdpt64[64] = (uint32_t)(uintptr_t)pd_low | 7;
	pml4[0] = (uint32_t)(uintptr_t)pdpt64 | 7;
}

void fuzz_unarmed_trap(uint32_t vector)
{
	/* An exception in the guest's own code: a guest bug, or one cvisor
	 * injected where none belongs.  Either way this VM is done. */
	say("fuzz guest: vector %u outside an action", vector);
	guest_vmcall(HC_STOP, 0xDEAD0000u | vector, 0, 0, 0);
	for (;;)
		guest_hlt();
}

/* "key=<decimal>" from the command line, or fallback. */
static uint64_t option(const char *cmdline, const char *key, uint64_t fallback)
{
	size_t len = strlen(key);
	for (const char *p = cmdline; *p; p++) {
		if ((p != cmdline && p[-1] != ' ') || strncmp(p, key, len) != 0)
			continue;
		uint64_t v = 0;
		for (p += len; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (uint64_t)(*p - '0');
		return v;
	}
	return fallback;
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	const char *cmdline = (info->flags & 4) ? (const char *)(uintptr_t)info->cmdline : "";
	uint64_t seed = option(cmdline, "seed=", 1);
	unsigned actions = (unsigned)option(cmdline, "actions=", DEFAULT_ACTIONS);
	verbose = cmdline_has_word(cmdline, "verbose");
	two_vcpus = option(cmdline, "vcpus=", 1) == 2;
	for (unsigned f = 0; f < FOCUSES; f++) {
		char word[32];
		fmt_snprintf(word, sizeof(word), "focus=%s", focus_keys[f]);
		if (cmdline_has_word(cmdline, word))
			forced_focus = (enum focus)f;
	}
	if (two_vcpus) {
		fuzz_scribble[0] = (struct scribble_region){ (uint32_t)(uintptr_t)&gdt[TASK_SLOT_FIRST],
							     TASK_SLOTS * 8 };
		fuzz_scribble[1] = (struct scribble_region){ TASK_AREA, TASK_IMAGES * 0x100 };
		fuzz_scribble[2] = (struct scribble_region){ (uint32_t)(uintptr_t)pt32_window, WINDOW_PAGES * 4 };
		fuzz_scribble[3] = (struct scribble_region){ (uint32_t)(uintptr_t)pt_pae_window,
							     WINDOW_PAGES * 8 };
	}

	ram_end = 0x100000u + info->mem_upper * 1024u;
	if ((uintptr_t)_end > SANDBOX_BASE || ram_end < RAM_NEEDED) {
		say("fuzz guest: needs its image below 0x%x and at least 2 MiB of RAM", SANDBOX_BASE);
		return 1;
	}
	fuzz_rng_seed(&rng, seed);
	/* Random code and operands; the rest of the sandbox stays zero, as cvisor gave it. */
	for (uint32_t *p = (uint32_t *)(uintptr_t)SANDBOX_BASE;
	     p < (uint32_t *)(uintptr_t)(SANDBOX_DATA + SANDBOX_RANDOM_DATA); p++)
		*p = next();
	build_tables();
	fuzz_load_tables(TSS_SEL);
	/* Before paging: the worker shares the GDT (flat code 0x08, data 0x10). */
	bool second_started = two_vcpus &&
			      second_vcpu_start(seed, fuzz_gdt_ptr.base, fuzz_gdt_ptr.limit, verbose);
	switch_mode();

	unsigned done = 0, mode_switches = 0;
	for (; done < actions; done++) {
		unsigned r = below(256);
		action_number = done;
		if (r < 12) {
			switch_mode();
			mode_switches++;
		} else if (r == 12 && one_in(4)) {
			if (verbose)
				say("action %u: triple fault", done);
			fuzz_try(fuzz_triple_fault);
		} else if (r >= 13 && r < 19) {
			unsigned n = 1 + below(4);
			for (unsigned i = 0; i < n; i++)
				mutate_page_table();
			bool flush = !one_in(4);
			if (verbose)
				say("action %u: %u page-table entries changed%s", done, n,
				    flush ? ", CR3 reloaded" : "");
			if (flush)
				fuzz_try(reload_cr3);
		} else {
			run_snippet();
		}
	}
	unsigned traps = 0;
	for (unsigned v = 0; v < 256; v++)
		traps += traps_seen[v];
	say("fuzz guest: seed %llu: %u actions (%u mode switches, %u trapped, %u #DB, %u #GP, %u #UD, %u #PF), %s%s",
	    (unsigned long long)seed, done, mode_switches, traps, traps_seen[1], traps_seen[13],
	    traps_seen[6], traps_seen[14], fuzz_ia32e ? "IA-32e mode" : "legacy mode",
	    !two_vcpus ? "" : second_started ? ", vCPU 1 started" : ", vCPU 1 did not start");
	guest_vmcall(HC_STOP, 0, 0, 0, 0);
	return 0;
}
