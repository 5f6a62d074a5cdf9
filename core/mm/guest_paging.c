#include "mm/guest_paging.h"

#include "lib/mem.h"
#include "mm/guest_memory.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "x86.h"


struct walk {
	struct vcpu *vcpu;
	enum guest_access access;
	bool user, write_protect, nx_enabled;
	uint32_t error;
};

static bool read_entry(struct walk *w, uint64_t gpa, unsigned size, uint64_t *entry)
{
	return guest_read_entry(w->vcpu->vm, gpa, size, entry);
}

/* Checks one present entry's permission bits; false sets the #PF error. */
static bool permitted(struct walk *w, uint64_t entry)
{
	if (!(entry & PTE_P))
		return false;
	if (w->user && !(entry & PTE_US))
		goto fault;
	if (w->access == GUEST_WRITE && !(entry & PTE_RW) && (w->user || w->write_protect))
		goto fault;
	if (w->access == GUEST_FETCH && w->nx_enabled && (entry & PTE_NX))
		goto fault;
	return true;
fault:
	w->error |= PF_PRESENT;
	return false;
}

static bool translate(struct vcpu *vcpu, uint64_t linear, enum guest_access access, bool user,
		      uint64_t *gpa, uint32_t *pf_error)
{
	uint64_t cr0 = vmcs_read(GUEST_CR0);

	if (!(cr0 & CR0_PG)) { /* paging off: linear = physical (SDM Vol. 3A 4.1.1) */
		*gpa = (uint32_t)linear;
		*pf_error = 0;
		return true;
	}

	uint64_t cr4 = vmcs_read(GUEST_CR4), efer = vmcs_read(GUEST_IA32_EFER);
	struct walk w = {
		.vcpu = vcpu,
		.access = access,
		.user = user,
		.write_protect = cr0 & CR0_WP,
		.nx_enabled = efer & EFER_NXE,
	};
	uint64_t entry;

	w.error = (access == GUEST_WRITE ? PF_WRITE : 0) | (w.user ? PF_USER : 0) |
		  (access == GUEST_FETCH && w.nx_enabled ? PF_FETCH : 0);
	*pf_error = w.error;

	if (!(cr4 & CR4_PAE)) {
		/* 32-bit paging (SDM Vol. 3A 4.3): 10-bit directory and table indexes. */
		uint64_t cr3 = vmcs_read(GUEST_CR3) & 0xFFFFF000ULL;
		if (!read_entry(&w, cr3 + ((linear >> 22) & 0x3FF) * 4, 4, &entry) ||
		    !permitted(&w, entry))
			goto fault;
		if ((entry & PTE_PS) && (cr4 & CR4_PSE)) {
			uint64_t base = (entry & 0xFFC00000ULL) | ((entry >> 13) & 0xFF) << 32;
			*gpa = base | (linear & 0x3FFFFF);
			return true;
		}
		uint64_t pde = entry;
		if (!read_entry(&w, (pde & 0xFFFFF000ULL) + ((linear >> 12) & 0x3FF) * 4, 4, &entry) ||
		    !permitted(&w, entry))
			goto fault;
		*gpa = (entry & 0xFFFFF000ULL) | (linear & 0xFFF);
		return true;
	}

	unsigned level;
	uint64_t table;
	if (efer & EFER_LMA) {
		/* 4-level paging (SDM Vol. 3A 4.5): PML4 at CR3. */
		if (cr4 & (1ULL << 12)) /* LA57: 5-level paging is not walked */
			goto fault;
		table = vmcs_read(GUEST_CR3) & PTE_ADDR_52;
		level = 4;
	} else {
		/* PAE paging (SDM Vol. 3A 4.4): the PDPTEs are in the VMCS with EPT. */
		static const vmcs_RW64_t pdpte[4] = { GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2,
						      GUEST_PDPTE3 };
		entry = vmcs_read(pdpte[(linear >> 30) & 3]);
		if (!(entry & PTE_P))
			goto fault;
		table = entry & PTE_ADDR_52;
		level = 2;
		linear = (uint32_t)linear;
	}
	for (;; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		if (!read_entry(&w, table + ((linear >> shift) & 0x1FF) * 8, 8, &entry) ||
		    !permitted(&w, entry))
			goto fault;
		if (level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS))) {
			uint64_t page_mask = (1ULL << shift) - 1;
			*gpa = (entry & PTE_ADDR_52 & ~page_mask) | (linear & page_mask);
			return true;
		}
		table = entry & PTE_ADDR_52;
	}
fault:
	*pf_error = w.error;
	return false;
}

bool guest_translate(struct vcpu *vcpu, uint64_t linear, enum guest_access access,
		     uint64_t *gpa, uint32_t *pf_error)
{
	return translate(vcpu, linear, access, vcpu_guest_cpl() == 3, gpa, pf_error);
}

bool guest_translate_supervisor(struct vcpu *vcpu, uint64_t linear, enum guest_access access,
				uint64_t *gpa, uint32_t *pf_error)
{
	return translate(vcpu, linear, access, false, gpa, pf_error);
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
