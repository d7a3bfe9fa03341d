// SPDX-License-Identifier: GPL-2.0
/*
 * The KVP service: host requests wait here for the daemon, go to it over
 * netlink, and are answered to the host when it replies, when it goes away,
 * or when their time runs out.  The Hyper-V host sends one request at a
 * time; nothing here relies on that.
 */
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "ic.h"
#include "kvp.h"
#include "uapi/kvp.h"

/* The module parameters in force: out-of-range values are clamped. */
static unsigned int kvp_clamp_ms(unsigned int ms)
{
	return clamp_t(unsigned int, ms, KVP_MS_MIN, KVP_MS_MAX);
}

static unsigned long kvp_deadline(unsigned int ms)
{
	return jiffies + msecs_to_jiffies(kvp_clamp_ms(ms));
}

/* Called with the lock held: arms the timeout work for `deadline`. */
static void kvp_arm_timeout(unsigned long deadline)
{
	unsigned long now = jiffies;

	if (kvp_core.timeout_armed &&
	    !time_before(deadline, kvp_core.timeout_at))
		return;
	kvp_core.timeout_armed = true;
	kvp_core.timeout_at = deadline;
	mod_delayed_work(system_wq, &kvp_core.timeout_work,
			 time_after(deadline, now) ? deadline - now : 0);
}

/* A copy of a host packet, to be answered in place, same length. */
struct kvp_request *kvp_request_alloc(struct kvp_transport *transport,
				      const u8 *pkt, size_t len, u64 id)
{
	struct kvp_request *req;

	req = kmalloc(struct_size(req, pkt, len), GFP_KERNEL);
	if (!req)
		return NULL;
	INIT_LIST_HEAD(&req->list);
	req->transport = transport;
	req->host_id = id;
	req->daemon_portid = 0;
	req->len = len;
	memcpy(req->pkt, pkt, len);
	return req;
}

/*
 * Answers the host and forgets the request, queued or not.  Called with the
 * lock held.
 */
void kvp_request_finish(struct kvp_request *req, u32 status)
{
	struct kvp_transport *transport = kvp_core.transport;

	lockdep_assert_held(&kvp_core.lock);
	if (status != KVP_S_OK && status != KVP_S_CONT)
		kvp_core.stats.failures++;
	kvp_ic_set_reply(req->pkt, status);
	if (transport == req->transport && kvp_core.connected)
		transport->ops->send(transport, req->pkt, req->len,
				     req->host_id);
	kvp_request_free(req);
}

void kvp_request_free(struct kvp_request *req)
{
	if (!list_empty(&req->list)) {
		list_del(&req->list);
		kvp_core.nr_pending--;
	}
	kfree(req);
}

/* Hands a waiting request to the registered daemon, if there is one. */
static void kvp_request_to_daemon(struct kvp_request *req)
{
	u32 portid = READ_ONCE(kvp_core.daemon_portid);

	if (!portid)
		return;
	if (kvp_netlink_send_request(portid, req->id, &req->msg)) {
		pr_warn_ratelimited("kvp: cannot pass request %u to the daemon\n",
				    req->id);
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	}
	req->daemon_portid = portid;
	req->daemon_gen = kvp_core.daemon_gen;
	req->deadline = kvp_deadline(READ_ONCE(kvp_request_timeout_ms));
	kvp_arm_timeout(req->deadline);
}

/* Queues a decoded KVP request for the daemon (lock held). */
void kvp_service_submit(struct kvp_request *req)
{
	lockdep_assert_held(&kvp_core.lock);
	if (++kvp_core.next_id == 0)
		kvp_core.next_id = 1;
	req->id = kvp_core.next_id;
	list_add_tail(&req->list, &kvp_core.pending);
	if (++kvp_core.nr_pending > KVP_MAX_PENDING) {
		pr_warn_ratelimited("kvp: too many host requests pending\n");
		kvp_request_finish(req, KVP_E_FAIL);
		return;
	}
	req->deadline = kvp_deadline(READ_ONCE(kvp_daemon_wait_ms));
	kvp_arm_timeout(req->deadline);
	kvp_request_to_daemon(req);
}

/* The transport went away or reconnected: its requests can't be answered. */
void kvp_service_drop_all(void)
{
	struct kvp_request *req, *tmp;

	lockdep_assert_held(&kvp_core.lock);
	list_for_each_entry_safe(req, tmp, &kvp_core.pending, list)
		kvp_request_free(req);
}

static void kvp_timeout_work_fn(struct work_struct *work)
{
	struct kvp_request *req, *tmp;
	unsigned long now = jiffies, next = 0;
	bool more = false;

	mutex_lock(&kvp_core.lock);
	kvp_core.timeout_armed = false;
	list_for_each_entry_safe(req, tmp, &kvp_core.pending, list) {
		if (!time_before(now, req->deadline)) {
			pr_warn_ratelimited("kvp: request %u timed out %s\n",
					    req->id, req->daemon_portid ?
					    "at the daemon" :
					    "waiting for a daemon");
			kvp_core.stats.timeouts++;
			kvp_request_finish(req, KVP_E_FAIL);
		} else if (!more || time_before(req->deadline, next)) {
			next = req->deadline;
			more = true;
		}
	}
	if (more)
		kvp_arm_timeout(next);
	mutex_unlock(&kvp_core.lock);
}

/*
 * Fails what a daemon that closed its socket still held: whatever went to a
 * registration other than the current one (a new daemon may already have
 * registered, even with the same port id).
 */
static void kvp_daemon_gone_work_fn(struct work_struct *work)
{
	struct kvp_request *req, *tmp;
	bool registered;

	mutex_lock(&kvp_core.lock);
	registered = READ_ONCE(kvp_core.daemon_portid) != 0;
	if (!registered)
		kvp_core.daemon_pid = 0;
	list_for_each_entry_safe(req, tmp, &kvp_core.pending, list)
		if (req->daemon_portid && (!registered ||
					   req->daemon_gen != kvp_core.daemon_gen))
			kvp_request_finish(req, KVP_E_FAIL);
	mutex_unlock(&kvp_core.lock);
}

int kvp_service_register_daemon(u32 portid, u32 pid)
{
	struct kvp_request *req, *tmp;

	if (cmpxchg(&kvp_core.daemon_portid, 0, portid) != 0)
		return -EBUSY;
	mutex_lock(&kvp_core.lock);
	kvp_core.daemon_gen++;
	kvp_core.daemon_pid = pid;
	list_for_each_entry_safe(req, tmp, &kvp_core.pending, list)
		if (!req->daemon_portid)
			kvp_request_to_daemon(req);
	mutex_unlock(&kvp_core.lock);
	pr_info("kvp: daemon %u registered\n", pid);
	return 0;
}

/* From the netlink notifier: atomic context, so the work does the rest. */
void kvp_service_daemon_gone(u32 portid)
{
	if (portid && cmpxchg(&kvp_core.daemon_portid, portid, 0) == portid)
		schedule_work(&kvp_core.daemon_gone_work);
}

static struct kvp_request *kvp_find_request(u32 portid, u32 id)
{
	struct kvp_request *req;

	list_for_each_entry(req, &kvp_core.pending, list)
		if (req->id == id && req->daemon_portid == portid)
			return req;
	return NULL;
}

/* Puts the daemon's key and value into the reply packet. */
static int kvp_fill_reply(struct kvp_request *req, const char *key,
			  const char *value)
{
	struct kvp_msg *msg = &req->msg;
	int ret;

	if (!value || (msg->op == KVP_OP_ENUMERATE && !key))
		return -EINVAL;
	if (key && msg->op == KVP_OP_ENUMERATE) {
		ret = strscpy(msg->key, key, sizeof(msg->key));
		if (ret < 0)
			return -EINVAL;
		msg->key_len = ret;
	}
	ret = strscpy(msg->value, value, sizeof(msg->value));
	if (ret < 0)
		return -EINVAL;
	msg->value_len = ret;
	ret = kvp_msg_encode(req->pkt + KVP_ICMSG_HDR_LEN,
			     req->len - KVP_ICMSG_HDR_LEN, msg);
	if (ret == 1) {
		kvp_core.stats.truncated++;
		pr_notice_ratelimited("kvp: item '%s' cut to fit the host wire\n",
				      msg->key);
	}
	return ret < 0 ? ret : 0;
}

int kvp_service_reply(u32 portid, u32 id, u32 status, const char *key,
		      const char *value)
{
	struct kvp_request *req;
	int err = 0;

	if (portid != READ_ONCE(kvp_core.daemon_portid))
		return -EPERM;
	mutex_lock(&kvp_core.lock);
	req = kvp_find_request(portid, id);
	if (!req) {
		kvp_core.stats.late_replies++;
		mutex_unlock(&kvp_core.lock);
		return -ENOENT;
	}
	if (status == KVP_S_OK &&
	    (req->msg.op == KVP_OP_ENUMERATE || req->msg.op == KVP_OP_GET)) {
		err = kvp_fill_reply(req, key, value);
		if (err)
			status = KVP_E_FAIL;
	}
	kvp_request_finish(req, status);
	mutex_unlock(&kvp_core.lock);
	return err;
}

void kvp_service_status(struct kvp_status *status)
{
	struct kvp_core *core = &kvp_core;

	memset(status, 0, sizeof(*status));
	mutex_lock(&core->lock);
	if (!core->transport)
		status->state = KVP_STATE_NO_TRANSPORT;
	else if (!core->connected)
		status->state = KVP_STATE_CONNECTING;
	else if (!core->negotiated)
		status->state = KVP_STATE_CONNECTED;
	else
		status->state = KVP_STATE_NEGOTIATED;
	if (core->transport)
		strscpy(status->transport, core->transport->name,
			sizeof(status->transport));
	status->negotiated = core->negotiated;
	status->daemon_wait_ms = kvp_clamp_ms(READ_ONCE(kvp_daemon_wait_ms));
	status->request_timeout_ms = kvp_clamp_ms(READ_ONCE(kvp_request_timeout_ms));
	status->fw_version = core->fw_version;
	status->msg_version = core->msg_version;
	status->daemon_pid = READ_ONCE(core->daemon_portid) ?
			     core->daemon_pid : 0;
	status->pending = core->nr_pending;
	status->stats = core->stats;
	mutex_unlock(&core->lock);
}

int kvp_service_init(void)
{
	mutex_init(&kvp_core.lock);
	INIT_LIST_HEAD(&kvp_core.pending);
	INIT_DELAYED_WORK(&kvp_core.timeout_work, kvp_timeout_work_fn);
	INIT_WORK(&kvp_core.daemon_gone_work, kvp_daemon_gone_work_fn);
	return 0;
}

void kvp_service_uninit(void)
{
	cancel_delayed_work_sync(&kvp_core.timeout_work);
	cancel_work_sync(&kvp_core.daemon_gone_work);
	mutex_lock(&kvp_core.lock);
	kvp_service_drop_all();
	mutex_unlock(&kvp_core.lock);
}
