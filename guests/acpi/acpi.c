/*
 * The ACPI tables and PM registers, seen as an OS sees them (ACPI 6.3):
 * the RSDP by the standard scan (5.2.5.1: the EBDA's first KiB, then
 * 0xE0000-0xFFFFF on 16-byte boundaries), every checksum, the XSDT and
 * RSDT, the MADT (one processor per vCPU, the I/O APIC, IRQ 0 -> GSI 2),
 * the FADT's PM blocks, the DSDT's \_S5; then the PM timer's rate against
 * the TSC, whose rate CPUID leaf 0x40000010 gives; last, with every check
 * passed, the S5 write to PM1a_CNT that powers the VM off.
 */
#include "guest.h"
#include "lib/mem.h"

#define PM_TIMER_HZ     3579545u
#define CPUID_TIMING    0x40000010u
#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA     0x511
#define FW_CFG_NB_CPUS  0x0005

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Physical memory (paging is off).  The empty asm hides the constant
 * address from GCC, which otherwise takes a small one for a null pointer
 * plus an offset (-Warray-bounds). */
static const uint8_t *phys(uint64_t pa)
{
	uintptr_t p = (uintptr_t)pa;
	__asm__("" : "+r"(p));
	return (const uint8_t *)p;
}

static bool checksum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

static uint16_t inw(uint16_t port)
{
	return (uint16_t)guest_inw_into(port, 0);
}

/* 5.2.5.1: on 16-byte boundaries, "RSD PTR " with a good 20-byte checksum. */
static const uint8_t *scan_for_rsdp(uint32_t from, uint32_t to)
{
	for (uint32_t a = from; a + 20 <= to; a += 16)
		if (!memcmp(phys(a), "RSD PTR ", 8) && checksum_ok(phys(a), 20))
			return phys(a);
	return NULL;
}

static const uint8_t *find_rsdp(void)
{
	uint32_t ebda = (uint32_t)rd16(phys(0x40E)) << 4;
	const uint8_t *rsdp = NULL;

	say("EBDA at 0x%x", ebda);
	if (ebda >= 0x400 && ebda < 0xA0000)
		rsdp = scan_for_rsdp(ebda, ebda + 1024);
	return rsdp ? rsdp : scan_for_rsdp(0xE0000, 0x100000);
}

/* A table's header and checksum are sane (5.2.6). */
static bool table_ok(const uint8_t *t)
{
	uint32_t len = rd32(t + 4);
	return len >= 36 && len < 0x10000 && checksum_ok(t, len);
}

static const uint8_t *xsdt;

/* The table the XSDT lists with signature sig. */
static const uint8_t *find_table(const char *sig)
{
	uint32_t len = rd32(xsdt + 4);
	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		const uint8_t *t = phys(rd64(xsdt + off));
		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

static unsigned fw_cfg_cpus(void)
{
	guest_outw(FW_CFG_SELECTOR, FW_CFG_NB_CPUS);
	unsigned n = guest_inb(FW_CFG_DATA);
	return n | (unsigned)guest_inb(FW_CFG_DATA) << 8;
}

static void check_madt(const uint8_t *madt)
{
	uint32_t len = rd32(madt + 4);
	unsigned cpus = 0, ioapics = 0, irq0_gsi = 0xFFFF;
	uint32_t ioapic_addr = 0;

	check(rd32(madt + 36) == 0xFEE00000u, "MADT: local APICs at 0xFEE00000");
	for (uint32_t off = 44; off + 2 <= len && madt[off + 1] >= 2; off += madt[off + 1]) {
		const uint8_t *e = madt + off;
		if (e[0] == 0 && (rd32(e + 4) & 1))
			cpus++;
		if (e[0] == 1) {
			ioapics++;
			ioapic_addr = rd32(e + 4);
		}
		if (e[0] == 2 && e[2] == 0 && e[3] == 0)
			irq0_gsi = rd32(e + 4);
	}
	unsigned want = fw_cfg_cpus();
	say("MADT: %u enabled processor(s), fw_cfg says %u", cpus, want);
	check(cpus == want && cpus >= 1, "MADT: one enabled local APIC per vCPU");
	check(ioapics == 1 && ioapic_addr == 0xFEC00000u, "MADT: one I/O APIC at 0xFEC00000");
	check(irq0_gsi == 2, "MADT: ISA IRQ 0 is overridden to GSI 2");
}

/* The first element of \_S5's package (7.4.2): AML ZeroOp, OneOp or
 * BytePrefix after NameOp "_S5_" PackageOp PkgLength NumElements. */
static int s5_slp_typ(const uint8_t *dsdt)
{
	uint32_t len = rd32(dsdt + 4);
	for (uint32_t i = 36; i + 12 < len; i++) {
		if (memcmp(dsdt + i, "_S5_", 4) || dsdt[i + 4] != 0x12)
			continue;
		const uint8_t *p = dsdt + i + 5;
		p += 1 + (p[0] >> 6); /* PkgLength */
		p++;                  /* NumElements */
		if (p[0] == 0x00 || p[0] == 0x01)
			return p[0];
		if (p[0] == 0x0A)
			return p[1];
	}
	return -1;
}

/* The 24-bit PM timer's ticks between two readings. */
static uint32_t pm_ticks_between(uint32_t from, uint32_t to)
{
	return (to - from) & 0xFFFFFFu;
}

/*
 * Reads the PM timer until `ticks` ticks have passed and compares the TSC
 * ticks that took with what the TSC rate predicts.  Tolerance 1%: both
 * clocks come from the same host TSC, so what is left is the TSC rate's
 * rounding to kHz and the few thousand TSC ticks a port read takes at
 * either end, far below 1% of the 1.7 M-tick span measured.
 */
static void measure_pm_timer(uint16_t tmr_port, uint32_t tsc_khz)
{
	const uint32_t ticks = PM_TIMER_HZ / 2; /* half a second */
	uint32_t start = guest_inl(tmr_port) & 0xFFFFFFu, now = start;
	uint64_t tsc_start = guest_rdtsc();
	unsigned reads = 0;

	while (pm_ticks_between(start, now) < ticks) {
		uint32_t next = guest_inl(tmr_port);
		if (next & 0xFF000000u) {
			check(false, "PM timer: bits 31:24 read 0 (24-bit timer)");
			return;
		}
		now = next;
		reads++;
	}
	uint64_t tsc_elapsed = guest_rdtsc() - tsc_start;
	uint32_t pm_elapsed = pm_ticks_between(start, now);
	/* Expected TSC ticks for pm_elapsed ticks: pm_elapsed * tsc_khz * 1000 / 3579545. */
	uint64_t expected = (uint64_t)pm_elapsed * tsc_khz * 1000 / PM_TIMER_HZ;
	uint64_t diff = tsc_elapsed > expected ? tsc_elapsed - expected : expected - tsc_elapsed;
	say("PM timer: %u ticks in %u reads took %llu TSC ticks; %llu expected at %u kHz", pm_elapsed,
	    reads, (unsigned long long)tsc_elapsed, (unsigned long long)expected, tsc_khz);
	check(reads > 1, "PM timer: it counts up");
	check(diff * 100 <= expected, "PM timer: runs at 3.579545 MHz against the TSC (within 1%)");
}

int guest_main(uint32_t magic, const struct multiboot_info *info)
{
	(void)magic;
	(void)info;
	say("ACPI guest: started");

	const uint8_t *rsdp = find_rsdp();
	check(rsdp != NULL, "the RSDP is found by the standard scan");
	if (!rsdp)
		return (int)failures();
	say("RSDP at 0x%x, revision %u", (unsigned)(uintptr_t)rsdp, rsdp[15]);
	check(rsdp[15] >= 2 && rd32(rsdp + 20) == 36 && checksum_ok(rsdp, 36),
	      "RSDP: revision 2 with a good extended checksum");

	xsdt = phys(rd64(rsdp + 24));
	const uint8_t *rsdt = phys(rd32(rsdp + 16));
	check(!memcmp(xsdt, "XSDT", 4) && table_ok(xsdt), "XSDT: signature and checksum");
	check(!memcmp(rsdt, "RSDT", 4) && table_ok(rsdt), "RSDT: signature and checksum");
	bool all_ok = true, same = rd32(rsdt + 4) - 36 == (rd32(xsdt + 4) - 36) / 2;
	for (uint32_t off = 36; off + 8 <= rd32(xsdt + 4); off += 8) {
		const uint8_t *t = phys(rd64(xsdt + off));
		all_ok = all_ok && table_ok(t);
		same = same && rd32(rsdt + 36 + (off - 36) / 2) == (uint32_t)(uintptr_t)t;
	}
	check(all_ok, "every table the XSDT lists has a good checksum");
	check(same, "the RSDT lists the same tables as the XSDT");

	const uint8_t *madt = find_table("APIC");
	check(madt != NULL, "the XSDT lists a MADT");
	if (madt)
		check_madt(madt);

	const uint8_t *fadt = find_table("FACP");
	check(fadt != NULL && rd32(fadt + 4) >= 244, "the XSDT lists an ACPI 2.0+ FADT");
	if (!fadt)
		return (int)failures();
	uint16_t tmr_port = (uint16_t)rd32(fadt + 76);
	uint16_t cnt_port = (uint16_t)rd32(fadt + 64);
	say("FADT: PM1a_EVT 0x%x, PM1a_CNT 0x%x, PM_TMR 0x%x (%u bytes), SCI IRQ %u",
	    rd32(fadt + 56), cnt_port, tmr_port, fadt[91], rd16(fadt + 46));
	check(tmr_port != 0 && fadt[91] == 4 && rd64(fadt + 208 + 4) == tmr_port,
	      "FADT: a PM timer block, the same in PM_TMR_BLK and X_PM_TMR_BLK");
	check(!(rd32(fadt + 112) & (1u << 8)), "FADT: a 24-bit PM timer (TMR_VAL_EXT = 0)");
	check(rd32(fadt + 48) == 0 && (inw(cnt_port) & 1),
	      "no SMI command port, and PM1a_CNT.SCI_EN reads 1: already in ACPI mode");
	const uint8_t *facs = phys(rd32(fadt + 36));
	check(!memcmp(facs, "FACS", 4) && rd32(facs + 4) >= 64 && ((uintptr_t)facs & 63) == 0,
	      "FADT: a 64-byte aligned FACS");
	const uint8_t *dsdt = phys(rd64(fadt + 140));
	check(!memcmp(dsdt, "DSDT", 4) && table_ok(dsdt), "FADT: the DSDT, with a good checksum");
	int slp_typ = s5_slp_typ(dsdt);
	say("DSDT: \\_S5 SLP_TYP %d", slp_typ);
	check(slp_typ >= 0 && slp_typ < 8, "DSDT: a \\_S5 package");

	struct guest_cpuid base = guest_cpuid(0x40000000u, 0);
	struct guest_cpuid timing = guest_cpuid(CPUID_TIMING, 0);
	say("CPUID 0x40000010: TSC %u kHz", timing.eax);
	check(base.eax >= CPUID_TIMING && timing.eax != 0, "CPUID leaf 0x40000010 gives the TSC rate");
	if (timing.eax && tmr_port)
		measure_pm_timer(tmr_port, timing.eax);

	if (failures() || slp_typ < 0)
		return (int)failures();
	say("powering off: SLP_TYP %d with SLP_EN to PM1a_CNT 0x%x", slp_typ, cnt_port);
	guest_outw(cnt_port, (uint16_t)((inw(cnt_port) & ~(7u << 10)) | (unsigned)slp_typ << 10 |
					(1u << 13)));
	check(false, "the S5 write powered the VM off");
	return (int)failures();
}
