// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's licence state and activation procedure (userspace/lib/
 * license.c), natively: a fake host answers through the exchange function
 * with grants signed by real keys, and each way a reply can be wrong must
 * give its outcome and reason, leave the state as documented, and be
 * logged (event 12309 to a journal socket of the test's, license.events).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "catalog.h"
#include "event.h"
#include "grant.h"
#include "license.h"
#include "pool_helpers.h"
#include "sign.h"

#define KEY_TEST	"BCDFG-HJKMP-QRTVW-XY234-6789B"	/* testos v2 datacenter */
#define KEY_TEST_STD	"CDFGH-JKMPQ-RTVWX-Y2346-789BC"	/* testos v2 standard */
#define KEY_VENDOR	"DFGHJ-KMPQR-TVWXY-23467-89BCD"	/* vendoros v2 datacenter */
#define KEY_RETAIL	"FGHJK-MPQRT-VWXY2-34678-9BCDF"	/* in no catalog */
#define LEASE		604800

enum fake_mode {
	FAKE_OK,
	FAKE_ERRNO,		/* the exchange fails with fake.err */
	FAKE_REFUSE,		/* the host says fake.outcome, fake.reason */
	FAKE_GARBAGE,		/* a reply that does not parse */
	FAKE_REPLY_NONCE,	/* the reply names another nonce */
	FAKE_GRANT_NONCE,	/* the grant does */
	FAKE_OTHER_VM,
	FAKE_MISMATCH,		/* the grant is for another edition */
	FAKE_BAD_SIG,		/* the grant's signature is broken */
	FAKE_NO_LEASE,		/* expires == activated */
	FAKE_ENDED,		/* a lease that ended before it came */
};

struct fake_host {
	enum fake_mode mode;
	int err;
	uint16_t outcome;
	uint32_t reason;
	struct kvp_signer *key;
	bool with_licence;
	uint8_t licence[KVP_LICENSE_LEN];
	int calls;
	struct kvp_avma_request req;	/* the last one */
	uint8_t grant_id[16];		/* of the last grant */
};

static int fake_exchange(void *arg, const uint8_t *request, size_t len,
			 uint8_t *reply, size_t cap)
{
	struct kvp_avma_reply rep = { .op = KVP_AVMA_OP_ACTIVATE };
	uint8_t grant[KVP_GRANT_MAX_LEN];
	struct fake_host *h = arg;
	struct kvp_grant g;
	int n;

	h->calls++;
	if (cap < KVP_AVMA_REPLY_MAX ||
	    kvp_avma_request_parse(request, len, &h->req))
		return -EPROTO;	/* the procedure's fault: tests see it */
	if (h->mode == FAKE_ERRNO)
		return -h->err;
	if (h->mode == FAKE_GARBAGE) {
		memset(reply, 0xa5, 40);
		return 40;
	}
	memcpy(rep.nonce, h->req.nonce, sizeof(rep.nonce));
	if (h->mode == FAKE_REPLY_NONCE)
		rep.nonce[3] ^= 1;
	if (h->mode == FAKE_REFUSE) {
		rep.outcome = h->outcome;
		rep.reason = h->reason;
		return kvp_avma_reply_build(reply, &rep);
	}
	memset(&g, 0, sizeof(g));
	kvp_random(g.id, sizeof(g.id));
	memcpy(h->grant_id, g.id, sizeof(g.id));
	memcpy(g.vm_id, h->req.vm_id, sizeof(g.vm_id));
	memcpy(g.nonce, h->req.nonce, sizeof(g.nonce));
	g.activated = time(NULL);
	g.expires = h->mode == FAKE_NO_LEASE ? g.activated :
					       g.activated + LEASE;
	if (h->mode == FAKE_ENDED) {
		g.activated -= 2 * LEASE;
		g.expires = g.activated + LEASE;
	}
	strcpy(g.product, h->req.product);
	strcpy(g.version, h->req.version);
	strcpy(g.edition, h->mode == FAKE_MISMATCH ? "standard" :
						     h->req.edition);
	strcpy(g.host_name, "host-a");
	if (h->mode == FAKE_GRANT_NONCE)
		g.nonce[0] ^= 1;
	if (h->mode == FAKE_OTHER_VM)
		g.vm_id[15] ^= 1;
	g.has_license = h->with_licence;
	if (h->with_licence &&
	    kvp_license_decode(h->licence, KVP_LICENSE_LEN, &g.license))
		return -EPROTO;
	n = kvp_grant_sign(&g, h->key, grant, sizeof(grant));
	if (n < 0)
		return -EPROTO;
	if (h->mode == FAKE_BAD_SIG)
		grant[n - 1] ^= 0x40;
	rep.grant = grant;
	rep.grant_len = n;
	return kvp_avma_reply_build(reply, &rep);
}

FIXTURE(lic) {
	char dir[64];
	char path[96];
	char journal_path[100];
	int journal;
	struct kvp_signer *host, *vendor, *other;
	struct kvp_catalog *catalog;
	struct fake_host fake;
	struct kvp_guest_activation act;
};

static struct kvp_signer *make_key(const char *dir, const char *name)
{
	struct kvp_signer *s = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (kvp_sign_generate(path) || kvp_sign_load(path, &s))
		return NULL;
	return s;
}

static int write_catalogs(const char *dir, struct kvp_signer *vendor)
{
	char path[128], text[1024], b64[KVP_BASE64_LEN(32) + 1];
	uint8_t pub[KVP_SIGN_PUBLIC_LEN];
	const char *body =
		"version = v1 One\nversion = v2 Two\nversion = v3 Three\n"
		"edition = datacenter lends=yes Datacenter\n"
		"edition = standard lends=no Standard\n";
	int n;

	snprintf(path, sizeof(path), "%s/testos.conf", dir);
	n = snprintf(text, sizeof(text),
		     "[product testos]\nname = Test OS\n%s"
		     "key = v2 datacenter " KEY_TEST "\n"
		     "key = v2 standard " KEY_TEST_STD "\n", body);
	if (write_file(path, text, n))
		return -1;
	kvp_sign_public(vendor, pub);
	kvp_base64_encode(pub, sizeof(pub), b64);
	snprintf(path, sizeof(path), "%s/vendoros.conf", dir);
	n = snprintf(text, sizeof(text),
		     "[product vendoros]\nname = Vendor OS\nvendor-key = %s\n%s"
		     "key = v2 datacenter " KEY_VENDOR "\n", b64, body);
	return write_file(path, text, n);
}

static int bind_journal(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return fd;
}

FIXTURE_SETUP(lic)
{
	const char *dirs[2];
	char error[256] = "";

	ASSERT_EQ(0, pool_dir_make(self->dir, self->path));
	self->host = make_key(self->dir, "host.key");
	self->vendor = make_key(self->dir, "vendor.key");
	self->other = make_key(self->dir, "other.key");
	ASSERT_TRUE(self->host && self->vendor && self->other);
	ASSERT_EQ(0, write_catalogs(self->dir, self->vendor));
	dirs[0] = self->dir;
	dirs[1] = NULL;
	ASSERT_EQ(0, kvp_catalog_load(&self->catalog, dirs, error,
				      sizeof(error))) TH_LOG("%s", error);
	snprintf(self->journal_path, sizeof(self->journal_path),
		 "%s/journal.sock", self->dir);
	self->journal = bind_journal(self->journal_path);
	ASSERT_LE(0, self->journal);
	self->fake.key = self->host;
	self->act.dir = self->dir;
	self->act.catalog = self->catalog;
	memset(self->act.vm_id, 0x11, sizeof(self->act.vm_id));
	strcpy(self->act.vm_name, "guest-1");
	self->act.exchange = fake_exchange;
	self->act.arg = &self->fake;
	self->act.event_socket = self->journal_path;
}

FIXTURE_TEARDOWN(lic)
{
	close(self->journal);
	kvp_catalog_free(self->catalog);
	kvp_sign_free(self->host);
	kvp_sign_free(self->vendor);
	kvp_sign_free(self->other);
	pool_dir_remove(self->dir);
}

/* The next event 12309 the procedure sent to the test's journal. */
static int next_event(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int install(struct __test_metadata *_metadata, const char *dir,
		   const struct kvp_catalog *catalog, const char *key)
{
	char error[256] = "";
	struct kvp_guest g;
	int err;

	err = kvp_guest_install_key(dir, catalog, key, &g, error,
				    sizeof(error));
	if (err)
		TH_LOG("install %s: %d %s", key, err, error);
	return err;
}

/* One activation that must be an attempt: its outcome, and the reason. */
static uint32_t activate(struct __test_metadata *_metadata,
			 const struct kvp_guest_activation *act,
			 uint32_t *reason, struct kvp_guest *g)
{
	char error[256] = "";
	uint32_t outcome = 99;
	int err;

	err = kvp_guest_activate(act, &outcome, reason, g, error,
				 sizeof(error));
	if (err) {
		TH_LOG("activate: %d %s", err, error);
		return 100;
	}
	return outcome;
}

static void license_path(const char *dir, char *path)
{
	snprintf(path, 128, "%s/license", dir);
}

TEST_F(lic, install_activate_round_trip)
{
	char text[4096], uuid[37];
	struct kvp_guest g, back;
	uint32_t reason = 99;
	uint64_t now = time(NULL);

	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog,
			     "bcdfghjkmpqrtvwxy2346789b"));
	ASSERT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_STREQ(KEY_TEST, g.key);
	EXPECT_TRUE(g.avma);
	EXPECT_STREQ("testos", g.product);
	EXPECT_STREQ("v2", g.version);
	EXPECT_STREQ("datacenter", g.edition);
	EXPECT_FALSE(g.tried);
	EXPECT_EQ(KVP_GUEST_UNLICENSED, kvp_guest_state(&g, now, &reason));
	EXPECT_EQ(KVP_AVMA_R_NONE, reason);

	ASSERT_EQ(KVP_AVMA_SUCCESS, activate(_metadata, &self->act, &reason,
					     &g));
	EXPECT_EQ(KVP_AVMA_R_NONE, reason);
	/* The request carried what the catalog says and the fixture's VM. */
	EXPECT_STREQ("testos", self->fake.req.product);
	EXPECT_STREQ(KEY_TEST, self->fake.req.key);
	EXPECT_STREQ("guest-1", self->fake.req.vm_name);
	EXPECT_EQ(0x11, self->fake.req.vm_id[0]);
	EXPECT_EQ(KVP_GUEST_LICENSED, kvp_guest_state(&g, now, &reason));

	ASSERT_EQ(0, kvp_guest_load(self->dir, &back, NULL, 0));
	EXPECT_EQ(g.grant_len, back.grant_len);
	EXPECT_EQ(0, memcmp(g.grant, back.grant, g.grant_len));
	EXPECT_EQ(0, memcmp(self->fake.grant_id, back.decoded.id, 16));
	EXPECT_STREQ("host-a", back.decoded.host_name);
	EXPECT_TRUE(back.tried);
	EXPECT_EQ(KVP_AVMA_SUCCESS, back.outcome);
	EXPECT_EQ(KVP_GUEST_LICENSED, kvp_guest_state(&back, now, NULL));

	/* Event 12309 went to the journal with its fields. */
	ASSERT_EQ(0, next_event(self->journal, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "MESSAGE_ID=" KVP_EVENT_GUEST_ID "\n"));
	EXPECT_NE(NULL, strstr(text, "KVP_OUTCOME=Success\n"));
	EXPECT_NE(NULL, strstr(text, "KVP_HOST_NAME=host-a\n"));
	kvp_uuid_format(self->fake.grant_id, uuid);
	EXPECT_NE(NULL, strstr(text, uuid));
}

TEST_F(lic, corrupt_file_is_reported_and_kept)
{
	static const char *const bad[] = {
		"key=" KEY_TEST "\navma=maybe\n",
		"key=" KEY_TEST "\navma=yes\nproduct=testos\n",
		"key=" KEY_TEST "\nkey=" KEY_TEST "\navma=no\n",
		"key=" KEY_TEST "\navma=no\ncolour=blue\n",
		"key=NOT-A-KEY\navma=no\n",
		"key=" KEY_TEST "\navma=yes\nproduct=testos\nversion=v2\nedition=datacenter\ngrant=AAAA\n",
		"key=" KEY_TEST "\navma=no",
		"key=" KEY_TEST "\navma=no\n",	/* kept whole, not AVMA */
		"garbage",
	};
	char path[128], error[256], back[512];
	uint32_t outcome, reason;
	struct kvp_guest g;
	unsigned int i;

	license_path(self->dir, path);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(0, write_file(path, bad[i], strlen(bad[i])));
		error[0] = '\0';
		EXPECT_EQ(-EBADMSG, kvp_guest_load(self->dir, &g, error,
						   sizeof(error)))
			TH_LOG("case %u", i);
		EXPECT_NE(NULL, strstr(error, "corrupt")) TH_LOG("%s", error);
		EXPECT_EQ('\0', g.key[0]);
		EXPECT_EQ(KVP_GUEST_UNLICENSED, kvp_guest_state(&g, 0, NULL));
		/* No activation from it, and the file is left as it was. */
		error[0] = '\0';
		EXPECT_EQ(-ENOKEY, kvp_guest_activate(&self->act, &outcome,
						      &reason, &g, error,
						      sizeof(error)));
		EXPECT_NE(NULL, strstr(error, "corrupt"));
		EXPECT_EQ((ssize_t)strlen(bad[i]),
			  read_file(path, back, sizeof(back)));
		EXPECT_EQ(0, memcmp(bad[i], back, strlen(bad[i])));
	}
	EXPECT_EQ(0, self->fake.calls);
	/* Uninstalling removes it. */
	EXPECT_EQ(0, kvp_guest_uninstall_key(self->dir));
	EXPECT_EQ(-1, access(path, F_OK));
	/* Installing a key replaces it, and says so. */
	ASSERT_EQ(0, write_file(path, "garbage", 7));
	error[0] = '\0';
	EXPECT_EQ(0, kvp_guest_install_key(self->dir, self->catalog, KEY_TEST,
					   &g, error, sizeof(error)));
	EXPECT_NE(NULL, strstr(error, "replaced"));
	EXPECT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_STREQ(KEY_TEST, g.key);
}

TEST_F(lic, key_install_rules)
{
	char error[256] = "", path[128], text[512];
	uint32_t outcome, reason;
	struct kvp_guest g;
	ssize_t n;

	/* A malformed key: a message, and nothing written. */
	EXPECT_EQ(-EINVAL, kvp_guest_install_key(self->dir, self->catalog,
						 "ABCDE-12345", &g, error,
						 sizeof(error)));
	EXPECT_NE('\0', error[0]);
	license_path(self->dir, path);
	EXPECT_EQ(-1, access(path, F_OK));

	/* A key in no catalog: stored by its last group, not AVMA. */
	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_RETAIL));
	ASSERT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_FALSE(g.avma);
	EXPECT_STREQ("9BCDF", g.key);
	n = read_file(path, text, sizeof(text) - 1);
	ASSERT_LT(0, n);
	text[n] = '\0';
	EXPECT_EQ(NULL, strstr(text, "FGHJK"));
	EXPECT_EQ(-ENOKEY, kvp_guest_activate(&self->act, &outcome, &reason,
					      &g, error, sizeof(error)));
	EXPECT_STREQ("the installed key is not an AVMA key", error);

	/* An AVMA key, activated; the same key again keeps the grant. */
	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	ASSERT_EQ(KVP_AVMA_SUCCESS, activate(_metadata, &self->act, &reason,
					     &g));
	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	ASSERT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_NE(0, g.grant_len);
	/* Another key drops it. */
	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog,
			     KEY_TEST_STD));
	ASSERT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_EQ(0, g.grant_len);
	EXPECT_FALSE(g.tried);
	EXPECT_STREQ("standard", g.edition);

	/* Uninstall: gone; a second time there is nothing to remove. */
	EXPECT_EQ(0, kvp_guest_uninstall_key(self->dir));
	EXPECT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_EQ('\0', g.key[0]);
	EXPECT_EQ(-ENOKEY, kvp_guest_uninstall_key(self->dir));
	EXPECT_EQ(-ENOKEY, kvp_guest_activate(&self->act, &outcome, &reason,
					      &g, error, sizeof(error)));
	EXPECT_EQ(0, kvp_guest_state(&g, 0, &reason));
	EXPECT_EQ(KVP_AVMA_R_NO_KEY, reason);
}

struct bad_case {
	enum fake_mode mode;
	int err;
	uint16_t host_outcome;
	uint32_t host_reason;
	uint32_t outcome;
	uint32_t reason;
};

static const struct bad_case bad_cases[] = {
	{ FAKE_ERRNO, EHOSTUNREACH, 0, 0, KVP_AVMA_INVALID_HOST,
	  KVP_AVMA_R_NO_SERVICE },
	{ FAKE_ERRNO, ENOTCONN, 0, 0, KVP_AVMA_INVALID_HOST,
	  KVP_AVMA_R_NO_HOST },
	{ FAKE_ERRNO, ETIMEDOUT, 0, 0, KVP_AVMA_INVALID_HOST,
	  KVP_AVMA_R_TIMEOUT },
	{ FAKE_ERRNO, ECONNRESET, 0, 0, KVP_AVMA_INVALID_HOST,
	  KVP_AVMA_R_TIMEOUT },
	{ FAKE_REFUSE, 0, KVP_AVMA_DENIED, KVP_AVMA_R_VERSION,
	  KVP_AVMA_DENIED, KVP_AVMA_R_VERSION },
	{ FAKE_REFUSE, 0, KVP_AVMA_INVALID_HOST, KVP_AVMA_R_NO_LICENCE,
	  KVP_AVMA_INVALID_HOST, KVP_AVMA_R_NO_LICENCE },
	{ FAKE_REFUSE, 0, KVP_AVMA_INVALID_DATA, KVP_AVMA_R_REPLAY,
	  KVP_AVMA_INVALID_DATA, KVP_AVMA_R_REPLAY },
	{ FAKE_GARBAGE, 0, 0, 0, KVP_AVMA_INVALID_DATA,
	  KVP_AVMA_R_BAD_REPLY },
	{ FAKE_REPLY_NONCE, 0, 0, 0, KVP_AVMA_INVALID_DATA, KVP_AVMA_R_NONCE },
	{ FAKE_GRANT_NONCE, 0, 0, 0, KVP_AVMA_INVALID_DATA, KVP_AVMA_R_NONCE },
	{ FAKE_OTHER_VM, 0, 0, 0, KVP_AVMA_INVALID_DATA,
	  KVP_AVMA_R_OTHER_VM },
	{ FAKE_MISMATCH, 0, 0, 0, KVP_AVMA_INVALID_DATA,
	  KVP_AVMA_R_MISMATCH },
	{ FAKE_BAD_SIG, 0, 0, 0, KVP_AVMA_INVALID_DATA,
	  KVP_AVMA_R_SIGNATURE },
	{ FAKE_NO_LEASE, 0, 0, 0, KVP_AVMA_INVALID_DATA,
	  KVP_AVMA_R_BAD_REPLY },
	{ FAKE_ENDED, 0, 0, 0, KVP_AVMA_INVALID_DATA, KVP_AVMA_R_BAD_REPLY },
};

TEST_F(lic, every_failure_has_its_outcome)
{
	char text[4096], want[64];
	const struct bad_case *c;
	struct kvp_guest g;
	uint32_t reason;
	unsigned int i;

	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		c = &bad_cases[i];
		self->fake.mode = c->mode;
		self->fake.err = c->err;
		self->fake.outcome = c->host_outcome;
		self->fake.reason = c->host_reason;
		reason = 999;
		EXPECT_EQ(c->outcome, activate(_metadata, &self->act, &reason,
					       &g)) TH_LOG("case %u", i);
		EXPECT_EQ(c->reason, reason) TH_LOG("case %u", i);
		/* No grant was ever had: Unlicensed, with that reason. */
		EXPECT_EQ(KVP_GUEST_UNLICENSED,
			  kvp_guest_state(&g, time(NULL), &reason));
		EXPECT_EQ(c->reason, reason);
		EXPECT_EQ(0, g.grant_len);
		ASSERT_EQ(0, next_event(self->journal, text, sizeof(text)));
		snprintf(want, sizeof(want), "KVP_REASON=%s\n",
			 kvp_avma_reason_name(c->reason));
		EXPECT_NE(NULL, strstr(text, want)) TH_LOG("case %u", i);
	}
}

/* A local failure (no module, no permission) is no attempt: no event. */
TEST_F(lic, local_failure_is_no_attempt)
{
	char error[256] = "", text[64], path[128];
	uint32_t outcome, reason;
	struct kvp_guest g;

	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	self->fake.mode = FAKE_ERRNO;
	self->fake.err = EPERM;
	EXPECT_EQ(-EPERM, kvp_guest_activate(&self->act, &outcome, &reason,
					     &g, error, sizeof(error)));
	EXPECT_NE(NULL, strstr(error, "cannot ask the host"));
	EXPECT_EQ(-EAGAIN, next_event(self->journal, text, sizeof(text)));
	snprintf(path, sizeof(path), "%s/license.events", self->dir);
	EXPECT_EQ(-1, access(path, F_OK));
	ASSERT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_FALSE(g.tried);
}

/* The vendor chain: a grant must carry the vendor's licence for its host. */
TEST_F(lic, vendor_licence_chain)
{
	struct kvp_license lic = { 0 };
	struct kvp_signer *signer;
	struct kvp_guest g;
	uint32_t reason;
	static const struct {
		bool with;		/* a licence in the grant */
		bool other_vendor;	/* signed by another key */
		bool other_host;	/* for another host key */
		const char *version;	/* the highest it lends */
		const char *edition;	/* the host's */
		int64_t ends;		/* not_after - now; 0: never */
		uint32_t outcome;
	} cases[] = {
		{ false, false, false, "v2", "datacenter", 0,
		  KVP_AVMA_INVALID_DATA },
		{ true, true, false, "v2", "datacenter", 0,
		  KVP_AVMA_INVALID_DATA },
		{ true, false, true, "v2", "datacenter", 0,
		  KVP_AVMA_INVALID_DATA },
		{ true, false, false, "v1", "datacenter", 0,
		  KVP_AVMA_INVALID_DATA },
		/* A Standard host cannot lend, whatever it grants. */
		{ true, false, false, "v2", "standard", 0,
		  KVP_AVMA_INVALID_DATA },
		/* The licence ends before the lease: an overrun or a
		 * backdated grant. */
		{ true, false, false, "v2", "datacenter", LEASE / 2,
		  KVP_AVMA_INVALID_DATA },
		{ true, false, false, "v2", "datacenter", -LEASE,
		  KVP_AVMA_INVALID_DATA },
		{ true, false, false, "v2", "datacenter", 2 * LEASE,
		  KVP_AVMA_SUCCESS },
		{ true, false, false, "v2", "datacenter", 0,
		  KVP_AVMA_SUCCESS },
		{ true, false, false, "v3", "datacenter", 0,
		  KVP_AVMA_SUCCESS },
	};
	unsigned int i;

	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_VENDOR));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&lic, 0, sizeof(lic));
		strcpy(lic.product, "vendoros");
		strcpy(lic.version, cases[i].version);
		strcpy(lic.edition, cases[i].edition);
		kvp_sign_public(cases[i].other_host ? self->other : self->host,
				lic.host_key);
		lic.issued = time(NULL);
		if (cases[i].ends)
			lic.not_after = time(NULL) + cases[i].ends;
		signer = cases[i].other_vendor ? self->other : self->vendor;
		ASSERT_EQ(0, kvp_license_sign(&lic, signer,
					      self->fake.licence));
		self->fake.with_licence = cases[i].with;
		reason = 999;
		EXPECT_EQ(cases[i].outcome, activate(_metadata, &self->act,
						     &reason, &g))
			TH_LOG("case %u", i);
		EXPECT_EQ(cases[i].outcome == KVP_AVMA_SUCCESS ?
			  KVP_AVMA_R_NONE : KVP_AVMA_R_SIGNATURE, reason)
			TH_LOG("case %u", i);
	}
	/* A product without a vendor key takes no licence in its grants. */
	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	EXPECT_EQ(KVP_AVMA_INVALID_DATA, activate(_metadata, &self->act,
						  &reason, &g));
	EXPECT_EQ(KVP_AVMA_R_SIGNATURE, reason);
}

TEST_F(lic, lease_expiry_and_failure_keeps_lease)
{
	struct kvp_guest g, ok;
	uint32_t reason;

	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	ASSERT_EQ(KVP_AVMA_SUCCESS, activate(_metadata, &self->act, &reason,
					     &ok));
	EXPECT_EQ(KVP_GUEST_LICENSED,
		  kvp_guest_state(&ok, ok.decoded.expires - 1, &reason));
	EXPECT_EQ(KVP_AVMA_R_NONE, reason);
	EXPECT_EQ(KVP_GUEST_NOTIFICATION,
		  kvp_guest_state(&ok, ok.decoded.expires, &reason));
	EXPECT_EQ(KVP_AVMA_R_EXPIRED, reason);

	/* Host gone, then a host that denies: the lease stays all the same. */
	self->fake.mode = FAKE_ERRNO;
	self->fake.err = ENOTCONN;
	EXPECT_EQ(KVP_AVMA_INVALID_HOST, activate(_metadata, &self->act,
						  &reason, &g));
	self->fake.mode = FAKE_REFUSE;
	self->fake.outcome = KVP_AVMA_DENIED;
	self->fake.reason = KVP_AVMA_R_KEY;
	EXPECT_EQ(KVP_AVMA_DENIED, activate(_metadata, &self->act, &reason,
					    &g));
	ASSERT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_EQ(KVP_AVMA_DENIED, g.outcome);
	EXPECT_EQ(KVP_AVMA_R_KEY, g.reason);
	ASSERT_EQ(ok.grant_len, g.grant_len);
	EXPECT_EQ(0, memcmp(ok.grant, g.grant, g.grant_len));
	EXPECT_EQ(KVP_GUEST_LICENSED,
		  kvp_guest_state(&g, ok.decoded.expires - 1, NULL));
	EXPECT_EQ(KVP_GUEST_NOTIFICATION,
		  kvp_guest_state(&g, ok.decoded.expires + 1, &reason));
	EXPECT_EQ(KVP_AVMA_R_EXPIRED, reason);

	/* A new grant ends the Notification. */
	self->fake.mode = FAKE_OK;
	EXPECT_EQ(KVP_AVMA_SUCCESS, activate(_metadata, &self->act, &reason,
					     &g));
	EXPECT_NE(0, memcmp(ok.decoded.id, g.decoded.id, 16));
}

TEST_F(lic, expiry_is_recorded_once)
{
	char text[4096];
	struct kvp_guest g, ok;
	uint32_t reason;

	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	EXPECT_EQ(0, kvp_guest_expire(self->dir, self->journal_path, 0));
	ASSERT_EQ(KVP_AVMA_SUCCESS, activate(_metadata, &self->act, &reason,
					     &ok));
	ASSERT_EQ(0, next_event(self->journal, text, sizeof(text)));
	EXPECT_EQ(0, kvp_guest_expire(self->dir, self->journal_path,
				      ok.decoded.expires - 1));
	EXPECT_EQ(1, kvp_guest_expire(self->dir, self->journal_path,
				      ok.decoded.expires));
	ASSERT_EQ(0, next_event(self->journal, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "KVP_REASON=expired\n"));
	EXPECT_NE(NULL, strstr(text, "Notification"));
	EXPECT_EQ(0, kvp_guest_expire(self->dir, self->journal_path,
				      ok.decoded.expires + 10));
	EXPECT_EQ(-EAGAIN, next_event(self->journal, text, sizeof(text)));
	ASSERT_EQ(0, kvp_guest_load(self->dir, &g, NULL, 0));
	EXPECT_EQ(KVP_GUEST_NOTIFICATION,
		  kvp_guest_state(&g, ok.decoded.expires, &reason));
	EXPECT_EQ(KVP_AVMA_R_EXPIRED, reason);
	EXPECT_EQ(ok.grant_len, g.grant_len);
	EXPECT_EQ(KVP_AVMA_R_EXPIRED, g.reason);
}

struct events_seen {
	unsigned int n;
	struct kvp_guest_event first, last;
};

static int count_event(const struct kvp_guest_event *ev, void *arg)
{
	struct events_seen *s = arg;

	if (!s->n++)
		s->first = *ev;
	s->last = *ev;
	return 0;
}

TEST_F(lic, events_log_is_bounded)
{
	char path[128], line[256];
	struct events_seen seen = { 0 };
	struct kvp_guest g;
	uint32_t reason;
	unsigned int i;
	size_t len;
	int fd;

	ASSERT_EQ(0, install(_metadata, self->dir, self->catalog, KEY_TEST));
	snprintf(path, sizeof(path), "%s/license.events", self->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	for (i = 0; i < KVP_GUEST_EVENTS_KEEP; i++) {
		len = snprintf(line, sizeof(line),
			       "2026-01-01T00:00:%02uZ\tInvalid Host\ttimeout\t"
			       "testos\tv2\tdatacenter\t-\t-\t-\t-\n", i % 60);
		ASSERT_EQ((ssize_t)len, write(fd, line, len));
	}
	close(fd);
	ASSERT_EQ(0, kvp_guest_events(self->dir, count_event, &seen));
	EXPECT_EQ(KVP_GUEST_EVENTS_KEEP, seen.n);

	ASSERT_EQ(KVP_AVMA_SUCCESS, activate(_metadata, &self->act, &reason,
					     &g));
	memset(&seen, 0, sizeof(seen));
	ASSERT_EQ(0, kvp_guest_events(self->dir, count_event, &seen));
	EXPECT_EQ(KVP_GUEST_EVENTS_KEEP, seen.n);
	EXPECT_EQ(1767225601, seen.first.time);	/* the oldest went */
	EXPECT_EQ(KVP_AVMA_SUCCESS, seen.last.outcome);
	EXPECT_STREQ("host-a", seen.last.host_name);
	EXPECT_EQ(g.decoded.expires, seen.last.expires);
	EXPECT_EQ(29, strlen(seen.last.host_id));
	EXPECT_EQ(36, strlen(seen.last.grant_id));
}

TEST_HARNESS_MAIN
