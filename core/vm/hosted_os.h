/*
 * The running operating system as a guest ("blue pill"), the way the Linux
 * module uses cvisor: on each CPU in turn, cvisor enters VMX root operation,
 * copies the CPU's current state into a VMCS and launches it, so the OS
 * resumes right after the launch point in VMX non-root operation.  The OS
 * keeps its memory (an identity EPT, guest-physical = host-physical), its
 * devices and its interrupts; cvisor keeps its own pages read-only to it
 * and hides VMX.  Devirtualizing reverses it on each CPU: a CPL-0
 * hypercall, after which the OS continues in root operation as if the
 * hypercall had returned, and VMX is off.
 *
 * Root mode runs only cvisor code on cvisor's own stack, GDT, TSS, IDT and
 * page tables (struct hosted_os_host, from the platform): exit handlers
 * never call into the OS or take a lock the OS may hold.
 */
#ifndef CVISOR_VM_HOSTED_OS_H
#define CVISOR_VM_HOSTED_OS_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/identity_map.h"
#include "vm/vm.h"
#include "vmx/segment.h"
#include "vcpu/guest_state.h"
#include "vcpu/vcpu.h"
#include "vcpu/vmcs_setup.h"
#include "vmx/vmx_cpu.h"


/*
 * Captures this CPU's current state (control registers, descriptor tables,
 * segments, the MSRs the VMCS holds); rsp, rip and rflags are left for the
 * caller (the launch stub fills them).
 */
void hosted_os_capture_state(struct guest_cpu_state *state);

/*
 * The guest-state area for a captured state (SDM Vol. 3C 25.4, checked in
 * 27.3): control registers with VMX's fixed bits, CR4.VMXE owned by cvisor
 * and hidden by the read shadow, every segment with the access rights of
 * its descriptor.  The VMCS must be current.
 */
void hosted_os_write_guest_state(const struct vmx_caps *caps, const struct guest_cpu_state *s);

/* Per CPU, in memory the platform allocates and cvisor protects. */
struct hosted_os_cpu {
	struct vmx_cpu vmx;
	struct vcpu vcpu;
	struct hosted_os_host host;
	struct guest_cpu_state captured;
	/* Writable alias of the OS's GDT (Linux maps its GDT read-only), where
	 * devirtualizing clears the TSS busy bit before LTR; 0: the GDTR base
	 * itself is writable. */
	uint64_t gdt_writable_alias;
	uint64_t os_rsp;  /* the OS stack while root mode runs (launch failure path) */
	bool virtualized;
};

/*
 * Makes vm the VM of the running OS: guest-physical = host-physical via
 * map (identity EPT of [0, map_end), MTRR types, protected pages
 * read-only), guest memory access limited to the ram ranges.  NULL on
 * success, else what failed.
 */
const char *hosted_os_vm_create(struct vm *vm, const char *name, struct identity_map *map,
				  uint64_t map_end, const struct phys_range *ram, unsigned ram_count);
void hosted_os_vm_destroy(struct vm *vm);

/*
 * On the calling CPU (interrupts off, not migrating): VMX on, VMCS from the
 * current state, launch.  Returns VMX_OK with the OS now a guest on this
 * CPU, or an error with the CPU as it was.  vcpu_id is this CPU's index in vm.
 */
enum vmx_error hosted_os_virtualize(struct hosted_os_cpu *pc, struct vm *vm, unsigned vcpu_id);

/*
 * From the guest (interrupts off): asks cvisor to give this CPU back.
 * Returns 0 when the CPU is out of VMX operation, a negative HC_* error
 * otherwise (HC_ENOSYS: not running under cvisor as a hosted OS).
 */
int64_t hosted_os_devirtualize(void);

/* True when this CPU runs under cvisor (CPUID hypervisor leaf says so). */
bool hosted_os_running_under_cvisor(void);

/*
 * What hosted_os_resume_os loads to hand the CPU back to the OS, after
 * VMXOFF: every field 8 bytes, in this order (hosted_os_entry.S).
 */
struct hosted_os_resume {
	uint64_t gdtr_base, gdtr_limit, idtr_base, idtr_limit;
	uint64_t tr, ldtr, ds, es, fs, gs;
	uint64_t fs_base, gs_base;
	struct guest_gprs *gprs;
	uint64_t rip, cs, rflags, rsp, ss; /* the IRETQ frame */
	/* LTR marks the TSS descriptor busy, a write: it runs with GDTR on this
	 * writable alias of the GDT, then GDTR gets gdtr_base back. */
	uint64_t ltr_gdt_base;
};

/* Assembly (hosted_os_entry.S). */
/* Saves the callee-saved registers and RFLAGS on the OS stack, switches to
 * the host stack and calls hosted_os_start; 0 once the OS runs as a guest. */
int hosted_os_launch(struct hosted_os_cpu *pc, uint64_t host_stack_top,
		     int (*start)(struct hosted_os_cpu *pc, uint64_t os_rsp, uint64_t os_rip,
				  uint64_t os_rflags));
/* Loads descriptor tables, segments and GPRs and IRETQs to the OS. */
_Noreturn void hosted_os_resume_os(const struct hosted_os_resume *state);
/* VMCALL with RAX = nr; returns RAX. */
int64_t hosted_os_hypercall(uint64_t nr);

/* Called by hosted_os_launch on the host stack: never returns on success
 * (the OS resumes at the launch point); returns an error otherwise. */
int hosted_os_start(struct hosted_os_cpu *pc, uint64_t os_rsp, uint64_t os_rip, uint64_t os_rflags);

#endif
