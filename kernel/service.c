// SPDX-License-Identifier: GPL-2.0
/*
 * What every IC service shares: the table of services, requests waiting for
 * the service's daemon and their deadlines, the attachment of a daemon
 * endpoint, the answer to the host, and the state announced to the
 * events group.  What a request means is the service's own business
 * (exchange.c for KVP, activation.c for the guest's own requests).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/ratelimit.h>
#include <linux/string.h>

#include "kvp.h"
#include "uapi/kvp.h"

/* The services of the core: a new service is a row here. */
static struct kvp_svc *const kvp_services[KVP_SERVICE_COUNT] = {
	[KVP_SERVICE_EXCHANGE] = &kvp_exchange,
	[KVP_SERVICE_AVMA] = &kvp_activation,
};

struct kvp_svc *kvp_service_get(enum kvp_service_id id)
{
	return id < KVP_SERVICE_COUNT ? kvp_services[id] : NULL;
}

/* The module parameters in force: out-of-range values are clamped. */
static unsigned int kvp_clamp_ms(unsigned int ms)
{
	return clamp_t(unsigned int, ms, KVP_MS_MIN, KVP_MS_MAX);
}

unsigned long kvp_service_deadline(unsigned int ms)
{
	return jiffies + msecs_to_jiffies(kvp_clamp_ms(ms));
}

/* Lock held: arms the timeout work for `deadline` unless it fires sooner. */
void kvp_service_arm_timeout(struct kvp_svc *svc, unsigned long deadline)
{
	unsigned long now = jiffies;

	if (svc->timeout_armed && !time_before(deadline, svc->timeout_at))
		return;
	svc->timeout_armed = true;
	svc->timeout_at = deadline;
	mod_delayed_work(system_wq, &svc->timeout_work,
			 time_after(deadline, now) ? deadline - now : 0);
}

/*
 * Lock held: takes a request off the service's list and frees it; the
 * endpoint that had it is told, in case it still holds it for its daemon.
 */
static void kvp_request_forget(struct kvp_svc *svc,
			       struct kvp_request *req)
{
	if (!list_empty(&req->list)) {
		list_del_init(&req->list);
		svc->nr_pending--;
	}
	if (req->daemon && req->daemon->ops->cancel)
		req->daemon->ops->cancel(req->daemon, req);
	kvp_request_free(req);
}

/*
 * Answers the host and forgets the request, queued or not.  The reply goes
 * only to the connection the request came from.  Lock held.
 */
void kvp_request_finish(struct kvp_request *req, u32 status)
{
	struct kvp_svc *svc = kvp_service_get(req->service);
	struct kvp_transport *transport = svc->transport;

	lockdep_assert_held(&svc->lock);
	if (status != KVP_S_OK && status != KVP_S_CONT)
		svc->stats.failures++;
	kvp_ic_set_reply(req->pkt, status);
	if (transport == req->transport && svc->connected)
		transport->ops->send(transport, svc->id, req->pkt, req->len,
				     req->host_id);
	kvp_request_forget(svc, req);
}

/* Hands a waiting request to the attached daemon, if there is one. */
static void kvp_request_to_daemon(struct kvp_svc *svc,
				  struct kvp_request *req)
{
	struct kvp_daemon *daemon = svc->daemon;
	int err;

	if (!daemon)
		return;
	err = daemon->ops->deliver(daemon, req);
	/* A daemon on its way out: the request waits for the next one. */
	if (err == -ENOTCONN)
		return;
	if (err) {
		pr_warn_ratelimited("%s: cannot pass request %u to the daemon\n",
				    svc->name, req->id);
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	}
	req->daemon = daemon;
	req->deadline = kvp_service_deadline(READ_ONCE(kvp_request_timeout_ms));
	kvp_service_arm_timeout(svc, req->deadline);
}

/*
 * Queues a well-formed host request for the service's daemon (lock held).
 * It waits daemon_wait_ms for a daemon, then request_timeout_ms at it.
 */
void kvp_service_queue(struct kvp_svc *svc, struct kvp_request *req)
{
	lockdep_assert_held(&svc->lock);
	if (++svc->next_id == 0)
		svc->next_id = 1;
	req->id = svc->next_id;
	req->daemon = NULL;
	list_add_tail(&req->list, &svc->pending);
	if (++svc->nr_pending > KVP_MAX_PENDING) {
		pr_warn_ratelimited("%s: too many host requests pending\n",
				    svc->name);
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	}
	req->deadline = kvp_service_deadline(READ_ONCE(kvp_daemon_wait_ms));
	kvp_service_arm_timeout(svc, req->deadline);
	kvp_request_to_daemon(svc, req);
}

/* The request `id` that went to `daemon`, still waiting for its answer. */
struct kvp_request *kvp_service_find(struct kvp_svc *svc,
				     struct kvp_daemon *daemon, u32 id)
{
	struct kvp_request *req;

	lockdep_assert_held(&svc->lock);
	list_for_each_entry(req, &svc->pending, list)
		if (req->id == id && req->daemon == daemon)
			return req;
	return NULL;
}

/* The connection went away or started over: no one to answer. */
void kvp_service_drop_all(struct kvp_svc *svc)
{
	struct kvp_request *req, *tmp;

	lockdep_assert_held(&svc->lock);
	list_for_each_entry_safe(req, tmp, &svc->pending, list)
		kvp_request_forget(svc, req);
	if (svc->ops->reset)
		svc->ops->reset(svc);
}

/* Lock held: the waiting requests go to the attached daemon, oldest first. */
static void kvp_service_hand_waiting(struct kvp_svc *svc)
{
	struct kvp_request *req, *tmp;

	list_for_each_entry_safe(req, tmp, &svc->pending, list)
		if (!req->daemon)
			kvp_request_to_daemon(svc, req);
}

static void kvp_timeout_work_fn(struct work_struct *work)
{
	struct kvp_svc *svc = container_of(to_delayed_work(work),
					       struct kvp_svc,
					       timeout_work);
	struct kvp_request *req, *tmp;
	unsigned long now = jiffies, next = 0, req_next;
	bool more = false, freed = false;

	mutex_lock(&svc->lock);
	svc->timeout_armed = false;
	list_for_each_entry_safe(req, tmp, &svc->pending, list) {
		if (!time_before(now, req->deadline)) {
			pr_warn_ratelimited("%s: request %u timed out %s\n",
					    svc->name, req->id, req->daemon ?
					    "at the daemon" :
					    "waiting for a daemon");
			svc->stats.timeouts++;
			freed |= !!req->daemon;
			kvp_request_finish(req, KVP_E_FAIL);
		} else if (!more || time_before(req->deadline, next)) {
			next = req->deadline;
			more = true;
		}
	}
	/*
	 * A request that ended at the daemon may have freed an endpoint that
	 * takes one at a time: it may take the next now.
	 */
	if (freed && svc->daemon)
		kvp_service_hand_waiting(svc);
	if (svc->ops->expire && svc->ops->expire(svc, now, &req_next) &&
	    (!more || time_before(req_next, next))) {
		next = req_next;
		more = true;
	}
	if (more)
		kvp_service_arm_timeout(svc, next);
	mutex_unlock(&svc->lock);
}

/*
 * Makes `daemon` the service's daemon, one at a time (-EBUSY, and the log
 * says who holds the service), and hands it the requests that were
 * waiting.  The daemon and the requests it holds change together under the
 * lock, so no request can go to a daemon that is not the attached one.
 */
int kvp_service_attach(struct kvp_svc *svc, struct kvp_daemon *daemon)
{
	struct kvp_daemon *holder;

	mutex_lock(&svc->lock);
	holder = svc->daemon;
	if (holder) {
		pr_info_ratelimited("%s: %s daemon %u refused: the %s daemon %u holds the service\n",
				    svc->name, daemon->ops->kind, daemon->pid,
				    holder->ops->kind, holder->pid);
		mutex_unlock(&svc->lock);
		return -EBUSY;
	}
	svc->daemon = daemon;
	kvp_service_hand_waiting(svc);
	mutex_unlock(&svc->lock);
	pr_info("%s: %s daemon %u attached\n", svc->name, daemon->ops->kind,
		daemon->pid);
	return 0;
}

/*
 * The attached `daemon`, which takes one request at a time, can take the
 * next: the waiting requests are offered to it again.
 */
void kvp_service_ready(struct kvp_svc *svc, struct kvp_daemon *daemon)
{
	mutex_lock(&svc->lock);
	if (svc->daemon == daemon)
		kvp_service_hand_waiting(svc);
	mutex_unlock(&svc->lock);
}

/*
 * The daemon is gone (its endpoint says so, in process context): what it
 * held is failed to the host at once; waiting requests wait for the next.
 * After this returns the service never calls the daemon again.
 */
void kvp_service_detach(struct kvp_svc *svc, struct kvp_daemon *daemon)
{
	struct kvp_request *req, *tmp;

	mutex_lock(&svc->lock);
	if (svc->daemon == daemon)
		svc->daemon = NULL;
	list_for_each_entry_safe(req, tmp, &svc->pending, list)
		if (req->daemon == daemon)
			kvp_request_finish(req, KVP_E_FAIL);
	mutex_unlock(&svc->lock);
}

/* Lock held: enum kvp_state. */
static u32 kvp_service_state(struct kvp_svc *svc)
{
	if (!svc->transport)
		return KVP_STATE_NO_TRANSPORT;
	if (!svc->connected)
		return KVP_STATE_CONNECTING;
	if (!svc->negotiated)
		return KVP_STATE_CONNECTED;
	return KVP_STATE_NEGOTIATED;
}

/*
 * Lock held, after anything that may change the service's state: a change
 * is announced to the netlink "events" group, once.
 */
void kvp_service_state_changed(struct kvp_svc *svc)
{
	u32 state = kvp_service_state(svc);

	lockdep_assert_held(&svc->lock);
	if (state == svc->state)
		return;
	svc->state = state;
	kvp_netlink_service_event(svc->id, state);
}

void kvp_service_status(struct kvp_svc *svc, struct kvp_status *status)
{
	memset(status, 0, sizeof(*status));
	mutex_lock(&svc->lock);
	status->state = kvp_service_state(svc);
	if (svc->transport)
		strscpy(status->transport, svc->transport->name,
			sizeof(status->transport));
	status->negotiated = svc->negotiated;
	status->daemon_wait_ms = kvp_clamp_ms(READ_ONCE(kvp_daemon_wait_ms));
	status->request_timeout_ms =
		kvp_clamp_ms(READ_ONCE(kvp_request_timeout_ms));
	status->fw_version = svc->fw_version;
	status->msg_version = svc->msg_version;
	if (svc->daemon) {
		status->daemon_pid = svc->daemon->pid;
		strscpy(status->daemon_kind, svc->daemon->ops->kind,
			sizeof(status->daemon_kind));
	}
	status->pending = svc->nr_pending;
	status->stats = svc->stats;
	mutex_unlock(&svc->lock);
}

void kvp_service_init(struct kvp_svc *svc)
{
	mutex_init(&svc->lock);
	INIT_LIST_HEAD(&svc->pending);
	INIT_DELAYED_WORK(&svc->timeout_work, kvp_timeout_work_fn);
}

/* After the transports and daemon endpoints are gone. */
void kvp_service_uninit(struct kvp_svc *svc)
{
	cancel_delayed_work_sync(&svc->timeout_work);
	mutex_lock(&svc->lock);
	kvp_service_drop_all(svc);
	mutex_unlock(&svc->lock);
	mutex_destroy(&svc->lock);
}
