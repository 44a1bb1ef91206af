# vmhooks — build, test, install.  See README.md and docs/HACKING.md.
#
#   make                 build/qemu-hook, build/libvmhooks.a
#   make test-binaries   the same three programs with the test seams
#                        (VMHOOKS_ROOT, VMHOOKS_FAULT, VMHOOKS_EMULATOR) in build/test/
#   make check           unit tests (cmocka), no root, no daemon
#   make test            deps, then every suite CI runs (root)
#   make check SANITIZE=1   the same under ASan+UBSan
#   make integration     real libvirtd + QEMU in a private namespace (root)
#   make integration STACK=trixie|bookworm|all
#                        the same on another Debian release's libvirt + QEMU: a
#                        debootstrap root cached in build/stacks/NAME (tests/stacks)
#   make stack-check STACK=trixie   build (gcc and clang) and unit-test in that root
#   make robust          concurrency, crashes, hostile input (root for read-only /run)
#   make realhost        the hook on the REAL sysfs knobs of this kernel (root; saved and
#                        restored; VMHOOKS_REALHOST=0 skips it on a machine that is not disposable)
#   make bench           measured speed (BENCHMARKS.md)
#   make fuzz            libFuzzer harnesses, FUZZ_TIME seconds each (tests/fuzz)
#   make demo            the same sandbox, one guest, narrated (root)
#   make install         PREFIX=/usr DESTDIR=
#   make deps            apt-get the build and test dependencies (Debian/Ubuntu)

PREFIX      ?= /usr
LIBEXECDIR  ?= $(PREFIX)/libexec
DATADIR     ?= $(PREFIX)/share
SYSCONFDIR  ?= /etc
DESTDIR     ?=

CC          ?= cc
PKG_CONFIG  ?= pkg-config
CFLAGS      ?= -O2 -g
BUILD       ?= build

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-missing-field-initializers
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARNINGS) -fstack-protector-strong \
               -fPIE -Ilib -I$(BUILD)/gen -MMD -MP
ifneq ($(findstring -O0,$(CFLAGS)),-O0)
BASE_CFLAGS += -D_FORTIFY_SOURCE=2
endif
BASE_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,--as-needed

# TEST_SEAMS=1 (make test-binaries, into $(BUILD)/test): the programs read
# VMHOOKS_ROOT, VMHOOKS_FAULT and VMHOOKS_EMULATOR.  The production build
# (make, make install, the packages) is compiled without them.
TEST_SEAMS ?= 0
ifeq ($(TEST_SEAMS),1)
BASE_CFLAGS += -DVH_TEST_SEAMS
endif
# where the test seams live: $(BUILD)/test, or $(BUILD) itself in that build
TEST_OUT := $(if $(filter 1,$(TEST_SEAMS)),$(BUILD),$(BUILD)/test)

ifeq ($(SANITIZE),1)
BASE_CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BASE_LDFLAGS += -fsanitize=address,undefined
endif

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

XML_CFLAGS    := $(call pc_cflags,libxml-2.0)
XML_LIBS      := $(call pc_libs,libxml-2.0)
CMOCKA_CFLAGS := $(call pc_cflags,cmocka)
CMOCKA_LIBS   := $(call pc_libs,cmocka)
JSON_CFLAGS   := $(call pc_cflags,json-c)
JSON_LIBS     := $(call pc_libs,json-c)
VIRT_CFLAGS   := $(call pc_cflags,libvirt libvirt-qemu)
VIRT_LIBS     := $(call pc_libs,libvirt libvirt-qemu)
SEC_CFLAGS    := $(call pc_cflags,libselinux libcap-ng)
CAPNG_LIBS    := $(call pc_libs,libcap-ng)
# the hook loads libselinux only when it judges a label (lib/svirt.c)
SEC_LIBS      := $(call pc_libs,libselinux libcap-ng)

# The real emulator the wrapper execs when the policy names none.
EMULATOR ?= $(firstword $(wildcard /usr/libexec/qemu-kvm) /usr/bin/qemu-system-$(shell uname -m))

ALL_CFLAGS = $(BASE_CFLAGS) $(XML_CFLAGS) $(JSON_CFLAGS) $(SEC_CFLAGS) $(CFLAGS)

LIB_SRCS := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libvmhooks.a

HOOK_SRCS := $(sort $(wildcard hooks/*.c))
HOOK_OBJS := $(HOOK_SRCS:%.c=$(BUILD)/%.o)
HOOK      := $(BUILD)/qemu-hook

WRAPPER_SRCS := $(sort $(wildcard wrapper/*.c))
WRAPPER_OBJS := $(WRAPPER_SRCS:%.c=$(BUILD)/%.o)
WRAPPER      := $(if $(WRAPPER_SRCS),$(BUILD)/qemu-kvm)

TOOL_SRCS := $(sort $(wildcard tools/*.c))
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/%.o)
TOOL      := $(if $(TOOL_SRCS),$(BUILD)/vmhooks)

TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(sort $(wildcard tests/unit/*.c)))
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)

GEN_HDRS := $(BUILD)/gen/policy_rng.h
# changes (and rebuilds every object) when TEST_SEAMS does
SEAMS_STAMP := $(BUILD)/gen/seams.stamp

.SECONDARY:
.PHONY: all check run-unit test-binaries test integration robust realhost demo install uninstall deps clean bench FORCE \
        stack-check
all: $(HOOK) $(WRAPPER) $(TOOL) $(LIB)

test-binaries:
ifeq ($(TEST_SEAMS),1)
	@$(MAKE) --no-print-directory all
else
	@$(MAKE) --no-print-directory BUILD=$(TEST_OUT) TEST_SEAMS=1 all
endif

$(SEAMS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo "TEST_SEAMS=$(TEST_SEAMS)" | cmp -s - $@ || echo "TEST_SEAMS=$(TEST_SEAMS)" > $@

$(BUILD)/gen/policy_rng.h: etc/policy.rng
	@mkdir -p $(dir $@)
	{ echo '/* generated from etc/policy.rng by make; do not edit */'; \
	  echo 'static const unsigned char policy_rng[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c $(SEAMS_STAMP) | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(HOOK): $(HOOK_OBJS) $(LIB)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $(HOOK_OBJS) $(LIB) $(XML_LIBS) $(CAPNG_LIBS)

$(BUILD)/wrapper/%.o: CFLAGS += -DVH_DEFAULT_EMULATOR='"$(EMULATOR)"'
$(BUILD)/qemu-kvm: $(WRAPPER_OBJS) $(LIB)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $(WRAPPER_OBJS) $(LIB) $(JSON_LIBS)

$(BUILD)/tools/%.o: CFLAGS += $(VIRT_CFLAGS) -Itools
$(BUILD)/vmhooks: $(TOOL_OBJS) $(LIB)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(LIB) $(VIRT_LIBS) $(JSON_LIBS) $(XML_LIBS) $(SEC_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_HELPER_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJS) $(LIB) $(JSON_LIBS) $(XML_LIBS) $(SEC_LIBS) $(CMOCKA_LIBS)

# A test program of tests/integration/t-systemd.sh (lib/sdunits.c from the command line); built with
# the test seams (VMHOOKS_ROOT), never installed.
$(BUILD)/tests/sdunits-cli: $(BUILD)/tests/integration/sdunits-cli.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(LIB)

# The unit tests link the library with the seams and drive build/test/'s
# programs; tests/seams.sh shows that the production programs ignore them.
check: all
	@$(MAKE) --no-print-directory BUILD=$(TEST_OUT) TEST_SEAMS=1 PROD_BUILD=$(or $(PROD_BUILD),$(BUILD)) run-unit

run-unit: all $(TEST_BINS)
	@VH_HOOK=$(HOOK) VH_WRAPPER=$(BUILD)/qemu-kvm VH_TOOL=$(BUILD)/vmhooks VALGRIND="$(VALGRIND)" bash tests/run-unit.sh $(TEST_BINS)
	@PROD=$(PROD_BUILD) TEST=$(BUILD) bash tests/seams.sh
	@TEST=$(BUILD) bash tests/confinement.sh
	@PROD=$(PROD_BUILD) bash tests/facts-real.sh

# Everything CI runs: the README's test command.  tests/all.sh runs every
# suite (on, after a failure) and ends with the total and every skip's reason.
test:
	@bash .ci/deps.sh
	@MAKE="$(MAKE)" BUILD="$(BUILD)" bash tests/all.sh

# The libvirt + QEMU generations the integration suite runs on (tests/stacks/stack.sh):
# the host's own release runs directly, any other in a debootstrap root.
STACKS_ALL   := bookworm trixie
STACK_HOST   := $(shell . /etc/os-release 2>/dev/null && echo $$VERSION_CODENAME)
STACK        ?= $(STACK_HOST)
STACKS       := $(if $(filter all,$(STACK)),$(STACKS_ALL),$(STACK))
STACKS_OTHER := $(filter-out $(STACK_HOST),$(STACKS_ALL))

# every suite drives the test binaries (build/test/; stack.sh makes them and
# `all` for the stack); t-install and t-package build and install the
# production ones themselves
integration:
	@rc=0; for s in $(STACKS); do \
	    echo "=== stack $$s"; \
	    BUILD=$(BUILD) bash tests/stacks/stack.sh $$s integration || rc=1; \
	done; exit $$rc

# gcc and clang with -Werror, and the unit tests, against another release's
# compilers and libraries (libxml2, json-c, cmocka, libvirt)
stack-check:
	@rc=0; for s in $(STACKS); do \
	    BUILD=$(BUILD) bash tests/stacks/stack.sh $$s build check || rc=1; \
	    BUILD=$(BUILD) bash tests/stacks/stack.sh $$s build CC=clang BUILD=$(BUILD)/stack-$$s/clang all || rc=1; \
	done; exit $$rc

robust: test-binaries
	@VH_HOOK=$(abspath $(TEST_OUT)/qemu-hook) bash tests/robust/run.sh

# the production hook (no seams); build/test/qemu-hook for the SIGKILLs (VMHOOKS_FAULT)
realhost: all test-binaries
	@BUILD=$(abspath $(BUILD)) bash tests/realhost/run.sh

demo:
	@bash .ci/deps.sh
	$(MAKE) --no-print-directory all test-binaries
	@bash tests/integration/demo.sh

bench: test-binaries
	@BUILD=$(abspath $(TEST_OUT)) bash tests/bench/run.sh

deps:
	@bash .ci/deps.sh

install: all
	@# HOST_SETUP=0 (packages): files only; the maintainer scripts link the hook, add the
	@# AppArmor include lines, label for SELinux and write wrapper.conf on the target host
	install -d $(DESTDIR)$(LIBEXECDIR)/vmhooks $(DESTDIR)$(DATADIR)/vmhooks \
	    $(DESTDIR)$(SYSCONFDIR)/vmhooks $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(DATADIR)/man/man5 $(DESTDIR)$(DATADIR)/man/man8 $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
	    $(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)$(DATADIR)/bash-completion/completions \
	    $(DESTDIR)$(DATADIR)/vmhooks/selinux
	install -m 0755 $(HOOK) $(DESTDIR)$(LIBEXECDIR)/vmhooks/qemu-hook
	install -m 0755 $(BUILD)/qemu-kvm $(DESTDIR)$(LIBEXECDIR)/vmhooks/qemu-kvm
	@# libvirt caches QEMU capabilities by the emulator's ctime: a new wrapper must look new
	touch $(DESTDIR)$(LIBEXECDIR)/vmhooks/qemu-kvm
	install -m 0755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/vmhooks
	install -m 0644 etc/policy.rng $(DESTDIR)$(DATADIR)/vmhooks/policy.rng
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/vmhooks/policy.xml ]; then \
	    echo "kept existing $(SYSCONFDIR)/vmhooks/policy.xml (shipped default: $(DATADIR)/vmhooks/policy.xml)"; \
	else \
	    install -m 0644 etc/policy.xml $(DESTDIR)$(SYSCONFDIR)/vmhooks/policy.xml; \
	fi
	install -m 0644 etc/policy.xml $(DESTDIR)$(DATADIR)/vmhooks/policy.xml
	install -m 0644 man/vmhooks.8 man/vmhooks-hook.8 man/vmhooks-wrapper.8 $(DESTDIR)$(DATADIR)/man/man8/
	install -m 0644 man/vmhooks-policy.5 $(DESTDIR)$(DATADIR)/man/man5/
	install -m 0644 etc/logrotate/vmhooks $(DESTDIR)$(SYSCONFDIR)/logrotate.d/vmhooks
	install -m 0644 etc/tmpfiles/vmhooks.conf $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/vmhooks.conf
	install -m 0644 etc/bash-completion/vmhooks $(DESTDIR)$(DATADIR)/bash-completion/completions/vmhooks
	install -m 0644 etc/selinux/vmhooks.te etc/selinux/vmhooks.fc $(DESTDIR)$(DATADIR)/vmhooks/selinux/
	cd etc/guest && find . -type f | sort | while read -r f; do \
	    install -D -m 0644 "$$f" "$(DESTDIR)$(DATADIR)/vmhooks/guest$${f#.}" || exit 1; done
	install -d -m 0755 $(DESTDIR)/var/lib/vmhooks
	@if [ "$(HOST_SETUP)" = 0 ]; then \
	    install -d $(DESTDIR)$(SYSCONFDIR)/apparmor.d/vmhooks && \
	    install -m 0644 etc/apparmor/vmhooks-libvirtd $(DESTDIR)$(SYSCONFDIR)/apparmor.d/vmhooks/libvirtd && \
	    install -m 0644 etc/apparmor/vmhooks-qemu $(DESTDIR)$(SYSCONFDIR)/apparmor.d/vmhooks/qemu; \
	else \
	    $(HOOK) --wrapper-config --root=$(DESTDIR) && \
	    DESTDIR="$(DESTDIR)" SYSCONFDIR="$(SYSCONFDIR)" SRC=etc WRAPPER="$(LIBEXECDIR)/vmhooks/qemu-kvm" \
	        bash tools/install-confinement.sh && \
	    DESTDIR="$(DESTDIR)" SYSCONFDIR="$(SYSCONFDIR)" HOOK="$(LIBEXECDIR)/vmhooks/qemu-hook" \
	        bash tools/install-hook.sh && \
	    { [ -n "$(DESTDIR)" ] || bash tools/reload-libvirt.sh "runs the hook"; }; \
	fi

uninstall:
	@if [ "$(HOST_SETUP)" = 0 ]; then \
	    rm -f $(DESTDIR)$(SYSCONFDIR)/apparmor.d/vmhooks/libvirtd $(DESTDIR)$(SYSCONFDIR)/apparmor.d/vmhooks/qemu; \
	    rmdir $(DESTDIR)$(SYSCONFDIR)/apparmor.d/vmhooks 2>/dev/null || true; \
	else \
	    DESTDIR="$(DESTDIR)" SYSCONFDIR="$(SYSCONFDIR)" HOOK="$(LIBEXECDIR)/vmhooks/qemu-hook" \
	        bash tools/install-hook.sh --remove && \
	    { [ -n "$(DESTDIR)" ] || bash tools/reload-libvirt.sh "forgets the hook"; } && \
	    DESTDIR="$(DESTDIR)" SYSCONFDIR="$(SYSCONFDIR)" SRC=etc WRAPPER="$(LIBEXECDIR)/vmhooks/qemu-kvm" \
	        bash tools/install-confinement.sh --remove; \
	fi
	rm -f $(DESTDIR)$(LIBEXECDIR)/vmhooks/qemu-hook $(DESTDIR)$(LIBEXECDIR)/vmhooks/qemu-kvm \
	    $(DESTDIR)$(PREFIX)/bin/vmhooks \
	    $(DESTDIR)$(DATADIR)/vmhooks/policy.rng $(DESTDIR)$(DATADIR)/vmhooks/policy.xml \
	    $(DESTDIR)$(DATADIR)/man/man8/vmhooks.8 $(DESTDIR)$(DATADIR)/man/man8/vmhooks-hook.8 \
	    $(DESTDIR)$(DATADIR)/man/man8/vmhooks-wrapper.8 $(DESTDIR)$(DATADIR)/man/man5/vmhooks-policy.5 \
	    $(DESTDIR)$(SYSCONFDIR)/logrotate.d/vmhooks $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/vmhooks.conf \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions/vmhooks \
	    $(DESTDIR)$(DATADIR)/vmhooks/selinux/vmhooks.te $(DESTDIR)$(DATADIR)/vmhooks/selinux/vmhooks.fc \
	    $(DESTDIR)/var/lib/vmhooks/wrapper.conf
	cd etc/guest && find . -type f | while read -r f; do rm -f "$(DESTDIR)$(DATADIR)/vmhooks/guest$${f#.}"; done
	cd etc/guest && find . -depth -type d | while read -r d; do \
	    rmdir "$(DESTDIR)$(DATADIR)/vmhooks/guest$${d#.}" 2>/dev/null || true; done
	-rmdir $(DESTDIR)/var/lib/vmhooks $(DESTDIR)$(DATADIR)/vmhooks/selinux 2>/dev/null
	-rmdir $(DESTDIR)$(LIBEXECDIR)/vmhooks $(DESTDIR)$(DATADIR)/vmhooks 2>/dev/null
	@echo "left $(SYSCONFDIR)/vmhooks/policy.xml, /var/log/vmhooks and /run/vmhooks in place"

clean:
	rm -rf $(BUILD)

# fuzzing (make fuzz FUZZ_TIME=N) and packages (make deb, make rpm) live in their own files
-include tests/fuzz/fuzz.mk
-include packaging.mk

# (not in the Debian roots of tests/stacks, whose /usr/sbin/invoke-rc.d and
# /etc/*.d are no make files, nor in the objects built inside them)
-include $(shell find $(BUILD) \( -path '$(BUILD)/stacks' -o -path '$(BUILD)/stack-*' \) -prune -o -type f -name '*.d' -print 2>/dev/null)
