#include "run/schedule.h"

#include "vm/vm.h"
#include "vmx/intrin.h"
#include "run/run_loop.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"


static unsigned vcpus_not_ended(struct vcpu *const *vcpus, unsigned count)
{
	unsigned n = 0;

	for (unsigned i = 0; i < count; i++)
		n += !vcpus[i]->vm->ended;
	return n;
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
			if (!vcpu_has_work(v, rdtsc())) {
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
			vcpu_run_slice(v, vcpus_not_ended(vcpus, count) == 1 ? VCPU_SLICE_ALONE_TSC
									     : VCPU_SLICE_TSC);
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
