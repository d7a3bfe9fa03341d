# SPDX-License-Identifier: GPL-2.0
#
#   make            modules (against KERNELDIR) and the userspace tools
#   make check      everything: native tests, then the test VM on Debian's
#                   6.1 and 6.12 kernels (KERNELS=6.1 or KERNELS=6.12 picks one)
#   make demo       boot the test VM and show a host and a guest exchanging items
#   make bench      benchmarks: pool engine and kvp-hostd's activations
#                   (native), end to end and activation in the guest (VM)
#                   (demo and bench boot 6.1; KERNELS="6.1 6.12" boots both)
#   make crashtest  the pool engine's crash trials, long form: writers
#                   killed at random while a cloud-init-style appender runs
#                   (CRASH_ROUNDS rounds, 1000 by default; make check runs
#                   50 as part of the native tests)
#   make fuzz       the libFuzzer harnesses of selftests/fuzz (clang, ASan +
#                   UBSan); FUZZ_SECONDS=N also runs each for N seconds
#   make style      checkpatch --strict over kernel/
#   make sparse     the modules under sparse (C=2)
#   make modules-6.12  the modules against Debian's 6.12 headers (fetched),
#                   built in $(BUILD)/mod-6.12
#   make install    modules (modules_install, INSTALL_MOD_PATH=$(DESTDIR)),
#                   tools and man pages under $(DESTDIR)$(PREFIX), the
#                   product catalog in $(DESTDIR)$(CATALOGDIR);
#                   install-modules and install-tools do one half each
#   make install-udev  the opt-in udev rule that gives the Hyper-V KVP
#                   device to kvp_vmbus at boot, under $(DESTDIR)$(UDEVDIR)
#                   (Documentation/hyperv.rst); not part of install
#
# BUILD holds everything fetched or built for tests (kernel packages, the
# kselftest headers, the initramfs); it is reused between runs.

# The running kernel's headers by default, as for any out-of-tree module;
# the test kernel's are in $(BUILD)/env.sh after scripts/fetch.sh.
KERNELDIR ?= /lib/modules/$(shell uname -r)/build
BUILD ?= $(CURDIR)/build
export BUILD
PREFIX ?= /usr
UDEVDIR ?= /usr/lib/udev/rules.d
# Where lib/catalog.c reads the shipped catalog (KVP_CATALOG_DIR): not
# under PREFIX, the tools look there whatever PREFIX was.
CATALOGDIR := /usr/share/kvp/catalog.d

all: modules tools

modules:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) W=1 modules

tools:
	$(MAKE) -C userspace

install: install-modules install-tools

install-modules: modules
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) modules_install

install-tools: tools
	install -D -m 0755 userspace/kvpd/kvpd $(DESTDIR)$(PREFIX)/sbin/kvpd
	install -D -m 0755 userspace/kvp-hostd/kvp-hostd $(DESTDIR)$(PREFIX)/sbin/kvp-hostd
	install -D -m 0755 userspace/kvpctl/kvpctl $(DESTDIR)$(PREFIX)/bin/kvpctl
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 Documentation/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8
	install -d $(DESTDIR)$(CATALOGDIR)
	install -m 0644 userspace/catalog/*.conf $(DESTDIR)$(CATALOGDIR)

# Opt-in: not part of install.  The rule runs kvpctl where install-tools
# puts it.
install-udev:
	install -d $(DESTDIR)$(UDEVDIR)
	sed 's#/usr/bin/kvpctl#$(PREFIX)/bin/kvpctl#' \
		userspace/udev/90-kvp-vmbus-claim.rules \
		>$(DESTDIR)$(UDEVDIR)/90-kvp-vmbus-claim.rules
	chmod 0644 $(DESTDIR)$(UDEVDIR)/90-kvp-vmbus-claim.rules

# The same sources against Debian's 6.12 headers, built in $(BUILD)/mod-6.12.
modules-6.12:
	scripts/modules.sh --kernel 6.12

sparse:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) C=2 W=1 modules

style:
	scripts/style.sh

check:
	scripts/check.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

CRASH_ROUNDS ?= 1000
crashtest:
	$(MAKE) -C selftests out/native/pool_trials_test
	KVP_CRASH_ROUNDS=$(CRASH_ROUNDS) selftests/out/native/pool_trials_test

fuzz:
	$(MAKE) -C selftests/fuzz $(if $(FUZZ_SECONDS),run)

clean:
	-$(MAKE) -C $(KERNELDIR) M=$(CURDIR) clean 2>/dev/null
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	$(MAKE) -C selftests/fuzz clean

.PHONY: all modules modules-6.12 tools install install-modules install-tools install-udev sparse style check demo bench crashtest fuzz clean
