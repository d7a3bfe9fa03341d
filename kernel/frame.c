// SPDX-License-Identifier: GPL-2.0
/*
 * vsock frame header parsing and building, shared by kvp_vsock.ko and the
 * host daemon.
 */
#include "frame.h"

/*
 * Checks a received header: magic, a version we may speak, zero flags and a
 * payload that fits one IC packet.  The caller checks the type against its
 * connection state.  Returns 0 or -EINVAL.
 */
int kvp_frame_parse(const u8 *hdr, struct kvp_frame *frame)
{
	if (kvp_get_le32(hdr + KVP_VSOCK_OFF_MAGIC) != KVP_VSOCK_MAGIC)
		return -EINVAL;
	if (kvp_get_le16(hdr + KVP_VSOCK_OFF_FLAGS) != 0)
		return -EINVAL;
	frame->version = kvp_get_le16(hdr + KVP_VSOCK_OFF_VERSION);
	frame->type = kvp_get_le16(hdr + KVP_VSOCK_OFF_TYPE);
	frame->length = kvp_get_le32(hdr + KVP_VSOCK_OFF_LENGTH);
	frame->service = kvp_get_le16(hdr + KVP_VSOCK_OFF_SERVICE);
	frame->id = kvp_get_le64(hdr + KVP_VSOCK_OFF_ID);
	if (frame->version == 0 || frame->length > KVP_VSOCK_MAX_PAYLOAD)
		return -EINVAL;
	/* Version 1 has one u32 of flags where version 2 has the service. */
	if (frame->version == 1 && frame->service != 0)
		return -EINVAL;
	return 0;
}

void kvp_frame_build(u8 *hdr, const struct kvp_frame *frame)
{
	kvp_put_le32(hdr + KVP_VSOCK_OFF_MAGIC, KVP_VSOCK_MAGIC);
	kvp_put_le16(hdr + KVP_VSOCK_OFF_VERSION, frame->version);
	kvp_put_le16(hdr + KVP_VSOCK_OFF_TYPE, frame->type);
	kvp_put_le32(hdr + KVP_VSOCK_OFF_LENGTH, frame->length);
	kvp_put_le16(hdr + KVP_VSOCK_OFF_SERVICE, frame->service);
	kvp_put_le16(hdr + KVP_VSOCK_OFF_FLAGS, 0);
	kvp_put_le64(hdr + KVP_VSOCK_OFF_ID, frame->id);
}
