/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Client of the generic-netlink family "kvp" (kernel/uapi/kvp.h), on libnl:
 * status for kvpctl, registration, requests and replies for kvpd.
 */
#ifndef _KVP_NL_H
#define _KVP_NL_H

#include <stdbool.h>
#include <stdint.h>

#include "uapi/kvp.h"

struct kvp_nl;

struct kvp_nl_request {
	uint32_t id;
	uint32_t op;
	uint32_t pool;
	uint32_t index;
	const char *key;	/* "" when absent */
	const char *value;	/* "" when absent */
};

enum kvp_nl_stat {
	KVP_NL_STAT_REQUESTS,
	KVP_NL_STAT_FAILURES,
	KVP_NL_STAT_TIMEOUTS,
	KVP_NL_STAT_MALFORMED,
	KVP_NL_STAT_LATE_REPLIES,
	KVP_NL_STAT_NEGOTIATIONS,
	KVP_NL_STAT_TRUNCATED,
	KVP_NL_NR_STATS,
};

extern const char *const kvp_nl_stat_names[KVP_NL_NR_STATS];

struct kvp_nl_status {
	uint32_t state;
	char transport[16];
	bool negotiated;
	uint32_t fw_version;
	uint32_t msg_version;
	uint32_t daemon_pid;	/* 0: no daemon */
	char daemon_kind[16];	/* "netlink", "chardev"; "" with no daemon */
	uint32_t chardev;	/* enum kvp_chardev_state */
	uint32_t pending;
	uint32_t daemon_wait_ms;
	uint32_t request_timeout_ms;
	uint64_t stats[KVP_NL_NR_STATS];
};

typedef void (*kvp_nl_request_fn)(struct kvp_nl *nl,
				  const struct kvp_nl_request *req, void *arg);

/* The end of one KVP_CMD_ACTIVATE: the host's reply body, or an errno. */
struct kvp_nl_activation {
	uint32_t cookie;	/* KVP_A_REQ_ID */
	int error;		/* positive errno (ETIMEDOUT...), 0: reply */
	const uint8_t *reply;	/* KVP_A_ACT_REPLY, valid during the call */
	size_t reply_len;
};

typedef void (*kvp_nl_activation_fn)(struct kvp_nl *nl,
				     const struct kvp_nl_activation *act,
				     void *arg);
/* A KVP_CMD_SERVICE_EVENT: `service` (enum kvp_service) is now `state`. */
typedef void (*kvp_nl_event_fn)(struct kvp_nl *nl, uint32_t service,
				uint32_t state, void *arg);

int kvp_nl_open(struct kvp_nl **nl);
void kvp_nl_close(struct kvp_nl *nl);
int kvp_nl_fd(struct kvp_nl *nl);
int kvp_nl_status(struct kvp_nl *nl, struct kvp_nl_status *status);
/* The status of one service (enum kvp_service). */
int kvp_nl_service_status(struct kvp_nl *nl, uint32_t service,
			  struct kvp_nl_status *status);
/*
 * Sends one activation request body; the result arrives through
 * kvp_nl_receive() to the function set with kvp_nl_on_activation().
 * Negative errno: -EHOSTUNREACH, -ENOTCONN, -EBUSY, -EINVAL, -EPERM...
 */
int kvp_nl_activate(struct kvp_nl *nl, uint32_t cookie, const uint8_t *body,
		    size_t len);
void kvp_nl_on_activation(struct kvp_nl *nl, kvp_nl_activation_fn fn,
			  void *arg);
/* Joins the "events" group: fn is called from kvp_nl_receive(). */
int kvp_nl_subscribe_events(struct kvp_nl *nl, kvp_nl_event_fn fn, void *arg);
int kvp_nl_register(struct kvp_nl *nl, kvp_nl_request_fn fn, void *arg);
int kvp_nl_receive(struct kvp_nl *nl);
int kvp_nl_reply(struct kvp_nl *nl, uint32_t id, uint32_t status,
		 const char *key, const char *value);
const char *kvp_nl_state_name(uint32_t state);
const char *kvp_nl_chardev_name(uint32_t state);
const char *kvp_nl_error_message(struct kvp_nl *nl);

#endif /* _KVP_NL_H */
