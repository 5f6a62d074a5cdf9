#include "vcpu/guest_state.h"

#include "lib/mem.h"
#include "vmx/vmcs.h"
#include "x86.h"

void guest_state_flat_protected(struct guest_cpu_state *s, uint32_t eip)
{
	const struct vmcs_segment code = {
		.selector = 0x08, .limit = 0xFFFFFFFF,
		.access_rights = AR_TYPE_CODE_RX_ACCESSED | AR_S | AR_P | AR_DB | AR_G,
	};
	const struct vmcs_segment data = {
		.selector = 0x10, .limit = 0xFFFFFFFF,
		.access_rights = AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P | AR_DB | AR_G,
	};

	memset(s, 0, sizeof(*s));
	s->rip = eip;
	s->rflags = RFLAGS_RESERVED_1;
	s->cr0 = CR0_PE | CR0_ET;
	s->dr7 = DR7_INIT;
	s->cs = code;
	s->ss = s->ds = s->es = s->fs = s->gs = data;
	/* SDM Vol. 3C 27.3.1.2: TR must be a usable busy TSS; LDTR may be unusable. */
	s->tr = (struct vmcs_segment){ .limit = 0x67, .access_rights = AR_TYPE_TSS_BUSY | AR_P };
	s->ldtr = (struct vmcs_segment){ .access_rights = AR_UNUSABLE };
	s->idtr_limit = 0x3FF;
	s->pat = PAT_POWER_ON;
}

/*
 * Guest/host masks and read shadows (SDM Vol. 3C 25.6.6): the guest owns
 * every CR0/CR4 bit except those VMX forces (FIXED0, e.g. CR0.NE and
 * CR4.VMXE) or forbids (not in FIXED1).  Reads of those bits return the
 * shadow; writes that would change them exit.  With unrestricted guest,
 * CR0.PE and CR0.PG are free (SDM Vol. 3C 27.3.1.1).
 */
void vcpu_setup_control_registers(const struct vmx_caps *caps, uint64_t cr0, uint64_t cr4)
{
	uint64_t cr0_forced1 = caps->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	uint64_t cr0_mask = cr0_forced1 | (~caps->cr0_fixed1 & 0xFFFFFFFFULL);
	uint64_t cr4_mask = caps->cr4_fixed0 | (~caps->cr4_fixed1 & 0xFFFFFFFFULL);

	vmcs_write(CR0_GUEST_HOST_MASK, cr0_mask);
	vmcs_write(CR0_READ_SHADOW, cr0);
	vmcs_write(GUEST_CR0, (cr0 | cr0_forced1) & caps->cr0_fixed1);
	vmcs_write(CR4_GUEST_HOST_MASK, cr4_mask);
	vmcs_write(CR4_READ_SHADOW, cr4);
	vmcs_write(GUEST_CR4, (cr4 | caps->cr4_fixed0) & caps->cr4_fixed1);
}

/* Makes bits of one control register host-owned; a newly owned bit's
 * shadow takes the value the guest has now, so its reads do not change. */
static void own_bits(vmcs_RWNAT_t mask_field, vmcs_RWNAT_t shadow_field, vmcs_RWNAT_t real_field,
		     uint64_t bits)
{
	uint64_t mask = vmcs_read(mask_field), newly = bits & ~mask;

	if (!newly)
		return;
	vmcs_write(shadow_field, (vmcs_read(shadow_field) & ~newly) | (vmcs_read(real_field) & newly));
	vmcs_write(mask_field, mask | newly);
}

void vcpu_own_control_bits(uint64_t cr0_bits, uint64_t cr4_bits)
{
	own_bits(CR0_GUEST_HOST_MASK, CR0_READ_SHADOW, GUEST_CR0, cr0_bits);
	own_bits(CR4_GUEST_HOST_MASK, CR4_READ_SHADOW, GUEST_CR4, cr4_bits);
}

/* The four fields of each segment register (SDM Vol. 3C 25.4.1). */
static const struct {
	vmcs_RW16_t selector;
	vmcs_RWNAT_t base;
	vmcs_RW32_t limit;
	vmcs_RW32_t access_rights;
} segment_fields[] = {
	[GUEST_SEG_ES] = { GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES },
	[GUEST_SEG_CS] = { GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES },
	[GUEST_SEG_SS] = { GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES },
	[GUEST_SEG_DS] = { GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES },
	[GUEST_SEG_FS] = { GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES },
	[GUEST_SEG_GS] = { GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES },
	[GUEST_SEG_LDTR] = { GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT,
			     GUEST_LDTR_AR_BYTES },
	[GUEST_SEG_TR] = { GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES },
};

void guest_write_segment(enum guest_segment which, const struct vmcs_segment *seg)
{
	uint32_t rights = seg->access_rights;

	if (!(rights & AR_UNUSABLE) && (rights & AR_S))
		rights |= AR_TYPE_ACCESSED;
	vmcs_write(segment_fields[which].selector, seg->selector);
	vmcs_write(segment_fields[which].base, seg->base);
	vmcs_write(segment_fields[which].limit, seg->limit);
	vmcs_write(segment_fields[which].access_rights, rights);
}

void guest_state_write(const struct vmx_caps *caps, const struct guest_cpu_state *s)
{
	vcpu_setup_control_registers(caps, s->cr0, s->cr4);
	vmcs_write(GUEST_CR3, s->cr3);
	vmcs_write(GUEST_DR7, s->dr7);
	vmcs_write(GUEST_RSP, s->rsp);
	vmcs_write(GUEST_RIP, s->rip);
	vmcs_write(GUEST_RFLAGS, s->rflags);
	guest_write_segment(GUEST_SEG_CS, &s->cs);
	guest_write_segment(GUEST_SEG_SS, &s->ss);
	guest_write_segment(GUEST_SEG_DS, &s->ds);
	guest_write_segment(GUEST_SEG_ES, &s->es);
	guest_write_segment(GUEST_SEG_FS, &s->fs);
	guest_write_segment(GUEST_SEG_GS, &s->gs);
	guest_write_segment(GUEST_SEG_TR, &s->tr);
	guest_write_segment(GUEST_SEG_LDTR, &s->ldtr);
	vmcs_write(GUEST_GDTR_BASE, s->gdtr_base);
	vmcs_write(GUEST_GDTR_LIMIT, s->gdtr_limit);
	vmcs_write(GUEST_IDTR_BASE, s->idtr_base);
	vmcs_write(GUEST_IDTR_LIMIT, s->idtr_limit);
	vmcs_write(GUEST_IA32_DEBUGCTL, s->debugctl);
	vmcs_write(GUEST_IA32_EFER, s->efer);
	vmcs_write(GUEST_IA32_PAT, s->pat);
	vmcs_write(GUEST_SYSENTER_CS, (uint32_t)s->sysenter_cs);
	vmcs_write(GUEST_SYSENTER_ESP, s->sysenter_esp);
	vmcs_write(GUEST_SYSENTER_EIP, s->sysenter_eip);
	vmcs_write(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	/* SDM Vol. 3C 27.3.1.5: without VMCS shadowing the link pointer is all ones. */
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
}
