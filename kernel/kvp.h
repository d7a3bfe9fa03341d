/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvp.ko internals.  The core has three kinds of plug, each behind one small
 * interface, so that a new one is a new file and no branch elsewhere:
 *
 *   transports        transport.h; vsock.c (kvp_vsock.ko), vmbus.c
 *   services          struct kvp_svc below; exchange.c (KVP, the
 *                     host asks), activation.c (the guest asks)
 *   daemon endpoints  struct kvp_daemon below; netlink.c, chardev.c
 *
 * A packet from the host travels: transport -> kvp_transport_receive()
 * (any context: copied and queued) -> transport.c's work, in order ->
 * negotiation (shared, transport.c) or the service's receive() -> the
 * service's daemon through daemon->ops->deliver() -> the daemon's answer
 * through the service's own reply entry -> kvp_request_finish() -> the
 * transport's send().
 *
 * A request of the guest's own (activation) travels the other way: a
 * netlink socket -> kvp_activation_request() -> the transport's send();
 * the host's reply comes in as above, to the service's receive(), which
 * relays it to that socket.
 */
#ifndef _KVP_KVP_H
#define _KVP_KVP_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "ic.h"
#include "msg.h"
#include "transport.h"

#define KVP_MAX_PENDING		64
#define KVP_MS_MIN		1
#define KVP_MS_MAX		600000

struct kvp_stats {
	u64 requests;
	u64 failures;
	u64 timeouts;
	u64 malformed;
	u64 late_replies;
	u64 negotiations;
	u64 truncated;
};

struct kvp_svc;
struct kvp_daemon;

/*
 * One host packet, from its arrival to its answer.  The reply is built in
 * place in pkt (an IC reply is the request packet, modified).
 */
struct kvp_request {
	struct list_head list;		/* rx queue, then the service's */
	struct kvp_transport *transport;
	enum kvp_service_id service;
	u64 host_id;
	u32 id;				/* the daemon's handle for it */
	struct kvp_daemon *daemon;	/* NULL while waiting for one */
	unsigned long deadline;
	bool reserved;			/* from the core's reserve */
	struct kvp_msg msg;
	size_t len;
	u8 pkt[];
};

/*
 * A daemon endpoint: how a service reaches the daemon attached to it.
 * deliver() passes a request on (lock held: it may sleep but must not call
 * back into the service), and returns -ENOTCONN when the daemon cannot take
 * it now: it is going (the request then waits for the next daemon), or it
 * takes one request at a time and has one (the endpoint calls
 * kvp_service_ready() when it can take the next).  The endpoint tells the
 * service the daemon is gone with kvp_service_detach(), and brings its
 * answers through the service's reply entry (kvp_exchange_reply() for the
 * KVP service).
 */
struct kvp_daemon_ops {
	const char *kind;	/* "netlink", "chardev": for status and logs */
	int (*deliver)(struct kvp_daemon *daemon,
		       const struct kvp_request *req);
	/*
	 * Optional: a request deliver() took has ended (answered, timed
	 * out, its connection gone); an endpoint that still holds it for
	 * the daemon to read drops it.  Lock held, as for deliver().
	 */
	void (*cancel)(struct kvp_daemon *daemon,
		       const struct kvp_request *req);
};

struct kvp_daemon {
	const struct kvp_daemon_ops *ops;
	u32 pid;
};

/* What one service does with the packets of its own IC message type. */
struct kvp_service_ops {
	/*
	 * A packet of type ic_type; lock held.  Must finish, queue or (where
	 * the guest asks) free req.
	 */
	void (*receive)(struct kvp_svc *svc, struct kvp_request *req,
			const struct kvp_ic_hdr *hdr);
	/*
	 * Optional, lock held: the connection ended or started over; the
	 * service's own requests (those the guest sent) end with it.
	 */
	void (*reset)(struct kvp_svc *svc);
	/*
	 * Optional, lock held, from the service's timeout work: ends the
	 * service's own requests whose deadline is not after `now`.  Returns
	 * whether some remain, the earliest of their deadlines in *next.
	 */
	bool (*expire)(struct kvp_svc *svc, unsigned long now,
		       unsigned long *next);
};

/*
 * One IC service's channel.  Negotiation is shared (transport.c) and uses
 * msg_versions; everything below `lock` is protected by it.
 *
 * guest_asks: the guest starts every exchange and the host only answers.
 * Then no host packet is answered but a NEGOTIATE request: anything else
 * the service does not take is dropped, counted as malformed (an answer to
 * a reply would confuse the host).  Otherwise every host packet is a
 * request and is answered, a malformed one with E_FAIL at once.
 */
struct kvp_svc {
	const char *name;
	enum kvp_service_id id;
	u16 ic_type;
	bool guest_asks;
	const struct kvp_ic_versions *msg_versions;
	const struct kvp_service_ops *ops;

	struct mutex lock;		/* serializes the service */
	struct kvp_transport *transport;
	bool connected;
	bool negotiated;
	u32 fw_version;
	u32 msg_version;
	struct kvp_daemon *daemon;
	struct list_head pending;	/* struct kvp_request, oldest first */
	unsigned int nr_pending;
	u32 next_id;
	struct kvp_stats stats;
	struct delayed_work timeout_work;
	bool timeout_armed;		/* timeout_work is set for timeout_at */
	unsigned long timeout_at;
	u32 state;			/* enum kvp_state, as last announced */
};

/* A snapshot for KVP_CMD_GET_STATUS. */
struct kvp_status {
	u32 state;
	char transport[16];
	bool negotiated;
	u32 fw_version;
	u32 msg_version;
	u32 daemon_pid;
	char daemon_kind[16];
	u32 chardev;		/* enum kvp_chardev_state */
	u32 pending;
	u32 daemon_wait_ms;
	u32 request_timeout_ms;
	struct kvp_stats stats;
};

extern unsigned int kvp_daemon_wait_ms;
extern unsigned int kvp_request_timeout_ms;

/* service.c: what every service shares */
struct kvp_svc *kvp_service_get(enum kvp_service_id id);
void kvp_service_init(struct kvp_svc *svc);
void kvp_service_uninit(struct kvp_svc *svc);
void kvp_request_finish(struct kvp_request *req, u32 status);
void kvp_service_queue(struct kvp_svc *svc, struct kvp_request *req);
struct kvp_request *kvp_service_find(struct kvp_svc *svc,
				     struct kvp_daemon *daemon, u32 id);
void kvp_service_drop_all(struct kvp_svc *svc);
void kvp_service_status(struct kvp_svc *svc, struct kvp_status *status);
int kvp_service_attach(struct kvp_svc *svc, struct kvp_daemon *daemon);
void kvp_service_ready(struct kvp_svc *svc, struct kvp_daemon *daemon);
void kvp_service_detach(struct kvp_svc *svc, struct kvp_daemon *daemon);
unsigned long kvp_service_deadline(unsigned int ms);
void kvp_service_arm_timeout(struct kvp_svc *svc, unsigned long deadline);
void kvp_service_state_changed(struct kvp_svc *svc);

/* exchange.c: the KVP exchange service (its answers: msg.h) */
extern struct kvp_svc kvp_exchange;
int kvp_exchange_reply(struct kvp_daemon *daemon, u32 id,
		       const struct kvp_exchange_answer *answer);

/*
 * activation.c: the activation service.  Requests come from netlink
 * sockets (by port id); each ends with kvp_netlink_activation() to its
 * socket, unless the socket closed first.
 */
extern struct kvp_svc kvp_activation;
int kvp_activation_request(u32 portid, u32 cookie, const u8 *body,
			   size_t len);
void kvp_activation_socket_closed(u32 portid);

/* request.c: host packets' memory, with a reserve for hard times */
struct kvp_request *kvp_request_alloc(size_t len);
void kvp_request_free(struct kvp_request *req);
int kvp_request_init(void);
void kvp_request_uninit(void);

/* netlink.c: the generic-netlink family and its daemon endpoint */
int kvp_netlink_init(void);
void kvp_netlink_uninit(void);
void kvp_netlink_activation(u32 portid, u32 cookie, const u8 *reply,
			    size_t len, int err);
void kvp_netlink_service_event(u32 service, u32 state);

/*
 * chardev.c: /dev/vmbus/hv_kvp, the stock daemon's endpoint.  The node
 * exists while a transport is bound: transport.c calls
 * kvp_chardev_transport_changed() after binding or unbinding one.
 */
void kvp_chardev_transport_changed(void);
u32 kvp_chardev_state(void);
void kvp_chardev_uninit(void);

/* transport.c */
bool kvp_transport_is_bound(void);

#endif /* _KVP_KVP_H */
