# The cvisor.ko Linux test bed (included by the top-level Makefile).
#
#   make test-linux     build the test kernel (once, cached; see
#                       tools/build-linux-testbed), build cvisor.ko with
#                       `make module KDIR=...`, boot Linux in Bochs with an
#                       initramfs that loads, checks and unloads it 10 times
#                       (tests/linux/init), and judge the run (tests/linux/run);
#                       then boot it on a CPU model without VMX, where insmod
#                       must refuse with one sentence.
#
# Options: TEST_LINUX_KO=path/to/other.ko tests that module instead of building
# cvisor.ko (it must be named cvisor and print the same lines).  These are
# passed to tests/linux/run: TEST_LINUX_CPUS=N, TEST_LINUX_CYCLES=N,
# TEST_LINUX_TIMEOUT=S, TEST_LINUX_CPU=MODEL, TEST_LINUX_HOTPLUG=none|N,
# TEST_LINUX_PROTECT=0 (skip the protect=1 cycle), TEST_LINUX_SELF_PATCH=optional (its
# self-patch step may skip), TEST_LINUX_KERNEL_ARGS=... (more kernel options),
# TEST_LINUX_LIVE=1 (the whole serial console).  Output: $(BUILD)/linux-testbed/
# (run/serial.log is the serial console, run/bochs.log Bochs's log).

TEST_LINUX_KO ?=
export TEST_LINUX_CPUS TEST_LINUX_CYCLES TEST_LINUX_TIMEOUT TEST_LINUX_CPU TEST_LINUX_LIVE TEST_LINUX_HOTPLUG TEST_LINUX_PROTECT TEST_LINUX_KERNEL_ARGS TEST_LINUX_SELF_PATCH

.PHONY: test-linux
test-linux: deps
	@kdir=$$(tools/build-linux-testbed) || { echo "test-linux: FAIL: cannot build the test kernel (tools/build-linux-testbed)"; exit 1; }; \
	ko="$(TEST_LINUX_KO)"; \
	if [ -z "$$ko" ]; then \
		ko=$(BUILD)/linux/cvisor.ko; \
		$(MAKE) --no-print-directory module KDIR="$$kdir" || { \
			echo "test-linux: FAIL: 'make module KDIR=$$kdir' failed (no $$ko)"; exit 1; }; \
		[ -f "$$ko" ] || { echo "test-linux: FAIL: 'make module' succeeded but $$ko does not exist"; exit 1; }; \
	fi; \
	tests/linux/run $(BUILD) "$$kdir" "$$ko" && \
	echo "test-linux: and on a CPU without VMX (p4_prescott_celeron_336), insmod must refuse" && \
	TEST_LINUX_EXPECT=refuse TEST_LINUX_CPUS=1 TEST_LINUX_CPU=p4_prescott_celeron_336 \
		tests/linux/run $(BUILD)/no-vmx "$$kdir" "$$ko"
