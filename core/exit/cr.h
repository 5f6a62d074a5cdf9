/* Control-register write rules, as pure functions for the handler and the tests. */
#ifndef CVISOR_EXIT_CR_H
#define CVISOR_EXIT_CR_H

#include "x86.h"

#include <stdbool.h>
#include <stdint.h>


/* The state a CR write is judged against. */
struct cr_context {
	uint64_t cr0, cr4;   /* as the guest sees them */
	uint64_t cr3;
	uint64_t efer;
	bool in_64bit_mode;  /* CS.L with EFER.LMA */
	uint64_t cr4_fixed1; /* bits this CPU lets CR4 hold */
};

/* NULL when MOV to CR0 of value is legal, else the SDM rule it breaks (#GP). */
const char *cr0_write_fault(const struct cr_context *ctx, uint64_t value);
/* NULL when MOV to CR4 of value is legal, else the rule it breaks (#GP). */
const char *cr4_write_fault(const struct cr_context *ctx, uint64_t value);

struct vcpu;
/*
 * PAE paging outside IA-32e mode: the PDPTEs at the guest's CR3 into the
 * VMCS (with EPT the CPU loads them only at VM entry from there, SDM Vol.
 * 3C 27.3.2.4).  True when no PAE paging or all were loaded; false when one
 * is not guest RAM or sets a reserved bit (#GP for the caller).
 */
bool cr_load_pdptes(struct vcpu *vcpu, uint64_t cr0, uint64_t cr4, uint64_t efer);

#endif
