/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pool engine: the KVP pool files /var/lib/hyperv/.kvp_pool_0..4.
 *
 * A pool file is a bare array of 2560-byte records (512-byte key, 2048-byte
 * value, UTF-8, NUL-terminated), the format the stock daemon, cloud-init,
 * WALinuxAgent, Ignition and ohai use.  Every operation takes a POSIX fcntl
 * lock over the whole file (read lock to read, write lock to change), picks
 * up what other writers did since the last operation, and changes only the
 * records it must: cost stays flat as a pool grows.  Format, locking and
 * crash rules: Documentation/pool-files.rst.
 *
 * All functions return 0 (kvp_pool_count(): the count) or a negative errno:
 *   -ENOENT        no such key, or an index past the end
 *   -ENAMETOOLONG  key longer than 511 bytes; from kvp_pool_open() only,
 *                  the directory's path is too long (no operation on a
 *                  key touches the file system before checking the key)
 *   -EMSGSIZE      value longer than 2047 bytes
 *   -EINVAL        empty key, or key or value not valid UTF-8
 *   -EACCES        no permission on the file or directory
 *   -EPERM         the file or directory refused as unsafe, with a warning
 *                  saying why: a directory its group or others may write,
 *                  a symbolic link, anything but a regular file, a file
 *                  owned by neither the directory's owner nor root, or with
 *                  other names (pool-files.rst, "Opening")
 *   -EROFS         the pool was opened read-only
 *   -ETIMEDOUT     another process held the file's lock for 2 seconds
 *   other          I/O errors (-EIO, -ENOSPC, ...)
 *
 * A pool object keeps the file open, and holds its locks only within a
 * call.  POSIX locks are per process: do not call into two pool objects
 * of one file from two threads at once, nor share one across fork().
 * kvp_pool_open() sets *pool to NULL when it fails; kvp_pool_close(NULL)
 * does nothing.
 */
#ifndef _KVP_POOL_H
#define _KVP_POOL_H

#include <stdbool.h>
#include <stddef.h>

#define KVP_POOL_DIR		"/var/lib/hyperv"
#define KVP_POOL_RECORD		2560
#define KVP_POOL_KEY		512
#define KVP_POOL_VALUE		2048

enum {
	KVP_POOL_READ = 0,	/* open read-only; a missing file is an empty pool */
	KVP_POOL_WRITE = 1,	/* open read-write, creating file and directory */
};

struct kvp_pool;

/* What the last reload found wrong; the good records are still served. */
struct kvp_pool_health {
	unsigned int records;		/* good records */
	unsigned int bad_records;	/* skipped: no terminator, bad UTF-8,
					 * empty key, repeated key */
	unsigned int torn_bytes;	/* trailing bytes short of a whole record */
};

int kvp_pool_open(struct kvp_pool **pool, const char *dir, int nr, int mode);
void kvp_pool_close(struct kvp_pool *pool);

int kvp_pool_get(struct kvp_pool *pool, const char *key,
		 char value[KVP_POOL_VALUE]);
int kvp_pool_set(struct kvp_pool *pool, const char *key, const char *value);
int kvp_pool_delete(struct kvp_pool *pool, const char *key);
int kvp_pool_enumerate(struct kvp_pool *pool, unsigned int index,
		       char key[KVP_POOL_KEY], char value[KVP_POOL_VALUE]);
/*
 * Calls fn for every item, in ENUMERATE order, under one read lock: a
 * snapshot.  Stops at the first nonzero return of fn and returns it.  fn
 * must not call the engine on the same file (its unlock would drop ours),
 * and should be quick: writers wait, and give up after 2 seconds.
 */
int kvp_pool_foreach(struct kvp_pool *pool,
		     int (*fn)(const char *key, const char *value, void *arg),
		     void *arg);
int kvp_pool_count(struct kvp_pool *pool);
int kvp_pool_health(struct kvp_pool *pool, struct kvp_pool_health *health);

#endif /* _KVP_POOL_H */
