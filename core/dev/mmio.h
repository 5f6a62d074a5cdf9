/*
 * A VM's emulated MMIO: guest-physical ranges that are not mapped in the
 * EPT, so every access exits with an EPT violation and is emulated.
 */
#ifndef CVISOR_DEV_MMIO_H
#define CVISOR_DEV_MMIO_H

#include <stdbool.h>
#include <stdint.h>

/* The debug-console page: each non-NUL byte written is printed; reads are 0. */
#define MMIO_DEBUG_CONSOLE_GPA 0xFEBFF000ULL

struct vcpu;

struct mmio_region {
	const char *name;
	uint64_t base, size;
	uint64_t (*read)(struct vcpu *vcpu, uint64_t offset, unsigned size);
	void (*write)(struct vcpu *vcpu, uint64_t offset, unsigned size, uint64_t value);
};

/* The region holding [gpa, gpa+size), or NULL. */
const struct mmio_region *mmio_find(struct vcpu *vcpu, uint64_t gpa, unsigned size);

/* An access of size bytes at guest-physical gpa inside region. */
static inline uint64_t mmio_read(struct vcpu *vcpu, const struct mmio_region *region, uint64_t gpa,
				 unsigned size)
{
	return region->read(vcpu, gpa - region->base, size);
}

static inline void mmio_write(struct vcpu *vcpu, const struct mmio_region *region, uint64_t gpa,
			      unsigned size, uint64_t value)
{
	region->write(vcpu, gpa - region->base, size, value);
}

#endif
