#include "dev/reset_control.h"

#include "dev/device.h"
#include "dev/ports.h"
#include "vm/reset.h"
#include "vm/vm.h"

/* What a 0 -> 1 transition of RST_CPU does, by SYS_RST and FULL_RST (ICH
 * data sheet, Reset Control Register): SYS_RST = 0 asserts INIT# only (a
 * soft reset); SYS_RST = 1 a hard reset (PLTRST#), with FULL_RST = 1 a
 * power cycle as well. */
static const char *reset_kind(uint8_t rst_cnt)
{
	if (!(rst_cnt & RST_CNT_SYS_RST))
		return "soft reset";
	return (rst_cnt & RST_CNT_FULL_RST) ? "full reset" : "hard reset";
}

/* The register is one byte; the bytes of a wider access past 0xCF9 are
 * ports no register of this device decodes (0xCFA-0xCFB are no register,
 * 0xCFC is CONFIG_DATA only for accesses that start there). */
static uint32_t rst_cnt_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct reset_control *rc = state;
	(void)vm;
	(void)port;
	(void)size;

	/* Bits 0 and 7:4 are reserved and read 0. */
	return 0xFFFFFF00u | rc->rst_cnt;
}

static void rst_cnt_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			  uint32_t value)
{
	struct reset_control *rc = state;
	uint8_t old = rc->rst_cnt;
	(void)port;
	(void)size;

	rc->rst_cnt = (uint8_t)(value & RST_CNT_WRITABLE);
	/* Only the 0 -> 1 transition of RST_CPU resets: writing the reset
	 * type first with RST_CPU 0, then RST_CPU 1, is the usual sequence. */
	if (!(old & RST_CNT_RST_CPU) && (rc->rst_cnt & RST_CNT_RST_CPU))
		vm_request_reset(vm, "port 0xCF9 (reset control register, %s, value 0x%02x)",
				 reset_kind(rc->rst_cnt), rc->rst_cnt);
}

/* PORT92 is one byte as well; bits 7:2 are reserved and read 0 (ICH). */
static uint32_t port92_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct reset_control *rc = state;
	(void)vm;
	(void)port;
	(void)size;

	return 0xFFFFFF00u | rc->port92;
}

static void port92_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			 uint32_t value)
{
	struct reset_control *rc = state;
	uint8_t old = rc->port92;
	(void)port;
	(void)size;

	/* ALT_A20_GATE reads back; A20 masking itself is not emulated: guest
	 * addresses never wrap at 1 MiB. */
	rc->port92 = (uint8_t)(value & PORT92_WRITABLE);
	/* INIT_NOW: a 0 -> 1 transition resets ("fast reset"); writing 1
	 * while it is 1 does nothing until a 0 was written. */
	if (!(old & PORT92_INIT_NOW) && (rc->port92 & PORT92_INIT_NOW))
		vm_request_reset(vm, "port 0x92 (System Control Port A, fast reset, value 0x%02x)",
				 rc->port92);
}

/* After a reset both registers read their default, 00h. */
static void reset_control_reset(struct vm *vm, void *state)
{
	struct reset_control *rc = state;
	(void)vm;

	rc->rst_cnt = 0;
	rc->port92 = 0;
}

static const struct port_ops rst_cnt_ops = { .read = rst_cnt_read, .write = rst_cnt_write };
static const struct port_ops port92_ops = { .read = port92_read, .write = port92_write };

bool reset_control_attach(struct vm *vm)
{
	struct reset_control *rc = vm_device_state(vm, sizeof(*rc), "reset control");

	return rc &&
	       vm_register_ports(vm, "System Control Port A", PORT_SYSTEM_CONTROL_A,
				 PORT_SYSTEM_CONTROL_A, &port92_ops, rc) &&
	       vm_register_ports(vm, "reset control register", PORT_RESET_CONTROL,
				 PORT_RESET_CONTROL, &rst_cnt_ops, rc) &&
	       vm_add_device_reset(vm, "reset control", reset_control_reset, rc);
}
