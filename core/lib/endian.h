/*
 * Little-endian fields read from and written to byte buffers (file formats
 * such as ELF, the Multiboot header, the Linux setup header and zero page,
 * and the ACPI tables are little-endian, and their fields need not be
 * aligned).
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

/* The low `bytes` bytes of value, least significant first. */
static inline void le_write(uint8_t *p, uint64_t value, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(value >> (8 * i));
}

static inline void le16_write(uint8_t *p, uint16_t v)
{
	le_write(p, v, 2);
}

static inline void le32_write(uint8_t *p, uint32_t v)
{
	le_write(p, v, 4);
}

static inline void le64_write(uint8_t *p, uint64_t v)
{
	le_write(p, v, 8);
}

#endif
