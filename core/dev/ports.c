#include "dev/ports.h"

#include "lib/log.h"
#include "lib/mem.h"
#include "vm/vm.h"
#include "x86.h"

/* The index of the ports below PORT_INDEX_LIMIT, from the sorted ranges
 * (rebuilt whole at each registration, which only VM creation does). */
static void rebuild_port_index(struct vm_devices *d)
{
	memset(d->port_index, 0, sizeof(d->port_index));
	for (unsigned i = 0; i < d->port_count; i++)
		for (uint32_t port = d->ports[i].first;
		     port <= d->ports[i].last && port < PORT_INDEX_LIMIT; port++)
			d->port_index[port] = (uint8_t)(i + 1);
}

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
	rebuild_port_index(d);
	return true;
}

/* Below PORT_INDEX_LIMIT one load of the index.  Above it the ranges are
 * sorted by port and do not overlap, so a scan stops at the first range
 * that starts past the port (at the latest the end marker, which every
 * port is below). */
static const struct port_range *find_range(const struct vm *vm, uint16_t port)
{
	const struct vm_devices *d = &vm->devices;

	if (port < PORT_INDEX_LIMIT) {
		unsigned index = d->port_index[port];
		return index ? &d->ports[index - 1] : NULL;
	}
	for (const struct port_range *r = d->ports;; r++) {
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
