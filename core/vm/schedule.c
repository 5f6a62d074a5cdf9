#include "vm/schedule.h"

#include "dev/lapic.h"
#include "vm/apic_timer.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vmx/vcpu.h"

/* Worth switching to: it runs, or an event for it is pending. */
static bool runnable(const struct vcpu *v)
{
	enum vcpu_state state = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE);
	return state == VCPU_RUNNING || __atomic_load_n(&v->pending_init, __ATOMIC_ACQUIRE) ||
	       (state != VCPU_WAIT_SIPI && __atomic_load_n(&v->pending_nmi, __ATOMIC_ACQUIRE)) ||
	       (state == VCPU_WAIT_SIPI && __atomic_load_n(&v->pending_sipi, __ATOMIC_ACQUIRE)) ||
	       (state == VCPU_HALTED && (lapic_has_pending(&v->lapic) ||
					(apic_timer_deadline(v) && rdtsc() >= apic_timer_deadline(v))));
}

void schedule_round_robin(struct vcpu *const *vcpus, unsigned count,
			  void (*vm_ended)(struct vm *vm))
{
	struct vcpu *current = NULL;
	unsigned running = count;

	while (running) {
		bool ran = false;
		running = 0;
		for (unsigned i = 0; i < count; i++) {
			struct vcpu *v = vcpus[i];
			if (v->vm->ended)
				continue;
			if (!runnable(v)) {
				running++; /* blocked: another vCPU may still wake it */
				continue;
			}
			ran = true;
			if (!vcpu_make_current(v, current)) {
				current = NULL; /* the previous vCPU was put */
				if (vm_ended)
					vm_ended(v->vm);
				continue;
			}
			current = v;
			vcpu_run_slice(v);
			if (v->vm->ended) {
				if (vm_ended)
					vm_ended(v->vm);
			} else {
				running++;
			}
		}
		if (!ran)
			cpu_relax(); /* every vCPU here is blocked: wait for an event */
	}
	if (current)
		vcpu_put(current);
}
