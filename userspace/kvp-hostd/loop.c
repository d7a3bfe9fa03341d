// SPDX-License-Identifier: GPL-2.0
/*
 * The epoll loop and its clock, and the options the other files read.
 * Kept apart from main.c (command line, signals, start-up) so that the
 * fuzz harnesses link the daemon's handlers without its main().
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "hostd.h"
#include "log.h"

struct kvp_hostd_opts kvp_hostd_opts = {
	.timeout_ms = KVP_HOSTD_TIMEOUT * 1000,
	.walk_timeout_ms = KVP_HOSTD_WALK_TIMEOUT * 1000,
};

static int kvp_epoll_fd = -1;
static bool kvp_stop;

int kvp_loop_init(void)
{
	kvp_epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return kvp_epoll_fd < 0 ? -errno : 0;
}

void kvp_loop_exit(void)
{
	if (kvp_epoll_fd >= 0)
		close(kvp_epoll_fd);
	kvp_epoll_fd = -1;
}

int kvp_loop_add(struct kvp_watch *watch, u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = watch };

	if (epoll_ctl(kvp_epoll_fd, EPOLL_CTL_ADD, watch->fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Only fails for a bad fd or watch, which would be a bug here. */
void kvp_loop_mod(struct kvp_watch *watch, u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = watch };

	if (epoll_ctl(kvp_epoll_fd, EPOLL_CTL_MOD, watch->fd, &ev) < 0)
		kvp_err("epoll_ctl(%d): %s", watch->fd, strerror(errno));
}

void kvp_loop_del(struct kvp_watch *watch)
{
	epoll_ctl(kvp_epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
}

u64 kvp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int kvp_loop_timeout(void)
{
	u64 deadline = kvp_guests_deadline(), now = kvp_now_ms();

	if (deadline == UINT64_MAX)
		return -1;
	if (deadline <= now)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* Ends kvp_loop_run() after the event being handled. */
void kvp_loop_stop(void)
{
	kvp_stop = true;
}

/*
 * One event per wait: a handler may free other guests or clients (a guest
 * replaced, a client answered and closed), so a batch of events could hold
 * stale pointers.  The daemon's load is small enough not to need batches.
 */
void kvp_loop_run(void)
{
	struct epoll_event ev;
	struct kvp_watch *watch;
	int n;

	while (!kvp_stop) {
		n = epoll_wait(kvp_epoll_fd, &ev, 1, kvp_loop_timeout());
		if (n < 0 && errno != EINTR) {
			kvp_err("epoll_wait: %s", strerror(errno));
			return;
		}
		if (n > 0) {
			watch = ev.data.ptr;
			watch->handle(watch, ev.events);
		}
		kvp_guests_expire(kvp_now_ms());
	}
}
