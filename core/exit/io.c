/*
 * Port I/O exits.  "Unconditional I/O exiting" is on, so every IN/OUT/INS/
 * OUTS exits (SDM Vol. 3C 26.1.3) and goes to the VM's emulated devices.
 */
#include "x86.h"
#include "dev/ports.h"
#include "emulate/emulate.h"
#include "emulate/operand.h"
#include "exit/exit.h"
#include "vcpu/debug.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"

/* Exit qualification for I/O instructions (SDM Vol. 3C 28.2.1, Table 28-5). */
#define IO_QUAL_SIZE(q)   ((unsigned)((q) & 7) + 1) /* 1, 2 or 4 bytes */
#define IO_QUAL_IN        (1u << 3)
#define IO_QUAL_STRING    (1u << 4)
#define IO_QUAL_REP       (1u << 5)
#define IO_QUAL_PORT(q)   ((uint16_t)((q) >> 16))

/* VM-exit instruction information for INS/OUTS (SDM Vol. 3C 28.2.5, Table 28-8). */
#define IO_INFO_ADDR_SIZE(info) (2u << (((info) >> 7) & 7)) /* 2, 4 or 8 bytes */
#define IO_INFO_SEGMENT(info)   (((info) >> 15) & 7)

/* Out of line, so that plain IN/OUT keep a small frame. */
static __attribute__((noinline)) void string_io(struct vcpu *vcpu, const struct vm_exit *exit,
						uint16_t port, unsigned size, bool in, bool rep)
{
	uint32_t info = vmcs_read(VM_EXIT_INSTRUCTION_INFO);
	/* INS writes ES:[E/R]DI; OUTS reads seg:[E/R]SI, DS unless overridden. */
	struct string_insn string = {
		.source = in ? STRING_PORT : STRING_MEMORY,
		.source_segment = IO_INFO_SEGMENT(info),
		.destination = in ? STRING_MEMORY : STRING_PORT,
		.port = port,
		.element_size = size,
		.address_size = IO_INFO_ADDR_SIZE(info),
		.rep = rep,
		.next_rip = vmcs_read(GUEST_RIP) + vmcs_read(VM_EXIT_INSTRUCTION_LEN),
	};
	struct emulate_failure failure;
	enum emulate_result result = emulate_string(vcpu, &string, &failure);

	if (result == EMULATE_BAD_ADDRESS_SIZE)
		exit_fail_vm(vcpu, exit, "string I/O with a 64-bit address outside 64-bit mode");
	else if (result == EMULATE_NOT_MEMORY)
		exit_fail_vm(vcpu, exit,
			     "string I/O buffer at linear 0x%llx is not guest RAM or a device (guest-physical 0x%llx)",
			     (unsigned long long)failure.linear, (unsigned long long)failure.gpa);
}

void handle_io(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t q = exit->qualification;
	unsigned size = IO_QUAL_SIZE(q);
	uint16_t port = IO_QUAL_PORT(q);
	uint64_t *rax = &vcpu->gprs.regs[GPR_RAX];

	if (size != 1 && size != 2 && size != 4) {
		exit_fail_vm(vcpu, exit, "I/O exit with an invalid access size");
		return;
	}
	if (q & IO_QUAL_STRING) {
		string_io(vcpu, exit, port, size, q & IO_QUAL_IN, q & IO_QUAL_REP);
		return;
	}
	if (q & IO_QUAL_IN) {
		uint32_t value = io_port_read(vcpu->vm, port, size);
		/* IN AL/AX keep the rest of RAX; IN EAX zero-extends. */
		write_sized_register(rax, value, size);
	} else {
		io_port_write(vcpu->vm, port, size, (uint32_t)*rax);
	}
	/* I/O breakpoints trap after the instruction (SDM Vol. 3B 18.2.4). */
	vcpu_check_breakpoints(vcpu, BREAKPOINT_IO, port, size);
	vcpu_skip_instruction(vcpu);
}
