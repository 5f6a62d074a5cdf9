/*
 * Guest linear -> guest-physical translation through the guest's own page
 * tables, in whatever paging mode it uses (SDM Vol. 3A chapter 4).  Used
 * when cvisor must touch memory the guest named by a linear address
 * (the string loop and the instruction fetch of core/emulate/).
 */
#ifndef CVISOR_MM_GUEST_PAGING_H
#define CVISOR_MM_GUEST_PAGING_H

#include "x86.h"

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

enum guest_access {
	GUEST_READ = 0,
	GUEST_WRITE = 1,
	GUEST_FETCH = 2,
	/* Or'ed into READ or WRITE: an implicit supervisor-mode access (to a
	 * descriptor table or a TSS, SDM Vol. 3A 4.6), whatever the CPL. */
	GUEST_IMPLICIT = 4,
};

/*
 * Translates linear for an access of the given kind at the guest's current
 * CPL, as the CPU would (SDM Vol. 3A chapter 4): the access rights of every
 * entry together (4.6: U/S, R/W with CR0.WP, XD with EFER.NXE, CR4.SMEP and
 * CR4.SMAP with EFLAGS.AC, protection keys with CR4.PKE), reserved bits
 * (4.7), and on success the accessed flag of each entry used and the dirty
 * flag of the page for a write (4.8).  Returns true and sets *gpa, or false
 * with *pf_error set to the error code of the #PF the CPU would raise.  A
 * PDPTE's PS bit is taken as a 1-GiB page.
 */
bool guest_translate(struct vcpu *vcpu, uint64_t linear, enum guest_access access,
		     uint64_t *gpa, uint32_t *pf_error);

/*
 * Instruction fetch for emulation: copies up to len bytes at a guest linear
 * address into dst, with one translation (GUEST_FETCH) and one guest-RAM
 * copy per page, and returns how many leading bytes could be fetched.  It
 * stops at the first byte whose page does not translate or that is not
 * guest RAM, without injecting anything: an instruction that ends before an
 * unmapped page still decodes, as on the CPU, which fetches only the
 * instruction's own bytes.
 */
unsigned guest_fetch_linear(struct vcpu *vcpu, uint64_t linear, uint8_t *dst, unsigned len);

#endif
