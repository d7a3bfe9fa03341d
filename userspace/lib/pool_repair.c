// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine: writing records so that a kill at any moment leaves
 * nothing a reader could take for a mix of two records, moving the last
 * record into a freed slot (DELETE), and removing what an interrupted
 * change left behind (pool-files.rst, "Crashes").
 *
 * The kernel copies a write into the page cache a page at a time and may
 * stop between two pages for a fatal signal: a write within one page is
 * all or nothing, a longer one may stop at any page boundary.  A record
 * starts at a multiple of 512 bytes, so its key never straddles a page.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "pool_priv.h"

/* The end of the page that holds byte off of the file. */
static off_t kvp_pool_page_end(const struct kvp_pool *pool, off_t off)
{
	return (off / pool->page + 1) * pool->page;
}

/*
 * Whether readers see rec whole or not at all when one pwrite() of it over
 * slot stops at a page boundary: everything they look at, from the first
 * byte that may differ from what is there (from, an offset in the record)
 * to the value's terminator, lies in one page.  Bytes after the terminator
 * are nobody's business.
 */
bool kvp_pool_one_page(const struct kvp_pool *pool, unsigned int slot,
		       const char *rec, size_t from)
{
	off_t start = kvp_offset(slot);
	off_t end = start + KVP_POOL_KEY + strlen(rec + KVP_POOL_KEY);

	return end < kvp_pool_page_end(pool, start + (off_t)from);
}

/*
 * Where a record made by kvp_pool_mark_copy() carries the mark: after the
 * value's terminator if there is room, else after the key's; NULL if
 * neither has room (a key of 504 bytes or more and a value of 2040 or
 * more: then the copy goes unmarked).
 */
static char *kvp_pool_mark_at(const char *rec)
{
	size_t mark = sizeof(KVP_POOL_COPY_MARK);

	if (strnlen(rec + KVP_POOL_KEY, KVP_POOL_VALUE) < KVP_POOL_VALUE - mark)
		return (char *)rec + KVP_POOL_RECORD - mark;
	if (strnlen(rec, KVP_POOL_KEY) < KVP_POOL_KEY - mark)
		return (char *)rec + KVP_POOL_KEY - mark;
	return NULL;
}

/*
 * Marks rec, a copy that a SET appends while it rewrites the record it
 * replaces, in bytes that readers do not look at (after a terminator):
 * should the SET be killed before it hides that record, the copy is a
 * repeat that the next change knows to remove (kvp_pool_is_copy()).
 */
void kvp_pool_mark_copy(char *rec)
{
	char *mark = kvp_pool_mark_at(rec);

	if (mark)
		memcpy(mark, KVP_POOL_COPY_MARK, sizeof(KVP_POOL_COPY_MARK));
}

bool kvp_pool_is_copy(const char *rec)
{
	const char *mark = kvp_pool_mark_at(rec);

	return mark && !memcmp(mark, KVP_POOL_COPY_MARK,
			       sizeof(KVP_POOL_COPY_MARK));
}

/*
 * Writes rec after the last record, its first page last: a kill in between
 * leaves a whole record with an empty key (the rest of its first page is
 * a hole), a leftover (kvp_pool_tidy()), never a torn tail behind which
 * cloud-init would append out of step.  A failed append is cut back off.
 */
int kvp_pool_append(struct kvp_pool *pool, const char *rec)
{
	off_t end = kvp_offset(pool->nslots);
	size_t head = kvp_pool_page_end(pool, end) - end;
	int ret = 0;

	if (head < KVP_POOL_RECORD)
		ret = kvp_pwrite(pool->fd, rec + head, KVP_POOL_RECORD - head,
				 end + (off_t)head);
	if (!ret)
		ret = kvp_pwrite(pool->fd, rec, head < KVP_POOL_RECORD ?
				 head : KVP_POOL_RECORD, end);
	if (ret) {
		kvp_truncate(pool->fd, end);
		pool->dirty = true;
	}
	return ret;
}

/*
 * Writes rec over the record at slot, which a reader must see whole or not
 * at all.  Unless one write does that (kvp_pool_one_page()), the record is
 * first written with an empty key, which hides it from readers whatever
 * else of it the write reached, and then its key's first byte goes in.
 * The caller makes sure that what the record held is found elsewhere
 * meanwhile, if it must stay served.
 */
int kvp_pool_overwrite(struct kvp_pool *pool, unsigned int slot,
		       const char *rec, size_t from)
{
	char hidden[KVP_POOL_RECORD];
	off_t off = kvp_offset(slot);
	int ret;

	if (kvp_pool_one_page(pool, slot, rec, from))
		return kvp_pwrite(pool->fd, rec, KVP_POOL_RECORD, off);
	memcpy(hidden, rec, sizeof(hidden));
	hidden[0] = 0;
	ret = kvp_pwrite(pool->fd, hidden, sizeof(hidden), off);
	return ret ? ret : kvp_pwrite(pool->fd, rec, 1, off);
}

/*
 * Reads the record at slot into rec and checks that the file still holds
 * there what the index says: the key we serve from it, or a record we do
 * not serve.  -ESTALE if not: a change slipped past kvp_pool_catch_up().
 */
int kvp_pool_read_slot(struct kvp_pool *pool, unsigned int slot, char *rec)
{
	const char *want = pool->slots[slot].key;
	ssize_t got;

	got = kvp_pread(pool->fd, rec, KVP_POOL_RECORD, kvp_offset(slot));
	if (got < 0)
		return got;
	if (got != KVP_POOL_RECORD)
		return -ESTALE;
	if (!want)
		return !rec[0] || kvp_record_fault(rec) ||
		       kvp_pool_find(pool, rec) != KVP_POOL_NONE ? 0 : -ESTALE;
	return strncmp(rec, want, KVP_POOL_KEY) ? -ESTALE : 0;
}

/*
 * The O(1) step of a DELETE: the last record moves into the freed slot and
 * the file loses its last record.  A crash part way leaves the freed slot
 * as it was, or with an empty key, or holding a copy of the last record:
 * each a state readers serve right, the last two with a leftover that the
 * next change removes.
 */
static int kvp_pool_move_last(struct kvp_pool *pool, unsigned int slot)
{
	unsigned int last = pool->nslots - 1;
	char rec[KVP_POOL_RECORD];
	int ret;

	ret = kvp_pool_bump_layout(pool);
	if (!ret && slot != last) {
		ret = kvp_pool_read_slot(pool, last, rec);
		if (!ret)
			ret = kvp_pool_overwrite(pool, slot, rec, 0);
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

	if (pool->slots[nr].key || pool->slots[nr].leftover ||
	    kvp_pread(pool->fd, rec, sizeof(rec), kvp_offset(nr)) !=
	    sizeof(rec) || kvp_record_fault(rec))
		return KVP_POOL_NONE;
	return kvp_pool_find(pool, rec);
}

/*
 * Removes the record at slot.  Should the last record be a repeat of a key
 * whose served record lies after slot, moved into slot it would come first
 * and be served instead: it is dropped first (nobody reads a repeat).
 */
int kvp_pool_delete_slot(struct kvp_pool *pool, unsigned int slot)
{
	unsigned int last = pool->nslots - 1, owner;
	int ret;

	owner = slot == last ? KVP_POOL_NONE : kvp_pool_repeat_of(pool, last);
	if (owner != KVP_POOL_NONE && owner > slot) {
		ret = kvp_pool_move_last(pool, last);
		if (ret)
			return ret;
		pool->slots[owner].repeats--;
	}
	return kvp_pool_move_last(pool, slot);
}

/*
 * Under the write lock, before a change: cuts off a torn tail and removes
 * the leftovers of interrupted changes (records with an empty key, and
 * repeats of a key that serve its value again), the last one first.
 */
int kvp_pool_tidy(struct kvp_pool *pool)
{
	unsigned int nr, removed = 0;
	int ret;

	ret = kvp_truncate(pool->fd, kvp_offset(pool->nslots));
	if (ret)
		goto fail;
	pool->torn = 0;
	kvp_pool_wrote(pool);
	for (nr = pool->nslots; pool->leftovers && nr--; ) {
		if (!pool->slots[nr].leftover)
			continue;
		ret = kvp_pool_delete_slot(pool, nr);
		if (ret)
			goto fail;
		removed++;
	}
	if (removed)
		kvp_info("%s: removed %u records left by an interrupted change",
			 pool->path, removed);
	return 0;
fail:
	pool->dirty = true;
	return ret;
}
