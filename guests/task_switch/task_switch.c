/*
 * Hardware task switches, which always exit in VMX non-root operation (SDM
 * Vol. 3C 26.4.2) and which cvisor performs (core/exit/task_switch.c):
 *
 *  - a far JMP to a task, which jumps back: no back link, NT clear, busy
 *    flags moved (SDM Vol. 3A 7.3, Table 7-2), CR0.TS set;
 *  - a far CALL to a task, which returns by IRET: back link and NT
 *    (7.4), the caller stays busy, registers survive;
 *  - a #GP through a task gate in the IDT: the error code on the new
 *    task's stack, the faulting instruction as the saved EIP; the task
 *    fixes the cause and IRETs, and the instruction is retried.
 *
 * With the command-line word "outside_ram" it instead jumps to a TSS whose
 * base is not guest RAM, which has no architectural fault: cvisor must stop
 * the VM with its one-line report, VMCS dump and exit history.
 */
#include "guest.h"
#include "probe.h"

/* A 32-bit TSS (SDM Vol. 3A 7.2.1, Figure 7-2). */
struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
} __attribute__((packed));

/* traps_init's code and data (0x08, 0x10, and 64-bit code 0x18), then ours. */
#define SEL_CODE      0x08
#define SEL_DATA      0x10
#define SEL_MAIN      0x20
#define SEL_JMP_TASK  0x28
#define SEL_CALL_TASK 0x30
#define SEL_GP_TASK   0x38
#define SEL_FAR_TSS   0x40
#define GDT_ENTRIES   9
#define BAD_SELECTOR  0x1230 /* beyond the GDT's limit: #GP(0x1230) */
#define EFLAGS_NT     (1u << 14)
#define CR0_TS        (1u << 3)
#define TYPE_TSS_AVAILABLE 0x9
#define TYPE_TSS_BUSY      0xB

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static struct tss32 main_tss, jmp_tss, call_tss, gp_tss;
static uint8_t jmp_stack[2048] __attribute__((aligned(16)));
static uint8_t call_stack[2048] __attribute__((aligned(16)));
static uint8_t gp_stack[2048] __attribute__((aligned(16)));

/* What the tasks saw, for the main task to check. */
static volatile struct {
	unsigned runs;
	uint32_t eflags, link, main_type, own_type;
	uint16_t tr;
} jmp_seen, call_seen, gp_seen;
volatile uint32_t gp_task_error, gp_task_saved_eip;

extern const char gp_insn[];

static uint64_t descriptor(uint32_t base, uint32_t limit, uint32_t type_and_flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)type_and_flags << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(base >> 24) << 56;
}

static unsigned type_of(uint16_t selector)
{
	return (unsigned)(((volatile uint64_t *)gdt)[selector >> 3] >> 40) & 0xF;
}

static uint32_t read_eflags(void)
{
	uint32_t v;
	__asm__ volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

static uint16_t read_tr(void)
{
	uint16_t v;
	__asm__ volatile("str %0" : "=r"(v));
	return v;
}

static void seen_now(volatile __typeof__(jmp_seen) *seen, const struct tss32 *own, uint16_t sel)
{
	seen->runs++;
	seen->eflags = read_eflags();
	seen->link = ((volatile const struct tss32 *)own)->link;
	seen->main_type = type_of(SEL_MAIN);
	seen->own_type = type_of(sel);
	seen->tr = read_tr();
}

/* The task a far JMP reaches: it records what it sees and jumps back. */
static __attribute__((noreturn)) void jmp_task(void)
{
	for (;;) {
		seen_now(&jmp_seen, &jmp_tss, SEL_JMP_TASK);
		__asm__ volatile("ljmp $0x20, $0" ::: "memory");
	}
}

/* The task a far CALL reaches: it records and returns by IRET (NT = 1). */
static __attribute__((noreturn)) void call_task(void)
{
	for (;;) {
		seen_now(&call_seen, &call_tss, SEL_CALL_TASK);
		__asm__ volatile("iret" ::: "memory");
	}
}

/* The #GP task's body: it makes the faulting MOV DS, AX load a good
 * selector on its retry (the interrupted task's EAX in its TSS). */
void gp_task_body(void);
void gp_task_body(void)
{
	seen_now(&gp_seen, &gp_tss, SEL_GP_TASK);
	gp_task_saved_eip = ((volatile struct tss32 *)&main_tss)->eip;
	((volatile struct tss32 *)&main_tss)->eax = SEL_DATA;
}

/* The #GP task's entry: the error code is on its stack (SDM Vol. 3A 6.13). */
void gp_task_entry(void);
__asm__(".text\n"
	".globl gp_task_entry\n"
	"gp_task_entry:\n"
	"	popl gp_task_error\n"
	"	call gp_task_body\n"
	"	iret\n"
	"	jmp gp_task_entry\n");

static void task_at(struct tss32 *t, void (*entry)(void), uint8_t *stack, uint32_t stack_size)
{
	*t = (struct tss32){
		.eip = (uint32_t)(uintptr_t)entry,
		.eflags = 0x2,
		.esp = (uint32_t)(uintptr_t)(stack + stack_size),
		.es = SEL_DATA, .cs = SEL_CODE, .ss = SEL_DATA, .ds = SEL_DATA, .fs = SEL_DATA,
		.gs = SEL_DATA, .iomap_base = sizeof(struct tss32),
	};
}

static void tables_init(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr;

	traps_init(); /* an exception no task expects is reported */
	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	for (unsigned i = 0; i < 4 && i * 8 + 7 <= gdtr.limit; i++)
		gdt[i] = ((const uint64_t *)(uintptr_t)gdtr.base)[i];
	main_tss = (struct tss32){ .iomap_base = sizeof(struct tss32) };
	task_at(&jmp_tss, jmp_task, jmp_stack, sizeof(jmp_stack));
	task_at(&call_tss, call_task, call_stack, sizeof(call_stack));
	task_at(&gp_tss, gp_task_entry, gp_stack, sizeof(gp_stack));
	gdt[SEL_MAIN >> 3] = descriptor((uint32_t)(uintptr_t)&main_tss, sizeof(struct tss32) - 1, 0x89);
	gdt[SEL_JMP_TASK >> 3] = descriptor((uint32_t)(uintptr_t)&jmp_tss, sizeof(struct tss32) - 1, 0x89);
	gdt[SEL_CALL_TASK >> 3] = descriptor((uint32_t)(uintptr_t)&call_tss, sizeof(struct tss32) - 1, 0x89);
	gdt[SEL_GP_TASK >> 3] = descriptor((uint32_t)(uintptr_t)&gp_tss, sizeof(struct tss32) - 1, 0x89);
	/* A TSS at 3 GiB: no RAM there. */
	gdt[SEL_FAR_TSS >> 3] = descriptor(0xC0000000u, sizeof(struct tss32) - 1, 0x89);
	gdtr.limit = sizeof(gdt) - 1;
	gdtr.base = (uint32_t)(uintptr_t)gdt;
	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	__asm__ volatile("ltr %w0" ::"r"(SEL_MAIN));
}

static void jmp_round_trip(void)
{
	__asm__ volatile("clts");
	__asm__ volatile("ljmp $0x28, $0" ::: "memory");
	uint32_t cr0 = guest_read_cr0();
	check(jmp_seen.runs == 1, "JMP to a task runs it");
	check(!(jmp_seen.eflags & EFLAGS_NT) && jmp_seen.link == 0 && jmp_seen.tr == SEL_JMP_TASK,
	      "the task JMP reached has NT clear, no back link, TR its selector");
	check(jmp_seen.main_type == TYPE_TSS_AVAILABLE && jmp_seen.own_type == TYPE_TSS_BUSY,
	      "JMP left the old task not busy and the new one busy");
	check(read_tr() == SEL_MAIN && type_of(SEL_MAIN) == TYPE_TSS_BUSY &&
		      type_of(SEL_JMP_TASK) == TYPE_TSS_AVAILABLE,
	      "JMP back resumes after the far JMP: TR 0x20 busy, the other task not busy");
	check(cr0 & CR0_TS, "CR0.TS is set by a task switch");
	__asm__ volatile("clts");
}

static void call_and_iret(void)
{
	uint32_t esi_after;

	__asm__ volatile("movl $0x5A5A1234, %%esi\n\t"
			 "lcall $0x30, $0\n\t"
			 "movl %%esi, %0"
			 : "=r"(esi_after)::"esi", "memory");
	check(call_seen.runs == 1, "CALL to a task runs it");
	check((call_seen.eflags & EFLAGS_NT) && call_seen.link == SEL_MAIN,
	      "the called task has NT set and the caller's TSS as back link");
	check(call_seen.main_type == TYPE_TSS_BUSY && call_seen.own_type == TYPE_TSS_BUSY,
	      "the caller stays busy while the called task runs");
	check(read_tr() == SEL_MAIN && !(read_eflags() & EFLAGS_NT) &&
		      type_of(SEL_CALL_TASK) == TYPE_TSS_AVAILABLE,
	      "IRET returns to the caller: TR 0x20, NT clear, the called task not busy");
	check(esi_after == 0x5A5A1234, "the caller's registers survive the CALL and IRET");
	check(!(((volatile struct tss32 *)&call_tss)->eflags & EFLAGS_NT),
	      "IRET saved the called task's EFLAGS with NT clear");
	__asm__ volatile("clts");
}

static void gp_through_a_task_gate(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint32_t base; } idtr;
	__asm__ volatile("sidt %0" : "=m"(idtr));
	volatile uint64_t *idt = (volatile uint64_t *)(uintptr_t)idtr.base;
	uint64_t saved = idt[VEC_GP];

	/* A task gate (SDM Vol. 3A 7.2.5): present, DPL 0, type 5. */
	idt[VEC_GP] = (uint64_t)SEL_GP_TASK << 16 | (uint64_t)0x8500 << 32;
	__asm__ volatile("movl %0, %%eax\n\t"
			 ".globl gp_insn\n"
			 "gp_insn:\n\t"
			 "movw %%ax, %%ds"
			 ::"i"(BAD_SELECTOR) : "eax", "memory");
	idt[VEC_GP] = saved;
	check(gp_seen.runs == 1, "#GP through a task gate runs its task");
	check(gp_task_error == BAD_SELECTOR,
	      "the #GP task finds the error code (the bad selector) on its stack");
	check((gp_seen.eflags & EFLAGS_NT) && gp_seen.link == SEL_MAIN,
	      "the #GP task has NT set and the faulting task as back link");
	check(gp_task_saved_eip == (uint32_t)(uintptr_t)gp_insn,
	      "the faulting task's saved EIP is the faulting instruction");
	check(read_tr() == SEL_MAIN && type_of(SEL_GP_TASK) == TYPE_TSS_AVAILABLE,
	      "IRET from the #GP task retries the instruction, which now succeeds");
	__asm__ volatile("clts");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	tables_init();
	if ((info->flags & (1u << 2)) &&
	    cmdline_has_word((const char *)(uintptr_t)info->cmdline, "outside_ram")) {
		say("jumping to a task whose TSS is not in RAM");
		__asm__ volatile("ljmp $0x40, $0" ::: "memory");
		say("FAIL: execution continued after a task switch to a TSS outside RAM");
		return 1;
	}
	jmp_round_trip();
	call_and_iret();
	gp_through_a_task_gate();
	say("task_switch: done, %u failure(s)", failures());
	return (int)failures();
}
