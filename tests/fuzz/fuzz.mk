# make fuzz [SEED=N] [CASES=N] [CPU=MODEL] [FOCUS=NAME]: the hostile-guest fuzzer
# (README.md, "Fuzzing"; tests/fuzz/run does the work).  Each case is a
# fresh VM running guests/fuzz with its own seed.  SEED defaults to a random
# number below 2^31 (not the clock: two runs minutes apart would share most
# of their seeds), so every run explores new cases; the run prints its seed
# range, a finding prints its seed,
# and `make fuzz SEED=<seed> CASES=1` replays it with the whole console
# output (add TRACE=1 to see every VM exit).  FOCUS=task (or pagewalk,
# protect, mmio ...: guests/fuzz/fuzz.c, focus_keys) runs one focus alone.  The default budget takes
# about ten minutes in Bochs.
FUZZ_DEFAULT_CASES := 10000

.PHONY: fuzz
fuzz: deps
	@$(MAKE) --no-print-directory $(BUILD)/cvisor.elf $(BUILD)/guests/fuzz.elf
	@CVISOR_OPTIONS="$(CVISOR_OPTIONS)" tests/fuzz/run --build $(BUILD) --cpu $(CPU) \
		--seed $(if $(SEED),$(SEED),$(shell od -An -N4 -tu4 /dev/urandom | awk '{ print $$1 % 2147483648 }')) \
		--cases $(if $(CASES),$(CASES),$(FUZZ_DEFAULT_CASES)) $(if $(FOCUS),--focus $(FOCUS))
