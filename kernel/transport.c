// SPDX-License-Identifier: GPL-2.0
/*
 * The entry points for transport modules: binding, connection state, and
 * the dispatch of received IC packets.  Negotiation is answered here at
 * once, whether or not a daemon runs: the host never waits for one to learn
 * the versions.
 */
#include <linux/module.h>
#include <linux/ratelimit.h>

#include "ic.h"
#include "kvp.h"

int kvp_transport_register(struct kvp_transport *transport)
{
	int err = 0;

	mutex_lock(&kvp_core.lock);
	if (kvp_core.transport)
		err = -EBUSY;
	else
		kvp_core.transport = transport;
	mutex_unlock(&kvp_core.lock);
	return err;
}
EXPORT_SYMBOL_GPL(kvp_transport_register);

/* After this returns the core never calls the transport again. */
void kvp_transport_unregister(struct kvp_transport *transport)
{
	mutex_lock(&kvp_core.lock);
	if (kvp_core.transport == transport) {
		kvp_service_drop_all();
		kvp_core.transport = NULL;
		kvp_core.connected = false;
		kvp_core.negotiated = false;
	}
	mutex_unlock(&kvp_core.lock);
}
EXPORT_SYMBOL_GPL(kvp_transport_unregister);

/* A new connection starts over: negotiation again, old requests gone. */
void kvp_transport_set_connected(struct kvp_transport *transport,
				 bool connected)
{
	mutex_lock(&kvp_core.lock);
	if (kvp_core.transport == transport) {
		kvp_service_drop_all();
		kvp_core.connected = connected;
		kvp_core.negotiated = false;
	}
	mutex_unlock(&kvp_core.lock);
}
EXPORT_SYMBOL_GPL(kvp_transport_set_connected);

void kvp_transport_malformed(struct kvp_transport *transport)
{
	mutex_lock(&kvp_core.lock);
	kvp_core.stats.malformed++;
	mutex_unlock(&kvp_core.lock);
}
EXPORT_SYMBOL_GPL(kvp_transport_malformed);

static void kvp_negotiate(struct kvp_request *req)
{
	u32 fw, msg;
	int err;

	err = kvp_ic_negotiate(req->pkt, req->len, &fw, &msg);
	if (err == -EINVAL) {
		kvp_core.stats.malformed++;
		pr_warn_ratelimited("kvp: malformed negotiation dropped\n");
		kvp_request_free(req);
		return;
	}
	kvp_core.stats.negotiations++;
	if (err) {
		pr_warn_ratelimited("kvp: host offers no version we speak\n");
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	}
	if (!kvp_core.negotiated || kvp_core.fw_version != fw ||
	    kvp_core.msg_version != msg)
		pr_info("kvp: negotiated framework %u.%u, KVP %u.%u\n",
			fw >> 16, fw & 0xffff, msg >> 16, msg & 0xffff);
	kvp_core.negotiated = true;
	kvp_core.fw_version = fw;
	kvp_core.msg_version = msg;
	kvp_request_finish(req, KVP_S_OK);
}

/*
 * A KVP request: decoded here, so that a malformed one is answered at once
 * and only well-formed ones reach the daemon.  A GET or ENUMERATE must be
 * long enough to carry the key and value of its reply.
 */
static void kvp_exchange(struct kvp_request *req, const struct kvp_ic_hdr *hdr)
{
	const u8 *payload = req->pkt + KVP_ICMSG_HDR_LEN;
	struct kvp_msg *msg = &req->msg;
	int err;

	kvp_core.stats.requests++;
	err = kvp_msg_decode(payload, hdr->size, msg);
	if (!err && (msg->op == KVP_OP_GET || msg->op == KVP_OP_ENUMERATE) &&
	    hdr->size < kvp_msg_len(msg->op))
		err = -EINVAL;
	switch (err) {
	case 0:
		kvp_service_submit(req);
		return;
	case -EOPNOTSUPP:
		pr_notice_ratelimited("kvp: operation %u not supported\n",
				      payload[0]);
		kvp_request_finish(req, KVP_E_NOT_SUPPORTED);
		return;
	case -EMSGSIZE:
		pr_warn_ratelimited("kvp: key or value too long for a pool record\n");
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	default:
		kvp_core.stats.malformed++;
		pr_warn_ratelimited("kvp: malformed KVP request refused\n");
		kvp_request_finish(req, KVP_E_FAIL);
	}
}

/*
 * Handles one packet from the host.  Process context; pkt is only read
 * during the call.  Malformed packets are counted, logged (rate-limited)
 * and, when their header is sound enough to answer, refused with E_FAIL.
 */
void kvp_transport_receive(struct kvp_transport *transport, const u8 *pkt,
			   size_t len, u64 id)
{
	struct kvp_request *req;
	struct kvp_ic_hdr hdr;

	req = kvp_request_alloc(transport, pkt, len, id);
	mutex_lock(&kvp_core.lock);
	if (kvp_core.transport != transport || !kvp_core.connected) {
		if (req)
			kvp_request_free(req);
	} else if (!req) {
		/* Nothing to answer with: the host's request times out. */
		kvp_core.stats.failures++;
		pr_warn_ratelimited("kvp: out of memory, host packet dropped\n");
	} else if (kvp_ic_parse(req->pkt, len, &hdr)) {
		kvp_core.stats.malformed++;
		pr_warn_ratelimited("kvp: short or inconsistent IC packet (%zu bytes) dropped\n",
				    len);
		kvp_request_free(req);
	} else if (hdr.type == KVP_IC_TYPE_NEGOTIATE) {
		kvp_negotiate(req);
	} else if (hdr.type == KVP_IC_TYPE_KVP) {
		kvp_exchange(req, &hdr);
	} else {
		kvp_core.stats.malformed++;
		pr_warn_ratelimited("kvp: IC message type %u dropped\n",
				    hdr.type);
		kvp_request_free(req);
	}
	mutex_unlock(&kvp_core.lock);
}
EXPORT_SYMBOL_GPL(kvp_transport_receive);
