/*
 * Keeps a pattern in its SIMD registers while other VMs share its CPU:
 * XMM0-XMM7 always (SSE, which a guest uses with CR4.OSFXSR whatever its
 * XCR0), and the upper halves of YMM0-YMM7 too when CPUID offers AVX (it
 * then sets CR4.OSXSAVE and XCR0 = x87|SSE|AVX, SDM Vol. 1 13.3).  It spins
 * across several time slices, then reads the registers back: cvisor must
 * have saved and restored them at every switch (SDM Vol. 1 13.7-13.8).
 * Where CPUID offers PKU it also sets CR4.PKE and a PKRU of its own, with
 * XCR0 left without the PKRU component: cvisor must switch PKRU whatever
 * the guest's XCR0 (13.5.7).  Two instances with different names use
 * different patterns.
 */
#include "guest.h"

#define SPIN_ITERATIONS 6000000u
#define CR4_OSFXSR  (1u << 9)
#define CR4_OSXSAVE (1u << 18)
#define CR4_PKE     (1u << 22)
#define CPUID7_ECX_PKU (1u << 3)

static uint8_t pattern[8][32] __attribute__((aligned(32)));
static uint8_t readback[8][32] __attribute__((aligned(32)));

static uint32_t read_cr4(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v));
}

/* No clobbers: guests build with -mgeneral-regs-only, so the compiler never
 * uses these registers itself. */
#define LOAD_XMM(n) __asm__ volatile("movdqu %0, %%xmm" #n ::"m"(pattern[n]))
#define SAVE_XMM(n) __asm__ volatile("movdqu %%xmm" #n ", %0" : "=m"(readback[n]))
#define LOAD_YMM(n) __asm__ volatile("vmovdqu %0, %%ymm" #n ::"m"(pattern[n]))
#define SAVE_YMM(n) __asm__ volatile("vmovdqu %%ymm" #n ", %0" : "=m"(readback[n]))

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	const char *name = (const char *)(uintptr_t)info->cmdline;
	uint8_t seed = 0;
	for (const char *p = name; *p && *p != ' '; p++)
		seed = (uint8_t)(seed * 31 + (uint8_t)*p);
	for (unsigned r = 0; r < 8; r++)
		for (unsigned b = 0; b < 32; b++)
			pattern[r][b] = (uint8_t)(seed + r * 32 + b * 7);

	bool avx = guest_cpuid(1, 0).ecx & (1u << 28);
	bool xsave = guest_cpuid(1, 0).ecx & (1u << 26);
	write_cr4(read_cr4() | CR4_OSFXSR | (avx && xsave ? CR4_OSXSAVE : 0));
	if (avx && xsave) {
		/* XCR0 = x87 | SSE | AVX. */
		__asm__ volatile("xsetbv" ::"c"(0), "a"(7), "d"(0));
		LOAD_YMM(0); LOAD_YMM(1); LOAD_YMM(2); LOAD_YMM(3);
		LOAD_YMM(4); LOAD_YMM(5); LOAD_YMM(6); LOAD_YMM(7);
	} else {
		LOAD_XMM(0); LOAD_XMM(1); LOAD_XMM(2); LOAD_XMM(3);
		LOAD_XMM(4); LOAD_XMM(5); LOAD_XMM(6); LOAD_XMM(7);
	}
	bool pku = guest_cpuid(7, 0).ecx & CPUID7_ECX_PKU;
	uint32_t pkru = 0x50000000u | (uint32_t)seed << 8 | 0x0C; /* not key 0's rights */
	if (pku) {
		write_cr4(read_cr4() | CR4_PKE);
		guest_wrpkru(pkru);
	}
	say("simd: pattern %u in %s0-7, spinning for %u iterations", seed, avx && xsave ? "YMM" : "XMM",
	    SPIN_ITERATIONS);
	volatile uint32_t counter = 0;
	for (uint32_t i = 0; i < SPIN_ITERATIONS; i++)
		counter = counter + 1;
	if (avx && xsave) {
		SAVE_YMM(0); SAVE_YMM(1); SAVE_YMM(2); SAVE_YMM(3);
		SAVE_YMM(4); SAVE_YMM(5); SAVE_YMM(6); SAVE_YMM(7);
	} else {
		SAVE_XMM(0); SAVE_XMM(1); SAVE_XMM(2); SAVE_XMM(3);
		SAVE_XMM(4); SAVE_XMM(5); SAVE_XMM(6); SAVE_XMM(7);
	}
	unsigned bytes = avx && xsave ? 32 : 16, wrong = 0;
	for (unsigned r = 0; r < 8; r++)
		for (unsigned b = 0; b < bytes; b++)
			wrong += readback[r][b] != pattern[r][b];
	check(wrong == 0, avx && xsave ? "YMM0-7 kept their pattern across time slices"
				       : "XMM0-7 kept their pattern across time slices");
	if (pku)
		check(guest_rdpkru() == pkru, "PKRU kept its value across time slices (XCR0 without PKRU)");
	return (int)failures();
}
