#include "vm/vm.h"

#include <stdarg.h>

#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "vcpu/vcpu.h"

/* Maps [gpa, gpa + 2^(12+9*level)) with one large page; false if no run is free. */
static bool map_large(struct vm *vm, uint64_t gpa, unsigned level)
{
	size_t pages = (size_t)1 << (9 * level);
	void *block = plat_alloc_pages(pages, pages);

	if (!block)
		return false;
	if (!ept_map_large(&vm->ept, gpa, plat_virt_to_phys(block), level,
			   EPT_RWX | EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT)) {
		plat_free_pages(block, pages);
		return false;
	}
	return true;
}

const char *vm_create(struct vm *vm, unsigned id, const char *name, uint64_t ram_size)
{
	return vm_create_with_pages(vm, id, name, ram_size, 0);
}

const char *vm_create_with_pages(struct vm *vm, unsigned id, const char *name,
				 uint64_t ram_size, unsigned large_pages)
{
	memset(vm, 0, sizeof(*vm));
	vm->id = id;
	vm_devices_init(&vm->devices);
	fmt_snprintf(vm->name, sizeof(vm->name), "%s", name);
	if (ram_size < VM_MIN_RAM || ram_size > VM_MAX_RAM || ram_size % PAGE_SIZE)
		return "guest RAM size must be a multiple of 4 KiB between 2 MiB and 64 GiB";
	if (!ept_init(&vm->ept))
		return "out of memory for the EPT";
	/* Guest RAM: host pages owned by this VM alone, mapped write-back. */
	for (uint64_t gpa = 0; gpa < ram_size;) {
		if ((large_pages & VM_PAGES_1G) && !(gpa & ((1ULL << 30) - 1)) &&
		    ram_size - gpa >= (1ULL << 30) && map_large(vm, gpa, 2)) {
			gpa += 1ULL << 30;
			continue;
		}
		if ((large_pages & VM_PAGES_2M) && !(gpa & ((1ULL << 21) - 1)) &&
		    ram_size - gpa >= (1ULL << 21) && map_large(vm, gpa, 1)) {
			gpa += 1ULL << 21;
			continue;
		}
		void *page = plat_alloc_page();
		if (!page || !ept_map_4k(&vm->ept, gpa, plat_virt_to_phys(page),
					 EPT_RWX | EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT)) {
			if (page)
				plat_free_page(page);
			vm->ram_size = gpa;
			vm_destroy(vm);
			return "out of memory for guest RAM";
		}
		gpa += PAGE_SIZE;
	}
	vm->ram_size = ram_size;
	return NULL;
}

void vm_destroy(struct vm *vm)
{
	/* Large pages split for protected ranges (vm/protect.c) go back
	 * whole: guest RAM is freed in the runs it was allocated in. */
	ept_merge_splits(&vm->ept);
	for (uint64_t gpa = 0; gpa < vm->ram_size;) {
		uint64_t size = ept_mapping_size(&vm->ept, gpa);
		if (!size) {
			gpa += PAGE_SIZE;
			continue;
		}
		void *first = plat_phys_to_virt(ept_translate(&vm->ept, gpa, NULL));
		if (size == PAGE_SIZE)
			plat_free_page(first);
		else
			plat_free_pages(first, size / PAGE_SIZE);
		gpa += size;
	}
	vm->ram_size = 0;
	ept_destroy(&vm->ept);
	plat_free_page(vm->apic_access_page);
	vm->apic_access_page = NULL;
	vm->apicv = 0;
}

void vm_end(struct vm *vm, bool success, const char *fmt, ...)
{
	if (vm->ended)
		return;
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(vm->end_reason, sizeof(vm->end_reason), fmt, ap);
	va_end(ap);
	__atomic_store_n(&vm->ended, true, __ATOMIC_RELEASE);
	vm->success = success;
	vm_console_flush(vm);
	log_printf("cvisor: VM %s ended: %s: %s\n", vm->name,
		   success ? "success" : "failure", vm->end_reason);
	/* vCPUs running on other CPUs leave their guests now, not at the end
	 * of their time slice. */
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		if (!vm->vcpus[i])
			continue;
		__atomic_store_n(&vm->vcpus[i]->vm_ended, 1, __ATOMIC_RELEASE);
		vcpu_kick(vm->vcpus[i]);
	}
}
