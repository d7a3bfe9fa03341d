/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vsock framing (uapi/kvp_vsock.h, Documentation/protocol.rst): parsing
 * and building the 24-byte frame header.  Pure code, shared with userspace
 * (see wire.h): kvp_vsock.ko and kvp-hostd use the same functions.
 */
#ifndef _KVP_FRAME_H
#define _KVP_FRAME_H

#include "wire.h"
#include "uapi/kvp_vsock.h"

struct kvp_frame {
	u16 version;
	u16 type;
	u32 length;
	u16 service;
	u64 id;
};

int kvp_frame_parse(const u8 *hdr, struct kvp_frame *frame);
void kvp_frame_build(u8 *hdr, const struct kvp_frame *frame);

#endif /* _KVP_FRAME_H */
