#include "dev/mmio.h"

#include "lib/log.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

static bool overlaps(const struct mmio_region *r, uint64_t base, uint64_t size)
{
	return base < r->base + r->size && r->base < base + size;
}

bool vm_register_mmio(struct vm *vm, const char *name, uint64_t base, uint64_t size,
		      const struct mmio_ops *ops, void *state)
{
	struct vm_devices *d = &vm->devices;
	unsigned at = 0;

	if (!size || base + size < base || d->mmio_count == VM_MAX_MMIO_REGIONS) {
		log_printf("cvisor: VM %s: MMIO 0x%llx (+0x%llx) of %s not registered\n", vm->name,
			   (unsigned long long)base, (unsigned long long)size, name);
		return false;
	}
	for (unsigned i = 0; i < d->mmio_count; i++) {
		if (overlaps(&d->mmio[i], base, size)) {
			log_printf("cvisor: VM %s: MMIO 0x%llx of %s overlaps %s\n", vm->name,
				   (unsigned long long)base, name, d->mmio[i].name);
			return false;
		}
	}
	while (at < d->mmio_count && d->mmio[at].base < base)
		at++;
	for (unsigned i = d->mmio_count; i > at; i--)
		d->mmio[i] = d->mmio[i - 1];
	d->mmio[at] = (struct mmio_region){
		.name = name, .base = base, .size = size, .ops = ops, .state = state,
	};
	d->mmio_count++;
	return true;
}

static bool contains(const struct mmio_region *r, uint64_t gpa, unsigned size)
{
	return gpa >= r->base && gpa - r->base < r->size && size <= r->size - (gpa - r->base);
}

const struct mmio_region *mmio_open_bus(struct vcpu *vcpu)
{
	const struct mmio_region *bus = &vcpu->vm->devices.open_bus;
	return bus->ops ? bus : NULL;
}

const struct mmio_region *mmio_find(struct vcpu *vcpu, uint64_t gpa, unsigned size)
{
	const struct vm_devices *d = &vcpu->vm->devices;

	for (unsigned i = 0; i < d->mmio_count; i++)
		if (contains(&d->mmio[i], gpa, size))
			return &d->mmio[i];
	return NULL;
}

uint64_t mmio_read(struct vcpu *vcpu, const struct mmio_region *region, uint64_t gpa,
		   unsigned size)
{
	spinlock_t *lock = &vcpu->vm->devices.lock;

	spin_lock(lock);
	uint64_t value = region->ops->read(vcpu, region->state, gpa - region->base, size);
	spin_unlock(lock);
	return value;
}

void mmio_write(struct vcpu *vcpu, const struct mmio_region *region, uint64_t gpa, unsigned size,
		uint64_t value)
{
	spinlock_t *lock = &vcpu->vm->devices.lock;

	spin_lock(lock);
	region->ops->write(vcpu, region->state, gpa - region->base, size, value);
	spin_unlock(lock);
}
