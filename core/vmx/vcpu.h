/* A virtual CPU: its VMCS, its general-purpose registers, its exit counts. */
#ifndef CVISOR_VMX_VCPU_H
#define CVISOR_VMX_VCPU_H

#include "x86.h"

#include <stdbool.h>
#include <stdint.h>

#include "dev/lapic.h"
#include "exit/msr.h"
#include "vmx/exit_reason.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_error.h"
#include "vmx/vmcs.h"

/* Register numbers as x86 encodes them (ModRM/REX), so decoders can index. */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

/* Saved by vmx_entry.S on every exit; RSP lives in the VMCS (GUEST_RSP),
 * so regs[GPR_RSP] is unused. */
struct guest_gprs {
	uint64_t regs[GPR_COUNT];
};

struct vm;
struct exit_handler;

/* Exception vectors cvisor injects (SDM Vol. 3A 6.15). */

/* x87/SSE state saved with FXSAVE while another vCPU uses the CPU. */
struct fxsave_area {
	uint8_t bytes[512];
} __attribute__((aligned(16)));

/* One entry of a vCPU's exit trace ring (printed with every fatal report). */
struct exit_record {
	uint64_t tsc;           /* TSC when the exit reached cvisor */
	uint64_t rip;
	uint64_t qualification; /* only for reasons whose handler reads it */
	uint64_t rax, rbx, rcx, rdx;
	uint32_t reason;        /* full VM_EXIT_REASON */
	bool has_qualification;
};
#define EXIT_RING_SIZE 64

/* What a vCPU is doing (SDM Vol. 3A 9.4: application processors wait for SIPI). */
enum vcpu_state {
	VCPU_RUNNING,   /* enter the guest */
	VCPU_WAIT_SIPI, /* after INIT (APs start here): only a start-up IPI wakes it */
	VCPU_HALTED,    /* HLT with interrupts enabled: an interrupt wakes it */
	VCPU_PARKED,    /* HLT with interrupts disabled: only INIT or an NMI wakes it */
};

/* Host vector that kicks a CPU out of its guest so it sees new events. */
#define VCPU_KICK_VECTOR 0xF2

struct vcpu {
	struct guest_gprs gprs;
	struct vm *vm;
	/* Indexed by basic exit reason: the VM's or the hosted OS's table
	 * (core/exit/dispatch.c). */
	const struct exit_handler *exit_handlers;
	struct vmx_cpu *cpu;
	unsigned id;
	uint16_t vpid;
	void *vmcs;
	uint64_t vmcs_pa;
	bool launched;
	uint64_t exit_counts[EXIT_REASON_COUNT];
	/* TSC ticks spent in cvisor handling each reason (exit to next entry). */
	uint64_t exit_ticks[EXIT_REASON_COUNT];
	uint64_t exits_total;
	struct exit_record exit_ring[EXIT_RING_SIZE];
	unsigned exit_ring_next; /* slot of the next record */
	uint64_t exits_traced;   /* exits recorded in the ring (exit_trace on) */
	/* An event queued for the next VM entry by a handler this exit. */
	bool event_injected;
	/* The VMX-preemption timer expired: give the CPU to the next vCPU. */
	bool preempted;
	enum vcpu_state state;
	/* Hosted-OS vCPUs: cvisor gives this CPU back to the OS after this
	 * exit (core/vm/hosted_os.c). */
	enum vcpu_leave {
		VCPU_STAY,
		VCPU_LEAVE_ON_REQUEST, /* the OS asked (hypercall); RIP is past it */
		VCPU_LEAVE_ON_FAILURE, /* an exit cvisor cannot handle; RIP unchanged */
	} leave;
	/* cvisor wrote guest state the CPU did not produce (launch, SIPI):
	 * debug builds check the VM-entry rules before the next entry. */
	bool check_before_entry;
	/* The rules were checked (and any broken ones printed) for this entry. */
	bool entry_rules_reported;
	unsigned host_cpu;      /* the physical CPU this vCPU is pinned to */
	/* Posted by other vCPUs (any CPU), consumed before the next entry.
	 * Each is stored on its own; `any` reads all three in one load (the
	 * exit fast path, vcpu_may_resume_directly). */
	union {
		struct {
			uint16_t init; /* an INIT arrived */
			uint16_t sipi; /* 0x100 | vector when a start-up IPI arrived */
			uint16_t nmi;  /* an NMI arrived (one is latched, as on hardware) */
		};
		uint64_t any;
	} pending;
	/* APIC timer (core/vm/apic_timer.c), in host TSC. */
	uint64_t timer_deadline; /* 0: idle */
	uint64_t timer_period;   /* periodic mode: ticks between expiries */
	bool timer_tsc_deadline_mode;
	uint64_t slice_end;      /* host TSC at which the current time slice ends */
	/* Host TSC by which cvisor must see the vCPU again (slice end or APIC
	 * timer): exits before it may resume the guest directly. */
	uint64_t entry_deadline;
	/* "save VMX-preemption timer value" is on: the timer keeps counting
	 * down across exits (SDM Vol. 3C 25.7.1). */
	bool timer_saved_on_exit;
	/* Guest state the VMCS does not hold, live in the CPU while the vCPU
	 * runs and saved here while it does not (vcpu_load / vcpu_put). */
	uint64_t xcr0;
	uint64_t cr2;
	struct fxsave_area fpu;
	struct msr_state msrs;
	uint8_t *msr_bitmap;
	struct lapic lapic;
};

/* How a VM starts: 32-bit protected mode, paging off (Multiboot v1). */
struct vcpu_start_state {
	uint32_t eip, eax, ebx;
};

/*
 * Allocates and fills the VMCS: controls clamped from the capability MSRs,
 * host state from this CPU, guest state from start.  Leaves it current.
 */
enum vmx_error vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
			   unsigned id, const struct vcpu_start_state *start);
struct hosted_os_host;
struct captured_cpu_state;
/*
 * A vCPU of the hosted OS (core/vm/hosted_os.c): the guest state is
 * the captured state of the running OS, the host state the platform's
 * tables.  Leaves the VMCS current.
 */
enum vmx_error vcpu_create_hosted_os(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
				       unsigned id, const struct hosted_os_host *host,
				       const struct captured_cpu_state *guest);
/* VMCLEAR and free. */
void vcpu_destroy(struct vcpu *vcpu);

/*
 * CR0/CR4 with their guest/host masks and read shadows (SDM Vol. 3C
 * 25.6.6): the guest owns every bit except those VMX forces or forbids;
 * reads of those return the guest's values cr0/cr4 from the shadow.
 */
void vcpu_setup_control_registers(const struct vmx_caps *caps, uint64_t cr0, uint64_t cr4);

/*
 * Runs the vCPU for one time slice of slice_tsc TSC ticks: VMLAUNCH or
 * VMRESUME and exit handling until its VM ends or the VMX-preemption timer
 * expires.  The vCPU must be current on this CPU (vcpu_make_current).
 */
void vcpu_run_slice(struct vcpu *vcpu, uint64_t slice_tsc);
/* vcpu_put of the vCPU that ran before (if any), then VMPTRLD and
 * vcpu_load; false (and the VM ended) when VMPTRLD fails. */
bool vcpu_make_current(struct vcpu *vcpu, struct vcpu *previous);

/* Host TSC of the first VMLAUNCH on any CPU; 0 before it. */
extern uint64_t vcpu_first_entry_tsc;

/* Time slice of each vCPU in TSC ticks (Bochs: emulated instructions). */
#define VCPU_SLICE_TSC 2000000u
/* A vCPU alone on its CPU has nobody to yield to: it runs until an event
 * needs cvisor (kicks, APIC timer), and the timer only bounds the slice. */
#define VCPU_SLICE_ALONE_TSC 0xFFFFFFFFu

/* Interruptibility state: blocking by STI (bit 0), by MOV SS (bit 1) (SDM Vol. 3C 25.4.2). */

/* Moves the guest to next_rip, past an emulated instruction.  That ends
 * blocking by STI or MOV SS (SDM Vol. 3C 26.3). */
static inline void vcpu_advance_rip(struct vcpu *vcpu, uint64_t next_rip)
{
	(void)vcpu;
	vmcs_write(GUEST_RIP, next_rip);
	uint32_t intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	if (__builtin_expect(intr & INTERRUPTIBILITY_STI_MOVSS, 0))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr & ~INTERRUPTIBILITY_STI_MOVSS);
}

/* Moves the guest past the instruction that exited, whose length the exit
 * reports (SDM Vol. 3C 28.2.5).  Inline: most exits end here.  (For EPT
 * violations VM_EXIT_INSTRUCTION_LEN is undefined: vcpu_advance_rip with the
 * decoded length.) */
static inline void vcpu_skip_instruction(struct vcpu *vcpu)
{
	vcpu_advance_rip(vcpu, vmcs_read(GUEST_RIP) + vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}

/*
 * Queues a hardware exception for the next VM entry (SDM Vol. 3C 25.8.3,
 * 27.6.1).  The guest's RIP must still point at the faulting instruction.
 */
void vcpu_inject_exception(struct vcpu *vcpu, unsigned vector, bool has_error_code,
			   uint32_t error_code);
static inline void vcpu_inject_gp(struct vcpu *vcpu) { vcpu_inject_exception(vcpu, VECTOR_GP, true, 0); }
static inline void vcpu_inject_ud(struct vcpu *vcpu) { vcpu_inject_exception(vcpu, VECTOR_UD, false, 0); }

/* Puts this vCPU's non-VMCS guest state into the CPU / saves it back. */
void vcpu_load(struct vcpu *vcpu);
void vcpu_put(struct vcpu *vcpu);

/* The value of a GPR as the instruction saw it (RSP from the VMCS), masked
 * to 32 bits outside 64-bit mode. */
uint64_t vcpu_read_gpr(struct vcpu *vcpu, unsigned gpr);

/*
 * Software VM-entry checks (core/vmx/entry_checks.c): on by default (debug
 * builds) before VMLAUNCH and after cvisor rewrites guest state; always
 * after a failed VM entry.  Returns the number of broken rules.
 */
extern bool vcpu_check_entries;
unsigned vcpu_check_entry_rules(struct vcpu *vcpu);

/*
 * The vCPU runs, or has an event that will make it run: INIT, NMI, SIPI
 * while waiting for one, or (halted) a pending interrupt or an APIC timer
 * due by `now` (host TSC; ~0 counts any armed timer).  Safe to call from
 * any CPU.
 */
bool vcpu_has_work(const struct vcpu *vcpu, uint64_t now);

/* Makes another CPU leave its guest so that vcpu sees new events soon. */
void vcpu_kick(struct vcpu *vcpu);
/* Applies posted INIT/SIPI and injects a pending interrupt if the guest can
 * take one (else asks for an interrupt-window exit).  Returns true when the
 * vCPU should be entered. */
bool vcpu_process_events(struct vcpu *vcpu);

/* The state after INIT (SDM Vol. 3A Table 10-1) and after a start-up IPI
 * with this vector (real mode at vector << 12, Vol. 3A 9.4.4). */
void vcpu_enter_init_state(struct vcpu *vcpu);
void vcpu_enter_sipi_state(struct vcpu *vcpu, uint8_t vector);

/* Guest CPL: SS.DPL always equals it (SDM Vol. 3C 25.4.1). */
static inline unsigned vcpu_guest_cpl(void)
{
	return (vmcs_read(GUEST_SS_AR_BYTES) >> 5) & 3;
}

/* True in 64-bit mode; otherwise registers are 32 bits wide.  64-bit mode =
 * IA32_EFER.LMA and CS.L (SDM Vol. 3A 3.4.5, Vol. 3C 25.4.1); CS first:
 * outside IA-32e mode one VMREAD answers. */
static inline bool vcpu_guest_in_64bit_mode(void)
{
	return (vmcs_read(GUEST_CS_AR_BYTES) & (1u << 13)) &&
	       (vmcs_read(GUEST_IA32_EFER) & (1ULL << 10));
}
/* GPRs, RIP, RSP, RFLAGS and control registers on three lines. */
void vcpu_dump_registers(const struct vcpu *vcpu);

/*
 * Assembly stub (vmx_entry.S): loads the guest registers and executes
 * VMLAUNCH (launched == 0) or VMRESUME.  After each VM exit (guest
 * registers saved in *gprs) it calls on_exit(ctx): true resumes the guest
 * at once, false returns 0.  Returns 1 on VMfailInvalid, 2 on VMfailValid.
 */
int vmx_run_guest(struct guest_gprs *gprs, int launched, bool (*on_exit)(void *ctx), void *ctx);
/* One entry: vmx_run_guest returning at the first exit. */
int vmx_enter_guest(struct guest_gprs *gprs, int launched);
/* Where the CPU continues after a VM exit (HOST_RIP). */
void vmx_exit_landing(void);

#endif
