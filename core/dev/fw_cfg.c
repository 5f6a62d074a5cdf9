#include "dev/fw_cfg.h"

#include "dev/ports.h"
#include "lib/mem.h"
#include "vm/vm.h"

void fw_cfg_select(struct fw_cfg *cfg, uint16_t key)
{
	cfg->selector = key;
	cfg->offset = 0;
}

/* Fills item with the selected key's bytes; returns its length. */
static unsigned item_bytes(const struct vm *vm, uint16_t key, uint8_t item[8])
{
	uint64_t value;
	unsigned len;

	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(item, "QEMU", 4);
		return 4;
	case FW_CFG_ID:
		value = 1;
		len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		value = vm->ram_size;
		len = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		value = vm->vcpu_count;
		len = 2;
		break;
	default:
		return 0;
	}
	for (unsigned i = 0; i < len; i++)
		item[i] = (uint8_t)(value >> (8 * i));
	return len;
}

uint8_t fw_cfg_read_byte(struct vm *vm, struct fw_cfg *cfg)
{
	uint8_t item[8];
	unsigned len = item_bytes(vm, cfg->selector, item);
	uint8_t byte = cfg->offset < len ? item[cfg->offset] : 0;

	if (cfg->offset < 0xFFFFFFFFu)
		cfg->offset++;
	return byte;
}

static uint32_t fw_cfg_port_read(struct vm *vm, void *state, uint16_t port, unsigned size)
{
	uint32_t value = 0;
	if (port != FW_CFG_PORT_DATA)
		return 0xFFFFFFFFu; /* the selector is write-only */
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)fw_cfg_read_byte(vm, state) << (8 * i);
	return value;
}

static void fw_cfg_port_write(struct vm *vm, void *state, uint16_t port, unsigned size,
			      uint32_t value)
{
	(void)vm;
	if (port == FW_CFG_PORT_SELECTOR && size >= 2)
		fw_cfg_select(state, (uint16_t)value);
}

static const struct port_ops fw_cfg_ops = { .read = fw_cfg_port_read, .write = fw_cfg_port_write };

bool fw_cfg_attach(struct vm *vm)
{
	struct fw_cfg *cfg = vm_device_state(vm, sizeof(*cfg), "fw_cfg");

	return cfg && vm_register_ports(vm, "fw_cfg", FW_CFG_PORT_SELECTOR, FW_CFG_PORT_DATA,
					&fw_cfg_ops, cfg);
}
