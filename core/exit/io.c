/*
 * Port I/O exits.  "Unconditional I/O exiting" is on, so every IN/OUT
 * exits (SDM Vol. 3C 26.1.3) and is sent to the VM's emulated devices.
 */
#include "dev/ports.h"
#include "exit/exit.h"
#include "vm/vm.h"

/* Exit qualification for I/O instructions (SDM Vol. 3C 28.2.1, Table 28-5). */
#define IO_QUAL_SIZE(q)   ((unsigned)((q) & 7) + 1) /* 1, 2 or 4 bytes */
#define IO_QUAL_IN        (1u << 3)
#define IO_QUAL_STRING    (1u << 4)
#define IO_QUAL_REP       (1u << 5)
#define IO_QUAL_PORT(q)   ((uint16_t)((q) >> 16))

void handle_io(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t q = exit->qualification;
	unsigned size = IO_QUAL_SIZE(q);
	uint16_t port = IO_QUAL_PORT(q);
	uint64_t *rax = &vcpu->gprs.regs[GPR_RAX];

	if (size != 1 && size != 2 && size != 4) {
		exit_fail_vm(vcpu, exit, false, "I/O exit with an invalid access size");
		return;
	}
	if (q & IO_QUAL_STRING) {
		exit_fail_vm(vcpu, exit, false, "string port I/O (INS/OUTS%s) to port 0x%x is not emulated",
			     (q & IO_QUAL_REP) ? " with REP" : "", port);
		return;
	}
	if (q & IO_QUAL_IN) {
		uint32_t value = io_port_read(vcpu->vm, port, size);
		/* IN AL/AX keep the rest of RAX; IN EAX zero-extends (SDM Vol. 1 3.4.1.1). */
		if (size == 4)
			*rax = value;
		else if (size == 2)
			*rax = (*rax & ~0xFFFFULL) | value;
		else
			*rax = (*rax & ~0xFFULL) | value;
	} else {
		uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
		io_port_write(vcpu->vm, port, size, (uint32_t)*rax & mask);
	}
	vcpu_skip_instruction(vcpu);
}
