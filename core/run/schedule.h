/* Time-sharing one CPU between vCPUs. */
#ifndef CVISOR_RUN_SCHEDULE_H
#define CVISOR_RUN_SCHEDULE_H

#include <stdint.h>

struct vcpu;
struct vm;

/*
 * Runs the vCPUs round robin, one VMX-preemption-timer slice each, until
 * every VM has ended, so a guest that spins forever cannot starve the
 * others.  vm_ended (may be NULL) is called once for each VM as it ends.
 *
 * When none of them can run (halted, waiting for SIPI), the CPU sleeps in
 * plat_idle_until until schedule_idle_deadline's time or a kick: every
 * event another CPU posts to a vCPU comes with vcpu_kick, which interrupts
 * this CPU's sleep as it interrupts its guest.  A woken vCPU runs at once,
 * or after the current slice of another vCPU on the same CPU.
 */
void schedule_round_robin(struct vcpu *const *vcpus, unsigned count,
			  void (*vm_ended)(struct vm *vm));

/* schedule_idle_deadline's answer when a vCPU has work: do not sleep. */
#define SCHEDULE_NO_IDLE (~0ULL)

/*
 * Called when a round found no vCPU to run: looks again at host TSC now
 * and returns SCHEDULE_NO_IDLE if one has work after all, else the TSC by
 * which the CPU must wake for the earliest time-based event of these
 * vCPUs (vcpu_wake_deadline), 0 when only a kick can wake one.  vCPUs of
 * ended VMs are left out.
 */
uint64_t schedule_idle_deadline(struct vcpu *const *vcpus, unsigned count, uint64_t now);

#endif
