// SPDX-License-Identifier: GPL-2.0
/*
 * The "kvp" generic-netlink client.  Requests from the kernel can arrive at
 * any time once a daemon is registered, even before the kernel acknowledges
 * the registration itself, so every receive path hands them to the daemon's
 * handler; so it does with the ends of activation requests and with
 * service events.  Kernel errors are matched to the message they answer by
 * sequence number and kept as plain errno values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <linux/netlink.h>

#include "log.h"
#include "nl.h"

struct kvp_nl {
	struct nl_sock *sock;
	struct nl_cb *cb;
	int family;
	kvp_nl_request_fn on_request;
	void *on_request_arg;
	kvp_nl_activation_fn on_activation;
	void *on_activation_arg;
	kvp_nl_event_fn on_event;
	void *on_event_arg;
	/* The transaction in progress. */
	unsigned int seq;
	bool done;
	int err;
	char errmsg[256];	/* the kernel's extended-ack text, or "" */
	struct kvp_nl_status *status;
};

const char *const kvp_nl_stat_names[KVP_NL_NR_STATS] = {
	"requests", "failures", "timeouts", "malformed", "late_replies",
	"negotiations", "truncated",
};

static const int kvp_nl_stat_attrs[KVP_NL_NR_STATS] = {
	KVP_A_STAT_REQUESTS, KVP_A_STAT_FAILURES, KVP_A_STAT_TIMEOUTS,
	KVP_A_STAT_MALFORMED, KVP_A_STAT_LATE_REPLIES,
	KVP_A_STAT_NEGOTIATIONS, KVP_A_STAT_TRUNCATED,
};

const char *kvp_nl_state_name(uint32_t state)
{
	static const char *const names[] = {
		[KVP_STATE_NO_TRANSPORT] = "no-transport",
		[KVP_STATE_CONNECTING] = "connecting",
		[KVP_STATE_CONNECTED] = "connected",
		[KVP_STATE_NEGOTIATED] = "negotiated",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] :
							  "unknown";
}

/* What `kvpctl status` says of /dev/vmbus/hv_kvp. */
const char *kvp_nl_chardev_name(uint32_t state)
{
	static const char *const names[] = {
		[KVP_CHARDEV_OFF] = "off: no transport",
		[KVP_CHARDEV_READY] = "ready",
		[KVP_CHARDEV_BUSY] = "busy: owned by another driver",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] :
							  "unknown";
}

/* The text the kernel gave with its last error ("" if none). */
const char *kvp_nl_error_message(struct kvp_nl *nl)
{
	return nl->errmsg;
}

static uint32_t kvp_nl_u32(struct nlattr **attrs, int attr)
{
	return attrs[attr] ? nla_get_u32(attrs[attr]) : 0;
}

static const char *kvp_nl_str(struct nlattr **attrs, int attr)
{
	return attrs[attr] ? nla_get_string(attrs[attr]) : "";
}

static void kvp_nl_parse_status(struct nlattr **attrs,
				struct kvp_nl_status *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	st->state = kvp_nl_u32(attrs, KVP_A_STATE);
	snprintf(st->transport, sizeof(st->transport), "%s",
		 kvp_nl_str(attrs, KVP_A_TRANSPORT));
	st->negotiated = attrs[KVP_A_FW_VERSION] != NULL;
	st->fw_version = kvp_nl_u32(attrs, KVP_A_FW_VERSION);
	st->msg_version = kvp_nl_u32(attrs, KVP_A_MSG_VERSION);
	st->daemon_pid = kvp_nl_u32(attrs, KVP_A_DAEMON_PID);
	snprintf(st->daemon_kind, sizeof(st->daemon_kind), "%s",
		 kvp_nl_str(attrs, KVP_A_DAEMON_KIND));
	st->chardev = kvp_nl_u32(attrs, KVP_A_CHARDEV);
	st->pending = kvp_nl_u32(attrs, KVP_A_PENDING);
	st->daemon_wait_ms = kvp_nl_u32(attrs, KVP_A_DAEMON_WAIT_MS);
	st->request_timeout_ms = kvp_nl_u32(attrs, KVP_A_REQUEST_TIMEOUT_MS);
	for (i = 0; i < KVP_NL_NR_STATS; i++)
		if (attrs[kvp_nl_stat_attrs[i]])
			st->stats[i] = nla_get_u64(attrs[kvp_nl_stat_attrs[i]]);
}

/* The end of an activation request: its reply body, or an errno. */
static void kvp_nl_activation(struct kvp_nl *nl, struct nlattr **attrs)
{
	struct kvp_nl_activation act = { 0 };

	if (!nl->on_activation || !attrs[KVP_A_REQ_ID] ||
	    (!attrs[KVP_A_ACT_REPLY] && !attrs[KVP_A_ERRNO]))
		return;
	act.cookie = nla_get_u32(attrs[KVP_A_REQ_ID]);
	if (attrs[KVP_A_ERRNO]) {
		act.error = (int)nla_get_u32(attrs[KVP_A_ERRNO]);
	} else {
		act.reply = nla_data(attrs[KVP_A_ACT_REPLY]);
		act.reply_len = nla_len(attrs[KVP_A_ACT_REPLY]);
	}
	nl->on_activation(nl, &act, nl->on_activation_arg);
}

static int kvp_nl_valid(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gnlh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *attrs[KVP_A_MAX + 1];
	struct kvp_nl *nl = arg;
	struct kvp_nl_request req;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, attrs, KVP_A_MAX, NULL))
		return NL_SKIP;
	/* Only the kernel (port 0) sends anything but status replies. */
	if (gnlh->cmd != KVP_CMD_GET_STATUS && nlmsg_hdr(msg)->nlmsg_pid)
		return NL_OK;
	switch (gnlh->cmd) {
	case KVP_CMD_GET_STATUS:
		if (nl->status)
			kvp_nl_parse_status(attrs, nl->status);
		break;
	case KVP_CMD_REQUEST:
		if (!nl->on_request || !attrs[KVP_A_REQ_ID])
			break;
		req.id = nla_get_u32(attrs[KVP_A_REQ_ID]);
		req.op = kvp_nl_u32(attrs, KVP_A_OP);
		req.pool = kvp_nl_u32(attrs, KVP_A_POOL);
		req.index = kvp_nl_u32(attrs, KVP_A_INDEX);
		req.key = kvp_nl_str(attrs, KVP_A_KEY);
		req.value = kvp_nl_str(attrs, KVP_A_VALUE);
		nl->on_request(nl, &req, nl->on_request_arg);
		break;
	case KVP_CMD_ACTIVATION:
		kvp_nl_activation(nl, attrs);
		break;
	case KVP_CMD_SERVICE_EVENT:
		if (nl->on_event && attrs[KVP_A_SERVICE] && attrs[KVP_A_STATE])
			nl->on_event(nl, nla_get_u32(attrs[KVP_A_SERVICE]),
				     nla_get_u32(attrs[KVP_A_STATE]),
				     nl->on_event_arg);
		break;
	}
	return NL_OK;
}

static int kvp_nl_ack(struct nl_msg *msg, void *arg)
{
	struct kvp_nl *nl = arg;

	if (nlmsg_hdr(msg)->nlmsg_seq == nl->seq)
		nl->done = true;
	return NL_STOP;
}

/*
 * The extended ack's message (NLMSGERR_ATTR_MSG) of an error: its
 * attributes follow the echoed request, or only its header when capped.
 */
static void kvp_nl_keep_errmsg(struct kvp_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *hdr = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *attrs[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	nl->errmsg[0] = '\0';
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off > hdr->nlmsg_len ||
	    nla_parse(attrs, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)hdr + off),
		      hdr->nlmsg_len - off, NULL) ||
	    !attrs[NLMSGERR_ATTR_MSG])
		return;
	snprintf(nl->errmsg, sizeof(nl->errmsg), "%.*s",
		 nla_len(attrs[NLMSGERR_ATTR_MSG]),
		 (const char *)nla_data(attrs[NLMSGERR_ATTR_MSG]));
}

static int kvp_nl_error(struct sockaddr_nl *who, struct nlmsgerr *e,
			void *arg)
{
	struct kvp_nl *nl = arg;

	(void)who;
	if (e->msg.nlmsg_seq == nl->seq && !nl->done) {
		nl->err = e->error;
		nl->done = true;
		kvp_nl_keep_errmsg(nl, e);
	} else {
		/* A reply the kernel refused: nobody waits for its answer. */
		kvp_warn("the kernel refused a reply: %s", strerror(-e->error));
	}
	return NL_SKIP;
}

int kvp_nl_open(struct kvp_nl **out)
{
	struct kvp_nl *nl;
	int err = -ENOMEM;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = nl_socket_alloc();
	nl->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nl->sock || !nl->cb)
		goto fail;
	err = -EPROTONOSUPPORT;
	if (genl_connect(nl->sock))
		goto fail;
	nl->family = genl_ctrl_resolve(nl->sock, KVP_GENL_NAME);
	err = -ENOENT;
	if (nl->family < 0)
		goto fail;
	/* Errors come with the kernel's text (kvp_nl_error_message()). */
	setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &(int){ 1 }, sizeof(int));
	nl_socket_disable_seq_check(nl->sock);
	nl_socket_disable_auto_ack(nl->sock);
	nl_cb_set(nl->cb, NL_CB_VALID, NL_CB_CUSTOM, kvp_nl_valid, nl);
	nl_cb_set(nl->cb, NL_CB_ACK, NL_CB_CUSTOM, kvp_nl_ack, nl);
	nl_cb_err(nl->cb, NL_CB_CUSTOM, kvp_nl_error, nl);
	*out = nl;
	return 0;

fail:
	kvp_nl_close(nl);
	return err;
}

void kvp_nl_close(struct kvp_nl *nl)
{
	if (!nl)
		return;
	nl_cb_put(nl->cb);
	nl_socket_free(nl->sock);
	free(nl);
}

int kvp_nl_fd(struct kvp_nl *nl)
{
	return nl_socket_get_fd(nl->sock);
}

static struct nl_msg *kvp_nl_msg(struct kvp_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				flags, cmd, KVP_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* Sends msg (consumed) and waits for its ack or error. */
static int kvp_nl_transact(struct kvp_nl *nl, struct nl_msg *msg)
{
	int err;

	err = nl_send_auto(nl->sock, msg);
	nl->seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (err < 0)
		return -EIO;
	nl->done = false;
	nl->err = 0;
	while (!nl->done) {
		err = nl_recvmsgs(nl->sock, nl->cb);
		if (err < 0 && !nl->done)
			return -EIO;
	}
	return nl->err;
}

int kvp_nl_service_status(struct kvp_nl *nl, uint32_t service,
			  struct kvp_nl_status *status)
{
	struct nl_msg *msg = kvp_nl_msg(nl, KVP_CMD_GET_STATUS, NLM_F_ACK);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KVP_A_SERVICE, service)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nl->status = status;
	err = kvp_nl_transact(nl, msg);
	nl->status = NULL;
	return err;
}

int kvp_nl_status(struct kvp_nl *nl, struct kvp_nl_status *status)
{
	return kvp_nl_service_status(nl, KVP_SERVICE_KVP, status);
}

/*
 * Sends one activation request body and waits for the kernel's ack: the
 * request is then with the host, and its end comes later through
 * kvp_nl_receive().
 */
int kvp_nl_activate(struct kvp_nl *nl, uint32_t cookie, const uint8_t *body,
		    size_t len)
{
	struct nl_msg *msg = kvp_nl_msg(nl, KVP_CMD_ACTIVATE, NLM_F_ACK);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KVP_A_REQ_ID, cookie) ||
	    nla_put(msg, KVP_A_ACT_REQUEST, len, body)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return kvp_nl_transact(nl, msg);
}

void kvp_nl_on_activation(struct kvp_nl *nl, kvp_nl_activation_fn fn,
			  void *arg)
{
	nl->on_activation = fn;
	nl->on_activation_arg = arg;
}

int kvp_nl_subscribe_events(struct kvp_nl *nl, kvp_nl_event_fn fn, void *arg)
{
	int group = genl_ctrl_resolve_grp(nl->sock, KVP_GENL_NAME,
					  KVP_GENL_MCGRP_EVENTS);

	if (group < 0)
		return -ENOENT;
	if (nl_socket_add_membership(nl->sock, group))
		return -EIO;
	nl->on_event = fn;
	nl->on_event_arg = arg;
	return 0;
}

int kvp_nl_register(struct kvp_nl *nl, kvp_nl_request_fn fn, void *arg)
{
	struct nl_msg *msg = kvp_nl_msg(nl, KVP_CMD_REGISTER, NLM_F_ACK);

	if (!msg)
		return -ENOMEM;
	nl->on_request = fn;
	nl->on_request_arg = arg;
	return kvp_nl_transact(nl, msg);
}

/*
 * Handles whatever the kernel sent: requests, ends of activation requests
 * and service events go to their handlers.  An overrun of the socket
 * (messages came faster than they were read) loses those messages: the
 * kernel fails the lost requests to the host, and the caller's own
 * activation requests time out on its side; the socket goes on.
 */
int kvp_nl_receive(struct kvp_nl *nl)
{
	int err;

	nl->seq = 0;
	err = nl_recvmsgs(nl->sock, nl->cb);
	if (err == -NLE_NOMEM) {
		kvp_warn("netlink overrun: some host requests were lost");
		return 0;
	}
	return err < 0 ? -EIO : 0;
}

/*
 * Answers a request.  No ack is asked for: the daemon does not wait on the
 * kernel, and an error (a reply that came too late) arrives as a message
 * of its own, which kvp_nl_receive() consumes.
 */
int kvp_nl_reply(struct kvp_nl *nl, uint32_t id, uint32_t status,
		 const char *key, const char *value)
{
	struct nl_msg *msg = kvp_nl_msg(nl, KVP_CMD_REPLY, 0);
	int err = -EMSGSIZE;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KVP_A_REQ_ID, id) ||
	    nla_put_u32(msg, KVP_A_STATUS, status) ||
	    (key && nla_put_string(msg, KVP_A_KEY, key)) ||
	    (value && nla_put_string(msg, KVP_A_VALUE, value)))
		goto out;
	err = nl_send_auto(nl->sock, msg) < 0 ? -EIO : 0;
out:
	nlmsg_free(msg);
	return err;
}
