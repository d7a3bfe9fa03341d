# SPDX-License-Identifier: GPL-2.0
#
#   make            modules (against KERNELDIR) and the userspace tools
#   make check      everything: native tests, then the test VM (6.1 kernel)
#   make demo       boot the test VM and show a host and a guest exchanging items
#   make bench      benchmarks: pool engine (native) and end to end (VM)
#   make style      checkpatch --strict over kernel/
#   make sparse     the modules under sparse (C=2)
#
# BUILD holds everything fetched or built for tests (kernel packages, the
# kselftest headers, the initramfs); it is reused between runs.

# The running kernel's headers by default, as for any out-of-tree module;
# the test kernel's are in $(BUILD)/env.sh after scripts/fetch.sh.
KERNELDIR ?= /lib/modules/$(shell uname -r)/build
BUILD ?= $(CURDIR)/build
export BUILD

all: modules tools

modules:
	$(MAKE) -C $(KERNELDIR) M=$(CURDIR) W=1 modules

tools:
	$(MAKE) -C userspace

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

clean:
	-$(MAKE) -C $(KERNELDIR) M=$(CURDIR) clean 2>/dev/null
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

.PHONY: all modules tools sparse style check demo bench clean
