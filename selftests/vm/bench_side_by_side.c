// SPDX-License-Identifier: GPL-2.0
/*
 * Side by side, in the test VM: the same host workload through kvpd
 * (netlink) and through Debian's hv_kvp_daemon (/dev/vmbus/hv_kvp), on the
 * same kvp.ko, with this program as the host end (fakehost.c, one request
 * at a time, as a Hyper-V host sends them).
 *
 * For each pool size (100, 1,000, 10,000 records, written straight into
 * /var/lib/hyperv/.kvp_pool_0 in the format both daemons read, before the
 * daemon starts), on pool 0:
 *
 *   enumerate   the host's walk of the pool, index 0, 1, ... to the end
 *   get         GET of a random existing key (hosts do not send GET; with
 *               kvp.ko the stock daemon answers it whole)
 *   set-update  SET of a random existing key
 *   set-new     SET of keys the pool does not hold (at most records/5 of
 *               them in all, so the pool grows by 20% at most)
 *
 * each in ROUNDS rounds of at most KVP_BENCH_SECONDS (the stock daemon at
 * 10,000 records is slow: what a round has done by then is its rate), the
 * best round counting.  A round starts the daemon on a freshly filled pool
 * and gives it a second of GETs to finish its start-up (reading the pools);
 * the two daemons take turns round by round.  It prints a table
 * and one line per figure:
 *
 *   side-by-side records=N op=OP kvpd_ops_per_sec=A stock_ops_per_sec=B ratio=R
 *
 * (R = A / B), and asserts nothing but that every request was answered
 * with the status its operation must get.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakehost.h"
#include "nl.h"

#define POOLS "/var/lib/hyperv"
#define RECORD 2560
#define MAX_OPS 5000
#define KVP_BENCH_SECONDS 1.0
#define ROUNDS 3

/* In the order they run: the walk sees the pool as prefilled. */
enum { ENUMERATE, GET, SET_UPDATE, SET_NEW, NR_OPS };
enum { KVPD, STOCK, NR_DAEMONS };

static const char *const op_names[NR_OPS] = {
	"enumerate", "get", "set-update", "set-new",
};
static const unsigned int sizes[] = { 100, 1000, 10000 };
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static double rate[NR_SIZES][NR_OPS][NR_DAEMONS];
static unsigned int failures;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Pool 0 with `records` records key-I = value-I, the other pools empty. */
static int prefill(unsigned int records)
{
	char *buf = calloc(records, RECORD);
	unsigned int i;
	ssize_t n;
	int fd;

	if (!buf || system("rm -f " POOLS "/.kvp_pool_*"))
		goto fail;
	for (i = 0; i < records; i++) {
		snprintf(buf + (size_t)i * RECORD, 512, "key-%u", i);
		snprintf(buf + (size_t)i * RECORD + 512, 2048, "value-%u", i);
	}
	fd = open(POOLS "/.kvp_pool_0", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		goto fail;
	n = write(fd, buf, (size_t)records * RECORD);
	close(fd);
	free(buf);
	return n == (ssize_t)records * RECORD ? 0 : -EIO;
fail:
	free(buf);
	return -EIO;
}

static pid_t start(int daemon)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		if (daemon == KVPD)
			execl("/usr/sbin/kvpd", "kvpd", "-n", NULL);
		else
			execl("/usr/sbin/hv_kvp_daemon", "hv_kvp_daemon", "-n",
			      NULL);
		_exit(127);
	}
	return pid;
}

static bool attached(pid_t pid)
{
	struct kvp_nl_status st;
	struct kvp_nl *nl;
	int i, err;

	for (i = 0; i < 200; i++) {
		err = kvp_nl_open(&nl);
		if (!err) {
			err = kvp_nl_status(nl, &st);
			kvp_nl_close(nl);
		}
		if (!err && st.daemon_pid == (u32)pid)
			return true;
		usleep(50000);
	}
	return false;
}

struct host {
	int fd;
	u64 id;
	u8 pkt[KVP_IC_MAX_PACKET];
};

static u32 call(struct host *h, u8 op, const char *key, const char *value,
		u32 index)
{
	return fakehost_kvp_call(h->fd, h->id++, h->pkt, op, KVP_POOL_EXTERNAL,
				 key, value, index, NULL);
}

/* One request of `op`, number i; whether it got the status it must. */
static bool one(struct host *h, int op, unsigned int records, unsigned int i)
{
	char key[64], value[64];
	unsigned int n = (unsigned int)rand() % records;

	snprintf(value, sizeof(value), "updated-%u", i);
	switch (op) {
	case SET_NEW:
		snprintf(key, sizeof(key), "new-%u", i);
		return call(h, KVP_OP_SET, key, value, 0) == KVP_S_OK;
	case SET_UPDATE:
		snprintf(key, sizeof(key), "key-%u", n);
		return call(h, KVP_OP_SET, key, value, 0) == KVP_S_OK;
	case GET:
		snprintf(key, sizeof(key), "key-%u", n);
		return call(h, KVP_OP_GET, key, "", 0) == KVP_S_OK;
	default:
		/* The walk: the first indexes, then past the end. */
		return call(h, KVP_OP_ENUMERATE, "", "", i) ==
		       (i < records ? KVP_S_OK : KVP_S_CONT);
	}
}

/*
 * ops/s of one round of `op`: requests first .. first + count - 1 (for
 * set-new, the numbers of the new keys) until done or the time is up.
 */
static double round_rate(struct host *h, int op, unsigned int records,
			 unsigned int first, unsigned int count)
{
	double start = now(), secs;
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (!one(h, op, records, first + i))
			failures++;
		secs = now() - start;
		if (secs > KVP_BENCH_SECONDS)
			return (i + 1) / secs;
	}
	return i / (now() - start);
}

/* GETs for a second: the daemon has registered and settled. */
static void warm_up(struct host *h, unsigned int records)
{
	double start = now();
	unsigned int i = 0;

	while (now() - start < 1.0)
		one(h, GET, records, i++);
}

/* One round of every op through one daemon, on a freshly filled pool. */
static int bench_round(struct host *h, int daemon, unsigned int s)
{
	unsigned int records = sizes[s], count;
	double r;
	pid_t pid;
	int op;

	if (prefill(records))
		return -EIO;
	pid = start(daemon);
	if (!attached(pid))
		return -ETIMEDOUT;
	/* Start-up work (reading the pools) is not counted. */
	warm_up(h, records);
	for (op = 0; op < NR_OPS; op++) {
		count = op == SET_NEW ? records / 5 :
			op == ENUMERATE ? records + 1 : MAX_OPS;
		r = round_rate(h, op, records, 0, count);
		if (r > rate[s][op][daemon])
			rate[s][op][daemon] = r;
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return 0;
}

/*
 * The best of ROUNDS rounds per figure: the machine is shared, and a round
 * that another job slowed down says nothing about the daemon.  The two
 * daemons take turns, size by size, so that a slow spell of the machine
 * falls on both alike.
 */
static int bench(struct host *h)
{
	unsigned int round, s;
	int daemon, err;

	for (round = 0; round < ROUNDS; round++)
		for (s = 0; s < NR_SIZES; s++)
			for (daemon = 0; daemon < NR_DAEMONS; daemon++) {
				err = bench_round(h, daemon, s);
				if (err)
					return err;
			}
	return 0;
}

static void report(void)
{
	unsigned int s;
	int op;

	printf("%8s %-11s %14s %14s %9s\n", "records", "op", "kvpd ops/s",
	       "stock ops/s", "ratio");
	for (s = 0; s < NR_SIZES; s++)
		for (op = 0; op < NR_OPS; op++)
			printf("%8u %-11s %14.0f %14.0f %9.1f\n", sizes[s],
			       op_names[op], rate[s][op][KVPD],
			       rate[s][op][STOCK],
			       rate[s][op][KVPD] / rate[s][op][STOCK]);
	for (s = 0; s < NR_SIZES; s++)
		for (op = 0; op < NR_OPS; op++)
			printf("side-by-side records=%u op=%s kvpd_ops_per_sec=%.0f stock_ops_per_sec=%.0f ratio=%.2f\n",
			       sizes[s], op_names[op], rate[s][op][KVPD],
			       rate[s][op][STOCK],
			       rate[s][op][KVPD] / rate[s][op][STOCK]);
	printf("side-by-side failures=%u\n", failures);
}

int main(void)
{
	static struct host h = { .id = 1000 };
	u32 fw, msgv;
	int lfd, err;

	if (access("/usr/sbin/hv_kvp_daemon", X_OK)) {
		printf("side-by-side: no hv_kvp_daemon in this initramfs\n");
		return 4;
	}
	if (system("modprobe kvp && "
		   "echo 10000 > /sys/module/kvp/parameters/daemon_wait_ms && "
		   "echo 60000 > /sys/module/kvp/parameters/request_timeout_ms"))
		return 1;
	lfd = fakehost_listen(5997);
	if (lfd < 0 || system("modprobe kvp_vsock host_cid=1 port=5997"))
		return 1;
	h.fd = fakehost_accept(lfd);
	if (h.fd < 0 || fakehost_negotiate(h.fd, 1, &fw, &msgv))
		return 1;
	err = bench(&h);
	if (!err)
		report();
	close(h.fd);
	close(lfd);
	system("rm -f " POOLS "/.kvp_pool_*; rmmod kvp_vsock; rmmod kvp");
	return err || failures;
}
