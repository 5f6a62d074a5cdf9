/*
 * The MSR bitmap (SDM Vol. 3C 25.6.9): one 4 KiB page, one bit per MSR and
 * direction; a set bit makes RDMSR/WRMSR of that MSR exit.
 */
#ifndef CVISOR_VMX_MSR_BITMAP_H
#define CVISOR_VMX_MSR_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_BITMAP_SIZE 4096

/* Every access exits, or none does (before the per-MSR changes below). */
void msr_bitmap_fill(uint8_t *bitmap, bool intercept);
/* Sets or clears the bit of msr for reads or writes; MSRs outside the two
 * ranges the bitmap covers always exit and are left alone. */
void msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool write, bool intercept);
/* True when an access to msr would exit with this bitmap. */
bool msr_bitmap_intercepts(const uint8_t *bitmap, uint32_t msr, bool write);

#endif
