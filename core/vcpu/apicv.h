/*
 * The CPU's APIC virtualization for a vCPU (SDM Vol. 3C chapter 29), a
 * faster way to the same state as the software APIC (irq/lapic.c), whose
 * register page is the vCPU's virtual-APIC page:
 *
 *   - TPR shadow (29.1.1-29.1.2, 29.3): MOV to/from CR8 and, with the
 *     APIC-access page, TPR reads and writes use VTPR without an exit; the
 *     TPR threshold makes a TPR drop below a waiting interrupt's class
 *     exit ("TPR below threshold", 29.1.2).  Without it CR8 exits.
 *   - Virtualized APIC accesses with APIC-register virtualization (29.4):
 *     the xAPIC page at 0xFEE00000 maps the VM's APIC-access page; reads
 *     of most registers come from the virtual-APIC page, writes land
 *     there and exit afterwards as APIC writes with the offset decoded
 *     (29.4.3.3); the rest (PPR, the timer's current count...) exit as APIC
 *     accesses and are emulated as the MMIO path does.
 *   - Virtual-interrupt delivery (29.2): cvisor posts a vector in VIRR and
 *     RVI, the CPU delivers it and virtualizes EOI; only the vectors in the
 *     EOI-exit bitmap (level-triggered ones, whose EOI the I/O APIC needs)
 *     exit on EOI.
 *
 * Each one is used where the CPU offers it, and none with apicv=off.
 */
#ifndef CVISOR_VCPU_APICV_H
#define CVISOR_VCPU_APICV_H

#include <stdint.h>

struct vcpu;
struct vmx_caps;

enum apicv_feature {
	APICV_TPR_SHADOW = 1u << 0,    /* "use TPR shadow" */
	APICV_APIC_ACCESSES = 1u << 1, /* "virtualize APIC accesses" */
	APICV_REGISTERS = 1u << 2,     /* "APIC-register virtualization" */
	APICV_INTR_DELIVERY = 1u << 3, /* "virtual-interrupt delivery" */
};

/* The features this CPU's capability MSRs allow, each with the ones it
 * builds on (SDM Vol. 3C 27.2.1.1: APIC-register virtualization and
 * virtual-interrupt delivery need the TPR shadow; cvisor's xAPIC guests
 * reach them only through the APIC-access page). */
unsigned apicv_offered(const struct vmx_caps *caps);
/* "TPR shadow, APIC-register virtualization, ..." or "off (software APIC)". */
const char *apicv_describe(unsigned features);

/* The controls the vCPU's features set (into *proc and *proc2, which
 * are ORed), its current features in vcpu->apicv; a vCPU whose APIC
 * is globally disabled keeps only the APIC-access page, so that every
 * access to it exits and reads all ones (SDM Vol. 3A 11.4.3). */
void apicv_wanted_controls(struct vcpu *vcpu, uint32_t *proc, uint32_t *proc2);
/* The VMCS fields of those controls: virtual-APIC and APIC-access
 * addresses, TPR threshold, EOI-exit bitmap, guest interrupt status. */
void apicv_write_fields(struct vcpu *vcpu);
/* IA32_APIC_BASE's global enable changed: the controls follow. */
void apicv_update_controls(struct vcpu *vcpu);
/* Before a VM entry: the TPR threshold for the highest waiting vector, or
 * (virtual-interrupt delivery) RVI, SVI and the EOI-exit bitmap. */
void apicv_sync_before_entry(struct vcpu *vcpu);

#endif
