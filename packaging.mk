# packaging.mk — the .deb and the .rpm, included by the Makefile.
#
#   make deb            dpkg-buildpackage -us -uc -b on a clean copy of the tree
#                       -> $(BUILD)/pkg/vmhooks_VERSION_ARCH.deb
#   make rpm            rpmbuild -bb vmhooks.spec on the source tarball
#                       -> $(BUILD)/pkg/vmhooks-VERSION-1.ARCH.rpm
#                       On a host that is not rpm-based (Debian), with --nodeps
#                       (the BuildRequires name openEuler/Fedora packages) and,
#                       without selinux-policy-devel, --without selinux_module.
#   make tarball        $(BUILD)/pkg/vmhooks-VERSION.tar.gz (rpmbuild -ta takes it)
#   make package-test   tests/integration/t-package.sh (root): both packages build,
#                       list the expected files, and the .deb installed in the
#                       integration sandbox runs guests
#
# PKG_CHECK=0 skips the unit tests inside the package builds
# (DEB_BUILD_OPTIONS=nocheck, rpmbuild --without check); package-test sets it,
# since `make check` runs them anyway.
#
# The builds run in a temporary directory: their trees hold directories
# named *.d (apparmor.d, tmpfiles.d), which must not appear under $(BUILD),
# whose *.d files the Makefile includes.  Only the packages land in
# $(BUILD)/pkg.

VH_PKG_VERSION := $(shell sed -n 's/^\#define VH_VERSION "\(.*\)"/\1/p' lib/version.h)
PKG_DIR        := $(BUILD)/pkg
PKG_CHECK      ?= 1
PKG_TMP        ?= $(or $(TMPDIR),/tmp)
RPMBUILD_FLAGS ?= $(if $(shell rpm -q rpm >/dev/null 2>&1 && echo yes),,--nodeps) \
                  $(if $(wildcard /usr/share/selinux/devel/Makefile),,--without selinux_module) \
                  $(if $(filter 0,$(PKG_CHECK)),--without check)

.PHONY: deb rpm tarball package-test pkg-check-version

pkg-check-version:
	@test -n "$(VH_PKG_VERSION)" || { echo "packaging: no VH_VERSION in lib/version.h" >&2; exit 1; }
	@grep -q "^vmhooks ($(VH_PKG_VERSION)[-)]" debian/changelog || \
	    { echo "packaging: debian/changelog does not start at $(VH_PKG_VERSION)" >&2; exit 1; }
	@grep -q "^Version: *$(VH_PKG_VERSION)$$" vmhooks.spec || \
	    { echo "packaging: vmhooks.spec is not Version: $(VH_PKG_VERSION)" >&2; exit 1; }

# Shell: a new temporary $$work with the tree as a fresh clone has it in
# $$work/vmhooks-VERSION (the files git tracks, and untracked ones it does
# not ignore: never build/ or editor droppings); removed when the recipe ends.
# Outside a git checkout (a release tarball, also one unpacked inside some
# other checkout) every file but build/.
VH_PKG_STAGE = set -e; work=$$(mktemp -d $(PKG_TMP)/vmhooks-pkg.XXXXXX); trap 'rm -rf "$$work"' EXIT; \
	src=$$work/vmhooks-$(VH_PKG_VERSION); mkdir -p "$$src" $(PKG_DIR); \
	if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" ]; then \
	    git ls-files -z --cached --others --exclude-standard | \
	        xargs -0 sh -c 'for f; do [ -f "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	        tar --null -T - -cf - | tar -xf - -C "$$src"; \
	else \
	    tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$$src"; \
	fi

deb: pkg-check-version
	@$(VH_PKG_STAGE); \
	echo "packaging: dpkg-buildpackage -us -uc -b in $$src"; \
	(cd "$$src" && DEB_BUILD_OPTIONS="$(strip $(DEB_BUILD_OPTIONS) $(if $(filter 0,$(PKG_CHECK)),nocheck))" \
	    dpkg-buildpackage -us -uc -b); \
	rm -f $(PKG_DIR)/vmhooks_$(VH_PKG_VERSION)_*; \
	mv "$$work"/vmhooks_$(VH_PKG_VERSION)_* $(PKG_DIR)/; \
	ls $(PKG_DIR)/vmhooks_$(VH_PKG_VERSION)_*.deb

tarball: pkg-check-version
	@$(VH_PKG_STAGE); \
	tar -C "$$work" -czf $(PKG_DIR)/vmhooks-$(VH_PKG_VERSION).tar.gz vmhooks-$(VH_PKG_VERSION); \
	ls $(PKG_DIR)/vmhooks-$(VH_PKG_VERSION).tar.gz

rpm: tarball
	@set -e; work=$$(mktemp -d $(PKG_TMP)/vmhooks-rpm.XXXXXX); trap 'rm -rf "$$work"' EXIT; \
	mkdir -p "$$work/SOURCES"; cp $(PKG_DIR)/vmhooks-$(VH_PKG_VERSION).tar.gz "$$work/SOURCES/"; \
	echo "packaging: rpmbuild -bb $(strip $(RPMBUILD_FLAGS)) vmhooks.spec"; \
	rpmbuild -bb --define "_topdir $$work" $(strip $(RPMBUILD_FLAGS)) vmhooks.spec; \
	rm -f $(PKG_DIR)/vmhooks-$(VH_PKG_VERSION)-*.rpm; \
	mv "$$work"/RPMS/*/vmhooks-$(VH_PKG_VERSION)-*.rpm $(PKG_DIR)/; \
	ls $(PKG_DIR)/vmhooks-$(VH_PKG_VERSION)-*.rpm

package-test: all
	@BUILD=$(BUILD) bash tests/integration/t-package.sh
