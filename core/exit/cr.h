/* Control-register write rules, as pure functions for the handler and the tests. */
#ifndef CVISOR_EXIT_CR_H
#define CVISOR_EXIT_CR_H

#include "x86.h"

#include <stdbool.h>
#include <stdint.h>


/* The state a CR write is judged against. */
struct cr_context {
	uint64_t cr0, cr4;   /* as the guest sees them */
	uint64_t efer;
	bool in_64bit_mode;  /* CS.L with EFER.LMA */
	uint64_t cr4_fixed1; /* bits this CPU lets CR4 hold */
};

/* NULL when MOV to CR0 of value is legal, else the SDM rule it breaks (#GP). */
const char *cr0_write_fault(const struct cr_context *ctx, uint64_t value);
/* NULL when MOV to CR4 of value is legal, else the rule it breaks (#GP). */
const char *cr4_write_fault(const struct cr_context *ctx, uint64_t value);

#endif
