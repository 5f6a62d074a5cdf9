#include "dev/fw_cfg.h"

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
