/*
 * The cvisor hypercall ABI (documented in docs/hypercalls.md), shared by
 * cvisor and the guests.  A guest at CPL 0 executes VMCALL with the
 * hypercall number in RAX and arguments in RBX, RCX, RDX, RSI; the result
 * comes back in RAX (negative = error), RIP moves past the VMCALL.
 */
#ifndef CVISOR_ABI_HYPERCALL_H
#define CVISOR_ABI_HYPERCALL_H

#define HC_NOP          0 /* does nothing, returns 0 (for exit-cost benchmarks) */
#define HC_PRINT_STRING 1 /* RBX = guest-physical address, RCX = length (<= HC_PRINT_MAX) */
#define HC_PRINT_CHAR   2 /* RBX = character */
#define HC_GET_IDS      3 /* returns 0; RBX = VM id, RCX = vCPU id */
#define HC_STOP         4 /* RBX = status: the VM ends, successfully when status is 0 */
#define HC_EXIT_STATS   5 /* prints this vCPU's exit statistics table; returns 0 */
/* The hosted OS only (the OS under cvisor.ko): cvisor leaves VMX operation
 * on this CPU; the OS continues after the VMCALL in root operation with
 * RAX = 0.  Other VMs get HC_ENOSYS. */
#define HC_DEVIRTUALIZE 6

#define HC_PRINT_MAX 4096

#define HC_OK      0
#define HC_ENOSYS  (-1) /* unknown hypercall number */
#define HC_EINVAL  (-2) /* an argument is out of range */
#define HC_EFAULT  (-3) /* a guest-physical range is not guest RAM */
#define HC_EPERM   (-4) /* called from CPL > 0 */

#endif
