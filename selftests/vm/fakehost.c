// SPDX-License-Identifier: GPL-2.0
/*
 * The host end of the VM tests and benchmarks (see fakehost.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "fakehost.h"

int fakehost_listen(unsigned int port)
{
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, 4)) {
		close(fd);
		return -errno;
	}
	return fd;
}

int fakehost_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		got += n;
	}
	return 0;
}

/* The framing version of the connection: 1 until a test welcomes with 2. */
u16 fakehost_version = 1;

int fakehost_send_frame(int fd, u16 version, u16 type, u16 service, u64 id,
			const void *payload, size_t len)
{
	struct kvp_frame frame = {
		.version = version, .type = type, .length = len,
		.service = service, .id = id,
	};
	u8 buf[KVP_VSOCK_HDR_LEN + KVP_VSOCK_MAX_PAYLOAD];

	kvp_frame_build(buf, &frame);
	memcpy(buf + KVP_VSOCK_HDR_LEN, payload, len);
	return write(fd, buf, KVP_VSOCK_HDR_LEN + len) ==
	       (ssize_t)(KVP_VSOCK_HDR_LEN + len) ? 0 : -EIO;
}

int fakehost_send(int fd, u16 type, u64 id, const void *payload, size_t len)
{
	return fakehost_send_frame(fd, fakehost_version, type,
				   KVP_VSOCK_SERVICE_KVP, id, payload, len);
}

/* Reads one frame; returns its payload length or a negative errno. */
int fakehost_recv(int fd, struct kvp_frame *frame, u8 *payload,
		  int timeout_ms)
{
	u8 hdr[KVP_VSOCK_HDR_LEN];
	int err;

	err = fakehost_read_full(fd, hdr, sizeof(hdr), timeout_ms);
	if (err)
		return err;
	if (kvp_frame_parse(hdr, frame))
		return -EPROTO;
	err = fakehost_read_full(fd, payload, frame->length, timeout_ms);
	return err ? err : (int)frame->length;
}

/*
 * Waits for the guest to connect and reads its HELLO, as kvp-hostd does.
 * Returns the socket, the version the guest offers in *offered and the
 * services it speaks in *spoken (KVP alone below version 3).
 */
int fakehost_accept_hello(int lfd, u16 *offered, u32 *spoken)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	u8 buf[KVP_VSOCK_MAX_PAYLOAD];
	struct kvp_frame frame;
	int fd;

	if (poll(&pfd, 1, 10000) <= 0)
		return -ETIMEDOUT;
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return -errno;
	if (fakehost_recv(fd, &frame, buf, 5000) < 0 ||
	    kvp_frame_hello_parse(&frame, buf, spoken)) {
		close(fd);
		return -EPROTO;
	}
	*offered = frame.version;
	return fd;
}

/*
 * Accepts the guest with a WELCOME of `version`: 1 as the first hosts did,
 * from 2 on with the services mask given (version 3: the connection's, of
 * those the HELLO named).  Returns the socket.
 */
int fakehost_accept_version(int lfd, u16 version, u32 services)
{
	u8 payload[KVP_VSOCK_WELCOME_LEN];
	u16 offered;
	u32 spoken;
	int fd = fakehost_accept_hello(lfd, &offered, &spoken);

	if (fd < 0)
		return fd;
	fakehost_version = version;
	if (offered < version ||
	    fakehost_send(fd, KVP_VSOCK_WELCOME, 0, payload,
			  kvp_frame_welcome_build(payload, version,
						  services))) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/* Waits for the guest to connect and greets it as a version-1 host. */
int fakehost_accept(int lfd)
{
	return fakehost_accept_version(lfd, 1, 0);
}

/* Sends one IC packet and returns the reply's length (0: none in time). */
int fakehost_transact(int fd, u64 id, u8 *pkt, size_t len, int timeout_ms)
{
	struct kvp_frame frame;
	int n;

	if (fakehost_send(fd, KVP_VSOCK_PACKET, id, pkt, len))
		return -EIO;
	n = fakehost_recv(fd, &frame, pkt, timeout_ms);
	if (n == -ETIMEDOUT)
		return 0;
	if (n >= 0 && (frame.type != KVP_VSOCK_PACKET || frame.id != id))
		return -EPROTO;
	return n;
}

/* Waits for the reply to request `id` and returns its IC status. */
u32 fakehost_await_status(int fd, u64 id, u8 *pkt, size_t len)
{
	struct kvp_frame frame;
	struct kvp_ic_hdr hdr;
	int n = fakehost_recv(fd, &frame, pkt, FAKEHOST_WAIT_MS);

	if (n != (int)len || frame.id != id || kvp_ic_parse(pkt, n, &hdr)) {
		fprintf(stderr, "fakehost: no reply to %llu: %d (%zu wanted), id %llu\n",
			(unsigned long long)id, n, len,
			(unsigned long long)frame.id);
		return 0xdeadbeef;
	}
	return hdr.status;
}

/*
 * The host's NEGOTIATE on the activation service (vsock service 1),
 * offering framework [1.0, 3.0] and activation 1.0, as it sends it after
 * WELCOME.  0 with the guest's choice, or -errno.
 */
int fakehost_negotiate_activation(int fd, u64 id, u32 *fw, u32 *msgv)
{
	static const u32 fws[] = { KVP_VERSION(1, 0), KVP_VERSION(3, 0) };
	static const u32 msgs[] = { KVP_VERSION(1, 0) };
	struct kvp_frame frame;
	u8 pkt[128];
	size_t len;
	int n;

	len = kvp_ic_build_negotiate(pkt, sizeof(pkt), fws, 2, msgs, 1);
	if (fakehost_send_frame(fd, fakehost_version, KVP_VSOCK_PACKET,
				KVP_VSOCK_SERVICE_ACTIVATION, id, pkt, len))
		return -EIO;
	n = fakehost_recv(fd, &frame, pkt, FAKEHOST_WAIT_MS);
	if (n < 0)
		return n;
	if (n != (int)len || frame.type != KVP_VSOCK_PACKET || frame.id != id ||
	    frame.service != KVP_VSOCK_SERVICE_ACTIVATION)
		return -EPROTO;
	return kvp_ic_parse_negotiate_reply(pkt, n, fw, msgv);
}

int fakehost_negotiate(int fd, u64 id, u32 *fw, u32 *msgv)
{
	static const u32 fws[] = { KVP_VERSION(1, 0), KVP_VERSION(3, 0) };
	static const u32 msgs[] = { KVP_VERSION(3, 0), KVP_VERSION(4, 0),
				    KVP_VERSION(5, 0) };
	u8 pkt[128];
	size_t len;
	int n;

	len = kvp_ic_build_negotiate(pkt, sizeof(pkt), fws, 2, msgs, 3);
	n = fakehost_transact(fd, id, pkt, len, FAKEHOST_WAIT_MS);
	if (n != (int)len)
		return -EPROTO;
	return kvp_ic_parse_negotiate_reply(pkt, n, fw, msgv);
}

/* A KVP request as Hyper-V sends it: 2580-byte payload for any op. */
size_t fakehost_kvp_request(u8 *pkt, u8 op, u8 pool, const char *key,
			    const char *value, u32 index)
{
	struct kvp_ic_hdr hdr = {
		.fw_version = KVP_VERSION(3, 0), .type = KVP_IC_TYPE_KVP,
		.msg_version = KVP_VERSION(4, 0), .size = KVP_MSG_ENUM_LEN,
		.flags = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST,
	};
	struct kvp_msg msg = { .op = op, .pool = pool, .index = index };

	memset(pkt, 0, KVP_ICMSG_HDR_LEN + KVP_MSG_ENUM_LEN);
	kvp_ic_build(pkt, &hdr);
	msg.key_len = snprintf(msg.key, sizeof(msg.key), "%s", key);
	msg.value_len = snprintf(msg.value, sizeof(msg.value), "%s", value);
	kvp_msg_encode(pkt + KVP_ICMSG_HDR_LEN, KVP_MSG_ENUM_LEN, &msg);
	return KVP_ICMSG_HDR_LEN + KVP_MSG_ENUM_LEN;
}

/* One KVP request; the reply's status, its message decoded into *out. */
u32 fakehost_kvp_call(int fd, u64 id, u8 *pkt, u8 op, u8 pool,
		      const char *key, const char *value, u32 index,
		      struct kvp_msg *out)
{
	size_t len = fakehost_kvp_request(pkt, op, pool, key, value, index);
	struct kvp_ic_hdr hdr;
	int n;

	n = fakehost_transact(fd, id, pkt, len, FAKEHOST_WAIT_MS);
	if (n != (int)len || kvp_ic_parse(pkt, n, &hdr) ||
	    hdr.flags != (KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE))
		return 0xdeadbeef;
	if (out && hdr.status == KVP_S_OK &&
	    kvp_msg_decode_reply(pkt + KVP_ICMSG_HDR_LEN, hdr.size, out))
		return 0xbadc0de;
	return hdr.status;
}
