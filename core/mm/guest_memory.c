#include "mm/guest_memory.h"

#include "lib/log.h"
#include "lib/mem.h"
#include "mm/identity_map.h"
#include "platform.h"
#include "vm/vm.h"

/* The range [gpa, gpa+len) lies inside guest RAM, without overflow. */
static bool guest_range_ok(const struct vm *vm, uint64_t gpa, size_t len)
{
	if (vm->identity) {
		/* The running OS: only its RAM, which the host can address. */
		for (unsigned i = 0; i < vm->ram_range_count; i++)
			if (gpa >= vm->ram_ranges[i].start && gpa < vm->ram_ranges[i].end &&
			    len <= vm->ram_ranges[i].end - gpa)
				return true;
		return false;
	}
	return gpa < vm->ram_size && len <= vm->ram_size - gpa;
}

static uint8_t *guest_page(const struct vm *vm, uint64_t gpa)
{
	uint64_t hpa = ept_translate(&vm->ept, gpa, NULL);
	return hpa == EPT_NO_MAPPING ? NULL : plat_phys_to_virt(hpa);
}

/* Copies between guest RAM and a host buffer, one guest page at a time. */
static bool guest_copy(const struct vm *vm, uint64_t gpa, uint8_t *host, size_t len,
		       int direction /* 0 read, 1 write, 2 zero */)
{
	/* Check the whole range first so a failure copies nothing. */
	if (!guest_is_ram(vm, gpa, len))
		return false;
	while (len) {
		size_t in_page = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
		size_t n = len < in_page ? len : in_page;
		if (direction != 0 && vm->identity && identity_map_is_protected(vm->identity, gpa)) {
			/* The hosted OS never gets cvisor to write cvisor's own
			 * memory (a REP STOS it started there, say): dropped. */
			log_printf("cvisor: VM %s: a %zu-byte write to cvisor memory at 0x%llx was "
				   "refused\n", vm->name, n, (unsigned long long)gpa);
		} else if (direction == 0) {
			memcpy(host, guest_page(vm, gpa), n);
		} else {
			/* Not through plat_phys_to_virt: the hosted OS's page
			 * may be mapped read-only there (its kernel text, which
			 * a `log` write reaches, vm/protect.h). */
			plat_write_phys(ept_translate(&vm->ept, gpa, NULL), direction == 1 ? host : NULL,
					n);
		}
		gpa += n;
		len -= n;
		if (host)
			host += n;
	}
	return true;
}

bool guest_is_ram(const struct vm *vm, uint64_t gpa, size_t len)
{
	if (len == 0)
		return true;
	if (!guest_range_ok(vm, gpa, len))
		return false;
	for (uint64_t p = gpa & PAGE_MASK; p < gpa + len; p += PAGE_SIZE)
		if (!guest_page(vm, p))
			return false;
	return true;
}

bool guest_read(const struct vm *vm, uint64_t gpa, void *dst, size_t len)
{
	/* Within one page (an instruction fetch, a small structure): one EPT
	 * lookup both checks the page and finds it. */
	if (len && len <= PAGE_SIZE - (gpa & (PAGE_SIZE - 1))) {
		uint8_t *g = guest_range_ok(vm, gpa, len) ? guest_page(vm, gpa) : NULL;
		if (!g)
			return false;
		memcpy(dst, g, len);
		return true;
	}
	return guest_copy(vm, gpa, dst, len, 0);
}

bool guest_read_entry(const struct vm *vm, uint64_t gpa, unsigned size, uint64_t *value)
{
	*value = 0;
	if ((size != 4 && size != 8) || (gpa & (size - 1)) || !guest_range_ok(vm, gpa, size))
		return false;
	const uint8_t *g = guest_page(vm, gpa);
	if (!g)
		return false;
	if (size == 8) {
		__builtin_memcpy(value, g, 8);
	} else {
		uint32_t v;
		__builtin_memcpy(&v, g, 4);
		*value = v;
	}
	return true;
}

enum guest_entry_update guest_update_entry(struct vm *vm, uint64_t gpa, unsigned size,
					   uint64_t expected, uint64_t desired)
{
	uint64_t perms = 0;

	if ((size != 4 && size != 8) || (gpa & (size - 1)) || !guest_range_ok(vm, gpa, size))
		return GUEST_ENTRY_NOT_WRITABLE;
	uint64_t hpa = ept_translate(&vm->ept, gpa, &perms);
	/* A page the guest may not write through its EPT (protected memory,
	 * vm/protect.h; cvisor's own pages under the hosted OS) keeps its
	 * entry as it is. */
	if (hpa == EPT_NO_MAPPING || !(perms & EPT_WRITE) ||
	    (vm->identity && identity_map_is_protected(vm->identity, gpa)))
		return GUEST_ENTRY_NOT_WRITABLE;
	return plat_cmpxchg_phys(hpa, size, expected, desired) ? GUEST_ENTRY_UPDATED
							       : GUEST_ENTRY_CHANGED;
}

bool guest_write(struct vm *vm, uint64_t gpa, const void *src, size_t len)
{
	return guest_copy(vm, gpa, (uint8_t *)src, len, 1);
}

bool guest_zero(struct vm *vm, uint64_t gpa, size_t len)
{
	return guest_copy(vm, gpa, NULL, len, 2);
}
