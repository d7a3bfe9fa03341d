// SPDX-License-Identifier: GPL-2.0
/*
 * The entry points for transport modules: binding, connection state, and
 * the dispatch of received IC packets to the services.  A packet is copied
 * and queued in whatever context the transport hands it over, and handled
 * later in process context, in order.  Negotiation is answered here for
 * every service, at once, whether or not a daemon runs: the host never
 * waits for one to learn the versions.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/string.h>

#include "kvp.h"

static DEFINE_MUTEX(kvp_transport_lock);	/* serializes binding */
static struct kvp_transport *kvp_transport_bound;

/*
 * The services in `services` are bound to `transport` (NULL: none), the
 * others to no transport; each service that changes starts over
 * unconnected, under its lock.
 */
static void kvp_transport_bind(struct kvp_transport *transport,
			       unsigned long services)
{
	struct kvp_transport *bound;
	struct kvp_svc *svc;
	int i;

	for (i = 0; i < KVP_SERVICE_COUNT; i++) {
		svc = kvp_service_get(i);
		bound = services & BIT(i) ? transport : NULL;
		mutex_lock(&svc->lock);
		if (svc->transport != bound) {
			kvp_service_drop_all(svc);
			svc->transport = bound;
			svc->connected = false;
			svc->negotiated = false;
			kvp_service_state_changed(svc);
		}
		mutex_unlock(&svc->lock);
	}
}

static void kvp_transport_dispatch(struct kvp_transport *transport,
				   struct kvp_request *req);

static void kvp_transport_rx_work(struct work_struct *work)
{
	struct kvp_transport *transport = container_of(work,
						       struct kvp_transport,
						       rx_work);
	struct kvp_request *req;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&transport->rx_lock, flags);
		req = list_first_entry_or_null(&transport->rx_queue,
					       struct kvp_request, list);
		if (req)
			list_del_init(&req->list);
		spin_unlock_irqrestore(&transport->rx_lock, flags);
		if (!req)
			break;
		kvp_transport_dispatch(transport, req);
	}
}

int kvp_transport_register(struct kvp_transport *transport)
{
	int err = 0;

	mutex_lock(&kvp_transport_lock);
	if (kvp_transport_bound) {
		err = -EBUSY;
	} else {
		spin_lock_init(&transport->rx_lock);
		INIT_LIST_HEAD(&transport->rx_queue);
		INIT_WORK(&transport->rx_work, kvp_transport_rx_work);
		kvp_transport_bound = transport;
		kvp_transport_bind(transport, transport->services);
	}
	mutex_unlock(&kvp_transport_lock);
	if (!err)
		kvp_chardev_transport_changed();
	return err;
}
EXPORT_SYMBOL_GPL(kvp_transport_register);

/*
 * After this returns the core never calls the transport again.  The
 * transport must not hand over packets any more when it calls this.
 */
void kvp_transport_unregister(struct kvp_transport *transport)
{
	struct kvp_request *req, *tmp;

	mutex_lock(&kvp_transport_lock);
	if (kvp_transport_bound != transport) {
		mutex_unlock(&kvp_transport_lock);
		return;
	}
	kvp_transport_bound = NULL;
	cancel_work_sync(&transport->rx_work);
	list_for_each_entry_safe(req, tmp, &transport->rx_queue, list)
		kvp_request_free(req);
	INIT_LIST_HEAD(&transport->rx_queue);
	kvp_transport_bind(NULL, 0);
	mutex_unlock(&kvp_transport_lock);
	kvp_chardev_transport_changed();
}
EXPORT_SYMBOL_GPL(kvp_transport_unregister);

/*
 * Narrows (or widens again) the services a bound transport carries, within
 * those it can carry; a service it stops carrying has no transport.
 */
void kvp_transport_carry(struct kvp_transport *transport,
			 unsigned long services)
{
	mutex_lock(&kvp_transport_lock);
	if (kvp_transport_bound == transport)
		kvp_transport_bind(transport, services & transport->services);
	mutex_unlock(&kvp_transport_lock);
}
EXPORT_SYMBOL_GPL(kvp_transport_carry);

/* Whether a transport is bound now (the chardev's node follows it). */
bool kvp_transport_is_bound(void)
{
	bool bound;

	mutex_lock(&kvp_transport_lock);
	bound = kvp_transport_bound;
	mutex_unlock(&kvp_transport_lock);
	return bound;
}

/*
 * A connection for one service begins or ends (process context).  What the
 * transport handed over before is dealt with first; then the service starts
 * over: negotiation again, the old connection's requests gone.
 */
void kvp_transport_set_connected(struct kvp_transport *transport,
				 enum kvp_service_id service, bool connected)
{
	struct kvp_svc *svc = kvp_service_get(service);

	flush_work(&transport->rx_work);
	mutex_lock(&svc->lock);
	if (svc->transport == transport) {
		kvp_service_drop_all(svc);
		svc->connected = connected;
		svc->negotiated = false;
		kvp_service_state_changed(svc);
	}
	mutex_unlock(&svc->lock);
}
EXPORT_SYMBOL_GPL(kvp_transport_set_connected);

void kvp_transport_malformed(struct kvp_transport *transport,
			     enum kvp_service_id service)
{
	struct kvp_svc *svc = kvp_service_get(service);

	mutex_lock(&svc->lock);
	svc->stats.malformed++;
	mutex_unlock(&svc->lock);
}
EXPORT_SYMBOL_GPL(kvp_transport_malformed);

/*
 * Takes one packet from the host, in any context; pkt is only read during
 * the call.  Returns 0 once the packet is queued (it will be dealt with),
 * -EPROTO for one too short to be an IC packet (it cannot be answered: a
 * framing error of the transport's), -ENOMEM when no copy could be made (the
 * transport keeps the packet and hands it over again later).
 */
int kvp_transport_receive(struct kvp_transport *transport,
			  enum kvp_service_id service, const u8 *pkt,
			  size_t len, u64 id)
{
	struct kvp_request *req;
	unsigned long flags;

	if (len < KVP_ICMSG_HDR_LEN || len > KVP_IC_MAX_PACKET ||
	    service >= KVP_SERVICE_COUNT)
		return -EPROTO;
	req = kvp_request_alloc(len);
	if (!req)
		return -ENOMEM;
	req->transport = transport;
	req->service = service;
	req->host_id = id;
	memcpy(req->pkt, pkt, len);
	spin_lock_irqsave(&transport->rx_lock, flags);
	list_add_tail(&req->list, &transport->rx_queue);
	spin_unlock_irqrestore(&transport->rx_lock, flags);
	queue_work(system_wq, &transport->rx_work);
	return 0;
}
EXPORT_SYMBOL_GPL(kvp_transport_receive);

/*
 * NEGOTIATE: one framework and one message version from the service's
 * lists, or zero counts and E_FAIL when nothing matches.  A negotiation too
 * malformed to answer properly is refused with E_FAIL, unchanged.
 */
static void kvp_transport_negotiate(struct kvp_svc *svc,
				    struct kvp_request *req)
{
	u32 fw, msg;
	int err;

	err = kvp_ic_negotiate(req->pkt, req->len, svc->msg_versions, &fw,
			       &msg);
	/* A failed negotiation leaves the channel unnegotiated. */
	if (err) {
		svc->negotiated = false;
		kvp_service_state_changed(svc);
	}
	if (err == -EINVAL) {
		svc->stats.malformed++;
		pr_warn_ratelimited("%s: malformed negotiation refused\n",
				    svc->name);
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	}
	svc->stats.negotiations++;
	if (err) {
		pr_warn_ratelimited("%s: host offers no version we speak\n",
				    svc->name);
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	}
	if (!svc->negotiated || svc->fw_version != fw ||
	    svc->msg_version != msg)
		pr_info("%s: negotiated framework %u.%u, message %u.%u\n",
			svc->name, KVP_VERSION_MAJOR(fw),
			KVP_VERSION_MINOR(fw), KVP_VERSION_MAJOR(msg),
			KVP_VERSION_MINOR(msg));
	svc->negotiated = true;
	svc->fw_version = fw;
	svc->msg_version = msg;
	kvp_request_finish(req, KVP_S_OK);
	kvp_service_state_changed(svc);
}

/*
 * A packet the service does not take (lock held).  Where the host asks it
 * is answered E_FAIL at once: the host never waits.  Where the guest asks
 * it is dropped unanswered and counted as malformed.
 */
static void kvp_transport_refuse(struct kvp_svc *svc,
				 struct kvp_request *req, bool malformed)
{
	if (malformed || svc->guest_asks)
		svc->stats.malformed++;
	if (svc->guest_asks)
		kvp_request_free(req);
	else
		kvp_request_finish(req, KVP_E_FAIL);
}

static const char *kvp_refused(struct kvp_svc *svc)
{
	return svc->guest_asks ? "dropped" : "refused";
}

/*
 * Whether a NEGOTIATE is answered: always where the host asks; where the
 * guest asks, only a request (anything else would be an answer to a reply).
 */
static bool kvp_transport_is_negotiation(struct kvp_svc *svc,
					 const struct kvp_ic_hdr *hdr)
{
	return hdr->type == KVP_IC_TYPE_NEGOTIATE &&
	       (!svc->guest_asks ||
		(hdr->flags & (KVP_IC_FLAG_REQUEST | KVP_IC_FLAG_RESPONSE)) ==
		KVP_IC_FLAG_REQUEST);
}

/*
 * Process context, in arrival order.  Where the host asks, every packet
 * with an IC header is answered: a malformed one, one of a type the service
 * does not handle, or a request before the host negotiated gets E_FAIL at
 * once (a Hyper-V host always negotiates first).  Where the guest asks,
 * those are dropped instead (kvp_transport_refuse()).
 */
static void kvp_transport_dispatch(struct kvp_transport *transport,
				   struct kvp_request *req)
{
	struct kvp_svc *svc = kvp_service_get(req->service);
	struct kvp_ic_hdr hdr;

	mutex_lock(&svc->lock);
	if (svc->transport != transport || !svc->connected) {
		kvp_request_free(req);
	} else if (kvp_ic_parse(req->pkt, req->len, &hdr)) {
		pr_warn_ratelimited("%s: inconsistent IC packet (%zu bytes) %s\n",
				    svc->name, req->len, kvp_refused(svc));
		kvp_transport_refuse(svc, req, true);
	} else if (kvp_transport_is_negotiation(svc, &hdr)) {
		kvp_transport_negotiate(svc, req);
	} else if (hdr.type != svc->ic_type) {
		pr_warn_ratelimited("%s: IC message type %u %s\n",
				    svc->name, hdr.type, kvp_refused(svc));
		kvp_transport_refuse(svc, req, true);
	} else if (!svc->negotiated) {
		pr_warn_ratelimited("%s: %s before negotiation %s\n",
				    svc->name,
				    svc->guest_asks ? "reply" : "request",
				    kvp_refused(svc));
		kvp_transport_refuse(svc, req, false);
	} else {
		svc->ops->receive(svc, req, &hdr);
	}
	mutex_unlock(&svc->lock);
}
