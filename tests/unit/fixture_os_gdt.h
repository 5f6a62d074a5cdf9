/*
 * The descriptors of a Linux-like hosted OS (fixture_os_gdt.c), shared by
 * the tests of core/vmx/segment.c, core/vmx/msr_bitmap.c and
 * core/vm/hosted_os.c: code/data and 16-byte system descriptors, the OS's
 * GDT, and the check of the hosted OS's MSR bitmap.
 */
#ifndef CVISOR_TESTS_FIXTURE_OS_GDT_H
#define CVISOR_TESTS_FIXTURE_OS_GDT_H

#include <stdbool.h>
#include <stdint.h>

/* Descriptors (SDM Vol. 3A 3.4.5): code/data with base, limit, type byte
 * (P, DPL, S, type) and flags nibble (G, D/B, L, AVL). */
uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);

/* A 16-byte system descriptor (TSS, LDT) in IA-32e mode (SDM Vol. 3A 7.2.3). */
void system_descriptor(uint64_t *slot, uint64_t base, uint32_t limit, uint8_t access);

/* A Linux-like GDT: 0x08 kernel 32-bit code, 0x10 kernel code, 0x18 kernel
 * data, 0x23 user 32-bit code, 0x2B user data, 0x33 user code, 0x40 TSS
 * (busy, as after LTR), 0x50 LDT, 0x60 a data segment with a base and a
 * byte-granular limit, 0x68 a code segment that was never accessed. */
#define OS_CS 0x10
#define OS_DS 0x18
#define OS_TR 0x40
#define OS_LDT 0x50
#define OS_BASED 0x60
#define OS_FRESH 0x68
#define OS_GDT_LIMIT 0x7F
#define OS_TSS_BASE 0xFFFFFE0000003000ULL
#define OS_TSS_LIMIT 0x4087
#define OS_LDT_BASE 0xFFFF888012340000ULL

/* Writes that GDT (OS_GDT_LIMIT + 1 bytes) to gdt. */
void build_os_gdt(uint64_t *gdt);

/* Does the MSR bitmap intercept this access?  Fail the test unless the
 * bitmap intercepts exactly IA32_FEATURE_CONTROL and the VMX MSRs. */
bool bitmap_intercepts(const uint8_t *bitmap, uint32_t msr, bool write);
void check_hosted_os_bitmap(const uint8_t *bitmap);

#endif
