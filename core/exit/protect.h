/*
 * What an access to protected memory does at its EPT violation (the
 * policies of vm/protect.h), and the monitor-trap-flag exit that ends a
 * `log` step.
 */
#ifndef CVISOR_EXIT_PROTECT_H
#define CVISOR_EXIT_PROTECT_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vm_exit;

/*
 * An EPT violation at guest-physical gpa: false when gpa is in no protected
 * range (the caller goes on: MMIO, or nothing); otherwise the violation is
 * handled by the range's policy and true returned.
 */
bool protect_violation(struct vcpu *vcpu, const struct vm_exit *exit, uint64_t gpa);

#endif
