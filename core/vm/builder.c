#include "vm/builder.h"

#include "dev/acpi_tables.h"
#include "dev/machine.h"
#include "dev/open_bus.h"
#include "exit/exit.h"
#include "irq/lapic.h"
#include "platform.h"
#include "vcpu/apicv.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

/*
 * With virtualized APIC accesses the xAPIC page's guest-physical address
 * maps the APIC-access page (SDM Vol. 3C 29.4: an access whose EPT
 * translation is the APIC-access address is virtualized or exits as an
 * APIC access, below EPT violations in priority, 29.4.1), readable and
 * writable, never executable: a fetch from it stays an EPT violation.  A
 * VM whose RAM reaches over that address keeps the software path.
 */
static bool map_apic_access_page(struct vm *vm, unsigned apicv)
{
	if (vm->ram_size > LAPIC_DEFAULT_BASE)
		apicv &= ~(APICV_APIC_ACCESSES | APICV_REGISTERS | APICV_INTR_DELIVERY);
	vm->apicv = apicv;
	if (!(apicv & APICV_APIC_ACCESSES))
		return true;
	vm->apic_access_page = plat_alloc_page();
	if (!vm->apic_access_page)
		return false;
	return ept_map_4k(&vm->ept, LAPIC_DEFAULT_BASE, plat_virt_to_phys(vm->apic_access_page),
			  EPT_READ | EPT_WRITE | (EPT_MEMTYPE_WB << EPT_MEMTYPE_SHIFT));
}

const char *vm_build(struct vm *vm, const struct vm_config *config)
{
	if (config->vcpu_count < 1 || config->vcpu_count > VM_MAX_VCPUS)
		return "a VM has 1 to 8 vCPUs";
	const char *err = vm_create_with_pages(vm, config->id, config->name, config->ram_size,
					       config->large_pages);
	if (err)
		return err;
	vm->vcpu_count = config->vcpu_count;
	vm->devices.tsc_hz = plat_tsc_hz();
	vm->reset.on_reset = config->on_reset;
	if (machine_attach_devices(vm) || (!config->strict_mem && !open_bus_attach(vm))) {
		vm_destroy(vm);
		return "a device could not be attached (the line above says which)";
	}
	if (!map_apic_access_page(vm, config->apicv)) {
		vm_destroy(vm);
		return "out of memory for the APIC-access page";
	}
	/* The firmware's part of the PC: the ACPI tables in the BIOS area. */
	if (!acpi_tables_write(vm)) {
		vm_destroy(vm);
		return "the ACPI tables could not be written (the line above says why)";
	}
	return NULL;
}

const char *vm_build_vcpu(struct vm *vm, unsigned index, struct vmx_cpu *cpu, struct vcpu *vcpu)
{
	if (index >= vm->vcpu_count)
		return "no such vCPU in this VM's config";
	enum vmx_error err = vcpu_create(vcpu, vm, cpu, index, &vm->boot);
	if (err != VMX_OK)
		return vmx_error_message(err);
	vcpu->exit_handlers = exit_handler_table(false);
	/* The boot processor's APIC as firmware leaves it: the 8259 reaches
	 * it through LINT0 (lapic_set_virtual_wire). */
	if (index == 0)
		lapic_set_virtual_wire(&vcpu->lapic);
	vm->vcpus[index] = vcpu;
	return NULL;
}
