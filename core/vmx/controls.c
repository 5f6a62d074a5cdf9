#include "vmx/controls.h"

#include <stddef.h>

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
