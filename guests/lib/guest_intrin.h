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

#endif
