// SPDX-License-Identifier: GPL-2.0
/*
 * The pool engine: record I/O, checks of what goes into a record, the
 * layout mark, opening the file and its locks (pool-files.rst, "Locking").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool_priv.h"
#include "utf16.h"

/* I/O that neither gives up on EINTR nor takes a short count for done. */

ssize_t kvp_pread(int fd, void *buf, size_t len, off_t off)
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

int kvp_pwrite(int fd, const void *buf, size_t len, off_t off)
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

int kvp_truncate(int fd, off_t size)
{
	while (ftruncate(fd, size) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Why a record cannot be served, or NULL if it can. */
const char *kvp_record_fault(const char *rec)
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

int kvp_check_key(const char *key)
{
	size_t len = strlen(key);

	if (len >= KVP_POOL_KEY)
		return -ENAMETOOLONG;
	if (!len || !kvp_utf8_valid(key, len))
		return -EINVAL;
	return 0;
}

int kvp_check_value(const char *value)
{
	size_t len = strlen(value);

	if (len >= KVP_POOL_VALUE)
		return -EMSGSIZE;
	return kvp_utf8_valid(value, len) ? 0 : -EINVAL;
}

/*
 * The layout mark, an xattr counting the changes that moved records
 * (DELETEs), tells a file that only grew from one where records also
 * moved before it grew.  A file system without user xattrs has none: then
 * every change of the file is read in full.  A mark we did not write (too
 * long, not a number) is -EBADMSG: nobody can go by it either.
 */
int kvp_pool_layout(struct kvp_pool *pool, unsigned long long *mark)
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
int kvp_pool_bump_layout(struct kvp_pool *pool)
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

/* Refuses a pool file or directory as unsafe, saying why: -EPERM. */
static int kvp_pool_refuse(const char *path, const char *why)
{
	kvp_warn("%s: %s, refused", path, why);
	return -EPERM;
}

static const char *kvp_file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory, not a regular file";
	case S_IFIFO:
		return "a FIFO, not a regular file";
	case S_IFCHR:
		return "a character device, not a regular file";
	case S_IFBLK:
		return "a block device, not a regular file";
	case S_IFSOCK:
		return "a socket, not a regular file";
	default:
		return "not a regular file";
	}
}

/*
 * Whoever else may write the directory may plant a name in it: a link to
 * a file of root's that our next change would truncate, or a FIFO that
 * our reads would wait on for ever.  We refuse a directory its group or
 * others may write, sticky or not (a sticky bit does not keep anyone from
 * making a name that is missing), and give its owner to *owner.
 */
static int kvp_pool_check_dir(const struct kvp_pool *pool, uid_t *owner)
{
	struct stat st;

	if (stat(pool->dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_mode & 0022)	/* group or others may write */
		return kvp_pool_refuse(pool->dir,
				       "writable by others than its owner");
	*owner = st.st_uid;
	return 0;
}

/*
 * A pool file is a regular file of the directory's owner or of root, with
 * no other name: a hard link to someone else's file is no pool file.
 */
static int kvp_pool_check_file(const struct kvp_pool *pool, int fd,
			       uid_t owner)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return kvp_pool_refuse(pool->path, kvp_file_type(st.st_mode));
	if (st.st_uid != owner && st.st_uid != 0)
		return kvp_pool_refuse(pool->path,
				       "owned by neither the directory's owner nor root");
	if (st.st_nlink > 1)
		return kvp_pool_refuse(pool->path, "a file with other names");
	return 0;
}

/*
 * Opens the path without following a link (ELOOP) and without waiting on
 * a FIFO (O_NONBLOCK, cleared once we know it is a regular file).  In
 * WRITE mode the file is created if it is missing; only a file we created
 * is made 0644.  Should it exist to O_EXCL and not to the open after it,
 * someone removed it in between: try again.
 */
static int kvp_pool_open_path(const struct kvp_pool *pool)
{
	int flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd, tries;

	if (pool->mode == KVP_POOL_READ) {
		fd = open(pool->path, O_RDONLY | flags);
		return fd < 0 ? -errno : fd;
	}
	for (tries = 0; tries < KVP_POOL_TRIES; tries++) {
		fd = open(pool->path, O_RDWR | O_CREAT | O_EXCL | flags, 0644);
		if (fd >= 0) {
			fchmod(fd, 0644);	/* whatever the umask: readers */
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
		fd = open(pool->path, O_RDWR | flags);
		if (fd >= 0 || errno != ENOENT)
			return fd < 0 ? -errno : fd;
	}
	return -ENOENT;
}

/* The pool file, checked (pool-files.rst, "Opening"), or a negative errno. */
int kvp_pool_open_file(const struct kvp_pool *pool)
{
	uid_t owner = 0;	/* set when kvp_pool_check_dir() passes */
	int fd, ret;

	ret = kvp_pool_check_dir(pool, &owner);
	if (ret)
		return ret;
	fd = kvp_pool_open_path(pool);
	if (fd == -ELOOP)
		return kvp_pool_refuse(pool->path, "a symbolic link");
	if (fd == -EISDIR)
		return kvp_pool_refuse(pool->path, kvp_file_type(S_IFDIR));
	if (fd < 0)
		return fd;
	ret = kvp_pool_check_file(pool, fd, owner);
	if (!ret && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

long long kvp_now_ms(void)
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
int kvp_pool_lock(struct kvp_pool *pool, short type, long long deadline)
{
	int ret;

	while ((ret = kvp_pool_try_lock(pool, type)) == -EAGAIN) {
		if (kvp_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(KVP_POOL_NAP_US);
	}
	return ret;
}

void kvp_pool_unlock(struct kvp_pool *pool)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (pool->fd < 0)
		return;
	flock(pool->fd, LOCK_UN);
	fcntl(pool->fd, F_SETLK, &fl);
}
