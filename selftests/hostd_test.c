// SPDX-License-Identifier: GPL-2.0
/*
 * kvp-hostd and `kvpctl host`, end to end, without vsock: the daemon takes
 * guests on a unix socket (--listen-unix, its testing aid) and a fake guest
 * built from the module's own protocol code (kvp_frame_*, kvp_ic_*,
 * kvp_msg_*) answers it.
 *
 * Environment: KVP_HOSTD and KVPCTL name the binaries (default: the
 * userspace build, relative to the current directory, selftests/);
 * KVP_HOSTD_WRAPPER, e.g. "valgrind -q --leak-check=full --error-exitcode=99",
 * runs the daemon under that command (default: $KVP_TEST_WRAPPER, which
 * `make run-native VALGRIND=1` sets), and every test requires the daemon
 * to exit 0.  KVP_TEST_VERBOSE shows what each kvpctl run printed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "catalog.h"
#include "fakeguest.h"
#include "frame.h"
#include "grant.h"
#include "history.h"
#include "hostctl.h"
#include "ic.h"
#include "isotime.h"
#include "msg.h"
#include "sign.h"

#define VM_UUID_IN	"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define VM_UUID		"0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
#define FIRST_CID	1000
#define OUT_MAX		16384

/* ---- the daemon ---------------------------------------------------------- */

struct hostd {
	char dir[64];
	char guest_sock[128];
	char ctl_sock[128];
	char config[128];
	pid_t pid;
};

/*
 * Makes the daemon's directory, names its sockets and writes its config:
 * the KVP exchange alone (activation has its own tests, hostd_avma_test).
 */
static int hostd_init(struct hostd *h)
{
	FILE *f;

	snprintf(h->dir, sizeof(h->dir), "/tmp/hostd_test.XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->guest_sock, sizeof(h->guest_sock), "%s/guest.sock", h->dir);
	snprintf(h->ctl_sock, sizeof(h->ctl_sock), "%s/ctl.sock", h->dir);
	snprintf(h->config, sizeof(h->config), "%s/hostd.conf", h->dir);
	f = fopen(h->config, "w");
	if (!f)
		return -1;
	fputs("[activation]\nenabled = no\n", f);
	return fclose(f) ? -1 : 0;
}

/*
 * Starts the daemon (hostd_init done) with our options, then extra, and
 * waits until it answers; its stderr stays ours.
 */
static int hostd_run(struct hostd *h, char *const *extra)
{
	char *args[64] = {
		/*
		 * --grace: room for a late answer under valgrind; tests may
		 * pass a shorter one.
		 */
		"-f", "--timeout", "2", "--grace", "10",
		"--listen-unix", h->guest_sock, "--socket", h->ctl_sock,
		"--config", h->config, "--vm", "1000=alpha," VM_UUID_IN,
	};
	int n = 13;

	while (extra && *extra && n < (int)ARRAY_SIZE(args) - 1)
		args[n++] = *extra++;
	h->pid = hostd_start(args, NULL, h->ctl_sock);
	if (h->pid < 0) {
		h->pid = 0;
		return -1;
	}
	return 0;
}

static int hostd_up(struct hostd *h, char *const *extra)
{
	return hostd_init(h) ? -1 : hostd_run(h, extra);
}

/*
 * Stops the daemon and removes its files; returns its exit status (0 =
 * clean, and valgrind-clean; -1 if none ran).
 */
static int hostd_down(struct hostd *h)
{
	int status = hostd_stop(h->pid);

	h->pid = 0;
	unlink(h->guest_sock);
	unlink(h->ctl_sock);
	unlink(h->config);
	rmdir(h->dir);
	return status;
}

/* ---- the fake guest -------------------------------------------------------- */

/* Pool 2 of a licensed guest holds 21 items (kvpd's 10, 11 licence ones). */
#define POOL_MAX	24

struct item {
	char key[KVP_KEY_BYTES];
	char value[KVP_VALUE_BYTES];
};

struct kvp_guest {
	int fd;
	struct item pools[KVP_POOL_COUNT][POOL_MAX];
	int count[KVP_POOL_COUNT];
	u32 fail_status;	/* answer every request with it, if set */
	int fail_at_index;	/* ENUMERATE: fail from this index, if > 0 */
	u32 endless;		/* ENUMERATE: empty items below this index */
	int delay_ms;		/* before each answer */
	u16 version;		/* framing: HELLO offers it, WELCOME sets it */
	u32 spoken;		/* the services a HELLO of version 3 names */
	u8 pkt[KVP_VSOCK_MAX_PAYLOAD];
	size_t len;
	u64 id;
	struct kvp_frame frame;	/* the last one received */
};

/* A frame of the connection's version on the KVP service. */
static int guest_send(struct kvp_guest *g, u16 type, u64 id, const u8 *p,
		      size_t len)
{
	struct kvp_frame f = { .version = g->version, .type = type,
			       .length = len, .id = id };

	return frame_write(g->fd, &f, 0, p);
}

/*
 * Receives one frame into g->frame and g->pkt; returns its type or a
 * negative errno.  A PACKET must be of the connection's version, on the KVP
 * service.
 */
static int guest_recv(struct kvp_guest *g, int timeout_ms)
{
	struct kvp_frame *f = &g->frame;
	int err = frame_read(g->fd, f, g->pkt, timeout_ms);

	if (err)
		return err;
	if (f->type == KVP_VSOCK_PACKET &&
	    (f->version != g->version || f->service != KVP_VSOCK_SERVICE_KVP))
		return -EPROTO;
	g->len = f->length;
	g->id = f->id;
	return f->type;
}

/* The daemon closed the connection (and sent nothing first). */
static bool guest_dropped(struct kvp_guest *g)
{
	return guest_recv(g, GUEST_WAIT_MS) == -ECONNRESET;
}

static int guest_open(struct kvp_guest *g, const struct hostd *h)
{
	memset(g, 0, sizeof(*g));
	g->version = KVP_VSOCK_VERSION_MAX;
	g->spoken = 1U << KVP_VSOCK_SERVICE_KVP;
	g->fd = try_connect(h->guest_sock);
	return g->fd < 0 ? -1 : 0;
}

/*
 * HELLO offering g->version (naming g->spoken from version 3 on); the
 * WELCOME must be as kvp_vsock.ko checks it, with the KVP service alone.
 * The connection then has its version.
 */
static int guest_greet(struct kvp_guest *g)
{
	return hello_exchange(g->fd, &g->version, g->spoken, &g->frame,
			      g->pkt) == 1U << KVP_VSOCK_SERVICE_KVP ? 0 : -1;
}

/* Answers NEGOTIATE the way kvp.ko does; returns the chosen versions. */
static int guest_negotiate(struct kvp_guest *g, u32 *fw, u32 *msg)
{
	if (guest_recv(g, GUEST_WAIT_MS) != KVP_VSOCK_PACKET)
		return -1;
	if (kvp_ic_negotiate(g->pkt, g->len, &kvp_msg_versions, fw, msg))
		return -1;
	kvp_ic_set_reply(g->pkt, KVP_S_OK);
	return guest_send(g, KVP_VSOCK_PACKET, g->id, g->pkt, g->len);
}

static struct item *store_find(struct kvp_guest *g, u8 pool, const char *key)
{
	int i;

	for (i = 0; i < g->count[pool]; i++)
		if (!strcmp(g->pools[pool][i].key, key))
			return &g->pools[pool][i];
	return NULL;
}

/* What the guest does with a request: like kvpd, on an in-memory pool. */
static u32 store_apply(struct kvp_guest *g, struct kvp_msg *m)
{
	static const struct item empty;
	const struct item *item;
	struct item *it = store_find(g, m->pool, m->key);

	switch (m->op) {
	case KVP_OP_SET:
		if (!it && g->count[m->pool] == POOL_MAX)
			return KVP_E_FAIL;
		if (!it)
			it = &g->pools[m->pool][g->count[m->pool]++];
		strcpy(it->key, m->key);
		strcpy(it->value, m->value);
		return KVP_S_OK;
	case KVP_OP_DELETE:
		if (!it)
			return KVP_S_CONT;
		*it = g->pools[m->pool][--g->count[m->pool]];
		return KVP_S_OK;
	case KVP_OP_ENUMERATE:
		if (g->fail_at_index && (int)m->index >= g->fail_at_index)
			return KVP_E_FAIL;
		if (m->index < g->endless)
			item = &empty;
		else if ((int)m->index < g->count[m->pool])
			item = &g->pools[m->pool][m->index];
		else
			return KVP_S_CONT;
		strcpy(m->key, item->key);
		strcpy(m->value, item->value);
		m->key_len = strlen(item->key);
		m->value_len = strlen(item->value);
		kvp_msg_encode(g->pkt + KVP_ICMSG_HDR_LEN, KVP_MSG_ENUM_LEN, m);
		return KVP_S_OK;
	default:
		return KVP_E_FAIL;
	}
}

/*
 * Receives one KVP request, checks its framing and answers it; returns the
 * operation, or a negative errno.
 */
static int guest_serve(struct kvp_guest *g, int timeout_ms)
{
	struct kvp_ic_hdr hdr;
	struct kvp_msg m;
	u32 status;
	int type = guest_recv(g, timeout_ms);

	if (type != KVP_VSOCK_PACKET)
		return type < 0 ? type : -EPROTO;
	if (kvp_ic_parse(g->pkt, g->len, &hdr) || hdr.type != KVP_IC_TYPE_KVP ||
	    hdr.flags != (KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST) ||
	    hdr.size != KVP_MSG_ENUM_LEN ||
	    kvp_msg_decode(g->pkt + KVP_ICMSG_HDR_LEN, hdr.size, &m))
		return -EPROTO;
	status = g->fail_status ? g->fail_status : store_apply(g, &m);
	kvp_ic_set_reply(g->pkt, status);
	if (g->delay_ms)
		usleep(g->delay_ms * 1000);
	if (guest_send(g, KVP_VSOCK_PACKET, g->id, g->pkt, g->len))
		return -EIO;
	return m.op;
}

/* Checks a UTF-16LE wire string against ASCII text (NULL: any), byte by byte. */
static bool wire_str_is(const u8 *sizep, const u8 *str, const char *want)
{
	size_t i, n;

	if (!want)
		return true;
	n = strlen(want);
	if (kvp_get_le32(sizep) != 2 * (n + 1))
		return false;
	for (i = 0; i < n; i++)
		if (str[2 * i] != (u8)want[i] || str[2 * i + 1] != 0)
			return false;
	return str[2 * n] == 0 && str[2 * n + 1] == 0;
}

/*
 * Receives the next pool-3 SET and checks every byte that matters: the IC
 * header, op and pool, and key and value (unless NULL) as UTF-16LE with
 * their sizes.
 */
static bool guest_expect_item(struct kvp_guest *g, const char *key,
			      const char *value)
{
	const u8 *p = g->pkt + KVP_ICMSG_HDR_LEN;
	struct kvp_ic_hdr hdr;
	struct kvp_msg m;

	if (guest_recv(g, GUEST_WAIT_MS) != KVP_VSOCK_PACKET ||
	    g->len != KVP_ICMSG_HDR_LEN + KVP_MSG_ENUM_LEN ||
	    kvp_ic_parse(g->pkt, g->len, &hdr))
		return false;
	if (hdr.type != KVP_IC_TYPE_KVP || hdr.flags != 3 ||
	    hdr.fw_version != KVP_VERSION(3, 0) ||
	    hdr.msg_version != KVP_VERSION(4, 0) || hdr.status != 0 ||
	    hdr.size != KVP_MSG_ENUM_LEN)
		return false;
	if (p[0] != KVP_OP_SET || p[1] != KVP_POOL_AUTO_EXTERNAL ||
	    kvp_get_le32(p + 4) != KVP_REG_SZ ||
	    !wire_str_is(p + 8, p + 16, key) ||
	    !wire_str_is(p + 12, p + 528, value) ||
	    kvp_msg_decode(p, hdr.size, &m))
		return false;
	kvp_ic_set_reply(g->pkt, store_apply(g, &m));
	return !guest_send(g, KVP_VSOCK_PACKET, g->id, g->pkt, g->len);
}

static void host_names(char *host, char *shortname, char *fqdn, size_t size)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *ai;

	gethostname(host, size);
	snprintf(shortname, size, "%.*s", (int)strcspn(host, "."), host);
	snprintf(fqdn, size, "%s", host);
	if (getaddrinfo(host, NULL, &hints, &ai) == 0) {
		if (ai->ai_canonname && ai->ai_canonname[0])
			snprintf(fqdn, size, "%s", ai->ai_canonname);
		freeaddrinfo(ai);
	}
}

/* Negotiates and takes the five host items, checking them. */
static bool guest_take_items(struct kvp_guest *g, const char *uuid,
			     const char *name)
{
	char host[256], shortname[256], fqdn[1100];
	u32 fw, msg;

	host_names(host, shortname, fqdn, sizeof(host));
	return !guest_negotiate(g, &fw, &msg) &&
	       fw == KVP_VERSION(3, 0) && msg == KVP_VERSION(4, 0) &&
	       guest_expect_item(g, "HostName", host) &&
	       guest_expect_item(g, "PhysicalHostName", shortname) &&
	       guest_expect_item(g, "PhysicalHostNameFullyQualified", fqdn) &&
	       guest_expect_item(g, "VirtualMachineId", uuid) &&
	       guest_expect_item(g, "VirtualMachineName", name);
}

static bool guest_handshake(struct kvp_guest *g, const char *uuid,
			    const char *name)
{
	return !guest_greet(g) && guest_take_items(g, uuid, name);
}

static bool guest_ready(struct kvp_guest *g, const struct hostd *h,
			const char *uuid, const char *name)
{
	return !guest_open(g, h) && guest_handshake(g, uuid, name);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ---- kvpctl ------------------------------------------------------------------ */

struct run {
	int status;
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static void read_all(int fd, char *buf, size_t size)
{
	size_t have = 0;
	ssize_t n;

	while (have < size - 1 && (n = read(fd, buf + have, size - 1 - have)) > 0)
		have += n;
	buf[have] = '\0';
	close(fd);
}

/*
 * Runs `kvpctl --socket SOCK WORDS...` until it exits, while g (if not
 * NULL) answers what the daemon asks.
 */
static void kvpctl(struct run *r, const struct hostd *h, struct kvp_guest *g,
		   const char *word, ...)
{
	int out[2], err[2], status, n = 0;
	char *argv[16];
	va_list ap;
	pid_t pid;

	argv[n++] = (char *)env_or("KVPCTL", "../userspace/kvpctl/kvpctl");
	argv[n++] = "--socket";
	argv[n++] = (char *)h->ctl_sock;
	va_start(ap, word);
	for (; word && n < 15; word = va_arg(ap, const char *))
		argv[n++] = (char *)word;
	va_end(ap);
	argv[n] = NULL;
	if (pipe(out) || pipe(err)) {
		r->status = -1;
		return;
	}
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct pollfd pfd = { .fd = g ? g->fd : -1, .events = POLLIN };

		if (poll(&pfd, 1, 5) == 1)
			guest_serve(g, GUEST_WAIT_MS);
	}
	read_all(out[0], r->out, sizeof(r->out));
	read_all(err[0], r->err, sizeof(r->err));
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (getenv("KVP_TEST_VERBOSE")) {
		fprintf(stderr, "# kvpctl");
		for (n = 3; argv[n]; n++)
			fprintf(stderr, " %.40s", argv[n]);
		fprintf(stderr, " -> %d\n%s%s", r->status, r->out, r->err);
	}
}

/* ---- tests ------------------------------------------------------------------- */

FIXTURE(hostd) {
	struct hostd h;
	struct kvp_guest g;
	struct run r;
};

FIXTURE_SETUP(hostd)
{
	ASSERT_EQ(0, hostd_up(&self->h, NULL));
}

FIXTURE_TEARDOWN(hostd)
{
	if (self->g.fd > 0)
		close(self->g.fd);
	EXPECT_EQ(0, hostd_down(&self->h));
}

TEST_F(hostd, control_socket_is_private)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->h.ctl_sock, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(0600u, st.st_mode & 07777);
}

TEST_F(hostd, handshake_pushes_host_items)
{
	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	kvpctl(&self->r, &self->h, NULL, "host", "list", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "CID"));
	EXPECT_NE(NULL, strstr(self->r.out, "1000   alpha"));
	EXPECT_NE(NULL, strstr(self->r.out, "ready       3.0  4.0"));
	EXPECT_NE(NULL, strstr(self->r.out, VM_UUID));

	kvpctl(&self->r, &self->h, NULL, "-j", "host", "list", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_TRUE(starts_with(self->r.out,
				"[{\"cid\":1000,\"name\":\"alpha\",\"uuid\":\"" VM_UUID
				"\",\"state\":\"ready\",\"framework\":\"3.0\","
				"\"message\":\"4.0\",\"connected\":"));
	EXPECT_NE(NULL, strstr(self->r.out, ",\"done\":5,\"failed\":0}]\n"));
}

TEST_F(hostd, derived_name_and_uuid)
{
	struct kvp_guest second;
	char *uuid;

	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));
	/* The second connection is CID 1001, which has no --vm. */
	ASSERT_EQ(0, guest_open(&second, &self->h));
	kvpctl(&self->r, &self->h, NULL, "-j", "host", "list", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out,
			       "\"cid\":1001,\"name\":\"vm-1001\",\"uuid\":\""));
	EXPECT_NE(NULL, strstr(self->r.out,
			       "\"state\":\"hello\",\"connected\":"));
	uuid = strstr(self->r.out, "\"name\":\"vm-1001\",\"uuid\":\"");
	ASSERT_NE(NULL, uuid);
	uuid += strlen("\"name\":\"vm-1001\",\"uuid\":\"");
	/* Version 5, RFC variant, upper case. */
	EXPECT_EQ('-', uuid[8]);
	EXPECT_EQ('5', uuid[14]);
	EXPECT_NE(NULL, strchr("89AB", uuid[19]));
	ASSERT_EQ('"', uuid[36]);
	uuid[36] = '\0';
	EXPECT_EQ(strlen(uuid), strspn(uuid, "0123456789ABCDEF-"));
	EXPECT_TRUE(guest_handshake(&second, uuid, "vm-1001"));
	close(second.fd);
}

TEST_F(hostd, set_get_enum_delete)
{
	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	kvpctl(&self->r, &self->h, &self->g, "host", "set", "alpha", "external",
	       "k1", "v1", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_STREQ("", self->r.out);
	kvpctl(&self->r, &self->h, &self->g, "host", "set", "1000", "0", "k2",
	       "v2 \xc3\xbc\xe2\x82\xac", NULL);
	ASSERT_EQ(0, self->r.status);
	ASSERT_EQ(2, self->g.count[0]);
	EXPECT_STREQ("v2 \xc3\xbc\xe2\x82\xac", self->g.pools[0][1].value);

	kvpctl(&self->r, &self->h, &self->g, "host", "get", "alpha", "0", "k2",
	       NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_STREQ("v2 \xc3\xbc\xe2\x82\xac\n", self->r.out);
	kvpctl(&self->r, &self->h, &self->g, "-j", "host", "get", "alpha", "0",
	       "k1", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_STREQ("{\"pool\":\"external\",\"key\":\"k1\",\"value\":\"v1\"}\n",
		     self->r.out);

	kvpctl(&self->r, &self->h, &self->g, "host", "enum", "alpha", "0", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_STREQ("k1\tv1\nk2\tv2 \xc3\xbc\xe2\x82\xac\n", self->r.out);
	kvpctl(&self->r, &self->h, &self->g, "-j", "host", "enum", "alpha",
	       "auto-external", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_TRUE(starts_with(self->r.out,
				"{\"pool\":\"auto-external\",\"number\":3,"
				"\"items\":[{\"key\":\"HostName\","));
	EXPECT_NE(NULL, strstr(self->r.out,
			       "{\"key\":\"VirtualMachineName\",\"value\":\"alpha\"}]}\n"));

	kvpctl(&self->r, &self->h, &self->g, "host", "delete", "alpha", "0",
	       "k1", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_EQ(1, self->g.count[0]);
	kvpctl(&self->r, &self->h, &self->g, "host", "get", "alpha", "0", "k1",
	       NULL);
	EXPECT_EQ(5, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "no key 'k1'"));
	kvpctl(&self->r, &self->h, &self->g, "host", "delete", "alpha", "0",
	       "k1", NULL);
	EXPECT_EQ(5, self->r.status);
	kvpctl(&self->r, &self->h, &self->g, "-j", "host", "enum", "alpha",
	       "guest", NULL);
	ASSERT_EQ(0, self->r.status);
	EXPECT_STREQ("{\"pool\":\"guest\",\"number\":1,\"items\":[]}\n",
		     self->r.out);

	kvpctl(&self->r, &self->h, NULL, "-j", "host", "list", NULL);
	EXPECT_NE(NULL, strstr(self->r.out, "\"done\":15,\"failed\":0"));
}

TEST_F(hostd, guest_failure_is_reported)
{
	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	self->g.fail_status = KVP_E_FAIL;
	kvpctl(&self->r, &self->h, &self->g, "host", "set", "alpha", "0", "k",
	       "v", NULL);
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "0x80004005"));

	/* An enumeration failing part way: the items so far, then the error. */
	self->g.fail_status = 0;
	self->g.fail_at_index = 2;
	kvpctl(&self->r, &self->h, &self->g, "host", "enum", "alpha", "3", NULL);
	EXPECT_EQ(1, self->r.status);
	EXPECT_TRUE(starts_with(self->r.out, "HostName\t"));
	EXPECT_NE(NULL, strstr(self->r.out, "\nPhysicalHostName\t"));
	EXPECT_EQ(NULL, strstr(self->r.out, "FullyQualified"));
	EXPECT_NE(NULL, strstr(self->r.err, "index 2: status 0x80004005"));
}

TEST_F(hostd, command_line_errors)
{
	char key[600], value[2100];

	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	kvpctl(&self->r, &self->h, NULL, "host", "get", "alpha", "bogus", "k",
	       NULL);
	EXPECT_EQ(4, self->r.status);
	memset(key, 'k', sizeof(key));
	key[512] = '\0';
	kvpctl(&self->r, &self->h, NULL, "host", "set", "alpha", "0", key, "v",
	       NULL);
	EXPECT_EQ(3, self->r.status);
	memset(value, 'v', sizeof(value));
	value[2048] = '\0';
	kvpctl(&self->r, &self->h, NULL, "host", "set", "alpha", "0", "k",
	       value, NULL);
	EXPECT_EQ(3, self->r.status);
	/* 300 bytes fit a pool record but not the wire's 255 UTF-16 units. */
	key[300] = '\0';
	kvpctl(&self->r, &self->h, NULL, "host", "set", "alpha", "0", key, "v",
	       NULL);
	EXPECT_EQ(3, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "255"));
	kvpctl(&self->r, &self->h, NULL, "host", "set", "alpha", "0", "k",
	       "\xff", NULL);
	EXPECT_EQ(2, self->r.status);
	kvpctl(&self->r, &self->h, NULL, "host", "delete", "alpha", "0", "",
	       NULL);
	EXPECT_EQ(2, self->r.status);
	kvpctl(&self->r, &self->h, NULL, "host", "frobnicate", NULL);
	EXPECT_EQ(2, self->r.status);
	/* Nothing of that reached the guest. */
	EXPECT_EQ(-ETIMEDOUT, guest_recv(&self->g, 100));
}

TEST_F(hostd, unknown_vm)
{
	kvpctl(&self->r, &self->h, NULL, "host", "get", "nosuch", "0", "k", NULL);
	EXPECT_EQ(5, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "no VM 'nosuch' is connected"));
	kvpctl(&self->r, &self->h, NULL, "host", "enum", "4242", "3", NULL);
	EXPECT_EQ(5, self->r.status);
}

TEST_F(hostd, bad_guests_dropped_others_carry_on)
{
	static const u8 garbage[KVP_VSOCK_HDR_LEN] = "this is not a frame...";
	struct kvp_guest bad;
	u32 fw, msg;

	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	/* Garbage instead of HELLO. */
	ASSERT_EQ(0, guest_open(&bad, &self->h));
	ASSERT_EQ((ssize_t)sizeof(garbage),
		  write(bad.fd, garbage, sizeof(garbage)));
	EXPECT_TRUE(guest_dropped(&bad));
	close(bad.fd);

	/* A PACKET before HELLO. */
	ASSERT_EQ(0, guest_open(&bad, &self->h));
	ASSERT_EQ(0, guest_send(&bad, KVP_VSOCK_PACKET, 1, garbage, 8));
	EXPECT_TRUE(guest_dropped(&bad));
	close(bad.fd);

	/* A reply with the wrong id. */
	ASSERT_EQ(0, guest_open(&bad, &self->h));
	ASSERT_EQ(0, guest_greet(&bad));
	ASSERT_EQ(KVP_VSOCK_PACKET, guest_recv(&bad, GUEST_WAIT_MS));
	ASSERT_EQ(0, kvp_ic_negotiate(bad.pkt, bad.len, &kvp_msg_versions, &fw,
				      &msg));
	kvp_ic_set_reply(bad.pkt, KVP_S_OK);
	ASSERT_EQ(0, guest_send(&bad, KVP_VSOCK_PACKET, bad.id + 7, bad.pkt,
				bad.len));
	EXPECT_TRUE(guest_dropped(&bad));
	close(bad.fd);

	/* A NEGOTIATE reply that is still a request. */
	ASSERT_EQ(0, guest_open(&bad, &self->h));
	ASSERT_EQ(0, guest_greet(&bad));
	ASSERT_EQ(KVP_VSOCK_PACKET, guest_recv(&bad, GUEST_WAIT_MS));
	ASSERT_EQ(0, guest_send(&bad, KVP_VSOCK_PACKET, bad.id, bad.pkt,
				bad.len));
	EXPECT_TRUE(guest_dropped(&bad));
	close(bad.fd);

	/* A KVP reply that does not parse as IC. */
	ASSERT_EQ(0, guest_open(&bad, &self->h));
	ASSERT_EQ(0, guest_greet(&bad));
	ASSERT_EQ(0, guest_negotiate(&bad, &fw, &msg));
	ASSERT_EQ(KVP_VSOCK_PACKET, guest_recv(&bad, GUEST_WAIT_MS));
	ASSERT_EQ(0, guest_send(&bad, KVP_VSOCK_PACKET, bad.id, bad.pkt, 20));
	EXPECT_TRUE(guest_dropped(&bad));
	close(bad.fd);

	/* The good guest still works, and is the only one left. */
	kvpctl(&self->r, &self->h, &self->g, "host", "set", "alpha", "0", "k",
	       "v", NULL);
	EXPECT_EQ(0, self->r.status);
	kvpctl(&self->r, &self->h, NULL, "host", "list", NULL);
	EXPECT_NE(NULL, strstr(self->r.out, "alpha"));
	EXPECT_EQ(NULL, strstr(self->r.out, "vm-10"));
}

/* The examples of protocol.rst 6.3, as the daemon sends them. */
static const u8 welcome_v2[KVP_VSOCK_HDR_LEN + KVP_VSOCK_WELCOME_LEN] = {
	0x4b, 0x56, 0x50, 0x46, 0x02, 0x00, 0x02, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00,
};

static const u8 negotiate_v2[KVP_VSOCK_HDR_LEN + 56] = {
	0x4b, 0x56, 0x50, 0x46, 0x02, 0x00, 0x03, 0x00,
	0x38, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x03, 0x00, 0x00, 0x02, 0x00, 0x03, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
};

/* A version-1 WELCOME: the header alone. */
static const u8 welcome_v1[KVP_VSOCK_HDR_LEN] = {
	0x4b, 0x56, 0x50, 0x46, 0x01, 0x00, 0x02, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST_F(hostd, framing_v2_bytes)
{
	u8 buf[sizeof(negotiate_v2)];
	u32 fw, msg;

	ASSERT_EQ(0, guest_open(&self->g, &self->h));
	self->g.version = 2;
	ASSERT_EQ(0, guest_send(&self->g, KVP_VSOCK_HELLO, 0, NULL, 0));
	ASSERT_EQ(0, read_full(self->g.fd, buf, sizeof(welcome_v2),
			       GUEST_WAIT_MS));
	EXPECT_EQ(0, memcmp(welcome_v2, buf, sizeof(welcome_v2)));
	ASSERT_EQ(0, read_full(self->g.fd, buf, sizeof(negotiate_v2),
			       GUEST_WAIT_MS));
	EXPECT_EQ(0, memcmp(negotiate_v2, buf, sizeof(negotiate_v2)));

	/* Answered, and everything after in version 2 on service 0. */
	self->g.len = sizeof(negotiate_v2) - KVP_VSOCK_HDR_LEN;
	memcpy(self->g.pkt, buf + KVP_VSOCK_HDR_LEN, self->g.len);
	self->g.id = 1;
	ASSERT_EQ(0, kvp_ic_negotiate(self->g.pkt, self->g.len,
				      &kvp_msg_versions, &fw, &msg));
	kvp_ic_set_reply(self->g.pkt, KVP_S_OK);
	ASSERT_EQ(0, guest_send(&self->g, KVP_VSOCK_PACKET, 1, self->g.pkt,
				self->g.len));
	EXPECT_TRUE(guest_expect_item(&self->g, "HostName", NULL));
	EXPECT_EQ(2, self->g.frame.version);
}

/* A guest that speaks version 1 only is served as before version 2. */
TEST_F(hostd, framing_v1_guest)
{
	u8 buf[KVP_VSOCK_HDR_LEN];

	ASSERT_EQ(0, guest_open(&self->g, &self->h));
	self->g.version = 1;
	ASSERT_EQ(0, guest_send(&self->g, KVP_VSOCK_HELLO, 0, NULL, 0));
	ASSERT_EQ(0, read_full(self->g.fd, buf, sizeof(buf), GUEST_WAIT_MS));
	EXPECT_EQ(0, memcmp(welcome_v1, buf, sizeof(buf)));
	/* guest_recv() checks every PACKET is of version 1. */
	ASSERT_TRUE(guest_take_items(&self->g, VM_UUID, "alpha"));
	kvpctl(&self->r, &self->h, &self->g, "host", "set", "alpha", "0", "k",
	       "v", NULL);
	EXPECT_EQ(0, self->r.status);
	kvpctl(&self->r, &self->h, &self->g, "host", "get", "alpha", "0", "k",
	       NULL);
	EXPECT_EQ(0, self->r.status);
	EXPECT_STREQ("v\n", self->r.out);
}

/*
 * Version 3 as protocol.rst 6.3 shows it: a HELLO naming services 0 and 1
 * to a host that serves only the KVP exchange gets a WELCOME of service 0.
 */
static const u8 hello_v3[KVP_VSOCK_HDR_LEN + KVP_VSOCK_HELLO_LEN] = {
	0x4b, 0x56, 0x50, 0x46, 0x03, 0x00, 0x01, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x03, 0x00, 0x00, 0x00,
};

static const u8 welcome_v3[KVP_VSOCK_HDR_LEN + KVP_VSOCK_WELCOME_LEN] = {
	0x4b, 0x56, 0x50, 0x46, 0x03, 0x00, 0x02, 0x00,
	0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00,
};

TEST_F(hostd, framing_v3_bytes)
{
	u8 buf[sizeof(welcome_v3)];

	ASSERT_EQ(0, guest_open(&self->g, &self->h));
	ASSERT_EQ(sizeof(hello_v3), write(self->g.fd, hello_v3,
					  sizeof(hello_v3)));
	ASSERT_EQ(0, read_full(self->g.fd, buf, sizeof(buf), GUEST_WAIT_MS));
	EXPECT_EQ(0, memcmp(welcome_v3, buf, sizeof(buf)));
	self->g.version = 3;
	/* guest_recv() checks every PACKET is of version 3, service 0. */
	EXPECT_TRUE(guest_take_items(&self->g, VM_UUID, "alpha"));
}

/*
 * A guest offering a version above ours gets ours; its HELLO's payload may
 * be longer than ours, we read its first 4 bytes, the mask.
 */
TEST_F(hostd, framing_newer_guest)
{
	struct kvp_frame hello = { .version = KVP_VSOCK_VERSION_MAX + 1,
				   .type = KVP_VSOCK_HELLO, .length = 8 };
	const u8 payload[8] = { 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	u32 services;

	ASSERT_EQ(0, guest_open(&self->g, &self->h));
	ASSERT_EQ(0, frame_write(self->g.fd, &hello, 0, payload));
	ASSERT_EQ(KVP_VSOCK_WELCOME, guest_recv(&self->g, GUEST_WAIT_MS));
	ASSERT_EQ(0, kvp_frame_welcome_parse(&self->g.frame, self->g.pkt,
					     hello.version, 1, &services));
	EXPECT_EQ(KVP_VSOCK_VERSION_MAX, self->g.frame.version);
	EXPECT_EQ(1U << KVP_VSOCK_SERVICE_KVP, services);
	self->g.version = self->g.frame.version;
	EXPECT_TRUE(guest_take_items(&self->g, VM_UUID, "alpha"));
}

/* A HELLO whose payload is not its version's: dropped, nothing sent. */
static bool dropped_for_hello(const struct hostd *h, u16 version,
			      const u8 *payload, u32 length)
{
	struct kvp_frame hello = { .version = version,
				   .type = KVP_VSOCK_HELLO, .length = length };
	struct kvp_guest g;
	bool dropped;

	if (guest_open(&g, h))
		return false;
	dropped = !frame_write(g.fd, &hello, 0, payload) &&
		  guest_dropped(&g);
	close(g.fd);
	return dropped;
}

TEST_F(hostd, framing_hello_lengths)
{
	const u8 kvp[8] = { 0x01 }, no_kvp[4] = { 0x02 };

	EXPECT_TRUE(dropped_for_hello(&self->h, 1, kvp, 4));
	EXPECT_TRUE(dropped_for_hello(&self->h, 2, kvp, 4));
	EXPECT_TRUE(dropped_for_hello(&self->h, 3, kvp, 0));
	EXPECT_TRUE(dropped_for_hello(&self->h, 3, kvp, 3));
	EXPECT_TRUE(dropped_for_hello(&self->h, 3, kvp, 5));
	EXPECT_TRUE(dropped_for_hello(&self->h, 4, kvp, 3));
	/* Every guest speaks the KVP exchange. */
	EXPECT_TRUE(dropped_for_hello(&self->h, 3, no_kvp, 4));
	EXPECT_FALSE(dropped_for_hello(&self->h, 3, kvp, 4));
	EXPECT_FALSE(dropped_for_hello(&self->h, 4, kvp, 8));
}

/*
 * A guest offering hello, negotiated, answers the first host item with a
 * frame of the version, service and flags given: is it dropped?
 */
static bool dropped_for_reply(const struct hostd *h, u16 hello, u16 version,
			      u16 service, u16 flags)
{
	struct kvp_frame f = { .version = version, .type = KVP_VSOCK_PACKET,
			       .service = service };
	struct kvp_guest g;
	bool dropped = false;
	u32 fw, msg;

	if (guest_open(&g, h))
		return false;
	g.version = hello;
	if (!guest_greet(&g) && !guest_negotiate(&g, &fw, &msg) &&
	    guest_recv(&g, GUEST_WAIT_MS) == KVP_VSOCK_PACKET) {
		kvp_ic_set_reply(g.pkt, KVP_S_OK);
		f.length = g.len;
		f.id = g.id;
		dropped = !frame_write(g.fd, &f, flags, g.pkt) &&
			  guest_dropped(&g);
	}
	close(g.fd);
	return dropped;
}

TEST_F(hostd, framing_errors_drop_guest)
{
	struct kvp_frame hello = { .version = 2, .type = KVP_VSOCK_HELLO };

	/* The right frames are taken (the next item comes instead). */
	EXPECT_FALSE(dropped_for_reply(&self->h, 3, 3, 0, 0));
	EXPECT_FALSE(dropped_for_reply(&self->h, 2, 2, 0, 0));
	EXPECT_FALSE(dropped_for_reply(&self->h, 1, 1, 0, 0));
	/* Another version than the connection's. */
	EXPECT_TRUE(dropped_for_reply(&self->h, 3, 2, 0, 0));
	EXPECT_TRUE(dropped_for_reply(&self->h, 2, 1, 0, 0));
	EXPECT_TRUE(dropped_for_reply(&self->h, 1, 2, 0, 0));
	/* A service we did not announce, known or not. */
	EXPECT_TRUE(dropped_for_reply(&self->h, 3, 3,
				      KVP_VSOCK_SERVICE_ACTIVATION, 0));
	EXPECT_TRUE(dropped_for_reply(&self->h, 2, 2,
				      KVP_VSOCK_SERVICE_ACTIVATION, 0));
	EXPECT_TRUE(dropped_for_reply(&self->h, 2, 2, 31, 0));
	EXPECT_TRUE(dropped_for_reply(&self->h, 2, 2, 0xffff, 0));
	/* Flags, in either version. */
	EXPECT_TRUE(dropped_for_reply(&self->h, 2, 2, 0, 1));
	EXPECT_TRUE(dropped_for_reply(&self->h, 2, 2, 0, 0x8000));
	EXPECT_TRUE(dropped_for_reply(&self->h, 1, 1, 0, 1));

	/* A HELLO with an id or a service. */
	ASSERT_EQ(0, guest_open(&self->g, &self->h));
	ASSERT_EQ(0, guest_send(&self->g, KVP_VSOCK_HELLO, 5, NULL, 0));
	EXPECT_TRUE(guest_dropped(&self->g));
	close(self->g.fd);
	ASSERT_EQ(0, guest_open(&self->g, &self->h));
	hello.service = KVP_VSOCK_SERVICE_ACTIVATION;
	ASSERT_EQ(0, frame_write(self->g.fd, &hello, 0, NULL));
	EXPECT_TRUE(guest_dropped(&self->g));
}

TEST_F(hostd, unanswered_request_times_out)
{
	u8 late[KVP_ICMSG_HDR_LEN + KVP_MSG_ENUM_LEN];
	u64 late_id;

	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	/* The guest takes the request and sits on it. */
	kvpctl(&self->r, &self->h, NULL, "host", "set", "alpha", "0", "k", "v",
	       NULL);
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "timed out"));
	ASSERT_EQ(KVP_VSOCK_PACKET, guest_recv(&self->g, 100));
	ASSERT_EQ(sizeof(late), self->g.len);
	memcpy(late, self->g.pkt, sizeof(late));
	late_id = self->g.id;

	/* Still one transaction outstanding: the next one waits, and times out. */
	kvpctl(&self->r, &self->h, NULL, "host", "delete", "alpha", "0", "k",
	       NULL);
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "busy"));
	EXPECT_EQ(-ETIMEDOUT, guest_recv(&self->g, 100));

	/* The late answer frees the guest; it is not taken for a newer one. */
	kvp_ic_set_reply(late, KVP_S_OK);
	ASSERT_EQ(0, guest_send(&self->g, KVP_VSOCK_PACKET, late_id, late,
				sizeof(late)));
	kvpctl(&self->r, &self->h, &self->g, "host", "set", "alpha", "0", "k2",
	       "v2", NULL);
	EXPECT_EQ(0, self->r.status);
	EXPECT_EQ(1, self->g.count[0]);
	kvpctl(&self->r, &self->h, NULL, "-j", "host", "list", NULL);
	EXPECT_NE(NULL, strstr(self->r.out, "\"done\":6,\"failed\":2"));
}

/*
 * A request the guest never answers (a packet it dropped) does not wedge
 * it: past --grace the connection is dropped, what waits fails, and the
 * guest is served again once it reconnects.
 */
TEST(unanswered_request_drops_guest)
{
	char *extra[] = { "--grace", "3", NULL };
	struct hostd h;
	struct kvp_guest g;
	struct run r;

	ASSERT_EQ(0, hostd_up(&h, extra));
	ASSERT_TRUE(guest_ready(&g, &h, VM_UUID, "alpha"));
	kvpctl(&r, &h, NULL, "host", "set", "alpha", "0", "k", "v", NULL);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "did not answer SET"));
	ASSERT_EQ(KVP_VSOCK_PACKET, guest_recv(&g, 100));

	/* Queued behind it: fails when the guest is dropped, not as busy. */
	kvpctl(&r, &h, NULL, "host", "get", "alpha", "0", "k", NULL);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err,
			       "went away: no reply to request 7 within 3 s"));
	EXPECT_TRUE(guest_dropped(&g));
	close(g.fd);

	/* Reconnected (a new unix "CID"), it is served again. */
	ASSERT_TRUE(guest_ready(&g, &h, NULL, "vm-1001"));
	kvpctl(&r, &h, &g, "host", "set", "vm-1001", "0", "k", "v", NULL);
	EXPECT_EQ(0, r.status);
	close(g.fd);
	EXPECT_EQ(0, hostd_down(&h));
}

/* The daemon's peak resident memory in kB, or -1 (also under a wrapper). */
static long peak_kb(const struct hostd *h)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	if (env_or("KVP_HOSTD_WRAPPER", env_or("KVP_TEST_WRAPPER", ""))[0])
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)h->pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/*
 * A guest answering ENUMERATE with endless empty items: each costs a fixed
 * charge and the walk stops at a cap, with a clear error and the items
 * so far, in bounded memory.
 */
TEST_F(hostd, endless_enumeration_capped)
{
	long before;

	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));
	before = peak_kb(&self->h);
	self->g.endless = 20000;
	/* Text: 2 bytes an item, so kvpctl's output fits the pipe. */
	kvpctl(&self->r, &self->h, &self->g, "host", "enum", "alpha", "0",
	       NULL);
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err,
			       "pool 0 holds more than 16384 items, stopped at index 16384"));
	EXPECT_TRUE(starts_with(self->r.out, "\t\n\t\n"));
	if (before > 0)
		EXPECT_GT(before + 16 * 1024, peak_kb(&self->h));

	/* The guest is still served. */
	self->g.endless = 0;
	kvpctl(&self->r, &self->h, &self->g, "host", "set", "alpha", "0", "k",
	       "v", NULL);
	EXPECT_EQ(0, self->r.status);
}

/* Each step of a walk has --timeout, the whole walk --walk-timeout. */
TEST(slow_enumeration_stops)
{
	char *extra[] = { "--walk-timeout", "2", NULL };
	char *bad[] = { "--walk-timeout", "1", NULL };
	struct hostd h;
	struct kvp_guest g;
	struct run r;

	ASSERT_EQ(0, hostd_up(&h, extra));
	ASSERT_TRUE(guest_ready(&g, &h, VM_UUID, "alpha"));
	g.endless = 200;
	g.delay_ms = 50;
	kvpctl(&r, &h, &g, "host", "enum", "alpha", "0", NULL);
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err,
			       "did not finish ENUMERATE of pool 0 within 2 s"));
	close(g.fd);
	EXPECT_EQ(0, hostd_down(&h));

	/* Shorter than --timeout (2): refused. */
	EXPECT_NE(0, hostd_up(&h, bad));
	EXPECT_NE(0, hostd_down(&h));
}

TEST_F(hostd, guest_leaving_fails_waiting_client)
{
	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	if (fork() == 0) {
		/* The guest takes the request, then goes away. */
		guest_recv(&self->g, GUEST_WAIT_MS);
		_exit(0);
	}
	close(self->g.fd);
	self->g.fd = -1;
	kvpctl(&self->r, &self->h, NULL, "host", "set", "alpha", "0", "k", "v",
	       NULL);
	wait(NULL);
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "went away: disconnected"));
	kvpctl(&self->r, &self->h, NULL, "host", "get", "alpha", "0", "k", NULL);
	EXPECT_EQ(5, self->r.status);
}

TEST_F(hostd, silent_guests_dropped)
{
	struct kvp_guest mute, deaf;

	/* One never says HELLO, one never answers NEGOTIATE. */
	ASSERT_EQ(0, guest_open(&mute, &self->h));
	ASSERT_EQ(0, guest_open(&deaf, &self->h));
	ASSERT_EQ(0, guest_greet(&deaf));
	ASSERT_EQ(KVP_VSOCK_PACKET, guest_recv(&deaf, GUEST_WAIT_MS));
	EXPECT_TRUE(guest_dropped(&mute));
	EXPECT_TRUE(guest_dropped(&deaf));
	close(mute.fd);
	close(deaf.fd);
}

TEST_F(hostd, many_guests_at_once)
{
	enum { N = 24 };
	struct kvp_guest *many = calloc(N, sizeof(*many));
	char name[16], *row;
	int i, ready = 0;

	ASSERT_NE(NULL, many);
	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));
	/* All connected before any says HELLO: none waits for another. */
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, guest_open(&many[i], &self->h));
	for (i = N - 1; i >= 0; i--)
		ASSERT_EQ(0, guest_greet(&many[i]));
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "vm-%d", FIRST_CID + 1 + i);
		EXPECT_TRUE(guest_take_items(&many[i], NULL, name));
	}
	kvpctl(&self->r, &self->h, &many[N - 1], "host", "set", "vm-1024", "0",
	       "k", "v", NULL);
	EXPECT_EQ(0, self->r.status);
	EXPECT_EQ(1, many[N - 1].count[0]);
	kvpctl(&self->r, &self->h, NULL, "host", "list", NULL);
	for (row = self->r.out; (row = strstr(row, " ready ")); row++)
		ready++;
	EXPECT_EQ(N + 1, ready);
	for (i = 0; i < N; i++)
		close(many[i].fd);
	free(many);
}

/* Sends raw bytes on a control connection; returns the fd. */
static int ctl_send(const struct hostd *h, const void *buf, size_t len)
{
	int fd = try_connect(h->ctl_sock);

	if (fd >= 0 && write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST_F(hostd, control_wire_misuse)
{
	const char *words[] = { "delete", "alpha", "0", "k", "v" };
	struct kvp_hostctl_msg m = { .strings = words };
	unsigned char reply[256], *buf;
	size_t len;
	int fd;

	ASSERT_TRUE(guest_ready(&self->g, &self->h, VM_UUID, "alpha"));

	/* Not our magic: refused with USAGE, then closed. */
	fd = ctl_send(&self->h, "GET / HTTP/1.0\r\n\r\n.....", 24);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, read_full(fd, reply, KVP_HOSTCTL_HDR_LEN, GUEST_WAIT_MS));
	EXPECT_EQ(KVP_HOSTCTL_USAGE, kvp_get_le16(reply + KVP_HOSTCTL_OFF_STATUS));
	close(fd);

	/* An empty key, which kvpctl would have refused itself. */
	words[3] = "";
	m.count = 4;
	buf = kvp_hostctl_encode(&m, &len);
	ASSERT_NE(NULL, buf);
	fd = ctl_send(&self->h, buf, len);
	free(buf);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, read_full(fd, reply, KVP_HOSTCTL_HDR_LEN, GUEST_WAIT_MS));
	EXPECT_EQ(KVP_HOSTCTL_USAGE, kvp_get_le16(reply + KVP_HOSTCTL_OFF_STATUS));
	close(fd);

	/* A client that leaves before its answer: the request still runs. */
	words[0] = "set";
	words[3] = "k";
	m.count = 5;
	buf = kvp_hostctl_encode(&m, &len);
	ASSERT_NE(NULL, buf);
	fd = ctl_send(&self->h, buf, len);
	free(buf);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(KVP_OP_SET, guest_serve(&self->g, GUEST_WAIT_MS));
	EXPECT_EQ(1, self->g.count[0]);
	kvpctl(&self->r, &self->h, &self->g, "host", "get", "alpha", "0", "k",
	       NULL);
	EXPECT_EQ(0, self->r.status);
	EXPECT_STREQ("v\n", self->r.out);
}

TEST(socket_mode_option)
{
	char *extra[] = { "--socket-mode", "0640", NULL };
	struct stat st;
	struct hostd h;

	ASSERT_EQ(0, hostd_up(&h, extra));
	EXPECT_EQ(0, stat(h.ctl_sock, &st));
	EXPECT_EQ(0640u, st.st_mode & 07777);
	EXPECT_EQ(0, hostd_down(&h));
}

TEST(extra_items_and_overrides)
{
	char *extra[] = { "--item", "HostName=override", "--item",
			  "Extra=yes", NULL };
	char host[256], shortname[256], fqdn[1100];
	struct hostd h;
	struct kvp_guest g;
	u32 fw, msg;

	host_names(host, shortname, fqdn, sizeof(host));
	ASSERT_EQ(0, hostd_up(&h, extra));
	EXPECT_EQ(0, guest_open(&g, &h));
	EXPECT_EQ(0, guest_greet(&g));
	EXPECT_EQ(0, guest_negotiate(&g, &fw, &msg));
	EXPECT_TRUE(guest_expect_item(&g, "PhysicalHostName", shortname));
	EXPECT_TRUE(guest_expect_item(&g, "PhysicalHostNameFullyQualified",
				      fqdn));
	EXPECT_TRUE(guest_expect_item(&g, "VirtualMachineId", VM_UUID));
	EXPECT_TRUE(guest_expect_item(&g, "VirtualMachineName", "alpha"));
	EXPECT_TRUE(guest_expect_item(&g, "HostName", "override"));
	EXPECT_TRUE(guest_expect_item(&g, "Extra", "yes"));
	close(g.fd);
	EXPECT_EQ(0, hostd_down(&h));
}

/* Makes a unix socket at path and leaves it, unlistened: a stale one. */
static int stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), err;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	err = fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return err ? -1 : 0;
}

/*
 * Only a stale socket at --socket or --listen-unix is replaced: a file
 * there is refused and kept, and so is a live daemon's socket.
 */
TEST(socket_paths_checked)
{
	char *listen_file[] = { "--listen-unix", NULL, NULL };
	struct hostd h, other;
	struct stat st;
	struct run r;
	char buf[8], file[sizeof(h.dir) + 8];
	int status;
	int fd;

	/* A regular file at the control socket's path. */
	ASSERT_EQ(0, hostd_init(&h));
	fd = open(h.ctl_sock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, write(fd, "keep", 4));
	close(fd);
	EXPECT_NE(0, hostd_run(&h, NULL));
	fd = open(h.ctl_sock, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4, read(fd, buf, sizeof(buf)));
	close(fd);
	EXPECT_EQ(0, memcmp(buf, "keep", 4));

	/* The same at the guest socket's path (--listen-unix, last wins). */
	ASSERT_EQ(0, unlink(h.ctl_sock));
	snprintf(file, sizeof(file), "%s/file", h.dir);
	listen_file[1] = file;
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_NE(0, hostd_run(&h, listen_file));
	EXPECT_EQ(0, stat(file, &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_EQ(0, unlink(file));

	/* Stale sockets are replaced. */
	ASSERT_EQ(0, stale_socket(h.ctl_sock));
	ASSERT_EQ(0, stale_socket(h.guest_sock));
	ASSERT_EQ(0, hostd_run(&h, NULL));

	/*
	 * A live daemon's socket is not taken: the second one exits (its
	 * start sees the first answering, so wait for the exit itself).
	 */
	memcpy(&other, &h, sizeof(other));
	snprintf(other.guest_sock, sizeof(other.guest_sock), "%s/g2.sock",
		 h.dir);
	hostd_run(&other, NULL);
	ASSERT_LT(0, other.pid);
	ASSERT_EQ(other.pid, waitpid(other.pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	kvpctl(&r, &h, NULL, "host", "list", NULL);
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, hostd_down(&h));
}

TEST(bad_options_refused)
{
	char *extra[] = { "--vm", "12=", NULL };
	char *grace[] = { "--grace", "2", NULL };
	struct hostd h;

	EXPECT_NE(0, hostd_up(&h, extra));
	EXPECT_NE(0, hostd_down(&h));
	/* A grace no longer than --timeout (2) would drop waiting guests. */
	EXPECT_NE(0, hostd_up(&h, grace));
	EXPECT_NE(0, hostd_down(&h));
}

/* The process whose command line holds word: finds a detached daemon. */
static pid_t find_process(const char *word)
{
	char path[300], cmd[4096];
	struct dirent *e;
	pid_t pid = -1;
	ssize_t n;
	DIR *dir;
	int fd;

	dir = opendir("/proc");
	while (dir && pid < 0 && (e = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, cmd, sizeof(cmd));
		close(fd);
		if (n > 0 && memmem(cmd, n, word, strlen(word) + 1))
			pid = atoi(e->d_name);
	}
	if (dir)
		closedir(dir);
	return pid;
}

/* Without -f: detaches once listening, leaves cleanly on SIGTERM. */
TEST(detached_daemon_stops_on_sigterm)
{
	char dir[] = "/tmp/hostd_test.XXXXXX", guest[64], ctl[64], conf[64];
	int status, i;
	pid_t pid;
	FILE *f;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(guest, sizeof(guest), "%s/guest.sock", dir);
	snprintf(ctl, sizeof(ctl), "%s/ctl.sock", dir);
	snprintf(conf, sizeof(conf), "%s/hostd.conf", dir);
	f = fopen(conf, "w");
	ASSERT_NE(NULL, f);
	fputs("[activation]\nenabled = no\n", f);
	ASSERT_EQ(0, fclose(f));
	pid = fork();
	if (pid == 0) {
		execl(env_or("KVP_HOSTD", "../userspace/kvp-hostd/kvp-hostd"),
		      "kvp-hostd", "--listen-unix", guest, "--socket", ctl,
		      "--config", conf, (char *)NULL);
		_exit(127);
	}
	/* The parent returns once the sockets are there. */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, access(ctl, F_OK));
	pid = find_process(ctl);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, kill(pid, SIGTERM));
	for (i = 0; i < GUEST_WAIT_MS / 10 && access(ctl, F_OK) == 0; i++)
		usleep(10000);
	EXPECT_NE(0, access(ctl, F_OK));
	EXPECT_NE(0, access(guest, F_OK));
	if (access(ctl, F_OK) == 0)
		kill(pid, SIGKILL);
	EXPECT_EQ(0, unlink(conf));
	EXPECT_EQ(0, rmdir(dir));
}

TEST(no_daemon)
{
	struct hostd h = { .ctl_sock = "/nonexistent/kvp-hostd.sock" };
	struct run r;

	kvpctl(&r, &h, NULL, "host", "list", NULL);
	EXPECT_EQ(9, r.status);
	EXPECT_NE(NULL, strstr(r.err, "cannot reach kvp-hostd"));
}

/* The control wire, byte for byte (Documentation/kvp-hostd.rst). */
TEST(hostctl_wire_bytes)
{
	static const unsigned char want[] = {
		'K', 'V', 'P', 'C', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		4, 0, 0, 0, 13, 0, 0, 0,
		'g', 'e', 't', 0, 'v', 'm', 0, '3', 0, 'K', 'e', 'y', 0,
	};
	const char *words[] = { "get", "vm", "3", "Key" }, *rows[] = {
		"failed", "a", "1", "b", "" };
	struct kvp_hostctl_msg m = { .count = 4, .strings = words }, d;
	unsigned char *buf;
	size_t len;

	buf = kvp_hostctl_encode(&m, &len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(sizeof(want), len);
	EXPECT_EQ(0, memcmp(want, buf, len));
	EXPECT_EQ(0, kvp_hostctl_frame_len(buf, 23, 4096));
	EXPECT_EQ((long)len, kvp_hostctl_frame_len(buf, 24, 4096));
	EXPECT_EQ(-EMSGSIZE, kvp_hostctl_frame_len(buf, 24, 30));
	ASSERT_EQ(0, kvp_hostctl_decode(buf, len, &d));
	EXPECT_EQ(4u, d.count);
	EXPECT_STREQ("Key", d.strings[3]);
	free(d.strings);
	/* A string without its NUL, or bytes left over, is refused. */
	buf[len - 1] = 'x';
	EXPECT_EQ(-EPROTO, kvp_hostctl_decode(buf, len, &d));
	buf[len - 1] = 0;
	buf[16] = 3;
	EXPECT_EQ(-EPROTO, kvp_hostctl_decode(buf, len, &d));
	buf[0] = 'X';
	EXPECT_EQ(-EPROTO, kvp_hostctl_frame_len(buf, len, 4096));
	free(buf);

	/* A reply: status, hresult, columns; message first, then rows. */
	m = (struct kvp_hostctl_msg){ .status = KVP_HOSTCTL_GUEST,
				      .hresult = KVP_E_FAIL, .columns = 2,
				      .count = 5, .strings = rows };
	buf = kvp_hostctl_encode(&m, &len);
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(8, buf[6]);
	EXPECT_EQ(0x05, buf[8]);
	EXPECT_EQ(0x40, buf[9]);
	EXPECT_EQ(0x00, buf[10]);
	EXPECT_EQ(0x80, buf[11]);
	EXPECT_EQ(2, buf[12]);
	ASSERT_EQ(0, kvp_hostctl_decode(buf, len, &d));
	EXPECT_EQ(KVP_E_FAIL, d.hresult);
	EXPECT_STREQ("b", d.strings[3]);
	free(d.strings);
	/* Rows must be whole. */
	buf[12] = 3;
	EXPECT_EQ(-EPROTO, kvp_hostctl_decode(buf, len, &d));
	free(buf);
}

/* ---- activation: identity, history, report, audit -------------------------- */

/*
 * kvp-hostd with a configuration (--config) that serves activation: the
 * host key made here first, so that the test signs grants as the daemon
 * would; a catalog of one product; the history at a path of its own,
 * filled by the history library as the daemon fills it.
 */
#define ACT_PRODUCT	"test-os"
#define ACT_VERSION	"2"
#define ACT_EDITION	"datacenter"
#define ACT_HOST	"testhost"
#define ACT_VM_ID	"5b0a8f43-3c2e-4f5c-9c1d-0e9a7b6c5d4e"	/* CID 1000's */
#define ACT_VM_ID_B	"5b0a8f43-3c2e-4f5c-9c1d-000000001001"	/* other CIDs' */
#define ACT_LEASE	3600

struct act {
	struct hostd h;
	char state[96];
	char key[128];
	char history[128];
	char catalog[96];
	char product[128];
	char config[96];
	struct kvp_signer *signer;
	uint8_t pub[KVP_SIGN_PUBLIC_LEN];
	char host_id[KVP_HOST_ID_LEN + 1];
	struct kvp_guest g;
	struct run r;
};

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) ? -1 : 0;
}

static int act_init(struct act *a)
{
	char text[1024];

	memset(a, 0, sizeof(*a));
	if (hostd_init(&a->h))
		return -1;
	snprintf(a->state, sizeof(a->state), "%s/state", a->h.dir);
	snprintf(a->key, sizeof(a->key), "%s/host.key", a->state);
	snprintf(a->history, sizeof(a->history), "%s/history.db", a->state);
	snprintf(a->catalog, sizeof(a->catalog), "%s/catalog", a->h.dir);
	snprintf(a->product, sizeof(a->product), "%s/test-os.conf",
		 a->catalog);
	snprintf(a->config, sizeof(a->config), "%s/hostd.conf", a->h.dir);
	if (mkdir(a->state, 0700) || mkdir(a->catalog, 0755) ||
	    kvp_sign_generate(a->key) || kvp_sign_load(a->key, &a->signer))
		return -1;
	kvp_sign_public(a->signer, a->pub);
	kvp_host_id(a->pub, a->host_id);
	if (write_text(a->product,
		       "[product " ACT_PRODUCT "]\nname = Test OS\n"
		       "version = 1 One\nversion = 2 Two\nversion = 3 Three\n"
		       "edition = datacenter lends=yes Datacenter\n"
		       "key = 2 datacenter BCDFG-HJKMP-QRTVW-XY234-6789B\n"))
		return -1;
	snprintf(text, sizeof(text),
		 "[host]\nname = " ACT_HOST "\nstate-dir = %s\n\n"
		 "[activation]\nlease = %u\nhistory = %s\ncatalog = %s\n\n"
		 "[license]\nproduct = " ACT_PRODUCT "\nversion = 3\n"
		 "edition = " ACT_EDITION "\nactivated = yes\n",
		 a->state, ACT_LEASE, a->history, a->catalog);
	return write_text(a->config, text);
}

static int act_start(struct act *a)
{
	char *extra[] = { "--config", a->config, NULL };

	return hostd_run(&a->h, extra);
}

static void act_unlink(const char *dir, const char *name)
{
	char path[192];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* Stops the daemon and removes every file; its exit status. */
static int act_stop(struct act *a)
{
	int status;

	if (a->g.fd > 0)
		close(a->g.fd);
	status = hostd_down(&a->h);
	kvp_sign_free(a->signer);
	act_unlink(a->state, "host.key");
	act_unlink(a->state, "history.db");
	act_unlink(a->state, "history.db-wal");
	act_unlink(a->state, "history.db-shm");
	rmdir(a->state);
	unlink(a->product);
	rmdir(a->catalog);
	unlink(a->config);
	rmdir(a->h.dir);
	return status;
}

static void act_row(struct kvp_history_row *row, const char *name, u32 cid,
		    int64_t t, int outcome, const char *grant_id)
{
	memset(row, 0, sizeof(*row));
	row->time = t;
	if (cid == 1000)
		strcpy(row->vm_id, ACT_VM_ID);
	else
		snprintf(row->vm_id, sizeof(row->vm_id),
			 "5b0a8f43-3c2e-4f5c-9c1d-00000000%04u", cid);
	snprintf(row->vm_name, sizeof(row->vm_name), "%s", name);
	row->cid = cid;
	strcpy(row->product, ACT_PRODUCT);
	strcpy(row->version, ACT_VERSION);
	strcpy(row->edition, ACT_EDITION);
	row->outcome = (u16)outcome;
	row->reason = outcome ? KVP_AVMA_R_KEY : 0;
	if (grant_id) {
		snprintf(row->grant_id, sizeof(row->grant_id), "%s", grant_id);
		row->expires = (uint64_t)t + ACT_LEASE;
	}
	memset(row->nonce, (int)(t & 0xff), sizeof(row->nonce));
	row->nonce[0] = (u8)cid;
}

/* Adds rows to the history, as the daemon would. */
static int act_record(const struct act *a, const struct kvp_history_row *rows,
		      int n)
{
	struct kvp_history *h;
	char error[256];
	int i, err;

	err = kvp_history_open(&h, a->history, error, sizeof(error));
	for (i = 0; !err && i < n; i++)
		err = kvp_history_add(h, &rows[i]);
	kvp_history_close(h);
	return err;
}

static void set_item(struct kvp_guest *g, const char *key, const char *value)
{
	struct item *it = store_find(g, KVP_POOL_AUTO, key);

	if (!it)
		it = &g->pools[KVP_POOL_AUTO][g->count[KVP_POOL_AUTO]++];
	snprintf(it->key, sizeof(it->key), "%s", key);
	snprintf(it->value, sizeof(it->value), "%s", value);
}

/*
 * A grant signed by `signer` as kvp-hostd makes them, activated an hour
 * ago, and the licence items kvpd would show for it, in g's pool 2 with
 * what kvpd always shows.  Its id goes to grant_id.
 */
static int act_licensed_guest(struct kvp_guest *g,
			      const struct kvp_signer *signer,
			      char grant_id[37])
{
	struct kvp_grant grant = { 0 };
	uint8_t buf[KVP_GRANT_MAX_LEN], pub[KVP_SIGN_PUBLIC_LEN];
	char b64[KVP_BASE64_LEN(KVP_GRANT_MAX_LEN) + 1];
	char t[KVP_TIME_TEXT_LEN + 1];
	char host_id[KVP_HOST_ID_LEN + 1];
	int len;

	set_item(g, "FullyQualifiedDomainName", "alpha.example.test");
	set_item(g, "NetworkAddressIPv4", "192.0.2.10;192.0.2.11");
	set_item(g, "NetworkAddressIPv6", "2001:db8::10");
	set_item(g, "OSName", "Debian GNU/Linux");
	set_item(g, "OSVersion", "12");
	set_item(g, "ProcessorArchitecture", "x86_64");
	if (kvp_random(grant.id, sizeof(grant.id)) ||
	    kvp_uuid_parse(ACT_VM_ID, grant.vm_id) ||
	    kvp_random(grant.nonce, sizeof(grant.nonce)))
		return -1;
	grant.activated = (uint64_t)time(NULL) - 3600;
	grant.expires = grant.activated + 2 * ACT_LEASE;
	strcpy(grant.product, ACT_PRODUCT);
	strcpy(grant.version, ACT_VERSION);
	strcpy(grant.edition, ACT_EDITION);
	strcpy(grant.host_name, ACT_HOST);
	kvp_sign_public(signer, pub);
	memcpy(grant.host_key, pub, sizeof(pub));
	len = kvp_grant_sign(&grant, signer, buf, sizeof(buf));
	if (len < 0)
		return -1;
	kvp_base64_encode(buf, (size_t)len, b64);
	kvp_uuid_format(grant.id, grant_id);
	kvp_host_id(pub, host_id);
	set_item(g, "KvpLicenseState", "Licensed");
	set_item(g, "KvpLicenseReason", "");
	set_item(g, "KvpLicenseProduct", ACT_PRODUCT);
	set_item(g, "KvpLicenseEdition", ACT_EDITION);
	set_item(g, "KvpLicenseVersion", ACT_VERSION);
	set_item(g, "KvpLicenseActivationId", grant_id);
	set_item(g, "KvpLicenseHostName", ACT_HOST);
	set_item(g, "KvpLicenseHostId", host_id);
	kvp_time_text(grant.activated, t);
	set_item(g, "KvpLicenseActivationTime", t);
	kvp_time_text(grant.expires, t);
	set_item(g, "KvpLicenseExpiry", t);
	set_item(g, "KvpLicenseGrant", b64);
	return 0;
}

/*
 * Connects a guest of framing version 1, with the items set in a->g so far:
 * it gets no activation service (only a HELLO of version 3 names it), so
 * the fake guest only has the KVP exchange to speak; the daemon reads its
 * pool 2 as any guest's.  Done right before the handshake: the daemon
 * wants HELLO within --timeout, and signing or recording first can take
 * longer than that under valgrind.
 */
static int act_guest(struct act *a)
{
	a->g.version = 1;
	a->g.fd = try_connect(a->h.guest_sock);
	return a->g.fd < 0 ? -1 : 0;
}

FIXTURE(act) {
	struct act a;
};

FIXTURE_SETUP(act)
{
	ASSERT_EQ(0, act_init(&self->a));
}

FIXTURE_TEARDOWN(act)
{
	EXPECT_EQ(0, act_stop(&self->a));
}

TEST_F(act, identity)
{
	char b64[KVP_BASE64_LEN(KVP_SIGN_PUBLIC_LEN) + 1], want[256];
	struct act *a = &self->a;

	ASSERT_EQ(0, act_start(a));
	kvp_base64_encode(a->pub, sizeof(a->pub), b64);
	kvpctl(&a->r, &a->h, NULL, "host", "identity", NULL);
	ASSERT_EQ(0, a->r.status) TH_LOG("%s", a->r.err);
	snprintf(want, sizeof(want), "host id:    %s\npublic key: %s\n",
		 a->host_id, b64);
	EXPECT_STREQ(want, a->r.out);
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "identity", NULL);
	ASSERT_EQ(0, a->r.status);
	snprintf(want, sizeof(want), "{\"host_id\":\"%s\",\"public_key\":\"%s\"}\n",
		 a->host_id, b64);
	EXPECT_STREQ(want, a->r.out);
	kvpctl(&a->r, &a->h, NULL, "host", "identity", "x", NULL);
	EXPECT_EQ(2, a->r.status);
}

TEST_F(act, history_filters)
{
	struct kvp_history_row rows[4];
	struct act *a = &self->a;
	char *p;

	/* 2026-12-01T00:00:00Z is 1796083200. */
	act_row(&rows[0], "alpha", 1000, 1796083200, 0,
		"aaaaaaaa-0000-4000-8000-000000000001");
	act_row(&rows[1], "beta", 1001, 1796083260, KVP_AVMA_DENIED, NULL);
	act_row(&rows[2], "alpha", 1000, 1796169600, 0,
		"aaaaaaaa-0000-4000-8000-000000000002");
	ASSERT_EQ(0, act_record(a, rows, 3));
	ASSERT_EQ(0, act_start(a));

	kvpctl(&a->r, &a->h, NULL, "host", "history", NULL);
	ASSERT_EQ(0, a->r.status) TH_LOG("%s", a->r.err);
	EXPECT_TRUE(starts_with(a->r.out, "TIME "));
	p = strstr(a->r.out, "\n2026-12-01T00:00:00Z alpha            1000   test-os          2        datacenter   Success           ");
	ASSERT_NE(NULL, p) TH_LOG("%s", a->r.out);
	EXPECT_NE(NULL, strstr(p, "aaaaaaaa-0000-4000-8000-000000000001\n"));
	p = strstr(p, "\n2026-12-01T00:01:00Z beta             1001   ");
	ASSERT_NE(NULL, p) TH_LOG("%s", a->r.out);
	p = strstr(p, "\n2026-12-02T00:00:00Z alpha ");
	ASSERT_NE(NULL, p) TH_LOG("%s", a->r.out);

	kvpctl(&a->r, &a->h, NULL, "-j", "host", "history", "beta", NULL);
	ASSERT_EQ(0, a->r.status);
	EXPECT_STREQ("[{\"time\":1796083260,\"vm_id\":\"" ACT_VM_ID_B "\","
		     "\"vm_name\":\"beta\",\"cid\":1001,\"product\":\"test-os\","
		     "\"version\":\"2\",\"edition\":\"datacenter\","
		     "\"outcome\":\"Activation Denied\",\"outcome_code\":3,"
		     "\"reason\":\"key\",\"reason_code\":17,\"grant_id\":\"\","
		     "\"expires\":0,\"nonce\":\"e93c3c3c3c3c3c3c3c3c3c3c3c3c3c3c\"}]\n",
		     a->r.out);

	/* --since: ISO 8601 or seconds, inclusive; by VM id too. */
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "history", ACT_VM_ID,
	       "--since", "2026-12-01T00:00:00Z", NULL);
	ASSERT_EQ(0, a->r.status);
	EXPECT_TRUE(starts_with(a->r.out, "[{\"time\":1796083200,"));
	EXPECT_NE(NULL, strstr(a->r.out, "},{\"time\":1796169600,"));
	EXPECT_EQ(NULL, strstr(a->r.out, "1796083260"));
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "history", "beta",
	       "--since", "2026-12-01T01:01:00+01:00", NULL);
	ASSERT_EQ(0, a->r.status);
	EXPECT_TRUE(starts_with(a->r.out, "[{\"time\":1796083260,"));
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "history", "alpha",
	       "--since", "2026-12-02", NULL);
	ASSERT_EQ(0, a->r.status);
	EXPECT_TRUE(starts_with(a->r.out, "[{\"time\":1796169600,"));
	EXPECT_EQ(NULL, strstr(a->r.out, "},{"));
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "history", "--since",
	       "1796169601", NULL);
	ASSERT_EQ(0, a->r.status);
	EXPECT_STREQ("[]\n", a->r.out);
	kvpctl(&a->r, &a->h, NULL, "host", "history", "gamma", NULL);
	ASSERT_EQ(0, a->r.status);

	/* Rows the daemon's history gets meanwhile show at once (WAL). */
	act_row(&rows[3], "gamma", 1002, 1796169700, KVP_AVMA_INVALID_DATA,
		NULL);
	ASSERT_EQ(0, act_record(a, &rows[3], 1));
	kvpctl(&a->r, &a->h, NULL, "host", "history", "gamma", NULL);
	ASSERT_EQ(0, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.out, "\n2026-12-02T00:01:40Z gamma"));

	/* Bad words: refused before the daemon is asked. */
	kvpctl(&a->r, &a->h, NULL, "host", "history", "--since", "yesterday",
	       NULL);
	EXPECT_EQ(2, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.err, "--since 'yesterday'"));
	kvpctl(&a->r, &a->h, NULL, "host", "history", "alpha", "beta", NULL);
	EXPECT_EQ(2, a->r.status);
	kvpctl(&a->r, &a->h, NULL, "host", "history", "--since", NULL);
	EXPECT_EQ(2, a->r.status);
}

TEST_F(act, report)
{
	struct kvp_history_row rows[2];
	struct act *a = &self->a;
	char grant_id[37], *p;

	ASSERT_EQ(0, act_start(a));
	ASSERT_EQ(0, act_licensed_guest(&a->g, a->signer, grant_id));
	/*
	 * Recorded while the daemon runs, as its own rows are; under the name
	 * the guest sent, as for a guest without --vm: the report finds it by
	 * the VM id of the grant the guest shows.
	 */
	act_row(&rows[0], "alpha.guest", 1000, 1796083200, 0, grant_id);
	act_row(&rows[1], "beta", 1001, 1796083260, 0,
		"bbbbbbbb-0000-4000-8000-000000000001");
	ASSERT_EQ(0, act_record(a, rows, 2));
	ASSERT_EQ(0, act_guest(a));
	ASSERT_TRUE(guest_handshake(&a->g, VM_UUID, "alpha"));

	kvpctl(&a->r, &a->h, &a->g, "host", "report", NULL);
	ASSERT_EQ(0, a->r.status) TH_LOG("%s", a->r.err);
	EXPECT_TRUE(starts_with(a->r.out, "NAME "));
	EXPECT_NE(NULL, strstr(a->r.out,
		"\nalpha            1000   Licensed     test-os          datacenter   2026-12-01T00:00:00Z alpha.example.test   Debian GNU/Linux 12          x86_64   192.0.2.10;192.0.2.11\n"))
		TH_LOG("%s", a->r.out);
	EXPECT_NE(NULL, strstr(a->r.out,
		"\nbeta             1001   (history)    test-os          datacenter   2026-12-01T00:01:00Z -"))
		TH_LOG("%s", a->r.out);
	EXPECT_EQ(NULL, strstr(a->r.out, "alpha.guest"));

	kvpctl(&a->r, &a->h, &a->g, "-j", "host", "report", NULL);
	ASSERT_EQ(0, a->r.status);
	p = strstr(a->r.out, "{\"name\":\"alpha\",\"vm_id\":\"" VM_UUID
		   "\",\"cid\":1000,\"source\":\"connected\","
		   "\"fqdn\":\"alpha.example.test\",\"os_name\":\"Debian GNU/Linux\","
		   "\"os_version\":\"12\",\"architecture\":\"x86_64\","
		   "\"ipv4\":\"192.0.2.10;192.0.2.11\",\"ipv6\":\"2001:db8::10\","
		   "\"state\":\"Licensed\",\"reason\":\"\",\"product\":\"test-os\","
		   "\"edition\":\"datacenter\",\"version\":\"2\",\"activation_id\":\"");
	ASSERT_NE(NULL, p) TH_LOG("%s", a->r.out);
	EXPECT_NE(NULL, strstr(p, "\",\"last_activation\":1796083200,"
			       "\"expires\":1796086800,\"error\":\"\"}"));
	EXPECT_NE(NULL, strstr(a->r.out,
		"{\"name\":\"beta\",\"vm_id\":\"" ACT_VM_ID_B "\",\"cid\":1001,"
		"\"source\":\"history\",\"fqdn\":\"\""));

	kvpctl(&a->r, &a->h, &a->g, "host", "report", "--csv", NULL);
	ASSERT_EQ(0, a->r.status);
	EXPECT_TRUE(starts_with(a->r.out,
		"name,vm_id,cid,source,fqdn,os_name,os_version,architecture,"
		"ipv4,ipv6,state,reason,product,edition,version,activation_id,"
		"last_activation,expires,error\r\n"
		"alpha," VM_UUID ",1000,connected,alpha.example.test,"
		"Debian GNU/Linux,12,x86_64,192.0.2.10;192.0.2.11,2001:db8::10,"
		"Licensed,,test-os,datacenter,2,"))
		TH_LOG("%s", a->r.out);
	EXPECT_NE(NULL, strstr(a->r.out,
		",2026-12-01T00:00:00Z,2026-12-01T01:00:00Z,\r\nbeta,"));

	kvpctl(&a->r, &a->h, NULL, "-j", "host", "report", "--csv", NULL);
	EXPECT_EQ(2, a->r.status);
}

/*
 * A report waits for every guest's walk: one guest answers, another never
 * gets past HELLO and its walk fails; both have their row.  A client
 * that leaves before its report is done costs nothing (valgrind: the
 * daemon's exit is clean).
 */
TEST_F(act, report_waits_for_every_guest)
{
	const char *words[] = { "report" };
	struct kvp_hostctl_msg m = { .count = 1, .strings = words };
	struct act *a = &self->a;
	struct kvp_guest silent;
	char grant_id[37];
	unsigned char *buf;
	size_t len;
	int fd;

	ASSERT_EQ(0, act_start(a));
	ASSERT_EQ(0, act_guest(a));
	ASSERT_EQ(0, act_licensed_guest(&a->g, a->signer, grant_id));
	ASSERT_TRUE(guest_handshake(&a->g, VM_UUID, "alpha"));
	ASSERT_EQ(0, guest_open(&silent, &a->h));

	/* Gone at once: its walks run on, unanswered. */
	buf = kvp_hostctl_encode(&m, &len);
	ASSERT_NE(NULL, buf);
	fd = ctl_send(&a->h, buf, len);
	free(buf);
	ASSERT_LE(0, fd);
	close(fd);

	kvpctl(&a->r, &a->h, &a->g, "-j", "host", "report", NULL);
	ASSERT_EQ(0, a->r.status) TH_LOG("%s", a->r.err);
	EXPECT_TRUE(starts_with(a->r.out, "[{\"name\":\"alpha\","))
		TH_LOG("%s", a->r.out);
	EXPECT_NE(NULL, strstr(a->r.out, "\"state\":\"Licensed\""));
	EXPECT_NE(NULL, strstr(a->r.out,
		"{\"name\":\"vm-1001\",\"vm_id\":\""))
		TH_LOG("%s", a->r.out);
	/* Its walk timed out, or it was dropped first for want of a HELLO. */
	EXPECT_TRUE(strstr(a->r.out, "\"error\":\"timed out: VM vm-1001 (CID 1001)") ||
		    strstr(a->r.out, "\"error\":\"VM vm-1001 (CID 1001) went away"))
		TH_LOG("%s", a->r.out);
	kvpctl(&a->r, &a->h, &a->g, "host", "list", NULL);
	EXPECT_EQ(0, a->r.status);
	close(silent.fd);
}

/*
 * Runs `kvpctl -j host audit` with g answering; its exit status if it gave
 * the verdict and the detail (unless NULL) wanted, else -1.
 */
static int audit(struct act *a, const char *verdict, const char *detail)
{
	char want[128];

	kvpctl(&a->r, &a->h, &a->g, "-j", "host", "audit", NULL);
	snprintf(want, sizeof(want), "\"verdict\":\"%s\"", verdict);
	if (strstr(a->r.out, want) && (!detail || strstr(a->r.out, detail)))
		return a->r.status;
	fprintf(stderr, "# audit: want %s, %s; got: %s%s\n", verdict,
		detail ? detail : "", a->r.out, a->r.err);
	return -1;
}

TEST_F(act, audit_verdicts)
{
	struct kvp_history_row row;
	struct kvp_signer *other;
	struct act *a = &self->a;
	char grant_id[37], path[160], saved[2048];
	struct item *it;

	ASSERT_EQ(0, act_start(a));
	ASSERT_EQ(0, act_licensed_guest(&a->g, a->signer, grant_id));
	act_row(&row, "alpha", 1000, 1796083200, 0, grant_id);
	ASSERT_EQ(0, act_record(a, &row, 1));
	ASSERT_EQ(0, act_guest(a));
	ASSERT_TRUE(guest_handshake(&a->g, VM_UUID, "alpha"));

	/* As issued: ok, exit 0; the grant's facts shown. */
	EXPECT_EQ(0, audit(a, "ok", NULL));
	EXPECT_NE(NULL, strstr(a->r.out, "\"name\":\"alpha\",\"cid\":1000,"
			       "\"verdict\":\"ok\",\"detail\":\"\",\"grant_id\":\""));
	EXPECT_NE(NULL, strstr(a->r.out, a->host_id));
	kvpctl(&a->r, &a->h, &a->g, "host", "audit", NULL);
	EXPECT_EQ(0, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.out, "\nalpha            1000   ok            -\n"))
		TH_LOG("%s", a->r.out);

	/* A hand-edited item: tampered, exit 14, the item named. */
	it = store_find(&a->g, KVP_POOL_AUTO, "KvpLicenseEdition");
	ASSERT_NE(NULL, it);
	strcpy(it->value, "enterprise");
	EXPECT_EQ(14, audit(a, "tampered",
			    "KvpLicenseEdition is 'enterprise', the grant says 'datacenter'"));
	kvpctl(&a->r, &a->h, &a->g, "host", "audit", NULL);
	EXPECT_EQ(14, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.out, "alpha            1000   tampered      KvpLicenseEdition is 'enterprise'"));
	strcpy(it->value, ACT_EDITION);
	it = store_find(&a->g, KVP_POOL_AUTO, "KvpLicenseExpiry");
	ASSERT_NE(NULL, it);
	strcpy(it->value, "2099-01-01T00:00:00Z");
	EXPECT_EQ(14, audit(a, "tampered", "KvpLicenseExpiry is '2099-01-01T00:00:00Z'"));

	/* The grant itself changed: its signature fails. */
	ASSERT_EQ(0, act_licensed_guest(&a->g, a->signer, grant_id));
	it = store_find(&a->g, KVP_POOL_AUTO, "KvpLicenseGrant");
	ASSERT_NE(NULL, it);
	strcpy(saved, it->value);
	it->value[60] = it->value[60] == 'A' ? 'B' : 'A';
	EXPECT_EQ(14, audit(a, "tampered", "signature does not verify"));
	strcpy(it->value, "not base64!");
	EXPECT_EQ(14, audit(a, "tampered", "KvpLicenseGrant is not a grant"));
	strcpy(it->value, saved);

	/* Signed by this host but not in its history. */
	EXPECT_EQ(14, audit(a, "tampered", "signed by this host, but not in its history"));

	/* Signed by another host: fine after a migration, said so. */
	snprintf(path, sizeof(path), "%s/other.key", a->h.dir);
	ASSERT_EQ(0, kvp_sign_generate(path));
	ASSERT_EQ(0, kvp_sign_load(path, &other));
	unlink(path);
	ASSERT_EQ(0, act_licensed_guest(&a->g, other, grant_id));
	kvp_sign_free(other);
	EXPECT_EQ(0, audit(a, "unknown-grant", "not this one"));

	/* No licence items at all. */
	a->g.count[KVP_POOL_AUTO] = 0;
	EXPECT_EQ(0, audit(a, "no-licence", NULL));
	set_item(&a->g, "KvpLicenseState", "Licensed");
	set_item(&a->g, "KvpLicenseGrant", "");
	EXPECT_EQ(14, audit(a, "tampered", "without a KvpLicenseGrant"));

	/* Pool 2 cannot be read: unreadable (exit 1); report says why. */
	a->g.fail_status = KVP_E_FAIL;
	EXPECT_EQ(1, audit(a, "unreadable",
			   "VM alpha failed ENUMERATE of pool 2 at index 0"));
	kvpctl(&a->r, &a->h, &a->g, "-j", "host", "report", NULL);
	EXPECT_EQ(0, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.out,
		"\"error\":\"VM alpha failed ENUMERATE of pool 2 at index 0\"}"))
		TH_LOG("%s", a->r.out);
}

/* A grant this host issued, found in the history for another VM. */
TEST_F(act, audit_grant_of_another_vm)
{
	struct kvp_history_row row;
	struct act *a = &self->a;
	char grant_id[37];

	ASSERT_EQ(0, act_start(a));
	ASSERT_EQ(0, act_licensed_guest(&a->g, a->signer, grant_id));
	act_row(&row, "beta", 1001, 1796083200, 0, grant_id);
	ASSERT_EQ(0, act_record(a, &row, 1));
	ASSERT_EQ(0, act_guest(a));
	ASSERT_TRUE(guest_handshake(&a->g, VM_UUID, "alpha"));
	EXPECT_EQ(14, audit(a, "tampered",
			    "history has it for VM beta (CID 1001), not this one"));
}

/* Without guests or history: empty answers, not errors. */
TEST_F(act, empty)
{
	struct act *a = &self->a;

	ASSERT_EQ(0, act_start(a));
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "report", NULL);
	EXPECT_EQ(0, a->r.status);
	EXPECT_STREQ("[]\n", a->r.out);
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "audit", NULL);
	EXPECT_EQ(0, a->r.status);
	EXPECT_STREQ("[]\n", a->r.out);
	kvpctl(&a->r, &a->h, NULL, "-j", "host", "history", NULL);
	EXPECT_EQ(0, a->r.status);
	EXPECT_STREQ("[]\n", a->r.out);
}

/* Activation not served, or its history off: the commands say so. */
TEST_F(act, activation_or_history_off)
{
	struct act *a = &self->a;
	char text[512];

	snprintf(text, sizeof(text),
		 "[host]\nstate-dir = %s\n[activation]\nenabled = no\n",
		 a->state);
	ASSERT_EQ(0, write_text(a->config, text));
	ASSERT_EQ(0, act_start(a));
	kvpctl(&a->r, &a->h, NULL, "host", "identity", NULL);
	EXPECT_EQ(15, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.err, "activation is not served"));
	kvpctl(&a->r, &a->h, NULL, "host", "history", NULL);
	EXPECT_EQ(15, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.err, "history is off"));
	EXPECT_EQ(0, hostd_down(&a->h));

	snprintf(text, sizeof(text),
		 "[host]\nstate-dir = %s\n[activation]\nhistory = off\n"
		 "catalog = %s\n", a->state, a->catalog);
	ASSERT_EQ(0, write_text(a->config, text));
	ASSERT_EQ(0, act_start(a));
	kvpctl(&a->r, &a->h, NULL, "host", "identity", NULL);
	EXPECT_EQ(0, a->r.status);
	kvpctl(&a->r, &a->h, NULL, "host", "history", NULL);
	EXPECT_EQ(15, a->r.status);
	EXPECT_NE(NULL, strstr(a->r.err, "history is off"));
	EXPECT_FALSE(access(a->history, F_OK) == 0);
}

TEST_HARNESS_MAIN
