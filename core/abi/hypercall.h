/*
 * The cvisor hypercall ABI (documented in docs/hypercalls.md), shared by
 * cvisor and the guests.  A guest at CPL 0 executes VMCALL with the
 * hypercall number in RAX and arguments in RBX, RCX, RDX, RSI; the result
 * comes back in RAX (negative = error), RIP moves past the VMCALL.
 */
#ifndef CVISOR_ABI_HYPERCALL_H
#define CVISOR_ABI_HYPERCALL_H

#include <stdint.h>

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
/*
 * Hypervisor-enforced integrity (docs/hypercalls.md, "Protection"): one-way
 * until the VM ends or restarts.  Guests of the type-1 hypervisor only; the
 * kernel under cvisor.ko gets HC_ENOSYS for now.
 */
#define HC_PROTECT        7 /* RBX = gpa, RCX = length (both page multiples), RDX = HC_PROT_*,
			       RSI = HC_POLICY_*: narrows the EPT permissions of that RAM */
#define HC_PIN_CR         8 /* RBX = 0 or 4, RCX = bits (set now) the guest may never clear again */
#define HC_PROTECT_EVENTS 9 /* RBX = gpa of a buffer, RCX = how many struct hc_protect_event fit:
			       copies the oldest events there (removing them), returns how many */
#define HC_PIN_MSR       10 /* RBX = MSR (IA32_LSTAR, IA32_SYSENTER_EIP, IA32_EFER), RCX = bits
			       whose value is kept from now on (all ones, or EFER_NXE for EFER) */

#define HC_PRINT_MAX 4096

/* HC_PROTECT permissions: the EPT's read, write and execute bits (SDM Vol.
 * 3C 29.3.2).  Write needs read; execute alone needs the CPU's support for
 * execute-only EPT pages; no permission at all is refused. */
#define HC_PROT_READ  1
#define HC_PROT_WRITE 2
#define HC_PROT_EXEC  4

/* HC_PROTECT policies: what happens to an access the permissions forbid,
 * from the mildest; overlapping requests keep the stricter. */
#define HC_POLICY_LOG  0 /* recorded, and this one access goes through */
#define HC_POLICY_DENY 1 /* recorded; a write is dropped, a fetch faults */
#define HC_POLICY_STOP 2 /* recorded; the VM ends */

/* What cvisor did about a violation (struct hc_protect_event.action). */
#define HC_ACTION_ALLOWED 0 /* let through once (policy log) */
#define HC_ACTION_DROPPED 1 /* the write was dropped (or a read gave 0) and the instruction skipped */
#define HC_ACTION_FAULTED 2 /* #PF (paging on) or #GP(0) was injected */
#define HC_ACTION_STOPPED 3 /* the VM ended */
#define HC_ACTION_KEPT    4 /* a pinned register kept its pinned bits; the rest was written */
#define HC_ACTION_COUNT   5

/* What was touched (struct hc_protect_event.kind). */
#define HC_EVENT_MEMORY 0 /* address = guest-physical address */
#define HC_EVENT_CR     1 /* address = control register number, value = value written */
#define HC_EVENT_MSR    2 /* address = MSR index, value = value written */

/*
 * One violation, as HC_PROTECT_EVENTS returns it: 56 bytes, the same layout
 * in 32- and 64-bit guests (the 64-bit fields come first).
 */
struct hc_protect_event {
	uint64_t sequence; /* 0, 1, 2... per VM: a gap means older events were overwritten */
	uint64_t address;  /* see kind */
	uint64_t linear;   /* the access's guest linear address; ~0 when the CPU gave none */
	uint64_t rip;      /* the guest's RIP at the violation */
	uint64_t value;    /* registers: the value the guest tried to write */
	uint32_t vm_id, vcpu_id;
	uint32_t repeats;  /* identical violations in a row (same vCPU, RIP, page, access) */
	uint16_t kind;     /* HC_EVENT_* */
	uint8_t access;    /* HC_PROT_READ, _WRITE or _EXEC: the access that was refused */
	uint8_t action;    /* HC_ACTION_* */
};
_Static_assert(sizeof(struct hc_protect_event) == 56, "struct hc_protect_event is ABI");

#define HC_OK      0
#define HC_ENOSYS  (-1) /* unknown hypercall number */
#define HC_EINVAL  (-2) /* an argument is out of range */
#define HC_EFAULT  (-3) /* a guest-physical range is not guest RAM */
#define HC_EPERM   (-4) /* called from CPL > 0 */
#define HC_ENOMEM  (-5) /* cvisor has no room left for it (protected ranges, EPT tables) */

#endif
