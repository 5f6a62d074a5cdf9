/* The report for an exception no probe expected (see probe.h). */
#include "probe.h"

#include "abi/hypercall.h"
#include "guest.h"

const char *vector_name(int vector)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
		"#DF", "vector 9", "#TS", "#NP", "#SS", "#GP", "#PF", "vector 15",
		"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "vector 22", "vector 23",
		"vector 24", "vector 25", "vector 26", "vector 27", "#HV", "#VC", "#SX",
		"vector 31",
	};
	if (vector < 0)
		return "no fault";
	return vector < 32 ? names[vector] : "vector";
}

void trap_unexpected(uint32_t vector, uint32_t error_code, uint32_t eip)
{
	say("FAIL: unexpected exception %s (vector %u, error code 0x%x) at EIP 0x%x",
	    vector_name((int)vector), vector, error_code, eip);
	/* Status 0x100 + vector: a failure that names the exception. */
	guest_vmcall(HC_STOP, 0x100 + vector, 0, 0, 0);
	for (;;)
		guest_hlt();
}
