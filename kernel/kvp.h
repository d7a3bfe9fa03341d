/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvp.ko internals, shared by its files: the one KVP channel's state.
 */
#ifndef _KVP_KVP_H
#define _KVP_KVP_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

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

/* The channel: everything below `lock` is protected by it. */
struct kvp_core {
	struct mutex lock;	/* serializes the channel */
	struct kvp_transport *transport;
	bool connected;
	bool negotiated;
	u32 fw_version;
	u32 msg_version;
	struct list_head pending;	/* struct kvp_request, oldest first */
	unsigned int nr_pending;
	u32 next_id;
	u32 daemon_pid;
	u32 daemon_gen;			/* counts registrations */
	struct kvp_stats stats;
	struct delayed_work timeout_work;
	bool timeout_armed;		/* timeout_work is set for timeout_at */
	unsigned long timeout_at;
	struct work_struct daemon_gone_work;
	/* Set and cleared with cmpxchg: the socket may close in atomic context. */
	u32 daemon_portid;
	u32 gone_portid;
};

extern struct kvp_core kvp_core;
extern unsigned int kvp_daemon_wait_ms;
extern unsigned int kvp_request_timeout_ms;

struct kvp_request {
	struct list_head list;
	struct kvp_transport *transport;
	u64 host_id;
	u32 id;
	u32 daemon_portid;		/* 0 while waiting for a daemon */
	u32 daemon_gen;			/* the registration it went to */
	unsigned long deadline;
	struct kvp_msg msg;
	size_t len;
	u8 pkt[];
};

/* A snapshot for KVP_CMD_GET_STATUS. */
struct kvp_status {
	u32 state;
	char transport[16];
	bool negotiated;
	u32 fw_version;
	u32 msg_version;
	u32 daemon_pid;
	u32 pending;
	u32 daemon_wait_ms;
	u32 request_timeout_ms;
	struct kvp_stats stats;
};

/* service.c */
int kvp_service_init(void);
void kvp_service_uninit(void);
struct kvp_request *kvp_request_alloc(struct kvp_transport *transport,
				      const u8 *pkt, size_t len, u64 id);
void kvp_request_finish(struct kvp_request *req, u32 status);
void kvp_request_free(struct kvp_request *req);
void kvp_service_submit(struct kvp_request *req);
void kvp_service_drop_all(void);
void kvp_service_status(struct kvp_status *status);
int kvp_service_register_daemon(u32 portid, u32 pid);
void kvp_service_daemon_gone(u32 portid);
int kvp_service_reply(u32 portid, u32 id, u32 status, const char *key,
		      const char *value);

/* netlink.c */
int kvp_netlink_init(void);
void kvp_netlink_uninit(void);
int kvp_netlink_send_request(u32 portid, u32 id, const struct kvp_msg *msg);

#endif /* _KVP_KVP_H */
