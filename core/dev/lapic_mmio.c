#include "dev/lapic_mmio.h"

#include "dev/mmio.h"
#include "irq/ipi.h"
#include "irq/irq.h"
#include "irq/lapic.h"
#include "irq/lapic_regs.h"
#include "irq/lapic_timer.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/intrin.h"
#include "x86.h"

static bool globally_enabled(const struct vcpu *vcpu)
{
	return vcpu->msrs.apic_base & APIC_BASE_ENABLE;
}

/* xAPIC registers are 32 bits at 16-byte-aligned offsets (SDM Vol. 3A
 * 11.4.1); other accesses read 0 and are ignored. */
static uint64_t lapic_page_read(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size)
{
	(void)state;
	if (!globally_enabled(vcpu))
		return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	if (size != 4 || (offset & 0xF))
		return 0;
	if (offset == APIC_TIMER_CURRENT)
		return lapic_timer_current_count(&vcpu->lapic, rdtsc());
	return lapic_read(&vcpu->lapic, (uint32_t)offset);
}

void lapic_mmio_register_written(struct vcpu *vcpu, uint32_t offset, uint32_t value)
{
	uint8_t eoi_vector;
	switch (lapic_write(&vcpu->lapic, offset, value, &eoi_vector)) {
	case LAPIC_WRITE_SEND_IPI:
		vm_send_ipi(vcpu, LAPIC_REG(&vcpu->lapic, APIC_ICR_LOW),
			    LAPIC_REG(&vcpu->lapic, APIC_ICR_HIGH));
		break;
	case LAPIC_WRITE_LEVEL_EOI:
		vm_irq_eoi(vcpu->vm, eoi_vector);
		break;
	case LAPIC_WRITE_DONE:
		break;
	}
	lapic_timer_register_written(&vcpu->lapic, offset, rdtsc(),
				     vcpu->vm->devices.tsc_hz / 1000000 * LAPIC_TIMER_MIN_PERIOD_US);
	/* A count written (re)starts the timer; this entry was timed for the
	 * old deadline. */
	if (offset == APIC_TIMER_INITIAL)
		vcpu_retime_entry_for(vcpu, lapic_timer_deadline(&vcpu->lapic));
}

static void lapic_page_write(struct vcpu *vcpu, void *state, uint64_t offset, unsigned size,
			     uint64_t value)
{
	(void)state;
	if (!globally_enabled(vcpu) || size != 4 || (offset & 0xF))
		return;
	lapic_mmio_register_written(vcpu, (uint32_t)offset, (uint32_t)value);
}

static const struct mmio_ops lapic_page_ops = { .read = lapic_page_read, .write = lapic_page_write };

bool lapic_mmio_attach(struct vm *vm)
{
	return vm_register_mmio(vm, "local APIC", LAPIC_DEFAULT_BASE, 4096, &lapic_page_ops, NULL);
}
