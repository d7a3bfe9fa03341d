// SPDX-License-Identifier: GPL-2.0
/*
 * The guest channel end to end, in the test VM: this program plays the
 * host, and the real kvp.ko, kvpd and pool files answer it.  Every test of
 * the channel fixture runs once per transport: over vsock loopback
 * (kvp_vsock.ko connects to CID 1) and over VMBus (kvp_vmbus.ko, the very
 * module `make` builds, bound to a KVP device of the VMBus stand-in, whose
 * host end speaks the same frames: selftests/vmbus/).  Every packet is
 * built and checked with the protocol code the module runs.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "kselftest_harness.h"

#include "fakehost.h"
#include "vmtest.h"
#include "vmbushost.h"
#include "nl.h"
#include "pool.h"

#define KVPD "/usr/sbin/kvpd"
#define POOLS "/run/channel-test-pools"

FIXTURE(channel) {
	bool vmbus;
	int lfd;
	int fd;
	u64 next_id;
	pid_t kvpd;
	u8 pkt[KVP_IC_MAX_PACKET];
};

/* The transport the host talks to: its module and its host end. */
FIXTURE_VARIANT(channel) {
	const char *transport;
	const char *module;
};

FIXTURE_VARIANT_ADD(channel, vsock) {
	.transport = "vsock",
	.module = "kvp_vsock",
};

FIXTURE_VARIANT_ADD(channel, vmbus) {
	.transport = "vmbus",
	.module = "kvp_vmbus",
};

static bool is_vmbus(const FIXTURE_VARIANT(channel) *variant)
{
	return !strcmp(variant->transport, "vmbus");
}

/* kvp_vsock connects to our listening socket: its connection is the fd. */
static int vsock_host(struct _test_data_channel *self)
{
	unsigned int port = 7000 + getpid() % 20000;

	self->lfd = fakehost_listen(port);
	if (self->lfd < 0)
		return -1;
	if (vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port))
		return -1;
	self->fd = fakehost_accept(self->lfd);
	return self->fd < 0 ? -1 : 0;
}

/* The stand-in offers a KVP device, kvp_vmbus binds it. */
static int vmbus_host(struct _test_data_channel *self)
{
	self->fd = vmbushost_offer(VMBUSHOST_KVP_CLASS,
				   VMBUSHOST_KVP_INSTANCE);
	if (self->fd < 0)
		return -1;
	return vm_sh("modprobe kvp_vmbus") ? -1 : 0;
}

FIXTURE_SETUP(channel)
{
	self->kvpd = 0;
	self->lfd = -1;
	self->fd = -1;
	self->next_id = 100;
	self->vmbus = is_vmbus(variant);
	/* The rig always builds the stand-in: its absence is a failure. */
	if (is_vmbus(variant))
		ASSERT_EQ(0, vm_sh("modprobe vmbus_standin"));
	ASSERT_EQ(0, vm_sh("modprobe kvp"));
	vm_set_param("daemon_wait_ms", 300);
	vm_set_param("request_timeout_ms", 1000);
	ASSERT_EQ(0, is_vmbus(variant) ? vmbus_host(self) : vsock_host(self));
	vm_sh("rm -rf " POOLS);
}

FIXTURE_TEARDOWN(channel)
{
	if (self->kvpd > 0) {
		kill(self->kvpd, SIGKILL);
		waitpid(self->kvpd, NULL, 0);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->lfd >= 0)
		close(self->lfd);
	vm_sh("rmmod %s; rmmod kvp", variant->module);
}

static u32 call(struct _test_data_channel *self, u8 op, u8 pool,
		const char *key, const char *value, u32 index,
		struct kvp_msg *out)
{
	return fakehost_kvp_call(self->fd, self->next_id++, self->pkt, op,
				 pool, key, value, index, out);
}

static pid_t start_kvpd(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(KVPD, "kvpd", "-n", "--pool-dir", POOLS, NULL);
		_exit(127);
	}
	return pid;
}

/* Polls the module until kvpd (or anyone) is registered, or 5 s pass. */
static bool daemon_registered(void)
{
	struct kvp_nl_status st;
	int i;

	for (i = 0; i < 100; i++) {
		if (!vm_status(&st) && st.daemon_pid)
			return true;
		usleep(50000);
	}
	return false;
}

TEST_F(channel, negotiation_answered_without_daemon)
{
	struct kvp_nl_status st;
	u32 fw, msgv;

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	EXPECT_EQ(KVP_VERSION(3, 0), fw);
	EXPECT_EQ(KVP_VERSION(4, 0), msgv);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_STATE_NEGOTIATED, st.state);
	EXPECT_STREQ(variant->transport, st.transport);
	EXPECT_EQ(KVP_VERSION(3, 0), st.fw_version);
	EXPECT_EQ(KVP_VERSION(4, 0), st.msg_version);
	EXPECT_EQ(0, st.daemon_pid);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_NEGOTIATIONS]);
}

TEST_F(channel, request_without_daemon_fails_after_wait)
{
	struct kvp_nl_status st;
	u32 fw, msgv;

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	EXPECT_EQ(KVP_E_FAIL, call(self, KVP_OP_SET, 0, "k", "v", 0, NULL));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_TIMEOUTS]);
	EXPECT_EQ(0, st.pending);
}

TEST_F(channel, request_waits_for_a_late_daemon)
{
	char value[KVP_POOL_VALUE];
	struct kvp_pool *pool;
	u32 fw, msgv;
	size_t len;

	vm_set_param("daemon_wait_ms", 8000);
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "early", "bird", 0);
	ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 5, self->pkt,
				len));
	usleep(200000);
	self->kvpd = start_kvpd();
	ASSERT_GT(self->kvpd, 0);
	ASSERT_EQ(KVP_S_OK, fakehost_await_status(self->fd, 5, self->pkt, len));
	ASSERT_EQ(0, kvp_pool_open(&pool, POOLS, 0, KVP_POOL_READ));
	ASSERT_EQ(0, kvp_pool_get(pool, "early", value));
	EXPECT_STREQ("bird", value);
	kvp_pool_close(pool);
}

TEST_F(channel, every_operation_through_kvpd)
{
	struct kvp_msg out;
	u32 fw, msgv, i;

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());

	EXPECT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 0, "Grüße", "wörld 😀", 0,
				 NULL));
	EXPECT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 0, "second", "2", 0, NULL));
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_ENUMERATE, 0, "", "", 0, &out));
	EXPECT_STREQ("Grüße", out.key);
	EXPECT_STREQ("wörld 😀", out.value);
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_ENUMERATE, 0, "", "", 1, &out));
	EXPECT_STREQ("second", out.key);
	EXPECT_EQ(KVP_S_CONT, call(self, KVP_OP_ENUMERATE, 0, "", "", 2, NULL));
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_GET, 0, "second", "", 0, &out));
	EXPECT_STREQ("2", out.value);
	EXPECT_EQ(KVP_S_CONT, call(self, KVP_OP_GET, 0, "nope", "", 0, NULL));
	EXPECT_EQ(KVP_S_OK, call(self, KVP_OP_DELETE, 0, "Grüße", "", 0, NULL));
	EXPECT_EQ(KVP_S_CONT, call(self, KVP_OP_DELETE, 0, "Grüße", "", 0,
				   NULL));
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_ENUMERATE, 0, "", "", 0, &out));
	EXPECT_STREQ("second", out.key);

	for (i = 0; i < VM_INTRINSIC_KEYS; i++) {
		ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_ENUMERATE, KVP_POOL_AUTO,
					 "", "", i, &out));
		EXPECT_STREQ(vm_intrinsic_keys[i], out.key);
	}
	EXPECT_EQ(KVP_S_CONT, call(self, KVP_OP_ENUMERATE, KVP_POOL_AUTO, "",
				   "", VM_INTRINSIC_KEYS, NULL));
}

/* A daemon of the test's own: registers, takes requests, never answers. */
static pid_t silent_daemon(int ready_fd)
{
	pid_t pid = fork();
	struct kvp_nl *nl;

	if (pid)
		return pid;
	if (kvp_nl_open(&nl) || kvp_nl_register(nl, NULL, NULL))
		_exit(1);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

TEST_F(channel, daemon_killed_mid_request)
{
	struct kvp_nl_status st;
	int pipefd[2];
	u32 fw, msgv;
	size_t len;
	pid_t pid;
	char c;

	vm_set_param("request_timeout_ms", 60000);
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	ASSERT_EQ(0, pipe(pipefd));
	pid = silent_daemon(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 1, "k", "v", 0);
	ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 9, self->pkt,
				len));
	usleep(200000);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(1, st.pending);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Failed when the daemon's socket closed, not after 60 s. */
	EXPECT_EQ(KVP_E_FAIL, fakehost_await_status(self->fd, 9, self->pkt, len));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(0, st.daemon_pid);

	/* The real daemon, stopped with the request and then killed. */
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	kill(self->kvpd, SIGSTOP);
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 1, "k", "v", 0);
	ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 10, self->pkt,
				len));
	usleep(200000);
	kill(self->kvpd, SIGKILL);
	waitpid(self->kvpd, NULL, 0);
	self->kvpd = 0;
	EXPECT_EQ(KVP_E_FAIL, fakehost_await_status(self->fd, 10, self->pkt, len));
	/* And a new daemon serves the next request. */
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	EXPECT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 1, "after", "ok", 0, NULL));
}

struct held_ctx {
	u32 id;
	int got;
};

static void hold(struct kvp_nl *nl, const struct kvp_nl_request *req,
		 void *arg)
{
	struct held_ctx *ctx = arg;

	(void)nl;
	ctx->id = req->id;
	ctx->got++;
}

static bool wait_request(struct kvp_nl *nl, struct held_ctx *ctx, int got)
{
	struct pollfd pfd = { .fd = kvp_nl_fd(nl), .events = POLLIN };

	while (ctx->got < got && poll(&pfd, 1, FAKEHOST_WAIT_MS) > 0)
		kvp_nl_receive(nl);
	return ctx->got == got;
}

/*
 * A daemon that closes its socket and one that registers right after: the
 * request the first held fails at once, the next goes to the second.
 * Registration and the requests a daemon holds change together.
 */
TEST_F(channel, daemon_replaced_at_once)
{
	struct kvp_nl *old, *new;
	struct held_ctx a, b;
	u32 fw, msgv;
	size_t len;
	int round;

	vm_set_param("request_timeout_ms", 60000);
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	for (round = 0; round < 20; round++) {
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		ASSERT_EQ(0, kvp_nl_open(&old));
		ASSERT_EQ(0, kvp_nl_register(old, hold, &a));
		len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 1, "k", "v",
					   0);
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET,
					   100 + round, self->pkt, len));
		ASSERT_TRUE(wait_request(old, &a, 1));
		kvp_nl_close(old);
		ASSERT_EQ(0, kvp_nl_open(&new));
		ASSERT_EQ(0, kvp_nl_register(new, hold, &b));
		EXPECT_EQ(KVP_E_FAIL, fakehost_await_status(self->fd,
							    100 + round,
							    self->pkt, len));
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET,
					   200 + round, self->pkt, len));
		ASSERT_TRUE(wait_request(new, &b, 1));
		ASSERT_EQ(0, kvp_nl_reply(new, b.id, KVP_S_OK, NULL, NULL));
		EXPECT_EQ(KVP_S_OK, fakehost_await_status(self->fd,
							  200 + round,
							  self->pkt, len));
		kvp_nl_close(new);
	}
}

TEST_F(channel, late_reply_is_discarded)
{
	struct held_ctx ctx = { 0 };
	struct kvp_nl_status st;
	struct kvp_nl *nl;
	u32 fw, msgv;

	vm_set_param("request_timeout_ms", 300);
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	ASSERT_EQ(0, kvp_nl_open(&nl));
	ASSERT_EQ(0, kvp_nl_register(nl, hold, &ctx));
	/* The request reaches us; we answer too late. */
	EXPECT_EQ(KVP_E_FAIL, call(self, KVP_OP_SET, 1, "k", "v", 0, NULL));
	ASSERT_TRUE(wait_request(nl, &ctx, 1));
	ASSERT_EQ(0, kvp_nl_reply(nl, ctx.id, KVP_S_OK, NULL, NULL));
	usleep(100000);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_LATE_REPLIES]);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_TIMEOUTS]);
	EXPECT_EQ(0, st.pending);
	kvp_nl_close(nl);
}

/*
 * Sends len bytes of self->pkt as request `id`; returns the reply's status
 * (read from its header even when the rest is inconsistent).
 */
/*
 * The reply to a request of len bytes: as long, or over VMBus as long as
 * the ring carried it (padded to 8 bytes, and the guest answers with the
 * packet as it received it, as hv_utils does).
 */
static u32 answer(struct _test_data_channel *self, u64 id, size_t len)
{
	int n = fakehost_transact(self->fd, id, self->pkt, len,
				  FAKEHOST_WAIT_MS);
	size_t want = self->vmbus ? (len + 7) & ~(size_t)7 : len;

	if (n != (int)want || n < KVP_ICMSG_HDR_LEN)
		return 0xdeadbeef;
	return kvp_get_le32(self->pkt + KVP_IC_OFF_STATUS);
}

/* Every packet with an IC header is answered: the host never waits. */
TEST_F(channel, malformed_packets_refused)
{
	struct kvp_nl_status st;
	u32 fw, msgv;
	size_t len;
	u8 buf[16];

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	/* An IC type this channel does not carry. */
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "k", "v", 0);
	self->pkt[KVP_IC_OFF_TYPE] = 5;
	EXPECT_EQ(KVP_E_FAIL, answer(self, 3, len));
	/* icmsgsize larger than the packet. */
	fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "k", "v", 0);
	EXPECT_EQ(KVP_E_FAIL, answer(self, 4, 200));
	/* A SET whose key size overruns its body. */
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "k", "v", 0);
	self->pkt[KVP_IC_OFF_SIZE] = 40;
	self->pkt[KVP_IC_OFF_SIZE + 1] = 0;
	EXPECT_EQ(KVP_E_FAIL, answer(self, 6, len));
	/* An ENUMERATE too short to carry its reply. */
	len = fakehost_kvp_request(self->pkt, KVP_OP_ENUMERATE, 0, "", "", 0);
	self->pkt[KVP_IC_OFF_SIZE] = 100;
	self->pkt[KVP_IC_OFF_SIZE + 1] = 0;
	EXPECT_EQ(KVP_E_FAIL, answer(self, 7, len));
	/* IP info is not handled yet: not supported, not a hang. */
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "k", "v", 0);
	self->pkt[KVP_ICMSG_HDR_LEN] = KVP_OP_GET_IP_INFO;
	EXPECT_EQ(KVP_E_NOT_SUPPORTED, answer(self, 8, len));
	/* A negotiation whose version lists overrun it: refused, and the
	 * channel is no longer negotiated. */
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "k", "v", 0);
	self->pkt[KVP_IC_OFF_TYPE] = KVP_IC_TYPE_NEGOTIATE;
	self->pkt[KVP_ICMSG_HDR_LEN] = 99;
	self->pkt[KVP_ICMSG_HDR_LEN + 2] = 99;
	self->pkt[KVP_IC_OFF_SIZE] = 16;
	self->pkt[KVP_IC_OFF_SIZE + 1] = 0;
	EXPECT_EQ(KVP_E_FAIL, answer(self, 9, len));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_STATE_CONNECTED, st.state);
	/* The channel still works. */
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 10, &fw, &msgv));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(5, st.stats[KVP_NL_STAT_MALFORMED]);
	/*
	 * Shorter than the IC headers: nothing to answer with.  Over vsock
	 * the guest treats it as a framing error and starts a new
	 * connection; a VMBus channel drops it, as hv_utils does, and goes
	 * on.  Counted either way.
	 */
	memset(self->pkt, 0, 20);
	ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, 11, self->pkt,
				   20));
	if (self->vmbus) {
		EXPECT_EQ(-ETIMEDOUT, fakehost_read_full(self->fd, buf, 1,
							 500));
		ASSERT_EQ(0, fakehost_negotiate(self->fd, 12, &fw, &msgv));
	} else {
		EXPECT_EQ(-ECONNRESET, fakehost_read_full(self->fd, buf, 1,
							  FAKEHOST_WAIT_MS));
	}
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(6, st.stats[KVP_NL_STAT_MALFORMED]);
}

/* A Hyper-V host negotiates first; requests before that are refused. */
TEST_F(channel, request_before_negotiation_refused)
{
	u32 fw, msgv;

	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	EXPECT_EQ(KVP_E_FAIL, call(self, KVP_OP_SET, 0, "early", "v", 0, NULL));
	EXPECT_EQ(KVP_E_FAIL, call(self, KVP_OP_ENUMERATE, 2, "", "", 0,
				   NULL));
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	EXPECT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 0, "late", "v", 0, NULL));
	EXPECT_EQ(KVP_S_CONT, call(self, KVP_OP_GET, 0, "early", "", 0, NULL));
}

/* Pool 2 is what the guest reports of itself: the host reads it only. */
TEST_F(channel, pool_2_is_read_only_for_the_host)
{
	struct kvp_msg out;
	u32 fw, msgv;

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	EXPECT_EQ(KVP_E_ACCESSDENIED, call(self, KVP_OP_SET, KVP_POOL_AUTO,
					   "OSName", "forged", 0, NULL));
	EXPECT_EQ(KVP_E_ACCESSDENIED, call(self, KVP_OP_DELETE, KVP_POOL_AUTO,
					   "OSName", "", 0, NULL));
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_GET, KVP_POOL_AUTO, "OSName", "",
				 0, &out));
	EXPECT_STRNE("forged", out.value);
}

/*
 * The host may leave old bytes in the fields the guest only writes (an
 * ENUMERATE's key and value, a GET's value): they are not looked at.
 */
TEST_F(channel, output_fields_of_requests_ignored)
{
	u8 *payload = self->pkt + KVP_ICMSG_HDR_LEN;
	struct kvp_ic_hdr hdr;
	struct kvp_msg out;
	u32 fw, msgv;
	size_t len;

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 0, "k", "v", 0, NULL));
	len = fakehost_kvp_request(self->pkt, KVP_OP_ENUMERATE, 0, "", "", 0);
	memset(payload + 8, 0xff, KVP_MSG_ENUM_LEN - 8);
	ASSERT_EQ(KVP_S_OK, answer(self, 20, len));
	ASSERT_EQ(0, kvp_ic_parse(self->pkt, len, &hdr));
	ASSERT_EQ(0, kvp_msg_decode_reply(payload, hdr.size, &out));
	EXPECT_STREQ("k", out.key);
	EXPECT_STREQ("v", out.value);
	len = fakehost_kvp_request(self->pkt, KVP_OP_GET, 0, "k", "", 0);
	memset(payload + 4, 0xee, 4);		/* value_type */
	memset(payload + 12, 0xff, 4);		/* value_size */
	memset(payload + 528, 0xff, KVP_VALUE_BYTES);
	ASSERT_EQ(KVP_S_OK, answer(self, 21, len));
	ASSERT_EQ(0, kvp_msg_decode_reply(payload, KVP_MSG_GETSET_LEN, &out));
	EXPECT_STREQ("v", out.value);
}

/*
 * The reply to a SET or DELETE is the request with only status and flags
 * changed, whatever its size and value type.
 */
TEST_F(channel, set_and_delete_replies_are_the_request)
{
	u8 *payload = self->pkt + KVP_ICMSG_HDR_LEN;
	u8 sent[KVP_ICMSG_HDR_LEN + KVP_MSG_ENUM_LEN];
	char value[KVP_POOL_VALUE];
	struct kvp_pool *pool;
	u32 fw, msgv;
	size_t len;

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	/* A REG_U32 value, padding bytes set. */
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "n", "", 0);
	kvp_put_le32(payload + 4, KVP_REG_U32);
	kvp_put_le32(payload + 12, 4);
	kvp_put_le32(payload + 528, 123);
	payload[2] = 0x5a;
	memcpy(sent, self->pkt, len);
	ASSERT_EQ(KVP_S_OK, answer(self, 30, len));
	EXPECT_EQ(0, memcmp(sent + KVP_ICMSG_HDR_LEN, payload,
			    len - KVP_ICMSG_HDR_LEN));
	/* A SET just long enough for its strings. */
	fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "short", "yes", 0);
	kvp_put_le16(self->pkt + KVP_IC_OFF_SIZE, 600);
	ASSERT_EQ(KVP_S_OK, answer(self, 31, KVP_ICMSG_HDR_LEN + 600));
	/* A DELETE of its own 520 bytes. */
	fakehost_kvp_request(self->pkt, KVP_OP_DELETE, 0, "n", "", 0);
	kvp_put_le16(self->pkt + KVP_IC_OFF_SIZE, KVP_MSG_DELETE_LEN);
	ASSERT_EQ(KVP_S_OK, answer(self, 32,
				   KVP_ICMSG_HDR_LEN + KVP_MSG_DELETE_LEN));
	ASSERT_EQ(0, kvp_pool_open(&pool, POOLS, 0, KVP_POOL_READ));
	EXPECT_EQ(0, kvp_pool_get(pool, "short", value));
	EXPECT_STREQ("yes", value);
	EXPECT_EQ(-ENOENT, kvp_pool_get(pool, "n", value));
	kvp_pool_close(pool);
}

/*
 * Memory short (a test build's debug_fail_alloc): the core's reserve holds
 * the packets, and when it is in use too the transport hands a packet over
 * again later.  Every request is answered; none is lost.
 */
TEST_F(channel, packets_answered_when_memory_is_short)
{
	u32 fw, msgv, id;
	size_t len;

	if (access("/sys/module/kvp/parameters/debug_fail_alloc", F_OK))
		SKIP(return, "kvp.ko is not a test build (KVP_DEBUG=y)");
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	vm_set_param("debug_fail_alloc", 1);
	len = fakehost_kvp_request(self->pkt, KVP_OP_SET, 0, "k", "v", 0);
	for (id = 30; id < 34; id++)
		ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET, id,
					   self->pkt, len));
	/* No daemon: each fails after daemon_wait_ms, in order. */
	for (id = 30; id < 34; id++)
		EXPECT_EQ(KVP_E_FAIL, fakehost_await_status(self->fd, id,
							    self->pkt, len));
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	EXPECT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 0, "k", "v", 0, NULL));
	vm_set_param("debug_fail_alloc", 0);
}

TEST_F(channel, garbage_frame_resets_connection)
{
	static const u8 garbage[KVP_VSOCK_HDR_LEN] = "this is not a frame!!!";
	struct kvp_frame frame = {
		.version = 1, .type = KVP_VSOCK_PACKET,
		.length = KVP_VSOCK_MAX_PAYLOAD, .id = 1,
	};
	u8 hdr[KVP_VSOCK_HDR_LEN];
	struct kvp_nl_status st;
	u8 buf[16];
	u32 fw, msgv;

	if (is_vmbus(variant))
		SKIP(return, "VMBus has no framing of kvp's");
	ASSERT_EQ(KVP_VSOCK_HDR_LEN, write(self->fd, garbage,
					   KVP_VSOCK_HDR_LEN));
	/* The guest drops the connection ... */
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(self->fd, buf, 1, FAKEHOST_WAIT_MS));
	close(self->fd);
	/* ... and comes back. */
	self->fd = fakehost_accept(self->lfd);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_MALFORMED]);

	/* A frame longer than any IC packet: the same. */
	kvp_frame_build(hdr, &frame);
	hdr[KVP_VSOCK_OFF_LENGTH + 2] = 1;
	ASSERT_EQ(KVP_VSOCK_HDR_LEN, write(self->fd, hdr, sizeof(hdr)));
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(self->fd, buf, 1, FAKEHOST_WAIT_MS));
}

/* kvp_vsock with a host of framing version 2 (one port, a service field). */
TEST(framing_version_2)
{
	unsigned int port = 27000 + getpid() % 20000;
	u8 mask[4], pkt[KVP_IC_MAX_PACKET], buf[16];
	struct kvp_nl_status st;
	u32 fw, msgv, spoken;
	u16 offered;
	size_t len;
	int lfd, fd;

	ASSERT_EQ(0, vm_sh("modprobe kvp"));
	lfd = fakehost_listen(port);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port));

	/* The guest offers 3; a version-2 WELCOME names the services. */
	fd = fakehost_accept_hello(lfd, &offered, &spoken);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(3, offered);
	kvp_put_le32(mask, 1u << KVP_VSOCK_SERVICE_KVP);
	fakehost_version = 2;
	ASSERT_EQ(0, fakehost_send(fd, KVP_VSOCK_WELCOME, 0, mask, 4));
	ASSERT_EQ(0, fakehost_negotiate(fd, 1, &fw, &msgv));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_STATE_NEGOTIATED, st.state);
	/* A service the host did not announce ends the connection. */
	len = fakehost_kvp_request(pkt, KVP_OP_GET, 0, "k", "", 0);
	ASSERT_EQ(0, fakehost_send_frame(fd, 2, KVP_VSOCK_PACKET,
					 KVP_VSOCK_SERVICE_ACTIVATION, 2, pkt,
					 len));
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(fd, buf, 1,
						  FAKEHOST_WAIT_MS));
	close(fd);

	/* So does a PACKET of another version than the connection's. */
	fd = fakehost_accept_version(lfd, 2, 1u << KVP_VSOCK_SERVICE_KVP);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fakehost_send_frame(fd, 1, KVP_VSOCK_PACKET,
					 KVP_VSOCK_SERVICE_KVP, 3, pkt, len));
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(fd, buf, 1,
						  FAKEHOST_WAIT_MS));
	close(fd);

	/* A WELCOME above the guest's offer, or with an id, is refused ... */
	fd = fakehost_accept_hello(lfd, &offered, &spoken);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fakehost_send_frame(fd, KVP_VSOCK_VERSION_MAX + 1,
					 KVP_VSOCK_WELCOME, 0, 0, mask, 4));
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(fd, buf, 1,
						  FAKEHOST_WAIT_MS));
	close(fd);
	fd = fakehost_accept_hello(lfd, &offered, &spoken);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fakehost_send_frame(fd, 2, KVP_VSOCK_WELCOME, 0, 7, mask,
					 4));
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(fd, buf, 1,
						  FAKEHOST_WAIT_MS));
	close(fd);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(4, st.stats[KVP_NL_STAT_MALFORMED]);

	/* ... and a version-1 host still works. */
	fd = fakehost_accept_version(lfd, 1, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fakehost_negotiate(fd, 4, &fw, &msgv));
	close(fd);
	close(lfd);
	vm_sh("rmmod kvp_vsock; rmmod kvp");
}

/* Accepts the guest; 0 if its HELLO offers `version` naming `spoken`. */
static int hello_is(int lfd, u16 version, u32 spoken, int *fd)
{
	u32 services;
	u16 offered;

	*fd = fakehost_accept_hello(lfd, &offered, &services);
	if (*fd < 0)
		return *fd;
	return offered == version && services == spoken ? 0 : -EPROTO;
}

/* Sends a version-3 WELCOME of mask `services`: is it refused? */
static bool welcome_v3_refused(int lfd, u32 services)
{
	u8 mask[4], buf[1];
	bool refused;
	int fd;

	if (hello_is(lfd, 3, 3, &fd)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	kvp_put_le32(mask, services);
	refused = !fakehost_send_frame(fd, 3, KVP_VSOCK_WELCOME, 0, 0, mask,
				       4) &&
		  fakehost_read_full(fd, buf, 1, FAKEHOST_WAIT_MS) ==
		  -ECONNRESET;
	close(fd);
	return refused;
}

/*
 * kvp_vsock with a host of framing version 3: its HELLO names the KVP
 * exchange and activation (mask 3), the WELCOME names the connection's
 * services; a host that closes on that HELLO twice in a row (as hosts of
 * versions 1 and 2 do on a HELLO with a payload) gets an empty version-2
 * HELLO next, and the attempt after that is of version 3 again.  Once is
 * not enough: a host that went away in mid-handshake is no old host.
 */
TEST(framing_version_3)
{
	unsigned int port = 27000 + (getpid() + 1) % 20000;
	u8 pkt[KVP_IC_MAX_PACKET], buf[16];
	struct kvp_nl_status st;
	u32 fw, msgv;
	size_t len;
	int lfd, fd;

	ASSERT_EQ(0, vm_sh("modprobe kvp"));
	lfd = fakehost_listen(port);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port));

	/* Version 3, KVP alone on this connection. */
	ASSERT_EQ(0, hello_is(lfd, 3, 3, &fd));
	fakehost_version = 3;
	len = kvp_frame_welcome_build(pkt, 3, 1u << KVP_VSOCK_SERVICE_KVP);
	ASSERT_EQ(0, fakehost_send(fd, KVP_VSOCK_WELCOME, 0, pkt, len));
	ASSERT_EQ(0, fakehost_negotiate(fd, 1, &fw, &msgv));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_STATE_NEGOTIATED, st.state);
	/* A service the WELCOME did not announce ends the connection. */
	len = fakehost_kvp_request(pkt, KVP_OP_GET, 0, "k", "", 0);
	ASSERT_EQ(0, fakehost_send_frame(fd, 3, KVP_VSOCK_PACKET,
					 KVP_VSOCK_SERVICE_ACTIVATION, 2, pkt,
					 len));
	EXPECT_EQ(-ECONNRESET, fakehost_read_full(fd, buf, 1,
						  FAKEHOST_WAIT_MS));
	close(fd);

	/* A mask naming what the HELLO did not, or without KVP: refused. */
	EXPECT_TRUE(welcome_v3_refused(lfd, 1u << KVP_VSOCK_SERVICE_KVP |
					    1u << 2));
	EXPECT_TRUE(welcome_v3_refused(lfd,
				       1u << KVP_VSOCK_SERVICE_ACTIVATION));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(3, st.stats[KVP_NL_STAT_MALFORMED]);

	/*
	 * Closed unanswered twice in a row: the next HELLO is an empty one
	 * of version 2.
	 */
	ASSERT_EQ(0, hello_is(lfd, 3, 3, &fd));
	close(fd);
	ASSERT_EQ(0, hello_is(lfd, 3, 3, &fd));
	close(fd);
	ASSERT_EQ(0, hello_is(lfd, 2, 1u << KVP_VSOCK_SERVICE_KVP, &fd));
	fakehost_version = 2;
	len = kvp_frame_welcome_build(pkt, 2, 1u << KVP_VSOCK_SERVICE_KVP);
	ASSERT_EQ(0, fakehost_send(fd, KVP_VSOCK_WELCOME, 0, pkt, len));
	ASSERT_EQ(0, fakehost_negotiate(fd, 1, &fw, &msgv));
	close(fd);
	ASSERT_EQ(0, hello_is(lfd, 3, 3, &fd));
	close(fd);
	close(lfd);
	vm_sh("rmmod kvp_vsock; rmmod kvp");
}

TEST(unprivileged_netlink_refused)
{
	struct kvp_nl_status st;
	struct kvp_nl *nl;
	int wstatus;
	pid_t pid;

	ASSERT_EQ(0, vm_sh("modprobe kvp"));
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (kvp_nl_open(&nl))
			_exit(11);
		if (kvp_nl_status(nl, &st))
			_exit(12);
		if (kvp_nl_register(nl, NULL, NULL) != -EPERM)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &wstatus, 0));
	EXPECT_EQ(0, WEXITSTATUS(wstatus));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(0, st.daemon_pid);
	vm_sh("rmmod kvp");
}

TEST(one_daemon_at_a_time)
{
	struct kvp_nl *first, *second;
	int i, err = 0;

	ASSERT_EQ(0, vm_sh("modprobe kvp"));
	ASSERT_EQ(0, kvp_nl_open(&first));
	ASSERT_EQ(0, kvp_nl_open(&second));
	ASSERT_EQ(0, kvp_nl_register(first, NULL, NULL));
	EXPECT_EQ(-EBUSY, kvp_nl_register(second, NULL, NULL));
	/* Closing the socket ends the registration. */
	kvp_nl_close(first);
	for (i = 0; i < 50; i++) {
		err = kvp_nl_register(second, NULL, NULL);
		if (err != -EBUSY)
			break;
		usleep(20000);
	}
	EXPECT_EQ(0, err);
	kvp_nl_close(second);
	vm_sh("rmmod kvp");
}

TEST_F(channel, unload_under_traffic)
{
	u32 fw, msgv;
	pid_t pid;
	int i;

	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	pid = fork();
	if (pid == 0) {
		/* Keep requests flowing until the guest goes away. */
		for (i = 0; ; i++) {
			size_t len = fakehost_kvp_request(self->pkt, KVP_OP_ENUMERATE,
						 KVP_POOL_AUTO, "", "", i % 12);

			if (fakehost_transact(self->fd, 1000 + i, self->pkt, len,
				     FAKEHOST_WAIT_MS) <= 0)
				_exit(0);
		}
	}
	usleep(500000);
	EXPECT_EQ(0, vm_sh("rmmod %s", variant->module));
	/* A VMBus host end outlives the driver: stop the traffic here. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	EXPECT_EQ(0, vm_sh("rmmod kvp"));
	/* Teardown unloads again; reload so that it finds them. */
	EXPECT_EQ(0, vm_sh("modprobe kvp && modprobe %s%s", variant->module,
			is_vmbus(variant) ? "" : " host_cid=1 port=1"));
}

/*
 * Requests in flight, then the host takes the channel away (as when an
 * admin turns Data Exchange off) and offers it again, 20 times as
 * Microsoft's own KVP test does: each new channel negotiates and works,
 * whatever happened to the requests of the old one.
 */
TEST_F(channel, rescind_and_reoffer_under_traffic)
{
	struct kvp_nl_status st;
	struct kvp_msg out;
	char key[16];
	u32 fw, msgv;
	size_t len;
	int round, i;

	if (!is_vmbus(variant))
		SKIP(return, "rescind is VMBus's");
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
		snprintf(key, sizeof(key), "round%d", round);
		ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 0, key, "done", 0,
					 NULL));
		len = fakehost_kvp_request(self->pkt, KVP_OP_ENUMERATE,
					   KVP_POOL_AUTO, "", "", 0);
		/* As many as the 12 KiB ring takes. */
		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, fakehost_send(self->fd, KVP_VSOCK_PACKET,
						   500 + i, self->pkt, len));
		ASSERT_EQ(0, vmbushost_rescind(self->fd));
		ASSERT_EQ(0, vmbushost_reoffer(self->fd));
	}
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	for (round = 0; round < 20; round++) {
		snprintf(key, sizeof(key), "round%d", round);
		ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_GET, 0, key, "", 0,
					 &out));
		EXPECT_STREQ("done", out.value);
	}
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_STREQ("vmbus", st.transport);
	EXPECT_EQ(KVP_STATE_NEGOTIATED, st.state);
}

/* An admin unbinds the driver and binds it again through sysfs. */
TEST_F(channel, unbind_and_bind)
{
	struct kvp_nl_status st;
	struct kvp_msg out;
	u32 fw, msgv;

	if (!is_vmbus(variant))
		SKIP(return, "driver binding is VMBus's");
	self->kvpd = start_kvpd();
	ASSERT_TRUE(daemon_registered());
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 1, &fw, &msgv));
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_SET, 0, "bound", "1", 0, NULL));
	ASSERT_EQ(0, vm_sh("echo %s > /sys/bus/vmbus/drivers/kvp_vmbus/unbind",
			VMBUSHOST_KVP_INSTANCE));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_STATE_NO_TRANSPORT, st.state);
	ASSERT_EQ(0, vm_sh("echo %s > /sys/bus/vmbus/drivers/kvp_vmbus/bind",
			VMBUSHOST_KVP_INSTANCE));
	ASSERT_EQ(0, fakehost_negotiate(self->fd, 2, &fw, &msgv));
	ASSERT_EQ(KVP_S_OK, call(self, KVP_OP_GET, 0, "bound", "", 0, &out));
	EXPECT_STREQ("1", out.value);
}

TEST_HARNESS_MAIN
