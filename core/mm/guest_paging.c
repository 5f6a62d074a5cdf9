#include "mm/guest_paging.h"

#include "lib/mem.h"
#include "mm/guest_memory.h"
#include "vcpu/cpu_features.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* Paging-structure entry flags the walk sets (SDM Vol. 3A 4.8). */
#define PTE_ACCESSED (1ULL << 5)
#define PTE_DIRTY    (1ULL << 6)

/* How many times a walk starts again when the guest changed an entry
 * between reading it and setting its accessed or dirty flag. */
#define WALK_ATTEMPTS 4

/* A paging-structure entry the walk used. */
struct walk_entry {
	uint64_t gpa, value;
	unsigned size;
};

struct walk {
	struct vcpu *vcpu;
	enum guest_access access; /* GUEST_READ, GUEST_WRITE or GUEST_FETCH */
	bool implicit;            /* GUEST_IMPLICIT: supervisor whatever the CPL */
	bool user;                /* a user-mode access (CPL 3, explicit) */
	uint64_t cr0, cr4, efer;
	uint64_t phys_mask;       /* the address bits below MAXPHYADDR */
	uint64_t reserved;        /* bits reserved in every 8-byte entry */
	/* The access rights of the translation, over all its entries (SDM
	 * Vol. 3A 4.6.1). */
	bool user_page, writable, executable;
	struct walk_entry used[5]; /* 5-level paging uses the most */
	unsigned used_count;
	uint32_t error;
};

/* Reads one entry; false when it is not present (or not guest RAM, which
 * the walk reads as not present). */
static bool read_present(const struct walk *w, uint64_t gpa, unsigned size, uint64_t *entry)
{
	return guest_read_entry(w->vcpu->vm, gpa, size, entry) && (*entry & PTE_P);
}

/* Takes a present entry into the translation; false (a #PF with P and RSVD,
 * whatever the access rights: SDM Vol. 3A 4.7) when one of its reserved
 * bits is set. */
static bool use_entry(struct walk *w, uint64_t gpa, unsigned size, uint64_t entry,
		      uint64_t reserved)
{
	if (entry & reserved) {
		w->error |= PF_PRESENT | PF_RSVD;
		return false;
	}
	w->used[w->used_count++] = (struct walk_entry){ .gpa = gpa, .value = entry, .size = size };
	w->user_page &= (entry & PTE_US) != 0;
	w->writable &= (entry & PTE_RW) != 0;
	if (size == 8 && (w->efer & EFER_NXE))
		w->executable &= !(entry & PTE_NX);
	return true;
}

/*
 * Protection keys (SDM Vol. 3A 4.6.2), with CR4.PKE in 4- or 5-level paging,
 * for data accesses to user-mode addresses: the key in bits 62:59 of the
 * entry that maps the page selects two bits of the guest's PKRU: AD refuses
 * every data access, WD writes by user mode, and by supervisor mode with
 * CR0.WP.
 */
static bool protection_key_permits(struct walk *w)
{
	unsigned key = (unsigned)(w->used[w->used_count - 1].value >> 59) & 0xF;
	uint32_t rights = vcpu_guest_pkru(w->vcpu) >> (2 * key);

	if (rights & 1) /* AD */
		return false;
	return !(w->access == GUEST_WRITE && (rights & 2) && (w->user || (w->cr0 & CR0_WP)));
}

/*
 * The access rights of the whole translation against the access (SDM Vol.
 * 3A 4.6.1): user-mode accesses need a user-mode page, writable for writes;
 * supervisor-mode writes need a writable page when CR0.WP is set; fetches
 * need an executable page (XD, with EFER.NXE), and a supervisor fetch a
 * supervisor-mode page when CR4.SMEP is set; supervisor data accesses to a
 * user-mode page fault when CR4.SMAP is set, unless they are explicit with
 * EFLAGS.AC set.  False sets P in the #PF error.
 */
static bool access_permitted(struct walk *w)
{
	bool ok;

	if (w->access == GUEST_FETCH) {
		ok = w->executable && (w->user ? w->user_page
					       : !(w->user_page && (w->cr4 & CR4_SMEP)));
	} else if (w->user) {
		ok = w->user_page && (w->access != GUEST_WRITE || w->writable);
	} else {
		bool smap_blocks = w->user_page && (w->cr4 & CR4_SMAP) &&
				   (w->implicit || !(vmcs_read(GUEST_RFLAGS) & RFLAGS_AC));
		ok = !smap_blocks &&
		     (w->access != GUEST_WRITE || w->writable || !(w->cr0 & CR0_WP));
	}
	if (ok && w->access != GUEST_FETCH && w->user_page && (w->cr4 & CR4_PKE) &&
	    (w->efer & EFER_LMA) && !protection_key_permits(w)) {
		ok = false;
		w->error |= PF_PK;
	}
	if (!ok)
		w->error |= PF_PRESENT;
	return ok;
}

/*
 * Sets the accessed flag of every entry the translation used and, for a
 * write, the dirty flag of the one that maps the page, each with a locked
 * update as the CPU does (SDM Vol. 3A 4.8).  False when the guest changed
 * an entry since the walk read it: the walk starts again.  An entry in a
 * page the guest may not write (guest_update_entry) keeps its flags.
 */
static bool set_accessed_dirty(struct walk *w)
{
	for (unsigned i = 0; i < w->used_count; i++) {
		const struct walk_entry *e = &w->used[i];
		uint64_t want = e->value | PTE_ACCESSED;
		if (i == w->used_count - 1 && w->access == GUEST_WRITE)
			want |= PTE_DIRTY;
		if (want == e->value)
			continue;
		if (guest_update_entry(w->vcpu->vm, e->gpa, e->size, e->value, want) ==
		    GUEST_ENTRY_CHANGED)
			return false;
	}
	return true;
}

/* 32-bit paging (SDM Vol. 3A 4.3): 10-bit directory and table indexes; a
 * 4-MiB page (CR4.PSE) has physical-address bits 39:32 in its bits 20:13. */
static bool walk_32bit(struct walk *w, uint64_t linear, uint64_t *gpa)
{
	uint64_t cr3 = vmcs_read(GUEST_CR3) & 0xFFFFF000ULL, entry;
	unsigned phys_bits = 64 - (unsigned)__builtin_clzll(w->phys_mask);

	/* Table 4-5: bit 21 and the bits of 20:13 beyond MAXPHYADDR are
	 * reserved in a 4-MiB PDE. */
	uint64_t large_reserved = 1ULL << 21;
	for (unsigned bit = 32; bit < 40; bit++)
		if (bit >= phys_bits)
			large_reserved |= 1ULL << (13 + bit - 32);
	bool pse = w->cr4 & CR4_PSE;

	uint64_t at = cr3 + ((linear >> 22) & 0x3FF) * 4;
	if (!read_present(w, at, 4, &entry))
		return false;
	bool large = pse && (entry & PTE_PS);
	if (!use_entry(w, at, 4, entry, large ? large_reserved : 0))
		return false;
	if (large) {
		*gpa = (entry & 0xFFC00000ULL) | ((entry >> 13) & 0xFF) << 32 | (linear & 0x3FFFFF);
		return true;
	}
	at = (entry & 0xFFFFF000ULL) + ((linear >> 12) & 0x3FF) * 4;
	if (!read_present(w, at, 4, &entry) || !use_entry(w, at, 4, entry, 0))
		return false;
	*gpa = (entry & 0xFFFFF000ULL) | (linear & 0xFFF);
	return true;
}

/* PAE paging (SDM Vol. 3A 4.4, the PDPTEs in the VMCS with EPT) and 4- and
 * 5-level paging (4.5). */
static bool walk_64bit_entries(struct walk *w, uint64_t linear, uint64_t *gpa)
{
	uint64_t table, entry;
	unsigned level;

	if (w->efer & EFER_LMA) {
		/* 5-level paging with CR4.LA57 (4.5): the PML5 at CR3. */
		table = vmcs_read(GUEST_CR3) & PTE_ADDR_52;
		level = (w->cr4 & CR4_LA57) ? 5 : 4;
	} else {
		static const vmcs_RW64_t pdpte[4] = { GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2,
						      GUEST_PDPTE3 };
		/* PDPTE registers: no accessed flag, no access rights (4.4.1). */
		entry = vmcs_read(pdpte[(linear >> 30) & 3]);
		if (!(entry & PTE_P))
			return false;
		table = entry & PTE_ADDR_52;
		level = 2;
		linear = (uint32_t)linear;
	}
	for (;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t at = table + ((linear >> shift) & 0x1FF) * 8;
		uint64_t reserved = w->reserved;
		if (!read_present(w, at, 8, &entry))
			return false;
		bool large = (level == 2 || level == 3) && (entry & PTE_PS);
		if (level >= 4)
			reserved |= PTE_PS; /* PML5E and PML4E: Table 4-15 */
		else if (large)
			/* Tables 4-16 and 4-18: the bits between the PAT bit
			 * (12) and the page's address. */
			reserved |= ((1ULL << shift) - 1) & ~0x1FFFULL;
		if (!use_entry(w, at, 8, entry, reserved))
			return false;
		if (level == 1 || large) {
			uint64_t page_mask = (1ULL << shift) - 1;
			*gpa = (entry & PTE_ADDR_52 & ~page_mask) | (linear & page_mask);
			return true;
		}
		table = entry & PTE_ADDR_52;
	}
}

static bool walk(struct walk *w, uint64_t linear, uint64_t *gpa)
{
	w->used_count = 0;
	w->user_page = w->writable = w->executable = true;
	w->error &= ~(uint32_t)(PF_PRESENT | PF_RSVD);
	bool translated = (w->cr4 & CR4_PAE) ? walk_64bit_entries(w, linear, gpa)
					     : walk_32bit(w, linear, gpa);
	return translated && access_permitted(w);
}

bool guest_translate(struct vcpu *vcpu, uint64_t linear, enum guest_access access,
		     uint64_t *gpa, uint32_t *pf_error)
{
	uint64_t cr0 = vmcs_read(GUEST_CR0);
	bool implicit = access & GUEST_IMPLICIT;

	*pf_error = 0;
	if (!(cr0 & CR0_PG)) { /* paging off: linear = physical (SDM Vol. 3A 4.1.1) */
		*gpa = (uint32_t)linear;
		return true;
	}

	struct walk w = {
		.vcpu = vcpu,
		.access = (enum guest_access)(access & ~GUEST_IMPLICIT),
		.implicit = implicit,
		.user = !implicit && vcpu_guest_cpl() == 3,
		.cr0 = cr0,
		.cr4 = vmcs_read(GUEST_CR4),
		.efer = vmcs_read(GUEST_IA32_EFER),
	};
	/* Reserved in every 8-byte entry: the address bits beyond MAXPHYADDR
	 * (51 in 4-level paging, 62 in PAE paging: Tables 4-14 to 4-19 and
	 * 4-8 to 4-11) and XD without EFER.NXE. */
	unsigned top = (w.efer & EFER_LMA) ? 52 : 63;
	w.phys_mask = cpu_physical_address_mask();
	w.reserved = (((1ULL << top) - 1) & ~w.phys_mask) |
		     ((w.efer & EFER_NXE) ? 0 : PTE_NX);
	/* The #PF error code's access bits (SDM Vol. 3A 4.7): I/D only where
	 * the CPU reports it (SMEP, or XD enabled with PAE or 4-level paging). */
	bool reports_fetch = (w.cr4 & CR4_SMEP) || ((w.cr4 & CR4_PAE) && (w.efer & EFER_NXE));
	w.error = (w.access == GUEST_WRITE ? PF_WRITE : 0) | (w.user ? PF_USER : 0) |
		  (w.access == GUEST_FETCH && reports_fetch ? PF_FETCH : 0);

	for (unsigned attempt = 1;; attempt++) {
		if (!walk(&w, linear, gpa)) {
			*pf_error = w.error;
			return false;
		}
		/* After a few changed entries in a row, the translation stands
		 * without its flags rather than spinning against the guest. */
		if (set_accessed_dirty(&w) || attempt == WALK_ATTEMPTS)
			return true;
	}
}

unsigned guest_fetch_linear(struct vcpu *vcpu, uint64_t linear, uint8_t *dst, unsigned len)
{
	unsigned got = 0;

	while (got < len) {
		uint64_t gpa;
		uint32_t error;
		unsigned in_page = 4096 - (unsigned)((linear + got) & 0xFFF);
		unsigned n = len - got < in_page ? len - got : in_page;

		/* One walk per page; outside IA-32e mode the walk itself keeps
		 * the low 32 bits, so a fetch wraps at 4 GiB as the CPU's does. */
		if (!guest_translate(vcpu, linear + got, GUEST_FETCH, &gpa, &error))
			break;
		if (!guest_read(vcpu->vm, gpa, dst + got, n)) {
			/* Part of the chunk is not RAM (the end of RAM inside
			 * this page): keep the bytes before it. */
			while (n-- && guest_read(vcpu->vm, gpa++, dst + got, 1))
				got++;
			break;
		}
		got += n;
	}
	return got;
}
