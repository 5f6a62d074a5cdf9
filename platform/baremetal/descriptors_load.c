/* Loading the host descriptor tables (platform/x86/descriptors.c) on bare metal. */
#include "descriptors.h"

#include "vmx/intrin.h"

/* The bootstrap processor's tables; application processors bring their own. */
static struct cpu_tables bsp_tables;
static struct ist_stacks bsp_ist;
static struct desc_ptr shared_idtr;

static void load_cpu_tables(struct cpu_tables *t, struct ist_stacks *ist)
{
	struct desc_ptr gdtr;

	descriptors_fill_cpu_tables(t, ist, &gdtr);
	gdt_load(&gdtr, GDT_SEL_CODE64, GDT_SEL_DATA);
	load_tr(GDT_SEL_TSS);
	load_idtr(&shared_idtr);
}

void descriptors_init(void)
{
	descriptors_build_idt(&shared_idtr);
	load_cpu_tables(&bsp_tables, &bsp_ist);
}

void descriptors_init_ap(struct cpu_tables *tables, struct ist_stacks *ist)
{
	load_cpu_tables(tables, ist);
}
