/*
 * The C side of the exception stubs: any CPU exception in cvisor is fatal.
 * Report it in one line and power off (failure).  Interrupts (vectors 32
 * and up, taken only while a CPU sleeps) go to idle.c.
 */
#include "boot.h"
#include "descriptors.h"
#include "fuzz.h"
#include "idle.h"
#include "lib/format.h"
#include "platform.h"
#include "power.h"
#include "serial.h"
#include "vmx/intrin.h"

#define VEC_PF  14

struct vector_name {
	const char *mnemonic;
	const char *description;
};

/* SDM Vol. 3A "Exception and Interrupt Vectors" (vectors 28-30: AMD APM). */
static const struct vector_name vector_names[EXCEPTION_VECTORS] = {
	[0] = { "#DE", "divide error" },
	[1] = { "#DB", "debug exception" },
	[2] = { "NMI", "non-maskable interrupt" },
	[3] = { "#BP", "breakpoint" },
	[4] = { "#OF", "overflow" },
	[5] = { "#BR", "BOUND range exceeded" },
	[6] = { "#UD", "invalid opcode" },
	[7] = { "#NM", "device not available" },
	[8] = { "#DF", "double fault" },
	[9] = { "#CSO", "coprocessor segment overrun" },
	[10] = { "#TS", "invalid TSS" },
	[11] = { "#NP", "segment not present" },
	[12] = { "#SS", "stack-segment fault" },
	[13] = { "#GP", "general protection" },
	[14] = { "#PF", "page fault" },
	[16] = { "#MF", "x87 floating-point error" },
	[17] = { "#AC", "alignment check" },
	[18] = { "#MC", "machine check" },
	[19] = { "#XM", "SIMD floating-point exception" },
	[20] = { "#VE", "virtualization exception" },
	[21] = { "#CP", "control protection exception" },
	[28] = { "#HV", "hypervisor injection exception" },
	[29] = { "#VC", "VMM communication exception" },
	[30] = { "#SX", "security exception" },
};

/*
 * How many exceptions have been taken.  Only the first is reported in full;
 * the second (an exception while reporting, or on another CPU meanwhile)
 * gets one fixed line straight to the UART, and any later one just stops
 * the CPU, so a fault in the reporting path cannot recurse.
 */
static int exceptions_taken;

static _Noreturn void halt_forever(void)
{
	irq_disable();
	for (;;)
		cpu_halt();
}

void exception_handler(struct exception_frame *frame)
{
	char line[200];
	const char *mnemonic = "reserved";
	const char *description = "reserved vector";
	size_t n;

	if (frame->vector >= EXCEPTION_VECTORS) {
		idle_interrupt(frame->vector);
		return;
	}
	int nth = __atomic_fetch_add(&exceptions_taken, 1, __ATOMIC_SEQ_CST);

	if (nth == 1) {
		static const char nested[] =
			"cvisor: CPU exception while reporting a CPU exception; halted\n";
		console_write_emergency(nested, sizeof(nested) - 1);
		serial_flush();
	}
	if (nth > 0)
		halt_forever();

	if (frame->vector < EXCEPTION_VECTORS &&
	    vector_names[frame->vector].mnemonic) {
		mnemonic = vector_names[frame->vector].mnemonic;
		description = vector_names[frame->vector].description;
	}

	n = fmt_snprintf(line, sizeof(line),
			 "cvisor: CPU exception %s (vector %llu, %s) error code 0x%llx at RIP 0x%llx",
			 mnemonic, (unsigned long long)frame->vector, description,
			 (unsigned long long)frame->error_code,
			 (unsigned long long)frame->rip);
	if (n < sizeof(line) && frame->vector == VEC_PF)
		n += fmt_snprintf(line + n, sizeof(line) - n, " CR2 0x%llx",
				  (unsigned long long)read_cr2());
	if (n < sizeof(line))
		n += fmt_snprintf(line + n, sizeof(line) - n, " on CPU %u; halted\n",
				  plat_this_cpu());
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	line[n < sizeof(line) ? n : sizeof(line) - 1] = '\0';
	fuzz_report_fatal(line);
	console_write_emergency(line, n);
	plat_power_off(false);
}
