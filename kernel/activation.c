// SPDX-License-Identifier: GPL-2.0
/*
 * The activation service (IC message type KVP_IC_TYPE_AVMA): the guest
 * asks, the host answers.  A netlink socket hands over a request body
 * (KVP_CMD_ACTIVATE); it goes to the host in an IC packet of its own, with
 * a frame id chosen here, increasing from 1 on each connection.  The host's
 * reply comes back through the transport with that id, is checked
 * (avma.c's parser, the same code kvpd and kvp-hostd run) and relayed to
 * the socket.  Every request ends once: with the reply, or with an errno
 * when none comes in time or the connection ends.  Nothing the host sends
 * on this service is ever answered but its NEGOTIATE (transport.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "avma.h"
#include "kvp.h"

/* Outstanding requests a socket may have; more get -EBUSY. */
#define KVP_ACT_PER_SOCKET	8

#define KVP_ACT_PKT_LEN		(KVP_ICMSG_HDR_LEN + KVP_AVMA_REQUEST_LEN)

/* One request sent to the host, until it ends. */
struct kvp_act {
	struct list_head list;
	u64 frame_id;
	u32 portid;		/* its socket; 0 once that closed */
	u32 cookie;
	unsigned long deadline;
};

/*
 * The outstanding requests.  They change under the service's lock and
 * kvp_act_lock both: the socket notifier, which must not sleep, walks them
 * under kvp_act_lock alone.  kvp_act_next_id is the service lock's.
 */
static DEFINE_SPINLOCK(kvp_act_lock);
static LIST_HEAD(kvp_act_outstanding);
static u64 kvp_act_next_id = 1;

/* The activation message versions the guest speaks. */
static const u32 kvp_act_version_list[] = { KVP_VERSION(1, 0) };

static const struct kvp_ic_versions kvp_act_versions = {
	.list = kvp_act_version_list,
	.count = ARRAY_SIZE(kvp_act_version_list),
};

/* Lock held: how many requests the socket has outstanding. */
static unsigned int kvp_act_count(u32 portid)
{
	unsigned int n = 0;
	struct kvp_act *act;

	list_for_each_entry(act, &kvp_act_outstanding, list)
		n += READ_ONCE(act->portid) == portid;
	return n;
}

/*
 * Lock held: the request ends with the host's reply body, or with a
 * positive errno; its socket learns which, unless it closed.
 */
static void kvp_act_end(struct kvp_svc *svc, struct kvp_act *act,
			const u8 *reply, size_t len, int err)
{
	u32 portid;

	spin_lock_bh(&kvp_act_lock);
	list_del(&act->list);
	portid = act->portid;
	spin_unlock_bh(&kvp_act_lock);
	svc->nr_pending--;
	if (err)
		svc->stats.failures++;
	if (portid)
		kvp_netlink_activation(portid, act->cookie, reply, len, err);
	kfree(act);
}

/* Lock held: the request waiting for the reply of frame `id`. */
static struct kvp_act *kvp_act_find(u64 id)
{
	struct kvp_act *act;

	list_for_each_entry(act, &kvp_act_outstanding, list)
		if (act->frame_id == id)
			return act;
	return NULL;
}

/* The IC packet of one request, stamped with the negotiated versions. */
static void kvp_act_build(struct kvp_svc *svc, u8 *pkt, const u8 *body)
{
	struct kvp_ic_hdr hdr = {
		.fw_version = svc->fw_version,
		.type = KVP_IC_TYPE_AVMA,
		.msg_version = svc->msg_version,
		.size = KVP_AVMA_REQUEST_LEN,
		.flags = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST,
	};

	kvp_ic_build(pkt, &hdr);
	memcpy(pkt + KVP_ICMSG_HDR_LEN, body, KVP_AVMA_REQUEST_LEN);
}

/* Lock held: sends the request; it ends later, in any case. */
static void kvp_act_send(struct kvp_svc *svc, struct kvp_act *act,
			 const u8 *body)
{
	u8 pkt[KVP_ACT_PKT_LEN];

	act->frame_id = kvp_act_next_id++;
	act->deadline = kvp_service_deadline(READ_ONCE(kvp_request_timeout_ms));
	spin_lock_bh(&kvp_act_lock);
	list_add_tail(&act->list, &kvp_act_outstanding);
	spin_unlock_bh(&kvp_act_lock);
	svc->nr_pending++;
	svc->stats.requests++;
	kvp_service_arm_timeout(svc, act->deadline);
	kvp_act_build(svc, pkt, body);
	/*
	 * A send that fails ends the connection (the transport closes it):
	 * the request then ends with it, as any other outstanding one.
	 */
	svc->transport->ops->send(svc->transport, svc->id, pkt, sizeof(pkt),
				  act->frame_id);
}

/*
 * KVP_CMD_ACTIVATE from the socket `portid`: -EINVAL for a body that is
 * not a request, -EHOSTUNREACH when no transport carries the service,
 * -ENOTCONN before the host negotiated it, -EBUSY when the socket has
 * KVP_ACT_PER_SOCKET requests outstanding.
 */
int kvp_activation_request(u32 portid, u32 cookie, const u8 *body,
			   size_t len)
{
	struct kvp_svc *svc = &kvp_activation;
	struct kvp_avma_request req;
	struct kvp_act *act;
	int err = 0;

	if (kvp_avma_request_parse(body, len, &req))
		return -EINVAL;
	act = kzalloc(sizeof(*act), GFP_KERNEL);
	if (!act)
		return -ENOMEM;
	act->portid = portid;
	act->cookie = cookie;
	mutex_lock(&svc->lock);
	if (!svc->transport)
		err = -EHOSTUNREACH;
	else if (!svc->connected || !svc->negotiated)
		err = -ENOTCONN;
	else if (kvp_act_count(portid) >= KVP_ACT_PER_SOCKET)
		err = -EBUSY;
	else
		kvp_act_send(svc, act, body);
	mutex_unlock(&svc->lock);
	if (err)
		kfree(act);
	return err;
}

/*
 * A netlink socket closed (its release, which must not wait for the
 * service's lock): its requests go on to their end, which nobody hears.
 */
void kvp_activation_socket_closed(u32 portid)
{
	struct kvp_act *act;

	spin_lock_bh(&kvp_act_lock);
	list_for_each_entry(act, &kvp_act_outstanding, list)
		if (act->portid == portid)
			WRITE_ONCE(act->portid, 0);
	spin_unlock_bh(&kvp_act_lock);
}

/* Why a host packet is no reply at all, or NULL. */
static const char *kvp_act_check(const struct kvp_request *req,
				 const struct kvp_ic_hdr *hdr)
{
	struct kvp_avma_reply rep;

	if (hdr->flags != (KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE))
		return "not a response";
	if (hdr->status != KVP_S_OK)
		return "status not S_OK";
	if (kvp_avma_reply_parse(req->pkt + KVP_ICMSG_HDR_LEN, hdr->size,
				 &rep))
		return "malformed body";
	return NULL;
}

/*
 * A host packet of type KVP_IC_TYPE_AVMA, after negotiation: the reply to
 * an outstanding request, relayed to its socket; anything else is dropped,
 * never answered.  A reply to a request of this connection that already
 * ended (timed out) is a late one; any other packet counts as malformed.
 */
static void kvp_activation_receive(struct kvp_svc *svc,
				   struct kvp_request *req,
				   const struct kvp_ic_hdr *hdr)
{
	const char *why = kvp_act_check(req, hdr);
	struct kvp_act *act = NULL;

	if (!why) {
		act = kvp_act_find(req->host_id);
		if (!act && req->host_id && req->host_id < kvp_act_next_id) {
			svc->stats.late_replies++;
			pr_info_ratelimited("activation: late reply %llu dropped\n",
					    req->host_id);
		} else if (!act) {
			why = "unknown id";
		}
	}
	if (act) {
		kvp_act_end(svc, act, req->pkt + KVP_ICMSG_HDR_LEN, hdr->size,
			    0);
	} else if (why) {
		svc->stats.malformed++;
		pr_warn_ratelimited("activation: packet %llu dropped: %s\n",
				    req->host_id, why);
	}
	kvp_request_free(req);
}

/* The connection ended or starts over: its requests end with it. */
static void kvp_activation_reset(struct kvp_svc *svc)
{
	struct kvp_act *act, *tmp;

	list_for_each_entry_safe(act, tmp, &kvp_act_outstanding, list)
		kvp_act_end(svc, act, NULL, 0, ECONNRESET);
	kvp_act_next_id = 1;
}

static bool kvp_activation_expire(struct kvp_svc *svc, unsigned long now,
				  unsigned long *next)
{
	struct kvp_act *act, *tmp;
	bool more = false;

	list_for_each_entry_safe(act, tmp, &kvp_act_outstanding, list) {
		if (!time_before(now, act->deadline)) {
			pr_warn_ratelimited("activation: request %llu: no reply from the host in time\n",
					    act->frame_id);
			svc->stats.timeouts++;
			kvp_act_end(svc, act, NULL, 0, ETIMEDOUT);
		} else if (!more || time_before(act->deadline, *next)) {
			*next = act->deadline;
			more = true;
		}
	}
	return more;
}

static const struct kvp_service_ops kvp_activation_ops = {
	.receive = kvp_activation_receive,
	.reset = kvp_activation_reset,
	.expire = kvp_activation_expire,
};

struct kvp_svc kvp_activation = {
	.name = "activation",
	.id = KVP_SERVICE_AVMA,
	.ic_type = KVP_IC_TYPE_AVMA,
	.guest_asks = true,
	.msg_versions = &kvp_act_versions,
	.ops = &kvp_activation_ops,
};
