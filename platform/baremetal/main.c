/*
 * The type-1 hypervisor's main: enter VMX operation on the boot CPU, run
 * each guest module as its own VM (time-shared round robin), leave VMX
 * operation, power off.
 *
 * Guest modules (GRUB "module2 <file> <name> [options] [guest args] [-- <args>]"):
 * the first word names the VM, mem= sets its RAM (default 4M; suffix K, M
 * or G), cpus= its vCPU count (default 1; each vCPU gets a CPU of its own,
 * vCPU 0 boots, the others wait for INIT/SIPI), on_reset=stop|restart what
 * a guest's reset request does (default stop; vm/reset.h), strict_mem
 * makes a stray access end the VM, apicv=on|off whether its local APICs use
 * the CPU's APIC virtualization where the CPU offers it (default on;
 * vcpu/apicv.h) or the software APIC alone; "--" ends cvisor's options.
 * What the file is decides how it boots (its bytes, not a flag):
 *   - a Multiboot kernel: every other word, and everything after "--", is
 *     passed on to it, its Multiboot command line being "<name> <guest
 *     args>" as QEMU would give it; a module whose command line starts
 *     with '+' ("module2 <file> +<string>") is a Multiboot module of the
 *     guest before it, with <string> as its string;
 *   - a Linux bzImage (loader/linux.h): its kernel command line is
 *     everything after "--"; "module2 <file> +initrd" right after it is
 *     its initrd.
 * With the boot option fuzz=SEED:CASES, the first module is instead the
 * fuzz guest, booted afresh for every case (fuzz.c).
 */
#include "boot.h"
#include "exit/exit.h"
#include "fuzz.h"
#include "idle.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "platform.h"
#include "power.h"
#include "loader/linux.h"
#include "loader/multiboot.h"
#include "run/run_loop.h"
#include "vm/builder.h"
#include "run/schedule.h"
#include "vm/vm.h"
#include "vcpu/apicv.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/intrin.h"
#include "vmx/vmx_cpu.h"

#define GUEST_CMDLINE_MAX 256
/* A Linux kernel command line: x86's COMMAND_LINE_SIZE is 2048 with the NUL. */
#define KERNEL_CMDLINE_MAX 2048

struct guest_options {
	char name[VM_NAME_MAX];
	char cmdline[GUEST_CMDLINE_MAX]; /* "<name> <guest args>" */
	/* Everything after "--", as given (a Linux kernel's command line). */
	char after_dashes[KERNEL_CMDLINE_MAX];
	/* The first word before "--" that is no option (NULL: none). */
	const char *first_guest_arg;
	size_t first_guest_arg_len;
	uint64_t ram;
	unsigned vcpus;
	bool strict_mem; /* a stray access ends the VM instead of meeting the open bus */
	enum vm_on_reset on_reset;
	bool apicv_off; /* apicv=off: the software APIC alone */
};

/* "64M" -> bytes; 0 when malformed. */
static uint64_t parse_size(const char *s, size_t len)
{
	uint64_t value = 0;
	size_t i = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (value > (1ULL << 40))
			return 0;
		value = value * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return 0;
	if (i == len)
		return value;
	if (i + 1 != len)
		return 0;
	switch (s[i]) {
	case 'K': case 'k': return value << 10;
	case 'M': case 'm': return value << 20;
	case 'G': case 'g': return value << 30;
	default: return 0;
	}
}

static const char *parse_guest_options(const char *cmdline, struct guest_options *opt)
{
	size_t out = 0;
	bool first = true;

	memset(opt, 0, sizeof(*opt));
	opt->ram = VM_DEFAULT_RAM;
	opt->vcpus = 1;
	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		size_t len = (size_t)(p - word);
		if (!first && len == 2 && strncmp(word, "--", 2) == 0) {
			/* The rest, as given, without its surrounding spaces. */
			while (*p == ' ')
				p++;
			size_t rest = strlen(p);
			while (rest && p[rest - 1] == ' ')
				rest--;
			if (rest >= sizeof(opt->after_dashes))
				return "the command line after -- is longer than 2047 characters";
			memcpy(opt->after_dashes, p, rest);
			break;
		}
		if (first) {
			if (len >= sizeof(opt->name))
				return "the VM name is longer than 31 characters";
			memcpy(opt->name, word, len);
			first = false;
		} else if (len > 4 && strncmp(word, "mem=", 4) == 0) {
			opt->ram = parse_size(word + 4, len - 4);
			if (!opt->ram)
				return "mem= needs a size such as 4M or 65536K";
			continue;
		} else if (len == 10 && strncmp(word, "strict_mem", 10) == 0) {
			opt->strict_mem = true;
			continue;
		} else if (len > 9 && strncmp(word, "on_reset=", 9) == 0) {
			if (len == 16 && strncmp(word + 9, "restart", 7) == 0)
				opt->on_reset = VM_ON_RESET_RESTART;
			else if (len == 13 && strncmp(word + 9, "stop", 4) == 0)
				opt->on_reset = VM_ON_RESET_STOP;
			else
				return "on_reset= needs stop or restart";
			continue;
		} else if (len > 6 && strncmp(word, "apicv=", 6) == 0) {
			if (len == 8 && strncmp(word + 6, "on", 2) == 0)
				opt->apicv_off = false;
			else if (len == 9 && strncmp(word + 6, "off", 3) == 0)
				opt->apicv_off = true;
			else
				return "apicv= needs on or off";
			continue;
		} else if (len > 5 && strncmp(word, "cpus=", 5) == 0) {
			uint64_t n = parse_size(word + 5, len - 5);
			if (n < 1 || n > VM_MAX_VCPUS)
				return "cpus= needs a vCPU count from 1 to 8";
			opt->vcpus = (unsigned)n;
			continue;
		}
		if (out && !opt->first_guest_arg) { /* out: the name is in */
			opt->first_guest_arg = word;
			opt->first_guest_arg_len = len;
		}
		if (out + len + 2 > sizeof(opt->cmdline))
			return "the guest command line is too long";
		if (out)
			opt->cmdline[out++] = ' ';
		memcpy(opt->cmdline + out, word, len);
		out += len;
	}
	if (first)
		return "the module has no VM name (module2 <file> <name> ...)";
	return NULL;
}

static struct vm vms[BOOT_MAX_MODULES];

/*
 * What a VM boots from, kept for as long as it runs: a restart
 * (on_reset=restart) loads it again.  The kernel and module images stay
 * where GRUB put them, in memory the page allocator never hands out
 * (boot.c reserves every module); the command lines are kept here.
 */
struct guest_image {
	bool is_linux; /* a bzImage, booted through the Linux boot protocol */
	const void *kernel;
	size_t kernel_size;
	/* Multiboot: "<name> <guest args>" and its modules. */
	char cmdline[GUEST_CMDLINE_MAX];
	struct multiboot_module modules[MULTIBOOT_MAX_MODULES];
	unsigned module_count;
	/* Linux: the kernel command line and the initrd (NULL: none). */
	char kernel_cmdline[KERNEL_CMDLINE_MAX];
	const void *initrd;
	size_t initrd_size;
	/* Where the Linux loader put things, or why it refused (its reason
	 * outlives the call: a restart's caller prints it). */
	struct linux_placement *placement;
};
static struct guest_image images[BOOT_MAX_MODULES];
static struct linux_placement placements[BOOT_MAX_MODULES];

/* The image's loader, the first time and on each restart (vm_boot_loader). */
static const char *load_guest_image(struct vm *vm, const void *image)
{
	const struct guest_image *g = image;

	if (g->is_linux)
		return linux_load(vm, g->kernel, g->kernel_size, g->initrd, g->initrd_size,
				  g->kernel_cmdline, g->placement);
	return multiboot_load_with_modules(vm, g->kernel, g->kernel_size, g->cmdline, g->modules,
					   g->module_count);
}

/*
 * A Multiboot guest: its command line is "<name> <guest args>" with the
 * words after "--" last; each '+' module is one of its modules.  NULL, or
 * why it is refused.
 */
static const char *prepare_multiboot_image(struct guest_image *image,
					   const struct guest_options *opt,
					   const struct boot_module *extra, unsigned extra_count)
{
	size_t len = strlen(opt->cmdline), rest = strlen(opt->after_dashes);

	if (extra_count > MULTIBOOT_MAX_MODULES)
		return "more than 8 modules";
	if (rest && len + 1 + rest >= sizeof(image->cmdline))
		return "the guest command line is too long";
	memcpy(image->cmdline, opt->cmdline, len + 1);
	if (rest) {
		image->cmdline[len] = ' ';
		memcpy(image->cmdline + len + 1, opt->after_dashes, rest + 1);
	}
	image->module_count = extra_count;
	for (unsigned i = 0; i < extra_count; i++) {
		image->modules[i].data = plat_phys_to_virt(extra[i].start);
		image->modules[i].size = extra[i].end - extra[i].start;
		image->modules[i].cmdline = extra[i].cmdline + 1; /* after the '+' */
	}
	return NULL;
}

/*
 * A Linux guest: the words after "--" are its kernel command line, and
 * cvisor's options come before; one "+initrd" module may follow.  NULL,
 * or why it is refused (into why, which has room for a line).
 */
static const char *prepare_linux_image(struct guest_image *image, const struct guest_options *opt,
				       const struct boot_module *extra, unsigned extra_count,
				       char *why, size_t why_size)
{
	if (opt->first_guest_arg) {
		fmt_snprintf(why, why_size, "\"%.*s\" is not a cvisor option; a Linux kernel's "
			     "command line goes after \"--\"", (int)opt->first_guest_arg_len,
			     opt->first_guest_arg);
		return why;
	}
	memcpy(image->kernel_cmdline, opt->after_dashes, sizeof(image->kernel_cmdline));
	image->initrd = NULL;
	image->initrd_size = 0;
	for (unsigned i = 0; i < extra_count; i++) {
		if (strncmp(extra[i].cmdline, "+initrd", 8) != 0) {
			fmt_snprintf(why, why_size, "module \"%s\" is not a Linux guest's module (only "
				     "+initrd is)", extra[i].cmdline);
			return why;
		}
		if (image->initrd)
			return "more than one +initrd module";
		image->initrd = plat_phys_to_virt(extra[i].start);
		image->initrd_size = extra[i].end - extra[i].start;
	}
	image->module_count = 0;
	return NULL;
}

/* A guest module that became a VM, and the CPUs its vCPUs are pinned to. */
struct guest_slot {
	bool loaded;  /* VM created and its image loaded */
	unsigned vcpu_count;
	unsigned cpu[VM_MAX_VCPUS];
	struct vcpu *vcpu[VM_MAX_VCPUS]; /* allocated pages, NULL if not created */
};
static struct guest_slot slots[BOOT_MAX_MODULES];

/* The large EPT page sizes this CPU offers for guest RAM. */
static unsigned large_page_sizes(const struct vmx_caps *caps)
{
	return ((caps->ept_vpid & EPT_CAP_PDE_2MB) ? VM_PAGES_2M : 0) |
	       ((caps->ept_vpid & EPT_CAP_PDPTE_1GB) ? VM_PAGES_1G : 0);
}

/* The boot log's line for a loaded VM. */
static void print_loaded_guest(const struct vm *vm, const struct guest_image *image,
			       unsigned vcpus)
{
	const struct linux_placement *p = image->placement;

	if (!image->is_linux) {
		log_printf("cvisor: VM %s: %llu KiB RAM, %u vCPU(s), %u EPT table pages, entry 0x%x, %u module(s), command line \"%s\"\n",
			   vm->name, (unsigned long long)(vm->ram_size >> 10), vcpus,
			   vm->ept.table_pages, (uint32_t)vm->boot.rip, image->module_count,
			   image->cmdline);
		return;
	}
	log_printf("cvisor: VM %s: %llu KiB RAM, %u vCPU(s), %u EPT table pages, Linux bzImage "
		   "(boot protocol %u.%02u%s) at 0x%llx-0x%llx%s, entry 0x%x, zero page at 0x%x "
		   "with %u e820 entries\n",
		   vm->name, (unsigned long long)(vm->ram_size >> 10), vcpus, vm->ept.table_pages,
		   p->protocol >> 8, p->protocol & 0xFF, p->kernel_64 ? ", 64-bit" : "",
		   (unsigned long long)p->kernel_gpa, (unsigned long long)p->kernel_end - 1,
		   p->relocated ? " (relocated: pref_address does not fit)" : "",
		   (uint32_t)vm->boot.rip, LINUX_ZERO_PAGE_GPA, p->e820_entries);
	if (p->initrd_size)
		log_printf("cvisor: VM %s: initrd of %llu bytes at 0x%llx\n", vm->name,
			   (unsigned long long)p->initrd_size, (unsigned long long)p->initrd_gpa);
	log_printf("cvisor: VM %s: kernel command line \"%s\"\n", vm->name, image->kernel_cmdline);
}

/*
 * Creates one VM and loads its kernel and modules; false (with a reason
 * printed) if refused.  mod is the kernel; the modules right after it that
 * start with '+' are its Multiboot modules or its initrd.  The kernel's
 * bytes say which loader boots it (a bzImage's signatures, else
 * Multiboot, whose loader names what is missing).  The vCPU is created
 * later, on the CPU it is pinned to.
 */
static bool load_guest(const struct vmx_caps *caps, unsigned id, const struct boot_module *mod,
		       const struct boot_module *extra, unsigned extra_count, unsigned cpus)
{
	struct vm *vm = &vms[id];
	struct guest_image *image = &images[id];
	struct guest_options opt;
	char why[160];
	const char *err = parse_guest_options(mod->cmdline, &opt);

	if (err) {
		log_printf("cvisor: guest module %u (\"%s\") refused: %s\n", id, mod->cmdline, err);
		return false;
	}
	if (opt.vcpus > cpus) {
		log_printf("cvisor: VM %s refused: it asks for %u vCPUs but only %u CPU(s) run VMs "
			   "(each vCPU needs a CPU of its own)\n", opt.name, opt.vcpus, cpus);
		return false;
	}
	image->kernel = plat_phys_to_virt(mod->start);
	image->kernel_size = mod->end - mod->start;
	image->placement = &placements[id];
	image->is_linux = linux_is_bzimage(image->kernel, image->kernel_size);
	err = image->is_linux
		? prepare_linux_image(image, &opt, extra, extra_count, why, sizeof(why))
		: prepare_multiboot_image(image, &opt, extra, extra_count);
	if (err) {
		log_printf("cvisor: VM %s refused: %s\n", opt.name, err);
		return false;
	}
	const struct vm_config config = {
		.id = id, .name = opt.name, .ram_size = opt.ram,
		.large_pages = large_page_sizes(caps), .vcpu_count = opt.vcpus,
		.strict_mem = opt.strict_mem, .on_reset = opt.on_reset,
		.apicv = opt.apicv_off ? 0 : apicv_offered(caps),
	};
	if ((err = vm_build(vm, &config)) != NULL) {
		log_printf("cvisor: VM %s refused: %s\n", opt.name, err);
		return false;
	}
	vm_set_boot_image(vm, load_guest_image, image);
	err = load_guest_image(vm, image);
	if (err) {
		log_printf("cvisor: VM %s refused: %s\n", opt.name, err);
		vm_destroy(vm);
		return false;
	}
	slots[id].vcpu_count = opt.vcpus;
	print_loaded_guest(vm, image, opt.vcpus);
	log_printf("cvisor: VM %s: local APIC: %s%s\n", vm->name, apicv_describe(vm->apicv),
		   opt.apicv_off ? " (apicv=off)" : "");
	return true;
}

/*
 * A canary in cvisor's own memory: no guest may ever change it, whatever
 * it writes.  Checked each time a VM ends.
 */
#define CANARY_WORDS 512
#define CANARY_PATTERN 0xC0FFEE5AFE5EC0DEULL
static volatile uint64_t memory_canary[CANARY_WORDS];
static bool canary_broken;

static void canary_fill(void)
{
	for (unsigned i = 0; i < CANARY_WORDS; i++)
		memory_canary[i] = CANARY_PATTERN ^ i;
}

static void check_canary_after(struct vm *vm)
{
	for (unsigned i = 0; i < CANARY_WORDS; i++) {
		if (memory_canary[i] != (CANARY_PATTERN ^ i)) {
			log_printf("cvisor: memory canary CHANGED at word %u after VM %s\n", i, vm->name);
			canary_broken = true;
			return;
		}
	}
	log_printf("cvisor: memory canary intact after VM %s\n", vm->name);
}

#define MAX_CPUS 64
static struct vmx_cpu vmx_cpus[MAX_CPUS];
static enum vmx_error vmx_results[MAX_CPUS];
static unsigned module_count;

/* Phase 1, on every CPU: enter VMX operation, each failure named by CPU. */
static void cpu_enable_vmx(unsigned cpu, void *arg)
{
	(void)arg;
	if (cpu >= MAX_CPUS)
		return;
	vmx_results[cpu] = vmx_cpu_enable(&vmx_cpus[cpu], cpu);
	if (vmx_results[cpu] == VMX_OK)
		vmx_prepare_guest_fpu_switching(&vmx_cpus[cpu]); /* vcpu_load/put move guest FPU state */
	if (vmx_results[cpu] != VMX_OK)
		log_printf("cvisor: CPU %u: %s\n", cpu, vmx_error_message(vmx_results[cpu]));
	else
		log_printf("cvisor: CPU %u: VMX on (VMXON region at 0x%llx)\n", cpu,
			   (unsigned long long)vmx_cpus[cpu].vmxon_region_pa);
}

#define VCPU_PAGES ((sizeof(struct vcpu) + PAGE_SIZE - 1) / PAGE_SIZE)

/* Where `key` starts a word of the boot command line: the text after it, or NULL. */
static const char *find_boot_option(const char *cmdline, const char *key)
{
	size_t len = strlen(key);
	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && strncmp(p, key, len) == 0)
			return p + len;
	return NULL;
}

/* The boot command line has the word `option` (a whole word). */
static bool boot_option_is(const char *cmdline, const char *option)
{
	const char *rest = find_boot_option(cmdline, option);
	return rest && (*rest == ' ' || *rest == '\0');
}

/*
 * Boot option debug.vmcs=FIELD:VALUE (e.g. debug.vmcs=GUEST_TR_AR_BYTES:0x89)
 * writes one VMCS field of the first VM's vCPU 0 after cvisor built it, to
 * break a real VM entry on purpose: the system tests compare cvisor's named
 * rule with the CPU's (Bochs's) own verdict.  In fuzz mode it breaks the
 * first case, which must then be a finding.
 */
static const struct vmcs_field_info *debug_field;
static uint64_t debug_value;

static void parse_debug_vmcs(const char *cmdline)
{
	const char *name = find_boot_option(cmdline, "debug.vmcs=");
	if (!name)
		return;
	const char *colon = name;
	while (*colon && *colon != ':' && *colon != ' ')
		colon++;
	debug_field = *colon == ':' ? vmcs_field_by_name(name, (unsigned)(colon - name)) : NULL;
	if (!debug_field || debug_field->read_only) {
		log_printf("cvisor: debug.vmcs: no writable VMCS field named \"%.*s\"; ignored\n",
			   (int)(colon - name), name);
		debug_field = NULL;
		return;
	}
	const char *v = colon + 1;
	bool hex = v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
	for (v += hex ? 2 : 0; *v && *v != ' '; v++) {
		unsigned digit = (*v >= '0' && *v <= '9') ? (unsigned)(*v - '0')
				 : (*v >= 'a' && *v <= 'f') ? (unsigned)(*v - 'a' + 10)
				 : (*v >= 'A' && *v <= 'F') ? (unsigned)(*v - 'A' + 10) : 99;
		if (digit >= (hex ? 16u : 10u)) {
			log_printf("cvisor: debug.vmcs: bad value; ignored\n");
			debug_field = NULL;
			return;
		}
		debug_value = debug_value * (hex ? 16 : 10) + digit;
	}
}

/* debug.vmcs: the first call writes the field into vCPU's VMCS, which
 * vcpu_create left current; later calls do nothing. */
static void break_vmcs_on_purpose(struct vcpu *vcpu)
{
	if (!debug_field)
		return;
	vmcs_write_encoding(debug_field->encoding, debug_value);
	log_printf("cvisor: debug.vmcs: VM %s vCPU %u: %s set to 0x%llx on purpose\n",
		   vcpu->vm->name, vcpu->id, debug_field->name, (unsigned long long)debug_value);
	debug_field = NULL;
}

/* Phase 2, on every CPU: create the vCPUs pinned here.  All of them exist
 * before any runs, so an early INIT or SIPI always finds its target. */
static void cpu_create_vcpus(unsigned cpu, void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < module_count; i++) {
		for (unsigned k = 0; slots[i].loaded && k < slots[i].vcpu_count; k++) {
			if (slots[i].cpu[k] != cpu)
				continue;
			struct vcpu *v = plat_alloc_pages(VCPU_PAGES, 1);
			const char *err = v ? vm_build_vcpu(&vms[i], k, &vmx_cpus[cpu], v)
					    : vmx_error_message(VMX_ERR_NO_MEMORY);
			if (err) {
				log_printf("cvisor: VM %s vCPU %u: %s\n", vms[i].name, k, err);
				if (v)
					plat_free_pages(v, VCPU_PAGES);
				vm_end(&vms[i], false, "vCPU %u could not be created on CPU %u", k, cpu);
				continue;
			}
			slots[i].vcpu[k] = v;
			if (k == 0)
				break_vmcs_on_purpose(v);
			log_printf("cvisor: VM %s: vCPU %u runs on CPU %u\n", vms[i].name, k, cpu);
		}
	}
}

/* Each CPU's sleeps and TSC when phase 3 began (phase 4 reports the difference). */
static struct idle_counts idle_at_run_start[MAX_CPUS];
static uint64_t tsc_at_run_start[MAX_CPUS];

/* Phase 3, on every CPU: run the vCPUs pinned here until their VMs end. */
static void cpu_run_guests(unsigned cpu, void *arg)
{
	(void)arg;
	if (cpu < MAX_CPUS) {
		idle_at_run_start[cpu] = idle_counts();
		tsc_at_run_start[cpu] = rdtsc();
	}
	struct vcpu *mine[BOOT_MAX_MODULES * VM_MAX_VCPUS] = { NULL };
	unsigned count = 0;

	for (unsigned i = 0; i < module_count; i++)
		for (unsigned k = 0; slots[i].loaded && k < slots[i].vcpu_count; k++)
			if (slots[i].cpu[k] == cpu && slots[i].vcpu[k])
				mine[count++] = slots[i].vcpu[k];
	schedule_round_robin(mine, count, check_canary_after);
	for (unsigned i = 0; i < count; i++)
		vcpu_destroy(mine[i]);
}

/* Phase 4, on every CPU: leave VMX operation and show that it is gone. */
static void cpu_disable_vmx(unsigned cpu, void *arg)
{
	bool *failed = arg;
	struct cpuid_regs r;

	if (cpu >= MAX_CPUS || vmx_results[cpu] != VMX_OK)
		return;
	/* How much of the guests' run this CPU slept (run/schedule.c, and
	 * the wait for the other CPUs to finish). */
	struct idle_counts idle = idle_counts();
	uint64_t asleep = idle.asleep_tsc - idle_at_run_start[cpu].asleep_tsc;
	uint64_t span = rdtsc() - tsc_at_run_start[cpu];
	log_printf("cvisor: CPU %u: slept %llu%% of the guests' run (%llu of %llu TSC ticks, %llu sleeps)\n",
		   cpu, (unsigned long long)(span ? asleep * 100 / span : 0), (unsigned long long)asleep,
		   (unsigned long long)span,
		   (unsigned long long)(idle.sleeps - idle_at_run_start[cpu].sleeps));
	enum vmx_error err = vmx_cpu_disable(&vmx_cpus[cpu]);
	if (err != VMX_OK) {
		log_printf("cvisor: CPU %u: %s\n", cpu, vmx_error_message(err));
		*failed = true;
		return;
	}
	/* CPUID.1:ECX[31] is the hypervisor-present bit (SDM Vol. 2A CPUID). */
	cpuid(1, 0, &r);
	bool vmxe = vmx_cr4_vmxe_set(), hypervisor = r.ecx & (1u << 31);
	log_printf("cvisor: CPU %u: VMX off, CR4.VMXE %s, CPUID reports %s\n", cpu,
		   vmxe ? "still set" : "clear", hypervisor ? "a hypervisor" : "no hypervisor");
	if (vmxe)
		*failed = true;
}

/*
 * The normal run: every guest module becomes a VM, its vCPUs spread over
 * the usable CPUs; all run until they end.  True when every VM succeeded.
 */
static bool run_guest_modules(const struct boot_info *info, const unsigned *usable,
			      unsigned usable_count, unsigned cpus)
{
	canary_fill();
	module_count = info->module_count;
	bool all_ok = info->module_count > 0 && usable_count == cpus;
	unsigned placed = 0;
	if (!info->module_count)
		log_printf("cvisor: no guest modules were given (GRUB: module2 <file> <name>)\n");
	for (unsigned i = 0; i < info->module_count; i++) {
		const struct boot_module *mod = &info->modules[i];
		unsigned extra = 0;
		if (mod->cmdline[0] == '+') {
			log_printf("cvisor: module %u (\"%s\") follows no guest; ignored\n", i, mod->cmdline);
			all_ok = false;
			continue;
		}
		while (i + 1 + extra < info->module_count && info->modules[i + 1 + extra].cmdline[0] == '+')
			extra++;
		slots[i].loaded = load_guest(&vmx_cpus[0].caps, i, mod, mod + 1, extra, usable_count);
		/* Spread the vCPUs over the CPUs; a VM's vCPUs land on distinct CPUs. */
		for (unsigned k = 0; slots[i].loaded && k < slots[i].vcpu_count; k++)
			slots[i].cpu[k] = usable[placed++ % usable_count];
		if (!slots[i].loaded)
			all_ok = false;
		i += extra;
	}
	plat_run_on_all_cpus(cpu_create_vcpus, NULL);
	plat_run_on_all_cpus(cpu_run_guests, NULL);

	for (unsigned i = 0; i < info->module_count; i++) {
		if (!slots[i].loaded)
			continue;
		log_printf("cvisor: VM %s: %s: %s\n", vms[i].name,
			   vms[i].success ? "success" : "failure", vms[i].end_reason);
		struct vcpu *created[VM_MAX_VCPUS];
		unsigned n = 0;
		for (unsigned k = 0; k < slots[i].vcpu_count; k++) {
			if (!slots[i].vcpu[k])
				continue;
			exit_print_statistics(slots[i].vcpu[k]);
			created[n++] = slots[i].vcpu[k];
		}
		if (n > 1)
			exit_print_vm_statistics(created, n);
		for (unsigned k = 0; k < n; k++)
			plat_free_pages(created[k], VCPU_PAGES);
		all_ok &= vms[i].success;
		vm_destroy(&vms[i]);
	}
	return all_ok && !canary_broken;
}

/*
 * Boot option fuzz=SEED:CASES: the first guest module is the fuzz guest
 * (guests/fuzz); each case is a fresh VM made from it on the boot CPU
 * (platform/baremetal/fuzz.c).  True when there was no finding.
 */
static bool run_fuzz_cases(const struct boot_info *info, const struct fuzz_plan *plan)
{
	struct guest_options opt;
	const char *err;

	if (!info->module_count) {
		log_printf("cvisor: fuzz: no guest module to fuzz with (module2 fuzz.elf fuzz)\n");
		return false;
	}
	const struct boot_module *mod = &info->modules[0];
	if ((err = parse_guest_options(mod->cmdline, &opt)) != NULL) {
		log_printf("cvisor: fuzz: guest module \"%s\" refused: %s\n", mod->cmdline, err);
		return false;
	}
	struct fuzz_image image = {
		.data = plat_phys_to_virt(mod->start), .size = mod->end - mod->start,
		.name = opt.name, .cmdline = opt.cmdline, .ram = opt.ram,
		.large_pages = large_page_sizes(&vmx_cpus[0].caps),
		.apicv = apicv_offered(&vmx_cpus[0].caps),
		.after_vcpu_create = break_vmcs_on_purpose,
		.fault_in_first_case = find_boot_option(info->cmdline, "debug.fault") != NULL,
	};
	return fuzz_run(&vmx_cpus[0], plan, &image) == 0;
}

void cvisor_main(const struct boot_info *info)
{
	unsigned cpus = plat_cpu_count() < MAX_CPUS ? plat_cpu_count() : MAX_CPUS;

	log_printf("cvisor %u.%u: type-1 Intel VT-x hypervisor\n", 0, 1);
	/* Boot options (multiboot2 /boot/cvisor.elf <options>): trace=exits
	 * prints every VM exit as it happens, trace=ring keeps the last ones
	 * for failure reports (the debug default), trace=off only counts. */
	if (boot_option_is(info->cmdline, "trace=exits"))
		exit_trace = EXIT_TRACE_PRINT;
	else if (boot_option_is(info->cmdline, "trace=ring"))
		exit_trace = EXIT_TRACE_RING;
	else if (boot_option_is(info->cmdline, "trace=off"))
		exit_trace = EXIT_TRACE_OFF;
	if (exit_trace == EXIT_TRACE_PRINT)
		log_printf("cvisor: tracing every VM exit (trace=exits)\n");
	parse_debug_vmcs(info->cmdline);
	/* fuzz=SEED:CASES runs the fuzz cases instead of the guests (README.md). */
	struct fuzz_plan fuzz_plan;
	const char *fuzz_value = find_boot_option(info->cmdline, "fuzz=");
	const char *fuzz_error = fuzz_value ? fuzz_parse_plan(fuzz_value, &fuzz_plan) : NULL;
	bool fuzzing = fuzz_value != NULL;
	if (fuzz_error) {
		log_printf("cvisor: %s\n", fuzz_error);
		plat_power_off(false);
	}

	plat_run_on_all_cpus(cpu_enable_vmx, NULL);
	if (vmx_results[0] != VMX_OK)
		plat_power_off(false);
	vmx_caps_print_summary(&vmx_cpus[0].caps);

	/* The CPUs that run guests: those in VMX operation. */
	unsigned usable[MAX_CPUS], usable_count = 0;
	for (unsigned cpu = 0; cpu < cpus; cpu++)
		if (vmx_results[cpu] == VMX_OK)
			usable[usable_count++] = cpu;

	bool all_ok = fuzzing ? run_fuzz_cases(info, &fuzz_plan)
			      : run_guest_modules(info, usable, usable_count, cpus);
	if (vcpu_first_entry_tsc)
		log_printf("cvisor: the first VM entry came %llu TSC ticks after cvisor's entry (at TSC %llu)\n",
			   (unsigned long long)(vcpu_first_entry_tsc - info->entry_tsc),
			   (unsigned long long)vcpu_first_entry_tsc);

	bool off_failed = false;
	plat_run_on_all_cpus(cpu_disable_vmx, &off_failed);
	if (off_failed)
		all_ok = false;
	if (!fuzzing)
		log_printf("cvisor: %s\n", all_ok ? "all VMs ended successfully" : "a VM failed or was refused");
	plat_power_off(all_ok);
}
