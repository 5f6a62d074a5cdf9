/*
 * Reporting exits: the one-line report that ends a VM after an exit cvisor
 * will not handle, the vCPU's trace ring of its last exits, and the exit
 * statistics.  Handlers call down into this; the dispatch (dispatch.c)
 * records into the ring.
 */
#include "exit/exit.h"

#include <stdarg.h>

#include "lib/format.h"
#include "lib/log.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_names.h"

#ifdef CVISOR_RELEASE
enum exit_trace exit_trace = EXIT_TRACE_OFF;
#else
enum exit_trace exit_trace = EXIT_TRACE_RING;
#endif

void exit_print_record(const struct vcpu *vcpu, const struct exit_record *rec)
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
	unsigned n = vcpu->exits_traced < EXIT_RING_SIZE ? (unsigned)vcpu->exits_traced : EXIT_RING_SIZE;
	unsigned first = (vcpu->exit_ring_next + EXIT_RING_SIZE - n) % EXIT_RING_SIZE;

	if (exit_trace == EXIT_TRACE_OFF) {
		log_printf("cvisor: no exit trace of VM %s vCPU %u: tracing is off "
			   "(boot option trace=ring keeps the last %u exits)\n",
			   vcpu->vm->name, vcpu->id, EXIT_RING_SIZE);
		return;
	}
	log_printf("cvisor: last %u exit(s) of VM %s vCPU %u, oldest first:\n", n, vcpu->vm->name,
		   vcpu->id);
	for (unsigned i = 0; i < n; i++)
		exit_print_record(vcpu, &vcpu->exit_ring[(first + i) % EXIT_RING_SIZE]);
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

/* Accesses to addresses nothing answers, when there were any (dev/open_bus.c). */
static void print_open_bus(uint64_t reads, uint64_t writes)
{
	if (reads || writes)
		log_printf("cvisor:   open bus (neither RAM nor a device): %llu read(s), %llu write(s)\n",
			   (unsigned long long)reads, (unsigned long long)writes);
}

/* Protection violations by what cvisor did (vm/protect.h), when there were any. */
static void print_protection(const uint64_t actions[HC_ACTION_COUNT])
{
	uint64_t total = 0;

	for (unsigned a = 0; a < HC_ACTION_COUNT; a++)
		total += actions[a];
	if (total)
		log_printf("cvisor:   protection violations: %llu (let through once %llu, dropped %llu, "
			   "faulted %llu, stopped %llu, pinned bits kept %llu)\n",
			   (unsigned long long)total, (unsigned long long)actions[HC_ACTION_ALLOWED],
			   (unsigned long long)actions[HC_ACTION_DROPPED],
			   (unsigned long long)actions[HC_ACTION_FAULTED],
			   (unsigned long long)actions[HC_ACTION_STOPPED],
			   (unsigned long long)actions[HC_ACTION_KEPT]);
}

/* The TSC columns exist only while exits are traced (exit_trace). */
void exit_print_vm_statistics(struct vcpu *const *vcpus, unsigned count)
{
	bool timed = exit_trace != EXIT_TRACE_OFF;
	uint64_t total = 0, open_bus_reads = 0, open_bus_writes = 0;
	uint64_t actions[HC_ACTION_COUNT] = { 0 };

	if (!count)
		return;
	for (unsigned i = 0; i < count; i++) {
		total += vcpus[i]->exits_total;
		open_bus_reads += vcpus[i]->open_bus_reads;
		open_bus_writes += vcpus[i]->open_bus_writes;
		for (unsigned a = 0; a < HC_ACTION_COUNT; a++)
			actions[a] += vcpus[i]->protect.actions[a];
	}
	log_printf("cvisor: exit statistics for VM %s, all %u vCPUs (%llu exits):\n",
		   vcpus[0]->vm->name, count, (unsigned long long)total);
	log_printf("cvisor:   %-4s %-24s %10s %14s\n", "#", "exit reason", "count",
		   timed ? "TSC in cvisor" : "");
	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
		uint64_t n = 0, ticks = 0;
		for (unsigned i = 0; i < count; i++) {
			n += vcpus[i]->exit_counts[r];
			ticks += vcpus[i]->exit_ticks[r];
		}
		if (!n)
			continue;
		if (timed)
			log_printf("cvisor:   %-4u %-24s %10llu %14llu\n", r, vmx_exit_reason_symbol(r),
				   (unsigned long long)n, (unsigned long long)ticks);
		else
			log_printf("cvisor:   %-4u %-24s %10llu\n", r, vmx_exit_reason_symbol(r),
				   (unsigned long long)n);
	}
	print_open_bus(open_bus_reads, open_bus_writes);
	print_protection(actions);
}

void exit_print_statistics(const struct vcpu *vcpu)
{
	bool timed = exit_trace != EXIT_TRACE_OFF;

	log_printf("cvisor: exit statistics for VM %s vCPU %u (%llu exits):\n", vcpu->vm->name,
		   vcpu->id, (unsigned long long)vcpu->exits_total);
	if (timed)
		log_printf("cvisor:   %-4s %-24s %10s %14s %10s\n", "#", "exit reason", "count",
			   "TSC in cvisor", "per exit");
	else
		log_printf("cvisor:   %-4s %-24s %10s\n", "#", "exit reason", "count");
	for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
		uint64_t n = vcpu->exit_counts[r];
		if (!n)
			continue;
		if (timed)
			log_printf("cvisor:   %-4u %-24s %10llu %14llu %10llu\n", r,
				   vmx_exit_reason_symbol(r), (unsigned long long)n,
				   (unsigned long long)vcpu->exit_ticks[r],
				   (unsigned long long)(vcpu->exit_ticks[r] / n));
		else
			log_printf("cvisor:   %-4u %-24s %10llu\n", r, vmx_exit_reason_symbol(r),
				   (unsigned long long)n);
	}
	print_open_bus(vcpu->open_bus_reads, vcpu->open_bus_writes);
	print_protection(vcpu->protect.actions);
}
