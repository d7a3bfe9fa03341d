/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest of kvp-hostd without vsock (fakeguest.c): the daemon takes
 * guests on a unix socket (--listen-unix) and a fake guest does what
 * kvp.ko does on the wire (Documentation/protocol.rst sections 4 and 6):
 * HELLO, the WELCOME, the NEGOTIATEs on service 0 and service 1, the
 * host's items answered, activation requests on service 1 and their
 * replies.  Shared by hostd_test.c, hostd_avma_test.c and
 * bench_activation_hostd.c; hostd_test.c keeps its own guest (a KVP store)
 * and uses the fd-level helpers.
 */
#ifndef _KVP_FAKEGUEST_H
#define _KVP_FAKEGUEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "avma.h"
#include "frame.h"
#include "ic.h"

/* Generous: the daemon may run under valgrind. */
#define GUEST_WAIT_MS	20000
#define GUEST_BOTH	(1U << KVP_VSOCK_SERVICE_KVP | \
			 1U << KVP_VSOCK_SERVICE_ACTIVATION)

struct guest {
	int fd;
	u16 version;		/* framing: HELLO offers it, WELCOME sets it */
	u64 next_id;		/* our ids on service 1 */
	struct kvp_frame frame;	/* the last frame received, */
	u8 pkt[KVP_VSOCK_MAX_PAYLOAD];	/* and its payload */
	bool act_negotiated;
};

/* The environment variable name if set and not empty, else def. */
const char *env_or(const char *name, const char *def);
/* A connected stream socket to a unix socket path, or -1. */
int try_connect(const char *path);

/*
 * Starts kvp-hostd -- KVP_HOSTD (default: the userspace build, relative to
 * selftests/), under KVP_HOSTD_WRAPPER, else KVP_TEST_WRAPPER (e.g.
 * valgrind) -- with args (NULL-terminated, after the program name), its
 * stderr appended to log (NULL: left as ours).  Returns its pid once ctl_sock takes a
 * connection, or -1 (it exited or did not listen in time: then killed).
 */
pid_t hostd_start(char *const args[], const char *log, const char *ctl_sock);
/* SIGTERM, then its exit status (0: clean; 128 + signal when killed). */
int hostd_stop(pid_t pid);

/*
 * Sends f and its payload p, flags (header offset 14) set as given, in one
 * write: a daemon that drops us on the header must not find us writing the
 * payload to a closed socket (SIGPIPE).
 */
int frame_write(int fd, const struct kvp_frame *f, u16 flags, const u8 *p);
/* Reads exactly len bytes within timeout_ms: 0, -ETIMEDOUT, -ECONNRESET. */
int read_full(int fd, u8 *buf, size_t len, int timeout_ms);
/* One frame into f and its payload into pkt: 0 or as read_full, -EPROTO. */
int frame_read(int fd, struct kvp_frame *f, u8 *pkt, int timeout_ms);
/*
 * HELLO offering *version, naming spoken (version 3 on), and the WELCOME
 * (into f and pkt) as kvp_vsock.ko checks it: its mask, *version then the
 * connection's; or -1.
 */
long long hello_exchange(int fd, u16 *version, u32 spoken,
			 struct kvp_frame *f, u8 *pkt);

/* A frame of g's version. */
int send_frame(struct guest *g, u16 type, u16 service, u64 id, const u8 *p,
	       size_t len);
/* The next frame, into g->frame and g->pkt: 0, -ETIMEDOUT, -ECONNRESET. */
int recv_frame(struct guest *g);
/*
 * The frame just received: an activation reply is left to the caller (0);
 * a host request on service 0 or the host's NEGOTIATE on service 1 is
 * answered (1, or 2 for that NEGOTIATE).  -EPROTO for anything else.
 */
int guest_answer(struct guest *g);
/*
 * Answers the host until an activation reply comes (0, the reply in
 * g->frame and g->pkt) or the NEGOTIATE on service 1 is answered (1).
 */
int guest_pump(struct guest *g);
/*
 * Connects and says HELLO in a framing version, naming the services spoken
 * (version 3 on).  The WELCOME's mask, as kvp_vsock.ko checks it, or -1.
 */
long long guest_hello(struct guest *g, const char *path, u16 version,
		      u32 spoken);
/*
 * HELLO of the highest version, speaking both services; the WELCOME must
 * announce both, and returns once the NEGOTIATE on service 1 is answered.
 */
int guest_connect(struct guest *g, const char *path);

/* An activation request packet: IC header (version 3.0, 1.0) and body. */
size_t avma_request_packet(const struct kvp_avma_request *req, u8 *pkt);
/* Sends it on service 1 with the next id: that id, or 0 on failure. */
u64 guest_send_avma(struct guest *g, const struct kvp_avma_request *req);
/*
 * The frame received is the reply to request `id` of `nonce`: a RESPONSE
 * with S_OK on that id, a body that parses, the nonce echoed.  The body is
 * copied to body (KVP_AVMA_REPLY_MAX bytes), which rep points into.
 */
int guest_avma_reply(const struct guest *g, u64 id, const u8 *nonce,
		     struct kvp_avma_reply *rep, u8 *body);

#endif /* _KVP_FAKEGUEST_H */
