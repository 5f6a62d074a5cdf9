/*
 * Multiprocessor support of the bare-metal platform: the processors come
 * from the ACPI MADT, application processors (APs) are started with
 * INIT-SIPI-SIPI through the trampoline (trampoline.S), and each CPU has a
 * struct percpu that IA32_GS_BASE points at.  Implements plat_cpu_count,
 * plat_this_cpu, plat_run_on_all_cpus, plat_send_ipi and plat_eoi.
 */
#ifndef CVISOR_BAREMETAL_SMP_H
#define CVISOR_BAREMETAL_SMP_H

#include <stdint.h>

#include "boot.h"
#include "descriptors.h"
#include "page_alloc.h"

/* Most CPUs cvisor runs on (the boot CPU included). */
#define SMP_MAX_CPUS 64
/* Each AP's own stack. */
#define SMP_AP_STACK_SIZE (32 * 1024)

/*
 * One per CPU.  IA32_GS_BASE holds its address, so %gs:0 is the pointer to
 * it and %gs:8 the CPU number.  The VMX core keeps the host GS base (it
 * copies IA32_GS_BASE into HOST_GS_BASE), so this survives VM exits.
 */
struct percpu {
	struct percpu *self;	/* offset 0 */
	uint32_t cpu;		/* offset 8: 0 = the boot CPU */
	uint32_t apic_id;
	int online;		/* set by the AP itself once it runs C code */
	uint64_t stack_top;
	struct cpu_tables tables;	/* this CPU's GDT and TSS */
};
_Static_assert(__builtin_offsetof(struct percpu, self) == 0, "percpu.self at %gs:0");
_Static_assert(__builtin_offsetof(struct percpu, cpu) == 8, "percpu.cpu at %gs:8");

/* Early in boot_main, after descriptors_init: the boot CPU's struct percpu
 * in IA32_GS_BASE, so plat_this_cpu() works from then on. */
void smp_init_boot_cpu(void);

/*
 * Once, after the page allocator is up: masks the legacy 8259 PICs,
 * enables the boot CPU's local APIC, reads the MADT (RSDP from info, else the EBDA and BIOS area), and starts
 * every other enabled processor, each parked until plat_run_on_all_cpus.
 * The trampoline page is taken from low memory that is RAM in the memory
 * map (ram) and in none of the reserved ranges.  Any failure leaves fewer
 * CPUs (at least the boot CPU) and says why in one line.
 */
void smp_start(const struct boot_info *info, const struct mem_range *ram, unsigned nram,
	       const struct mem_range *reserved, unsigned nres);

/* trampoline.S jumps here on each AP, on its own stack. */
_Noreturn void smp_ap_entry(struct percpu *pc);

#endif
