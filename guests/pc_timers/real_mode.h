/*
 * The real-mode part of the pc_timers guest (real_mode.S): PIT ticks
 * through the 8259A to a handler in the real-mode interrupt vector table,
 * as a BIOS takes them.
 *
 * real_mode_run() copies nothing itself: the caller first copies
 * [real_mode_stub_start, real_mode_stub_end) to REAL_MODE_PA and fills in
 * the parameters of the data block (struct real_mode_data).  Then
 * real_mode_run() leaves 32-bit protected mode (SDM Vol. 3A 10.9.2: a
 * 16-bit protected-mode segment of limit 0xFFFF, CR0.PE cleared, a far
 * jump, real-mode segments and IDTR), initializes the 8259A pair with
 * the vector base given, points that vector's IVT entry at its IRQ 0
 * handler (the other seven of the master at a handler that counts them),
 * programs PIT counter 0, and sleeps with STI; HLT until the handler has
 * counted the ticks asked for.  The handler records the TSC of each tick
 * and the 8259's ISR, and sends the non-specific EOI.  Then it masks the
 * pair, returns to 32-bit protected mode with the caller's GDT and IDT,
 * and returns.
 */
#ifndef PC_TIMERS_REAL_MODE_H
#define PC_TIMERS_REAL_MODE_H

#define REAL_MODE_PA  0x8000 /* the stub's copy, segment REAL_MODE_PA >> 4 */
#define REAL_MODE_SEG (REAL_MODE_PA >> 4)
#define REAL_MODE_SP  REAL_MODE_PA /* SS = 0: the stack grows down below the stub */
#define REAL_MODE_MAX_TICKS 64

/* Selectors of the GDT real_mode_run() loads for the switch. */
#define RM_CODE32 0x08
#define RM_DATA32 0x10
#define RM_CODE16 0x18 /* base REAL_MODE_PA, limit 0xFFFF */
#define RM_DATA16 0x20 /* base 0, limit 0xFFFF */

/* Offsets into the data block (struct real_mode_data). */
#define RD_GDT_LIMIT    2  /* with RD_GDT_BASE: the LGDT operand for the way back */
#define RD_GDT_BASE     4
#define RD_IVT_LIMIT    10 /* with RD_IVT_BASE: the real-mode IDTR */
#define RD_IVT_BASE     12
#define RD_PIT_CONTROL  16 /* in: the control word for counter 0 */
#define RD_PIT_COUNT    20 /* in: its count (LSB then MSB) */
#define RD_VECTOR_BASE  24 /* in: ICW2 of the master (the slave gets base + 8) */
#define RD_TARGET_TICKS 28 /* in: how many ticks to sleep for */
#define RD_TICKS        32 /* out: IRQ 0 interrupts taken */
#define RD_HALTS        36 /* out: HLTs executed */
#define RD_OTHER        40 /* out: interrupts at the master's other vectors */
#define RD_ISR          44 /* out: the master's ISR as the first IRQ 0 handler read it */
#define RD_CR0          48 /* out: CR0 as read in real mode */
#define RD_CS           52 /* out: CS as the IRQ 0 handler found it */
#define RD_TICK_TSC     56 /* out: the TSC at each tick, REAL_MODE_MAX_TICKS of them */
#define RD_SIZE         (RD_TICK_TSC + 8 * REAL_MODE_MAX_TICKS)

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct real_mode_data {
	uint16_t pad0;
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad1;
	uint16_t ivt_limit;
	uint32_t ivt_base;
	uint32_t pit_control;
	uint32_t pit_count;
	uint32_t vector_base;
	uint32_t target_ticks;
	volatile uint32_t ticks;
	volatile uint32_t halts;
	volatile uint32_t other;
	volatile uint32_t isr;
	volatile uint32_t cr0;
	volatile uint32_t cs;
	volatile uint64_t tick_tsc[REAL_MODE_MAX_TICKS];
};
_Static_assert(offsetof(struct real_mode_data, gdt_limit) == RD_GDT_LIMIT, "layout");
_Static_assert(offsetof(struct real_mode_data, gdt_base) == RD_GDT_BASE, "layout");
_Static_assert(offsetof(struct real_mode_data, ivt_limit) == RD_IVT_LIMIT, "layout");
_Static_assert(offsetof(struct real_mode_data, ivt_base) == RD_IVT_BASE, "layout");
_Static_assert(offsetof(struct real_mode_data, pit_control) == RD_PIT_CONTROL, "layout");
_Static_assert(offsetof(struct real_mode_data, pit_count) == RD_PIT_COUNT, "layout");
_Static_assert(offsetof(struct real_mode_data, vector_base) == RD_VECTOR_BASE, "layout");
_Static_assert(offsetof(struct real_mode_data, target_ticks) == RD_TARGET_TICKS, "layout");
_Static_assert(offsetof(struct real_mode_data, ticks) == RD_TICKS, "layout");
_Static_assert(offsetof(struct real_mode_data, halts) == RD_HALTS, "layout");
_Static_assert(offsetof(struct real_mode_data, other) == RD_OTHER, "layout");
_Static_assert(offsetof(struct real_mode_data, isr) == RD_ISR, "layout");
_Static_assert(offsetof(struct real_mode_data, cr0) == RD_CR0, "layout");
_Static_assert(offsetof(struct real_mode_data, cs) == RD_CS, "layout");
_Static_assert(offsetof(struct real_mode_data, tick_tsc) == RD_TICK_TSC, "layout");
_Static_assert(sizeof(struct real_mode_data) == RD_SIZE, "layout");

extern const char real_mode_stub_start[], real_mode_data_block[], real_mode_stub_end[];

/* Runs the real-mode part (see above) and returns in 32-bit protected
 * mode with the GDT, IDT, segments and EFLAGS it was called with. */
void real_mode_run(void);
#endif

#endif
