// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine (pool.h; the file format, locking and crash rules are in
 * Documentation/pool-files.rst).
 *
 * The file is the only truth.  In memory we keep an index of it (key ->
 * slot, enumeration order -> slot, keys but never values) and what the file
 * looked like when we last read or wrote it.  Every operation locks the
 * file, catches up with what others changed since, and then reads or writes
 * only the records it needs, so its cost does not grow with the pool.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "pool.h"
#include "utf16.h"

#define KVP_POOL_NONE		UINT_MAX	/* no slot */
#define KVP_POOL_CHUNK		64		/* records per read when loading */
#define KVP_POOL_REPORTS	10		/* bad records named per load */
#define KVP_POOL_TRIES		8		/* times we follow a replaced file */
#define KVP_POOL_MIN		64		/* initial array and table sizes */
#define KVP_POOL_LAYOUT		"user.kvp.layout"

/*
 * How long one operation waits for the file's locks, in all.  Whoever can
 * read a pool file can lock it (flock(LOCK_EX) and an fcntl read lock need
 * no write access), so we never wait without end: a lock held for ever
 * costs an -ETIMEDOUT, not a hung daemon.  It must stay well below the
 * time the module gives kvpd to answer (request_timeout_ms, 5000 by
 * default), so that the host hears E_FAIL rather than nothing.
 */
#define KVP_POOL_LOCK_MS	2000
#define KVP_POOL_NAP_US		1000		/* between two tries */

/* Offsets pass 2 GB; a 32-bit build needs -D_FILE_OFFSET_BITS=64. */
static_assert(sizeof(off_t) >= 8, "off_t must be 64 bits wide");

struct kvp_slot {
	char *key;		/* NULL: a skipped record, not served */
	uint32_t hash;
	unsigned int repeats;	/* skipped later records with this key */
};

struct kvp_pool {
	char *path;
	int mode;
	int fd;			/* -1: READ mode and no file yet */
	int notify;		/* inotify instance, -1 if none */
	int watch;		/* its watch on the file, -1 if none */
	long page;
	struct stat seen;	/* the file as we last read or wrote it */
	bool dirty;		/* seen is not to be trusted: reload fully */
	bool marked;		/* the file carries a layout mark ... */
	unsigned long long layout;	/* ... and this was its value */

	struct kvp_slot *slots;	/* one per whole record in the file */
	unsigned int *good;	/* enumeration index -> slot, in slot order */
	unsigned int nslots;
	unsigned int ngood;
	unsigned int cap;	/* allocated entries of slots[] and good[] */
	unsigned int *table;	/* key hash -> slot, linear probing */
	unsigned int mask;	/* table size - 1 */
	unsigned int shadow;	/* slot whose newer copy is the last record */

	unsigned int bad;	/* skipped records */
	unsigned int torn;	/* bytes after the last whole record */
	unsigned int reports;	/* skipped records named in this load */
};

/* I/O that neither gives up on EINTR nor takes a short count for done. */

static ssize_t kvp_pread(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done,
			  off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

static int kvp_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const char *)buf + done, len - done,
			   off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		done += n;
	}
	return 0;
}

static int kvp_truncate(int fd, off_t size)
{
	while (ftruncate(fd, size) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static off_t kvp_offset(unsigned int slot)
{
	return (off_t)slot * KVP_POOL_RECORD;
}

/* FNV-1a: short keys, no adversary worth a keyed hash. */
static uint32_t kvp_hash(const char *key)
{
	uint32_t hash = 2166136261u;

	while (*key) {
		hash ^= (unsigned char)*key++;
		hash *= 16777619u;
	}
	return hash;
}

/* Why a record cannot be served, or NULL if it can. */
static const char *kvp_record_fault(const char *rec)
{
	const char *value = rec + KVP_POOL_KEY;
	size_t klen = strnlen(rec, KVP_POOL_KEY);
	size_t vlen = strnlen(value, KVP_POOL_VALUE);

	if (klen == KVP_POOL_KEY)
		return "key has no terminator";
	if (!klen)
		return "empty key";
	if (vlen == KVP_POOL_VALUE)
		return "value has no terminator";
	if (!kvp_utf8_valid(rec, klen))
		return "key is not valid UTF-8";
	if (!kvp_utf8_valid(value, vlen))
		return "value is not valid UTF-8";
	return NULL;
}

static int kvp_check_key(const char *key)
{
	size_t len = strlen(key);

	if (len >= KVP_POOL_KEY)
		return -ENAMETOOLONG;
	if (!len || !kvp_utf8_valid(key, len))
		return -EINVAL;
	return 0;
}

static int kvp_check_value(const char *value)
{
	size_t len = strlen(value);

	if (len >= KVP_POOL_VALUE)
		return -EMSGSIZE;
	return kvp_utf8_valid(value, len) ? 0 : -EINVAL;
}

/* The table position holding key, or the free one where it would go. */
static unsigned int kvp_pool_probe(const struct kvp_pool *pool,
				   const char *key, uint32_t hash)
{
	unsigned int pos = hash & pool->mask;
	unsigned int slot;

	for (;; pos = (pos + 1) & pool->mask) {
		slot = pool->table[pos];
		if (slot == KVP_POOL_NONE ||
		    (pool->slots[slot].hash == hash &&
		     !strcmp(pool->slots[slot].key, key)))
			return pos;
	}
}

static unsigned int kvp_pool_find(const struct kvp_pool *pool, const char *key)
{
	return pool->table[kvp_pool_probe(pool, key, kvp_hash(key))];
}

/* Backward-shift deletion: linear probing then needs no tombstones. */
static void kvp_pool_unhash(struct kvp_pool *pool, unsigned int pos)
{
	unsigned int next = pos, home, slot;

	for (;;) {
		pool->table[pos] = KVP_POOL_NONE;
		do {
			next = (next + 1) & pool->mask;
			slot = pool->table[next];
			if (slot == KVP_POOL_NONE)
				return;
			home = pool->slots[slot].hash & pool->mask;
			/* stays put while its home lies in (pos, next] */
		} while (pos <= next ? pos < home && home <= next :
			 pos < home || home <= next);
		pool->table[pos] = slot;
		pos = next;
	}
}

static int kvp_pool_rehash(struct kvp_pool *pool, unsigned int size)
{
	unsigned int *table = malloc(size * sizeof(*table));
	unsigned int i, slot;

	if (!table)
		return -ENOMEM;
	free(pool->table);
	pool->table = table;
	pool->mask = size - 1;
	memset(table, 0xff, size * sizeof(*table));
	for (i = 0; i < pool->ngood; i++) {
		slot = pool->good[i];
		table[kvp_pool_probe(pool, pool->slots[slot].key,
				     pool->slots[slot].hash)] = slot;
	}
	return 0;
}

/*
 * Makes room for one more served record at slot nr.  Called before anything
 * is written, so that a record on disk never lacks its index entry.
 */
static int kvp_pool_room(struct kvp_pool *pool, unsigned int nr)
{
	unsigned int cap = pool->cap ? pool->cap : KVP_POOL_MIN;
	struct kvp_slot *slots;
	unsigned int *good;

	if (nr >= pool->cap) {
		while (cap <= nr)
			cap *= 2;
		slots = realloc(pool->slots, cap * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		pool->slots = slots;
		good = realloc(pool->good, cap * sizeof(*good));
		if (!good)
			return -ENOMEM;
		pool->good = good;
		pool->cap = cap;
	}
	/* at most half full, so that probes stay short */
	if ((pool->ngood + 1) * 2 > pool->mask + 1)
		return kvp_pool_rehash(pool, (pool->mask + 1) * 2);
	return 0;
}

/* Serves key (a copy we own) from slot nr, which kvp_pool_room() made. */
static void kvp_pool_index(struct kvp_pool *pool, unsigned int nr, char *key,
			   uint32_t hash)
{
	struct kvp_slot *slot = &pool->slots[nr];

	slot->key = key;
	slot->hash = hash;
	slot->repeats = 0;
	pool->good[pool->ngood++] = nr;
	pool->table[kvp_pool_probe(pool, key, hash)] = nr;
}

static void kvp_pool_forget(struct kvp_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->nslots; i++)
		free(pool->slots[i].key);
	pool->nslots = 0;
	pool->ngood = 0;
	pool->bad = 0;
	pool->torn = 0;
	pool->shadow = KVP_POOL_NONE;
	memset(pool->table, 0xff, (pool->mask + 1) * sizeof(*pool->table));
}

static void kvp_pool_skip(struct kvp_pool *pool, unsigned int nr,
			  const char *why)
{
	pool->bad++;
	if (pool->reports++ < KVP_POOL_REPORTS)
		kvp_warn("%s: record %u (offset %lld): %s, skipped", pool->path,
			 nr, (long long)kvp_offset(nr), why);
}

/*
 * A key seen twice: the first record wins, unless the second is the last
 * record.  Then it is the newer copy that an interrupted DELETE or SET was
 * moving into the first one's place: it is served instead, and the next
 * write completes the move (kvp_pool_tidy()).  A DELETE of the key also
 * removes the other repeats (kvp_pool_delete_key()).
 */
static void kvp_pool_duplicate(struct kvp_pool *pool, unsigned int nr,
			       unsigned int first, bool last)
{
	char why[96];

	if (last)
		pool->shadow = first;
	else
		pool->slots[first].repeats++;
	snprintf(why, sizeof(why), last ?
		 "newer copy of record %u left by an interrupted change" :
		 "repeats the key of record %u", first);
	kvp_pool_skip(pool, nr, why);
}

/* One reading of records from the file (kvp_pool_load()). */
struct kvp_load {
	unsigned int from;		/* first slot read: 0, or the old end */
	unsigned int last;		/* the last whole record */
	char tail[KVP_POOL_KEY];	/* its key if it is good, else "" */
};

/*
 * The first record of the last record's key, its value torn: the copy an
 * interrupted two-step SET or DELETE was writing when it was killed
 * between two pages (a key never straddles one), maybe inside a UTF-8
 * sequence.  It holds the key's place for the intact copy at the end, as
 * an untorn one would; skipped, it would stay bad for good and the key
 * would move to the end.
 */
static bool kvp_pool_torn_copy(const struct kvp_pool *pool,
			       const struct kvp_load *load, unsigned int nr,
			       const char *rec)
{
	return nr != load->last && load->tail[0] &&
	       !strncmp(rec, load->tail, KVP_POOL_KEY) &&
	       kvp_pool_find(pool, rec) == KVP_POOL_NONE;
}

/*
 * Loading appended records (from > 0), a key we already knew means the
 * file was rewritten rather than appended to: -ESTALE, load it all.
 */
static int kvp_pool_load_record(struct kvp_pool *pool,
				const struct kvp_load *load, unsigned int nr,
				const char *rec)
{
	const char *fault = kvp_record_fault(rec);
	unsigned int first;
	uint32_t hash;
	char *key;
	int ret;

	pool->slots[nr].key = NULL;
	if (fault && !kvp_pool_torn_copy(pool, load, nr, rec)) {
		kvp_pool_skip(pool, nr, fault);
		return 0;
	}
	hash = kvp_hash(rec);
	first = pool->table[kvp_pool_probe(pool, rec, hash)];
	if (first < load->from)
		return -ESTALE;
	if (first != KVP_POOL_NONE) {
		kvp_pool_duplicate(pool, nr, first, nr == load->last);
		return 0;
	}
	ret = kvp_pool_room(pool, nr);
	if (ret)
		return ret;
	key = strdup(rec);
	if (!key)
		return -ENOMEM;
	kvp_pool_index(pool, nr, key, hash);
	return 0;
}

/* The key of the last record, if it is good, for kvp_pool_torn_copy(). */
static void kvp_pool_peek_tail(struct kvp_pool *pool, struct kvp_load *load,
			       char *buf)
{
	if (kvp_pread(pool->fd, buf, KVP_POOL_RECORD,
		      kvp_offset(load->last)) == KVP_POOL_RECORD &&
	    !kvp_record_fault(buf))
		strcpy(load->tail, buf);
}

/* Indexes the records from slot `from` to the end of a file of `size` bytes. */
static int kvp_pool_load(struct kvp_pool *pool, unsigned int from, off_t size)
{
	off_t records = size / KVP_POOL_RECORD;
	struct kvp_load load = { .from = from };
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
	load.last = n - 1;
	if (n > from)
		kvp_pool_peek_tail(pool, &load, buf);
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
			load.last = n - 1;
			pool->torn = 0;
		}
		for (k = 0; !ret && k < want; k++) {
			ret = kvp_pool_load_record(pool, &load, i + k,
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

/*
 * The layout mark, an xattr counting the changes that moved records
 * (DELETEs), tells a file that only grew from one where records also
 * moved before it grew.  A file system without user xattrs has none: then
 * every change of the file is read in full.  A mark we did not write (too
 * long, not a number) is -EBADMSG: nobody can go by it either.
 */
static int kvp_pool_layout(struct kvp_pool *pool, unsigned long long *mark)
{
	char buf[24], *end;
	ssize_t n;

	n = fgetxattr(pool->fd, KVP_POOL_LAYOUT, buf, sizeof(buf) - 1);
	if (n < 0 && errno == ENODATA)
		n = 0;
	if (n < 0)
		return errno == ERANGE ? -EBADMSG : -errno;
	buf[n] = 0;
	errno = 0;
	*mark = strtoull(buf, &end, 10);
	if (errno || end != buf + n || (n && !isdigit((unsigned char)buf[0])))
		return -EBADMSG;
	return 0;
}

/*
 * Before a DELETE: a slot we vacate may be refilled by other keys, so
 * whoever saw the file before must not take its growth for appends.  A
 * mark nobody could read is replaced by the time in nanoseconds: a value
 * no counter that anyone saw can have reached since, as a DELETE takes
 * longer than a nanosecond.
 */
static int kvp_pool_bump_layout(struct kvp_pool *pool)
{
	unsigned long long mark;
	struct timespec now;
	char buf[24];
	int ret;

	ret = kvp_pool_layout(pool, &mark);
	if (ret == -ENOTSUP)
		return 0;
	if (ret == -EBADMSG) {
		clock_gettime(CLOCK_REALTIME, &now);
		mark = now.tv_sec * 1000000000ull + now.tv_nsec;
	} else if (ret) {
		return ret;
	}
	snprintf(buf, sizeof(buf), "%llu", mark + 1);
	if (fsetxattr(pool->fd, KVP_POOL_LAYOUT, buf, strlen(buf), 0) < 0)
		return errno == ENOTSUP ? 0 : -errno;
	pool->layout = mark + 1;
	return 0;
}

static int kvp_pool_reload(struct kvp_pool *pool)
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
static void kvp_pool_wrote(struct kvp_pool *pool)
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

	if (pool->dirty || pool->shadow != KVP_POOL_NONE || !pool->marked ||
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

/*
 * The served record of the last slot, last in good[], moved into the
 * skipped slot nr: it takes its place in the order of the file.
 */
static void kvp_pool_reorder(struct kvp_pool *pool, unsigned int nr)
{
	unsigned int i;

	for (i = pool->ngood - 1; i && pool->good[i - 1] > nr; i--)
		pool->good[i] = pool->good[i - 1];
	pool->good[i] = nr;
}

/*
 * The record at slot is gone and the last record has taken its place.
 * The one gone is served, or a repeat (kvp_pool_delete_key()).
 */
static void kvp_pool_unindex(struct kvp_pool *pool, unsigned int slot)
{
	struct kvp_slot *gone = &pool->slots[slot];
	struct kvp_slot *moved = &pool->slots[--pool->nslots];
	bool served = gone->key;

	if (served) {
		kvp_pool_unhash(pool, kvp_pool_probe(pool, gone->key,
						     gone->hash));
		free(gone->key);
		gone->key = NULL;
		/* the last good slot came last in good[] */
		pool->ngood--;
	} else {
		pool->bad--;
	}
	if (gone == moved)
		return;
	if (!moved->key) {
		/* a skipped record moved into the middle: rare, reindex */
		pool->dirty |= served;
		return;
	}
	pool->table[kvp_pool_probe(pool, moved->key, moved->hash)] = slot;
	*gone = *moved;
	if (!served)
		kvp_pool_reorder(pool, slot);
}

/*
 * The O(1) step of a DELETE: the last record moves into the freed slot and
 * the file loses its last record.  A crash between the two leaves the
 * moved record twice, the copy at the end being the intact one
 * (kvp_pool_duplicate()).
 */
static int kvp_pool_move_last(struct kvp_pool *pool, unsigned int slot)
{
	unsigned int last = pool->nslots - 1;
	char rec[KVP_POOL_RECORD];
	ssize_t got;
	int ret;

	ret = kvp_pool_bump_layout(pool);
	if (ret)
		return ret;
	if (slot != last) {
		got = kvp_pread(pool->fd, rec, sizeof(rec), kvp_offset(last));
		if (got != sizeof(rec))
			return got < 0 ? got : -EIO;
		ret = kvp_pwrite(pool->fd, rec, sizeof(rec), kvp_offset(slot));
	}
	if (!ret)
		ret = kvp_truncate(pool->fd, kvp_offset(last));
	if (ret) {
		pool->dirty = true;
		return ret;
	}
	kvp_pool_unindex(pool, slot);
	kvp_pool_wrote(pool);
	return 0;
}

/* The slot whose key the record at nr repeats, if it is a skipped repeat. */
static unsigned int kvp_pool_repeat_of(struct kvp_pool *pool, unsigned int nr)
{
	char rec[KVP_POOL_RECORD];

	if (pool->slots[nr].key ||
	    kvp_pread(pool->fd, rec, sizeof(rec), kvp_offset(nr)) !=
	    sizeof(rec) || kvp_record_fault(rec))
		return KVP_POOL_NONE;
	return kvp_pool_find(pool, rec);
}

/*
 * Removes the record at slot.  The record before the last becomes the
 * last: were it a skipped repeat, readers would take it for the newer copy
 * of an interrupted change and serve it (kvp_pool_duplicate()).  Such a
 * one goes first, the same way.
 */
static int kvp_pool_delete_slot(struct kvp_pool *pool, unsigned int slot)
{
	unsigned int next, owner;
	int ret;

	for (;;) {
		next = pool->nslots - 2;
		if (pool->nslots < 2 || next == slot)
			break;
		owner = kvp_pool_repeat_of(pool, next);
		if (owner == KVP_POOL_NONE)
			break;
		ret = kvp_pool_move_last(pool, next);
		if (ret)
			return ret;
		pool->slots[owner].repeats--;
		if (slot == pool->nslots)	/* it was the last: it moved */
			slot = next;
	}
	return kvp_pool_move_last(pool, slot);
}

/*
 * Under the write lock, before a change: completes a change a crash
 * interrupted (the last record is the newer copy of the one at
 * pool->shadow, see kvp_pool_duplicate()) and cuts off a torn tail.
 */
static int kvp_pool_tidy(struct kvp_pool *pool)
{
	unsigned int first = pool->shadow, last = pool->nslots - 1;
	char rec[KVP_POOL_RECORD];
	ssize_t got;
	int ret;

	ret = kvp_truncate(pool->fd, kvp_offset(pool->nslots));
	if (ret)
		goto fail;
	pool->torn = 0;
	if (first == KVP_POOL_NONE) {
		kvp_pool_wrote(pool);
		return 0;
	}
	got = kvp_pread(pool->fd, rec, sizeof(rec), kvp_offset(last));
	if (got != sizeof(rec)) {
		ret = got < 0 ? got : -EIO;
		goto fail;
	}
	ret = kvp_pwrite(pool->fd, rec, sizeof(rec), kvp_offset(first));
	if (ret)
		goto fail;
	/* the copy at the end is a mere repeat now */
	pool->shadow = KVP_POOL_NONE;
	ret = kvp_pool_delete_slot(pool, last);
	if (ret)
		goto fail;
	kvp_info("%s: completed the interrupted change of record %u",
		 pool->path, first);
	return 0;
fail:
	pool->dirty = true;
	return ret;
}

/*
 * In WRITE mode the file is created if it is missing; only a file we
 * created is made 0644.  Should it exist to O_EXCL and not to the open
 * after it, someone removed it in between (try again), or it is a
 * symbolic link to nothing, which O_EXCL does not follow: -ENOENT after a
 * few tries, we do not create a link's target.
 */
static int kvp_pool_open_file(const struct kvp_pool *pool)
{
	int fd, tries;

	if (pool->mode == KVP_POOL_READ) {
		fd = open(pool->path, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	for (tries = 0; tries < KVP_POOL_TRIES; tries++) {
		fd = open(pool->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			  0644);
		if (fd >= 0) {
			fchmod(fd, 0644);	/* whatever the umask: readers */
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
		fd = open(pool->path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			return fd < 0 ? -errno : fd;
	}
	return -ENOENT;
}

/* Closing the fd also drops every fcntl lock we held on the file. */
static void kvp_pool_detach(struct kvp_pool *pool)
{
	if (pool->fd < 0)
		return;
	close(pool->fd);
	pool->fd = -1;
	kvp_pool_forget(pool);
	memset(&pool->seen, 0, sizeof(pool->seen));
}

/* Opens the file the path names now; in READ mode there may be none. */
static int kvp_pool_attach(struct kvp_pool *pool)
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
						IN_MODIFY);
	}
	return 0;
}

static long long kvp_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000LL + now.tv_nsec / 1000000;
}

/*
 * The fcntl lock is the one the stock daemon and the documented writers
 * take.  cloud-init appends under flock() instead, which does not conflict
 * with fcntl locks on Linux; taking both keeps its appends out of our
 * changes (a DELETE's truncate would cut one off) and out of our reads.
 * One try at both: -EAGAIN if someone holds either, and then we hold
 * neither.
 */
static int kvp_pool_try_lock(struct kvp_pool *pool, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	int ret;

	if (fcntl(pool->fd, F_SETLK, &fl) < 0)
		return errno == EACCES || errno == EAGAIN ? -EAGAIN : -errno;
	if (!flock(pool->fd, (type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB))
		return 0;
	ret = -errno;
	fl.l_type = F_UNLCK;
	fcntl(pool->fd, F_SETLK, &fl);
	return ret;
}

/* Tries until deadline (kvp_now_ms()): see KVP_POOL_LOCK_MS. */
static int kvp_pool_lock(struct kvp_pool *pool, short type, long long deadline)
{
	int ret;

	while ((ret = kvp_pool_try_lock(pool, type)) == -EAGAIN) {
		if (kvp_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(KVP_POOL_NAP_US);
	}
	return ret;
}

static void kvp_pool_unlock(struct kvp_pool *pool)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (pool->fd < 0)
		return;
	flock(pool->fd, LOCK_UN);
	fcntl(pool->fd, F_SETLK, &fl);
}

/*
 * Starts an operation: locks the file, follows the path to a new file if
 * it was replaced or removed, and catches up.  Under a write lock it also
 * tidies up after crashes.  kvp_pool_unlock() ends it.
 */
static int kvp_pool_begin(struct kvp_pool *pool, short type)
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
		if (stat(pool->path, &st) < 0) {
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
			    (pool->shadow != KVP_POOL_NONE || pool->torn))
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

/* The daemon's rule: create the directory, not its parents. */
static int kvp_pool_mkdir(const char *dir)
{
	if (!mkdir(dir, 0755))
		return chmod(dir, 0755) < 0 ? -errno : 0; /* whatever the umask */
	return errno == EEXIST ? 0 : -errno;
}

int kvp_pool_open(struct kvp_pool **poolp, const char *dir, int nr, int mode)
{
	struct kvp_pool *pool;
	int ret;

	*poolp = NULL;
	if (nr < 0 || nr >= KVP_POOL_COUNT ||
	    (mode != KVP_POOL_READ && mode != KVP_POOL_WRITE))
		return -EINVAL;
	if (mode == KVP_POOL_WRITE) {
		ret = kvp_pool_mkdir(dir);
		if (ret)
			return ret;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->mode = mode;
	pool->fd = -1;
	pool->watch = -1;
	pool->shadow = KVP_POOL_NONE;
	pool->page = sysconf(_SC_PAGESIZE);
	/* without inotify, timestamps alone tell us of changes */
	pool->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ret = -ENOMEM;
	if (asprintf(&pool->path, "%s/.kvp_pool_%d", dir, nr) < 0)
		pool->path = NULL;
	else
		ret = kvp_pool_rehash(pool, KVP_POOL_MIN);
	if (!ret)
		ret = kvp_pool_attach(pool);
	if (ret) {
		kvp_pool_close(pool);
		return ret;
	}
	*poolp = pool;
	return 0;
}

void kvp_pool_close(struct kvp_pool *pool)
{
	if (!pool)
		return;
	kvp_pool_detach(pool);
	if (pool->notify >= 0)
		close(pool->notify);
	free(pool->table);
	free(pool->slots);
	free(pool->good);
	free(pool->path);
	free(pool);
}

/* Reads a served slot, checking that the file still agrees with the index. */
static int kvp_pool_read(struct kvp_pool *pool, unsigned int slot, char *key,
			 char *value)
{
	const char *want = pool->slots[slot].key;
	char rec[KVP_POOL_RECORD];
	ssize_t got;

	if (slot == pool->shadow)
		slot = pool->nslots - 1;
	got = kvp_pread(pool->fd, rec, sizeof(rec), kvp_offset(slot));
	if (got < 0)
		return got;
	if (got != sizeof(rec) || strncmp(rec, want, KVP_POOL_KEY) ||
	    kvp_record_fault(rec))
		return -ESTALE;
	if (key)
		strcpy(key, want);
	strcpy(value, rec + KVP_POOL_KEY);
	return 0;
}

/*
 * GET (by key) and ENUMERATE (by index, key NULL), under the read lock.
 * Should the file disagree with the index, a change slipped past
 * kvp_pool_catch_up() (a writer ignoring locks): reload fully and look
 * again, once per operation (*retried).
 */
static int kvp_pool_lookup(struct kvp_pool *pool, const char *key,
			   unsigned int index, char *key_out, char *value,
			   bool *retried)
{
	unsigned int slot;
	int ret;

	for (;;) {
		if (key)
			slot = kvp_pool_find(pool, key);
		else
			slot = index < pool->ngood ? pool->good[index] :
						     KVP_POOL_NONE;
		if (slot == KVP_POOL_NONE)
			return -ENOENT;
		ret = kvp_pool_read(pool, slot, key_out, value);
		if (ret != -ESTALE)
			return ret;
		if (*retried)
			return -EIO;
		*retried = true;
		ret = kvp_pool_reload(pool);
		if (ret)
			return ret;
	}
}

static int kvp_pool_fetch(struct kvp_pool *pool, const char *key,
			  unsigned int index, char *key_out, char *value)
{
	bool retried = false;
	int ret;

	ret = kvp_pool_begin(pool, F_RDLCK);
	if (!ret)
		ret = kvp_pool_lookup(pool, key, index, key_out, value,
				      &retried);
	kvp_pool_unlock(pool);
	return ret;
}

int kvp_pool_get(struct kvp_pool *pool, const char *key,
		 char value[KVP_POOL_VALUE])
{
	int ret = kvp_check_key(key);

	return ret ? ret : kvp_pool_fetch(pool, key, 0, NULL, value);
}

int kvp_pool_enumerate(struct kvp_pool *pool, unsigned int index,
		       char key[KVP_POOL_KEY], char value[KVP_POOL_VALUE])
{
	return kvp_pool_fetch(pool, NULL, index, key, value);
}

/*
 * Every item under one read lock, where each ENUMERATE takes the lock anew
 * and a DELETE between two of them moves the last item to a lower index.
 */
int kvp_pool_foreach(struct kvp_pool *pool,
		     int (*fn)(const char *key, const char *value, void *arg),
		     void *arg)
{
	char key[KVP_POOL_KEY], value[KVP_POOL_VALUE];
	bool retried = false;
	unsigned int i;
	int ret;

	ret = kvp_pool_begin(pool, F_RDLCK);
	for (i = 0; !ret && i < pool->ngood; i++) {
		ret = kvp_pool_lookup(pool, NULL, i, key, value, &retried);
		if (!ret)
			ret = fn(key, value, arg);
	}
	kvp_pool_unlock(pool);
	return ret;
}

/*
 * Writes rec after the last record (kvp_pool_tidy() cut any torn tail).  A
 * failed append is cut back off, so that it leaves no partial record.
 */
static int kvp_pool_append(struct kvp_pool *pool, const char *rec)
{
	off_t end = kvp_offset(pool->nslots);
	int ret;

	ret = kvp_pwrite(pool->fd, rec, KVP_POOL_RECORD, end);
	if (ret) {
		kvp_truncate(pool->fd, end);
		pool->dirty = true;
	}
	return ret;
}

static int kvp_pool_set_new(struct kvp_pool *pool, const char *rec)
{
	unsigned int nr = pool->nslots;
	char *key;
	int ret;

	ret = kvp_pool_room(pool, nr);
	if (ret)
		return ret;
	key = strdup(rec);
	if (!key)
		return -ENOMEM;
	ret = kvp_pool_append(pool, rec);
	if (ret) {
		free(key);
		return ret;
	}
	pool->nslots++;
	kvp_pool_index(pool, nr, key, kvp_hash(key));
	kvp_pool_wrote(pool);
	return 0;
}

/*
 * Whether rewriting the record at slot in place is all or nothing for a
 * kill -9.  The kernel copies a write into the page cache a page at a time
 * and may stop between pages for a fatal signal.  The key does not change,
 * so it is enough that the new value and its terminator lie in one page.
 */
static bool kvp_pool_in_place(const struct kvp_pool *pool, unsigned int slot,
			      size_t vlen)
{
	off_t value = kvp_offset(slot) + KVP_POOL_KEY;

	return value / pool->page == (value + (off_t)vlen) / pool->page;
}

/*
 * SET of an existing key.  Where a rewrite in place could be torn, the new
 * record goes to the end first and is then copied over the old one: a
 * crash anywhere leaves either the old record or a newer copy at the end,
 * which the next write completes (kvp_pool_tidy()).
 */
static int kvp_pool_set_slot(struct kvp_pool *pool, unsigned int slot,
			     const char *rec, size_t vlen)
{
	int ret;

	if (kvp_pool_in_place(pool, slot, vlen)) {
		ret = kvp_pwrite(pool->fd, rec, KVP_POOL_RECORD,
				 kvp_offset(slot));
	} else {
		ret = kvp_pool_append(pool, rec);
		if (ret)
			return ret;
		ret = kvp_pwrite(pool->fd, rec, KVP_POOL_RECORD,
				 kvp_offset(slot));
		if (!ret)
			ret = kvp_truncate(pool->fd, kvp_offset(pool->nslots));
	}
	if (ret)
		pool->dirty = true;
	else
		kvp_pool_wrote(pool);
	return ret;
}

int kvp_pool_set(struct kvp_pool *pool, const char *key, const char *value)
{
	char rec[KVP_POOL_RECORD] = { 0 };
	unsigned int slot;
	int ret;

	ret = kvp_check_key(key);
	if (!ret)
		ret = kvp_check_value(value);
	if (!ret && pool->mode != KVP_POOL_WRITE)
		ret = -EROFS;
	if (ret)
		return ret;
	strcpy(rec, key);
	strcpy(rec + KVP_POOL_KEY, value);
	ret = kvp_pool_begin(pool, F_WRLCK);
	if (ret)
		return ret;
	slot = kvp_pool_find(pool, key);
	if (slot == KVP_POOL_NONE)
		ret = kvp_pool_set_new(pool, rec);
	else
		ret = kvp_pool_set_slot(pool, slot, rec, strlen(value));
	kvp_pool_unlock(pool);
	return ret;
}

/*
 * The last slot holding a skipped repeat of the key served from slot.  The
 * index keeps no keys of skipped records: we read them, only ever for a
 * key that has repeats.
 */
static unsigned int kvp_pool_find_repeat(struct kvp_pool *pool,
					 unsigned int slot)
{
	unsigned int nr;

	for (nr = pool->nslots - 1; nr > slot; nr--)
		if (kvp_pool_repeat_of(pool, nr) == slot)
			return nr;
	return KVP_POOL_NONE;
}

/*
 * A DELETE removes every record of the key: first the repeats that we
 * skipped (cloud-init may append a key that is already there), the last
 * one first, then the record we serve.  A repeat left behind would be
 * served once that one is gone; a crash before the end leaves the key
 * served as it was.
 */
static int kvp_pool_delete_key(struct kvp_pool *pool, unsigned int slot)
{
	unsigned int repeat;
	int ret;

	while (pool->slots[slot].repeats) {
		repeat = kvp_pool_find_repeat(pool, slot);
		if (repeat == KVP_POOL_NONE) {
			pool->dirty = true;
			return -EIO;
		}
		ret = kvp_pool_delete_slot(pool, repeat);
		if (ret)
			return ret;
		pool->slots[slot].repeats--;
	}
	return kvp_pool_delete_slot(pool, slot);
}

int kvp_pool_delete(struct kvp_pool *pool, const char *key)
{
	unsigned int slot;
	int ret;

	ret = kvp_check_key(key);
	if (!ret && pool->mode != KVP_POOL_WRITE)
		ret = -EROFS;
	if (ret)
		return ret;
	ret = kvp_pool_begin(pool, F_WRLCK);
	if (ret)
		return ret;
	slot = kvp_pool_find(pool, key);
	if (slot == KVP_POOL_NONE)
		ret = -ENOENT;
	else
		ret = kvp_pool_delete_key(pool, slot);
	kvp_pool_unlock(pool);
	return ret;
}

int kvp_pool_count(struct kvp_pool *pool)
{
	int ret = kvp_pool_begin(pool, F_RDLCK);

	if (!ret)
		ret = pool->ngood;
	kvp_pool_unlock(pool);
	return ret;
}

int kvp_pool_health(struct kvp_pool *pool, struct kvp_pool_health *health)
{
	int ret = kvp_pool_begin(pool, F_RDLCK);

	if (!ret) {
		health->records = pool->ngood;
		health->bad_records = pool->bad;
		health->torn_bytes = pool->torn;
	}
	kvp_pool_unlock(pool);
	return ret;
}
