/*
 * The application-processor trampoline of the smp guest (trampoline.S).
 *
 * The BSP copies [smp_trampoline_start, smp_trampoline_end) to
 * TRAMPOLINE_PA and fills in its data block; a start-up IPI with vector
 * SIPI_VECTOR starts an AP in real mode at CS = SIPI_VECTOR << 8, IP = 0
 * (SDM Vol. 3A 9.4.4.1), that is at TRAMPOLINE_PA.  The trampoline records
 * how it was entered, loads the GDT, switches to 32-bit protected mode
 * (SDM Vol. 3A 10.9.1), loads the stack and calls the entry function.
 */
#ifndef SMP_TRAMPOLINE_H
#define SMP_TRAMPOLINE_H

#define TRAMPOLINE_PA 0x8000
#define SIPI_VECTOR (TRAMPOLINE_PA >> 12)
#define TRAMPOLINE_CS 0x08 /* flat 32-bit code in the guest's GDT (probe.S) */
#define TRAMPOLINE_DS 0x10 /* flat data */

/* Offsets into the data block (struct trampoline_data). */
#define TD_GDT_LIMIT 2  /* with TD_GDT_BASE: the 6-byte LGDT operand */
#define TD_GDT_BASE  4
#define TD_ENTRY     8  /* void (*)(void), called in 32-bit mode */
#define TD_STACK     12 /* initial ESP */
#define TD_REAL_CS   16 /* written by the AP: CS at entry */
#define TD_REAL_CR0  20 /* written by the AP: CR0 at entry */
#define TD_ENTRIES   24 /* incremented by the AP on every entry */
#define TD_SIZE      28

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct trampoline_data {
	uint16_t pad;
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint32_t entry;
	uint32_t stack;
	volatile uint32_t real_cs;
	volatile uint32_t real_cr0;
	volatile uint32_t entries;
};
_Static_assert(offsetof(struct trampoline_data, gdt_limit) == TD_GDT_LIMIT, "layout");
_Static_assert(offsetof(struct trampoline_data, gdt_base) == TD_GDT_BASE, "layout");
_Static_assert(offsetof(struct trampoline_data, entry) == TD_ENTRY, "layout");
_Static_assert(offsetof(struct trampoline_data, stack) == TD_STACK, "layout");
_Static_assert(offsetof(struct trampoline_data, real_cs) == TD_REAL_CS, "layout");
_Static_assert(offsetof(struct trampoline_data, real_cr0) == TD_REAL_CR0, "layout");
_Static_assert(offsetof(struct trampoline_data, entries) == TD_ENTRIES, "layout");
_Static_assert(sizeof(struct trampoline_data) == TD_SIZE, "layout");

extern const char smp_trampoline_start[], smp_trampoline_data[], smp_trampoline_end[];

/* Helpers in trampoline.S whose return addresses the checks compare. */
void sti_nop_cli(void);   /* sti; nop; cli */
void sti_cpuid_cli(void); /* sti; cpuid; cli (CPUID with EAX = ECX = 0) */
void sti_hlt_cli(void);   /* sti; hlt; cli */
extern const char after_sti_nop[], after_sti_cpuid[], after_sti_hlt[]; /* the CLI of each */
#endif

#endif
