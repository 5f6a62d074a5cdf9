/*
 * Hardware task switches (SDM Vol. 3A 7.3, 7.4), which always exit in VMX
 * non-root operation (SDM Vol. 3C 26.4.2, exit reason 9): cvisor performs
 * the switch the guest asked for by CALL or JMP to a TSS or task gate, by
 * IRET with EFLAGS.NT = 1, or by an event delivered through a task gate in
 * the IDT.
 *
 * What the CPU did before the exit (SDM Vol. 3C 26.4.2): outside IA-32e
 * mode it checked the task gate (P, and the privilege rules for CALL, JMP,
 * INT n, INT3 and INTO), the privilege rules on a TSS descriptor that CALL
 * or JMP named directly, the new TSS selector against the GDT limit, and
 * the new TSS descriptor's type (busy or available, by the kind of switch),
 * P, S and limit.  So cvisor checks no privilege again.  It does read the
 * new TSS descriptor again and applies the checks of 7.3 steps 3 and 4 to
 * what it read: the GDT is guest memory that another vCPU may rewrite
 * between the CPU's check and this handler, and the switch must act only on
 * a descriptor it has checked; a guest that does that race gets the fault
 * the CPU would have raised.  In IA-32e mode every kind of task switch is a
 * #GP before any exit (26.4.2, 1.a, c, e, g): an exit there is not
 * architectural and stops the VM.
 *
 * Faults detected before the commit point (7.3 steps 1-5: the descriptor,
 * and the old and new TSS and the GDT entries being accessible) are raised
 * in the old task, RIP unchanged; those of loading the new task's segments
 * (7.3 step 13, Table 7-1) in the new task, after its state is in.  Memory
 * the CPU would reach but that is not guest RAM has no architectural fault:
 * the VM is stopped with a one-line report; so is a fault loading a
 * protected-mode task's segments after a virtual-8086 task (switch_tasks).
 */
#include "exit/exit.h"

#include "exit/cr.h"
#include "lib/mem.h"
#include "mm/guest_memory.h"
#include "mm/guest_paging.h"
#include "vcpu/events.h"
#include "vcpu/guest_state.h"
#include "vcpu/vcpu.h"
#include "vm/protect.h"
#include "vmx/intrin.h"
#include "vmx/segment.h"
#include "vmx/vmcs.h"
#include "x86.h"

/* Exit qualification for task switches (SDM Vol. 3C 28.2.1, Table 28-2):
 * bits 15:0 the new TSS selector, bits 31:30 the source. */
#define TS_QUAL_SELECTOR(q) ((uint16_t)(q))
#define TS_QUAL_SOURCE(q)   ((unsigned)((q) >> 30) & 3u)
enum task_switch_source { TS_CALL = 0, TS_IRET = 1, TS_JMP = 2, TS_GATE = 3 };
static const char *const source_names[] = { "CALL", "IRET", "JMP", "task gate in the IDT" };

/* Descriptor types (SDM Vol. 3A 3.5, Table 3-2). */
#define TYPE_TSS16_AVAILABLE 0x1u
#define TYPE_LDT             0x2u
#define TYPE_TSS32_AVAILABLE 0x9u
#define TYPE_TSS_BUSY_BIT    0x2u
#define TYPE_ACCESSED        0x1u /* S = 1: code or data */
#define TYPE_CODE            0x8u /* S = 1: code, else data */
#define TYPE_CONFORMING      0x4u /* code */
#define TYPE_READABLE        0x2u /* code */
#define TYPE_WRITABLE        0x2u /* data */

/* IDT-vectoring information type of a hardware exception (SDM Vol. 3C 25.9.3). */
#define INTR_TYPE_HW_EXCEPTION (INTR_INFO_TYPE_HW_EXCEPTION >> 8)

/* Exception vectors a task switch raises (SDM Vol. 3A 6.15). */
#define VECTOR_DF 8
#define VECTOR_TS 10
#define VECTOR_NP 11
#define VECTOR_SS 12

/* TSS layouts (SDM Vol. 3A 7.2.1 Figure 7-2, 7.6 Figure 7-11): the least
 * limit, the offsets of the fields a switch reads and writes. */
#define TSS32_MIN_LIMIT 0x67u
#define TSS16_MIN_LIMIT 0x2Bu
#define TSS32_CR3    0x1C
#define TSS32_EIP    0x20 /* the dynamic fields, saved at a switch away: EIP..GS */
#define TSS32_EFLAGS 0x24
#define TSS32_EAX    0x28 /* EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI */
#define TSS32_ES     0x48 /* ES, CS, SS, DS, FS, GS: 4 bytes each */
#define TSS32_LDT    0x60
#define TSS32_T      0x64 /* bit 0: debug trap on a switch to this task */
#define TSS32_DYNAMIC_END 0x60
#define TSS16_IP     0x0E
#define TSS16_FLAGS  0x10
#define TSS16_AX     0x12 /* AX, CX, DX, BX, SP, BP, SI, DI */
#define TSS16_ES     0x22 /* ES, CS, SS, DS: 2 bytes each */
#define TSS16_LDT    0x2A
#define TSS16_DYNAMIC_END 0x2A

/* RFLAGS.NT (SDM Vol. 3A 2.3); DR6.BT (Vol. 3B 18.2.3); DR7 L0-L3 (18.2.4). */
#define RFLAGS_NT     (1ULL << 14)
#define DR6_BT        (1ULL << 15)
#define DR7_LOCAL_ENABLES 0x55ULL

/* The TSS's segment order (ES, CS, SS, DS, FS, GS) as the VMCS numbers them. */
static const enum guest_segment tss_segment_order[6] = {
	GUEST_SEG_ES, GUEST_SEG_CS, GUEST_SEG_SS, GUEST_SEG_DS, GUEST_SEG_FS, GUEST_SEG_GS,
};

/* The selectors of the TSS's segments, in its order. */
static const vmcs_RW16_t tss_segment_selectors[6] = {
	GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR,
	GUEST_DS_SELECTOR, GUEST_FS_SELECTOR, GUEST_GS_SELECTOR,
};

/* A fault the switch raises; or, for memory that is not RAM, why the VM stops. */
struct ts_fault {
	unsigned vector;
	bool has_error_code;
	uint32_t error_code;
	uint64_t cr2;        /* #PF */
	const char *stop;    /* no architectural fault: stop the VM with this */
	bool stop_is_reason; /* stop is the whole reason, not memory that is not RAM */
	const char *stop_policy; /* with stop: protected memory's policy refused it */
};

/* A TSS, as a register or descriptor names it. */
struct tss {
	uint16_t selector;
	uint64_t descriptor;
	uint32_t base, limit;
	bool is32;
};

struct task_switch {
	struct vcpu *vcpu;
	const struct vm_exit *exit;
	enum task_switch_source source;
	uint32_t idt_info, idt_error; /* the event delivered through a task gate */
	uint32_t ext;                 /* error-code bit 0: an external event (6.13) */
	struct tss old, new;
	struct ts_fault fault;
};

static bool set_fault(struct task_switch *ts, unsigned vector, uint32_t error_code)
{
	ts->fault = (struct ts_fault){ .vector = vector, .has_error_code = true,
				       .error_code = error_code };
	return false;
}

/* #TS, #NP, #SS or #GP naming a selector: its index and TI, and EXT (6.13). */
static bool selector_fault(struct task_switch *ts, unsigned vector, uint16_t selector)
{
	return set_fault(ts, vector, (selector & 0xFFFCu) | ts->ext);
}

/*
 * Copies len bytes between buf and the guest's linear memory at linear, as
 * the CPU's implicit supervisor accesses (SDM Vol. 3A 4.6), wrapping at
 * 4 GiB outside IA-32e mode; probe only checks that each page translates
 * and is RAM.  False sets ts->fault: #PF, or a stop for memory that is not
 * RAM.
 */
/*
 * Memory the VM protected (vm/protect.h) that forbids this access of the
 * CPU's: `log` records it and lets it go ahead; `deny` and `stop` refuse it
 * (the switch cannot go on without it), and the VM stops.
 */
static bool protection_refuses(struct task_switch *ts, uint64_t gpa, uint32_t linear,
			       uint32_t len, bool write, const char *what)
{
	const char *policy = protect_cpu_access(ts->vcpu, gpa, linear, len, write);
	if (!policy)
		return false;
	ts->fault = (struct ts_fault){ .stop = what, .stop_policy = policy };
	return true;
}

static bool linear_access(struct task_switch *ts, uint32_t linear, void *buf, uint32_t len,
			  bool write, bool probe, const char *what)
{
	uint8_t *bytes = buf;

	for (uint32_t done = 0, n; done < len; done += n) {
		uint32_t at = linear + done;
		uint64_t gpa;
		uint32_t pf_error;
		n = 4096u - (at & 0xFFFu);
		if (n > len - done)
			n = len - done;
		/* The TSS and the descriptor tables are implicit supervisor-mode
		 * accesses, whatever the CPL (SDM Vol. 3A 4.6). */
		if (!guest_translate(ts->vcpu, at, (write ? GUEST_WRITE : GUEST_READ) | GUEST_IMPLICIT,
				     &gpa, &pf_error)) {
			set_fault(ts, VECTOR_PF, pf_error);
			ts->fault.cr2 = at;
			return false;
		}
		if (!probe && protection_refuses(ts, gpa, at, n, write, what))
			return false;
		bool ok = probe ? guest_is_ram(ts->vcpu->vm, gpa, n)
		      : write   ? guest_write(ts->vcpu->vm, gpa, bytes + done, n)
				: guest_read(ts->vcpu->vm, gpa, bytes + done, n);
		if (!ok) {
			ts->fault = (struct ts_fault){ .stop = what };
			return false;
		}
	}
	return true;
}

static bool read_linear(struct task_switch *ts, uint32_t linear, void *buf, uint32_t len,
			const char *what)
{
	return linear_access(ts, linear, buf, len, false, false, what);
}

static bool write_linear(struct task_switch *ts, uint32_t linear, const void *buf, uint32_t len,
			 const char *what)
{
	return linear_access(ts, linear, (void *)buf, len, true, false, what);
}

static bool probe_write(struct task_switch *ts, uint32_t linear, uint32_t len, const char *what)
{
	return linear_access(ts, linear, NULL, len, true, true, what);
}

/* The descriptor table a selector names: the GDT, or with TI the LDT whose
 * base and limit are given (SDM Vol. 3A 3.4.2). */
struct descriptor_table {
	uint32_t base, limit;
	bool ldt_usable;
	uint32_t ldt_base, ldt_limit;
};

/* Reads the 8-byte descriptor of selector; false (with no fault set) when
 * it lies beyond its table's limit or TI names no usable LDT.  *at gets its
 * linear address (NULL: not wanted). */
static bool read_descriptor_at(struct task_switch *ts, const struct descriptor_table *t,
			       uint16_t selector, uint64_t *descriptor, bool *readable,
			       uint32_t *at)
{
	uint32_t base = t->base, limit = t->limit;

	*readable = true;
	if (selector & 4) {
		if (!t->ldt_usable)
			return false;
		base = t->ldt_base;
		limit = t->ldt_limit;
	}
	if ((selector | 7u) > limit)
		return false;
	if (at)
		*at = base + (selector & ~7u);
	if (!read_linear(ts, base + (selector & ~7u), descriptor, 8, "a descriptor table"))
		*readable = false;
	return true;
}

static bool read_descriptor(struct task_switch *ts, const struct descriptor_table *t,
			    uint16_t selector, uint64_t *descriptor, bool *readable)
{
	return read_descriptor_at(ts, t, selector, descriptor, readable, NULL);
}

static uint32_t descriptor_base(uint64_t d)
{
	return (uint32_t)(((d >> 16) & 0xFFFFFF) | ((d >> 56) << 24));
}

static unsigned descriptor_type(uint64_t d) { return (unsigned)(d >> 40) & 0xF; }
static bool descriptor_s(uint64_t d) { return d & (1ULL << 44); }
static unsigned descriptor_dpl(uint64_t d) { return (unsigned)(d >> 45) & 3; }
static bool descriptor_present(uint64_t d) { return d & (1ULL << 47); }

static struct tss tss_from(uint16_t selector, uint64_t d)
{
	unsigned type = descriptor_type(d) & ~TYPE_TSS_BUSY_BIT;
	return (struct tss){ .selector = selector, .descriptor = d, .base = descriptor_base(d),
			     .limit = segment_limit(d), .is32 = type == TYPE_TSS32_AVAILABLE };
}

static struct descriptor_table gdt_only(void)
{
	return (struct descriptor_table){ .base = (uint32_t)vmcs_read(GUEST_GDTR_BASE),
					  .limit = (uint32_t)vmcs_read(GUEST_GDTR_LIMIT) };
}

/*
 * The new TSS descriptor, checked as SDM Vol. 3A 7.3 steps 2-4 (the CPU did
 * the same before the exit: see the top of this file): in the GDT, within
 * its limit and a TSS (#GP; for IRET #TS, Table 7-1 and 6.15 "Interrupt
 * 10"), present (#NP), limit at least 67H or, for a 16-bit TSS, 2BH (#TS),
 * and available for CALL, JMP and task gates (#GP) or busy for IRET (#TS)
 * (7.2.2, Table 7-2).
 */
static bool check_new_tss(struct task_switch *ts, uint16_t selector)
{
	struct descriptor_table gdt = gdt_only();
	unsigned invalid = ts->source == TS_IRET ? VECTOR_TS : VECTOR_GP;
	uint64_t d;
	bool readable;

	if ((selector & 4) || !read_descriptor(ts, &gdt, selector, &d, &readable))
		return selector_fault(ts, invalid, selector);
	if (!readable)
		return false;
	unsigned type = descriptor_type(d);
	bool is_tss = !descriptor_s(d) &&
		      ((type & ~TYPE_TSS_BUSY_BIT) == TYPE_TSS16_AVAILABLE ||
		       (type & ~TYPE_TSS_BUSY_BIT) == TYPE_TSS32_AVAILABLE);
	if (!is_tss)
		return selector_fault(ts, invalid, selector);
	if (!descriptor_present(d))
		return selector_fault(ts, VECTOR_NP, selector);
	ts->new = tss_from(selector, d);
	if (ts->new.limit < (ts->new.is32 ? TSS32_MIN_LIMIT : TSS16_MIN_LIMIT))
		return selector_fault(ts, VECTOR_TS, selector);
	bool busy = type & TYPE_TSS_BUSY_BIT;
	if (ts->source == TS_IRET && !busy)
		return selector_fault(ts, VECTOR_TS, selector);
	if (ts->source != TS_IRET && busy)
		return selector_fault(ts, VECTOR_GP, selector);
	return true;
}

/* The current task, from TR (its descriptor is read again only to clear
 * or keep its busy flag). */
static void current_task(struct task_switch *ts)
{
	uint32_t ar = (uint32_t)vmcs_read(GUEST_TR_AR_BYTES);

	ts->old = (struct tss){
		.selector = (uint16_t)vmcs_read(GUEST_TR_SELECTOR),
		.base = (uint32_t)vmcs_read(GUEST_TR_BASE),
		.limit = (uint32_t)vmcs_read(GUEST_TR_LIMIT),
		.is32 = (ar & 0xF) == AR_TYPE_TSS_BUSY,
	};
}

/* The address of the byte of a GDT descriptor that holds its type. */
static uint32_t gdt_type_byte(uint16_t selector)
{
	return (uint32_t)vmcs_read(GUEST_GDTR_BASE) + (selector & ~7u) + 5;
}

/* Sets or clears the busy flag of a TSS descriptor in the GDT (7.2.2). */
static bool set_busy(struct task_switch *ts, uint16_t selector, bool busy)
{
	uint8_t type;

	if (!read_linear(ts, gdt_type_byte(selector), &type, 1, "the GDT"))
		return false;
	type = busy ? type | TYPE_TSS_BUSY_BIT : type & ~TYPE_TSS_BUSY_BIT;
	return write_linear(ts, gdt_type_byte(selector), &type, 1, "the GDT");
}

/*
 * SDM Vol. 3A 7.3 step 5: the old TSS's dynamic fields (within its limit), the new TSS, the
 * new TSS's link field (CALL, gate) and the GDT entries whose busy flags
 * change are all reachable before anything is written.  new_image gets the
 * new TSS.
 */
static bool check_reachable(struct task_switch *ts, uint8_t *new_image, uint32_t new_len)
{
	uint32_t old_from = ts->old.is32 ? TSS32_EIP : TSS16_IP;
	uint32_t old_end = ts->old.is32 ? TSS32_DYNAMIC_END : TSS16_DYNAMIC_END;

	/* The old TSS must hold the state saved into it: a store beyond its
	 * limit is #TS (Vol. 3A 6.15 "Interrupt 10", Table 6-6). */
	if (ts->old.limit < old_end - 1)
		return selector_fault(ts, VECTOR_TS, ts->old.selector);
	if (!read_linear(ts, ts->new.base, new_image, new_len, "the new task's TSS") ||
	    !probe_write(ts, ts->old.base + old_from, old_end - old_from, "the old task's TSS"))
		return false;
	if ((ts->source == TS_CALL || ts->source == TS_GATE) &&
	    !probe_write(ts, ts->new.base, 2, "the new task's TSS"))
		return false;
	if ((ts->source == TS_JMP || ts->source == TS_IRET) &&
	    !probe_write(ts, gdt_type_byte(ts->old.selector), 1, "the GDT"))
		return false;
	if (ts->source != TS_IRET && !probe_write(ts, gdt_type_byte(ts->new.selector), 1, "the GDT"))
		return false;
	return true;
}

/* 7.3 step 8: the old task's dynamic state into its TSS. */
static bool save_old_task(struct task_switch *ts, uint32_t eip, uint32_t eflags)
{
	const uint64_t *r = ts->vcpu->gprs.regs;
	uint32_t gprs[8];

	for (unsigned i = 0; i < 8; i++)
		gprs[i] = (uint32_t)(i == GPR_RSP ? vmcs_read(GUEST_RSP) : r[i]);
	if (ts->old.is32) {
		uint8_t image[TSS32_DYNAMIC_END - TSS32_EIP];
		memcpy(image, &eip, 4);
		memcpy(image + TSS32_EFLAGS - TSS32_EIP, &eflags, 4);
		memcpy(image + TSS32_EAX - TSS32_EIP, gprs, sizeof(gprs));
		for (unsigned i = 0; i < 6; i++) {
			uint32_t sel = vmcs_read(tss_segment_selectors[i]);
			memcpy(image + TSS32_ES - TSS32_EIP + 4 * i, &sel, 4);
		}
		return write_linear(ts, ts->old.base + TSS32_EIP, image, sizeof(image),
				    "the old task's TSS");
	}
	uint16_t image[(TSS16_DYNAMIC_END - TSS16_IP) / 2];
	image[0] = (uint16_t)eip;
	image[1] = (uint16_t)eflags;
	for (unsigned i = 0; i < 8; i++)
		image[2 + i] = (uint16_t)gprs[i];
	for (unsigned i = 0; i < 4; i++)
		image[10 + i] = vmcs_read(tss_segment_selectors[i]);
	return write_linear(ts, ts->old.base + TSS16_IP, image, sizeof(image), "the old task's TSS");
}

/* The register state a new task starts with, from its TSS image. */
struct task_state {
	uint32_t cr3, eip, eflags, gprs[8];
	uint16_t segments[6], ldt; /* ES, CS, SS, DS, FS, GS as the TSS orders them */
	bool has_cr3, has_fs_gs, debug_trap;
};

static uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t read16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static struct task_state parse_tss(const uint8_t *image, bool is32)
{
	struct task_state s = { .has_cr3 = is32, .has_fs_gs = is32 };

	if (is32) {
		s.cr3 = read32(image + TSS32_CR3);
		s.eip = read32(image + TSS32_EIP);
		s.eflags = read32(image + TSS32_EFLAGS);
		for (unsigned i = 0; i < 8; i++)
			s.gprs[i] = read32(image + TSS32_EAX + 4 * i);
		for (unsigned i = 0; i < 6; i++)
			s.segments[i] = read16(image + TSS32_ES + 4 * i);
		s.ldt = read16(image + TSS32_LDT);
		s.debug_trap = image[TSS32_T] & 1;
		return s;
	}
	s.eip = read16(image + TSS16_IP);
	s.eflags = read16(image + TSS16_FLAGS);
	for (unsigned i = 0; i < 8; i++)
		s.gprs[i] = read16(image + TSS16_AX + 2 * i);
	for (unsigned i = 0; i < 4; i++)
		s.segments[i] = read16(image + TSS16_ES + 2 * i);
	s.ldt = read16(image + TSS16_LDT);
	return s;
}

/* A segment register's cache from its descriptor (SDM Vol. 3C Table 25-2). */
static struct vmcs_segment segment_of(uint16_t selector, uint64_t d)
{
	return (struct vmcs_segment){ .selector = selector, .base = descriptor_base(d),
				      .limit = segment_limit(d),
				      .access_rights = segment_access_rights(d) };
}

/*
 * The new task's LDT (SDM Vol. 3A 7.3 step 13, Table 7-1): a null selector
 * leaves LDTR unusable; otherwise it must name a present LDT descriptor in
 * the GDT (#TS with the LDT selector).
 */
static bool load_ldt(struct task_switch *ts, uint16_t selector, struct vmcs_segment *ldtr)
{
	struct descriptor_table gdt = gdt_only();
	uint64_t d;
	bool readable;

	if (!(selector & ~3u)) {
		*ldtr = (struct vmcs_segment){ .selector = selector, .access_rights = AR_UNUSABLE };
		return true;
	}
	if ((selector & 4) || !read_descriptor(ts, &gdt, selector, &d, &readable))
		return selector_fault(ts, VECTOR_TS, selector);
	if (!readable)
		return false;
	if (descriptor_s(d) || descriptor_type(d) != TYPE_LDT || !descriptor_present(d))
		return selector_fault(ts, VECTOR_TS, selector);
	*ldtr = segment_of(selector, d);
	return true;
}

/*
 * One of the new task's segments, checked as Table 7-1 says (SDM Vol. 3A
 * 7.3 step 13) at the new CPL, CS.RPL: CS a code segment whose DPL equals
 * its RPL (conforming: at most), else #TS; not present #NP.  SS not null,
 * RPL = DPL = CPL, a writable data segment, else #TS; not present #SS.  DS,
 * ES, FS, GS null (unusable) or readable, with DPL >= CPL and RPL unless
 * conforming code, else #TS; not present #NP.  Error codes name the selector.
 */
static bool load_segment(struct task_switch *ts, const struct descriptor_table *tables,
			 enum guest_segment which, uint16_t selector, unsigned cpl,
			 struct vmcs_segment *seg)
{
	uint64_t d;
	bool readable;
	uint32_t at;

	if (!(selector & ~3u)) {
		if (which == GUEST_SEG_CS || which == GUEST_SEG_SS)
			return selector_fault(ts, VECTOR_TS, selector);
		*seg = (struct vmcs_segment){ .selector = selector,
					      .access_rights = AR_UNUSABLE | ((selector & 3u) << 5) };
		return true;
	}
	if (!read_descriptor_at(ts, tables, selector, &d, &readable, &at))
		return selector_fault(ts, VECTOR_TS, selector);
	if (!readable)
		return false;
	unsigned type = descriptor_type(d), dpl = descriptor_dpl(d), rpl = selector & 3u;
	bool code = type & TYPE_CODE;
	if (!descriptor_s(d))
		return selector_fault(ts, VECTOR_TS, selector);
	switch (which) {
	case GUEST_SEG_CS:
		if (!code || ((type & TYPE_CONFORMING) ? dpl > rpl : dpl != rpl))
			return selector_fault(ts, VECTOR_TS, selector);
		if (!descriptor_present(d))
			return selector_fault(ts, VECTOR_NP, selector);
		break;
	case GUEST_SEG_SS:
		if (code || !(type & TYPE_WRITABLE) || rpl != cpl || dpl != cpl)
			return selector_fault(ts, VECTOR_TS, selector);
		if (!descriptor_present(d))
			return selector_fault(ts, VECTOR_SS, selector);
		break;
	default:
		if (code && !(type & TYPE_READABLE))
			return selector_fault(ts, VECTOR_TS, selector);
		if ((!code || !(type & TYPE_CONFORMING)) && (rpl > dpl || cpl > dpl))
			return selector_fault(ts, VECTOR_TS, selector);
		if (!descriptor_present(d))
			return selector_fault(ts, VECTOR_NP, selector);
		break;
	}
	/* Loading a code or data segment sets its descriptor's accessed flag
	 * in the table (type bit 0, SDM Vol. 3A 3.4.5.1), as the CPU does. */
	if (!(type & TYPE_ACCESSED)) {
		uint8_t type_byte = (uint8_t)(d >> 40) | TYPE_ACCESSED;
		if (!write_linear(ts, at + 5, &type_byte, 1, "a descriptor table"))
			return false;
		d |= (uint64_t)TYPE_ACCESSED << 40;
	}
	*seg = segment_of(selector, d);
	return true;
}

/* A segment of a virtual-8086 task: base = selector * 16, 64 KiB, DPL 3
 * (SDM Vol. 3A 20.1.1; the VMCS form, Vol. 3C 27.3.1.2). */
static struct vmcs_segment v86_segment(uint16_t selector)
{
	return (struct vmcs_segment){ .selector = selector, .base = (uint32_t)selector << 4,
				      .limit = 0xFFFF, .access_rights = 0xF3 };
}

/*
 * 7.3 step 13: the new task's LDT and segments, all checked before any is
 * written to the VMCS.  The SDM leaves the registers not yet loaded when one
 * faults undefined ("may corrupt architectural state"); cvisor keeps the
 * old ones, whose caches stay consistent for VM entry as long as the old
 * and the new task are both protected-mode tasks (switch_tasks handles a
 * virtual-8086 old task).  A virtual-8086 task's segments take no
 * descriptor and cannot fault: they are loaded before its LDT is checked,
 * so that a #TS for the LDT finds the segment registers that RFLAGS.VM = 1
 * needs at VM entry (SDM Vol. 3C 27.3.1.2: base = selector * 16, limit
 * FFFFH, access rights F3H).
 */
static bool load_segments(struct task_switch *ts, const struct task_state *s)
{
	struct vmcs_segment ldtr, segs[6];
	unsigned count = s->has_fs_gs ? 6 : 4;

	if (s->eflags & RFLAGS_VM) {
		for (unsigned i = 0; i < count; i++) {
			struct vmcs_segment seg = v86_segment(s->segments[i]);
			guest_write_segment(tss_segment_order[i], &seg);
		}
		if (!load_ldt(ts, s->ldt, &ldtr))
			return false;
		guest_write_segment(GUEST_SEG_LDTR, &ldtr);
		return true;
	}
	if (!load_ldt(ts, s->ldt, &ldtr))
		return false;
	guest_write_segment(GUEST_SEG_LDTR, &ldtr);
	struct descriptor_table tables = gdt_only();
	tables.ldt_usable = !(ldtr.access_rights & AR_UNUSABLE);
	tables.ldt_base = (uint32_t)ldtr.base;
	tables.ldt_limit = ldtr.limit;
	unsigned cpl = s->segments[1] & 3u;
	/* Table 7-1's order: CS, SS, then the data segments. */
	static const unsigned check_order[6] = { 1, 2, 0, 3, 4, 5 };
	for (unsigned k = 0; k < 6; k++) {
		unsigned i = check_order[k];
		if (i >= count)
			continue;
		if (!load_segment(ts, &tables, tss_segment_order[i], s->segments[i], cpl, &segs[i]))
			return false;
	}
	for (unsigned i = 0; i < count; i++)
		guest_write_segment(tss_segment_order[i], &segs[i]);
	return true;
}

/* CR0.TS as the guest sees it: through the read shadow where cvisor owns
 * the bit (SDM Vol. 3C 25.6.6), and in the real CR0 (7.3: every switch sets it). */
static void set_cr0_ts(void)
{
	vmcs_write(GUEST_CR0, vmcs_read(GUEST_CR0) | CR0_TS);
	if (vmcs_read(CR0_GUEST_HOST_MASK) & CR0_TS)
		vmcs_write(CR0_READ_SHADOW, vmcs_read(CR0_READ_SHADOW) | CR0_TS);
}

/* The guest's CR0/CR4 as it sees them (owned bits from the shadows). */
static uint64_t guest_cr(uint64_t real, uint64_t shadow, uint64_t mask)
{
	return (real & ~mask) | (shadow & mask);
}

/*
 * 7.3 step 12: CR3 from a 32-bit TSS when paging is on (a 16-bit TSS has
 * none), with PAE's PDPTEs (the CPU loads them on MOV to CR3: Vol. 3A
 * 4.4.1).  A PDPTE with a reserved bit is #GP(0); an error in step 12 is
 * handled "in the prior execution environment" (7.3, notes), so it comes
 * before the new registers, with the old CR3 kept.  The old CR3's cached
 * translations go, as on MOV to CR3.
 */
static bool load_cr3(struct task_switch *ts, const struct task_state *s)
{
	uint64_t cr0 = guest_cr(vmcs_read(GUEST_CR0), vmcs_read(CR0_READ_SHADOW),
				vmcs_read(CR0_GUEST_HOST_MASK));
	uint64_t cr4 = guest_cr(vmcs_read(GUEST_CR4), vmcs_read(CR4_READ_SHADOW),
				vmcs_read(CR4_GUEST_HOST_MASK));

	if (!s->has_cr3 || !(cr0 & CR0_PG))
		return true;
	uint64_t old_cr3 = vmcs_read(GUEST_CR3);
	vmcs_write(GUEST_CR3, s->cr3);
	if (!cr_load_pdptes(ts->vcpu, cr0, cr4, vmcs_read(GUEST_IA32_EFER))) {
		vmcs_write(GUEST_CR3, old_cr3);
		cr_load_pdptes(ts->vcpu, cr0, cr4, vmcs_read(GUEST_IA32_EFER));
		return set_fault(ts, VECTOR_GP, 0);
	}
	vcpu_invalidate_translations(ts->vcpu);
	return true;
}

/* An error code pushed on the new task's stack (a task gate for an
 * exception with one, SDM Vol. 3A 6.13, 7.3): 4 bytes with a 32-bit TSS,
 * 2 with a 16-bit one; beyond the stack's limit is #SS(0). */
static bool push_error_code(struct task_switch *ts)
{
	uint32_t ss_ar = (uint32_t)vmcs_read(GUEST_SS_AR_BYTES);
	uint32_t size = ts->new.is32 ? 4 : 2;
	uint32_t limit = (uint32_t)vmcs_read(GUEST_SS_LIMIT);
	uint64_t rsp = vmcs_read(GUEST_RSP);
	uint32_t sp = (ss_ar & AR_DB) ? (uint32_t)rsp - size : (uint16_t)(rsp - size);
	bool expand_down = (ss_ar & 0xC) == 0x4; /* data, expand-down (Vol. 3A 3.4.5.1) */
	uint32_t upper = expand_down ? ((ss_ar & AR_DB) ? 0xFFFFFFFFu : 0xFFFFu) : limit;

	if ((expand_down && sp <= limit) || sp > upper || sp + size - 1 > upper)
		return set_fault(ts, VECTOR_SS, 0);
	uint32_t linear = (uint32_t)vmcs_read(GUEST_SS_BASE) + sp;
	uint64_t gpa;
	uint32_t pf_error;
	/* An ordinary stack access at the new task's CPL (SS.DPL). */
	for (uint32_t i = 0; i < size; i++) {
		uint8_t byte = (uint8_t)(ts->idt_error >> (8 * i));
		if (!guest_translate(ts->vcpu, linear + i, GUEST_WRITE, &gpa, &pf_error)) {
			set_fault(ts, VECTOR_PF, pf_error);
			ts->fault.cr2 = linear + i;
			return false;
		}
		if (protection_refuses(ts, gpa, linear + i, 1, true, "the new task's stack"))
			return false;
		if (!guest_write(ts->vcpu->vm, gpa, &byte, 1)) {
			ts->fault = (struct ts_fault){ .stop = "the new task's stack" };
			return false;
		}
	}
	vmcs_write(GUEST_RSP, (ss_ar & AR_DB) ? sp : ((rsp & ~0xFFFFULL) | sp));
	return true;
}

/*
 * SDM Vol. 3A 7.3 steps 6-13 and 7.4, after the checks: from here on the
 * switch is committed and a fault is the new task's.
 */
static bool switch_tasks(struct task_switch *ts, const uint8_t *new_image, uint32_t eip)
{
	struct vcpu *vcpu = ts->vcpu;
	uint32_t eflags = (uint32_t)vmcs_read(GUEST_RFLAGS);
	bool nested = ts->source == TS_CALL || ts->source == TS_GATE;
	struct task_state s = parse_tss(new_image, ts->new.is32);

	/* Steps 6, 7: JMP and IRET leave the old task not busy; IRET clears
	 * NT in the EFLAGS image it saves. */
	if ((ts->source == TS_JMP || ts->source == TS_IRET) &&
	    !set_busy(ts, ts->old.selector, false))
		return false;
	if (ts->source == TS_IRET)
		eflags &= ~(uint32_t)RFLAGS_NT;
	/* A fault delivered through the gate saves EFLAGS with RF set, so
	 * that returning to the instruction does not retrigger an instruction
	 * breakpoint (Vol. 3B 18.3.1.1). */
	if (ts->source == TS_GATE && INTR_INFO_TYPE(ts->idt_info) == INTR_TYPE_HW_EXCEPTION &&
	    INTR_INFO_VECTOR(ts->idt_info) < 32 &&
	    ((FAULT_VECTORS >> INTR_INFO_VECTOR(ts->idt_info)) & 1))
		eflags |= (uint32_t)RFLAGS_RF;
	if (!save_old_task(ts, eip, eflags))
		return false;
	/* 7.4: CALL and task gates link the new task to the old and set NT. */
	if (nested) {
		if (!write_linear(ts, ts->new.base, &ts->old.selector, 2, "the new task's TSS"))
			return false;
		s.eflags |= (uint32_t)RFLAGS_NT;
	}
	vcpu->check_before_entry = true; /* cvisor-made guest state */
	/* Step 10: the new task is busy (IRET returns to a busy one). */
	if (ts->source != TS_IRET && !set_busy(ts, ts->new.selector, true))
		return false;
	/* Step 11: TR, with the busy type (Vol. 3C 27.3.1.2 wants 3 or 11). */
	struct vmcs_segment tr = segment_of(ts->new.selector, ts->new.descriptor);
	tr.access_rights |= TYPE_TSS_BUSY_BIT;
	guest_write_segment(GUEST_SEG_TR, &tr);
	/* CR0.TS (7.3, 2.5) and the local breakpoints (Vol. 3B 18.2.4) of the
	 * old task. */
	set_cr0_ts();
	vmcs_write(GUEST_DR7, vmcs_read(GUEST_DR7) & ~DR7_LOCAL_ENABLES);

	/* Step 12: CR3, then the new task's registers. */
	if (!load_cr3(ts, &s))
		return false;
	for (unsigned i = 0; i < 8; i++) {
		uint64_t value = s.gprs[i];
		/* A 16-bit TSS holds the low halves only; the SDM leaves the
		 * upper ones undefined ("modified and not maintained", Vol. 3A
		 * 7.6): cvisor keeps them. */
		if (!ts->new.is32)
			value |= (i == GPR_RSP ? vmcs_read(GUEST_RSP) : vcpu->gprs.regs[i]) &
				 0xFFFF0000ULL;
		if (i == GPR_RSP)
			vmcs_write(GUEST_RSP, value);
		else
			vcpu->gprs.regs[i] = value;
	}
	vmcs_write(GUEST_RIP, s.eip);
	vmcs_write(GUEST_RFLAGS, (s.eflags & ~(uint32_t)RFLAGS_RESERVED_0) | RFLAGS_RESERVED_1);
	/* Step 13.  From a virtual-8086 task the old segments (base = selector
	 * * 16, access rights F3H) cannot stay beside RFLAGS.VM = 0: VM entry
	 * wants protected-mode segments then (Vol. 3C 27.3.1.2), and the SDM
	 * gives the registers that did not load no value (7.3 step 13), so
	 * a fault here stops the VM instead of entering a state the CPU
	 * refuses. */
	if (!load_segments(ts, &s)) {
		if ((eflags & RFLAGS_VM) && !(s.eflags & RFLAGS_VM) && !ts->fault.stop)
			ts->fault = (struct ts_fault){
				.stop = "a fault loading the new task's segments after a virtual-8086 "
					"task (the segment registers it leaves undefined)",
				.stop_is_reason = true };
		return false;
	}
	if (ts->source == TS_GATE && (ts->idt_info & INTR_INFO_DELIVER_ERROR) &&
	    !push_error_code(ts))
		return false;
	/* The T flag: a debug trap in the new task before its first
	 * instruction, with DR6.BT (Vol. 3A 7.2.1, Vol. 3B 18.2.3, 18.3.1.5). */
	if (s.debug_trap) {
		uint64_t dr[4], dr6;
		read_debug_registers(dr, &dr6);
		write_debug_registers(dr, dr6 | DR6_BT);
		vcpu_inject_exception(vcpu, VECTOR_DB, false, 0);
	}
	return true;
}

/* Contributory exceptions (SDM Vol. 3A 6.15, Table 6-4). */
static bool contributory(unsigned vector)
{
	return vector == 0 || (vector >= VECTOR_TS && vector <= VECTOR_GP);
}

/*
 * Raises the fault of the switch.  Through a task gate for a hardware
 * exception the fault comes while that exception is delivered, so the
 * double-fault rules apply (SDM Vol. 3A 6.15, Table 6-5): contributory
 * after contributory or #PF, or #PF after #PF, is #DF(0); any of them
 * during a #DF is a triple fault.
 */
static void raise_fault(struct task_switch *ts)
{
	struct ts_fault f = ts->fault;

	if (ts->source == TS_GATE && INTR_INFO_TYPE(ts->idt_info) == INTR_TYPE_HW_EXCEPTION) {
		unsigned first = INTR_INFO_VECTOR(ts->idt_info);
		bool second_bad = contributory(f.vector) || f.vector == VECTOR_PF;
		if (first == VECTOR_DF && second_bad) {
			handle_triple_fault(ts->vcpu, ts->exit);
			return;
		}
		if ((contributory(first) && contributory(f.vector)) ||
		    (first == VECTOR_PF && second_bad)) {
			vcpu_inject_exception(ts->vcpu, VECTOR_DF, true, 0);
			return;
		}
	}
	if (f.vector == VECTOR_PF) {
		vcpu_inject_page_fault(ts->vcpu, f.cr2, f.error_code);
		return;
	}
	vcpu_inject_exception(ts->vcpu, f.vector, f.has_error_code, f.error_code);
}

/*
 * The EIP the old task resumes at (saved in its TSS): past the instruction
 * for CALL, JMP, IRET and software interrupts and exceptions (INT n, INT3,
 * INTO, INT1), whose length the exit gives (SDM Vol. 3C 28.2.5); for other
 * events through a task gate, the RIP of the exit is already where the
 * event returns to (the faulting instruction for a fault).
 */
static uint32_t return_eip(const struct task_switch *ts)
{
	uint64_t rip = vmcs_read(GUEST_RIP);
	unsigned type = INTR_INFO_TYPE(ts->idt_info);

	if (ts->source != TS_GATE || type >= INTR_TYPE_SOFT_INTERRUPT)
		rip += vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	return (uint32_t)rip;
}

void handle_task_switch(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint64_t q = exit->qualification;
	struct task_switch ts = { .vcpu = vcpu, .exit = exit, .source = TS_QUAL_SOURCE(q) };

	if (vmcs_read(GUEST_IA32_EFER) & EFER_LMA) {
		exit_fail_vm(vcpu, exit, "task switch (%s) in IA-32e mode, where the CPU raises #GP "
			     "instead of exiting (SDM Vol. 3C 26.4.2)", source_names[ts.source]);
		return;
	}
	if (ts.source == TS_GATE) {
		/* The event whose delivery met the task gate (28.2.4): the
		 * switch delivers it, so it is not put back for the next entry. */
		ts.idt_info = (uint32_t)vmcs_read(IDT_VECTORING_INFO);
		if (!(ts.idt_info & INTR_INFO_VALID)) {
			exit_fail_vm(vcpu, exit, "task switch through an IDT task gate without "
				     "IDT-vectoring information (SDM Vol. 3C 28.2.4)");
			return;
		}
		if (ts.idt_info & INTR_INFO_DELIVER_ERROR)
			ts.idt_error = (uint32_t)vmcs_read(IDT_VECTORING_ERROR_CODE);
		unsigned type = INTR_INFO_TYPE(ts.idt_info);
		ts.ext = type != INTR_TYPE_SOFT_INTERRUPT && type != INTR_TYPE_SOFT_EXCEPTION;
	}
	/* The switch delivers that event, or raises its own fault instead:
	 * the event is not put back after the handler (exit.h). */
	vcpu->event_injected = true;

	uint8_t new_image[TSS32_MIN_LIMIT + 1];
	current_task(&ts);
	bool done = check_new_tss(&ts, TS_QUAL_SELECTOR(q)) &&
		    check_reachable(&ts, new_image, ts.new.is32 ? TSS32_MIN_LIMIT + 1
								: TSS16_MIN_LIMIT + 1);
	if (done) {
		uint32_t eip = return_eip(&ts);
		/* The instruction or event is over: no STI or MOV SS blocking;
		 * an NMI through a task gate blocks NMIs, IRET unblocks them
		 * (Vol. 3A 6.7.1). */
		uint32_t intr = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
				~INTERRUPTIBILITY_STI_MOVSS;
		if (ts.source == TS_IRET)
			intr &= ~INTERRUPTIBILITY_NMI;
		if (ts.source == TS_GATE && INTR_INFO_TYPE(ts.idt_info) == INTR_TYPE_NMI)
			intr |= INTERRUPTIBILITY_NMI;
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr);
		done = switch_tasks(&ts, new_image, eip);
	}
	if (done)
		return;
	if (ts.fault.stop && ts.fault.stop_policy) {
		exit_fail_vm(vcpu, exit, "task switch (%s) to TSS 0x%x: %s is protected memory "
			     "(policy %s), and the CPU's own access cannot be dropped",
			     source_names[ts.source], TS_QUAL_SELECTOR(q), ts.fault.stop,
			     ts.fault.stop_policy);
		return;
	}
	if (ts.fault.stop) {
		exit_fail_vm(vcpu, exit, "task switch (%s) to TSS 0x%x: %s%s",
			     source_names[ts.source], TS_QUAL_SELECTOR(q), ts.fault.stop,
			     ts.fault.stop_is_reason ? "" : " is not guest RAM");
		return;
	}
	raise_fault(&ts);
}
