// SPDX-License-Identifier: GPL-2.0
/* What the pool engine's tests share: see pool_helpers.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool_helpers.h"

/* A record as cloud-init's struct.pack("512s2048s") makes it. */
void record(char *rec, const char *key, const char *value)
{
	memset(rec, 0, REC);
	memcpy(rec, key, strlen(key));
	memcpy(rec + KVP_POOL_KEY, value, strlen(value));
}

/* cloud-init's append: O_APPEND under flock(), no fcntl lock. */
int append_flock(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	int ret;

	if (fd < 0)
		return -errno;
	flock(fd, LOCK_EX);
	ret = write(fd, buf, len) == (ssize_t)len ? 0 : -EIO;
	flock(fd, LOCK_UN);
	close(fd);
	return ret;
}

int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len) == (ssize_t)len ? 0 : -EIO;
	close(fd);
	return ret;
}

ssize_t read_file(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len);
	close(fd);
	return n;
}

off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* Every item by ENUMERATE, "k=v;" each, in index order. */
int dump(struct kvp_pool *pool, char *out, size_t size)
{
	char key[KVP_POOL_KEY], value[KVP_POOL_VALUE];
	unsigned int i;
	size_t len = 0;
	int ret;

	out[0] = 0;
	for (i = 0; !(ret = kvp_pool_enumerate(pool, i, key, value)); i++)
		len += snprintf(out + len, size - len, "%s=%s;", key, value);
	return ret == -ENOENT ? (int)i : ret;
}

/* A value of `len` bytes that says which key and round it belongs to. */
void make_value(char *value, size_t len, const char *tag, int n)
{
	size_t i = snprintf(value, KVP_POOL_VALUE, "%s-%d-", tag, n);

	for (; i < len; i++)
		value[i] = 'a' + (n + i) % 26;
	value[len] = 0;
}

int pool_dir_make(char *dir, char *path)
{
	strcpy(dir, "/tmp/pool_test.XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	snprintf(path, 96, "%s/.kvp_pool_1", dir);
	return 0;
}

void pool_dir_remove(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}
