#include "dev/acpi_pm.h"

#include "dev/acpi_tables.h"
#include "dev/ports.h"
#include "irq/irq.h"
#include "vm/vm.h"
#include "vmx/intrin.h"

/* One register of the blocks: its first port and its width in bytes. */
struct pm_register {
	uint16_t port;
	uint8_t len;
};

enum { PM1_STS_REG, PM1_EN_REG, PM1_CNT_REG, PM_TMR_REG, PM_REG_COUNT };

static const struct pm_register pm_registers[PM_REG_COUNT] = {
	[PM1_STS_REG] = { ACPI_PM1A_EVT_BLK, ACPI_PM1_EVT_LEN / 2 },
	[PM1_EN_REG] = { ACPI_PM1A_EVT_BLK + ACPI_PM1_EVT_LEN / 2, ACPI_PM1_EVT_LEN / 2 },
	[PM1_CNT_REG] = { ACPI_PM1A_CNT_BLK, ACPI_PM1_CNT_LEN },
	[PM_TMR_REG] = { ACPI_PM_TMR_BLK, ACPI_PM_TMR_LEN },
};

/* Ticks of the 3.579545 MHz clock since the timer started (4.8.3.3). */
static uint64_t timer_ticks(const struct vm *vm, const struct acpi_pm *pm, uint64_t now)
{
	uint64_t elapsed = now > pm->timer_start ? now - pm->timer_start : 0;
	return device_clock_ticks(elapsed, vm->devices.tsc_hz, ACPI_PM_TIMER_HZ);
}

uint32_t acpi_pm_timer_value(const struct vm *vm, const struct acpi_pm *pm, uint64_t now)
{
	/* TMR_VAL_EXT = 0: a 24-bit counter; bits 31:24 read 0 (4.8.3.3). */
	return (uint32_t)(timer_ticks(vm, pm, now) & ACPI_PM_TIMER_MASK);
}

/* How often bit 23 has toggled since the timer started: TMR_STS is set
 * "any time the most significant bit of the counter changes from clear to
 * set or set to clear" (4.8.3.1.1). */
static uint64_t timer_carries(const struct vm *vm, const struct acpi_pm *pm, uint64_t now)
{
	return timer_ticks(vm, pm, now) >> ACPI_PM_TIMER_MSB;
}

static bool tmr_sts(const struct vm *vm, const struct acpi_pm *pm, uint64_t now)
{
	return timer_carries(vm, pm, now) > pm->carries_seen;
}

/* PM1_STS: TMR_STS is the only status this chipset has.  There is no
 * power or sleep button (FADT flags PWR_BUTTON and SLP_BUTTON), no bus
 * master, no firmware to set GBL_STS, no RTC wake (FIX_RTC), no PCIe wake
 * and no sleeping state to wake from (WAK_STS): those bits read 0. */
static uint16_t pm1_sts(const struct vm *vm, const struct acpi_pm *pm, uint64_t now)
{
	return tmr_sts(vm, pm, now) ? PM1_TMR : 0;
}

/* The SCI is a level: asserted while SCI_EN (always 1 here) and a status
 * bit and its enable are both set (4.8.3.1).  While TMR_EN waits
 * for the next toggle, a device timer is armed for it. */
static void update_sci(struct vm *vm, struct acpi_pm *pm, uint64_t now)
{
	bool level = (pm1_sts(vm, pm, now) & pm->en) != 0;

	if (level != pm->sci) {
		pm->sci = level;
		vm_set_irq(vm, ACPI_SCI_IRQ, level);
	}
	uint64_t deadline = 0;
	if ((pm->en & PM1_TMR) && !level) {
		uint64_t next_toggle = (pm->carries_seen + 1) << ACPI_PM_TIMER_MSB;
		deadline = pm->timer_start +
			   device_clock_to_tsc(next_toggle, ACPI_PM_TIMER_HZ, vm->devices.tsc_hz);
	}
	device_timer_arm(vm, pm->timer, deadline);
}

static void sci_timer_fire(struct vm *vm, void *state, uint64_t now)
{
	update_sci(vm, state, now);
}

/* The register's value as a guest reads it. */
static uint32_t register_value(const struct vm *vm, const struct acpi_pm *pm, unsigned reg,
			       uint64_t now)
{
	switch (reg) {
	case PM1_STS_REG:
		return pm1_sts(vm, pm, now);
	case PM1_EN_REG:
		return pm->en;
	case PM1_CNT_REG:
		/* SCI_EN reads 1: the hardware is always in ACPI mode (the FADT
		 * has SMI_CMD = 0); GBL_RLS and SLP_EN are write-only. */
		return pm->cnt | PM1_CNT_SCI_EN;
	default:
		return acpi_pm_timer_value(vm, pm, now);
	}
}

/* SLP_EN written: the system enters the sleeping state SLP_TYP names
 * (4.8.3.2.1, 7.4.2). */
static void enter_sleep_state(struct vm *vm, unsigned slp_typ)
{
	/* S5, soft off: the VM is over, and it asked for that. */
	if (slp_typ == ACPI_SLP_TYP_S5)
		vm_end(vm, true, "ACPI power-off (S5: SLP_TYP %u and SLP_EN written to PM1a_CNT 0x%x)",
		       slp_typ, ACPI_PM1A_CNT_BLK);
	/* S0 is the working state, and the DSDT offers no other: a write of
	 * SLP_EN with any other SLP_TYP leaves the VM running. */
}

static void register_write(struct vm *vm, struct acpi_pm *pm, unsigned reg, uint32_t bits,
			   uint32_t written, uint64_t now)
{
	switch (reg) {
	case PM1_STS_REG:
		/* Write 1 to clear; TMR_STS is the only bit that can be set. */
		if (bits & written & PM1_TMR)
			pm->carries_seen = timer_carries(vm, pm, now);
		break;
	case PM1_EN_REG:
		pm->en = (uint16_t)(((pm->en & ~written) | (bits & written)) & PM1_EN_DEFINED);
		break;
	case PM1_CNT_REG:
		pm->cnt = (uint16_t)(((pm->cnt & ~written) | (bits & written)) &
				     (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP));
		/* GBL_RLS would raise an SMI for the firmware: there is none. */
		if (bits & written & PM1_CNT_SLP_EN)
			enter_sleep_state(vm, (pm->cnt & PM1_CNT_SLP_TYP) >> PM1_CNT_SLP_TYP_SHIFT);
		break;
	default:
		break; /* the PM timer is read-only */
	}
}

/* The bytes [port, port + size) that fall in reg: their mask within the
 * register and the shift from the access's value to the register's. */
static uint32_t overlap_mask(unsigned reg, uint16_t port, unsigned size, int *shift)
{
	unsigned first = pm_registers[reg].port, end = first + pm_registers[reg].len;
	uint32_t mask = 0;

	*shift = 8 * ((int)first - (int)port);
	for (unsigned i = 0; i < size; i++) {
		unsigned p = (unsigned)port + i;
		if (p >= first && p < end)
			mask |= 0xFFu << (8 * (p - first));
	}
	return mask;
}

static uint32_t shift_value(uint32_t value, int shift)
{
	if (shift >= 32 || shift <= -32)
		return 0;
	return shift >= 0 ? value << shift : value >> -shift;
}

static uint32_t acpi_pm_port_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct acpi_pm *pm = state;
	uint64_t now = rdtsc();
	uint32_t value = 0, covered = 0;

	for (unsigned reg = 0; reg < PM_REG_COUNT; reg++) {
		int shift;
		uint32_t mask = overlap_mask(reg, port, size, &shift);
		if (!mask)
			continue;
		/* Register bytes to access bytes: the opposite shift. */
		value |= shift_value(register_value(vm, pm, reg, now) & mask, shift);
		covered |= shift_value(mask, shift);
	}
	/* Bytes outside every register (0x606-0x607, past 0x60B) read as an
	 * unclaimed port does. */
	return value | ~covered;
}

static void acpi_pm_port_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			       uint32_t value)
{
	struct acpi_pm *pm = state;
	uint64_t now = rdtsc();

	for (unsigned reg = 0; reg < PM_REG_COUNT; reg++) {
		int shift;
		uint32_t mask = overlap_mask(reg, port, size, &shift);
		if (mask)
			register_write(vm, pm, reg, shift_value(value, -shift), mask, now);
	}
	update_sci(vm, pm, now);
}

static const struct port_ops acpi_pm_ops = { .read = acpi_pm_port_read, .write = acpi_pm_port_write };

/* A reset puts the registers back to their power-on state: no enable, no
 * sleep type, the SCI dropped, TMR_STS clear.  The timer runs on (the
 * ACPI specification asks only that it counts). */
static void acpi_pm_reset(struct vm *vm, void *state)
{
	struct acpi_pm *pm = state;
	uint64_t now = rdtsc();

	pm->en = 0;
	pm->cnt = 0;
	pm->carries_seen = timer_carries(vm, pm, now);
	update_sci(vm, pm, now);
}

bool acpi_pm_attach(struct vm *vm)
{
	struct acpi_pm *pm = vm_device_state(vm, sizeof(*pm), "ACPI PM registers");

	if (!pm)
		return false;
	pm->timer_start = rdtsc();
	pm->timer = vm_add_device_timer(vm, "ACPI PM timer SCI", sci_timer_fire, pm);
	return pm->timer &&
	       vm_register_ports(vm, "ACPI PM registers", ACPI_PM_FIRST_PORT, ACPI_PM_LAST_PORT,
				 &acpi_pm_ops, pm) &&
	       vm_add_device_reset(vm, "ACPI PM registers", acpi_pm_reset, pm);
}
