/*
 * Fault catching for test guests (probe.S): run one instruction and learn
 * whether it faulted, with which vector and error code.
 *
 * Call traps_init() once first: it loads a flat GDT (code 0x08, data 0x10,
 * 64-bit code 0x18) and an IDT for vectors 0-31.  Each probe_*() returns
 * PROBE_NO_FAULT (-1) when its instruction completed, or the exception
 * vector when it faulted; the faulting instruction then had no effect and
 * execution resumes after the probe.  probe_error_code and probe_fault_eip
 * describe the last fault.  An exception outside a probe is reported
 * (vector, error code, EIP) and stops the VM as a failure.
 */
#ifndef GUEST_PROBE_H
#define GUEST_PROBE_H

#include <stdint.h>

#define PROBE_NO_FAULT (-1)

/* Exception vectors (SDM Vol. 3A 6.3.1, Table 6-1). */
#define VEC_DE 0
#define VEC_BP 3
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

void traps_init(void);
/* Only the IDT (handlers in code segment 0x08): the GDT and the segment
 * registers stay as the boot loader left them. */
void traps_init_idt_only(void);
/*
 * In IA-32e mode (compatibility mode) exceptions need the 64-bit IDT, whose
 * handlers run in the 64-bit code segment 0x18 and return to the same
 * probe recovery.  Switch to it right after paging turns on with
 * EFER.LME=1, and back right after paging turns off.
 */
void traps_use_ia32e_idt(void);
void traps_use_legacy_idt(void);

/* Set by the exception handler for the last fault a probe caught. */
extern volatile uint32_t probe_error_code;
extern volatile uint32_t probe_fault_eip;
/* The EFLAGS image the exception pushed (RF is bit 16). */
extern volatile uint32_t probe_fault_eflags;

/* Called by the handler for an exception no probe expected. */
void trap_unexpected(uint32_t vector, uint32_t error_code, uint32_t eip)
	__attribute__((noreturn));
/* The mnemonic of an exception vector ("#GP"), or "vector" when unnamed. */
const char *vector_name(int vector);

int probe_rdmsr(uint32_t msr, uint64_t *value);
int probe_wrmsr(uint32_t msr, uint64_t value);
int probe_write_cr0(uint32_t value);
int probe_write_cr4(uint32_t value);
int probe_xsetbv(uint32_t xcr, uint64_t value);
int probe_xgetbv(uint32_t xcr, uint64_t *value);

/* VMX instructions; memory operands are passed by address. */
int probe_vmxon(const uint64_t *region_pa);
int probe_vmxoff(void);
int probe_vmclear(const uint64_t *vmcs_pa);
int probe_vmptrld(const uint64_t *vmcs_pa);
int probe_vmptrst(uint64_t *vmcs_pa);
int probe_vmread(uint32_t field, uint32_t *value);
int probe_vmwrite(uint32_t field, uint32_t value);
int probe_vmlaunch(void);
int probe_vmresume(void);
int probe_invept(uint32_t type, const void *descriptor128);
int probe_invvpid(uint32_t type, const void *descriptor128);
int probe_vmfunc(uint32_t leaf, uint32_t ecx);

int probe_invd(void);
int probe_single_step_cpuid(void);
int probe_single_step_nop(void);
extern const char probe_single_step_next[], probe_single_step_nop_next[];
/* HLT with RFLAGS.TF (and IF = 0): #DB at probe_single_step_hlt_next. */
int probe_single_step_hlt(void);
extern const char probe_single_step_hlt_next[];
/* REP OUTSB of count bytes at src to port, with RFLAGS.TF. */
int probe_single_step_rep_outsb(const void *src, uint32_t count, uint32_t port);
extern const char probe_rep_outsb_insn[], probe_rep_outsb_next[];
/* OUT port, AL: #DB at probe_out_byte_next when an I/O breakpoint meets it. */
int probe_out_byte(uint32_t port, uint32_t value);
extern const char probe_out_byte_next[];
/* MOV EAX, [address]: #DB at probe_load32_next when a data breakpoint meets it. */
int probe_load32(const volatile void *address);
extern const char probe_load32_next[];
#define VEC_DB 1
/* MOV [address], value (a 32-bit store). */
int probe_store32(volatile void *address, uint32_t value);
/* CALL code: the code runs at CPL 0 and returns with RET; a fault in it,
 * or in fetching it, is the probe's. */
int probe_call(const void *code);
int probe_rdtscp(uint64_t *tsc, uint32_t *aux);
int probe_rdpid(uint32_t *value);
int probe_invpcid(uint32_t type, const void *descriptor128);
int probe_monitor(const void *address, uint32_t extensions, uint32_t hints);
int probe_mwait(uint32_t hints, uint32_t extensions);

/* Exceptions raised on purpose, with the addresses the handler should see. */
int probe_ud2(void);
int probe_int3(void);
int probe_divide_error(void);
int probe_int80(void);
extern const char probe_ud2_insn[], probe_int3_next[], probe_divide_insn[];

#endif
