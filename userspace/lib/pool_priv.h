/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the pool engine (pool.h is its API; the file format, locking and
 * crash rules are in Documentation/pool-files.rst).
 *
 * The file is the only truth.  In memory we keep an index of it (key ->
 * slot, enumeration order -> slot, keys but never values) and what the file
 * looked like when we last read or wrote it.  Every operation locks the
 * file, catches up with what others changed since, and then reads or writes
 * only the records it needs, so its cost does not grow with the pool.
 *
 *   pool.c         the API: open, GET, ENUMERATE, SET, DELETE
 *   pool_io.c      record I/O and checks, the layout mark, opening, locks
 *   pool_index.c   the index
 *   pool_load.c    loading, and catching up with other writers
 *   pool_repair.c  moving records, completing interrupted changes
 */
#ifndef _KVP_POOL_PRIV_H
#define _KVP_POOL_PRIV_H

#include <assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "msg.h"
#include "pool.h"

#define KVP_POOL_NONE		UINT_MAX	/* no slot */
#define KVP_POOL_CHUNK		64		/* records per read when loading */
#define KVP_POOL_REPORTS	10		/* bad records named per load */
#define KVP_POOL_TRIES		8		/* times we follow a replaced file */
#define KVP_POOL_MIN		64		/* initial array and table sizes */
#define KVP_POOL_LAYOUT		"user.kvp.layout"
/* the mark of a SET's copy (kvp_pool_mark_copy()), 8 bytes, no NUL */
#define KVP_POOL_COPY_MARK	((const char[8]){ "kvp-copy" })

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
	bool leftover;		/* skipped, left by an interrupted change */
};

struct kvp_pool {
	char *dir;
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

	unsigned int bad;	/* skipped records */
	unsigned int leftovers;	/* of which left by interrupted changes */
	unsigned int torn;	/* bytes after the last whole record */
	unsigned int reports;	/* skipped records named in this load */
};

static inline off_t kvp_offset(unsigned int slot)
{
	return (off_t)slot * KVP_POOL_RECORD;
}

/* pool_io.c */
ssize_t kvp_pread(int fd, void *buf, size_t len, off_t off);
int kvp_pwrite(int fd, const void *buf, size_t len, off_t off);
int kvp_truncate(int fd, off_t size);
const char *kvp_record_fault(const char *rec);
int kvp_check_key(const char *key);
int kvp_check_value(const char *value);
int kvp_pool_layout(struct kvp_pool *pool, unsigned long long *mark);
int kvp_pool_bump_layout(struct kvp_pool *pool);
int kvp_pool_open_file(const struct kvp_pool *pool);
long long kvp_now_ms(void);
int kvp_pool_lock(struct kvp_pool *pool, short type, long long deadline);
void kvp_pool_unlock(struct kvp_pool *pool);

/* pool_index.c */
uint32_t kvp_hash(const char *key);
unsigned int kvp_pool_probe(const struct kvp_pool *pool, const char *key,
			    uint32_t hash);
unsigned int kvp_pool_find(const struct kvp_pool *pool, const char *key);
int kvp_pool_rehash(struct kvp_pool *pool, unsigned int size);
int kvp_pool_room(struct kvp_pool *pool, unsigned int nr);
int kvp_pool_room_key(struct kvp_pool *pool, unsigned int nr, const char *rec,
		      char **key);
void kvp_pool_index(struct kvp_pool *pool, unsigned int nr, char *key,
		    uint32_t hash);
void kvp_pool_forget(struct kvp_pool *pool);
void kvp_pool_unindex(struct kvp_pool *pool, unsigned int slot);

/* pool_load.c */
int kvp_pool_reload(struct kvp_pool *pool);
void kvp_pool_wrote(struct kvp_pool *pool);
void kvp_pool_detach(struct kvp_pool *pool);
int kvp_pool_attach(struct kvp_pool *pool);
int kvp_pool_begin(struct kvp_pool *pool, short type);

/* pool_repair.c */
bool kvp_pool_one_page(const struct kvp_pool *pool, unsigned int slot,
		       const char *rec, size_t from);
void kvp_pool_mark_copy(char *rec);
bool kvp_pool_is_copy(const char *rec);
int kvp_pool_append(struct kvp_pool *pool, const char *rec);
int kvp_pool_overwrite(struct kvp_pool *pool, unsigned int slot,
		       const char *rec, size_t from);
int kvp_pool_read_slot(struct kvp_pool *pool, unsigned int slot, char *rec);
unsigned int kvp_pool_repeat_of(struct kvp_pool *pool, unsigned int nr);
int kvp_pool_delete_slot(struct kvp_pool *pool, unsigned int slot);
int kvp_pool_tidy(struct kvp_pool *pool);

#endif /* _KVP_POOL_PRIV_H */
