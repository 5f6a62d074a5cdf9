# make module [KDIR=/path/to/kernel/build]: builds $(BUILD)/linux/cvisor.ko.
#
# The core and cvisor_glue.c are compiled here, freestanding, with the
# kernel's code model (-mcmodel=kernel, no red zone, no SSE) and linked
# into one relocatable object; Kbuild then builds module.c against the
# kernel and links both into cvisor.ko.  KDIR defaults to the running
# kernel's build tree.
KDIR ?= /lib/modules/$(shell uname -r)/build
MODULE_DIR := $(BUILD)/linux/module
MODULE_CFLAGS := -std=c11 -ffreestanding -nostdlib -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-common \
	-fno-asynchronous-unwind-tables -fcf-protection=branch -O2 -g $(WARNINGS) \
	-Icore -Iplatform/linux -Iplatform/x86 $(if $(filter 1,$(RELEASE)),-DCVISOR_RELEASE)
MODULE_CORE_SRCS := $(CORE_SRCS) $(CORE_ASM) platform/linux/cvisor_glue.c \
	platform/x86/descriptors.c platform/x86/isr.S
MODULE_CORE_OBJS := $(patsubst %,$(BUILD)/linux/core/%.o,$(MODULE_CORE_SRCS)) \
	$(BUILD)/linux/core/gen/acpi/dsdt_aml.o

$(BUILD)/linux/core/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [M]  $<")
	$(Q)$(CC) $(MODULE_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/linux/core/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS [M]  $<")
	$(Q)$(CC) $(MODULE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/linux/core/gen/acpi/dsdt_aml.o: $(ACPI_DSDT_C)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC [M]  $<")
	$(Q)$(CC) $(MODULE_CFLAGS) -MMD -MP -c $< -o $@

# platform/linux/cvisor-core.lds gathers the writable variables into whole
# pages that protect=1 protects.
$(MODULE_DIR)/cvisor-core.o_shipped: $(MODULE_CORE_OBJS) platform/linux/cvisor-core.lds
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD -r   $@")
	$(Q)$(LD) -r -T platform/linux/cvisor-core.lds -o $@ $(MODULE_CORE_OBJS)

.PHONY: module
module: $(MODULE_DIR)/cvisor-core.o_shipped platform/linux/module.c platform/linux/bridge.h platform/linux/Kbuild
	@test -f "$(KDIR)/Makefile" || { echo "make module: no kernel build tree at KDIR=$(KDIR) (install linux-headers-$$(uname -r) or pass KDIR=...)" >&2; exit 1; }
	@cp platform/linux/module.c platform/linux/bridge.h platform/linux/Kbuild $(MODULE_DIR)/
	$(Q)$(MAKE) --no-print-directory -C "$(KDIR)" M="$(abspath $(MODULE_DIR))" modules $(if $(Q),>/dev/null)
	@cp $(MODULE_DIR)/cvisor.ko $(BUILD)/linux/cvisor.ko
	@echo "  MODULE  $(BUILD)/linux/cvisor.ko"

-include $(shell find $(BUILD)/linux/core -name '*.d' 2>/dev/null)
