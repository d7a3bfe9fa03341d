// SPDX-License-Identifier: GPL-2.0
/*
 * kvp-hostd's guest parser: the input is the byte stream a guest sends
 * (frames: HELLO, replies to NEGOTIATE and to KVP requests; on service 1
 * the activation NEGOTIATE reply and requests), fed to the
 * daemon's own connection handler in pieces as the socket takes them, then
 * end of stream.  Before it, a pool walk and a get are queued, so that
 * ENUMERATE replies are parsed too.  Frame ids are predictable: 1 for
 * NEGOTIATE, then 2, 3, ... for each request sent (the walks first, then
 * the host items); on service 1 the host's NEGOTIATE is id 1 and the
 * guest picks its own request ids (seed activation-v3: a version-3 HELLO
 * naming services 0 and 1; activation-v2 sends the same frames after a
 * version-2 HELLO, whose guest has no service 1, and is dropped at the
 * first of them).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostd_harness.h"
#include "msg.h"

static void queue_walk(struct kvp_guest *guest, u8 op, u8 pool,
		       const char *key)
{
	struct kvp_req *req;
	int status;

	req = kvp_req_new(op, pool, key, NULL, &status);
	if (req)
		kvp_req_queue(guest, req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kvp_guest *guest;
	struct kvp_watch *watch;
	size_t done = 0;
	int sv[2], rounds;

	hostd_fuzz_init();
	guest = hostd_fuzz_guest(sv);
	if (!guest)
		return 0;
	queue_walk(guest, KVP_OP_ENUMERATE, KVP_POOL_EXTERNAL, NULL);
	queue_walk(guest, KVP_OP_GET, KVP_POOL_GUEST, "k");
	/* Bounded, should a handler ever stop taking input. */
	for (rounds = 0; kvp_guests && rounds < 1000; rounds++) {
		done += hostd_fuzz_feed(sv[1], data + done, size - done);
		if (done == size)
			shutdown(sv[1], SHUT_WR);
		watch = &kvp_guests->conn.watch;
		watch->handle(watch, EPOLLIN);
		hostd_fuzz_drain(sv[1]);
	}
	kvp_guests_free();
	close(sv[1]);
	return 0;
}
