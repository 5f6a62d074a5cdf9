/*
 * Hypervisor-enforced integrity for one VM (issue 17): guest-physical
 * ranges whose EPT permissions are narrowed, each with a policy for an
 * access they forbid (log, deny, stop); CR0/CR4 bits and MSRs the guest can
 * no longer change once pinned; and a ring of the violations.
 *
 * Protection is one-way: a request can only narrow what is there, never
 * widen it, and nothing the guest does lifts it.  Only cvisor does, when
 * the VM restarts (protect_reset) or ends.
 *
 * This file keeps the state and changes the EPT; what a violation does at
 * an exit (deny, the `log` step with the monitor trap flag, stop) is in
 * exit/protect.c.  The hypercalls are HC_PROTECT, HC_PIN_CR, HC_PIN_MSR and
 * HC_PROTECT_EVENTS (abi/hypercall.h, docs/hypercalls.md).
 */
#ifndef CVISOR_VM_PROTECT_H
#define CVISOR_VM_PROTECT_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hypercall.h"
#include "lib/spinlock.h"
#include "x86.h"

struct vm;
struct vcpu;
struct vmx_caps;

#define PROTECT_MAX_RANGES 256 /* disjoint ranges per VM, after merging (cvisor.ko: ~70) */
#define PROTECT_EVENT_RING 64  /* violations kept per VM (the oldest are overwritten) */
#define PROTECT_STEP_PAGES 8   /* pages one instruction may have lifted at once (`log`) */
#define PROTECT_PRINT_MAX 32   /* events printed on the console per VM; later ones are only kept */
#define PROTECT_PIN_MSRS 3     /* IA32_EFER, IA32_LSTAR, IA32_SYSENTER_EIP */

/* One guest-physical range [start, end), page aligned, and what applies to it. */
struct protect_range {
	uint64_t start, end;
	uint8_t perms;  /* HC_PROT_*: the EPT's R/W/X bits for its pages */
	uint8_t policy; /* HC_POLICY_* */
};

/* The outcome of a request (exit/vmcall.c turns it into an HC_* code). */
enum protect_result {
	PROTECT_OK,
	PROTECT_EINVAL, /* an argument is out of range, or the combination is not allowed */
	PROTECT_EFAULT, /* the range is not entirely the VM's RAM */
	PROTECT_ENOMEM, /* no room for another range, or for an EPT table */
	PROTECT_ENOSYS, /* not offered to this VM (the kernel under cvisor.ko, for now) */
};

struct vm_protect {
	/* Taken around every change and every look at the fields below (and
	 * at the EPT entries of protected pages), by any vCPU of the VM. */
	spinlock_t lock;
	unsigned range_count; /* ranges[0..range_count), sorted, disjoint, merged */
	struct protect_range ranges[PROTECT_MAX_RANGES];
	struct protect_range scratch[PROTECT_MAX_RANGES]; /* the next set, before it is committed */
	/* A `log` write whose guest linear address is in [log_deny_linear_first,
	 * log_deny_linear_last] is handled as `deny` (when log_deny_linear):
	 * cvisor.ko refuses writes to the kernel's text made through a
	 * kernel-half alias (the direct map, a vmap), while text_poke's writes,
	 * made through its temporary mm in the lower half, stay `log`.  Set
	 * before any vCPU runs; never changed after. */
	bool log_deny_linear;
	uint64_t log_deny_linear_first, log_deny_linear_last;
	/* Pinned bits: once set in a vCPU's CR0/CR4, they stay set. */
	uint64_t cr0_pinned, cr4_pinned;
	/* Pinned MSRs (protect.c's table order): the bits kept, and for
	 * whole-value pins the value kept; msrs_pinned says whether any is. */
	uint64_t msr_pinned_bits[PROTECT_PIN_MSRS];
	uint64_t msr_pinned_value[PROTECT_PIN_MSRS];
	bool msrs_pinned;
	/* The violations, oldest first from ring_first. */
	struct hc_protect_event ring[PROTECT_EVENT_RING];
	unsigned ring_first, ring_count;
	uint64_t next_sequence;
	unsigned printed; /* events printed so far (PROTECT_PRINT_MAX) */
};

/* A vCPU's part: the `log` step in flight and the violations it met. */
struct vcpu_protect {
	/* Pages whose permissions are lifted until the next MTF exit. */
	uint64_t step_pages[PROTECT_STEP_PAGES];
	unsigned step_count;
	/* An emulated access recorded the violation of this exit itself. */
	bool recorded;
	/* Violations by action taken (HC_ACTION_*), for the exit statistics. */
	uint64_t actions[HC_ACTION_COUNT];
};

/*
 * The range set's one operation, on plain arrays (no EPT): the ranges `in`
 * (n of them, sorted, disjoint) with request narrowing [req->start,
 * req->end) put into `out` (at most cap).  Inside the request each existing
 * piece keeps only the permissions both allow and the stricter policy;
 * gaps get the request's; outside it nothing changes.  Neighbours with
 * equal permissions and policy merge.  *count gets the size of the result.
 * PROTECT_ENOMEM when it needs more than cap ranges, PROTECT_EINVAL when a
 * page would be left with no permission at all.
 */
enum protect_result protect_ranges_narrow(const struct protect_range *in, unsigned n,
					  const struct protect_range *req, struct protect_range *out,
					  unsigned cap, unsigned *count);

/* The range of the VM holding gpa, or NULL (binary search; lock held). */
const struct protect_range *protect_range_at(const struct vm_protect *p, uint64_t gpa);

/*
 * HC_PROTECT: narrows the permissions of [gpa, gpa + length) of the VM's
 * RAM to perms with policy (see abi/hypercall.h), splitting large EPT pages
 * only where the range needs it, then invalidates the EPT's cached
 * translations on this CPU and on the CPUs of the VM's other vCPUs.
 * Checks: page-aligned non-empty range inside RAM; perms not 0, no write
 * without read (an EPT misconfiguration, SDM Vol. 3C 29.3.3.1), execute-only
 * only where IA32_VMX_EPT_VPID_CAP[0] allows it (A.10); `log` only where the
 * CPU has the monitor trap flag.  Nothing changes on an error.
 */
enum protect_result protect_memory(struct vcpu *vcpu, uint64_t gpa, uint64_t length,
				   unsigned perms, unsigned policy);

/*
 * protect_memory's work without a vCPU: the same checks (caps: the CPU's
 * VMX capabilities), the range set and the EPT, but no INVEPT.  For a VM
 * none of whose vCPUs has entered the guest yet (cvisor.ko sets up the
 * kernel's protection this way before it virtualizes any CPU), and for
 * protect_memory itself.  Unlike HC_PROTECT it takes `log` on a CPU without
 * the monitor trap flag: there the accesses cvisor emulates are let through
 * and the others are handled as `deny` (exit/protect.c).
 */
enum protect_result protect_narrow(struct vm *vm, const struct vmx_caps *caps, uint64_t gpa,
				   uint64_t length, unsigned perms, unsigned policy);


/*
 * HC_PIN_CR: bits of CR0 (WP) or CR4 (SMEP, SMAP, UMIP, FSGSBASE, PKE, CET,
 * PKS) that are set in this vCPU now and that no vCPU of the VM may clear
 * again once set.  The guest/host masks of every vCPU come to own them.
 */
enum protect_result protect_pin_cr(struct vcpu *vcpu, unsigned cr, uint64_t bits);
/* The CR0 and CR4 bits HC_PIN_CR accepts (before what the CPU supports). */
#define PROTECT_CR0_PINNABLE CR0_WP
#define PROTECT_CR4_PINNABLE (CR4_UMIP | CR4_FSGSBASE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_CET | \
			      CR4_PKS)

/*
 * HC_PIN_MSR: IA32_EFER (NXE, which must be set now, stays set once set),
 * IA32_LSTAR and IA32_SYSENTER_EIP (their value now is kept for good).
 */
enum protect_result protect_pin_msr(struct vcpu *vcpu, uint32_t msr);
/*
 * protect_pin_msr's pin without a vCPU (cvisor.ko pins the kernel's MSRs
 * before it virtualizes any CPU): value is the MSR's value now.  False when
 * msr cannot be pinned or value lacks the bits the pin keeps set.  Each
 * vCPU then needs protect_apply_msr_pins before its first entry.
 */
bool protect_pin_msr_value(struct vm *vm, uint32_t msr, uint64_t value);
/* True when the VM has pinned msr. */
bool protect_msr_pinned(const struct vm *vm, uint32_t msr);
/* Makes the vCPU's WRMSR of each pinned MSR exit (its MSR bitmap). */
void protect_apply_msr_pins(struct vcpu *vcpu);

/* What protect_msr_write says about a WRMSR. */
enum protect_msr_verdict {
	PROTECT_MSR_FREE, /* not pinned, or no pinned bit cleared: emulate it as usual */
	PROTECT_MSR_KEPT, /* emulate it with *value, pinned bits put back; once it is
			     written, protect_record_register records it */
	PROTECT_MSR_DONE, /* a whole-value pin: the value stays, the WRMSR completes
			     (recorded when it tried another value) */
};
enum protect_msr_verdict protect_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t *value);
/* Records a write to a pinned register that kept its pinned bits
 * (HC_EVENT_CR or HC_EVENT_MSR, the register's number, the value tried). */
void protect_record_register(struct vcpu *vcpu, unsigned kind, uint64_t number, uint64_t value);

/*
 * A MOV to CR0/CR4 (or CLTS, LMSW) that passed the architectural checks
 * (exit/cr.c): the value with the pinned bits that are set now put back;
 * each such write is recorded (HC_ACTION_KEPT).
 */
uint64_t protect_cr_write(struct vcpu *vcpu, unsigned cr, uint64_t current, uint64_t value);

/*
 * Adds an event to the VM's ring, filling sequence, VM and vCPU; a repeat
 * of the newest one (same vCPU, kind, RIP, page, access and action) only
 * counts up its repeats.  Counts it in the vCPU's statistics and prints the
 * first PROTECT_PRINT_MAX events of the VM.
 */
void protect_record(struct vcpu *vcpu, struct hc_protect_event event);

/* HC_PROTECT_EVENTS: moves up to max of the oldest events to out. */
unsigned protect_take_events(struct vm *vm, struct hc_protect_event *out, unsigned max);
/* Events waiting in the ring. */
unsigned protect_pending_events(struct vm *vm);

/* The VM's permissions let access (HC_PROT_*) happen at every page of
 * [gpa, gpa + size). */
bool protect_allows(struct vm *vm, uint64_t gpa, uint64_t size, unsigned access);

/*
 * The policy that applies to an access (HC_PROT_*) at guest linear address
 * linear (~0: not known) of a range whose policy is policy: `deny` for a
 * `log` write in the VM's deny window (log_deny_linear), else policy.
 */
unsigned protect_policy_for(const struct vm_protect *p, unsigned policy, unsigned access,
			    uint64_t linear);

/*
 * An access that cvisor emulates for a guest instruction (a string
 * element, emulate/string.c, or the part of an emulated access on another
 * page) to guest RAM, at guest linear address linear (~0ULL: not known):
 * true when it may go ahead.  A forbidden one is recorded, with linear, and
 * then, by policy (protect_policy_for): `log` lets it go ahead, `deny`
 * drops it (a read gives 0), `stop` ends the VM.
 */
bool protect_emulated_access(struct vcpu *vcpu, uint64_t gpa, uint64_t linear, unsigned size,
			     bool write);

/*
 * An access the CPU itself would make, which cvisor makes for it (a task
 * switch's reads and writes of the TSSs and descriptor tables, exit/
 * task_switch.c): checked like protect_emulated_access, but `deny` cannot
 * drop it without breaking what it was for, as with the CPU's own accesses
 * at an EPT violation (exit/protect.c).  NULL when it may go ahead (`log`
 * records it); else the policy ("deny" or "stop") that refuses it, recorded
 * as stopped: the caller ends the VM without making the access.
 */
const char *protect_cpu_access(struct vcpu *vcpu, uint64_t gpa, uint64_t linear, unsigned size,
			       bool write);

/*
 * The `log` step (exit/protect.c): lifts the page holding gpa so that
 * access (HC_PROT_*) goes through, until protect_end_step puts every lifted
 * page back to its range's permissions.  False when the vCPU already has
 * PROTECT_STEP_PAGES pages lifted.
 */
bool protect_lift_page(struct vcpu *vcpu, uint64_t gpa, unsigned access);
void protect_end_step(struct vcpu *vcpu);

/*
 * Drops what the CPU cached of the VM's EPT: INVEPT on this CPU now; the
 * other vCPUs of the VM are kicked and do it before their next entry
 * (protect_sync_vcpu), with their control-register masks brought up to the
 * pins.
 */
void protect_flush(struct vcpu *vcpu);
void protect_sync_vcpu(struct vcpu *vcpu);
/* INVEPT on this CPU only (after lifting a page, which widens: other CPUs'
 * stale entries can only be stricter). */
void protect_invalidate(struct vcpu *vcpu);

/*
 * Lifts everything, for a VM that restarts (vm/reset.c, every vCPU out of
 * its guest): RAM back to read/write/execute, split pages merged, pins,
 * steps and events cleared.  The vCPUs' resets rewrite their masks.
 */
void protect_reset(struct vm *vm);

#endif
