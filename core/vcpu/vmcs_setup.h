/*
 * The VMCS of a vCPU: its control fields (clamped by the capability MSRs)
 * and its host-state area, for each kind of vCPU.  The guest-state area is
 * guest_state.c's.  The VMCS must be current.
 */
#ifndef CVISOR_VCPU_VMCS_SETUP_H
#define CVISOR_VCPU_VMCS_SETUP_H

#include <stdint.h>

#include "vmx/vmx_error.h"

struct vcpu;

/* The host side of one CPU under the hosted OS: what a VM exit loads
 * (SDM Vol. 3C 28.5), from the platform's own tables. */
struct hosted_os_host {
	uint64_t cr3;                  /* cvisor's page tables */
	uint64_t gdtr_base, idtr_base, tr_base;
	uint16_t cs_selector, data_selector, tr_selector;
	uint64_t fs_base, gs_base;
	uint64_t stack_top;            /* 16-byte aligned */
};


/* Controls of an ordinary VM's vCPU (vmx_required_controls). */
enum vmx_error vmcs_setup_controls(struct vcpu *vcpu);
/* Controls of the hosted OS: as few exits as possible. */
enum vmx_error vmcs_setup_hosted_os_controls(struct vcpu *vcpu);
/* Host state: the CPU as it runs now (type-1). */
void vmcs_setup_host_state(void);
/* Host state from the platform's tables (the hosted OS). */
void vmcs_setup_hosted_os_host_state(const struct hosted_os_host *h);

#endif
