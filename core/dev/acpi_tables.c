/*
 * The ACPI tables (see acpi_tables.h).  Each table is built in a small
 * buffer, little-endian byte by byte (ACPI tables are packed), its
 * checksum made, then copied into guest RAM.  Offsets and values follow
 * the ACPI Specification 6.3, chapter 5.
 */
#include "dev/acpi_tables.h"

#include "dev/acpi_pm.h"
#include "lib/endian.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mm/guest_memory.h"
#include "vm/vm.h"

#define OEM_ID        "CVISOR"   /* 6 characters */
#define OEM_TABLE_ID  "CVISORPC" /* 8 characters */
#define OEM_REVISION  1
#define CREATOR_ID    "CVSR"
#define CREATOR_REVISION 1

/* System description table header (5.2.6): where the fields are. */
#define HDR_LENGTH    4
#define HDR_REVISION  8
#define HDR_CHECKSUM  9

/* Generic Address Structure (5.2.3.2): address space IDs and access sizes. */
#define GAS_SYSTEM_IO   1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

/* MADT (5.2.12): entry types and flags. */
#define MADT_REVISION          5
#define MADT_PCAT_COMPAT       (1u << 0)
#define MADT_LOCAL_APIC        0  /* 5.2.12.2, 8 bytes */
#define MADT_IO_APIC           1  /* 5.2.12.3, 12 bytes */
#define MADT_SOURCE_OVERRIDE   2  /* 5.2.12.5, 10 bytes */
#define MADT_LOCAL_APIC_NMI    4  /* 5.2.12.7, 6 bytes */
#define MADT_LAPIC_ENABLED     (1u << 0)
#define MADT_ALL_PROCESSORS    0xFF
/* MPS INTI flags (5.2.12.5, table "MPS INTI Flags"): polarity bits 1:0,
 * trigger mode bits 3:2; 0 = conforms to the bus (ISA: edge, active high). */
#define INTI_CONFORMS          0
#define INTI_ACTIVE_HIGH       (1u << 0)
#define INTI_LEVEL             (3u << 2)
#define ISA_BUS                0
#define MADT_LENGTH(cpus) (44 + 8 * (cpus) + 12 + 2 * 10 + 6)

/* FADT (5.2.9): revision 6, minor version 3 (ACPI 6.3). */
#define FADT_REVISION          6
#define FADT_MINOR_VERSION     3
/* IA-PC boot architecture flags (5.2.9.3). */
#define BOOT_LEGACY_DEVICES    (1u << 0)
#define BOOT_8042              (1u << 1)
#define BOOT_VGA_NOT_PRESENT   (1u << 2)
/* Fixed feature flags (5.2.9, table "Fixed ACPI Description Table Fixed
 * Feature Flags"). */
#define FADT_WBINVD            (1u << 0)
#define FADT_PROC_C1           (1u << 2)
#define FADT_PWR_BUTTON        (1u << 4)  /* set: no fixed power button */
#define FADT_SLP_BUTTON        (1u << 5)  /* set: no fixed sleep button */
#define FADT_FIX_RTC           (1u << 6)  /* set: no RTC wake status in PM1_STS */
#define FADT_RESET_REG_SUP     (1u << 10)
/* C2 and C3 latencies that say "not supported" (above 100 and 1000 us). */
#define FADT_C2_NONE           101
#define FADT_C3_NONE           1001

#define FACS_VERSION           2
#define RSDP_REVISION          2

static uint32_t align_up(uint32_t v, uint32_t to)
{
	return (v + to - 1) & ~(to - 1);
}

/* The RSDP first (the scan finds it on the first 16-byte boundary), the
 * FACS on a 64-byte boundary (5.2.10), the others on 16-byte boundaries. */
void acpi_tables_layout(unsigned cpu_count, struct acpi_layout *l)
{
	l->rsdp = ACPI_RSDP_GPA;
	l->facs = align_up(l->rsdp + ACPI_RSDP_LENGTH, 64);
	l->rsdt = align_up(l->facs + ACPI_FACS_LENGTH, 16);
	l->xsdt = align_up(l->rsdt + ACPI_HEADER_LENGTH + 2 * 4, 16);
	l->fadt = align_up(l->xsdt + ACPI_HEADER_LENGTH + 2 * 8, 16);
	l->madt = align_up(l->fadt + ACPI_FADT_LENGTH, 16);
	l->dsdt = align_up(l->madt + MADT_LENGTH(cpu_count), 16);
	l->end = l->dsdt + (uint32_t)acpi_dsdt_aml_size;
}

uint8_t acpi_byte_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum;
}

/* The byte at `at` makes the len bytes sum to 0 (5.2.5.3, 5.2.6). */
static void set_checksum(uint8_t *t, size_t len, size_t at)
{
	t[at] = 0;
	t[at] = (uint8_t)(0x100 - acpi_byte_sum(t, len));
}

/* The common header (5.2.6); the checksum is made once the table is full. */
static void put_header(uint8_t *t, const char signature[4], uint32_t length, uint8_t revision)
{
	memset(t, 0, length);
	memcpy(t, signature, 4);
	le32_write(t + HDR_LENGTH, length);
	t[HDR_REVISION] = revision;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	le32_write(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	le32_write(t + 32, CREATOR_REVISION);
}

/* A Generic Address Structure (5.2.3.2) for a block of I/O ports. */
static void put_io_gas(uint8_t *p, unsigned bytes, uint8_t access_size, uint32_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = (uint8_t)(8 * bytes); /* register bit width */
	p[2] = 0;                    /* register bit offset */
	p[3] = access_size;
	le64_write(p + 4, port);
}

/* RSDP (5.2.5.3): revision 2, the ACPI 1.0 checksum over its first 20
 * bytes and the extended checksum over all 36. */
static size_t build_rsdp(uint8_t *t, const struct acpi_layout *l)
{
	memset(t, 0, ACPI_RSDP_LENGTH);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = RSDP_REVISION;
	le32_write(t + 16, l->rsdt);
	le32_write(t + 20, ACPI_RSDP_LENGTH);
	le64_write(t + 24, l->xsdt);
	set_checksum(t, 20, 8);
	set_checksum(t, ACPI_RSDP_LENGTH, 32);
	return ACPI_RSDP_LENGTH;
}

/* FACS (5.2.10): no checksum; no waking vector (no sleeping state to wake
 * from), the global lock free, version 2. */
static size_t build_facs(uint8_t *t)
{
	memset(t, 0, ACPI_FACS_LENGTH);
	memcpy(t, "FACS", 4);
	le32_write(t + 4, ACPI_FACS_LENGTH);
	t[32] = FACS_VERSION;
	return ACPI_FACS_LENGTH;
}

/* RSDT (5.2.7) and XSDT (5.2.8): the FADT and the MADT, 32- or 64-bit. */
static size_t build_rsdt(uint8_t *t, const struct acpi_layout *l)
{
	size_t len = ACPI_HEADER_LENGTH + 2 * 4;

	put_header(t, "RSDT", (uint32_t)len, 1);
	le32_write(t + ACPI_HEADER_LENGTH, l->fadt);
	le32_write(t + ACPI_HEADER_LENGTH + 4, l->madt);
	set_checksum(t, len, HDR_CHECKSUM);
	return len;
}

static size_t build_xsdt(uint8_t *t, const struct acpi_layout *l)
{
	size_t len = ACPI_HEADER_LENGTH + 2 * 8;

	put_header(t, "XSDT", (uint32_t)len, 1);
	le64_write(t + ACPI_HEADER_LENGTH, l->fadt);
	le64_write(t + ACPI_HEADER_LENGTH + 8, l->madt);
	set_checksum(t, len, HDR_CHECKSUM);
	return len;
}

/* FADT (5.2.9), field by field at its offset. */
static size_t build_fadt(uint8_t *t, const struct acpi_layout *l)
{
	put_header(t, "FACP", ACPI_FADT_LENGTH, FADT_REVISION);
	/* FIRMWARE_CTRL: the FACS is below 4 GiB, so X_FIRMWARE_CTRL must
	 * stay 0 (only one of the two may be set). */
	le32_write(t + 36, l->facs);
	le32_write(t + 40, l->dsdt);
	t[45] = 0;                         /* Preferred_PM_Profile: unspecified */
	le16_write(t + 46, ACPI_SCI_IRQ);       /* SCI_INT: the 8259 IRQ (and GSI) */
	le32_write(t + 48, 0);                  /* SMI_CMD: none, always in ACPI mode */
	le32_write(t + 56, ACPI_PM1A_EVT_BLK);
	le32_write(t + 64, ACPI_PM1A_CNT_BLK);
	le32_write(t + 76, ACPI_PM_TMR_BLK);
	t[88] = ACPI_PM1_EVT_LEN;
	t[89] = ACPI_PM1_CNT_LEN;
	t[91] = ACPI_PM_TMR_LEN;
	le16_write(t + 96, FADT_C2_NONE);       /* P_LVL2_LAT */
	le16_write(t + 98, FADT_C3_NONE);       /* P_LVL3_LAT */
	t[108] = 0x32;                     /* CENTURY: the RTC/CMOS century byte (dev/rtc_cmos.c) */
	/* A PC with ISA devices and an 8042 (the OS uses the 8259 and the PIT),
	 * and no VGA (0xA0000-0xBFFFF is open bus). */
	le16_write(t + 109, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT);
	/* WBINVD works, HLT is C1 on every processor; no fixed power or sleep
	 * button, no RTC wake status; the reset register below works;
	 * TMR_VAL_EXT (bit 8) = 0: a 24-bit PM timer. */
	le32_write(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
			       FADT_FIX_RTC | FADT_RESET_REG_SUP);
	put_io_gas(t + 116, 1, GAS_ACCESS_BYTE, ACPI_RESET_PORT); /* RESET_REG */
	t[128] = ACPI_RESET_VALUE;
	t[131] = FADT_MINOR_VERSION;
	le64_write(t + 132, 0);                 /* X_FIRMWARE_CTRL: see FIRMWARE_CTRL */
	le64_write(t + 140, l->dsdt);           /* X_DSDT: the same table as DSDT */
	put_io_gas(t + 148, ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD, ACPI_PM1A_EVT_BLK);
	put_io_gas(t + 172, ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD, ACPI_PM1A_CNT_BLK);
	put_io_gas(t + 208, ACPI_PM_TMR_LEN, GAS_ACCESS_DWORD, ACPI_PM_TMR_BLK);
	memcpy(t + 268, "cvisor\0\0", 8); /* Hypervisor Vendor Identity */
	set_checksum(t, ACPI_FADT_LENGTH, HDR_CHECKSUM);
	return ACPI_FADT_LENGTH;
}

static uint8_t *put_source_override(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_SOURCE_OVERRIDE;
	e[1] = 10;
	e[2] = ISA_BUS;
	e[3] = irq;
	le32_write(e + 4, gsi);
	le16_write(e + 8, flags);
	return e + 10;
}

/* MADT (5.2.12). */
static size_t build_madt(uint8_t *t, unsigned cpu_count)
{
	size_t len = MADT_LENGTH(cpu_count);
	uint8_t *e = t + 44;

	put_header(t, "APIC", (uint32_t)len, MADT_REVISION);
	le32_write(t + 36, ACPI_LAPIC_GPA);
	/* PCAT_COMPAT: the machine also has the dual 8259s (5.2.12, table
	 * "Multiple APIC Flags"); the OS masks them when it uses the APICs. */
	le32_write(t + 40, MADT_PCAT_COMPAT);
	/* One enabled local APIC per vCPU; APIC ID and processor UID = index. */
	for (unsigned i = 0; i < cpu_count; i++, e += 8) {
		e[0] = MADT_LOCAL_APIC;
		e[1] = 8;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		le32_write(e + 4, MADT_LAPIC_ENABLED);
	}
	e[0] = MADT_IO_APIC;
	e[1] = 12;
	e[2] = ACPI_IOAPIC_ID;
	e[3] = 0;
	le32_write(e + 4, ACPI_IOAPIC_GPA);
	le32_write(e + 8, 0); /* its pins are GSIs 0-23 */
	e += 12;
	/* The PIT's IRQ 0 reaches the I/O APIC's pin 2, as on PCs (5.2.12.5);
	 * conforming = the ISA bus's edge-triggered, active high. */
	e = put_source_override(e, 0, 2, INTI_CONFORMS);
	/* The SCI, a level-triggered active-high line (5.2.12.5: an SCI that is
	 * not edge/active-high is described by an override). */
	e = put_source_override(e, ACPI_SCI_IRQ, ACPI_SCI_IRQ, INTI_ACTIVE_HIGH | INTI_LEVEL);
	/* The NMI on LINT1 of every local APIC (5.2.12.7), conforming (edge). */
	e[0] = MADT_LOCAL_APIC_NMI;
	e[1] = 6;
	e[2] = MADT_ALL_PROCESSORS;
	le16_write(e + 3, INTI_CONFORMS);
	e[5] = 1;
	set_checksum(t, len, HDR_CHECKSUM);
	return len;
}

bool acpi_tables_write(struct vm *vm)
{
	struct acpi_layout l;
	/* Big enough for the largest table built here: the FADT, or the
	 * MADT of VM_MAX_VCPUS processors. */
	_Static_assert(MADT_LENGTH(VM_MAX_VCPUS) <= ACPI_FADT_LENGTH, "table buffer too small");
	uint8_t t[ACPI_FADT_LENGTH];
	uint8_t ebda_segment[2];

	le16_write(ebda_segment, ACPI_EBDA_GPA >> 4);
	acpi_tables_layout(vm->vcpu_count, &l);
	if (vm->vcpu_count < 1 || vm->vcpu_count > VM_MAX_VCPUS || l.end > ACPI_TABLES_END ||
	    acpi_dsdt_aml_size < ACPI_HEADER_LENGTH) {
		log_printf("cvisor: VM %s: the ACPI tables do not fit in 0x%x-0x%x\n", vm->name,
			   ACPI_TABLES_GPA, ACPI_TABLES_END - 1);
		return false;
	}
	/* The BIOS area holds nothing else; the EBDA is empty.  The BIOS data
	 * area's word at 0x40E holds the EBDA's segment (5.2.5.1). */
	bool ok = guest_zero(vm, ACPI_TABLES_GPA, ACPI_TABLES_END - ACPI_TABLES_GPA) &&
		  guest_zero(vm, ACPI_EBDA_GPA, 1024) &&
		  guest_write(vm, ACPI_BDA_EBDA_SEGMENT, ebda_segment, sizeof(ebda_segment));
	ok = ok && guest_write(vm, l.rsdp, t, build_rsdp(t, &l));
	ok = ok && guest_write(vm, l.facs, t, build_facs(t));
	ok = ok && guest_write(vm, l.rsdt, t, build_rsdt(t, &l));
	ok = ok && guest_write(vm, l.xsdt, t, build_xsdt(t, &l));
	ok = ok && guest_write(vm, l.fadt, t, build_fadt(t, &l));
	ok = ok && guest_write(vm, l.madt, t, build_madt(t, vm->vcpu_count));
	ok = ok && guest_write(vm, l.dsdt, acpi_dsdt_aml, acpi_dsdt_aml_size);
	if (!ok)
		log_printf("cvisor: VM %s: the ACPI tables could not be written to guest RAM\n",
			   vm->name);
	return ok;
}
