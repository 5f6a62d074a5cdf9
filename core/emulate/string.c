/*
 * The string loop: REP INS/OUTS (port I/O exits) and REP MOVS/STOS (MMIO
 * exits) element by element (SDM Vol. 2B INS, OUTS, MOVS, STOS, REP).
 */
#include "emulate/emulate.h"

#include "dev/mmio.h"
#include "dev/ports.h"
#include "emulate/operand.h"
#include "decode/decode.h"
#include "mm/guest_memory.h"
#include "mm/guest_paging.h"
#include "platform.h"
#include "vcpu/debug.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* At most this many elements per exit; the guest re-executes the
 * instruction for the rest (REP string instructions are restartable). */
#define STRING_BUDGET 4096

/* An address's offset in its 4 KiB page. */
static inline unsigned page_offset(uint64_t address)
{
	return (unsigned)(address & ~PAGE_MASK);
}

/*
 * One memory operand of the string instruction, with the last translation
 * it used.  Within one execution of the instruction (one exit) the page
 * walk is done once per page rather than once per element: the CPU, too,
 * may use a translation it cached in the TLB until the guest invalidates
 * it (SDM Vol. 3A 4.10.2), and the guest cannot invalidate anything
 * between two elements that cvisor emulates.
 */
struct string_memory {
	uint64_t segment_base;
	unsigned index_reg;      /* GPR_RSI or GPR_RDI */
	enum guest_access access;
	bool translated;
	uint64_t linear_page, gpa_page;
};

/* The guest-physical address of linear, from the operand's last
 * translation when on the same page; false after injecting the #PF. */
static bool translate(struct vcpu *vcpu, struct string_memory *m, uint64_t linear, uint64_t *gpa)
{
	uint64_t page = linear & PAGE_MASK;

	if (!m->translated || page != m->linear_page) {
		uint32_t pf_error;
		if (!guest_translate(vcpu, linear, m->access, gpa, &pf_error)) {
			vcpu_inject_page_fault(vcpu, linear, pf_error);
			return false;
		}
		m->translated = true;
		m->linear_page = page;
		m->gpa_page = *gpa & PAGE_MASK;
	}
	*gpa = m->gpa_page | page_offset(linear);
	return true;
}

static void region_access(struct vcpu *vcpu, const struct mmio_region *region, uint64_t gpa,
			  unsigned size, bool write, uint64_t *value)
{
	if (write)
		mmio_write(vcpu, region, gpa, size, *value & operand_mask(size));
	else
		*value = mmio_read(vcpu, region, gpa, size) & operand_mask(size);
}

/* One access at a guest-physical address (of guest linear address linear):
 * an MMIO device, RAM, or else the open bus (dev/open_bus.c); false when it
 * is none of these (strict_mem). */
static bool physical_access(struct vcpu *vcpu, uint64_t gpa, uint64_t linear, unsigned size,
			    bool write, uint64_t *value)
{
	const struct mmio_region *region = mmio_find(vcpu, gpa, size);

	if (region) {
		region_access(vcpu, region, gpa, size, write, value);
		return true;
	}
	if (!write)
		*value = 0; /* guest_read fills only size bytes */
	/* Protected RAM (vm/protect.h): what the guest may not do itself, cvisor
	 * does not do for it; a refused element is dropped (reads give 0). */
	if (!protect_emulated_access(vcpu, gpa, linear, size, write))
		return true;
	if (write ? guest_write(vcpu->vm, gpa, value, size) : guest_read(vcpu->vm, gpa, value, size))
		return true;
	if (!(region = mmio_open_bus(vcpu)))
		return false;
	region_access(vcpu, region, gpa, size, write, value);
	return true;
}

/*
 * Reads or writes one element of `size` bytes at linear.  An element that
 * crosses a page boundary is two accesses, one per page, each page
 * translated before either is accessed, so a #PF leaves the element
 * undone.  Returns EMULATE_DONE, EMULATE_RESTART after injecting the #PF,
 * or EMULATE_NOT_MEMORY.
 */
static enum emulate_result memory_element(struct vcpu *vcpu, struct string_memory *m,
					  uint64_t linear, unsigned size, bool long_mode,
					  uint64_t *value, struct emulate_failure *failure)
{
	unsigned first = (unsigned)PAGE_SIZE - page_offset(linear); /* bytes on the first page */
	uint64_t gpa[2], part_linear[2] = { linear, 0 };

	if (first > size)
		first = size;
	if (!translate(vcpu, m, linear, &gpa[0]))
		return EMULATE_RESTART;
	if (first < size) {
		/* Outside 64-bit mode linear addresses wrap at 4 GiB. */
		uint64_t second = long_mode ? linear + first : (uint32_t)(linear + first);
		if (!translate(vcpu, m, second, &gpa[1]))
			return EMULATE_RESTART;
		part_linear[1] = second;
	}
	/* Little-endian: the first page holds the low bytes. */
	bool write = m->access == GUEST_WRITE;
	uint64_t whole = 0;
	for (unsigned part = 0, done = 0; done < size; part++) {
		unsigned n = part == 0 ? first : size - first;
		uint64_t v = write ? *value >> (8 * done) : 0;
		if (!physical_access(vcpu, gpa[part], part_linear[part], n, write, &v)) {
			failure->linear = linear;
			failure->gpa = gpa[part];
			return EMULATE_NOT_MEMORY;
		}
		whole |= v << (8 * done);
		done += n;
	}
	if (!write)
		*value = whole;
	return EMULATE_DONE;
}

/* Where the operand's next element is: segment base + rSI/rDI at the
 * address size, wrapped at 4 GiB outside 64-bit mode (SDM Vol. 3A 3.4). */
static uint64_t element_linear(const struct string_memory *m, const uint64_t *regs,
			       uint64_t address_mask, bool long_mode)
{
	uint64_t linear = m->segment_base + (regs[m->index_reg] & address_mask);
	return long_mode ? linear : (uint32_t)linear;
}

enum emulate_result emulate_string(struct vcpu *vcpu, const struct string_insn *insn,
				   struct emulate_failure *failure)
{
	uint64_t *regs = vcpu->gprs.regs;
	unsigned size = insn->element_size, address_size = insn->address_size;
	uint64_t address_mask = operand_mask(address_size);
	bool long_mode = vcpu_guest_in_64bit_mode();

	if (address_size > 4 && !long_mode)
		return EMULATE_BAD_ADDRESS_SIZE; /* 64-bit addressing exists only in 64-bit mode */

	/* RFLAGS.DF set: rSI and rDI count down (SDM Vol. 1 3.4.3.3). */
	int64_t step = (vmcs_read(GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t count = insn->rep ? regs[GPR_RCX] & address_mask : 1;
	struct string_memory source = {
		.index_reg = GPR_RSI, .access = GUEST_READ,
		.segment_base = insn->source == STRING_MEMORY
					? guest_segment_base(insn->source_segment, long_mode) : 0,
	};
	struct string_memory destination = {
		.index_reg = GPR_RDI, .access = GUEST_WRITE,
		.segment_base = insn->destination == STRING_MEMORY
					? guest_segment_base(X86_SEG_ES, long_mode) : 0,
	};

	/* With RFLAGS.TF each iteration traps (below). */
	bool single_step = vcpu_single_stepping();

	for (unsigned done = 0; count && done < STRING_BUDGET; done++) {
		uint64_t value, linear;
		enum emulate_result r;
		bool breakpoint = false;

		if (insn->source == STRING_PORT) {
			value = io_port_read(vcpu->vm, insn->port, size);
			breakpoint |= vcpu_check_breakpoints(vcpu, BREAKPOINT_IO, insn->port, size);
		} else if (insn->source == STRING_ACCUMULATOR) {
			value = regs[GPR_RAX] & operand_mask(size);
		} else {
			linear = element_linear(&source, regs, address_mask, long_mode);
			r = memory_element(vcpu, &source, linear, size, long_mode, &value, failure);
			if (r != EMULATE_DONE)
				return r;
			breakpoint |= vcpu_check_breakpoints(vcpu, BREAKPOINT_READ, linear, size);
		}
		if (insn->destination == STRING_PORT) {
			io_port_write(vcpu->vm, insn->port, size, (uint32_t)value);
			breakpoint |= vcpu_check_breakpoints(vcpu, BREAKPOINT_IO, insn->port, size);
		} else {
			linear = element_linear(&destination, regs, address_mask, long_mode);
			r = memory_element(vcpu, &destination, linear, size, long_mode, &value, failure);
			if (r != EMULATE_DONE)
				return r;
			breakpoint |= vcpu_check_breakpoints(vcpu, BREAKPOINT_WRITE, linear, size);
		}
		/* The element is done: the registers show it. */
		if (insn->source == STRING_MEMORY)
			write_sized_register(&regs[GPR_RSI], regs[GPR_RSI] + (uint64_t)step,
					     address_size);
		if (insn->destination == STRING_MEMORY)
			write_sized_register(&regs[GPR_RDI], regs[GPR_RDI] + (uint64_t)step,
					     address_size);
		count--;
		if (insn->rep)
			write_sized_register(&regs[GPR_RCX], count, address_size);
		if (vcpu->vm->ended)
			return EMULATE_RESTART;
		/* A repeated string instruction takes traps (single-step, data
		 * and I/O breakpoints) after the iteration that raised them, with
		 * RIP at the instruction while rCX is not exhausted, so that it
		 * resumes (SDM Vol. 3B 18.3.1.2, 18.3.1.4; Vol. 2B REP). */
		if (breakpoint || single_step)
			break;
	}
	if (count) {
		if (single_step)
			vcpu_single_step_trap(vcpu);
		return EMULATE_RESTART;
	}
	vcpu_advance_rip(vcpu, insn->next_rip);
	return EMULATE_DONE;
}
