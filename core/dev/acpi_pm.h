/*
 * The ACPI fixed hardware of a VM's chipset (ACPI Specification 6.3, 4.8):
 * the PM1a event block (PM1_STS, PM1_EN), the PM1a control block (PM1_CNT)
 * and the power management timer, at the I/O ports the FADT names
 * (dev/acpi_tables.c): 0x600-0x60B, the ACPI base QEMU's ICH9 machine has
 * (on a real ICH, firmware chooses PMBASE; the FADT is what tells the OS).
 *
 *   0x600-0x601 PM1_STS  status, write 1 to clear (4.8.3.1.1)
 *   0x602-0x603 PM1_EN   enables (4.8.3.1.2)
 *   0x604-0x605 PM1_CNT  SCI_EN (reads 1), BM_RLD, SLP_TYP, SLP_EN (4.8.3.2.1)
 *   0x606-0x607          nothing (reads all ones)
 *   0x608-0x60B PM_TMR   24-bit timer at 3.579545 MHz, read-only (4.8.3.3)
 *
 * Every register can be reached with byte, word or dword accesses at any
 * offset: each byte of an access goes to the register it falls in.
 *
 * The only status source is the timer: TMR_STS is set each time bit 23 of
 * the timer toggles; while TMR_STS and TMR_EN are both set the SCI (ISA
 * IRQ 9, level, active high) is asserted.  The chipset is always in ACPI
 * mode (SCI_EN reads 1; the FADT has no SMI command port).  Writing SLP_EN
 * with the S5 sleep type ends the VM with success (an ACPI power-off); the
 * DSDT offers no other sleeping state, and SLP_EN with any other SLP_TYP
 * is ignored (the VM goes on running).
 */
#ifndef CVISOR_DEV_ACPI_PM_H
#define CVISOR_DEV_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"

struct vm;

/* The register blocks (the FADT's PM1a_EVT_BLK, PM1a_CNT_BLK, PM_TMR_BLK). */
#define ACPI_PM1A_EVT_BLK  0x600u
#define ACPI_PM1_EVT_LEN   4
#define ACPI_PM1A_CNT_BLK  0x604u
#define ACPI_PM1_CNT_LEN   2
#define ACPI_PM_TMR_BLK    0x608u
#define ACPI_PM_TMR_LEN    4
#define ACPI_PM_FIRST_PORT ACPI_PM1A_EVT_BLK
#define ACPI_PM_LAST_PORT  (ACPI_PM_TMR_BLK + ACPI_PM_TMR_LEN - 1)

/* The PM timer's rate (4.8.3.3) and width (FADT TMR_VAL_EXT = 0). */
#define ACPI_PM_TIMER_HZ   3579545u
#define ACPI_PM_TIMER_MASK 0xFFFFFFu
#define ACPI_PM_TIMER_MSB  23

/* PM1_STS and PM1_EN bits (4.8.3.1.1, 4.8.3.1.2): the same position in both. */
#define PM1_TMR            (1u << 0)  /* TMR_STS / TMR_EN */
#define PM1_BM_STS         (1u << 4)
#define PM1_GBL            (1u << 5)  /* GBL_STS / GBL_EN */
#define PM1_PWRBTN         (1u << 8)  /* PWRBTN_STS / PWRBTN_EN */
#define PM1_SLPBTN         (1u << 9)  /* SLPBTN_STS / SLPBTN_EN */
#define PM1_RTC            (1u << 10) /* RTC_STS / RTC_EN */
#define PM1_PCIEXP_WAKE    (1u << 14) /* PCIEXP_WAKE_STS / PCIEXP_WAKE_DIS */
#define PM1_WAK_STS        (1u << 15)
/* The enable bits PM1_EN defines (read/write); the rest read 0. */
#define PM1_EN_DEFINED     (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE)

/* PM1_CNT bits (4.8.3.2.1). */
#define PM1_CNT_SCI_EN     (1u << 0)
#define PM1_CNT_BM_RLD     (1u << 1)
#define PM1_CNT_GBL_RLS    (1u << 2)  /* write-only, reads 0 */
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP    (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN     (1u << 13) /* write-only, reads 0 */

/* The sleep types this chipset decodes, as the DSDT's \_S0 and \_S5 give
 * them (SLP_TYP as Intel's ICH chipsets encode it: 000 working, 111 soft off). */
#define ACPI_SLP_TYP_S0    0
#define ACPI_SLP_TYP_S5    7

struct acpi_pm {
	uint16_t en;             /* PM1_EN (PM1_EN_DEFINED bits) */
	uint16_t cnt;            /* PM1_CNT's read/write bits: BM_RLD, SLP_TYP */
	uint64_t timer_start;    /* host TSC at which the PM timer read 0 */
	/* Carries out of bit 23 (toggles of the timer's MSB) counted when the
	 * guest last cleared TMR_STS: TMR_STS is set while more have happened. */
	uint64_t carries_seen;
	bool sci;                /* the SCI's level as last driven */
	struct device_timer *timer; /* fires at the next toggle while TMR_EN waits for it */
};

/* The timer's 24-bit value at host TSC now. */
uint32_t acpi_pm_timer_value(const struct vm *vm, const struct acpi_pm *pm, uint64_t now);

/* Registers the ports, the SCI timer and the reset of the PM registers. */
bool acpi_pm_attach(struct vm *vm);

#endif
