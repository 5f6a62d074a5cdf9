/*
 * A minimal 8042 keyboard controller with nothing attached to it: no
 * keyboard, no mouse (Intel 8042/UPI-42 with the IBM AT/PS/2 controller
 * firmware; IBM PS/2 Hardware Interface Technical Reference, "Keyboard and
 * Auxiliary Device Controller").
 *
 *   0x60  read: output buffer; write: data (a command's parameter, or a
 *         byte for the keyboard)
 *   0x64  read: status register; write: controller command
 *
 * The controller answers its own commands (command byte, self-test,
 * interface tests, enable/disable, output port) and resets the VM through
 * its output port bit 0 (a write with the bit 0, or the pulse command
 * 0xFE).  Bytes for the keyboard or the mouse go nowhere and no device
 * ever answers, so a probe times out and an OS finds a controller without
 * a keyboard.  IRQ1 follows the output buffer (command byte bit 0), as the
 * controller's OBF interrupt output does; IRQ12 (mouse data) is never
 * raised, since no mouse byte ever arrives.
 */
#ifndef CVISOR_DEV_I8042_H
#define CVISOR_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define PORT_I8042_DATA   0x60
#define PORT_I8042_STATUS 0x64 /* read: status; write: command */
#define I8042_IRQ 1

/* Status register. */
#define I8042_STR_OBF      (1u << 0) /* output buffer full */
#define I8042_STR_IBF      (1u << 1) /* input buffer full */
#define I8042_STR_SYS      (1u << 2) /* system flag (command byte bit 2) */
#define I8042_STR_CMD      (1u << 3) /* A2: the last byte written was a command */
#define I8042_STR_UNLOCKED (1u << 4) /* keyboard inhibit switch off */
#define I8042_STR_AUXDATA  (1u << 5) /* the output buffer holds mouse data */
#define I8042_STR_TIMEOUT  (1u << 6)
#define I8042_STR_PARITY   (1u << 7)

/* Command byte. */
#define I8042_CB_KBD_INT  (1u << 0) /* IRQ1 when the output buffer fills */
#define I8042_CB_AUX_INT  (1u << 1) /* IRQ12 for mouse data */
#define I8042_CB_SYS      (1u << 2) /* the system flag */
#define I8042_CB_KBD_DIS  (1u << 4) /* keyboard interface disabled */
#define I8042_CB_AUX_DIS  (1u << 5) /* mouse interface disabled */
#define I8042_CB_XLATE    (1u << 6) /* scan code translation */
#define I8042_CB_WRITABLE 0x7Fu     /* bit 7 is reserved, 0 */

/* Output port. */
#define I8042_OUT_RESET   (1u << 0) /* the CPU's reset line, active low */
#define I8042_OUT_A20     (1u << 1) /* the A20 gate */
#define I8042_OUT_KBD_OBF (1u << 4) /* IRQ1 output: keyboard data waits */
#define I8042_OUT_AUX_OBF (1u << 5) /* IRQ12 output: mouse data waits */

/* Controller commands (port 0x64). */
#define I8042_CMD_READ_CB       0x20
#define I8042_CMD_WRITE_CB      0x60
#define I8042_CMD_AUX_DISABLE   0xA7
#define I8042_CMD_AUX_ENABLE    0xA8
#define I8042_CMD_AUX_TEST      0xA9
#define I8042_CMD_SELF_TEST     0xAA
#define I8042_CMD_KBD_TEST      0xAB
#define I8042_CMD_KBD_DISABLE   0xAD
#define I8042_CMD_KBD_ENABLE    0xAE
#define I8042_CMD_READ_OUTPORT  0xD0
#define I8042_CMD_WRITE_OUTPORT 0xD1
#define I8042_CMD_WRITE_AUX     0xD4
#define I8042_CMD_PULSE_FIRST   0xF0 /* 0xF0-0xFF pulse output port bits 3:0 low */
#define I8042_CMD_PULSE_RESET   0xFE /* pulses bit 0: reset */

#define I8042_SELF_TEST_OK      0x55
#define I8042_INTERFACE_TEST_OK 0x00

struct i8042 {
	uint8_t command_byte;
	uint8_t output_port;   /* as written (bits 4 and 5 follow the buffer) */
	uint8_t output_buffer; /* the last byte placed in it */
	bool output_full;      /* OBF */
	bool last_was_command; /* status bit 3 */
	uint8_t expecting;     /* the command whose data byte comes next, or 0 */
	bool irq_level;        /* what the controller drives on IRQ1 */
};

struct vm;
/* Registers the two ports and the reset; false (with a log line) on failure. */
bool i8042_attach(struct vm *vm);

#endif
