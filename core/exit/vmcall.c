/*
 * VMCALL hypercalls (VMCALL exits unconditionally in VMX non-root
 * operation, SDM Vol. 3C 26.1.2).  The ABI is in core/abi/hypercall.h and
 * docs/hypercalls.md.  Every argument is checked; a bad one gets an error
 * code in RAX, never a hypervisor fault.
 */
#include "abi/hypercall.h"
#include "mm/guest_memory.h"
#include "vm/console.h"
#include "exit/exit.h"
#include "vm/protect.h"
#include "vm/vm.h"

static __attribute__((noinline)) int64_t hc_print_string(struct vcpu *vcpu, uint64_t gpa,
							   uint64_t len)
{
	char chunk[128];

	if (len > HC_PRINT_MAX)
		return HC_EINVAL;
	/* Validate the whole range before printing any of it. */
	if (!guest_is_ram(vcpu->vm, gpa, len))
		return HC_EFAULT;
	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		if (!guest_read(vcpu->vm, gpa + done, chunk, n))
			return HC_EFAULT;
		vm_console_write(vcpu->vm, chunk, n);
		done += n;
	}
	return (int64_t)len;
}

static int64_t protect_error(enum protect_result result)
{
	switch (result) {
	case PROTECT_OK:
		return HC_OK;
	case PROTECT_EFAULT:
		return HC_EFAULT;
	case PROTECT_ENOMEM:
		return HC_ENOMEM;
	case PROTECT_ENOSYS:
		return HC_ENOSYS;
	default:
		return HC_EINVAL;
	}
}

/*
 * HC_PROTECT_EVENTS: the oldest events into the guest's buffer, which must
 * be RAM the guest may write itself (cvisor writes nowhere a protection
 * forbids the guest to).  max 0 asks how many are waiting.
 */
static __attribute__((noinline)) int64_t hc_protect_events(struct vcpu *vcpu, uint64_t gpa,
							     uint64_t max)
{
	struct vm *vm = vcpu->vm;
	struct hc_protect_event chunk[8];
	uint64_t done = 0;

	if (vm->identity)
		return HC_ENOSYS;
	if (max == 0)
		return protect_pending_events(vm);
	if (max > PROTECT_EVENT_RING)
		max = PROTECT_EVENT_RING;
	uint64_t size = max * sizeof(struct hc_protect_event);
	if (!guest_is_ram(vm, gpa, size) || !protect_allows(vm, gpa, size, HC_PROT_WRITE))
		return HC_EFAULT;
	while (done < max) {
		unsigned want = max - done < 8 ? (unsigned)(max - done) : 8;
		unsigned n = protect_take_events(vm, chunk, want);
		if (!n)
			break;
		guest_write(vm, gpa + done * sizeof(chunk[0]), chunk, n * sizeof(chunk[0]));
		done += n;
	}
	return (int64_t)done;
}

/* HC_PROTECT: its third and fourth arguments (RDX, RSI) are read here, off
 * the path of the other hypercalls. */
static __attribute__((noinline)) int64_t hc_protect(struct vcpu *vcpu, uint64_t gpa,
						      uint64_t length)
{
	uint64_t mask = vcpu_guest_in_64bit_mode() ? ~0ULL : 0xFFFFFFFFULL;
	uint64_t perms = vcpu->gprs.regs[GPR_RDX] & mask, policy = vcpu->gprs.regs[GPR_RSI] & mask;

	if (perms > ~0u || policy > ~0u)
		return HC_EINVAL;
	return protect_error(protect_memory(vcpu, gpa, length, (unsigned)perms, (unsigned)policy));
}

/* One hypercall: its result for RAX.  Results other than RAX (HC_GET_IDS)
 * are written to the GPRs here. */
static int64_t hypercall(struct vcpu *vcpu, uint64_t nr, uint64_t arg1, uint64_t arg2)
{
	uint64_t *regs = vcpu->gprs.regs;

	switch (nr) {
	case HC_NOP:
		return HC_OK;
	case HC_PRINT_STRING:
		return hc_print_string(vcpu, arg1, arg2);
	case HC_PRINT_CHAR:
		if (arg1 > 0xFF)
			return HC_EINVAL;
		vm_console_putc(vcpu->vm, (char)arg1);
		return HC_OK;
	case HC_GET_IDS:
		regs[GPR_RBX] = vcpu->vm->id;
		regs[GPR_RCX] = vcpu->id;
		return HC_OK;
	case HC_EXIT_STATS:
		exit_print_statistics(vcpu);
		return HC_OK;
	case HC_STOP:
		/* The running OS under cvisor.ko cannot be "stopped"; it
		 * devirtualizes instead. */
		if (vcpu->vm->identity)
			return HC_ENOSYS;
		vm_end(vcpu->vm, arg1 == 0, "stop hypercall with status %llu",
		       (unsigned long long)arg1);
		return HC_OK;
	case HC_DEVIRTUALIZE:
		if (!vcpu->vm->identity)
			return HC_ENOSYS;
		/* core/vm/hosted_os.c gives the CPU back after this exit,
		 * with RIP already past the VMCALL. */
		vcpu->leave = VCPU_LEAVE_ON_REQUEST;
		return HC_OK;
	case HC_PROTECT:
		return hc_protect(vcpu, arg1, arg2);
	case HC_PIN_CR:
		if (arg1 > ~0u)
			return HC_EINVAL;
		return protect_error(protect_pin_cr(vcpu, (unsigned)arg1, arg2));
	case HC_PIN_MSR:
		if (arg1 > ~0u)
			return HC_EINVAL;
		return protect_error(protect_pin_msr(vcpu, (uint32_t)arg1));
	case HC_PROTECT_EVENTS:
		return hc_protect_events(vcpu, arg1, arg2);
	default:
		return HC_ENOSYS;
	}
}

void handle_vmcall(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	uint64_t *regs = vcpu->gprs.regs;

	vcpu_skip_instruction(vcpu);
	/* Hypercalls are for the guest kernel: CPL 0 only. */
	if (vcpu_guest_cpl() != 0) {
		regs[GPR_RAX] = (uint64_t)(int64_t)HC_EPERM;
		return;
	}
	/* Outside 64-bit mode only the low 32 bits of each register count.
	 * The mode (a VMREAD) matters only when an upper half is not 0. */
	uint64_t nr = regs[GPR_RAX], arg1 = regs[GPR_RBX], arg2 = regs[GPR_RCX];
	if (((nr | arg1 | arg2) >> 32) && !vcpu_guest_in_64bit_mode()) {
		nr = (uint32_t)nr;
		arg1 = (uint32_t)arg1;
		arg2 = (uint32_t)arg2;
	}
	regs[GPR_RAX] = (uint64_t)hypercall(vcpu, nr, arg1, arg2);
}
