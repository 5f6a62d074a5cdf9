/*
 * A software CPU for the host unit tests.
 *
 * The core is built with -DCVISOR_FAKE_CPU; core/vmx/intrin.h then includes
 * this header instead of defining its inline asm, so every instruction the
 * core executes (CPUID, RDMSR, MOV CR, VMXON, VMWRITE, ...) lands in
 * fake_cpu.c and acts on the global `fake_cpu` below.  Tests set the machine
 * up (fake_cpu_reset() and a CPU model loader in each setup), drive core
 * code, then look at what the core did to the machine.
 *
 * What real hardware would answer with a fault (#GP, #UD) fails the running
 * test with a message naming the instruction, since the core must never do
 * it: RDMSR/WRMSR of an MSR the table does not have, WRMSR to a capability
 * MSR or to a locked IA32_FEATURE_CONTROL, any VMX instruction outside VMX
 * operation, VMXON without CR4.VMXE or with IA32_FEATURE_CONTROL not
 * allowing it, leaving CR0/CR4 fixed bits while in VMX operation, freeing
 * an active VMCS or the VMXON region (see fake_cpu_page_freed).
 *
 * The software VMCS follows SDM Vol. 3C chapter 25 and 31.4: VMPTRLD makes
 * a region current (checking its revision identifier), VMCLEAR makes it
 * inactive and clear, VMREAD/VMWRITE act on the current one's table keyed by
 * encoding, with VMfailInvalid without a current VMCS, VM-instruction error
 * 12 for an encoding that is not in core's vmcs_field_table (or that the
 * test marked unsupported), 13 for a VMWRITE to a read-only field (type
 * bits 11:10 == 1).  16- and 32-bit fields keep only their low bits.
 *
 * This header is included from intrin.h after struct cpuid_regs, struct
 * desc_ptr and enum vmx_insn_result; including it first works too.
 */
#ifndef CVISOR_TESTS_FAKE_CPU_H
#define CVISOR_TESTS_FAKE_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/intrin.h"

/* ---- Instructions: the same names and signatures as intrin.h ---- */

void cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r);
uint64_t rdmsr(uint32_t msr);
void wrmsr(uint32_t msr, uint64_t value);
uint64_t read_cr0(void);
uint64_t read_cr2(void);
uint64_t read_cr3(void);
uint64_t read_cr4(void);
void write_cr0(uint64_t v);
void write_cr3(uint64_t v);
void write_cr4(uint64_t v);
uint64_t read_dr7(void);
void read_debug_registers(uint64_t dr[4], uint64_t *dr6);
void write_debug_registers(const uint64_t dr[4], uint64_t dr6);
void write_dr7(uint64_t v);
uint64_t read_rflags(void);
uint16_t read_cs(void);
uint16_t read_ds(void);
uint16_t read_es(void);
uint16_t read_ss(void);
uint16_t read_fs(void);
uint16_t read_gs(void);
uint16_t read_tr(void);
uint16_t read_ldtr(void);
void read_gdtr(struct desc_ptr *d);
void read_idtr(struct desc_ptr *d);
void load_gdtr(const struct desc_ptr *d);
void load_idtr(const struct desc_ptr *d);
void load_tr(uint16_t sel);
uint8_t inb(uint16_t port);
void outb(uint16_t port, uint8_t v);
void outw(uint16_t port, uint16_t v);
void outl(uint16_t port, uint32_t v);
uint64_t rdtsc(void);
void cpu_halt(void);
void irq_disable(void);
void cpu_relax(void);
void wbinvd(void);
uint64_t xgetbv(uint32_t xcr);
void xsetbv(uint32_t xcr, uint64_t value);
void write_cr2(uint64_t v);
void fxsave(void *area);
void fxrstor(const void *area);
void xsave(void *area, uint64_t mask);
void xrstor(const void *area, uint64_t mask);
void bochs_magic_break(void);
enum vmx_insn_result vmxon(uint64_t region_pa);
enum vmx_insn_result vmxoff(void);
enum vmx_insn_result vmclear(uint64_t vmcs_pa);
enum vmx_insn_result vmptrld(uint64_t vmcs_pa);
enum vmx_insn_result vmread(uint32_t encoding, uint64_t *value);
enum vmx_insn_result vmwrite(uint32_t encoding, uint64_t value);
enum vmx_insn_result invept(uint64_t type, uint64_t eptp);
enum vmx_insn_result invvpid(uint64_t type, uint16_t vpid, uint64_t linear);

/* ---- The machine ---- */

#define FAKE_CPUID_ENTRIES 32
#define FAKE_MSR_ENTRIES 64
#define FAKE_VMCS_REGIONS 8
#define FAKE_VMCS_FIELDS 256 /* >= vmcs_field_count, checked at run time */
#define FAKE_UNSUPPORTED_FIELDS 16
#define FAKE_GDT_ENTRIES 6
#define FAKE_EXIT_SCRIPT_MAX 32

/* cpuid subleaf value meaning "whatever ECX holds". */
#define FAKE_ANY_SUBLEAF 0xFFFFFFFFu
/* current_vmcs_pa when there is no current VMCS (SDM Vol. 3C 25.1). */
#define FAKE_NO_VMCS (~0ULL)

/* The host's segments after fake_cpu_reset(). */
#define FAKE_HOST_CS 0x08
#define FAKE_HOST_DS 0x10
#define FAKE_HOST_TR 0x20
#define FAKE_HOST_TSS_BASE 0xFFFFFFFF80042000ULL
#define FAKE_HOST_IDT_BASE 0xFFFFFFFF80043000ULL
#define FAKE_HOST_CR0 0x80000011ULL /* PG | ET | PE: NE left for VMX to set */
#define FAKE_HOST_CR3 0x0000000000105000ULL
#define FAKE_HOST_CR4 0x00000000000000A0ULL /* PAE | PGE */
#define FAKE_HOST_EFER 0x0000000000000D01ULL /* NXE | LMA | LME | SCE */
#define FAKE_HOST_PAT 0x0007040600070406ULL
#define FAKE_HOST_FS_BASE 0x0000000000000000ULL
#define FAKE_HOST_GS_BASE 0xFFFFFFFF80044000ULL

struct fake_cpuid_entry {
	bool used;
	uint32_t leaf;
	uint32_t subleaf;   /* or FAKE_ANY_SUBLEAF */
	struct cpuid_regs regs;
};

struct fake_msr {
	bool used;
	uint32_t index;
	uint64_t value;
	bool read_only;     /* WRMSR would #GP (the VMX capability MSRs) */
	bool ignore_writes; /* WRMSR is accepted but the value does not change */
	unsigned reads;     /* RDMSRs of it since reset */
	unsigned writes;    /* WRMSRs of it since reset (accepted ones) */
};

/* One VMCS region the CPU has seen (VMCLEAR or VMPTRLD). */
struct fake_vmcs {
	bool used;
	uint64_t pa;        /* the region's address */
	bool active;        /* VMPTRLD'ed and not VMCLEARed since (SDM 25.11.1) */
	bool launched;      /* launch state "launched": a VMLAUNCH succeeded */
	/* Field values, indexed like core's vmcs_field_table. */
	uint64_t values[FAKE_VMCS_FIELDS];
	bool written[FAKE_VMCS_FIELDS]; /* VMWRITE (or fake_vmcs_set) since creation */
};

/* A forced outcome of one VMX instruction (VMX_SUCCEED: behave normally). */
struct fake_forced_result {
	enum vmx_insn_result result;
	uint32_t error;     /* VM-instruction error stored with VMX_FAIL_VALID */
};

struct guest_gprs;

/*
 * One scripted VM exit for the fake vmx_run_guest.  `guest` (optional)
 * plays the guest: it sets the registers the exiting instruction used.
 * With result 0 the exit fields are written into the current VMCS; with
 * result 1 (VMfailInvalid) or 2 (VMfailValid, error in instruction_error)
 * the VMLAUNCH/VMRESUME failed and nothing else changes.
 */
struct fake_exit {
	uint32_t reason;            /* VM_EXIT_REASON (bit 31: entry failure) */
	uint64_t qualification;     /* EXIT_QUALIFICATION */
	uint32_t instruction_len;   /* VM_EXIT_INSTRUCTION_LEN */
	uint64_t guest_physical;    /* GUEST_PHYSICAL_ADDRESS */
	void (*guest)(struct guest_gprs *gprs);
	int result;
	uint32_t instruction_error;
};

struct fake_cpu {
	/* CPUID: leaf/subleaf -> registers; a leaf not here reads as zeros.
	 * CPUID.1:ECX.OSXSAVE[27] always mirrors cr4 bit 18, as on hardware. */
	struct fake_cpuid_entry cpuid[FAKE_CPUID_ENTRIES];
	/* The MSRs this CPU has; RDMSR/WRMSR of any other fails the test. */
	struct fake_msr msrs[FAKE_MSR_ENTRIES];

	/* Control, debug and flags registers. */
	uint64_t cr0, cr2, cr3, cr4, dr7, rflags;
	uint64_t dr[4], dr6; /* DR0-DR3, DR6 */
	/* Bits of CR0/CR4 that keep their old value when written (to model
	 * a write that does not take effect).  0 after reset. */
	uint64_t cr0_stuck_bits, cr4_stuck_bits;
	/* Segment selectors and the task register. */
	uint16_t cs, ds, es, ss, fs, gs, tr, ldtr;
	/* Descriptor-table registers; gdtr points at gdt below. */
	struct desc_ptr gdtr, idtr;
	/* The host GDT: null, 64-bit code (FAKE_HOST_CS), data (FAKE_HOST_DS),
	 * unused, then a 16-byte 64-bit TSS descriptor (FAKE_HOST_TR) whose base
	 * is FAKE_HOST_TSS_BASE. */
	uint64_t gdt[FAKE_GDT_ENTRIES];

	/* Port I/O and the other instructions the core does not use today. */
	uint8_t in_value;           /* what every INB returns */
	unsigned port_writes;       /* OUTB/OUTW/OUTL count */
	uint16_t last_out_port;
	uint32_t last_out_value;
	uint64_t tsc;               /* RDTSC returns it, then it grows by 1000 */
	unsigned halts, irq_disables, relaxes, magic_breaks, wbinvds;

	/* Extended state.  XGETBV/XSETBV need CR4.OSXSAVE (#UD) and XCR 0
	 * (#GP); FXSAVE/FXRSTOR need a 16-byte aligned area (#GP) and copy
	 * fpu to / from it. */
	uint64_t xcr0;              /* 1 (x87) after reset */
	unsigned xsetbvs;
	/* The FPU/SIMD state in XSAVE's standard layout: bytes 0-511 are what
	 * FXSAVE stores (x87, SSE), 576 up the extended components (AVX...). */
	uint8_t fpu[4096];
	unsigned fxsaves, fxrstors;
	unsigned xsaves, xrstors;
	uint64_t last_xsave_mask, last_xrstor_mask;

	/* VMX operation. */
	bool vmx_on;                /* between a successful VMXON and VMXOFF */
	uint64_t vmxon_pa;          /* the VMXON region while vmx_on */
	uint64_t current_vmcs_pa;   /* FAKE_NO_VMCS when none is current */
	struct fake_vmcs vmcs[FAKE_VMCS_REGIONS];
	/* Encodings VMREAD/VMWRITE treat as unsupported (error 12), in
	 * addition to those not in vmcs_field_table and those whose index is
	 * above IA32_VMX_VMCS_ENUM[9:1]. */
	uint32_t unsupported[FAKE_UNSUPPORTED_FIELDS];
	unsigned unsupported_count;
	/* IA32_VMX_MISC[29] "VMWRITE to any field": off by default, even for
	 * the models that report it, so the core never relies on it. */
	bool vmwrite_any_field;

	/* Failure knobs: make the next (and every) such instruction fail. */
	struct fake_forced_result fail_vmxon, fail_vmxoff, fail_vmclear, fail_vmptrld;
	/* VMWRITE of this one encoding fails (when fail_vmwrite.result != 0). */
	uint32_t fail_vmwrite_encoding;
	struct fake_forced_result fail_vmwrite;

	/* Records of what the core did. */
	unsigned vmxon_calls, vmxoff_calls, vmclear_calls, vmptrld_calls;
	unsigned vmread_calls, vmwrite_calls;
	/* Exits after which vmx_run_guest resumed the guest itself. */
	unsigned direct_resumes;
	uint64_t last_vmxon_pa, last_vmclear_pa, last_vmptrld_pa;
	unsigned invept_calls;
	uint64_t last_invept_type, last_invept_eptp;
	unsigned invvpid_calls;
	uint64_t last_invvpid_type, last_invvpid_linear;
	uint16_t last_invvpid_vpid;

	/*
	 * vmx_run_guest (the VMLAUNCH/VMRESUME stub).  Like vmx_entry.S it
	 * first VMWRITEs HOST_RSP, then checks the launch state (VMLAUNCH of a
	 * launched VMCS is error 4, VMRESUME of a clear one error 5).  Then the
	 * result comes from on_enter when set, else from the next scripted
	 * exit, else it is enter_result (with enter_error for VMfailValid).
	 * Result 0 ("a VM exit happened") marks the VMCS launched.
	 */
	int (*on_enter)(struct guest_gprs *gprs, int launched, void *ctx);
	void *on_enter_ctx;
	int enter_result;
	uint32_t enter_error;
	struct fake_exit script[FAKE_EXIT_SCRIPT_MAX];
	unsigned script_len, script_pos; /* running past the end fails the test */
	unsigned entries, launches, resumes;
};

extern struct fake_cpu fake_cpu;

/* A reset machine: host registers and GDT as above, the host MSRs (EFER,
 * PAT, FS/GS base, SYSENTER_*, DEBUGCTL, the SYSCALL MSRs, KERNEL_GS_BASE,
 * TSC_AUX), empty CPUID, VMX off, no knobs. */
void fake_cpu_reset(void);
/* CPUID and VMX capability MSRs of Bochs 2.7 "tigerlake" and
 * "corei7_sandy_bridge_2600k", IA32_FEATURE_CONTROL = 5 (locked, VMXON
 * outside SMX).  Call after fake_cpu_reset(). */
void fake_cpu_load_bochs_tigerlake(void);
void fake_cpu_load_bochs_sandy_bridge(void);

void fake_cpuid_set(uint32_t leaf, uint32_t subleaf, uint32_t eax, uint32_t ebx,
		    uint32_t ecx, uint32_t edx);
/* The entry for exactly (leaf, subleaf), or NULL. */
struct fake_cpuid_entry *fake_cpuid_entry(uint32_t leaf, uint32_t subleaf);

/* Adds or replaces an MSR (read_only: writes #GP). */
void fake_msr_set(uint32_t index, uint64_t value, bool read_only);
void fake_msr_remove(uint32_t index);
/* The MSR's entry, or NULL when the CPU does not have it. */
struct fake_msr *fake_msr(uint32_t index);
/* The MSR's value; fails the test when the CPU does not have it. */
uint64_t fake_msr_value(uint32_t index);

/* Sets a field of the current VMCS as the hardware would (exit reason,
 * qualification, ...), bypassing the read-only rule.  Fails the test when
 * there is no current VMCS or the encoding is not in vmcs_field_table. */
void fake_vmcs_set(uint32_t encoding, uint64_t value);
/* Reads a field of the current VMCS (same failures). */
uint64_t fake_vmcs_get(uint32_t encoding);
/* True when the field of the current VMCS was written since creation. */
bool fake_vmcs_written(uint32_t encoding);
/* The VMCS the CPU knows at pa, or NULL. */
struct fake_vmcs *fake_vmcs_at(uint64_t pa);
/* VMREAD/VMWRITE of encoding fail with error 12 from now on. */
void fake_vmcs_mark_unsupported(uint32_t encoding);

/* Puts VMX on with a fresh current VMCS of the loaded model's revision,
 * as vmx_cpu_enable + vcpu_create would; for tests of VMCS access. */
void fake_cpu_enter_vmx_with_vmcs(void *vmxon_region, void *vmcs_region);

/* Replaces the exit script of vmx_run_guest (n <= FAKE_EXIT_SCRIPT_MAX). */
void fake_script_exits(const struct fake_exit *exits, unsigned n);

/* Called by the fake platform before a page is freed: freeing the VMXON
 * region in VMX operation or an active VMCS fails the test (the CPU may
 * still write to them); a freed VMCS region is forgotten. */
void fake_cpu_page_freed(const void *page);

#endif
