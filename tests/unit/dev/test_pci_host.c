/*
 * Tests of core/dev/pci_host.c: configuration mechanism #1 (CONFIG_ADDRESS
 * at 0xCF8, CONFIG_DATA at 0xCFC-0xCFF) of a VM built on the fake platform,
 * through its ports as a guest reaches them, and the 82441FX host bridge at
 * 00:00.0: every access width at every offset, the address register's
 * rules, absent functions, read-only and read/write fields, RESET.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "dev/device.h"
#include "dev/pci_host.h"
#include "dev/ports.h"
#include "fake_cpu.h"
#include "fake_platform.h"
#include "fixture_vm.h"
#include "vm/vm.h"

static struct vm vm;

/* CONFIG_ADDRESS for bus/device/function/register with the enable bit. */
static uint32_t address_of(unsigned bus, unsigned device, unsigned function, unsigned reg)
{
	return PCI_CONFIG_ENABLE | bus << 16 | device << 11 | function << 8 | reg;
}

static void select_config(uint32_t address)
{
	io_port_write(&vm, PCI_CONFIG_ADDRESS_PORT, 4, address);
}

static uint32_t config_address(void)
{
	return io_port_read(&vm, PCI_CONFIG_ADDRESS_PORT, 4);
}

/* A dword of the host bridge's configuration space, read as a guest would. */
static uint32_t bridge_dword(unsigned reg)
{
	select_config(address_of(0, 0, 0, reg));
	return io_port_read(&vm, PCI_CONFIG_DATA_PORT, 4);
}

static void bridge_write(unsigned reg, unsigned offset, unsigned size, uint32_t value)
{
	select_config(address_of(0, 0, 0, reg));
	io_port_write(&vm, (uint16_t)(PCI_CONFIG_DATA_PORT + offset), size, value);
}

/* ---- CONFIG_ADDRESS ---- */

static void test_config_address_reads_back_with_reserved_bits_zero(void **state)
{
	(void)state;
	assert_int_equal(config_address(), 0); /* after RESET */
	select_config(0x80123456u);
	assert_int_equal(config_address(), 0x80123454u); /* bits 1:0 read 0 */
	select_config(0xFFFFFFFFu);
	assert_int_equal(config_address(), 0x80FFFFFCu); /* bits 30:24 read 0 */
	select_config(0x00000810u);
	assert_int_equal(config_address(), 0x00000810u); /* the enable bit off */
}

static void test_only_dword_accesses_reach_config_address(void **state)
{
	(void)state;
	select_config(0x80000008u);
	/* Byte and word writes to 0xCF8-0xCFB are ordinary I/O: nothing there
	 * (0xCF9 is the reset control register, another device). */
	io_port_write(&vm, 0xCF8, 1, 0x44);
	io_port_write(&vm, 0xCF8, 2, 0x1234);
	io_port_write(&vm, 0xCFA, 2, 0x8000);
	io_port_write(&vm, 0xCFA, 1, 0x12);
	io_port_write(&vm, 0xCFB, 1, 0x80);
	assert_int_equal(config_address(), 0x80000008u);
	assert_int_equal(io_port_read(&vm, 0xCF8, 1), 0xFF);
	assert_int_equal(io_port_read(&vm, 0xCF8, 2), 0xFFFF);
	assert_int_equal(io_port_read(&vm, 0xCFA, 1), 0xFF);
	assert_int_equal(io_port_read(&vm, 0xCFA, 2), 0xFFFF);
	assert_int_equal(io_port_read(&vm, 0xCFB, 1), 0xFF);
	/* A dword at 0xCFA starts at no register either. */
	assert_int_equal(io_port_read(&vm, 0xCFA, 4), 0xFFFFFFFFu);
}

static void test_config_data_goes_nowhere_without_the_enable_bit(void **state)
{
	(void)state;
	select_config(0x00000000u); /* 00:00.0 register 0, enable bit clear */
	for (unsigned offset = 0; offset < 4; offset++) {
		assert_int_equal(io_port_read(&vm, (uint16_t)(PCI_CONFIG_DATA_PORT + offset), 1), 0xFF);
		assert_int_equal(io_port_read(&vm, (uint16_t)(PCI_CONFIG_DATA_PORT + offset), 2), 0xFFFF);
		assert_int_equal(io_port_read(&vm, (uint16_t)(PCI_CONFIG_DATA_PORT + offset), 4),
				 0xFFFFFFFFu);
	}
	select_config(PCI_COMMAND);
	io_port_write(&vm, PCI_CONFIG_DATA_PORT, 2, 0x0140);
	assert_int_equal(bridge_dword(PCI_COMMAND) & 0xFFFF, 0x0006); /* not written */
}

/* ---- The host bridge's header ---- */

static void test_host_bridge_identity(void **state)
{
	(void)state;
	assert_int_equal(bridge_dword(0x00), 0x12378086u); /* device 1237h, vendor 8086h */
	assert_int_equal(bridge_dword(0x04), 0x02800006u); /* status 0280h, command 0006h */
	assert_int_equal(bridge_dword(0x08), 0x06000002u); /* class 060000h, revision 02h */
	assert_int_equal(bridge_dword(0x0C), 0x00000000u); /* BIST 0, header type 0, MLT 0 */
}

/* Every width at every offset of the dword selected, against its dword:
 * bytes past 0xCFF belong to other ports and read all ones. */
static void check_every_width_and_offset(unsigned reg)
{
	uint32_t dword = bridge_dword(reg);

	for (unsigned offset = 0; offset < 4; offset++) {
		for (unsigned size = 1; size <= 4; size *= 2) {
			uint32_t want = 0;
			for (unsigned i = 0; i < size; i++) {
				uint32_t byte = offset + i < 4 ? (dword >> (8 * (offset + i))) & 0xFF : 0xFF;
				want |= byte << (8 * i);
			}
			uint32_t got = io_port_read(&vm, (uint16_t)(PCI_CONFIG_DATA_PORT + offset), size);
			if (got != want)
				fail_msg("register 0x%x, offset %u, size %u: read 0x%x, expected 0x%x", reg,
					 offset, size, got, want);
		}
	}
}

static void test_each_access_width_at_each_offset(void **state)
{
	(void)state;
	check_every_width_and_offset(0x00);
	check_every_width_and_offset(0x04);
	check_every_width_and_offset(0x08);
	/* The register bits select the dword; a read does not change them. */
	select_config(address_of(0, 0, 0, 0x02));
	assert_int_equal(io_port_read(&vm, PCI_CONFIG_DATA_PORT + 2, 2), PCI_DEVICE_82441FX);
	assert_int_equal(io_port_read(&vm, PCI_CONFIG_DATA_PORT, 2), PCI_VENDOR_INTEL);
}

static void test_identity_and_class_are_read_only(void **state)
{
	(void)state;
	bridge_write(0x00, 0, 4, 0xFFFFFFFFu);
	bridge_write(0x00, 1, 2, 0x0000);
	bridge_write(0x08, 0, 4, 0x12345678u);
	bridge_write(0x08, 3, 1, 0x00);
	bridge_write(0x0C, 2, 1, 0x80); /* header type: not multi-function */
	bridge_write(0x0C, 3, 1, 0x40); /* BIST: no self-test to start */
	assert_int_equal(bridge_dword(0x00), 0x12378086u);
	assert_int_equal(bridge_dword(0x08), 0x06000002u);
	assert_int_equal(bridge_dword(0x0C), 0x00000000u);
}

static void test_command_keeps_its_fixed_and_writable_bits(void **state)
{
	(void)state;
	/* Bits 1 and 2 stay 1, bits 6 (PERR#) and 8 (SERR#) take the value,
	 * every other bit stays 0; the status half is unchanged. */
	bridge_write(PCI_COMMAND, 0, 2, 0xFFFF);
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800146u);
	bridge_write(PCI_COMMAND, 0, 1, 0x00);
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800106u);
	bridge_write(PCI_COMMAND, 1, 1, 0x00);
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800006u);
	bridge_write(PCI_COMMAND, 1, 1, 0xFF);
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800106u);
	bridge_write(PCI_COMMAND, 0, 4, 0x00000040u);
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800046u);
}

static void test_status_error_bits_clear_by_writing_one_and_are_never_set(void **state)
{
	(void)state;
	bridge_write(PCI_COMMAND, 2, 2, 0xFFFF);
	assert_int_equal(bridge_dword(PCI_COMMAND) >> 16, 0x0280);
	bridge_write(PCI_COMMAND, 0, 4, 0xFFFF0000u);
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800006u);
}

static void test_latency_timer_keeps_bits_7_to_3(void **state)
{
	(void)state;
	bridge_write(0x0C, 1, 1, 0xFF);
	assert_int_equal(bridge_dword(0x0C), 0x0000F800u);
	/* An unaligned word at 0xCFD covers the MLT and the header type. */
	bridge_write(0x0C, 1, 2, 0xFF2A);
	assert_int_equal(bridge_dword(0x0C), 0x00002800u);
	/* A word at 0xCFF: its second byte is port 0xD00, not the next register. */
	bridge_write(0x0C, 3, 2, 0xFFFF);
	assert_int_equal(bridge_dword(0x0C), 0x00002800u);
	assert_int_equal(bridge_dword(0x10), 0);
}

static void test_no_bars_and_device_specific_registers_read_zero(void **state)
{
	(void)state;
	for (unsigned reg = 0x10; reg < 0x100; reg += 4) {
		/* BAR sizing writes all ones: an unimplemented register reads 0. */
		bridge_write(reg, 0, 4, 0xFFFFFFFFu);
		if (bridge_dword(reg) != 0)
			fail_msg("register 0x%x reads 0x%x", reg, bridge_dword(reg));
	}
	assert_int_equal(bridge_dword(0x00), 0x12378086u);
}

/* ---- Absent functions ---- */

static void test_every_other_function_is_absent(void **state)
{
	(void)state;
	static const unsigned absent[][3] = {
		{ 0, 0, 1 }, { 0, 0, 7 }, { 0, 1, 0 }, { 0, 2, 0 }, { 0, 31, 7 },
		{ 1, 0, 0 }, { 255, 0, 0 }, { 0x12, 3, 4 },
	};
	for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		for (unsigned reg = 0; reg < 0x10; reg += 4) {
			select_config(address_of(absent[i][0], absent[i][1], absent[i][2], reg));
			/* Master abort: all ones, whatever the width or offset. */
			assert_int_equal(io_port_read(&vm, PCI_CONFIG_DATA_PORT, 4), 0xFFFFFFFFu);
			assert_int_equal(io_port_read(&vm, PCI_CONFIG_DATA_PORT + 2, 2), 0xFFFF);
			assert_int_equal(io_port_read(&vm, PCI_CONFIG_DATA_PORT + 1, 1), 0xFF);
			/* Writes are dropped: the host bridge does not see them. */
			io_port_write(&vm, PCI_CONFIG_DATA_PORT, 4, 0xFFFFFFFFu);
		}
	}
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800006u);
	assert_int_equal(bridge_dword(0x0C), 0);
}

/* ---- RESET ---- */

static void test_reset_restores_the_defaults(void **state)
{
	(void)state;
	bridge_write(PCI_COMMAND, 0, 2, 0x0140);
	bridge_write(0x0C, 1, 1, 0x40);
	select_config(address_of(0, 3, 0, 0x20));
	spin_lock(&vm.devices.lock);
	vm_reset_devices(&vm);
	spin_unlock(&vm.devices.lock);
	assert_int_equal(config_address(), 0);
	assert_int_equal(bridge_dword(PCI_COMMAND), 0x02800006u);
	assert_int_equal(bridge_dword(0x0C), 0);
}

/* ---- The functions themselves ---- */

static void test_bridge_functions_read_and_write_single_bytes(void **state)
{
	(void)state;
	struct pci_host host = { 0 };
	assert_int_equal(pci_host_bridge_read(&host, PCI_HEADER_TYPE), 0);
	assert_int_equal(pci_host_bridge_read(&host, PCI_REVISION_ID), 0x02);
	assert_int_equal(pci_host_bridge_read(&host, PCI_CLASS_CODE + 2), 0x06);
	pci_host_bridge_write(&host, PCI_COMMAND + 1, 0x01);
	assert_int_equal(host.command, 0x0100);
	pci_host_bridge_write(&host, PCI_VENDOR_ID, 0x00);
	assert_int_equal(pci_host_bridge_read(&host, PCI_VENDOR_ID), 0x86);
	assert_int_equal(pci_host_bridge_read(&host, 0xFF), 0);
}

#define T(f) \
	cmocka_unit_test_prestate_setup_teardown(f, fixture_setup_vm_dev, fixture_teardown_vm, &vm)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config_address_reads_back_with_reserved_bits_zero),
		T(test_only_dword_accesses_reach_config_address),
		T(test_config_data_goes_nowhere_without_the_enable_bit),
		T(test_host_bridge_identity),
		T(test_each_access_width_at_each_offset),
		T(test_identity_and_class_are_read_only),
		T(test_command_keeps_its_fixed_and_writable_bits),
		T(test_status_error_bits_clear_by_writing_one_and_are_never_set),
		T(test_latency_timer_keeps_bits_7_to_3),
		T(test_no_bars_and_device_specific_registers_read_zero),
		T(test_every_other_function_is_absent),
		T(test_reset_restores_the_defaults),
		T(test_bridge_functions_read_and_write_single_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
