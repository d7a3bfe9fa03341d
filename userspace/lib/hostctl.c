// SPDX-License-Identifier: GPL-2.0
/*
 * Encoding and decoding of kvp-hostd control messages (hostctl.h), used by
 * the daemon and by kvpctl alike, so that both read the same bytes the same
 * way; and the client's call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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

static int kvp_hostctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int kvp_hostctl_write(int fd, const unsigned char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads one whole reply; returns it (malloc'd) and its length, or NULL. */
static unsigned char *kvp_hostctl_read(int fd, size_t *len)
{
	unsigned char *buf = NULL, *p;
	size_t have = 0, cap = 0;
	long want = 0;
	ssize_t n;

	while (!want || have < (size_t)want) {
		if (have == cap) {
			cap = cap ? 2 * cap : 4096;
			p = realloc(buf, cap);
			if (!p)
				break;
			buf = p;
		}
		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += n;
		want = kvp_hostctl_frame_len(buf, have, KVP_HOSTCTL_MAX_REPLY);
		if (want < 0)
			break;
	}
	if (want <= 0 || have != (size_t)want) {
		free(buf);
		return NULL;
	}
	*len = have;
	return buf;
}

/*
 * The client side: one request on a new connection to the daemon's socket
 * at path, and its reply decoded into reply, whose strings point into *buf
 * (free it).  Returns 0, a negative errno from connecting (-ENOENT,
 * -ECONNREFUSED, -EACCES, -ENAMETOOLONG ...), or -EPROTO for a missing or
 * invalid reply.
 */
int kvp_hostctl_call(const char *path, int argc, char **argv,
		     struct kvp_hostctl_msg *reply, unsigned char **buf)
{
	struct kvp_hostctl_msg req = {
		.count = (uint32_t)argc,
		.strings = (const char **)argv,
	};
	unsigned char *out;
	size_t len;
	int fd, err;

	*buf = NULL;
	fd = kvp_hostctl_connect(path);
	if (fd < 0)
		return fd;
	out = kvp_hostctl_encode(&req, &len);
	err = out ? kvp_hostctl_write(fd, out, len) : -ENOMEM;
	free(out);
	if (!err)
		*buf = kvp_hostctl_read(fd, &len);
	close(fd);
	if (*buf && !kvp_hostctl_decode(*buf, len, reply))
		return 0;
	free(*buf);
	*buf = NULL;
	return -EPROTO;
}
