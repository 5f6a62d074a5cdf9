/*
 * Local APIC register offsets in the xAPIC page and their fields (SDM Vol.
 * 3A 11.4.1 Table 11-1, 11.5.1, 11.6.1), once for the register model, the
 * timer, IPIs and the MMIO face.
 */
#ifndef CVISOR_IRQ_LAPIC_REGS_H
#define CVISOR_IRQ_LAPIC_REGS_H

#define APIC_ID            0x020
#define APIC_VERSION       0x030
#define APIC_TPR           0x080
#define APIC_APR           0x090
#define APIC_PPR           0x0A0
#define APIC_EOI           0x0B0
#define APIC_LDR           0x0D0
#define APIC_DFR           0x0E0
#define APIC_SVR           0x0F0
#define APIC_ISR0          0x100 /* ISR, TMR and IRR: 8 words, 16 bytes apart */
#define APIC_ISR7          0x170
#define APIC_TMR0          0x180
#define APIC_TMR7          0x1F0
#define APIC_IRR0          0x200
#define APIC_IRR7          0x270
#define APIC_ESR           0x280
#define APIC_LVT_CMCI      0x2F0
#define APIC_ICR_LOW       0x300
#define APIC_ICR_HIGH      0x310
#define APIC_LVT_TIMER     0x320
#define APIC_LVT_LINT0     0x350
#define APIC_LVT_ERROR     0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE  0x3E0

/* SVR bit 8: the APIC is software-enabled (11.4.7.2). */
#define SVR_APIC_ENABLED (1u << 8)

/* LVT fields (11.5.1, Figure 11-8). */
#define LVT_VECTOR(lvt)     ((uint8_t)(lvt))
#define LVT_MASKED          (1u << 16)
#define LVT_TIMER_MODE(lvt) (((lvt) >> 17) & 3)
#define LVT_DELIVERY_MODE(lvt) (((lvt) >> 8) & 7)
/* Index of LINT0 and LINT1 among the LVTs (CMCI, timer, thermal,
 * perf, LINT0, LINT1, error). */
#define LAPIC_LVT_LINT0_INDEX 4
#define LAPIC_LVT_LINT1_INDEX 5
enum { LVT_TIMER_ONE_SHOT = 0, LVT_TIMER_PERIODIC = 1, LVT_TIMER_TSC_DEADLINE = 2 };
/* A timer mode in its place in the timer LVT (bits 18:17). */
#define LVT_TIMER_MODE_BITS(mode) ((uint32_t)(mode) << 17)

/* ICR fields (11.6.1, Figure 11-12). */
#define ICR_VECTOR(low)        ((uint8_t)(low))
#define ICR_DELIVERY_MODE(low) (((low) >> 8) & 7)
#define ICR_LOGICAL            (1u << 11)
#define ICR_DELIVERY_PENDING   (1u << 12)
#define ICR_LEVEL_ASSERT       (1u << 14)
#define ICR_SHORTHAND(low)     (((low) >> 18) & 3)
#define ICR_DESTINATION(high)  ((uint8_t)((high) >> 24))

/* Delivery modes (11.6.1) and destination shorthands. */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
       APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7 };
enum { ICR_SHORTHAND_NONE, ICR_SHORTHAND_SELF, ICR_SHORTHAND_ALL, ICR_SHORTHAND_ALL_BUT_SELF };

#endif
