/* Interprocessor interrupts between the vCPUs of one VM (SDM Vol. 3A 11.6). */
#ifndef CVISOR_IRQ_IPI_H
#define CVISOR_IRQ_IPI_H

#include <stdint.h>

struct vcpu;

/* The guest wrote ICR low on vcpu's xAPIC: deliver the IPI it describes. */
void vm_send_ipi(struct vcpu *sender, uint32_t icr_low, uint32_t icr_high);

#endif
