/*
 * VMCALL hypercalls (VMCALL exits unconditionally in VMX non-root
 * operation, SDM Vol. 3C 26.1.2).  The ABI is in core/abi/hypercall.h and
 * docs/hypercalls.md.  Every argument is checked; a bad one gets an error
 * code in RAX, never a hypervisor fault.
 */
#include "abi/hypercall.h"
#include "dev/vm_console.h"
#include "exit/exit.h"
#include "vm/vm.h"

static int64_t hc_print_string(struct vcpu *vcpu, uint64_t gpa, uint64_t len)
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

void handle_vmcall(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)exit;
	uint64_t *regs = vcpu->gprs.regs;
	/* Outside 64-bit mode only the low 32 bits of each register count. */
	uint64_t mask = vcpu_guest_in_64bit_mode() ? ~0ULL : 0xFFFFFFFFULL;
	uint64_t nr = regs[GPR_RAX] & mask, arg1 = regs[GPR_RBX] & mask;
	uint64_t arg2 = regs[GPR_RCX] & mask;
	int64_t result;

	vcpu_skip_instruction(vcpu);
	if (vcpu_guest_cpl() != 0) {
		regs[GPR_RAX] = (uint64_t)(int64_t)HC_EPERM;
		return;
	}
	switch (nr) {
	case HC_NOP:
		result = HC_OK;
		break;
	case HC_PRINT_STRING:
		result = hc_print_string(vcpu, arg1, arg2);
		break;
	case HC_PRINT_CHAR:
		if (arg1 > 0xFF) {
			result = HC_EINVAL;
			break;
		}
		vm_console_putc(vcpu->vm, (char)arg1);
		result = HC_OK;
		break;
	case HC_GET_IDS:
		regs[GPR_RBX] = vcpu->vm->id;
		regs[GPR_RCX] = vcpu->id;
		result = HC_OK;
		break;
	case HC_EXIT_STATS:
		exit_print_statistics(vcpu);
		result = HC_OK;
		break;
	case HC_STOP:
		/* The running OS under cvisor.ko cannot be "stopped"; it
		 * devirtualizes instead. */
		if (vcpu->vm->identity) {
			result = HC_ENOSYS;
			break;
		}
		vm_end(vcpu->vm, arg1 == 0, "stop hypercall with status %llu",
		       (unsigned long long)arg1);
		result = HC_OK;
		break;
	case HC_DEVIRTUALIZE:
		if (!vcpu->vm->identity) {
			result = HC_ENOSYS;
			break;
		}
		/* core/vm/passthrough.c gives the CPU back after this exit,
		 * with RIP already past the VMCALL. */
		vcpu->leave = VCPU_LEAVE_ON_REQUEST;
		result = HC_OK;
		break;
	default:
		result = HC_ENOSYS;
		break;
	}
	regs[GPR_RAX] = (uint64_t)result;
}
