#include "dev/debug_ports.h"

#include "abi/devices.h"
#include "dev/ports.h"
#include "vm/console.h"
#include "vm/vm.h"

/* Bytes of "Shutdown" seen in a row on the power-off port. */
struct debug_ports {
	unsigned shutdown_matched;
};

/* QEMU isa-debug-exit (iobase 0xF4, iosize 4): the VM ends with status
 * (value << 1) | 1, so only a write of 0 (status 1) counts as success. */
static void debug_exit_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			     uint32_t value)
{
	(void)state;
	(void)port;
	(void)size;
	uint64_t status = ((uint64_t)value << 1) | 1;
	vm_end(vm, status == 1, "debug-exit port 0x%x written with %u: exit status %llu",
	       PORT_DEBUG_EXIT, value, (unsigned long long)status);
}

/* The Bochs/QEMU debug console: each byte written is printed. */
static void debugcon_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			   uint32_t value)
{
	(void)state;
	(void)port;
	for (unsigned i = 0; i < size; i++)
		vm_console_putc(vm, (char)(value >> (8 * i)));
}

/* The Bochs/QEMU BIOS power-off port: writing the bytes "Shutdown" in a row. */
static void shutdown_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			   uint32_t value)
{
	static const char word[] = "Shutdown";
	struct debug_ports *d = state;
	(void)port;

	for (unsigned i = 0; i < size; i++) {
		char c = (char)(value >> (8 * i));
		if (c == word[d->shutdown_matched])
			d->shutdown_matched++;
		else
			d->shutdown_matched = c == word[0];
		if (d->shutdown_matched == sizeof(word) - 1) {
			vm_end(vm, false, "powered off through the Shutdown port 0x%x", PORT_SHUTDOWN);
			return;
		}
	}
}

static const struct port_ops debugcon_ops = { .write = debugcon_write };
static const struct port_ops debug_exit_ops = { .write = debug_exit_write };
static const struct port_ops shutdown_ops = { .write = shutdown_write };

bool debug_ports_attach(struct vm *vm)
{
	struct debug_ports *d = vm_device_state(vm, sizeof(*d), "debug ports");

	return d && vm_register_ports(vm, "debug console", PORT_DEBUGCON, PORT_DEBUGCON,
				      &debugcon_ops, d) &&
	       vm_register_ports(vm, "isa-debug-exit", PORT_DEBUG_EXIT, PORT_DEBUG_EXIT + 3,
				 &debug_exit_ops, d) &&
	       vm_register_ports(vm, "power-off port", PORT_SHUTDOWN, PORT_SHUTDOWN, &shutdown_ops, d);
}
