/*
 * Tests of core/mm/guest_paging.c: the guest page walk cvisor does when it
 * emulates an access by linear address, on a real VM on the fake Tiger Lake
 * CPU (MAXPHYADDR 39).  Each paging mode (none, 32-bit with 4-KiB and
 * 4-MiB pages, PAE, 4-level with 4-KiB, 2-MiB and 1-GiB pages); the access
 * rights of all entries together (U/S, R/W with CR0.WP, XD with EFER.NXE,
 * SMEP, SMAP with EFLAGS.AC and implicit accesses); reserved bits (#PF with
 * RSVD); the accessed and dirty flags set on success only, kept where the
 * EPT forbids the write; the #PF error code's bits (SDM Vol. 3A 4.6-4.8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fake_cpu.h"
#include "fixture_exit.h"
#include "mm/ept.h"
#include "mm/guest_memory.h"
#include "mm/guest_paging.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_cpu.h"
#include "x86.h"

#define A (1ULL << 5)
#define D (1ULL << 6)
#define PRW (PTE_P | PTE_RW)
#define PRWU (PTE_P | PTE_RW | PTE_US)

/* Page-structure pages in guest RAM; data pages after them. */
#define TOP  0x10000ULL
#define MID  0x11000ULL
#define PD   0x12000ULL
#define PT   0x13000ULL
#define DATA 0x40000ULL

static void put(uint64_t gpa, uint64_t value, unsigned size)
{
	assert_true(guest_write(&vm, gpa, &value, size));
}

static uint64_t get(uint64_t gpa, unsigned size)
{
	uint64_t value = 0;
	assert_true(guest_read(&vm, gpa, &value, size));
	return value;
}

static void set_mode(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t cr3)
{
	fake_vmcs_set(GUEST_CR0.encoding, CR0_PE | CR0_PG | cr0);
	fake_vmcs_set(GUEST_CR4.encoding, cr4);
	fake_vmcs_set(GUEST_IA32_EFER.encoding, efer);
	fake_vmcs_set(GUEST_CR3.encoding, cr3);
}

static void cpl(unsigned level)
{
	fake_vmcs_set(GUEST_SS_AR_BYTES.encoding, AR_DATA | level << 5);
}

/* 4-level paging: linear 0x400000 (PML4 0, PDPT 0, PD 2, PT 0) on DATA, with
 * the given flags in every entry. */
#define LIN 0x400000ULL
static void four_level(uint64_t flags)
{
	set_mode(CR0_WP, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE, TOP);
	put(TOP, MID | flags, 8);
	put(MID, PD | flags, 8);
	put(PD + 2 * 8, PT | flags, 8);
	put(PT, DATA | flags, 8);
}

static uint32_t translate_fails(uint64_t linear, enum guest_access access)
{
	uint64_t gpa = 0;
	uint32_t error = 0;
	assert_false(guest_translate(&vcpu, linear, access, &gpa, &error));
	return error;
}

static uint64_t translate(uint64_t linear, enum guest_access access)
{
	uint64_t gpa = 0;
	uint32_t error = 0xFFFF;
	assert_true(guest_translate(&vcpu, linear, access, &gpa, &error));
	assert_int_equal(error, 0);
	return gpa;
}

/* ---- Modes ---- */

static void paging_off_is_the_identity_truncated_to_32_bits(void **state)
{
	(void)state;
	fake_vmcs_set(GUEST_CR0.encoding, CR0_PE);
	assert_int_equal(translate(0x123456789ULL, GUEST_WRITE), 0x23456789);
}

static void four_level_4k_2m_and_1g_pages(void **state)
{
	(void)state;
	four_level(PRW);
	assert_int_equal(translate(LIN + 0x123, GUEST_READ), DATA + 0x123);
	/* A 2-MiB page at PD entry 3 (linear 0x600000). */
	put(PD + 3 * 8, 0x200000 | PRW | PTE_PS, 8);
	assert_int_equal(translate(0x6ABCDEULL, GUEST_READ), 0x2ABCDE);
	/* A 1-GiB page at PDPT entry 1 (linear 0x40000000). */
	put(MID + 8, 0x40000000 | PRW | PTE_PS, 8);
	assert_int_equal(translate(0x41234567ULL, GUEST_READ), 0x41234567);
}

/* 5-level paging (CR4.LA57): one more level above the PML4; its entries
 * reserve PS too and get the accessed flag. */
#define PML5 0x14000ULL
static void five_level_paging_walks_the_pml5(void **state)
{
	(void)state;
	four_level(PRW);
	set_mode(CR0_WP, CR4_PAE | CR4_LA57, EFER_LME | EFER_LMA | EFER_NXE, PML5);
	put(PML5 + 1 * 8, TOP | PRW, 8); /* linear bit 48 set: PML5 index 1 */
	assert_int_equal(translate(0x0001000000400123ULL, GUEST_READ), DATA + 0x123);
	assert_int_equal(get(PML5 + 8, 8), TOP | PRW | A);
	put(PML5 + 1 * 8, TOP | PRW | PTE_PS, 8);
	assert_int_equal(translate_fails(0x0001000000400123ULL, GUEST_READ), PF_PRESENT | PF_RSVD);
}

static void pae_starts_at_the_vmcs_pdptes(void **state)
{
	(void)state;
	set_mode(0, CR4_PAE, 0, TOP);
	fake_vmcs_set(GUEST_PDPTE0.encoding, PD | PTE_P);
	put(PD + 2 * 8, PT | PRW, 8);
	put(PT + 5 * 8, DATA | PRW, 8);
	assert_int_equal(translate(0x405010ULL, GUEST_READ), DATA + 0x10);
	/* PDPTE 1 not present. */
	assert_int_equal(translate_fails(0x40000000ULL, GUEST_READ), 0);
}

static void thirty_two_bit_4k_and_4m_pages(void **state)
{
	(void)state;
	set_mode(0, CR4_PSE, 0, PD);
	put(PD + 1 * 4, PT | PRW, 4);
	put(PT + 7 * 4, DATA | PRW, 4);
	assert_int_equal(translate(0x407ABCULL, GUEST_READ), DATA + 0xABC);
	/* A 4-MiB page with physical bits 35:32 = 0x5 in PDE bits 16:13. */
	put(PD + 2 * 4, 0xC00000 | 0x5ULL << 13 | PRW | PTE_PS, 4);
	assert_int_equal(translate(0x812345ULL, GUEST_READ), 0x500C12345ULL);
	/* Without CR4.PSE, PS is ignored: the entry is a page table. */
	fake_vmcs_set(GUEST_CR4.encoding, 0);
	put(PD + 3 * 4, PT | PRW | PTE_PS, 4);
	assert_int_equal(translate(0xC07000ULL, GUEST_READ), DATA);
}

static void a_missing_entry_is_a_pf_without_p(void **state)
{
	(void)state;
	four_level(PRWU);
	put(PT, 0, 8);
	cpl(3);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE), PF_WRITE | PF_USER);
	/* An entry outside guest RAM reads as not present. */
	put(PD + 2 * 8, 0x7FF000000ULL | PRWU, 8);
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_USER);
}

/* ---- Access rights over all entries (SDM Vol. 3A 4.6) ---- */

static void user_access_needs_us_in_every_entry(void **state)
{
	(void)state;
	four_level(PRWU);
	cpl(3);
	translate(LIN, GUEST_WRITE);
	put(MID, PD | PRW, 8); /* the PDPTE is supervisor-only */
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_PRESENT | PF_USER);
}

static void writes_need_rw_in_every_entry_and_wp_binds_the_supervisor(void **state)
{
	(void)state;
	four_level(PRWU);
	put(PD + 2 * 8, PT | PTE_P | PTE_US, 8); /* read-only PDE */
	cpl(3);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE), PF_PRESENT | PF_WRITE | PF_USER);
	cpl(0);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE), PF_PRESENT | PF_WRITE);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) & ~CR0_WP);
	translate(LIN, GUEST_WRITE);
}

static void xd_in_any_entry_forbids_fetches(void **state)
{
	(void)state;
	four_level(PRW);
	put(MID, PD | PRW | PTE_NX, 8);
	assert_int_equal(translate_fails(LIN, GUEST_FETCH), PF_PRESENT | PF_FETCH);
	translate(LIN, GUEST_READ);
}

static void smep_forbids_supervisor_fetches_from_user_pages(void **state)
{
	(void)state;
	four_level(PRWU);
	translate(LIN, GUEST_FETCH);
	fake_vmcs_set(GUEST_CR4.encoding, CR4_PAE | CR4_SMEP);
	assert_int_equal(translate_fails(LIN, GUEST_FETCH), PF_PRESENT | PF_FETCH);
	/* A supervisor page (one entry without U/S) is fine. */
	put(PT, DATA | PRW, 8);
	translate(LIN, GUEST_FETCH);
}

static void smap_forbids_supervisor_data_accesses_to_user_pages_unless_ac(void **state)
{
	(void)state;
	four_level(PRWU);
	fake_vmcs_set(GUEST_CR4.encoding, CR4_PAE | CR4_SMAP);
	fake_vmcs_set(GUEST_RFLAGS.encoding, RFLAGS_RESERVED_1);
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_PRESENT);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE), PF_PRESENT | PF_WRITE);
	/* EFLAGS.AC lets explicit accesses through, not implicit ones. */
	fake_vmcs_set(GUEST_RFLAGS.encoding, RFLAGS_RESERVED_1 | RFLAGS_AC);
	translate(LIN, GUEST_WRITE);
	assert_int_equal(translate_fails(LIN, GUEST_READ | GUEST_IMPLICIT), PF_PRESENT);
	/* SMAP does not apply to user-mode accesses, nor to fetches. */
	fake_vmcs_set(GUEST_RFLAGS.encoding, RFLAGS_RESERVED_1);
	translate(LIN, GUEST_FETCH);
	cpl(3);
	translate(LIN, GUEST_READ);
}

/* An implicit access (a descriptor table, the TSS) is supervisor-mode even
 * at CPL 3: a supervisor page is fine, and the error code has no U/S. */
static void implicit_accesses_are_supervisor_mode_at_cpl_3(void **state)
{
	(void)state;
	four_level(PRW);
	cpl(3);
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_PRESENT | PF_USER);
	assert_int_equal(translate(LIN, GUEST_WRITE | GUEST_IMPLICIT), DATA);
	put(PT, 0, 8);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE | GUEST_IMPLICIT), PF_WRITE);
}

/* An implicit write to a read-only page: allowed with CR0.WP clear, a #PF
 * without U/S with it set (a task switch's TSS, at CPL 3). */
static void an_implicit_write_to_a_read_only_page_needs_wp_clear(void **state)
{
	(void)state;
	four_level(PTE_P);
	cpl(3);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) & ~CR0_WP);
	assert_int_equal(translate(LIN + 8, GUEST_WRITE | GUEST_IMPLICIT), DATA + 8);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) | CR0_WP);
	assert_int_equal(translate_fails(LIN + 8, GUEST_WRITE | GUEST_IMPLICIT),
			 PF_PRESENT | PF_WRITE);
}

/* Protection keys (SDM Vol. 3A 4.6.2): with CR4.PKE in 4-level paging, the
 * key of a user-mode page selects PKRU's AD (no data access) and WD (no
 * write by user mode, or by supervisor mode with CR0.WP) bits; a refusal is
 * a #PF with PK.  Fetches and supervisor-mode pages are not subject. */
static void set_pkru(uint32_t pkru)
{
	memcpy(fake_cpu.fpu + 2688, &pkru, sizeof(pkru)); /* the live register */
}

static void protection_keys_refuse_data_accesses_by_pkru(void **state)
{
	(void)state;
	fake_cpu.cr4 |= CR4_OSXSAVE;
	fake_cpu.xcr0 = XCR0_X87 | XCR0_SSE | XCR0_PKRU;
	fake_cpuid_set(0xD, 9, 8, 2688, 0, 0);
	four_level(PRWU);
	fake_vmcs_set(GUEST_CR4.encoding, CR4_PAE | CR4_PKE);
	put(PT, DATA | PRWU | 1ULL << 59, 8); /* key 1 */
	set_pkru(0);
	translate(LIN, GUEST_WRITE);

	set_pkru(1u << 2); /* key 1: AD */
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_PRESENT | PF_PK);
	translate(LIN, GUEST_FETCH);

	set_pkru(1u << 3); /* key 1: WD */
	translate(LIN, GUEST_READ);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE), PF_PRESENT | PF_WRITE | PF_PK);
	fake_vmcs_set(GUEST_CR0.encoding, vmcs(GUEST_CR0.encoding) & ~CR0_WP);
	translate(LIN, GUEST_WRITE); /* supervisor mode without WP */
	cpl(3);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE),
			 PF_PRESENT | PF_WRITE | PF_USER | PF_PK);

	set_pkru(0xFFFFFFF0u); /* every key but 0 and 1 refused */
	translate(LIN, GUEST_WRITE);
	cpl(0);
	set_pkru(0xFFFFFFFFu);
	put(PT, DATA | PRW | 1ULL << 59, 8); /* a supervisor-mode page */
	translate(LIN, GUEST_WRITE);
	/* Without CR4.PKE the keys mean nothing. */
	put(PT, DATA | PRWU | 1ULL << 59, 8);
	fake_vmcs_set(GUEST_CR4.encoding, CR4_PAE);
	translate(LIN, GUEST_WRITE);
}

/* SDM Vol. 3A 4.7: I/D is reported with SMEP, or with PAE/4-level paging
 * and EFER.NXE; not for 32-bit paging without SMEP. */
static void the_fetch_bit_is_reported_only_where_the_cpu_reports_it(void **state)
{
	(void)state;
	set_mode(0, 0, EFER_NXE, PD);
	assert_int_equal(translate_fails(0x400000, GUEST_FETCH), 0);
	fake_vmcs_set(GUEST_CR4.encoding, CR4_SMEP);
	assert_int_equal(translate_fails(0x400000, GUEST_FETCH), PF_FETCH);
}

/* ---- Reserved bits (SDM Vol. 3A 4.7) ---- */

static void reserved_bits_are_a_pf_with_rsvd(void **state)
{
	(void)state;
	four_level(PRW);
	/* An address bit at MAXPHYADDR (39). */
	put(PT, DATA | PRW | 1ULL << 39, 8);
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_PRESENT | PF_RSVD);
	/* XD without EFER.NXE. */
	put(PT, DATA | PRW | PTE_NX, 8);
	translate(LIN, GUEST_READ);
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_LME | EFER_LMA);
	assert_int_equal(translate_fails(LIN, GUEST_WRITE), PF_PRESENT | PF_RSVD | PF_WRITE);
	fake_vmcs_set(GUEST_IA32_EFER.encoding, EFER_LME | EFER_LMA | EFER_NXE);
	put(PT, DATA | PRW, 8);
	/* PS in a PML4E; bits 20:13 of a 2-MiB page. */
	put(TOP, MID | PRW | PTE_PS, 8);
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_PRESENT | PF_RSVD);
	put(TOP, MID | PRW, 8);
	put(PD + 2 * 8, 0x400000 | PRW | PTE_PS | 1ULL << 13, 8);
	assert_int_equal(translate_fails(LIN, GUEST_READ), PF_PRESENT | PF_RSVD);
	/* Bits 62:52 are ignored in 4-level paging. */
	put(PD + 2 * 8, 0x400000 | PRW | PTE_PS | 1ULL << 55, 8);
	assert_int_equal(translate(LIN + 5, GUEST_READ), 0x400005);
}

static void pae_reserves_bits_up_to_62(void **state)
{
	(void)state;
	set_mode(0, CR4_PAE, EFER_NXE, TOP);
	fake_vmcs_set(GUEST_PDPTE0.encoding, PD | PTE_P);
	put(PD + 2 * 8, PT | PRW | 1ULL << 55, 8);
	assert_int_equal(translate_fails(0x400000, GUEST_READ), PF_PRESENT | PF_RSVD);
}

static void a_4m_page_reserves_bit_21_and_bits_beyond_maxphyaddr(void **state)
{
	(void)state;
	set_mode(0, CR4_PSE, 0, PD);
	put(PD + 1 * 4, 0x400000 | PRW | PTE_PS | 1u << 21, 4);
	assert_int_equal(translate_fails(0x400000, GUEST_READ), PF_PRESENT | PF_RSVD);
	/* Physical bit 39 (PDE bit 20) is beyond MAXPHYADDR 39; bit 38 is not. */
	put(PD + 1 * 4, 0x400000 | PRW | PTE_PS | 1u << 20, 4);
	assert_int_equal(translate_fails(0x400000, GUEST_READ), PF_PRESENT | PF_RSVD);
	put(PD + 1 * 4, 0x400000 | PRW | PTE_PS | 1u << 19, 4);
	assert_int_equal(translate(0x400000, GUEST_READ), 0x4000400000ULL);
}

/* ---- Accessed and dirty flags (SDM Vol. 3A 4.8) ---- */

static void a_read_sets_accessed_in_every_entry_a_write_dirty_in_the_leaf(void **state)
{
	(void)state;
	four_level(PRW);
	translate(LIN, GUEST_READ);
	assert_int_equal(get(TOP, 8), MID | PRW | A);
	assert_int_equal(get(MID, 8), PD | PRW | A);
	assert_int_equal(get(PD + 16, 8), PT | PRW | A);
	assert_int_equal(get(PT, 8), DATA | PRW | A);
	translate(LIN, GUEST_WRITE);
	assert_int_equal(get(PT, 8), DATA | PRW | A | D);
	assert_int_equal(get(PD + 16, 8), PT | PRW | A); /* dirty only in the leaf */

	/* A large page's entry is the leaf. */
	put(PD + 3 * 8, 0x200000 | PRW | PTE_PS, 8);
	translate(0x600000, GUEST_WRITE);
	assert_int_equal(get(PD + 3 * 8, 8), 0x200000 | PRW | PTE_PS | A | D);
}

static void thirty_two_bit_entries_get_their_flags_too(void **state)
{
	(void)state;
	set_mode(0, 0, 0, PD);
	put(PD + 1 * 4, PT | PRW, 4);
	put(PT + 4, DATA | PRW, 4);
	translate(0x401000, GUEST_WRITE);
	assert_int_equal(get(PD + 4, 4), PT | PRW | A);
	assert_int_equal(get(PT + 4, 4), DATA | PRW | A | D);
}

static void a_faulting_walk_sets_no_flag(void **state)
{
	(void)state;
	four_level(PTE_P | PTE_US);
	cpl(3);
	translate_fails(LIN, GUEST_WRITE);
	assert_int_equal(get(TOP, 8), MID | PTE_P | PTE_US);
	assert_int_equal(get(PT, 8), DATA | PTE_P | PTE_US);
}

/* A paging structure in a page the guest may not write through its EPT
 * (protected memory) keeps its flags; the translation still works. */
static void an_entry_the_ept_keeps_read_only_keeps_its_flags(void **state)
{
	(void)state;
	four_level(PRW);
	if (ept_mapping_size(&vm.ept, PT) > 0x1000)
		assert_true(ept_split_large(&vm.ept, PT));
	assert_int_equal(ept_set_permissions(&vm.ept, PT, EPT_READ), 0x1000);
	assert_int_equal(translate(LIN, GUEST_WRITE), DATA);
	assert_int_equal(get(PT, 8), DATA | PRW);
	assert_int_equal(get(PD + 16, 8), PT | PRW | A);
}

int main(void)
{
#define C(t) cmocka_unit_test_setup_teardown(t, setup_vcpu, teardown)
	const struct CMUnitTest tests[] = {
		C(paging_off_is_the_identity_truncated_to_32_bits),
		C(four_level_4k_2m_and_1g_pages),
		C(five_level_paging_walks_the_pml5),
		C(pae_starts_at_the_vmcs_pdptes),
		C(thirty_two_bit_4k_and_4m_pages),
		C(a_missing_entry_is_a_pf_without_p),
		C(user_access_needs_us_in_every_entry),
		C(writes_need_rw_in_every_entry_and_wp_binds_the_supervisor),
		C(xd_in_any_entry_forbids_fetches),
		C(smep_forbids_supervisor_fetches_from_user_pages),
		C(smap_forbids_supervisor_data_accesses_to_user_pages_unless_ac),
		C(implicit_accesses_are_supervisor_mode_at_cpl_3),
		C(an_implicit_write_to_a_read_only_page_needs_wp_clear),
		C(protection_keys_refuse_data_accesses_by_pkru),
		C(the_fetch_bit_is_reported_only_where_the_cpu_reports_it),
		C(reserved_bits_are_a_pf_with_rsvd),
		C(pae_reserves_bits_up_to_62),
		C(a_4m_page_reserves_bit_21_and_bits_beyond_maxphyaddr),
		C(a_read_sets_accessed_in_every_entry_a_write_dirty_in_the_leaf),
		C(thirty_two_bit_entries_get_their_flags_too),
		C(a_faulting_walk_sets_no_flag),
		C(an_entry_the_ept_keeps_read_only_keeps_its_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
