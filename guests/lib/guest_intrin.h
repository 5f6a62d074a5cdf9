/* The instructions test guests use, one static inline each. */
#ifndef GUEST_INTRIN_H
#define GUEST_INTRIN_H

#include <stdint.h>

struct guest_cpuid {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct guest_cpuid guest_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct guest_cpuid r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

/* PKRU (SDM Vol. 3A 4.6.2): WRPKRU and RDPKRU need CR4.PKE, ECX = 0 and,
 * for WRPKRU, EDX = 0. */
static inline void guest_wrpkru(uint32_t value)
{
	__asm__ volatile("wrpkru" ::"a"(value), "c"(0), "d"(0) : "memory");
}

static inline uint32_t guest_rdpkru(void)
{
	uint32_t value, edx;
	__asm__ volatile("rdpkru" : "=a"(value), "=d"(edx) : "c"(0));
	return value;
}

/* VMCALL with the cvisor ABI: number in EAX, arguments in EBX, ECX, EDX, ESI. */
static inline int32_t guest_vmcall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3,
				   uint32_t a4)
{
	uint32_t ret;
	__asm__ volatile("vmcall"
			 : "=a"(ret), "+b"(a1), "+c"(a2), "+d"(a3), "+S"(a4)
			 : "a"(nr)
			 : "memory");
	return (int32_t)ret;
}

static inline void guest_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void guest_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint8_t guest_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t guest_inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void guest_invd(void)
{
	__asm__ volatile("invd" ::: "memory");
}

/* Takes pending interrupts, sleeping until one arrives: interrupts are
 * on only across the HLT (STI's shadow covers HLT, so none is lost). */
static inline void guest_sleep_with_interrupts(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* Lets pending interrupts in for one instruction. */
static inline void guest_take_pending_interrupts(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

static inline void guest_hlt(void)
{
	__asm__ volatile("cli; hlt" ::: "memory");
}

static inline void guest_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

/* OUT imm8, AL: PORT must be a constant below 0x100 (the "N" constraint). */
#define guest_outb_imm(port, v) __asm__ volatile("outb %%al, %0" ::"N"(port), "a"((uint8_t)(v)))

/* IN AL, DX / IN AX, DX applied to a whole EAX: the instruction writes only
 * AL or AX and keeps the rest of EAX (SDM Vol. 1 3.4.1.1). */
static inline uint32_t guest_inb_into(uint16_t port, uint32_t eax)
{
	__asm__ volatile("inb %1, %%al" : "+a"(eax) : "Nd"(port));
	return eax;
}

static inline uint32_t guest_inw_into(uint16_t port, uint32_t eax)
{
	__asm__ volatile("inw %1, %%ax" : "+a"(eax) : "Nd"(port));
	return eax;
}

/* String port I/O (SDM Vol. 2B OUTS, INS).  The pointers and the count are
 * updated as the CPU leaves ESI/EDI and ECX; DF is clear (C ABI). */
struct guest_string_io {
	uintptr_t esi_or_edi;
	uint32_t ecx;
};

static inline struct guest_string_io guest_rep_outsb(uint16_t port, const void *buf, uint32_t n)
{
	struct guest_string_io r = { (uintptr_t)buf, n };
	__asm__ volatile("rep outsb" : "+S"(r.esi_or_edi), "+c"(r.ecx) : "d"(port) : "memory");
	return r;
}

/* One OUTSB without REP: ECX is not used, only ESI moves. */
static inline struct guest_string_io guest_outsb(uint16_t port, const void *buf, uint32_t ecx)
{
	struct guest_string_io r = { (uintptr_t)buf, ecx };
	__asm__ volatile("outsb" : "+S"(r.esi_or_edi), "+c"(r.ecx) : "d"(port) : "memory");
	return r;
}

static inline struct guest_string_io guest_rep_insb(uint16_t port, void *buf, uint32_t n)
{
	struct guest_string_io r = { (uintptr_t)buf, n };
	__asm__ volatile("rep insb" : "+D"(r.esi_or_edi), "+c"(r.ecx) : "d"(port) : "memory");
	return r;
}

static inline uint32_t guest_read_cr0(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint32_t guest_read_cr3(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void guest_write_cr3(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static inline uint32_t guest_read_cr4(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline uint64_t guest_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint32_t guest_read_dr6(void)
{
	uint32_t v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void guest_write_dr6(uint32_t v)
{
	__asm__ volatile("mov %0, %%dr6" ::"r"(v));
}

/* DR0-DR3 and DR7 (SDM Vol. 3B 18.2). */
static inline void guest_write_dr7(uint32_t v)
{
	__asm__ volatile("mov %0, %%dr7" ::"r"(v));
}

static inline void guest_write_dr(unsigned n, uint32_t v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" ::"r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" ::"r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" ::"r"(v)); break;
	default: __asm__ volatile("mov %0, %%dr3" ::"r"(v)); break;
	}
}

/* LIDT with an explicit base and limit. */
static inline void guest_lidt(uint32_t base, uint16_t limit)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idtr = { limit, base };
	__asm__ volatile("lidt %0" ::"m"(idtr) : "memory");
}

static inline void guest_int3(void)
{
	__asm__ volatile("int3" ::: "memory");
}

/* MWAIT with hints in EAX and extensions in ECX (SDM Vol. 2B MWAIT). */
static inline void guest_mwait(uint32_t hints, uint32_t extensions)
{
	__asm__ volatile("mwait" ::"a"(hints), "c"(extensions) : "memory");
}

static inline void guest_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void guest_irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void guest_irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Disables interrupts and returns the previous EFLAGS. */
static inline uint32_t guest_irq_save(void)
{
	uint32_t flags;
	__asm__ volatile("pushf; pop %0; cli" : "=r"(flags)::"memory");
	return flags;
}

static inline void guest_irq_restore(uint32_t flags)
{
	__asm__ volatile("push %0; popf" ::"r"(flags) : "memory", "cc");
}

/* VMCALL with regs[] = EAX, EBX, ECX, EDX, ESI in and out. */
static inline void guest_vmcall_regs(uint32_t regs[5])
{
	__asm__ volatile("vmcall"
			 : "+a"(regs[0]), "+b"(regs[1]), "+c"(regs[2]), "+d"(regs[3]), "+S"(regs[4])
			 :
			 : "memory");
}

struct __attribute__((packed)) guest_desc_ptr {
	uint16_t limit;
	uint32_t base;
};

static inline void guest_sgdt(struct guest_desc_ptr *d)
{
	__asm__ volatile("sgdt %0" : "=m"(*d));
}

#endif
