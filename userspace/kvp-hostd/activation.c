// SPDX-License-Identifier: GPL-2.0
/*
 * The activation service: vsock service 1, IC message type 0x0041
 * (Documentation/protocol.rst section 4, avma.rst "Host").  The host
 * negotiates it right after WELCOME on a connection that uses it (the
 * guest's HELLO named it: framing version 3); then the guest asks (one
 * request per activation, ids of its choosing) and the host answers each on
 * the same id, in the decision order of avma.rst: rate limit, replay,
 * catalog product, catalog key, the host's licence, version; a grant
 * signed with the host key on success.  Every request that parses gets one history row and one
 * event 12310 (those refused for the rate limit: at most one each per CID
 * per second).  Anything on the service that does not parse is dropped with
 * a log line and counted, never answered, and the guest stays connected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "avma.h"
#include "catalog.h"
#include "event.h"
#include "grant.h"
#include "history.h"
#include "hostd.h"
#include "log.h"
#include "sign.h"
#include "uapi/kvp_vsock.h"
#include "utf16.h"

/* Recent nonces kept in memory, besides the history's. */
#define KVP_ACT_NONCES		16384
#define KVP_ACT_NONCE_HASH	16384
/* A guest that lets this much of our output pile up gets no more replies. */
#define KVP_ACT_OUT_MAX		(1024 * 1024)
/* CIDs whose rate-limit state is kept; full buckets are forgotten first. */
#define KVP_ACT_CIDS_MAX	4096
/* While a CID is limited: at most one history row and event per this. */
#define KVP_ACT_LIMITED_MS	1000
/* Dropped packets: at most one log line per guest per this. */
#define KVP_ACT_DROP_LOG_MS	1000

static const u32 kvp_act_fw_versions[] = { KVP_VERSION(3, 0) };
static const u32 kvp_act_msg_versions[] = { KVP_VERSION(1, 0) };

enum kvp_lic_state {
	KVP_LIC_VALID,
	KVP_LIC_NOT_ACTIVATED,		/* declared, activated = no */
	KVP_LIC_INVALID,		/* refused at start: logged why */
};

/* A licence of the config, checked against the catalog at start. */
struct kvp_act_license {
	struct kvp_act_license *next;
	char product[KVP_AVMA_PRODUCT_LEN];
	char version[KVP_AVMA_VERSION_LEN];
	char edition[KVP_AVMA_EDITION_LEN];
	enum kvp_lic_state state;
	bool is_signed;
	struct kvp_license signed_lic;	/* is_signed: carried in grants */
};

/*
 * Rate limit of one CID, as a virtual scheduling clock (GCRA, the token
 * bucket's equivalent): `tat` is when the bucket would be full again.
 */
struct kvp_act_cid {
	u32 cid;
	u64 tat;			/* ms */
	u64 limited_ms;			/* last limited request recorded */
	u64 unrecorded;			/* limited requests since, unrecorded */
};

struct kvp_nonces {
	u8 nonce[KVP_ACT_NONCES][KVP_AVMA_NONCE_LEN];
	int32_t next[KVP_ACT_NONCES];	/* hash chain */
	int32_t head[KVP_ACT_NONCE_HASH];
	u32 count;
	u32 pos;			/* the oldest, once full */
	u32 seed;
};

static struct {
	bool served;
	struct kvp_catalog *catalog;
	struct kvp_history *history;
	struct kvp_act_license *licenses;
	char host_name[KVP_AVMA_NAME_LEN];
	struct kvp_nonces *nonces;
	struct kvp_act_cid *cids;
	unsigned int nr_cids;
} kvp_act;

/* ---- the host's licences ------------------------------------------------ */

static int kvp_lic_invalid(struct kvp_act_license *l, const char *where,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Keeps the licence as refused (requests then get licence-invalid). */
static int kvp_lic_invalid(struct kvp_act_license *l, const char *where,
			   const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kvp_err("licence %s: %s: not used", where, msg);
	l->state = KVP_LIC_INVALID;
	return 0;
}

/* Product, version and edition must be the catalog's. */
static const struct kvp_product *
kvp_lic_catalog(struct kvp_act_license *l, const char *where)
{
	const struct kvp_product *p;

	p = kvp_catalog_product(kvp_act.catalog, l->product);
	if (!p) {
		kvp_lic_invalid(l, where, "product '%s' is not in the catalog",
				l->product);
		return NULL;
	}
	if (kvp_product_version_rank(p, l->version) < 0 ||
	    !kvp_product_edition(p, l->edition)) {
		kvp_lic_invalid(l, where, "%s has no version '%s' or edition '%s' in the catalog",
				l->product, l->version, l->edition);
		return NULL;
	}
	return p;
}

/* A file holding the base64 of a vendor-signed licence. */
static int kvp_lic_read(const char *path, struct kvp_license *lic,
			char *why, size_t why_len)
{
	char text[KVP_BASE64_LEN(KVP_LICENSE_LEN) + 64], *s, *d;
	u8 raw[KVP_LICENSE_LEN + 3];
	FILE *f = fopen(path, "re");
	size_t n;
	int len;

	if (!f) {
		snprintf(why, why_len, "%s", strerror(errno));
		return -errno;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	/* Line breaks and spaces of a pasted licence are no fault. */
	for (s = d = text; *s; s++)
		if (*s != '\n' && *s != '\r' && *s != ' ' && *s != '\t')
			*d++ = *s;
	*d = '\0';
	len = kvp_base64_decode(text, raw, sizeof(raw));
	if (len != KVP_LICENSE_LEN || kvp_license_decode(raw, len, lic)) {
		snprintf(why, why_len, "not the base64 of a %u-byte licence",
			 KVP_LICENSE_LEN);
		return -EINVAL;
	}
	return 0;
}

static void kvp_lic_signed(struct kvp_act_license *l, const char *file)
{
	const u8 *pub = kvp_identity_public();
	struct kvp_license *lic = &l->signed_lic;
	const struct kvp_product *p;
	char why[128], id[KVP_HOST_ID_LEN + 1];

	l->is_signed = true;
	if (kvp_lic_read(file, lic, why, sizeof(why))) {
		kvp_lic_invalid(l, file, "%s", why);
		return;
	}
	memcpy(l->product, lic->product, sizeof(l->product));
	memcpy(l->version, lic->version, sizeof(l->version));
	memcpy(l->edition, lic->edition, sizeof(l->edition));
	p = kvp_lic_catalog(l, file);
	if (!p)
		return;
	if (!p->has_vendor_key) {
		kvp_lic_invalid(l, file, "%s has no vendor key in the catalog: declare its licence instead",
				l->product);
	} else if (kvp_license_verify(lic, p->vendor_key)) {
		kvp_lic_invalid(l, file, "not signed by the vendor key of %s (catalog %s)",
				l->product, p->source);
	} else if (memcmp(lic->host_key, pub, KVP_SIGN_PUBLIC_LEN)) {
		kvp_host_id(lic->host_key, id);
		kvp_lic_invalid(l, file, "issued to host %s, this host is %s",
				id, kvp_identity_host_id());
	} else if (lic->not_after && lic->not_after <= (u64)time(NULL)) {
		kvp_lic_invalid(l, file, "expired");
	} else {
		kvp_info("licence %s: %s %s %s, signed by the vendor, valid",
			 file, l->product, l->version, l->edition);
	}
}

static void kvp_lic_declared(struct kvp_act_license *l,
			     const struct kvp_license_conf *c)
{
	const struct kvp_product *p;
	char where[64];

	snprintf(where, sizeof(where), "[license] at line %u", c->line);
	snprintf(l->product, sizeof(l->product), "%s", c->product);
	snprintf(l->version, sizeof(l->version), "%s", c->version);
	snprintf(l->edition, sizeof(l->edition), "%s", c->edition);
	l->state = c->activated ? KVP_LIC_VALID : KVP_LIC_NOT_ACTIVATED;
	p = kvp_lic_catalog(l, where);
	if (p && p->has_vendor_key)
		kvp_lic_invalid(l, where, "%s has a vendor key: its licence must be a vendor-signed file",
				l->product);
	else if (p)
		kvp_info("licence %s: %s %s %s, declared%s", where, l->product,
			 l->version, l->edition,
			 c->activated ? "" : ", not activated");
}

static struct kvp_act_license *kvp_lic_find(const char *product)
{
	struct kvp_act_license *l;

	for (l = kvp_act.licenses; l; l = l->next)
		if (!strcmp(l->product, product))
			return l;
	return NULL;
}

/* One licence per product: a second one is refused, the first kept. */
static int kvp_lic_load(void)
{
	struct kvp_act_license *l, **tail = &kvp_act.licenses;
	const struct kvp_license_conf *c;

	for (c = kvp_hostd_config.licenses; c; c = c->next) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		if (c->file)
			kvp_lic_signed(l, c->file);
		else
			kvp_lic_declared(l, c);
		if (l->product[0] && kvp_lic_find(l->product)) {
			kvp_err("licence at line %u: a second licence for %s: not used",
				c->line, l->product);
			free(l);
			continue;
		}
		*tail = l;
		tail = &l->next;
	}
	return 0;
}

/* ---- replay: the recent nonces ------------------------------------------ */

static u32 kvp_nonce_hash(const u8 *nonce)
{
	u32 h = kvp_act.nonces->seed ^ 2166136261u;
	unsigned int i;

	for (i = 0; i < KVP_AVMA_NONCE_LEN; i++)
		h = (h ^ nonce[i]) * 16777619u;
	return h % KVP_ACT_NONCE_HASH;
}

static bool kvp_nonce_known(const u8 *nonce)
{
	struct kvp_nonces *n = kvp_act.nonces;
	int32_t i;

	for (i = n->head[kvp_nonce_hash(nonce)]; i >= 0; i = n->next[i])
		if (!memcmp(n->nonce[i], nonce, KVP_AVMA_NONCE_LEN))
			return true;
	return false;
}

/* Remembers a nonce, forgetting the oldest once the set is full. */
static void kvp_nonce_add(const u8 *nonce)
{
	struct kvp_nonces *n = kvp_act.nonces;
	u32 slot = n->pos, h;
	int32_t *p;

	if (n->count == KVP_ACT_NONCES) {
		p = &n->head[kvp_nonce_hash(n->nonce[slot])];
		while (*p != (int32_t)slot)
			p = &n->next[*p];
		*p = n->next[slot];
	} else {
		n->count++;
	}
	n->pos = (slot + 1) % KVP_ACT_NONCES;
	memcpy(n->nonce[slot], nonce, KVP_AVMA_NONCE_LEN);
	h = kvp_nonce_hash(nonce);
	n->next[slot] = n->head[h];
	n->head[h] = (int32_t)slot;
}

static bool kvp_nonce_replayed(const u8 *nonce)
{
	int seen;

	if (kvp_nonce_known(nonce))
		return true;
	if (!kvp_act.history)
		return false;
	seen = kvp_history_nonce_seen(kvp_act.history, nonce);
	if (seen < 0)
		kvp_warn("history: nonce lookup: %s (the recent nonces in memory still count)",
			 strerror(-seen));
	return seen > 0;
}

/* ---- rate limit --------------------------------------------------------- */

/* Forgets the CIDs whose buckets are full again: they hold no state. */
static void kvp_cids_prune(u64 now)
{
	unsigned int i = 0;

	while (i < kvp_act.nr_cids) {
		if (kvp_act.cids[i].tat <= now)
			kvp_act.cids[i] = kvp_act.cids[--kvp_act.nr_cids];
		else
			i++;
	}
}

/* The CID's state; NULL when too many CIDs are limited at once. */
static struct kvp_act_cid *kvp_cid(u32 cid, u64 now)
{
	struct kvp_act_cid *c;
	unsigned int i;

	for (i = 0; i < kvp_act.nr_cids; i++)
		if (kvp_act.cids[i].cid == cid)
			return &kvp_act.cids[i];
	if (kvp_act.nr_cids == KVP_ACT_CIDS_MAX)
		kvp_cids_prune(now);
	if (kvp_act.nr_cids == KVP_ACT_CIDS_MAX)
		return NULL;
	c = &kvp_act.cids[kvp_act.nr_cids++];
	memset(c, 0, sizeof(*c));
	c->cid = cid;
	return c;
}

/*
 * Takes a token: rate-burst requests at once, then one per rate-interval.
 * A CID that cannot be kept (thousands limited at once) is limited too.
 */
static struct kvp_act_cid *kvp_rate_take(u32 cid, u64 now, bool *limited)
{
	u64 interval = (u64)kvp_hostd_config.rate_interval * 1000;
	u64 burst = (u64)(kvp_hostd_config.rate_burst - 1) * interval;
	struct kvp_act_cid *c = kvp_cid(cid, now);

	*limited = true;
	if (!c)
		return NULL;
	if (c->tat < now)
		c->tat = now;
	if (c->tat - now > burst)
		return c;
	c->tat += interval;
	*limited = false;
	return c;
}

/* ---- one request -------------------------------------------------------- */

struct kvp_act_req {
	struct kvp_guest *guest;
	struct kvp_avma_request req;
	u32 reason;
	const struct kvp_act_license *license;
	u8 grant[KVP_GRANT_MAX_LEN];
	int grant_len;			/* > 0: granted */
	struct kvp_grant g;
	char vm_id[37];
	char grant_id[37];
	const char *vm_name;
	u64 unrecorded;			/* limited ones folded into this */
};

static u16 kvp_act_outcome(u32 reason)
{
	if (reason == KVP_AVMA_R_NONE)
		return KVP_AVMA_SUCCESS;
	if (reason < KVP_AVMA_R_VERSION)
		return KVP_AVMA_INVALID_HOST;
	if (reason < KVP_AVMA_R_MALFORMED)
		return KVP_AVMA_DENIED;
	return KVP_AVMA_INVALID_DATA;
}

/* The guest's product key must be the catalog's for what it claims. */
static bool kvp_act_key_ok(const struct kvp_avma_request *req)
{
	const struct kvp_product_key *k;
	const struct kvp_product *p;
	char key[KVP_KEY_TEXT_LEN + 1], err[64];

	if (kvp_key_normalize(req->key, key, err, sizeof(err)))
		return false;
	k = kvp_catalog_find_key(kvp_act.catalog, key, &p);
	return k && !strcmp(p->id, req->product) &&
	       !strcmp(k->version, req->version) &&
	       !strcmp(k->edition, req->edition);
}

/* Step 5: the host's own licence for the product. */
static u32 kvp_act_license_check(struct kvp_act_req *r,
				 const struct kvp_product *p)
{
	const struct kvp_act_license *l = kvp_lic_find(p->id);
	const struct kvp_edition *e;

	if (!l)
		return KVP_AVMA_R_NO_LICENCE;
	if (l->state == KVP_LIC_NOT_ACTIVATED)
		return KVP_AVMA_R_NOT_ACTIVATED;
	if (l->state == KVP_LIC_INVALID ||
	    (l->is_signed && l->signed_lic.not_after &&
	     l->signed_lic.not_after <= (u64)time(NULL)))
		return KVP_AVMA_R_LICENCE_INVALID;
	e = kvp_product_edition(p, l->edition);
	if (!e || !e->lends)
		return KVP_AVMA_R_HOST_EDITION;
	r->license = l;
	return KVP_AVMA_R_NONE;
}

/* Steps 2 to 6 of the decision order; the reason, R_NONE to grant. */
static u32 kvp_act_decide(struct kvp_act_req *r)
{
	const struct kvp_avma_request *req = &r->req;
	const struct kvp_product *p;
	u32 reason;

	if (kvp_nonce_replayed(req->nonce))
		return KVP_AVMA_R_REPLAY;
	p = kvp_catalog_product(kvp_act.catalog, req->product);
	if (!p || !kvp_product_edition(p, req->edition) ||
	    kvp_product_version_rank(p, req->version) < 0)
		return KVP_AVMA_R_PRODUCT;
	if (!kvp_act_key_ok(req))
		return KVP_AVMA_R_KEY;
	reason = kvp_act_license_check(r, p);
	if (reason)
		return reason;
	if (kvp_product_version_rank(p, req->version) >
	    kvp_product_version_rank(p, r->license->version))
		return KVP_AVMA_R_VERSION;
	return KVP_AVMA_R_NONE;
}

/* Step 7: the grant, signed; host-busy if it cannot be made. */
static u32 kvp_act_grant(struct kvp_act_req *r)
{
	struct kvp_grant *g = &r->g;
	u64 now = (u64)time(NULL);
	int err;

	memset(g, 0, sizeof(*g));
	err = kvp_uuid_random(g->id);
	if (err) {
		kvp_err("no random bytes for a grant id: %s", strerror(-err));
		return KVP_AVMA_R_HOST_BUSY;
	}
	memcpy(g->vm_id, r->req.vm_id, sizeof(g->vm_id));
	memcpy(g->nonce, r->req.nonce, sizeof(g->nonce));
	g->activated = now;
	g->expires = now + kvp_hostd_config.lease;
	/* A lease never outlives the signed licence it is lent under. */
	if (r->license->is_signed && r->license->signed_lic.not_after &&
	    g->expires > r->license->signed_lic.not_after)
		g->expires = r->license->signed_lic.not_after;
	memcpy(g->product, r->req.product, sizeof(g->product));
	memcpy(g->version, r->req.version, sizeof(g->version));
	memcpy(g->edition, r->req.edition, sizeof(g->edition));
	memcpy(g->host_name, kvp_act.host_name, sizeof(g->host_name));
	if (r->license->is_signed) {
		g->has_license = true;
		g->license = r->license->signed_lic;
	}
	r->grant_len = kvp_grant_sign(g, kvp_identity_signer(), r->grant,
				      sizeof(r->grant));
	if (r->grant_len < 0) {
		kvp_err("cannot sign a grant: %s", strerror(-r->grant_len));
		r->grant_len = 0;
		return KVP_AVMA_R_HOST_BUSY;
	}
	kvp_uuid_format(g->id, r->grant_id);
	return KVP_AVMA_R_NONE;
}

/* The history row (history on); -errno when it could not be written. */
static int kvp_act_record(const struct kvp_act_req *r)
{
	struct kvp_history_row row = {
		.time = time(NULL),
		.cid = r->guest->cid,
		.outcome = kvp_act_outcome(r->reason),
		.reason = r->reason,
		.expires = r->grant_len ? r->g.expires : 0,
	};
	int err;

	memcpy(row.vm_id, r->vm_id, sizeof(row.vm_id));
	snprintf(row.vm_name, sizeof(row.vm_name), "%s", r->vm_name);
	memcpy(row.product, r->req.product, sizeof(row.product));
	memcpy(row.version, r->req.version, sizeof(row.version));
	memcpy(row.edition, r->req.edition, sizeof(row.edition));
	memcpy(row.grant_id, r->grant_id, sizeof(row.grant_id));
	memcpy(row.nonce, r->req.nonce, sizeof(row.nonce));
	err = kvp_history_add(kvp_act.history, &row);
	if (err)
		kvp_err("history %s: cannot add a row: %s", kvp_hostd_config.history,
			strerror(-err));
	return err;
}

/* Event 12310 (Documentation/avma.rst "Events"). */
static void kvp_act_event(const struct kvp_act_req *r)
{
	u16 outcome = kvp_act_outcome(r->reason);
	char cid[16], message[512], more[64] = "";
	const struct kvp_event_field fields[] = {
		{ "KVP_OUTCOME", kvp_avma_outcome_name(outcome) },
		{ "KVP_REASON", kvp_avma_reason_name(r->reason) },
		{ "KVP_PRODUCT", r->req.product },
		{ "KVP_VERSION", r->req.version },
		{ "KVP_EDITION", r->req.edition },
		{ "KVP_HOST_ID", kvp_identity_host_id() },
		{ "KVP_HOST_NAME", kvp_act.host_name },
		{ "KVP_GRANT_ID", r->grant_id },
		{ "KVP_VM_ID", r->vm_id },
		{ "KVP_CID", cid },
		{ "KVP_VM_NAME", r->vm_name },
	};
	int err;

	snprintf(cid, sizeof(cid), "%u", r->guest->cid);
	if (r->unrecorded)
		snprintf(more, sizeof(more), " (and %llu more not recorded)",
			 (unsigned long long)r->unrecorded);
	snprintf(message, sizeof(message),
		 "activation request from VM %s (CID %u) for %s %s %s: %s%s%s%s",
		 r->vm_name, r->guest->cid, r->req.product, r->req.version,
		 r->req.edition, kvp_avma_outcome_name(outcome),
		 r->reason ? " (" : "",
		 r->reason ? kvp_avma_reason_name(r->reason) : "",
		 r->reason ? ")" : "");
	snprintf(message + strlen(message), sizeof(message) - strlen(message),
		 "%s", more);
	err = kvp_event_log(kvp_hostd_config.journal_socket, KVP_EVENT_HOST,
			    outcome == KVP_AVMA_SUCCESS ? LOG_INFO : LOG_NOTICE,
			    message, fields, ARRAY_SIZE(fields));
	if (err)
		kvp_warn("event %d not logged: %s", KVP_EVENT_HOST,
			 strerror(-err));
}

/* The reply, on the request's id; none to a guest not reading them. */
static int kvp_act_reply(const struct kvp_act_req *r, u64 id, u8 txid)
{
	struct kvp_guest *guest = r->guest;
	u8 pkt[KVP_ICMSG_HDR_LEN + KVP_AVMA_REPLY_MAX];
	struct kvp_avma_reply rep = {
		.op = r->req.op,
		.outcome = kvp_act_outcome(r->reason),
		.reason = r->reason,
		.grant_len = (u16)r->grant_len,
		.grant = r->grant,
	};
	struct kvp_ic_hdr hdr = {
		.fw_version = guest->act_fw_version,
		.type = KVP_IC_TYPE_AVMA,
		.msg_version = guest->act_msg_version,
		.status = KVP_S_OK,
		.txid = txid,
		.flags = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_RESPONSE,
	};
	int len;

	memcpy(rep.nonce, r->req.nonce, sizeof(rep.nonce));
	len = kvp_avma_reply_build(pkt + KVP_ICMSG_HDR_LEN, &rep);
	if (len < 0) {
		kvp_err("CID %u: activation reply does not encode", guest->cid);
		return 0;
	}
	hdr.size = (u16)len;
	kvp_ic_build(pkt, &hdr);
	if (guest->conn.out.len > KVP_ACT_OUT_MAX) {
		kvp_dbg("CID %u: not reading its replies, reply %llu not sent",
			guest->cid, (unsigned long long)id);
		return 0;
	}
	return kvp_guest_send_on(guest, KVP_VSOCK_SERVICE_ACTIVATION,
				 KVP_VSOCK_PACKET, id, pkt,
				 KVP_ICMSG_HDR_LEN + len);
}

/*
 * A rate-limited request: a cheap reply, and its row and event only when
 * the CID's last one is a second old (the count of those folded in goes
 * into the event's message).
 */
static void kvp_act_limited(struct kvp_act_req *r, struct kvp_act_cid *c,
			    u64 now)
{
	r->reason = KVP_AVMA_R_HOST_BUSY;
	if (c && c->limited_ms && now - c->limited_ms < KVP_ACT_LIMITED_MS) {
		c->unrecorded++;
		return;
	}
	if (c) {
		r->unrecorded = c->unrecorded;
		c->unrecorded = 0;
		c->limited_ms = now;
	}
	if (kvp_act.history)
		kvp_act_record(r);
	kvp_act_event(r);
}

static void kvp_act_request(struct kvp_act_req *r)
{
	struct kvp_guest *guest = r->guest;

	bool recorded;

	r->reason = kvp_act_decide(r);
	kvp_nonce_add(r->req.nonce);
	if (!r->reason)
		r->reason = kvp_act_grant(r);
	recorded = kvp_act.history && !kvp_act_record(r);
	/* With history-required, a grant is only given once it is on record. */
	if (!r->reason && !recorded && kvp_hostd_config.history_required) {
		r->reason = KVP_AVMA_R_HOST_BUSY;
		r->grant_len = 0;
		r->grant_id[0] = '\0';
	}
	kvp_act_event(r);
	kvp_info("CID %u (%s): activation of %s %s %s: %s%s%s%s", guest->cid,
		 r->vm_name, r->req.product, r->req.version, r->req.edition,
		 kvp_avma_outcome_name(kvp_act_outcome(r->reason)),
		 r->reason ? " (" : "",
		 r->reason ? kvp_avma_reason_name(r->reason) : "",
		 r->reason ? ")" : "");
}

/*
 * The guest's text goes into logs, events and the history: control
 * characters become '?', and so does every non-ASCII byte of a field that
 * is not UTF-8.  No catalog id has either, so no decision changes.
 */
static void kvp_act_clean(char *s)
{
	bool utf8 = kvp_utf8_valid(s, strlen(s));

	for (; *s; s++)
		if ((u8)*s < 0x20 || *s == 0x7f || (!utf8 && (u8)*s >= 0x80))
			*s = '?';
}

static void kvp_act_clean_request(struct kvp_avma_request *req)
{
	kvp_act_clean(req->product);
	kvp_act_clean(req->version);
	kvp_act_clean(req->edition);
	kvp_act_clean(req->vm_name);
}

/* ---- the service on a connection ---------------------------------------- */

static int kvp_act_drop(struct kvp_guest *guest, u64 id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Drops a packet unanswered: counted, logged at most once a second. */
static int kvp_act_drop(struct kvp_guest *guest, u64 id, const char *fmt, ...)
{
	u64 now = kvp_now_ms();
	char why[128];
	va_list ap;

	guest->act_dropped++;
	if (guest->act_logged_ms &&
	    now - guest->act_logged_ms < KVP_ACT_DROP_LOG_MS) {
		guest->act_unlogged++;
		return 0;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	kvp_warn("CID %u (%s): activation packet %llu dropped, not answered: %s (%llu dropped in all, %llu not logged)",
		 guest->cid, guest->name, (unsigned long long)id, why,
		 (unsigned long long)guest->act_dropped,
		 (unsigned long long)guest->act_unlogged);
	guest->act_logged_ms = now;
	guest->act_unlogged = 0;
	return 0;
}

int kvp_activation_start(struct kvp_guest *guest)
{
	u8 pkt[KVP_ICMSG_HDR_LEN + KVP_NEGO_HDR_LEN +
	       4 * (ARRAY_SIZE(kvp_act_fw_versions) +
		    ARRAY_SIZE(kvp_act_msg_versions))];
	size_t len;

	len = kvp_ic_build_negotiate(pkt, sizeof(pkt), kvp_act_fw_versions,
				     ARRAY_SIZE(kvp_act_fw_versions),
				     kvp_act_msg_versions,
				     ARRAY_SIZE(kvp_act_msg_versions));
	guest->act_state = KVP_ACT_NEGOTIATING;
	guest->act_nego_id = 1;
	return kvp_guest_send_on(guest, KVP_VSOCK_SERVICE_ACTIVATION,
				 KVP_VSOCK_PACKET, guest->act_nego_id, pkt,
				 len);
}

/*
 * The guest's NEGOTIATE reply.  A bad one leaves activation failed on this
 * connection (its requests are dropped), the KVP exchange goes on.
 */
static int kvp_act_negotiated(struct kvp_guest *guest, u64 id,
			      const u8 *pkt, size_t len)
{
	u32 fw, msg;

	if (guest->act_state != KVP_ACT_NEGOTIATING || id != guest->act_nego_id)
		return kvp_act_drop(guest, id, "NEGOTIATE reply not awaited");
	if (kvp_ic_parse_negotiate_reply(pkt, len, &fw, &msg) ||
	    fw != kvp_act_fw_versions[0] || msg != kvp_act_msg_versions[0]) {
		guest->act_state = KVP_ACT_FAILED;
		kvp_warn("CID %u (%s): bad NEGOTIATE reply on the activation service: activation off on this connection",
			 guest->cid, guest->name);
		return 0;
	}
	guest->act_fw_version = fw;
	guest->act_msg_version = msg;
	guest->act_state = KVP_ACT_READY;
	kvp_info("CID %u (%s): activation ready: framework %u.%u, message %u.%u",
		 guest->cid, guest->name, KVP_VERSION_MAJOR(fw),
		 KVP_VERSION_MINOR(fw), KVP_VERSION_MAJOR(msg),
		 KVP_VERSION_MINOR(msg));
	return 0;
}

/*
 * A PACKET on the activation service.  Returns nonzero only when a reply
 * could not be sent (the guest is then dropped, guest.c).
 */
int kvp_activation_packet(struct kvp_guest *guest, u64 id, const u8 *pkt,
			  size_t len)
{
	u8 want = KVP_IC_FLAG_TRANSACTION | KVP_IC_FLAG_REQUEST;
	struct kvp_act_req *r;
	struct kvp_act_cid *c;
	struct kvp_ic_hdr hdr;
	bool limited;
	u64 now;
	int err;

	if (kvp_ic_parse(pkt, len, &hdr))
		return kvp_act_drop(guest, id, "IC header does not parse");
	if (hdr.type == KVP_IC_TYPE_NEGOTIATE &&
	    (hdr.flags & KVP_IC_FLAG_RESPONSE))
		return kvp_act_negotiated(guest, id, pkt, len);
	if (hdr.type != KVP_IC_TYPE_AVMA)
		return kvp_act_drop(guest, id, "IC type %u", hdr.type);
	if ((hdr.flags & (want | KVP_IC_FLAG_RESPONSE)) != want)
		return kvp_act_drop(guest, id, "IC flags 0x%02x, not TRANSACTION|REQUEST",
				    hdr.flags);
	if (guest->act_state != KVP_ACT_READY)
		return kvp_act_drop(guest, id, "activation not negotiated");
	r = calloc(1, sizeof(*r));
	if (!r)
		return kvp_act_drop(guest, id, "out of memory");
	r->guest = guest;
	if (kvp_avma_request_parse(pkt + KVP_ICMSG_HDR_LEN, hdr.size,
				   &r->req)) {
		free(r);
		return kvp_act_drop(guest, id, "request body does not parse (%u bytes)",
				    hdr.size);
	}
	guest->act_requests++;
	kvp_act_clean_request(&r->req);
	kvp_uuid_format(r->req.vm_id, r->vm_id);
	r->vm_name = guest->named || !r->req.vm_name[0] ? guest->name :
		     r->req.vm_name;
	now = kvp_now_ms();
	c = kvp_rate_take(guest->cid, now, &limited);
	if (limited)
		kvp_act_limited(r, c, now);
	else
		kvp_act_request(r);
	err = kvp_act_reply(r, id, hdr.txid);
	free(r);
	return err;
}

/* ---- start and exit ----------------------------------------------------- */

static void kvp_act_host_name(void)
{
	char name[256];
	size_t n;

	if (kvp_hostd_config.host_name) {
		snprintf(kvp_act.host_name, sizeof(kvp_act.host_name), "%s",
			 kvp_hostd_config.host_name);
		return;
	}
	if (gethostname(name, sizeof(name) - 1) < 0 ||
	    !kvp_utf8_valid(name, strnlen(name, sizeof(name) - 1)))
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	/* Cut to the grant's field on a UTF-8 character boundary. */
	n = strlen(name);
	if (n >= KVP_AVMA_NAME_LEN) {
		n = KVP_AVMA_NAME_LEN - 1;
		while (n && ((u8)name[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(kvp_act.host_name, name, n);
	kvp_act.host_name[n] = '\0';
}

/*
 * Per history-required: history off, or refusing to grant, on failure.
 * Called once the daemon has detached: SQLite's locks belong to the
 * process that took them, and would not follow the connection into
 * daemon()'s child.
 */
void kvp_activation_history_open(void)
{
	const char *path = kvp_hostd_config.history;
	char error[256] = "";
	int err;

	if (!kvp_act.served)
		return;
	if (!path) {
		kvp_info("activation history off (history = off)");
		return;
	}
	err = kvp_history_open(&kvp_act.history, path, error, sizeof(error));
	if (!err) {
		kvp_info("activation history %s", path);
		return;
	}
	kvp_act.history = NULL;
	kvp_err("activation history %s cannot be opened: %s (%s); the file is left as it is; %s",
		path, error[0] ? error : strerror(-err), strerror(-err),
		kvp_hostd_config.history_required ?
		"history-required = yes: every request is refused (Invalid Host, host-busy) until this is fixed and kvp-hostd restarted" :
		"activations go on without history (history-required = no)");
}

int kvp_activation_init(void)
{
	const char *const *dirs =
		(const char *const *)kvp_hostd_config.catalog_dirs;
	char error[256] = "";
	int err;

	if (!kvp_hostd_config.activation) {
		kvp_info("activation not served (enabled = no)");
		return 0;
	}
	err = kvp_identity_init(kvp_hostd_config.state_dir);
	if (err)
		return err;
	err = kvp_catalog_load(&kvp_act.catalog, dirs, error, sizeof(error));
	if (err) {
		kvp_err("catalog: %s", error[0] ? error : strerror(-err));
		return err;
	}
	kvp_act.nonces = calloc(1, sizeof(*kvp_act.nonces));
	kvp_act.cids = calloc(KVP_ACT_CIDS_MAX, sizeof(*kvp_act.cids));
	if (!kvp_act.nonces || !kvp_act.cids)
		return -ENOMEM;
	memset(kvp_act.nonces->head, 0xff, sizeof(kvp_act.nonces->head));
	err = kvp_random((u8 *)&kvp_act.nonces->seed,
			 sizeof(kvp_act.nonces->seed));
	if (!err)
		err = kvp_lic_load();
	if (err)
		return err;
	kvp_act_host_name();
	kvp_act.served = true;
	kvp_info("activation served: host %s, lease %llu s, rate %u then 1 per %u s per VM",
		 kvp_act.host_name, (unsigned long long)kvp_hostd_config.lease,
		 kvp_hostd_config.rate_burst, kvp_hostd_config.rate_interval);
	return 0;
}

void kvp_activation_exit(void)
{
	struct kvp_act_license *l;

	while ((l = kvp_act.licenses)) {
		kvp_act.licenses = l->next;
		free(l);
	}
	if (kvp_act.history)
		kvp_history_close(kvp_act.history);
	if (kvp_act.catalog)
		kvp_catalog_free(kvp_act.catalog);
	free(kvp_act.nonces);
	free(kvp_act.cids);
	kvp_identity_exit();
	memset(&kvp_act, 0, sizeof(kvp_act));
}

bool kvp_activation_served(void)
{
	return kvp_act.served;
}

struct kvp_history *kvp_activation_history(void)
{
	return kvp_act.history;
}

const struct kvp_catalog *kvp_activation_catalog(void)
{
	return kvp_act.catalog;
}
