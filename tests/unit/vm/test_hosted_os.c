/*
 * Tests of core/vm/hosted_os.c: the running OS as a guest ("blue pill") on
 * the fake CPU: capturing the CPU's state, the guest-state area built from
 * it, and hosted_os_virtualize end to end: the fake launch
 * (fake_hosted_os.c) runs hosted_os_start on the test's stack, scripted
 * exits play the OS, and handing the CPU back records what would be loaded.
 * The OS's exits go through core/exit/ (its EPT violations through
 * ept_violation_hosted_os.c: protected pages, mapping on demand).
 *
 * "Physical memory" of the fake platform is host memory (plat_phys_to_virt
 * is the identity), so the OS's RAM here is a mapping of host memory, put at
 * 1 GiB when the host allows it; the OS's page tables, code, GDT (built by
 * fixture_os_gdt.c) and one cvisor page live in it.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "abi/cpuid.h"
#include "abi/hypercall.h"
#include "exit/cpuid.h"
#include "exit/msr.h"
#include "mm/guest_memory.h"
#include "vmx/msr_bitmap.h"
#include "fake_cpu.h"
#include "fake_hosted_os.h"
#include "vm/protect.h"
#include "vmx/caps.h"
#include "fake_platform.h"
#include "mm/ept.h"
#include "mm/identity_map.h"
#include "mm/mtrr.h"
#include "vm/hosted_os.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "x86.h"
#include "vmx/segment.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "fixture_os_gdt.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Exit reasons (SDM Vol. 3C Appendix C). */
#define R_CPUID 10
#define R_HLT 12
#define R_VMCALL 18
#define R_RDMSR 31
#define R_WRMSR 32
#define R_INVALID_GUEST_STATE 33
#define R_EPT_VIOLATION 48
#define ENTRY_FAILURE (1u << 31)

/* EPT-violation qualification (SDM Vol. 3C Table 28-7). */
#define QUAL_READ  (1u << 0)
#define QUAL_WRITE (1u << 1)
#define QUAL_FETCH (1u << 2)
#define QUAL_READABLE (1u << 3)
#define QUAL_LINEAR_VALID (1u << 7)
#define QUAL_EXECUTABLE (1u << 5)
#define OS_IDT_BASE 0xFFFFFE0000000000ULL
#define OS_FS_BASE 0x00007F1234567000ULL
#define OS_GS_BASE 0xFFFF88807FC00000ULL
#define OS_SYSENTER_ESP 0xFFFFFE0000005000ULL
#define OS_SYSENTER_EIP 0xFFFFFFFF81A01000ULL
#define OS_DR7 0x400ULL
#define OS_CR0 0x80050033ULL /* PG AM WP NE ET MP PE */
#define CR4_PGE_BIT (1ULL << 7)
#define CR4_OSXMMEXCPT_BIT (1ULL << 10)
#define CR4_FSGSBASE_BIT (1ULL << 16)
#define OS_CR4 (CR4_PAE | CR4_PGE_BIT | CR4_OSFXSR | CR4_OSXMMEXCPT_BIT | \
		CR4_FSGSBASE_BIT | CR4_OSXSAVE)

/* ---- hosted_os_capture_state ---- */

static uint64_t os_gdt_mem[16];

static void set_os_registers(uint64_t *gdt)
{
	build_os_gdt(gdt);
	fake_cpu.gdtr.base = (uint64_t)(uintptr_t)gdt;
	fake_cpu.gdtr.limit = OS_GDT_LIMIT;
	fake_cpu.idtr.base = OS_IDT_BASE;
	fake_cpu.idtr.limit = 0xFFF;
	fake_cpu.cs = OS_CS;
	fake_cpu.ss = OS_DS;
	fake_cpu.ds = fake_cpu.es = 0;
	fake_cpu.fs = 0;
	fake_cpu.gs = 0;
	fake_cpu.tr = OS_TR;
	fake_cpu.ldtr = 0;
	fake_cpu.cr0 = OS_CR0;
	fake_cpu.cr4 = OS_CR4;
	fake_cpu.dr7 = OS_DR7;
	fake_msr_set(MSR_IA32_FS_BASE, OS_FS_BASE, false);
	fake_msr_set(MSR_IA32_GS_BASE, OS_GS_BASE, false);
	fake_msr_set(MSR_IA32_SYSENTER_CS, OS_CS, false);
	fake_msr_set(MSR_IA32_SYSENTER_ESP, OS_SYSENTER_ESP, false);
	fake_msr_set(MSR_IA32_SYSENTER_EIP, OS_SYSENTER_EIP, false);
	fake_msr_set(MSR_IA32_DEBUGCTL, 0x1, false);
}

static int setup_cpu(void **state)
{
	(void)state;
	fake_platform_reset();
	fake_cpu_reset();
	fake_cpu_load_bochs_tigerlake();
	return 0;
}

static void capture_copies_the_running_cpu(void **state)
{
	(void)state;
	set_os_registers(os_gdt_mem);
	fake_cpu.cr3 = 0x1234000;
	fake_cpu.ds = OS_DS;
	fake_cpu.es = 3; /* a null selector with RPL 3 */
	fake_cpu.fs = OS_BASED;
	fake_cpu.ldtr = OS_LDT;

	struct guest_cpu_state s;
	memset(&s, 0xEE, sizeof(s));
	hosted_os_capture_state(&s);
	assert_int_equal(s.cr0, OS_CR0);
	assert_int_equal(s.cr3, 0x1234000);
	assert_int_equal(s.cr4, OS_CR4);
	assert_int_equal(s.dr7, OS_DR7);
	assert_int_equal(s.gdtr_base, (uint64_t)(uintptr_t)os_gdt_mem);
	assert_int_equal(s.gdtr_limit, OS_GDT_LIMIT);
	assert_int_equal(s.idtr_base, OS_IDT_BASE);
	assert_int_equal(s.idtr_limit, 0xFFF);

	assert_int_equal(s.cs.selector, OS_CS);
	assert_int_equal(s.cs.access_rights, 0xA09B);
	assert_int_equal(s.cs.limit, 0xFFFFFFFF);
	assert_int_equal(s.ss.selector, OS_DS);
	assert_int_equal(s.ss.access_rights, 0xC093);
	assert_int_equal(s.ds.selector, OS_DS);
	assert_int_equal(s.ds.access_rights, 0xC093);
	assert_int_equal(s.es.selector, 3);
	assert_int_equal(s.es.access_rights, AR_UNUSABLE | (3u << 5));
	/* FS and GS: selector and rights from the GDT, base from the MSRs
	 * (SDM Vol. 3A 3.4.4), even where the descriptor has a base. */
	assert_int_equal(s.fs.selector, OS_BASED);
	assert_int_equal(s.fs.access_rights, 0x4093);
	assert_int_equal(s.fs.base, OS_FS_BASE);
	assert_int_equal(s.gs.selector, 0);
	assert_true(s.gs.access_rights & AR_UNUSABLE);
	assert_int_equal(s.gs.base, OS_GS_BASE);
	assert_int_equal(s.tr.selector, OS_TR);
	assert_int_equal(s.tr.base, OS_TSS_BASE);
	assert_int_equal(s.tr.limit, OS_TSS_LIMIT);
	assert_int_equal(s.tr.access_rights, 0x8B);
	assert_int_equal(s.ldtr.selector, OS_LDT);
	assert_int_equal(s.ldtr.base, OS_LDT_BASE);
	assert_int_equal(s.ldtr.access_rights, 0x82);

	assert_int_equal(s.efer, FAKE_HOST_EFER);
	assert_int_equal(s.pat, FAKE_HOST_PAT);
	assert_int_equal(s.debugctl, 0x1);
	assert_int_equal(s.sysenter_cs, OS_CS);
	assert_int_equal(s.sysenter_esp, OS_SYSENTER_ESP);
	assert_int_equal(s.sysenter_eip, OS_SYSENTER_EIP);
	/* Left for the launch stub. */
	assert_int_equal(s.rsp, 0xEEEEEEEEEEEEEEEEULL);
	assert_int_equal(s.rip, 0xEEEEEEEEEEEEEEEEULL);
}

/* ---- hosted_os_write_guest_state ---- */

static struct vmx_caps caps;

static int setup_vmcs(void **state)
{
	setup_cpu(state);
	vmx_caps_read(&caps);
	fake_cpu_enter_vmx_with_vmcs(plat_alloc_page(), plat_alloc_page());
	vmcs_reset_failures();
	return 0;
}

static struct guest_cpu_state captured_os(void)
{
	struct guest_cpu_state s;

	set_os_registers(os_gdt_mem);
	fake_cpu.ldtr = OS_LDT;
	hosted_os_capture_state(&s);
	s.cr4 |= CR4_VMXE; /* captured in VMX operation */
	s.rsp = FAKE_OS_RSP;
	s.rip = FAKE_OS_RIP;
	s.rflags = FAKE_OS_RFLAGS;
	return s;
}

static uint64_t vmcs(uint32_t encoding)
{
	return fake_vmcs_get(encoding);
}

static void guest_state_hides_cr4_vmxe_behind_the_shadow(void **state)
{
	(void)state;
	struct guest_cpu_state s = captured_os();
	hosted_os_write_guest_state(&caps, &s);
	assert_int_equal(vmcs_failed_writes(), 0);

	assert_int_equal(vmcs(CR4_READ_SHADOW.encoding), OS_CR4);
	assert_int_equal(vmcs(GUEST_CR4.encoding), OS_CR4 | CR4_VMXE);
	assert_true(vmcs(CR4_GUEST_HOST_MASK.encoding) & CR4_VMXE);
	assert_int_equal(vmcs(CR0_READ_SHADOW.encoding), OS_CR0);
	assert_int_equal(vmcs(GUEST_CR0.encoding), OS_CR0); /* NE, PE, PG already set */
	assert_true(vmcs(CR0_GUEST_HOST_MASK.encoding) & CR0_NE);
	assert_int_equal(vmcs(GUEST_CR3.encoding), s.cr3);
	assert_int_equal(vmcs(GUEST_DR7.encoding), OS_DR7);

	/* The OS's CR4 without VMXE gives the same shadow. */
	s.cr4 &= ~CR4_VMXE;
	hosted_os_write_guest_state(&caps, &s);
	assert_int_equal(vmcs(CR4_READ_SHADOW.encoding), OS_CR4);
	assert_int_equal(vmcs(GUEST_CR4.encoding), OS_CR4 | CR4_VMXE);
}

static void guest_state_copies_registers_and_segments(void **state)
{
	(void)state;
	struct guest_cpu_state s = captured_os();
	hosted_os_write_guest_state(&caps, &s);
	assert_int_equal(vmcs_failed_writes(), 0);

	assert_int_equal(vmcs(GUEST_RSP.encoding), FAKE_OS_RSP);
	assert_int_equal(vmcs(GUEST_RIP.encoding), FAKE_OS_RIP);
	assert_int_equal(vmcs(GUEST_RFLAGS.encoding), FAKE_OS_RFLAGS);
	assert_int_equal(vmcs(GUEST_CS_SELECTOR.encoding), OS_CS);
	assert_int_equal(vmcs(GUEST_CS_AR_BYTES.encoding), 0xA09B);
	assert_int_equal(vmcs(GUEST_CS_LIMIT.encoding), 0xFFFFFFFF);
	assert_int_equal(vmcs(GUEST_CS_BASE.encoding), 0);
	assert_int_equal(vmcs(GUEST_SS_SELECTOR.encoding), OS_DS);
	assert_int_equal(vmcs(GUEST_SS_AR_BYTES.encoding), 0xC093);
	assert_int_equal(vmcs(GUEST_DS_SELECTOR.encoding), 0);
	assert_int_equal(vmcs(GUEST_DS_AR_BYTES.encoding), AR_UNUSABLE);
	assert_int_equal(vmcs(GUEST_ES_AR_BYTES.encoding), AR_UNUSABLE);
	assert_int_equal(vmcs(GUEST_FS_BASE.encoding), OS_FS_BASE);
	assert_int_equal(vmcs(GUEST_FS_AR_BYTES.encoding), AR_UNUSABLE);
	assert_int_equal(vmcs(GUEST_GS_BASE.encoding), OS_GS_BASE);
	assert_int_equal(vmcs(GUEST_TR_SELECTOR.encoding), OS_TR);
	assert_int_equal(vmcs(GUEST_TR_BASE.encoding), OS_TSS_BASE);
	assert_int_equal(vmcs(GUEST_TR_LIMIT.encoding), OS_TSS_LIMIT);
	assert_int_equal(vmcs(GUEST_TR_AR_BYTES.encoding), 0x8B);
	assert_int_equal(vmcs(GUEST_LDTR_SELECTOR.encoding), OS_LDT);
	assert_int_equal(vmcs(GUEST_LDTR_BASE.encoding), OS_LDT_BASE);
	assert_int_equal(vmcs(GUEST_LDTR_AR_BYTES.encoding), 0x82); /* no "accessed" bit forced */
	assert_int_equal(vmcs(GUEST_GDTR_BASE.encoding), (uint64_t)(uintptr_t)os_gdt_mem);
	assert_int_equal(vmcs(GUEST_GDTR_LIMIT.encoding), OS_GDT_LIMIT);
	assert_int_equal(vmcs(GUEST_IDTR_BASE.encoding), OS_IDT_BASE);
	assert_int_equal(vmcs(GUEST_IDTR_LIMIT.encoding), 0xFFF);
	assert_int_equal(vmcs(GUEST_IA32_EFER.encoding), FAKE_HOST_EFER);
	assert_int_equal(vmcs(GUEST_IA32_PAT.encoding), FAKE_HOST_PAT);
	assert_int_equal(vmcs(GUEST_IA32_DEBUGCTL.encoding), 1);
	assert_int_equal(vmcs(GUEST_SYSENTER_CS.encoding), OS_CS);
	assert_int_equal(vmcs(GUEST_SYSENTER_ESP.encoding), OS_SYSENTER_ESP);
	assert_int_equal(vmcs(GUEST_SYSENTER_EIP.encoding), OS_SYSENTER_EIP);
	assert_int_equal(vmcs(GUEST_ACTIVITY_STATE.encoding), 0);
	assert_int_equal(vmcs(GUEST_INTERRUPTIBILITY_INFO.encoding), 0);
	assert_int_equal(vmcs(GUEST_PENDING_DBG_EXCEPTIONS.encoding), 0);
	assert_int_equal(vmcs(VMCS_LINK_POINTER.encoding), ~0ULL);
}

static void guest_state_sets_accessed_on_usable_code_and_data_only(void **state)
{
	(void)state;
	struct guest_cpu_state s = captured_os();
	/* A code segment never accessed, a data segment never accessed, an
	 * available (not busy) 16-bit TSS and an unusable segment with DPL 3. */
	s.cs = segment_from_gdt(os_gdt_mem, OS_GDT_LIMIT, OS_FRESH);
	s.ds.access_rights = 0xC092;
	s.ds.selector = OS_DS;
	s.tr.access_rights = 0x8B & ~2u; /* type 9 */
	s.es.access_rights = AR_UNUSABLE | (3u << 5) | 0x12; /* S set, but unusable */
	hosted_os_write_guest_state(&caps, &s);

	assert_int_equal(vmcs(GUEST_CS_AR_BYTES.encoding), 0xA09B);
	assert_int_equal(vmcs(GUEST_DS_AR_BYTES.encoding), 0xC093);
	assert_int_equal(vmcs(GUEST_TR_AR_BYTES.encoding), 0x89);
	assert_int_equal(vmcs(GUEST_ES_AR_BYTES.encoding), AR_UNUSABLE | (3u << 5) | 0x12);
	assert_int_equal(vmcs(GUEST_LDTR_AR_BYTES.encoding), 0x82);
	/* The captured state itself is not changed. */
	assert_int_equal(s.cs.access_rights, 0xA09A);
}

/* ---- hosted_os_virtualize end to end ---- */

/*
 * The OS's RAM: 2 MiB of host memory, at 1 GiB if the host allows it.
 * Page 0-3: the OS's page tables (PML4, PDPT, PD, PT) mapping the page of
 * FAKE_OS_RIP to page 4 (its code); page 5: a cvisor page (protected);
 * page 6: the OS's GDT; page 7: a writable alias of it.
 */
#define RAM_SIZE (2 * MiB)
#define PG(n) ((n) * 0x1000)
static uint8_t *ram_map, *ram;
static uint64_t ram_pa;

static struct phys_range ram_range[1], protect_range[1];
static struct mtrr_state os_mtrrs;
static struct identity_map idmap;
static struct vm os_vm;
static struct hosted_os_cpu pc;
static uint64_t map_end;
static size_t baseline_pages;
static uint64_t *os_gdt, *os_gdt_alias;
static uint64_t os_cr3;
static uint8_t host_stack[4096] __attribute__((aligned(16)));

static uint8_t *code_at_rip(uint64_t rip)
{
	return ram + PG(4) + (rip & 0xFFF);
}

static void build_os_page_tables(void)
{
	uint64_t *pml4 = (uint64_t *)(ram + PG(0)), *pdpt = (uint64_t *)(ram + PG(1));
	uint64_t *pd = (uint64_t *)(ram + PG(2)), *pt = (uint64_t *)(ram + PG(3));
	uint64_t rip = FAKE_OS_RIP;

	pml4[(rip >> 39) & 0x1FF] = (ram_pa + PG(1)) | 3;
	pdpt[(rip >> 30) & 0x1FF] = (ram_pa + PG(2)) | 3;
	pd[(rip >> 21) & 0x1FF] = (ram_pa + PG(3)) | 3;
	pt[(rip >> 12) & 0x1FF] = (ram_pa + PG(4)) | 3;
	os_cr3 = ram_pa;
}

static int group_setup(void **state)
{
	(void)state;
	ram_map = mmap((void *)(uintptr_t)(1 * GiB), 2 * RAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram_map == MAP_FAILED)
		return -1;
	ram = (uint8_t *)(((uintptr_t)ram_map + RAM_SIZE - 1) & ~(uintptr_t)(RAM_SIZE - 1));
	ram_pa = plat_virt_to_phys(ram);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	munmap(ram_map, 2 * RAM_SIZE);
	return 0;
}

static int setup_os(void **state)
{
	setup_cpu(state);
	/* The OS's RAM may sit above the model's 39 address bits. */
	fake_cpuid_set(0x80000008, FAKE_ANY_SUBLEAF, 0x3030, 0, 0, 0);
	memset(ram, 0, RAM_SIZE);
	memset(&fake_hosted_os, 0, sizeof(fake_hosted_os));
	memset(&pc, 0, sizeof(pc));
	build_os_page_tables();
	memset(ram + PG(5), 0xC5, 0x1000);
	os_gdt = (uint64_t *)(ram + PG(6));
	os_gdt_alias = (uint64_t *)(ram + PG(7));
	set_os_registers(os_gdt);
	memcpy(os_gdt_alias, os_gdt, OS_GDT_LIMIT + 1);
	fake_cpu.cr3 = os_cr3;
	fake_cpu.rflags = FAKE_OS_RFLAGS;

	/* cvisor's own tables: the fake CPU's reset GDT, TSS, IDT. */
	pc.host = (struct hosted_os_host){
		.cr3 = FAKE_HOST_CR3,
		.gdtr_base = (uint64_t)(uintptr_t)fake_cpu.gdt,
		.idtr_base = FAKE_HOST_IDT_BASE,
		.tr_base = FAKE_HOST_TSS_BASE,
		.cs_selector = FAKE_HOST_CS,
		.data_selector = FAKE_HOST_DS,
		.tr_selector = FAKE_HOST_TR,
		.fs_base = FAKE_HOST_FS_BASE,
		.gs_base = FAKE_HOST_GS_BASE,
		.stack_top = (uint64_t)(uintptr_t)(host_stack + sizeof(host_stack)),
	};

	memset(&os_mtrrs, 0, sizeof(os_mtrrs));
	os_mtrrs.def_type = MTRR_DEF_TYPE_E | MEMTYPE_WB;
	os_mtrrs.phys_addr_bits = 48;
	memset(&idmap, 0, sizeof(idmap));
	idmap.mtrr = &os_mtrrs;
	idmap.large_pages = VM_PAGES_2M | VM_PAGES_1G;
	protect_range[0] = (struct phys_range){ ram_pa + PG(5), ram_pa + PG(6) };
	idmap.protect = protect_range;
	idmap.protect_count = 1;
	ram_range[0] = (struct phys_range){ ram_pa, ram_pa + RAM_SIZE };
	/* The identity map covers the OS's RAM. */
	map_end = ram_pa + RAM_SIZE;
	const char *err = hosted_os_vm_create(&os_vm, "os", &idmap, map_end, ram_range, 1);
	if (err)
		fail_msg("hosted_os_vm_create: %s", err);
	baseline_pages = fake_pages_outstanding();
	fake_console_clear();
	return 0;
}

static int teardown_os(void **state)
{
	(void)state;
	/* Whatever happened, VMX is off and only the EPT is left. */
	assert_false(fake_cpu.vmx_on);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
	hosted_os_vm_destroy(&os_vm);
	assert_int_equal(fake_pages_outstanding(), 0);
	return 0;
}

static void vm_create_builds_an_identity_map_of_the_os_ram(void **state)
{
	(void)state;
	assert_ptr_equal(os_vm.identity, &idmap);
	assert_ptr_equal(idmap.ept, &os_vm.ept);
	assert_ptr_equal(os_vm.ram_ranges, ram_range);
	assert_int_equal(os_vm.ram_range_count, 1);
	assert_string_equal(os_vm.name, "os");
	uint64_t perms;
	for (uint64_t a = ram_pa; a < ram_pa + RAM_SIZE; a += 4 * KiB) {
		assert_int_equal(ept_translate(&os_vm.ept, a + 8, &perms), a + 8);
		assert_int_equal(perms, a == ram_pa + PG(5) ? EPT_READ : EPT_RWX);
	}
	assert_int_equal(ept_translate(&os_vm.ept, 0x1000, NULL), 0x1000);
	assert_int_equal(ept_translate(&os_vm.ept, map_end, NULL), EPT_NO_MAPPING);
	/* Guest memory access reaches the OS's RAM and nothing else. */
	assert_true(guest_is_ram(&os_vm, ram_pa, RAM_SIZE));
	assert_false(guest_is_ram(&os_vm, ram_pa - 1, 2));
	assert_false(guest_is_ram(&os_vm, ram_pa + RAM_SIZE - 1, 2));
	assert_false(guest_is_ram(&os_vm, 0x1000, 1));
	uint64_t entry = 0;
	assert_true(guest_read(&os_vm, ram_pa + (FAKE_OS_RIP >> 39 & 0x1FF) * 8, &entry, 8));
	assert_int_equal(entry, (ram_pa + PG(1)) | 3);
}

static void vm_create_reports_out_of_memory(void **state)
{
	(void)state;
	struct vm vm2;
	struct identity_map map2 = idmap;
	size_t before = fake_pages_outstanding();

	fake_pages_set_limit(0);
	assert_non_null(hosted_os_vm_create(&vm2, "x", &map2, map_end, ram_range, 1));
	fake_pages_set_limit(3);
	const char *err = hosted_os_vm_create(&vm2, "x", &map2, map_end, ram_range, 1);
	assert_non_null(err);
	assert_non_null(strstr(err, "identity EPT"));
	fake_pages_set_limit(-1);
	/* Nothing of the failed attempts is left. */
	assert_int_equal(fake_pages_outstanding(), before);
}

/* What the scripted "OS" saw after each of its instructions. */
#define MAX_STEPS 8
static struct guest_gprs seen[MAX_STEPS];
static uint64_t seen_rip[MAX_STEPS], seen_intr_info[MAX_STEPS];
static unsigned steps;

/* Called at each VM entry: what the OS sees now, and the event the entry
 * delivers, whose valid bit the CPU clears (SDM Vol. 3C 28.2.4, "VM exits
 * clear the valid bit"), as the fake does not. */
static void record(struct guest_gprs *g)
{
	uint64_t info = fake_vmcs_get(VM_ENTRY_INTR_INFO.encoding);

	if (steps < MAX_STEPS) {
		seen[steps] = *g;
		seen_rip[steps] = fake_vmcs_get(GUEST_RIP.encoding);
		seen_intr_info[steps] = info;
	}
	steps++;
	fake_vmcs_set(VM_ENTRY_INTR_INFO.encoding, info & ~(1ULL << 31));
}

static void os_cpuid_1(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RAX] = 1;
	g->regs[GPR_RCX] = 0;
}

static void os_cpuid_hv(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RAX] = CVISOR_CPUID_BASE;
	g->regs[GPR_RCX] = 0;
}

static void os_cpuid_hv1(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RAX] = CVISOR_CPUID_BASE + 1;
}

static void os_devirtualize(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RAX] = HC_DEVIRTUALIZE;
	g->regs[GPR_RBX] = 0x1111;
	g->regs[GPR_R15] = 0xF15;
}

static void os_just_runs(struct guest_gprs *g)
{
	record(g);
}

static const struct fake_exit devirtualize = { .reason = R_VMCALL, .instruction_len = 3,
					       .guest = os_devirtualize };

static enum vmx_error virtualize(const struct fake_exit *exits, unsigned n)
{
	steps = 0;
	memset(seen, 0, sizeof(seen));
	if (n)
		fake_script_exits(exits, n);
	return hosted_os_virtualize(&pc, &os_vm, 0);
}

static void check_handed_back_with_rflags(uint64_t rip, uint64_t rflags)
{
	if (fake_hosted_os.resumes != 1)
		fail_msg("the CPU was handed back %u times; console:\n%s", fake_hosted_os.resumes,
			 fake_console_text());
	const struct hosted_os_resume *r = &fake_hosted_os.resumed;
	assert_int_equal(r->rip, rip);
	assert_int_equal(r->rsp, FAKE_OS_RSP);
	assert_int_equal(r->rflags, rflags);
	assert_int_equal(r->cs, OS_CS);
	assert_int_equal(r->ss, OS_DS);
	assert_int_equal(r->ds, 0);
	assert_int_equal(r->es, 0);
	assert_int_equal(r->fs, 0);
	assert_int_equal(r->gs, 0);
	assert_int_equal(r->tr, OS_TR);
	assert_int_equal(r->ldtr, 0);
	assert_int_equal(r->gdtr_base, (uint64_t)(uintptr_t)os_gdt);
	assert_int_equal(r->gdtr_limit, OS_GDT_LIMIT);
	assert_int_equal(r->idtr_base, OS_IDT_BASE);
	assert_int_equal(r->idtr_limit, 0xFFF);
	assert_int_equal(r->fs_base, OS_FS_BASE);
	assert_int_equal(r->gs_base, OS_GS_BASE);
	assert_ptr_equal(r->gprs, &pc.vcpu.gprs);
	/* VMX is off, CR4.VMXE clear, the VMCS and bitmap freed. */
	assert_false(fake_cpu.vmx_on);
	assert_int_equal(fake_cpu.cr4 & CR4_VMXE, 0);
	assert_int_equal(fake_cpu.cr4, OS_CR4);
	assert_int_equal(fake_cpu.cr3, os_cr3);
	assert_int_equal(fake_cpu.dr7, OS_DR7);
	assert_int_equal(fake_msr_value(MSR_IA32_SYSENTER_EIP), OS_SYSENTER_EIP);
	assert_int_equal(fake_msr_value(MSR_IA32_PAT), FAKE_HOST_PAT);
	assert_int_equal(fake_cpu.current_vmcs_pa, FAKE_NO_VMCS);
	assert_false(pc.virtualized);
	assert_null(pc.vcpu.vmcs);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
	/* The TSS descriptor is available again so that LTR works. */
	assert_int_equal((os_gdt[OS_TR / 8] >> 40) & 0xFF, 0x89);
}

static void check_handed_back(uint64_t rip)
{
	check_handed_back_with_rflags(rip, FAKE_OS_RFLAGS);
}

static void virtualize_then_devirtualize_by_hypercall(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = os_cpuid_1 },
		{ .reason = R_CPUID, .instruction_len = 2, .guest = os_cpuid_hv },
		{ .reason = R_CPUID, .instruction_len = 2, .guest = os_cpuid_hv1 },
		devirtualize,
	};

	assert_int_equal(virtualize(exits, 4), VMX_OK);
	assert_int_equal(fake_hosted_os.launches, 1);
	assert_int_equal(fake_cpu.launches, 1);
	assert_int_equal(fake_cpu.resumes, 3);
	/* The first exit is handled after the launch; the CPUIDs after it are
	 * resumed straight from the exit landing (the VMCALL hands back). */
	assert_int_equal(fake_cpu.direct_resumes, 2);
	/* The captured OS state passes every VM-entry rule cvisor knows. */
	if (fake_console_contains("VM-entry check failed") || fake_console_contains("breaks"))
		fail_msg("the hosted-OS VMCS breaks VM-entry rules:\n%s", fake_console_text());

	/* What the OS saw after each CPUID (seen[n]: before instruction n).
	 * CPUID 1: hypervisor bit set, VMX hidden, the rest the CPU's. */
	const struct fake_cpuid_entry *leaf1 = fake_cpuid_entry(1, FAKE_ANY_SUBLEAF);
	assert_non_null(leaf1);
	uint32_t ecx = (uint32_t)seen[1].regs[GPR_RCX];
	assert_true(ecx & (1u << 31));
	assert_false(ecx & (1u << 5));
	assert_int_equal(ecx & ~((1u << 31) | (1u << 5) | (1u << 27)),
			 leaf1->regs.ecx & ~((1u << 31) | (1u << 5) | (1u << 27)));
	assert_int_equal(seen[1].regs[GPR_RAX], leaf1->regs.eax);
	assert_int_equal(seen[1].regs[GPR_RBX], leaf1->regs.ebx);
	assert_int_equal(seen[1].regs[GPR_RDX], leaf1->regs.edx);
	/* The signature leaf and the version leaf. */
	assert_int_equal(seen[2].regs[GPR_RAX], CVISOR_CPUID_MAX_LEAF);
	assert_int_equal(seen[2].regs[GPR_RBX], CVISOR_CPUID_SIG_EBX);
	assert_int_equal(seen[2].regs[GPR_RCX], CVISOR_CPUID_SIG_ECX);
	assert_int_equal(seen[2].regs[GPR_RDX], CVISOR_CPUID_SIG_EDX);
	assert_int_equal(seen[3].regs[GPR_RAX], CVISOR_VERSION_MAJOR << 16 | CVISOR_VERSION_MINOR);
	assert_int_equal(seen[3].regs[GPR_RBX], CVISOR_HYPERCALL_ABI_VERSION);
	assert_int_equal(seen_rip[1], FAKE_OS_RIP + 2);
	assert_int_equal(seen_rip[3], FAKE_OS_RIP + 6);

	/* Back after the VMCALL with RAX = 0 and the other registers as the OS
	 * left them. */
	check_handed_back(FAKE_OS_RIP + 2 + 2 + 2 + 3);
	assert_int_equal(fake_hosted_os.resumed_gprs.regs[GPR_RAX], HC_OK);
	assert_int_equal(fake_hosted_os.resumed_gprs.regs[GPR_RBX], 0x1111);
	assert_int_equal(fake_hosted_os.resumed_gprs.regs[GPR_R15], 0xF15);
	/* Without an alias, LTR runs on the GDT itself. */
	assert_int_equal(fake_hosted_os.resumed.ltr_gdt_base, (uint64_t)(uintptr_t)os_gdt);
}

/* The first exit of a scripted run: what the launch put in the VMCS. */
static struct {
	uint64_t guest_cr4, cr4_shadow, guest_cr3, guest_rsp, guest_rip, proc, proc2, entry,
		exit, eptp, link, tr_ar, cs_ar, host_cr3, host_gdtr, host_tr_base, host_cs,
		host_tr, host_rip, host_efer;
	bool bitmap_ok;
} launch;

static void os_first_exit_looks_at_the_vmcs(struct guest_gprs *g)
{
	record(g);
	launch.guest_cr4 = fake_vmcs_get(GUEST_CR4.encoding);
	launch.cr4_shadow = fake_vmcs_get(CR4_READ_SHADOW.encoding);
	launch.guest_cr3 = fake_vmcs_get(GUEST_CR3.encoding);
	launch.guest_rsp = fake_vmcs_get(GUEST_RSP.encoding);
	launch.guest_rip = fake_vmcs_get(GUEST_RIP.encoding);
	launch.proc = fake_vmcs_get(CPU_BASED_VM_EXEC_CONTROL.encoding);
	launch.proc2 = fake_vmcs_get(SECONDARY_VM_EXEC_CONTROL.encoding);
	launch.entry = fake_vmcs_get(VM_ENTRY_CONTROLS.encoding);
	launch.exit = fake_vmcs_get(VM_EXIT_CONTROLS.encoding);
	launch.eptp = fake_vmcs_get(EPT_POINTER.encoding);
	launch.link = fake_vmcs_get(VMCS_LINK_POINTER.encoding);
	launch.tr_ar = fake_vmcs_get(GUEST_TR_AR_BYTES.encoding);
	launch.cs_ar = fake_vmcs_get(GUEST_CS_AR_BYTES.encoding);
	launch.host_cr3 = fake_vmcs_get(HOST_CR3.encoding);
	launch.host_gdtr = fake_vmcs_get(HOST_GDTR_BASE.encoding);
	launch.host_tr_base = fake_vmcs_get(HOST_TR_BASE.encoding);
	launch.host_cs = fake_vmcs_get(HOST_CS_SELECTOR.encoding);
	launch.host_tr = fake_vmcs_get(HOST_TR_SELECTOR.encoding);
	launch.host_rip = fake_vmcs_get(HOST_RIP.encoding);
	launch.host_efer = fake_vmcs_get(HOST_IA32_EFER.encoding);
	const uint8_t *bitmap = plat_phys_to_virt(fake_vmcs_get(MSR_BITMAP.encoding));
	launch.bitmap_ok = bitmap == pc.vcpu.msr_bitmap;
	check_hosted_os_bitmap(bitmap);
	g->regs[GPR_RAX] = 1;
}

static void launch_vmcs_runs_the_os_where_it_was(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = os_first_exit_looks_at_the_vmcs },
		devirtualize,
	};
	memset(&launch, 0, sizeof(launch));

	assert_int_equal(virtualize(exits, 2), VMX_OK);
	assert_int_equal(launch.guest_rsp, FAKE_OS_RSP);
	assert_int_equal(launch.guest_rip, FAKE_OS_RIP);
	assert_int_equal(launch.guest_cr3, os_cr3);
	assert_int_equal(launch.guest_cr4, OS_CR4 | CR4_VMXE);
	assert_int_equal(launch.cr4_shadow, OS_CR4);
	assert_int_equal(launch.tr_ar, 0x8B);
	assert_int_equal(launch.cs_ar, 0xA09B);
	assert_int_equal(launch.link, ~0ULL);
	/* As little as possible exits: no HLT or port exits, MSR bitmap on. */
	assert_true(launch.proc & PROC_USE_MSR_BITMAPS);
	assert_false(launch.proc & PROC_HLT_EXITING);
	assert_false(launch.proc & PROC_UNCONDITIONAL_IO_EXITING);
	assert_true(launch.bitmap_ok);
	assert_int_equal(launch.proc2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID |
					 PROC2_UNRESTRICTED_GUEST),
			 PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST);
	assert_true(launch.entry & ENTRY_IA32E_MODE_GUEST);
	assert_true(launch.exit & EXIT_HOST_ADDR_SPACE_SIZE);
	assert_int_equal(launch.eptp, os_vm.ept.eptp);
	/* Root mode runs on cvisor's own tables. */
	assert_int_equal(launch.host_cr3, FAKE_HOST_CR3);
	assert_int_equal(launch.host_gdtr, (uint64_t)(uintptr_t)fake_cpu.gdt);
	assert_int_equal(launch.host_tr_base, FAKE_HOST_TSS_BASE);
	assert_int_equal(launch.host_cs, FAKE_HOST_CS);
	assert_int_equal(launch.host_tr, FAKE_HOST_TR);
	assert_int_equal(launch.host_rip, (uint64_t)(uintptr_t)vmx_exit_landing);
	assert_int_equal(launch.host_efer, FAKE_HOST_EFER);
	check_handed_back(FAKE_OS_RIP + 2 + 3);
}

static void devirtualize_clears_the_busy_bit_through_the_writable_alias(void **state)
{
	(void)state;
	pc.gdt_writable_alias = (uint64_t)(uintptr_t)os_gdt_alias;
	/* Linux maps the GDT read-only: the GDT itself must not be written. */
	const struct fake_exit exits[] = { devirtualize };

	assert_int_equal(virtualize(exits, 1), VMX_OK);
	assert_int_equal(fake_hosted_os.resumes, 1);
	assert_int_equal(fake_hosted_os.resumed.ltr_gdt_base, (uint64_t)(uintptr_t)os_gdt_alias);
	assert_int_equal(fake_hosted_os.resumed.gdtr_base, (uint64_t)(uintptr_t)os_gdt);
	assert_int_equal((os_gdt_alias[OS_TR / 8] >> 40) & 0xFF, 0x89);
	assert_int_equal((os_gdt[OS_TR / 8] >> 40) & 0xFF, 0x8B);
	/* Only that bit of the alias changed. */
	uint64_t expect[16];
	build_os_gdt(expect);
	expect[OS_TR / 8] &= ~(2ULL << 40);
	assert_memory_equal(os_gdt_alias, expect, OS_GDT_LIMIT + 1);
	assert_int_equal(fake_hosted_os.resumed.rip, FAKE_OS_RIP + 3);
	assert_false(fake_cpu.vmx_on);
}

/* The OS, running as a guest, changes what it owns without exits: the CPU
 * saves it in the guest-state area on the next exit. */
#define NEW_CR3 0x2345000ULL
#define NEW_PAT 0x0007010600070106ULL
#define NEW_SYSENTER_EIP 0xFFFFFFFF81B02000ULL
#define NEW_FS_BASE 0x00007F0000001000ULL
#define NEW_RSP (FAKE_OS_RSP - 0x100)

static void os_changes_its_own_state(struct guest_gprs *g)
{
	record(g);
	fake_vmcs_set(GUEST_CR3.encoding, NEW_CR3);
	fake_vmcs_set(GUEST_CR4.encoding, fake_vmcs_get(GUEST_CR4.encoding) & ~CR4_FSGSBASE_BIT);
	fake_vmcs_set(GUEST_DR7.encoding, 0x401);
	fake_vmcs_set(GUEST_IA32_PAT.encoding, NEW_PAT);
	fake_vmcs_set(GUEST_SYSENTER_EIP.encoding, NEW_SYSENTER_EIP);
	fake_vmcs_set(GUEST_FS_BASE.encoding, NEW_FS_BASE);
	fake_vmcs_set(GUEST_RSP.encoding, NEW_RSP);
	fake_vmcs_set(GUEST_RFLAGS.encoding, FAKE_OS_RFLAGS | RFLAGS_IF);
	g->regs[GPR_RAX] = HC_DEVIRTUALIZE;
}

static void devirtualize_hands_back_what_the_os_changed_as_a_guest(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = os_changes_its_own_state },
	};

	assert_int_equal(virtualize(exits, 1), VMX_OK);
	assert_int_equal(fake_hosted_os.resumes, 1);
	assert_int_equal(fake_cpu.cr3, NEW_CR3);
	assert_int_equal(fake_cpu.cr4, OS_CR4 & ~CR4_FSGSBASE_BIT);
	assert_int_equal(fake_cpu.dr7, 0x401);
	assert_int_equal(fake_msr_value(MSR_IA32_PAT), NEW_PAT);
	assert_int_equal(fake_msr_value(MSR_IA32_SYSENTER_EIP), NEW_SYSENTER_EIP);
	assert_int_equal(fake_msr_value(MSR_IA32_EFER), FAKE_HOST_EFER);
	assert_int_equal(fake_hosted_os.resumed.fs_base, NEW_FS_BASE);
	assert_int_equal(fake_hosted_os.resumed.rsp, NEW_RSP);
	assert_int_equal(fake_hosted_os.resumed.rflags, FAKE_OS_RFLAGS | RFLAGS_IF);
	assert_int_equal(fake_hosted_os.resumed.rip, FAKE_OS_RIP + 3);
	assert_false(fake_cpu.vmx_on);
}

#define CR0_TS_BIT (1ULL << 3)

static void os_sets_cr0_ts(struct guest_gprs *g)
{
	record(g);
	/* CR0.TS is the OS's own bit (not in CR0_GUEST_HOST_MASK): CLTS and
	 * MOV to CR0 change it without an exit. */
	fake_vmcs_set(GUEST_CR0.encoding, fake_vmcs_get(GUEST_CR0.encoding) | CR0_TS_BIT);
	g->regs[GPR_RAX] = HC_DEVIRTUALIZE;
}

/* The OS's CR0 at the hypercall must survive the hand-back, like its CR4. */
static void devirtualize_hands_back_the_guest_cr0(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = os_sets_cr0_ts },
	};

	assert_int_equal(virtualize(exits, 1), VMX_OK);
	assert_int_equal(fake_hosted_os.resumes, 1);
	assert_int_equal(fake_cpu.cr0, OS_CR0 | CR0_TS_BIT);
}

static void vmlaunch_failure_gives_the_cpu_back_unchanged(void **state)
{
	(void)state;
	fake_cpu.enter_result = 2;
	fake_cpu.enter_error = 7; /* invalid control fields */

	assert_int_equal(virtualize(NULL, 0), VMX_ERR_VMLAUNCH_FAILED);
	assert_int_equal(fake_hosted_os.resumes, 0);
	assert_int_equal(fake_cpu.launches, 1);
	assert_false(fake_cpu.vmx_on);
	assert_int_equal(fake_cpu.cr4, OS_CR4);
	assert_int_equal(fake_cpu.cr0, OS_CR0);
	assert_false(pc.virtualized);
	assert_null(pc.vcpu.vmcs);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
	assert_true(fake_console_contains("VMLAUNCH failed: VM-instruction error 7"));
	/* The OS's GDT is untouched (its TSS still busy, as loaded). */
	assert_int_equal((os_gdt[OS_TR / 8] >> 40) & 0xFF, 0x8B);
}

static void entry_failure_exit_also_fails_the_launch(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = ENTRY_FAILURE | R_INVALID_GUEST_STATE },
	};

	assert_int_equal(virtualize(exits, 1), VMX_ERR_VMLAUNCH_FAILED);
	assert_int_equal(fake_hosted_os.resumes, 0);
	assert_false(fake_cpu.vmx_on);
	assert_int_equal(fake_cpu.cr4 & CR4_VMXE, 0);
	assert_false(pc.virtualized);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
	assert_true(fake_console_contains("VM entry failed with exit reason 33"));
}

static void vmxon_failure_is_reported_without_launching(void **state)
{
	(void)state;
	fake_cpu.fail_vmxon.result = VMX_FAIL_INVALID;

	assert_int_equal(virtualize(NULL, 0), VMX_ERR_VMXON_FAILED);
	assert_int_equal(fake_hosted_os.launches, 0);
	assert_false(fake_cpu.vmx_on);
	assert_int_equal(fake_cpu.cr4, OS_CR4);
	assert_int_equal(fake_pages_outstanding(), baseline_pages);
}

static void unhandled_exit_gives_the_cpu_back_at_the_same_rip(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = os_cpuid_1 },
		{ .reason = R_HLT, .instruction_len = 1, .guest = os_just_runs },
	};

	assert_int_equal(virtualize(exits, 2), VMX_OK);
	assert_int_equal(pc.vcpu.leave, VCPU_LEAVE_ON_FAILURE);
	/* The HLT runs again natively: RIP is still on it. */
	check_handed_back(FAKE_OS_RIP + 2);
	assert_true(fake_console_contains("unhandled exit"));
	assert_true(fake_console_contains("giving this CPU back to the OS at RIP 0xffffffffa0001236"));
	/* The OS's registers are handed back as they were at the HLT. */
	assert_int_equal(fake_hosted_os.resumed_gprs.regs[GPR_RAX],
			 fake_cpuid_entry(1, FAKE_ANY_SUBLEAF)->regs.eax);
}

static void vmresume_failure_gives_the_cpu_back(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = os_cpuid_1 },
		{ .result = 2, .instruction_error = 7 },
	};

	assert_int_equal(virtualize(exits, 2), VMX_OK);
	check_handed_back(FAKE_OS_RIP + 2);
	assert_true(fake_console_contains("VMRESUME failed (VM-instruction error 7)"));
}

static void os_rdmsr_vmx_basic(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RCX] = MSR_IA32_VMX_BASIC;
	g->regs[GPR_RAX] = 0xAAAA;
	g->regs[GPR_RDX] = 0xDDDD;
}

static void os_rdmsr_feature_control(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RCX] = MSR_IA32_FEATURE_CONTROL;
}

static void os_wrmsr_feature_control(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RCX] = MSR_IA32_FEATURE_CONTROL;
	g->regs[GPR_RAX] = 5;
	g->regs[GPR_RDX] = 0;
}

#define GP_INJECTION (13u | (3u << 8) | (1u << 11) | (1u << 31))

static void vmx_msrs_get_gp(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_RDMSR, .instruction_len = 2, .guest = os_rdmsr_vmx_basic },
		{ .reason = R_RDMSR, .instruction_len = 2, .guest = os_rdmsr_feature_control },
		{ .reason = R_WRMSR, .instruction_len = 2, .guest = os_wrmsr_feature_control },
		devirtualize,
	};
	unsigned fc_writes = fake_msr(MSR_IA32_FEATURE_CONTROL)->writes;

	assert_int_equal(virtualize(exits, 4), VMX_OK);
	/* Each one: #GP(0) injected, RIP on the instruction (a fault), RAX and
	 * RDX untouched. */
	for (unsigned i = 1; i <= 3; i++) {
		if (seen_intr_info[i] != GP_INJECTION)
			fail_msg("after exit %u the injection is 0x%llx, not #GP(0)", i,
				 (unsigned long long)seen_intr_info[i]);
		assert_int_equal(seen_rip[i], FAKE_OS_RIP);
	}
	assert_int_equal(seen[1].regs[GPR_RAX], 0xAAAA);
	assert_int_equal(seen[1].regs[GPR_RDX], 0xDDDD);
	/* The OS's WRMSR never reached the real MSR. */
	assert_int_equal(fake_msr(MSR_IA32_FEATURE_CONTROL)->writes, fc_writes);
	assert_int_equal(fake_msr_value(MSR_IA32_FEATURE_CONTROL), 5);
	/* The #GPs set RF in the OS's RFLAGS (SDM Vol. 3A 17.3.1.1); the fake CPU
	 * delivers no event, so RF is still set when the OS gets the CPU back. */
	check_handed_back_with_rflags(FAKE_OS_RIP + 3, FAKE_OS_RFLAGS | RFLAGS_RF);
}

static void os_writes_cvisor_memory(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RAX] = 0xFFFF888000000000ULL + PG(5) + 0x10; /* its linear address */
	g->regs[GPR_RBX] = 0x1122334455667788ULL;
}

static void write_to_a_protected_page_is_refused_and_skipped(void **state)
{
	(void)state;
	/* mov %rbx, (%rax) at the launch point. */
	memcpy(code_at_rip(FAKE_OS_RIP), "\x48\x89\x18", 3);
	const struct fake_exit exits[] = {
		{ .reason = R_EPT_VIOLATION, .guest = os_writes_cvisor_memory,
		  .qualification = QUAL_WRITE | QUAL_READABLE | QUAL_LINEAR_VALID | (1u << 8),
		  .guest_physical = ram_pa + PG(5) + 0x10 },
		devirtualize,
	};
	uint8_t before[4096];
	memcpy(before, ram + PG(5), sizeof(before));

	assert_int_equal(virtualize(exits, 2), VMX_OK);
	/* The write did not happen, the OS went on after the instruction. */
	assert_memory_equal(ram + PG(5), before, sizeof(before));
	assert_int_equal(seen_rip[1], FAKE_OS_RIP + 3);
	assert_int_equal(seen_intr_info[1] & (1u << 31), 0);
	char line[160];
	snprintf(line, sizeof(line),
		 "a 8-byte write to cvisor memory at 0x%llx from RIP 0x%llx was refused",
		 (unsigned long long)(ram_pa + PG(5) + 0x10), (unsigned long long)FAKE_OS_RIP);
	if (!fake_console_contains(line))
		fail_msg("no \"%s\" in:\n%s", line, fake_console_text());
	check_handed_back(FAKE_OS_RIP + 3 + 3);
	/* The page stays read-only. */
	uint64_t perms;
	assert_int_equal(ept_translate(&os_vm.ept, ram_pa + PG(5), &perms), ram_pa + PG(5));
	assert_int_equal(perms, EPT_READ);
}

/*
 * cvisor.ko's protect=1: the kernel's read-only data (page 9, `deny`) and
 * text (page 8, `log`, with kernel-half aliases denied) set up before the
 * CPU is virtualized, and CR0.WP pinned.
 */
#define KERNEL_HALF 0xFFFF800000000000ULL
static uint64_t pinned_cr0_mask;

static void os_writes_its_rodata(struct guest_gprs *g)
{
	record(g);
	pinned_cr0_mask = fake_vmcs_get(CR0_GUEST_HOST_MASK.encoding);
	g->regs[GPR_RAX] = 0xFFFFFFFF81600010ULL;
	g->regs[GPR_RBX] = 0x1122334455667788ULL;
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, g->regs[GPR_RAX]);
}

static void os_patches_text_through_the_direct_map(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RAX] = 0xFFFF888000000000ULL + ram_pa + PG(8) + 0x20;
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, g->regs[GPR_RAX]);
}

static void os_text_pokes(struct guest_gprs *g)
{
	record(g);
	g->regs[GPR_RAX] = 0x00007F0000000020ULL; /* text_poke's temporary mm */
	fake_vmcs_set(GUEST_LINEAR_ADDRESS.encoding, g->regs[GPR_RAX]);
}

static void kernel_protection_denies_rodata_and_aliases_and_logs_text_poke(void **state)
{
	(void)state;
	struct vmx_caps caps;
	vmx_caps_read(&caps);
	assert_int_equal(protect_narrow(&os_vm, &caps, ram_pa + PG(8), PG(1),
					HC_PROT_READ | HC_PROT_EXEC, HC_POLICY_LOG), PROTECT_OK);
	assert_int_equal(protect_narrow(&os_vm, &caps, ram_pa + PG(9), PG(1), HC_PROT_READ,
					HC_POLICY_DENY), PROTECT_OK);
	os_vm.protect.log_deny_linear = true;
	os_vm.protect.log_deny_linear_first = KERNEL_HALF;
	os_vm.protect.log_deny_linear_last = ~0ULL;
	os_vm.protect.cr0_pinned = CR0_WP;
	memset(ram + PG(8), 0x90, PG(1));
	memset(ram + PG(9), 0x55, PG(1));
	/* Three `mov %rbx, (%rax)`, then the VMCALL that devirtualizes. */
	for (unsigned i = 0; i < 3; i++)
		memcpy(code_at_rip(FAKE_OS_RIP + 3 * i), "\x48\x89\x18", 3);
	const uint32_t q = QUAL_WRITE | QUAL_READABLE | QUAL_LINEAR_VALID | (1u << 8);
	const struct fake_exit exits[] = {
		{ .reason = R_EPT_VIOLATION, .guest = os_writes_its_rodata, .qualification = q,
		  .guest_physical = ram_pa + PG(9) + 0x10 },
		{ .reason = R_EPT_VIOLATION, .guest = os_patches_text_through_the_direct_map,
		  .qualification = q | QUAL_EXECUTABLE, .guest_physical = ram_pa + PG(8) + 0x20 },
		{ .reason = R_EPT_VIOLATION, .guest = os_text_pokes,
		  .qualification = q | QUAL_EXECUTABLE, .guest_physical = ram_pa + PG(8) + 0x20 },
		devirtualize,
	};

	assert_int_equal(virtualize(exits, 4), VMX_OK);
	/* CR0.WP is owned from the first entry. */
	assert_true(pinned_cr0_mask & CR0_WP);
	/* The rodata write and the alias write were dropped; text_poke's landed. */
	for (unsigned i = 0; i < PG(1); i++)
		assert_int_equal(ram[PG(9) + i], 0x55);
	uint64_t text = 0;
	memcpy(&text, ram + PG(8) + 0x20, 8);
	assert_int_equal(text, 0x1122334455667788ULL);
	assert_int_equal(ram[PG(8) + 0x1F], 0x90);
	assert_int_equal(ram[PG(8) + 0x28], 0x90);
	struct hc_protect_event e[4];
	assert_int_equal(protect_take_events(&os_vm, e, 4), 3);
	assert_int_equal(e[0].address, ram_pa + PG(9) + 0x10);
	assert_int_equal(e[0].action, HC_ACTION_DROPPED);
	assert_int_equal(e[0].rip, FAKE_OS_RIP);
	assert_int_equal(e[1].address, ram_pa + PG(8) + 0x20);
	assert_int_equal(e[1].linear, 0xFFFF888000000000ULL + ram_pa + PG(8) + 0x20);
	assert_int_equal(e[1].action, HC_ACTION_DROPPED);
	assert_int_equal(e[2].linear, 0x00007F0000000020ULL);
	assert_int_equal(e[2].action, HC_ACTION_ALLOWED);
	assert_int_equal(e[2].rip, FAKE_OS_RIP + 6);
	check_handed_back(FAKE_OS_RIP + 9 + 3);
	/* The pages keep their protection. */
	uint64_t perms;
	assert_int_equal(ept_translate(&os_vm.ept, ram_pa + PG(8), &perms), ram_pa + PG(8));
	assert_int_equal(perms, EPT_READ | EPT_EXECUTE);
	assert_int_equal(ept_translate(&os_vm.ept, ram_pa + PG(9), &perms), ram_pa + PG(9));
	assert_int_equal(perms, EPT_READ);
}

/* cvisor.ko's MSR pins (protect=1): a WRMSR of IA32_LSTAR exits and leaves
 * it as it is, one clearing EFER.NXE keeps it, both complete (no #GP) and
 * are recorded; reads of them do not exit. */
static bool lstar_write_exits, lstar_read_exits;
static uint64_t efer_after_writes;

static void os_devirtualizes_after_the_writes(struct guest_gprs *g)
{
	efer_after_writes = fake_vmcs_get(GUEST_IA32_EFER.encoding);
	os_devirtualize(g);
}

static void os_wrmsr_lstar(struct guest_gprs *g)
{
	record(g);
	lstar_write_exits = msr_bitmap_intercepts(pc.vcpu.msr_bitmap, MSR_IA32_LSTAR, true);
	lstar_read_exits = msr_bitmap_intercepts(pc.vcpu.msr_bitmap, MSR_IA32_LSTAR, false);
	g->regs[GPR_RCX] = MSR_IA32_LSTAR;
	g->regs[GPR_RAX] = 0xBAD00000;
	g->regs[GPR_RDX] = 0xFFFFFFFF;
}

static void os_wrmsr_efer_without_nxe(struct guest_gprs *g)
{
	record(g);
	uint64_t efer = fake_vmcs_get(GUEST_IA32_EFER.encoding) & ~EFER_NXE;
	g->regs[GPR_RCX] = MSR_IA32_EFER;
	g->regs[GPR_RAX] = (uint32_t)efer;
	g->regs[GPR_RDX] = efer >> 32;
}

static void pinned_msrs_keep_their_values_in_the_hosted_os(void **state)
{
	(void)state;
	uint64_t lstar = fake_msr_value(MSR_IA32_LSTAR), efer = fake_msr_value(MSR_IA32_EFER);
	assert_true(efer & EFER_NXE);
	assert_true(protect_pin_msr_value(&os_vm, MSR_IA32_LSTAR, lstar));
	assert_true(protect_pin_msr_value(&os_vm, MSR_IA32_EFER, efer));
	assert_false(protect_pin_msr_value(&os_vm, MSR_IA32_EFER, efer & ~EFER_NXE));
	assert_false(protect_pin_msr_value(&os_vm, MSR_IA32_STAR, 0));
	const struct fake_exit exits[] = {
		{ .reason = R_WRMSR, .instruction_len = 2, .guest = os_wrmsr_lstar },
		{ .reason = R_WRMSR, .instruction_len = 2, .guest = os_wrmsr_efer_without_nxe },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = os_devirtualizes_after_the_writes },
	};

	assert_int_equal(virtualize(exits, 3), VMX_OK);
	assert_true(lstar_write_exits);
	assert_false(lstar_read_exits);
	for (unsigned i = 1; i <= 2; i++) {
		assert_int_equal(seen_intr_info[i] & (1u << 31), 0); /* no #GP */
		assert_int_equal(seen_rip[i], FAKE_OS_RIP + 2 * i);
	}
	assert_int_equal(fake_msr_value(MSR_IA32_LSTAR), lstar);
	assert_int_equal(efer_after_writes, efer);
	struct hc_protect_event e[4];
	assert_int_equal(protect_take_events(&os_vm, e, 4), 2);
	assert_int_equal(e[0].kind, HC_EVENT_MSR);
	assert_int_equal(e[0].address, MSR_IA32_LSTAR);
	assert_int_equal(e[0].value, 0xFFFFFFFFBAD00000ULL);
	assert_int_equal(e[1].address, MSR_IA32_EFER);
	assert_int_equal(e[1].action, HC_ACTION_KEPT);
}

/* INIT to a CPU of a protected kernel is refused: the CPU goes on where it
 * was, its pinned bits still owned. */
static uint64_t activity_after_init, cr0_mask_after_init;

static void os_after_init(struct guest_gprs *g)
{
	activity_after_init = fake_vmcs_get(GUEST_ACTIVITY_STATE.encoding);
	cr0_mask_after_init = fake_vmcs_get(CR0_GUEST_HOST_MASK.encoding);
	os_devirtualize(g);
}

static void init_of_a_protected_kernels_cpu_is_refused(void **state)
{
	(void)state;
	os_vm.protect.cr0_pinned = CR0_WP;
	const struct fake_exit exits[] = {
		{ .reason = 3 /* INIT signal */, .guest = os_just_runs },
		{ .reason = R_VMCALL, .instruction_len = 3, .guest = os_after_init },
	};

	assert_int_equal(virtualize(exits, 2), VMX_OK);
	assert_int_equal(activity_after_init, 0); /* active, not waiting for SIPI */
	assert_true(cr0_mask_after_init & CR0_WP);
	assert_true(fake_console_contains("INIT at RIP"));
	assert_true(fake_console_contains("refused: the kernel is protected"));
	check_handed_back(FAKE_OS_RIP + 3);
}

/* Every write cvisor makes for the hosted OS (a REP STOS the string loop
 * emulates element by element, say) skips cvisor's own pages. */
static void cvisor_never_writes_its_own_pages_for_the_os(void **state)
{
	(void)state;
	uint8_t before[4096], fill[3 * 4096];
	memcpy(before, ram + PG(5), sizeof(before));
	memset(fill, 0xAB, sizeof(fill));

	assert_true(guest_write(&os_vm, ram_pa + PG(4), fill, sizeof(fill)));
	assert_memory_equal(ram + PG(5), before, sizeof(before));
	assert_int_equal(ram[PG(4)], 0xAB);          /* the OS's own pages around it */
	assert_int_equal(ram[PG(6) + 4095], 0xAB);
	assert_true(guest_zero(&os_vm, ram_pa + PG(5) + 8, 8));
	assert_memory_equal(ram + PG(5), before, sizeof(before));
	assert_true(fake_console_contains("write to cvisor memory"));
}

static void fetch_from_a_protected_page_gives_the_cpu_back(void **state)
{
	(void)state;
	const struct fake_exit exits[] = {
		{ .reason = R_EPT_VIOLATION, .guest = os_just_runs,
		  .qualification = QUAL_FETCH | QUAL_READABLE | QUAL_LINEAR_VALID | (1u << 8),
		  .guest_physical = ram_pa + PG(5) },
	};

	assert_int_equal(virtualize(exits, 1), VMX_OK);
	assert_int_equal(pc.vcpu.leave, VCPU_LEAVE_ON_FAILURE);
	assert_true(fake_console_contains("instruction fetch from cvisor memory"));
	check_handed_back(FAKE_OS_RIP);
}

static void access_beyond_the_map_is_mapped_on_demand(void **state)
{
	(void)state;
	uint64_t mmio = 0xFED00000ULL; /* an HPET page above the initial map */
	if (mmio < map_end)
		mmio = map_end + 0x5000;
	const struct fake_exit exits[] = {
		{ .reason = R_EPT_VIOLATION, .guest = os_just_runs,
		  .qualification = QUAL_READ | QUAL_LINEAR_VALID | (1u << 8),
		  .guest_physical = mmio + 0xF0 },
		devirtualize,
	};
	assert_int_equal(ept_translate(&os_vm.ept, mmio, NULL), EPT_NO_MAPPING);

	assert_int_equal(virtualize(exits, 2), VMX_OK);
	/* The access is retried: RIP unchanged, no event. */
	assert_int_equal(seen_rip[1], FAKE_OS_RIP);
	assert_int_equal(seen_intr_info[1] & (1u << 31), 0);
	assert_int_equal(ept_translate(&os_vm.ept, mmio + 0xF0, NULL), mmio + 0xF0);
	assert_int_equal(ept_mapping_size(&os_vm.ept, mmio), 2 * MiB);
	/* The new EPT tables stay with the VM (freed by hosted_os_vm_destroy). */
	baseline_pages = fake_pages_outstanding();
	check_handed_back(FAKE_OS_RIP + 3);
}

static void os_without_xsave_keeps_its_cr4(void **state)
{
	(void)state;
	/* An OS that never enabled FXSR/XSAVE: VMX enabling sets those bits
	 * for cvisor, but the OS must get its own CR4 back and as a guest. */
	fake_cpu.cr4 = CR4_PAE | CR4_PGE_BIT;
	const struct fake_exit exits[] = {
		{ .reason = R_CPUID, .instruction_len = 2, .guest = os_first_exit_looks_at_the_vmcs },
		devirtualize,
	};
	memset(&launch, 0, sizeof(launch));

	assert_int_equal(virtualize(exits, 2), VMX_OK);
	assert_int_equal(launch.cr4_shadow, CR4_PAE | CR4_PGE_BIT);
	assert_int_equal(launch.guest_cr4, CR4_PAE | CR4_PGE_BIT | CR4_VMXE);
	assert_int_equal(fake_cpu.cr4, CR4_PAE | CR4_PGE_BIT);
	assert_false(fake_cpu.vmx_on);
	assert_int_equal(fake_hosted_os.resumes, 1);
}

static void virtualize_refuses_to_run_under_cvisor(void **state)
{
	(void)state;
	struct fake_cpuid_entry *leaf1 = fake_cpuid_entry(1, FAKE_ANY_SUBLEAF);
	leaf1->regs.ecx |= 1u << 31;
	fake_cpuid_set(CVISOR_CPUID_BASE, FAKE_ANY_SUBLEAF, CVISOR_CPUID_MAX_LEAF,
		       CVISOR_CPUID_SIG_EBX, CVISOR_CPUID_SIG_ECX, CVISOR_CPUID_SIG_EDX);

	assert_true(hosted_os_running_under_cvisor());
	assert_int_equal(virtualize(NULL, 0), VMX_ERR_UNDER_CVISOR);
	assert_int_equal(fake_hosted_os.launches, 0);
	assert_int_equal(fake_cpu.vmxon_calls, 0);
	/* Devirtualizing is a hypercall there. */
	fake_hosted_os.hypercall_result = HC_OK;
	assert_int_equal(hosted_os_devirtualize(), HC_OK);
	assert_int_equal(fake_hosted_os.hypercalls, 1);
	assert_int_equal(fake_hosted_os.last_hypercall, HC_DEVIRTUALIZE);

	/* Another hypervisor (hypervisor bit, other signature) is not cvisor. */
	fake_cpuid_set(CVISOR_CPUID_BASE, FAKE_ANY_SUBLEAF, 0x40000001, 0x4B4D564B, 0x564B4D56,
		       0x4D);
	assert_false(hosted_os_running_under_cvisor());
}

static void devirtualize_without_cvisor_makes_no_hypercall(void **state)
{
	(void)state;
	assert_false(hosted_os_running_under_cvisor());
	assert_int_equal(hosted_os_devirtualize(), HC_ENOSYS);
	assert_int_equal(fake_hosted_os.hypercalls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(capture_copies_the_running_cpu, setup_cpu),
		cmocka_unit_test_setup(guest_state_hides_cr4_vmxe_behind_the_shadow, setup_vmcs),
		cmocka_unit_test_setup(guest_state_copies_registers_and_segments, setup_vmcs),
		cmocka_unit_test_setup(guest_state_sets_accessed_on_usable_code_and_data_only,
				       setup_vmcs),
		cmocka_unit_test_setup_teardown(vm_create_builds_an_identity_map_of_the_os_ram,
						setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(vm_create_reports_out_of_memory, setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(virtualize_then_devirtualize_by_hypercall, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(launch_vmcs_runs_the_os_where_it_was, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(
			devirtualize_clears_the_busy_bit_through_the_writable_alias, setup_os,
			teardown_os),
		cmocka_unit_test_setup_teardown(
			devirtualize_hands_back_what_the_os_changed_as_a_guest, setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(devirtualize_hands_back_the_guest_cr0, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(vmlaunch_failure_gives_the_cpu_back_unchanged,
						setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(entry_failure_exit_also_fails_the_launch, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(vmxon_failure_is_reported_without_launching, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(unhandled_exit_gives_the_cpu_back_at_the_same_rip,
						setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(vmresume_failure_gives_the_cpu_back, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(vmx_msrs_get_gp, setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(write_to_a_protected_page_is_refused_and_skipped,
						setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(cvisor_never_writes_its_own_pages_for_the_os,
						setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(
			kernel_protection_denies_rodata_and_aliases_and_logs_text_poke, setup_os,
			teardown_os),
		cmocka_unit_test_setup_teardown(pinned_msrs_keep_their_values_in_the_hosted_os, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(init_of_a_protected_kernels_cpu_is_refused, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(fetch_from_a_protected_page_gives_the_cpu_back,
						setup_os, teardown_os),
		cmocka_unit_test_setup_teardown(access_beyond_the_map_is_mapped_on_demand, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(os_without_xsave_keeps_its_cr4, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(virtualize_refuses_to_run_under_cvisor, setup_os,
						teardown_os),
		cmocka_unit_test_setup_teardown(devirtualize_without_cvisor_makes_no_hypercall,
						setup_os, teardown_os),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
