// SPDX-License-Identifier: GPL-2.0
/*
 * Pool engine throughput at 100, 1,000 and 10,000 records: SET of an
 * existing key, SET of a new key, DELETE, GET and ENUMERATE, a fixed number
 * of operations each, wall clock.  The pool size stays put: new keys are
 * added and deleted again in batches, each timed on its own.  foreach
 * counts the items kvp_pool_foreach() visits (kvpctl list), whole pools at
 * a time.  open+get is what one kvpctl call costs: opening a pool reads it
 * all.
 *
 * One line per figure:
 *   pool-engine records=N op=OP ops_per_sec=X
 * A benchmark, not a test: it asserts nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

#define OPS		20000
#define OPEN_OPS	200
#define BATCH		100	/* new keys added, then deleted, at a time */

static double kvp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(unsigned int records, const char *op, unsigned int ops,
		   double secs)
{
	printf("pool-engine records=%u op=%s ops_per_sec=%.0f\n", records, op,
	       ops / secs);
	fflush(stdout);
}

/* Keys spread over the pool, not walked in file order. */
static void key_of(char *key, unsigned int i, unsigned int records)
{
	sprintf(key, "bench-key-%u", (i * 7919u) % records);
}

static int bench_set_new_delete(struct kvp_pool *pool, unsigned int records)
{
	double set_time = 0, delete_time = 0, t;
	unsigned int done, i;
	char key[32];

	for (done = 0; done < OPS; done += BATCH) {
		t = kvp_now();
		for (i = 0; i < BATCH; i++) {
			sprintf(key, "bench-new-%u", i);
			if (kvp_pool_set(pool, key, "a new value"))
				return -1;
		}
		set_time += kvp_now() - t;
		t = kvp_now();
		for (i = 0; i < BATCH; i++) {
			sprintf(key, "bench-new-%u", i);
			if (kvp_pool_delete(pool, key))
				return -1;
		}
		delete_time += kvp_now() - t;
	}
	report(records, "set-new", done, set_time);
	report(records, "delete", done, delete_time);
	return 0;
}

static int bench_item(const char *key, const char *value, void *arg)
{
	(void)key;
	(void)value;
	++*(unsigned int *)arg;
	return 0;
}

static int bench_reads(struct kvp_pool *pool, unsigned int records)
{
	char key[KVP_POOL_KEY], value[KVP_POOL_VALUE];
	unsigned int i, items = 0;
	double t;

	t = kvp_now();
	for (i = 0; i < OPS; i++) {
		key_of(key, i, records);
		if (kvp_pool_get(pool, key, value))
			return -1;
	}
	report(records, "get", OPS, kvp_now() - t);

	t = kvp_now();
	for (i = 0; i < OPS; i++)
		if (kvp_pool_enumerate(pool, (i * 7919u) % records, key, value))
			return -1;
	report(records, "enumerate", OPS, kvp_now() - t);

	t = kvp_now();
	while (items < OPS)
		if (kvp_pool_foreach(pool, bench_item, &items))
			return -1;
	report(records, "foreach", items, kvp_now() - t);
	return 0;
}

static int bench_open_get(const char *dir, unsigned int records)
{
	char value[KVP_POOL_VALUE];
	struct kvp_pool *pool;
	unsigned int i;
	double t;
	int err;

	t = kvp_now();
	for (i = 0; i < OPEN_OPS; i++) {
		err = kvp_pool_open(&pool, dir, 1, KVP_POOL_READ);
		if (!err)
			err = kvp_pool_get(pool, "bench-key-0", value);
		kvp_pool_close(pool);
		if (err)
			return -1;
	}
	report(records, "open+get", OPEN_OPS, kvp_now() - t);
	return 0;
}

static int bench(const char *dir, unsigned int records)
{
	char key[32], value[128];
	struct kvp_pool *pool;
	unsigned int i;
	double t;
	int ret;

	if (kvp_pool_open(&pool, dir, 1, KVP_POOL_WRITE))
		return -1;
	for (i = 0; i < records; i++) {
		sprintf(key, "bench-key-%u", i);
		sprintf(value, "a value of some length for key %u", i);
		if (kvp_pool_set(pool, key, value))
			goto fail;
	}

	t = kvp_now();
	for (i = 0; i < OPS; i++) {
		key_of(key, i, records);
		sprintf(value, "updated %u", i);
		if (kvp_pool_set(pool, key, value))
			goto fail;
	}
	report(records, "set-update", OPS, kvp_now() - t);

	ret = bench_set_new_delete(pool, records);
	if (!ret)
		ret = bench_reads(pool, records);
	if (!ret)
		ret = bench_open_get(dir, records);
	if (kvp_pool_count(pool) != (int)records)
		ret = -1;
	kvp_pool_close(pool);
	return ret;
fail:
	kvp_pool_close(pool);
	return -1;
}

int main(void)
{
	static const unsigned int sizes[] = { 100, 1000, 10000 };
	char dir[] = "/tmp/bench_pool.XXXXXX", path[64];
	unsigned int i;
	int ret = 0;

	if (!mkdtemp(dir)) {
		perror("bench_pool: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/.kvp_pool_1", dir);
	for (i = 0; !ret && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ret = bench(dir, sizes[i]);
		unlink(path);
	}
	rmdir(dir);
	if (ret)
		fprintf(stderr, "bench_pool: an operation failed\n");
	return ret ? 1 : 0;
}
