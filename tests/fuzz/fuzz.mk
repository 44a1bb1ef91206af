# tests/fuzz/fuzz.mk — libFuzzer harnesses (clang), included by the Makefile.
#
#   make fuzz                     every harness 10 s on a copy of its corpus
#   make fuzz FUZZ_TIME=300       ... 5 minutes each
#   make fuzz FUZZ_ONLY="argv state"   only these harnesses
#   make fuzz FUZZ_ARGS="-jobs=2 -workers=2"   extra libFuzzer flags
#   make fuzz-build               build the harnesses only
#   make fuzz-minimize            merge what the last run found into tests/fuzz/corpus (-merge=1)
#
# The harnesses (tests/fuzz/fuzz_NAME.c) and the library are built with
# -fsanitize=fuzzer,address,undefined into $(BUILD)/fuzz, apart from the
# normal objects.  tests/fuzz/run.sh runs them: per harness it prints the
# executions, the coverage and whether it found anything; a crash, a leak,
# a timeout or running out of memory fails the harness, and the input is
# kept in $(BUILD)/fuzz/crashes/NAME/ with a .repro script.  The last line
# is "N passed, N failed, N skipped"; make fails when one did.  See tests/fuzz/README.md.

FUZZ_TIME    ?= 10
FUZZ_CC      ?= clang
FUZZ_ONLY    ?=
FUZZ_ARGS    ?=
FUZZ_DIR     := $(BUILD)/fuzz

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -DVH_TEST_SEAMS $(WARNINGS) -g -O1 $(FUZZ_SAN) -Ilib -I$(BUILD)/gen -Itests/fuzz \
                $(XML_CFLAGS) $(JSON_CFLAGS) $(SEC_CFLAGS) -MMD -MP

FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIBOBJS := $(LIB_SRCS:%.c=$(FUZZ_DIR)/%.o)
FUZZ_LIB     := $(FUZZ_DIR)/libvmhooks-fuzz.a

.PHONY: fuzz fuzz-build fuzz-minimize

# A clear message when clang or its libFuzzer/sanitizer runtimes are missing.
$(FUZZ_DIR)/toolchain.ok:
	@mkdir -p $(dir $@)
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
	    'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
	    >$(FUZZ_DIR)/toolchain.c
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $(FUZZ_DIR)/toolchain $(FUZZ_DIR)/toolchain.c \
	    2>$(FUZZ_DIR)/toolchain.log || \
	    { echo "fuzz: '$(FUZZ_CC) -fsanitize=fuzzer,address,undefined' does not link (see $(FUZZ_DIR)/toolchain.log);" \
	           "install clang and its runtimes (Debian 12: apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	@touch $@

$(FUZZ_DIR)/lib/%.o: lib/%.c | $(GEN_HDRS) $(FUZZ_DIR)/toolchain.ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/tests/fuzz/%.o: tests/fuzz/%.c | $(GEN_HDRS) $(FUZZ_DIR)/toolchain.ok
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIBOBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(XML_LIBS) $(JSON_LIBS) $(SEC_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@FUZZ_TIME="$(FUZZ_TIME)" FUZZ_DIR="$(FUZZ_DIR)" FUZZ_ARGS="$(FUZZ_ARGS)" \
	    bash tests/fuzz/run.sh $(if $(strip $(FUZZ_ONLY)),$(FUZZ_ONLY),$(FUZZ_NAMES))

fuzz-minimize: $(FUZZ_BINS)
	@FUZZ_DIR="$(FUZZ_DIR)" bash tests/fuzz/run.sh --minimize $(if $(strip $(FUZZ_ONLY)),$(FUZZ_ONLY),$(FUZZ_NAMES))
