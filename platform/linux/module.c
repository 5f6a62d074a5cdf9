// SPDX-License-Identifier: GPL-2.0
/*
 * cvisor.ko, the Linux side: loading slides cvisor under the running kernel
 * on every online CPU, unloading gives every CPU back.  This file only does
 * what needs the kernel (memory, CPU hotplug, notifiers, debugfs, printing);
 * everything that touches VMX is in cvisor_glue.c and the core, which are
 * built freestanding and linked in as one object (see Kbuild).
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/reboot.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <linux/suspend.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/apic.h>
#include <asm/desc.h>
#include <asm/irq_vectors.h>
#include <asm/msr.h>
#include <asm/tsc.h>

#include "bridge.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cvisor: an Intel VT-x hypervisor that runs the kernel as its guest");

/*
 * protect=1 (README, "Protecting the running kernel"): the kernel's text
 * (_stext.._etext) and read-only data (__start_rodata..__end_rodata), by
 * their virtual addresses, which the loader takes from System.map or
 * /proc/kallsyms (kallsyms_lookup_name is not exported to modules).
 */
static bool protect;
module_param(protect, bool, 0444);
MODULE_PARM_DESC(protect, "protect the kernel's text (log) and read-only data (deny) and pin CR0.WP, CR4.SMEP/SMAP/UMIP, IA32_LSTAR, IA32_SYSENTER_EIP and EFER.NXE");
static bool protect_text_deny;
module_param(protect_text_deny, bool, 0444);
MODULE_PARM_DESC(protect_text_deny, "with protect=1: refuse every write to the text (for a kernel that never patches itself)");
static unsigned long text_start, text_end, rodata_start, rodata_end;
module_param(text_start, ulong, 0444);
MODULE_PARM_DESC(text_start, "with protect=1: the address of _stext");
module_param(text_end, ulong, 0444);
MODULE_PARM_DESC(text_end, "with protect=1: the address of _etext");
module_param(rodata_start, ulong, 0444);
MODULE_PARM_DESC(rodata_start, "with protect=1: the address of __start_rodata");
module_param(rodata_end, ulong, 0444);
MODULE_PARM_DESC(rodata_end, "with protect=1: the address of __end_rodata");

/* cvisor.ko's code and read-only data, protected with protect=1 (protect_self_setup). */
static unsigned long self_code_start, self_code_end;

static struct page *pool_pages;
static unsigned int pool_order;
static enum cpuhp_state hotplug_state;
static struct dentry *debugfs_dir;
static struct cvisor_linux_setup setup;
/* Serializes (de)virtualization requests from hotplug, notifiers and unload. */
static DEFINE_MUTEX(cvisor_lock);
static bool cvisor_suspended;

/* Read positions of the per-CPU log rings (kernel memory, not cvisor's). */
static unsigned long long log_read_pos[CVISOR_LINUX_MAX_CPUS];
static DEFINE_SPINLOCK(log_drain_lock);
static void drain_logs_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(drain_work, drain_logs_work);

/* Safe in VMX root operation: the per-CPU base there is the kernel's own. */
notrace unsigned cvisor_linux_this_cpu(void)
{
	return raw_smp_processor_id();
}

/* plat_send_ipi in kernel context (the glue refuses root operation).  A
 * caller that may race CPU hotplug keeps cpu online (cpus_read_lock). */
void cvisor_linux_send_ipi(unsigned cpu, unsigned vector)
{
	if (vector < FIRST_EXTERNAL_VECTOR || vector > 0xff || cpu >= nr_cpu_ids ||
	    !cpu_online(cpu)) {
		pr_err("cvisor: BUG: plat_send_ipi(CPU %u, vector %u) refused: %s\n", cpu, vector,
		       vector < FIRST_EXTERNAL_VECTOR ? "vectors below 32 are exceptions"
		       : vector > 0xff ? "no such vector" : "that CPU is not online");
		return;
	}
	apic->send_IPI(cpu, vector);
}

struct run_on_all_cpus {
	void (*fn)(unsigned int cpu, void *arg);
	void *arg;
};

static void run_on_this_cpu(void *info)
{
	struct run_on_all_cpus *call = info;

	call->fn(smp_processor_id(), call->arg);
}

/* plat_run_on_all_cpus in kernel context (the glue refuses root operation):
 * on_each_cpu must not run with interrupts off or in interrupt context
 * (it waits for the other CPUs, which may be waiting for this one). */
void cvisor_linux_run_on_all_cpus(void (*fn)(unsigned int cpu, void *arg), void *arg)
{
	struct run_on_all_cpus call = { .fn = fn, .arg = arg };

	if (!in_task() || irqs_disabled()) {
		pr_err("cvisor: BUG: plat_run_on_all_cpus refused: it needs process context with "
		       "interrupts on\n");
		return;
	}
	on_each_cpu(run_on_this_cpu, &call, 1);
}

/* Prints what cvisor logged on each CPU, line by line, in kernel context. */
static void drain_logs(void)
{
	static char line[512];
	unsigned long flags;
	unsigned int cpu;

	spin_lock_irqsave(&log_drain_lock, flags);
	for (cpu = 0; cpu < setup.cpu_count; cpu++) {
		const struct cvisor_log_ring *ring = cvisor_linux_log_ring(cpu);
		unsigned long long head, pos;
		size_t len = 0;

		if (!ring)
			continue;
		head = smp_load_acquire(&ring->head);
		pos = log_read_pos[cpu];
		if (head - pos > CVISOR_LOG_RING_SIZE) {
			pr_warn("cvisor: CPU %u: %llu log bytes were overwritten before they were read\n",
				cpu, head - pos - CVISOR_LOG_RING_SIZE);
			pos = head - CVISOR_LOG_RING_SIZE;
		}
		for (; pos < head; pos++) {
			char c = ring->bytes[pos % CVISOR_LOG_RING_SIZE];

			if (c == '\n' || len == sizeof(line) - 1) {
				line[len] = '\0';
				pr_info("%s\n", line);
				len = 0;
				continue;
			}
			line[len++] = c;
		}
		if (len) { /* a partial line stays for the next drain */
			pos -= len;
		}
		log_read_pos[cpu] = pos;
	}
	spin_unlock_irqrestore(&log_drain_lock, flags);
}

static void drain_logs_work(struct work_struct *work)
{
	drain_logs();
	schedule_delayed_work(&drain_work, HZ / 5);
}

/* ---- one CPU ---- */

static void virtualize_this_cpu(void *result)
{
	unsigned long flags;
	int err;

	local_irq_save(flags);
	err = cvisor_linux_virtualize_this_cpu(
		(unsigned long long)(unsigned long)get_cpu_gdt_rw(smp_processor_id()));
	local_irq_restore(flags);
	*(int *)result = err;
}

static void devirtualize_this_cpu(void *result)
{
	unsigned long flags;
	long long err;

	local_irq_save(flags);
	err = cvisor_linux_devirtualize_this_cpu();
	local_irq_restore(flags);
	*(long long *)result = err;
}

static int virtualize_cpu(unsigned int cpu)
{
	int err = 0;

	if (cvisor_linux_cpu_virtualized(cpu))
		return 0;
	smp_call_function_single(cpu, virtualize_this_cpu, &err, 1);
	drain_logs();
	if (err) {
		pr_err("cvisor: CPU %u not virtualized: %s (%s)\n", cpu,
		       cvisor_linux_error_message(err), cvisor_linux_error_name(err));
		return -EIO;
	}
	pr_info("cvisor: CPU %u virtualized\n", cpu);
	return 0;
}

static int devirtualize_cpu(unsigned int cpu)
{
	long long err = 0;

	if (!cvisor_linux_cpu_virtualized(cpu))
		return 0;
	smp_call_function_single(cpu, devirtualize_this_cpu, &err, 1);
	drain_logs();
	if (err || cvisor_linux_cpu_virtualized(cpu)) {
		pr_err("cvisor: CPU %u could not be devirtualized (hypercall result %lld)\n", cpu, err);
		return -EIO;
	}
	pr_info("cvisor: CPU %u devirtualized\n", cpu);
	return 0;
}

/* CPU hotplug: a CPU coming online is virtualized, one going offline is
 * given back first (the callbacks run on that CPU's hotplug thread). */
static int cvisor_cpu_online(unsigned int cpu)
{
	int err;

	mutex_lock(&cvisor_lock);
	err = cvisor_suspended ? 0 : virtualize_cpu(cpu);
	mutex_unlock(&cvisor_lock);
	return err;
}

static int cvisor_cpu_offline(unsigned int cpu)
{
	int err;

	mutex_lock(&cvisor_lock);
	err = devirtualize_cpu(cpu);
	mutex_unlock(&cvisor_lock);
	return err;
}

static void devirtualize_all(void)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		devirtualize_cpu(cpu);
}

/* Reboot, halt, power-off and kexec: no CPU may stay in VMX operation. */
static int cvisor_reboot(struct notifier_block *nb, unsigned long action, void *data)
{
	mutex_lock(&cvisor_lock);
	cvisor_suspended = true;
	devirtualize_all();
	mutex_unlock(&cvisor_lock);
	return NOTIFY_OK;
}

static struct notifier_block reboot_nb = { .notifier_call = cvisor_reboot };

/* Suspend and hibernation: give the CPUs back, take them again after. */
static int cvisor_pm(struct notifier_block *nb, unsigned long action, void *data)
{
	unsigned int cpu;

	mutex_lock(&cvisor_lock);
	switch (action) {
	case PM_SUSPEND_PREPARE:
	case PM_HIBERNATION_PREPARE:
		cvisor_suspended = true;
		devirtualize_all();
		break;
	case PM_POST_SUSPEND:
	case PM_POST_HIBERNATION:
		cvisor_suspended = false;
		for_each_online_cpu(cpu)
			virtualize_cpu(cpu);
		break;
	}
	mutex_unlock(&cvisor_lock);
	return NOTIFY_OK;
}

static struct notifier_block pm_nb = { .notifier_call = cvisor_pm };

/* ---- /sys/kernel/debug/cvisor/exit_stats: "cpu<N> <REASON> <count>" ---- */

static int exit_stats_show(struct seq_file *m, void *v)
{
	unsigned int cpu, reason;

	for (cpu = 0; cpu < setup.cpu_count; cpu++)
		for (reason = 0; reason < cvisor_linux_exit_reason_count(); reason++) {
			unsigned long long n = cvisor_linux_exit_count(cpu, reason);

			if (n)
				seq_printf(m, "cpu%u %s %llu\n", cpu,
					   cvisor_linux_exit_reason_name(reason), n);
		}
	/* Protection events by what cvisor did (protect=1). */
	for (cpu = 0; cpu < setup.cpu_count; cpu++)
		for (reason = 0; reason < cvisor_linux_protect_action_count(); reason++) {
			unsigned long long n = cvisor_linux_protect_count(cpu, reason);

			if (n)
				seq_printf(m, "cpu%u %s %llu\n", cpu,
					   cvisor_linux_protect_action_name(reason), n);
		}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(exit_stats);

/* ---- /sys/kernel/debug/cvisor/protect_events: one line per event ---- */

static int protect_events_show(struct seq_file *m, void *v)
{
	static char line[256];
	static DEFINE_MUTEX(events_lock);
	unsigned int i;

	mutex_lock(&events_lock);
	for (i = 0; cvisor_linux_protect_event_text(i, line, sizeof(line)) >= 0; i++)
		seq_printf(m, "%s\n", line);
	mutex_unlock(&events_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(protect_events);

/* ---- /sys/kernel/debug/cvisor/protect_self (protect=1): what of
 * cvisor.ko is protected, by virtual address ---- */

static int protect_self_show(struct seq_file *m, void *v)
{
	seq_printf(m, "code 0x%lx-0x%lx %s\n", self_code_start, self_code_end,
		   protect_text_deny ? "deny" : "log");
	seq_printf(m, "state 0x%lx-0x%lx deny\n", (unsigned long)cvisor_state_start,
		   (unsigned long)cvisor_state_end);
	seq_printf(m, "exit_trace 0x%llx\n", cvisor_linux_trace_flag_address());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(protect_self);

static int virtualized_show(struct seq_file *m, void *v)
{
	unsigned int cpu;

	for (cpu = 0; cpu < setup.cpu_count; cpu++)
		if (cpu_online(cpu))
			seq_printf(m, "cpu%u %s\n", cpu,
				   cvisor_linux_cpu_virtualized(cpu) ? "virtualized" : "native");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(virtualized);

/*
 * Writing /sys/kernel/debug/cvisor/platform_check runs the glue's
 * plat_run_on_all_cpus and plat_send_ipi from process context and logs, for
 * each online CPU, "cvisor: platform check: CPU <n>: fn ran <k> time(s),
 * IPI vector 0x<v> sent" (the test bed wants k = 1 and the IPI counted in
 * /proc/interrupts).  The vector is one Linux handles by only counting it:
 * KVM's nested posted-interrupt vector (NPI), else a reschedule.
 */
#ifdef CONFIG_HAVE_KVM
#define PLATFORM_CHECK_VECTOR POSTED_INTR_NESTED_VECTOR
#else
#define PLATFORM_CHECK_VECTOR RESCHEDULE_VECTOR
#endif

static ssize_t platform_check_write(struct file *file, const char __user *buf, size_t len,
				    loff_t *pos)
{
	static unsigned int runs[CVISOR_LINUX_MAX_CPUS];
	static DEFINE_MUTEX(check_lock);
	unsigned int cpu;

	mutex_lock(&check_lock);
	cpus_read_lock(); /* the CPUs that ran fn stay online for their IPI */
	memset(runs, 0, sizeof(runs));
	cvisor_linux_platform_check(PLATFORM_CHECK_VECTOR, runs);
	for_each_online_cpu(cpu)
		pr_info("cvisor: platform check: CPU %u: fn ran %u time(s), IPI vector 0x%x %s\n",
			cpu, runs[cpu], PLATFORM_CHECK_VECTOR, runs[cpu] ? "sent" : "not sent");
	cpus_read_unlock();
	mutex_unlock(&check_lock);
	return len;
}

static const struct file_operations platform_check_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = platform_check_write,
	.llseek = noop_llseek,
};

/* ---- load and unload ---- */

static int add_ram_range(struct resource *res, void *arg)
{
	if (setup.ram_count >= CVISOR_LINUX_MAX_RAM_RANGES)
		return 0;
	setup.ram[setup.ram_count][0] = res->start;
	setup.ram[setup.ram_count][1] = res->end + 1;
	setup.ram_count++;
	return 0;
}

static void free_pool(void)
{
	cvisor_linux_fini();
	if (pool_pages)
		__free_pages(pool_pages, pool_order);
	pool_pages = NULL;
}

/* One kernel-image range [start, end) rounded out to pages, as physical
 * addresses; false when it is not inside the kernel image mapping. */
static bool kernel_image_range(unsigned long start, unsigned long end,
			       unsigned long long range[2])
{
	if (start < __START_KERNEL_map || end <= start ||
	    end > __START_KERNEL_map + KERNEL_IMAGE_SIZE)
		return false;
	range[0] = __pa_symbol(start) & PAGE_MASK;
	range[1] = PAGE_ALIGN(__pa_symbol(end - 1) + 1);
	return true;
}

/*
 * Appends the physical pages of this module's [start, end) (page aligned)
 * to ranges, merging neighbours.  The module's memory comes from
 * module_alloc (vmalloc): one page at a time, not physically contiguous.
 */
static int module_pages(unsigned long start, unsigned long end,
			unsigned long long (*ranges)[2], unsigned int *count)
{
	unsigned long addr;

	for (addr = start; addr < end; addr += PAGE_SIZE) {
		unsigned long pfn = vmalloc_to_pfn((void *)addr);
		unsigned long long phys = (unsigned long long)pfn << PAGE_SHIFT;

		if (!pfn)
			return -EFAULT;
		if (*count && ranges[*count - 1][1] == phys) {
			ranges[*count - 1][1] += PAGE_SIZE;
			continue;
		}
		if (*count == CVISOR_LINUX_MAX_SELF_RANGES)
			return -E2BIG;
		ranges[*count][0] = phys;
		ranges[*count][1] = phys + PAGE_SIZE;
		(*count)++;
	}
	return 0;
}

/*
 * protect=1 protects cvisor.ko too, or a kernel attacker would change
 * cvisor instead of the kernel: its code and read-only data, the start of
 * its core layout up to ro_size (rounded down to a page: without
 * CONFIG_STRICT_MODULE_RWX the last page may hold writable data too), and
 * the state pages of cvisor-core.lds.  In Linux 6.1 the module's text,
 * read-only data, read-only-after-init data and data are one allocation in
 * that order (kernel/module/main.c, layout_sections), of pages no other
 * module shares; module.c's own variables and struct module, which the
 * kernel writes (the module list, reference counts, notifier and work
 * lists), are outside both ranges.
 */
static int protect_self_setup(void)
{
	unsigned long state_start = (unsigned long)cvisor_state_start;
	unsigned long state_end = (unsigned long)cvisor_state_end;
	int err;

	self_code_start = (unsigned long)THIS_MODULE->core_layout.base;
	self_code_end = self_code_start + round_down(THIS_MODULE->core_layout.ro_size, PAGE_SIZE);
	if (!PAGE_ALIGNED(self_code_start) || !PAGE_ALIGNED(state_start) ||
	    !PAGE_ALIGNED(state_end) || state_end <= state_start ||
	    state_start < self_code_end) {
		pr_err("cvisor: not loaded: protect=1: cvisor.ko's state pages %px-%px are not whole "
		       "pages after its code (built without platform/linux/cvisor-core.lds?)\n",
		       (void *)state_start, (void *)state_end);
		return -EINVAL;
	}
	err = module_pages(self_code_start, self_code_end, setup.protect_self_code,
			   &setup.protect_self_code_count);
	if (!err)
		err = module_pages(state_start, state_end, setup.protect_self_state,
				   &setup.protect_self_state_count);
	if (err)
		pr_err("cvisor: not loaded: protect=1: cvisor.ko's own pages %s\n",
		       err == -E2BIG ? "are in too many physical pieces" : "have no physical page");
	return err;
}

static int protect_setup(void)
{
	unsigned long known_text = (unsigned long)schedule;

	if (!protect)
		return 0;
	if (!kernel_image_range(text_start, text_end, setup.protect_text) ||
	    !kernel_image_range(rodata_start, rodata_end, setup.protect_rodata)) {
		pr_err("cvisor: not loaded: protect=1 needs text_start, text_end, rodata_start and "
		       "rodata_end inside the kernel image (_stext, _etext, __start_rodata, "
		       "__end_rodata from System.map or /proc/kallsyms)\n");
		return -EINVAL;
	}
	/* The addresses must be this kernel's: schedule() is in its text. */
	if (known_text < text_start || known_text >= text_end) {
		pr_err("cvisor: not loaded: protect=1: schedule() at %px is outside text_start.."
		       "text_end (the addresses are not this kernel's)\n", (void *)known_text);
		return -EINVAL;
	}
	setup.protect = 1;
	setup.protect_text_deny = protect_text_deny;
	setup.kernel_half_start = ~0ULL << __VIRTUAL_MASK_SHIFT;
	return protect_self_setup();
}

/* Pages the protected ranges may need for EPT tables (a page table per
 * 2 MiB page split, a page directory per 1 GiB one): two per range. */
static unsigned long protect_table_pages(void)
{
	if (!protect)
		return 0;
	return 2 * (2 + setup.protect_self_code_count + setup.protect_self_state_count);
}

static int __init cvisor_init(void)
{
	unsigned long pages;
	const char *why;
	int err;

	preempt_disable();
	err = cvisor_linux_check_cpu();
	preempt_enable();
	if (err) {
		pr_err("cvisor: not loaded: %s\n", cvisor_linux_error_message(err));
		return cvisor_linux_error_means_busy(err) ? -EBUSY : -ENODEV;
	}

	err = protect_setup();
	if (err)
		return err;
	setup.cpu_count = nr_cpu_ids;
	if (setup.cpu_count > CVISOR_LINUX_MAX_CPUS) {
		pr_err("cvisor: not loaded: %u CPUs, cvisor supports %u\n", setup.cpu_count,
		       CVISOR_LINUX_MAX_CPUS);
		return -ENODEV;
	}
	/* Per CPU: its structures, host stack and IST stacks (~20 pages);
	 * shared: the EPT and the rest. */
	pages = 128 + 24UL * setup.cpu_count + protect_table_pages();
	pool_order = get_order(pages * PAGE_SIZE);
	if (pool_order > MAX_ORDER - 1) {
		pr_err("cvisor: not loaded: %u CPUs need more than one %lu KiB block\n",
		       setup.cpu_count, (PAGE_SIZE << (MAX_ORDER - 1)) / 1024);
		return -ENOMEM;
	}
	pool_pages = alloc_pages(GFP_KERNEL | __GFP_ZERO, pool_order);
	if (!pool_pages) {
		pr_err("cvisor: not loaded: no %lu KiB of contiguous memory\n",
		       (PAGE_SIZE << pool_order) / 1024);
		return -ENOMEM;
	}
	setup.pool = page_address(pool_pages);
	setup.pool_phys = (unsigned long long)page_to_pfn(pool_pages) << PAGE_SHIFT;
	setup.pool_pages = 1UL << pool_order;
	setup.direct_map_base = PAGE_OFFSET;
	setup.x2apic = x2apic_mode;
	setup.apic_eoi_mmio = x2apic_mode ? 0 : APIC_BASE + APIC_EOI;
	setup.tsc_hz = tsc_khz ? tsc_khz * 1000ULL : 1000000000ULL;
	setup.wall_clock_seconds = ktime_get_real_seconds();
	setup.wall_clock_tsc = rdtsc();
	walk_iomem_res_desc(IORES_DESC_NONE, IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0, -1, NULL,
			    add_ram_range);
	why = cvisor_linux_init(&setup);
	if (why) {
		pr_err("cvisor: not loaded: %s\n", why);
		__free_pages(pool_pages, pool_order);
		pool_pages = NULL;
		/* protect=1's refusals are about its arguments or this CPU. */
		return strncmp(why, "protect=1", 9) ? -ENOMEM : -EINVAL;
	}

	schedule_delayed_work(&drain_work, HZ / 5);
	debugfs_dir = debugfs_create_dir("cvisor", NULL);
	debugfs_create_file("exit_stats", 0444, debugfs_dir, NULL, &exit_stats_fops);
	debugfs_create_file("virtualized", 0444, debugfs_dir, NULL, &virtualized_fops);
	debugfs_create_file("protect_events", 0444, debugfs_dir, NULL, &protect_events_fops);
	if (protect)
		debugfs_create_file("protect_self", 0400, debugfs_dir, NULL, &protect_self_fops);
	debugfs_create_file("platform_check", 0200, debugfs_dir, NULL, &platform_check_fops);

	/* Virtualizes every online CPU now and every CPU that comes online. */
	err = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "cvisor:online", cvisor_cpu_online,
				cvisor_cpu_offline);
	if (err < 0) {
		pr_err("cvisor: not loaded: virtualizing the CPUs failed\n");
		goto fail;
	}
	hotplug_state = err;
	register_reboot_notifier(&reboot_nb);
	register_pm_notifier(&pm_nb);
	return 0;

fail:
	debugfs_remove_recursive(debugfs_dir);
	cancel_delayed_work_sync(&drain_work);
	drain_logs();
	free_pool();
	return -EIO;
}

static void __exit cvisor_exit(void)
{
	unregister_pm_notifier(&pm_nb);
	unregister_reboot_notifier(&reboot_nb);
	/* Runs the offline callback on every online CPU: each is given back. */
	cpuhp_remove_state(hotplug_state);
	debugfs_remove_recursive(debugfs_dir);
	cancel_delayed_work_sync(&drain_work);
	drain_logs();
	free_pool();
	pr_info("cvisor: unloaded; every CPU is out of VMX operation\n");
}

module_init(cvisor_init);
module_exit(cvisor_exit);
