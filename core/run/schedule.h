/* Time-sharing one CPU between vCPUs. */
#ifndef CVISOR_RUN_SCHEDULE_H
#define CVISOR_RUN_SCHEDULE_H

struct vcpu;
struct vm;

/*
 * Runs the vCPUs round robin, one VMX-preemption-timer slice each, until
 * every VM has ended, so a guest that spins forever cannot starve the
 * others.  vm_ended (may be NULL) is called once for each VM as it ends.
 */
void schedule_round_robin(struct vcpu *const *vcpus, unsigned count,
			  void (*vm_ended)(struct vm *vm));

#endif
