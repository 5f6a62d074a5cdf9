#include "vmx/vmcs.h"

#include <stddef.h>

#include "lib/log.h"
#include "platform.h"
#include "vmx/intrin.h"
#include "vmx/vmx_names.h"

#define VMCS_WIDTH_ENUM_16  VMCS_WIDTH_16
#define VMCS_WIDTH_ENUM_32  VMCS_WIDTH_32
#define VMCS_WIDTH_ENUM_64  VMCS_WIDTH_64
#define VMCS_WIDTH_ENUM_NAT VMCS_WIDTH_NAT

const struct vmcs_field_info vmcs_field_table[] = {
#define X(name, enc, width, access) \
	{ #name, enc, VMCS_WIDTH_ENUM_##width, VMCS_TYPE_IS_RO_##access },
	VMCS_FIELDS(X)
#undef X
};
const unsigned vmcs_field_count =
	sizeof(vmcs_field_table) / sizeof(vmcs_field_table[0]);

/* Failed VMWRITEs per CPU: each CPU builds its own VMCSs. */
#define VMCS_MAX_CPUS 64
static unsigned failed_writes[VMCS_MAX_CPUS];

static unsigned *this_cpu_failures(void)
{
	return &failed_writes[plat_this_cpu() % VMCS_MAX_CPUS];
}

const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding)
{
	for (unsigned i = 0; i < vmcs_field_count; i++)
		if (vmcs_field_table[i].encoding == encoding)
			return &vmcs_field_table[i];
	return NULL;
}

const struct vmcs_field_info *vmcs_field_by_name(const char *name, unsigned len)
{
	for (unsigned i = 0; i < vmcs_field_count; i++) {
		const char *n = vmcs_field_table[i].name;
		unsigned k = 0;
		while (k < len && n[k] && n[k] == name[k])
			k++;
		if (k == len && !n[k])
			return &vmcs_field_table[i];
	}
	return NULL;
}

static const char *field_name(uint32_t encoding)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding);
	return f ? f->name : "unknown field";
}

/* After VMfailValid the reason is in VM_INSTRUCTION_ERROR (SDM Vol. 3C 31.4). */
static void log_vmx_failure(const char *insn, uint32_t encoding,
			    enum vmx_insn_result r)
{
	if (r == VMX_FAIL_VALID) {
		uint64_t err = 0;
		vmread(VM_INSTRUCTION_ERROR.encoding, &err);
		log_printf("cvisor: %s %s (0x%04x) failed: VM-instruction error %u (%s)\n",
			   insn, field_name(encoding), encoding, (unsigned)err,
			   vmx_instruction_error_name((unsigned)err));
	} else {
		log_printf("cvisor: %s %s (0x%04x) failed: VMfailInvalid (no current VMCS)\n",
			   insn, field_name(encoding), encoding);
	}
}

uint64_t vmcs_read_failed(uint32_t encoding, enum vmx_insn_result r)
{
	log_vmx_failure("VMREAD", encoding, r);
	return 0;
}

void vmcs_write_failed(uint32_t encoding, enum vmx_insn_result r)
{
	(*this_cpu_failures())++;
	log_vmx_failure("VMWRITE", encoding, r);
}

bool vmcs_try_read(uint32_t encoding, uint64_t *value)
{
	return vmread(encoding, value) == VMX_SUCCEED;
}

unsigned vmcs_failed_writes(void)
{
	return *this_cpu_failures();
}

void vmcs_reset_failures(void)
{
	*this_cpu_failures() = 0;
}

bool vmcs_dump_enabled = true;

void vmcs_dump(void)
{
	if (!vmcs_dump_enabled)
		return;
	/* Grouped by the type bits 11:10 of the encoding (SDM Vol. 3C 25.11.2). */
	static const char *const groups[4] = {
		"control fields", "VM-exit information", "guest state", "host state"
	};
	unsigned missing = 0;

	log_printf("cvisor: ---- VMCS dump (fields this CPU supports) ----\n");
	for (unsigned type = 0; type < 4; type++) {
		log_printf("cvisor: VMCS %s:\n", groups[type]);
		for (unsigned i = 0; i < vmcs_field_count; i++) {
			const struct vmcs_field_info *f = &vmcs_field_table[i];
			uint64_t value;

			if (((f->encoding >> 10) & 3) != type)
				continue;
			if (!vmcs_try_read(f->encoding, &value)) {
				missing++;
				continue;
			}
			log_printf("cvisor:   %-32s 0x%04x = 0x%llx\n", f->name,
				   f->encoding, (unsigned long long)value);
		}
	}
	log_printf("cvisor: ---- end of VMCS dump (%u fields not on this CPU) ----\n",
		   missing);
}
