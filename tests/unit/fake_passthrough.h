/* Fakes of core/vm/passthrough_entry.S (tests/unit/fake_passthrough.c). */
#ifndef CVISOR_TESTS_FAKE_PASSTHROUGH_H
#define CVISOR_TESTS_FAKE_PASSTHROUGH_H

#include "vm/passthrough.h"

/* Where the fake launch says the OS stack and resume point are. */
#define FAKE_OS_RSP    0xFFFF888000123F00ULL
#define FAKE_OS_RIP    0xFFFFFFFFA0001234ULL
#define FAKE_OS_RFLAGS 0x2ULL

struct fake_passthrough {
	unsigned launches, resumes, hypercalls;
	uint64_t last_hypercall;
	int64_t hypercall_result;
	struct passthrough_resume resumed; /* what the last hand-back loaded */
	struct guest_gprs resumed_gprs;
};
extern struct fake_passthrough fake_passthrough;

#endif
