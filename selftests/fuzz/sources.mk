# SPDX-License-Identifier: GPL-2.0
#
# What each harness links besides its NAME_fuzz.c, relative to the
# repository root: FUZZ_NAME_SRCS := files.  One line per harness.

FUZZ_ic_SRCS := kernel/ic.c kernel/msg.c kernel/utf16.c
FUZZ_utf16_SRCS := kernel/utf16.c
FUZZ_frame_SRCS := kernel/frame.c

# kvp-hostd without its main(): the harnesses call its handlers.
FUZZ_HOSTD_SRCS := selftests/fuzz/hostd_harness.c \
	userspace/kvp-hostd/activation.c userspace/kvp-hostd/config.c \
	userspace/kvp-hostd/conn.c userspace/kvp-hostd/ctl.c \
	userspace/kvp-hostd/guest.c userspace/kvp-hostd/identity.c \
	userspace/kvp-hostd/items.c \
	userspace/kvp-hostd/listen.c userspace/kvp-hostd/loop.c \
	userspace/kvp-hostd/request.c userspace/kvp-hostd/uuid.c \
	userspace/lib/catalog.c userspace/lib/event.c userspace/lib/grant.c \
	userspace/lib/history.c userspace/lib/sign.c \
	userspace/lib/hostctl.c userspace/lib/log.c \
	kernel/avma.c kernel/frame.c kernel/ic.c kernel/msg.c kernel/utf16.c
# Its activation commands (control socket: history, report, audit).
FUZZ_HOSTD_SRCS += userspace/kvp-hostd/report.c userspace/lib/isotime.c
FUZZ_hostd_guest_SRCS := $(FUZZ_HOSTD_SRCS)
FUZZ_hostd_ctl_SRCS := $(FUZZ_HOSTD_SRCS)
# Libraries a harness links besides its sources: FUZZ_NAME_LIBS.
FUZZ_hostd_guest_LIBS := -lsqlite3
FUZZ_hostd_ctl_LIBS := -lsqlite3
FUZZ_pool_SRCS := userspace/lib/pool.c userspace/lib/pool_io.c \
	userspace/lib/pool_index.c userspace/lib/pool_load.c \
	userspace/lib/pool_repair.c kernel/utf16.c userspace/lib/log.c

FUZZ_stock_SRCS := kernel/stock.c kernel/msg.c kernel/utf16.c kernel/ic.c

# The signed documents and the catalog (they need libcrypto: the Makefile's
# LDLIBS).
FUZZ_grant_SRCS := userspace/lib/grant.c userspace/lib/sign.c
FUZZ_catalog_SRCS := userspace/lib/catalog.c userspace/lib/sign.c \
	userspace/lib/grant.c kernel/utf16.c
FUZZ_avma_SRCS := kernel/avma.c

# The guest's licence state files (license.c's loaders; the rest of it and
# what it links come along).
FUZZ_license_SRCS := userspace/lib/license.c userspace/lib/catalog.c \
	userspace/lib/grant.c userspace/lib/sign.c userspace/lib/event.c \
	userspace/lib/isotime.c userspace/lib/log.c kernel/avma.c \
	kernel/utf16.c
