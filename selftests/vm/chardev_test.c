// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmbus/hv_kvp end to end, in the test VM: this program plays the host
 * over vsock loopback (as channel_test does) and, on the guest side, either
 * a raw client of the device (fixture `raw`: every call of the ABI, byte by
 * byte), or Debian's own hv_kvp_daemon, unchanged (fixture `stock`: pool
 * files, intrinsic items, exclusion with kvpd and daemons that take turns
 * while the host keeps sending).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "fakehost.h"
#include "vmtest.h"
#include "nl.h"
#include "stock.h"

#define DEV "/dev/vmbus/hv_kvp"
#define STOCKD "/usr/sbin/hv_kvp_daemon"
#define KVPD "/usr/sbin/kvpd"
#define POOLS "/var/lib/hyperv"
#define LEN KVP_STOCK_MSG_LEN
#define RECORD 2560

static void put32(u8 *p, u32 v)
{
	memcpy(p, &v, 4);
}

static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

/* The host end and the module, loaded fresh, negotiated. */
struct host {
	int lfd;
	int fd;
	u64 next_id;
	u8 pkt[KVP_IC_MAX_PACKET];
};

static int host_up(struct host *h)
{
	unsigned int port = 7000 + getpid() % 20000;
	u32 fw, msgv;

	h->next_id = 100;
	if (vm_sh("modprobe kvp"))
		return -1;
	vm_set_param("daemon_wait_ms", 5000);
	vm_set_param("request_timeout_ms", 5000);
	h->lfd = fakehost_listen(port);
	if (h->lfd < 0 || vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port))
		return -1;
	h->fd = fakehost_accept(h->lfd);
	if (h->fd < 0)
		return -1;
	return fakehost_negotiate(h->fd, 1, &fw, &msgv);
}

static void host_down(struct host *h)
{
	close(h->fd);
	close(h->lfd);
	vm_sh("rmmod kvp_vsock; rmmod kvp");
}

static u32 host_call(struct host *h, u8 op, u8 pool, const char *key,
		     const char *value, u32 index, struct kvp_msg *out)
{
	return fakehost_kvp_call(h->fd, h->next_id++, h->pkt, op, pool, key,
				 value, index, out);
}

/* Sends a request without waiting: its id, for host_await(). */
static u64 host_send(struct host *h, u8 op, u8 pool, const char *key,
		     const char *value, u32 index, size_t *len)
{
	u64 id = h->next_id++;

	*len = fakehost_kvp_request(h->pkt, op, pool, key, value, index);
	if (fakehost_send(h->fd, KVP_VSOCK_PACKET, id, h->pkt, *len))
		return 0;
	return id;
}

static u32 host_await(struct host *h, u64 id, size_t len)
{
	return fakehost_await_status(h->fd, id, h->pkt, len);
}

/* Decodes the item of the host's last reply, of len bytes. */
static int host_item(struct host *h, size_t len, struct kvp_msg *out)
{
	return kvp_msg_decode_reply(h->pkt + KVP_ICMSG_HDR_LEN,
				    len - KVP_ICMSG_HDR_LEN, out);
}

/* A message to write: operation and every other byte zero. */
static void msg_op(u8 *msg, u8 op)
{
	memset(msg, 0, LEN);
	msg[0] = op;
}

/* Opens the device and registers with `reg`; the fd, or -errno. */
static int dev_register(u8 reg, int flags)
{
	u8 msg[LEN];
	int fd = open(DEV, O_RDWR | O_CLOEXEC | flags);

	if (fd < 0)
		return -errno;
	msg_op(msg, reg);
	if (write(fd, msg, LEN) != LEN || read(fd, msg, LEN) != LEN ||
	    msg[0] != reg) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/* Waits for one message to read; 0 or -errno (-ETIMEDOUT). */
static int dev_read(int fd, u8 *msg, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);

	if (n == 0)
		return -ETIMEDOUT;
	if (n < 0)
		return -errno;
	n = read(fd, msg, LEN);
	return n == LEN ? 0 : n < 0 ? -errno : -EPROTO;
}

/* Writes a REGISTER1 daemon's answer: status, and the ENUMERATE fields. */
static ssize_t dev_answer(int fd, u8 *msg, u32 status, const char *key,
			  const char *value)
{
	put32(msg, status);
	if (key)
		snprintf((char *)msg + 20, 512, "%s", key);
	if (value)
		snprintf((char *)msg + 532, 2048, "%s", value);
	return write(fd, msg, LEN);
}

FIXTURE(raw) {
	struct host h;
	int dev;
};

FIXTURE_SETUP(raw)
{
	self->dev = -1;
	ASSERT_EQ(0, host_up(&self->h));
	ASSERT_EQ(0, access(DEV, F_OK));
}

FIXTURE_TEARDOWN(raw)
{
	if (self->dev >= 0)
		close(self->dev);
	host_down(&self->h);
}

TEST_F(raw, handshake_register1)
{
	struct kvp_nl_status st;
	u8 msg[LEN];
	int i;

	self->dev = open(DEV, O_RDWR);
	ASSERT_GE(self->dev, 0);
	/* Nothing to read before the daemon registers. */
	ASSERT_EQ(-ETIMEDOUT, dev_read(self->dev, msg, 100));
	msg_op(msg, KVP_STOCK_OP_REGISTER1);
	msg[1] = 0xff;
	ASSERT_EQ(LEN, write(self->dev, msg, LEN));
	memset(msg, 0xaa, LEN);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(100, msg[0]);
	EXPECT_STREQ("3.1", (char *)msg + 4);
	for (i = 1; i < LEN; i++)
		if ((i < 4 || i > 7) && msg[i])
			break;
	EXPECT_EQ(LEN, i);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ((u32)getpid(), st.daemon_pid);
	EXPECT_STREQ("chardev", st.daemon_kind);
	EXPECT_EQ(KVP_CHARDEV_READY, st.chardev);
	EXPECT_EQ(0, vm_sh("kvpctl status | grep -qx 'daemon: *pid %d (chardev)'",
			getpid()));
	EXPECT_EQ(0, vm_sh("kvpctl status | grep -qx 'chardev: *ready'"));
}

TEST_F(raw, legacy_register_empty_key_is_no_item)
{
	struct kvp_msg out;
	u8 msg[LEN];
	size_t len;
	u64 id;

	self->dev = dev_register(KVP_STOCK_OP_REGISTER, 0);
	ASSERT_GE(self->dev, 0);
	id = host_send(&self->h, KVP_OP_ENUMERATE, 1, "", "", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(KVP_OP_ENUMERATE, msg[0]);
	/* A legacy daemon leaves the header; an empty key means the end. */
	ASSERT_EQ(LEN, write(self->dev, msg, LEN));
	EXPECT_EQ(KVP_S_CONT, host_await(&self->h, id, len));

	id = host_send(&self->h, KVP_OP_ENUMERATE, 1, "", "", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	strcpy((char *)msg + 20, "key");
	strcpy((char *)msg + 532, "value");
	ASSERT_EQ(LEN, write(self->dev, msg, LEN));
	ASSERT_EQ(KVP_S_OK, host_await(&self->h, id, len));
	ASSERT_EQ(0, host_item(&self->h, len, &out));
	EXPECT_STREQ("key", out.key);
	EXPECT_STREQ("value", out.value);
}

TEST_F(raw, bad_register_refused)
{
	u8 msg[LEN];

	self->dev = open(DEV, O_RDWR);
	ASSERT_GE(self->dev, 0);
	msg_op(msg, 5);
	EXPECT_EQ(-1, write(self->dev, msg, LEN));
	EXPECT_EQ(EINVAL, errno);
	msg_op(msg, 0);
	EXPECT_EQ(-1, write(self->dev, msg, LEN));
	EXPECT_EQ(EINVAL, errno);
	/* It may try again. */
	msg_op(msg, KVP_STOCK_OP_REGISTER1);
	ASSERT_EQ(LEN, write(self->dev, msg, LEN));
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(100, msg[0]);
	/* A second registration is an answer nobody asked for. */
	msg_op(msg, KVP_STOCK_OP_REGISTER1);
	EXPECT_EQ(-1, write(self->dev, msg, LEN));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(raw, exclusive_open)
{
	struct kvp_nl *nl;
	int fd, err;
	char pid[16];

	self->dev = open(DEV, O_RDWR);
	ASSERT_GE(self->dev, 0);
	EXPECT_EQ(-1, open(DEV, O_RDWR));
	EXPECT_EQ(EBUSY, errno);
	/* netlink is refused too, and told who holds the service. */
	ASSERT_EQ(0, kvp_nl_open(&nl));
	err = kvp_nl_register(nl, NULL, NULL);
	EXPECT_EQ(-EBUSY, err);
	EXPECT_NE(NULL, strstr(kvp_nl_error_message(nl), DEV));
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (strstr(kvp_nl_error_message(nl), "pid"))
		EXPECT_NE(NULL, strstr(kvp_nl_error_message(nl), pid));
	kvp_nl_close(nl);
	close(self->dev);

	/* And the other way round: the netlink daemon holds it. */
	ASSERT_EQ(0, kvp_nl_open(&nl));
	ASSERT_EQ(0, kvp_nl_register(nl, NULL, NULL));
	vm_sh("dmesg -c > /dev/null");
	fd = open(DEV, O_RDWR);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, vm_sh("dmesg | grep -q 'the netlink daemon %d holds'",
			getpid()));
	EXPECT_EQ(0, vm_sh("kvpctl status | grep -qx 'daemon: *pid %d (netlink)'",
			getpid()));
	kvp_nl_close(nl);
	/* Free again once the netlink daemon is gone. */
	usleep(100000);
	self->dev = open(DEV, O_RDWR);
	EXPECT_GE(self->dev, 0);
}

TEST_F(raw, sizes)
{
	u8 msg[LEN + 1];

	self->dev = open(DEV, O_RDWR | O_NONBLOCK);
	ASSERT_GE(self->dev, 0);
	msg_op(msg, KVP_STOCK_OP_REGISTER1);
	EXPECT_EQ(-1, write(self->dev, msg, LEN - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->dev, msg, LEN + 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(LEN, write(self->dev, msg, LEN));
	EXPECT_EQ(-1, read(self->dev, msg, LEN - 1));
	EXPECT_EQ(EINVAL, errno);
	/* The message stayed: a big enough buffer gets it whole. */
	EXPECT_EQ(LEN, read(self->dev, msg, LEN + 1));
	EXPECT_EQ(100, msg[0]);
}

TEST_F(raw, poll_and_nonblocking_read)
{
	struct pollfd pfd;
	u8 msg[LEN];
	size_t len;
	u64 id;

	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, O_NONBLOCK);
	ASSERT_GE(self->dev, 0);
	pfd.fd = self->dev;
	pfd.events = POLLIN | POLLOUT;
	EXPECT_EQ(0, poll(&pfd, 1, 100));
	EXPECT_EQ(-1, read(self->dev, msg, LEN));
	EXPECT_EQ(EAGAIN, errno);
	id = host_send(&self->h, KVP_OP_SET, 0, "k", "v", 0, &len);
	EXPECT_EQ(1, poll(&pfd, 1, 1000));
	EXPECT_EQ(POLLIN, pfd.revents);
	ASSERT_EQ(LEN, read(self->dev, msg, LEN));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_OK, NULL, NULL));
	EXPECT_EQ(KVP_S_OK, host_await(&self->h, id, len));
}

/* Blocking read: woken by the request that arrives while it sleeps. */
TEST_F(raw, blocking_read_woken_by_request)
{
	u8 msg[LEN];
	size_t len;
	pid_t child;
	int st;

	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	child = fork();
	if (child == 0) {
		usleep(200000);
		_exit(host_send(&self->h, KVP_OP_DELETE, 1, "gone", "", 0,
				&len) ? 0 : 1);
	}
	ASSERT_EQ(LEN, read(self->dev, msg, LEN));
	waitpid(child, &st, 0);
	ASSERT_EQ(0, st);
	EXPECT_EQ(KVP_OP_DELETE, msg[0]);
	EXPECT_EQ(1, msg[1]);
	EXPECT_EQ(5, get32(msg + 4));
	EXPECT_STREQ("gone", (char *)msg + 8);
	ASSERT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_CONT, NULL, NULL));
	len = KVP_ICMSG_HDR_LEN + KVP_MSG_ENUM_LEN;
	EXPECT_EQ(KVP_S_CONT, host_await(&self->h, self->h.next_id, len));
}

TEST_F(raw, every_operation_byte_exact)
{
	struct kvp_msg out;
	u8 msg[LEN];
	size_t len;
	u64 id;

	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);

	id = host_send(&self->h, KVP_OP_SET, 3, "H\xc3\xb6st", "value", 0,
		       &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(KVP_OP_SET, msg[0]);
	EXPECT_EQ(3, msg[1]);
	EXPECT_EQ(6, get32(msg + 8));
	EXPECT_EQ(6, get32(msg + 12));
	EXPECT_STREQ("H\xc3\xb6st", (char *)msg + 16);
	EXPECT_STREQ("value", (char *)msg + 528);
	ASSERT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_OK, NULL, NULL));
	EXPECT_EQ(KVP_S_OK, host_await(&self->h, id, len));

	id = host_send(&self->h, KVP_OP_GET, 0, "key", "", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(KVP_OP_GET, msg[0]);
	EXPECT_EQ(4, get32(msg + 8));
	EXPECT_EQ(2048, get32(msg + 12));
	strcpy((char *)msg + 528, "abcdefgh");
	put32(msg, KVP_S_OK);
	ASSERT_EQ(LEN, write(self->dev, msg, LEN));
	ASSERT_EQ(KVP_S_OK, host_await(&self->h, id, len));
	ASSERT_EQ(0, host_item(&self->h, len, &out));
	/* All of it: hv_utils would give "efgh". */
	EXPECT_STREQ("abcdefgh", out.value);

	id = host_send(&self->h, KVP_OP_ENUMERATE, 2, "", "", 7, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(KVP_OP_ENUMERATE, msg[0]);
	EXPECT_EQ(2, msg[1]);
	EXPECT_EQ(7, get32(msg + 4));
	ASSERT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_OK, "OSName",
				  "Debian GNU/Linux"));
	ASSERT_EQ(KVP_S_OK, host_await(&self->h, id, len));
	ASSERT_EQ(0, host_item(&self->h, len, &out));
	EXPECT_STREQ("OSName", out.key);
	EXPECT_STREQ("Debian GNU/Linux", out.value);

	/* A key without its NUL: E_FAIL for the host, EINVAL for us. */
	id = host_send(&self->h, KVP_OP_ENUMERATE, 1, "", "", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	put32(msg, KVP_S_OK);
	memset(msg + 20, 'k', 512);
	EXPECT_EQ(-1, write(self->dev, msg, LEN));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(KVP_E_FAIL, host_await(&self->h, id, len));
}

TEST_F(raw, late_write_refused)
{
	struct kvp_nl_status st;
	u8 msg[LEN];
	size_t len;
	u64 id;

	vm_set_param("request_timeout_ms", 300);
	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	id = host_send(&self->h, KVP_OP_SET, 0, "k", "v", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(KVP_E_FAIL, host_await(&self->h, id, len));
	EXPECT_EQ(-1, dev_answer(self->dev, msg, KVP_S_OK, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_LATE_REPLIES]);
	EXPECT_EQ(1, st.stats[KVP_NL_STAT_TIMEOUTS]);
	EXPECT_EQ(0, st.pending);
}

/*
 * A request that times out before the daemon read it is withdrawn: the
 * daemon never sees it (it would act on a request the host was told had
 * failed), and the next request is the one it reads.
 */
TEST_F(raw, unread_request_withdrawn_when_it_ends)
{
	struct pollfd pfd = { .events = POLLIN };
	u8 msg[LEN];
	size_t len;
	u64 a, b;

	vm_set_param("request_timeout_ms", 300);
	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	a = host_send(&self->h, KVP_OP_SET, 0, "stale", "v", 0, &len);
	EXPECT_EQ(KVP_E_FAIL, host_await(&self->h, a, len));
	pfd.fd = self->dev;
	EXPECT_EQ(0, poll(&pfd, 1, 200));
	b = host_send(&self->h, KVP_OP_SET, 0, "fresh", "v", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_STREQ("fresh", (char *)msg + 16);
	EXPECT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_OK, NULL, NULL));
	EXPECT_EQ(KVP_S_OK, host_await(&self->h, b, len));
}

/*
 * Request A times out at the daemon; B comes while the daemon still owes
 * A's answer.  B is not given to it until it answers A, and A's answer
 * (refused) is not taken for B's.
 */
TEST_F(raw, late_answer_not_taken_for_next_request)
{
	struct kvp_msg out;
	u8 msg[LEN];
	size_t len;
	u64 a, b;

	vm_set_param("request_timeout_ms", 300);
	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	a = host_send(&self->h, KVP_OP_ENUMERATE, 1, "", "", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(0, get32(msg + 4));
	EXPECT_EQ(KVP_E_FAIL, host_await(&self->h, a, len));

	b = host_send(&self->h, KVP_OP_ENUMERATE, 1, "", "", 1, &len);
	EXPECT_EQ(-ETIMEDOUT, dev_read(self->dev, msg, 100));
	ASSERT_EQ(-1, dev_answer(self->dev, msg, KVP_S_OK, "A", "for A"));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	EXPECT_EQ(1, get32(msg + 4));
	ASSERT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_OK, "B", "for B"));
	ASSERT_EQ(KVP_S_OK, host_await(&self->h, b, len));
	ASSERT_EQ(0, host_item(&self->h, len, &out));
	EXPECT_STREQ("B", out.key);
	EXPECT_STREQ("for B", out.value);
}

TEST_F(raw, release_fails_what_it_held)
{
	u8 msg[LEN];
	size_t len;
	u64 id;

	vm_set_param("request_timeout_ms", 60000);
	/* Read and not answered. */
	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	id = host_send(&self->h, KVP_OP_SET, 0, "k", "v", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	close(self->dev);
	EXPECT_EQ(KVP_E_FAIL, host_await(&self->h, id, len));
	/* Queued and not read. */
	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	id = host_send(&self->h, KVP_OP_SET, 0, "k", "v", 0, &len);
	usleep(200000);
	close(self->dev);
	EXPECT_EQ(KVP_E_FAIL, host_await(&self->h, id, len));
	/* A request that waits for a daemon goes to the next one. */
	id = host_send(&self->h, KVP_OP_SET, 0, "k", "v", 0, &len);
	usleep(200000);
	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	ASSERT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_OK, NULL, NULL));
	EXPECT_EQ(KVP_S_OK, host_await(&self->h, id, len));
}

/* The node follows the transport; an open file outlives it. */
TEST_F(raw, node_follows_transport)
{
	unsigned int port = 27000 + getpid() % 1000;
	struct kvp_nl_status st;
	u32 fw, msgv;
	u8 msg[LEN];
	size_t len;
	u64 id;

	self->dev = dev_register(KVP_STOCK_OP_REGISTER1, 0);
	ASSERT_GE(self->dev, 0);
	close(self->h.fd);
	close(self->h.lfd);
	ASSERT_EQ(0, vm_sh("rmmod kvp_vsock"));
	EXPECT_NE(0, access(DEV, F_OK));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_CHARDEV_OFF, st.chardev);
	EXPECT_STREQ("chardev", st.daemon_kind);
	EXPECT_EQ(0, vm_sh("kvpctl status | grep -qx 'chardev: *off: no transport'"));

	self->h.lfd = fakehost_listen(port);
	ASSERT_GE(self->h.lfd, 0);
	ASSERT_EQ(0, vm_sh("modprobe kvp_vsock host_cid=1 port=%u", port));
	self->h.fd = fakehost_accept(self->h.lfd);
	ASSERT_GE(self->h.fd, 0);
	ASSERT_EQ(0, fakehost_negotiate(self->h.fd, 1, &fw, &msgv));
	EXPECT_EQ(0, access(DEV, F_OK));
	ASSERT_EQ(0, vm_status(&st));
	EXPECT_EQ(KVP_CHARDEV_READY, st.chardev);
	/* The file opened on the old node serves the new transport. */
	id = host_send(&self->h, KVP_OP_SET, 0, "k", "v", 0, &len);
	ASSERT_EQ(0, dev_read(self->dev, msg, 1000));
	ASSERT_EQ(LEN, dev_answer(self->dev, msg, KVP_S_OK, NULL, NULL));
	EXPECT_EQ(KVP_S_OK, host_await(&self->h, id, len));
}

/* ---- Debian's hv_kvp_daemon, unchanged ---- */

static pid_t spawn(const char *path, char *const argv[], const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

static pid_t start_stockd(void)
{
	static char *const argv[] = { "hv_kvp_daemon", "-n", NULL };

	return spawn(STOCKD, argv, "stockd.log");
}

static pid_t start_kvpd(void)
{
	static char *const argv[] = { "kvpd", "-n", NULL };

	return spawn(KVPD, argv, "kvpd.log");
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/*
 * Stops the stock daemon where it cannot tear its pool file: it rewrites
 * the whole file on every SET (truncate, then write), under an fcntl lock,
 * so a kill in between would lose the pool.  Holding that lock, we catch it
 * waiting for it instead.
 */
static void stop_stockd(pid_t *pid)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(POOLS "/.kvp_pool_0", O_RDWR | O_CREAT, 0644);

	if (fd >= 0)
		fcntl(fd, F_SETLKW, &lock);
	stop(pid);
	if (fd >= 0)
		close(fd);
}

/* Until `pid` is the attached daemon, or 5 s pass. */
static bool attached(pid_t pid)
{
	struct kvp_nl_status st;
	int i;

	for (i = 0; i < 100; i++) {
		if (!vm_status(&st) && st.daemon_pid == (u32)pid)
			return true;
		usleep(50000);
	}
	return false;
}

/* Appends one record to a pool file, as pool-files.rst describes. */
static int add_record(int pool, const char *key, const char *value)
{
	char path[64], rec[RECORD] = { 0 };
	int fd, n;

	snprintf(path, sizeof(path), POOLS "/.kvp_pool_%d", pool);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return -errno;
	snprintf(rec, 512, "%s", key);
	snprintf(rec + 512, 2048, "%s", value);
	n = write(fd, rec, RECORD);
	close(fd);
	return n == RECORD ? 0 : -EIO;
}

FIXTURE(stock) {
	struct host h;
	pid_t stockd;
	pid_t kvpd;
};

FIXTURE_SETUP(stock)
{
	self->stockd = self->kvpd = 0;
	if (access(STOCKD, X_OK))
		SKIP(return, "%s is not in this initramfs", STOCKD);
	vm_sh("rm -f " POOLS "/.kvp_pool_*");
	ASSERT_EQ(0, host_up(&self->h));
	vm_set_param("daemon_wait_ms", 10000);
}

FIXTURE_TEARDOWN(stock)
{
	stop(&self->stockd);
	stop(&self->kvpd);
	if (!access(STOCKD, X_OK))
		host_down(&self->h);
	vm_sh("rm -f " POOLS "/.kvp_pool_*");
}

TEST_F(stock, host_set_lands_in_pool_0)
{
	struct kvp_msg out;
	char rec[RECORD];
	struct stat sb;
	int fd;

	self->stockd = start_stockd();
	ASSERT_TRUE(attached(self->stockd));
	ASSERT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_SET, 0, "HostKey",
				      "HostValue", 0, NULL));
	ASSERT_EQ(0, stat(POOLS "/.kvp_pool_0", &sb));
	EXPECT_EQ(RECORD, sb.st_size);
	fd = open(POOLS "/.kvp_pool_0", O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(RECORD, read(fd, rec, RECORD));
	close(fd);
	EXPECT_EQ(0, memcmp(rec, "HostKey", 8));
	EXPECT_EQ(0, memcmp(rec + 512, "HostValue", 10));
	/* An update, in place. */
	ASSERT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_SET, 0, "HostKey",
				      "Second", 0, NULL));
	ASSERT_EQ(0, stat(POOLS "/.kvp_pool_0", &sb));
	EXPECT_EQ(RECORD, sb.st_size);
	/* GET, which hosts do not send: the whole value with kvp.ko. */
	ASSERT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_GET, 0, "HostKey", "",
				      0, &out));
	EXPECT_STREQ("Second", out.value);
	EXPECT_EQ(KVP_S_CONT, host_call(&self->h, KVP_OP_GET, 0, "nokey", "",
					0, NULL));
	/* DELETE */
	EXPECT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_DELETE, 0, "HostKey",
				      "", 0, NULL));
	ASSERT_EQ(0, stat(POOLS "/.kvp_pool_0", &sb));
	EXPECT_EQ(0, sb.st_size);
}

TEST_F(stock, host_enumerates_intrinsic_items)
{
	struct utsname u;
	struct kvp_msg out;
	unsigned int i;

	ASSERT_EQ(0, uname(&u));
	self->stockd = start_stockd();
	ASSERT_TRUE(attached(self->stockd));
	for (i = 0; i < VM_INTRINSIC_KEYS; i++) {
		ASSERT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_ENUMERATE,
					      KVP_POOL_AUTO, "", "", i, &out));
		EXPECT_STREQ(vm_intrinsic_keys[i], out.key);
		if (i == 1)
			EXPECT_STREQ("3.1", out.value);
		if (i == 4)
			EXPECT_STREQ(u.release, out.value);
		if (i == 9)
			EXPECT_STREQ(u.machine, out.value);
	}
	EXPECT_EQ(KVP_S_CONT, host_call(&self->h, KVP_OP_ENUMERATE,
					KVP_POOL_AUTO, "", "", i, NULL));
}

TEST_F(stock, guest_item_read_by_host)
{
	struct kvp_msg out;

	ASSERT_EQ(0, add_record(1, "GuestKey", "GuestValue"));
	self->stockd = start_stockd();
	ASSERT_TRUE(attached(self->stockd));
	/* One written while it runs: it reads the file at every request. */
	ASSERT_EQ(0, add_record(1, "Later", "Too"));
	ASSERT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_ENUMERATE, 1, "", "",
				      0, &out));
	EXPECT_STREQ("GuestKey", out.key);
	EXPECT_STREQ("GuestValue", out.value);
	ASSERT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_ENUMERATE, 1, "", "",
				      1, &out));
	EXPECT_STREQ("Later", out.key);
	EXPECT_EQ(KVP_S_CONT, host_call(&self->h, KVP_OP_ENUMERATE, 1, "", "",
					2, NULL));
}

TEST_F(stock, netlink_and_chardev_exclude_each_other)
{
	int st;

	/* kvpd holds the service: the stock daemon's open fails, it exits. */
	self->kvpd = start_kvpd();
	ASSERT_TRUE(attached(self->kvpd));
	vm_sh("dmesg -c > /dev/null");
	self->stockd = start_stockd();
	ASSERT_EQ(self->stockd, waitpid(self->stockd, &st, 0));
	self->stockd = 0;
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	EXPECT_EQ(0, vm_sh("dmesg | grep -q 'chardev daemon .* refused: the netlink daemon %d holds the service'",
			self->kvpd));
	stop(&self->kvpd);

	/* The stock daemon holds it: kvpd says so and exits. */
	self->stockd = start_stockd();
	ASSERT_TRUE(attached(self->stockd));
	self->kvpd = start_kvpd();
	ASSERT_EQ(self->kvpd, waitpid(self->kvpd, &st, 0));
	self->kvpd = 0;
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	EXPECT_EQ(0, vm_sh("grep -q 'held by the daemon on /dev/vmbus/hv_kvp.*pid %d' kvpd.log",
			self->stockd));
	vm_sh("cat kvpd.log");
	EXPECT_EQ(KVP_S_OK, host_call(&self->h, KVP_OP_SET, 0, "still", "ok",
				      0, NULL));
}

struct traffic {
	struct host *h;
	volatile bool stop;
	unsigned int ok, failed, other;
};

/* The host keeps sending SETs of new keys, one at a time, until told. */
static void *host_traffic(void *arg)
{
	struct traffic *t = arg;
	char key[32];
	u32 status;

	while (!t->stop) {
		snprintf(key, sizeof(key), "key%u", t->ok + t->failed);
		status = host_call(t->h, KVP_OP_SET, 0, key, "value", 0, NULL);
		if (status == KVP_S_OK)
			t->ok++;
		else if (status == KVP_E_FAIL)
			t->failed++;
		else
			t->other++;
	}
	return NULL;
}

/*
 * kvpd, then the stock daemon, then kvpd again, while the host keeps
 * sending: each switch costs at most the one request in flight (E_FAIL);
 * the others wait for the next daemon, and every SET the host was told
 * succeeded is in the pool file both daemons share.
 */
TEST_F(stock, daemons_take_turns_under_traffic)
{
	struct traffic t = { .h = &self->h };
	pthread_t thread;
	struct stat sb;
	int round;

	vm_set_param("request_timeout_ms", 60000);
	self->kvpd = start_kvpd();
	ASSERT_TRUE(attached(self->kvpd));
	ASSERT_EQ(0, pthread_create(&thread, NULL, host_traffic, &t));
	for (round = 0; round < 3; round++) {
		usleep(300000);
		stop(&self->kvpd);
		self->stockd = start_stockd();
		ASSERT_TRUE(attached(self->stockd));
		usleep(300000);
		stop_stockd(&self->stockd);
		self->kvpd = start_kvpd();
		ASSERT_TRUE(attached(self->kvpd));
	}
	usleep(300000);
	t.stop = true;
	pthread_join(thread, NULL);
	TH_LOG("%u SETs answered S_OK, %u E_FAIL", t.ok, t.failed);
	EXPECT_EQ(0, t.other);
	EXPECT_LE(t.failed, 6);
	EXPECT_GE(t.ok, 20);
	ASSERT_EQ(0, stat(POOLS "/.kvp_pool_0", &sb));
	EXPECT_GE((unsigned int)(sb.st_size / RECORD), t.ok);
	EXPECT_LE((unsigned int)(sb.st_size / RECORD), t.ok + t.failed);
}

TEST_HARNESS_MAIN
