/* The software CPU of the unit tests: see fake_cpu.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fake_cpu.h"
#include "fake_platform.h"
#include "vmx/caps.h"
#include "x86.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

struct fake_cpu fake_cpu;

#define CR4_VMXE_BIT (1ULL << 13)
#define CR4_OSXSAVE_BIT (1ULL << 18)
#define CPUID1_ECX_OSXSAVE_BIT (1u << 27)

/* ---- CPUID ---- */

struct fake_cpuid_entry *fake_cpuid_entry(uint32_t leaf, uint32_t subleaf)
{
	for (unsigned i = 0; i < FAKE_CPUID_ENTRIES; i++) {
		struct fake_cpuid_entry *e = &fake_cpu.cpuid[i];
		if (e->used && e->leaf == leaf && e->subleaf == subleaf)
			return e;
	}
	return NULL;
}

void fake_cpuid_set(uint32_t leaf, uint32_t subleaf, uint32_t eax, uint32_t ebx,
		    uint32_t ecx, uint32_t edx)
{
	struct fake_cpuid_entry *e = fake_cpuid_entry(leaf, subleaf);

	for (unsigned i = 0; !e && i < FAKE_CPUID_ENTRIES; i++)
		if (!fake_cpu.cpuid[i].used)
			e = &fake_cpu.cpuid[i];
	if (!e)
		fake_fail("fake_cpuid_set: more than %d CPUID entries", FAKE_CPUID_ENTRIES);
	e->used = true;
	e->leaf = leaf;
	e->subleaf = subleaf;
	e->regs = (struct cpuid_regs){ eax, ebx, ecx, edx };
}

void cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs *r)
{
	struct fake_cpuid_entry *e = fake_cpuid_entry(leaf, subleaf);

	if (!e)
		e = fake_cpuid_entry(leaf, FAKE_ANY_SUBLEAF);
	*r = e ? e->regs : (struct cpuid_regs){ 0, 0, 0, 0 };
	/* SDM Vol. 2A CPUID: ECX bit 27 "OSXSAVE" reflects CR4.OSXSAVE. */
	if (leaf == 1 && e) {
		r->ecx &= ~CPUID1_ECX_OSXSAVE_BIT;
		if (fake_cpu.cr4 & CR4_OSXSAVE_BIT)
			r->ecx |= CPUID1_ECX_OSXSAVE_BIT;
	}
}

/* ---- MSRs ---- */

struct fake_msr *fake_msr(uint32_t index)
{
	for (unsigned i = 0; i < FAKE_MSR_ENTRIES; i++)
		if (fake_cpu.msrs[i].used && fake_cpu.msrs[i].index == index)
			return &fake_cpu.msrs[i];
	return NULL;
}

void fake_msr_set(uint32_t index, uint64_t value, bool read_only)
{
	struct fake_msr *m = fake_msr(index);

	for (unsigned i = 0; !m && i < FAKE_MSR_ENTRIES; i++)
		if (!fake_cpu.msrs[i].used)
			m = &fake_cpu.msrs[i];
	if (!m)
		fake_fail("fake_msr_set: more than %d MSRs", FAKE_MSR_ENTRIES);
	*m = (struct fake_msr){ .used = true, .index = index, .value = value,
				.read_only = read_only };
}

void fake_msr_remove(uint32_t index)
{
	struct fake_msr *m = fake_msr(index);
	if (m)
		memset(m, 0, sizeof(*m));
}

uint64_t fake_msr_value(uint32_t index)
{
	struct fake_msr *m = fake_msr(index);
	if (!m)
		fake_fail("fake_msr_value: the fake CPU has no MSR 0x%x", index);
	return m->value;
}

uint64_t rdmsr(uint32_t msr)
{
	struct fake_msr *m = fake_msr(msr);
	if (!m)
		fake_fail("RDMSR 0x%x: this CPU has no such MSR (#GP on hardware)", msr);
	m->reads++;
	return m->value;
}

void wrmsr(uint32_t msr, uint64_t value)
{
	struct fake_msr *m = fake_msr(msr);
	if (!m)
		fake_fail("WRMSR 0x%x: this CPU has no such MSR (#GP on hardware)", msr);
	if (m->read_only)
		fake_fail("WRMSR 0x%x: the MSR is read-only (#GP on hardware)", msr);
	/* SDM Vol. 3C 24.7: a locked IA32_FEATURE_CONTROL cannot be written. */
	if (msr == MSR_IA32_FEATURE_CONTROL && (m->value & FEATURE_CONTROL_LOCK))
		fake_fail("WRMSR IA32_FEATURE_CONTROL while it is locked (#GP on hardware)");
	m->writes++;
	if (!m->ignore_writes)
		m->value = value;
}

/* An MSR's value for the fake's own checks (not counted as a RDMSR). */
static bool msr_peek(uint32_t index, uint64_t *value)
{
	struct fake_msr *m = fake_msr(index);
	if (m)
		*value = m->value;
	return m != NULL;
}

/* ---- Control registers, segments, descriptor tables ---- */

static bool fixed_ok(uint64_t v, uint32_t fixed0_msr, uint32_t fixed1_msr)
{
	uint64_t f0, f1;
	if (!msr_peek(fixed0_msr, &f0) || !msr_peek(fixed1_msr, &f1))
		return true;
	return ((v | f0) & f1) == v;
}

uint64_t read_cr0(void) { return fake_cpu.cr0; }
uint64_t read_cr2(void) { return fake_cpu.cr2; }
uint64_t read_cr3(void) { return fake_cpu.cr3; }
uint64_t read_cr4(void) { return fake_cpu.cr4; }

void write_cr0(uint64_t v)
{
	/* SDM Vol. 3C 24.8: in VMX operation CR0 must obey FIXED0/FIXED1. */
	if (fake_cpu.vmx_on &&
	    !fixed_ok(v, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1))
		fake_fail("MOV CR0 0x%llx in VMX operation breaks the fixed bits (#GP)",
			  (unsigned long long)v);
	uint64_t stuck = fake_cpu.cr0_stuck_bits;
	fake_cpu.cr0 = (v & ~stuck) | (fake_cpu.cr0 & stuck);
}

void write_cr3(uint64_t v) { fake_cpu.cr3 = v; }

void write_cr4(uint64_t v)
{
	if (fake_cpu.vmx_on &&
	    (!(v & CR4_VMXE_BIT) ||
	     !fixed_ok(v, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1)))
		fake_fail("MOV CR4 0x%llx in VMX operation breaks the fixed bits (#GP)",
			  (unsigned long long)v);
	uint64_t stuck = fake_cpu.cr4_stuck_bits;
	fake_cpu.cr4 = (v & ~stuck) | (fake_cpu.cr4 & stuck);
}

uint64_t read_dr7(void) { return fake_cpu.dr7; }
void write_dr7(uint64_t v) { fake_cpu.dr7 = v; }

void read_debug_registers(uint64_t dr[4], uint64_t *dr6)
{
	memcpy(dr, fake_cpu.dr, sizeof(fake_cpu.dr));
	*dr6 = fake_cpu.dr6;
}

void write_debug_registers(const uint64_t dr[4], uint64_t dr6)
{
	memcpy(fake_cpu.dr, dr, sizeof(fake_cpu.dr));
	fake_cpu.dr6 = dr6;
}
uint64_t read_rflags(void) { return fake_cpu.rflags; }
uint16_t read_cs(void) { return fake_cpu.cs; }
uint16_t read_ds(void) { return fake_cpu.ds; }
uint16_t read_es(void) { return fake_cpu.es; }
uint16_t read_ss(void) { return fake_cpu.ss; }
uint16_t read_fs(void) { return fake_cpu.fs; }
uint16_t read_gs(void) { return fake_cpu.gs; }
uint16_t read_tr(void) { return fake_cpu.tr; }
uint16_t read_ldtr(void) { return fake_cpu.ldtr; }
void read_gdtr(struct desc_ptr *d) { *d = fake_cpu.gdtr; }
void read_idtr(struct desc_ptr *d) { *d = fake_cpu.idtr; }
void load_gdtr(const struct desc_ptr *d) { fake_cpu.gdtr = *d; }
void load_idtr(const struct desc_ptr *d) { fake_cpu.idtr = *d; }
void load_tr(uint16_t sel) { fake_cpu.tr = sel; }

/* ---- Port I/O and the rest ---- */

uint8_t inb(uint16_t port)
{
	(void)port;
	return fake_cpu.in_value;
}

static void port_write(uint16_t port, uint32_t v)
{
	fake_cpu.port_writes++;
	fake_cpu.last_out_port = port;
	fake_cpu.last_out_value = v;
}

void outb(uint16_t port, uint8_t v) { port_write(port, v); }
void outw(uint16_t port, uint16_t v) { port_write(port, v); }
void outl(uint16_t port, uint32_t v) { port_write(port, v); }

uint64_t rdtsc(void)
{
	uint64_t t = fake_cpu.tsc;
	fake_cpu.tsc += 1000;
	return t;
}

void cpu_halt(void) { fake_cpu.halts++; }
void irq_disable(void) { fake_cpu.irq_disables++; }
void cpu_relax(void) { fake_cpu.relaxes++; }
void bochs_magic_break(void) { fake_cpu.magic_breaks++; }
void wbinvd(void) { fake_cpu.wbinvds++; }
void write_cr2(uint64_t v) { fake_cpu.cr2 = v; }

uint64_t xgetbv(uint32_t xcr)
{
	if (!(fake_cpu.cr4 & CR4_OSXSAVE_BIT))
		fake_fail("XGETBV with CR4.OSXSAVE clear (#UD on hardware)");
	if (xcr != 0)
		fake_fail("XGETBV of XCR%u: only XCR0 exists (#GP on hardware)", xcr);
	return fake_cpu.xcr0;
}

void xsetbv(uint32_t xcr, uint64_t value)
{
	if (!(fake_cpu.cr4 & CR4_OSXSAVE_BIT))
		fake_fail("XSETBV with CR4.OSXSAVE clear (#UD on hardware)");
	if (xcr != 0 || !(value & 1))
		fake_fail("XSETBV XCR%u = 0x%llx: #GP on hardware", xcr, (unsigned long long)value);
	fake_cpu.xsetbvs++;
	fake_cpu.xcr0 = value;
}

void fxsave(void *area)
{
	if ((uintptr_t)area & 15)
		fake_fail("FXSAVE to %p: not 16-byte aligned (#GP on hardware)", area);
	fake_cpu.fxsaves++;
	memcpy(area, fake_cpu.fpu, sizeof(fake_cpu.fpu));
}

void fxrstor(const void *area)
{
	if ((uintptr_t)area & 15)
		fake_fail("FXRSTOR from %p: not 16-byte aligned (#GP on hardware)", area);
	fake_cpu.fxrstors++;
	memcpy(fake_cpu.fpu, area, 512);
}

/* XSAVE's standard layout (SDM Vol. 1 13.4): the legacy region (x87, SSE),
 * the 64-byte header at 512 (XSTATE_BV first), then the extended
 * components from 576, modelled as one block. */
#define FAKE_XSAVE_HEADER 512
#define FAKE_XSAVE_EXTENDED 576

void xsave(void *area, uint64_t mask)
{
	if ((uintptr_t)area & 63)
		fake_fail("XSAVE to %p: not 64-byte aligned (#GP on hardware)", area);
	if (!(fake_cpu.cr4 & CR4_OSXSAVE_BIT))
		fake_fail("XSAVE with CR4.OSXSAVE clear (#UD on hardware)");
	uint64_t rfbm = mask & fake_cpu.xcr0;
	fake_cpu.xsaves++;
	fake_cpu.last_xsave_mask = mask;
	if (rfbm & 3)
		memcpy(area, fake_cpu.fpu, 512);
	if (rfbm & ~3ULL)
		memcpy((uint8_t *)area + FAKE_XSAVE_EXTENDED, fake_cpu.fpu + FAKE_XSAVE_EXTENDED,
		       sizeof(fake_cpu.fpu) - FAKE_XSAVE_EXTENDED);
	memcpy((uint8_t *)area + FAKE_XSAVE_HEADER, &rfbm, sizeof(rfbm)); /* XSTATE_BV */
}

void xrstor(const void *area, uint64_t mask)
{
	if ((uintptr_t)area & 63)
		fake_fail("XRSTOR from %p: not 64-byte aligned (#GP on hardware)", area);
	if (!(fake_cpu.cr4 & CR4_OSXSAVE_BIT))
		fake_fail("XRSTOR with CR4.OSXSAVE clear (#UD on hardware)");
	uint64_t rfbm = mask & fake_cpu.xcr0, xstate_bv;
	memcpy(&xstate_bv, (const uint8_t *)area + FAKE_XSAVE_HEADER, sizeof(xstate_bv));
	fake_cpu.xrstors++;
	fake_cpu.last_xrstor_mask = mask;
	/* A component in RFBM but not in XSTATE_BV gets its initial state (13.8.1). */
	if (rfbm & 3)
		memcpy(fake_cpu.fpu, area, 512);
	if (rfbm & ~3ULL) {
		if (xstate_bv & rfbm & ~3ULL)
			memcpy(fake_cpu.fpu + FAKE_XSAVE_EXTENDED, (const uint8_t *)area + FAKE_XSAVE_EXTENDED,
			       sizeof(fake_cpu.fpu) - FAKE_XSAVE_EXTENDED);
		else
			memset(fake_cpu.fpu + FAKE_XSAVE_EXTENDED, 0,
			       sizeof(fake_cpu.fpu) - FAKE_XSAVE_EXTENDED);
	}
}

/* ---- The software VMCS ---- */

static void require_vmx(const char *insn)
{
	if (!fake_cpu.vmx_on)
		fake_fail("%s outside VMX operation (#UD on hardware)", insn);
}

static struct fake_vmcs *current_vmcs(void)
{
	return fake_cpu.current_vmcs_pa == FAKE_NO_VMCS
		       ? NULL
		       : fake_vmcs_at(fake_cpu.current_vmcs_pa);
}

/*
 * VMfailValid(error) when there is a current VMCS (the error goes to its
 * VM_INSTRUCTION_ERROR), VMfailInvalid otherwise (SDM Vol. 3C 31.2).
 */
static enum vmx_insn_result fail_valid(uint32_t error)
{
	struct fake_vmcs *v = current_vmcs();
	const struct vmcs_field_info *f = vmcs_field_lookup(VM_INSTRUCTION_ERROR.encoding);

	if (!v)
		return VMX_FAIL_INVALID;
	v->values[f - vmcs_field_table] = error;
	v->written[f - vmcs_field_table] = true;
	return VMX_FAIL_VALID;
}

static enum vmx_insn_result forced(const struct fake_forced_result *f)
{
	if (f->result == VMX_FAIL_VALID)
		fail_valid(f->error);
	return f->result;
}

struct fake_vmcs *fake_vmcs_at(uint64_t pa)
{
	for (unsigned i = 0; i < FAKE_VMCS_REGIONS; i++)
		if (fake_cpu.vmcs[i].used && fake_cpu.vmcs[i].pa == pa)
			return &fake_cpu.vmcs[i];
	return NULL;
}

static struct fake_vmcs *vmcs_find_or_create(uint64_t pa)
{
	struct fake_vmcs *v = fake_vmcs_at(pa);

	if (v)
		return v;
	if (vmcs_field_count > FAKE_VMCS_FIELDS)
		fake_fail("fake VMCS: vmcs_field_table has %u fields, raise FAKE_VMCS_FIELDS",
			  vmcs_field_count);
	for (unsigned i = 0; i < FAKE_VMCS_REGIONS; i++) {
		if (!fake_cpu.vmcs[i].used) {
			v = &fake_cpu.vmcs[i];
			memset(v, 0, sizeof(*v));
			v->used = true;
			v->pa = pa;
			return v;
		}
	}
	fake_fail("fake VMCS: more than %d VMCS regions in use", FAKE_VMCS_REGIONS);
}

/* The field's index in vmcs_field_table, or -1 when this CPU lacks it. */
static int supported_field(uint32_t encoding)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding);
	uint64_t vmcs_enum;

	if (!f)
		return -1;
	for (unsigned i = 0; i < fake_cpu.unsupported_count; i++)
		if (fake_cpu.unsupported[i] == encoding)
			return -1;
	/* SDM Vol. 3C A.9: IA32_VMX_VMCS_ENUM[9:1] is the highest field index. */
	if (msr_peek(MSR_IA32_VMX_VMCS_ENUM, &vmcs_enum) &&
	    ((encoding >> 1) & 0x1FF) > ((vmcs_enum >> 1) & 0x1FF))
		return -1;
	return (int)(f - vmcs_field_table);
}

static uint64_t truncate_to_width(const struct vmcs_field_info *f, uint64_t value)
{
	switch (f->width) {
	case VMCS_WIDTH_16:
		return value & 0xFFFF;
	case VMCS_WIDTH_32:
		return value & 0xFFFFFFFF;
	default:
		return value;
	}
}

enum vmx_insn_result vmread(uint32_t encoding, uint64_t *value)
{
	require_vmx("VMREAD");
	fake_cpu.vmread_calls++;
	struct fake_vmcs *v = current_vmcs();
	if (!v)
		return VMX_FAIL_INVALID;
	int i = supported_field(encoding);
	if (i < 0)
		return fail_valid(12);
	*value = v->values[i];
	return VMX_SUCCEED;
}

enum vmx_insn_result vmwrite(uint32_t encoding, uint64_t value)
{
	require_vmx("VMWRITE");
	fake_cpu.vmwrite_calls++;
	struct fake_vmcs *v = current_vmcs();
	if (!v)
		return VMX_FAIL_INVALID;
	if (fake_cpu.fail_vmwrite.result != VMX_SUCCEED &&
	    encoding == fake_cpu.fail_vmwrite_encoding)
		return forced(&fake_cpu.fail_vmwrite);
	int i = supported_field(encoding);
	if (i < 0)
		return fail_valid(12);
	/* SDM Vol. 3C 25.11.2: type 1 is VM-exit information, read-only unless
	 * IA32_VMX_MISC[29]. */
	if (((encoding >> 10) & 3) == 1 && !fake_cpu.vmwrite_any_field)
		return fail_valid(13);
	v->values[i] = truncate_to_width(&vmcs_field_table[i], value);
	v->written[i] = true;
	return VMX_SUCCEED;
}

static int field_index_or_fail(const char *what, uint32_t encoding, struct fake_vmcs **v)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding);

	*v = current_vmcs();
	if (!*v)
		fake_fail("%s(0x%04x): there is no current VMCS", what, encoding);
	if (!f)
		fake_fail("%s(0x%04x): not a field in vmcs_field_table", what, encoding);
	return (int)(f - vmcs_field_table);
}

void fake_vmcs_set(uint32_t encoding, uint64_t value)
{
	struct fake_vmcs *v;
	int i = field_index_or_fail("fake_vmcs_set", encoding, &v);

	v->values[i] = truncate_to_width(&vmcs_field_table[i], value);
	v->written[i] = true;
}

uint64_t fake_vmcs_get(uint32_t encoding)
{
	struct fake_vmcs *v;
	int i = field_index_or_fail("fake_vmcs_get", encoding, &v);
	return v->values[i];
}

bool fake_vmcs_written(uint32_t encoding)
{
	struct fake_vmcs *v;
	int i = field_index_or_fail("fake_vmcs_written", encoding, &v);
	return v->written[i];
}

void fake_vmcs_mark_unsupported(uint32_t encoding)
{
	if (fake_cpu.unsupported_count == FAKE_UNSUPPORTED_FIELDS)
		fake_fail("fake_vmcs_mark_unsupported: more than %d fields",
			  FAKE_UNSUPPORTED_FIELDS);
	fake_cpu.unsupported[fake_cpu.unsupported_count++] = encoding;
}

/* ---- VMX instructions ---- */

/* The revision identifier of IA32_VMX_BASIC, or -1 without that MSR. */
static int64_t vmx_revision(void)
{
	uint64_t basic;
	return msr_peek(MSR_IA32_VMX_BASIC, &basic) ? (int64_t)VMX_BASIC_REVISION(basic) : -1;
}

static bool revision_ok(uint64_t pa)
{
	int64_t rev = vmx_revision();
	uint32_t region_rev = *(const uint32_t *)(uintptr_t)pa;

	/* Bit 31 is the shadow-VMCS indicator; the models have no shadowing. */
	return rev < 0 || region_rev == (uint32_t)rev;
}

enum vmx_insn_result vmxon(uint64_t region_pa)
{
	uint64_t fc = 0;

	fake_cpu.vmxon_calls++;
	fake_cpu.last_vmxon_pa = region_pa;
	/* SDM Vol. 3C 31.3 VMXON: #UD without CR4.VMXE. */
	if (!(fake_cpu.cr4 & CR4_VMXE_BIT))
		fake_fail("VMXON with CR4.VMXE clear (#UD on hardware)");
	if (fake_cpu.vmx_on)
		return fail_valid(15); /* VMXON executed in VMX root operation */
	if (fake_cpu.fail_vmxon.result != VMX_SUCCEED)
		return fake_cpu.fail_vmxon.result; /* no current VMCS: never valid */
	if (!fixed_ok(fake_cpu.cr0, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1))
		fake_fail("VMXON with CR0 0x%llx outside the VMX fixed bits (#GP on hardware)",
			  (unsigned long long)fake_cpu.cr0);
	if (!fixed_ok(fake_cpu.cr4, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1))
		fake_fail("VMXON with CR4 0x%llx outside the VMX fixed bits (#GP on hardware)",
			  (unsigned long long)fake_cpu.cr4);
	if (!msr_peek(MSR_IA32_FEATURE_CONTROL, &fc) ||
	    (fc & (FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) !=
		    (FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
		fake_fail("VMXON with IA32_FEATURE_CONTROL 0x%llx: not locked with VMXON "
			  "outside SMX enabled (#GP on hardware)", (unsigned long long)fc);
	if ((region_pa & 0xFFF) || !region_pa || !revision_ok(region_pa))
		return VMX_FAIL_INVALID;
	fake_cpu.vmx_on = true;
	fake_cpu.vmxon_pa = region_pa;
	fake_cpu.current_vmcs_pa = FAKE_NO_VMCS;
	return VMX_SUCCEED;
}

enum vmx_insn_result vmxoff(void)
{
	require_vmx("VMXOFF");
	fake_cpu.vmxoff_calls++;
	if (fake_cpu.fail_vmxoff.result != VMX_SUCCEED)
		return forced(&fake_cpu.fail_vmxoff);
	fake_cpu.vmx_on = false;
	fake_cpu.vmxon_pa = 0;
	fake_cpu.current_vmcs_pa = FAKE_NO_VMCS;
	return VMX_SUCCEED;
}

enum vmx_insn_result vmclear(uint64_t vmcs_pa)
{
	require_vmx("VMCLEAR");
	fake_cpu.vmclear_calls++;
	fake_cpu.last_vmclear_pa = vmcs_pa;
	if (fake_cpu.fail_vmclear.result != VMX_SUCCEED)
		return forced(&fake_cpu.fail_vmclear);
	if ((vmcs_pa & 0xFFF) || !vmcs_pa)
		return fail_valid(2); /* VMCLEAR with invalid physical address */
	if (vmcs_pa == fake_cpu.vmxon_pa)
		return fail_valid(3); /* VMCLEAR with VMXON pointer */
	struct fake_vmcs *v = vmcs_find_or_create(vmcs_pa);
	v->active = false;
	v->launched = false;
	if (fake_cpu.current_vmcs_pa == vmcs_pa)
		fake_cpu.current_vmcs_pa = FAKE_NO_VMCS;
	return VMX_SUCCEED;
}

enum vmx_insn_result vmptrld(uint64_t vmcs_pa)
{
	require_vmx("VMPTRLD");
	fake_cpu.vmptrld_calls++;
	fake_cpu.last_vmptrld_pa = vmcs_pa;
	if (fake_cpu.fail_vmptrld.result != VMX_SUCCEED)
		return forced(&fake_cpu.fail_vmptrld);
	if ((vmcs_pa & 0xFFF) || !vmcs_pa)
		return fail_valid(9);  /* VMPTRLD with invalid physical address */
	if (vmcs_pa == fake_cpu.vmxon_pa)
		return fail_valid(10); /* VMPTRLD with VMXON pointer */
	if (!revision_ok(vmcs_pa))
		return fail_valid(11); /* incorrect VMCS revision identifier */
	struct fake_vmcs *v = vmcs_find_or_create(vmcs_pa);
	v->active = true;
	fake_cpu.current_vmcs_pa = vmcs_pa;
	return VMX_SUCCEED;
}

enum vmx_insn_result invept(uint64_t type, uint64_t eptp)
{
	uint64_t caps = 0;

	require_vmx("INVEPT");
	fake_cpu.invept_calls++;
	fake_cpu.last_invept_type = type;
	fake_cpu.last_invept_eptp = eptp;
	msr_peek(MSR_IA32_VMX_EPT_VPID_CAP, &caps);
	/* SDM Vol. 3C 31.3 INVEPT: the type must be supported (bits 25/26);
	 * single-context needs a valid EPTP (WB or UC, 4-level walk). */
	if ((type == 1 && !(caps & EPT_CAP_INVEPT_SINGLE)) ||
	    (type == 2 && !(caps & EPT_CAP_INVEPT_ALL)) || type == 0 || type > 2)
		return fail_valid(28);
	if (type == 1 && (((eptp & 7) != 6 && (eptp & 7) != 0) || ((eptp >> 3) & 7) != 3))
		return fail_valid(28);
	return VMX_SUCCEED;
}

enum vmx_insn_result invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
	uint64_t caps = 0;

	require_vmx("INVVPID");
	fake_cpu.invvpid_calls++;
	fake_cpu.last_invvpid_type = type;
	fake_cpu.last_invvpid_vpid = vpid;
	fake_cpu.last_invvpid_linear = linear;
	msr_peek(MSR_IA32_VMX_EPT_VPID_CAP, &caps);
	/* SDM Vol. 3C 31.3 INVVPID: types 0-3 supported per bits 40-43; every
	 * type but 2 needs a VPID other than 0. */
	if (type > 3 || !(caps & (1ULL << (40 + type))))
		return fail_valid(28);
	if (type != 2 && vpid == 0)
		return fail_valid(28);
	return VMX_SUCCEED;
}

/* ---- VM entry ---- */

void fake_script_exits(const struct fake_exit *exits, unsigned n)
{
	if (n > FAKE_EXIT_SCRIPT_MAX)
		fake_fail("fake_script_exits: more than %d exits", FAKE_EXIT_SCRIPT_MAX);
	memcpy(fake_cpu.script, exits, n * sizeof(*exits));
	fake_cpu.script_len = n;
	fake_cpu.script_pos = 0;
}

static int next_scripted_exit(struct guest_gprs *gprs)
{
	if (fake_cpu.script_pos == fake_cpu.script_len)
		fake_fail("vmx_run_guest: entry %u runs past the end of the %u-exit script",
			  fake_cpu.entries, fake_cpu.script_len);
	const struct fake_exit *e = &fake_cpu.script[fake_cpu.script_pos++];

	if (e->guest)
		e->guest(gprs);
	if (e->result == 2)
		fail_valid(e->instruction_error);
	if (e->result != 0)
		return e->result;
	fake_vmcs_set(VM_EXIT_REASON.encoding, e->reason);
	fake_vmcs_set(EXIT_QUALIFICATION.encoding, e->qualification);
	fake_vmcs_set(VM_EXIT_INSTRUCTION_LEN.encoding, e->instruction_len);
	fake_vmcs_set(GUEST_PHYSICAL_ADDRESS.encoding, e->guest_physical);
	return 0;
}

/* One VMLAUNCH/VMRESUME of the fake CPU: 0 after an exit, else 1 or 2. */
static int enter_once(struct guest_gprs *gprs, int launched)
{
	fake_cpu.entries++;
	require_vmx(launched ? "VMRESUME" : "VMLAUNCH");
	struct fake_vmcs *v = current_vmcs();
	if (launched) {
		fake_cpu.resumes++;
		if (!v->launched)
			return fail_valid(5) == VMX_FAIL_VALID ? 2 : 1;
	} else {
		fake_cpu.launches++;
		if (v->launched)
			return fail_valid(4) == VMX_FAIL_VALID ? 2 : 1;
	}

	int result;
	if (fake_cpu.on_enter) {
		result = fake_cpu.on_enter(gprs, launched, fake_cpu.on_enter_ctx);
	} else if (fake_cpu.script_len) {
		result = next_scripted_exit(gprs);
	} else {
		result = fake_cpu.enter_result;
		if (result == 2)
			fail_valid(fake_cpu.enter_error);
	}
	if (result == 0)
		v->launched = true;
	return result;
}

/* As vmx_entry.S: HOST_RSP once, then entries until on_exit says stop. */
int vmx_run_guest(struct guest_gprs *gprs, int launched, bool (*on_exit)(void *ctx), void *ctx)
{
	enum vmx_insn_result r =
		vmwrite(HOST_RSP.encoding, (uint64_t)(uintptr_t)__builtin_frame_address(0));
	if (r != VMX_SUCCEED)
		return r == VMX_FAIL_INVALID ? 1 : 2;
	for (;;) {
		int result = enter_once(gprs, launched);
		if (result != 0)
			return result;
		if (!on_exit(ctx))
			return 0;
		fake_cpu.direct_resumes++; /* the fast path: no return to the caller */
		launched = 1;
	}
}

void vmx_exit_landing(void)
{
	fake_fail("vmx_exit_landing was called: only a VM exit may go there");
}

/* ---- Pages the CPU still uses ---- */

void fake_cpu_page_freed(const void *page)
{
	uint64_t pa = (uint64_t)(uintptr_t)page;
	struct fake_vmcs *v = fake_vmcs_at(pa);

	if (fake_cpu.vmx_on && pa == fake_cpu.vmxon_pa)
		fake_fail("the VMXON region 0x%llx is freed while VMX is on",
			  (unsigned long long)pa);
	if (v && v->active)
		fake_fail("the VMCS at 0x%llx is freed while active (%s): VMCLEAR it first "
			  "(SDM Vol. 3C 25.11.1)", (unsigned long long)pa,
			  pa == fake_cpu.current_vmcs_pa ? "it is the current VMCS" : "not current");
	if (v)
		memset(v, 0, sizeof(*v));
}

void fake_cpu_enter_vmx_with_vmcs(void *vmxon_region, void *vmcs_region)
{
	int64_t rev = vmx_revision();

	if (rev < 0)
		fake_fail("fake_cpu_enter_vmx_with_vmcs: load a CPU model first");
	*(uint32_t *)vmxon_region = (uint32_t)rev;
	*(uint32_t *)vmcs_region = (uint32_t)rev;
	fake_cpu.cr0 |= fake_msr_value(MSR_IA32_VMX_CR0_FIXED0);
	fake_cpu.cr4 |= CR4_VMXE_BIT;
	if (vmxon((uint64_t)(uintptr_t)vmxon_region) != VMX_SUCCEED ||
	    vmclear((uint64_t)(uintptr_t)vmcs_region) != VMX_SUCCEED ||
	    vmptrld((uint64_t)(uintptr_t)vmcs_region) != VMX_SUCCEED)
		fake_fail("fake_cpu_enter_vmx_with_vmcs: VMXON/VMCLEAR/VMPTRLD failed");
	/* Not the test's own calls. */
	fake_cpu.vmxon_calls = fake_cpu.vmclear_calls = fake_cpu.vmptrld_calls = 0;
}

/* ---- Reset and CPU models ---- */

/* A code/data descriptor (SDM Vol. 3A 3.4.5). */
static uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

void fake_cpu_reset(void)
{
	memset(&fake_cpu, 0, sizeof(fake_cpu));
	fake_cpu.cr0 = FAKE_HOST_CR0;
	fake_cpu.cr3 = FAKE_HOST_CR3;
	fake_cpu.cr4 = FAKE_HOST_CR4;
	fake_cpu.dr7 = 0x400;
	fake_cpu.dr6 = 0xFFFF0FF0;
	fake_cpu.rflags = 0x2;
	fake_cpu.xcr0 = 1;
	fake_cpu.cs = FAKE_HOST_CS;
	fake_cpu.ss = fake_cpu.ds = fake_cpu.es = FAKE_HOST_DS;
	fake_cpu.fs = fake_cpu.gs = 0;
	fake_cpu.tr = FAKE_HOST_TR;

	fake_cpu.gdt[0] = 0;
	fake_cpu.gdt[1] = segment_descriptor(0, 0xFFFFF, 0x9A, 0xA); /* 64-bit code */
	fake_cpu.gdt[2] = segment_descriptor(0, 0xFFFFF, 0x92, 0xC); /* data */
	fake_cpu.gdt[3] = 0;
	/* 64-bit available TSS (type 9), 16 bytes: base 63:32 in the second half. */
	fake_cpu.gdt[4] = segment_descriptor((uint32_t)FAKE_HOST_TSS_BASE, 0x67, 0x89, 0);
	fake_cpu.gdt[5] = FAKE_HOST_TSS_BASE >> 32;
	fake_cpu.gdtr.base = (uint64_t)(uintptr_t)fake_cpu.gdt;
	fake_cpu.gdtr.limit = sizeof(fake_cpu.gdt) - 1;
	fake_cpu.idtr.base = FAKE_HOST_IDT_BASE;
	fake_cpu.idtr.limit = 0xFFF;

	fake_cpu.current_vmcs_pa = FAKE_NO_VMCS;

	fake_msr_set(MSR_IA32_EFER, FAKE_HOST_EFER, false);
	fake_msr_set(MSR_IA32_PAT, FAKE_HOST_PAT, false);
	fake_msr_set(MSR_IA32_FS_BASE, FAKE_HOST_FS_BASE, false);
	fake_msr_set(MSR_IA32_GS_BASE, FAKE_HOST_GS_BASE, false);
	fake_msr_set(MSR_IA32_SYSENTER_CS, 0, false);
	fake_msr_set(MSR_IA32_SYSENTER_ESP, 0, false);
	fake_msr_set(MSR_IA32_SYSENTER_EIP, 0, false);
	fake_msr_set(MSR_IA32_DEBUGCTL, 0, false);
	/* The SYSCALL MSRs and TSC_AUX, which cvisor switches per vCPU. */
	fake_msr_set(0xC0000081, 0x0023001000000000ULL, false); /* STAR */
	fake_msr_set(0xC0000082, 0xFFFFFFFF80005000ULL, false); /* LSTAR */
	fake_msr_set(0xC0000083, 0, false);                     /* CSTAR */
	fake_msr_set(0xC0000084, 0x47700, false);               /* FMASK */
	fake_msr_set(0xC0000102, 0, false);                     /* KERNEL_GS_BASE */
	fake_msr_set(0xC0000103, 0, false);                     /* TSC_AUX */
	/* IA32_MISC_ENABLE as firmware usually leaves it: fast strings (bit 0),
	 * automatic thermal control, EIST, MONITOR/MWAIT (SDM Vol. 4 Table 2-2). */
	fake_msr_set(MSR_IA32_MISC_ENABLE, 0x50089, false);
}

/* "GenuineIntel" as CPUID leaf 0 returns it: EBX, EDX, ECX. */
#define INTEL_EBX 0x756E6547u
#define INTEL_EDX 0x49656E69u
#define INTEL_ECX 0x6C65746Eu

/*
 * The VMX capability MSRs of a model.  The TRUE_* controls are the values
 * Bochs reports; the older 0x481-0x484 MSRs report the default-1 controls
 * as always 1 (SDM Vol. 3C A.2), i.e. the same values with those bits set
 * in the allowed-0 half.
 */
struct vmx_msr_values {
	uint64_t basic, pin, proc, proc2, exit, entry, misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum, ept_vpid;
};

#define PIN_DEFAULT1 0x16ULL
#define PROC_DEFAULT1 0x0401E172ULL
#define EXIT_DEFAULT1 0x36DFFULL
#define ENTRY_DEFAULT1 0x11FFULL

static void load_vmx_msrs(const struct vmx_msr_values *m)
{
	fake_msr_set(MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCK |
		     FEATURE_CONTROL_VMXON_OUTSIDE_SMX, false);
	fake_msr_set(MSR_IA32_VMX_BASIC, m->basic, true);
	fake_msr_set(MSR_IA32_VMX_PINBASED_CTLS, m->pin | PIN_DEFAULT1, true);
	fake_msr_set(MSR_IA32_VMX_PROCBASED_CTLS, m->proc | PROC_DEFAULT1, true);
	fake_msr_set(MSR_IA32_VMX_EXIT_CTLS, m->exit | EXIT_DEFAULT1, true);
	fake_msr_set(MSR_IA32_VMX_ENTRY_CTLS, m->entry | ENTRY_DEFAULT1, true);
	fake_msr_set(MSR_IA32_VMX_MISC, m->misc, true);
	fake_msr_set(MSR_IA32_VMX_CR0_FIXED0, m->cr0_fixed0, true);
	fake_msr_set(MSR_IA32_VMX_CR0_FIXED1, m->cr0_fixed1, true);
	fake_msr_set(MSR_IA32_VMX_CR4_FIXED0, m->cr4_fixed0, true);
	fake_msr_set(MSR_IA32_VMX_CR4_FIXED1, m->cr4_fixed1, true);
	fake_msr_set(MSR_IA32_VMX_VMCS_ENUM, m->vmcs_enum, true);
	fake_msr_set(MSR_IA32_VMX_PROCBASED_CTLS2, m->proc2, true);
	fake_msr_set(MSR_IA32_VMX_EPT_VPID_CAP, m->ept_vpid, true);
	/* IA32_VMX_VMFUNC exists when "enable VM functions" may be 1 (SDM Vol. 3C
	 * A.11); Bochs tigerlake offers EPTP switching only (value 0x1). */
	if ((m->proc2 >> 32) & (1u << 13))
		fake_msr_set(MSR_IA32_VMX_VMFUNC, 0x1, true);
	fake_msr_set(MSR_IA32_VMX_TRUE_PINBASED_CTLS, m->pin, true);
	fake_msr_set(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, m->proc, true);
	fake_msr_set(MSR_IA32_VMX_TRUE_EXIT_CTLS, m->exit, true);
	fake_msr_set(MSR_IA32_VMX_TRUE_ENTRY_CTLS, m->entry, true);
}

/*
 * CPUID: vendor and leaf 1 are what matters to cvisor (VMX = leaf 1 ECX
 * bit 5); the other bits are plausible values for the model, not a
 * measurement.
 */
void fake_cpu_load_bochs_tigerlake(void)
{
	static const struct vmx_msr_values tigerlake = {
		.basic = 0x1d8100000000004ULL,
		.pin = 0x7f00000016ULL,
		.proc = 0xfff9fffe04006172ULL,
		.proc2 = 0x2977fff00000000ULL,
		.exit = 0x107fffff00036dfbULL,
		.entry = 0x10ffff000011fbULL,
		.misc = 0x600401e0ULL,
		.cr0_fixed0 = 0x80000021ULL,
		.cr0_fixed1 = 0xffffffffULL,
		.cr4_fixed0 = 0x2000ULL,
		.cr4_fixed1 = 0xf72fffULL,
		.vmcs_enum = 0x34ULL,
		.ept_vpid = 0xf0106b34141ULL,
	};

	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0x1B, INTEL_EBX, INTEL_ECX, INTEL_EDX);
	/* Family 6 model 0x8C; ECX: SSE3, PCLMULQDQ, DTES64, MONITOR, VMX,
	 * SSSE3, FMA, CX16, PDCM, SSE4.1/4.2, x2APIC, MOVBE, POPCNT, AES,
	 * XSAVE, AVX, F16C, RDRAND; EDX: the usual 0xBFEBFBFF. */
	fake_cpuid_set(1, FAKE_ANY_SUBLEAF, 0x000806C1, 0x00010800, 0x77FAFBBF, 0xBFEBFBFF);
	fake_cpuid_set(7, 0, 0, 0xF2BF27EF, 0x40405F4E, 0xBC000410);
	fake_cpuid_set(0xA, FAKE_ANY_SUBLEAF, 0x08300805, 0, 0, 0x00008603);
	fake_cpuid_set(0x80000000, FAKE_ANY_SUBLEAF, 0x80000008, 0, 0, 0);
	fake_cpuid_set(0x80000001, FAKE_ANY_SUBLEAF, 0, 0, 0x00000121, 0x2C100800);
	fake_cpuid_set(0x80000008, FAKE_ANY_SUBLEAF, 0x00003027, 0, 0, 0);
	load_vmx_msrs(&tigerlake);
}

void fake_cpu_load_bochs_sandy_bridge(void)
{
	static const struct vmx_msr_values sandy_bridge = {
		.basic = 0xd810000000002bULL,
		.pin = 0x7f00000016ULL,
		.proc = 0xf7f9fffe04006172ULL,
		.proc2 = 0xff00000000ULL,
		.exit = 0x7fffff00036dfbULL,
		.entry = 0xffff000011fbULL,
		.misc = 0x401e0ULL,
		.cr0_fixed0 = 0x80000021ULL,
		.cr0_fixed1 = 0xffffffffULL,
		.cr4_fixed0 = 0x2000ULL,
		.cr4_fixed1 = 0x627ffULL,
		.vmcs_enum = 0x34ULL,
		.ept_vpid = 0xf0106114141ULL,
	};

	fake_cpuid_set(0, FAKE_ANY_SUBLEAF, 0xD, INTEL_EBX, INTEL_ECX, INTEL_EDX);
	/* Family 6 model 0x2A (Core i7-2600K). */
	fake_cpuid_set(1, FAKE_ANY_SUBLEAF, 0x000206A7, 0x00010800, 0x1FBAE3BF, 0xBFEBFBFF);
	fake_cpuid_set(0xA, FAKE_ANY_SUBLEAF, 0x07300403, 0, 0, 0x00000603);
	fake_cpuid_set(0x80000000, FAKE_ANY_SUBLEAF, 0x80000008, 0, 0, 0);
	fake_cpuid_set(0x80000001, FAKE_ANY_SUBLEAF, 0, 0, 0x00000001, 0x28100800);
	fake_cpuid_set(0x80000008, FAKE_ANY_SUBLEAF, 0x00003024, 0, 0, 0);
	load_vmx_msrs(&sandy_bridge);
}
