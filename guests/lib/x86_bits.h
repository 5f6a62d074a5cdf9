/* Control-register and EFER bits the test guests set and check (SDM Vol. 3A 2.5, 2.2.1). */
#ifndef CVISOR_GUESTS_X86_BITS_H
#define CVISOR_GUESTS_X86_BITS_H

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)

#define CR4_PSE     (1u << 4)
#define CR4_PAE     (1u << 5)
#define CR4_VMXE    (1u << 13)
#define CR4_OSXSAVE (1u << 18)
#define CR4_PKE     (1u << 22)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#endif
