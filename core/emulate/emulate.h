/*
 * Instruction emulation for the exit handlers (core/exit/): the string
 * loop that REP INS/OUTS (port I/O exits) and REP MOVS/STOS (MMIO) share
 * (string.c), and the MMIO instructions fetched and decoded at the guest's
 * RIP (mmio.c).  Above vcpu/, mm/, dev/ and decode/, below exit/: these
 * functions never end a VM themselves, they say why they stopped and the
 * exit handler reports it.
 */
#ifndef CVISOR_EMULATE_EMULATE_H
#define CVISOR_EMULATE_EMULATE_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct mmio_region;

enum emulate_result {
	/* The instruction completed: RIP is past it. */
	EMULATE_DONE,
	/* RIP stays at the instruction, which the guest executes again: a
	 * REP instruction with a count left after the per-exit budget (REP
	 * string instructions are restartable, the registers show the
	 * progress, SDM Vol. 2B REP), a #PF injected for an element, or the
	 * VM ended by a device. */
	EMULATE_RESTART,
	/* Not an instruction cvisor emulates: emulate_failure.refused. */
	EMULATE_UNSUPPORTED,
	/* An element is neither guest RAM nor a device: emulate_failure.linear
	 * and .gpa. */
	EMULATE_NOT_MEMORY,
	/* A 64-bit address size outside 64-bit mode (a malformed exit). */
	EMULATE_BAD_ADDRESS_SIZE,
};

/* Why an emulation stopped, for the handler's report. */
struct emulate_failure {
	const char *refused;      /* EMULATE_UNSUPPORTED: the decoder's reason */
	uint8_t bytes[8];         /* EMULATE_UNSUPPORTED: the first bytes at RIP */
	unsigned byte_count;      /* how many of them could be fetched */
	uint64_t linear, gpa;     /* EMULATE_NOT_MEMORY: the element's linear
				     address and the guest-physical address
				     that is neither RAM nor a device */
};

/* Where a string instruction's elements come from and go to. */
enum string_end {
	STRING_PORT,        /* an I/O port: INS source, OUTS destination */
	STRING_MEMORY,      /* seg:rSI as source (DS unless overridden),
			       ES:rDI as destination (SDM Vol. 2B MOVS) */
	STRING_ACCUMULATOR, /* AL, AX, EAX or RAX: the STOS source */
};

struct string_insn {
	enum string_end source;      /* STRING_PORT, STRING_MEMORY or STRING_ACCUMULATOR */
	enum string_end destination; /* STRING_PORT or STRING_MEMORY */
	unsigned source_segment;     /* enum x86_seg of a memory source */
	uint16_t port;               /* for STRING_PORT */
	unsigned element_size;       /* 1, 2, 4 or 8 bytes */
	unsigned address_size;       /* 2, 4 or 8: the width of rSI, rDI and rCX */
	bool rep;                    /* repeat rCX times */
	uint64_t next_rip;           /* RIP once the instruction completes */
};

/*
 * Runs a string instruction: each element from its source to its
 * destination, rSI/rDI stepped by the element size (back with RFLAGS.DF),
 * with REP rCX times (rCX masked to the address size), at most 4096
 * elements per exit.  A memory element goes to guest RAM or to an MMIO
 * device, split in two at a page boundary; each operand's page is walked
 * once per page within the exit.  A #PF is injected with RIP unchanged.
 */
enum emulate_result emulate_string(struct vcpu *vcpu, const struct string_insn *insn,
				   struct emulate_failure *failure);

/* emulate_mmio's linear when the exit gave none. */
#define EMULATE_NO_LINEAR (~0ULL)
/* emulate_mmio's linear when the exit gave none but the access is the
 * instruction's memory operand (an APIC-access exit, SDM Vol. 3C 28.2.1):
 * computed from the decoded operand. */
#define EMULATE_LINEAR_OF_OPERAND (~0ULL - 1)

/*
 * Emulates the instruction at the guest's CS:RIP that accessed the device
 * region at guest-physical gpa (an EPT violation): MOV loads and stores,
 * MOVZX, MOVSX (the MOV forms, on the region itself), and REP MOVS/STOS
 * (through emulate_string).  linear is the access's linear address, which
 * data breakpoints are checked against (EMULATE_NO_LINEAR: none known).
 */
enum emulate_result emulate_mmio(struct vcpu *vcpu, uint64_t gpa, uint64_t linear,
				 const struct mmio_region *region, struct emulate_failure *failure);

#endif
