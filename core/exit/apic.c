/*
 * The exits of the CPU's APIC virtualization (vcpu/apicv.h, SDM Vol. 3C
 * chapter 29): what the CPU leaves to cvisor of a guest's local APIC
 * accesses, each ending in the software APIC (irq/lapic.c) whose register
 * page is the virtual-APIC page.
 */
#include "dev/device.h"
#include "dev/lapic_mmio.h"
#include "dev/mmio.h"
#include "exit/ept_violation.h"
#include "exit/exit.h"
#include "irq/irq.h"
#include "irq/lapic.h"
#include "vm/vm.h"
#include "vmx/vmcs.h"

/* Exit qualification of APIC-access exits (SDM Vol. 3C 28.2.1, Table
 * 28-6): the page offset in bits 11:0, the kind of access in 15:12. */
#define APIC_ACCESS_OFFSET(q) ((uint32_t)(q) & 0xFFF)
#define APIC_ACCESS_TYPE(q)   ((unsigned)((q) >> 12) & 0xF)
enum {
	APIC_ACCESS_LINEAR_READ = 0,  /* a data read by the instruction */
	APIC_ACCESS_LINEAR_WRITE = 1, /* a data write by the instruction */
};

/*
 * An access the CPU does not virtualize (SDM Vol. 3C 29.4.2-29.4.3: reads
 * of PPR, APR and the timer's current count, writes to read-only
 * registers, accesses that are not 32-bit registers, every access while
 * the vCPU's APIC is globally disabled).  The exit is fault-like (29.4.1),
 * so RIP is at the instruction: it is emulated as the MMIO path emulates
 * an EPT violation on the page.  An access during event delivery or by an
 * instruction fetch ends the VM, as on the MMIO path.
 */
void handle_apic_access(struct vcpu *vcpu, const struct vm_exit *exit)
{
	unsigned type = APIC_ACCESS_TYPE(exit->qualification);
	uint64_t gpa = LAPIC_DEFAULT_BASE + APIC_ACCESS_OFFSET(exit->qualification);
	const struct mmio_region *region = mmio_find(vcpu, gpa, 1);

	if ((type != APIC_ACCESS_LINEAR_READ && type != APIC_ACCESS_LINEAR_WRITE) || !region) {
		exit_fail_vm(vcpu, exit,
			     "APIC access of type %u at guest-physical 0x%llx: cvisor emulates only instructions' data accesses",
			     type, (unsigned long long)gpa);
		return;
	}
	/* No linear address comes with the exit: data breakpoints are
	 * checked against the decoded operand's. */
	struct emulate_failure failure;
	enum emulate_result result =
		emulate_mmio(vcpu, gpa, EMULATE_LINEAR_OF_OPERAND, region, &failure);
	if (__builtin_expect(result > EMULATE_RESTART, 0)) {
		const struct vm_exit as_ept = {
			.reason = exit->reason,
			.qualification = type == APIC_ACCESS_LINEAR_WRITE ? EPT_QUAL_WRITE : EPT_QUAL_READ,
		};
		ept_report_emulation_failure(vcpu, &as_ept, gpa, region, result, &failure);
	}
}

/*
 * The guest wrote a register the CPU leaves to cvisor (ICR, the timer,
 * LVTs, SVR, ESR, LDR, DFR, ID, and EOI without virtual-interrupt
 * delivery; SDM Vol. 3C 29.4.3.2).  The exit is trap-like: the write is
 * done, the value is on the virtual-APIC page, which is the software
 * APIC's register page, and RIP is past the instruction (29.4.3.3); the
 * qualification is the page offset.  The register model takes the value
 * as written (and keeps only its writable bits), and its effects follow.
 */
void handle_apic_write(struct vcpu *vcpu, const struct vm_exit *exit)
{
	uint32_t offset = (uint32_t)exit->qualification & 0xFF0;
	uint32_t value = __atomic_load_n(&LAPIC_REG(&vcpu->lapic, offset), __ATOMIC_RELAXED);
	spinlock_t *lock = &vcpu->vm->devices.lock;

	spin_lock(lock);
	lapic_mmio_register_written(vcpu, offset, value);
	spin_unlock(lock);
}

/*
 * The CPU virtualized an EOI (cleared the vector's VISR bit, updated SVI
 * and VPPR, SDM Vol. 3C 29.1.4) for a vector in the EOI-exit bitmap, a
 * level-triggered one: the exit (trap-like, the vector in bits 7:0 of
 * the qualification) passes the EOI on to the I/O APIC.
 */
void handle_virtualized_eoi(struct vcpu *vcpu, const struct vm_exit *exit)
{
	spinlock_t *lock = &vcpu->vm->devices.lock;

	spin_lock(lock);
	vm_irq_eoi(vcpu->vm, (uint8_t)exit->qualification);
	spin_unlock(lock);
}

/*
 * The guest lowered VTPR below the TPR threshold (trap-like, SDM Vol. 3C
 * 29.1.2): the interrupt the TPR held back may now be delivered.  The
 * exit has nothing else to do: the vector waits in IRR, so the run loop
 * processes events (and recomputes the threshold) before the next entry.
 */
void handle_tpr_below_threshold(struct vcpu *vcpu, const struct vm_exit *exit)
{
	(void)vcpu;
	(void)exit;
}
