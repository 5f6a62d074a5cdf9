/*
 * Footprint probe for make bench (not a test): builds VMs with the core's
 * own vm_create on the fake platform and prints how many EPT paging-
 * structure pages they take.  Guest RAM of 1 GiB runs is mmap'ed lazily by
 * the fake platform, so a 4 GiB VM costs the host almost nothing.
 *
 *   ept_table_pages <ram_mib> <1g|2m|4k> <pages>
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "vm/vm.h"

static int probe(uint64_t ram_mib, unsigned pages, const char *kind)
{
	struct vm v;
	const char *err = vm_create_with_pages(&v, 0, "probe", ram_mib << 20, pages);

	if (err) {
		fprintf(stderr, "bench_footprint: %llu MiB VM with %s pages: %s\n",
			(unsigned long long)ram_mib, kind, err);
		return 1;
	}
	printf("ept_table_pages %llu %s %u\n", (unsigned long long)ram_mib, kind,
	       v.ept.table_pages);
	vm_destroy(&v);
	return 0;
}

int main(void)
{
	fake_platform_reset();
	fake_cpu_reset();
	return probe(4096, VM_PAGES_1G, "1g") | probe(1024, VM_PAGES_1G, "1g") |
	       probe(64, VM_PAGES_2M, "2m");
}
