// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine: the step that moves the last record into a freed slot
 * (DELETE) and the completion of changes a crash interrupted
 * (pool-files.rst, "Crashes").
 */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "pool_priv.h"

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
unsigned int kvp_pool_repeat_of(struct kvp_pool *pool, unsigned int nr)
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
int kvp_pool_delete_slot(struct kvp_pool *pool, unsigned int slot)
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
int kvp_pool_tidy(struct kvp_pool *pool)
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
