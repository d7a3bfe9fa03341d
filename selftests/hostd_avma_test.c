// SPDX-License-Identifier: GPL-2.0
/*
 * kvp-hostd's activation service, end to end, without vsock: the daemon
 * takes guests on a unix socket (--listen-unix) and a fake guest does what
 * kvp.ko and kvpd do on the wire: HELLO, the WELCOME announcing service 1,
 * the two NEGOTIATEs (service 0 and service 1), then activation requests
 * on service 1 (Documentation/protocol.rst section 4, avma.rst "Host").
 * Every outcome and reason of the host's decision order, the grant checked
 * with lib/grant.h, licences declared and vendor-signed, the rate limit,
 * the host key's modes, the history (replay across a restart, a corrupt
 * database) and the 12310 events (read from a socket standing in for
 * journald's).
 *
 * Environment: KVP_HOSTD names the daemon (default: the userspace build,
 * relative to selftests/); KVP_HOSTD_WRAPPER, else KVP_TEST_WRAPPER (which
 * `make run-native VALGRIND=1` sets), runs it under e.g. valgrind, and every
 * test requires the daemon to exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#include "avma.h"
#include "catalog.h"
#include "event.h"
#include "fakeguest.h"
#include "frame.h"
#include "grant.h"
#include "history.h"
#include "ic.h"
#include "msg.h"
#include "sign.h"

#define VM_NAME		"alpha"
#define LEASE		3600

/* ---- the host's files ----------------------------------------------------- */

struct host {
	char dir[64];
	char state[96];
	char guest_sock[96];
	char ctl_sock[96];
	char config[96];
	char catalog[96];
	char journal[96];
	char history[128];
	int journal_fd;		/* the events, as journald would get them */
	uint8_t vendor_pub[KVP_SIGN_PUBLIC_LEN];
	uint8_t host_pub[KVP_SIGN_PUBLIC_LEN];
	pid_t pid;
};

/*
 * The catalog's products: one line each.  Versions 1 < 2 < 3, editions
 * datacenter (lends) and standard (does not); acme-os has a vendor key.
 */
static const char *const products[] = {
	"test-os", "bare-os", "idle-os", "std-os", "acme-os",
};

#define P_TEST	0	/* declared licence: 2 datacenter, activated */
#define P_BARE	1	/* no licence */
#define P_IDLE	2	/* declared licence, not activated */
#define P_STD	3	/* declared licence of edition standard */
#define P_ACME	4	/* vendor product: licence file */

static const char *const editions[] = { "datacenter", "standard" };

/* The AVMA key of (product, version 1..3, edition): all distinct. */
static void product_key(int p, int v, int e, char key[KVP_KEY_TEXT_LEN + 1])
{
	static const char alpha[] = "BCDFGHJKMPQRTVWXY2346789";

	snprintf(key, KVP_KEY_TEXT_LEN + 1, "BCDFG-HJKMP-QRTVW-XY234-%c%c%cBB",
		 alpha[p], alpha[v], alpha[e]);
}

/*
 * The catalog, in the catalog-file format (Documentation/avma.rst
 * "Catalog files"): the one place of this test that knows it.
 */
static int write_catalog(const struct host *h)
{
	char path[160], key[KVP_KEY_TEXT_LEN + 1];
	char b64[KVP_BASE64_LEN(KVP_SIGN_PUBLIC_LEN) + 1];
	unsigned int p, v, e;
	FILE *f;

	if (mkdir(h->catalog, 0755))
		return -1;
	for (p = 0; p < ARRAY_SIZE(products); p++) {
		snprintf(path, sizeof(path), "%s/%s.conf", h->catalog,
			 products[p]);
		f = fopen(path, "w");
		if (!f)
			return -1;
		fprintf(f, "[product %s]\nname = %s\n", products[p],
			products[p]);
		for (v = 1; v <= 3; v++)
			fprintf(f, "version = %u %u\n", v, v);
		fprintf(f, "edition = datacenter lends=yes Datacenter\n"
			"edition = standard lends=no Standard\n");
		for (v = 1; v <= 3; v++)
			for (e = 0; e < 2; e++) {
				product_key(p, v, e, key);
				fprintf(f, "key = %u %s %s\n", v, editions[e],
					key);
			}
		if (p == P_ACME) {
			kvp_base64_encode(h->vendor_pub, KVP_SIGN_PUBLIC_LEN,
					  b64);
			fprintf(f, "vendor-key = %s\n", b64);
		}
		if (fclose(f))
			return -1;
	}
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static bool file_has(const char *path, const char *text)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text);
}

static int load_public(const char *path, uint8_t pub[KVP_SIGN_PUBLIC_LEN])
{
	struct kvp_signer *s;

	if (kvp_sign_load(path, &s))
		return -1;
	kvp_sign_public(s, pub);
	kvp_sign_free(s);
	return 0;
}

/*
 * The host's directory: the catalog (with a fresh vendor key), a journal
 * socket, and the host key made in advance so that licences can name it.
 */
static int host_init(struct host *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[160];

	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/hostd_avma_test.XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(h->state, sizeof(h->state), "%s/state", h->dir);
	snprintf(h->guest_sock, sizeof(h->guest_sock), "%s/guest.sock", h->dir);
	snprintf(h->ctl_sock, sizeof(h->ctl_sock), "%s/ctl.sock", h->dir);
	snprintf(h->config, sizeof(h->config), "%s/hostd.conf", h->dir);
	snprintf(h->catalog, sizeof(h->catalog), "%s/catalog", h->dir);
	snprintf(h->journal, sizeof(h->journal), "%s/journal.sock", h->dir);
	snprintf(h->history, sizeof(h->history), "%s/history.db", h->state);
	snprintf(path, sizeof(path), "%s/vendor.key", h->dir);
	if (kvp_sign_generate(path) || load_public(path, h->vendor_pub) ||
	    write_catalog(h) || mkdir(h->state, 0700))
		return -1;
	snprintf(path, sizeof(path), "%s/host.key", h->state);
	if (kvp_sign_generate(path) || load_public(path, h->host_pub))
		return -1;
	h->journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->journal);
	if (h->journal_fd < 0 ||
	    bind(h->journal_fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return 0;
}

/*
 * The config: the host's files, a lease of LEASE, and `extra` (more keys
 * of [activation] first, then sections).  The declared licences of the
 * products above come after it.
 */
static int host_config(const struct host *h, const char *activation,
		       const char *sections)
{
	char text[4096], cwd[256];

	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(text, sizeof(text),
		 "# hostd_avma_test\n[host]\nname = testhost\nstate-dir = %s\n\n"
		 "[activation]\nlease = %u\ncatalog = %s/../userspace/catalog\n"
		 "catalog = %s\njournal-socket = %s\n%s\n"
		 "[license]\nproduct = test-os\nversion = 2\n"
		 "edition = datacenter\nactivated = yes\n\n"
		 "[license]\nproduct = idle-os\nversion = 3\n"
		 "edition = datacenter\nactivated = no\n\n"
		 "[license]\nproduct = std-os\nversion = 3\n"
		 "edition = standard\nactivated = yes\n%s",
		 h->state, LEASE, cwd, h->catalog, h->journal,
		 activation ? activation : "", sections ? sections : "");
	return write_file(h->config, text);
}

/* The daemon's stderr goes to DIR/log, for the tests that read it. */
static int host_start(struct host *h)
{
	char *const args[] = {
		"-f", "--config", (char *)h->config, "--listen-unix",
		(char *)h->guest_sock, "--socket", (char *)h->ctl_sock, "--vm",
		"1000=" VM_NAME, NULL,
	};
	char log[128];

	snprintf(log, sizeof(log), "%s/log", h->dir);
	h->pid = hostd_start(args, log, h->ctl_sock);
	return h->pid > 0 ? 0 : -1;
}

/* Stops the daemon; its exit status (0: clean, and valgrind-clean). */
static int host_stop(struct host *h)
{
	int status = hostd_stop(h->pid);

	h->pid = 0;
	return status;
}

static void host_log(const struct host *h, char *path, size_t size)
{
	snprintf(path, size, "%s/log", h->dir);
}

static void host_cleanup(struct host *h)
{
	char cmd[128];

	if (h->pid > 0)
		host_stop(h);
	if (h->journal_fd > 0)
		close(h->journal_fd);
	if (getenv("KVP_TEST_KEEP"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (h->dir[0] && system(cmd))
		fprintf(stderr, "# could not remove %s\n", h->dir);
}

/* The next event 12310 the daemon logged: the datagram's text. */
static int host_event(const struct host *h, char *buf, size_t size)
{
	struct pollfd pfd = { .fd = h->journal_fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, GUEST_WAIT_MS) <= 0)
		return -1;
	n = recv(h->journal_fd, buf, size - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* ---- the fake guest ------------------------------------------------------- */

struct ask {
	int product;
	int version;		/* 1..3 */
	int edition;
	int key_version;	/* the key of another version, if set */
	const char *product_id;	/* instead of products[product] */
	const char *edition_id;
	const char *vm_name;	/* instead of "guest-says" */
	u8 nonce[KVP_AVMA_NONCE_LEN];
	u8 vm_id[KVP_AVMA_UUID_LEN];
	/* The reply. */
	struct kvp_avma_reply rep;
	u8 body[KVP_AVMA_REPLY_MAX];
	u64 id;
};

static void ask_init(struct ask *a, int product, int version)
{
	memset(a, 0, sizeof(*a));
	a->product = product;
	a->version = version;
	kvp_random(a->nonce, sizeof(a->nonce));
	memset(a->vm_id, 0x5a, sizeof(a->vm_id));
}

static size_t request_packet(const struct ask *a, u8 *pkt)
{
	struct kvp_avma_request req = { .op = KVP_AVMA_OP_ACTIVATE };

	memcpy(req.nonce, a->nonce, sizeof(req.nonce));
	memcpy(req.vm_id, a->vm_id, sizeof(req.vm_id));
	snprintf(req.product, sizeof(req.product), "%s",
		 a->product_id ? a->product_id : products[a->product]);
	snprintf(req.version, sizeof(req.version), "%d", a->version);
	snprintf(req.edition, sizeof(req.edition), "%s",
		 a->edition_id ? a->edition_id : editions[a->edition]);
	product_key(a->product, a->key_version ? a->key_version : a->version,
		    a->edition, req.key);
	snprintf(req.vm_name, sizeof(req.vm_name), "%s",
		 a->vm_name ? a->vm_name : "guest-says");
	return avma_request_packet(&req, pkt);
}

static int guest_send_request(struct guest *g, struct ask *a)
{
	u8 pkt[KVP_ICMSG_HDR_LEN + KVP_AVMA_REQUEST_LEN];

	a->id = g->next_id++;
	return send_frame(g, KVP_VSOCK_PACKET, KVP_VSOCK_SERVICE_ACTIVATION,
			  a->id, pkt, request_packet(a, pkt));
}

/* The reply to a: on its id, a RESPONSE with S_OK, a body that parses. */
static int guest_reply(struct guest *g, struct ask *a)
{
	if (guest_pump(g))
		return -1;
	return guest_avma_reply(g, a->id, a->nonce, &a->rep, a->body);
}

static int guest_ask(struct guest *g, struct ask *a)
{
	return guest_send_request(g, a) ? -1 : guest_reply(g, a);
}

/* Outcome and reason of a reply, as one number for the asserts. */
#define RESULT(outcome, reason)	((outcome) << 8 | (reason))
#define RESULT_OF(a)		RESULT((a)->rep.outcome, (a)->rep.reason)

/* A reply's grant: decodes, verifies (vendor: the catalog's key or NULL). */
static int grant_check(const struct ask *a, const uint8_t *vendor,
		       struct kvp_grant *g)
{
	if (kvp_grant_decode(a->rep.grant, a->rep.grant_len, g))
		return -1;
	return kvp_grant_verify(a->rep.grant, a->rep.grant_len, g, vendor,
				true);
}

/* ---- tests ---------------------------------------------------------------- */

FIXTURE(avma) {
	struct host h;
	struct guest g;
};

FIXTURE_SETUP(avma)
{
	ASSERT_EQ(0, host_init(&self->h));
	ASSERT_EQ(0, host_config(&self->h, NULL, NULL));
	ASSERT_EQ(0, host_start(&self->h));
	ASSERT_EQ(0, guest_connect(&self->g, self->h.guest_sock));
}

FIXTURE_TEARDOWN(avma)
{
	close(self->g.fd);
	EXPECT_EQ(0, host_stop(&self->h));
	host_cleanup(&self->h);
}

/* Success: a grant signed by the host key, for this request. */
TEST_F(avma, success_grant)
{
	char id[KVP_HOST_ID_LEN + 1], ev[4096], log[160];
	struct kvp_grant gr;
	struct ask a;
	time_t now;

	ask_init(&a, P_TEST, 2);
	now = time(NULL);
	ASSERT_EQ(0, guest_ask(&self->g, &a));
	ASSERT_EQ(RESULT(KVP_AVMA_SUCCESS, KVP_AVMA_R_NONE), RESULT_OF(&a));
	ASSERT_EQ(0, grant_check(&a, NULL, &gr));
	EXPECT_EQ(0, memcmp(gr.nonce, a.nonce, sizeof(a.nonce)));
	EXPECT_EQ(0, memcmp(gr.vm_id, a.vm_id, sizeof(a.vm_id)));
	EXPECT_EQ(0, memcmp(gr.host_key, self->h.host_pub, 32));
	EXPECT_STREQ("test-os", gr.product);
	EXPECT_STREQ("2", gr.version);
	EXPECT_STREQ("datacenter", gr.edition);
	EXPECT_STREQ("testhost", gr.host_name);
	EXPECT_FALSE(gr.has_license);
	EXPECT_LE((u64)now, gr.activated);
	EXPECT_EQ(gr.activated + LEASE, gr.expires);
	/* The event: every field of 12310. */
	ASSERT_EQ(0, host_event(&self->h, ev, sizeof(ev)));
	kvp_host_id(self->h.host_pub, id);
	EXPECT_NE(NULL, strstr(ev, KVP_EVENT_HOST_ID));
	EXPECT_NE(NULL, strstr(ev, "KVP_OUTCOME=Success"));
	EXPECT_NE(NULL, strstr(ev, "KVP_PRODUCT=test-os"));
	EXPECT_NE(NULL, strstr(ev, "KVP_VERSION=2"));
	EXPECT_NE(NULL, strstr(ev, "KVP_EDITION=datacenter"));
	EXPECT_NE(NULL, strstr(ev, id));
	EXPECT_NE(NULL, strstr(ev, "KVP_HOST_NAME=testhost"));
	EXPECT_NE(NULL, strstr(ev, "KVP_GRANT_ID="));
	EXPECT_NE(NULL, strstr(ev, "KVP_VM_ID=5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a"));
	EXPECT_NE(NULL, strstr(ev, "KVP_CID=1000"));
	/* --vm names it: hostd's name, not the one the guest sent. */
	EXPECT_NE(NULL, strstr(ev, "KVP_VM_NAME=" VM_NAME));
	/* The host id is printed at start. */
	host_log(&self->h, log, sizeof(log));
	EXPECT_TRUE(file_has(log, id));
}

/* Each refusal of the decision order, with its event. */
TEST_F(avma, refusals)
{
	static const struct {
		int product, version, edition, key_version;
		const char *product_id, *edition_id;
		u32 result;
		const char *reason;
	} cases[] = {
		{ P_TEST, 3, 0, 0, NULL, NULL,
		  RESULT(KVP_AVMA_DENIED, KVP_AVMA_R_VERSION), "version" },
		{ P_TEST, 2, 0, 1, NULL, NULL,
		  RESULT(KVP_AVMA_DENIED, KVP_AVMA_R_KEY), "key" },
		{ P_TEST, 2, 0, 0, "nope-os", NULL,
		  RESULT(KVP_AVMA_DENIED, KVP_AVMA_R_PRODUCT), "product" },
		{ P_TEST, 2, 0, 0, NULL, "enterprise",
		  RESULT(KVP_AVMA_DENIED, KVP_AVMA_R_PRODUCT), "product" },
		{ P_BARE, 1, 0, 0, NULL, NULL,
		  RESULT(KVP_AVMA_INVALID_HOST, KVP_AVMA_R_NO_LICENCE),
		  "no-licence" },
		{ P_IDLE, 1, 0, 0, NULL, NULL,
		  RESULT(KVP_AVMA_INVALID_HOST, KVP_AVMA_R_NOT_ACTIVATED),
		  "not-activated" },
		{ P_STD, 1, 1, 0, NULL, NULL,
		  RESULT(KVP_AVMA_INVALID_HOST, KVP_AVMA_R_HOST_EDITION),
		  "host-edition" },
		/* No licence for the vendor product in this config. */
		{ P_ACME, 1, 0, 0, NULL, NULL,
		  RESULT(KVP_AVMA_INVALID_HOST, KVP_AVMA_R_NO_LICENCE),
		  "no-licence" },
	};
	char ev[4096], want[64];
	unsigned int i;
	struct ask a;

	/* A fresh connection, so a fresh CID, for each: the rate limit. */
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ask_init(&a, cases[i].product, cases[i].version);
		a.edition = cases[i].edition;
		a.key_version = cases[i].key_version;
		a.product_id = cases[i].product_id;
		a.edition_id = cases[i].edition_id;
		if (i) {
			close(self->g.fd);
			ASSERT_EQ(0, guest_connect(&self->g, self->h.guest_sock));
		}
		ASSERT_EQ(0, guest_ask(&self->g, &a));
		EXPECT_EQ(cases[i].result, RESULT_OF(&a)) {
			TH_LOG("case %u: outcome %u reason %u", i,
			       a.rep.outcome, a.rep.reason);
		}
		EXPECT_EQ(0, a.rep.grant_len);
		ASSERT_EQ(0, host_event(&self->h, ev, sizeof(ev)));
		snprintf(want, sizeof(want), "KVP_REASON=%s", cases[i].reason);
		EXPECT_NE(NULL, strstr(ev, want));
	}
}

/* The same nonce again: Invalid Data / replay. */
TEST_F(avma, replayed_nonce)
{
	struct ask a, b;

	ask_init(&a, P_TEST, 2);
	ASSERT_EQ(0, guest_ask(&self->g, &a));
	ASSERT_EQ(KVP_AVMA_SUCCESS, a.rep.outcome);
	ask_init(&b, P_TEST, 1);
	memcpy(b.nonce, a.nonce, sizeof(a.nonce));
	ASSERT_EQ(0, guest_ask(&self->g, &b));
	EXPECT_EQ(RESULT(KVP_AVMA_INVALID_DATA, KVP_AVMA_R_REPLAY),
		  RESULT_OF(&b));
	EXPECT_EQ(0, b.rep.grant_len);
}

/*
 * Garbage on service 1 is dropped unanswered; the connection stays and the
 * next request is answered on its own id (so nothing came for the others).
 */
TEST_F(avma, malformed_dropped)
{
	u8 pkt[KVP_ICMSG_HDR_LEN + KVP_AVMA_REQUEST_LEN];
	char log[160];
	struct ask a;
	size_t len;

	ask_init(&a, P_TEST, 2);
	len = request_packet(&a, pkt);
	/* Too short for an IC header. */
	ASSERT_EQ(0, send_frame(&self->g, KVP_VSOCK_PACKET, 1, 100, pkt, 10));
	/* A body with an unknown op. */
	pkt[KVP_ICMSG_HDR_LEN] = 9;
	ASSERT_EQ(0, send_frame(&self->g, KVP_VSOCK_PACKET, 1, 101, pkt, len));
	/* A text field without its NUL. */
	pkt[KVP_ICMSG_HDR_LEN] = KVP_AVMA_OP_ACTIVATE;
	memset(pkt + KVP_ICMSG_HDR_LEN + KVP_AVMA_REQ_OFF_PRODUCT, 'x',
	       KVP_AVMA_PRODUCT_LEN);
	ASSERT_EQ(0, send_frame(&self->g, KVP_VSOCK_PACKET, 1, 102, pkt, len));
	/* A reply where a request belongs. */
	request_packet(&a, pkt);
	pkt[KVP_IC_OFF_FLAGS] = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE;
	ASSERT_EQ(0, send_frame(&self->g, KVP_VSOCK_PACKET, 1, 103, pkt, len));
	/* The wrong body length. */
	request_packet(&a, pkt);
	kvp_put_le16(pkt + KVP_IC_OFF_SIZE, KVP_AVMA_REQUEST_LEN - 1);
	ASSERT_EQ(0, send_frame(&self->g, KVP_VSOCK_PACKET, 1, 104, pkt, len));
	/* Still served, and the reply is this one's. */
	ASSERT_EQ(0, guest_ask(&self->g, &a));
	EXPECT_EQ(RESULT(KVP_AVMA_SUCCESS, KVP_AVMA_R_NONE), RESULT_OF(&a));
	host_log(&self->h, log, sizeof(log));
	EXPECT_TRUE(file_has(log, "activation packet 100 dropped, not answered"));
}

/* The host key: 0600 in a 0700 directory nobody else may enter. */
TEST(host_key_private)
{
	char key[160];
	struct host h;
	struct stat st;
	pid_t pid;
	int status;

	ASSERT_EQ(0, host_init(&h));
	/* Made by the daemon this time: no key, no state directory. */
	snprintf(key, sizeof(key), "%s/host.key", h.state);
	ASSERT_EQ(0, unlink(key));
	ASSERT_EQ(0, rmdir(h.state));
	ASSERT_EQ(0, host_config(&h, NULL, NULL));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(0, stat(h.state, &st));
	EXPECT_EQ(040700, st.st_mode & 0170777);
	ASSERT_EQ(0, stat(key, &st));
	EXPECT_EQ(0100600, st.st_mode & 0170777);
	EXPECT_EQ(0, host_stop(&h));
	/* An unprivileged user can read neither. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(open(key, O_RDONLY) < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The same identity on the next start. */
	ASSERT_EQ(0, load_public(key, h.host_pub));
	ASSERT_EQ(0, host_start(&h));
	EXPECT_EQ(0, host_stop(&h));
	{
		uint8_t again[KVP_SIGN_PUBLIC_LEN];

		ASSERT_EQ(0, load_public(key, again));
		EXPECT_EQ(0, memcmp(again, h.host_pub, sizeof(again)));
	}
	host_cleanup(&h);
}

/* Writes a licence for acme-os, signed by `vendor`, naming `host_pub`. */
static int write_license(const struct host *h, const char *vendor_key,
			 const uint8_t *host_pub, u64 not_after,
			 const char *name)
{
	struct kvp_license lic = { .issued = (u64)time(NULL),
				   .not_after = not_after };
	char b64[KVP_BASE64_LEN(KVP_LICENSE_LEN) + 2], path[160];
	u8 raw[KVP_LICENSE_LEN];
	struct kvp_signer *v;
	int err;

	snprintf(lic.product, sizeof(lic.product), "acme-os");
	snprintf(lic.version, sizeof(lic.version), "2");
	snprintf(lic.edition, sizeof(lic.edition), "datacenter");
	memcpy(lic.host_key, host_pub, KVP_SIGN_PUBLIC_LEN);
	if (kvp_sign_load(vendor_key, &v))
		return -1;
	err = kvp_license_sign(&lic, v, raw);
	kvp_sign_free(v);
	if (err)
		return -1;
	kvp_base64_encode(raw, sizeof(raw), b64);
	strcat(b64, "\n");
	snprintf(path, sizeof(path), "%s/%s", h->dir, name);
	return write_file(path, b64);
}

static int license_config(const struct host *h, const char *name)
{
	char section[256];

	snprintf(section, sizeof(section), "\n[license]\nfile = %s/%s\n",
		 h->dir, name);
	return host_config(h, NULL, section);
}

/* A vendor-signed licence for this host: granted, the licence in the grant. */
TEST(vendor_license_good)
{
	char vendor[160];
	u64 not_after;
	struct kvp_grant gr;
	struct guest g;
	struct host h;
	struct ask a;

	ASSERT_EQ(0, host_init(&h));
	snprintf(vendor, sizeof(vendor), "%s/vendor.key", h.dir);
	ASSERT_EQ(0, write_license(&h, vendor, h.host_pub, 0, "acme.lic"));
	ASSERT_EQ(0, license_config(&h, "acme.lic"));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(0, guest_connect(&g, h.guest_sock));
	ask_init(&a, P_ACME, 1);
	ASSERT_EQ(0, guest_ask(&g, &a));
	ASSERT_EQ(RESULT(KVP_AVMA_SUCCESS, KVP_AVMA_R_NONE), RESULT_OF(&a));
	ASSERT_EQ(0, grant_check(&a, h.vendor_pub, &gr));
	EXPECT_TRUE(gr.has_license);
	EXPECT_EQ(0, memcmp(gr.license.host_key, h.host_pub, 32));
	EXPECT_EQ(0, memcmp(gr.license.vendor_key, h.vendor_pub, 32));
	/* The licence lends version 2 at most. */
	ask_init(&a, P_ACME, 3);
	ASSERT_EQ(0, guest_ask(&g, &a));
	EXPECT_EQ(RESULT(KVP_AVMA_DENIED, KVP_AVMA_R_VERSION), RESULT_OF(&a));
	close(g.fd);
	EXPECT_EQ(0, host_stop(&h));

	/* A licence ending within the lease: the lease ends with it. */
	not_after = (u64)time(NULL) + LEASE / 2;
	ASSERT_EQ(0, write_license(&h, vendor, h.host_pub, not_after,
				   "acme-short.lic"));
	ASSERT_EQ(0, license_config(&h, "acme-short.lic"));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(0, guest_connect(&g, h.guest_sock));
	ask_init(&a, P_ACME, 1);
	ASSERT_EQ(0, guest_ask(&g, &a));
	ASSERT_EQ(RESULT(KVP_AVMA_SUCCESS, KVP_AVMA_R_NONE), RESULT_OF(&a));
	ASSERT_EQ(0, grant_check(&a, h.vendor_pub, &gr));
	EXPECT_EQ(not_after, gr.expires);
	close(g.fd);
	EXPECT_EQ(0, host_stop(&h));
	host_cleanup(&h);
}

/*
 * Licences that do not hold: signed by another vendor key, issued to
 * another host, expired.  Each logged at start, not used: licence-invalid.
 */
TEST(vendor_license_bad)
{
	static const char *const why[] = {
		"not signed by the vendor key", "issued to host", "expired",
	};
	char other[160], vendor[160], log[160];
	uint8_t other_pub[KVP_SIGN_PUBLIC_LEN];
	struct guest g;
	struct host h;
	struct ask a;
	int i, err;

	ASSERT_EQ(0, host_init(&h));
	snprintf(vendor, sizeof(vendor), "%s/vendor.key", h.dir);
	snprintf(other, sizeof(other), "%s/other.key", h.dir);
	ASSERT_EQ(0, kvp_sign_generate(other));
	ASSERT_EQ(0, load_public(other, other_pub));
	host_log(&h, log, sizeof(log));
	for (i = 0; i < 3; i++) {
		if (i == 0)
			err = write_license(&h, other, h.host_pub, 0, "bad.lic");
		else if (i == 1)
			err = write_license(&h, vendor, other_pub, 0, "bad.lic");
		else
			err = write_license(&h, vendor, h.host_pub,
					    (u64)time(NULL) - 10, "bad.lic");
		ASSERT_EQ(0, err);
		ASSERT_EQ(0, license_config(&h, "bad.lic"));
		ASSERT_EQ(0, host_start(&h));
		ASSERT_EQ(0, guest_connect(&g, h.guest_sock));
		ask_init(&a, P_ACME, 1);
		ASSERT_EQ(0, guest_ask(&g, &a));
		EXPECT_EQ(RESULT(KVP_AVMA_INVALID_HOST,
				 KVP_AVMA_R_LICENCE_INVALID), RESULT_OF(&a));
		close(g.fd);
		EXPECT_EQ(0, host_stop(&h));
		EXPECT_TRUE(file_has(log, why[i])) {
			TH_LOG("case %d: no '%s' in the log", i, why[i]);
		}
	}
	host_cleanup(&h);
}

/* One guest flooding is refused host-busy; another is served. */
TEST(rate_limit_per_cid)
{
	struct guest g1, g2;
	struct host h;
	struct ask a;
	int i;

	ASSERT_EQ(0, host_init(&h));
	ASSERT_EQ(0, host_config(&h, "rate-burst = 2\nrate-interval = 1d\n",
				 NULL));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(0, guest_connect(&g1, h.guest_sock));
	ASSERT_EQ(0, guest_connect(&g2, h.guest_sock));
	for (i = 0; i < 2; i++) {
		ask_init(&a, P_TEST, 2);
		ASSERT_EQ(0, guest_ask(&g1, &a));
		EXPECT_EQ(KVP_AVMA_SUCCESS, a.rep.outcome);
	}
	for (i = 0; i < 20; i++) {
		ask_init(&a, P_TEST, 2);
		ASSERT_EQ(0, guest_ask(&g1, &a));
		EXPECT_EQ(RESULT(KVP_AVMA_INVALID_HOST, KVP_AVMA_R_HOST_BUSY),
			  RESULT_OF(&a));
	}
	ask_init(&a, P_TEST, 2);
	ASSERT_EQ(0, guest_ask(&g2, &a));
	EXPECT_EQ(RESULT(KVP_AVMA_SUCCESS, KVP_AVMA_R_NONE), RESULT_OF(&a));
	/* Reconnecting does not refill the first one's bucket. */
	close(g1.fd);
	ask_init(&a, P_TEST, 2);
	ASSERT_EQ(0, guest_ask(&g2, &a));
	EXPECT_EQ(KVP_AVMA_SUCCESS, a.rep.outcome);
	close(g2.fd);
	EXPECT_EQ(0, host_stop(&h));
	host_cleanup(&h);
}

/* A nonce granted before a restart is still a replay: the history has it. */
TEST(replay_after_restart)
{
	struct guest g;
	struct host h;
	struct ask a, b;

	ASSERT_EQ(0, host_init(&h));
	ASSERT_EQ(0, host_config(&h, NULL, NULL));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(0, guest_connect(&g, h.guest_sock));
	ask_init(&a, P_TEST, 2);
	ASSERT_EQ(0, guest_ask(&g, &a));
	ASSERT_EQ(KVP_AVMA_SUCCESS, a.rep.outcome);
	close(g.fd);
	EXPECT_EQ(0, host_stop(&h));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(0, guest_connect(&g, h.guest_sock));
	ask_init(&b, P_TEST, 2);
	memcpy(b.nonce, a.nonce, sizeof(a.nonce));
	ASSERT_EQ(0, guest_ask(&g, &b));
	EXPECT_EQ(RESULT(KVP_AVMA_INVALID_DATA, KVP_AVMA_R_REPLAY),
		  RESULT_OF(&b));
	close(g.fd);
	EXPECT_EQ(0, host_stop(&h));
	host_cleanup(&h);
}

/*
 * A corrupt history: granting goes on with history-required = no, and is
 * refused host-busy with yes; the file is never touched.
 */
TEST(corrupt_history)
{
	static const char garbage[] = "this is not an SQLite database\n";
	char text[4096], log[160];
	struct stat before, after;
	struct guest g;
	struct host h;
	struct ask a;
	int i, required;

	ASSERT_EQ(0, host_init(&h));
	text[0] = '\0';
	for (i = 0; i < 64; i++)
		strcat(text, garbage);
	ASSERT_EQ(0, write_file(h.history, text));
	ASSERT_EQ(0, stat(h.history, &before));
	host_log(&h, log, sizeof(log));
	for (required = 0; required < 2; required++) {
		ASSERT_EQ(0, host_config(&h, required ?
					 "history-required = yes\n" :
					 "history-required = no\n", NULL));
		ASSERT_EQ(0, host_start(&h));
		ASSERT_EQ(0, guest_connect(&g, h.guest_sock));
		ask_init(&a, P_TEST, 2);
		ASSERT_EQ(0, guest_ask(&g, &a));
		EXPECT_EQ(required ?
			  RESULT(KVP_AVMA_INVALID_HOST, KVP_AVMA_R_HOST_BUSY) :
			  RESULT(KVP_AVMA_SUCCESS, KVP_AVMA_R_NONE),
			  RESULT_OF(&a));
		close(g.fd);
		EXPECT_EQ(0, host_stop(&h));
	}
	EXPECT_TRUE(file_has(log, "cannot be opened"));
	ASSERT_EQ(0, stat(h.history, &after));
	EXPECT_EQ(before.st_size, after.st_size);
	EXPECT_EQ(before.st_mtime, after.st_mtime);
	EXPECT_TRUE(file_has(h.history, garbage));
	host_cleanup(&h);
}

struct rows {
	struct kvp_history_row r[8];
	int n;
};

static int collect_row(const struct kvp_history_row *row, void *arg)
{
	struct rows *rows = arg;

	if (rows->n < (int)ARRAY_SIZE(rows->r))
		rows->r[rows->n] = *row;
	rows->n++;
	return 0;
}

static const struct kvp_history_row *find_row(const struct rows *rows,
					      const u8 *nonce, u32 reason)
{
	int i;

	for (i = 0; i < rows->n && i < (int)ARRAY_SIZE(rows->r); i++)
		if (!memcmp(rows->r[i].nonce, nonce, KVP_AVMA_NONCE_LEN) &&
		    rows->r[i].reason == reason)
			return &rows->r[i];
	return NULL;
}

/*
 * One history row per request that parsed, none for garbage: what was
 * asked, the decision, the grant, and whose VM (--vm's name, else the
 * name the guest sent, its control characters and bytes that are not
 * UTF-8 made '?').
 */
TEST(history_rows)
{
	static const char vm_id[] = "5a5a5a5a-5a5a-5a5a-5a5a-5a5a5a5a5a5a";
	char error[256], grant_id[37];
	struct kvp_history *hist;
	struct guest g, g2;
	struct kvp_grant gr;
	struct rows rows = { .n = 0 };
	const struct kvp_history_row *r0, *r1, *r3;
	struct host h;
	struct ask a, b, c, d;
	u8 junk[4] = { 1, 2, 3, 4 };

	ASSERT_EQ(0, host_init(&h));
	ASSERT_EQ(0, host_config(&h, NULL, NULL));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(0, guest_connect(&g, h.guest_sock));
	ASSERT_EQ(0, guest_connect(&g2, h.guest_sock));
	ask_init(&a, P_TEST, 2);
	ASSERT_EQ(0, guest_ask(&g, &a));
	ASSERT_EQ(KVP_AVMA_SUCCESS, a.rep.outcome);
	ASSERT_EQ(0, grant_check(&a, NULL, &gr));
	kvp_uuid_format(gr.id, grant_id);
	ASSERT_EQ(0, send_frame(&g, KVP_VSOCK_PACKET, 1, 77, junk, 4));
	ask_init(&b, P_BARE, 1);
	ASSERT_EQ(0, guest_ask(&g, &b));
	ask_init(&c, P_TEST, 2);
	memcpy(c.nonce, a.nonce, sizeof(a.nonce));
	ASSERT_EQ(0, guest_ask(&g, &c));
	ask_init(&d, P_TEST, 1);
	d.vm_name = "guest\nsays\xff";
	ASSERT_EQ(0, guest_ask(&g2, &d));
	close(g.fd);
	close(g2.fd);
	EXPECT_EQ(0, host_stop(&h));

	ASSERT_EQ(0, kvp_history_open(&hist, h.history, error, sizeof(error)));
	ASSERT_EQ(0, kvp_history_each(hist, NULL, 0, collect_row, &rows));
	kvp_history_close(hist);
	ASSERT_EQ(4, rows.n);
	/* Rows of one second may come in any order: found by nonce. */
	r0 = find_row(&rows, a.nonce, KVP_AVMA_R_NONE);
	r1 = find_row(&rows, b.nonce, KVP_AVMA_R_NO_LICENCE);
	r3 = find_row(&rows, d.nonce, KVP_AVMA_R_NONE);
	ASSERT_NE(NULL, r0);
	ASSERT_NE(NULL, r1);
	ASSERT_NE(NULL, find_row(&rows, a.nonce, KVP_AVMA_R_REPLAY));
	ASSERT_NE(NULL, r3);
	EXPECT_EQ(KVP_AVMA_SUCCESS, r0->outcome);
	EXPECT_STREQ(grant_id, r0->grant_id);
	EXPECT_EQ(gr.expires, r0->expires);
	EXPECT_STREQ(vm_id, r0->vm_id);
	EXPECT_STREQ(VM_NAME, r0->vm_name);
	EXPECT_EQ(1000, r0->cid);
	EXPECT_STREQ("test-os", r0->product);
	EXPECT_STREQ("2", r0->version);
	EXPECT_STREQ("datacenter", r0->edition);
	EXPECT_EQ(KVP_AVMA_INVALID_HOST, r1->outcome);
	EXPECT_STREQ("", r1->grant_id);
	EXPECT_EQ(0, r1->expires);
	EXPECT_EQ(KVP_AVMA_SUCCESS, r3->outcome);
	EXPECT_EQ(1001, r3->cid);
	EXPECT_STREQ("guest?says?", r3->vm_name);
	host_cleanup(&h);
}

/*
 * A guest that refuses the activation versions: activation is off on that
 * connection (its requests are dropped), the KVP exchange goes on.  The
 * host items it answers keep the order: the next item only comes once the
 * daemon has taken, and dropped, the request sent before the reply.
 */
TEST(activation_negotiation_refused)
{
	static const u32 v2[] = { KVP_VERSION(2, 0) };
	const struct kvp_ic_versions none = { .list = v2, .count = 1 };
	struct kvp_ic_hdr hdr;
	char log[160];
	struct guest g;
	struct host h;
	struct ask a;
	u32 fw, msg;
	int items = 0;

	ASSERT_EQ(0, host_init(&h));
	ASSERT_EQ(0, host_config(&h, NULL, NULL));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(GUEST_BOTH, guest_hello(&g, h.guest_sock,
					  KVP_VSOCK_VERSION_MAX, GUEST_BOTH));
	ask_init(&a, P_TEST, 2);
	while (items < 2) {
		ASSERT_EQ(0, recv_frame(&g));
		ASSERT_EQ(0, kvp_ic_parse(g.pkt, g.frame.length, &hdr));
		if (g.frame.service == KVP_VSOCK_SERVICE_ACTIVATION) {
			/* Only the NEGOTIATE: never a reply. */
			ASSERT_EQ(KVP_IC_TYPE_NEGOTIATE, hdr.type);
			EXPECT_EQ(-EPROTO, kvp_ic_negotiate(g.pkt, g.frame.length,
							    &none, &fw, &msg));
		} else if (hdr.type == KVP_IC_TYPE_NEGOTIATE) {
			ASSERT_EQ(0, kvp_ic_negotiate(g.pkt, g.frame.length,
						      &kvp_msg_versions, &fw,
						      &msg));
			kvp_ic_parse(g.pkt, g.frame.length, &hdr);
			g.frame.length = KVP_ICMSG_HDR_LEN + hdr.size;
		} else if (!items++) {
			/* The first host item: the request goes first. */
			ASSERT_EQ(0, guest_send_request(&g, &a));
		}
		kvp_ic_set_reply(g.pkt, KVP_S_OK);
		ASSERT_EQ(0, send_frame(&g, KVP_VSOCK_PACKET, g.frame.service,
					g.frame.id, g.pkt, g.frame.length));
	}
	host_log(&h, log, sizeof(log));
	EXPECT_TRUE(file_has(log, "bad NEGOTIATE reply"));
	EXPECT_TRUE(file_has(log, "activation not negotiated"));
	close(g.fd);
	EXPECT_EQ(0, host_stop(&h));
	host_cleanup(&h);
}

/*
 * The KVP exchange of a guest that has no activation: answers NEGOTIATE and
 * the first two host items on service 0.  The host sends its activation
 * NEGOTIATE right after the KVP one, so had it one for this guest it would
 * come before those items: false if anything comes on another service.
 */
static bool kvp_only(struct guest *g)
{
	struct kvp_ic_hdr hdr;
	int items = 0;
	u32 fw, msg;

	while (items < 2) {
		if (recv_frame(g) || g->frame.type != KVP_VSOCK_PACKET ||
		    g->frame.version != g->version ||
		    g->frame.service != KVP_VSOCK_SERVICE_KVP ||
		    kvp_ic_parse(g->pkt, g->frame.length, &hdr))
			return false;
		if (hdr.type == KVP_IC_TYPE_NEGOTIATE) {
			if (kvp_ic_negotiate(g->pkt, g->frame.length,
					     &kvp_msg_versions, &fw, &msg))
				return false;
			kvp_ic_parse(g->pkt, g->frame.length, &hdr);
			g->frame.length = KVP_ICMSG_HDR_LEN + hdr.size;
		} else {
			items++;
		}
		kvp_ic_set_reply(g->pkt, KVP_S_OK);
		if (send_frame(g, KVP_VSOCK_PACKET, 0, g->frame.id, g->pkt,
			       g->frame.length))
			return false;
	}
	return true;
}

/* enabled = no: WELCOME announces the KVP exchange alone. */
TEST(activation_off)
{
	struct guest g;
	struct host h;

	ASSERT_EQ(0, host_init(&h));
	ASSERT_EQ(0, host_config(&h, "enabled = no\n", NULL));
	ASSERT_EQ(0, host_start(&h));
	ASSERT_EQ(1U << KVP_VSOCK_SERVICE_KVP,
		  guest_hello(&g, h.guest_sock, KVP_VSOCK_VERSION_MAX,
			      GUEST_BOTH));
	EXPECT_TRUE(kvp_only(&g));
	close(g.fd);
	EXPECT_EQ(0, host_stop(&h));
	host_cleanup(&h);
}

/*
 * Guests that do not speak activation, on a host that serves it: one of
 * framing version 2 (whose HELLO cannot say; its WELCOME is of version 2),
 * one of version 3 naming the KVP exchange alone.  Each gets a WELCOME of
 * service 0 only and nothing on service 1, and the KVP exchange works;
 * a frame of theirs on service 1 drops them.
 */
TEST(activation_not_spoken)
{
	static const u16 versions[] = { 2, 3 };
	struct guest g;
	struct host h;
	char log[160];
	unsigned int i;
	int err;

	ASSERT_EQ(0, host_init(&h));
	ASSERT_EQ(0, host_config(&h, NULL, NULL));
	ASSERT_EQ(0, host_start(&h));
	for (i = 0; i < ARRAY_SIZE(versions); i++) {
		ASSERT_EQ(1U << KVP_VSOCK_SERVICE_KVP,
			  guest_hello(&g, h.guest_sock, versions[i],
				      1U << KVP_VSOCK_SERVICE_KVP));
		EXPECT_EQ(versions[i], g.frame.version);
		EXPECT_TRUE(kvp_only(&g));
		ASSERT_EQ(0, send_frame(&g, KVP_VSOCK_PACKET,
					KVP_VSOCK_SERVICE_ACTIVATION, 1,
					g.pkt, g.frame.length));
		/* The next host item may come first, nothing else. */
		do {
			err = recv_frame(&g);
		} while (!err && g.frame.service == KVP_VSOCK_SERVICE_KVP);
		EXPECT_EQ(-ECONNRESET, err);
		close(g.fd);
	}
	host_log(&h, log, sizeof(log));
	EXPECT_TRUE(file_has(log, "packet on service 1, not announced"));
	EXPECT_EQ(0, host_stop(&h));
	host_cleanup(&h);
}

/* A config fault stops the daemon with FILE:LINE. */
TEST(config_errors)
{
	static const char *const bad[] = {
		"[activation]\nlease = 0\n",
		"[activation]\nhistory-required = maybe\n",
		"[activation]\nstate-dir = /tmp\n",
		"[nonsense]\n",
		"[license]\nproduct = test-os\n",
		"[license]\nfile = /x\nproduct = test-os\n",
		"[host]\nstate-dir = relative\n",
		"[activation]\nhistory = off\nhistory-required = yes\n",
	};
	char log[160];
	struct host h;
	unsigned int i;

	ASSERT_EQ(0, host_init(&h));
	host_log(&h, log, sizeof(log));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(0, write_file(h.config, bad[i]));
		EXPECT_NE(0, host_start(&h)) {
			TH_LOG("config %u started", i);
			host_stop(&h);
		}
	}
	EXPECT_TRUE(file_has(log, "hostd.conf:2: lease"));
	EXPECT_TRUE(file_has(log, "hostd.conf:1: unknown section [nonsense]"));
	host_cleanup(&h);
}

TEST_HARNESS_MAIN
