// SPDX-License-Identifier: GPL-2.0
/*
 * The activation history store (lib/history.c): every field back as it
 * went in, the filters, the grant and nonce look-ups, WAL, and files that
 * are not a history: refused with a clear error and left byte for byte as
 * they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "kselftest_harness.h"

#include "history.h"

#define VM_A_ID		"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define VM_B_ID		"11111111-2222-3333-4444-555555555555"

struct store {
	char dir[64];
	char path[128];
	char error[256];
};

static int store_init(struct store *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/history_test.XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s/history.db", s->dir);
	return 0;
}

static void store_remove(struct store *s)
{
	char p[160];

	snprintf(p, sizeof(p), "%s-wal", s->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", s->path);
	unlink(p);
	unlink(s->path);
	rmdir(s->dir);
}

/* A row of VM `n` (0: A, 1: B) at time t; outcome 0 has a grant. */
static void make_row(struct kvp_history_row *r, int vm, int64_t t,
		     int outcome, int seq)
{
	memset(r, 0, sizeof(*r));
	r->time = t;
	strcpy(r->vm_id, vm ? VM_B_ID : VM_A_ID);
	strcpy(r->vm_name, vm ? "beta" : "alpha");
	r->cid = vm ? 1001 : 1000;
	strcpy(r->product, "windows-server");
	strcpy(r->version, "2022");
	strcpy(r->edition, "datacenter");
	r->outcome = (uint16_t)outcome;
	r->reason = outcome ? KVP_AVMA_R_KEY : KVP_AVMA_R_NONE;
	if (!outcome) {
		snprintf(r->grant_id, sizeof(r->grant_id),
			 "aaaaaaaa-bbbb-cccc-dddd-%012d", seq);
		r->expires = (uint64_t)t + 604800;
	}
	memset(r->nonce, seq, sizeof(r->nonce));
}

struct collect {
	struct kvp_history_row rows[16];
	int n;
	int stop_at;		/* return nonzero after this many, if > 0 */
	struct kvp_history *writer;	/* adds a row from inside the walk */
};

static int collect_fn(const struct kvp_history_row *row, void *arg)
{
	struct collect *c = arg;
	struct kvp_history_row extra;

	if (c->n < 16)
		c->rows[c->n] = *row;
	c->n++;
	if (c->writer) {
		make_row(&extra, 1, 5000, 0, 99);
		if (kvp_history_add(c->writer, &extra))
			return -1;
		c->writer = NULL;
	}
	return c->stop_at && c->n >= c->stop_at;
}

static int each(struct kvp_history *h, const char *vm, int64_t since,
		struct collect *c)
{
	memset(c, 0, sizeof(*c));
	return kvp_history_each(h, vm, since, collect_fn, c);
}

/* The whole file, malloc'd; *len its size. */
static unsigned char *slurp(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	if (buf && read(fd, buf, st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = st.st_size;
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static bool sidecar_exists(const char *path, const char *suffix)
{
	char p[160];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return exists(p);
}

FIXTURE(history) {
	struct store s;
	struct kvp_history *h;
};

FIXTURE_SETUP(history)
{
	ASSERT_EQ(0, store_init(&self->s));
	ASSERT_EQ(0, kvp_history_open(&self->h, self->s.path, self->s.error,
				      sizeof(self->s.error)))
		TH_LOG("%s", self->s.error);
}

FIXTURE_TEARDOWN(history)
{
	kvp_history_close(self->h);
	store_remove(&self->s);
}

TEST_F(history, every_field_back)
{
	struct kvp_history_row in, out;
	struct collect c;
	int i;

	make_row(&in, 0, 1795954095, 0, 7);
	strcpy(in.vm_name, "alpha: ünïcode 'quoted' \"name\"");
	in.cid = 4294967295U;
	in.reason = 0;
	for (i = 0; i < KVP_AVMA_NONCE_LEN; i++)
		in.nonce[i] = (uint8_t)(i * 37);
	in.nonce[3] = 0;
	ASSERT_EQ(0, kvp_history_add(self->h, &in));
	ASSERT_EQ(0, each(self->h, NULL, 0, &c));
	ASSERT_EQ(1, c.n);
	out = c.rows[0];
	EXPECT_EQ(in.time, out.time);
	EXPECT_STREQ(in.vm_id, out.vm_id);
	EXPECT_STREQ(in.vm_name, out.vm_name);
	EXPECT_EQ(in.cid, out.cid);
	EXPECT_STREQ(in.product, out.product);
	EXPECT_STREQ(in.version, out.version);
	EXPECT_STREQ(in.edition, out.edition);
	EXPECT_EQ(in.outcome, out.outcome);
	EXPECT_EQ(in.reason, out.reason);
	EXPECT_STREQ(in.grant_id, out.grant_id);
	EXPECT_EQ(in.expires, out.expires);
	EXPECT_EQ(0, memcmp(in.nonce, out.nonce, sizeof(in.nonce)));

	/* A failure: no grant, no expiry, its reason. */
	make_row(&in, 1, 1795954100, KVP_AVMA_DENIED, 8);
	ASSERT_EQ(0, kvp_history_add(self->h, &in));
	ASSERT_EQ(0, each(self->h, "beta", 0, &c));
	ASSERT_EQ(1, c.n);
	EXPECT_EQ(KVP_AVMA_DENIED, c.rows[0].outcome);
	EXPECT_EQ(KVP_AVMA_R_KEY, c.rows[0].reason);
	EXPECT_STREQ("", c.rows[0].grant_id);
	EXPECT_EQ(0, c.rows[0].expires);
}

TEST_F(history, filters_and_since)
{
	struct kvp_history_row r;
	struct collect c;

	/* Added out of time order: rows come back oldest first. */
	make_row(&r, 0, 300, 0, 1);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	make_row(&r, 1, 100, 0, 2);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	make_row(&r, 0, 200, KVP_AVMA_INVALID_DATA, 3);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	make_row(&r, 1, 400, KVP_AVMA_DENIED, 4);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));

	ASSERT_EQ(0, each(self->h, NULL, 0, &c));
	ASSERT_EQ(4, c.n);
	EXPECT_EQ(100, c.rows[0].time);
	EXPECT_EQ(200, c.rows[1].time);
	EXPECT_EQ(300, c.rows[2].time);
	EXPECT_EQ(400, c.rows[3].time);

	/* By name, by id in either case. */
	ASSERT_EQ(0, each(self->h, "alpha", 0, &c));
	ASSERT_EQ(2, c.n);
	EXPECT_EQ(200, c.rows[0].time);
	EXPECT_EQ(300, c.rows[1].time);
	ASSERT_EQ(0, each(self->h, VM_B_ID, 0, &c));
	EXPECT_EQ(2, c.n);
	ASSERT_EQ(0, each(self->h, "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", 0,
			  &c));
	EXPECT_EQ(2, c.n);
	ASSERT_EQ(0, each(self->h, "gamma", 0, &c));
	EXPECT_EQ(0, c.n);

	/* since is inclusive. */
	ASSERT_EQ(0, each(self->h, NULL, 300, &c));
	ASSERT_EQ(2, c.n);
	EXPECT_EQ(300, c.rows[0].time);
	ASSERT_EQ(0, each(self->h, "beta", 101, &c));
	ASSERT_EQ(1, c.n);
	EXPECT_EQ(400, c.rows[0].time);
	ASSERT_EQ(0, each(self->h, NULL, 401, &c));
	EXPECT_EQ(0, c.n);

	/* The callback stops the walk. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ASSERT_EQ(0, kvp_history_each(self->h, NULL, 0, collect_fn, &c));
	EXPECT_EQ(2, c.n);
}

TEST_F(history, last_and_find_grant)
{
	struct kvp_history_row r, got;

	EXPECT_EQ(0, kvp_history_last_grant(self->h, "alpha", &got));
	EXPECT_EQ(0, kvp_history_find_grant(self->h, "", &got));

	make_row(&r, 0, 100, 0, 1);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	make_row(&r, 0, 200, 0, 2);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	/* Later failures do not count as grants. */
	make_row(&r, 0, 300, KVP_AVMA_INVALID_HOST, 3);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	make_row(&r, 1, 400, 0, 4);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));

	ASSERT_EQ(1, kvp_history_last_grant(self->h, "alpha", &got));
	EXPECT_EQ(200, got.time);
	EXPECT_STREQ("aaaaaaaa-bbbb-cccc-dddd-000000000002", got.grant_id);
	ASSERT_EQ(1, kvp_history_last_grant(self->h, VM_A_ID, &got));
	EXPECT_EQ(200, got.time);
	ASSERT_EQ(1, kvp_history_last_grant(self->h, "beta", &got));
	EXPECT_EQ(400, got.time);
	EXPECT_EQ(0, kvp_history_last_grant(self->h, "gamma", &got));

	ASSERT_EQ(1, kvp_history_find_grant(self->h,
			"aaaaaaaa-bbbb-cccc-dddd-000000000001", &got));
	EXPECT_EQ(100, got.time);
	EXPECT_STREQ(VM_A_ID, got.vm_id);
	/* Grant ids are UUIDs: either case. */
	ASSERT_EQ(1, kvp_history_find_grant(self->h,
			"AAAAAAAA-BBBB-CCCC-DDDD-000000000004", &got));
	EXPECT_STREQ("beta", got.vm_name);
	EXPECT_EQ(0, kvp_history_find_grant(self->h,
			"aaaaaaaa-bbbb-cccc-dddd-000000000003", &got));
	/* Failure rows have no grant id: "" finds none. */
	EXPECT_EQ(0, kvp_history_find_grant(self->h, "", &got));
}

TEST_F(history, nonce_seen)
{
	struct kvp_history_row r;
	uint8_t other[KVP_AVMA_NONCE_LEN];

	make_row(&r, 0, 100, KVP_AVMA_DENIED, 5);
	EXPECT_EQ(0, kvp_history_nonce_seen(self->h, r.nonce));
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	EXPECT_EQ(1, kvp_history_nonce_seen(self->h, r.nonce));
	memcpy(other, r.nonce, sizeof(other));
	other[15] ^= 1;
	EXPECT_EQ(0, kvp_history_nonce_seen(self->h, other));
}

TEST_F(history, reopen_keeps_rows)
{
	struct kvp_history_row r;
	struct collect c;
	int i;

	for (i = 1; i <= 3; i++) {
		make_row(&r, i & 1, 100 * i, 0, i);
		ASSERT_EQ(0, kvp_history_add(self->h, &r));
	}
	kvp_history_close(self->h);
	self->h = NULL;
	/* Closed cleanly: the WAL is folded back into the file. */
	EXPECT_FALSE(sidecar_exists(self->s.path, "-wal"));
	ASSERT_EQ(0, kvp_history_open(&self->h, self->s.path, self->s.error,
				      sizeof(self->s.error)))
		TH_LOG("%s", self->s.error);
	ASSERT_EQ(0, each(self->h, NULL, 0, &c));
	ASSERT_EQ(3, c.n);
	EXPECT_EQ(300, c.rows[2].time);
	make_row(&r, 0, 400, 0, 4);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	ASSERT_EQ(0, each(self->h, NULL, 0, &c));
	EXPECT_EQ(4, c.n);
	EXPECT_EQ(1, kvp_history_nonce_seen(self->h, r.nonce));
}

TEST_F(history, wal_mode_and_private_file)
{
	struct kvp_history_row r;
	sqlite3_stmt *stmt;
	struct stat st;
	sqlite3 *db;

	make_row(&r, 0, 100, 0, 1);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	EXPECT_TRUE(sidecar_exists(self->s.path, "-wal"));
	ASSERT_EQ(0, stat(self->s.path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	/* The mode is recorded in the file: any connection sees it. */
	ASSERT_EQ(SQLITE_OK, sqlite3_open_v2(self->s.path, &db,
					     SQLITE_OPEN_READONLY, NULL));
	ASSERT_EQ(SQLITE_OK, sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
						&stmt, NULL));
	ASSERT_EQ(SQLITE_ROW, sqlite3_step(stmt));
	EXPECT_STREQ("wal", (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* A second connection reads while the first writes, and sees it after. */
TEST_F(history, reader_beside_writer)
{
	struct kvp_history *reader;
	struct kvp_history_row r;
	struct collect c;
	sqlite3 *writer;

	make_row(&r, 0, 100, 0, 1);
	ASSERT_EQ(0, kvp_history_add(self->h, &r));
	ASSERT_EQ(0, kvp_history_open(&reader, self->s.path, self->s.error,
				      sizeof(self->s.error)))
		TH_LOG("%s", self->s.error);

	/* Rows added while the reader is inside its walk. */
	memset(&c, 0, sizeof(c));
	c.writer = self->h;
	ASSERT_EQ(0, kvp_history_each(reader, NULL, 0, collect_fn, &c));
	EXPECT_EQ(1, c.n);
	EXPECT_EQ(NULL, c.writer);	/* it did add */
	ASSERT_EQ(0, each(reader, NULL, 0, &c));
	EXPECT_EQ(2, c.n);

	/* A write transaction held open does not stop the reader. */
	ASSERT_EQ(SQLITE_OK, sqlite3_open_v2(self->s.path, &writer,
					     SQLITE_OPEN_READWRITE, NULL));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(writer,
		"BEGIN IMMEDIATE; INSERT INTO history (time, vm_id, vm_name, cid, product, version, edition, outcome, reason, grant_id, expires, nonce) VALUES (50, 'x', 'gamma', 1, 'p', 'v', 'e', 1, 1, '', 0, zeroblob(16));",
		NULL, NULL, NULL));
	ASSERT_EQ(0, each(reader, NULL, 0, &c));
	EXPECT_EQ(2, c.n);
	EXPECT_EQ(100, c.rows[0].time);
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(writer, "COMMIT", NULL, NULL, NULL));
	sqlite3_close(writer);
	ASSERT_EQ(0, each(reader, NULL, 0, &c));
	EXPECT_EQ(3, c.n);
	EXPECT_EQ(50, c.rows[0].time);
	kvp_history_close(reader);
}

/*
 * Processes opening a missing history at once: each gets it, whole and in
 * WAL mode, and every row each adds is there.
 */
TEST(opened_by_many_at_once)
{
	enum { N = 8 };
	struct kvp_history_row r;
	struct kvp_history *h;
	int i, status, gate[2];
	struct collect c;
	struct store s;
	pid_t pid[N];
	char byte;

	ASSERT_EQ(0, store_init(&s));
	ASSERT_EQ(0, pipe(gate));
	for (i = 0; i < N; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i])
			continue;
		close(gate[1]);
		/* All wait here until the parent closes the gate's end. */
		if (read(gate[0], &byte, 1) != 0)
			_exit(2);
		if (kvp_history_open(&h, s.path, s.error, sizeof(s.error))) {
			fprintf(stderr, "# %s\n", s.error);
			_exit(1);
		}
		make_row(&r, i & 1, 100 + i, 0, i + 1);
		status = kvp_history_add(h, &r);
		kvp_history_close(h);
		_exit(status ? 3 : 0);
	}
	close(gate[0]);
	close(gate[1]);
	for (i = 0; i < N; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("child %d: status %d", i, status);
	}
	ASSERT_EQ(0, kvp_history_open(&h, s.path, s.error, sizeof(s.error)))
		TH_LOG("%s", s.error);
	ASSERT_EQ(0, each(h, NULL, 0, &c));
	EXPECT_EQ(N, c.n);
	kvp_history_close(h);
	store_remove(&s);
}

/* ---- files that are not a history --------------------------------------- */

/* Opening path fails with err, an error containing what, bytes intact. */
static void refused(struct __test_metadata *_metadata, const char *path,
		    int err, const char *what)
{
	struct kvp_history *h = (struct kvp_history *)1;
	unsigned char *before, *after;
	size_t len_before = 0, len_after = 0;
	char error[256] = "";

	before = slurp(path, &len_before);
	ASSERT_NE(NULL, before);
	EXPECT_EQ(err, kvp_history_open(&h, path, error, sizeof(error)));
	EXPECT_EQ(NULL, h);
	EXPECT_NE(NULL, strstr(error, what)) TH_LOG("error: %s", error);
	EXPECT_NE(NULL, strstr(error, path)) TH_LOG("error: %s", error);
	after = slurp(path, &len_after);
	ASSERT_NE(NULL, after);
	EXPECT_EQ(len_before, len_after);
	EXPECT_EQ(0, memcmp(before, after, len_before));
	EXPECT_FALSE(sidecar_exists(path, "-wal"));
	EXPECT_FALSE(sidecar_exists(path, "-journal"));
	free(before);
	free(after);
}

TEST(random_bytes_refused)
{
	unsigned char junk[4096];
	struct store s;
	size_t i;
	int fd;

	ASSERT_EQ(0, store_init(&s));
	srand(7);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand();
	fd = open(s.path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(junk), write(fd, junk, sizeof(junk)));
	close(fd);
	refused(_metadata, s.path, -EBADMSG, "not an SQLite database");
	store_remove(&s);
}

/* A kvp history whose first page (the schema) was overwritten. */
TEST(corrupt_database_refused)
{
	struct kvp_history_row r;
	struct kvp_history *h;
	unsigned char junk[3996];
	struct store s;
	int fd;

	ASSERT_EQ(0, store_init(&s));
	ASSERT_EQ(0, kvp_history_open(&h, s.path, s.error, sizeof(s.error)));
	make_row(&r, 0, 1, 0, 1);
	ASSERT_EQ(0, kvp_history_add(h, &r));
	kvp_history_close(h);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(s.path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(junk), pwrite(fd, junk, sizeof(junk), 100));
	close(fd);
	refused(_metadata, s.path, -EBADMSG, "cannot read it");
	store_remove(&s);
}

TEST(other_database_refused)
{
	struct store s;
	sqlite3 *db;

	ASSERT_EQ(0, store_init(&s));
	ASSERT_EQ(SQLITE_OK, sqlite3_open(s.path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(db,
		"CREATE TABLE history (a TEXT); INSERT INTO history VALUES ('precious');",
		NULL, NULL, NULL));
	sqlite3_close(db);
	refused(_metadata, s.path, -EINVAL, "not a kvp activation history");
	store_remove(&s);
}

TEST(newer_schema_refused)
{
	struct kvp_history *h;
	struct store s;
	sqlite3 *db;

	ASSERT_EQ(0, store_init(&s));
	ASSERT_EQ(0, kvp_history_open(&h, s.path, s.error, sizeof(s.error)));
	kvp_history_close(h);
	ASSERT_EQ(SQLITE_OK, sqlite3_open(s.path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "PRAGMA user_version = 2",
					  NULL, NULL, NULL));
	sqlite3_close(db);
	refused(_metadata, s.path, -EINVAL, "schema version 2");
	store_remove(&s);
}

TEST(empty_file_initialised)
{
	struct kvp_history_row r;
	struct kvp_history *h;
	struct store s;
	int fd;

	ASSERT_EQ(0, store_init(&s));
	fd = open(s.path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, kvp_history_open(&h, s.path, s.error, sizeof(s.error)))
		TH_LOG("%s", s.error);
	make_row(&r, 0, 1, 0, 1);
	EXPECT_EQ(0, kvp_history_add(h, &r));
	kvp_history_close(h);
	store_remove(&s);
}

TEST(missing_directory_and_not_a_file)
{
	struct kvp_history *h;
	struct store s;
	char path[160];

	ASSERT_EQ(0, store_init(&s));
	snprintf(path, sizeof(path), "%s/no/such/history.db", s.dir);
	EXPECT_EQ(-ENOENT, kvp_history_open(&h, path, s.error,
					    sizeof(s.error)));
	EXPECT_NE(NULL, strstr(s.error, "directory does not exist"))
		TH_LOG("error: %s", s.error);
	EXPECT_FALSE(exists(path));
	EXPECT_EQ(-EINVAL, kvp_history_open(&h, s.dir, s.error,
					    sizeof(s.error)));
	EXPECT_NE(NULL, strstr(s.error, "not a regular file"))
		TH_LOG("error: %s", s.error);
	store_remove(&s);
}

/*
 * A file we may read but not write.  root writes anything, so as root the
 * opening is done by a child that gave its privileges up.
 */
TEST(read_only_file_refused)
{
	struct kvp_history *h;
	struct store s;
	char error[256];
	int status, pipefd[2];
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, store_init(&s));
	ASSERT_EQ(0, kvp_history_open(&h, s.path, s.error, sizeof(s.error)));
	kvp_history_close(h);
	ASSERT_EQ(0, chmod(s.path, 0444));
	ASSERT_EQ(0, chmod(s.dir, 0755));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		if (!geteuid() && (setgid(65534) || setuid(65534)))
			_exit(2);
		status = kvp_history_open(&h, s.path, error, sizeof(error));
		if (write(pipefd[1], error, strlen(error)) < 0)
			_exit(3);
		_exit(status == -EACCES ? 0 : 1);
	}
	close(pipefd[1]);
	n = read(pipefd[0], error, sizeof(error) - 1);
	close(pipefd[0]);
	error[n > 0 ? n : 0] = '\0';
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %d, error: %s", status, error);
	EXPECT_NE(NULL, strstr(error, "read-only")) TH_LOG("error: %s", error);
	store_remove(&s);
}

TEST_HARNESS_MAIN
