# cvisor: `make run` boots the demo in Bochs, `make test` runs every test.
# Everything is built under build/.

BUILD    ?= build
CPU      ?= tigerlake
CPUS     ?= 2
CC       := gcc
LD       := ld

# `make V=1` shows the full commands.  `make RELEASE=1` builds without the
# software VM-entry checks before each launch (they still run after a failure),
# with exit tracing off by default (boot option trace=ring turns it on) and
# without frame pointers: the build `make bench` measures.
ifeq ($(V),1)
Q :=
else
Q := @
endif

WARNINGS := -Wall -Wextra -Werror
# The freestanding x86-64 hypervisor (core + bare-metal platform).
KERNEL_CFLAGS := -std=c11 -ffreestanding -nostdlib -fno-pic -fno-pie \
	-fno-stack-protector -mno-red-zone -mgeneral-regs-only -mcmodel=small \
	-O2 -g $(WARNINGS) -Icore -Iplatform/baremetal -Iplatform/x86 \
	$(if $(filter 1,$(RELEASE)),-DCVISOR_RELEASE -fomit-frame-pointer,-fno-omit-frame-pointer)
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -T platform/baremetal/linker.ld
# The 32-bit test guests (Multiboot v1 kernels).
GUEST_CFLAGS := -std=c11 -m32 -march=i686 -ffreestanding -nostdlib -fno-pic -fno-pie \
	-fno-stack-protector -mgeneral-regs-only -O2 -g $(WARNINGS) -Icore -Iguests/lib
# Host unit tests: the core against a fake CPU (tests/unit/fake_cpu.h).
UNIT_CFLAGS := -std=c11 -g -O1 $(WARNINGS) -DCVISOR_FAKE_CPU -Icore -Itests/unit \
	-Iplatform/baremetal -fsanitize=address,undefined -fno-omit-frame-pointer

CORE_SRCS  := $(sort $(wildcard core/*/*.c))
CORE_ASM   := $(sort $(wildcard core/*/*.S))
BM_SRCS    := $(sort $(wildcard platform/baremetal/*.c platform/x86/*.c))
BM_ASM     := $(sort $(wildcard platform/baremetal/*.S platform/x86/*.S))
# The DSDT: core/dev/acpi/dsdt.asl, compiled by ACPICA's iasl into AML, then
# into a C array (acpi_dsdt_aml, dev/acpi_tables.h) that every build of the
# core links: the kernel, the unit tests and the Linux module.
ACPI_DSDT_ASL := core/dev/acpi/dsdt.asl
ACPI_DSDT_AML := $(BUILD)/gen/acpi/dsdt.aml
ACPI_DSDT_C   := $(BUILD)/gen/acpi/dsdt_aml.c
KERNEL_OBJS := $(patsubst %,$(BUILD)/kernel/%.o,$(CORE_SRCS) $(CORE_ASM) $(BM_SRCS) $(BM_ASM)) \
	$(BUILD)/kernel/gen/acpi/dsdt_aml.o

# Test guests in bzImage format, booted through the Linux boot protocol:
# guests/<name>/ with a linker.ld of its own, made into a flat file.
BZIMAGE_GUEST_NAMES := linux_boot
GUEST_NAMES := $(sort $(filter-out lib $(BZIMAGE_GUEST_NAMES),$(notdir $(patsubst %/,%,$(dir $(wildcard guests/*/*.c))))))
GUEST_LIB_SRCS := $(sort $(wildcard guests/lib/*.S)) $(filter-out guests/lib/guest.c,$(wildcard guests/lib/*.c)) guests/lib/guest.c core/lib/format.c core/lib/mem.c
GUESTS_BUILT := $(patsubst %,$(BUILD)/guests/%.elf,$(GUEST_NAMES)) \
	$(patsubst %,$(BUILD)/guests/%.bzImage,$(BZIMAGE_GUEST_NAMES))

# Unit tests: every core file except the freestanding libc, plus the pure
# bare-metal page allocator, plus the fakes.
UNIT_CORE_SRCS := $(filter-out core/lib/mem.c,$(CORE_SRCS)) platform/baremetal/page_alloc.c \
	platform/baremetal/acpi.c
# One program per test file; tests/unit/ mirrors core/ (tests/unit/<dir>/test_<file>.c).
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(sort $(shell find tests/unit -name 'test_*.c')))
UNIT_SUPPORT := $(wildcard tests/unit/fake_*.c tests/unit/fixture_*.c)

DEMO_ISO := $(BUILD)/iso/demo.iso
# The demo set `make run` boots: "<guest elf> <module command line>" pairs.
DEMO_MODULE := $(BUILD)/guests/greeting.txt
DEMO_GUESTS := $(BUILD)/guests/hello.elf "hello mem=4M" $(DEMO_MODULE) "+greeting" \
	$(BUILD)/guests/mmio.elf "mmio mem=2M" \
	$(BUILD)/guests/spinner.elf "spinner mem=2M"
# make run GUESTS="a.elf b.elf": one VM per Multiboot kernel, named after its file.
GUESTS ?=
# make run TRACE=1: cvisor prints every VM exit (boot option trace=exits).
CVISOR_OPTIONS ?= $(if $(filter 1,$(TRACE)),trace=exits)
USER_ISO := $(BUILD)/iso/user.iso
RUN_ISO := $(if $(strip $(GUESTS) $(CVISOR_OPTIONS)),$(USER_ISO),$(DEMO_ISO))
RUN_GUESTS := $(if $(strip $(GUESTS)),$(foreach g,$(GUESTS),$(g) "$(basename $(notdir $(g)))"),$(DEMO_GUESTS))

.PHONY: all run test test-unit test-system test-compile-fail deps clean cvisor-check bench
all: $(BUILD)/cvisor.elf $(GUESTS_BUILT) $(DEMO_ISO)

deps:
	@tools/ensure-deps

$(BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/kernel/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

# iasl -we: a warning fails the build; -vs: no banner.
$(ACPI_DSDT_AML): $(ACPI_DSDT_ASL)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  IASL    $<")
	$(Q)iasl -vs -we -p $(basename $@) $< $(if $(Q),>/dev/null)
$(ACPI_DSDT_C): $(ACPI_DSDT_AML)
	@$(if $(Q),echo "  AML2C   $@")
	$(Q){ echo '/* $(ACPI_DSDT_ASL) compiled by iasl (Makefile): do not edit. */'; \
	  echo '#include "dev/acpi_tables.h"'; \
	  echo 'const uint8_t acpi_dsdt_aml[] = {'; \
	  od -An -v -tx1 $< | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const size_t acpi_dsdt_aml_size = sizeof(acpi_dsdt_aml);'; } >$@.tmp && mv $@.tmp $@
$(BUILD)/kernel/gen/acpi/dsdt_aml.o: $(ACPI_DSDT_C)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/cvisor.elf: $(KERNEL_OBJS) platform/baremetal/linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)

.SECONDEXPANSION:
$(BUILD)/guests/%.elf: $$(wildcard guests/$$*/*.c guests/$$*/*.S guests/$$*/*.h) $(GUEST_LIB_SRCS) guests/lib/linker.ld $(wildcard guests/lib/*.h) $(wildcard core/abi/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUEST   $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -static -no-pie -Wl,-m,elf_i386 -Wl,-T,guests/lib/linker.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
		-o $@ $(GUEST_LIB_SRCS) $(wildcard guests/$*/*.c guests/$*/*.S)

# A bzImage test guest: linked at its load address behind its setup
# sectors (its linker.ld), then flattened by load address (objcopy).
$(BUILD)/guests/%.bzImage: $$(wildcard guests/%/*.c guests/%/*.S guests/%/linker.ld) core/lib/mem.c $(wildcard guests/lib/*.h) $(wildcard core/lib/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BZIMAGE $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -static -no-pie -Wl,-m,elf_i386 -Wl,-T,guests/$*/linker.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
		-o $@.elf $(wildcard guests/$*/*.c guests/$*/*.S) core/lib/mem.c
	$(Q)objcopy -O binary $@.elf $@

$(DEMO_MODULE):
	@mkdir -p $(dir $@)
	@echo "Hello from a Multiboot module given to the hello guest." > $@

$(DEMO_ISO): $(BUILD)/cvisor.elf $(GUESTS_BUILT) $(DEMO_MODULE) tools/mkiso
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  ISO     $@")
	$(Q)tools/mkiso $@ $(BUILD)/cvisor.elf $(DEMO_GUESTS)

.PHONY: $(USER_ISO)
$(USER_ISO): $(BUILD)/cvisor.elf $(GUESTS_BUILT) $(DEMO_MODULE)
	@mkdir -p $(dir $@)
	@for g in $(GUESTS); do [ -f "$$g" ] || { echo "make run: guest '$$g' does not exist" >&2; exit 1; }; done
	@$(if $(Q),echo "  ISO     $@")
	$(Q)CVISOR_OPTIONS="$(CVISOR_OPTIONS)" tools/mkiso $@ $(BUILD)/cvisor.elf $(RUN_GUESTS)

# make run: boot the demo (or GUESTS) in Bochs with the serial console shown live.
run: deps all $(RUN_ISO)
	tools/bochs-run --iso $(RUN_ISO) --out $(BUILD)/run --cpu $(CPU) --cpus $(CPUS) --live

# The core and the fakes are compiled once for the host; each test program
# links them.
UNIT_OBJS := $(patsubst %.c,$(BUILD)/unit/obj/%.o,$(UNIT_CORE_SRCS) $(UNIT_SUPPORT)) \
	$(BUILD)/unit/obj/gen/acpi/dsdt_aml.o
$(BUILD)/unit/obj/gen/acpi/dsdt_aml.o: $(ACPI_DSDT_C)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $<")
	$(Q)$(CC) $(UNIT_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/unit/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $<")
	$(Q)$(CC) $(UNIT_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/unit/%: tests/unit/%.c $(UNIT_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  UNIT    $@")
	$(Q)$(CC) $(UNIT_CFLAGS) -MMD -MP -o $@ $< $(UNIT_OBJS) -lcmocka -lZydis

test-unit: $(UNIT_TESTS) test-compile-fail $(BUILD)/cvisor-check test-layering
	@tools/run-unit-tests $(UNIT_TESTS)
	@tests/unit/cvisor-check-test $(BUILD)/cvisor-check

# make test-layering: which core file uses which, read from the core objects'
# symbol tables (tools/layering-check). It fails on a cycle between files and
# on a reference from core/vmx/ to a core file outside vmx/ and lib/. The
# checker's own tests run first (tests/layering/run), then the check of this tree.
.PHONY: test-layering
$(BUILD)/layering-check: tools/layering-check/layering-check.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) -std=c11 -O2 $(WARNINGS) -o $@ $<

test-layering: $(BUILD)/cvisor.elf $(BUILD)/layering-check
	@tests/layering/run $(BUILD)
	@tools/layering-check/run $(BUILD)

# cvisor-check: a Linux tool that tells whether this machine can run cvisor
# (vendor, VMX, IA32_FEATURE_CONTROL, decoded capability MSRs via /dev/cpu/N/msr).
cvisor-check: $(BUILD)/cvisor-check
CHECK_SRCS := $(wildcard tools/cvisor-check/*.c) core/vmx/caps_report.c core/vmx/controls.c
$(BUILD)/cvisor-check: $(CHECK_SRCS) $(wildcard core/vmx/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) -std=c11 -O2 -g $(WARNINGS) -Icore -o $@ $(CHECK_SRCS)

# A VMCS access of the wrong width, or a write to a read-only field, must not compile.
test-compile-fail:
	@tests/unit/compile_fail/check "$(CC) $(KERNEL_CFLAGS) -fsyntax-only"

test-system: all
	@tests/system/run-all $(BUILD)

test: deps
	@$(MAKE) --no-print-directory all
	@tools/test-summary "$(MAKE) --no-print-directory test-unit" "$(MAKE) --no-print-directory test-system" \
		"$(MAKE) --no-print-directory test-linux" "$(MAKE) --no-print-directory test-linux-guest"

# make bench: exit round trips (flat and 64-bit guest), APIC operations,
# compute overhead, footprint and the Linux boot, measured in Bochs on a
# RELEASE=1 build (under $(BUILD)/bench-release); table on stdout, JSON in
# bench/results.json.  BENCH_SKIP_LINUX=1 skips the two Linux boots.
BENCH_BUILD := $(BUILD)/bench-release
bench: deps
	@$(MAKE) --no-print-directory BUILD=$(BENCH_BUILD) RELEASE=1 \
		$(BENCH_BUILD)/cvisor.elf $(BENCH_BUILD)/guests/bench.elf $(BENCH_BUILD)/guests/compute.elf \
		$(BENCH_BUILD)/unit/bench_footprint
	@tools/bench $(BENCH_BUILD)

clean:
	rm -rf $(BUILD)

include platform/linux/module.mk
include tests/linux/linux.mk
include tests/linux-guest/linux-guest.mk
include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD)/kernel $(BUILD)/unit -name '*.d' 2>/dev/null)
