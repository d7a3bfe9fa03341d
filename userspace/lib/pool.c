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
	pool->page = sysconf(_SC_PAGESIZE);
	/* without inotify, timestamps alone tell us of changes */
	pool->notify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ret = -ENOMEM;
	pool->dir = strdup(dir);
	if (!pool->dir || asprintf(&pool->path, "%s/.kvp_pool_%d", dir, nr) < 0)
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
	free(pool->dir);
	free(pool);
}

/* Reads a served slot, checking that the file still agrees with the index. */
static int kvp_pool_read(struct kvp_pool *pool, unsigned int slot, char *key,
			 char *value)
{
	char rec[KVP_POOL_RECORD];
	int ret;

	ret = kvp_pool_read_slot(pool, slot, rec);
	if (!ret && kvp_record_fault(rec))
		ret = -ESTALE;
	if (ret)
		return ret;
	if (key)
		strcpy(key, rec);
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

static int kvp_pool_set_new(struct kvp_pool *pool, const char *rec)
{
	unsigned int nr = pool->nslots;
	char *key;
	int ret;

	ret = kvp_pool_room_key(pool, nr, rec, &key);
	if (ret)
		return ret;
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
 * SET of an existing key.  When one write of the record could be torn
 * (kvp_pool_one_page()), a marked copy of the new record goes to the end
 * first, to be served while the old one is hidden and rewritten
 * (kvp_pool_overwrite()), and is cut off after.  A kill at any moment leaves the old value served
 * or the new one.
 */
static int kvp_pool_set_slot(struct kvp_pool *pool, unsigned int slot,
			     const char *rec)
{
	bool one_write = kvp_pool_one_page(pool, slot, rec, KVP_POOL_KEY);
	char buf[KVP_POOL_RECORD];
	int ret;

	ret = kvp_pool_read_slot(pool, slot, buf);
	if (ret)
		return ret;
	if (!one_write) {
		memcpy(buf, rec, sizeof(buf));
		kvp_pool_mark_copy(buf);
		ret = kvp_pool_append(pool, buf);
	}
	if (!ret)
		ret = kvp_pool_overwrite(pool, slot, rec, KVP_POOL_KEY);
	if (!ret && !one_write)
		ret = kvp_truncate(pool->fd, kvp_offset(pool->nslots));
	if (ret)
		pool->dirty = true;
	else
		kvp_pool_wrote(pool);
	return ret;
}

static int kvp_pool_set_key(struct kvp_pool *pool, const char *rec)
{
	unsigned int slot = kvp_pool_find(pool, rec);

	if (slot == KVP_POOL_NONE)
		return kvp_pool_set_new(pool, rec);
	return kvp_pool_set_slot(pool, slot, rec);
}

/*
 * Runs a change under the write lock.  A change checks that the records it
 * writes over hold what the index says (kvp_pool_read_slot()) before it
 * writes anything there; should one not (another writer's change that
 * kvp_pool_catch_up() could not see: no inotify, a rewrite of the same
 * size within one timestamp tick), it returns -ESTALE and runs again on
 * the file read afresh, once.
 */
static int kvp_pool_change(struct kvp_pool *pool, const char *rec,
			   int (*change)(struct kvp_pool *pool,
					 const char *rec))
{
	int tries, ret;

	for (tries = 0; tries < 2; tries++) {
		ret = kvp_pool_begin(pool, F_WRLCK);
		if (!ret)
			ret = change(pool, rec);
		kvp_pool_unlock(pool);
		if (ret != -ESTALE)
			return ret;
		pool->dirty = true;
	}
	return -EIO;
}

int kvp_pool_set(struct kvp_pool *pool, const char *key, const char *value)
{
	char rec[KVP_POOL_RECORD] = { 0 };
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
	return kvp_pool_change(pool, rec, kvp_pool_set_key);
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
static int kvp_pool_delete_key(struct kvp_pool *pool, const char *key)
{
	unsigned int slot = kvp_pool_find(pool, key), repeat;
	char rec[KVP_POOL_RECORD];
	int ret;

	if (slot == KVP_POOL_NONE)
		return -ENOENT;
	ret = kvp_pool_read_slot(pool, slot, rec);
	while (!ret && pool->slots[slot].repeats) {
		repeat = kvp_pool_find_repeat(pool, slot);
		if (repeat == KVP_POOL_NONE)
			return -ESTALE;
		ret = kvp_pool_delete_slot(pool, repeat);
		if (!ret)
			pool->slots[slot].repeats--;
	}
	return ret ? ret : kvp_pool_delete_slot(pool, slot);
}

int kvp_pool_delete(struct kvp_pool *pool, const char *key)
{
	int ret;

	ret = kvp_check_key(key);
	if (!ret && pool->mode != KVP_POOL_WRITE)
		ret = -EROFS;
	return ret ? ret : kvp_pool_change(pool, key, kvp_pool_delete_key);
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
