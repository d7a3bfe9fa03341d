// SPDX-License-Identifier: GPL-2.0
/*
 * KVP transactions with one guest.  As on Hyper-V, at most one is
 * outstanding per guest: the others wait in a queue.  Every request has a
 * deadline (--timeout after it was queued, or after the last step of an
 * enumeration); whoever waits for it gets an error when it passes.
 *
 * A request that timed out while outstanding is abandoned, not forgotten:
 * the guest may still answer it, and until it does nothing else is sent, so
 * a late reply can never be taken for the answer to a newer request.  A
 * guest that has not answered within --grace of the request is dropped
 * (guest.c), so a lost packet costs one reconnection, not the guest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostctl.h"
#include "hostd.h"
#include "log.h"
#include "uapi/kvp_vsock.h"

/*
 * A walk is charged the bytes of each item plus a fixed cost for what an
 * item costs whatever its size (two allocations, two pointers, two NULs
 * in the reply), and stops well before its rows could outgrow a control
 * reply, or after KVP_REQ_MAX_ITEMS items: a guest answering with endless
 * empty items must not cost endless allocations.
 */
#define KVP_REQ_MAX_BYTES	(KVP_HOSTCTL_MAX_REPLY - 64 * 1024)
#define KVP_REQ_ITEM_COST	64
#define KVP_REQ_MAX_ITEMS	16384

#define KVP_REQ_PAYLOAD(req)	((req)->pkt + KVP_ICMSG_HDR_LEN)

int kvp_strv_push(struct kvp_strv *strv, const char *s)
{
	char **v = realloc(strv->v, (strv->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	strv->v = v;
	v[strv->n] = strdup(s);
	if (!v[strv->n])
		return -ENOMEM;
	strv->n++;
	return 0;
}

void kvp_strv_free(struct kvp_strv *strv)
{
	while (strv->n)
		free(strv->v[--strv->n]);
	free(strv->v);
	strv->v = NULL;
}

static const char *kvp_op_name(u8 op)
{
	static const char *const names[] = { "GET", "SET", "DELETE", "ENUMERATE" };

	return op < ARRAY_SIZE(names) ? names[op] : "?";
}

/*
 * A request, encoded up front so that what does not fit the wire is refused
 * before it is queued.  SET and DELETE go as they are; ENUMERATE walks the
 * pool from index 0; GET walks it too, looking for the key, because hosts
 * read with ENUMERATE (guests historically do not implement GET).  On
 * failure *status says why: KVP_HOSTCTL_TOO_LONG, _USAGE (not UTF-8) or
 * _ERR (out of memory).
 */
struct kvp_req *kvp_req_new(u8 op, u8 pool, const char *key,
			    const char *value, int *status)
{
	size_t key_len = key ? strlen(key) : 0;
	size_t value_len = value ? strlen(value) : 0;
	struct kvp_req *req;
	int err;

	*status = KVP_HOSTCTL_TOO_LONG;
	if (key_len >= KVP_KEY_BYTES || value_len >= KVP_VALUE_BYTES)
		return NULL;
	*status = KVP_HOSTCTL_ERR;
	req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	if (op == KVP_OP_GET) {
		req->want = strdup(key);
		if (!req->want) {
			kvp_req_free(req);
			return NULL;
		}
		op = KVP_OP_ENUMERATE;
		key = NULL;
		key_len = 0;
	}
	req->walk = op == KVP_OP_ENUMERATE;
	req->msg.op = op;
	req->msg.pool = pool;
	memcpy(req->msg.key, key ? key : "", key_len + 1);
	memcpy(req->msg.value, value ? value : "", value_len + 1);
	req->msg.key_len = key_len;
	req->msg.value_len = value_len;
	err = kvp_msg_encode(KVP_REQ_PAYLOAD(req), KVP_MSG_ENUM_LEN, &req->msg);
	if (err) {
		*status = err > 0 ? KVP_HOSTCTL_TOO_LONG :
			  err == -EINVAL ? KVP_HOSTCTL_USAGE : KVP_HOSTCTL_ERR;
		kvp_req_free(req);
		return NULL;
	}
	return req;
}

void kvp_req_free(struct kvp_req *req)
{
	kvp_strv_free(&req->rows);
	free(req->want);
	free(req);
}

static void kvp_req_finish(struct kvp_guest *guest, struct kvp_req *req,
			   int status, u32 hresult, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Answers whoever waits for req, counts it and frees it.  The message says
 * what failed; a guest's status word travels apart from it, in hresult.
 * Host items have nobody waiting: their failures are logged, except when
 * the guest went away, which its drop has logged already.
 */
static void kvp_req_finish(struct kvp_guest *guest, struct kvp_req *req,
			   int status, u32 hresult, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (status == KVP_HOSTCTL_OK || status == KVP_HOSTCTL_NO_KEY)
		guest->done++;
	else
		guest->failed++;
	if (req->client)
		kvp_ctl_answer(req->client, status, hresult, req->walk ? 2 : 0,
			       &req->rows, message);
	else if (status == KVP_HOSTCTL_GUEST)
		kvp_warn("CID %u: %s: status 0x%08x", guest->cid, message,
			 hresult);
	else if (status != KVP_HOSTCTL_OK && status != KVP_HOSTCTL_GONE)
		kvp_warn("CID %u: %s", guest->cid, message);
	kvp_req_free(req);
}

/* Stamps the negotiated versions on req and sends it. */
static int kvp_req_send(struct kvp_guest *guest, struct kvp_req *req)
{
	struct kvp_ic_hdr hdr = {
		.fw_version = guest->fw_version,
		.type = KVP_IC_TYPE_KVP,
		.msg_version = guest->msg_version,
		.size = KVP_MSG_ENUM_LEN,
		.flags = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST,
	};

	kvp_ic_build(req->pkt, &hdr);
	guest->inflight = req;
	return kvp_guest_send(guest, KVP_VSOCK_PACKET,
			      kvp_guest_await(guest, kvp_hostd_opts.grace_ms),
			      req->pkt, sizeof(req->pkt));
}

/* Sends the next queued request if the guest is free for it. */
int kvp_req_kick(struct kvp_guest *guest)
{
	struct kvp_req *req = guest->queue;

	if (guest->state != KVP_GUEST_READY || guest->busy_id || !req)
		return 0;
	guest->queue = req->next;
	if (!guest->queue)
		guest->queue_tail = &guest->queue;
	req->next = NULL;
	return kvp_req_send(guest, req);
}

/*
 * A send error here also shows as EPOLLERR or EPOLLHUP on the guest's
 * socket, which drops the guest and fails its requests: nothing to do.
 */
void kvp_req_queue(struct kvp_guest *guest, struct kvp_req *req)
{
	u64 now = kvp_now_ms();

	req->deadline = now + kvp_hostd_opts.timeout_ms;
	req->walk_end = now + kvp_hostd_opts.walk_timeout_ms;
	*guest->queue_tail = req;
	guest->queue_tail = &req->next;
	if (kvp_req_kick(guest))
		kvp_dbg("CID %u: %s", guest->cid, guest->why);
}

/* The walk ran out of time (--walk-timeout) before it was done. */
static void kvp_req_walk_timeout(struct kvp_guest *guest, struct kvp_req *req)
{
	kvp_req_finish(guest, req, KVP_HOSTCTL_TIMEOUT, 0,
		       "timed out: VM %s did not finish ENUMERATE of pool %u within %u s, stopped at index %u",
		       guest->name, req->msg.pool,
		       kvp_hostd_opts.walk_timeout_ms / 1000, req->msg.index);
}

/* One ENUMERATE answered: keep the item and go on, or finish. */
static int kvp_req_step(struct kvp_guest *guest, struct kvp_req *req,
			u32 status, const struct kvp_msg *item)
{
	u64 now;
	bool found;

	if (status == KVP_S_CONT && req->want) {
		kvp_req_finish(guest, req, KVP_HOSTCTL_NO_KEY, 0,
			       "VM %s has no key '%s' in pool %u", guest->name,
			       req->want, req->msg.pool);
		return 0;
	}
	if (status != KVP_S_OK) {
		if (status == KVP_S_CONT)
			kvp_req_finish(guest, req, KVP_HOSTCTL_OK, 0, "%s", "");
		else
			kvp_req_finish(guest, req, KVP_HOSTCTL_GUEST, status,
				       "VM %s failed ENUMERATE of pool %u at index %u",
				       guest->name, req->msg.pool,
				       req->msg.index);
		return 0;
	}
	if (req->msg.index >= KVP_REQ_MAX_ITEMS) {
		kvp_req_finish(guest, req, KVP_HOSTCTL_ERR, 0,
			       "VM %s: pool %u holds more than %u items, stopped at index %u",
			       guest->name, req->msg.pool, KVP_REQ_MAX_ITEMS,
			       req->msg.index);
		return 0;
	}
	found = req->want && !strcmp(item->key, req->want);
	if ((!req->want || found) &&
	    (kvp_strv_push(&req->rows, item->key) ||
	     kvp_strv_push(&req->rows, item->value))) {
		kvp_req_finish(guest, req, KVP_HOSTCTL_ERR, 0, "out of memory");
		return 0;
	}
	if (found) {
		kvp_req_finish(guest, req, KVP_HOSTCTL_OK, 0, "%s", "");
		return 0;
	}
	/* Also bounds a get, which keeps no rows, against an endless walk. */
	req->bytes += item->key_len + item->value_len + KVP_REQ_ITEM_COST;
	if (req->bytes > KVP_REQ_MAX_BYTES) {
		kvp_req_finish(guest, req, KVP_HOSTCTL_ERR, 0,
			       "VM %s: pool %u holds more than %u bytes, stopped at index %u",
			       guest->name, req->msg.pool, KVP_REQ_MAX_BYTES,
			       req->msg.index);
		return 0;
	}
	req->msg.index++;
	now = kvp_now_ms();
	if (now >= req->walk_end) {
		kvp_req_walk_timeout(guest, req);
		return 0;
	}
	kvp_msg_encode(KVP_REQ_PAYLOAD(req), KVP_MSG_ENUM_LEN, &req->msg);
	/* Each step has --timeout, the whole walk no more than its end. */
	req->deadline = now + kvp_hostd_opts.timeout_ms;
	if (req->deadline > req->walk_end)
		req->deadline = req->walk_end;
	return kvp_req_send(guest, req);
}

/* SET or DELETE answered. */
static void kvp_req_done(struct kvp_guest *guest, struct kvp_req *req,
			 u32 status)
{
	if (status == KVP_S_OK)
		kvp_req_finish(guest, req, KVP_HOSTCTL_OK, 0, "%s", "");
	else if (status == KVP_S_CONT && req->msg.op == KVP_OP_DELETE)
		kvp_req_finish(guest, req, KVP_HOSTCTL_NO_KEY, 0,
			       "VM %s has no key '%s' in pool %u", guest->name,
			       req->msg.key, req->msg.pool);
	else
		kvp_req_finish(guest, req, KVP_HOSTCTL_GUEST, status,
			       "VM %s failed %s of '%s' in pool %u",
			       guest->name, kvp_op_name(req->msg.op),
			       req->msg.key, req->msg.pool);
}

/*
 * The guest answered the outstanding transaction (the caller matched the
 * id).  The reply must be a KVP response; an item it reports must decode.
 */
int kvp_req_reply(struct kvp_guest *guest, const u8 *pkt, size_t len)
{
	struct kvp_req *req = guest->inflight;
	struct kvp_ic_hdr hdr;
	struct kvp_msg item;
	u8 both = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE;

	if (kvp_ic_parse(pkt, len, &hdr))
		return kvp_guest_fail(guest, "unparseable IC packet");
	if (hdr.type != KVP_IC_TYPE_KVP)
		return kvp_guest_fail(guest, "IC type %u reply to a KVP request",
				      hdr.type);
	if ((hdr.flags & both) != both)
		return kvp_guest_fail(guest, "reply flags 0x%02x lack TRANSACTION|RESPONSE",
				      hdr.flags);
	if (req && req->walk && hdr.status == KVP_S_OK &&
	    kvp_msg_decode_reply(pkt + KVP_ICMSG_HDR_LEN, hdr.size, &item))
		return kvp_guest_fail(guest, "unparseable ENUMERATE reply");
	guest->inflight = NULL;
	if (!req)
		kvp_dbg("CID %u: late reply discarded", guest->cid);
	else if (!req->walk)
		kvp_req_done(guest, req, hdr.status);
	else if (kvp_req_step(guest, req, hdr.status, &item))
		return -EPROTO;
	return kvp_req_kick(guest);
}

u64 kvp_req_deadline(const struct kvp_guest *guest)
{
	u64 deadline = UINT64_MAX;

	if (guest->inflight)
		deadline = guest->inflight->deadline;
	/* Queued deadlines only grow: all share one timeout, set when queued. */
	if (guest->queue && guest->queue->deadline < deadline)
		deadline = guest->queue->deadline;
	return deadline;
}

void kvp_req_expire(struct kvp_guest *guest, u64 now)
{
	unsigned int secs = kvp_hostd_opts.timeout_ms / 1000;
	struct kvp_req *req;

	while ((req = guest->queue) && req->deadline <= now) {
		guest->queue = req->next;
		if (!guest->queue)
			guest->queue_tail = &guest->queue;
		kvp_req_finish(guest, req, KVP_HOSTCTL_TIMEOUT, 0,
			       "timed out: VM %s (CID %u) is still busy with an earlier request after %u s",
			       guest->name, guest->cid, secs);
	}
	req = guest->inflight;
	if (req && req->deadline <= now) {
		guest->inflight = NULL;
		if (req->walk && req->walk_end <= now)
			kvp_req_walk_timeout(guest, req);
		else
			kvp_req_finish(guest, req, KVP_HOSTCTL_TIMEOUT, 0,
				       "timed out: VM %s (CID %u) did not answer %s within %u s",
				       guest->name, guest->cid,
				       kvp_op_name(req->msg.op), secs);
	}
}

void kvp_req_fail_all(struct kvp_guest *guest, const char *why)
{
	struct kvp_req *req;

	if (guest->inflight) {
		req = guest->inflight;
		guest->inflight = NULL;
		kvp_req_finish(guest, req, KVP_HOSTCTL_GONE, 0, "%s", why);
	}
	while ((req = guest->queue)) {
		guest->queue = req->next;
		kvp_req_finish(guest, req, KVP_HOSTCTL_GONE, 0, "%s", why);
	}
	guest->queue_tail = &guest->queue;
}
