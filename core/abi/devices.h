/* The emulated devices every cvisor VM sees (see README.md). */
#ifndef CVISOR_ABI_DEVICES_H
#define CVISOR_ABI_DEVICES_H

#define PORT_DEBUG_EXIT   0xF4  /* QEMU isa-debug-exit: write v, VM ends with status (v << 1) | 1 */
#define PORT_DEBUGCON     0xE9  /* Bochs/QEMU debug console: each byte written is printed */
#define PORT_COM1         0x3F8 /* 16550 UART, 8 registers */
#define PORT_SHUTDOWN     0x8900 /* Bochs/QEMU BIOS: the bytes "Shutdown" power the VM off */
#define PORT_FW_CFG       0x510  /* QEMU fw_cfg: selector (16-bit), data at 0x511 */
#define PORT_RTC_INDEX    0x70   /* MC146818A RTC/CMOS: register index (bit 7: NMI mask) */
#define PORT_RTC_DATA     0x71   /* MC146818A RTC/CMOS: the selected register */
/* The debug-console page: each non-NUL byte written is printed; reads are 0. */
#define MMIO_DEBUG_CONSOLE_GPA 0xFEBFF000ULL

#define UART_LSR_OFFSET   5
#define UART_LSR_THRE     0x20
#define UART_LSR_TEMT     0x40

#endif
