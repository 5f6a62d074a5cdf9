/*
 * One VM with one vCPU on the fake Tiger Lake CPU, and exits fed to it
 * (fixture_exit.c): the shared machine of the tests of core/exit/,
 * core/run/ and core/vcpu/vcpu.c.  The fixture owns the globals cpu, vm
 * and vcpu that those tests name; setup_vm builds the VM (VMX on, VM "t"
 * with id 1), setup_vcpu adds vCPU 0 through the builder, teardown destroys
 * both and checks that no page is left.  The exit helpers write the exit
 * fields of the fake VMCS and call exit_dispatch.
 */
#ifndef CVISOR_TESTS_FIXTURE_EXIT_H
#define CVISOR_TESTS_FIXTURE_EXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixture_vm.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/vmx_cpu.h"

#define MiB (1ULL << 20)
#define ENTRY FIXTURE_ENTRY
#define INFO FIXTURE_INFO

/* Exit reasons used below (SDM Vol. 3C Appendix C). */
#define R_TRIPLE_FAULT 2
#define R_CPUID 10
#define R_GETSEC 11
#define R_HLT 12
#define R_INVD 13
#define R_VMCALL 18
#define R_VMXON 27
#define R_IO 30
#define R_RDMSR 31
#define R_WRMSR 32
#define R_INVALID_GUEST_STATE 33
#define R_TPR_BELOW_THRESHOLD 43
#define R_APIC_ACCESS 44
#define R_VIRTUALIZED_EOI 45
#define R_EPT_VIOLATION 48
#define R_EPT_MISCONFIG 49
#define R_PREEMPTION_TIMER 52
#define R_APIC_WRITE 56
#define ENTRY_FAILURE (1u << 31)

/* I/O exit qualification (SDM Vol. 3C Table 28-5). */
#define IO_IN (1u << 3)
#define IO_STRING (1u << 4)
#define IO_REP (1u << 5)
#define IO_PORT(p) ((uint64_t)(p) << 16)
#define IO_BYTE 0
#define IO_WORD 1
#define IO_DWORD 3

#define AR_CODE32 0xC09Bu
#define AR_CODE64 0xA09Bu
#define AR_DATA 0xC093u

extern struct vmx_cpu cpu;
extern struct vm vm;
extern struct vcpu vcpu;
/* Pages in use once the CPU is in VMX operation and the VM exists. */
extern size_t baseline_pages;

/* cmocka setups and teardown: the VM alone, the VM and its vCPU 0. */
int setup_vm(void **state);
int setup_vcpu(void **state);
/* The VM with the APIC virtualization the fake Tiger Lake offers
 * (vcpu/apicv.h), and its vCPU 0. */
int setup_vcpu_apicv(void **state);
int teardown(void **state);

/* The fake VMCS's value of a field; a guest register of vcpu. */
uint64_t vmcs(uint32_t encoding);
uint64_t *reg(unsigned gpr);
/* The CPU reports an exit; the core handles it. */
void exit_with(uint32_t reason, uint64_t qualification, uint32_t instruction_len);
/* A VMCALL of hypercall nr with RBX = arg1, RCX = arg2. */
void hypercall(uint64_t nr, uint64_t arg1, uint64_t arg2);
/* Fail the test unless the VM ended as said (reason_part in its reason),
 * or unless it is still running. */
void check_vm_ended(bool success, const char *reason_part);
void check_vm_running(void);

#endif
