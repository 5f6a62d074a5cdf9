#include "dev/device.h"

#include "lib/log.h"
#include "lib/mem.h"
#include "vm/vm.h"

void *vm_device_state(struct vm *vm, size_t size, const char *device)
{
	struct vm_devices *d = &vm->devices;
	size_t start = (d->state_used + 15) & ~(size_t)15;

	if (size > sizeof(d->state) - start) {
		log_printf("cvisor: VM %s: no device memory left for %s (%zu bytes)\n", vm->name,
			   device, size);
		return NULL;
	}
	d->state_used = start + size;
	memset(d->state + start, 0, size);
	return d->state + start;
}
