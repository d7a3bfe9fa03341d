// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine's crash rules, every kill point tried in turn
 * (Documentation/pool-files.rst, "Crashes").
 *
 * The kernel copies a write into the page cache a page at a time and stops
 * between two pages for a fatal signal.  This program is linked with
 * --wrap for pwrite64() and ftruncate64() (selftests/Makefile): the
 * wrappers below write page by page, and a child armed with crash_at
 * SIGKILLs itself before its crash_at-th step.  So for an operation of n
 * steps, kill points 0 to n give every state a killed writer can leave,
 * without luck.  After each kill, with and without a cloud-init-style
 * append behind it, the promise is checked:
 *
 *   - a fresh reader serves each key's old or new value (all old or all
 *     new: one operation), never a key nobody set, and the foreign record;
 *   - a reader that knew the file before catches up to exactly what a
 *     fresh reader serves, in the same order;
 *   - the next change (itself killed at every point in turn) keeps all of
 *     that, and once it is through leaves no leftovers.
 *
 * The wrappers can also change the file before the engine's next read or
 * write: a change it cannot have seen when it caught up.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "pool.h"
#include "pool_helpers.h"

#define SNAP		(32 * KVP_POOL_VALUE)
#define LAYOUT		"user.kvp.layout"

static long crash_at = -1;	/* steps before the kill; -1: never */
static long crash_steps;

static void crash_point(void)
{
	if (crash_at >= 0 && crash_steps++ == crash_at)
		kill(getpid(), SIGKILL);
}

/* Run once, before the engine's next pread() or pwrite(). */
static void (*before_io)(void);

static void run_before_io(void)
{
	void (*hook)(void) = before_io;

	before_io = NULL;
	if (hook)
		hook();
}

ssize_t __real_pwrite64(int fd, const void *buf, size_t len, off_t off);
int __real_ftruncate64(int fd, off_t len);

ssize_t __wrap_pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t done = 0, chunk;
	ssize_t n;

	run_before_io();
	while (done < len) {
		crash_point();
		chunk = page - (off + done) % page;
		if (chunk > len - done)
			chunk = len - done;
		n = __real_pwrite64(fd, (const char *)buf + done, chunk,
				    off + done);
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
	}
	return done;
}

int __wrap_ftruncate64(int fd, off_t len)
{
	crash_point();
	return __real_ftruncate64(fd, len);
}

ssize_t __real_pread64(int fd, void *buf, size_t len, off_t off);

ssize_t __wrap_pread64(int fd, void *buf, size_t len, off_t off)
{
	run_before_io();
	return __real_pread64(fd, buf, len, off);
}

/* One operation: SET key=value, or DELETE key if value is NULL. */
struct op {
	const char *key;
	const char *value;
};

static int run_op(const char *dir, const struct op *op)
{
	struct kvp_pool *pool;
	int ret;

	ret = kvp_pool_open(&pool, dir, 1, KVP_POOL_WRITE);
	if (!ret)
		ret = op->value ? kvp_pool_set(pool, op->key, op->value) :
				  kvp_pool_delete(pool, op->key);
	kvp_pool_close(pool);
	return ret;
}

/* Runs op in a child killed at step `at`: 1 if it was, 0 if it finished. */
static int run_killed(const char *dir, const struct op *op, long at)
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		crash_at = at;
		_exit(run_op(dir, op) ? 2 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static int add_item(const char *key, const char *value, void *arg)
{
	char *out = arg;
	size_t len = strlen(out);

	snprintf(out + len, SNAP - len, "%s=%s\n", key, value);
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines of text ("k=v\n" each), adding line extra if not NULL. */
static void sort_lines(char *text, const char *extra)
{
	char *lines[64], *copy = strdup(text), *line;
	size_t len = 0;
	int n = 0, i;

	for (line = strtok(copy, "\n"); line && n < 63;
	     line = strtok(NULL, "\n"))
		lines[n++] = line;
	if (extra)
		lines[n++] = (char *)extra;
	qsort(lines, n, sizeof(*lines), line_cmp);
	for (i = 0; i < n; i++)
		len += snprintf(text + len, SNAP - len, "%s\n", lines[i]);
	text[len] = 0;
	free(copy);
}

/* Every item, "k=v\n" each, in order; sorted, the order left out. */
static int snapshot(struct kvp_pool *pool, char *out, bool sorted)
{
	int ret;

	out[0] = 0;
	ret = kvp_pool_foreach(pool, add_item, out);
	if (!ret && sorted)
		sort_lines(out, NULL);
	return ret;
}

static int fresh_snapshot(const char *dir, char *out, bool sorted)
{
	struct kvp_pool *pool;
	int ret;

	ret = kvp_pool_open(&pool, dir, 1, KVP_POOL_READ);
	if (!ret)
		ret = snapshot(pool, out, sorted);
	kvp_pool_close(pool);
	return ret;
}

static int fresh_health(const char *dir, struct kvp_pool_health *health)
{
	struct kvp_pool *pool;
	int ret;

	ret = kvp_pool_open(&pool, dir, 1, KVP_POOL_READ);
	if (!ret)
		ret = kvp_pool_health(pool, health);
	kvp_pool_close(pool);
	return ret;
}

/* A file's bytes and layout mark, to put back before each kill point. */
struct saved {
	char bytes[64 * REC];
	ssize_t len;
	char mark[32];
	ssize_t mark_len;
};

static void save(const char *path, struct saved *s)
{
	s->len = read_file(path, s->bytes, sizeof(s->bytes));
	s->mark_len = getxattr(path, LAYOUT, s->mark, sizeof(s->mark));
}

static int restore(const char *path, const struct saved *s)
{
	if (write_file(path, s->bytes, s->len))
		return -1;
	if (s->mark_len >= 0)
		return setxattr(path, LAYOUT, s->mark, s->mark_len, 0);
	return removexattr(path, LAYOUT) && errno != ENODATA ? -1 : 0;
}

FIXTURE(crash) {
	char dir[64];
	char path[96];
	struct saved start, killed;
	char old[SNAP], new[SNAP], got[SNAP], caught[SNAP], after[SNAP];
	/* skipped records at the start, and after op and the next change */
	struct kvp_pool_health start_health, ref;
	long kills;
};

FIXTURE_SETUP(crash)
{
	ASSERT_EQ(0, pool_dir_make(self->dir, self->path));
}

FIXTURE_TEARDOWN(crash)
{
	pool_dir_remove(self->dir);
	if (self->kills)
		TH_LOG("%ld kill points tried", self->kills);
}

static const char foreign[REC] = "cloud-init-report\0";
static const struct op next_change = { "z", "the next change" };

/*
 * Checks the state after a kill: a fresh reader serves one of the allowed
 * item sets (a or b), and the reader that knew the file before (caught up)
 * serves exactly what the fresh one does, in the same order.
 */
static void check_state(struct __test_metadata *_metadata,
			FIXTURE_DATA(crash) *self, struct kvp_pool *reader,
			const char *a, const char *b)
{
	ASSERT_EQ(0, fresh_snapshot(self->dir, self->got, true));
	if (strcmp(self->got, a) && strcmp(self->got, b))
		fprintf(stderr, "served:\n%.300s\nallowed:\n%.300s\nor:\n%.300s\n",
			self->got, a, b);
	ASSERT_TRUE(!strcmp(self->got, a) || !strcmp(self->got, b));
	ASSERT_EQ(0, fresh_snapshot(self->dir, self->got, false));
	ASSERT_EQ(0, snapshot(reader, self->caught, false));
	ASSERT_STREQ(self->got, self->caught);
}

/* The next change, killed at every point in turn, from state `killed`. */
static void check_next_change(struct __test_metadata *_metadata,
			      FIXTURE_DATA(crash) *self)
{
	char line[64], *now = self->after;
	struct kvp_pool_health health;
	struct kvp_pool *reader;
	long at;
	int ret = 1;

	ASSERT_EQ(0, fresh_snapshot(self->dir, now, true));
	strcpy(self->new, now);
	snprintf(line, sizeof(line), "%s=%s", next_change.key,
		 next_change.value);
	sort_lines(self->new, line);
	for (at = 0; ret; at++) {
		ASSERT_EQ(0, restore(self->path, &self->killed));
		ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1,
					   KVP_POOL_READ));
		ASSERT_LE(0, kvp_pool_count(reader));
		ret = run_killed(self->dir, &next_change, at);
		ASSERT_LE(0, ret);
		self->kills++;
		check_state(_metadata, self, reader, now, self->new);
		kvp_pool_close(reader);
	}
	ASSERT_EQ(0, fresh_health(self->dir, &health));
	/* no leftovers: a skipped record of the start may be gone by now */
	ASSERT_LE(self->ref.bad_records, health.bad_records);
	ASSERT_GE(self->start_health.bad_records, health.bad_records);
	ASSERT_EQ(0, health.torn_bytes);
	ASSERT_EQ((health.records + health.bad_records) * REC,
		  file_size(self->path));
}

/*
 * op on the file made of recs (n records), killed at every point in turn,
 * then with a foreign append behind it, and then the next change.
 */
static void crash_trial(struct __test_metadata *_metadata,
			FIXTURE_DATA(crash) *self, const char *recs, int n,
			const struct op *op)
{
	char old_x[SNAP], new_x[SNAP], mid[SNAP], line[64];
	struct kvp_pool *reader;
	int ret, appended;
	long at;

	snprintf(line, sizeof(line), "%s=", foreign);
	ASSERT_EQ(0, write_file(self->path, recs, n * REC));
	save(self->path, &self->start);
	ASSERT_EQ(0, fresh_snapshot(self->dir, self->old, true));
	ASSERT_EQ(0, fresh_health(self->dir, &self->start_health));
	ASSERT_EQ(0, run_op(self->dir, op));
	ASSERT_EQ(0, run_op(self->dir, &next_change));
	ASSERT_EQ(0, fresh_health(self->dir, &self->ref));
	ASSERT_EQ(0, restore(self->path, &self->start));
	ASSERT_EQ(0, run_op(self->dir, op));
	ASSERT_EQ(0, fresh_snapshot(self->dir, self->new, true));
	strcpy(old_x, self->old);
	sort_lines(old_x, line);
	strcpy(new_x, self->new);
	sort_lines(new_x, line);

	for (appended = 0; appended < 2; appended++) {
		ret = 1;
		for (at = 0; ret; at++) {
			ASSERT_EQ(0, restore(self->path, &self->start));
			ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1,
						   KVP_POOL_READ));
			ASSERT_LE(0, kvp_pool_count(reader));
			ret = run_killed(self->dir, op, at);
			ASSERT_LE(0, ret);
			self->kills++;
			if (appended)
				ASSERT_EQ(0, append_flock(self->path, foreign,
							  REC));
			check_state(_metadata, self,
				    reader, appended ? old_x : self->old,
				    appended ? new_x : self->new);
			kvp_pool_close(reader);
			save(self->path, &self->killed);
			strcpy(mid, self->new);
			check_next_change(_metadata, self);
			strcpy(self->new, mid);
		}
	}
}

/* A value of len bytes, "é" after the first byte: a page may cut one. */
static void utf8_value(char *v, size_t len)
{
	size_t i;

	v[0] = 'v';
	for (i = 1; i + 1 < len; i += 2)
		memcpy(v + i, "\xc3\xa9", 2);
	v[i] = 0;
}

/* SET of a new key whose record straddles a page (defect: torn tail). */
TEST_F_TIMEOUT(crash, set_new_key, 300)
{
	static const struct op op = { "n", "a new key" };
	char recs[2 * REC], v[2001];

	utf8_value(v, 2000);
	record(recs, "a", "1");
	crash_trial(_metadata, self, recs, 1, &op);
	record(recs + REC, "b", v);
	crash_trial(_metadata, self, recs, 2, &op);
}

/* SET of an existing key in two steps: a long value over a short one. */
TEST_F_TIMEOUT(crash, set_long_value, 300)
{
	char recs[3 * REC], v[2001], w[1501];
	struct op op = { "b", v };

	utf8_value(v, 2000);
	make_value(w, 1500, "w", 1);
	record(recs, "a", "1");
	record(recs + REC, "b", "old");
	record(recs + 2 * REC, "c", "3");
	crash_trial(_metadata, self, recs, 3, &op);
	/* and the other way round, and with the value's page elsewhere */
	op.value = "short";
	record(recs + REC, "b", v);
	crash_trial(_metadata, self, recs, 3, &op);
	op.key = "c";
	op.value = w;
	crash_trial(_metadata, self, recs, 3, &op);
}

/* DELETE: the last record moves into the hole, or is just cut off. */
TEST_F_TIMEOUT(crash, delete, 300)
{
	char recs[4 * REC], v[2001];
	struct op op = { "b", NULL };

	utf8_value(v, 2000);
	record(recs, "a", "1");
	record(recs + REC, "b", "2");
	record(recs + 2 * REC, "c", "3");
	record(recs + 3 * REC, "d", v);
	crash_trial(_metadata, self, recs, 4, &op);
	op.key = "d";
	crash_trial(_metadata, self, recs, 4, &op);
}

/*
 * A DELETE of a key with a repeat, and a SET behind a faulty record of the
 * same key: skipped records in the way.
 */
TEST_F_TIMEOUT(crash, skipped_records_in_the_way, 300)
{
	char recs[5 * REC], v[2001];
	struct op op = { "b", NULL };

	utf8_value(v, 2000);
	record(recs, "a", "1");
	record(recs + REC, "b", "2");
	record(recs + 2 * REC, "c", v);
	record(recs + 3 * REC, "b", "a repeat");
	record(recs + 4 * REC, "d", v);
	crash_trial(_metadata, self, recs, 5, &op);
	record(recs + REC, "k", "\xc0\xaf");	/* overlong: skipped */
	record(recs + 3 * REC, "e", "5");
	op.key = "k";
	op.value = v;
	crash_trial(_metadata, self, recs, 5, &op);
}

/*
 * A SET or DELETE writes over the record its index names only if the file
 * still holds that key there.  Here the index is a b c and the file turns
 * into b c a (the stock daemon's DELETE of a and SET of a again) unseen:
 * between the engine's catching up and its first read or write, as when a
 * timestamp tick hides a rewrite of the same size.  Written over, b would be lost.
 */
static char rotation_path[96];

static void rotate_unseen(void)
{
	char recs[3 * REC];

	record(recs, "b", "2");
	record(recs + REC, "c", "3");
	record(recs + 2 * REC, "a", "1");
	write_file(rotation_path, recs, sizeof(recs));
}

TEST_F(crash, writes_check_the_key_on_disk)
{
	char value[KVP_POOL_VALUE], buf[256];
	struct kvp_pool *pool, *fresh;
	int del;

	strcpy(rotation_path, self->path);
	for (del = 0; del < 2; del++) {
		ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1,
					   KVP_POOL_WRITE));
		ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
		ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
		ASSERT_EQ(0, kvp_pool_set(pool, "c", "3"));
		before_io = rotate_unseen;
		ASSERT_EQ(0, del ? kvp_pool_delete(pool, "a") :
				   kvp_pool_set(pool, "a", "x"));
		ASSERT_EQ(NULL, before_io);
		ASSERT_EQ(0, kvp_pool_open(&fresh, self->dir, 1,
					   KVP_POOL_READ));
		ASSERT_EQ(del ? 2 : 3, dump(fresh, buf, sizeof(buf)));
		ASSERT_STREQ(del ? "b=2;c=3;" : "b=2;c=3;a=x;", buf);
		ASSERT_EQ(0, kvp_pool_get(pool, "b", value));
		ASSERT_STREQ("2", value);
		kvp_pool_close(fresh);
		kvp_pool_close(pool);
		ASSERT_EQ(0, unlink(self->path));
	}
}

TEST_HARNESS_MAIN
