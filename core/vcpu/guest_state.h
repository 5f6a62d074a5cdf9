/*
 * A vCPU's initial register file, whatever starts it: a loader (Multiboot
 * today, Linux next), INIT and SIPI, or the running OS that cvisor.ko
 * slides under.  One writer puts it into the VMCS guest-state area (SDM
 * Vol. 3C 25.4), so every kind of start writes segments, control registers
 * and MSRs the same way.
 */
#ifndef CVISOR_VCPU_GUEST_STATE_H
#define CVISOR_VCPU_GUEST_STATE_H

#include <stdint.h>

#include "vmx/caps.h"
#include "vmx/segment.h"
#include "vmx/vmx_run.h"

struct guest_cpu_state {
	uint64_t gprs[GPR_COUNT]; /* gprs[GPR_RSP] is unused: rsp below */
	uint64_t rip, rsp, rflags;
	/* CR0/CR4 as the guest sees them (the read shadows); VMX's fixed bits
	 * are added to the real registers (vcpu_setup_control_registers). */
	uint64_t cr0, cr3, cr4, dr7;
	struct vmcs_segment cs, ss, ds, es, fs, gs, tr, ldtr;
	uint64_t gdtr_base, idtr_base;
	uint16_t gdtr_limit, idtr_limit;
	uint64_t efer, pat, debugctl, sysenter_cs, sysenter_esp, sysenter_eip;
};

/* The segment registers as the VMCS numbers them. */
enum guest_segment { GUEST_SEG_ES, GUEST_SEG_CS, GUEST_SEG_SS, GUEST_SEG_DS, GUEST_SEG_FS,
		     GUEST_SEG_GS, GUEST_SEG_LDTR, GUEST_SEG_TR };

/*
 * 32-bit protected mode with paging off, flat 4 GiB code at selector 0x08
 * and data at 0x10, interrupts off, at eip: the machine state a Multiboot
 * v1 kernel starts in (Multiboot spec 3.2) and that QEMU's -kernel gives.
 */
void guest_state_flat_protected(struct guest_cpu_state *s, uint32_t eip);

/*
 * CR0/CR4 with their guest/host masks and read shadows (SDM Vol. 3C
 * 25.6.6): the guest owns every bit except those VMX forces or forbids;
 * reads of those return the guest's values cr0/cr4 from the shadow.
 */
void vcpu_setup_control_registers(const struct vmx_caps *caps, uint64_t cr0, uint64_t cr4);
/*
 * Adds bits to what the guest/host masks own (pinned bits, vm/protect.h):
 * writes that would change them exit from now on, reads of them return the
 * read shadow, which takes their present values.
 */
void vcpu_own_control_bits(uint64_t cr0_bits, uint64_t cr4_bits);

/*
 * One segment register into the VMCS.  A usable code or data segment must
 * have its accessed bit set at VM entry (SDM Vol. 3C 27.3.1.2); loading it
 * would have set the bit in the descriptor, so it is set here.
 */
void guest_write_segment(enum guest_segment which, const struct vmcs_segment *seg);

/*
 * The whole register file, except the GPRs (struct guest_gprs holds them),
 * into the current VMCS: control registers with their masks and shadows,
 * segments, descriptor tables, the MSRs the VMCS holds; active, no
 * blocking, no pending debug exceptions, no shadow VMCS.
 */
void guest_state_write(const struct vmx_caps *caps, const struct guest_cpu_state *s);

#endif
