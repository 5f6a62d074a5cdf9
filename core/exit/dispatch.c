#include "exit/exit.h"

#include <stdarg.h>

#include "lib/format.h"
#include "lib/log.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_names.h"

/* Guest VMX instructions get #UD in every kind of VM (nested VMX is not offered). */
#define VMX_INSTRUCTION_EXITS                                            \
	[EXIT_REASON_VMCLEAR] = { handle_vmx_instruction, false },       \
	[EXIT_REASON_VMLAUNCH] = { handle_vmx_instruction, false },      \
	[EXIT_REASON_VMPTRLD] = { handle_vmx_instruction, false },       \
	[EXIT_REASON_VMPTRST] = { handle_vmx_instruction, false },       \
	[EXIT_REASON_VMREAD] = { handle_vmx_instruction, false },        \
	[EXIT_REASON_VMRESUME] = { handle_vmx_instruction, false },      \
	[EXIT_REASON_VMWRITE] = { handle_vmx_instruction, false },       \
	[EXIT_REASON_VMXOFF] = { handle_vmx_instruction, false },        \
	[EXIT_REASON_VMXON] = { handle_vmx_instruction, false },         \
	[EXIT_REASON_INVEPT] = { handle_vmx_instruction, false },        \
	[EXIT_REASON_INVVPID] = { handle_vmx_instruction, false },       \
	[EXIT_REASON_VMFUNC] = { handle_vmx_instruction, false }

/* ACRN-style: the entry says whether the handler needs the exit qualification,
 * so reasons that do not use it cost no VMREAD. */
static const struct exit_handler exit_handlers[EXIT_REASON_COUNT] = {
	[EXIT_REASON_EXTERNAL_INTERRUPT] = { handle_external_interrupt, false },
	[EXIT_REASON_TRIPLE_FAULT] = { handle_triple_fault, false },
	[EXIT_REASON_INTERRUPT_WINDOW] = { handle_interrupt_window, false },
	[EXIT_REASON_NMI_WINDOW] = { handle_nmi_window, false },
	[EXIT_REASON_EXCEPTION_NMI] = { handle_exception_or_nmi, false },
	[EXIT_REASON_CPUID] = { handle_cpuid, false },
	[EXIT_REASON_HLT] = { handle_hlt, false },
	[EXIT_REASON_VMCALL] = { handle_vmcall, false },
	[EXIT_REASON_IO_INSTRUCTION] = { handle_io, true },
	[EXIT_REASON_EPT_VIOLATION] = { handle_ept_violation, true },
	[EXIT_REASON_EPT_MISCONFIG] = { handle_ept_misconfig, false },
	[EXIT_REASON_INVD] = { handle_invd, false },
	[EXIT_REASON_CR_ACCESS] = { handle_cr_access, true },
	[EXIT_REASON_RDMSR] = { handle_rdmsr, false },
	[EXIT_REASON_WRMSR] = { handle_wrmsr, false },
	[EXIT_REASON_XSETBV] = { handle_xsetbv, false },
	VMX_INSTRUCTION_EXITS,
	[EXIT_REASON_PREEMPTION_TIMER] = { handle_preemption_timer, false },
};

/*
 * The running OS under cvisor.ko: everything it does natively except what
 * exits unconditionally (CPUID, INVD, XSETBV, VMX instructions, INIT, SIPI,
 * triple fault; SDM Vol. 3C 26.1.2, 26.2), the hidden MSRs, CR4.VMXE, its
 * own VMCALL interface and EPT violations on cvisor's pages.
 */
static const struct exit_handler passthrough_exit_handlers[EXIT_REASON_COUNT] = {
	[EXIT_REASON_TRIPLE_FAULT] = { handle_triple_fault_passthrough, false },
	[EXIT_REASON_INIT_SIGNAL] = { handle_init_signal, false },
	[EXIT_REASON_SIPI] = { handle_sipi, true },
	[EXIT_REASON_CPUID] = { handle_cpuid_passthrough, false },
	[EXIT_REASON_VMCALL] = { handle_vmcall, false },
	[EXIT_REASON_EPT_VIOLATION] = { handle_ept_violation_passthrough, true },
	[EXIT_REASON_EPT_MISCONFIG] = { handle_ept_misconfig, false },
	[EXIT_REASON_INVD] = { handle_invd, false },
	[EXIT_REASON_CR_ACCESS] = { handle_cr_access, true },
	[EXIT_REASON_RDMSR] = { handle_msr_passthrough, false },
	[EXIT_REASON_WRMSR] = { handle_msr_passthrough, false },
	[EXIT_REASON_XSETBV] = { handle_xsetbv, false },
	VMX_INSTRUCTION_EXITS,
};

static const struct exit_handler *table_entry(const struct exit_handler *table, unsigned reason)
{
	if (reason >= EXIT_REASON_COUNT || !table[reason].handle)
		return NULL;
	return &table[reason];
}

const struct exit_handler *exit_handler_for(unsigned basic_reason)
{
	return table_entry(exit_handlers, basic_reason);
}

const struct exit_handler *exit_passthrough_handler_for(unsigned basic_reason)
{
	return table_entry(passthrough_exit_handlers, basic_reason);
}

static const struct exit_handler *handler_for(const struct vcpu *vcpu, unsigned basic_reason)
{
	return vcpu->vm->identity ? exit_passthrough_handler_for(basic_reason)
				  : exit_handler_for(basic_reason);
}

void exit_fail_vm(struct vcpu *vcpu, const struct vm_exit *exit, const char *fmt, ...)
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
	vmcs_dump();
	exit_print_trace(vcpu);
	if (vcpu->vm->identity) {
		log_printf("cvisor: CPU %u: giving this CPU back to the OS at RIP 0x%llx\n",
			   vcpu->host_cpu, (unsigned long long)rip);
		vcpu->leave = VCPU_LEAVE_ON_FAILURE;
		return;
	}
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
	/* Name the broken rules: the CPU only says "invalid guest state". */
	if (!vcpu->entry_rules_reported)
		vcpu_check_entry_rules(vcpu);
	exit_fail_vm(vcpu, exit, "VM entry failed: %s",
		     vmx_exit_reason_name(exit->reason));
}

/*
 * An exit that happened while an event was being delivered through the
 * guest IDT (an EPT violation on the IDT or stack, say) leaves that event
 * in IDT_VECTORING_INFO; unless the VM ended or the handler queued its own
 * event, deliver it again on the next entry (SDM Vol. 3C 28.2.4, 27.6).
 */
#define VECTORING_VALID        (1u << 31)
#define VECTORING_ERROR_VALID  (1u << 11)
#define VECTORING_TYPE(info)   (((info) >> 8) & 7)

static void requeue_interrupted_event(struct vcpu *vcpu)
{
	if (vcpu->vm->ended || vcpu->event_injected)
		return;
	uint32_t info = vmcs_read(IDT_VECTORING_INFO);
	if (!(info & VECTORING_VALID))
		return;
	if (info & VECTORING_ERROR_VALID)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read(IDT_VECTORING_ERROR_CODE));
	/* Software interrupts and exceptions need their instruction length (types 4-6). */
	unsigned type = VECTORING_TYPE(info);
	if (type >= 4 && type <= 6)
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	vmcs_write(VM_ENTRY_INTR_INFO, info & ~(1u << 12)); /* bit 12 is undefined here */
}

bool exit_trace_all;

/* Records the exit in the vCPU's ring (and prints it with trace=exits). */
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

static void print_record(const struct vcpu *vcpu, const struct exit_record *rec)
{
	char qual[24] = "-";
	if (rec->has_qualification)
		fmt_snprintf(qual, sizeof(qual), "0x%llx", (unsigned long long)rec->qualification);
	log_printf("cvisor:   [%s/%u] tsc %llu exit %s (%u)%s rip 0x%llx qual %s rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx\n",
		   vcpu->vm->name, vcpu->id, (unsigned long long)rec->tsc,
		   vmx_exit_reason_symbol(EXIT_REASON_BASIC(rec->reason)),
		   EXIT_REASON_BASIC(rec->reason),
		   (rec->reason & EXIT_REASON_ENTRY_FAILURE) ? " entry-failure" : "",
		   (unsigned long long)rec->rip, qual, (unsigned long long)rec->rax,
		   (unsigned long long)rec->rbx, (unsigned long long)rec->rcx,
		   (unsigned long long)rec->rdx);
}

void exit_print_trace(const struct vcpu *vcpu)
{
	unsigned n = vcpu->exits_total < EXIT_RING_SIZE ? (unsigned)vcpu->exits_total : EXIT_RING_SIZE;
	unsigned first = (vcpu->exit_ring_next + EXIT_RING_SIZE - n) % EXIT_RING_SIZE;

	log_printf("cvisor: last %u exit(s) of VM %s vCPU %u, oldest first:\n", n, vcpu->vm->name,
		   vcpu->id);
	for (unsigned i = 0; i < n; i++)
		print_record(vcpu, &vcpu->exit_ring[(first + i) % EXIT_RING_SIZE]);
}

/* Runs the handler for one exit; exit->qualification is filled when read. */
static void handle_exit(struct vcpu *vcpu, uint32_t exit_reason, struct vm_exit *exit)
{
	if (exit_reason & EXIT_REASON_ENTRY_FAILURE) {
		report_entry_failure(vcpu, exit);
		return;
	}
	const struct exit_handler *h = handler_for(vcpu, exit->reason);
	if (!h) {
		/* Never skip an exit silently: name it, dump, stop this VM. */
		exit->qualification = vmcs_read(EXIT_QUALIFICATION);
		exit_fail_vm(vcpu, exit, "unhandled exit (%s): cvisor has no handler for it",
			     vmx_exit_reason_name(exit->reason));
		return;
	}
	if (h->needs_qualification)
		exit->qualification = vmcs_read(EXIT_QUALIFICATION);
	vcpu->event_injected = false;
	h->handle(vcpu, exit);
	requeue_interrupted_event(vcpu);
}

void exit_dispatch(struct vcpu *vcpu, uint32_t exit_reason)
{
	struct vm_exit exit = { .reason = EXIT_REASON_BASIC(exit_reason) };
	uint64_t start = rdtsc();
	struct exit_record *rec = record_exit(vcpu, exit_reason, start);

	if (exit.reason < EXIT_REASON_COUNT)
		vcpu->exit_counts[exit.reason]++;
	vcpu->exits_total++;
	/* The qualification is read only when a handler needs it. */
	const struct exit_handler *h = handler_for(vcpu, exit.reason);
	rec->has_qualification = !h || h->needs_qualification ||
				 (exit_reason & EXIT_REASON_ENTRY_FAILURE);
	handle_exit(vcpu, exit_reason, &exit);
	rec->qualification = exit.qualification;
	if (exit_trace_all)
		print_record(vcpu, rec);
	if (exit.reason < EXIT_REASON_COUNT)
		vcpu->exit_ticks[exit.reason] += rdtsc() - start;
}

void exit_print_vm_statistics(struct vcpu *const *vcpus, unsigned count)
{
	uint64_t total = 0;

	if (!count)
		return;
	for (unsigned i = 0; i < count; i++)
		total += vcpus[i]->exits_total;
	log_printf("cvisor: exit statistics for VM %s, all %u vCPUs (%llu exits):\n",
		   vcpus[0]->vm->name, count, (unsigned long long)total);
	log_printf("cvisor:   %-4s %-24s %10s %14s\n", "#", "exit reason", "count", "TSC in cvisor");
	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
		uint64_t n = 0, ticks = 0;
		for (unsigned i = 0; i < count; i++) {
			n += vcpus[i]->exit_counts[r];
			ticks += vcpus[i]->exit_ticks[r];
		}
		if (n)
			log_printf("cvisor:   %-4u %-24s %10llu %14llu\n", r, vmx_exit_reason_symbol(r),
				   (unsigned long long)n, (unsigned long long)ticks);
	}
}

void exit_print_statistics(const struct vcpu *vcpu)
{
	log_printf("cvisor: exit statistics for VM %s vCPU %u (%llu exits):\n", vcpu->vm->name,
		   vcpu->id, (unsigned long long)vcpu->exits_total);
	log_printf("cvisor:   %-4s %-24s %10s %14s %10s\n", "#", "exit reason", "count",
		   "TSC in cvisor", "per exit");
	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
		if (vcpu->exit_counts[r])
			log_printf("cvisor:   %-4u %-24s %10llu %14llu %10llu\n", r,
				   vmx_exit_reason_symbol(r),
				   (unsigned long long)vcpu->exit_counts[r],
				   (unsigned long long)vcpu->exit_ticks[r],
				   (unsigned long long)(vcpu->exit_ticks[r] / vcpu->exit_counts[r]));
}
