#include "exit/exit.h"

#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_names.h"

/*
 * Table entries.  ACRN-style, an entry says whether its handler needs the
 * exit qualification, so reasons that do not use it cost no VMREAD.  An
 * exit caused by a guest instruction cannot happen while an event is
 * delivered through the IDT (SDM Vol. 3C 28.2.4), so it skips the
 * IDT-vectoring check too.
 */
#define ON_EVENT(fn, qualification) { .handle = (fn), .needs_qualification = (qualification) }
#define ON_INSTRUCTION(fn, qualification) \
	{ .handle = (fn), .needs_qualification = (qualification), .instruction = true }

/* Guest VMX instructions get #UD in every kind of VM (nested VMX is not offered). */
#define VMX_INSTRUCTION_EXITS                                                  \
	[EXIT_REASON_VMCLEAR] = ON_INSTRUCTION(handle_vmx_instruction, false),  \
	[EXIT_REASON_VMLAUNCH] = ON_INSTRUCTION(handle_vmx_instruction, false), \
	[EXIT_REASON_VMPTRLD] = ON_INSTRUCTION(handle_vmx_instruction, false),  \
	[EXIT_REASON_VMPTRST] = ON_INSTRUCTION(handle_vmx_instruction, false),  \
	[EXIT_REASON_VMREAD] = ON_INSTRUCTION(handle_vmx_instruction, false),   \
	[EXIT_REASON_VMRESUME] = ON_INSTRUCTION(handle_vmx_instruction, false), \
	[EXIT_REASON_VMWRITE] = ON_INSTRUCTION(handle_vmx_instruction, false),  \
	[EXIT_REASON_VMXOFF] = ON_INSTRUCTION(handle_vmx_instruction, false),   \
	[EXIT_REASON_VMXON] = ON_INSTRUCTION(handle_vmx_instruction, false),    \
	[EXIT_REASON_INVEPT] = ON_INSTRUCTION(handle_vmx_instruction, false),   \
	[EXIT_REASON_INVVPID] = ON_INSTRUCTION(handle_vmx_instruction, false),  \
	[EXIT_REASON_VMFUNC] = ON_INSTRUCTION(handle_vmx_instruction, false)

static const struct exit_handler exit_handlers[EXIT_REASON_COUNT] = {
	[EXIT_REASON_EXTERNAL_INTERRUPT] = ON_EVENT(handle_external_interrupt, false),
	[EXIT_REASON_TRIPLE_FAULT] = ON_EVENT(handle_triple_fault, false),
	[EXIT_REASON_INTERRUPT_WINDOW] = ON_EVENT(handle_interrupt_window, false),
	[EXIT_REASON_NMI_WINDOW] = ON_EVENT(handle_nmi_window, false),
	[EXIT_REASON_EXCEPTION_NMI] = ON_EVENT(handle_exception_or_nmi, false),
	[EXIT_REASON_CPUID] = ON_INSTRUCTION(handle_cpuid, false),
	[EXIT_REASON_HLT] = ON_INSTRUCTION(handle_hlt, false),
	[EXIT_REASON_VMCALL] = ON_INSTRUCTION(handle_vmcall, false),
	[EXIT_REASON_IO_INSTRUCTION] = ON_INSTRUCTION(handle_io, true),
	[EXIT_REASON_EPT_VIOLATION] = ON_EVENT(handle_ept_violation, true),
	[EXIT_REASON_EPT_MISCONFIG] = ON_EVENT(handle_ept_misconfig, false),
	[EXIT_REASON_INVD] = ON_INSTRUCTION(handle_invd, false),
	[EXIT_REASON_CR_ACCESS] = ON_INSTRUCTION(handle_cr_access, true),
	[EXIT_REASON_RDMSR] = ON_INSTRUCTION(handle_rdmsr, false),
	[EXIT_REASON_WRMSR] = ON_INSTRUCTION(handle_wrmsr, false),
	[EXIT_REASON_XSETBV] = ON_INSTRUCTION(handle_xsetbv, false),
	[EXIT_REASON_MONITOR] = ON_INSTRUCTION(handle_monitor_mwait, false),
	[EXIT_REASON_MWAIT] = ON_INSTRUCTION(handle_monitor_mwait, false),
	VMX_INSTRUCTION_EXITS,
	[EXIT_REASON_PREEMPTION_TIMER] = ON_EVENT(handle_preemption_timer, false),
	[EXIT_REASON_MONITOR_TRAP_FLAG] = ON_EVENT(handle_monitor_trap_flag, false),
	/* A task switch may be the delivery of an event through a task gate
	 * (SDM Vol. 3C 28.2.4): the handler consumes that event itself. */
	[EXIT_REASON_TASK_SWITCH] = ON_EVENT(handle_task_switch, true),
	/* APIC virtualization (exit/apic.c).  An APIC-access exit can come
	 * during event delivery (SDM Vol. 3C 28.2.1, access type 3); the
	 * trap-like ones follow an instruction (29.1.2, 29.1.4, 29.4.3.3). */
	[EXIT_REASON_APIC_ACCESS] = ON_EVENT(handle_apic_access, true),
	[EXIT_REASON_APIC_WRITE] = ON_INSTRUCTION(handle_apic_write, true),
	[EXIT_REASON_VIRTUALIZED_EOI] = ON_INSTRUCTION(handle_virtualized_eoi, true),
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = ON_INSTRUCTION(handle_tpr_below_threshold, false),
};

/*
 * The running OS under cvisor.ko: everything it does natively except what
 * exits unconditionally (CPUID, INVD, XSETBV, VMX instructions, INIT, SIPI,
 * triple fault; SDM Vol. 3C 26.1.2, 26.2), the hidden MSRs, CR4.VMXE, its
 * own VMCALL interface and EPT violations on cvisor's pages.
 */
static const struct exit_handler hosted_os_exit_handlers[EXIT_REASON_COUNT] = {
	[EXIT_REASON_TRIPLE_FAULT] = ON_EVENT(handle_triple_fault_hosted_os, false),
	[EXIT_REASON_INIT_SIGNAL] = ON_EVENT(handle_init_signal_hosted_os, false),
	[EXIT_REASON_SIPI] = ON_EVENT(handle_sipi, true),
	[EXIT_REASON_CPUID] = ON_INSTRUCTION(handle_cpuid_hosted_os, false),
	[EXIT_REASON_VMCALL] = ON_INSTRUCTION(handle_vmcall, false),
	[EXIT_REASON_EPT_VIOLATION] = ON_EVENT(handle_ept_violation_hosted_os, true),
	[EXIT_REASON_EPT_MISCONFIG] = ON_EVENT(handle_ept_misconfig, false),
	[EXIT_REASON_INVD] = ON_INSTRUCTION(handle_invd, false),
	[EXIT_REASON_CR_ACCESS] = ON_INSTRUCTION(handle_cr_access, true),
	[EXIT_REASON_RDMSR] = ON_INSTRUCTION(handle_msr_hosted_os, false),
	[EXIT_REASON_WRMSR] = ON_INSTRUCTION(handle_msr_hosted_os, false),
	[EXIT_REASON_XSETBV] = ON_INSTRUCTION(handle_xsetbv, false),
	VMX_INSTRUCTION_EXITS,
	[EXIT_REASON_MONITOR_TRAP_FLAG] = ON_EVENT(handle_monitor_trap_flag, false),
};

const struct exit_handler *exit_handler_table(bool hosted_os)
{
	return hosted_os ? hosted_os_exit_handlers : exit_handlers;
}

/*
 * Exit reason bit 31 set: the VM entry itself failed while or after the
 * guest state was loaded (SDM Vol. 3C 27.8): reason 33 invalid guest
 * state, 34 MSR loading (qualification = failing entry, 1-based),
 * 41 machine-check event.
 */
static void report_entry_failure(struct vcpu *vcpu, struct vm_exit *exit)
{
	exit->qualification = vmcs_read(EXIT_QUALIFICATION);
	/* Name the broken rules: the CPU only says "invalid guest state". */
	if (!vcpu->entry_rules_reported)
		vcpu_check_entry_rules(vcpu);
	exit_fail_vm(vcpu, exit, "VM entry failed: %s",
		     vmx_exit_reason_name(exit->reason));
}

/* Records the exit in the vCPU's ring (exit_trace on). */
static struct exit_record *record_exit(struct vcpu *vcpu, uint32_t exit_reason, uint64_t tsc)
{
	struct exit_record *rec = &vcpu->exit_ring[vcpu->exit_ring_next];
	const uint64_t *r = vcpu->gprs.regs;

	vcpu->exit_ring_next = (vcpu->exit_ring_next + 1) % EXIT_RING_SIZE;
	*rec = (struct exit_record){
		.tsc = tsc, .rip = vmcs_read(GUEST_RIP), .reason = exit_reason,
		.rax = r[GPR_RAX], .rbx = r[GPR_RBX], .rcx = r[GPR_RCX], .rdx = r[GPR_RDX],
	};
	return rec;
}

/* The cold part of an exit: the VM entry failed, or no handler. */
static __attribute__((noinline, cold)) void handle_failed_or_unknown_exit(
	struct vcpu *vcpu, uint32_t exit_reason, struct vm_exit *exit)
{
	if (exit_reason & EXIT_REASON_ENTRY_FAILURE) {
		report_entry_failure(vcpu, exit);
		return;
	}
	/* Never skip an exit silently: name it, dump, stop this VM. */
	exit->qualification = vmcs_read(EXIT_QUALIFICATION);
	exit_fail_vm(vcpu, exit, "unhandled exit (%s): cvisor has no handler for it",
		     vmx_exit_reason_name(exit->reason));
}

/* The handler for a basic reason in the vCPU's table, or NULL. */
static const struct exit_handler *handler_for(const struct vcpu *vcpu, unsigned basic_reason)
{
	if (basic_reason >= EXIT_REASON_COUNT || !vcpu->exit_handlers[basic_reason].handle)
		return NULL;
	return &vcpu->exit_handlers[basic_reason];
}

/* Runs the handler h (NULL: none) and counts the exit, or reports it. */
static void handle_exit(struct vcpu *vcpu, const struct exit_handler *h, uint32_t exit_reason,
			struct vm_exit *exit)
{
	if (h && !(exit_reason & EXIT_REASON_ENTRY_FAILURE)) {
		exit_run_handler(vcpu, h, exit);
		return;
	}
	exit_count(vcpu, exit->reason);
	handle_failed_or_unknown_exit(vcpu, exit_reason, exit);
}

/*
 * The exits exit_dispatch leaves to this function: a failed entry, a reason
 * without a handler, and every exit while tracing is on (the trace ring,
 * TSC accounting and trace=exits).
 */
void exit_dispatch_slow(struct vcpu *vcpu, uint32_t exit_reason)
{
	struct vm_exit exit = { .reason = EXIT_REASON_BASIC(exit_reason) };
	const struct exit_handler *h = handler_for(vcpu, exit.reason);

	if (exit_trace == EXIT_TRACE_OFF) {
		handle_exit(vcpu, h, exit_reason, &exit);
		return;
	}
	uint64_t start = rdtsc();
	struct exit_record *rec = record_exit(vcpu, exit_reason, start);

	vcpu->exits_traced++;
	rec->has_qualification = !h || h->needs_qualification ||
				 (exit_reason & EXIT_REASON_ENTRY_FAILURE);
	handle_exit(vcpu, h, exit_reason, &exit);
	rec->qualification = exit.qualification;
	if (exit_trace == EXIT_TRACE_PRINT)
		exit_print_record(vcpu, rec);
	if (exit.reason < EXIT_REASON_COUNT)
		vcpu->exit_ticks[exit.reason] += rdtsc() - start;
}
