/*
 * MSR virtualization: which MSRs pass through (MSR bitmap), which are
 * emulated per vCPU, and which fault.  The policy is docs/guest-contract.md.
 */
#ifndef CVISOR_EXIT_MSR_H
#define CVISOR_EXIT_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/msr_state.h"

struct vcpu;

/* The policy: false means the access raises #GP(0). */
bool msr_emulate_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value);
bool msr_emulate_write(struct vcpu *vcpu, uint32_t msr, uint64_t value);

#endif
