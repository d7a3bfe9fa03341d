// SPDX-License-Identifier: GPL-2.0
/*
 * Encoding and decoding of kvp-hostd control messages (hostctl.h), used by
 * the daemon and by kvpctl alike, so that both read the same bytes the same
 * way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostctl.h"
#include "wire.h"

/* Builds a whole message; returns it (malloc'd) and its length, or NULL. */
unsigned char *kvp_hostctl_encode(const struct kvp_hostctl_msg *msg,
				  size_t *len)
{
	size_t length = 0, n;
	unsigned char *buf, *p;
	uint32_t i;

	for (i = 0; i < msg->count; i++)
		length += strlen(msg->strings[i]) + 1;
	if (length > UINT32_MAX - KVP_HOSTCTL_HDR_LEN)
		return NULL;
	buf = malloc(KVP_HOSTCTL_HDR_LEN + length);
	if (!buf)
		return NULL;
	kvp_put_le32(buf + KVP_HOSTCTL_OFF_MAGIC, KVP_HOSTCTL_MAGIC);
	kvp_put_le16(buf + KVP_HOSTCTL_OFF_VERSION, KVP_HOSTCTL_VERSION);
	kvp_put_le16(buf + KVP_HOSTCTL_OFF_STATUS, msg->status);
	kvp_put_le32(buf + KVP_HOSTCTL_OFF_HRESULT, msg->hresult);
	kvp_put_le16(buf + KVP_HOSTCTL_OFF_COLUMNS, msg->columns);
	kvp_put_le16(buf + KVP_HOSTCTL_OFF_RESERVED, 0);
	kvp_put_le32(buf + KVP_HOSTCTL_OFF_COUNT, msg->count);
	kvp_put_le32(buf + KVP_HOSTCTL_OFF_LENGTH, (uint32_t)length);
	p = buf + KVP_HOSTCTL_HDR_LEN;
	for (i = 0; i < msg->count; i++) {
		n = strlen(msg->strings[i]) + 1;
		memcpy(p, msg->strings[i], n);
		p += n;
	}
	*len = KVP_HOSTCTL_HDR_LEN + length;
	return buf;
}

/*
 * How long the message starting at buf is, once its header is in: lets a
 * reader on a stream know when it has a whole message.  Returns 0 while
 * fewer than KVP_HOSTCTL_HDR_LEN bytes are there, -EPROTO for a header that
 * is not ours (magic, version, reserved), -EMSGSIZE past max bytes.
 */
long kvp_hostctl_frame_len(const unsigned char *buf, size_t have, size_t max)
{
	uint32_t length;

	if (have < KVP_HOSTCTL_HDR_LEN)
		return 0;
	if (kvp_get_le32(buf + KVP_HOSTCTL_OFF_MAGIC) != KVP_HOSTCTL_MAGIC ||
	    kvp_get_le16(buf + KVP_HOSTCTL_OFF_VERSION) != KVP_HOSTCTL_VERSION ||
	    kvp_get_le16(buf + KVP_HOSTCTL_OFF_RESERVED) != 0)
		return -EPROTO;
	length = kvp_get_le32(buf + KVP_HOSTCTL_OFF_LENGTH);
	if (length > max - KVP_HOSTCTL_HDR_LEN)
		return -EMSGSIZE;
	return KVP_HOSTCTL_HDR_LEN + (long)length;
}

/* Points strings[] at each NUL-terminated string; all bytes must be used. */
static int kvp_hostctl_split(const unsigned char *p, size_t length,
			     struct kvp_hostctl_msg *msg)
{
	const unsigned char *end = p + length, *nul;
	uint32_t i;

	for (i = 0; i < msg->count; i++) {
		nul = memchr(p, '\0', end - p);
		if (!nul)
			return -EPROTO;
		msg->strings[i] = (const char *)p;
		p = nul + 1;
	}
	return p == end ? 0 : -EPROTO;
}

/*
 * Decodes a whole message of len bytes (as kvp_hostctl_frame_len said).
 * msg->strings is allocated (free() it) and points into buf.  Returns 0,
 * -EPROTO for a malformed message, or -ENOMEM.
 */
int kvp_hostctl_decode(const unsigned char *buf, size_t len,
		       struct kvp_hostctl_msg *msg)
{
	long frame = kvp_hostctl_frame_len(buf, len, len);
	int err;

	if (frame <= 0)
		return frame ? (int)frame : -EPROTO;
	if ((size_t)frame != len)
		return -EPROTO;
	msg->status = kvp_get_le16(buf + KVP_HOSTCTL_OFF_STATUS);
	msg->hresult = kvp_get_le32(buf + KVP_HOSTCTL_OFF_HRESULT);
	msg->columns = kvp_get_le16(buf + KVP_HOSTCTL_OFF_COLUMNS);
	msg->count = kvp_get_le32(buf + KVP_HOSTCTL_OFF_COUNT);
	/* Each string takes at least its NUL: bounds the allocation. */
	if (msg->count > len - KVP_HOSTCTL_HDR_LEN)
		return -EPROTO;
	if (msg->columns && (msg->count < 1 ||
			     (msg->count - 1) % msg->columns))
		return -EPROTO;
	msg->strings = calloc(msg->count ? msg->count : 1, sizeof(char *));
	if (!msg->strings)
		return -ENOMEM;
	err = kvp_hostctl_split(buf + KVP_HOSTCTL_HDR_LEN,
				len - KVP_HOSTCTL_HDR_LEN, msg);
	if (err) {
		free(msg->strings);
		msg->strings = NULL;
	}
	return err;
}
