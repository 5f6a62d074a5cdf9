#include "dev/device.h"

#include "lib/deadline.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

void *vm_device_state(struct vm *vm, size_t size, const char *device)
{
	struct vm_devices *d = &vm->devices;
	size_t start = (d->state_used + 15) & ~(size_t)15;

	if (size > sizeof(d->state) - start) {
		log_printf("cvisor: VM %s: no device memory left for %s (%zu bytes)\n", vm->name,
			   device, size);
		return NULL;
	}
	d->state_used = start + size;
	memset(d->state + start, 0, size);
	return d->state + start;
}

struct device_timer *vm_add_device_timer(struct vm *vm, const char *name,
					 void (*fire)(struct vm *vm, void *state, uint64_t now),
					 void *state)
{
	struct vm_devices *d = &vm->devices;

	if (d->timer_count == VM_MAX_DEVICE_TIMERS) {
		log_printf("cvisor: VM %s: no room for the timer of %s (at most %u)\n", vm->name, name,
			   VM_MAX_DEVICE_TIMERS);
		return NULL;
	}
	struct device_timer *t = &d->timers[d->timer_count++];
	*t = (struct device_timer){ .name = name, .fire = fire, .state = state };
	return t;
}

static void update_next_deadline(struct vm_devices *d)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < d->timer_count; i++)
		next = deadline_earlier(next, d->timers[i].deadline);
	__atomic_store_n(&d->next_deadline, next, __ATOMIC_RELEASE);
}

void device_timer_arm(struct vm *vm, struct device_timer *timer, uint64_t deadline)
{
	uint64_t before = vm_device_deadline(&vm->devices);

	timer->deadline = deadline;
	update_next_deadline(&vm->devices);
	if (!deadline || (before && deadline >= before))
		return;
	/* An earlier deadline than the vCPUs' entries were timed for: their
	 * next exit goes back to the run loop, which times the entry anew
	 * (run/run_loop.c).  A halted vCPU's CPU may sleep until a later time
	 * (run/schedule.c): it is kicked and times its sleep anew.  The fence
	 * pairs with the one a CPU passes between storing HALTED and reading
	 * this deadline before it sleeps (schedule_idle_deadline): either
	 * that CPU sees the new deadline or this one sees HALTED. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v)
			continue;
		__atomic_store_n(&v->entry_deadline, 0, __ATOMIC_RELAXED);
		if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_HALTED)
			vcpu_kick(v);
	}
}

void vm_device_timers_expire(struct vm *vm, uint64_t now)
{
	struct vm_devices *d = &vm->devices;
	uint64_t next = vm_device_deadline(d);

	if (!next || now < next)
		return;
	spin_lock(&d->lock);
	for (unsigned i = 0; i < d->timer_count; i++) {
		struct device_timer *t = &d->timers[i];
		if (t->deadline && t->deadline <= now) {
			t->deadline = 0; /* fire may arm it again */
			t->fire(vm, t->state, now);
		}
	}
	update_next_deadline(d);
	spin_unlock(&d->lock);
}

bool vm_add_device_reset(struct vm *vm, const char *name, void (*reset)(struct vm *vm, void *state),
			 void *state)
{
	struct vm_devices *d = &vm->devices;

	if (d->reset_count == VM_MAX_DEVICE_RESETS) {
		log_printf("cvisor: VM %s: no room for the reset of %s (at most %u)\n", vm->name, name,
			   VM_MAX_DEVICE_RESETS);
		return false;
	}
	d->resets[d->reset_count++] = (struct device_reset){ .name = name, .reset = reset, .state = state };
	return true;
}

void vm_reset_devices(struct vm *vm)
{
	struct vm_devices *d = &vm->devices;

	for (unsigned i = 0; i < d->timer_count; i++)
		d->timers[i].deadline = 0;
	update_next_deadline(d);
	for (unsigned i = 0; i < d->reset_count; i++)
		d->resets[i].reset(vm, d->resets[i].state);
}
