#include "exit/exit.h"

#include <stdarg.h>

#include "lib/format.h"
#include "lib/log.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_names.h"

/* ACRN-style: the entry says whether the handler needs the exit qualification,
 * so reasons that do not use it cost no VMREAD. */
static const struct exit_handler exit_handlers[EXIT_REASON_COUNT] = {
	[EXIT_REASON_TRIPLE_FAULT] = { handle_triple_fault, false },
	[EXIT_REASON_CPUID] = { handle_cpuid, false },
	[EXIT_REASON_HLT] = { handle_hlt, false },
	[EXIT_REASON_VMCALL] = { handle_vmcall, false },
	[EXIT_REASON_IO_INSTRUCTION] = { handle_io, true },
	[EXIT_REASON_EPT_VIOLATION] = { handle_ept_violation, true },
	[EXIT_REASON_EPT_MISCONFIG] = { handle_ept_misconfig, false },
};

const struct exit_handler *exit_handler_for(unsigned basic_reason)
{
	if (basic_reason >= EXIT_REASON_COUNT || !exit_handlers[basic_reason].handle)
		return NULL;
	return &exit_handlers[basic_reason];
}

void exit_fail_vm(struct vcpu *vcpu, const struct vm_exit *exit, bool dump,
		  const char *fmt, ...)
{
	char what[LOG_LINE_MAX / 2];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	uint64_t rip = vmcs_read(GUEST_RIP);
	log_printf("cvisor: VM %s vCPU %u: exit %s (%u) at RIP 0x%llx, qualification 0x%llx: %s\n",
		   vcpu->vm->name, vcpu->id, vmx_exit_reason_symbol(exit->reason),
		   exit->reason, (unsigned long long)rip,
		   (unsigned long long)exit->qualification, what);
	if (dump)
		vmcs_dump();
	vm_end(vcpu->vm, false, "%s (exit %s at RIP 0x%llx)", what,
	       vmx_exit_reason_symbol(exit->reason), (unsigned long long)rip);
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
	exit_fail_vm(vcpu, exit, true, "VM entry failed: %s",
		     vmx_exit_reason_name(exit->reason));
}

void exit_dispatch(struct vcpu *vcpu, uint32_t exit_reason)
{
	struct vm_exit exit = { .reason = EXIT_REASON_BASIC(exit_reason) };

	if (exit.reason < EXIT_REASON_COUNT)
		vcpu->exit_counts[exit.reason]++;
	vcpu->exits_total++;

	if (exit_reason & EXIT_REASON_ENTRY_FAILURE) {
		report_entry_failure(vcpu, &exit);
		return;
	}
	const struct exit_handler *h = exit_handler_for(exit.reason);
	if (!h) {
		/* Never skip an exit silently: name it, dump, stop this VM. */
		exit.qualification = vmcs_read(EXIT_QUALIFICATION);
		exit_fail_vm(vcpu, &exit, true, "unhandled exit (%s): cvisor has no handler for it",
			     vmx_exit_reason_name(exit.reason));
		return;
	}
	if (h->needs_qualification)
		exit.qualification = vmcs_read(EXIT_QUALIFICATION);
	h->handle(vcpu, &exit);
}

void exit_print_statistics(const struct vcpu *vcpu)
{
	log_printf("cvisor: exit statistics for VM %s vCPU %u (%llu exits):\n", vcpu->vm->name,
		   vcpu->id, (unsigned long long)vcpu->exits_total);
	log_printf("cvisor:   %-4s %-24s %10s\n", "#", "exit reason", "count");
	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
		if (vcpu->exit_counts[r])
			log_printf("cvisor:   %-4u %-24s %10llu\n", r, vmx_exit_reason_symbol(r),
				   (unsigned long long)vcpu->exit_counts[r]);
}
