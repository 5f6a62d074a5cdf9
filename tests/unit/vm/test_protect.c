/*
 * Tests of core/vm/protect.c: the range set (overlaps narrow and never
 * widen, splits, merges, capacity), HC_PROTECT's checks and its EPT
 * (permissions, large pages split only where needed and merged back,
 * INVEPT), pinned control registers and MSRs, the events ring, emulated
 * accesses by policy, the other vCPUs' catch-up and the reset that lifts
 * everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "abi/hypercall.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_exit.h"
#include "fixture_vm.h"
#include "mm/ept.h"
#include "mm/guest_memory.h"
#include "vcpu/vcpu.h"
#include "vm/protect.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/msr_bitmap.h"
#include "vmx/vmcs.h"
#include "x86.h"

#define R HC_PROT_READ
#define W HC_PROT_WRITE
#define X HC_PROT_EXEC
#define LOG HC_POLICY_LOG
#define DENY HC_POLICY_DENY
#define STOP HC_POLICY_STOP

/* ---- The range set, on plain arrays ---- */

static struct protect_range range(uint64_t start, uint64_t end, unsigned perms, unsigned policy)
{
	return (struct protect_range){ .start = start, .end = end, .perms = (uint8_t)perms,
				       .policy = (uint8_t)policy };
}

/* set = set narrowed by req; the new count. */
static unsigned narrow(struct protect_range *set, unsigned n, struct protect_range req)
{
	struct protect_range out[PROTECT_MAX_RANGES];
	unsigned count = 0;
	assert_int_equal(protect_ranges_narrow(set, n, &req, out, PROTECT_MAX_RANGES, &count),
			 PROTECT_OK);
	memcpy(set, out, count * sizeof(out[0]));
	return count;
}

static void check_range(const struct protect_range *r, uint64_t start, uint64_t end,
			unsigned perms, unsigned policy)
{
	if (r->start != start || r->end != end || r->perms != perms || r->policy != policy)
		fail_msg("range [0x%llx, 0x%llx) perms %u policy %u, expected [0x%llx, 0x%llx) %u %u",
			 (unsigned long long)r->start, (unsigned long long)r->end, r->perms, r->policy,
			 (unsigned long long)start, (unsigned long long)end, perms, policy);
}

static void set_first_request_is_one_range(void **state)
{
	(void)state;
	struct protect_range set[PROTECT_MAX_RANGES];
	unsigned n = narrow(set, 0, range(0x3000, 0x5000, R | X, DENY));
	assert_int_equal(n, 1);
	check_range(&set[0], 0x3000, 0x5000, R | X, DENY);
}

static void set_keeps_disjoint_ranges_sorted(void **state)
{
	(void)state;
	struct protect_range set[PROTECT_MAX_RANGES];
	unsigned n = narrow(set, 0, range(0x8000, 0x9000, R, DENY));
	n = narrow(set, n, range(0x1000, 0x2000, R, LOG));
	n = narrow(set, n, range(0x4000, 0x5000, R | W, STOP));
	assert_int_equal(n, 3);
	check_range(&set[0], 0x1000, 0x2000, R, LOG);
	check_range(&set[1], 0x4000, 0x5000, R | W, STOP);
	check_range(&set[2], 0x8000, 0x9000, R, DENY);
}

static void set_merges_touching_ranges_that_agree(void **state)
{
	(void)state;
	struct protect_range set[PROTECT_MAX_RANGES];
	unsigned n = narrow(set, 0, range(0x1000, 0x2000, R, DENY));
	n = narrow(set, n, range(0x3000, 0x4000, R, DENY));
	assert_int_equal(n, 2);
	n = narrow(set, n, range(0x2000, 0x3000, R, DENY)); /* fills the hole */
	assert_int_equal(n, 1);
	check_range(&set[0], 0x1000, 0x4000, R, DENY);
	/* Touching but different: two ranges. */
	n = narrow(set, n, range(0x4000, 0x5000, R, LOG));
	assert_int_equal(n, 2);
	check_range(&set[1], 0x4000, 0x5000, R, LOG);
}

static void set_request_inside_a_range_splits_it_in_three(void **state)
{
	(void)state;
	struct protect_range set[PROTECT_MAX_RANGES];
	unsigned n = narrow(set, 0, range(0x10000, 0x20000, R | W | X, LOG));
	n = narrow(set, n, range(0x14000, 0x15000, R | X, DENY));
	assert_int_equal(n, 3);
	check_range(&set[0], 0x10000, 0x14000, R | W | X, LOG);
	check_range(&set[1], 0x14000, 0x15000, R | X, DENY);
	check_range(&set[2], 0x15000, 0x20000, R | W | X, LOG);
}

/* Protection is one-way: the overlap keeps the permissions both allow and
 * the stricter policy, whatever order the requests come in. */
static void set_overlap_narrows_and_never_widens(void **state)
{
	(void)state;
	struct protect_range set[PROTECT_MAX_RANGES];
	unsigned n = narrow(set, 0, range(0x1000, 0x3000, R | X, DENY));
	n = narrow(set, n, range(0x1000, 0x3000, R | W | X, LOG)); /* asks for more */
	assert_int_equal(n, 1);
	check_range(&set[0], 0x1000, 0x3000, R | X, DENY);
	n = narrow(set, n, range(0x2000, 0x3000, R | W, STOP));
	assert_int_equal(n, 2);
	check_range(&set[0], 0x1000, 0x2000, R | X, DENY);
	check_range(&set[1], 0x2000, 0x3000, R, STOP);
}

/* One request over ranges and the gaps between them. */
static void set_request_across_ranges_and_gaps(void **state)
{
	(void)state;
	struct protect_range set[PROTECT_MAX_RANGES];
	unsigned n = narrow(set, 0, range(0x2000, 0x4000, R | X, LOG));
	n = narrow(set, n, range(0x6000, 0x7000, R, STOP));
	n = narrow(set, n, range(0x1000, 0x9000, R | W, DENY));
	assert_int_equal(n, 5);
	check_range(&set[0], 0x1000, 0x2000, R | W, DENY);
	check_range(&set[1], 0x2000, 0x4000, R, DENY);
	check_range(&set[2], 0x4000, 0x6000, R | W, DENY);
	check_range(&set[3], 0x6000, 0x7000, R, STOP);
	check_range(&set[4], 0x7000, 0x9000, R | W, DENY);
}

static void set_refuses_a_page_left_with_no_permission(void **state)
{
	(void)state;
	struct protect_range set[PROTECT_MAX_RANGES], out[PROTECT_MAX_RANGES];
	unsigned n = narrow(set, 0, range(0x1000, 0x2000, X, DENY)), count = 99;
	struct protect_range req = range(0x1000, 0x2000, R | W, DENY);
	assert_int_equal(protect_ranges_narrow(set, n, &req, out, PROTECT_MAX_RANGES, &count),
			 PROTECT_EINVAL);
	assert_int_equal(count, 99);
}

static void set_refuses_more_ranges_than_it_holds(void **state)
{
	(void)state;
	struct protect_range set[4], out[4];
	unsigned n = 0, count = 0;
	for (uint64_t i = 0; i < 4; i++) {
		struct protect_range req = range(0x10000 * (i + 1), 0x10000 * (i + 1) + 0x1000, R, DENY);
		assert_int_equal(protect_ranges_narrow(set, n, &req, out, 4, &count), PROTECT_OK);
		memcpy(set, out, count * sizeof(out[0]));
		n = count;
	}
	struct protect_range req = range(0x90000, 0x91000, R, DENY);
	assert_int_equal(protect_ranges_narrow(set, n, &req, out, 4, &count), PROTECT_ENOMEM);
	/* A request that merges into a neighbour needs no new room. */
	req = range(0x11000, 0x12000, R, DENY);
	assert_int_equal(protect_ranges_narrow(set, n, &req, out, 4, &count), PROTECT_OK);
	assert_int_equal(count, 4);
	check_range(&out[0], 0x10000, 0x12000, R, DENY);
}

/* ---- HC_PROTECT on the fixture's VM (2 MiB of 4 KiB pages) ---- */

static uint64_t perms_at(const struct vm *v, uint64_t gpa)
{
	uint64_t perms = 0;
	assert_int_not_equal(ept_translate(&v->ept, gpa, &perms), EPT_NO_MAPPING);
	return perms;
}

static void protect_checks_its_arguments(void **state)
{
	(void)state;
	assert_int_equal(protect_memory(&vcpu, 0x3001, 0x1000, R, DENY), PROTECT_EINVAL);
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0xFFF, R, DENY), PROTECT_EINVAL);
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0, R, DENY), PROTECT_EINVAL);
	assert_int_equal(protect_memory(&vcpu, 0xFFFFFFFFFFFFF000ULL, 0x2000, R, DENY),
			 PROTECT_EINVAL); /* wraps */
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, 0, DENY), PROTECT_EINVAL);
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, 8 | R, DENY), PROTECT_EINVAL);
	/* Write without read: an EPT misconfiguration (SDM Vol. 3C 29.3.3.1). */
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, W, DENY), PROTECT_EINVAL);
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, W | X, DENY), PROTECT_EINVAL);
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, R, 3), PROTECT_EINVAL);
	/* Not the VM's RAM, or only partly. */
	assert_int_equal(protect_memory(&vcpu, FIXTURE_RAM, 0x1000, R, DENY), PROTECT_EFAULT);
	assert_int_equal(protect_memory(&vcpu, FIXTURE_RAM - 0x1000, 0x2000, R, DENY),
			 PROTECT_EFAULT);
	assert_int_equal(vm.protect.range_count, 0);
	assert_int_equal(perms_at(&vm, 0x3000), EPT_RWX);
}

/* Execute-only pages where IA32_VMX_EPT_VPID_CAP[0] allows them (SDM Vol.
 * 3C A.10), HC_PROTECT's `log` where the CPU has the monitor trap flag
 * (protect_narrow, cvisor.ko's way, takes it anyway: exit/protect.c lets
 * through what it emulates and denies the rest). */
static void protect_needs_the_cpu_features_it_uses(void **state)
{
	(void)state;
	assert_true(cpu.caps.ept_vpid & EPT_CAP_EXECUTE_ONLY); /* Bochs tigerlake */
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, X, DENY), PROTECT_OK);
	assert_int_equal(perms_at(&vm, 0x3000), EPT_EXECUTE);
	cpu.caps.ept_vpid &= ~EPT_CAP_EXECUTE_ONLY;
	assert_int_equal(protect_memory(&vcpu, 0x5000, 0x1000, X, DENY), PROTECT_EINVAL);

	assert_int_equal(protect_memory(&vcpu, 0x6000, 0x1000, R, LOG), PROTECT_OK);
	cpu.caps.controls[VMX_CONTROLS_PROC] &= ~((uint64_t)PROC_MONITOR_TRAP_FLAG << 32);
	assert_int_equal(protect_memory(&vcpu, 0x7000, 0x1000, R, LOG), PROTECT_EINVAL);
	assert_int_equal(protect_memory(&vcpu, 0x7000, 0x1000, R, DENY), PROTECT_OK);
	assert_int_equal(protect_narrow(&vm, &cpu.caps, 0x8000, 0x1000, R, LOG), PROTECT_OK);
	assert_int_equal(perms_at(&vm, 0x8000), EPT_READ);
}

/* protect_narrow: the same checks and EPT without a vCPU and without
 * INVEPT (cvisor.ko, before any CPU runs the VM). */
static void protect_narrow_works_without_a_vcpu(void **state)
{
	(void)state;
	unsigned inveptions = fake_cpu.invept_calls;
	assert_int_equal(protect_narrow(&vm, &cpu.caps, 0x3001, 0x1000, R, DENY), PROTECT_EINVAL);
	assert_int_equal(protect_narrow(&vm, &cpu.caps, FIXTURE_RAM, 0x1000, R, DENY),
			 PROTECT_EFAULT);
	assert_int_equal(protect_narrow(&vm, &cpu.caps, 0x3000, 0x2000, R | X, LOG), PROTECT_OK);
	assert_int_equal(protect_narrow(&vm, &cpu.caps, 0x8000, 0x1000, R, DENY), PROTECT_OK);
	assert_int_equal(fake_cpu.invept_calls, inveptions);
	assert_int_equal(perms_at(&vm, 0x3000), EPT_READ | EPT_EXECUTE);
	assert_int_equal(perms_at(&vm, 0x8000), EPT_READ);
	assert_int_equal(perms_at(&vm, 0x5000), EPT_RWX);
}

static void protect_narrows_the_ept_and_invalidates(void **state)
{
	(void)state;
	unsigned inveptions = fake_cpu.invept_calls;
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x2000, R | X, DENY), PROTECT_OK);
	assert_int_equal(perms_at(&vm, 0x2000), EPT_RWX);
	assert_int_equal(perms_at(&vm, 0x3000), EPT_READ | EPT_EXECUTE);
	assert_int_equal(perms_at(&vm, 0x4FFF), EPT_READ | EPT_EXECUTE);
	assert_int_equal(perms_at(&vm, 0x5000), EPT_RWX);
	/* Single-context INVEPT of this VM's EPT (SDM Vol. 3C 31.3). */
	assert_int_equal(fake_cpu.invept_calls, inveptions + 1);
	assert_int_equal(fake_cpu.last_invept_type, 1);
	assert_int_equal(fake_cpu.last_invept_eptp, vm.ept.eptp);

	/* A wider request over it changes nothing there (one-way). */
	assert_int_equal(protect_memory(&vcpu, 0x2000, 0x4000, R | W | X, LOG), PROTECT_OK);
	assert_int_equal(perms_at(&vm, 0x2000), EPT_RWX);
	assert_int_equal(perms_at(&vm, 0x3000), EPT_READ | EPT_EXECUTE);
	const struct protect_range *r = protect_range_at(&vm.protect, 0x3000);
	assert_non_null(r);
	assert_int_equal(r->policy, DENY);
	assert_null(protect_range_at(&vm.protect, 0x6000));
	assert_non_null(protect_range_at(&vm.protect, 0x5FFF));
}

/* A VM with 2 MiB pages: only the large page a range cuts through splits,
 * and a reset (or the VM's end) puts it back whole. */
static void protect_splits_large_pages_only_where_a_range_needs_it(void **state)
{
	(void)state;
	static struct vm big;
	static struct vcpu lone; /* no VMCS: HC_PROTECT needs its VM and CPU only */
	struct vcpu *v = &lone;
	memset(v, 0, sizeof(*v));
	assert_null(vm_create_with_pages(&big, 2, "big", 8 * MiB, VM_PAGES_2M));
	v->vm = &big;
	v->cpu = &cpu;
	unsigned tables = big.ept.table_pages;
	assert_int_equal(ept_mapping_size(&big.ept, 2 * MiB), 2 * MiB);

	/* One page in the second 2 MiB page: that page splits, no other. */
	assert_int_equal(protect_memory(v, 2 * MiB + 0x3000, 0x1000, R, DENY), PROTECT_OK);
	assert_int_equal(big.ept.table_pages, tables + 1);
	assert_int_equal(ept_mapping_size(&big.ept, 2 * MiB), 0x1000);
	assert_int_equal(ept_mapping_size(&big.ept, 0), 2 * MiB);
	assert_int_equal(ept_mapping_size(&big.ept, 4 * MiB), 2 * MiB);
	assert_int_equal(perms_at(&big, 2 * MiB + 0x3000), EPT_READ);
	assert_int_equal(perms_at(&big, 2 * MiB + 0x4000), EPT_RWX);

	/* The whole third 2 MiB page: it keeps its size. */
	assert_int_equal(protect_memory(v, 4 * MiB, 2 * MiB, R | X, LOG), PROTECT_OK);
	assert_int_equal(big.ept.table_pages, tables + 1);
	assert_int_equal(ept_mapping_size(&big.ept, 4 * MiB), 2 * MiB);
	assert_int_equal(perms_at(&big, 5 * MiB), EPT_READ | EPT_EXECUTE);

	/* Half of it with another policy and the same permissions: it splits
	 * (a `log` step must not lift the `stop` half). */
	assert_int_equal(protect_memory(v, 5 * MiB, MiB, R | X, STOP), PROTECT_OK);
	assert_int_equal(ept_mapping_size(&big.ept, 4 * MiB), 0x1000);
	assert_int_equal(big.ept.table_pages, tables + 2);

	protect_reset(&big);
	assert_int_equal(big.protect.range_count, 0);
	assert_int_equal(big.ept.table_pages, tables);
	assert_int_equal(ept_mapping_size(&big.ept, 2 * MiB + 0x3000), 2 * MiB);
	assert_int_equal(perms_at(&big, 2 * MiB + 0x3000), EPT_RWX);
	assert_int_equal(perms_at(&big, 5 * MiB), EPT_RWX);

	/* Split again and destroyed without a reset: the RAM goes back in the
	 * 2 MiB runs it came in (the fake platform checks). */
	assert_int_equal(protect_memory(v, 6 * MiB + 0x1000, 0x1000, R, DENY), PROTECT_OK);
	vm_destroy(&big);
}

static void protect_out_of_memory_for_a_split_changes_nothing(void **state)
{
	(void)state;
	static struct vm big;
	static struct vcpu lone; /* no VMCS: HC_PROTECT needs its VM and CPU only */
	struct vcpu *v = &lone;
	memset(v, 0, sizeof(*v));
	assert_null(vm_create_with_pages(&big, 2, "big", 4 * MiB, VM_PAGES_2M));
	v->vm = &big;
	v->cpu = &cpu;
	fake_pages_set_limit(0);
	assert_int_equal(protect_memory(v, 0x3000, 0x1000, R, DENY), PROTECT_ENOMEM);
	fake_pages_set_limit(-1);
	assert_int_equal(big.protect.range_count, 0);
	assert_int_equal(perms_at(&big, 0x3000), EPT_RWX);
	vm_destroy(&big);
}

static void protect_allows_answers_per_access(void **state)
{
	(void)state;
	assert_true(protect_allows(&vm, 0x3000, 0x1000, W));
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, R, DENY), PROTECT_OK);
	assert_true(protect_allows(&vm, 0x3000, 8, R));
	assert_false(protect_allows(&vm, 0x3000, 8, W));
	assert_false(protect_allows(&vm, 0x2FF8, 16, W)); /* reaches into it */
	assert_true(protect_allows(&vm, 0x2FF8, 8, W));
	assert_true(protect_allows(&vm, 0x4000, 8, W));
}

/* ---- Pinned registers ---- */

static void pin_cr_checks_its_arguments(void **state)
{
	(void)state;
	/* The fixture's guest: CR0 = PE | ET, CR4 = 0. */
	assert_int_equal(protect_pin_cr(&vcpu, 0, CR0_WP), PROTECT_EINVAL); /* not set */
	assert_int_equal(protect_pin_cr(&vcpu, 3, CR0_WP), PROTECT_EINVAL);
	assert_int_equal(protect_pin_cr(&vcpu, 0, 0), PROTECT_EINVAL);
	assert_int_equal(protect_pin_cr(&vcpu, 0, CR0_PE), PROTECT_EINVAL); /* not pinnable */
	fake_vmcs_set(CR4_READ_SHADOW.encoding, CR4_SMEP | CR4_PAE);
	fake_vmcs_set(GUEST_CR4.encoding, vmcs(GUEST_CR4.encoding) | CR4_SMEP | CR4_PAE);
	assert_int_equal(protect_pin_cr(&vcpu, 4, CR4_PAE), PROTECT_EINVAL);
	assert_int_equal(protect_pin_cr(&vcpu, 4, CR4_SMEP | CR4_SMAP), PROTECT_EINVAL);
	assert_int_equal(vm.protect.cr4_pinned, 0);
	assert_int_equal(protect_pin_cr(&vcpu, 4, CR4_SMEP), PROTECT_OK);
	assert_int_equal(vm.protect.cr4_pinned, CR4_SMEP);
}

/* The masks come to own the pinned bits; the shadow keeps what the guest
 * reads. */
static void pin_cr_owns_the_bits_and_keeps_the_guests_view(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_WP);
	uint64_t shadow = vmcs(CR0_READ_SHADOW.encoding);
	assert_false(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_WP);
	assert_int_equal(protect_pin_cr(&vcpu, 0, CR0_WP), PROTECT_OK);
	assert_true(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_WP);
	assert_int_equal(vmcs(CR0_READ_SHADOW.encoding), shadow | CR0_WP);
	/* INIT keeps them owned (vcpu_enter_init_state). */
	vcpu_enter_init_state(&vcpu);
	assert_true(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_WP);
	assert_false(vmcs(CR0_READ_SHADOW.encoding) & CR0_WP); /* INIT clears WP */
}

static void pin_cr_write_keeps_only_set_pinned_bits(void **state)
{
	(void)state;
	vm.protect.cr4_pinned = CR4_SMEP | CR4_SMAP;
	/* Clearing a set pinned bit: kept, recorded. */
	assert_int_equal(protect_cr_write(&vcpu, 4, CR4_SMEP | CR4_PAE, CR4_PAE), CR4_SMEP | CR4_PAE);
	/* A pinned bit that is clear now stays clear; unpinned bits are free. */
	assert_int_equal(protect_cr_write(&vcpu, 4, CR4_SMEP | (1ULL << 7) /* PGE */, CR4_SMEP),
			 CR4_SMEP);
	assert_int_equal(protect_cr_write(&vcpu, 0, CR0_PE | CR0_WP, CR0_PE), CR0_PE);
	struct hc_protect_event e[4];
	assert_int_equal(protect_take_events(&vm, e, 4), 1);
	assert_int_equal(e[0].kind, HC_EVENT_CR);
	assert_int_equal(e[0].address, 4);
	assert_int_equal(e[0].value, CR4_PAE);
	assert_int_equal(e[0].action, HC_ACTION_KEPT);
	assert_int_equal(e[0].rip, ENTRY);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_KEPT], 1);
}

static void pin_msr_sysenter_eip_keeps_its_value(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_SYSENTER_EIP.encoding, 0x101234);
	assert_false(msr_bitmap_intercepts(vcpu.msr_bitmap, MSR_IA32_SYSENTER_EIP, true));
	assert_int_equal(protect_pin_msr(&vcpu, 0x1234), PROTECT_EINVAL);
	assert_int_equal(protect_pin_msr(&vcpu, MSR_IA32_SYSENTER_EIP), PROTECT_OK);
	assert_true(msr_bitmap_intercepts(vcpu.msr_bitmap, MSR_IA32_SYSENTER_EIP, true));
	assert_false(msr_bitmap_intercepts(vcpu.msr_bitmap, MSR_IA32_SYSENTER_EIP, false));
	uint64_t value = 0x666;
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_SYSENTER_EIP, &value), PROTECT_MSR_DONE);
	value = 0x101234; /* the same value: no event */
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_SYSENTER_EIP, &value), PROTECT_MSR_DONE);
	value = 5;
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_SYSENTER_ESP, &value), PROTECT_MSR_FREE);
	assert_int_equal(protect_pending_events(&vm), 1);
	/* A reset lets the MSR through again. */
	protect_reset(&vm);
	assert_false(msr_bitmap_intercepts(vcpu.msr_bitmap, MSR_IA32_SYSENTER_EIP, true));
	value = 0x666;
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_SYSENTER_EIP, &value), PROTECT_MSR_FREE);
}

static void pin_msr_efer_keeps_nxe(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_IA32_EFER.encoding, 0);
	assert_int_equal(protect_pin_msr(&vcpu, MSR_IA32_EFER), PROTECT_EINVAL); /* NXE is clear */
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_NXE);
	assert_int_equal(protect_pin_msr(&vcpu, MSR_IA32_EFER), PROTECT_OK);
	uint64_t value = EFER_SCE;
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_EFER, &value), PROTECT_MSR_KEPT);
	assert_int_equal(value, EFER_SCE | EFER_NXE);
	value = EFER_NXE | EFER_SCE;
	assert_int_equal(protect_msr_write(&vcpu, MSR_IA32_EFER, &value), PROTECT_MSR_FREE);
	assert_int_equal(value, EFER_NXE | EFER_SCE);
	/* The caller records a kept write once the WRMSR succeeded. */
	assert_int_equal(protect_pending_events(&vm), 0);
}

/* ---- Events ---- */

static struct hc_protect_event memory_event(uint64_t gpa, uint64_t rip, unsigned action)
{
	return (struct hc_protect_event){ .kind = HC_EVENT_MEMORY, .address = gpa, .rip = rip,
					  .linear = ~0ULL, .access = W, .action = (uint8_t)action };
}

static void events_repeats_fold_into_one(void **state)
{
	(void)state;
	protect_record(&vcpu, memory_event(0x3000, 0x100000, HC_ACTION_DROPPED));
	protect_record(&vcpu, memory_event(0x3008, 0x100000, HC_ACTION_DROPPED)); /* same page */
	protect_record(&vcpu, memory_event(0x4000, 0x100000, HC_ACTION_DROPPED));
	protect_record(&vcpu, memory_event(0x4000, 0x100004, HC_ACTION_DROPPED));
	struct hc_protect_event e[8];
	assert_int_equal(protect_take_events(&vm, e, 8), 3);
	assert_int_equal(e[0].repeats, 2);
	assert_int_equal(e[0].sequence, 0);
	assert_int_equal(e[1].sequence, 1);
	assert_int_equal(e[2].sequence, 2);
	assert_int_equal(e[0].vm_id, 1);
	assert_int_equal(e[0].vcpu_id, 0);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_DROPPED], 4);
	assert_console_contains("cvisor: VM t vCPU 0: protection: write of guest-physical 0x3000 at "
				"RIP 0x100000: dropped (deny)");
}

/* A full ring loses its oldest events: the sequence numbers show the gap. */
static void events_ring_keeps_the_newest(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < PROTECT_EVENT_RING + 5; i++)
		protect_record(&vcpu, memory_event(0x1000 * i, 0x100000, HC_ACTION_ALLOWED));
	assert_int_equal(protect_pending_events(&vm), PROTECT_EVENT_RING);
	struct hc_protect_event e[2];
	assert_int_equal(protect_take_events(&vm, e, 2), 2);
	assert_int_equal(e[0].sequence, 5);
	assert_int_equal(e[1].sequence, 6);
	assert_int_equal(protect_pending_events(&vm), PROTECT_EVENT_RING - 2);
	/* Only the first PROTECT_PRINT_MAX were printed, then one line said so. */
	assert_int_equal(fake_console_count("protection: write"), PROTECT_PRINT_MAX);
	assert_int_equal(fake_console_count("further protection events are kept"), 1);
}

/* ---- Emulated accesses (REP MOVS/STOS/INS elements) ---- */

static void emulated_access_follows_the_policy(void **state)
{
	(void)state;
	assert_true(protect_emulated_access(&vcpu, 0x3000, ~0ULL, 4, true)); /* nothing protected */
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, R, LOG), PROTECT_OK);
	assert_int_equal(protect_memory(&vcpu, 0x4000, 0x1000, X, DENY), PROTECT_OK);
	assert_int_equal(protect_memory(&vcpu, 0x5000, 0x1000, R, STOP), PROTECT_OK);
	assert_true(protect_emulated_access(&vcpu, 0x3000, ~0ULL, 4, false));
	assert_true(protect_emulated_access(&vcpu, 0x3000, ~0ULL, 4, true));   /* log: goes ahead */
	assert_false(protect_emulated_access(&vcpu, 0x4000, ~0ULL, 4, false)); /* deny: no read */
	assert_false(protect_emulated_access(&vcpu, 0x4FFE, ~0ULL, 4, true));  /* deny: no write */
	check_vm_running();
	assert_false(protect_emulated_access(&vcpu, 0x5010, ~0ULL, 2, true));
	check_vm_ended(false, "write of protected guest-physical 0x5010 by an emulated instruction");
	assert_int_equal(vcpu.protect.actions[HC_ACTION_ALLOWED], 1);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_DROPPED], 2);
	assert_int_equal(vcpu.protect.actions[HC_ACTION_STOPPED], 1);
}

/* The deny window (cvisor.ko: kernel-half writes to `log` text) holds for a
 * string element as for the violation itself, by the element's linear
 * address, which its event records (shifted to where the range starts). */
static void emulated_write_in_the_deny_window_is_dropped(void **state)
{
	(void)state;
	const uint64_t kernel_half = 0xFFFF800000000000ULL;
	struct hc_protect_event e[4];

	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, R, LOG), PROTECT_OK);
	vm.protect.log_deny_linear = true;
	vm.protect.log_deny_linear_first = kernel_half;
	vm.protect.log_deny_linear_last = ~0ULL;
	/* text_poke's lower-half alias: logged and let through. */
	assert_true(protect_emulated_access(&vcpu, 0x3010, 0x7F0000001010ULL, 1, true));
	/* A kernel-half alias: dropped. */
	assert_false(protect_emulated_access(&vcpu, 0x3010, kernel_half + 0x5010, 1, true));
	/* Reads are not the window's business; an unknown linear stays `log`. */
	assert_true(protect_emulated_access(&vcpu, 0x3010, kernel_half + 0x5010, 1, false));
	assert_true(protect_emulated_access(&vcpu, 0x3020, ~0ULL, 1, true));
	/* An access that starts before the range: the event is at the range's start. */
	assert_false(protect_emulated_access(&vcpu, 0x2FFE, kernel_half + 0x4FFE, 4, true));
	check_vm_running();
	assert_int_equal(protect_take_events(&vm, e, 4), 4);
	assert_int_equal(e[0].linear, 0x7F0000001010ULL);
	assert_int_equal(e[0].action, HC_ACTION_ALLOWED);
	assert_int_equal(e[1].linear, kernel_half + 0x5010);
	assert_int_equal(e[1].action, HC_ACTION_DROPPED);
	assert_int_equal(e[2].action, HC_ACTION_ALLOWED); /* the write with no linear address */
	assert_int_equal(e[2].linear, ~0ULL);
	assert_int_equal(e[3].address, 0x3000);
	assert_int_equal(e[3].linear, kernel_half + 0x5000);
	assert_int_equal(e[3].action, HC_ACTION_DROPPED);
}

/* ---- The `log` step's lift ---- */

static void lift_and_end_step_restore_the_range(void **state)
{
	(void)state;
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x2000, X, LOG), PROTECT_OK);
	assert_true(protect_lift_page(&vcpu, 0x3010, W));
	assert_int_equal(perms_at(&vm, 0x3000), EPT_RWX); /* write needs read too */
	assert_true(protect_lift_page(&vcpu, 0x4000, R));
	assert_true(protect_lift_page(&vcpu, 0x4008, R)); /* the same page again */
	assert_int_equal(vcpu.protect.step_count, 2);
	assert_int_equal(perms_at(&vm, 0x4000), EPT_READ | EPT_EXECUTE);
	protect_end_step(&vcpu);
	assert_int_equal(vcpu.protect.step_count, 0);
	assert_int_equal(perms_at(&vm, 0x3000), EPT_EXECUTE);
	assert_int_equal(perms_at(&vm, 0x4000), EPT_EXECUTE);
	/* One instruction lifts at most PROTECT_STEP_PAGES pages. */
	for (unsigned i = 0; i < PROTECT_STEP_PAGES; i++)
		vcpu.protect.step_pages[i] = 0x100000 + 0x1000 * i;
	vcpu.protect.step_count = PROTECT_STEP_PAGES;
	assert_false(protect_lift_page(&vcpu, 0x3000, R));
	assert_true(protect_lift_page(&vcpu, 0x101000, R)); /* already lifted */
	vcpu.protect.step_count = 0;
}

/* ---- Other vCPUs and the reset ---- */

/* A second vCPU of the VM: its flag is set, and it catches up before its
 * next entry (INVEPT, masks). */
static void other_vcpus_catch_up_before_their_next_entry(void **state)
{
	(void)state;
	static struct vcpu second;
	vm.vcpu_count = 2;
	fixture_vcpu_create(&second, &vm, &cpu, 1);
	vm.vcpus[1] = &second;
	vmptrld(vcpu.vmcs_pa);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_WP);
	assert_int_equal(protect_pin_cr(&vcpu, 0, CR0_WP), PROTECT_OK);
	assert_int_equal(second.protect_sync, 1);
	assert_true(second.back_to_loop != 0); /* the exit fast path sees it */
	second.protect_sync = 0;
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, R, DENY), PROTECT_OK);
	assert_int_equal(second.protect_sync, 1);

	vmptrld(second.vmcs_pa);
	unsigned inveptions = fake_cpu.invept_calls;
	assert_false(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_WP);
	protect_sync_vcpu(&second);
	assert_int_equal(second.protect_sync, 0);
	assert_true(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_WP);
	assert_int_equal(fake_cpu.invept_calls, inveptions + 1);
	vcpu_destroy(&second);
	vm.vcpus[1] = NULL;
	vm.vcpu_count = 1;
	vmptrld(vcpu.vmcs_pa);
}

static void reset_lifts_everything(void **state)
{
	(void)state;
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x3000, R, DENY), PROTECT_OK);
	vm.protect.cr0_pinned = CR0_WP;
	protect_record(&vcpu, memory_event(0x3000, 0x100000, HC_ACTION_DROPPED));
	vcpu.protect.step_count = 1;
	protect_reset(&vm);
	assert_int_equal(vm.protect.range_count, 0);
	assert_int_equal(vm.protect.cr0_pinned, 0);
	assert_int_equal(protect_pending_events(&vm), 0);
	assert_int_equal(vcpu.protect.step_count, 0);
	for (uint64_t gpa = 0x3000; gpa < 0x6000; gpa += 0x1000)
		assert_int_equal(perms_at(&vm, gpa), EPT_RWX);
	/* A new life: new requests work from scratch. */
	assert_int_equal(protect_memory(&vcpu, 0x3000, 0x1000, R | W, LOG), PROTECT_OK);
	assert_int_equal(perms_at(&vm, 0x3000), EPT_READ | EPT_WRITE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_vcpu, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_first_request_is_one_range),
		cmocka_unit_test(set_keeps_disjoint_ranges_sorted),
		cmocka_unit_test(set_merges_touching_ranges_that_agree),
		cmocka_unit_test(set_request_inside_a_range_splits_it_in_three),
		cmocka_unit_test(set_overlap_narrows_and_never_widens),
		cmocka_unit_test(set_request_across_ranges_and_gaps),
		cmocka_unit_test(set_refuses_a_page_left_with_no_permission),
		cmocka_unit_test(set_refuses_more_ranges_than_it_holds),
		T(protect_checks_its_arguments),
		T(protect_needs_the_cpu_features_it_uses),
		T(protect_narrow_works_without_a_vcpu),
		T(protect_narrows_the_ept_and_invalidates),
		T(protect_splits_large_pages_only_where_a_range_needs_it),
		T(protect_out_of_memory_for_a_split_changes_nothing),
		T(protect_allows_answers_per_access),
		T(pin_cr_checks_its_arguments),
		T(pin_cr_owns_the_bits_and_keeps_the_guests_view),
		T(pin_cr_write_keeps_only_set_pinned_bits),
		T(pin_msr_sysenter_eip_keeps_its_value),
		T(pin_msr_efer_keeps_nxe),
		T(events_repeats_fold_into_one),
		T(events_ring_keeps_the_newest),
		T(emulated_access_follows_the_policy),
		T(emulated_write_in_the_deny_window_is_dropped),
		T(lift_and_end_step_restore_the_range),
		T(other_vcpus_catch_up_before_their_next_entry),
		T(reset_lifts_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
