/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vsock framing (uapi/kvp_vsock.h, Documentation/protocol.rst): parsing
 * and building the 24-byte frame header and the HELLO and WELCOME
 * payloads.  Pure code, shared with userspace (see wire.h): kvp_vsock.ko
 * and kvp-hostd use the same functions.
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
u32 kvp_frame_hello_build(u8 *payload, u16 version, u32 services);
int kvp_frame_hello_parse(const struct kvp_frame *frame, const u8 *payload,
			  u32 *services);
u32 kvp_frame_welcome_build(u8 *payload, u16 version, u32 services);
int kvp_frame_welcome_parse(const struct kvp_frame *frame, const u8 *payload,
			    u16 hello_version, u32 spoken, u32 *services);
bool kvp_frame_serves(u32 services, u16 service);

#endif /* _KVP_FRAME_H */
