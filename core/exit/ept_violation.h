/*
 * What the two EPT-violation handlers share: ordinary VMs
 * (ept_violation.c) and the hosted OS (ept_violation_hosted_os.c).
 */
#ifndef CVISOR_EXIT_EPT_VIOLATION_H
#define CVISOR_EXIT_EPT_VIOLATION_H

#include <stdint.h>

#include "emulate/emulate.h"
#include "exit/exit.h"
#include "vmx/vmcs.h"

struct mmio_region;

/* Exit qualification for EPT violations (SDM Vol. 3C 28.2.1, Table 28-7). */
#define EPT_QUAL_READ  (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
/* Bit 7: GUEST_LINEAR_ADDRESS is valid; bit 8 (with bit 7): the access was
 * to that address's translation, not to a paging structure. */
#define EPT_QUAL_LINEAR_VALID      (1u << 7)
#define EPT_QUAL_LINEAR_TRANSLATED (1u << 8)

/* "read", "write" or "instruction fetch", from the exit qualification. */
const char *ept_access_name(uint64_t qualification);

/* Ends the VM after an emulation that could not finish (result
 * EMULATE_UNSUPPORTED, EMULATE_NOT_MEMORY or EMULATE_BAD_ADDRESS_SIZE),
 * with one line saying why. */
void ept_report_emulation_failure(struct vcpu *vcpu, const struct vm_exit *exit, uint64_t gpa,
				  const struct mmio_region *region, enum emulate_result result,
				  const struct emulate_failure *failure) __attribute__((cold));

/*
 * Emulates the instruction whose access to region at guest-physical gpa
 * made this exit (emulate_mmio); an instruction cvisor does not emulate,
 * or an element that is neither RAM nor a device, ends the VM.  Inline:
 * it is on every MMIO exit's path.
 */
static inline void ept_emulate_mmio(struct vcpu *vcpu, const struct vm_exit *exit, uint64_t gpa,
				    const struct mmio_region *region)
{
	struct emulate_failure failure;
	uint64_t q = exit->qualification;
	uint64_t linear = (q & EPT_QUAL_LINEAR_VALID) && (q & EPT_QUAL_LINEAR_TRANSLATED)
				  ? vmcs_read(GUEST_LINEAR_ADDRESS) : EMULATE_NO_LINEAR;
	enum emulate_result result = emulate_mmio(vcpu, gpa, linear, region, &failure);

	if (__builtin_expect(result > EMULATE_RESTART, 0))
		ept_report_emulation_failure(vcpu, exit, gpa, region, result, &failure);
}

#endif
