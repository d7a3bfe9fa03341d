# SPDX-License-Identifier: GPL-2.0
# The sources of each libFuzzer harness, relative to the repository root:
# FUZZ_<name>_SRCS for selftests/fuzz/<name>_fuzz.c, seeds in corpus/<name>/.

# kvp-hostd without its main(): the harnesses call its handlers.
FUZZ_HOSTD_SRCS := selftests/fuzz/hostd_fuzz.c \
	userspace/kvp-hostd/conn.c userspace/kvp-hostd/ctl.c \
	userspace/kvp-hostd/guest.c userspace/kvp-hostd/items.c \
	userspace/kvp-hostd/listen.c userspace/kvp-hostd/loop.c \
	userspace/kvp-hostd/request.c userspace/kvp-hostd/uuid.c \
	userspace/lib/hostctl.c userspace/lib/log.c \
	kernel/frame.c kernel/ic.c kernel/msg.c kernel/utf16.c

FUZZ_hostd_guest_SRCS := selftests/fuzz/hostd_guest_fuzz.c $(FUZZ_HOSTD_SRCS)
FUZZ_hostd_ctl_SRCS := selftests/fuzz/hostd_ctl_fuzz.c $(FUZZ_HOSTD_SRCS)
