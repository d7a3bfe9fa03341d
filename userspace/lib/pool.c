// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine's API (pool.h): open and close, GET, ENUMERATE, SET and
 * DELETE.  How the engine is laid out: pool_priv.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool_priv.h"

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
