/*
 * Entering a guest and coming back: the guest's general-purpose registers
 * as the assembly stub saves them, and the stub itself (vmx_entry.S).
 */
#ifndef CVISOR_VMX_VMX_RUN_H
#define CVISOR_VMX_VMX_RUN_H

#include <stdbool.h>
#include <stdint.h>

/* Register numbers as x86 encodes them (ModRM/REX), so decoders can index. */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

/* Saved by vmx_entry.S on every exit; RSP lives in the VMCS (GUEST_RSP),
 * so regs[GPR_RSP] is unused. */
struct guest_gprs {
	uint64_t regs[GPR_COUNT];
};

/*
 * Assembly stub (vmx_entry.S): loads the guest registers and executes
 * VMLAUNCH (launched == 0) or VMRESUME.  After each VM exit (guest
 * registers saved in *gprs) it calls on_exit(ctx): true resumes the guest
 * at once, false returns 0.  Returns 1 on VMfailInvalid, 2 on VMfailValid.
 */
int vmx_run_guest(struct guest_gprs *gprs, int launched, bool (*on_exit)(void *ctx), void *ctx);
/* One entry: vmx_run_guest returning at the first exit (vmx_run.c). */
int vmx_enter_guest(struct guest_gprs *gprs, int launched);
/* Where the CPU continues after a VM exit (HOST_RIP). */
void vmx_exit_landing(void);

#endif
