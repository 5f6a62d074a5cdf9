/*
 * VMCS access through the field table in vmcs_fields.h.
 *
 *   vmcs_write(GUEST_RIP, rip);         width chosen from the field's type
 *   uint32_t r = vmcs_read(VM_EXIT_REASON);
 *
 * Each field is a constant of a type that encodes its width and access, so
 * writing a read-only field or using the wrong width does not compile.
 * Every failed VMREAD/VMWRITE is logged with the field's name and the
 * VM-instruction error, and counted (vmcs_failed_writes()).
 */
#ifndef CVISOR_VMX_VMCS_H
#define CVISOR_VMX_VMCS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/intrin.h"
#include "vmx/vmcs_fields.h"

/* One handle type per (access, width) pair that occurs in the table. */
typedef struct { uint32_t encoding; } vmcs_RW16_t;
typedef struct { uint32_t encoding; } vmcs_RW32_t;
typedef struct { uint32_t encoding; } vmcs_RW64_t;
typedef struct { uint32_t encoding; } vmcs_RWNAT_t;
typedef struct { uint32_t encoding; } vmcs_RO32_t;
typedef struct { uint32_t encoding; } vmcs_RO64_t;
typedef struct { uint32_t encoding; } vmcs_RONAT_t;

#define X(name, enc, width, access) \
	static const vmcs_##access##width##_t name = { enc };
VMCS_FIELDS(X)
#undef X

/*
 * SDM Vol. 3C 25.11.2: an encoding's bits 14:13 give its width
 * (0 16-bit, 1 64-bit, 2 32-bit, 3 natural), bits 11:10 its type
 * (0 control, 1 VM-exit information (read-only), 2 guest state, 3 host
 * state) and bit 0 the access type (0 full).  Check the table against it.
 */
#define VMCS_WIDTH_CODE_16  0
#define VMCS_WIDTH_CODE_64  1
#define VMCS_WIDTH_CODE_32  2
#define VMCS_WIDTH_CODE_NAT 3
#define VMCS_TYPE_IS_RO_RO  1
#define VMCS_TYPE_IS_RO_RW  0
#define X(name, enc, width, access)                                                     \
	_Static_assert((((enc) >> 13) & 3) == VMCS_WIDTH_CODE_##width,                  \
		       #name ": encoding bits 14:13 disagree with its declared width"); \
	_Static_assert(((((enc) >> 10) & 3) == 1) == VMCS_TYPE_IS_RO_##access,           \
		       #name ": only VM-exit information fields are read-only");       \
	_Static_assert(((enc) & 0xFFFF9001u) == 0, #name ": reserved or high-access bits set");
VMCS_FIELDS(X)
#undef X

/* Field widths as stored in the info table. */
enum vmcs_width { VMCS_WIDTH_16, VMCS_WIDTH_64, VMCS_WIDTH_32, VMCS_WIDTH_NAT };

struct vmcs_field_info {
	const char *name;
	uint32_t encoding;
	enum vmcs_width width;
	bool read_only;
};

extern const struct vmcs_field_info vmcs_field_table[];
extern const unsigned vmcs_field_count;

/* The table entry for an encoding, or NULL. */
const struct vmcs_field_info *vmcs_field_lookup(uint32_t encoding);
/* The table entry named name (e.g. "GUEST_RIP", len bytes), or NULL. */
const struct vmcs_field_info *vmcs_field_by_name(const char *name, unsigned len);

/* Out of line: logs a failed VMREAD/VMWRITE with the field name (and counts
 * the failed VMWRITE); vmcs_read_failed returns 0 as the value. */
uint64_t vmcs_read_failed(uint32_t encoding, enum vmx_insn_result r);
void vmcs_write_failed(uint32_t encoding, enum vmx_insn_result r);

/* Raw access by encoding; failures are logged with the field name.  Inline:
 * on the exit path each access is the VMX instruction and one branch. */
static inline uint64_t vmcs_read_encoding(uint32_t encoding)
{
	uint64_t value;
	enum vmx_insn_result r = vmread(encoding, &value);

	if (__builtin_expect(r != VMX_SUCCEED, 0))
		return vmcs_read_failed(encoding, r);
	return value;
}

static inline void vmcs_write_encoding(uint32_t encoding, uint64_t value)
{
	enum vmx_insn_result r = vmwrite(encoding, value);

	if (__builtin_expect(r != VMX_SUCCEED, 0))
		vmcs_write_failed(encoding, r);
}
/* Quiet read for dumps: false when the field does not exist on this CPU. */
bool vmcs_try_read(uint32_t encoding, uint64_t *value);

/* Number of VMWRITEs that failed on this CPU since its last vmcs_reset_failures(). */
unsigned vmcs_failed_writes(void);
void vmcs_reset_failures(void);

static inline uint16_t vmcs_read_RW16(vmcs_RW16_t f) { return (uint16_t)vmcs_read_encoding(f.encoding); }
static inline uint32_t vmcs_read_RW32(vmcs_RW32_t f) { return (uint32_t)vmcs_read_encoding(f.encoding); }
static inline uint64_t vmcs_read_RW64(vmcs_RW64_t f) { return vmcs_read_encoding(f.encoding); }
static inline uint64_t vmcs_read_RWNAT(vmcs_RWNAT_t f) { return vmcs_read_encoding(f.encoding); }
static inline uint32_t vmcs_read_RO32(vmcs_RO32_t f) { return (uint32_t)vmcs_read_encoding(f.encoding); }
static inline uint64_t vmcs_read_RO64(vmcs_RO64_t f) { return vmcs_read_encoding(f.encoding); }
static inline uint64_t vmcs_read_RONAT(vmcs_RONAT_t f) { return vmcs_read_encoding(f.encoding); }

static inline void vmcs_write16(vmcs_RW16_t f, uint16_t v) { vmcs_write_encoding(f.encoding, v); }
static inline void vmcs_write32(vmcs_RW32_t f, uint32_t v) { vmcs_write_encoding(f.encoding, v); }
static inline void vmcs_write64(vmcs_RW64_t f, uint64_t v) { vmcs_write_encoding(f.encoding, v); }
static inline void vmcs_writenat(vmcs_RWNAT_t f, uint64_t v) { vmcs_write_encoding(f.encoding, v); }

#define vmcs_read(field)                         \
	_Generic((field),                        \
		vmcs_RW16_t: vmcs_read_RW16,     \
		vmcs_RW32_t: vmcs_read_RW32,     \
		vmcs_RW64_t: vmcs_read_RW64,     \
		vmcs_RWNAT_t: vmcs_read_RWNAT,   \
		vmcs_RO32_t: vmcs_read_RO32,     \
		vmcs_RO64_t: vmcs_read_RO64,     \
		vmcs_RONAT_t: vmcs_read_RONAT)(field)

/* No association for the read-only types: writing one does not compile. */
#define vmcs_write(field, value)             \
	_Generic((field),                    \
		vmcs_RW16_t: vmcs_write16,   \
		vmcs_RW32_t: vmcs_write32,   \
		vmcs_RW64_t: vmcs_write64,   \
		vmcs_RWNAT_t: vmcs_writenat)(field, value)

/* Named dump of every field that exists on this CPU, grouped by area. */
void vmcs_dump(void);
/* True by default; fuzz mode turns the dump off while thousands of VMs end
 * on purpose (a replay of one case turns it back on). */
extern bool vmcs_dump_enabled;

#endif
