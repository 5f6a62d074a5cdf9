#include "dev/debug_console.h"

#include "abi/devices.h"
#include "dev/mmio.h"
#include "vcpu/vcpu.h"
#include "vm/console.h"

static uint64_t debug_console_read(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size)
{
	(void)vcpu;
	(void)state;
	(void)offset;
	(void)size;
	return 0;
}

static void debug_console_write(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size,
				uint64_t value)
{
	(void)state;
	(void)offset;
	for (unsigned i = 0; i < size; i++) {
		char c = (char)(value >> (8 * i));
		if (c)
			vm_console_putc(vcpu->vm, c);
	}
}

static const struct mmio_ops debug_console_ops = {
	.read = debug_console_read, .write = debug_console_write,
};

bool debug_console_attach(struct vm *vm)
{
	return vm_register_mmio(vm, "debug console", MMIO_DEBUG_CONSOLE_GPA, 4096,
				&debug_console_ops, NULL);
}
