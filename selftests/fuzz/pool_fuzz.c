// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the pool engine reading a file that another writer
 * appends to (pool-files.rst, "Seeing other writers").
 *
 * Input: two bytes, little-endian, then the data.  The first N bytes of
 * the data (N the two bytes' value, at most all of it) are the pool file;
 * the rest is what another writer appends later, anywhere relative to
 * record boundaries.  A reader opens the file, reads every item, sees the
 * append and catches up (an incremental load where it can).  Checks:
 *   - no crash, no sanitizer report, no leak;
 *   - every item served is a valid record (terminated, non-empty key,
 *     UTF-8) found whole, key and value, at a record boundary of the file,
 *     and no key is served twice;
 *   - after catching up, the reader serves exactly what a reader that
 *     opens the final file afresh serves: same items, same order.
 *
 * Build (selftests/fuzz/sources.mk lists the engine's sources):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *	-I userspace/lib -I kernel selftests/fuzz/pool_fuzz.c $(FUZZ_pool_SRCS)
 * Run with the seeds in selftests/fuzz/corpus/pool/, -max_len=16384 (a
 * record is 2560 bytes) and -close_fd_mask=2 (the engine warns about every
 * bad record on stderr).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"
#include "utf16.h"

/* What a reader serves: "key\0value\0" for each item, in order. */
struct served {
	char *buf;
	size_t len;
	size_t cap;
	const uint8_t *file;	/* the file's bytes, to find each item in */
	size_t size;
};

static char pool_dir[] = "/tmp/pool_fuzz.XXXXXX";
static char pool_path[64];

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "pool_fuzz: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static void write_all(int fd, const uint8_t *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, data, len);
		CHECK(n > 0);
		data += n;
		len -= n;
	}
}

/* Whether key and value lie whole in a record of the file, at its start. */
static int in_file(const struct served *s, const char *key, const char *value)
{
	size_t off, klen = strlen(key) + 1, vlen = strlen(value) + 1;

	for (off = 0; off + KVP_POOL_RECORD <= s->size; off += KVP_POOL_RECORD)
		if (!memcmp(s->file + off, key, klen) &&
		    !memcmp(s->file + off + KVP_POOL_KEY, value, vlen))
			return 1;
	return 0;
}

/* Whether key was served before, in the items collected so far. */
static int seen(const struct served *s, const char *key)
{
	size_t off = 0;

	while (off < s->len) {
		if (!strcmp(s->buf + off, key))
			return 1;
		off += strlen(s->buf + off) + 1;
		off += strlen(s->buf + off) + 1;
	}
	return 0;
}

static int collect(const char *key, const char *value, void *arg)
{
	size_t klen = strlen(key), vlen = strlen(value);
	struct served *s = arg;

	CHECK(klen > 0 && klen < KVP_POOL_KEY && vlen < KVP_POOL_VALUE);
	CHECK(kvp_utf8_valid(key, klen) && kvp_utf8_valid(value, vlen));
	CHECK(in_file(s, key, value));
	CHECK(!seen(s, key));
	if (s->len + klen + vlen + 2 > s->cap) {
		s->cap = 2 * s->cap + klen + vlen + 2;
		s->buf = realloc(s->buf, s->cap);
		CHECK(s->buf);
	}
	memcpy(s->buf + s->len, key, klen + 1);
	s->len += klen + 1;
	memcpy(s->buf + s->len, value, vlen + 1);
	s->len += vlen + 1;
	return 0;
}

static void serve(struct kvp_pool *pool, struct served *s,
		  const uint8_t *file, size_t size)
{
	s->len = 0;
	s->file = file;
	s->size = size;
	CHECK(!kvp_pool_foreach(pool, collect, s));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(pool_dir))
		abort();
	snprintf(pool_path, sizeof(pool_path), "%s/.kvp_pool_1", pool_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct served before = { 0 }, after = { 0 }, fresh = { 0 };
	struct kvp_pool *reader, *other;
	size_t split;
	int fd;

	if (size < 2)
		return 0;
	split = data[0] | data[1] << 8;
	data += 2;
	size -= 2;
	if (split > size)
		split = size;

	fd = open(pool_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	write_all(fd, data, split);
	CHECK(!kvp_pool_open(&reader, pool_dir, 1, KVP_POOL_READ));
	serve(reader, &before, data, split);

	write_all(fd, data + split, size - split);	/* the other writer */
	close(fd);
	serve(reader, &after, data, size);
	CHECK(!kvp_pool_open(&other, pool_dir, 1, KVP_POOL_READ));
	serve(other, &fresh, data, size);
	CHECK(after.len == fresh.len &&
	      (!after.len || !memcmp(after.buf, fresh.buf, after.len)));

	kvp_pool_close(other);
	kvp_pool_close(reader);
	free(before.buf);
	free(after.buf);
	free(fresh.buf);
	return 0;
}
