// SPDX-License-Identifier: GPL-2.0
/*
 * The KVP exchange service (IC message type 2): the host asks, the daemon
 * answers.  A request is decoded here, so that a malformed one is answered
 * at once and only well-formed ones reach the daemon; the daemon's answer
 * is written into the reply packet here.  What each kind of message carries
 * is msg.c's table.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ratelimit.h>
#include <linux/string.h>

#include "kvp.h"

/*
 * Pool 2 holds what the guest reports of itself (its intrinsic items): the
 * host reads it but may not change it.
 */
static bool kvp_exchange_forbidden(const struct kvp_msg *msg)
{
	return msg->pool == KVP_POOL_AUTO &&
	       (msg->op == KVP_OP_SET || msg->op == KVP_OP_DELETE);
}

static void kvp_exchange_receive(struct kvp_service *svc,
				 struct kvp_request *req,
				 const struct kvp_ic_hdr *hdr)
{
	const u8 *payload = req->pkt + KVP_ICMSG_HDR_LEN;
	const struct kvp_msg_kind *kind;
	struct kvp_msg *msg = &req->msg;
	int err;

	svc->stats.requests++;
	err = kvp_msg_decode(payload, hdr->size, msg);
	kind = kvp_msg_kind(msg->op);
	/* The reply is written in place: it must have room for its fields. */
	if (!err && kind->reply && hdr->size < kind->len)
		err = -EINVAL;
	if (!err && kvp_exchange_forbidden(msg))
		err = -EACCES;
	switch (err) {
	case 0:
		kvp_service_queue(svc, req);
		return;
	case -EOPNOTSUPP:
		pr_notice_ratelimited("operation %u not supported\n",
				      payload[KVP_MSG_OFF_OP]);
		kvp_request_finish(req, KVP_E_NOT_SUPPORTED);
		return;
	case -EACCES:
		pr_notice_ratelimited("host %s on pool 2 refused: the guest's own pool\n",
				      kind->name);
		kvp_request_finish(req, KVP_E_ACCESSDENIED);
		return;
	case -EMSGSIZE:
		pr_warn_ratelimited("key or value too long for a pool record\n");
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	default:
		svc->stats.malformed++;
		pr_warn_ratelimited("malformed KVP request refused\n");
		kvp_request_finish(req, KVP_E_FAIL);
	}
}

/* Writes the daemon's fields into the reply packet. */
static int kvp_exchange_fill(struct kvp_service *svc, struct kvp_request *req,
			     const struct kvp_exchange_answer *answer)
{
	const struct kvp_msg_kind *kind = kvp_msg_kind(req->msg.op);
	struct kvp_msg *msg = &req->msg;
	int ret;

	/* A SET or DELETE reply is the request itself. */
	if (!kind->reply)
		return 0;
	if ((answer->fields & kind->reply) != kind->reply)
		return -EINVAL;
	if (kind->reply & KVP_FIELD_KEY) {
		ret = strscpy(msg->key, answer->key, sizeof(msg->key));
		if (ret < 0)
			return -EINVAL;
		msg->key_len = ret;
	}
	if (kind->reply & KVP_FIELD_VALUE) {
		ret = strscpy(msg->value, answer->value, sizeof(msg->value));
		if (ret < 0)
			return -EINVAL;
		msg->value_len = ret;
	}
	ret = kvp_msg_encode(req->pkt + KVP_ICMSG_HDR_LEN,
			     req->len - KVP_ICMSG_HDR_LEN, msg);
	if (ret == 1) {
		svc->stats.truncated++;
		pr_notice_ratelimited("item '%s' cut to fit the host wire\n",
				      msg->key);
	}
	return ret < 0 ? ret : 0;
}

/*
 * The daemon's answer to request `id`: -ENOENT when that request already
 * ended (timed out, its connection went away), -EINVAL when a field its kind
 * of reply carries is missing or does not fit (the host then gets E_FAIL).
 */
int kvp_exchange_reply(struct kvp_daemon *daemon, u32 id,
		       const struct kvp_exchange_answer *answer)
{
	struct kvp_service *svc = &kvp_exchange;
	struct kvp_request *req;
	u32 status = answer->status;
	int err = 0;

	mutex_lock(&svc->lock);
	req = kvp_service_find(svc, daemon, id);
	if (!req) {
		svc->stats.late_replies++;
		mutex_unlock(&svc->lock);
		return -ENOENT;
	}
	if (status == KVP_S_OK) {
		err = kvp_exchange_fill(svc, req, answer);
		if (err)
			status = KVP_E_FAIL;
	}
	kvp_request_finish(req, status);
	mutex_unlock(&svc->lock);
	return err;
}

static const struct kvp_service_ops kvp_exchange_ops = {
	.receive = kvp_exchange_receive,
};

struct kvp_service kvp_exchange = {
	.name = "exchange",
	.id = KVP_SERVICE_EXCHANGE,
	.ic_type = KVP_IC_TYPE_KVP,
	.msg_versions = &kvp_msg_versions,
	.ops = &kvp_exchange_ops,
};
