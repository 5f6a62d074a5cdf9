#include "vmx/controls.h"

#include <stddef.h>

const uint32_t vmx_required_controls[VMX_CONTROL_KINDS] = {
	/* The preemption timer time-shares CPUs and drives APIC timers.
	 * External interrupts exit (acknowledged on exit, below): that is how
	 * another CPU kicks this one out of its guest.  NMI exiting + virtual
	 * NMIs let the CPU track the guest's NMI blocking, which NMI-window
	 * exiting needs (SDM Vol. 3C 25.6.1, 27.2.1.1). */
	[VMX_CONTROLS_PIN] = PIN_PREEMPTION_TIMER | PIN_EXTERNAL_INTERRUPT_EXITING |
			     PIN_NMI_EXITING | PIN_VIRTUAL_NMIS,
	/* Every port access and every MSR outside the bitmap's pass-through
	 * set exits; MONITOR/MWAIT are not offered (SDM Vol. 3C 26.1.3). */
	[VMX_CONTROLS_PROC] = PROC_HLT_EXITING | PROC_UNCONDITIONAL_IO_EXITING |
			      PROC_USE_MSR_BITMAPS | PROC_USE_TSC_OFFSETTING |
			      PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_SECONDARY_CONTROLS,
	/* Guests start with paging off: unrestricted guest, which needs EPT
	 * (SDM Vol. 3C 27.2.1.1); a VPID per vCPU. */
	[VMX_CONTROLS_PROC2] = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST,
	/* DR7 and IA32_DEBUGCTL are the guest's: saved on exit and loaded on
	 * entry (SDM Vol. 3C 28.3.1, 27.3.2.1), and a VM exit leaves DR7 = 400H
	 * and DEBUGCTL = 0 for the host (28.5.1).  Without them (allowed with
	 * the TRUE capability MSRs, A.4) a guest's breakpoints would stay armed
	 * in DR7 for the next vCPU on the CPU. */
	[VMX_CONTROLS_EXIT] = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
			      EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT |
			      EXIT_ACK_INTERRUPT_ON_EXIT | EXIT_SAVE_DEBUG_CONTROLS,
	[VMX_CONTROLS_ENTRY] = ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS,
};

struct control_name {
	unsigned bit;
	const char *text;
};

#define X(bit, name, text) { bit, text },
static const struct control_name pin_names[] = { PIN_CONTROLS(X) };
static const struct control_name proc_names[] = { PROC_CONTROLS(X) };
static const struct control_name proc2_names[] = { PROC2_CONTROLS(X) };
static const struct control_name exit_names[] = { EXIT_CONTROLS(X) };
static const struct control_name entry_names[] = { ENTRY_CONTROLS(X) };
#undef X

static const struct {
	const char *kind;
	const struct control_name *names;
	size_t count;
} kinds[VMX_CONTROL_KINDS] = {
	[VMX_CONTROLS_PIN] = { "pin-based VM-execution", pin_names,
			       sizeof(pin_names) / sizeof(pin_names[0]) },
	[VMX_CONTROLS_PROC] = { "primary processor-based VM-execution", proc_names,
				sizeof(proc_names) / sizeof(proc_names[0]) },
	[VMX_CONTROLS_PROC2] = { "secondary processor-based VM-execution", proc2_names,
				 sizeof(proc2_names) / sizeof(proc2_names[0]) },
	[VMX_CONTROLS_EXIT] = { "VM-exit", exit_names,
				sizeof(exit_names) / sizeof(exit_names[0]) },
	[VMX_CONTROLS_ENTRY] = { "VM-entry", entry_names,
				 sizeof(entry_names) / sizeof(entry_names[0]) },
};

const char *vmx_control_kind_name(enum vmx_control_kind kind)
{
	return (unsigned)kind < VMX_CONTROL_KINDS ? kinds[kind].kind : "unknown";
}

const char *vmx_control_bit_name(enum vmx_control_kind kind, unsigned bit)
{
	if ((unsigned)kind >= VMX_CONTROL_KINDS)
		return NULL;
	for (size_t i = 0; i < kinds[kind].count; i++)
		if (kinds[kind].names[i].bit == bit)
			return kinds[kind].names[i].text;
	return NULL;
}
