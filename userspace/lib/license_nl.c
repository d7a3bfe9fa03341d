// SPDX-License-Identifier: GPL-2.0
/*
 * The activation exchange over kvp.ko (license.h): KVP_CMD_ACTIVATE on a
 * netlink socket of its own, then KVP_CMD_ACTIVATION back.  Apart from
 * license.c so that the procedure's tests link without libnl.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "license.h"
#include "nl.h"

/* Over the kernel's own wait, so that its ETIMEDOUT is what we see. */
#define KVP_GUEST_WAIT_EXTRA_MS		2000
#define KVP_GUEST_WAIT_DEFAULT_MS	5000
#define KVP_GUEST_COOKIE		1	/* one request per socket */

struct kvp_guest_wait {
	bool done;
	int error;
	uint8_t *reply;
	size_t cap;
	size_t len;
};

static void kvp_guest_on_activation(struct kvp_nl *nl,
				    const struct kvp_nl_activation *act,
				    void *arg)
{
	struct kvp_guest_wait *w = arg;

	(void)nl;
	if (act->cookie != KVP_GUEST_COOKIE || w->done)
		return;
	w->done = true;
	w->error = act->error;
	if (!act->error && act->reply_len > w->cap)
		w->error = EMSGSIZE;
	if (w->error)
		return;
	memcpy(w->reply, act->reply, act->reply_len);
	w->len = act->reply_len;
}

static int64_t kvp_guest_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int kvp_guest_wait(struct kvp_nl *nl, struct kvp_guest_wait *w,
			  uint32_t wait_ms)
{
	int64_t end = kvp_guest_ms() + wait_ms, left;
	struct pollfd pfd = { .fd = kvp_nl_fd(nl), .events = POLLIN };
	int n, err;

	while (!w->done) {
		left = end - kvp_guest_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0) {
			err = kvp_nl_receive(nl);
			if (err)
				return err;
		}
	}
	return w->error ? -w->error : (int)w->len;
}

int kvp_guest_nl_exchange(void *arg, const uint8_t *request, size_t len,
			  uint8_t *reply, size_t cap)
{
	struct kvp_guest_wait w = { .reply = reply, .cap = cap };
	uint32_t wait_ms = KVP_GUEST_WAIT_DEFAULT_MS;
	struct kvp_nl_status st;
	struct kvp_nl *nl;
	int err;

	(void)arg;
	err = kvp_nl_open(&nl);
	if (err)
		return err;
	if (!kvp_nl_service_status(nl, KVP_SERVICE_ACTIVATION, &st) &&
	    st.request_timeout_ms)
		wait_ms = st.request_timeout_ms;
	kvp_nl_on_activation(nl, kvp_guest_on_activation, &w);
	err = kvp_nl_activate(nl, KVP_GUEST_COOKIE, request, len);
	if (!err)
		err = kvp_guest_wait(nl, &w, wait_ms + KVP_GUEST_WAIT_EXTRA_MS);
	kvp_nl_close(nl);
	return err;
}
