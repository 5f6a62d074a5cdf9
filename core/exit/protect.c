/*
 * Violations of protected memory (vm/protect.h) at their EPT violation
 * (SDM Vol. 3C 29.3.3.2; exit qualification 28.2.1, Table 28-7), by the
 * range's policy:
 *
 *  - log: the event is recorded and exactly this access goes through.  An
 *    instruction cvisor emulates (MOV, MOVZX, MOVSX, MOVS, STOS: emulate/)
 *    is emulated on the page's RAM: its access happens and the page is never
 *    lifted, so no other vCPU of the VM can slip through meanwhile.  Any
 *    other access (an instruction fetch, another instruction, the CPU's own
 *    access while delivering an event or walking the guest's page tables)
 *    takes the monitor-trap-flag step (SDM Vol. 3C 26.5.2): the page's
 *    permissions are lifted for it, the guest runs one instruction, and the
 *    MTF exit puts the page back (handle_monitor_trap_flag).  Meanwhile
 *    cvisor injects no new event (run/run_loop.c) and the interrupt- and
 *    NMI-window exits are off, so the only thing that runs before the MTF
 *    exit is that instruction, or the delivery of the event whose delivery
 *    made the access.  If the instruction faults instead (a #PF of the
 *    guest's own paging, say), the MTF exit follows the fault's delivery
 *    (26.5.2); the page is put back and the retried access is a new event.
 *    (Bochs 2.7 advertises the monitor trap flag but delivers no MTF exit
 *    after an instruction: there only the emulated accesses are exact.)
 *    On a CPU without the monitor trap flag (only cvisor.ko's own ranges
 *    can be `log` there: HC_PROTECT refuses it) such an access is handled
 *    as `deny`, and its event says so (faulted or stopped, not allowed).
 *
 *  - deny: the access does not happen and the guest goes on.  A read or a
 *    write by an instruction is emulated (emulate/) with the page replaced
 *    by a sink: writes are dropped, reads of a page that forbids reading
 *    give 0, and the instruction completes (RIP past it).  This keeps a
 *    kernel whose stray or hostile write is refused running, as cvisor
 *    already does for its own pages under cvisor.ko.  An instruction fetch
 *    cannot be skipped: it gets the fault a guest page-table protection
 *    would give (#PF with P, and I/D where SMEP or PAE with NXE makes the
 *    CPU report it, SDM Vol. 3A 4.7), or #GP(0) when paging is off; so does
 *    an instruction cvisor does not emulate.  An access the CPU makes itself
 *    (a page walk setting accessed/dirty bits, or delivering an event)
 *    cannot be dropped without losing what it was for: it ends the VM.
 *
 *  - stop: the VM ends with the usual one-line report.
 *
 * A `log` write whose linear address is in the VM's deny window
 * (vm_protect.log_deny_linear, set by cvisor.ko) is handled as `deny`.
 */
#include "exit/protect.h"

#include "dev/mmio.h"
#include "emulate/emulate.h"
#include "exit/ept_violation.h"
#include "exit/exit.h"
#include "mm/guest_memory.h"
#include "platform.h"
#include "vcpu/events.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* Exit qualification bit 12: NMI unblocking due to IRET (SDM Vol. 3C 28.2.1). */
#define EPT_QUAL_NMI_UNBLOCKING (1u << 12)

/* The access of the exit qualification, in HC_PROT_* bits (a read-modify-
 * write instruction may report both read and write). */
static unsigned access_of(uint64_t qualification)
{
	return (qualification & EPT_QUAL_READ ? HC_PROT_READ : 0) |
	       (qualification & EPT_QUAL_WRITE ? HC_PROT_WRITE : 0) |
	       (qualification & EPT_QUAL_FETCH ? HC_PROT_EXEC : 0);
}

static const char *access_name(unsigned access)
{
	if (access & HC_PROT_EXEC)
		return "instruction fetch";
	return access & HC_PROT_WRITE ? "write" : "read";
}

/* The sink of `deny`, at base 0 so that offsets are guest-physical
 * addresses: reads see the page if it is readable, writes go nowhere. */
static uint64_t sink_read(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size)
{
	uint64_t value = 0;
	(void)state;
	if (protect_allows(vcpu->vm, offset, size, HC_PROT_READ))
		guest_read(vcpu->vm, offset, &value, size);
	return value;
}

static void sink_write(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size,
		       uint64_t value)
{
	(void)vcpu;
	(void)state;
	(void)offset;
	(void)size;
	(void)value;
}

static const struct mmio_ops protected_page_ops = { .read = sink_read, .write = sink_write };
static const struct mmio_region protected_page = {
	.name = "protected page", .base = 0, .size = ~0ULL, .ops = &protected_page_ops,
};

/* The page whose violation `log` lets through (logged_access's state). */
struct logged_page {
	uint64_t gpa_page;
	uint64_t linear_page; /* ~0ULL: the exit gave no linear address */
};

/*
 * `log`'s page, at base 0 too (state: struct logged_page): the access goes
 * to RAM, this once.  A part of it on another page (an access that crosses
 * a page boundary) is what that page's own protection allows (vm/protect.c,
 * protect_emulated_access, which records it, at the linear page before the
 * violating one for the low part, after it for the high part); a part it
 * refuses is dropped, and reads as 0.
 */
static void logged_access(struct vcpu *vcpu, const struct logged_page *page, uint64_t gpa,
			  unsigned size, bool write, uint64_t *value)
{
	uint8_t *bytes = (uint8_t *)value; /* little-endian: low bytes first */

	for (unsigned done = 0, n; done < size; done += n) {
		uint64_t at = gpa + done;
		n = (unsigned)(PAGE_SIZE - (at & ~PAGE_MASK));
		if (n > size - done)
			n = size - done;
		if ((at & PAGE_MASK) != page->gpa_page) {
			uint64_t linear = ~0ULL;
			if (page->linear_page != ~0ULL)
				linear = (done ? page->linear_page + PAGE_SIZE
					       : page->linear_page - PAGE_SIZE) |
					 (at & ~PAGE_MASK);
			/* Its own event, besides the one of the violation. */
			bool recorded = vcpu->protect.recorded;
			bool allowed = protect_emulated_access(vcpu, at, linear, n, write);
			vcpu->protect.recorded = recorded;
			if (!allowed)
				continue;
		}
		if (write)
			guest_write(vcpu->vm, at, bytes + done, n);
		else
			guest_read(vcpu->vm, at, bytes + done, n);
	}
}

static uint64_t logged_read(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size)
{
	uint64_t value = 0;
	logged_access(vcpu, state, offset, size, false, &value);
	return value;
}

static void logged_write(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size,
			 uint64_t value)
{
	logged_access(vcpu, state, offset, size, true, &value);
}

static const struct mmio_ops logged_page_ops = { .read = logged_read, .write = logged_write };

static void set_exec_controls(uint32_t on, uint32_t off)
{
	uint32_t proc = vmcs_read(CPU_BASED_VM_EXEC_CONTROL);
	uint32_t want = (proc | on) & ~off;
	if (want != proc)
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, want);
}

/*
 * The fault of a denied fetch (or of an instruction cvisor cannot emulate):
 * what the guest's own paging would raise for a page it forbids (SDM Vol.
 * 3A 4.7: P = 1, W/R, U/S from CPL 3, I/D for fetches where the CPU
 * reports it), or #GP(0) without paging or a linear address.
 */
static void inject_protection_fault(struct vcpu *vcpu, uint64_t linear, unsigned access)
{
	uint64_t cr4 = vmcs_read(GUEST_CR4);

	if (!(vmcs_read(GUEST_CR0) & CR0_PG) || linear == ~0ULL) {
		vcpu_inject_gp(vcpu);
		return;
	}
	uint32_t error = PF_PRESENT;
	if (access & HC_PROT_WRITE)
		error |= PF_WRITE;
	if (vcpu_guest_cpl() == 3)
		error |= PF_USER;
	if ((access & HC_PROT_EXEC) &&
	    ((cr4 & CR4_SMEP) || ((cr4 & CR4_PAE) && (vmcs_read(GUEST_IA32_EFER) & EFER_NXE))))
		error |= PF_FETCH;
	vcpu_inject_page_fault(vcpu, linear, error);
}

/* One violation as the exit reports it (RIP before any emulation moves it). */
struct violation {
	uint64_t gpa, linear, rip;
	unsigned access; /* HC_PROT_* */
};

static void record(struct vcpu *vcpu, const struct violation *v, unsigned action)
{
	protect_record(vcpu, (struct hc_protect_event){
		.kind = HC_EVENT_MEMORY, .address = v->gpa, .linear = v->linear, .rip = v->rip,
		.access = (uint8_t)v->access, .action = (uint8_t)action,
	});
}

/*
 * An IRET whose access exited had unblocked NMIs: the guest executes it
 * again (or takes a fault instead of it), so NMIs are blocked again as
 * before it (SDM Vol. 3C 28.2.3).  Bit 12 is undefined with valid
 * IDT-vectoring information, and with NMI exiting but no virtual NMIs.
 */
static void restore_nmi_blocking(uint64_t qualification, bool delivering)
{
	uint32_t pin = vmcs_read(PIN_BASED_VM_EXEC_CONTROL);

	if (!(qualification & EPT_QUAL_NMI_UNBLOCKING) || delivering ||
	    ((pin & PIN_NMI_EXITING) && !(pin & PIN_VIRTUAL_NMIS)))
		return;
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
		   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) | INTERRUPTIBILITY_NMI);
}

/* Ends the VM: "<access> of protected guest-physical <gpa> (policy <policy>)<why>". */
static void stop_vm(struct vcpu *vcpu, const struct vm_exit *exit, const struct violation *v,
		    const char *policy, const char *why)
{
	record(vcpu, v, HC_ACTION_STOPPED);
	exit_fail_vm(vcpu, exit, "%s of protected guest-physical 0x%llx (policy %s)%s",
		     access_name(v->access), (unsigned long long)v->gpa, policy, why);
}

/*
 * The instruction at RIP made this data access: emulated against region (the
 * sink of `deny`, the RAM of `log`).  True when it was emulated (RIP past
 * it, or left for a REP to go on), with its event recorded as action unless
 * a string element recorded its own; false, changing nothing, for an
 * instruction cvisor does not emulate.
 */
static bool emulate_access(struct vcpu *vcpu, const struct vm_exit *exit,
			   const struct violation *v, const struct mmio_region *region,
			   unsigned action)
{
	struct emulate_failure failure;
	uint64_t q = exit->qualification;
	uint64_t breakpoint_linear = (q & EPT_QUAL_LINEAR_TRANSLATED) ? v->linear : EMULATE_NO_LINEAR;

	/* A REP MOVS/STOS element records itself (vm/protect.c,
	 * protect_emulated_access); a MOV's one access is recorded here. */
	vcpu->protect.recorded = false;
	enum emulate_result result = emulate_mmio(vcpu, v->gpa, breakpoint_linear, region, &failure);
	if (result > EMULATE_RESTART)
		return false;
	if (!vcpu->protect.recorded)
		record(vcpu, v, action);
	return true;
}

/* Where the violating access came from (protect_violation). */
struct violation_source {
	bool delivering; /* the CPU delivering an event (IDT-vectoring info) */
	bool page_walk;  /* the CPU walking the guest's page tables */
};

/* The access does not happen and the guest gets its fault, recorded. */
static void fault_access(struct vcpu *vcpu, const struct violation *v)
{
	record(vcpu, v, HC_ACTION_FAULTED);
	inject_protection_fault(vcpu, v->linear, v->access);
}

/* `deny` of an instruction's read or write: emulated against the sink, or
 * faulted when cvisor does not emulate the instruction. */
static void drop_access(struct vcpu *vcpu, const struct vm_exit *exit, const struct violation *v)
{
	if (!emulate_access(vcpu, exit, v, &protected_page, HC_ACTION_DROPPED))
		fault_access(vcpu, v);
}

/* `deny`: the access does not happen (see the top of this file). */
static void deny(struct vcpu *vcpu, const struct vm_exit *exit, const struct violation *v,
		 struct violation_source from, const char *policy)
{
	if (from.delivering || from.page_walk) {
		stop_vm(vcpu, exit, v, policy,
			from.delivering ? " while delivering an event: the CPU's own access cannot be dropped"
					: " by the guest's page walk: the CPU's own access cannot be dropped");
	} else if (v->access & HC_PROT_EXEC) {
		fault_access(vcpu, v);
	} else {
		drop_access(vcpu, exit, v);
	}
}

/* `log`: this access goes through, one access (emulated) or one instruction
 * (the MTF step) long; without the monitor trap flag only the emulated one
 * goes through and any other is denied. */
static void let_through_once(struct vcpu *vcpu, const struct vm_exit *exit,
			     const struct violation *v, struct violation_source from)
{
	bool by_instruction = !from.delivering && !from.page_walk;

	struct logged_page page = {
		.gpa_page = v->gpa & PAGE_MASK,
		.linear_page = v->linear == ~0ULL ? ~0ULL : v->linear & PAGE_MASK,
	};
	const struct mmio_region logged_page = {
		.name = "logged page", .base = 0, .size = ~0ULL, .ops = &logged_page_ops,
		.state = &page,
	};

	if (by_instruction && !(v->access & HC_PROT_EXEC) &&
	    emulate_access(vcpu, exit, v, &logged_page, HC_ACTION_ALLOWED))
		return;
	if (!vmx_control_allowed(&vcpu->cpu->caps, VMX_CONTROLS_PROC, PROC_MONITOR_TRAP_FLAG)) {
		/* An instruction's access here is one cvisor did not emulate:
		 * its fault at once, rather than deny's second decode. */
		if (by_instruction && !(v->access & HC_PROT_EXEC))
			fault_access(vcpu, v);
		else
			deny(vcpu, exit, v, from, "log, no monitor trap flag");
		return;
	}
	if (!protect_lift_page(vcpu, v->gpa, v->access)) {
		stop_vm(vcpu, exit, v, "log",
			": one instruction touched more protected pages than cvisor lifts at once");
		return;
	}
	record(vcpu, v, HC_ACTION_ALLOWED);
	protect_invalidate(vcpu);
	set_exec_controls(PROC_MONITOR_TRAP_FLAG,
			  PROC_INTERRUPT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);
}

bool protect_violation(struct vcpu *vcpu, const struct vm_exit *exit, uint64_t gpa)
{
	struct vm_protect *p = &vcpu->vm->protect;

	if (!__atomic_load_n(&p->range_count, __ATOMIC_ACQUIRE))
		return false;
	spin_lock(&p->lock);
	const struct protect_range *r = protect_range_at(p, gpa);
	unsigned perms = r ? r->perms : 0, policy = r ? r->policy : 0;
	spin_unlock(&p->lock);
	if (!r)
		return false;

	uint64_t q = exit->qualification;
	struct violation v = { .gpa = gpa, .access = access_of(q), .rip = vmcs_read(GUEST_RIP) };
	if (!(v.access & ~perms)) {
		/* The range allows it: a translation cached before the range
		 * changed on another CPU.  Drop it and retry. */
		protect_invalidate(vcpu);
		return true;
	}
	v.linear = (q & EPT_QUAL_LINEAR_VALID) ? vmcs_read(GUEST_LINEAR_ADDRESS) : ~0ULL;
	struct violation_source from = {
		.delivering = vmcs_read(IDT_VECTORING_INFO) & INTR_INFO_VALID,
		/* Bit 7 without bit 8: the access was to a paging-structure
		 * entry of the guest's page walk, not by the instruction itself
		 * (Table 28-7). */
		.page_walk = (q & EPT_QUAL_LINEAR_VALID) && !(q & EPT_QUAL_LINEAR_TRANSLATED),
	};
	restore_nmi_blocking(q, from.delivering);
	/* A write through a linear window the VM's owner set aside (vm/protect.h). */
	policy = protect_policy_for(p, policy, v.access, v.linear);

	switch (policy) {
	case HC_POLICY_LOG:
		let_through_once(vcpu, exit, &v, from);
		break;
	case HC_POLICY_DENY:
		deny(vcpu, exit, &v, from, "deny");
		break;
	default:
		stop_vm(vcpu, exit, &v, "stop", "");
		break;
	}
	return true;
}

/*
 * The monitor trap flag's exit (SDM Vol. 3C 26.5.2): the one instruction
 * of a `log` step has run (or an event was delivered instead): the lifted
 * pages get their protection back.  cvisor sets the flag for nothing else.
 */
void handle_monitor_trap_flag(struct vcpu *vcpu, const struct vm_exit *exit)
{
	set_exec_controls(0, PROC_MONITOR_TRAP_FLAG);
	if (!vcpu->protect.step_count) {
		exit_fail_vm(vcpu, exit, "monitor trap flag exit with no protection step in flight");
		return;
	}
	protect_end_step(vcpu);
}
