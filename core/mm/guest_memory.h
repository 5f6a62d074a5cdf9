/*
 * Guest-physical memory access: the only way cvisor touches a guest's RAM.
 * An ordinary VM's RAM is [0, ram_size) behind its EPT; the hosted OS's is
 * its RAM ranges, mapped 1:1.  Nothing here reaches a device or another
 * VM's memory.
 */
#ifndef CVISOR_MM_GUEST_MEMORY_H
#define CVISOR_MM_GUEST_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* The whole range must be guest RAM; false (and nothing copied) otherwise.
 * Writes to the hosted OS's RAM skip (and report) cvisor's own pages. */
bool guest_is_ram(const struct vm *vm, uint64_t gpa, size_t len);
bool guest_read(const struct vm *vm, uint64_t gpa, void *dst, size_t len);
bool guest_write(struct vm *vm, uint64_t gpa, const void *src, size_t len);
bool guest_zero(struct vm *vm, uint64_t gpa, size_t len);
/*
 * One naturally aligned 4- or 8-byte entry (a guest paging-structure
 * entry), read whole in one load as the CPU reads it (SDM Vol. 3A 4.5):
 * aligned, it lies in one page, so one EPT lookup.  False (and 0) when it
 * is not guest RAM or not aligned.
 */
bool guest_read_entry(const struct vm *vm, uint64_t gpa, unsigned size, uint64_t *value);

/* What guest_update_entry did. */
enum guest_entry_update {
	GUEST_ENTRY_UPDATED,      /* it held expected and now holds desired */
	GUEST_ENTRY_CHANGED,      /* it no longer held expected: nothing written */
	GUEST_ENTRY_NOT_WRITABLE, /* not RAM the guest may write (its EPT page is not
				   * writable, or it is cvisor's): left alone */
};
/*
 * Replaces one naturally aligned 4- or 8-byte entry with desired if it
 * still holds expected, atomically, as the CPU sets a paging-structure
 * entry's accessed and dirty flags (SDM Vol. 3A 4.8).
 */
enum guest_entry_update guest_update_entry(struct vm *vm, uint64_t gpa, unsigned size,
					   uint64_t expected, uint64_t desired);

#endif
