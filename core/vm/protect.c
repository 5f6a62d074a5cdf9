/*
 * Hypervisor-enforced integrity: the VM's protected ranges and their EPT
 * permissions, pinned registers and the ring of violations (see
 * vm/protect.h).  The EPT's permission bits are SDM Vol. 3C 29.3.2; an
 * access they forbid is an EPT violation (29.3.3.2), handled in
 * exit/protect.c.
 */
#include "vm/protect.h"

#include "lib/log.h"
#include "lib/mem.h"
#include "mm/ept.h"
#include "mm/guest_memory.h"
#include "platform.h"
#include "vcpu/guest_state.h"
#include "vcpu/msr_state.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/intrin.h"
#include "vmx/msr_bitmap.h"
#include "vmx/vmcs.h"

/* INVEPT types (SDM Vol. 3C 31.3, INVEPT). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2

/* ---- The range set ----------------------------------------------------- */

static bool same_attributes(const struct protect_range *a, const struct protect_range *b)
{
	return a->perms == b->perms && a->policy == b->policy;
}

/* Appends r to out, merged into the last range when they touch and agree. */
static bool emit(struct protect_range *out, unsigned cap, unsigned *k, struct protect_range r)
{
	if (r.start >= r.end)
		return true;
	if (*k && out[*k - 1].end == r.start && same_attributes(&out[*k - 1], &r)) {
		out[*k - 1].end = r.end;
		return true;
	}
	if (*k == cap)
		return false;
	out[(*k)++] = r;
	return true;
}

static struct protect_range piece(uint64_t start, uint64_t end, const struct protect_range *attrs)
{
	return (struct protect_range){ .start = start, .end = end, .perms = attrs->perms,
				       .policy = attrs->policy };
}

enum protect_result protect_ranges_narrow(const struct protect_range *in, unsigned n,
					  const struct protect_range *req, struct protect_range *out,
					  unsigned cap, unsigned *count)
{
	unsigned k = 0;
	uint64_t pos = req->start; /* the request is covered up to here */
	bool fits = true;

	for (unsigned i = 0; i < n && fits; i++) {
		const struct protect_range *r = &in[i];
		if (r->end <= req->start) {
			fits = emit(out, cap, &k, *r);
			continue;
		}
		if (r->start >= req->end) {
			fits = emit(out, cap, &k, piece(pos, req->end, req)) && emit(out, cap, &k, *r);
			pos = req->end;
			continue;
		}
		/* r overlaps the request: its part before, the gap before it,
		 * the overlap narrowed, its part after. */
		uint64_t lo = r->start > req->start ? r->start : req->start;
		uint64_t hi = r->end < req->end ? r->end : req->end;
		struct protect_range both = {
			.start = lo, .end = hi, .perms = r->perms & req->perms,
			.policy = r->policy > req->policy ? r->policy : req->policy,
		};
		if (!both.perms)
			return PROTECT_EINVAL;
		fits = emit(out, cap, &k, piece(r->start, req->start, r)) &&
		       emit(out, cap, &k, piece(pos, r->start, req)) && emit(out, cap, &k, both) &&
		       emit(out, cap, &k, piece(req->end, r->end, r));
		pos = hi;
	}
	if (fits)
		fits = emit(out, cap, &k, piece(pos, req->end, req));
	if (!fits)
		return PROTECT_ENOMEM;
	*count = k;
	return PROTECT_OK;
}

/* Index of the first range that ends after gpa (range_count when none). */
static unsigned first_ending_after(const struct protect_range *ranges, unsigned n, uint64_t gpa)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (ranges[mid].end <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct protect_range *range_in(const struct protect_range *ranges, unsigned n,
					    uint64_t gpa)
{
	unsigned i = first_ending_after(ranges, n, gpa);
	return i < n && ranges[i].start <= gpa ? &ranges[i] : NULL;
}

const struct protect_range *protect_range_at(const struct vm_protect *p, uint64_t gpa)
{
	return range_in(p->ranges, p->range_count, gpa);
}

/* The first range overlapping [gpa, gpa + size) that forbids access, or NULL. */
static const struct protect_range *first_forbidding(const struct vm_protect *p, uint64_t gpa,
						    uint64_t size, unsigned access)
{
	for (unsigned i = first_ending_after(p->ranges, p->range_count, gpa);
	     i < p->range_count && p->ranges[i].start < gpa + size; i++)
		if (access & ~p->ranges[i].perms)
			return &p->ranges[i];
	return NULL;
}

bool protect_allows(struct vm *vm, uint64_t gpa, uint64_t size, unsigned access)
{
	struct vm_protect *p = &vm->protect;

	if (!__atomic_load_n(&p->range_count, __ATOMIC_ACQUIRE))
		return true;
	spin_lock(&p->lock);
	bool allowed = !first_forbidding(p, gpa, size, access);
	spin_unlock(&p->lock);
	return allowed;
}

/* ---- The EPT ------------------------------------------------------------ */

/* The size of the page mapping gpa and its first address. */
static uint64_t mapping_at(const struct vm *vm, uint64_t gpa, uint64_t *base)
{
	uint64_t size = ept_mapping_size(&vm->ept, gpa);
	*base = size ? gpa & ~(size - 1) : gpa & PAGE_MASK;
	return size;
}

/*
 * Splits the large pages over [start, end) that the set (ranges, n) does
 * not cover uniformly: a large page keeps its size only when one range
 * holds all of it (after merging, one range = one set of permissions and
 * one policy).  The split pages keep their permissions, so a failure part
 * way changes nothing the guest can see.
 */
static bool split_where_needed(struct vm *vm, const struct protect_range *ranges, unsigned n,
			       uint64_t start, uint64_t end)
{
	for (uint64_t gpa = start; gpa < end;) {
		uint64_t base, size = mapping_at(vm, gpa, &base);
		if (size <= PAGE_SIZE) {
			gpa = base + PAGE_SIZE;
			continue;
		}
		const struct protect_range *r = range_in(ranges, n, base);
		if (r && r->end >= base + size) {
			gpa = base + size;
			continue;
		}
		if (!ept_split_large(&vm->ept, gpa))
			return false;
	}
	return true;
}

/* Gives the pages of [start, end) their range's permissions (or all,
 * outside every range).  Every large page there is uniform. */
static void apply_permissions(struct vm *vm, uint64_t start, uint64_t end)
{
	for (uint64_t gpa = start; gpa < end;) {
		uint64_t base, size = mapping_at(vm, gpa, &base);
		const struct protect_range *r = protect_range_at(&vm->protect, gpa);
		if (size)
			ept_set_permissions(&vm->ept, gpa, r ? r->perms : EPT_RWX);
		gpa = base + (size ? size : PAGE_SIZE);
	}
}

/* INVEPT of this VM's EPT on this CPU: single-context where the CPU has it
 * (it also drops the combined mappings, SDM Vol. 3C 29.4.3.1), else all. */
static void invalidate_here(const struct vcpu *vcpu)
{
	if (vcpu->cpu->caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, vcpu->vm->ept.eptp);
	else
		invept(INVEPT_ALL_CONTEXTS, 0);
}

/* The VM's other vCPUs catch up before their next entry (protect_sync_vcpu). */
static void sync_other_vcpus(struct vcpu *self)
{
	struct vm *vm = self->vm;

	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v || v == self)
			continue;
		__atomic_store_n(&v->protect_sync, 1, __ATOMIC_RELEASE);
		vcpu_kick(v);
	}
}

void protect_invalidate(struct vcpu *vcpu)
{
	invalidate_here(vcpu);
}

void protect_flush(struct vcpu *vcpu)
{
	invalidate_here(vcpu);
	sync_other_vcpus(vcpu);
}

void protect_sync_vcpu(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->protect_sync, 0, __ATOMIC_RELAXED);
	invalidate_here(vcpu);
	vcpu_own_control_bits(__atomic_load_n(&vcpu->vm->protect.cr0_pinned, __ATOMIC_ACQUIRE),
			      __atomic_load_n(&vcpu->vm->protect.cr4_pinned, __ATOMIC_ACQUIRE));
}

/* ---- HC_PROTECT --------------------------------------------------------- */

/* SDM Vol. 3C 29.3.3.1: write without read is an EPT misconfiguration, and
 * so is execute alone unless IA32_VMX_EPT_VPID_CAP[0] allows execute-only
 * translations (A.10); no permission at all would make the page not present. */
static bool permissions_valid(const struct vmx_caps *caps, unsigned perms)
{
	if (!perms || (perms & ~EPT_RWX))
		return false;
	if ((perms & HC_PROT_WRITE) && !(perms & HC_PROT_READ))
		return false;
	if (perms == HC_PROT_EXEC && !(caps->ept_vpid & EPT_CAP_EXECUTE_ONLY))
		return false;
	return true;
}

enum protect_result protect_narrow(struct vm *vm, const struct vmx_caps *caps, uint64_t gpa,
				  uint64_t length, unsigned perms, unsigned policy)
{
	struct vm_protect *p = &vm->protect;

	if (!length || (gpa | length) & ~PAGE_MASK || gpa + length < gpa)
		return PROTECT_EINVAL;
	if (!permissions_valid(caps, perms) || policy > HC_POLICY_STOP)
		return PROTECT_EINVAL;
	if (!guest_is_ram(vm, gpa, length))
		return PROTECT_EFAULT;

	struct protect_range req = { .start = gpa, .end = gpa + length, .perms = (uint8_t)perms,
				     .policy = (uint8_t)policy };
	unsigned n;
	spin_lock(&p->lock);
	enum protect_result result = protect_ranges_narrow(p->ranges, p->range_count, &req,
							   p->scratch, PROTECT_MAX_RANGES, &n);
	if (result == PROTECT_OK && !split_where_needed(vm, p->scratch, n, req.start, req.end))
		result = PROTECT_ENOMEM;
	if (result == PROTECT_OK) {
		memcpy(p->ranges, p->scratch, n * sizeof(p->ranges[0]));
		__atomic_store_n(&p->range_count, n, __ATOMIC_RELEASE);
		apply_permissions(vm, req.start, req.end);
	}
	spin_unlock(&p->lock);
	return result;
}

enum protect_result protect_memory(struct vcpu *vcpu, uint64_t gpa, uint64_t length,
				   unsigned perms, unsigned policy)
{
	if (vcpu->vm->identity)
		return PROTECT_ENOSYS;
	/* A guest that asks for `log` is told when the CPU cannot let every
	 * access through exactly (exit/protect.c) and may choose `deny`. */
	if (policy == HC_POLICY_LOG &&
	    !vmx_control_allowed(&vcpu->cpu->caps, VMX_CONTROLS_PROC, PROC_MONITOR_TRAP_FLAG))
		return PROTECT_EINVAL;
	enum protect_result result = protect_narrow(vcpu->vm, &vcpu->cpu->caps, gpa, length, perms,
						    policy);
	if (result == PROTECT_OK)
		protect_flush(vcpu);
	return result;
}

/* ---- Pinned registers --------------------------------------------------- */

/* The guest's view of a control register: owned bits from the read shadow
 * (SDM Vol. 3C 26.3). */
static uint64_t guest_view(vmcs_RWNAT_t real, vmcs_RWNAT_t shadow, vmcs_RWNAT_t mask)
{
	uint64_t m = vmcs_read(mask);
	return (vmcs_read(real) & ~m) | (vmcs_read(shadow) & m);
}

enum protect_result protect_pin_cr(struct vcpu *vcpu, unsigned cr, uint64_t bits)
{
	struct vm_protect *p = &vcpu->vm->protect;
	uint64_t allowed, now;

	if (vcpu->vm->identity)
		return PROTECT_ENOSYS;
	if (cr == 0) {
		allowed = PROTECT_CR0_PINNABLE;
		now = guest_view(GUEST_CR0, CR0_READ_SHADOW, CR0_GUEST_HOST_MASK);
	} else if (cr == 4) {
		allowed = PROTECT_CR4_PINNABLE & vcpu->cpu->caps.cr4_fixed1;
		now = guest_view(GUEST_CR4, CR4_READ_SHADOW, CR4_GUEST_HOST_MASK);
	} else {
		return PROTECT_EINVAL;
	}
	/* Only bits that are set now: a pin keeps a bit, it never sets one. */
	if (!bits || (bits & ~allowed) || (bits & ~now))
		return PROTECT_EINVAL;
	spin_lock(&p->lock);
	if (cr == 0)
		__atomic_or_fetch(&p->cr0_pinned, bits, __ATOMIC_RELEASE);
	else
		__atomic_or_fetch(&p->cr4_pinned, bits, __ATOMIC_RELEASE);
	spin_unlock(&p->lock);
	vcpu_own_control_bits(p->cr0_pinned, p->cr4_pinned);
	sync_other_vcpus(vcpu);
	return PROTECT_OK;
}

uint64_t protect_cr_write(struct vcpu *vcpu, unsigned cr, uint64_t current, uint64_t value)
{
	const struct vm_protect *p = &vcpu->vm->protect;
	uint64_t pinned = __atomic_load_n(cr == 0 ? &p->cr0_pinned : &p->cr4_pinned, __ATOMIC_ACQUIRE);
	uint64_t kept = pinned & current & ~value;

	if (!kept)
		return value;
	protect_record_register(vcpu, HC_EVENT_CR, cr, value);
	return value | kept;
}

void protect_record_register(struct vcpu *vcpu, unsigned kind, uint64_t number, uint64_t value)
{
	protect_record(vcpu, (struct hc_protect_event){
		.kind = (uint16_t)kind, .address = number, .value = value, .linear = ~0ULL,
		.rip = vmcs_read(GUEST_RIP), .access = HC_PROT_WRITE, .action = HC_ACTION_KEPT,
	});
}

/* The MSRs HC_PIN_MSR takes: for IA32_EFER the bits that stay set once set
 * (NXE, which makes pages non-executable, SDM Vol. 3A 4.1.1); the others
 * keep their whole value (the system-call entry points). */
static const struct {
	uint32_t msr;
	uint64_t bits;
	bool whole_value;
} pin_msrs[PROTECT_PIN_MSRS] = {
	{ MSR_IA32_EFER, EFER_NXE, false },
	{ MSR_IA32_LSTAR, ~0ULL, true },
	{ MSR_IA32_SYSENTER_EIP, ~0ULL, true },
};

static int pin_msr_index(uint32_t msr)
{
	for (int i = 0; i < PROTECT_PIN_MSRS; i++)
		if (pin_msrs[i].msr == msr)
			return i;
	return -1;
}

/* The guest's value of a pinnable MSR: EFER and SYSENTER_EIP are in the
 * VMCS (SDM Vol. 3C 25.4.1); LSTAR is live in the CPU while the vCPU is
 * loaded (vcpu_load). */
static uint64_t pin_msr_current(uint32_t msr)
{
	if (msr == MSR_IA32_EFER)
		return vmcs_read(GUEST_IA32_EFER);
	if (msr == MSR_IA32_SYSENTER_EIP)
		return vmcs_read(GUEST_SYSENTER_EIP);
	return rdmsr(msr);
}

bool protect_pin_msr_value(struct vm *vm, uint32_t msr, uint64_t value)
{
	struct vm_protect *p = &vm->protect;
	int i = pin_msr_index(msr);

	if (i < 0 || (!pin_msrs[i].whole_value && (value & pin_msrs[i].bits) != pin_msrs[i].bits))
		return false;
	spin_lock(&p->lock);
	p->msr_pinned_bits[i] = pin_msrs[i].bits;
	p->msr_pinned_value[i] = value;
	__atomic_store_n(&p->msrs_pinned, true, __ATOMIC_RELEASE);
	spin_unlock(&p->lock);
	return true;
}

bool protect_msr_pinned(const struct vm *vm, uint32_t msr)
{
	int i = pin_msr_index(msr);
	return i >= 0 && __atomic_load_n(&vm->protect.msrs_pinned, __ATOMIC_ACQUIRE) &&
	       vm->protect.msr_pinned_bits[i];
}

void protect_apply_msr_pins(struct vcpu *vcpu)
{
	/* A WRMSR of a pinned MSR exits (SDM Vol. 3C 25.6.9); reads do not. */
	for (int i = 0; i < PROTECT_PIN_MSRS; i++)
		if (protect_msr_pinned(vcpu->vm, pin_msrs[i].msr))
			msr_bitmap_set(vcpu->msr_bitmap, pin_msrs[i].msr, true, true);
}

enum protect_result protect_pin_msr(struct vcpu *vcpu, uint32_t msr)
{
	struct vm *vm = vcpu->vm;

	if (vm->identity)
		return PROTECT_ENOSYS;
	if (pin_msr_index(msr) < 0 || !protect_pin_msr_value(vm, msr, pin_msr_current(msr)))
		return PROTECT_EINVAL;
	for (unsigned k = 0; k < vm->vcpu_count; k++)
		if (vm->vcpus[k])
			protect_apply_msr_pins(vm->vcpus[k]);
	return PROTECT_OK;
}

enum protect_msr_verdict protect_msr_write(struct vcpu *vcpu, uint32_t msr, uint64_t *value)
{
	struct vm_protect *p = &vcpu->vm->protect;
	int i;

	if (!__atomic_load_n(&p->msrs_pinned, __ATOMIC_ACQUIRE) || (i = pin_msr_index(msr)) < 0 ||
	    !p->msr_pinned_bits[i])
		return PROTECT_MSR_FREE;
	if (pin_msrs[i].whole_value) {
		if (*value != p->msr_pinned_value[i])
			protect_record_register(vcpu, HC_EVENT_MSR, msr, *value);
		return PROTECT_MSR_DONE;
	}
	uint64_t kept = p->msr_pinned_bits[i] & pin_msr_current(msr) & ~*value;
	if (!kept)
		return PROTECT_MSR_FREE;
	*value |= kept;
	return PROTECT_MSR_KEPT;
}

/* ---- Events ----------------------------------------------------------- */

static const char *access_name(unsigned access)
{
	if (access & HC_PROT_EXEC)
		return "instruction fetch";
	return access & HC_PROT_WRITE ? "write" : "read";
}

static const char *action_name(unsigned action)
{
	static const char *const names[HC_ACTION_COUNT] = {
		[HC_ACTION_ALLOWED] = "let through once (log)",
		[HC_ACTION_DROPPED] = "dropped (deny)",
		[HC_ACTION_FAULTED] = "fault injected (deny)",
		[HC_ACTION_STOPPED] = "the VM ends (stop)",
		[HC_ACTION_KEPT] = "pinned bits kept",
	};
	return action < HC_ACTION_COUNT ? names[action] : "?";
}

static void print_event(const struct vm *vm, const struct hc_protect_event *e, bool last)
{
	if (e->kind == HC_EVENT_MEMORY)
		log_printf("cvisor: VM %s vCPU %u: protection: %s of guest-physical 0x%llx at RIP "
			   "0x%llx: %s\n",
			   vm->name, e->vcpu_id, access_name(e->access), (unsigned long long)e->address,
			   (unsigned long long)e->rip, action_name(e->action));
	else
		log_printf("cvisor: VM %s vCPU %u: protection: write of 0x%llx to %s%llx at RIP 0x%llx: "
			   "%s\n",
			   vm->name, e->vcpu_id, (unsigned long long)e->value,
			   e->kind == HC_EVENT_CR ? "CR" : "MSR 0x", (unsigned long long)e->address,
			   (unsigned long long)e->rip, action_name(e->action));
	if (last)
		log_printf("cvisor: VM %s: further protection events are kept (HC_PROTECT_EVENTS) "
			   "and counted, not printed\n", vm->name);
}

static bool same_event(const struct hc_protect_event *a, const struct hc_protect_event *b)
{
	return a->vcpu_id == b->vcpu_id && a->kind == b->kind && a->rip == b->rip &&
	       a->access == b->access && a->action == b->action &&
	       (a->kind == HC_EVENT_MEMORY ? (a->address & PAGE_MASK) == (b->address & PAGE_MASK)
					   : a->address == b->address && a->value == b->value);
}

void protect_record(struct vcpu *vcpu, struct hc_protect_event event)
{
	struct vm *vm = vcpu->vm;
	struct vm_protect *p = &vm->protect;
	bool print = false, last = false;

	event.vm_id = vm->id;
	event.vcpu_id = vcpu->id;
	event.repeats = 1;
	if (event.action < HC_ACTION_COUNT)
		vcpu->protect.actions[event.action]++;
	vcpu->protect.recorded = true;
	spin_lock(&p->lock);
	struct hc_protect_event *newest =
		p->ring_count ? &p->ring[(p->ring_first + p->ring_count - 1) % PROTECT_EVENT_RING] : NULL;
	if (newest && same_event(newest, &event) && newest->repeats != UINT32_MAX) {
		newest->repeats++;
	} else {
		event.sequence = p->next_sequence++;
		if (p->ring_count == PROTECT_EVENT_RING) {
			p->ring_first = (p->ring_first + 1) % PROTECT_EVENT_RING; /* the oldest goes */
			p->ring_count--;
		}
		p->ring[(p->ring_first + p->ring_count) % PROTECT_EVENT_RING] = event;
		p->ring_count++;
		print = p->printed < PROTECT_PRINT_MAX;
		last = print && ++p->printed == PROTECT_PRINT_MAX;
	}
	spin_unlock(&p->lock);
	if (print)
		print_event(vm, &event, last);
}

unsigned protect_take_events(struct vm *vm, struct hc_protect_event *out, unsigned max)
{
	struct vm_protect *p = &vm->protect;
	unsigned n = 0;

	spin_lock(&p->lock);
	for (; n < max && p->ring_count; n++) {
		out[n] = p->ring[p->ring_first];
		p->ring_first = (p->ring_first + 1) % PROTECT_EVENT_RING;
		p->ring_count--;
	}
	spin_unlock(&p->lock);
	return n;
}

unsigned protect_pending_events(struct vm *vm)
{
	return __atomic_load_n(&vm->protect.ring_count, __ATOMIC_ACQUIRE);
}

/* ---- Emulated accesses and the `log` step ----------------------------- */

unsigned protect_policy_for(const struct vm_protect *p, unsigned policy, unsigned access,
			    uint64_t linear)
{
	if (policy == HC_POLICY_LOG && (access & HC_PROT_WRITE) && p->log_deny_linear &&
	    linear != ~0ULL && linear >= p->log_deny_linear_first &&
	    linear <= p->log_deny_linear_last)
		return HC_POLICY_DENY;
	return policy;
}

/*
 * The first range forbidding access to [gpa, gpa + size): recorded with the
 * action its policy takes (by_cpu: `deny` cannot drop the CPU's own access,
 * which stops the VM instead).  Returns that policy, or NOT_FORBIDDEN when
 * nothing forbids the access; *at gets the forbidden guest-physical address.
 */
#define NOT_FORBIDDEN 0xFFu
static unsigned judge_access(struct vcpu *vcpu, uint64_t gpa, uint64_t linear, unsigned size,
			     unsigned access, bool by_cpu, uint64_t *at)
{
	struct vm_protect *p = &vcpu->vm->protect;

	if (!__atomic_load_n(&p->range_count, __ATOMIC_ACQUIRE))
		return NOT_FORBIDDEN;
	spin_lock(&p->lock);
	const struct protect_range *r = first_forbidding(p, gpa, size, access);
	unsigned policy = r ? r->policy : NOT_FORBIDDEN;
	*at = r && r->start > gpa ? r->start : gpa;
	spin_unlock(&p->lock);
	if (!r)
		return NOT_FORBIDDEN;
	/* The forbidding range may start inside the access: so does its linear. */
	if (linear != ~0ULL)
		linear += *at - gpa;
	policy = protect_policy_for(p, policy, access, linear);
	unsigned action = policy == HC_POLICY_LOG	 ? HC_ACTION_ALLOWED
			  : policy == HC_POLICY_DENY && !by_cpu ? HC_ACTION_DROPPED
								 : HC_ACTION_STOPPED;
	protect_record(vcpu, (struct hc_protect_event){
		.kind = HC_EVENT_MEMORY, .address = *at, .linear = linear, .rip = vmcs_read(GUEST_RIP),
		.access = (uint8_t)access, .action = (uint8_t)action,
	});
	return policy;
}

bool protect_emulated_access(struct vcpu *vcpu, uint64_t gpa, uint64_t linear, unsigned size,
			     bool write)
{
	unsigned access = write ? HC_PROT_WRITE : HC_PROT_READ;
	uint64_t at;
	unsigned policy = judge_access(vcpu, gpa, linear, size, access, false, &at);

	if (policy == HC_POLICY_STOP)
		vm_end(vcpu->vm, false, "%s of protected guest-physical 0x%llx by an emulated "
		       "instruction at RIP 0x%llx (policy stop)", access_name(access),
		       (unsigned long long)at, (unsigned long long)vmcs_read(GUEST_RIP));
	return policy == NOT_FORBIDDEN || policy == HC_POLICY_LOG;
}

const char *protect_cpu_access(struct vcpu *vcpu, uint64_t gpa, uint64_t linear, unsigned size,
			       bool write)
{
	uint64_t at;
	unsigned policy = judge_access(vcpu, gpa, linear, size, write ? HC_PROT_WRITE : HC_PROT_READ,
				       true, &at);

	if (policy == NOT_FORBIDDEN || policy == HC_POLICY_LOG)
		return NULL;
	return policy == HC_POLICY_DENY ? "deny" : "stop";
}

bool protect_lift_page(struct vcpu *vcpu, uint64_t gpa, unsigned access)
{
	struct vm *vm = vcpu->vm;
	struct vm_protect *p = &vm->protect;
	struct vcpu_protect *s = &vcpu->protect;
	uint64_t page = gpa & PAGE_MASK;
	unsigned i = 0;

	while (i < s->step_count && s->step_pages[i] != page)
		i++;
	if (i == PROTECT_STEP_PAGES)
		return false;
	spin_lock(&p->lock);
	const struct protect_range *r = protect_range_at(p, page);
	unsigned perms = (r ? r->perms : EPT_RWX) | access | (access & HC_PROT_WRITE ? HC_PROT_READ : 0);
	ept_set_permissions(&vm->ept, page, perms);
	spin_unlock(&p->lock);
	if (i == s->step_count)
		s->step_pages[s->step_count++] = page;
	return true;
}

void protect_end_step(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct vm_protect *p = &vm->protect;
	struct vcpu_protect *s = &vcpu->protect;

	spin_lock(&p->lock);
	for (unsigned i = 0; i < s->step_count; i++) {
		const struct protect_range *r = protect_range_at(p, s->step_pages[i]);
		ept_set_permissions(&vm->ept, s->step_pages[i], r ? r->perms : EPT_RWX);
	}
	spin_unlock(&p->lock);
	s->step_count = 0;
	/* Other vCPUs may have cached the lifted translation meanwhile. */
	protect_flush(vcpu);
}

/* ---- Reset ---------------------------------------------------------- */

void protect_reset(struct vm *vm)
{
	struct vm_protect *p = &vm->protect;

	spin_lock(&p->lock);
	for (unsigned i = 0; i < p->range_count; i++)
		for (uint64_t gpa = p->ranges[i].start, base; gpa < p->ranges[i].end;) {
			uint64_t size = mapping_at(vm, gpa, &base);
			if (size)
				ept_set_permissions(&vm->ept, gpa, EPT_RWX);
			gpa = base + (size ? size : PAGE_SIZE);
		}
	ept_merge_splits(&vm->ept);
	bool msrs = p->msrs_pinned;
	p->range_count = 0;
	p->cr0_pinned = p->cr4_pinned = 0;
	memset(p->msr_pinned_bits, 0, sizeof(p->msr_pinned_bits));
	memset(p->msr_pinned_value, 0, sizeof(p->msr_pinned_value));
	p->msrs_pinned = false;
	p->ring_first = p->ring_count = 0;
	p->next_sequence = 0;
	p->printed = 0;
	spin_unlock(&p->lock);
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v)
			continue;
		v->protect.step_count = 0;
		__atomic_store_n(&v->protect_sync, 0, __ATOMIC_RELAXED);
		/* The pinned MSRs' writes go back to what msr_bitmap_init lets through. */
		if (msrs)
			msr_bitmap_init(v->msr_bitmap);
	}
}
