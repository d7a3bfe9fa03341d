// SPDX-License-Identifier: GPL-2.0
/*
 * The activation channel of kvp.ko, in the test VM: this program is both
 * the guest's requester (KVP_CMD_ACTIVATE over netlink, as kvpd does) and
 * the host (a fake one on vsock loopback, Documentation/protocol.rst
 * section 4).  Every packet is built and checked with the protocol code
 * the module runs (ic.c, avma.c), and the bytes that matter are also
 * checked by hand.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "avma.h"
#include "fakehost.h"
#include "nl.h"
#include "vmbushost.h"
#include "vmtest.h"

#define BOTH	(1u << KVP_VSOCK_SERVICE_KVP | \
		 1u << KVP_VSOCK_SERVICE_ACTIVATION)
#define MAX_ENDS 16
#define NO_ACK_MS 300

/* What the netlink socket heard: ends of requests and service events. */
struct heard {
	int ends;
	u32 cookie[MAX_ENDS];
	int error[MAX_ENDS];
	size_t len[MAX_ENDS];
	u8 reply[MAX_ENDS][KVP_AVMA_REPLY_MAX];
	int events;
	u32 ev_service[64];
	u32 ev_state[64];
};

static void on_end(struct kvp_nl *nl, const struct kvp_nl_activation *act,
		   void *arg)
{
	struct heard *h = arg;

	(void)nl;
	if (h->ends == MAX_ENDS)
		return;
	h->cookie[h->ends] = act->cookie;
	h->error[h->ends] = act->error;
	h->len[h->ends] = act->reply_len;
	if (act->reply_len <= KVP_AVMA_REPLY_MAX)
		memcpy(h->reply[h->ends], act->reply, act->reply_len);
	h->ends++;
}

static void on_event(struct kvp_nl *nl, u32 service, u32 state, void *arg)
{
	struct heard *h = arg;

	(void)nl;
	if (h->events == 64)
		return;
	h->ev_service[h->events] = service;
	h->ev_state[h->events] = state;
	h->events++;
}

/* Reads the socket until `ends` requests ended, or nothing more comes. */
static bool wait_ends(struct kvp_nl *nl, struct heard *h, int ends,
		      int timeout_ms)
{
	struct pollfd pfd = { .fd = kvp_nl_fd(nl), .events = POLLIN };

	while (h->ends < ends && poll(&pfd, 1, timeout_ms) > 0)
		kvp_nl_receive(nl);
	return h->ends == ends;
}

/* Whether `service` went to `state` among the events heard. */
static bool wait_event(struct kvp_nl *nl, struct heard *h, u32 service,
		       u32 state)
{
	struct pollfd pfd = { .fd = kvp_nl_fd(nl), .events = POLLIN };
	int i = 0;

	for (;;) {
		for (; i < h->events; i++)
			if (h->ev_service[i] == service &&
			    h->ev_state[i] == state)
				return true;
		if (poll(&pfd, 1, FAKEHOST_WAIT_MS) <= 0)
			return false;
		kvp_nl_receive(nl);
	}
}

static void make_request(u8 *body, u8 nonce)
{
	struct kvp_avma_request req = { .op = KVP_AVMA_OP_ACTIVATE };

	memset(req.nonce, nonce, sizeof(req.nonce));
	memset(req.vm_id, 0xab, sizeof(req.vm_id));
	strcpy(req.product, "windows-server");
	strcpy(req.version, "2022");
	strcpy(req.edition, "datacenter");
	strcpy(req.key, "W3GNR-8DDXR-2TFRP-H8P33-DV9BG");
	strcpy(req.vm_name, "guest1");
	kvp_avma_request_build(body, &req);
}

/* A host reply packet: IC header (type, flags, status) and a body. */
static size_t make_reply(u8 *pkt, u16 type, u8 flags, u32 status,
			 const u8 *nonce, u16 grant_len)
{
	struct kvp_avma_reply rep = {
		.op = KVP_AVMA_OP_ACTIVATE,
		.outcome = grant_len ? KVP_AVMA_SUCCESS : KVP_AVMA_DENIED,
		.reason = grant_len ? KVP_AVMA_R_NONE : KVP_AVMA_R_KEY,
		.grant_len = grant_len,
	};
	struct kvp_ic_hdr hdr = {
		.fw_version = KVP_VERSION(3, 0), .type = type,
		.msg_version = KVP_VERSION(1, 0), .status = status,
		.flags = flags,
	};
	u8 grant[64];
	int n;

	memset(grant, 0x47, sizeof(grant));
	rep.grant = grant;
	memcpy(rep.nonce, nonce, KVP_AVMA_NONCE_LEN);
	n = kvp_avma_reply_build(pkt + KVP_ICMSG_HDR_LEN, &rep);
	hdr.size = n;
	kvp_ic_build(pkt, &hdr);
	return KVP_ICMSG_HDR_LEN + n;
}

#define REPLY_FLAGS (KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE)

FIXTURE(avma) {
	int lfd;
	int fd;
	struct kvp_nl *nl;
	struct heard *heard;
	u8 body[KVP_AVMA_REQUEST_LEN];
	u8 pkt[KVP_IC_MAX_PACKET];
};

/* kvp_vsock connects to us; WELCOME with `services`. */
static int connect_guest(struct _test_data_avma *self, u32 services)
{
	unsigned int port = 40000 + getpid() % 20000;

	self->lfd = fakehost_listen(port);
	if (self->lfd < 0)
		return -1;
	if (vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port))
		return -1;
	self->fd = fakehost_accept_version(self->lfd, KVP_VSOCK_VERSION_MAX,
					   services);
	return self->fd < 0 ? -1 : 0;
}

FIXTURE_SETUP(avma)
{
	self->lfd = -1;
	self->fd = -1;
	self->heard = calloc(1, sizeof(*self->heard));
	ASSERT_NE(NULL, self->heard);
	ASSERT_EQ(0, vm_sh("modprobe kvp"));
	vm_set_param("request_timeout_ms", 5000);
	vm_set_param("daemon_wait_ms", 300);
	ASSERT_EQ(0, kvp_nl_open(&self->nl));
	kvp_nl_on_activation(self->nl, on_end, self->heard);
	ASSERT_EQ(0, kvp_nl_subscribe_events(self->nl, on_event,
					     self->heard));
	make_request(self->body, 0x11);
}

FIXTURE_TEARDOWN(avma)
{
	kvp_nl_close(self->nl);
	if (self->fd >= 0)
		close(self->fd);
	if (self->lfd >= 0)
		close(self->lfd);
	free(self->heard);
	vm_sh("rmmod kvp_vsock 2>/dev/null; rmmod kvp");
}

/* Connected to a host that serves both and negotiated activation. */
static int ready(struct _test_data_avma *self)
{
	u32 fw, msgv;

	if (connect_guest(self, BOTH))
		return -1;
	if (fakehost_negotiate_activation(self->fd, 1, &fw, &msgv))
		return -1;
	return fw == KVP_VERSION(3, 0) && msgv == KVP_VERSION(1, 0) ? 0 : -1;
}

static int activate(struct _test_data_avma *self, u32 cookie)
{
	return kvp_nl_activate(self->nl, cookie, self->body,
			       sizeof(self->body));
}

/* Reads the guest's next frame: an activation request; its id. */
static u64 host_reads_request(struct _test_data_avma *self)
{
	struct kvp_frame frame;
	int n = fakehost_recv(self->fd, &frame, self->pkt, FAKEHOST_WAIT_MS);

	if (n != KVP_ICMSG_HDR_LEN + KVP_AVMA_REQUEST_LEN ||
	    frame.service != KVP_VSOCK_SERVICE_ACTIVATION ||
	    frame.type != KVP_VSOCK_PACKET)
		return 0;
	return frame.id;
}

/* The guest sends the fake host nothing within NO_ACK_MS. */
static bool host_hears_nothing(struct _test_data_avma *self)
{
	struct kvp_frame frame;

	return fakehost_recv(self->fd, &frame, self->pkt, NO_ACK_MS) ==
	       -ETIMEDOUT;
}

static int host_sends(struct _test_data_avma *self, u64 id, size_t len)
{
	return fakehost_send_frame(self->fd, fakehost_version,
				   KVP_VSOCK_PACKET,
				   KVP_VSOCK_SERVICE_ACTIVATION, id, self->pkt,
				   len);
}

TEST_F(avma, request_and_reply_end_to_end)
{
	static const u8 ic_request[KVP_ICMSG_HDR_LEN] = {
		0x01, 0x00, 0x00, 0x00,	0xe8, 0x00, 0x00, 0x00,	/* pipe */
		0x03, 0x00, 0x00, 0x00,	/* framework 3.0 */
		0x41, 0x00,		/* icmsgtype 0x0041 */
		0x01, 0x00, 0x00, 0x00,	/* activation 1.0 */
		0xd4, 0x00,		/* icmsgsize 212 */
		0x00, 0x00, 0x00, 0x00,	/* status */
		0x00, 0x03, 0x00, 0x00,	/* txid, TRANSACTION|REQUEST */
	};
	struct heard *h = self->heard;
	struct kvp_nl_status st;
	struct kvp_avma_reply rep;
	size_t len;

	ASSERT_EQ(0, ready(self));
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(KVP_STATE_NEGOTIATED, st.state);
	EXPECT_STREQ("vsock", st.transport);
	EXPECT_EQ(KVP_VERSION(1, 0), st.msg_version);

	/* kvpctl shows it; its JSON keeps the exchange's fields last. */
	EXPECT_EQ(0, vm_sh("kvpctl status | grep -qx 'activation: *negotiated over vsock (framework 3.0, activation 1.0), 0 pending'"));
	EXPECT_EQ(0, vm_sh("kvpctl -j status | grep -q '^{\"module\":\"live\",\"activation\":{\"transport\":\"vsock\",\"state\":\"negotiated\"'"));
	EXPECT_EQ(0, vm_sh("test \"$(kvpctl -j status | sed -n 's/.*\"state\":\"\\([a-z-]*\\)\".*/\\1/p')\" = connected"));

	ASSERT_EQ(0, activate(self, 7));
	/* Frame id 1, the first of this connection, on service 1. */
	ASSERT_EQ(1, host_reads_request(self));
	EXPECT_EQ(0, memcmp(ic_request, self->pkt, KVP_ICMSG_HDR_LEN));
	EXPECT_EQ(0, memcmp(self->body, self->pkt + KVP_ICMSG_HDR_LEN,
			    KVP_AVMA_REQUEST_LEN));
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 self->body + KVP_AVMA_REQ_OFF_NONCE, 40);
	ASSERT_EQ(0, host_sends(self, 1, len));
	ASSERT_TRUE(wait_ends(self->nl, h, 1, FAKEHOST_WAIT_MS));
	EXPECT_EQ(7, h->cookie[0]);
	EXPECT_EQ(0, h->error[0]);
	ASSERT_EQ(len - KVP_ICMSG_HDR_LEN, h->len[0]);
	EXPECT_EQ(0, memcmp(self->pkt + KVP_ICMSG_HDR_LEN, h->reply[0],
			    h->len[0]));
	ASSERT_EQ(0, kvp_avma_reply_parse(h->reply[0], h->len[0], &rep));
	EXPECT_EQ(KVP_AVMA_SUCCESS, rep.outcome);
	EXPECT_EQ(40, rep.grant_len);
	/* Nothing answers the host's reply. */
	EXPECT_TRUE(host_hears_nothing(self));

	/* The next request is frame 2; a Denied reply without grant. */
	ASSERT_EQ(0, activate(self, 8));
	ASSERT_EQ(2, host_reads_request(self));
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 self->body + KVP_AVMA_REQ_OFF_NONCE, 0);
	ASSERT_EQ(0, host_sends(self, 2, len));
	ASSERT_TRUE(wait_ends(self->nl, h, 2, FAKEHOST_WAIT_MS));
	EXPECT_EQ(8, h->cookie[1]);
	EXPECT_EQ(KVP_AVMA_REPLY_HDR_LEN, h->len[1]);
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(2, st.stats[KVP_NL_STAT_REQUESTS]);
	EXPECT_EQ(0, st.stats[KVP_NL_STAT_FAILURES]);
	EXPECT_EQ(0, st.stats[KVP_NL_STAT_MALFORMED]);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_NEGOTIATIONS]);
	EXPECT_EQ(0, st.pending);
}

/* The KVP exchange runs beside it, on the same connection. */
TEST_F(avma, exchange_works_meanwhile)
{
	struct heard *h = self->heard;
	struct kvp_nl_status st;
	u32 fw, msgv;
	size_t len;

	ASSERT_EQ(0, ready(self));
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	ASSERT_EQ(0, activate(self, 1));
	ASSERT_EQ(1, host_reads_request(self));
	/* No daemon: the KVP request is failed after daemon_wait_ms. */
	EXPECT_EQ(KVP_E_FAIL, fakehost_kvp_call(self->fd, 5, self->pkt,
						KVP_OP_SET, 0, "k", "v", 0,
						NULL));
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 self->body + KVP_AVMA_REQ_OFF_NONCE, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	ASSERT_TRUE(wait_ends(self->nl, h, 1, FAKEHOST_WAIT_MS));
	EXPECT_EQ(0, h->error[0]);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_STATE_NEGOTIATED, st.state);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_REQUESTS]);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_TIMEOUTS]);
}

TEST_F(avma, not_connected_before_negotiation)
{
	struct kvp_nl_status st;
	u32 fw, msgv;

	/* No transport yet. */
	EXPECT_EQ(-EHOSTUNREACH, activate(self, 1));
	ASSERT_EQ(0, connect_guest(self, BOTH));
	EXPECT_EQ(-ENOTCONN, activate(self, 1));
	ASSERT_TRUE(wait_event(self->nl, self->heard, KVP_SERVICE_ACTIVATION,
			       KVP_STATE_CONNECTED));
	EXPECT_EQ(-ENOTCONN, activate(self, 1));
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(KVP_STATE_CONNECTED, st.state);
	/* The KVP exchange's negotiation is not activation's. */
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	EXPECT_EQ(-ENOTCONN, activate(self, 1));
	ASSERT_EQ(0, fakehost_negotiate_activation(self->fd, 1, &fw, &msgv));
	EXPECT_EQ(0, activate(self, 1));
	EXPECT_EQ(1, host_reads_request(self));
}

TEST_F(avma, host_without_activation_unreachable)
{
	struct kvp_nl_status st;

	ASSERT_EQ(0, connect_guest(self, 1u << KVP_VSOCK_SERVICE_KVP));
	/* The exchange connects after activation is set aside. */
	ASSERT_TRUE(wait_event(self->nl, self->heard, KVP_SERVICE_KVP,
			       KVP_STATE_CONNECTED));
	EXPECT_EQ(-EHOSTUNREACH, activate(self, 1));
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(KVP_STATE_NO_TRANSPORT, st.state);
	EXPECT_STREQ("", st.transport);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_STATE_CONNECTED, st.state);
	/* A PACKET on the service not announced still ends the connection. */
	ASSERT_EQ(0, host_sends(self, 1, make_reply(self->pkt,
						    KVP_IC_TYPE_AVMA,
						    REPLY_FLAGS, KVP_S_OK,
						    self->body, 0)));
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(self->fd, self->pkt, 1,
						  FAKEHOST_WAIT_MS));
}

/* A host offering no activation version the guest speaks: refused. */
TEST_F(avma, negotiation_without_common_version)
{
	static const u32 fws[] = { KVP_VERSION(3, 0) };
	static const u32 msgs[] = { KVP_VERSION(2, 0) };
	struct kvp_nl_status st;
	struct kvp_frame frame;
	struct kvp_ic_hdr hdr;
	size_t len;
	int n;

	ASSERT_EQ(0, connect_guest(self, BOTH));
	len = kvp_ic_build_negotiate(self->pkt, sizeof(self->pkt), fws, 1,
				     msgs, 1);
	ASSERT_EQ(0, host_sends(self, 77, len));
	n = fakehost_recv(self->fd, &frame, self->pkt, FAKEHOST_WAIT_MS);
	ASSERT_EQ((int)len, n);
	EXPECT_EQ(77, frame.id);
	EXPECT_EQ(KVP_VSOCK_SERVICE_ACTIVATION, frame.service);
	ASSERT_EQ(0, kvp_ic_parse(self->pkt, n, &hdr));
	EXPECT_EQ(KVP_E_FAIL, hdr.status);
	EXPECT_EQ(REPLY_FLAGS, hdr.flags);
	EXPECT_EQ(-ENOTCONN, activate(self, 1));
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(KVP_STATE_CONNECTED, st.state);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_NEGOTIATIONS]);
}

/* A version-1 host has no service field: no activation. */
TEST_F(avma, version_1_host_unreachable)
{
	unsigned int port = 40000 + getpid() % 20000;

	self->lfd = fakehost_listen(port);
	ASSERT_GE(self->lfd, 0);
	ASSERT_EQ(0, vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port));
	self->fd = fakehost_accept(self->lfd);
	ASSERT_GE(self->fd, 0);
	ASSERT_TRUE(wait_event(self->nl, self->heard, KVP_SERVICE_KVP,
			       KVP_STATE_CONNECTED));
	EXPECT_EQ(-EHOSTUNREACH, activate(self, 1));
}

/*
 * A version-2 host cannot know what the guest speaks: its WELCOME's mask
 * is what it serves, and the guest (which speaks activation) takes it.
 */
TEST_F(avma, version_2_host_serves)
{
	unsigned int port = 40000 + getpid() % 20000;
	u32 fw, msgv;

	self->lfd = fakehost_listen(port);
	ASSERT_GE(self->lfd, 0);
	ASSERT_EQ(0, vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port));
	self->fd = fakehost_accept_version(self->lfd, 2, BOTH);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, fakehost_negotiate_activation(self->fd, 1, &fw, &msgv));
	ASSERT_EQ(0, activate(self, 1));
	EXPECT_EQ(1, host_reads_request(self));
}

TEST_F(avma, bad_bodies_refused)
{
	u8 body[KVP_AVMA_REQUEST_LEN + 1];

	ASSERT_EQ(0, ready(self));
	memcpy(body, self->body, sizeof(self->body));
	EXPECT_EQ(-EINVAL, kvp_nl_activate(self->nl, 1, body,
					   KVP_AVMA_REQUEST_LEN - 1));
	EXPECT_EQ(-EINVAL, kvp_nl_activate(self->nl, 1, body,
					   KVP_AVMA_REQUEST_LEN + 1));
	body[KVP_AVMA_REQ_OFF_RESERVED] = 1;
	EXPECT_EQ(-EINVAL, kvp_nl_activate(self->nl, 1, body,
					   KVP_AVMA_REQUEST_LEN));
	memcpy(body, self->body, sizeof(self->body));
	body[KVP_AVMA_REQ_OFF_PRODUCT] = 0;
	EXPECT_EQ(-EINVAL, kvp_nl_activate(self->nl, 1, body,
					   KVP_AVMA_REQUEST_LEN));
	EXPECT_TRUE(host_hears_nothing(self));
}

TEST_F(avma, no_reply_times_out)
{
	struct heard *h = self->heard;
	struct kvp_nl_status st;
	size_t len;

	vm_set_param("request_timeout_ms", 300);
	ASSERT_EQ(0, ready(self));
	ASSERT_EQ(0, activate(self, 3));
	ASSERT_EQ(1, host_reads_request(self));
	ASSERT_TRUE(wait_ends(self->nl, h, 1, FAKEHOST_WAIT_MS));
	EXPECT_EQ(3, h->cookie[0]);
	EXPECT_EQ(ETIMEDOUT, h->error[0]);
	/* Its reply, too late: dropped, counted as late, not answered. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 self->body + KVP_AVMA_REQ_OFF_NONCE, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	EXPECT_TRUE(host_hears_nothing(self));
	EXPECT_FALSE(wait_ends(self->nl, h, 2, NO_ACK_MS));
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_TIMEOUTS]);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_FAILURES]);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_LATE_REPLIES]);
	EXPECT_EQ(0, st.stats[KVP_NL_STAT_MALFORMED]);
	EXPECT_EQ(0, st.pending);
}

TEST_F(avma, connection_end_resets)
{
	struct heard *h = self->heard;
	u32 fw, msgv;

	ASSERT_EQ(0, ready(self));
	ASSERT_EQ(0, activate(self, 4));
	ASSERT_EQ(0, activate(self, 5));
	ASSERT_EQ(1, host_reads_request(self));
	ASSERT_EQ(2, host_reads_request(self));
	close(self->fd);
	self->fd = -1;
	ASSERT_TRUE(wait_ends(self->nl, h, 2, FAKEHOST_WAIT_MS));
	EXPECT_EQ(4, h->cookie[0]);
	EXPECT_EQ(ECONNRESET, h->error[0]);
	EXPECT_EQ(5, h->cookie[1]);
	EXPECT_EQ(ECONNRESET, h->error[1]);
	/* The guest comes back; ids start again from 1. */
	self->fd = fakehost_accept_version(self->lfd, KVP_VSOCK_VERSION_MAX,
					   BOTH);
	ASSERT_GE(self->fd, 0);
	EXPECT_EQ(-ENOTCONN, activate(self, 6));
	ASSERT_EQ(0, fakehost_negotiate_activation(self->fd, 1, &fw, &msgv));
	ASSERT_EQ(0, activate(self, 6));
	EXPECT_EQ(1, host_reads_request(self));
}

/* Nothing but a valid reply to an outstanding request is taken. */
TEST_F(avma, malformed_replies_dropped_unanswered)
{
	const u8 *nonce = self->body + KVP_AVMA_REQ_OFF_NONCE;
	struct heard *h = self->heard;
	struct kvp_nl_status st;
	size_t len;

	ASSERT_EQ(0, ready(self));
	ASSERT_EQ(0, activate(self, 9));
	ASSERT_EQ(1, host_reads_request(self));
	/* The KVP exchange's type on the activation service. */
	len = make_reply(self->pkt, KVP_IC_TYPE_KVP, REPLY_FLAGS, KVP_S_OK,
			 nonce, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	EXPECT_TRUE(host_hears_nothing(self));
	/* A request's flags. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA,
			 KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST,
			 KVP_S_OK, nonce, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	EXPECT_TRUE(host_hears_nothing(self));
	/* A failure status. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_E_FAIL,
			 nonce, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	EXPECT_TRUE(host_hears_nothing(self));
	/* A body that does not parse: reserved bytes set. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 nonce, 8);
	self->pkt[KVP_ICMSG_HDR_LEN + KVP_AVMA_REP_OFF_RESERVED] = 1;
	ASSERT_EQ(0, host_sends(self, 1, len));
	EXPECT_TRUE(host_hears_nothing(self));
	/* A grant_len past the body. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 nonce, 8);
	self->pkt[KVP_ICMSG_HDR_LEN + KVP_AVMA_REP_OFF_GRANT_LEN] = 9;
	ASSERT_EQ(0, host_sends(self, 1, len));
	EXPECT_TRUE(host_hears_nothing(self));
	/* An id never sent. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 nonce, 8);
	ASSERT_EQ(0, host_sends(self, 99, len));
	EXPECT_TRUE(host_hears_nothing(self));
	/* A negotiation's response is no request: not answered either. */
	len = make_reply(self->pkt, KVP_IC_TYPE_NEGOTIATE, REPLY_FLAGS,
			 KVP_S_OK, nonce, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	EXPECT_TRUE(host_hears_nothing(self));
	/* icmsgsize past the packet. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 nonce, 8);
	ASSERT_EQ(0, host_sends(self, 1, len - 1));
	EXPECT_TRUE(host_hears_nothing(self));

	EXPECT_FALSE(wait_ends(self->nl, h, 1, NO_ACK_MS));
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(8, st.stats[KVP_NL_STAT_MALFORMED]);
	EXPECT_EQ(1, st.pending);
	EXPECT_EQ(KVP_STATE_NEGOTIATED, st.state);
	/* The request is still there; its reply ends it. */
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 nonce, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	ASSERT_TRUE(wait_ends(self->nl, h, 1, FAKEHOST_WAIT_MS));
	EXPECT_EQ(9, h->cookie[0]);
	EXPECT_EQ(0, h->error[0]);
}

TEST_F(avma, eight_outstanding_per_socket)
{
	struct kvp_nl *other;
	u32 i;

	ASSERT_EQ(0, ready(self));
	for (i = 1; i <= 8; i++)
		ASSERT_EQ(0, activate(self, i));
	EXPECT_EQ(-EBUSY, activate(self, 9));
	/* Another socket has its own eight. */
	ASSERT_EQ(0, kvp_nl_open(&other));
	EXPECT_EQ(0, kvp_nl_activate(other, 1, self->body,
				     sizeof(self->body)));
	kvp_nl_close(other);
	for (i = 1; i <= 9; i++)
		EXPECT_EQ(i, host_reads_request(self));
}

/* A socket that closes: its requests end unheard, nothing counts wrong. */
TEST_F(avma, socket_closes_with_requests_outstanding)
{
	struct heard *h = self->heard;
	struct kvp_nl_status st;
	struct kvp_nl *gone;
	size_t len;

	ASSERT_EQ(0, ready(self));
	ASSERT_EQ(0, kvp_nl_open(&gone));
	ASSERT_EQ(0, kvp_nl_activate(gone, 1, self->body,
				     sizeof(self->body)));
	ASSERT_EQ(0, kvp_nl_activate(gone, 2, self->body,
				     sizeof(self->body)));
	kvp_nl_close(gone);
	ASSERT_EQ(1, host_reads_request(self));
	ASSERT_EQ(2, host_reads_request(self));
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 self->body + KVP_AVMA_REQ_OFF_NONCE, 8);
	ASSERT_EQ(0, host_sends(self, 1, len));
	ASSERT_EQ(0, host_sends(self, 2, len));
	EXPECT_TRUE(host_hears_nothing(self));
	ASSERT_EQ(0, vm_service_status(KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(0, st.pending);
	EXPECT_EQ(0, st.stats[KVP_NL_STAT_MALFORMED]);
	/* Ours still works, and heard nothing of the other's. */
	ASSERT_EQ(0, activate(self, 3));
	ASSERT_EQ(3, host_reads_request(self));
	len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS, KVP_S_OK,
			 self->body + KVP_AVMA_REQ_OFF_NONCE, 8);
	ASSERT_EQ(0, host_sends(self, 3, len));
	ASSERT_TRUE(wait_ends(self->nl, h, 1, FAKEHOST_WAIT_MS));
	EXPECT_EQ(3, h->cookie[0]);
	EXPECT_EQ(0, h->error[0]);
}

TEST_F(avma, events_on_negotiation_and_disconnect)
{
	struct heard *h = self->heard;
	u32 fw, msgv;

	ASSERT_EQ(0, connect_guest(self, BOTH));
	EXPECT_TRUE(wait_event(self->nl, h, KVP_SERVICE_ACTIVATION,
			       KVP_STATE_CONNECTED));
	EXPECT_TRUE(wait_event(self->nl, h, KVP_SERVICE_KVP,
			       KVP_STATE_CONNECTED));
	ASSERT_EQ(0, fakehost_negotiate_activation(self->fd, 1, &fw, &msgv));
	EXPECT_TRUE(wait_event(self->nl, h, KVP_SERVICE_ACTIVATION,
			       KVP_STATE_NEGOTIATED));
	h->events = 0;
	close(self->fd);
	self->fd = -1;
	EXPECT_TRUE(wait_event(self->nl, h, KVP_SERVICE_ACTIVATION,
			       KVP_STATE_CONNECTING));
	EXPECT_TRUE(wait_event(self->nl, h, KVP_SERVICE_KVP,
			       KVP_STATE_CONNECTING));
	h->events = 0;
	EXPECT_EQ(0, vm_sh("rmmod kvp_vsock"));
	EXPECT_TRUE(wait_event(self->nl, h, KVP_SERVICE_ACTIVATION,
			       KVP_STATE_NO_TRANSPORT));
}

/* Without any transport, and on VMBus, which carries no activation. */
/*
 * `kvpctl license activate` against a host that lies, every piece of the
 * guest real (kvpctl, netlink, kvp.ko, kvp_vsock): a grant of garbage, and
 * a reply to another request (a replayed one), each Invalid Data with its
 * reason, exit 23, and the state file says so.
 */
static pid_t guest_activates(const char *dir)
{
	pid_t pid = fork();

	int status;

	if (pid == 0) {
		status = vm_sh("kvpctl --state-dir %s license activate --vm-id 5d2f8c41-7a3e-4b9d-8e16-0c4a9b7f2e53 >/dev/null",
			       dir);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
	}
	return pid;
}

static int guest_exit(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(avma, lying_host_gives_invalid_data)
{
	static const struct {
		bool other_nonce;	/* the reply is for another request */
		const char *reason;
	} cases[] = {
		{ false, "bad-reply" },	/* a grant that does not decode */
		{ true, "nonce" },
	};
	char dir[] = "/tmp/avma-guest.XXXXXX";
	struct kvp_avma_request req;
	unsigned int i;
	size_t len;
	pid_t pid;
	u64 id;

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, vm_sh("kvpctl --state-dir %s license install-key W3GNR-8DDXR-2TFRP-H8P33-DV9BG >/dev/null",
			   dir));
	ASSERT_EQ(0, ready(self));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pid = guest_activates(dir);
		id = host_reads_request(self);
		ASSERT_NE(0, id);
		ASSERT_EQ(0, kvp_avma_request_parse(self->pkt +
						    KVP_ICMSG_HDR_LEN,
						    KVP_AVMA_REQUEST_LEN, &req));
		if (cases[i].other_nonce)
			req.nonce[0] ^= 1;
		len = make_reply(self->pkt, KVP_IC_TYPE_AVMA, REPLY_FLAGS,
				 KVP_S_OK, req.nonce, 64);
		ASSERT_EQ(0, host_sends(self, id, len));
		EXPECT_EQ(23, guest_exit(pid)) TH_LOG("case %u", i);
		EXPECT_EQ(0, vm_sh("kvpctl -j --state-dir %s license status | grep -q '\"last_outcome\":\"Invalid Data\",\"last_reason\":\"%s\"'",
				   dir, cases[i].reason)) TH_LOG("case %u", i);
	}
	vm_sh("rm -rf %s", dir);
}

TEST(no_transport_and_vmbus_unreachable)
{
	u8 body[KVP_AVMA_REQUEST_LEN];
	struct kvp_nl_status st;
	struct kvp_nl *nl;
	int fd, i;

	make_request(body, 1);
	ASSERT_EQ(0, vm_sh("modprobe vmbus_standin && modprobe kvp"));
	ASSERT_EQ(0, kvp_nl_open(&nl));
	EXPECT_EQ(-EHOSTUNREACH, kvp_nl_activate(nl, 1, body, sizeof(body)));
	fd = vmbushost_offer(VMBUSHOST_KVP_CLASS, VMBUSHOST_KVP_INSTANCE);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, vm_sh("modprobe kvp_vmbus"));
	/* The driver binds the device asynchronously. */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, vm_status(&st));
		if (st.state == KVP_STATE_CONNECTED)
			break;
		usleep(50000);
	}
	EXPECT_STREQ("vmbus", st.transport);
	EXPECT_EQ(-EHOSTUNREACH, kvp_nl_activate(nl, 1, body, sizeof(body)));
	ASSERT_EQ(0, kvp_nl_service_status(nl, KVP_SERVICE_ACTIVATION, &st));
	EXPECT_EQ(KVP_STATE_NO_TRANSPORT, st.state);
	kvp_nl_close(nl);
	close(fd);
	vm_sh("rmmod kvp_vmbus; rmmod kvp");
}

/* Status of a service kvp.ko does not have. */
TEST(unknown_service_status_refused)
{
	struct kvp_nl_status st;
	struct kvp_nl *nl;

	ASSERT_EQ(0, vm_sh("modprobe kvp"));
	ASSERT_EQ(0, kvp_nl_open(&nl));
	EXPECT_EQ(-EINVAL, kvp_nl_service_status(nl, 2, &st));
	EXPECT_EQ(0, kvp_nl_service_status(nl, KVP_SERVICE_KVP, &st));
	kvp_nl_close(nl);
	vm_sh("rmmod kvp");
}

TEST_HARNESS_MAIN
