/*
 * A virtual CPU: its VMCS, its general-purpose registers, its local APIC,
 * the guest state VMX does not switch, and its exit counts.  Creating one
 * builds its VMCS (vmcs_setup.c) from an initial register file
 * (guest_state.h); events.c injects into it and run/run_loop.c runs it.
 */
#ifndef CVISOR_VCPU_VCPU_H
#define CVISOR_VCPU_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "irq/lapic.h"
#include "vcpu/events.h"
#include "vcpu/guest_state.h"
#include "vcpu/msr_state.h"
#include "vm/protect.h"
#include "vmx/exit_reason.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "vmx/vmx_error.h"
#include "vmx/vmx_run.h"
#include "x86.h"

struct vm;
struct exit_handler;

/*
 * The guest's FPU/SIMD state while another vCPU uses the CPU: XSAVE's
 * standard layout (SDM Vol. 1 13.4), or FXSAVE's first 512 bytes on a CPU
 * without XSAVE.  The components a guest may enable in XCR0
 * (XCR0_GUEST_COMPONENTS: x87, SSE, AVX, AVX-512, PKRU) end below 2.7
 * KiB; larger ones (AMX) are not offered, nor MPX's (BNDREG, BNDCSR),
 * whose IA32_BNDCFGS cvisor does not switch (vcpu/cpu_features.c).
 */
#define XSAVE_AREA_BYTES 4096
#define XCR0_GUEST_COMPONENTS (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU)
struct xsave_area {
	uint8_t bytes[XSAVE_AREA_BYTES];
} __attribute__((aligned(64)));

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

/* How the 8259's interrupt reaches a vCPU (vcpu->pending.extint, bits). */
enum { EXTINT_VIA_LINT0 = 1, EXTINT_VIA_IOAPIC = 2 };

/* Why a hosted-OS vCPU gives its CPU back (vcpu->leave). */
enum vcpu_leave {
	VCPU_STAY,
	VCPU_LEAVE_ON_REQUEST, /* the OS asked (hypercall); RIP is past it */
	VCPU_LEAVE_ON_FAILURE, /* an exit cvisor cannot handle; RIP unchanged */
};

/* Host vector that kicks a CPU out of its guest so it sees new events. */
#define VCPU_KICK_VECTOR 0xF2

struct vcpu {
	/* First, page-aligned: its register page is the virtual-APIC page
	 * (irq/lapic.h, vcpu/apicv.h; SDM Vol. 3C 25.6.8). */
	struct lapic lapic __attribute__((aligned(4096)));
	struct guest_gprs gprs;
	struct vm *vm;
	/* Indexed by basic exit reason: the VM's or the hosted OS's table
	 * (core/exit/dispatch.c), chosen by whoever builds the VM. */
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
	/* Accesses to addresses nothing answers (dev/open_bus.c). */
	uint64_t open_bus_reads, open_bus_writes;
	struct exit_record exit_ring[EXIT_RING_SIZE];
	unsigned exit_ring_next; /* slot of the next record */
	uint64_t exits_traced;   /* exits recorded in the ring (exit_trace on) */
	/* An event queued for the next VM entry by a handler this exit, or
	 * the interrupted event delivered by the handler itself (a task
	 * switch through an IDT task gate): either way it is not put back. */
	bool event_injected;
	enum vcpu_state state;
	/* Reasons to go back to the run loop after this exit rather than
	 * resume the guest at once; `back_to_loop` reads all of them in one
	 * load (the exit fast path, vcpu_may_resume_directly). */
	union {
		struct {
			/* The time slice is over: give the CPU to the next vCPU. */
			bool preempted;
			/* cvisor wrote guest state the CPU did not produce (launch,
			 * SIPI): debug builds check the VM-entry rules before the
			 * next entry. */
			bool check_before_entry;
			/* Hosted-OS vCPUs: cvisor gives this CPU back to the OS
			 * after this exit (core/vm/hosted_os.c); enum vcpu_leave. */
			uint8_t leave;
			/* Its VM has ended (vm_end sets it on every vCPU, from
			 * any CPU, before kicking them). */
			uint8_t vm_ended;
			/* Its VM restarts (vm/reset.h: VM_RESET_LEAVE, then
			 * VM_RESET_SELF): the run loop holds it out of the guest in
			 * vm_reset_rendezvous until the restart is done. */
			uint8_t vm_reset;
			/* Its VM's protections changed on another CPU: INVEPT and
			 * the pinned control-register bits before the next entry
			 * (vm/protect.h, protect_sync_vcpu). */
			uint8_t protect_sync;
			uint8_t padding[2]; /* zero: back_to_loop reads it too */
		};
		uint64_t back_to_loop;
	};
	/* The rules were checked (and any broken ones printed) for this entry. */
	bool entry_rules_reported;
	unsigned host_cpu;      /* the physical CPU this vCPU is pinned to */
	/* Posted by other vCPUs (any CPU), consumed before the next entry.
	 * Each is stored on its own; `any` reads all four in one load (the
	 * exit fast path, vcpu_may_resume_directly). */
	union {
		struct {
			uint16_t init; /* an INIT arrived */
			uint16_t sipi; /* 0x100 | vector when a start-up IPI arrived */
			uint16_t nmi;  /* an NMI arrived (one is latched, as on hardware) */
			/* The 8259's INTR rose for this vCPU: EXTINT_VIA_LINT0 (vCPU
			 * 0's LINT0, checked when taken), EXTINT_VIA_IOAPIC (an
			 * I/O APIC entry in ExtINT mode named it). */
			uint16_t extint;
		};
		uint64_t any;
	} pending;
	uint64_t slice_end;      /* host TSC at which the current time slice ends */
	/* Host TSC by which cvisor must see the vCPU again (slice end or APIC
	 * timer): exits before it may resume the guest directly. */
	uint64_t entry_deadline;
	/* "save VMX-preemption timer value" is on: the timer keeps counting
	 * down across exits (SDM Vol. 3C 25.7.1). */
	bool timer_saved_on_exit;
	/* Its secondary processor-based controls (what the CPUID policy may offer). */
	uint32_t proc2;
	/* CR4 bits of features its CPUID does not offer (cpu_features.h): owned
	 * by cvisor, so that setting one exits and gets #GP.  0 for the hosted
	 * OS, which keeps every feature it uses. */
	uint64_t cr4_unoffered;
	/* "activate VMX-preemption timer" is on: time slices end by it. */
	bool preemption_timer;
	/* "virtual NMIs" is on, so NMI-window exiting exists (SDM Vol. 3C
	 * 26.7.6); the hosted OS runs without it. */
	bool virtual_nmis;
	/* The APIC virtualization it uses now (vcpu/apicv.h, APICV_*), the
	 * TPR threshold and EOI-exit bitmap last written to its VMCS. */
	unsigned apicv;
	uint8_t tpr_threshold;
	uint64_t eoi_exit_bitmap[4];
	/* Guest state the VMCS does not hold, live in the CPU while the vCPU
	 * runs and saved here while it does not (vcpu_load / vcpu_put). */
	uint64_t xcr0;
	uint64_t cr2;
	struct xsave_area fpu;
	uint64_t dr[4], dr6; /* DR0-DR3 and DR6 (the VMCS holds only DR7) */
	struct msr_state msrs;
	uint8_t *msr_bitmap;
	/* The `log` step in flight and this vCPU's violations (vm/protect.h). */
	struct vcpu_protect protect;
};

/*
 * Allocates and fills the VMCS: controls clamped from the capability MSRs,
 * host state from this CPU, guest state (and GPRs) from boot.  Leaves it
 * current.  vcpu->exit_handlers is left for the VM's builder.
 */
enum vmx_error vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
			   unsigned id, const struct guest_cpu_state *boot);
/*
 * Puts a vCPU back into the state vcpu_create gave it, as a processor after
 * RESET (SDM Vol. 3A 9.1.1, Table 10-1): its APIC, FPU, debug registers and
 * MSRs at their power-up values, nothing pending, its VMCS controls anew and
 * the guest state from boot; vCPU 0 runs, the others wait for SIPI.  On the
 * vCPU's own CPU with its VMCS current (vm/reset.c's rendezvous).
 */
enum vmx_error vcpu_reset(struct vcpu *vcpu, const struct guest_cpu_state *boot);
struct hosted_os_host;
/*
 * A vCPU of the hosted OS (core/vm/hosted_os.c): the guest state is the
 * captured state of the running OS, the host state the platform's tables.
 * Leaves the VMCS current.
 */
enum vmx_error vcpu_create_hosted_os(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
				     unsigned id, const struct hosted_os_host *host,
				     const struct guest_cpu_state *guest);
/* VMCLEAR and free. */
void vcpu_destroy(struct vcpu *vcpu);

/* RFLAGS.TF is set: each instruction cvisor emulates ends in a single-step
 * trap (vcpu_single_step_trap). */
static inline bool vcpu_single_stepping(void)
{
	return vmcs_read(GUEST_RFLAGS) & RFLAGS_TF;
}

/* Moves the guest to next_rip, past an emulated instruction.  That ends
 * blocking by STI or MOV SS (SDM Vol. 3C 26.3), and a guest with RFLAGS.TF
 * set gets its single-step trap after it. */
static inline void vcpu_advance_rip(struct vcpu *vcpu, uint64_t next_rip)
{
	vmcs_write(GUEST_RIP, next_rip);
	uint32_t intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	if (__builtin_expect(intr & INTERRUPTIBILITY_STI_MOVSS, 0))
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr & ~INTERRUPTIBILITY_STI_MOVSS);
	if (__builtin_expect(vmcs_read(GUEST_RFLAGS) & RFLAGS_TF, 0))
		vcpu_single_step_trap(vcpu);
}

/* Moves the guest past the instruction that exited, whose length the exit
 * reports (SDM Vol. 3C 28.2.5).  Inline: most exits end here.  (For EPT
 * violations VM_EXIT_INSTRUCTION_LEN is undefined: vcpu_advance_rip with the
 * decoded length.) */
static inline void vcpu_skip_instruction(struct vcpu *vcpu)
{
	vcpu_advance_rip(vcpu, vmcs_read(GUEST_RIP) + vmcs_read(VM_EXIT_INSTRUCTION_LEN));
}

/* Drops the cached translations of this vCPU's EPT and VPID on this CPU
 * (after cvisor changes the guest's CR3 itself, as MOV to CR3 would). */
void vcpu_invalidate_translations(struct vcpu *vcpu);

/* Puts this vCPU's non-VMCS guest state into the CPU / saves it back. */
void vcpu_load(struct vcpu *vcpu);
void vcpu_put(struct vcpu *vcpu);
/* The guest's PKRU (SDM Vol. 3A 4.6.2), which is live in the CPU while the
 * vCPU is loaded: read with XSAVE (0 where the CPU has no PKRU). */
uint32_t vcpu_guest_pkru(struct vcpu *vcpu);

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

/* Makes another CPU leave its guest so that vcpu sees new events soon. */
void vcpu_kick(struct vcpu *vcpu);

/*
 * A timer of this vCPU was armed for host TSC `deadline` (0: disarmed)
 * during an exit of this vCPU (its VMCS current).  The entry after it was
 * timed for entry_deadline: a later deadline is seen when the
 * VMX-preemption timer ends that entry, as before; an earlier one retimes
 * it.  When the CPU saves the timer's count at each exit, the next entry
 * loads the count from the VMCS again (SDM Vol. 3C 25.7.1, 26.5.1), so the
 * count is rewritten here and the guest resumes without the run loop;
 * otherwise (or when the deadline has passed and an interrupt is due) the
 * loop times the next entry (run/run_loop.c).
 */
void vcpu_retime_entry_for(struct vcpu *vcpu, uint64_t deadline);
/* The VMX-preemption timer's count for an entry at host TSC now that must
 * end by host TSC until: it counts down once every 2^X TSC ticks, X =
 * IA32_VMX_MISC[4:0] (SDM Vol. 3C 26.5.1), and is 32 bits wide. */
uint32_t vcpu_preemption_timer_count(const struct vcpu *vcpu, uint64_t now, uint64_t until);

/* Guest CPL: SS.DPL always equals it (SDM Vol. 3C 25.4.1). */
static inline unsigned vcpu_guest_cpl(void)
{
	return AR_DPL(vmcs_read(GUEST_SS_AR_BYTES));
}

/* True in 64-bit mode; otherwise registers are 32 bits wide.  64-bit mode =
 * IA32_EFER.LMA and CS.L (SDM Vol. 3A 3.4.5, Vol. 3C 25.4.1); CS first:
 * outside IA-32e mode one VMREAD answers.  The first form takes CS's access
 * rights from a caller that read them anyway (emulate/mmio.c). */
static inline bool vcpu_guest_cs_in_64bit_mode(uint32_t cs_access_rights)
{
	return (cs_access_rights & AR_L) && (vmcs_read(GUEST_IA32_EFER) & EFER_LMA);
}
static inline bool vcpu_guest_in_64bit_mode(void)
{
	return vcpu_guest_cs_in_64bit_mode(vmcs_read(GUEST_CS_AR_BYTES));
}
/* GPRs, RIP, RSP, RFLAGS and control registers on three lines. */
void vcpu_dump_registers(const struct vcpu *vcpu);

#endif
