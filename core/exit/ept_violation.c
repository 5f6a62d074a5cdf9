/*
 * EPT violations (SDM Vol. 3C 29.3.3).  Only guest RAM is mapped, so a
 * violation is either an access to an emulated MMIO device, which is
 * emulated by decoding the instruction at the guest's RIP, or an access to
 * nothing, which ends the VM with one line naming the address and access.
 */
#include "decode/decode.h"
#include "dev/mmio.h"
#include "exit/cr.h"
#include "exit/exit.h"
#include "exit/operand.h"
#include "lib/format.h"
#include "lib/log.h"
#include "mm/guest_memory.h"
#include "mm/identity_map.h"
#include "mm/guest_paging.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "vcpu/events.h"

/* Exit qualification for EPT violations (SDM Vol. 3C 28.2.1, Table 28-7). */
#define EPT_QUAL_READ  (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)

/* REP MOVS/STOS iterations per exit; the guest re-executes for the rest. */
#define MMIO_STRING_BUDGET 4096

static const char *access_name(uint64_t q)
{
	if (q & EPT_QUAL_FETCH)
		return "instruction fetch";
	if (q & EPT_QUAL_WRITE)
		return "write";
	return "read";
}

/* The code segment's mode (SDM Vol. 3A 5.2.1): 64-bit with CS.L in IA-32e
 * mode, else CS.D picks 32- or 16-bit; real mode is 16-bit. */
static enum x86_mode guest_code_mode(void)
{
	uint32_t cs_ar = vmcs_read(GUEST_CS_AR_BYTES);
	if ((cs_ar & (1u << 13)) && (vmcs_read(GUEST_IA32_EFER) & EFER_LMA))
		return X86_MODE_64; /* as vcpu_guest_in_64bit_mode(), one VMREAD fewer */
	if (!(vmcs_read(GUEST_CR0) & CR0_PE))
		return X86_MODE_16;
	return (cs_ar & (1u << 14)) ? X86_MODE_32 : X86_MODE_16;
}

/* Where a memory operand points, as a guest linear address, given its
 * segment's base. */
static uint64_t operand_linear(struct vcpu *vcpu, const struct x86_mem_operand *mem,
			       uint64_t segment_base, uint64_t next_rip, enum x86_mode mode)
{
	uint64_t offset;

	/* RSP lives in the VMCS, not in gprs (an index is never RSP: SIB
	 * index 100 means none). */
	if (mem->base == GPR_RSP) {
		uint64_t regs[16];
		for (unsigned i = 0; i < 16; i++)
			regs[i] = i == GPR_RSP ? vmcs_read(GUEST_RSP) : vcpu->gprs.regs[i];
		offset = x86_mem_offset(mem, regs, next_rip);
	} else {
		offset = x86_mem_offset(mem, vcpu->gprs.regs, next_rip);
	}
	uint64_t linear = segment_base + offset;
	return mode == X86_MODE_64 ? linear : (uint32_t)linear;
}

/* Fetches up to 15 instruction bytes at CS:RIP, one guest page walk per page;
 * returns how many were readable (an instruction at the end of the last
 * mapped page still decodes when it is shorter than 15 bytes). */
static unsigned fetch_instruction(struct vcpu *vcpu, uint64_t rip, uint8_t *bytes,
				  enum x86_mode mode)
{
	uint64_t linear = mode == X86_MODE_64 ? rip : (uint32_t)(vmcs_read(GUEST_CS_BASE) + rip);

	return guest_fetch_linear(vcpu, linear, bytes, X86_MAX_INSN_LEN);
}

/* One access at a guest-physical address: RAM or an MMIO device. */
static bool physical_access(struct vcpu *vcpu, uint64_t gpa, unsigned size, bool write,
			    uint64_t *value)
{
	const struct mmio_region *region = mmio_find(vcpu, gpa, size);

	if (region) {
		if (write)
			mmio_write(vcpu, region, gpa, size, *value);
		else
			*value = mmio_read(vcpu, region, gpa, size);
		return true;
	}
	*value &= write ? ~0ULL : 0;
	return write ? guest_write(vcpu->vm, gpa, value, size) : guest_read(vcpu->vm, gpa, value, size);
}

/*
 * The last translation one operand of a string instruction used.  Within
 * one execution of the instruction (one exit) the page walk is done once
 * per page rather than once per iteration: the CPU, too, may use a
 * translation it cached in the TLB until the guest invalidates it (SDM Vol.
 * 3A 4.10.2), and the guest cannot invalidate anything between two
 * iterations that cvisor emulates.
 */
struct translation {
	bool valid;
	uint64_t linear_page, gpa_page;
};

/* One access at a guest linear address; false after injecting #PF or when
 * the address is neither RAM nor a device (*bad_gpa set). */
static bool linear_access(struct vcpu *vcpu, uint64_t linear, unsigned size, bool write,
			  uint64_t *value, struct translation *tlb, bool *faulted,
			  uint64_t *bad_gpa)
{
	uint64_t gpa;
	uint32_t error;

	*faulted = false;
	*bad_gpa = linear;
	if ((linear & 0xFFF) + size > 4096)
		return false; /* an access crossing a page is not emulated */
	if (tlb->valid && (linear & ~0xFFFULL) == tlb->linear_page) {
		gpa = tlb->gpa_page | (linear & 0xFFF);
	} else if (guest_translate(vcpu, linear, write ? GUEST_WRITE : GUEST_READ, &gpa, &error)) {
		tlb->valid = true;
		tlb->linear_page = linear & ~0xFFFULL;
		tlb->gpa_page = gpa & ~0xFFFULL;
	} else {
		vcpu_inject_page_fault(vcpu, linear, error);
		*faulted = true;
		return false;
	}
	*bad_gpa = gpa;
	return physical_access(vcpu, gpa, size, write, value);
}

/* Writes a MOV's destination register, AH-BH included; RSP (SP, ESP, SPL)
 * is the VMCS's GUEST_RSP, not gprs (vcpu.h). */
static void write_register(struct vcpu *vcpu, int reg, bool high_byte, unsigned size,
			   uint64_t value)
{
	if (reg == GPR_RSP) {
		uint64_t rsp = vmcs_read(GUEST_RSP);
		write_sized_register(&rsp, value, size);
		vmcs_write(GUEST_RSP, rsp);
		return;
	}
	uint64_t *r = &vcpu->gprs.regs[reg];
	if (high_byte)
		*r = (*r & ~0xFF00ULL) | (value & 0xFF) << 8;
	else
		write_sized_register(r, value, size);
}

/* A MOV's source register; size is at most 4 outside 64-bit mode (REX.W
 * exists only there), so the mask also drops the upper half there. */
static uint64_t read_register(struct vcpu *vcpu, int reg, bool high_byte, unsigned size)
{
	uint64_t v = reg == GPR_RSP ? vmcs_read(GUEST_RSP) : vcpu->gprs.regs[reg];
	return high_byte ? (v >> 8) & 0xFF : v & operand_mask(size);
}

static void emulate_string(struct vcpu *vcpu, const struct vm_exit *exit,
			   const struct x86_insn *insn, uint64_t next_rip, enum x86_mode mode)
{
	uint64_t *regs = vcpu->gprs.regs;
	unsigned asize = insn->mem.address_size;
	int64_t step = (vmcs_read(GUEST_RFLAGS) & (1u << 10)) ? -(int64_t)insn->mem_size
							       : (int64_t)insn->mem_size;
	uint64_t count = insn->rep ? regs[GPR_RCX] & operand_mask(asize) : 1;
	bool long_mode = mode == X86_MODE_64;
	uint64_t dst_base = guest_segment_base((unsigned)insn->mem.segment, long_mode);
	uint64_t src_base = insn->op == X86_OP_MOVS
				    ? guest_segment_base((unsigned)insn->src.segment, long_mode)
				    : 0;
	struct translation src_tlb = { .valid = false }, dst_tlb = { .valid = false };

	for (unsigned done = 0; count && done < MMIO_STRING_BUDGET; done++) {
		uint64_t value = regs[GPR_RAX] & operand_mask(insn->mem_size), bad;
		bool faulted;

		if (insn->op == X86_OP_MOVS &&
		    !linear_access(vcpu, operand_linear(vcpu, &insn->src, src_base, next_rip, mode),
				   insn->mem_size, false, &value, &src_tlb, &faulted, &bad))
			goto failed;
		if (!linear_access(vcpu, operand_linear(vcpu, &insn->mem, dst_base, next_rip, mode),
				   insn->mem_size, true, &value, &dst_tlb, &faulted, &bad))
			goto failed;
		write_sized_register(&regs[GPR_RDI], regs[GPR_RDI] + (uint64_t)step, asize);
		if (insn->op == X86_OP_MOVS)
			write_sized_register(&regs[GPR_RSI], regs[GPR_RSI] + (uint64_t)step, asize);
		count--;
		if (insn->rep)
			write_sized_register(&regs[GPR_RCX], count, asize);
		if (vcpu->vm->ended)
			return;
		continue;
failed:
		if (!faulted)
			exit_fail_vm(vcpu, exit,
				     "string MMIO touched guest-physical 0x%llx, which is neither RAM nor a device",
				     (unsigned long long)bad);
		return;
	}
	if (!count)
		vcpu_advance_rip(vcpu, next_rip);
}

static void emulate_mmio(struct vcpu *vcpu, const struct vm_exit *exit, uint64_t gpa,
			 const struct mmio_region *region)
{
	uint8_t bytes[X86_MAX_INSN_LEN];
	struct x86_insn insn;
	enum x86_mode mode = guest_code_mode();
	uint64_t rip = vmcs_read(GUEST_RIP);
	unsigned avail = fetch_instruction(vcpu, rip, bytes, mode);
	const char *refused = x86_decode(bytes, avail, mode, &insn);

	if (refused) {
		char hex[3 * X86_MAX_INSN_LEN + 1] = "";
		for (unsigned i = 0, n = 0; i < avail && i < 8; i++)
			n += fmt_snprintf(hex + n, sizeof(hex) - n, "%s%02x", i ? " " : "", bytes[i]);
		exit_fail_vm(vcpu, exit,
			     "%s access to %s at 0x%llx by an instruction cvisor does not emulate (%s; bytes %s)",
			     access_name(exit->qualification), region->name,
			     (unsigned long long)gpa, refused, hex);
		return;
	}
	uint64_t next_rip = rip + insn.length;
	if (mode != X86_MODE_64)
		next_rip = (uint32_t)next_rip;

	switch (insn.op) {
	case X86_OP_MOV_STORE: {
		uint64_t value = insn.has_immediate
					 ? insn.immediate
					 : read_register(vcpu, insn.reg, insn.reg_high_byte, insn.mem_size);
		mmio_write(vcpu, region, gpa, insn.mem_size, value & operand_mask(insn.mem_size));
		break;
	}
	case X86_OP_MOV_LOAD:
	case X86_OP_MOVZX:
	case X86_OP_MOVSX: {
		uint64_t value = mmio_read(vcpu, region, gpa, insn.mem_size) &
				 operand_mask(insn.mem_size);
		if (insn.op == X86_OP_MOVSX && (value >> (8 * insn.mem_size - 1)) & 1)
			value |= ~operand_mask(insn.mem_size);
		write_register(vcpu, insn.reg, insn.reg_high_byte, insn.reg_size, value);
		break;
	}
	case X86_OP_STOS:
	case X86_OP_MOVS:
		emulate_string(vcpu, exit, &insn, next_rip, mode);
		return;
	}
	vcpu_advance_rip(vcpu, next_rip);
}

void handle_ept_violation(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	const struct mmio_region *region = mmio_find(vcpu, gpa, 1);

	/* With valid IDT-vectoring information the access was the CPU's own,
	 * delivering an event (an exception frame pushed onto a stack in the
	 * device page, say; SDM Vol. 3C 28.2.4), not one by the instruction at
	 * RIP: decoding that instruction would emulate the wrong access, and
	 * re-delivering the event would exit again, forever. */
	uint32_t vectoring = region ? (uint32_t)vmcs_read(IDT_VECTORING_INFO) : 0;
	if (vectoring & (1u << 31)) {
		exit_fail_vm(vcpu, exit,
			     "%s to %s at 0x%llx while delivering vector %u: cvisor emulates only instructions' device accesses",
			     access_name(exit->qualification), region->name,
			     (unsigned long long)gpa, vectoring & 0xFF);
		return;
	}
	if (region && !(exit->qualification & EPT_QUAL_FETCH)) {
		emulate_mmio(vcpu, exit, gpa, region);
		return;
	}
	exit_fail_vm(vcpu, exit, "%s at guest-physical 0x%llx, which is neither RAM nor a device",
		     access_name(exit->qualification), (unsigned long long)gpa);
}

/* A misconfigured EPT entry is cvisor's own bug: say so and dump. */
void handle_ept_misconfig(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	exit_fail_vm(vcpu, exit, "EPT misconfiguration at guest-physical 0x%llx (a cvisor bug)",
		     (unsigned long long)gpa);
}

/*
 * The running OS under cvisor.ko writing cvisor's memory, which the
 * identity EPT maps read-only: the write is dropped (the instruction is
 * emulated with a sink for a destination) and reported once per exit.
 */
static uint64_t protected_read(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size)
{
	uint64_t value = 0;
	(void)state;
	guest_read(vcpu->vm, offset, &value, size);
	return value;
}

static void protected_write(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size,
			    uint64_t value)
{
	(void)state;
	(void)value;
	log_printf("cvisor: CPU %u: a %u-byte write to cvisor memory at 0x%llx from RIP 0x%llx "
		   "was refused\n",
		   vcpu->host_cpu, size, (unsigned long long)offset,
		   (unsigned long long)vmcs_read(GUEST_RIP));
}

/* Base 0: offsets are host-physical addresses. */
static const struct mmio_ops protected_memory_ops = { .read = protected_read, .write = protected_write };
static const struct mmio_region protected_memory = {
	.name = "cvisor memory", .base = 0, .size = ~0ULL, .ops = &protected_memory_ops,
};

/*
 * EPT violations of the hosted OS (SDM Vol. 3C 29.3.3.2): a write to
 * cvisor's pages (refused), or an access past the initial identity map
 * (MMIO above RAM, say), which gets mapped on demand.
 */
void handle_ept_violation_hosted_os(struct vcpu *vcpu, const struct vm_exit *exit)
{
	struct identity_map *map = vcpu->vm->identity;
	uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);

	if (identity_map_is_protected(map, gpa)) {
		if (exit->qualification & EPT_QUAL_FETCH)
			exit_fail_vm(vcpu, exit, "instruction fetch from cvisor memory at 0x%llx",
				     (unsigned long long)gpa);
		else
			emulate_mmio(vcpu, exit, gpa, &protected_memory);
		return;
	}
	/* Mapped RWX pages cannot violate; a page another CPU just mapped
	 * simply resumes. */
	if (identity_map_on_demand(map, gpa))
		return;
	exit_fail_vm(vcpu, exit, "%s at physical 0x%llx, which cvisor cannot map",
		     access_name(exit->qualification), (unsigned long long)gpa);
}
