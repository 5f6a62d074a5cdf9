#include "vm/hosted_os.h"

#include "abi/cpuid.h"
#include "abi/hypercall.h"
#include "exit/exit.h"
#include "run/run_loop.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "vm/protect.h"
#include "vmx/intrin.h"
#include "x86.h"
#include "vmx/vmcs.h"

#define DESC_TYPE_TSS_BUSY_BIT (1u << 1) /* in byte 5 of a TSS descriptor */

void hosted_os_capture_state(struct guest_cpu_state *s)
{
	struct desc_ptr gdtr, idtr;
	const void *gdt;

	read_gdtr(&gdtr);
	read_idtr(&idtr);
	gdt = (const void *)(uintptr_t)gdtr.base;
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->dr7 = read_dr7();
	s->gdtr_base = gdtr.base;
	s->gdtr_limit = gdtr.limit;
	s->idtr_base = idtr.base;
	s->idtr_limit = idtr.limit;
	s->cs = segment_from_gdt(gdt, gdtr.limit, read_cs());
	s->ss = segment_from_gdt(gdt, gdtr.limit, read_ss());
	s->ds = segment_from_gdt(gdt, gdtr.limit, read_ds());
	s->es = segment_from_gdt(gdt, gdtr.limit, read_es());
	s->fs = segment_from_gdt(gdt, gdtr.limit, read_fs());
	s->gs = segment_from_gdt(gdt, gdtr.limit, read_gs());
	s->tr = segment_from_gdt(gdt, gdtr.limit, read_tr());
	s->ldtr = segment_from_gdt(gdt, gdtr.limit, read_ldtr());
	/* In 64-bit mode the FS/GS bases live in MSRs (SDM Vol. 3A 3.4.4). */
	s->fs.base = rdmsr(MSR_IA32_FS_BASE);
	s->gs.base = rdmsr(MSR_IA32_GS_BASE);
	s->efer = rdmsr(MSR_IA32_EFER);
	s->pat = rdmsr(MSR_IA32_PAT);
	s->debugctl = rdmsr(MSR_IA32_DEBUGCTL);
	s->sysenter_cs = rdmsr(MSR_IA32_SYSENTER_CS);
	s->sysenter_esp = rdmsr(MSR_IA32_SYSENTER_ESP);
	s->sysenter_eip = rdmsr(MSR_IA32_SYSENTER_EIP);
}

/* The captured state as the guest starts with it: the OS's CR4 without
 * VMXE, which cvisor owns and the read shadow hides. */
static struct guest_cpu_state guest_view(const struct guest_cpu_state *captured)
{
	struct guest_cpu_state state = *captured;

	state.cr4 &= ~CR4_VMXE;
	return state;
}

void hosted_os_write_guest_state(const struct vmx_caps *caps, const struct guest_cpu_state *s)
{
	struct guest_cpu_state state = guest_view(s);

	guest_state_write(caps, &state);
}

const char *hosted_os_vm_create(struct vm *vm, const char *name, struct identity_map *map,
				  uint64_t map_end, const struct phys_range *ram, unsigned ram_count)
{
	memset(vm, 0, sizeof(*vm));
	fmt_snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm_devices_init(&vm->devices);
	vm->identity = map;
	map->vm = vm;
	vm->ram_ranges = ram;
	vm->ram_range_count = ram_count;
	if (!ept_init(&vm->ept))
		return "out of memory for the EPT";
	map->ept = &vm->ept;
	if (!identity_map_range(map, map_end)) {
		ept_destroy(&vm->ept);
		return "out of memory for the identity EPT";
	}
	return NULL;
}

void hosted_os_vm_destroy(struct vm *vm)
{
	ept_destroy(&vm->ept);
}

bool hosted_os_running_under_cvisor(void)
{
	struct cpuid_regs r;

	cpuid(1, 0, &r);
	if (!(r.ecx & CPUID1_ECX_HYPERVISOR))
		return false;
	cpuid(CVISOR_CPUID_BASE, 0, &r);
	return r.ebx == CVISOR_CPUID_SIG_EBX && r.ecx == CVISOR_CPUID_SIG_ECX &&
	       r.edx == CVISOR_CPUID_SIG_EDX;
}

enum vmx_error hosted_os_virtualize(struct hosted_os_cpu *pc, struct vm *vm, unsigned vcpu_id)
{
	enum vmx_error err;

	if (hosted_os_running_under_cvisor())
		return VMX_ERR_UNDER_CVISOR;
	memset(&pc->vmx, 0, sizeof(pc->vmx));
	pc->vcpu.vm = vm;
	pc->vcpu.id = vcpu_id;
	uint64_t os_cr0 = read_cr0();
	/* No vmx_prepare_guest_fpu_switching: cvisor never moves the OS's FPU
	 * state, and an OS without XSAVE must not suddenly see CR4.OSXSAVE = 1
	 * with its XCR0 never set. */
	if ((err = vmx_cpu_enable(&pc->vmx, plat_this_cpu())) != VMX_OK)
		return err;
	/* Captured after VMX is on, so CR0/CR4 already carry VMX's fixed bits. */
	hosted_os_capture_state(&pc->captured);
	/* On success pc->virtualized was set in root operation: from here on
	 * the OS only reads cvisor's memory. */
	int result = hosted_os_launch(pc, pc->host.stack_top, hosted_os_start);
	if (result != VMX_OK) {
		vmx_cpu_disable(&pc->vmx);
		write_cr0(os_cr0); /* the CPU as it was, VMX's fixed CR0 bits included */
		return (enum vmx_error)result;
	}
	return VMX_OK;
}

/*
 * Hands this CPU back: the OS's state from the VMCS, then VMCLEAR, INVEPT,
 * INVVPID, VMXOFF and CR4.VMXE cleared (vmx_cpu_disable), then the state
 * loaded into the CPU and IRETQ to where the OS was.
 */
static _Noreturn void hosted_os_leave(struct hosted_os_cpu *pc)
{
	struct vcpu *v = &pc->vcpu;
	struct hosted_os_resume r;
	/* The OS's view of CR0/CR4: its own bits from the guest fields, the
	 * bits cvisor owns from the read shadows (SDM Vol. 3C 25.6.6). */
	uint64_t cr0_mask = vmcs_read(CR0_GUEST_HOST_MASK);
	uint64_t cr0 = (vmcs_read(GUEST_CR0) & ~cr0_mask) | (vmcs_read(CR0_READ_SHADOW) & cr0_mask);
	uint64_t cr4_mask = vmcs_read(CR4_GUEST_HOST_MASK);
	uint64_t cr4 = (vmcs_read(GUEST_CR4) & ~cr4_mask) | (vmcs_read(CR4_READ_SHADOW) & cr4_mask);
	uint64_t cr3 = vmcs_read(GUEST_CR3), dr7 = vmcs_read(GUEST_DR7);
	uint64_t efer = vmcs_read(GUEST_IA32_EFER), pat = vmcs_read(GUEST_IA32_PAT);
	uint64_t debugctl = vmcs_read(GUEST_IA32_DEBUGCTL);
	uint64_t sysenter_cs = vmcs_read(GUEST_SYSENTER_CS);
	uint64_t sysenter_esp = vmcs_read(GUEST_SYSENTER_ESP);
	uint64_t sysenter_eip = vmcs_read(GUEST_SYSENTER_EIP);

	r.gdtr_base = vmcs_read(GUEST_GDTR_BASE);
	r.gdtr_limit = vmcs_read(GUEST_GDTR_LIMIT);
	r.idtr_base = vmcs_read(GUEST_IDTR_BASE);
	r.idtr_limit = vmcs_read(GUEST_IDTR_LIMIT);
	r.tr = vmcs_read(GUEST_TR_SELECTOR);
	r.ldtr = vmcs_read(GUEST_LDTR_SELECTOR);
	r.ds = vmcs_read(GUEST_DS_SELECTOR);
	r.es = vmcs_read(GUEST_ES_SELECTOR);
	r.fs = vmcs_read(GUEST_FS_SELECTOR);
	r.gs = vmcs_read(GUEST_GS_SELECTOR);
	r.fs_base = vmcs_read(GUEST_FS_BASE);
	r.gs_base = vmcs_read(GUEST_GS_BASE);
	r.gprs = &v->gprs;
	r.rip = vmcs_read(GUEST_RIP);
	r.cs = vmcs_read(GUEST_CS_SELECTOR);
	r.rflags = vmcs_read(GUEST_RFLAGS);
	r.rsp = vmcs_read(GUEST_RSP);
	r.ss = vmcs_read(GUEST_SS_SELECTOR);

	vcpu_destroy(v);
	vmx_cpu_disable(&pc->vmx);
	pc->virtualized = false;

	write_cr0(cr0);
	write_cr4(cr4);
	write_cr3(cr3);
	write_dr7(dr7);
	if (rdmsr(MSR_IA32_EFER) != efer)
		wrmsr(MSR_IA32_EFER, efer);
	wrmsr(MSR_IA32_PAT, pat);
	wrmsr(MSR_IA32_DEBUGCTL, debugctl);
	wrmsr(MSR_IA32_SYSENTER_CS, sysenter_cs);
	wrmsr(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	wrmsr(MSR_IA32_SYSENTER_EIP, sysenter_eip);
	/* LTR faults on a busy TSS descriptor (SDM Vol. 2A LTR): mark it
	 * available again, through a writable alias when the OS maps its GDT
	 * read-only (Linux does). */
	uint64_t gdt = pc->gdt_writable_alias ? pc->gdt_writable_alias : r.gdtr_base;
	r.ltr_gdt_base = gdt;
	if ((r.tr & ~7ULL) && (r.tr & ~7ULL) + 7 <= r.gdtr_limit) {
		uint8_t *type_byte = (uint8_t *)(uintptr_t)(gdt + (r.tr & ~7ULL) + 5);
		*type_byte &= (uint8_t)~DESC_TYPE_TSS_BUSY_BIT;
	}
	hosted_os_resume_os(&r);
}

int hosted_os_start(struct hosted_os_cpu *pc, uint64_t os_rsp, uint64_t os_rip, uint64_t os_rflags)
{
	struct vcpu *v = &pc->vcpu;
	struct vm *vm = v->vm;
	unsigned id = v->id;
	enum vmx_error err;

	pc->os_rsp = os_rsp;
	pc->captured.rsp = os_rsp;
	pc->captured.rip = os_rip;
	pc->captured.rflags = os_rflags;
	struct guest_cpu_state guest = guest_view(&pc->captured);
	err = vcpu_create_hosted_os(v, vm, &pc->vmx, id, &pc->host, &guest);
	if (err != VMX_OK)
		return err;
	v->exit_handlers = exit_handler_table(true);
	/* The VM's pinned CR0/CR4 bits (vm/protect.h, set by cvisor.ko before
	 * any CPU is virtualized) are owned on every vCPU from its first entry,
	 * a CPU that comes online later included. */
	vcpu_own_control_bits(__atomic_load_n(&vm->protect.cr0_pinned, __ATOMIC_ACQUIRE),
			      __atomic_load_n(&vm->protect.cr4_pinned, __ATOMIC_ACQUIRE));
	/* Its pinned MSRs too (exit/msr.c, handle_msr_hosted_os). */
	protect_apply_msr_pins(v);
	if (vcpu_check_entries)
		vcpu_check_entry_rules(v);
	pc->virtualized = true;
	/* GPRs at the launch point do not matter: the OS pops what it pushed. */
	int result = vmx_enter_guest(&v->gprs, 0);
	uint32_t reason = result == 0 ? (uint32_t)vmcs_read(VM_EXIT_REASON) : 0;
	if (result != 0 || (reason & EXIT_REASON_ENTRY_FAILURE)) {
		/* The OS never ran as a guest: report and return on the OS stack. */
		if (result != 0)
			log_printf("cvisor: CPU %u: VMLAUNCH failed: VM-instruction error %llu\n",
				   v->host_cpu, (unsigned long long)vmcs_read(VM_INSTRUCTION_ERROR));
		else
			log_printf("cvisor: CPU %u: VM entry failed with exit reason %u\n",
				   v->host_cpu, EXIT_REASON_BASIC(reason));
		if (!v->entry_rules_reported)
			vcpu_check_entry_rules(v);
		vmcs_dump();
		vcpu_destroy(v);
		pc->virtualized = false;
		return VMX_ERR_VMLAUNCH_FAILED;
	}
	v->launched = true;
	exit_dispatch(v, reason);
	/* Exits until the OS asks for the CPU back or an exit fails: an NMI
	 * that hit while the CPU was in root operation (the platform's NMI
	 * handler posts it) goes to the OS at the next entry it can take one. */
	while (v->leave == VCPU_STAY)
		vcpu_run_slice(v, VCPU_SLICE_ENDLESS);
	hosted_os_leave(pc);
}

int64_t hosted_os_devirtualize(void)
{
	if (!hosted_os_running_under_cvisor())
		return HC_ENOSYS;
	return hosted_os_hypercall(HC_DEVIRTUALIZE);
}
