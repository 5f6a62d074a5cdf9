/* The RTC/CMOS registers through the PC's index and data ports (Motorola
 * MC146818A data sheet; ports 0x70/0x71). */
#ifndef GUEST_CMOS_H
#define GUEST_CMOS_H

#include <stdint.h>

#include "abi/devices.h"
#include "guest_intrin.h"

static inline uint8_t cmos_read(uint8_t index)
{
	guest_outb(PORT_RTC_INDEX, index);
	return guest_inb(PORT_RTC_DATA);
}

static inline void cmos_write(uint8_t index, uint8_t value)
{
	guest_outb(PORT_RTC_INDEX, index);
	guest_outb(PORT_RTC_DATA, value);
}

#endif
