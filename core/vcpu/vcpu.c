#include "vcpu/vcpu.h"

#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "vcpu/vmcs_setup.h"
#include "vm/vm.h"
#include "vmx/entry_checks.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"

/* INVEPT/INVVPID types (SDM Vol. 3C 31.3). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXTS 2

/*
 * The part of creating a vCPU every kind shares: the MSR bitmap page and
 * the VMCS, cleared and made current (SDM Vol. 3C 25.2: a VMCS region
 * starts with the revision identifier; VMCLEAR initializes it, VMPTRLD
 * makes it current, 25.11.3).
 */
static enum vmx_error vcpu_alloc_vmcs(struct vcpu *vcpu, struct vmx_cpu *cpu)
{
	enum vmx_error err;

	vcpu->msr_bitmap = plat_alloc_page();
	if (!vcpu->msr_bitmap)
		return VMX_ERR_NO_MEMORY;
	vcpu->vmcs = plat_alloc_page();
	if (!vcpu->vmcs) {
		err = VMX_ERR_NO_MEMORY;
		goto fail;
	}
	vcpu->vmcs_pa = plat_virt_to_phys(vcpu->vmcs);
	*(uint32_t *)vcpu->vmcs = VMX_BASIC_REVISION(cpu->caps.basic);
	if (vmclear(vcpu->vmcs_pa) != VMX_SUCCEED) {
		err = VMX_ERR_VMCLEAR_FAILED;
		goto fail;
	}
	if (vmptrld(vcpu->vmcs_pa) != VMX_SUCCEED) {
		err = VMX_ERR_VMPTRLD_FAILED;
		goto fail;
	}
	vmcs_reset_failures();
	return VMX_OK;
fail:
	plat_free_page(vcpu->vmcs);
	vcpu->vmcs = NULL;
	plat_free_page(vcpu->msr_bitmap);
	vcpu->msr_bitmap = NULL;
	return err;
}

/* The VMCS is current but unusable: VMCLEAR it before its memory goes
 * back (SDM Vol. 3C 25.11.1: software must not touch an active VMCS). */
static void vcpu_free_current_vmcs(struct vcpu *vcpu)
{
	vmclear(vcpu->vmcs_pa);
	plat_free_page(vcpu->vmcs);
	vcpu->vmcs = NULL;
	plat_free_page(vcpu->msr_bitmap);
	vcpu->msr_bitmap = NULL;
}

/* Drop stale translations for this EPT and VPID (SDM Vol. 3C 29.4.3). */
void vcpu_invalidate_translations(struct vcpu *vcpu)
{
	const struct vmx_caps *caps = &vcpu->cpu->caps;

	if (caps->ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, vcpu->vm->ept.eptp);
	else
		invept(INVEPT_ALL_CONTEXTS, 0);
	if (caps->ept_vpid & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, vcpu->vpid, 0);
	else
		invvpid(INVVPID_ALL_CONTEXTS, 0, 0);
}

/* The last step of every vCPU kind: no VMWRITE may have failed, then the
 * stale translations of its EPT and VPID go. */
static enum vmx_error vcpu_finish_vmcs(struct vcpu *vcpu)
{
	if (vmcs_failed_writes()) {
		vcpu_free_current_vmcs(vcpu);
		return VMX_ERR_VMWRITE_FAILED;
	}
	vcpu_invalidate_translations(vcpu);
	return VMX_OK;
}

static void vcpu_init_fields(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu, unsigned id)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->cpu = cpu;
	vcpu->id = id;
	vcpu->host_cpu = plat_this_cpu();
	/* VPID 0 is the host's; give each vCPU its own (SDM Vol. 3C 29.1). */
	vcpu->vpid = (uint16_t)(1 + vm->id * 16 + id);
}

/*
 * What a processor holds after power-up or RESET outside the VMCS, and how
 * it starts: the bootstrap processor runs, application processors wait for
 * a start-up IPI (SDM Vol. 3A 9.4.1); GPRs from boot, nothing pending.
 */
static void vcpu_power_up(struct vcpu *vcpu, const struct guest_cpu_state *boot)
{
	vcpu->state = vcpu->id == 0 ? VCPU_RUNNING : VCPU_WAIT_SIPI;
	__atomic_store_n(&vcpu->pending.any, 0, __ATOMIC_RELEASE);
	vcpu->event_injected = false;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		vcpu->gprs.regs[i] = boot->gprs[i];
	/* Power-up state of what the VMCS does not hold (SDM Vol. 3A 10.1.1):
	 * XCR0 = x87 only, FPU control word 0x37F, MXCSR 0x1F80. */
	vcpu->xcr0 = 1;
	memset(&vcpu->fpu, 0, sizeof(vcpu->fpu));
	vcpu->fpu.bytes[0] = 0x7F;
	vcpu->fpu.bytes[1] = 0x03;
	vcpu->fpu.bytes[24] = 0x80;
	vcpu->fpu.bytes[25] = 0x1F;
	/* XSTATE_BV (byte 512): x87 and SSE come from the area above, every
	 * other component starts in its initial state (SDM Vol. 1 13.8.1). */
	vcpu->fpu.bytes[512] = XCR0_X87 | XCR0_SSE;
	/* CR2, DR0-DR3 zero and DR6 after power-up (SDM Vol. 3A Table 10-1). */
	vcpu->cr2 = 0;
	for (unsigned i = 0; i < 4; i++)
		vcpu->dr[i] = 0;
	vcpu->dr6 = 0xFFFF0FF0;
	msr_state_init(&vcpu->msrs, vcpu->id == 0);
	if (vcpu->vm->firmware_mtrrs)
		msr_state_firmware_mtrrs(&vcpu->msrs);
	lapic_reset(&vcpu->lapic, vcpu->id);
}

enum vmx_error vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
			   unsigned id, const struct guest_cpu_state *boot)
{
	enum vmx_error err;

	vcpu_init_fields(vcpu, vm, cpu, id);
	vcpu_power_up(vcpu, boot);
	if ((err = vcpu_alloc_vmcs(vcpu, cpu)) != VMX_OK)
		return err;
	msr_bitmap_init(vcpu->msr_bitmap);

	if ((err = vmcs_setup_controls(vcpu)) != VMX_OK)
		goto fail;
	vmcs_setup_host_state();
	guest_state_write(&cpu->caps, boot);
	vcpu_own_control_bits(0, vcpu->cr4_unoffered);
	return vcpu_finish_vmcs(vcpu);
fail:
	vcpu_free_current_vmcs(vcpu);
	return err;
}

enum vmx_error vcpu_reset(struct vcpu *vcpu, const struct guest_cpu_state *boot)
{
	enum vmx_error err;

	vcpu_power_up(vcpu, boot);
	/* The VMCS as vcpu_create wrote it: controls (no window exits, nothing
	 * to inject, TSC offset 0), then the guest state. */
	vmcs_reset_failures();
	if ((err = vmcs_setup_controls(vcpu)) != VMX_OK)
		return err;
	guest_state_write(&vcpu->cpu->caps, boot);
	vcpu_own_control_bits(0, vcpu->cr4_unoffered);
	if (vmcs_failed_writes())
		return VMX_ERR_VMWRITE_FAILED;
	/* The power-up FPU, XCR0, CR2, debug registers and MSRs go live (the
	 * vCPU is current); no translation of the old guest survives a RESET. */
	vcpu_load(vcpu);
	vcpu_invalidate_translations(vcpu);
	vcpu->check_before_entry = true;
	return VMX_OK;
}

enum vmx_error vcpu_create_hosted_os(struct vcpu *vcpu, struct vm *vm, struct vmx_cpu *cpu,
				       unsigned id, const struct hosted_os_host *host,
				       const struct guest_cpu_state *guest)
{
	enum vmx_error err;

	vcpu_init_fields(vcpu, vm, cpu, id);
	vcpu->state = VCPU_RUNNING;
	if ((err = vcpu_alloc_vmcs(vcpu, cpu)) != VMX_OK)
		return err;
	msr_bitmap_init_hosted_os(vcpu->msr_bitmap);
	if ((err = vmcs_setup_hosted_os_controls(vcpu)) != VMX_OK)
		goto fail;
	vmcs_setup_hosted_os_host_state(host);
	guest_state_write(&cpu->caps, guest);
	return vcpu_finish_vmcs(vcpu);
fail:
	vcpu_free_current_vmcs(vcpu);
	return err;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu->vmcs)
		return;
	/* VMCLEAR writes the VMCS back to memory and makes it inactive (SDM Vol. 3C 25.11.3). */
	if (vmclear(vcpu->vmcs_pa) != VMX_SUCCEED)
		log_printf("cvisor: VM %s vCPU %u: VMCLEAR failed\n", vcpu->vm->name, vcpu->id);
	plat_free_page(vcpu->vmcs);
	vcpu->vmcs = NULL;
	plat_free_page(vcpu->msr_bitmap);
	vcpu->msr_bitmap = NULL;
}

uint64_t vcpu_read_gpr(struct vcpu *vcpu, unsigned gpr)
{
	uint64_t value = gpr == GPR_RSP ? vmcs_read(GUEST_RSP) : vcpu->gprs.regs[gpr & 15];
	return vcpu_guest_in_64bit_mode() ? value : (uint32_t)value;
}

/*
 * The guest state VMX does not switch: the FPU/SIMD registers of every
 * component its XCR0 enables (XSAVE/XRSTOR with the guest's XCR0, SDM Vol.
 * 1 13.7-13.8; FXSAVE/FXRSTOR on a CPU without XSAVE), XCR0, CR2, DR0-DR3
 * and DR6, and the passed-through syscall MSRs.  cvisor itself never
 * touches the FPU (-mgeneral-regs-only) or the debug registers, so these
 * stay live across exits and only move when another vCPU takes the CPU.
 */
/* The components XSAVE moves: the guest's XCR0, and SSE always, since a
 * guest uses XMM registers with CR4.OSFXSR whatever its XCR0 (SDM Vol. 1
 * 13.1); and PKRU always where XCR0 can hold it, since a guest with
 * CR4.PKE uses it whatever its XCR0 (13.5.7).  XCR0 = guest | SSE | PKRU
 * is always a valid value (13.3). */
static uint64_t switched_components(const struct vcpu *vcpu)
{
	return vcpu->xcr0 | XCR0_X87 | XCR0_SSE | (vcpu->cpu->host_xsave_pkru ? XCR0_PKRU : 0);
}

uint32_t vcpu_guest_pkru(struct vcpu *vcpu)
{
	struct cpuid_regs r;
	uint64_t xsave_bv;
	uint32_t pkru = 0;

	if (!(read_cr4() & CR4_OSXSAVE))
		return 0;
	/* The PKRU component's offset in the standard layout (SDM Vol. 1
	 * 13.4.3: CPUID.(EAX=0DH,ECX=9):EBX) and size (EAX, 8). */
	cpuid(0xD, 9, &r);
	if (r.eax < 4 || r.ebx + 4 > XSAVE_AREA_BYTES)
		return 0;
	uint64_t xcr0 = xgetbv(0);
	bool widen = !(xcr0 & XCR0_PKRU);
	if (widen && !vcpu->cpu->host_xsave_pkru)
		return 0; /* no PKRU component: the CPU has no protection keys */
	if (widen)
		xsetbv(0, xcr0 | XCR0_PKRU);
	/* Into the vCPU's own save area, which vcpu_put rewrites whole. */
	xsave(&vcpu->fpu, XCR0_PKRU);
	if (widen)
		xsetbv(0, xcr0);
	/* XSTATE_BV[9] clear: PKRU in its initial state, 0 (13.6). */
	memcpy(&xsave_bv, vcpu->fpu.bytes + 512, sizeof(xsave_bv));
	if (xsave_bv & XCR0_PKRU)
		memcpy(&pkru, vcpu->fpu.bytes + r.ebx, sizeof(pkru));
	return pkru;
}

void vcpu_load(struct vcpu *vcpu)
{
	if (vcpu->cpu->host_xsave) {
		uint64_t components = switched_components(vcpu);
		xsetbv(0, components);
		xrstor(&vcpu->fpu, components);
		if (components != vcpu->xcr0)
			xsetbv(0, vcpu->xcr0);
	} else {
		fxrstor(&vcpu->fpu);
	}
	write_cr2(vcpu->cr2);
	write_debug_registers(vcpu->dr, vcpu->dr6);
	msr_load_guest(&vcpu->msrs);
}

void vcpu_put(struct vcpu *vcpu)
{
	msr_save_guest(&vcpu->msrs);
	vcpu->cr2 = read_cr2();
	read_debug_registers(vcpu->dr, &vcpu->dr6);
	if (vcpu->cpu->host_xsave) {
		vcpu->xcr0 = xgetbv(0);
		uint64_t components = switched_components(vcpu);
		if (components != vcpu->xcr0)
			xsetbv(0, components);
		xsave(&vcpu->fpu, components);
		xsetbv(0, 1);
	} else {
		fxsave(&vcpu->fpu);
	}
}

#ifdef CVISOR_RELEASE
bool vcpu_check_entries = false;
#else
bool vcpu_check_entries = true;
#endif

unsigned vcpu_check_entry_rules(struct vcpu *vcpu)
{
	unsigned broken = vmx_check_vm_entry(&vcpu->cpu->caps, 0);
	vcpu->entry_rules_reported = true;
	if (broken)
		log_printf("cvisor: VM %s vCPU %u: the VMCS breaks %u VM-entry rule(s), listed above\n",
			   vcpu->vm->name, vcpu->id, broken);
	return broken;
}

uint32_t vcpu_preemption_timer_count(const struct vcpu *vcpu, uint64_t now, uint64_t until)
{
	uint64_t ticks = until > now ? (until - now) >> (vcpu->cpu->caps.misc & 0x1F) : 0;
	return ticks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ticks;
}

void vcpu_retime_entry_for(struct vcpu *vcpu, uint64_t deadline)
{
	uint64_t timed_for = __atomic_load_n(&vcpu->entry_deadline, __ATOMIC_RELAXED);

	if (!deadline || deadline >= timed_for)
		return;
	/* timed_for is not 0 only with a saved timer (run/run_loop.c).  The
	 * deadline is before the slice's end and the device timers', which
	 * timed_for was no later than: it alone ends the next entry.  Another
	 * CPU arming an earlier device timer clears entry_deadline
	 * (dev/device.c); the exchange keeps that clear. */
	uint64_t now = rdtsc();
	if (deadline > now && __atomic_compare_exchange_n(&vcpu->entry_deadline, &timed_for, deadline,
							  false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, vcpu_preemption_timer_count(vcpu, now, deadline));
		return;
	}
	__atomic_store_n(&vcpu->entry_deadline, 0, __ATOMIC_RELAXED);
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (vcpu->host_cpu != plat_this_cpu())
		plat_send_ipi(vcpu->host_cpu, VCPU_KICK_VECTOR);
}

void vcpu_dump_registers(const struct vcpu *vcpu)
{
	const uint64_t *r = vcpu->gprs.regs;

	log_printf("cvisor: VM %s vCPU %u registers: RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx "
		   "CR0 0x%llx CR3 0x%llx CR4 0x%llx\n",
		   vcpu->vm->name, vcpu->id, (unsigned long long)vmcs_read(GUEST_RIP),
		   (unsigned long long)vmcs_read(GUEST_RSP),
		   (unsigned long long)vmcs_read(GUEST_RFLAGS),
		   (unsigned long long)vmcs_read(GUEST_CR0),
		   (unsigned long long)vmcs_read(GUEST_CR3),
		   (unsigned long long)vmcs_read(GUEST_CR4));
	log_printf("cvisor:   RAX 0x%llx RBX 0x%llx RCX 0x%llx RDX 0x%llx RSI 0x%llx RDI 0x%llx RBP 0x%llx\n",
		   (unsigned long long)r[GPR_RAX], (unsigned long long)r[GPR_RBX],
		   (unsigned long long)r[GPR_RCX], (unsigned long long)r[GPR_RDX],
		   (unsigned long long)r[GPR_RSI], (unsigned long long)r[GPR_RDI],
		   (unsigned long long)r[GPR_RBP]);
	log_printf("cvisor:   R8 0x%llx R9 0x%llx R10 0x%llx R11 0x%llx R12 0x%llx R13 0x%llx R14 0x%llx R15 0x%llx\n",
		   (unsigned long long)r[GPR_R8], (unsigned long long)r[GPR_R9],
		   (unsigned long long)r[GPR_R10], (unsigned long long)r[GPR_R11],
		   (unsigned long long)r[GPR_R12], (unsigned long long)r[GPR_R13],
		   (unsigned long long)r[GPR_R14], (unsigned long long)r[GPR_R15]);
}
