/*
 * Event delivery to vCPUs on the fake CPU: INIT/SIPI, fixed interrupts
 * against RFLAGS.IF and the interrupt window, NMIs against NMI blocking and
 * the NMI window, and IPI routing between the vCPUs of one VM
 * (core/vcpu/events.c, core/irq/ipi.c).
 */
#include "x86.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irq/lapic.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "irq/ipi.h"
#include "irq/irq.h"
#include "irq/lapic_regs.h"
#include "dev/ports.h"
#include "vm/vm.h"
#include "vmx/controls.h"
#include "vcpu/apicv.h"
#include "vcpu/events.h"
#include "vcpu/vcpu.h"
#include "vmx/vmcs.h"

static struct vmx_cpu cpu;
static struct vm vm;
static struct vcpu bsp, ap;

#define INTR_VALID (1u << 31)

static int setup(void **state)
{
	(void)state;
	fixture_reset_machine();
	fixture_vmx_on_and_vm(&cpu, &vm, 0, "ev", 2);
	fixture_vcpu_create(&ap, &vm, &cpu, 1);
	fixture_vcpu_create(&bsp, &vm, &cpu, 0); /* current VMCS */
	vm.vcpu_count = 2;
	vm.vcpus[0] = &bsp;
	vm.vcpus[1] = &ap;
	LAPIC_REG(&bsp.lapic, APIC_SVR) = LAPIC_REG(&ap.lapic, APIC_SVR) = 0x1FF;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct vcpu *all[] = { &bsp, &ap };
	fixture_teardown(&cpu, &vm, all, 2);
	return 0;
}

/* A vCPU of a VM that restarts has work whatever its state, so that its
 * run loop reaches the restart's rendezvous (vm/reset.h). */
static void a_restarting_vm_gives_every_vcpu_work(void **state)
{
	(void)state;
	assert_false(vcpu_has_work(&ap, ~0ULL)); /* waiting for SIPI */
	bsp.state = VCPU_PARKED;
	assert_false(vcpu_has_work(&bsp, ~0ULL));
	ap.vm_reset = VM_RESET_LEAVE;
	bsp.vm_reset = VM_RESET_SELF;
	assert_true(vcpu_has_work(&ap, 0));
	assert_true(vcpu_has_work(&bsp, 0));
	ap.vm_reset = bsp.vm_reset = VM_RESET_NONE;
	assert_false(vcpu_has_work(&ap, ~0ULL));
}

static void aps_wait_for_sipi_and_start_in_real_mode(void **state)
{
	(void)state;
	assert_int_equal(bsp.state, VCPU_RUNNING);
	assert_int_equal(ap.state, VCPU_WAIT_SIPI);
	vm_send_ipi(&bsp, 0x0000C500, 0x01000000); /* INIT assert to APIC ID 1 */
	vm_send_ipi(&bsp, 0x00000608, 0x01000000); /* SIPI, vector 8 */
	assert_true(ap.pending.init && ap.pending.sipi == 0x108);
	assert_int_equal(vmptrld(ap.vmcs_pa), VMX_SUCCEED);
	assert_true(vcpu_process_events(&ap));
	assert_int_equal(ap.state, VCPU_RUNNING);
	assert_int_equal(vmcs_read(GUEST_CS_SELECTOR), 0x0800);
	assert_int_equal(vmcs_read(GUEST_CS_BASE), 0x8000);
	assert_int_equal(vmcs_read(GUEST_RIP), 0);
	assert_int_equal(vmcs_read(GUEST_CR0) & 1, 0); /* real mode */
	assert_true(ap.check_before_entry);            /* cvisor wrote this state */
	/* a second SIPI to a running vCPU is ignored */
	vm_send_ipi(&bsp, 0x00000609, 0x01000000);
	assert_true(vcpu_process_events(&ap));
	assert_int_equal(vmcs_read(GUEST_CS_BASE), 0x8000);
}

static void init_deassert_is_ignored(void **state)
{
	(void)state;
	vm_send_ipi(&bsp, 0x00008500, 0x01000000); /* INIT, level de-assert */
	assert_int_equal(ap.pending.init, 0);
}

static void fixed_interrupt_waits_for_if_then_is_injected(void **state)
{
	(void)state;
	vmcs_write(GUEST_RFLAGS, 0x2); /* IF = 0 */
	vm_send_ipi(&bsp, 0x00040041, 0); /* self shorthand, vector 0x41 */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 1); /* STI shadow */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | 0x41); /* external, 0x41 */
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_int_equal(lapic_read(&bsp.lapic, 0x100 + 0x10 * 2) & 2, 2); /* in service */
}

/* With virtual-interrupt delivery cvisor injects no APIC vector: it
 * stays in VIRR for the CPU (RVI, vcpu/apicv.c), and HLT still ends. */
static void virtual_interrupt_delivery_leaves_the_vector_to_the_cpu(void **state)
{
	(void)state;
	bsp.apicv = APICV_TPR_SHADOW | APICV_APIC_ACCESSES | APICV_REGISTERS | APICV_INTR_DELIVERY;
	bsp.state = VCPU_HALTED;
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	vm_send_ipi(&bsp, 0x00040041, 0); /* self shorthand, vector 0x41 */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(bsp.state, VCPU_RUNNING);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_int_equal(lapic_highest_vector(&bsp.lapic, APIC_IRR0), 0x41);
	assert_int_equal(lapic_highest_vector(&bsp.lapic, APIC_ISR0), -1);
}

/* The 8259's INTR through vCPU 0's LINT0 (virtual wire): it waits for
 * IF like any interrupt; when the 8259 lowers INTR before the window
 * opens (the guest masked the request), the window exiting goes off again,
 * else every later STI would exit for nothing. */
static void extint_waits_for_if_and_a_withdrawn_one_closes_the_window(void **state)
{
	(void)state;
	static const uint8_t init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 }, { 0x21, 0x00 },
	};
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		io_port_write(&vm, init[i][0], 1, init[i][1]);
	vmcs_write(GUEST_RFLAGS, 0x2); /* IF = 0 */
	vm_pulse_irq(&vm, 3);
	assert_true(bsp.pending.extint);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	io_port_write(&vm, 0x21, 1, 0x08); /* masked: INTR falls */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(bsp.pending.extint, 0);
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	io_port_write(&vm, 0x21, 1, 0x00); /* unmasked: INTR rises again */
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | 0x23); /* external, 0x23 */
	assert_false(vm.irq.extint_level); /* acknowledged: IR3 in service */
}

/* A single-step trap pending on the previous instruction goes first (SDM
 * Vol. 3A 6.9); an injecting VM entry would drop it (Vol. 3C 27.7.3), so
 * the interrupt and the NMI wait for their windows. */
static void a_pending_single_step_trap_goes_before_interrupts_and_nmis(void **state)
{
	(void)state;
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF | RFLAGS_TF);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	vm_send_ipi(&bsp, 0x00040041, 0); /* self, vector 0x41 */
	vm_send_ipi(&bsp, 0x00040400, 0); /* self, NMI */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_NMI_WINDOW_EXITING);
	assert_int_equal(vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS); /* kept */
	/* The #DB was delivered (the window exits come after it): now the NMI. */
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | (2u << 8) | 2);
}

static void nmi_wakes_a_parked_vcpu_and_respects_nmi_blocking(void **state)
{
	(void)state;
	bsp.state = VCPU_PARKED;
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 1u << 3); /* blocked by NMI */
	vm_send_ipi(&bsp, 0x00000400, 0x00000000);        /* NMI to APIC ID 0 */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(bsp.state, VCPU_RUNNING);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_NMI_WINDOW_EXITING);
	assert_int_equal(bsp.pending.nmi, 1);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | (2u << 8) | 2);
	assert_int_equal(bsp.pending.nmi, 0);
	assert_false(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_NMI_WINDOW_EXITING);
}

static void ipi_routing(void **state)
{
	(void)state;
	vm_send_ipi(&bsp, 0x000C0050, 0); /* all excluding self */
	assert_true(lapic_has_pending(&ap.lapic));
	assert_false(lapic_has_pending(&bsp.lapic));
	for (unsigned w = 0; w < 8; w++)
		LAPIC_VECTOR_WORD(&ap.lapic, APIC_IRR0, w) = 0;
	LAPIC_REG(&ap.lapic, APIC_LDR) = 0x02000000;
	vm_send_ipi(&bsp, 0x00000851, 0x02000000); /* logical flat, mask 0x02 */
	assert_true(lapic_has_pending(&ap.lapic));
	assert_false(lapic_has_pending(&bsp.lapic));
	for (unsigned w = 0; w < 8; w++)
		LAPIC_VECTOR_WORD(&ap.lapic, APIC_IRR0, w) = 0;
	vm_send_ipi(&bsp, 0x00000052, 0x05000000); /* physical APIC ID 5: nobody */
	assert_false(lapic_has_pending(&ap.lapic) || lapic_has_pending(&bsp.lapic));
	vm_send_ipi(&bsp, 0x0008000A, 0); /* vector 10 is illegal: dropped */
	assert_false(lapic_has_pending(&ap.lapic) || lapic_has_pending(&bsp.lapic));
	vm_send_ipi(&bsp, 0x00000153, 0xFF000000); /* lowest priority broadcast: one vCPU */
	assert_true(lapic_has_pending(&bsp.lapic) != lapic_has_pending(&ap.lapic));
}

/* INIT, SIPI(a), SIPI(b) all pending before the AP runs: it starts at a,
 * as hardware does (make fuzz, seed 137); a SIPI before an INIT is dropped. */
static void the_first_sipi_after_init_wins(void **state)
{
	(void)state;
	vm_send_ipi(&bsp, 0x00000609, 0x01000000); /* SIPI 9 before any INIT */
	vm_send_ipi(&bsp, 0x0000C500, 0x01000000); /* INIT */
	assert_int_equal(ap.pending.sipi, 0);
	vm_send_ipi(&bsp, 0x00000608, 0x01000000); /* SIPI 8 */
	vm_send_ipi(&bsp, 0x0000060A, 0x01000000); /* SIPI 10: ignored */
	assert_int_equal(ap.pending.sipi, 0x108);
	assert_int_equal(vmptrld(ap.vmcs_pa), VMX_SUCCEED);
	assert_true(vcpu_process_events(&ap));
	assert_int_equal(vmcs_read(GUEST_CS_SELECTOR), 0x800);
	assert_int_equal(vmptrld(bsp.vmcs_pa), VMX_SUCCEED);
}

/* An 8259 stand-in: its INTR output and the vectors its acknowledge gives. */
struct fake_pic {
	unsigned acks;
	uint8_t vector;
	bool output_after_ack;
	unsigned eois;
	uint8_t last_eoi;
};

static uint8_t fake_pic_acknowledge(struct vm *v, void *opaque)
{
	struct fake_pic *pic = opaque;
	pic->acks++;
	vm_irq_set_extint(v, pic->output_after_ack);
	return pic->vector;
}

static void fake_pic_eoi(struct vm *v, void *opaque, uint8_t vector)
{
	(void)v;
	struct fake_pic *pic = opaque;
	pic->eois++;
	pic->last_eoi = vector;
}

static void ignore_line(struct vm *v, void *opaque, unsigned line, bool level)
{
	(void)v, (void)opaque, (void)line, (void)level;
}

static struct fake_pic pic;

/* Instead of the machine's own controllers: the fake is the only one. */
static void add_fake_pic(void)
{
	vm.irq.chip_count = 0;
	pic = (struct fake_pic){ .vector = 0x30 };
	assert_true(vm_add_irq_chip(&vm, &(struct irq_chip){ .name = "fake 8259", .set_line = ignore_line,
							     .eoi = fake_pic_eoi,
							     .acknowledge = fake_pic_acknowledge,
							     .opaque = &pic }));
}

/* The boot vCPU's LINT0 is in ExtINT mode as firmware leaves it (virtual
 * wire): the 8259's INTR reaches it, bypassing IRR and TPR (SDM Vol. 3A
 * 11.6.1), with the vector from the acknowledge cycle, once IF allows. */
static void the_8259_reaches_the_boot_vcpu_through_lint0(void **state)
{
	(void)state;
	add_fake_pic();
	LAPIC_REG(&bsp.lapic, APIC_TPR) = 0xF0; /* would block every APIC vector */
	vmcs_write(GUEST_RFLAGS, 0x2);
	bsp.state = VCPU_HALTED;
	vm_irq_set_extint(&vm, true);
	assert_int_equal(bsp.pending.extint, EXTINT_VIA_LINT0);
	assert_int_equal(ap.pending.extint, 0);
	assert_true(vcpu_has_work(&bsp, 0));
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(bsp.state, VCPU_RUNNING);
	assert_int_equal(pic.acks, 0); /* IF = 0: no acknowledge yet */
	assert_true(vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & PROC_INTERRUPT_WINDOW_EXITING);
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	pic.output_after_ack = true; /* another request behind this one */
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(pic.acks, 1);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | 0x30);
	assert_false(lapic_has_pending(&bsp.lapic)); /* not through IRR */
	assert_int_equal(bsp.pending.extint, EXTINT_VIA_LINT0); /* INTR still high */
	vmcs_write(VM_ENTRY_INTR_INFO, 0);
	pic.output_after_ack = false;
	pic.vector = 0x31;
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | 0x31);
	assert_int_equal(bsp.pending.extint, 0);
}

static void a_masked_lint0_ignores_the_8259_unless_the_apic_is_disabled(void **state)
{
	(void)state;
	add_fake_pic();
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	LAPIC_REG(&bsp.lapic, 0x350) |= LVT_MASKED;
	vm_irq_set_extint(&vm, true);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(pic.acks, 0);
	assert_int_equal(bsp.pending.extint, 0);
	/* Globally disabled, the APIC's LINT0 is the processor's INTR pin (11.4.3). */
	vm_irq_set_extint(&vm, false);
	bsp.msrs.apic_base &= ~APIC_BASE_ENABLE;
	vm_irq_set_extint(&vm, true);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(pic.acks, 1);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), INTR_VALID | 0x30);
}

static void intr_that_fell_before_the_window_is_not_taken(void **state)
{
	(void)state;
	add_fake_pic();
	vmcs_write(GUEST_RFLAGS, 0x2);
	vm_irq_set_extint(&vm, true);
	assert_true(vcpu_process_events(&bsp)); /* waits for IF */
	vm_irq_set_extint(&vm, false);
	vmcs_write(GUEST_RFLAGS, 0x2 | RFLAGS_IF);
	assert_true(vcpu_process_events(&bsp));
	assert_int_equal(pic.acks, 0);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO) & INTR_VALID, 0);
	assert_int_equal(bsp.pending.extint, 0);
}

/* I/O APIC messages: destinations (SDM Vol. 3A 11.6.2), delivery modes,
 * and a level-triggered vector whose EOI goes back to the controllers. */
static void apic_messages_reach_the_apics_they_name(void **state)
{
	(void)state;
	add_fake_pic();
	LAPIC_REG(&ap.lapic, APIC_LDR) = 0x12000000; /* cluster 1, member bit 1 */
	LAPIC_REG(&bsp.lapic, APIC_LDR) = 0x11000000;
	LAPIC_REG(&ap.lapic, APIC_DFR) = LAPIC_REG(&bsp.lapic, APIC_DFR) = 0x0FFFFFFF; /* cluster model */
	vm_deliver_apic_message(&vm, &(struct apic_message){ .vector = 0x61, .logical = true,
							      .destination = 0x12 });
	assert_true(lapic_has_pending(&ap.lapic));
	assert_false(lapic_has_pending(&bsp.lapic));
	vm_deliver_apic_message(&vm, &(struct apic_message){ .vector = 0x62, .logical = true,
							      .destination = 0x22 }); /* cluster 2 */
	assert_false(lapic_has_pending(&bsp.lapic));
	assert_int_equal(lapic_deliverable(&ap.lapic), 0x61);
	/* physical, level-triggered: TMR set, and its EOI reaches the chips */
	vm_deliver_apic_message(&vm, &(struct apic_message){ .vector = 0x70, .destination = 0,
							      .level = true });
	assert_int_equal(lapic_read(&bsp.lapic, 0x180 + 0x10 * 3), 1u << 16); /* TMR bit 0x70 */
	lapic_accept(&bsp.lapic, 0x70);
	uint8_t ended = 0;
	assert_int_equal(lapic_write(&bsp.lapic, 0xB0, 0, &ended), LAPIC_WRITE_LEVEL_EOI);
	assert_int_equal(ended, 0x70);
	vm_deliver_apic_message(&vm, &(struct apic_message){ .vector = 0x71, .destination = 0 });
	lapic_accept(&bsp.lapic, 0x71);
	assert_int_equal(lapic_write(&bsp.lapic, 0xB0, 0, &ended), LAPIC_WRITE_DONE); /* edge */
	/* NMI, INIT and ExtINT modes */
	vm_deliver_apic_message(&vm, &(struct apic_message){ .delivery_mode = 4, .destination = 1 });
	assert_int_equal(ap.pending.nmi, 1);
	vm_deliver_apic_message(&vm, &(struct apic_message){ .delivery_mode = 5, .destination = 1 });
	assert_int_equal(ap.pending.init, 1);
	vm_deliver_apic_message(&vm, &(struct apic_message){ .delivery_mode = 7, .destination = 1 });
	assert_int_equal(ap.pending.extint, EXTINT_VIA_IOAPIC);
	/* start-up is not an I/O APIC mode: dropped with a report */
	vm_deliver_apic_message(&vm, &(struct apic_message){ .delivery_mode = 6, .destination = 1 });
	assert_int_equal(ap.pending.sipi, 0);
	assert_true(fake_console_contains("I/O APIC delivery mode 6 is not emulated"));
	vm_irq_eoi(&vm, 0x70);
	assert_int_equal(pic.eois, 1);
	assert_int_equal(pic.last_eoi, 0x70);
}

/* The IRR summary the exit fast path reads: a word's bit goes only when its
 * last pending vector is accepted. */
/* SDM Vol. 3A 17.3.1.1: a fault pushes RFLAGS with RF set; VM entry injects
 * GUEST_RFLAGS as it is, so cvisor sets RF for faults, and only for them. */
static void an_injected_fault_pushes_rf_and_nothing_else_does(void **state)
{
	(void)state;
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vcpu_inject_exception(&bsp, VECTOR_DB, false, 0); /* trap or fault: left alone */
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1);
	vcpu_inject_exception(&bsp, 8, true, 0); /* #DF, an abort */
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1);
	vcpu_inject_gp(&bsp);
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1 | RFLAGS_RF);
	assert_int_equal(vmcs_read(VM_ENTRY_INTR_INFO), VECTOR_GP | (3u << 8) | (1u << 11) | INTR_VALID);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vcpu_inject_ud(&bsp);
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1 | RFLAGS_RF);
	vmcs_write(GUEST_RFLAGS, RFLAGS_RESERVED_1 | RFLAGS_IF);
	vcpu_inject_page_fault(&bsp, 0x1234, 2);
	assert_int_equal(vmcs_read(GUEST_RFLAGS), RFLAGS_RESERVED_1 | RFLAGS_IF | RFLAGS_RF);
}

static void irr_summary_follows_the_pending_vectors(void **state)
{
	(void)state;
	struct lapic *apic = &bsp.lapic;

	assert_false(lapic_has_pending(apic));
	assert_int_equal(apic->irr_words, 0);
	lapic_set_irr(apic, 0x41);
	lapic_set_irr(apic, 0x42);
	lapic_set_irr(apic, 0xF3);
	assert_int_equal(apic->irr_words, (1u << 2) | (1u << 7));
	lapic_accept(apic, 0x41);
	assert_true(lapic_has_pending(apic));
	assert_int_equal(apic->irr_words, (1u << 2) | (1u << 7)); /* 0x42 is left in word 2 */
	lapic_accept(apic, 0xF3);
	assert_int_equal(apic->irr_words, 1u << 2);
	lapic_accept(apic, 0x42);
	assert_int_equal(apic->irr_words, 0);
	assert_false(lapic_has_pending(apic));
	/* A stale summary bit (IRR cleared behind its back) is not "pending". */
	apic->irr_words = 1u << 5;
	assert_false(lapic_has_pending(apic));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(aps_wait_for_sipi_and_start_in_real_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(a_restarting_vm_gives_every_vcpu_work, setup, teardown),
		cmocka_unit_test_setup_teardown(init_deassert_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(fixed_interrupt_waits_for_if_then_is_injected, setup, teardown),
		cmocka_unit_test_setup_teardown(virtual_interrupt_delivery_leaves_the_vector_to_the_cpu,
						setup, teardown),
		cmocka_unit_test_setup_teardown(extint_waits_for_if_and_a_withdrawn_one_closes_the_window, setup, teardown),
		cmocka_unit_test_setup_teardown(nmi_wakes_a_parked_vcpu_and_respects_nmi_blocking, setup, teardown),
		cmocka_unit_test_setup_teardown(ipi_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(the_first_sipi_after_init_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(irr_summary_follows_the_pending_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(a_pending_single_step_trap_goes_before_interrupts_and_nmis, setup, teardown),
		cmocka_unit_test_setup_teardown(an_injected_fault_pushes_rf_and_nothing_else_does, setup, teardown),
		cmocka_unit_test_setup_teardown(the_8259_reaches_the_boot_vcpu_through_lint0, setup, teardown),
		cmocka_unit_test_setup_teardown(a_masked_lint0_ignores_the_8259_unless_the_apic_is_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(intr_that_fell_before_the_window_is_not_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(apic_messages_reach_the_apics_they_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
