// SPDX-License-Identifier: GPL-2.0
/*
 * kvp's frame code, compiled into the stand-in as it is into kvp_vsock.ko:
 * the host end speaks the same framing.  Built here rather than named in
 * Kbuild as ../../kernel/frame.o, which would put the object (and its .cmd
 * file) into kernel/, where the module build keeps its own.
 */
#include "../../kernel/frame.c"
