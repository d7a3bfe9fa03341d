# SPDX-License-Identifier: GPL-2.0
#
# What each harness links besides its NAME_fuzz.c, relative to the
# repository root: FUZZ_NAME_SRCS := files.  One line per harness.

FUZZ_ic_SRCS := kernel/ic.c kernel/msg.c kernel/utf16.c
FUZZ_utf16_SRCS := kernel/utf16.c
FUZZ_frame_SRCS := kernel/frame.c
