#include "vmx/vmx_run.h"

#include <stddef.h>

static bool stop_after_one_exit(void *ctx)
{
	(void)ctx;
	return false;
}

int vmx_enter_guest(struct guest_gprs *gprs, int launched)
{
	return vmx_run_guest(gprs, launched, stop_after_one_exit, NULL);
}
