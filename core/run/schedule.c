#include "run/schedule.h"

#include "lib/deadline.h"
#include "platform.h"
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

uint64_t schedule_idle_deadline(struct vcpu *const *vcpus, unsigned count, uint64_t now)
{
	uint64_t earliest = 0;

	/* Pairs with the fence of a CPU that arms a device timer, then
	 * looks for halted vCPUs to kick (dev/device.c): this CPU stored its
	 * vCPUs' HALTED before it reads their VMs' deadlines here, so one of
	 * the two sees the other's store. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < count; i++) {
		const struct vcpu *v = vcpus[i];
		if (__atomic_load_n(&v->vm->ended, __ATOMIC_ACQUIRE))
			continue;
		if (vcpu_has_work(v, now))
			return SCHEDULE_NO_IDLE;
		earliest = deadline_earlier(earliest, vcpu_wake_deadline(v));
	}
	return earliest;
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
		if (!ran && running) {
			/* Every vCPU here is blocked: sleep until a kick or the
			 * first time one of them wakes by, looking once more
			 * (a timer may have passed since the round began). */
			uint64_t deadline = schedule_idle_deadline(vcpus, count, rdtsc());
			if (deadline != SCHEDULE_NO_IDLE)
				plat_idle_until(deadline);
		}
	}
	if (current)
		vcpu_put(current);
}
