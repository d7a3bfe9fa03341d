// SPDX-License-Identifier: GPL-2.0
/*
 * End-to-end benchmark, in the test VM: host SET and ENUMERATE round trips
 * per second through vsock, kvp.ko, netlink, kvpd and the pool file, with
 * the pool holding 100, 1,000 and 10,000 records; first with this program
 * as the host end (fakehost.c, one packet at a time, path=wire), then
 * through kvp-hostd's control socket as `kvpctl host` uses it
 * (path=hostd; an `enum` there walks the whole pool, one round trip per
 * item).  It prints figures and asserts nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakehost.h"
#include "hostctl.h"
#include "pool.h"

#define POOLS "/run/bench-pools"
#define HOSTD_SOCK "/run/bench-hostd.sock"
#define OPS 2000
#define HOSTD_OPS 300

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fill(int nr, unsigned int records)
{
	char key[64], value[64];
	struct kvp_pool *pool;
	unsigned int i;
	int err;

	err = kvp_pool_open(&pool, POOLS, nr, KVP_POOL_WRITE);
	if (err)
		return err;
	for (i = kvp_pool_count(pool); i < records && !err; i++) {
		snprintf(key, sizeof(key), "key-%u", i);
		snprintf(value, sizeof(value), "value-%u", i);
		err = kvp_pool_set(pool, key, value);
	}
	kvp_pool_close(pool);
	return err;
}

static void measure(int fd, u8 *pkt, unsigned int records, u8 op)
{
	static u64 id = 1000;
	char key[64], value[64];
	unsigned int i, failed = 0;
	double start = now(), secs;
	u32 status;

	for (i = 0; i < OPS; i++) {
		unsigned int n = (unsigned int)rand() % records;

		snprintf(key, sizeof(key), "key-%u", n);
		snprintf(value, sizeof(value), "updated-%u", i);
		status = fakehost_kvp_call(fd, id++, pkt, op, KVP_POOL_GUEST,
					   op == KVP_OP_SET ? key : "", value,
					   n, NULL);
		failed += status != KVP_S_OK;
	}
	secs = now() - start;
	printf("e2e path=wire records=%u op=%s round_trips_per_sec=%.0f failed=%u\n",
	       records, op == KVP_OP_SET ? "set" : "enumerate", OPS / secs,
	       failed);
}

static const unsigned int sizes[] = { 100, 1000, 10000 };

static int hostd(char **argv, int argc)
{
	struct kvp_hostctl_msg reply;
	unsigned char *buf;
	int err;

	err = kvp_hostctl_call(HOSTD_SOCK, argc, argv, &reply, &buf);
	if (!err && reply.status != KVP_HOSTCTL_OK)
		err = -EIO;
	free(buf);
	return err;
}

/* Pool 1 through the fake host, on its own vsock port. */
static int bench_wire(void)
{
	static u8 pkt[KVP_IC_MAX_PACKET];
	u32 fw, msg;
	int lfd, fd;
	size_t i;

	lfd = fakehost_listen(5999);
	if (lfd < 0 || system("modprobe kvp_vsock host_cid=1 port=5999"))
		return 1;
	fd = fakehost_accept(lfd);
	if (fd < 0 || fakehost_negotiate(fd, 1, &fw, &msg))
		return 1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (fill(KVP_POOL_GUEST, sizes[i]))
			return 1;
		measure(fd, pkt, sizes[i], KVP_OP_SET);
		measure(fd, pkt, sizes[i], KVP_OP_ENUMERATE);
	}
	close(fd);
	close(lfd);
	return system("rmmod kvp_vsock");
}

/* Pool 0 through kvp-hostd, as `kvpctl host set` and `enum` do. */
static int bench_hostd(void)
{
	char key[64], value[64], *set[] = { "set", "1", "0", key, value };
	char *list[] = { "list" }, *walk[] = { "enum", "1", "0" };
	unsigned int i, failed;
	double start, secs;
	pid_t pid;
	size_t s;

	pid = fork();
	if (pid == 0) {
		execl("/usr/sbin/kvp-hostd", "kvp-hostd", "-f", "--port", "5998",
		      "--socket", HOSTD_SOCK, NULL);
		_exit(127);
	}
	if (system("modprobe kvp_vsock host_cid=1 port=5998"))
		return 1;
	/* Ready once an enumeration of the (empty) pool goes through. */
	for (i = 0; i < 100 && hostd(walk, 3); i++)
		usleep(100000);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		if (fill(KVP_POOL_EXTERNAL, sizes[s]) || hostd(list, 1))
			return 1;
		failed = 0;
		start = now();
		for (i = 0; i < HOSTD_OPS; i++) {
			snprintf(key, sizeof(key), "key-%u",
				 (unsigned int)rand() % sizes[s]);
			snprintf(value, sizeof(value), "host-%u", i);
			failed += hostd(set, 5) != 0;
		}
		secs = now() - start;
		printf("e2e path=hostd records=%u op=set round_trips_per_sec=%.0f failed=%u\n",
		       sizes[s], HOSTD_OPS / secs, failed);
		start = now();
		failed = hostd(walk, 3) != 0;
		secs = now() - start;
		printf("e2e path=hostd records=%u op=enumerate round_trips_per_sec=%.0f failed=%u\n",
		       sizes[s], (sizes[s] + 1) / secs, failed);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return system("rmmod kvp_vsock");
}

int main(void)
{
	pid_t kvpd;
	int err;

	if (system("rm -rf " POOLS "; modprobe kvp && "
		   "echo 5000 > /sys/module/kvp/parameters/daemon_wait_ms"))
		return 1;
	kvpd = fork();
	if (kvpd == 0) {
		execl("/usr/sbin/kvpd", "kvpd", "-n", "--pool-dir", POOLS, NULL);
		_exit(127);
	}
	err = bench_wire() || bench_hostd();
	kill(kvpd, SIGTERM);
	waitpid(kvpd, NULL, 0);
	return system("rmmod kvp") || err;
}
