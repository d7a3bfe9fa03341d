// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine against its file format, other writers (cloud-init's
 * flock appends, the stock daemon's whole-file rewrites), concurrent
 * writers, damaged files, kill -9, limits and a full disk; and kvpctl's
 * pool commands.  Each test gets a fresh directory under /tmp.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "pool.h"
#include "pool_helpers.h"

/* The stock daemon's write-back: fcntl lock, fopen("w"), all records. */
static int rewrite_like_daemon(const char *path, const char *recs, int n)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	FILE *f;
	int ret;

	if (fd < 0)
		return -errno;
	fcntl(fd, F_SETLKW, &fl);
	f = fopen(path, "w");
	ret = f && fwrite(recs, REC, n, f) == (size_t)n ? 0 : -EIO;
	if (f)
		fclose(f);
	close(fd);
	return ret;
}

/* The engine's warnings go to stderr: catch them to count them. */
struct capture {
	int saved;
	FILE *file;
};

static void capture_start(struct capture *c)
{
	fflush(stderr);
	c->saved = dup(2);
	c->file = tmpfile();
	dup2(fileno(c->file), 2);
}

/* What was caught, passed on to stderr too. */
static void capture_end(struct capture *c, char *text, size_t size)
{
	size_t len;

	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	rewind(c->file);
	len = fread(text, 1, size - 1, c->file);
	text[len] = 0;
	fputs(text, stderr);
	fclose(c->file);
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (; (text = strstr(text, needle)); text++)
		n++;
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A child that holds a lock on the file, taken through a read-only
 * descriptor as any user who can read it can: flock(LOCK_EX), or an fcntl
 * read lock.  Killed by release().
 */
static pid_t hold_lock(const char *path, bool use_flock)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int pipefd[2], fd;
	pid_t pid;
	char c;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (!pid) {
		fd = open(path, O_RDONLY);
		if (fd < 0 || (use_flock ? flock(fd, LOCK_EX) :
					   fcntl(fd, F_SETLK, &fl)) ||
		    write(pipefd[1], "", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (pid > 0 && read(pipefd[0], &c, 1) != 1)
		pid = -1;
	close(pipefd[0]);
	return pid;
}

static void release(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* kvp_pool_foreach() callback: "k=v;" each; see foreach_is_a_snapshot. */
struct walk {
	char out[256];
	size_t len;
	int calls;
	int stop_after;		/* then returns 42 */
	const char *dir;	/* at the first item, another process deletes "a" */
	pid_t deleter;
};

static void delete_a(const char *dir)
{
	struct kvp_pool *pool;
	int ret;

	ret = kvp_pool_open(&pool, dir, 1, KVP_POOL_WRITE);
	if (!ret)
		ret = kvp_pool_delete(pool, "a");
	kvp_pool_close(pool);
	_exit(ret ? 1 : 0);
}

static int walk_item(const char *key, const char *value, void *arg)
{
	struct walk *w = arg;

	w->len += snprintf(w->out + w->len, sizeof(w->out) - w->len, "%s=%s;",
			   key, value);
	if (w->dir && !w->calls) {
		w->deleter = fork();
		if (!w->deleter)
			delete_a(w->dir);
		usleep(200000);	/* time enough for it to get in, if it can */
	}
	return ++w->calls == w->stop_after ? 42 : 0;
}

FIXTURE(pool) {
	char dir[64];
	char path[96];
};

FIXTURE_SETUP(pool)
{
	ASSERT_EQ(0, pool_dir_make(self->dir, self->path));
}

FIXTURE_TEARDOWN(pool)
{
	pool_dir_remove(self->dir);
}

TEST_F(pool, set_get_delete_enumerate)
{
	char value[KVP_POOL_VALUE], buf[256];
	struct kvp_pool *pool, *reader;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_count(pool));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
	ASSERT_EQ(0, kvp_pool_set(pool, "c", "3"));
	ASSERT_EQ(0, kvp_pool_get(pool, "b", value));
	ASSERT_STREQ("2", value);
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "x", value));
	ASSERT_EQ(3, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("a=1;b=2;c=3;", buf);

	/* an update keeps its place */
	ASSERT_EQ(0, kvp_pool_set(pool, "b", "22"));
	ASSERT_EQ(3, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("a=1;b=22;c=3;", buf);
	ASSERT_EQ(3 * REC, file_size(self->path));

	/* a delete moves the last record into the hole */
	ASSERT_EQ(0, kvp_pool_delete(pool, "a"));
	ASSERT_EQ(-ENOENT, kvp_pool_delete(pool, "a"));
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "a", value));
	ASSERT_EQ(2, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("c=3;b=22;", buf);
	ASSERT_EQ(2 * REC, file_size(self->path));
	ASSERT_EQ(0, kvp_pool_delete(pool, "b"));
	ASSERT_EQ(0, kvp_pool_set(pool, "d", "4"));

	/* a second handle, read-only, sees the same */
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(2, dump(reader, buf, sizeof(buf)));
	ASSERT_STREQ("c=3;d=4;", buf);
	ASSERT_EQ(-EROFS, kvp_pool_set(reader, "e", "5"));
	ASSERT_EQ(-EROFS, kvp_pool_delete(reader, "c"));
	ASSERT_EQ(0, kvp_pool_delete(pool, "c"));
	ASSERT_EQ(0, kvp_pool_delete(pool, "d"));
	ASSERT_EQ(0, kvp_pool_count(reader));
	ASSERT_EQ(0, file_size(self->path));
	kvp_pool_close(reader);
	kvp_pool_close(pool);
}

/*
 * kvp_pool_foreach() walks every item under one read lock: a DELETE that
 * comes in half way (moving "c" into "a"'s place) waits, and no item that
 * was there throughout is missed, as one ENUMERATE per item would.
 */
TEST_F(pool, foreach_is_a_snapshot)
{
	struct walk w = { .dir = self->dir }, stop = { .stop_after = 2 };
	struct walk none = { .stop_after = 1 };
	struct kvp_pool *pool, *reader;
	char buf[256];
	int status;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
	ASSERT_EQ(0, kvp_pool_set(pool, "c", "3"));

	ASSERT_EQ(0, kvp_pool_foreach(reader, walk_item, &w));
	ASSERT_LT(0, w.deleter);
	ASSERT_EQ(w.deleter, waitpid(w.deleter, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(3, w.calls);
	ASSERT_STREQ("a=1;b=2;c=3;", w.out);
	ASSERT_EQ(2, dump(reader, buf, sizeof(buf)));
	ASSERT_STREQ("c=3;b=2;", buf);

	/* fn's nonzero return stops the walk */
	ASSERT_EQ(42, kvp_pool_foreach(pool, walk_item, &stop));
	ASSERT_STREQ("c=3;b=2;", stop.out);
	kvp_pool_close(reader);
	kvp_pool_close(pool);

	/* no file, no items */
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 4, KVP_POOL_READ));
	ASSERT_EQ(0, kvp_pool_foreach(reader, walk_item, &none));
	ASSERT_EQ(0, none.calls);
	kvp_pool_close(reader);
}

TEST_F(pool, byte_layout)
{
	char want[3 * REC], got[3 * REC + 1], value[KVP_POOL_VALUE];
	char long_value[2001];
	struct kvp_pool *pool;
	struct stat st;
	char dir[128];
	mode_t mask;

	/* the directory and the file are created for every reader to see */
	snprintf(dir, sizeof(dir), "%s/sub", self->dir);
	mask = umask(077);
	ASSERT_EQ(0, kvp_pool_open(&pool, dir, 3, KVP_POOL_WRITE));
	umask(mask);
	ASSERT_EQ(0, stat(dir, &st));
	ASSERT_EQ(0755, st.st_mode & 07777);
	snprintf(dir, sizeof(dir), "%s/sub/.kvp_pool_3", self->dir);
	ASSERT_EQ(0, stat(dir, &st));
	ASSERT_EQ(0100644, st.st_mode);
	kvp_pool_close(pool);
	unlink(dir);
	snprintf(dir, sizeof(dir), "%s/sub", self->dir);
	rmdir(dir);

	make_value(long_value, 2000, "long", 1);
	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_set(pool, "key1", "value1"));
	ASSERT_EQ(0, kvp_pool_set(pool, "Grüße", "日本語 \U0001F600"));
	ASSERT_EQ(0, kvp_pool_set(pool, "key3", long_value));
	record(want, "key1", "value1");
	record(want + REC, "Grüße", "日本語 \U0001F600");
	record(want + 2 * REC, "key3", long_value);
	ASSERT_EQ(3 * REC, read_file(self->path, got, sizeof(got)));
	ASSERT_EQ(0, memcmp(want, got, sizeof(want)));

	/* a shorter value in place leaves zeros, not the old bytes */
	ASSERT_EQ(0, kvp_pool_set(pool, "key3", "short"));
	ASSERT_EQ(0, kvp_pool_set(pool, "key1", ""));
	record(want, "key1", "");
	record(want + 2 * REC, "key3", "short");
	ASSERT_EQ(3 * REC, read_file(self->path, got, sizeof(got)));
	ASSERT_EQ(0, memcmp(want, got, sizeof(want)));
	ASSERT_EQ(0, kvp_pool_get(pool, "key1", value));
	ASSERT_STREQ("", value);
	kvp_pool_close(pool);
}

TEST_F(pool, cloud_init_appends_are_seen)
{
	char rec[3 * REC], value[KVP_POOL_VALUE], buf[256];
	struct kvp_pool *pool, *reader;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(1, kvp_pool_count(reader));

	record(rec, "CLOUD_INIT|1|b", "{\"msg\":\"x\"}");
	ASSERT_EQ(0, append_flock(self->path, rec, REC));
	ASSERT_EQ(0, kvp_pool_get(pool, "CLOUD_INIT|1|b", value));
	ASSERT_STREQ("{\"msg\":\"x\"}", value);

	/* a batch of two, then ours goes after them */
	record(rec, "c", "3");
	record(rec + REC, "d", "4");
	ASSERT_EQ(0, append_flock(self->path, rec, 2 * REC));
	ASSERT_EQ(0, kvp_pool_set(pool, "e", "5"));
	ASSERT_EQ(5, dump(reader, buf, sizeof(buf)));
	ASSERT_STREQ("a=1;CLOUD_INIT|1|b={\"msg\":\"x\"};c=3;d=4;e=5;", buf);
	ASSERT_EQ(5, dump(pool, buf, sizeof(buf)));
	ASSERT_EQ(5 * REC, file_size(self->path));

	/* cloud-init's truncate once per boot */
	ASSERT_EQ(0, truncate(self->path, 0));
	ASSERT_EQ(0, kvp_pool_count(reader));
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "a", value));
	ASSERT_EQ(0, kvp_pool_set(pool, "f", "6"));
	ASSERT_EQ(REC, file_size(self->path));
	kvp_pool_close(reader);
	kvp_pool_close(pool);
}

/*
 * The stock daemon rewrites the whole file.  Done right after our own
 * write, in the same clock tick, with the same size: timestamps cannot
 * tell, so this is the case that needs the change notices.
 */
TEST_F(pool, daemon_rewrite_is_seen)
{
	char recs[3 * REC], value[KVP_POOL_VALUE], buf[256];
	struct kvp_pool *pool, *reader;
	int round;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	for (round = 0; round < 20; round++) {
		ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
		ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
		ASSERT_EQ(0, kvp_pool_set(pool, "c", "3"));
		ASSERT_EQ(3, kvp_pool_count(reader));

		record(recs, "c", "33");
		record(recs + REC, "a", "11");
		record(recs + 2 * REC, "x", "99");
		ASSERT_EQ(0, rewrite_like_daemon(self->path, recs, 3));
		ASSERT_EQ(0, kvp_pool_get(pool, "x", value));
		ASSERT_STREQ("99", value);
		ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "b", value));
		ASSERT_EQ(3, dump(reader, buf, sizeof(buf)));
		ASSERT_STREQ("c=33;a=11;x=99;", buf);

		/* and shrinking, with a write of ours right after */
		ASSERT_EQ(0, rewrite_like_daemon(self->path, recs + REC, 1));
		ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
		ASSERT_EQ(2, dump(reader, buf, sizeof(buf)));
		ASSERT_STREQ("a=11;b=2;", buf);
		ASSERT_EQ(2 * REC, file_size(self->path));

		/* and growing, records moved */
		record(recs, "x", "9");
		record(recs + REC, "b", "2");
		record(recs + 2 * REC, "a", "1");
		ASSERT_EQ(0, rewrite_like_daemon(self->path, recs, 3));
		ASSERT_EQ(3, dump(reader, buf, sizeof(buf)));
		ASSERT_STREQ("x=9;b=2;a=1;", buf);
		ASSERT_EQ(0, kvp_pool_delete(pool, "a"));
		ASSERT_EQ(0, kvp_pool_delete(pool, "b"));
		ASSERT_EQ(0, kvp_pool_delete(pool, "x"));
	}
	kvp_pool_close(reader);
	kvp_pool_close(pool);
}

/*
 * Another engine process deletes and re-adds between two looks of ours:
 * the file grew and its last known slot holds the same key again, but
 * records moved.  The layout mark says so.
 */
TEST_F(pool, moved_records_are_not_taken_for_appends)
{
	char value[KVP_POOL_VALUE], buf[256];
	struct kvp_pool *pool, *reader;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
	ASSERT_EQ(0, kvp_pool_set(pool, "c", "3"));
	ASSERT_EQ(0, kvp_pool_set(pool, "d", "4"));
	ASSERT_EQ(4, kvp_pool_count(reader));

	ASSERT_EQ(0, kvp_pool_delete(pool, "d"));
	ASSERT_EQ(0, kvp_pool_delete(pool, "c"));
	ASSERT_EQ(0, kvp_pool_set(pool, "x", "5"));
	ASSERT_EQ(0, kvp_pool_set(pool, "d", "6"));
	ASSERT_EQ(0, kvp_pool_set(pool, "y", "7"));
	ASSERT_EQ(0, kvp_pool_get(reader, "x", value));
	ASSERT_STREQ("5", value);
	ASSERT_EQ(5, dump(reader, buf, sizeof(buf)));
	ASSERT_STREQ("a=1;b=2;x=5;d=6;y=7;", buf);
	kvp_pool_close(reader);
	kvp_pool_close(pool);
}

/*
 * What we knew ends in a bad record; then the file is truncated and
 * rewritten longer (cloud-init's truncate, and its appends).  The inode
 * and the layout mark stay: only our last slot can tell, and a bad record
 * there proves nothing, so the file is read in full.
 */
TEST_F(pool, rewrite_after_bad_last_record)
{
	char file[3 * REC], value[KVP_POOL_VALUE], buf[256];
	struct kvp_pool *pool;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	memset(file, 'k', REC);				/* no key NUL */
	ASSERT_EQ(0, write_file(self->path, file, REC));
	ASSERT_EQ(0, kvp_pool_count(pool));
	record(file, "x", "1");
	record(file + REC, "y", "2");
	ASSERT_EQ(0, write_file(self->path, file, 2 * REC));
	ASSERT_EQ(0, kvp_pool_get(pool, "x", value));
	ASSERT_STREQ("1", value);
	ASSERT_EQ(2, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("x=1;y=2;", buf);

	/* the same behind a good record */
	record(file, "a", "1");
	memset(file + REC, 'k', REC);
	ASSERT_EQ(0, write_file(self->path, file, 2 * REC));
	ASSERT_EQ(1, kvp_pool_count(pool));
	record(file + REC, "z", "2");
	record(file + 2 * REC, "w", "3");
	ASSERT_EQ(0, write_file(self->path, file, 3 * REC));
	ASSERT_EQ(0, kvp_pool_get(pool, "z", value));
	ASSERT_STREQ("2", value);
	ASSERT_EQ(3, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("a=1;z=2;w=3;", buf);
	kvp_pool_close(pool);
}

/* A layout mark we did not write (too long, not a number) is replaced. */
TEST_F(pool, foreign_layout_mark)
{
	static const char *const marks[] = {
		"123456789012345678901234567890", "garbage", "-1",
	};
	struct kvp_pool *pool, *reader;
	char mark[64], buf[256], *end;
	ssize_t n;
	int fd, i;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	fd = open(self->path, O_RDWR);
	ASSERT_LE(0, fd);
	if (fsetxattr(fd, "user.kvp.layout", "1", 1, 0) && errno == ENOTSUP) {
		close(fd);
		kvp_pool_close(pool);
		SKIP(return, "no user xattrs on %s", self->dir);
	}
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
		ASSERT_EQ(0, kvp_pool_set(pool, "c", "3"));
		ASSERT_EQ(3, kvp_pool_count(reader));
		ASSERT_EQ(0, fsetxattr(fd, "user.kvp.layout", marks[i],
				       strlen(marks[i]), 0));
		ASSERT_EQ(0, kvp_pool_delete(pool, "b"));
		n = fgetxattr(fd, "user.kvp.layout", mark, sizeof(mark) - 1);
		ASSERT_LT(0, n);
		mark[n] = 0;
		ASSERT_LT(0, strtoull(mark, &end, 10));
		ASSERT_EQ(mark + n, end);
		ASSERT_EQ(2, dump(reader, buf, sizeof(buf)));
		ASSERT_STREQ("a=1;c=3;", buf);
		ASSERT_EQ(0, kvp_pool_delete(pool, "c"));
	}
	close(fd);
	kvp_pool_close(reader);
	kvp_pool_close(pool);
}

TEST_F(pool, replaced_or_removed_file)
{
	char rec[REC], value[KVP_POOL_VALUE], tmp[128];
	struct kvp_pool *pool, *reader;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(1, kvp_pool_count(reader));

	snprintf(tmp, sizeof(tmp), "%s/new", self->dir);
	record(rec, "x", "9");
	ASSERT_EQ(0, write_file(tmp, rec, REC));
	ASSERT_EQ(0, rename(tmp, self->path));
	ASSERT_EQ(0, kvp_pool_get(reader, "x", value));
	ASSERT_EQ(-ENOENT, kvp_pool_get(reader, "a", value));
	ASSERT_EQ(0, kvp_pool_set(pool, "y", "8"));
	ASSERT_EQ(2 * REC, file_size(self->path));
	ASSERT_EQ(2, kvp_pool_count(reader));

	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, kvp_pool_count(reader));
	ASSERT_EQ(0, kvp_pool_count(pool));
	ASSERT_EQ(0, kvp_pool_set(pool, "z", "7"));
	ASSERT_EQ(REC, file_size(self->path));
	ASSERT_EQ(0, kvp_pool_get(reader, "z", value));
	kvp_pool_close(reader);
	kvp_pool_close(pool);
}

TEST_F(pool, missing_file_reads_empty)
{
	struct kvp_pool_health health = { 1, 1, 1 };
	char key[KVP_POOL_KEY], value[KVP_POOL_VALUE], dir[128];
	struct kvp_pool *pool, *reader;

	snprintf(dir, sizeof(dir), "%s/none", self->dir);
	ASSERT_EQ(0, kvp_pool_open(&reader, dir, 4, KVP_POOL_READ));
	ASSERT_EQ(0, kvp_pool_count(reader));
	ASSERT_EQ(-ENOENT, kvp_pool_get(reader, "a", value));
	ASSERT_EQ(-ENOENT, kvp_pool_enumerate(reader, 0, key, value));
	ASSERT_EQ(0, kvp_pool_health(reader, &health));
	ASSERT_EQ(0, health.records + health.bad_records + health.torn_bytes);
	ASSERT_NE(0, access(dir, F_OK));

	ASSERT_EQ(0, kvp_pool_open(&pool, dir, 4, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(0, kvp_pool_get(reader, "a", value));
	ASSERT_STREQ("1", value);
	kvp_pool_close(pool);
	kvp_pool_close(reader);
	snprintf(key, sizeof(key), "%s/.kvp_pool_4", dir);
	unlink(key);
	rmdir(dir);
	pool = (struct kvp_pool *)1;
	ASSERT_EQ(-EINVAL, kvp_pool_open(&pool, self->dir, 5, KVP_POOL_READ));
	ASSERT_EQ(NULL, pool);
}

/* A symbolic link to nothing is an error, not a busy loop. */
/* Writers in parallel: engine processes and a cloud-init-style appender. */
TEST_F_TIMEOUT(pool, concurrent_writers, 120)
{
	enum { WRITERS = 6, KEYS = 150 };
	static char file[(WRITERS + 1) * KEYS * REC];
	char key[64], want[64], value[KVP_POOL_VALUE], rec[REC];
	int w, k, status, n, records, seen;
	struct kvp_pool *pool;
	pid_t pid[WRITERS + 1];

	for (w = 0; w <= WRITERS; w++) {
		pid[w] = fork();
		ASSERT_LE(0, pid[w]);
		if (pid[w])
			continue;
		if (w == WRITERS) {
			for (k = 0; k < KEYS; k++) {
				snprintf(key, sizeof(key), "ci-%d", k);
				record(rec, key, key);
				if (append_flock(self->path, rec, REC))
					_exit(1);
			}
			_exit(0);
		}
		if (kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE))
			_exit(1);
		for (k = 0; k < KEYS; k++) {
			snprintf(key, sizeof(key), "w%d-%d", w, k);
			if (kvp_pool_set(pool, key, "first") ||
			    kvp_pool_set(pool, key, key))
				_exit(1);
			/* every third key goes again: deletes move records */
			if (k % 3 == 2 && kvp_pool_delete(pool, key))
				_exit(1);
		}
		kvp_pool_close(pool);
		_exit(0);
	}
	for (w = 0; w <= WRITERS; w++) {
		ASSERT_EQ(pid[w], waitpid(pid[w], &status, 0));
		ASSERT_EQ(0, status);
	}

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_READ));
	records = KEYS + WRITERS * (KEYS - KEYS / 3);
	ASSERT_EQ(records, kvp_pool_count(pool));
	for (w = 0; w <= WRITERS; w++) {
		for (k = 0; k < KEYS; k++) {
			if (w == WRITERS)
				snprintf(key, sizeof(key), "ci-%d", k);
			else
				snprintf(key, sizeof(key), "w%d-%d", w, k);
			if (w < WRITERS && k % 3 == 2) {
				ASSERT_EQ(-ENOENT, kvp_pool_get(pool, key, value));
				continue;
			}
			ASSERT_EQ(0, kvp_pool_get(pool, key, value));
			ASSERT_STREQ(key, value);
		}
	}
	kvp_pool_close(pool);

	/* exactly once on disk, whole records */
	n = read_file(self->path, file, sizeof(file));
	ASSERT_EQ(records * REC, n);
	for (w = 0; w < WRITERS; w++) {
		for (k = 0; k < KEYS; k += 7) {
			snprintf(want, sizeof(want), "w%d-%d", w, k);
			for (seen = 0, n = 0; n < records; n++)
				seen += !strcmp(file + n * REC, want);
			ASSERT_EQ(k % 3 == 2 ? 0 : 1, seen);
		}
	}
}

/*
 * Any user who can read the file can hold its lock: we give up after a
 * bounded wait (2 s, well within the module's 5 s for an answer), with
 * -ETIMEDOUT, and change nothing.
 */
TEST_F_TIMEOUT(pool, lock_holder_cannot_hang_us, 30)
{
	char value[KVP_POOL_VALUE], want[2 * REC], got[2 * REC + 1];
	struct kvp_pool *pool;
	double start;
	pid_t pid;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
	ASSERT_EQ(2 * REC, read_file(self->path, want, sizeof(want)));

	pid = hold_lock(self->path, true);
	ASSERT_LT(0, pid);
	start = now();
	ASSERT_EQ(-ETIMEDOUT, kvp_pool_set(pool, "a", "changed"));
	ASSERT_LE(1.9, now() - start);
	ASSERT_GT(4.0, now() - start);
	start = now();
	ASSERT_EQ(-ETIMEDOUT, kvp_pool_get(pool, "a", value));
	ASSERT_GT(4.0, now() - start);
	release(pid);

	/* an fcntl read lock keeps writers out, not readers */
	pid = hold_lock(self->path, false);
	ASSERT_LT(0, pid);
	start = now();
	ASSERT_EQ(-ETIMEDOUT, kvp_pool_delete(pool, "a"));
	ASSERT_GT(4.0, now() - start);
	ASSERT_EQ(0, kvp_pool_get(pool, "a", value));
	ASSERT_STREQ("1", value);
	release(pid);

	ASSERT_EQ(2 * REC, read_file(self->path, got, sizeof(got)));
	ASSERT_EQ(0, memcmp(want, got, sizeof(want)));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "changed"));
	kvp_pool_close(pool);
}

TEST_F(pool, torn_tail)
{
	struct kvp_pool_health health;
	char rec[REC], value[KVP_POOL_VALUE], buf[256], text[4096];
	struct kvp_pool *pool;
	struct capture cap;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "1"));
	ASSERT_EQ(0, kvp_pool_set(pool, "b", "2"));
	record(rec, "c", "3");
	ASSERT_EQ(0, append_flock(self->path, rec, 1000));

	capture_start(&cap);
	ASSERT_EQ(0, kvp_pool_get(pool, "a", value));
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "c", value));
	capture_end(&cap, text, sizeof(text));
	ASSERT_EQ(1, count(text, "not a whole record"));
	ASSERT_EQ(0, kvp_pool_health(pool, &health));
	ASSERT_EQ(2, health.records);
	ASSERT_EQ(0, health.bad_records);
	ASSERT_EQ(1000, health.torn_bytes);
	ASSERT_EQ(2, dump(pool, buf, sizeof(buf)));

	/* the next append goes over it */
	ASSERT_EQ(0, kvp_pool_set(pool, "d", "4"));
	ASSERT_EQ(3 * REC, file_size(self->path));
	ASSERT_EQ(0, kvp_pool_health(pool, &health));
	ASSERT_EQ(0, health.torn_bytes);
	ASSERT_EQ(3, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("a=1;b=2;d=4;", buf);

	/* a delete drops it too */
	ASSERT_EQ(0, append_flock(self->path, rec, 1000));
	ASSERT_EQ(0, kvp_pool_delete(pool, "a"));
	ASSERT_EQ(2 * REC, file_size(self->path));
	kvp_pool_close(pool);
}

TEST_F(pool, bad_records_are_skipped)
{
	enum { N = 8 };
	struct kvp_pool_health health;
	char file[N * REC], value[KVP_POOL_VALUE], buf[256], text[4096];
	struct kvp_pool *pool, *writer;
	struct capture cap;
	char needle[32];
	int i;

	record(file, "a", "1");
	memset(file + REC, 'k', REC);				/* no key NUL */
	record(file + 2 * REC, "v", "");
	memset(file + 2 * REC + KVP_POOL_KEY, 'v', KVP_POOL_VALUE); /* no value NUL */
	record(file + 3 * REC, "\xff\xfe", "bad key");
	record(file + 4 * REC, "badvalue", "\xc0\xaf");	/* overlong */
	record(file + 5 * REC, "", "empty key");
	record(file + 6 * REC, "b", "2");
	/* garbage after the terminators is no fault */
	record(file + 7 * REC, "c", "3");
	memset(file + 7 * REC + 2, 'x', 100);
	memset(file + 7 * REC + KVP_POOL_KEY + 2, 0xff, 100);
	ASSERT_EQ(0, write_file(self->path, file, sizeof(file)));

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_READ));
	capture_start(&cap);
	ASSERT_EQ(3, dump(pool, buf, sizeof(buf)));
	ASSERT_EQ(0, kvp_pool_get(pool, "b", value));
	capture_end(&cap, text, sizeof(text));
	/*
	 * each named once: per load, not per operation; the empty key (5) is
	 * what a killed change of the engine leaves, skipped without a word
	 */
	ASSERT_EQ(4, count(text, "skipped"));
	for (i = 1; i <= 4; i++) {
		snprintf(needle, sizeof(needle), "record %d ", i);
		ASSERT_EQ(1, count(text, needle));
	}
	ASSERT_STREQ("a=1;b=2;c=3;", buf);
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "badvalue", value));
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "v", value));
	ASSERT_EQ(-EINVAL, kvp_pool_get(pool, "\xff\xfe", value));
	ASSERT_EQ(0, kvp_pool_health(pool, &health));
	ASSERT_EQ(3, health.records);
	ASSERT_EQ(5, health.bad_records);
	ASSERT_EQ(0, health.torn_bytes);

	/* changes around them leave them alone, but remove the empty key */
	ASSERT_EQ(0, kvp_pool_open(&writer, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_set(writer, "d", "4"));
	ASSERT_EQ(0, kvp_pool_delete(writer, "a"));	/* d moves to 0 */
	ASSERT_EQ(0, kvp_pool_delete(writer, "c"));	/* last */
	ASSERT_EQ(0, kvp_pool_delete(writer, "b"));	/* last again */
	ASSERT_EQ(1, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("d=4;", buf);
	/* a skipped record moves into the hole: still skipped */
	ASSERT_EQ(0, kvp_pool_delete(writer, "d"));
	ASSERT_EQ(0, kvp_pool_count(writer));
	ASSERT_EQ(0, kvp_pool_set(writer, "e", "5"));
	ASSERT_EQ(0, kvp_pool_health(writer, &health));
	ASSERT_EQ(1, health.records);
	ASSERT_EQ(4, health.bad_records);
	ASSERT_EQ(5 * REC, file_size(self->path));
	ASSERT_EQ(1, dump(pool, buf, sizeof(buf)));
	kvp_pool_close(writer);
	kvp_pool_close(pool);
}

TEST_F(pool, duplicate_keys_first_wins)
{
	char file[4 * REC], value[KVP_POOL_VALUE], buf[256], text[4096];
	struct kvp_pool *pool;
	struct capture cap;

	record(file, "a", "1");
	record(file + REC, "b", "2");
	record(file + 2 * REC, "a", "3");
	record(file + 3 * REC, "c", "4");
	ASSERT_EQ(0, write_file(self->path, file, sizeof(file)));
	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	capture_start(&cap);
	ASSERT_EQ(0, kvp_pool_get(pool, "a", value));
	capture_end(&cap, text, sizeof(text));
	ASSERT_EQ(1, count(text, "record 2 (offset 5120): repeats the key of record 0"));
	ASSERT_STREQ("1", value);
	ASSERT_EQ(3, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("a=1;b=2;c=4;", buf);
	ASSERT_EQ(0, kvp_pool_set(pool, "a", "5"));
	ASSERT_EQ(0, kvp_pool_get(pool, "a", value));
	ASSERT_STREQ("5", value);
	ASSERT_EQ(4 * REC, file_size(self->path));
	kvp_pool_close(pool);
}

/*
 * A DELETE takes the repeats of the key with it: were one left, it would
 * be served once the first record is gone.  The last record moves into
 * each hole in turn.
 */
TEST_F(pool, delete_removes_repeats)
{
	char file[6 * REC], want[3 * REC], got[6 * REC];
	char value[KVP_POOL_VALUE], buf[256];
	struct kvp_pool_health health;
	struct kvp_pool *pool, *reader;

	record(file, "a", "1");
	record(file + REC, "b", "2");
	record(file + 2 * REC, "a", "3");
	record(file + 3 * REC, "c", "4");
	record(file + 4 * REC, "a", "5");
	record(file + 5 * REC, "d", "6");
	ASSERT_EQ(0, write_file(self->path, file, sizeof(file)));
	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_get(pool, "a", value));
	ASSERT_STREQ("1", value);
	ASSERT_EQ(0, kvp_pool_delete(pool, "a"));
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "a", value));
	ASSERT_EQ(3, dump(pool, buf, sizeof(buf)));
	ASSERT_STREQ("c=4;b=2;d=6;", buf);
	ASSERT_EQ(0, kvp_pool_health(pool, &health));
	ASSERT_EQ(0, health.bad_records);
	record(want, "c", "4");
	record(want + REC, "b", "2");
	record(want + 2 * REC, "d", "6");
	ASSERT_EQ(3 * REC, read_file(self->path, got, sizeof(got)));
	ASSERT_EQ(0, memcmp(want, got, sizeof(want)));

	/* what a reader reading afresh finds */
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(-ENOENT, kvp_pool_get(reader, "a", value));
	ASSERT_EQ(3, dump(reader, buf, sizeof(buf)));
	ASSERT_STREQ("c=4;b=2;d=6;", buf);
	kvp_pool_close(reader);

	/* a repeat just before the last record, behind a bad one */
	record(file, "a", "1");
	record(file + REC, "b", "2");
	memset(file + 2 * REC, 'k', REC);
	record(file + 3 * REC, "a", "3");
	record(file + 4 * REC, "c", "4");
	ASSERT_EQ(0, write_file(self->path, file, 5 * REC));
	ASSERT_EQ(0, kvp_pool_delete(pool, "a"));
	ASSERT_EQ(0, kvp_pool_open(&reader, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(-ENOENT, kvp_pool_get(reader, "a", value));
	ASSERT_EQ(2, dump(reader, buf, sizeof(buf)));
	ASSERT_STREQ("c=4;b=2;", buf);
	ASSERT_EQ(3 * REC, file_size(self->path));
	kvp_pool_close(reader);
	kvp_pool_close(pool);
}

/*
 * Nor may a change leave a repeat last: readers would take it for the newer
 * copy of an interrupted change (below) and serve it.  From a b a=3 X: a
 * DELETE of b (X moves into its place), a DELETE of X, and the completion
 * of an interrupted SET of b (X is its newer copy) before an update.
 */
/* Long values at every position in a page: some updates go in two steps. */
TEST_F(pool, long_updates_everywhere)
{
	char key[16], value[KVP_POOL_VALUE], want[KVP_POOL_VALUE];
	char rec[REC], got[REC];
	struct kvp_pool *pool;
	int i, len, fd;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	for (i = 0; i < 16; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ASSERT_EQ(0, kvp_pool_set(pool, key, "short"));
	}
	for (len = 0; len < KVP_POOL_VALUE; len += 211) {
		for (i = 0; i < 16; i++) {
			snprintf(key, sizeof(key), "k%d", i);
			make_value(want, len, key, len);
			ASSERT_EQ(0, kvp_pool_set(pool, key, want));
			ASSERT_EQ(16 * REC, file_size(self->path));
			record(rec, key, want);
			fd = open(self->path, O_RDONLY);
			ASSERT_EQ(REC, pread(fd, got, REC, (off_t)i * REC));
			close(fd);
			ASSERT_EQ(0, memcmp(rec, got, REC));
			ASSERT_EQ(0, kvp_pool_get(pool, key, value));
			ASSERT_STREQ(want, value);
		}
	}
	kvp_pool_close(pool);
}

TEST_F(pool, limits)
{
	char key[KVP_POOL_KEY + 1], value[KVP_POOL_VALUE + 1];
	char got[KVP_POOL_VALUE];
	struct kvp_pool *pool;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	memset(key, 'k', sizeof(key));
	memset(value, 'v', sizeof(value));
	key[511] = 0;
	value[2047] = 0;
	ASSERT_EQ(0, kvp_pool_set(pool, key, value));
	ASSERT_EQ(0, kvp_pool_get(pool, key, got));
	ASSERT_STREQ(value, got);
	key[511] = 'k';
	key[512] = 0;
	ASSERT_EQ(-ENAMETOOLONG, kvp_pool_set(pool, key, "v"));
	ASSERT_EQ(-ENAMETOOLONG, kvp_pool_get(pool, key, got));
	ASSERT_EQ(-ENAMETOOLONG, kvp_pool_delete(pool, key));
	value[2047] = 'v';
	value[2048] = 0;
	ASSERT_EQ(-EMSGSIZE, kvp_pool_set(pool, "k", value));
	ASSERT_EQ(-EINVAL, kvp_pool_set(pool, "", "v"));
	ASSERT_EQ(-EINVAL, kvp_pool_get(pool, "", got));
	ASSERT_EQ(-EINVAL, kvp_pool_set(pool, "\xc3", "v"));	/* truncated */
	ASSERT_EQ(-EINVAL, kvp_pool_set(pool, "k", "\xed\xa0\x80")); /* surrogate */
	ASSERT_EQ(-EINVAL, kvp_pool_set(pool, "k", "\xf4\x90\x80\x80")); /* > U+10FFFF */
	ASSERT_EQ(0, kvp_pool_set(pool, "k", "\xf0\x9f\x98\x80"));
	ASSERT_EQ(2, kvp_pool_count(pool));
	ASSERT_EQ(2 * REC, file_size(self->path));
	kvp_pool_close(pool);
}

/* A full disk, played by RLIMIT_FSIZE: EFBIG, nothing lost, no torn tail. */
TEST_F(pool, full_disk_loses_nothing)
{
	char value[KVP_POOL_VALUE], want[KVP_POOL_VALUE], key[16];
	struct kvp_pool_health health;
	struct kvp_pool *pool;
	struct rlimit rl;
	int i;

	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	for (i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ASSERT_EQ(0, kvp_pool_set(pool, key, key));
	}
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(0, getrlimit(RLIMIT_FSIZE, &rl));
	rl.rlim_cur = 3 * REC + 1000;
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));

	ASSERT_EQ(-EFBIG, kvp_pool_set(pool, "new", "v"));
	ASSERT_EQ(3 * REC, file_size(self->path));
	/* in place needs no room; the two-step update does, and fails whole */
	ASSERT_EQ(0, kvp_pool_set(pool, "k0", "changed"));
	make_value(want, 2000, "long", 1);
	ASSERT_EQ(-EFBIG, kvp_pool_set(pool, "k1", want));
	ASSERT_EQ(3 * REC, file_size(self->path));
	ASSERT_EQ(0, kvp_pool_health(pool, &health));
	ASSERT_EQ(3, health.records);
	ASSERT_EQ(0, health.bad_records);
	ASSERT_EQ(0, health.torn_bytes);
	ASSERT_EQ(0, kvp_pool_get(pool, "k0", value));
	ASSERT_STREQ("changed", value);
	ASSERT_EQ(0, kvp_pool_get(pool, "k1", value));
	ASSERT_STREQ("k1", value);
	ASSERT_EQ(-ENOENT, kvp_pool_get(pool, "new", value));

	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_FSIZE, &rl));
	ASSERT_EQ(0, kvp_pool_set(pool, "k1", want));
	ASSERT_EQ(0, kvp_pool_set(pool, "new", "v"));
	ASSERT_EQ(4 * REC, file_size(self->path));
	kvp_pool_close(pool);
}

/* kvpctl's pool commands, if it has been built. */
static const char *kvpctl_path(void)
{
	static char path[PATH_MAX];
	const char *env = getenv("KVPCTL");
	char *slash;
	ssize_t n;

	if (env)
		return env;
	/* selftests/out/native/pool_test -> userspace/kvpctl/kvpctl */
	n = readlink("/proc/self/exe", path, sizeof(path) - 64);
	if (n > 0) {
		path[n] = 0;
		slash = strrchr(path, '/');
		strcpy(slash, "/../../../userspace/kvpctl/kvpctl");
		if (!access(path, X_OK))
			return path;
	}
	if (!access("userspace/kvpctl/kvpctl", X_OK))
		return "userspace/kvpctl/kvpctl";
	return NULL;
}

/* Runs kvpctl with args (NULL-terminated); its stdout goes to out. */
static int kvpctl(const char *dir, bool nobody, char *out, size_t size, ...)
{
	const char *argv[16] = { kvpctl_path(), "--pool-dir", dir };
	int argc = 3, fd[2], status;
	ssize_t n, len = 0;
	va_list ap;
	pid_t pid;

	va_start(ap, size);
	while ((argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	if (pipe(fd))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(fd[1], 1);
		close(fd[0]);
		if (nobody && (setgid(65534) || setuid(65534)))
			_exit(127);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	close(fd[1]);
	while (len < (ssize_t)size - 1 &&
	       (n = read(fd[0], out + len, size - 1 - len)) > 0)
		len += n;
	out[len] = 0;
	close(fd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(pool, kvpctl_commands)
{
	char out[4096], key[601];
	const char *d = self->dir;

	if (!kvpctl_path())
		SKIP(return, "kvpctl not built (set KVPCTL=path)");
	memset(key, 'k', 600);
	key[600] = 0;

	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "set", "guest", "k", "v", NULL));
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "set", "1", "k2", "ü", NULL));
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "get", "guest", "k", NULL));
	ASSERT_STREQ("v\n", out);
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "-j", "get", "1", "k2", NULL));
	ASSERT_STREQ("{\"pool\":\"guest\",\"key\":\"k2\",\"value\":\"ü\"}\n", out);
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "list", "guest", NULL));
	ASSERT_STREQ("guest\tk\tv\nguest\tk2\tü\n", out);
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "-j", "list", "guest", NULL));
	ASSERT_STREQ("[{\"pool\":\"guest\",\"number\":1,\"items\":[{\"key\":\"k\",\"value\":\"v\"},{\"key\":\"k2\",\"value\":\"ü\"}]}]\n",
		     out);
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "-j", "list", NULL));
	ASSERT_TRUE(out == strstr(out, "[{\"pool\":\"external\",\"number\":0,\"items\":[]},{\"pool\":\"guest\""));

	/* host-owned pools */
	ASSERT_EQ(8, kvpctl(d, false, out, sizeof(out), "set", "external", "k", "v", NULL));
	ASSERT_EQ(8, kvpctl(d, false, out, sizeof(out), "set", "auto", "k", "v", NULL));
	ASSERT_EQ(8, kvpctl(d, false, out, sizeof(out), "set", "3", "k", "v", NULL));
	ASSERT_EQ(8, kvpctl(d, false, out, sizeof(out), "delete", "0", "k", NULL));
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "set", "auto-internal", "k", "v", NULL));
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "-f", "set", "external", "k", "v", NULL));
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "--force", "delete", "external", "k", NULL));
	ASSERT_EQ(5, kvpctl(d, false, out, sizeof(out), "get", "0", "k", NULL));

	/* errors */
	ASSERT_EQ(4, kvpctl(d, false, out, sizeof(out), "get", "5", "k", NULL));
	ASSERT_EQ(4, kvpctl(d, false, out, sizeof(out), "list", "nope", NULL));
	ASSERT_EQ(3, kvpctl(d, false, out, sizeof(out), "set", "guest", key, "v", NULL));
	ASSERT_EQ(5, kvpctl(d, false, out, sizeof(out), "get", "guest", "missing", NULL));
	ASSERT_EQ(5, kvpctl(d, false, out, sizeof(out), "delete", "guest", "missing", NULL));
	ASSERT_EQ(2, kvpctl(d, false, out, sizeof(out), "get", "guest", NULL));
	ASSERT_EQ(2, kvpctl(d, false, out, sizeof(out), "set", "guest", "", "v", NULL));
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "delete", "guest", "k", NULL));
	ASSERT_EQ(0, kvpctl(d, false, out, sizeof(out), "list", "1", NULL));
	ASSERT_STREQ("guest\tk2\tü\n", out);
	if (!geteuid()) {
		ASSERT_EQ(0, chmod(d, 0755));
		ASSERT_EQ(6, kvpctl(d, true, out, sizeof(out), "set", "guest", "k", "v", NULL));
		ASSERT_EQ(0, kvpctl(d, true, out, sizeof(out), "get", "guest", "k2", NULL));
	}
}

/*
 * How pool files are opened (pool-files.rst, "Opening"): what another user
 * may plant at a pool path is refused, -EPERM, by the engine and by
 * kvpctl (exit 6), and nothing waits on a FIFO.
 */
#define NOBODY	65534

/* Both modes refuse the pool file of dir as unsafe. */
static bool refused(const char *dir)
{
	struct kvp_pool *pool;

	return kvp_pool_open(&pool, dir, 1, KVP_POOL_READ) == -EPERM &&
	       kvp_pool_open(&pool, dir, 1, KVP_POOL_WRITE) == -EPERM &&
	       !pool;
}

TEST_F(pool, planted_symlink_is_refused)
{
	char secret[128], target[128], value[KVP_POOL_VALUE], out[256];
	char rec[REC], buf[64];
	const char *d = self->dir;
	struct kvp_pool *pool;
	int status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root");
	/* root's file, and a directory of nobody's, where nobody plants */
	snprintf(secret, sizeof(secret), "%s/secret", d);
	ASSERT_EQ(0, write_file(secret, "root only\n", 10));
	ASSERT_EQ(0, chmod(secret, 0600));
	ASSERT_EQ(0, chown(d, NOBODY, NOBODY));
	pid = fork();
	if (!pid)
		_exit(setgid(NOBODY) || setuid(NOBODY) ||
		      symlink(secret, self->path));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);

	ASSERT_TRUE(refused(d));
	ASSERT_EQ(6, kvpctl(d, false, out, sizeof(out), "set", "guest", "k", "v", NULL));
	ASSERT_EQ(6, kvpctl(d, false, out, sizeof(out), "delete", "guest", "k", NULL));
	ASSERT_EQ(6, kvpctl(d, false, out, sizeof(out), "get", "guest", "k", NULL));
	ASSERT_EQ(10, read_file(secret, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "root only\n", 10));

	/* a link to nothing: not created, not taken for an empty pool */
	ASSERT_EQ(0, unlink(self->path));
	snprintf(target, sizeof(target), "%s/missing", d);
	ASSERT_EQ(0, symlink(target, self->path));
	ASSERT_TRUE(refused(d));
	ASSERT_EQ(-1, access(target, F_OK));

	/* a link put in place of an open pool's file */
	ASSERT_EQ(0, unlink(self->path));
	record(rec, "a", "1");
	ASSERT_EQ(0, write_file(self->path, rec, REC));
	ASSERT_EQ(0, chown(self->path, NOBODY, NOBODY));
	ASSERT_EQ(0, kvp_pool_open(&pool, d, 1, KVP_POOL_WRITE));
	ASSERT_EQ(0, kvp_pool_get(pool, "a", value));	/* the owner's file */
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, symlink(secret, self->path));
	ASSERT_EQ(-EPERM, kvp_pool_set(pool, "b", "2"));
	ASSERT_EQ(-EPERM, kvp_pool_get(pool, "a", value));
	kvp_pool_close(pool);
	ASSERT_EQ(10, read_file(secret, buf, sizeof(buf)));
}

TEST_F(pool, foreign_file_is_refused)
{
	char other[128], rec[REC];
	struct kvp_pool *pool;

	if (geteuid())
		SKIP(return, "needs root");
	record(rec, "a", "1");
	ASSERT_EQ(0, write_file(self->path, rec, REC));
	ASSERT_EQ(0, chown(self->path, NOBODY, NOBODY));
	ASSERT_TRUE(refused(self->dir));	/* root's directory */
	ASSERT_EQ(0, chown(self->path, 0, 0));
	snprintf(other, sizeof(other), "%s/other", self->dir);
	ASSERT_EQ(0, link(self->path, other));
	ASSERT_TRUE(refused(self->dir));
	ASSERT_EQ(0, unlink(other));
	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_READ));
	ASSERT_EQ(1, kvp_pool_count(pool));
	kvp_pool_close(pool);
}

TEST_F(pool, writable_directory_is_refused)
{
	static const mode_t modes[] = { 0777, 01777, 0775, 0757 };
	struct kvp_pool *pool;
	char out[256];
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ASSERT_EQ(0, chmod(self->dir, modes[i]));
		ASSERT_TRUE(refused(self->dir));
		ASSERT_EQ(6, kvpctl(self->dir, false, out, sizeof(out), "set", "guest", "k", "v", NULL));
		ASSERT_EQ(6, kvpctl(self->dir, false, out, sizeof(out), "get", "guest", "k", NULL));
	}
	ASSERT_EQ(-1, access(self->path, F_OK));	/* nothing created */
	ASSERT_EQ(0, chmod(self->dir, 0755));
	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
	kvp_pool_close(pool);
}

/* The test dies by SIGALRM, failed, if anything waits on the FIFO. */
TEST_F(pool, fifo_is_refused)
{
	char fifo[128], value[KVP_POOL_VALUE], out[256];
	struct kvp_pool *pool;

	alarm(20);
	ASSERT_EQ(0, mkfifo(self->path, 0644));
	ASSERT_TRUE(refused(self->dir));
	ASSERT_EQ(6, kvpctl(self->dir, false, out, sizeof(out), "get", "guest", "k", NULL));
	ASSERT_EQ(6, kvpctl(self->dir, false, out, sizeof(out), "list", "guest", NULL));
	ASSERT_EQ(6, kvpctl(self->dir, false, out, sizeof(out), "set", "guest", "k", "v", NULL));

	/* one put in place of an open pool's file */
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_READ));
	snprintf(fifo, sizeof(fifo), "%s/fifo", self->dir);
	ASSERT_EQ(0, mkfifo(fifo, 0644));
	ASSERT_EQ(0, rename(fifo, self->path));
	ASSERT_EQ(-EPERM, kvp_pool_get(pool, "k", value));
	kvp_pool_close(pool);
	alarm(0);
}

TEST_F(pool, device_is_refused)
{
	char out[256];

	if (geteuid())
		SKIP(return, "needs root");
	ASSERT_EQ(0, symlink("/dev/null", self->path));
	ASSERT_EQ(6, kvpctl(self->dir, false, out, sizeof(out), "set", "guest", "k", "v", NULL));
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_EQ(0, mknod(self->path, S_IFCHR | 0644, makedev(1, 3)));
	ASSERT_TRUE(refused(self->dir));
	ASSERT_EQ(6, kvpctl(self->dir, false, out, sizeof(out), "set", "guest", "k", "v", NULL));
}

TEST_F(pool, directory_is_refused)
{
	struct capture c;
	char text[4096];

	ASSERT_EQ(0, mkdir(self->path, 0755));
	capture_start(&c);
	ASSERT_TRUE(refused(self->dir));
	capture_end(&c, text, sizeof(text));
	ASSERT_EQ(2, count(text, "a directory, not a regular file"));
	ASSERT_EQ(0, count(text, "whole record"));
	ASSERT_EQ(0, rmdir(self->path));
}

/*
 * A --pool-dir with a name too long for the file system is a bad
 * directory (exit 1), not a key too long (exit 3).
 */
TEST_F(pool, kvpctl_pool_dir_too_long)
{
	char dir[400], out[256];

	snprintf(dir, sizeof(dir), "%s/%0300d", self->dir, 0);
	ASSERT_EQ(1, kvpctl(dir, false, out, sizeof(out), "set", "guest", "k", "v", NULL));
	ASSERT_EQ(1, kvpctl(dir, false, out, sizeof(out), "get", "guest", "k", NULL));
	ASSERT_EQ(1, kvpctl(dir, false, out, sizeof(out), "list", "guest", NULL));
	ASSERT_EQ(1, kvpctl(dir, false, out, sizeof(out), "delete", "guest", "k", NULL));
}

TEST_HARNESS_MAIN
