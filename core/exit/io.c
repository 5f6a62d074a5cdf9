/*
 * Port I/O exits.  "Unconditional I/O exiting" is on, so every IN/OUT/INS/
 * OUTS exits (SDM Vol. 3C 26.1.3) and goes to the VM's emulated devices.
 */
#include "x86.h"
#include "dev/ports.h"
#include "vcpu/events.h"
#include "exit/exit.h"
#include "exit/operand.h"
#include "mm/guest_paging.h"
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

/* At most this many REP iterations per exit; the guest re-executes the
 * instruction for the rest (REP string instructions are restartable). */
#define STRING_IO_BUDGET 4096

/* Out of line, so that plain IN/OUT keep a small frame. */
static __attribute__((noinline)) void string_io(struct vcpu *vcpu, const struct vm_exit *exit,
						uint16_t port, unsigned size, bool in, bool rep)
{
	uint64_t *regs = vcpu->gprs.regs;
	uint32_t info = vmcs_read(VM_EXIT_INSTRUCTION_INFO);
	unsigned addr_size = IO_INFO_ADDR_SIZE(info);
	uint64_t addr_mask = operand_mask(addr_size);
	/* INS always writes ES:[E/R]DI; OUTS reads seg:[E/R]SI, DS unless overridden. */
	unsigned segment = in ? 0 : IO_INFO_SEGMENT(info);
	unsigned index_reg = in ? GPR_RDI : GPR_RSI;
	bool long_mode = vcpu_guest_in_64bit_mode();
	uint64_t base = guest_segment_base(segment, long_mode);
	int64_t step = (vmcs_read(GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t count = rep ? regs[GPR_RCX] & addr_mask : 1;

	if (addr_size > 4 && !long_mode) {
		exit_fail_vm(vcpu, exit, "string I/O with a 64-bit address outside 64-bit mode");
		return;
	}
	for (unsigned done = 0; count && done < STRING_IO_BUDGET; done++) {
		uint64_t index = regs[index_reg] & addr_mask;
		uint64_t linear = base + index;
		uint32_t value = 0;
		struct guest_page_fault fault;
		int r;

		if (!long_mode)
			linear = (uint32_t)linear;
		if (in) {
			value = io_port_read(vcpu->vm, port, size);
			r = guest_write_linear(vcpu, linear, &value, size, &fault);
		} else {
			r = guest_read_linear(vcpu, linear, &value, size, GUEST_READ, &fault);
			if (r == 0)
				io_port_write(vcpu->vm, port, size, value);
		}
		if (r == -1) {
			/* RIP stays, the registers show the progress so far. */
			vcpu_inject_page_fault(vcpu, fault.linear, fault.error);
			return;
		}
		if (r == -2) {
			exit_fail_vm(vcpu, exit, "string I/O buffer at linear 0x%llx is not guest RAM",
				     (unsigned long long)linear);
			return;
		}
		write_sized_register(&regs[index_reg], index + (uint64_t)step, addr_size);
		count--;
		if (rep)
			write_sized_register(&regs[GPR_RCX], count, addr_size);
		if (vcpu->vm->ended)
			return;
	}
	if (!count)
		vcpu_skip_instruction(vcpu);
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
	vcpu_skip_instruction(vcpu);
}
