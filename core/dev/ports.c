#include "dev/ports.h"

#include <stddef.h>

#include "abi/devices.h"
#include "dev/fw_cfg.h"
#include "dev/pic8259.h"
#include "dev/uart16550.h"
#include "dev/vm_console.h"
#include "emulate/operand.h"
#include "vm/vm.h"

/* QEMU isa-debug-exit (iobase 0xF4, iosize 4): the VM ends with status
 * (value << 1) | 1, so only a write of 0 (status 1) counts as success. */
static void debug_exit_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	(void)port;
	(void)size;
	uint64_t status = ((uint64_t)value << 1) | 1;
	vm_end(vm, status == 1, "debug-exit port 0x%x written with %u: exit status %llu",
	       PORT_DEBUG_EXIT, value, (unsigned long long)status);
}

static void debugcon_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	(void)port;
	for (unsigned i = 0; i < size; i++)
		vm_console_putc(vm, (char)(value >> (8 * i)));
}

/* The UART's registers are bytes; wider accesses touch consecutive ones. */
static uint32_t com1_read(struct vm *vm, uint16_t port, unsigned size)
{
	uint32_t value = 0;
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)uart16550_read(vm, &vm->com1, (port + i - PORT_COM1) & 7)
			 << (8 * i);
	return value;
}

static void com1_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size; i++)
		uart16550_write(vm, &vm->com1, (port + i - PORT_COM1) & 7,
				(uint8_t)(value >> (8 * i)));
}

static uint32_t fw_cfg_read(struct vm *vm, uint16_t port, unsigned size)
{
	uint32_t value = 0;
	if (port != FW_CFG_PORT_DATA)
		return 0xFFFFFFFFu; /* the selector is write-only */
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)fw_cfg_read_byte(vm, &vm->fw_cfg) << (8 * i);
	return value;
}

static void fw_cfg_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	if (port == FW_CFG_PORT_SELECTOR && size >= 2)
		fw_cfg_select(&vm->fw_cfg, (uint16_t)value);
}

/* 0x20/0x21 master, 0xA0/0xA1 slave: bit 7 of the port picks the chip, bit 0 the port. */
static uint32_t pic_read(struct vm *vm, uint16_t port, unsigned size)
{
	(void)size;
	return pic8259_read(&vm->pic[port >> 7 & 1], port & 1);
}

static void pic_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	pic8259_write(&vm->pic[port >> 7 & 1], port & 1, (uint8_t)value);
}

/* The Bochs/QEMU BIOS power-off port: writing the bytes "Shutdown" in a row. */
static void shutdown_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	static const char word[] = "Shutdown";
	(void)port;
	for (unsigned i = 0; i < size; i++) {
		char c = (char)(value >> (8 * i));
		if (c == word[vm->shutdown_matched])
			vm->shutdown_matched++;
		else
			vm->shutdown_matched = c == word[0];
		if (vm->shutdown_matched == sizeof(word) - 1) {
			vm_end(vm, false, "powered off through the Shutdown port 0x%x", PORT_SHUTDOWN);
			return;
		}
	}
}

struct port_device {
	uint16_t first, last;
	uint32_t (*read)(struct vm *vm, uint16_t port, unsigned size);
	void (*write)(struct vm *vm, uint16_t port, unsigned size, uint32_t value);
};

/* Sorted by port and not overlapping (a unit test checks), so a lookup
 * stops at the first device that starts past the port: with a handful of
 * devices, most of them below 0x600, that beats a binary search. */
static const struct port_device port_devices[] = {
	{ PIC_MASTER_COMMAND, PIC_MASTER_DATA, pic_read, pic_write },
	{ PIC_SLAVE_COMMAND, PIC_SLAVE_DATA, pic_read, pic_write },
	{ PORT_DEBUGCON, PORT_DEBUGCON, NULL, debugcon_write },
	{ PORT_DEBUG_EXIT, PORT_DEBUG_EXIT + 3, NULL, debug_exit_write },
	{ PORT_COM1, PORT_COM1 + 7, com1_read, com1_write },
	{ FW_CFG_PORT_SELECTOR, FW_CFG_PORT_DATA, fw_cfg_read, fw_cfg_write },
	{ PORT_SHUTDOWN, PORT_SHUTDOWN, NULL, shutdown_write },
};
#define PORT_DEVICE_COUNT (sizeof(port_devices) / sizeof(port_devices[0]))

static const struct port_device *find_device(uint16_t port)
{
	for (const struct port_device *d = port_devices; d < port_devices + PORT_DEVICE_COUNT; d++) {
		if (port < d->first)
			return NULL;
		if (port <= d->last)
			return d;
	}
	return NULL;
}

bool io_port_table_is_sorted(void)
{
	for (size_t i = 0; i < PORT_DEVICE_COUNT; i++)
		if (port_devices[i].first > port_devices[i].last ||
		    (i && port_devices[i].first <= port_devices[i - 1].last))
			return false;
	return true;
}

uint32_t io_port_read(struct vm *vm, uint16_t port, unsigned size)
{
	const struct port_device *dev = find_device(port);
	uint32_t all_ones = (uint32_t)operand_mask(size);

	if (!dev || !dev->read)
		return all_ones;
	return dev->read(vm, port, size) & all_ones;
}

void io_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	const struct port_device *dev = find_device(port);

	if (dev && dev->write)
		dev->write(vm, port, size, value & (uint32_t)operand_mask(size));
}
