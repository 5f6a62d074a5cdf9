/*
 * QEMU's fw_cfg device, traditional port interface (QEMU docs/specs/fw_cfg):
 * a 16-bit selector at 0x510 and a byte-wide data port at 0x511 that reads
 * the selected item one byte at a time.
 */
#ifndef CVISOR_DEV_FW_CFG_H
#define CVISOR_DEV_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#define FW_CFG_PORT_SELECTOR 0x510
#define FW_CFG_PORT_DATA     0x511

#define FW_CFG_SIGNATURE 0x0000 /* "QEMU" */
#define FW_CFG_ID        0x0001 /* bit 0: traditional interface (no DMA) */
#define FW_CFG_RAM_SIZE  0x0003 /* 64-bit little-endian */
#define FW_CFG_NB_CPUS   0x0005 /* 16-bit */
#define FW_CFG_MAX_CPUS  0x000F /* 16-bit */

struct fw_cfg {
	uint16_t selector;
	uint32_t offset;
};

struct vm;
void fw_cfg_select(struct fw_cfg *cfg, uint16_t key);
/* The next byte of the selected item; 0 past its end and for unknown keys. */
uint8_t fw_cfg_read_byte(struct vm *vm, struct fw_cfg *cfg);

/* Registers the selector and data ports with the device's own state. */
bool fw_cfg_attach(struct vm *vm);

#endif
