// SPDX-License-Identifier: GPL-2.0
/*
 * Set-up shared by the kvp-hostd fuzz harnesses (hostd_harness.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostd_harness.h"
#include "log.h"

/*
 * Activation served, so that guest input reaches service 1: a fresh state
 * directory (its host key made once per process), no history (SQLite
 * would only slow each input down), the state directory as the one
 * catalog directory (empty: every request that parses is decided, Denied),
 * and no rate limit (every input comes from the same CID).
 */
static char hostd_fuzz_dir[] = "/tmp/hostd_fuzz.XXXXXX";

static void hostd_fuzz_cleanup(void)
{
	char key[sizeof(hostd_fuzz_dir) + 16];

	snprintf(key, sizeof(key), "%s/host.key", hostd_fuzz_dir);
	unlink(key);
	rmdir(hostd_fuzz_dir);
}

static void hostd_fuzz_activation(void)
{
	struct kvp_hostd_config *c = &kvp_hostd_config;
	const char *dir = mkdtemp(hostd_fuzz_dir);

	if (!dir || atexit(hostd_fuzz_cleanup))
		abort();
	c->state_dir = strdup(dir);
	c->catalog_dirs = calloc(2, sizeof(*c->catalog_dirs));
	if (!c->state_dir || !c->catalog_dirs)
		abort();
	c->catalog_dirs[0] = c->state_dir;
	c->rate_interval = 0;
	if (kvp_activation_init())
		abort();
}

/*
 * Once per process: logs go to syslog (nowhere here: the harness's
 * output stays the fuzzer's), the epoll loop the connections register
 * with, a named VM, and the activation service.
 */
void hostd_fuzz_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	kvp_log_init("hostd_fuzz", 1, 0);
	if (kvp_loop_init() || kvp_items_add_vm("1000=alpha"))
		abort();
	hostd_fuzz_activation();
}

/* A connected pair, both ends non-blocking: [0] the daemon's end. */
int hostd_fuzz_pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0, sv);
}

/* Writes what the daemon's end takes now of data; returns how much. */
size_t hostd_fuzz_feed(int fd, const uint8_t *data, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, data + done, len - done);
		if (n <= 0)
			break;
		done += n;
	}
	return done;
}

/* Reads and drops what the daemon sent, so that it never waits on us. */
void hostd_fuzz_drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* A guest connected on a new pair, as kvp-hostd takes one; NULL if not. */
struct kvp_guest *hostd_fuzz_guest(int sv[2])
{
	if (hostd_fuzz_pair(sv))
		return NULL;
	kvp_guest_new(sv[0], HOSTD_FUZZ_CID);
	if (!kvp_guests)
		close(sv[1]);
	return kvp_guests;
}
