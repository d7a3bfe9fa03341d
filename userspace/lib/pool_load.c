// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine: reading a file into the index, in full or just the
 * appended records, and catching up with other writers before each
 * operation (pool-files.rst, "Seeing other writers").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pool_priv.h"

static void kvp_pool_skip(struct kvp_pool *pool, unsigned int nr,
			  const char *why)
{
	pool->bad++;
	if (pool->reports++ < KVP_POOL_REPORTS)
		kvp_warn("%s: record %u (offset %lld): %s, skipped", pool->path,
			 nr, (long long)kvp_offset(nr), why);
}

/*
 * Whether the record at nr, whose key repeats that of the record at first,
 * also holds its value: what an interrupted DELETE leaves when it is
 * killed after copying the last record and before cutting it off.  Readers
 * cannot tell the two apart; the next change removes the repeat.
 */
static bool kvp_pool_same_value(struct kvp_pool *pool, unsigned int first,
				const char *rec)
{
	char served[KVP_POOL_RECORD];

	return kvp_pread(pool->fd, served, sizeof(served),
			 kvp_offset(first)) == sizeof(served) &&
	       !strncmp(served + KVP_POOL_KEY, rec + KVP_POOL_KEY,
			KVP_POOL_VALUE);
}

/*
 * Skips the record at nr quietly: left by an interrupted change (a key
 * that is empty, a repeat of a key with its value, or a SET's marked copy
 * that repeats its key), it is nobody's data and the next change removes
 * it (kvp_pool_tidy()).
 */
static void kvp_pool_leftover(struct kvp_pool *pool, unsigned int nr)
{
	pool->slots[nr].leftover = true;
	pool->leftovers++;
	pool->bad++;
}

/*
 * The first record of a key wins; a later one is skipped.  Loading
 * appended records (from > 0), a key we already knew means the file was
 * rewritten rather than appended to: -ESTALE, load it all.
 */
static int kvp_pool_load_record(struct kvp_pool *pool, unsigned int from,
				unsigned int nr, const char *rec)
{
	const char *fault = kvp_record_fault(rec);
	unsigned int first;
	char why[64];
	uint32_t hash;
	char *key;
	int ret;

	pool->slots[nr].key = NULL;
	pool->slots[nr].leftover = false;
	if (!rec[0]) {
		kvp_pool_leftover(pool, nr);
		return 0;
	}
	if (fault) {
		kvp_pool_skip(pool, nr, fault);
		return 0;
	}
	hash = kvp_hash(rec);
	first = pool->table[kvp_pool_probe(pool, rec, hash)];
	if (first < from)
		return -ESTALE;
	if (first != KVP_POOL_NONE && (kvp_pool_is_copy(rec) ||
				       kvp_pool_same_value(pool, first, rec))) {
		kvp_pool_leftover(pool, nr);
	} else if (first != KVP_POOL_NONE) {
		pool->slots[first].repeats++;
		snprintf(why, sizeof(why), "repeats the key of record %u",
			 first);
		kvp_pool_skip(pool, nr, why);
	} else {
		ret = kvp_pool_room_key(pool, nr, rec, &key);
		if (ret)
			return ret;
		kvp_pool_index(pool, nr, key, hash);
	}
	return 0;
}

/* Indexes the records from slot `from` to the end of a file of `size` bytes. */
static int kvp_pool_load(struct kvp_pool *pool, unsigned int from, off_t size)
{
	off_t records = size / KVP_POOL_RECORD;
	unsigned int n, i, k, want;
	char *buf;
	ssize_t got;
	int ret;

	if (records >= INT_MAX)
		return -EFBIG;
	n = records;
	ret = kvp_pool_room(pool, n);
	if (ret)
		return ret;
	buf = malloc(KVP_POOL_CHUNK * KVP_POOL_RECORD);
	if (!buf)
		return -ENOMEM;
	pool->reports = 0;
	pool->torn = size % KVP_POOL_RECORD;
	for (i = from; !ret && i < n; i += want) {
		want = n - i < KVP_POOL_CHUNK ? n - i : KVP_POOL_CHUNK;
		got = kvp_pread(pool->fd, buf, want * KVP_POOL_RECORD,
				kvp_offset(i));
		if (got < 0) {
			ret = got;
			break;
		}
		if (got != want * KVP_POOL_RECORD) {
			/* cut by a writer ignoring locks: look again next time */
			pool->dirty = true;
			want = got / KVP_POOL_RECORD;
			n = i + want;
			pool->torn = 0;
		}
		for (k = 0; !ret && k < want; k++) {
			ret = kvp_pool_load_record(pool, from, i + k,
						   buf + k * KVP_POOL_RECORD);
			if (!ret)
				pool->nslots = i + k + 1;
		}
	}
	free(buf);
	if (pool->torn)
		kvp_warn("%s: the last %u bytes (offset %lld) are not a whole record, ignored until the next write",
			 pool->path, pool->torn, (long long)kvp_offset(n));
	if (pool->reports > KVP_POOL_REPORTS)
		kvp_warn("%s: %u more skipped records not listed", pool->path,
			 pool->reports - KVP_POOL_REPORTS);
	if (ret)
		pool->dirty = true;
	return ret;
}

/*
 * Whether anyone changed the file since we last looked: inotify reports
 * every write, where timestamps only tell changes a clock tick apart.  Our
 * own writes are drained right after we make them (kvp_pool_wrote()).
 */
static bool kvp_pool_notified(struct kvp_pool *pool)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;

	if (pool->watch < 0)
		return false;
	while ((n = read(pool->notify, buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR))
		changed |= n > 0;
	return changed;
}

int kvp_pool_reload(struct kvp_pool *pool)
{
	kvp_pool_notified(pool);
	if (fstat(pool->fd, &pool->seen) < 0)
		return -errno;
	pool->marked = !kvp_pool_layout(pool, &pool->layout);
	kvp_pool_forget(pool);
	pool->dirty = false;
	return kvp_pool_load(pool, 0, pool->seen.st_size);
}

/* Our own change: remember the file as we left it, so it is not foreign. */
void kvp_pool_wrote(struct kvp_pool *pool)
{
	off_t size = kvp_offset(pool->nslots) + pool->torn;

	kvp_pool_notified(pool);
	if (fstat(pool->fd, &pool->seen) < 0 || pool->seen.st_size != size)
		pool->dirty = true;
}

static bool kvp_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Whether the file only grew since we last saw it, as when cloud-init
 * appends, so that the records we know are still where we know them.  Our
 * own DELETEs move the layout mark.  The stock daemon rewrites the whole
 * file without moving it, and cloud-init's truncate keeps it: what they
 * wrote shows at our last slot.  That must hold the key we know there; a
 * skipped record there is no proof, and the file is read in full.
 */
static bool kvp_pool_appended(struct kvp_pool *pool, const struct stat *st)
{
	unsigned long long mark;
	char key[KVP_POOL_KEY];
	const char *want;

	if (pool->dirty || !pool->marked ||
	    st->st_size <= pool->seen.st_size ||
	    kvp_pool_layout(pool, &mark) || mark != pool->layout)
		return false;
	if (!pool->nslots)
		return true;
	want = pool->slots[pool->nslots - 1].key;
	return want && kvp_pread(pool->fd, key, sizeof(key),
				 kvp_offset(pool->nslots - 1)) == sizeof(key) &&
	       !strncmp(key, want, sizeof(key));
}

/* Brings the index up to date with the file (same inode as ours) at st. */
static int kvp_pool_catch_up(struct kvp_pool *pool, const struct stat *st)
{
	bool notified = kvp_pool_notified(pool);
	int ret;

	if (!pool->dirty && !notified && kvp_same_file(st, &pool->seen))
		return 0;
	if (kvp_pool_appended(pool, st)) {
		pool->seen = *st;
		ret = kvp_pool_load(pool, pool->nslots, st->st_size);
		if (ret != -ESTALE)
			return ret;
	}
	return kvp_pool_reload(pool);
}

/* Closing the fd also drops every fcntl lock we held on the file. */
void kvp_pool_detach(struct kvp_pool *pool)
{
	if (pool->fd < 0)
		return;
	close(pool->fd);
	pool->fd = -1;
	kvp_pool_forget(pool);
	memset(&pool->seen, 0, sizeof(pool->seen));
}

/* Opens the file the path names now; in READ mode there may be none. */
int kvp_pool_attach(struct kvp_pool *pool)
{
	int fd;

	kvp_pool_detach(pool);
	fd = kvp_pool_open_file(pool);
	if (fd == -ENOENT && pool->mode == KVP_POOL_READ)
		return 0;
	if (fd < 0)
		return fd;
	pool->fd = fd;
	pool->dirty = true;
	if (fstat(fd, &pool->seen) < 0)
		return -errno;
	if (pool->notify >= 0) {
		if (pool->watch >= 0)
			inotify_rm_watch(pool->notify, pool->watch);
		/* after open: a file swapped in between shows as a new inode */
		pool->watch = inotify_add_watch(pool->notify, pool->path,
						IN_MODIFY | IN_DONT_FOLLOW);
	}
	return 0;
}

/*
 * Starts an operation: locks the file, follows the path to a new file if
 * it was replaced or removed, and catches up.  Under a write lock it also
 * tidies up after crashes.  kvp_pool_unlock() ends it.
 */
int kvp_pool_begin(struct kvp_pool *pool, short type)
{
	long long deadline = kvp_now_ms() + KVP_POOL_LOCK_MS;
	struct stat st;
	int tries, ret;

	for (tries = 0; tries < KVP_POOL_TRIES; tries++) {
		if (pool->fd >= 0) {
			ret = kvp_pool_lock(pool, type, deadline);
			if (ret)
				return ret;
		}
		/* a link put in the file's place is a new file: refused */
		if (lstat(pool->path, &st) < 0) {
			ret = -errno;
			if (ret != -ENOENT)
				goto fail;
			if (pool->mode == KVP_POOL_READ) {
				kvp_pool_detach(pool);
				return 0;
			}
		} else if (pool->fd >= 0 && st.st_ino == pool->seen.st_ino &&
			   st.st_dev == pool->seen.st_dev) {
			ret = kvp_pool_catch_up(pool, &st);
			if (!ret && type == F_WRLCK &&
			    (pool->leftovers || pool->torn))
				ret = kvp_pool_tidy(pool);
			if (ret)
				goto fail;
			return 0;
		}
		ret = kvp_pool_attach(pool);
		if (ret)
			return ret;
	}
	return -EAGAIN;
fail:
	kvp_pool_unlock(pool);
	return ret;
}
