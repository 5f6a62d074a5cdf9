/*
 * Little-endian fields read from byte buffers (file formats such as ELF,
 * the Multiboot header and the Linux setup header are little-endian and
 * their fields need not be aligned).
 */
#ifndef CVISOR_LIB_ENDIAN_H
#define CVISOR_LIB_ENDIAN_H

#include <stdint.h>

static inline uint16_t le16_read(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32_read(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64_read(const uint8_t *p)
{
	return le32_read(p) | (uint64_t)le32_read(p + 4) << 32;
}

#endif
