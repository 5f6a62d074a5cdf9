/*
 * A test-and-test-and-set spinlock for data shared by CPUs in VMX root
 * operation (interrupts are always off there, so holders are never
 * preempted).  Each lock's definition says what it protects.
 */
#ifndef CVISOR_LIB_SPINLOCK_H
#define CVISOR_LIB_SPINLOCK_H

#include <stdbool.h>

#include "vmx/intrin.h"

typedef struct {
	int locked;
} spinlock_t;

static inline void spin_lock(spinlock_t *lock)
{
	while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#endif
