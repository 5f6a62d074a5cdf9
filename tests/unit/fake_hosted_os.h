/* Fakes of core/vm/hosted_os_entry.S (tests/unit/fake_hosted_os.c). */
#ifndef CVISOR_TESTS_FAKE_HOSTED_OS_H
#define CVISOR_TESTS_FAKE_HOSTED_OS_H

#include "vm/hosted_os.h"

/* Where the fake launch says the OS stack and resume point are. */
#define FAKE_OS_RSP    0xFFFF888000123F00ULL
#define FAKE_OS_RIP    0xFFFFFFFFA0001234ULL
#define FAKE_OS_RFLAGS 0x2ULL

struct fake_hosted_os {
	unsigned launches, resumes, hypercalls;
	uint64_t last_hypercall;
	int64_t hypercall_result;
	struct hosted_os_resume resumed; /* what the last hand-back loaded */
	struct guest_gprs resumed_gprs;
};
extern struct fake_hosted_os fake_hosted_os;

#endif
