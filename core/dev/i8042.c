#include "dev/i8042.h"

#include "dev/device.h"
#include "dev/ports.h"
#include "irq/irq.h"
#include "vm/reset.h"
#include "vm/vm.h"

/*
 * State after the controller's RESET.  The data sheet leaves the command
 * byte and the output port to the controller's firmware; these are QEMU's
 * (command byte 03h: both interrupts enabled, system flag 0 as after
 * power-on; output port CFh: reset line and A20 high, the unused lines
 * high), and the status has the command/data bit set, as QEMU's.
 */
#define I8042_RESET_COMMAND_BYTE (I8042_CB_KBD_INT | I8042_CB_AUX_INT)
#define I8042_RESET_OUTPUT_PORT  0xCF

/* IRQ1 is the controller's OBF interrupt output: high while a byte waits
 * in the output buffer and command byte bit 0 enables it; reading the
 * byte lowers it.  Only a change reaches the interrupt controllers. */
static void update_irq(struct vm *vm, struct i8042 *kbc)
{
	bool level = kbc->output_full && (kbc->command_byte & I8042_CB_KBD_INT);

	if (level != kbc->irq_level) {
		kbc->irq_level = level;
		vm_set_irq(vm, I8042_IRQ, level);
	}
}

/* The controller places a byte in its output buffer (OBF); a byte not yet
 * read is overwritten, the buffer holds one. */
static void place_output(struct vm *vm, struct i8042 *kbc, uint8_t byte)
{
	kbc->output_buffer = byte;
	kbc->output_full = true;
	update_irq(vm, kbc);
}

static uint8_t status_register(const struct i8042 *kbc)
{
	/* IBF never shows: each byte written is taken at once.  No device
	 * ever sends, so mouse data (bit 5), time-out (6) and parity errors
	 * (7) never show either.  The keyboard inhibit switch is off. */
	return (uint8_t)((kbc->output_full ? I8042_STR_OBF : 0) |
			 (kbc->command_byte & I8042_CB_SYS ? I8042_STR_SYS : 0) |
			 (kbc->last_was_command ? I8042_STR_CMD : 0) | I8042_STR_UNLOCKED);
}

/* The output port as command D0h reads it: bits 4 and 5 are the OBF
 * interrupt outputs, the rest as written. */
static uint8_t output_port(const struct i8042 *kbc)
{
	return (uint8_t)((kbc->output_port & ~(I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF)) |
			 (kbc->output_full ? I8042_OUT_KBD_OBF : 0));
}

static void write_output_port(struct vm *vm, struct i8042 *kbc, uint8_t value)
{
	kbc->output_port = value;
	/* Bit 0 drives the processor's reset line, active low.  The A20
	 * gate (bit 1) reads back; A20 masking is not emulated. */
	if (!(value & I8042_OUT_RESET))
		vm_request_reset(vm, "the i8042 output port (command 0xD1, value 0x%02x: reset line low)",
				 value);
}

static void controller_command(struct vm *vm, struct i8042 *kbc, uint8_t command)
{
	kbc->expecting = 0; /* a command ends one still waiting for its data */
	switch (command) {
	case I8042_CMD_READ_CB:
		place_output(vm, kbc, kbc->command_byte);
		break;
	case I8042_CMD_WRITE_CB:
	case I8042_CMD_WRITE_OUTPORT:
	case I8042_CMD_WRITE_AUX:
		kbc->expecting = command;
		break;
	case I8042_CMD_AUX_DISABLE:
		kbc->command_byte |= I8042_CB_AUX_DIS;
		break;
	case I8042_CMD_AUX_ENABLE:
		kbc->command_byte &= (uint8_t)~I8042_CB_AUX_DIS;
		break;
	case I8042_CMD_AUX_TEST:
	case I8042_CMD_KBD_TEST:
		/* Interface tests: the clock and data lines are fine (nothing
		 * holds them), 00h. */
		place_output(vm, kbc, I8042_INTERFACE_TEST_OK);
		break;
	case I8042_CMD_SELF_TEST:
		/* 55h, and the system flag says the controller passed. */
		kbc->command_byte |= I8042_CB_SYS;
		place_output(vm, kbc, I8042_SELF_TEST_OK);
		break;
	case I8042_CMD_KBD_DISABLE:
		kbc->command_byte |= I8042_CB_KBD_DIS;
		break;
	case I8042_CMD_KBD_ENABLE:
		kbc->command_byte &= (uint8_t)~I8042_CB_KBD_DIS;
		break;
	case I8042_CMD_READ_OUTPORT:
		place_output(vm, kbc, output_port(kbc));
		break;
	default:
		/* F0h-FFh pulse the output port bits whose command bit is 0
		 * low for about 6 us: bit 0 is the reset line (FEh).  The
		 * others come back high at once and change nothing. */
		if (command >= I8042_CMD_PULSE_FIRST && !(command & I8042_OUT_RESET))
			vm_request_reset(vm, "the i8042 (command 0x%02x: pulse of the reset line)",
					 command);
		/* Other commands (controller RAM, input port, D2h/D3h echoes,
		 * password) are not emulated: ignored. */
		break;
	}
	update_irq(vm, kbc);
}

static void data_write(struct vm *vm, struct i8042 *kbc, uint8_t value)
{
	uint8_t command = kbc->expecting;

	kbc->expecting = 0;
	switch (command) {
	case I8042_CMD_WRITE_CB:
		kbc->command_byte = value & I8042_CB_WRITABLE;
		update_irq(vm, kbc);
		break;
	case I8042_CMD_WRITE_OUTPORT:
		write_output_port(vm, kbc, value);
		break;
	default:
		/* A byte for the mouse (after D4h) or the keyboard: no device
		 * is attached, so it is never clocked out and nothing answers;
		 * the guest's driver times out. */
		break;
	}
}

/* The registers are bytes: a wider access uses its low byte, and its other
 * bytes (0x61-0x63, 0x65-0x67: other devices' ports) read all ones. */
static uint32_t i8042_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	struct i8042 *kbc = state;
	(void)size;

	if (port == PORT_I8042_STATUS)
		return 0xFFFFFF00u | status_register(kbc);
	/* The output buffer: reading empties it (a read of an empty buffer
	 * returns the last byte again). */
	kbc->output_full = false;
	update_irq(vm, kbc);
	return 0xFFFFFF00u | kbc->output_buffer;
}

static void i8042_write(struct vm *vm, void *state, uint16_t port, unsigned size, uint32_t value)
{
	struct i8042 *kbc = state;
	(void)size;

	kbc->last_was_command = port == PORT_I8042_STATUS;
	if (port == PORT_I8042_STATUS)
		controller_command(vm, kbc, (uint8_t)value);
	else
		data_write(vm, kbc, (uint8_t)value);
}

static void i8042_reset(struct vm *vm, void *state)
{
	struct i8042 *kbc = state;

	kbc->command_byte = I8042_RESET_COMMAND_BYTE;
	kbc->output_port = I8042_RESET_OUTPUT_PORT;
	kbc->output_buffer = 0;
	kbc->output_full = false;
	kbc->last_was_command = true;
	kbc->expecting = 0;
	update_irq(vm, kbc);
}

static const struct port_ops i8042_ops = { .read = i8042_read, .write = i8042_write };

bool i8042_attach(struct vm *vm)
{
	struct i8042 *kbc = vm_device_state(vm, sizeof(*kbc), "i8042");

	if (!kbc)
		return false;
	i8042_reset(vm, kbc);
	return vm_register_ports(vm, "i8042 data", PORT_I8042_DATA, PORT_I8042_DATA, &i8042_ops, kbc) &&
	       vm_register_ports(vm, "i8042 status/command", PORT_I8042_STATUS, PORT_I8042_STATUS,
				 &i8042_ops, kbc) &&
	       vm_add_device_reset(vm, "i8042", i8042_reset, kbc);
}
