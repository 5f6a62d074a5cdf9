# The Linux guest of cvisor's type-1 hypervisor (included by the top-level
# Makefile).
#
#   make test-linux-guest   build the test kernel (once, cached; the same
#                           kernel as the cvisor.ko test bed, see
#                           tools/build-linux-testbed), cvisor.elf and the
#                           spinner guest, boot cvisor in Bochs with a 2-vCPU
#                           Linux VM whose /init checks the PC platform from
#                           the inside (tests/linux-guest/init) and the
#                           spinner beside it, and judge the run
#                           (tests/linux-guest/run).
#   make run-linux          the same boot with the whole serial console shown
#                           live and every kernel message on it.
#
# Options, passed to tests/linux-guest/run: TEST_LINUX_GUEST_CPU=MODEL
# (default tigerlake; `make run-linux CPU=corei7_skylake_x` works too),
# TEST_LINUX_GUEST_CPUS=N, TEST_LINUX_GUEST_MEM=SIZE,
# TEST_LINUX_GUEST_TIMEOUT=S, TEST_LINUX_GUEST_LIVE=1,
# TEST_LINUX_GUEST_VERBOSE=1, TEST_LINUX_GUEST_CMDLINE="more kernel words",
# TEST_LINUX_GUEST_CVISOR="cvisor options".  Output: $(BUILD)/linux-guest/
# (run/serial.log is the serial console, run/bochs.log Bochs's log).

export TEST_LINUX_GUEST_CPU TEST_LINUX_GUEST_CPUS TEST_LINUX_GUEST_MEM TEST_LINUX_GUEST_TIMEOUT \
	TEST_LINUX_GUEST_LIVE TEST_LINUX_GUEST_VERBOSE TEST_LINUX_GUEST_CMDLINE TEST_LINUX_GUEST_CVISOR

# make run-linux CPU=... CPUS=...: the model and count given to `make run`.
LINUX_GUEST_RUN_ENV := TEST_LINUX_GUEST_LIVE=1 TEST_LINUX_GUEST_VERBOSE=1 \
	$(if $(filter command line environment,$(origin CPU)),TEST_LINUX_GUEST_CPU=$(CPU)) \
	$(if $(filter command line environment,$(origin CPUS)),TEST_LINUX_GUEST_CPUS=$(CPUS))

.PHONY: test-linux-guest run-linux
test-linux-guest run-linux: deps $(BUILD)/cvisor.elf $(BUILD)/guests/spinner.elf
	@kdir=$$(tools/build-linux-testbed) || { \
		echo "$@: FAIL: cannot build the test kernel (tools/build-linux-testbed)"; exit 1; }; \
	$(if $(filter run-linux,$@),$(LINUX_GUEST_RUN_ENV)) tests/linux-guest/run $(BUILD) "$$kdir"
