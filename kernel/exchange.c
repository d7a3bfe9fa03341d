// SPDX-License-Identifier: GPL-2.0
/*
 * The KVP exchange service (IC message type 2): the host asks, the daemon
 * answers.  A request is checked as it arrives, so that a malformed one is
 * answered at once and only well-formed ones reach the daemon; the
 * daemon's answer is written into the reply packet.  Both steps are msg.c's
 * pure code (kvp_msg_check_request(), kvp_msg_answer()), which the unit
 * tests and fuzzers run too.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ratelimit.h>

#include "kvp.h"

static void kvp_exchange_receive(struct kvp_svc *svc,
				 struct kvp_request *req,
				 const struct kvp_ic_hdr *hdr)
{
	const u8 *payload = req->pkt + KVP_ICMSG_HDR_LEN;
	int err;

	svc->stats.requests++;
	err = kvp_msg_check_request(payload, hdr->size, &req->msg);
	switch (err) {
	case 0:
		kvp_service_queue(svc, req);
		return;
	case -EOPNOTSUPP:
		pr_notice_ratelimited("operation %u not supported\n",
				      payload[KVP_MSG_OFF_OP]);
		break;
	case -EACCES:
		pr_notice_ratelimited("host %s on pool 2 refused: the guest's own pool\n",
				      kvp_msg_kind(req->msg.op)->name);
		break;
	case -EMSGSIZE:
		pr_warn_ratelimited("key or value too long for a pool record\n");
		break;
	default:
		svc->stats.malformed++;
		pr_warn_ratelimited("malformed KVP request refused\n");
	}
	kvp_request_finish(req, kvp_msg_refusal(err));
}

/*
 * The daemon's answer to request `id`: -ENOENT when that request already
 * ended (timed out, its connection went away), -EINVAL when a field its kind
 * of reply carries is missing or does not fit (the host then gets E_FAIL).
 */
int kvp_exchange_reply(struct kvp_daemon *daemon, u32 id,
		       const struct kvp_exchange_answer *answer)
{
	struct kvp_svc *svc = &kvp_exchange;
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
		err = kvp_msg_answer(req->pkt + KVP_ICMSG_HDR_LEN,
				     req->len - KVP_ICMSG_HDR_LEN, &req->msg,
				     answer->fields, answer->key,
				     answer->value);
		if (err == 1) {
			svc->stats.truncated++;
			pr_notice_ratelimited("item '%s' cut to fit the host wire\n",
					      req->msg.key);
			err = 0;
		}
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

struct kvp_svc kvp_exchange = {
	.name = "exchange",
	.id = KVP_SERVICE_EXCHANGE,
	.ic_type = KVP_IC_TYPE_KVP,
	.msg_versions = &kvp_msg_versions,
	.ops = &kvp_exchange_ops,
};
