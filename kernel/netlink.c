// SPDX-License-Identifier: GPL-2.0
/*
 * The generic-netlink family "kvp" (uapi/kvp.h): status for anyone, daemon
 * registration and replies for CAP_NET_ADMIN, and the requests the kernel
 * sends to the registered daemon; activation requests from any
 * CAP_NET_ADMIN socket and their ends; the "events" multicast group.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "kvp.h"
#include "uapi/kvp.h"

static const struct nla_policy kvp_policy[KVP_A_MAX + 1] = {
	[KVP_A_REQ_ID]	= { .type = NLA_U32 },
	[KVP_A_STATUS]	= { .type = NLA_U32 },
	[KVP_A_KEY]	= { .type = NLA_NUL_STRING, .len = KVP_KEY_BYTES - 1 },
	[KVP_A_VALUE]	= { .type = NLA_NUL_STRING,
			    .len = KVP_VALUE_BYTES - 1 },
	[KVP_A_SERVICE]	= { .type = NLA_U32 },
	/* Any length: the parser refuses all but its own with EINVAL. */
	[KVP_A_ACT_REQUEST] = { .type = NLA_BINARY },
};

/* The multicast groups, by index: KVP_NL_MCGRP_EVENTS is "events". */
enum {
	KVP_NL_MCGRP_EVENTS,
};

static const struct genl_multicast_group kvp_mcgrps[] = {
	[KVP_NL_MCGRP_EVENTS] = { .name = KVP_GENL_MCGRP_EVENTS },
};

static struct genl_family kvp_genl_family;
static int kvp_nl_deliver(struct kvp_daemon *daemon,
			  const struct kvp_request *req);

static const struct kvp_daemon_ops kvp_nl_daemon_ops = {
	.kind = "netlink",
	.deliver = kvp_nl_deliver,
};

static int kvp_put_stats(struct sk_buff *skb, const struct kvp_stats *stats)
{
	static const struct {
		int attr;
		size_t offset;
	} fields[] = {
		{ KVP_A_STAT_REQUESTS, offsetof(struct kvp_stats, requests) },
		{ KVP_A_STAT_FAILURES, offsetof(struct kvp_stats, failures) },
		{ KVP_A_STAT_TIMEOUTS, offsetof(struct kvp_stats, timeouts) },
		{ KVP_A_STAT_MALFORMED, offsetof(struct kvp_stats, malformed) },
		{ KVP_A_STAT_LATE_REPLIES,
		  offsetof(struct kvp_stats, late_replies) },
		{ KVP_A_STAT_NEGOTIATIONS,
		  offsetof(struct kvp_stats, negotiations) },
		{ KVP_A_STAT_TRUNCATED, offsetof(struct kvp_stats, truncated) },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		const u64 *v = (const void *)stats + fields[i].offset;

		if (nla_put_u64_64bit(skb, fields[i].attr, *v, KVP_A_PAD))
			return -EMSGSIZE;
	}
	return 0;
}

static int kvp_put_status(struct sk_buff *skb, u32 service,
			  const struct kvp_status *st)
{
	if (nla_put_u32(skb, KVP_A_SERVICE, service) ||
	    nla_put_u32(skb, KVP_A_STATE, st->state) ||
	    nla_put_u32(skb, KVP_A_PENDING, st->pending) ||
	    nla_put_u32(skb, KVP_A_DAEMON_WAIT_MS, st->daemon_wait_ms) ||
	    nla_put_u32(skb, KVP_A_REQUEST_TIMEOUT_MS, st->request_timeout_ms))
		return -EMSGSIZE;
	if (st->transport[0] &&
	    nla_put_string(skb, KVP_A_TRANSPORT, st->transport))
		return -EMSGSIZE;
	if (st->negotiated &&
	    (nla_put_u32(skb, KVP_A_FW_VERSION, st->fw_version) ||
	     nla_put_u32(skb, KVP_A_MSG_VERSION, st->msg_version)))
		return -EMSGSIZE;
	if (st->daemon_pid &&
	    (nla_put_u32(skb, KVP_A_DAEMON_PID, st->daemon_pid) ||
	     nla_put_string(skb, KVP_A_DAEMON_KIND, st->daemon_kind)))
		return -EMSGSIZE;
	if (nla_put_u32(skb, KVP_A_CHARDEV, st->chardev))
		return -EMSGSIZE;
	return kvp_put_stats(skb, &st->stats);
}

static int kvp_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	u32 service = KVP_SERVICE_KVP;
	struct kvp_svc *svc;
	struct kvp_status status;
	struct sk_buff *reply;
	void *hdr;

	if (info->attrs[KVP_A_SERVICE])
		service = nla_get_u32(info->attrs[KVP_A_SERVICE]);
	svc = kvp_service_get(service);
	if (!svc) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KVP_A_SERVICE],
				    "no such service");
		return -EINVAL;
	}
	kvp_service_status(svc, &status);
	status.chardev = kvp_chardev_state();
	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	hdr = genlmsg_put_reply(reply, info, &kvp_genl_family, 0,
				KVP_CMD_GET_STATUS);
	if (!hdr || kvp_put_status(reply, service, &status)) {
		nlmsg_free(reply);
		return -EMSGSIZE;
	}
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);
}

/*
 * The daemon endpoint: a netlink socket that registered.  Its registration
 * ends when the socket closes; the notifier learns that from the socket's
 * release, where it must not wait for our locks, and leaves the rest to
 * kvp_nl_gone_work.  kvp_nl_lock serializes
 * registration, replies and the end of a registration, so a reply always
 * reaches the service from the daemon attached to it.
 */
struct kvp_nl_daemon {
	struct kvp_daemon daemon;
	u32 portid;
	bool gone;			/* its socket closed */
};

static DEFINE_MUTEX(kvp_nl_lock);
static DEFINE_SPINLOCK(kvp_nl_gone_lock);	/* `current` for the notifier */
static struct kvp_nl_daemon *kvp_nl_current;

/* kvp_nl_lock held: ends the current registration. */
static void kvp_nl_end(void)
{
	struct kvp_nl_daemon *d = kvp_nl_current;

	kvp_service_detach(&kvp_exchange, &d->daemon);
	spin_lock_bh(&kvp_nl_gone_lock);
	kvp_nl_current = NULL;
	spin_unlock_bh(&kvp_nl_gone_lock);
	kfree(d);
}

/* kvp_nl_lock held: a daemon whose socket closed leaves now. */
static void kvp_nl_end_gone(void)
{
	if (kvp_nl_current && READ_ONCE(kvp_nl_current->gone))
		kvp_nl_end();
}

static void kvp_nl_gone_work_fn(struct work_struct *work)
{
	mutex_lock(&kvp_nl_lock);
	kvp_nl_end_gone();
	mutex_unlock(&kvp_nl_lock);
}

static DECLARE_WORK(kvp_nl_gone_work, kvp_nl_gone_work_fn);

/* Registration refused: who holds the service, for the daemon's log. */
static void kvp_nl_say_holder(struct netlink_ext_ack *extack)
{
	struct kvp_status st;

	kvp_service_status(&kvp_exchange, &st);
	if (strcmp(st.daemon_kind, "chardev")) {
		NL_SET_ERR_MSG_MOD(extack, "another KVP daemon is registered");
		return;
	}
#ifdef NL_SET_ERR_MSG_FMT_MOD
	NL_SET_ERR_MSG_FMT_MOD(extack,
			       "the KVP service is held by the daemon on /dev/vmbus/hv_kvp, pid %u",
			       st.daemon_pid);
#else
	NL_SET_ERR_MSG_MOD(extack,
			   "the KVP service is held by the daemon on /dev/vmbus/hv_kvp");
#endif
}

static int kvp_nl_register(struct sk_buff *skb, struct genl_info *info)
{
	struct kvp_nl_daemon *d;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->daemon.ops = &kvp_nl_daemon_ops;
	d->daemon.pid = task_tgid_vnr(current);
	d->portid = info->snd_portid;
	mutex_lock(&kvp_nl_lock);
	kvp_nl_end_gone();
	err = kvp_nl_current ? -EBUSY :
	      kvp_service_attach(&kvp_exchange, &d->daemon);
	if (!err) {
		spin_lock_bh(&kvp_nl_gone_lock);
		kvp_nl_current = d;
		spin_unlock_bh(&kvp_nl_gone_lock);
	}
	mutex_unlock(&kvp_nl_lock);
	if (err == -EBUSY)
		kvp_nl_say_holder(info->extack);
	if (err)
		kfree(d);
	return err;
}

static int kvp_nl_reply(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct kvp_exchange_answer answer = {};
	int err;

	if (!attrs[KVP_A_REQ_ID] || !attrs[KVP_A_STATUS])
		return -EINVAL;
	answer.status = nla_get_u32(attrs[KVP_A_STATUS]);
	if (attrs[KVP_A_KEY]) {
		answer.fields |= KVP_FIELD_KEY;
		answer.key = nla_data(attrs[KVP_A_KEY]);
	}
	if (attrs[KVP_A_VALUE]) {
		answer.fields |= KVP_FIELD_VALUE;
		answer.value = nla_data(attrs[KVP_A_VALUE]);
	}
	mutex_lock(&kvp_nl_lock);
	if (!kvp_nl_current || kvp_nl_current->portid != info->snd_portid ||
	    READ_ONCE(kvp_nl_current->gone))
		err = -EPERM;
	else
		err = kvp_exchange_reply(&kvp_nl_current->daemon,
					 nla_get_u32(attrs[KVP_A_REQ_ID]),
					 &answer);
	mutex_unlock(&kvp_nl_lock);
	return err;
}

static int kvp_nl_activate(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;

	if (!attrs[KVP_A_REQ_ID] || !attrs[KVP_A_ACT_REQUEST])
		return -EINVAL;
	return kvp_activation_request(info->snd_portid,
				      nla_get_u32(attrs[KVP_A_REQ_ID]),
				      nla_data(attrs[KVP_A_ACT_REQUEST]),
				      nla_len(attrs[KVP_A_ACT_REQUEST]));
}

static const struct genl_small_ops kvp_genl_ops[] = {
	{
		.cmd = KVP_CMD_GET_STATUS,
		.doit = kvp_nl_get_status,
	},
	{
		.cmd = KVP_CMD_REGISTER,
		.doit = kvp_nl_register,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KVP_CMD_REPLY,
		.doit = kvp_nl_reply,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KVP_CMD_ACTIVATE,
		.doit = kvp_nl_activate,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family kvp_genl_family __ro_after_init = {
	.name = KVP_GENL_NAME,
	.version = KVP_GENL_VERSION,
	.maxattr = KVP_A_MAX,
	.policy = kvp_policy,
	.module = THIS_MODULE,
	.small_ops = kvp_genl_ops,
	.n_small_ops = ARRAY_SIZE(kvp_genl_ops),
	.mcgrps = kvp_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kvp_mcgrps),
	/* The core has its own lock: no need to hold genl_mutex. */
	.parallel_ops = true,
};

/* The request's fields, as its kind of message has them (msg.c). */
static int kvp_nl_put_fields(struct sk_buff *skb, const struct kvp_msg *msg)
{
	u8 fields = kvp_msg_kind(msg->op)->request;

	if ((fields & KVP_FIELD_INDEX) &&
	    nla_put_u32(skb, KVP_A_INDEX, msg->index))
		return -EMSGSIZE;
	if ((fields & KVP_FIELD_KEY) && nla_put_string(skb, KVP_A_KEY, msg->key))
		return -EMSGSIZE;
	if ((fields & KVP_FIELD_VALUE) &&
	    nla_put_string(skb, KVP_A_VALUE, msg->value))
		return -EMSGSIZE;
	return 0;
}

/* Sends a host request to the daemon's socket; never blocks. */
static int kvp_nl_deliver(struct kvp_daemon *daemon,
			  const struct kvp_request *req)
{
	struct kvp_nl_daemon *d = container_of(daemon, struct kvp_nl_daemon,
					       daemon);
	const struct kvp_msg *msg = &req->msg;
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return -ENOMEM;
	hdr = genlmsg_put(skb, 0, 0, &kvp_genl_family, 0, KVP_CMD_REQUEST);
	if (!hdr || nla_put_u32(skb, KVP_A_REQ_ID, req->id) ||
	    nla_put_u32(skb, KVP_A_OP, msg->op) ||
	    nla_put_u32(skb, KVP_A_POOL, msg->pool) ||
	    kvp_nl_put_fields(skb, msg)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	err = genlmsg_unicast(&init_net, skb, d->portid);
	/* The socket closed; the notifier has or will come. */
	if (READ_ONCE(d->gone) || err == -ECONNREFUSED)
		return -ENOTCONN;
	return err;
}

/*
 * The end of an activation request, to the socket that sent it: the host's
 * reply body, or a positive errno.  Never blocks; a socket that is full or
 * gone loses it (its owner times out on its own).
 */
void kvp_netlink_activation(u32 portid, u32 cookie, const u8 *reply,
			    size_t len, int err)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(nla_total_size(sizeof(u32)) +
			  nla_total_size(len) + nla_total_size(sizeof(u32)),
			  GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &kvp_genl_family, 0, KVP_CMD_ACTIVATION);
	if (!hdr || nla_put_u32(skb, KVP_A_REQ_ID, cookie) ||
	    (err ? nla_put_u32(skb, KVP_A_ERRNO, err) :
		   nla_put(skb, KVP_A_ACT_REPLY, len, reply))) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_unicast(&init_net, skb, portid);
}

/* A service's state changed: to whoever listens to "events". */
void kvp_netlink_service_event(u32 service, u32 state)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(2 * nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &kvp_genl_family, 0,
			  KVP_CMD_SERVICE_EVENT);
	if (!hdr || nla_put_u32(skb, KVP_A_SERVICE, service) ||
	    nla_put_u32(skb, KVP_A_STATE, state)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&kvp_genl_family, skb, 0, KVP_NL_MCGRP_EVENTS,
			  GFP_KERNEL);
}

/*
 * A socket closed: a daemon's registration ends with it, and its
 * activation requests are nobody's.
 */
static int kvp_netlink_notify(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net) || !n->portid)
		return NOTIFY_DONE;
	kvp_activation_socket_closed(n->portid);
	spin_lock_bh(&kvp_nl_gone_lock);
	if (kvp_nl_current && kvp_nl_current->portid == n->portid &&
	    !kvp_nl_current->gone) {
		WRITE_ONCE(kvp_nl_current->gone, true);
		schedule_work(&kvp_nl_gone_work);
	}
	spin_unlock_bh(&kvp_nl_gone_lock);
	return NOTIFY_DONE;
}

static struct notifier_block kvp_netlink_notifier = {
	.notifier_call = kvp_netlink_notify,
};

int kvp_netlink_init(void)
{
	int err;

	err = netlink_register_notifier(&kvp_netlink_notifier);
	if (err)
		return err;
	err = genl_register_family(&kvp_genl_family);
	if (err)
		goto err_notifier;
	return 0;

err_notifier:
	netlink_unregister_notifier(&kvp_netlink_notifier);
	return err;
}

void kvp_netlink_uninit(void)
{
	genl_unregister_family(&kvp_genl_family);
	netlink_unregister_notifier(&kvp_netlink_notifier);
	cancel_work_sync(&kvp_nl_gone_work);
	mutex_lock(&kvp_nl_lock);
	if (kvp_nl_current)
		kvp_nl_end();
	mutex_unlock(&kvp_nl_lock);
}
