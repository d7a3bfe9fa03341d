// SPDX-License-Identifier: GPL-2.0
/*
 * One guest connection: the vsock framing (HELLO, WELCOME, PACKET; versions
 * 1 to 3), IC version negotiation and the guest's life cycle.  A guest that
 * breaks the protocol is dropped with one log line saying why; the others
 * carry on.  The guest end reconnects, so dropping is also how both sides
 * get back to a known state.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "frame.h"
#include "hostd.h"
#include "log.h"

#define KVP_GUEST_FRAME_MAX	(KVP_VSOCK_HDR_LEN + KVP_VSOCK_MAX_PAYLOAD)

/* What a Hyper-V host offers (kvp-protocol.md 1.4). */
static const u32 kvp_host_fw_versions[] = {
	KVP_VERSION(1, 0), KVP_VERSION(3, 0),
};

static const u32 kvp_host_msg_versions[] = {
	KVP_VERSION(3, 0), KVP_VERSION(4, 0), KVP_VERSION(5, 0),
};

struct kvp_guest *kvp_guests;

const char *kvp_guest_state_name(enum kvp_guest_state state)
{
	switch (state) {
	case KVP_GUEST_HELLO:
		return "hello";
	case KVP_GUEST_NEGOTIATING:
		return "negotiating";
	default:
		return "ready";
	}
}

/* Records why the guest is about to be dropped; returns -EPROTO. */
int kvp_guest_fail(struct kvp_guest *guest, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(guest->why, sizeof(guest->why), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

static void kvp_guest_drop(struct kvp_guest *guest, int priority)
{
	struct kvp_guest **p;
	char msg[sizeof(guest->why) + sizeof(guest->name) + 32];

	kvp_log(priority, "CID %u (%s) dropped: %s", guest->cid, guest->name,
		guest->why);
	snprintf(msg, sizeof(msg), "VM %s (CID %u) went away: %s",
		 guest->name, guest->cid, guest->why);
	kvp_req_fail_all(guest, msg);
	for (p = &kvp_guests; *p != guest; p = &(*p)->next)
		;
	*p = guest->next;
	kvp_conn_close(&guest->conn);
	free(guest);
}

/*
 * What we serve: the KVP exchange, and activation when it is configured.
 * A connection uses those of them the guest speaks (guest->services).
 */
static u32 kvp_guest_services(void)
{
	return 1U << KVP_VSOCK_SERVICE_KVP |
	       (kvp_activation_served() ?
		1U << KVP_VSOCK_SERVICE_ACTIVATION : 0);
}

/* Sends a frame of the connection's version, on a service. */
int kvp_guest_send_on(struct kvp_guest *guest, u16 service, u16 type, u64 id,
		      const u8 *payload, size_t len)
{
	struct kvp_frame frame = {
		.version = guest->version,
		.type = type,
		.service = service,
		.length = (u32)len,
		.id = id,
	};
	u8 hdr[KVP_VSOCK_HDR_LEN];
	int err;

	kvp_frame_build(hdr, &frame);
	/* One send per frame: the guest's reader never wakes for half of one. */
	err = kvp_conn_queue(&guest->conn, hdr, sizeof(hdr));
	if (!err && len)
		err = kvp_conn_queue(&guest->conn, payload, len);
	if (!err)
		err = kvp_conn_flush(&guest->conn);
	if (err)
		return kvp_guest_fail(guest, "send: %s", strerror(-err));
	return 0;
}

/* Sends a frame of the connection's version, on the KVP service. */
int kvp_guest_send(struct kvp_guest *guest, u16 type, u64 id,
		   const u8 *payload, size_t len)
{
	return kvp_guest_send_on(guest, KVP_VSOCK_SERVICE_KVP, type, id,
				 payload, len);
}

/*
 * Takes the id of a request about to be sent to the guest: the one
 * outstanding, whose reply must come within wait_ms or the guest is
 * dropped.
 */
u64 kvp_guest_await(struct kvp_guest *guest, unsigned int wait_ms)
{
	guest->busy_id = guest->next_id++;
	guest->deadline = kvp_now_ms() + wait_ms;
	return guest->busy_id;
}

/*
 * HELLO: answer WELCOME in the lower of the guest's highest framing version
 * and ours, with the services of the connection: those we serve that the
 * guest speaks (a HELLO of version 1 or 2 is from a guest of the KVP
 * exchange only, even if it takes more from a version-2 WELCOME's mask).
 * Then offer our IC versions on each: the KVP service, and activation.
 */
static int kvp_guest_hello(struct kvp_guest *guest,
			   const struct kvp_frame *frame, const u8 *payload)
{
	u8 pkt[KVP_ICMSG_HDR_LEN + KVP_NEGO_HDR_LEN +
	       4 * (ARRAY_SIZE(kvp_host_fw_versions) +
		    ARRAY_SIZE(kvp_host_msg_versions))];
	u8 welcome[KVP_VSOCK_WELCOME_LEN];
	u32 spoken;
	size_t len;

	if (kvp_frame_hello_parse(frame, payload, &spoken))
		return kvp_guest_fail(guest,
				      "expected a HELLO, got type %u version %u length %u service %u id %llu",
				      frame->type, frame->version,
				      frame->length, frame->service,
				      (unsigned long long)frame->id);
	guest->version = frame->version < KVP_VSOCK_VERSION_MAX ?
			 frame->version : KVP_VSOCK_VERSION_MAX;
	guest->services = spoken & kvp_guest_services();
	len = kvp_frame_welcome_build(welcome, guest->version,
				      guest->services);
	if (kvp_guest_send(guest, KVP_VSOCK_WELCOME, 0, welcome, len))
		return -EPROTO;
	len = kvp_ic_build_negotiate(pkt, sizeof(pkt), kvp_host_fw_versions,
				     ARRAY_SIZE(kvp_host_fw_versions),
				     kvp_host_msg_versions,
				     ARRAY_SIZE(kvp_host_msg_versions));
	guest->state = KVP_GUEST_NEGOTIATING;
	if (kvp_guest_send(guest, KVP_VSOCK_PACKET,
			   kvp_guest_await(guest, kvp_hostd_opts.timeout_ms),
			   pkt, len))
		return -EPROTO;
	if (!kvp_frame_serves(guest->services, KVP_VSOCK_SERVICE_ACTIVATION))
		return 0;
	return kvp_activation_start(guest);
}

static bool kvp_offered(u32 version, const u32 *offer, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (offer[i] == version)
			return true;
	return false;
}

static int kvp_guest_negotiated(struct kvp_guest *guest, const u8 *pkt,
				size_t len)
{
	u32 fw, msg;

	if (kvp_ic_parse_negotiate_reply(pkt, len, &fw, &msg))
		return kvp_guest_fail(guest, "bad NEGOTIATE reply");
	if (!kvp_offered(fw, kvp_host_fw_versions,
			 ARRAY_SIZE(kvp_host_fw_versions)) ||
	    !kvp_offered(msg, kvp_host_msg_versions,
			 ARRAY_SIZE(kvp_host_msg_versions)))
		return kvp_guest_fail(guest,
				      "NEGOTIATE reply chose versions not offered (%u.%u, %u.%u)",
				      KVP_VERSION_MAJOR(fw), KVP_VERSION_MINOR(fw),
				      KVP_VERSION_MAJOR(msg), KVP_VERSION_MINOR(msg));
	guest->fw_version = fw;
	guest->msg_version = msg;
	guest->state = KVP_GUEST_READY;
	kvp_info("CID %u (%s) ready: framing %u, framework %u.%u, KVP %u.%u",
		 guest->cid, guest->name, guest->version,
		 KVP_VERSION_MAJOR(fw), KVP_VERSION_MINOR(fw),
		 KVP_VERSION_MAJOR(msg), KVP_VERSION_MINOR(msg));
	kvp_items_push(guest);
	return kvp_req_kick(guest);
}

/*
 * After WELCOME only PACKETs of the connection's version, on a service of
 * the connection, may come: on the KVP service answering the one outstanding id, on
 * the activation service whatever activation.c makes of them.
 */
static int kvp_guest_packet(struct kvp_guest *guest,
			    const struct kvp_frame *frame, const u8 *pkt)
{
	if (frame->type != KVP_VSOCK_PACKET)
		return kvp_guest_fail(guest, "unexpected frame type %u",
				      frame->type);
	if (frame->version != guest->version)
		return kvp_guest_fail(guest, "frame version %u after WELCOME %u",
				      frame->version, guest->version);
	if (!kvp_frame_serves(guest->services, frame->service))
		return kvp_guest_fail(guest,
				      "packet on service %u, not announced in WELCOME",
				      frame->service);
	if (frame->service == KVP_VSOCK_SERVICE_ACTIVATION)
		return kvp_activation_packet(guest, frame->id, pkt,
					     frame->length);
	if (!guest->busy_id || frame->id != guest->busy_id)
		return kvp_guest_fail(guest, "packet with unknown id %llu",
				      (unsigned long long)frame->id);
	guest->busy_id = 0;
	guest->deadline = UINT64_MAX;
	if (guest->state == KVP_GUEST_NEGOTIATING)
		return kvp_guest_negotiated(guest, pkt, frame->length);
	return kvp_req_reply(guest, pkt, frame->length);
}

/* Handles every whole frame in the input buffer. */
static int kvp_guest_frames(struct kvp_guest *guest)
{
	struct kvp_buf *in = &guest->conn.in;
	struct kvp_frame frame;
	size_t total;
	int err;

	while (in->len >= KVP_VSOCK_HDR_LEN) {
		if (kvp_frame_parse(in->data, &frame))
			return kvp_guest_fail(guest, "bad frame header");
		total = KVP_VSOCK_HDR_LEN + frame.length;
		if (in->len < total)
			break;
		if (guest->state == KVP_GUEST_HELLO)
			err = kvp_guest_hello(guest, &frame,
					      in->data + KVP_VSOCK_HDR_LEN);
		else
			err = kvp_guest_packet(guest, &frame,
					       in->data + KVP_VSOCK_HDR_LEN);
		if (err)
			return err;
		kvp_buf_consume(in, total);
	}
	return 0;
}

static void kvp_guest_handle(struct kvp_watch *watch, u32 events)
{
	struct kvp_guest *guest = (struct kvp_guest *)
		((char *)watch - offsetof(struct kvp_guest, conn.watch));
	size_t room;
	ssize_t n;
	int err = 0;

	if (events & EPOLLOUT) {
		err = kvp_conn_flush(&guest->conn);
		if (err)
			kvp_guest_fail(guest, "send: %s", strerror(-err));
	}
	while (!err) {
		room = KVP_GUEST_FRAME_MAX - guest->conn.in.len;
		n = kvp_conn_read(&guest->conn, KVP_GUEST_FRAME_MAX);
		if (n == -EAGAIN)
			return;
		if (n == 0) {
			kvp_guest_fail(guest, "disconnected");
			kvp_guest_drop(guest, LOG_INFO);
			return;
		}
		if (n < 0)
			err = kvp_guest_fail(guest, "receive: %s",
					     strerror((int)-n));
		else
			err = kvp_guest_frames(guest);
		/*
		 * A short read took all there was: the loop tells when more
		 * comes, so spare the read that would only say EAGAIN.
		 */
		if (!err && (size_t)n < room)
			return;
	}
	kvp_guest_drop(guest, LOG_WARNING);
}

static struct kvp_guest *kvp_guest_by_cid(unsigned long cid)
{
	struct kvp_guest *guest;

	for (guest = kvp_guests; guest && guest->cid != cid; guest = guest->next)
		;
	return guest;
}

/* A VM by CID (all digits) or by name. */
struct kvp_guest *kvp_guest_find(const char *vm)
{
	struct kvp_guest *guest;

	if (vm[0] && strspn(vm, "0123456789") == strlen(vm))
		return kvp_guest_by_cid(strtoul(vm, NULL, 10));
	for (guest = kvp_guests; guest && strcmp(guest->name, vm);
	     guest = guest->next)
		;
	return guest;
}

static void kvp_guest_add(struct kvp_guest *guest)
{
	struct kvp_guest **p = &kvp_guests;

	while (*p)
		p = &(*p)->next;
	*p = guest;
}

/*
 * A new connection.  One from a CID already connected replaces the old
 * one: the guest end only reconnects once it has given its last one up.
 */
void kvp_guest_new(int fd, u32 cid)
{
	struct kvp_guest *guest = calloc(1, sizeof(*guest)), *old;
	int err = guest ? kvp_conn_init(&guest->conn, fd, kvp_guest_handle) :
			  -ENOMEM;

	if (err) {
		kvp_err("CID %u: cannot take the connection: %s", cid,
			strerror(-err));
		free(guest);
		close(fd);
		return;
	}
	guest->cid = cid;
	guest->since = time(NULL);
	guest->state = KVP_GUEST_HELLO;
	guest->deadline = kvp_now_ms() + kvp_hostd_opts.timeout_ms;
	guest->next_id = 1;
	guest->queue_tail = &guest->queue;
	kvp_items_identify(guest);
	old = kvp_guest_by_cid(cid);
	if (old) {
		kvp_guest_fail(old, "replaced by a new connection");
		kvp_guest_drop(old, LOG_INFO);
	}
	kvp_guest_add(guest);
	kvp_info("CID %u (%s) connected", cid, guest->name);
}

u64 kvp_guests_deadline(void)
{
	u64 deadline = UINT64_MAX, d;
	struct kvp_guest *guest;

	for (guest = kvp_guests; guest; guest = guest->next) {
		if (guest->deadline < deadline)
			deadline = guest->deadline;
		d = kvp_req_deadline(guest);
		if (d < deadline)
			deadline = d;
	}
	return deadline;
}

/* Says why a guest whose deadline passed is dropped. */
static void kvp_guest_overdue(struct kvp_guest *guest)
{
	unsigned int timeout = kvp_hostd_opts.timeout_ms / 1000;

	if (guest->state == KVP_GUEST_HELLO)
		kvp_guest_fail(guest, "no HELLO within %u s", timeout);
	else if (guest->state == KVP_GUEST_NEGOTIATING)
		kvp_guest_fail(guest, "no NEGOTIATE reply within %u s",
			       timeout);
	else
		kvp_guest_fail(guest, "no reply to request %llu within %u s",
			       (unsigned long long)guest->busy_id,
			       kvp_hostd_opts.grace_ms / 1000);
}

void kvp_guests_expire(u64 now)
{
	struct kvp_guest *guest, *next;

	for (guest = kvp_guests; guest; guest = next) {
		next = guest->next;
		kvp_req_expire(guest, now);
		if (guest->deadline > now)
			continue;
		kvp_guest_overdue(guest);
		kvp_guest_drop(guest, LOG_WARNING);
	}
}

void kvp_guests_free(void)
{
	while (kvp_guests) {
		kvp_guest_fail(kvp_guests, "kvp-hostd is exiting");
		kvp_guest_drop(kvp_guests, LOG_DEBUG);
	}
}
