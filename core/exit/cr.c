/*
 * Control-register accesses.  The guest owns every CR0/CR4 bit except
 * VMX's fixed bits (vcpu.c sets the guest/host masks) and the bits it
 * pinned (vm/protect.h), so these exits come only from writes that would
 * change an owned bit; cvisor applies the architectural #GP rules and keeps
 * the guest's view in the read shadow.
 *
 * A write that passes those rules but would clear a pinned bit that is set
 * completes with the pinned bit kept set (the guest reads it back set), and
 * is recorded as a protection event: no #GP, as Linux keeps its own pinned
 * CR4 bits (native_write_cr4), so a kernel whose write is refused runs on.
 */
#include "exit/cr.h"
#include "mm/guest_memory.h"
#include "vcpu/events.h"

#include "exit/exit.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "vcpu/cpu_features.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

/* MOV to CR0 (SDM Vol. 2B "MOV-Move to/from Control Registers", Vol. 3A 2.5). */
const char *cr0_write_fault(const struct cr_context *ctx, uint64_t value)
{
	if (value >> 32)
		return "CR0 bits 63:32 are reserved";
	if ((value & CR0_PG) && !(value & CR0_PE))
		return "CR0.PG=1 requires CR0.PE=1";
	if ((value & CR0_NW) && !(value & CR0_CD))
		return "CR0.NW=1 requires CR0.CD=1";
	if ((value & CR0_PG) && !(ctx->cr0 & CR0_PG) && (ctx->efer & EFER_LME) &&
	    !(ctx->cr4 & CR4_PAE))
		return "enabling paging with EFER.LME=1 requires CR4.PAE=1";
	if (!(value & CR0_PG) && ctx->in_64bit_mode)
		return "paging cannot be disabled in 64-bit mode";
	/* SDM Vol. 2B MOV CR: clearing PG while CR4.PCIDE = 1 is #GP (PCIDE
	 * needs IA-32e mode, which paging off would leave: Vol. 3C 27.3.1.1). */
	if (!(value & CR0_PG) && (ctx->cr4 & CR4_PCIDE))
		return "CR0.PG cannot be cleared while CR4.PCIDE=1";
	/* SDM Vol. 2B MOV CR, Vol. 3A 2.5: clearing WP while CR4.CET = 1 is #GP
	 * (and the VM entry would fail: Vol. 3C 27.3.1.1). */
	if (!(value & CR0_WP) && (ctx->cr4 & CR4_CET))
		return "CR0.WP cannot be cleared while CR4.CET=1";
	return NULL;
}

/* MOV to CR4 (SDM Vol. 2B MOV CR, Vol. 3A 2.5). */
const char *cr4_write_fault(const struct cr_context *ctx, uint64_t value)
{
	if (value & CR4_VMXE)
		return "CR4.VMXE: VMX is not offered to guests";
	if (value & CR4_SMXE)
		return "CR4.SMXE: SMX is not offered to guests";
	if (value & ~ctx->cr4_fixed1)
		return "a CR4 bit this CPU does not support";
	if ((ctx->efer & EFER_LMA) && !(value & CR4_PAE))
		return "CR4.PAE cannot be cleared in IA-32e mode";
	if ((value & CR4_PCIDE) && !(ctx->cr4 & CR4_PCIDE) && !(ctx->efer & EFER_LMA))
		return "CR4.PCIDE can be set only in IA-32e mode";
	/* SDM Vol. 2B MOV CR: PCIDE goes from 0 to 1 only with CR3[11:0] = 0
	 * (the current PCID, Vol. 3A 4.10.1), and LA57 cannot change while
	 * IA32_EFER.LMA = 1 (the paging mode would change under the CPU). */
	if ((value & CR4_PCIDE) && !(ctx->cr4 & CR4_PCIDE) && (ctx->cr3 & 0xFFF))
		return "CR4.PCIDE can be set only with CR3[11:0] = 0";
	if ((ctx->efer & EFER_LMA) && ((value ^ ctx->cr4) & CR4_LA57))
		return "CR4.LA57 cannot change in IA-32e mode";
	/* SDM Vol. 2B MOV CR, Vol. 3A 2.5: setting CET while CR0.WP = 0 is #GP
	 * (and the VM entry would fail: Vol. 3C 27.3.1.1). */
	if ((value & CR4_CET) && !(ctx->cr0 & CR0_WP))
		return "CR4.CET=1 requires CR0.WP=1";
	return NULL;
}

/* The guest's view: owned bits from the shadow, the rest from the CPU (SDM Vol. 3C 26.3). */
static uint64_t guest_view(uint64_t real, uint64_t shadow, uint64_t mask)
{
	return (real & ~mask) | (shadow & mask);
}

static void load_context(struct vcpu *vcpu, struct cr_context *ctx)
{
	ctx->cr0 = guest_view(vmcs_read(GUEST_CR0), vmcs_read(CR0_READ_SHADOW),
			      vmcs_read(CR0_GUEST_HOST_MASK));
	ctx->cr4 = guest_view(vmcs_read(GUEST_CR4), vmcs_read(CR4_READ_SHADOW),
			      vmcs_read(CR4_GUEST_HOST_MASK));
	ctx->cr3 = vmcs_read(GUEST_CR3);
	ctx->efer = vmcs_read(GUEST_IA32_EFER);
	ctx->in_64bit_mode = vcpu_guest_in_64bit_mode();
	/* A bit whose feature the guest's CPUID does not offer is as if the CPU
	 * lacked it (vcpu.h, cr4_unoffered). */
	ctx->cr4_fixed1 = vcpu->cpu->caps.cr4_fixed1 & ~vcpu->cr4_unoffered;
}

/*
 * PAE paging without IA-32e mode takes its PDPTEs from the VMCS at VM entry
 * when EPT is on (SDM Vol. 3C 27.3.2.4), so an emulated CR write that turns
 * it on must load them from guest memory; reserved bits give #GP (Vol. 3A 4.4.1).
 */
bool cr_load_pdptes(struct vcpu *vcpu, uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	static const vmcs_RW64_t pdpte[4] = { GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2,
					      GUEST_PDPTE3 };
	uint64_t entries[4];

	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
		return true;
	if (!guest_read(vcpu->vm, vmcs_read(GUEST_CR3) & ~0x1FULL, entries, sizeof(entries)))
		return false;
	/* Reserved in a present PDPTE: bits 2:1, 8:5 and those above MAXPHYADDR
	 * (SDM Vol. 3A 4.4.1, Table 4-8; the entry check is 27.3.1.6). */
	uint64_t reserved = 0x1E6ULL | ~cpu_physical_address_mask();
	for (unsigned i = 0; i < 4; i++) {
		if ((entries[i] & 1) && (entries[i] & reserved))
			return false;
		vmcs_write(pdpte[i], entries[i]);
	}
	return true;
}

static void emulate_cr0_write(struct vcpu *vcpu, const struct cr_context *ctx, uint64_t value)
{
	const char *fault = cr0_write_fault(ctx, value);
	const struct vmx_caps *caps = &vcpu->cpu->caps;
	uint64_t forced1 = caps->cr0_fixed0 & ~(CR0_PE | CR0_PG); /* unrestricted guest */
	uint64_t efer = ctx->efer;

	if (fault) {
		vcpu_inject_gp(vcpu);
		return;
	}
	/* Emulating a change of CR0.PG with EFER.LME=1 switches IA-32e mode:
	 * keep EFER.LMA and the "IA-32e mode guest" entry control in step
	 * (SDM Vol. 3A 10.8.5, Vol. 3C 27.3.1.1). */
	if ((value ^ ctx->cr0) & CR0_PG && (efer & EFER_LME)) {
		uint32_t entry = vmcs_read(VM_ENTRY_CONTROLS);
		if (value & CR0_PG) {
			efer |= EFER_LMA;
			entry |= ENTRY_IA32E_MODE_GUEST;
		} else {
			efer &= ~EFER_LMA;
			entry &= ~ENTRY_IA32E_MODE_GUEST;
		}
		vmcs_write(GUEST_IA32_EFER, efer);
		vmcs_write(VM_ENTRY_CONTROLS, entry);
	}
	if (!cr_load_pdptes(vcpu, value, ctx->cr4, efer)) {
		vcpu_inject_gp(vcpu);
		return;
	}
	value = protect_cr_write(vcpu, 0, ctx->cr0, value);
	vmcs_write(CR0_READ_SHADOW, value);
	vmcs_write(GUEST_CR0, (value | forced1) & caps->cr0_fixed1);
	vcpu->check_before_entry = true; /* cvisor-made guest state */
	vcpu_skip_instruction(vcpu);
}

static void emulate_cr4_write(struct vcpu *vcpu, const struct cr_context *ctx, uint64_t value)
{
	const struct vmx_caps *caps = &vcpu->cpu->caps;

	if (cr4_write_fault(ctx, value) || !cr_load_pdptes(vcpu, ctx->cr0, value, ctx->efer)) {
		vcpu_inject_gp(vcpu);
		return;
	}
	value = protect_cr_write(vcpu, 4, ctx->cr4, value);
	vmcs_write(CR4_READ_SHADOW, value);
	vmcs_write(GUEST_CR4, (value | caps->cr4_fixed0) & caps->cr4_fixed1);
	vcpu->check_before_entry = true; /* cvisor-made guest state */
	vcpu_skip_instruction(vcpu);
}

/*
 * CR8 is the TPR's priority class in 64-bit mode (SDM Vol. 3A 11.8.6.1):
 * CR8[3:0] = TPR[7:4], and a write clears TPR[3:0].  Without a TPR shadow
 * (vcpu/apicv.h) CR8 accesses exit and use the software APIC's TPR, never
 * the real one; a write with bits 63:4 set is #GP (Vol. 2B MOV CR).
 */
static void emulate_cr8_write(struct vcpu *vcpu, uint64_t value)
{
	if (value & ~0xFULL) {
		vcpu_inject_gp(vcpu);
		return;
	}
	LAPIC_REG(&vcpu->lapic, APIC_TPR) = (uint32_t)value << 4;
	vcpu_skip_instruction(vcpu);
}

static void emulate_cr8_read(struct vcpu *vcpu, unsigned gpr)
{
	uint64_t value = (LAPIC_REG(&vcpu->lapic, APIC_TPR) >> 4) & 0xF;

	if (gpr == GPR_RSP)
		vmcs_write(GUEST_RSP, value);
	else
		vcpu->gprs.regs[gpr] = value;
	vcpu_skip_instruction(vcpu);
}

/* Exit qualification for control-register accesses (SDM Vol. 3C 28.2.1, Table 28-3). */
#define CR_QUAL_NUMBER(q)      ((unsigned)(q) & 0xF)
#define CR_QUAL_TYPE(q)        ((unsigned)((q) >> 4) & 3)
#define CR_QUAL_GPR(q)         ((unsigned)((q) >> 8) & 0xF)
#define CR_QUAL_LMSW_SOURCE(q) ((uint16_t)((q) >> 16))
enum { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };

void handle_cr_access(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t q = exit->qualification;
	unsigned cr = CR_QUAL_NUMBER(q);
	struct cr_context ctx;

	load_context(vcpu, &ctx);
	switch (CR_QUAL_TYPE(q)) {
	case CR_MOV_TO: {
		uint64_t value = vcpu_read_gpr(vcpu, CR_QUAL_GPR(q));
		if (cr == 0) {
			emulate_cr0_write(vcpu, &ctx, value);
			return;
		}
		if (cr == 4) {
			emulate_cr4_write(vcpu, &ctx, value);
			return;
		}
		if (cr == 8) {
			emulate_cr8_write(vcpu, value);
			return;
		}
		break;
	}
	case CR_MOV_FROM:
		if (cr == 8) {
			emulate_cr8_read(vcpu, CR_QUAL_GPR(q));
			return;
		}
		break;
	case CR_CLTS:
		emulate_cr0_write(vcpu, &ctx, ctx.cr0 & ~CR0_TS);
		return;
	case CR_LMSW: {
		/* LMSW loads CR0 bits 3:0 but cannot clear PE (SDM Vol. 2A LMSW). */
		uint64_t src = CR_QUAL_LMSW_SOURCE(q) & 0xF;
		emulate_cr0_write(vcpu, &ctx, (ctx.cr0 & ~0xEULL) | src | (ctx.cr0 & CR0_PE));
		return;
	}
	default:
		break;
	}
	/* CR3 accesses do not exit with cvisor's controls, nor CR8 reads
	 * and writes with a TPR shadow. */
	exit_fail_vm(vcpu, exit, "unexpected control-register access (CR%u, type %u)", cr,
		     CR_QUAL_TYPE(q));
}
