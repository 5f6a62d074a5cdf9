/*
 * GDT, 64-bit TSS and IDT (Intel SDM Vol. 3A: "Segment Descriptors",
 * "Task Management in 64-bit Mode", "64-Bit Mode IDT").
 */
#include "descriptors.h"

#include "vmx/intrin.h"

/* Bits of a code/data segment descriptor (SDM Vol. 3A "Segment Descriptors"). */
#define SEG_ACCESSED   (1ULL << 40)
#define SEG_RW         (1ULL << 41)	/* readable code / writable data */
#define SEG_CODE       (1ULL << 43)
#define SEG_S          (1ULL << 44)	/* code or data, not system */
#define SEG_P          (1ULL << 47)
#define SEG_L          (1ULL << 53)	/* 64-bit code */
#define SEG_DB         (1ULL << 54)
#define SEG_G          (1ULL << 55)
#define SEG_LIMIT_4G   (0xFFFFULL | (0xFULL << 48))

#define SYS_TYPE_TSS64_AVAIL 0x9ULL	/* SDM Vol. 3A "System Descriptor Types" */
#define GATE_TYPE_INTR64     0xEULL

struct idt_gate {
	uint64_t low, high;
};

/* One IDT for every CPU: the gates do not depend on the CPU. */
static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));

/* isr.S: the entry stub of each vector. */
extern const uint64_t isr_stub_table[IDT_VECTORS];

static void set_tss_descriptor(uint64_t *slot, uint64_t base, uint32_t limit)
{
	/* The 16-byte system descriptor of 64-bit mode (SDM Vol. 3A
	 * "TSS Descriptor in 64-bit mode"). */
	slot[0] = (limit & 0xFFFFULL) | ((base & 0xFFFFFFULL) << 16) |
		  (SYS_TYPE_TSS64_AVAIL << 40) | SEG_P |
		  ((uint64_t)((limit >> 16) & 0xF) << 48) |
		  (((base >> 24) & 0xFFULL) << 56);
	slot[1] = base >> 32;
}

static struct idt_gate make_gate(uint64_t handler, unsigned ist)
{
	/* SDM Vol. 3A "64-Bit Mode IDT", figure "64-Bit IDT Gate Descriptors". */
	struct idt_gate g;
	g.low = (handler & 0xFFFFULL) | ((uint64_t)GDT_SEL_CODE64 << 16) |
		((uint64_t)(ist & 7) << 32) | (GATE_TYPE_INTR64 << 40) | SEG_P |
		(((handler >> 16) & 0xFFFFULL) << 48);
	g.high = handler >> 32;
	return g;
}

void descriptors_fill_cpu_tables(struct cpu_tables *t, struct ist_stacks *ist,
				 struct desc_ptr *gdtr)
{
	uint64_t *gdt = t->gdt;

	gdt[0] = 0;
	gdt[1] = SEG_LIMIT_4G | SEG_ACCESSED | SEG_RW | SEG_CODE | SEG_S |
		 SEG_P | SEG_L | SEG_G;
	gdt[2] = SEG_LIMIT_4G | SEG_ACCESSED | SEG_RW | SEG_S | SEG_P |
		 SEG_DB | SEG_G;
	t->tss = (struct tss64){ 0 };
	t->tss.ist[IST_DF - 1] = (uint64_t)(uintptr_t)(ist->stack[0] + IST_STACK_SIZE);
	t->tss.ist[IST_NMI - 1] = (uint64_t)(uintptr_t)(ist->stack[1] + IST_STACK_SIZE);
	t->tss.ist[IST_MC - 1] = (uint64_t)(uintptr_t)(ist->stack[2] + IST_STACK_SIZE);
	/* An I/O map base at or past the limit means "no I/O permission
	 * bitmap" (SDM Vol. 1 "I/O Permission Bit Map"): ring 0 does not need one. */
	t->tss.iomap_base = sizeof(t->tss);
	set_tss_descriptor(&gdt[3], (uint64_t)(uintptr_t)&t->tss, sizeof(t->tss) - 1);
	gdtr->limit = sizeof(t->gdt) - 1;
	gdtr->base = (uint64_t)(uintptr_t)gdt;
}

void descriptors_build_idt(struct desc_ptr *idtr)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		unsigned ist = 0;
		if (v == 8)
			ist = IST_DF;
		else if (v == 2)
			ist = IST_NMI;
		else if (v == 18)
			ist = IST_MC;
		idt[v] = make_gate(isr_stub_table[v], ist);
	}
	idtr->limit = sizeof(idt) - 1;
	idtr->base = (uint64_t)(uintptr_t)idt;
}

uint64_t descriptors_tss_base(void)
{
	struct desc_ptr gdtr;
	const uint64_t *gdt;
	uint16_t tr = read_tr() & ~7;

	read_gdtr(&gdtr);
	gdt = (const uint64_t *)(uintptr_t)gdtr.base;
	/* SDM Vol. 3A "TSS Descriptor in 64-bit mode": base 15:0 in bits
	 * 31:16, 23:16 in 39:32, 31:24 in 63:56, 63:32 in the next quadword. */
	return ((gdt[tr / 8] >> 16) & 0xFFFFFFULL) |
	       (((gdt[tr / 8] >> 56) & 0xFFULL) << 24) |
	       (gdt[tr / 8 + 1] << 32);
}
