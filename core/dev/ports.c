#include "dev/ports.h"

#include "lib/log.h"
#include "vm/vm.h"
#include "x86.h"

bool vm_register_ports(struct vm *vm, const char *name, uint16_t first, uint16_t last,
		       const struct port_ops *ops, void *state)
{
	struct vm_devices *d = &vm->devices;
	unsigned at = 0;

	if (first > last || d->port_count == VM_MAX_PORT_RANGES) {
		log_printf("cvisor: VM %s: ports 0x%x-0x%x of %s not registered (%s)\n", vm->name,
			   first, last, name, first > last ? "empty range" : "the port table is full");
		return false;
	}
	while (at < d->port_count && d->ports[at].last < first)
		at++;
	if (at < d->port_count && d->ports[at].first <= last) {
		log_printf("cvisor: VM %s: ports 0x%x-0x%x of %s overlap %s\n", vm->name, first, last,
			   name, d->ports[at].name);
		return false;
	}
	for (unsigned i = d->port_count + 1; i > at; i--) /* the end marker moves too */
		d->ports[i] = d->ports[i - 1];
	d->ports[at] = (struct port_range){
		.name = name, .first = first, .last = last, .ops = ops, .state = state,
	};
	d->port_count++;
	return true;
}

/* Sorted by port and not overlapping, so a lookup stops at the first range
 * that starts past the port (at the latest the end marker, which every port
 * is below): with a handful of devices, most of them below 0x600, that
 * beats a binary search. */
static const struct port_range *find_range(const struct vm *vm, uint16_t port)
{
	for (const struct port_range *r = vm->devices.ports;; r++) {
		if (port < r->first)
			return NULL;
		if (port <= r->last)
			return r;
	}
}

bool io_port_table_is_sorted(const struct vm *vm)
{
	const struct vm_devices *d = &vm->devices;

	for (unsigned i = 0; i < d->port_count; i++)
		if (d->ports[i].first > d->ports[i].last || d->ports[i].last > 0xFFFF ||
		    (i && d->ports[i].first <= d->ports[i - 1].last))
			return false;
	return d->ports[d->port_count].first == PORT_TABLE_END;
}

uint32_t io_port_read(struct vm *vm, uint16_t port, unsigned size)
{
	const struct port_range *r = find_range(vm, port);
	uint32_t all_ones = (uint32_t)operand_mask(size);

	if (!r || !r->ops->read)
		return all_ones;
	spin_lock(&vm->devices.lock);
	uint32_t value = r->ops->read(vm, r->state, port, size) & all_ones;
	spin_unlock(&vm->devices.lock);
	return value;
}

void io_port_write(struct vm *vm, uint16_t port, unsigned size, uint32_t value)
{
	const struct port_range *r = find_range(vm, port);

	if (!r || !r->ops->write)
		return;
	spin_lock(&vm->devices.lock);
	r->ops->write(vm, r->state, port, size, value & (uint32_t)operand_mask(size));
	spin_unlock(&vm->devices.lock);
}
