// SPDX-License-Identifier: GPL-2.0
/*
 * End-to-end benchmark, in the test VM: host SET and ENUMERATE round trips
 * per second through vsock, kvp.ko, netlink, kvpd and the pool file, with
 * the pool holding 100, 1,000 and 10,000 records.  This program is the
 * host end (fakehost.c).  It prints figures and asserts nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakehost.h"
#include "pool.h"

#define POOLS "/run/bench-pools"
#define PORT 5999
#define OPS 2000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fill(unsigned int records)
{
	char key[64], value[64];
	struct kvp_pool *pool;
	unsigned int i;
	int err;

	err = kvp_pool_open(&pool, POOLS, KVP_POOL_GUEST, KVP_POOL_WRITE);
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
	printf("e2e records=%u op=%s round_trips_per_sec=%.0f failed=%u\n",
	       records, op == KVP_OP_SET ? "set" : "enumerate", OPS / secs,
	       failed);
}

int main(void)
{
	static const unsigned int sizes[] = { 100, 1000, 10000 };
	static u8 pkt[KVP_IC_MAX_PACKET];
	pid_t kvpd;
	u32 fw, msg;
	int lfd, fd;
	size_t i;

	if (system("rm -rf " POOLS "; modprobe kvp && "
		   "echo 5000 > /sys/module/kvp/parameters/daemon_wait_ms"))
		return 1;
	lfd = fakehost_listen(PORT);
	if (lfd < 0 || system("modprobe kvp_vsock host_cid=1 port=5999"))
		return 1;
	fd = fakehost_accept(lfd);
	if (fd < 0 || fakehost_negotiate(fd, 1, &fw, &msg))
		return 1;
	kvpd = fork();
	if (kvpd == 0) {
		execl("/usr/sbin/kvpd", "kvpd", "-n", "--pool-dir", POOLS, NULL);
		_exit(127);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (fill(sizes[i]))
			break;
		measure(fd, pkt, sizes[i], KVP_OP_SET);
		measure(fd, pkt, sizes[i], KVP_OP_ENUMERATE);
	}
	kill(kvpd, SIGTERM);
	waitpid(kvpd, NULL, 0);
	close(fd);
	close(lfd);
	return system("rmmod kvp_vsock && rmmod kvp") ? 1 : 0;
}
