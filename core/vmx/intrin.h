/*
 * The one header of x86 and VMX instruction intrinsics.  Every inline asm in
 * cvisor's C code lives here, as one small static inline per instruction.
 *
 * Host unit tests build the core with CVISOR_FAKE_CPU defined; the same names
 * then come from tests/unit/fake_cpu.h, a software CPU with a software VMCS.
 */
#ifndef CVISOR_VMX_INTRIN_H
#define CVISOR_VMX_INTRIN_H

#include "x86.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

/*
 * Outcome of a VMX instruction (SDM Vol. 3C 31.2 "Conventions"):
 * VMsucceed clears CF and ZF, VMfailInvalid sets CF (no current VMCS),
 * VMfailValid sets ZF (the error number is in VM_INSTRUCTION_ERROR).
 */
enum vmx_insn_result {
	VMX_SUCCEED = 0,
	VMX_FAIL_INVALID = 1,
	VMX_FAIL_VALID = 2,
};


static inline enum vmx_insn_result vmx_result_from_rflags(uint64_t rflags)
{
	if (rflags & RFLAGS_CF)
		return VMX_FAIL_INVALID;
	if (rflags & RFLAGS_ZF)
		return VMX_FAIL_VALID;
	return VMX_SUCCEED;
}

#ifdef CVISOR_FAKE_CPU
#include "fake_cpu.h"
#else

static inline void cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
	__asm__ volatile("cpuid"
			 : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
			 : "a"(leaf), "c"(subleaf));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value),
			 "d"((uint32_t)(value >> 32))
			 : "memory");
}

#define DEFINE_READ_CR(n)                                                  \
	static inline uint64_t read_cr##n(void)                            \
	{                                                                  \
		uint64_t v;                                                \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                                  \
	}
#define DEFINE_WRITE_CR(n)                                                 \
	static inline void write_cr##n(uint64_t v)                         \
	{                                                                  \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");   \
	}
DEFINE_READ_CR(0)
DEFINE_READ_CR(2)
DEFINE_READ_CR(3)
DEFINE_READ_CR(4)
DEFINE_WRITE_CR(0)
DEFINE_WRITE_CR(3)
DEFINE_WRITE_CR(4)

static inline uint64_t read_dr7(void)
{
	uint64_t v;
	__asm__ volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

static inline void write_dr7(uint64_t v)
{
	__asm__ volatile("mov %0, %%dr7" ::"r"(v));
}

/* DR0-DR3 and DR6, which the VMCS does not switch (SDM Vol. 3B 18.2). */
static inline void read_debug_registers(uint64_t dr[4], uint64_t *dr6)
{
	__asm__ volatile("mov %%dr0, %0" : "=r"(dr[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(dr[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(dr[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(dr[3]));
	__asm__ volatile("mov %%dr6, %0" : "=r"(*dr6));
}

static inline void write_debug_registers(const uint64_t dr[4], uint64_t dr6)
{
	__asm__ volatile("mov %0, %%dr0" ::"r"(dr[0]));
	__asm__ volatile("mov %0, %%dr1" ::"r"(dr[1]));
	__asm__ volatile("mov %0, %%dr2" ::"r"(dr[2]));
	__asm__ volatile("mov %0, %%dr3" ::"r"(dr[3]));
	__asm__ volatile("mov %0, %%dr6" ::"r"(dr6));
}

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

#define DEFINE_READ_SEG(seg)                                               \
	static inline uint16_t read_##seg(void)                            \
	{                                                                  \
		uint16_t v;                                                \
		__asm__ volatile("mov %%" #seg ", %0" : "=r"(v));          \
		return v;                                                  \
	}
DEFINE_READ_SEG(cs)
DEFINE_READ_SEG(ds)
DEFINE_READ_SEG(es)
DEFINE_READ_SEG(ss)
DEFINE_READ_SEG(fs)
DEFINE_READ_SEG(gs)

static inline uint16_t read_tr(void)
{
	uint16_t v;
	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

static inline uint16_t read_ldtr(void)
{
	uint16_t v;
	__asm__ volatile("sldt %0" : "=r"(v));
	return v;
}

static inline void read_gdtr(struct desc_ptr *d)
{
	__asm__ volatile("sgdt %0" : "=m"(*d));
}

static inline void read_idtr(struct desc_ptr *d)
{
	__asm__ volatile("sidt %0" : "=m"(*d));
}

static inline void load_gdtr(const struct desc_ptr *d)
{
	__asm__ volatile("lgdt %0" ::"m"(*d) : "memory");
}

static inline void load_idtr(const struct desc_ptr *d)
{
	__asm__ volatile("lidt %0" ::"m"(*d) : "memory");
}

static inline void load_tr(uint16_t sel)
{
	__asm__ volatile("ltr %0" ::"r"(sel) : "memory");
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_halt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/*
 * Sleeps until an interrupt, takes it, and returns with interrupts held
 * again.  STI delays interrupts until after the next instruction (SDM Vol.
 * 2B STI), so one already pending, or arriving between the two, wakes the
 * HLT instead of being taken before it and missed.  For the bare-metal
 * platform's plat_idle_until only (the fake CPU has no such instruction:
 * the core sleeps through plat_idle_until).
 */
static inline void cpu_sleep_until_interrupt(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}

static inline void wbinvd(void)
{
	__asm__ volatile("wbinvd" ::: "memory");
}

/* Invalidates this CPU's TLB entries (and paging-structure caches) for the
 * page of linear address, in the current PCID (SDM Vol. 3A 4.10.4.1). */
static inline void invlpg(const void *linear)
{
	__asm__ volatile("invlpg (%0)" ::"r"(linear) : "memory");
}

static inline uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv(uint32_t xcr, uint64_t value)
{
	__asm__ volatile("xsetbv" ::"c"(xcr), "a"((uint32_t)value),
			 "d"((uint32_t)(value >> 32))
			 : "memory");
}

static inline void write_cr2(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr2" ::"r"(v) : "memory");
}

/* Saves / restores x87, MMX and SSE state (512-byte, 16-byte aligned area). */
static inline void fxsave(void *area)
{
	__asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

static inline void fxrstor(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

/*
 * XSAVE / XRSTOR of the state components in mask (and in XCR0): the
 * standard (non-compacted) layout in a 64-byte aligned area (SDM Vol. 1
 * 13.4, 13.7, 13.8).
 */
static inline void xsave(void *area, uint64_t mask)
{
	__asm__ volatile("xsave64 (%0)" ::"r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
			 : "memory");
}

static inline void xrstor(const void *area, uint64_t mask)
{
	__asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
			 : "memory");
}

/* Fills len bytes at dst with value (REP STOSB: fast-string operation,
 * SDM Vol. 1 7.3.9.3; also much faster than a loop under emulation). */
static inline void rep_stosb(void *dst, uint8_t value, size_t len)
{
	__asm__ volatile("cld; rep stosb"
			 : "+D"(dst), "+c"(len)
			 : "a"(value)
			 : "memory", "cc");
}

/* REP STOSQ: count 8-byte words of value at dst. */
static inline void rep_stosq(void *dst, uint64_t value, size_t count)
{
	__asm__ volatile("cld; rep stosq"
			 : "+D"(dst), "+c"(count)
			 : "a"(value)
			 : "memory", "cc");
}

/* Reads the 32- or 64-bit value at offset in the GS segment (per-CPU data
 * of the bare-metal platform: IA32_GS_BASE points at it). */
static inline uint32_t gs_read32(uint64_t offset)
{
	uint32_t v;
	__asm__ volatile("movl %%gs:(%1), %0" : "=r"(v) : "r"(offset));
	return v;
}

static inline uint64_t gs_read64(uint64_t offset)
{
	uint64_t v;
	__asm__ volatile("movq %%gs:(%1), %0" : "=r"(v) : "r"(offset));
	return v;
}

/* Bochs "magic breakpoint": a no-op on real CPUs. */
static inline void bochs_magic_break(void)
{
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory");
}

/* VMX instructions (SDM Vol. 3C chapter 31).  Each returns how it ended. */

static inline enum vmx_insn_result vmxon(uint64_t region_pa)
{
	uint64_t fl;
	__asm__ volatile("vmxon %1; pushfq; popq %0"
			 : "=r"(fl)
			 : "m"(region_pa)
			 : "cc", "memory");
	return vmx_result_from_rflags(fl);
}

static inline enum vmx_insn_result vmxoff(void)
{
	uint64_t fl;
	__asm__ volatile("vmxoff; pushfq; popq %0" : "=r"(fl)::"cc", "memory");
	return vmx_result_from_rflags(fl);
}

static inline enum vmx_insn_result vmclear(uint64_t vmcs_pa)
{
	uint64_t fl;
	__asm__ volatile("vmclear %1; pushfq; popq %0"
			 : "=r"(fl)
			 : "m"(vmcs_pa)
			 : "cc", "memory");
	return vmx_result_from_rflags(fl);
}

static inline enum vmx_insn_result vmptrld(uint64_t vmcs_pa)
{
	uint64_t fl;
	__asm__ volatile("vmptrld %1; pushfq; popq %0"
			 : "=r"(fl)
			 : "m"(vmcs_pa)
			 : "cc", "memory");
	return vmx_result_from_rflags(fl);
}

/*
 * VMREAD/VMWRITE sit on every exit path: the outcome is one branch on the
 * flags (JBE: CF is VMfailInvalid, ZF is VMfailValid; SDM Vol. 3C 31.2), no
 * PUSHF.  Which failure it was is worked out afterwards, off the fast path:
 * VMfailValid leaves a current VMCS whose VM-instruction error field reads
 * back (SDM Vol. 3C 31.4); after VMfailInvalid there is no current VMCS, so
 * that read fails too.
 */
static inline enum vmx_insn_result vmx_failure_kind(void)
{
	uint64_t err, fl;
	__asm__ volatile("vmread %2, %0; pushfq; popq %1"
			 : "=r"(err), "=r"(fl)
			 : "r"((uint64_t)0x4400) /* VM_INSTRUCTION_ERROR */
			 : "cc");
	(void)err;
	return vmx_result_from_rflags(fl) == VMX_SUCCEED ? VMX_FAIL_VALID : VMX_FAIL_INVALID;
}

/*
 * VMREAD succeeds with CF = ZF = 0 (SDM Vol. 3C 31.2, "VMsucceed"): the
 * "above" condition, taken as a flag output.  Not `asm goto` with an
 * output operand: GCC up to 13 may drop the output on the fall-through
 * path (GCC bug 113921; a 64-bit guest's next RIP was computed from a
 * zeroed register in one build).
 */
static inline enum vmx_insn_result vmread(uint32_t encoding, uint64_t *value)
{
	uint64_t v;
	bool succeeded;

	__asm__ volatile("vmread %2, %0"
			 : "=r"(v), "=@cca"(succeeded)
			 : "r"((uint64_t)encoding)
			 : "cc");
	if (__builtin_expect(!succeeded, 0))
		return vmx_failure_kind();
	*value = v;
	return VMX_SUCCEED;
}

static inline enum vmx_insn_result vmwrite(uint32_t encoding, uint64_t value)
{
	__asm__ goto("vmwrite %0, %1\n\tjbe %l[failed]"
		     :
		     : "r"(value), "r"((uint64_t)encoding)
		     : "cc", "memory"
		     : failed);
	return VMX_SUCCEED;
failed:
	return vmx_failure_kind();
}

/* INVEPT / INVVPID descriptors: SDM Vol. 3C 31.3 (instruction reference). */
static inline enum vmx_insn_result invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} desc = { eptp, 0 };
	uint64_t fl;
	__asm__ volatile("invept %1, %2; pushfq; popq %0"
			 : "=r"(fl)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	return vmx_result_from_rflags(fl);
}

static inline enum vmx_insn_result invvpid(uint64_t type, uint16_t vpid,
					   uint64_t linear)
{
	struct {
		uint64_t vpid, linear;
	} desc = { vpid, linear };
	uint64_t fl;
	__asm__ volatile("invvpid %1, %2; pushfq; popq %0"
			 : "=r"(fl)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	return vmx_result_from_rflags(fl);
}

#endif /* CVISOR_FAKE_CPU */
#endif
