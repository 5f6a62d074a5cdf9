/*
 * The chipset's two reset registers (Intel PIIX3/PIIX4 and ICH data sheets):
 *
 *   0xCF9  Reset Control Register (RST_CNT): bit 1 SYS_RST (hard or soft
 *          reset), bit 2 RST_CPU (its 0 -> 1 transition resets), bit 3
 *          FULL_RST (ICH: a hard reset also cycles power); read/write
 *   0x92   System Control Port A (PORT92): bit 0 INIT_NOW/fast reset (its
 *          0 -> 1 transition resets), bit 1 ALT_A20_GATE; read/write
 *
 * Either reset asks for a reset of the whole VM (vm/reset.h), whose
 * on_reset= option says what follows.  cvisor has no firmware to tell a
 * soft reset (INIT of the processors) from a hard one, so every kind
 * restarts the whole VM; the line printed names the kind.
 */
#ifndef CVISOR_DEV_RESET_CONTROL_H
#define CVISOR_DEV_RESET_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#define PORT_RESET_CONTROL 0xCF9
#define PORT_SYSTEM_CONTROL_A 0x92

/* RST_CNT bits (ICH data sheet: Reset Control Register). */
#define RST_CNT_SYS_RST  (1u << 1)
#define RST_CNT_RST_CPU  (1u << 2)
#define RST_CNT_FULL_RST (1u << 3)
#define RST_CNT_WRITABLE (RST_CNT_SYS_RST | RST_CNT_RST_CPU | RST_CNT_FULL_RST)

/* PORT92 bits (ICH data sheet: System Control Port A). */
#define PORT92_INIT_NOW     (1u << 0)
#define PORT92_ALT_A20_GATE (1u << 1)
#define PORT92_WRITABLE     (PORT92_INIT_NOW | PORT92_ALT_A20_GATE)

struct reset_control {
	uint8_t rst_cnt; /* 0xCF9 */
	uint8_t port92;  /* 0x92 */
};

struct vm;
/* Registers the two ports and the reset; false (with a log line) on failure. */
bool reset_control_attach(struct vm *vm);

#endif
