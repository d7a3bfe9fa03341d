// SPDX-License-Identifier: GPL-2.0
/*
 * Crash trials of the pool engine: a writer that sets, updates and deletes
 * is killed with SIGKILL at random moments while a cloud-init-style
 * appender (flock, whole records at the end, unique keys) runs beside it.
 * After each round (Documentation/pool-files.rst, "Crashes"):
 *
 *   - every key holds the value of its last acknowledged change, but for
 *     the change in flight, which may have happened or not;
 *   - no key appears that no change set, and every record the appender
 *     acknowledged is there;
 *   - a reader that followed the file all along serves what a fresh one
 *     does, in the same order;
 *   - the next change leaves only whole, good records.
 *
 * KVP_CRASH_ROUNDS rounds (default 50, a few seconds; `make crashtest`
 * runs more).  The count of trials and acknowledged changes is printed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "pool.h"
#include "pool_helpers.h"

#define KEYS		300
#define COUNTERS	8
#define FOREIGN		100000	/* at most this many appended records */

static void key_value(char *value, int key, int round)
{
	make_value(value, (size_t)(round * 37 + key) % 1900, "v", round);
}

/* Step i: SET k(i), SET c(i) with a long value, every third DELETE. */
static void writer(const char *dir, int start, int ack)
{
	char key[32], value[KVP_POOL_VALUE];
	struct kvp_pool *pool;
	int i, ret;

	if (kvp_pool_open(&pool, dir, 1, KVP_POOL_WRITE))
		_exit(1);
	for (i = start;; i++) {
		snprintf(key, sizeof(key), "k%d", i % KEYS);
		key_value(value, i % KEYS, i);
		if (kvp_pool_set(pool, key, value))
			_exit(1);
		snprintf(key, sizeof(key), "c%d", i % COUNTERS);
		make_value(value, 1200 + i % 800, "c", i);
		if (kvp_pool_set(pool, key, value))
			_exit(1);
		if (i % 3 == 0) {
			snprintf(key, sizeof(key), "k%d", (i + 7) % KEYS);
			ret = kvp_pool_delete(pool, key);
			if (ret && ret != -ENOENT)
				_exit(1);
		}
		if (write(ack, &i, sizeof(i)) != sizeof(i))
			_exit(1);
	}
}

static void foreign_key(char *key, int n)
{
	snprintf(key, 64, "cloud-init-%08x-%d", 0x5eed, n);
}

/* Appends whole records under flock until told to stop (a byte on stop). */
static void appender(const char *path, int start, int stop, int ack)
{
	char rec[REC], key[64], value[64];
	int n;

	fcntl(stop, F_SETFL, O_NONBLOCK);
	for (n = start; n < FOREIGN && read(stop, key, 1) != 1; n++) {
		foreign_key(key, n);
		snprintf(value, sizeof(value), "report %d", n);
		record(rec, key, value);
		if (append_flock(path, rec, REC) ||
		    write(ack, &n, sizeof(n)) != sizeof(n))
			_exit(1);
		usleep(500 + rand() % 3000);
	}
	_exit(0);
}

struct model {
	int round_of[KEYS];		/* last acknowledged SET, -1: absent */
	int counter_of[COUNTERS];
	int acked;			/* last acknowledged step */
	int appended;			/* foreign records acknowledged */
};

static void acked_step(struct model *m, int i)
{
	m->round_of[i % KEYS] = i;
	m->counter_of[i % COUNTERS] = i;
	if (i % 3 == 0)
		m->round_of[(i + 7) % KEYS] = -1;
	m->acked = i;
}

static bool in_flight(const struct model *m, int k)
{
	int i = m->acked + 1;

	return k == i % KEYS || (i % 3 == 0 && k == (i + 7) % KEYS);
}

/* Counts the foreign items, and those that nobody here set. */
struct census {
	int foreign, others;
};

static int census_item(const char *key, const char *value, void *arg)
{
	struct census *c = arg;

	(void)value;
	if (!strncmp(key, "cloud-init-", 11))
		c->foreign++;
	else if (strcmp(key, "check") &&
		 !((key[0] == 'k' || key[0] == 'c') && isdigit(key[1])))
		c->others++;
	return 0;
}

static int ordered(const char *key, const char *value, void *arg)
{
	size_t len = strlen(arg);

	snprintf((char *)arg + len, 1 << 22, "%s=%s\n", key, value);
	return 0;
}

FIXTURE(trials) {
	char dir[64];
	char path[96];
};

FIXTURE_SETUP(trials)
{
	ASSERT_EQ(0, pool_dir_make(self->dir, self->path));
}

FIXTURE_TEARDOWN(trials)
{
	pool_dir_remove(self->dir);
}

TEST_F_TIMEOUT(trials, kill9_with_appender, 3600)
{
	char key[64], value[KVP_POOL_VALUE], want[KVP_POOL_VALUE];
	const char *env = getenv("KVP_CRASH_ROUNDS");
	int rounds = env ? atoi(env) : 50;
	int wpipe[2], apipe[2], stop[2], round, i, k, n, status;
	struct kvp_pool *pool, *watcher;
	struct kvp_pool_health health;
	char *fresh, *followed;
	struct census census;
	struct model m;
	pid_t wpid, apid;

	fresh = calloc(1, 1 << 22);
	followed = calloc(1, 1 << 22);
	ASSERT_TRUE(fresh && followed);
	for (k = 0; k < KEYS; k++)
		m.round_of[k] = -1;
	for (k = 0; k < COUNTERS; k++)
		m.counter_of[k] = -1;
	m.acked = -1;
	m.appended = 0;
	srand(time(NULL));
	ASSERT_EQ(0, kvp_pool_open(&watcher, self->dir, 1, KVP_POOL_READ));
	for (round = 0; round < rounds; round++) {
		ASSERT_EQ(0, pipe(wpipe));
		ASSERT_EQ(0, pipe(apipe));
		ASSERT_EQ(0, pipe(stop));
		apid = fork();
		ASSERT_LE(0, apid);
		if (!apid) {
			srand(round);
			appender(self->path, m.appended, stop[0], apipe[1]);
		}
		wpid = fork();
		ASSERT_LE(0, wpid);
		if (!wpid)
			writer(self->dir, m.acked + 1, wpipe[1]);
		close(wpipe[1]);
		close(apipe[1]);
		close(stop[0]);
		/* every other round the clock starts at the first ack */
		if (round % 2 && read(wpipe[0], &i, sizeof(i)) == sizeof(i))
			acked_step(&m, i);
		usleep(2000 + rand() % 30000);
		kill(wpid, SIGKILL);
		ASSERT_EQ(wpid, waitpid(wpid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
		/* the appender finishes the record it is at, then stops */
		ASSERT_EQ(1, write(stop[1], "", 1));
		ASSERT_EQ(apid, waitpid(apid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		while (read(wpipe[0], &i, sizeof(i)) == sizeof(i))
			acked_step(&m, i);
		while (read(apipe[0], &n, sizeof(n)) == sizeof(n))
			m.appended = n + 1;
		close(wpipe[0]);
		close(apipe[0]);
		close(stop[1]);

		ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_READ));
		for (k = 0; k < KEYS; k++) {
			if (in_flight(&m, k))
				continue;
			snprintf(key, sizeof(key), "k%d", k);
			if (m.round_of[k] < 0) {
				ASSERT_EQ(-ENOENT, kvp_pool_get(pool, key, value));
				continue;
			}
			ASSERT_EQ(0, kvp_pool_get(pool, key, value));
			key_value(want, k, m.round_of[k]);
			ASSERT_STREQ(want, value);
		}
		for (k = 0; k < COUNTERS; k++) {
			snprintf(key, sizeof(key), "c%d", k);
			if (m.counter_of[k] < 0 ||
			    k == (m.acked + 1) % COUNTERS)
				continue;
			ASSERT_EQ(0, kvp_pool_get(pool, key, value));
			make_value(want, 1200 + m.counter_of[k] % 800, "c",
				   m.counter_of[k]);
			ASSERT_STREQ(want, value);
		}
		for (n = 0; n < m.appended; n++) {
			foreign_key(key, n);
			ASSERT_EQ(0, kvp_pool_get(pool, key, value));
			snprintf(want, sizeof(want), "report %d", n);
			ASSERT_STREQ(want, value);
		}
		memset(&census, 0, sizeof(census));
		ASSERT_EQ(0, kvp_pool_foreach(pool, census_item, &census));
		ASSERT_EQ(0, census.others);
		ASSERT_EQ(m.appended, census.foreign);
		/* the reader that followed along: same items, same order */
		fresh[0] = followed[0] = 0;
		ASSERT_EQ(0, kvp_pool_foreach(pool, ordered, fresh));
		ASSERT_EQ(0, kvp_pool_foreach(watcher, ordered, followed));
		ASSERT_STREQ(fresh, followed);
		kvp_pool_close(pool);

		/* the next change leaves whole, good records only */
		ASSERT_EQ(0, kvp_pool_open(&pool, self->dir, 1, KVP_POOL_WRITE));
		ASSERT_EQ(0, kvp_pool_set(pool, "check", "1"));
		ASSERT_EQ(0, kvp_pool_health(pool, &health));
		ASSERT_EQ(0, health.bad_records);
		ASSERT_EQ(0, health.torn_bytes);
		ASSERT_EQ(health.records * REC, file_size(self->path));
		kvp_pool_close(pool);
	}
	TH_LOG("%d crash trials: %d changes and %d foreign appends acknowledged",
	       rounds, m.acked + 1, m.appended);
	kvp_pool_close(watcher);
	free(fresh);
	free(followed);
}

TEST_HARNESS_MAIN
