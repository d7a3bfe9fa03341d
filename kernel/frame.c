// SPDX-License-Identifier: GPL-2.0
/*
 * vsock frame header parsing and building, shared by kvp_vsock.ko and the
 * host daemon.
 */
#include "frame.h"

/*
 * Checks a received header: magic, a version we may speak, zero flags, no
 * service in version 1 (where its bytes were flags) and a payload that fits
 * one IC packet.  The caller checks the type, version and service against
 * its connection.  Returns 0 or -EINVAL.
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
	if (frame->version == 1 && frame->service)
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

static u32 kvp_frame_welcome_len(u16 version)
{
	return version >= 2 ? KVP_VSOCK_WELCOME_LEN : 0;
}

/* Versions 1 and 2: an empty HELLO, from a guest of the KVP exchange only. */
static u32 kvp_frame_hello_len(u16 version)
{
	return version >= 3 ? KVP_VSOCK_HELLO_LEN : 0;
}

/*
 * Writes the HELLO payload of a version (none in versions 1 and 2, the bit
 * mask of the services the guest speaks from version 3 on) into payload,
 * which has room for KVP_VSOCK_HELLO_LEN bytes.  Returns its length.
 */
u32 kvp_frame_hello_build(u8 *payload, u16 version, u32 services)
{
	u32 len = kvp_frame_hello_len(version);

	if (len)
		kvp_put_le32(payload, services);
	return len;
}

/*
 * The host's check of a guest's first frame (frame parsed, payload holding
 * frame->length bytes): a HELLO of service 0 and id 0 with the payload of
 * its version.  A version above ours may only have appended to version 3's
 * payload, so its first 4 bytes are the mask and the rest is not ours to
 * read.  Sets *services to the services the guest speaks (versions 1 and
 * 2: KVP only), which always hold the KVP exchange.  Returns 0 or -EINVAL.
 */
int kvp_frame_hello_parse(const struct kvp_frame *frame, const u8 *payload,
			  u32 *services)
{
	u32 len = kvp_frame_hello_len(frame->version);

	if (frame->type != KVP_VSOCK_HELLO || frame->id || frame->service)
		return -EINVAL;
	if (frame->version > KVP_VSOCK_VERSION_MAX ? frame->length < len :
						     frame->length != len)
		return -EINVAL;
	*services = len ? kvp_get_le32(payload) : 1U << KVP_VSOCK_SERVICE_KVP;
	return kvp_frame_serves(*services, KVP_VSOCK_SERVICE_KVP) ? 0 : -EINVAL;
}

/*
 * Writes the WELCOME payload of a version (none in version 1, the services
 * bit mask from version 2 on) into payload, which has room for
 * KVP_VSOCK_WELCOME_LEN bytes.  Returns its length.
 */
u32 kvp_frame_welcome_build(u8 *payload, u16 version, u32 services)
{
	u32 len = kvp_frame_welcome_len(version);

	if (len)
		kvp_put_le32(payload, services);
	return len;
}

/*
 * The guest's check of the host's answer to its HELLO (frame parsed,
 * payload holding frame->length bytes): a WELCOME of service 0 and id 0,
 * of a version no higher than the HELLO's, with the payload of that
 * version; from version 3 on its mask holds the KVP exchange and only
 * services the HELLO named (spoken).  Sets *services to the services of
 * the connection (version 1: KVP only).  Returns 0 or -EINVAL.
 */
int kvp_frame_welcome_parse(const struct kvp_frame *frame, const u8 *payload,
			    u16 hello_version, u32 spoken, u32 *services)
{
	if (frame->type != KVP_VSOCK_WELCOME || frame->id || frame->service ||
	    frame->version > hello_version ||
	    frame->length != kvp_frame_welcome_len(frame->version))
		return -EINVAL;
	/* Version 1 has one service, the KVP exchange. */
	*services = frame->length ? kvp_get_le32(payload) :
				    1U << KVP_VSOCK_SERVICE_KVP;
	/* Every host serves the KVP exchange. */
	if (!kvp_frame_serves(*services, KVP_VSOCK_SERVICE_KVP) ||
	    (frame->version >= 3 && *services & ~spoken))
		return -EINVAL;
	return 0;
}

/* Whether a services bit mask (as in HELLO and WELCOME) holds service. */
bool kvp_frame_serves(u32 services, u16 service)
{
	return service < 32 && (services >> service & 1);
}
