/* The CPUID leaves cvisor adds (documented in docs/hypercalls.md). */
#ifndef CVISOR_ABI_CPUID_H
#define CVISOR_ABI_CPUID_H

/* Leaf 0x40000000: EAX = highest cvisor leaf, EBX:ECX:EDX = "cvisor\0\0\0\0\0\0". */
#define CVISOR_CPUID_BASE      0x40000000u
#define CVISOR_CPUID_MAX_LEAF  0x40000010u
#define CVISOR_CPUID_SIG_EBX   0x73697663u /* "cvis" */
#define CVISOR_CPUID_SIG_ECX   0x0000726Fu /* "or\0\0" */
#define CVISOR_CPUID_SIG_EDX   0x00000000u
/* Leaf 0x40000001: EAX = cvisor version (major << 16 | minor), EBX = hypercall ABI version. */
#define CVISOR_VERSION_MAJOR   0
#define CVISOR_VERSION_MINOR   1
#define CVISOR_HYPERCALL_ABI_VERSION 1
/* Leaf 0x40000010 (the timing leaf VMware and KVM guests read): EAX = TSC
 * frequency in kHz, EBX = local APIC timer frequency in kHz (cvisor's
 * APIC timer counts at the TSC's rate).  Leaves 0x40000002-0x4000000F read 0. */
#define CVISOR_CPUID_TIMING    0x40000010u

#endif
