// SPDX-License-Identifier: GPL-2.0
/*
 * The control commands about activation (Documentation/kvp-hostd.rst,
 * "Activation commands"): identity, history, report and audit, from what
 * identity.c and activation.c hold (the host key, the history, the
 * catalog).  report and audit also read pool 2 of every connected guest,
 * with one ENUMERATE walk each through the guests' queues (request.c), all
 * at once, and answer when the last walk ended.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog.h"
#include "grant.h"
#include "history.h"
#include "hostctl.h"
#include "hostd.h"
#include "isotime.h"
#include "log.h"

/* Rows stop before they could outgrow a control reply. */
#define KVP_REPORT_MAX_BYTES	(KVP_HOSTCTL_MAX_REPLY - 64 * 1024)
#define KVP_REPORT_POOL		2	/* the guest's intrinsic items */
/* How far apart host and guest clocks may be at a lease's end (s). */
#define KVP_AUDIT_CLOCK_SLACK	300

/* One guest, as it was when the report started, and its pool 2. */
struct kvp_report_vm {
	struct kvp_report *report;
	struct kvp_ctl_client *waiter;	/* while its pool is read */
	u32 cid;
	char name[KVP_HOSTD_NAME_MAX + 1];
	char uuid[KVP_HOSTD_UUID_LEN + 1];
	char vm_id[37];			/* its grant's, "" if none decodes */
	int status;			/* of the walk */
	char *error;			/* its message, if it failed */
	struct kvp_strv items;		/* key, value, key, value, ... */
};

struct kvp_report {
	struct kvp_ctl_client *client;
	bool audit;
	u32 pending;			/* walks not ended yet */
	u32 n;
	struct kvp_report_vm *vms;
	struct kvp_strv rows;
	size_t bytes;
	bool full;			/* rows stopped at the byte bound */
	bool nomem;
};

/*
 * Appends one field to the reply's rows, counting its bytes; past the
 * bound or out of memory the row set is marked and no more is added (the
 * caller ends it at a whole row).
 */
static void kvp_report_push(struct kvp_report *r, const char *s)
{
	if (r->nomem)
		return;
	r->bytes += strlen(s) + 1 + sizeof(char *);
	if (kvp_strv_push(&r->rows, s))
		r->nomem = true;
}

static void kvp_report_pushu(struct kvp_report *r, unsigned long long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", v);
	kvp_report_push(r, buf);
}

/* Drops a row begun at `start` fields that cannot be whole. */
static bool kvp_report_row_end(struct kvp_report *r, u32 start)
{
	if (!r->nomem && r->bytes <= KVP_REPORT_MAX_BYTES)
		return true;
	while (r->rows.n > start)
		free(r->rows.v[--r->rows.n]);
	r->full = !r->nomem;
	return false;
}

static void kvp_report_answer(struct kvp_report *r, u16 columns,
			      const char *what)
{
	char message[160] = "";

	if (r->nomem)
		snprintf(message, sizeof(message), "out of memory");
	else if (r->full)
		snprintf(message, sizeof(message),
			 "%s cut short: the rows would not fit a reply of %u bytes",
			 what, KVP_REPORT_MAX_BYTES);
	kvp_ctl_answer(r->client, message[0] ? KVP_HOSTCTL_ERR : KVP_HOSTCTL_OK,
		       0, columns, &r->rows, message);
}

/* ---- identity ------------------------------------------------------------ */

void kvp_report_identity(struct kvp_ctl_client *client)
{
	const uint8_t *pub = kvp_identity_public();
	char b64[KVP_BASE64_LEN(KVP_SIGN_PUBLIC_LEN) + 1];
	struct kvp_strv rows = { 0 };

	if (!pub) {
		kvp_ctl_answer(client, KVP_HOSTCTL_OFF, 0, 0, NULL,
			       "activation is not served: no host identity");
		return;
	}
	kvp_base64_encode(pub, KVP_SIGN_PUBLIC_LEN, b64);
	if (kvp_strv_push(&rows, kvp_identity_host_id()) ||
	    kvp_strv_push(&rows, b64))
		kvp_ctl_answer(client, KVP_HOSTCTL_ERR, 0, 0, NULL,
			       "out of memory");
	else
		kvp_ctl_answer(client, KVP_HOSTCTL_OK, 0, KVP_HC_ID_COLUMNS,
			       &rows, "");
	kvp_strv_free(&rows);
}

/* ---- history ------------------------------------------------------------- */

static void kvp_report_hex(struct kvp_report *r, const uint8_t *p, size_t n)
{
	char hex[2 * KVP_AVMA_NONCE_LEN + 1];
	size_t i;

	for (i = 0; i < n && i < KVP_AVMA_NONCE_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	hex[2 * i] = '\0';
	kvp_report_push(r, hex);
}

static int kvp_report_history_row(const struct kvp_history_row *row,
				  void *arg)
{
	struct kvp_report *r = arg;
	u32 start = r->rows.n;

	kvp_report_pushu(r, (unsigned long long)row->time);
	kvp_report_push(r, row->vm_id);
	kvp_report_push(r, row->vm_name);
	kvp_report_pushu(r, row->cid);
	kvp_report_push(r, row->product);
	kvp_report_push(r, row->version);
	kvp_report_push(r, row->edition);
	kvp_report_pushu(r, row->outcome);
	kvp_report_push(r, kvp_avma_outcome_name(row->outcome));
	kvp_report_pushu(r, row->reason);
	kvp_report_push(r, kvp_avma_reason_name(row->reason));
	kvp_report_push(r, row->grant_id);
	kvp_report_pushu(r, (unsigned long long)row->expires);
	kvp_report_hex(r, row->nonce, sizeof(row->nonce));
	return !kvp_report_row_end(r, start);
}

/*
 * Parses history's words after "history": [VM] [--since SECONDS].
 * Returns a message for a bad one, NULL if fine.
 */
static const char *kvp_report_history_args(u32 argc, const char **argv,
					   const char **vm, int64_t *since)
{
	u32 i = 1;

	*vm = NULL;
	*since = 0;
	if (i < argc && strcmp(argv[i], "--since")) {
		if (!argv[i][0])
			return "the VM is empty";
		*vm = argv[i++];
	}
	if (i < argc) {
		if (strcmp(argv[i], "--since") || i + 2 != argc)
			return "usage: history [VM] [--since SECONDS]";
		if (!argv[i + 1][0] ||
		    strspn(argv[i + 1], "0123456789") != strlen(argv[i + 1]) ||
		    kvp_iso_time_parse(argv[i + 1], since))
			return "--since takes unix seconds, in decimal";
	}
	return NULL;
}

void kvp_report_history(struct kvp_ctl_client *client, u32 argc,
			const char **argv)
{
	struct kvp_history *h = kvp_activation_history();
	struct kvp_report r = { .client = client };
	const char *vm, *bad;
	char message[128];
	int64_t since;
	int err;

	bad = kvp_report_history_args(argc, argv, &vm, &since);
	if (bad) {
		kvp_ctl_answer(client, KVP_HOSTCTL_USAGE, 0, 0, NULL, bad);
		return;
	}
	if (!h) {
		kvp_ctl_answer(client, KVP_HOSTCTL_OFF, 0, 0, NULL,
			       "the activation history is off");
		return;
	}
	err = kvp_history_each(h, vm, since, kvp_report_history_row, &r);
	if (err < 0) {
		snprintf(message, sizeof(message),
			 "cannot read the activation history: %s",
			 strerror(-err));
		kvp_log(LOG_ERR, "%s", message);
		kvp_ctl_answer(client, KVP_HOSTCTL_ERR, 0, KVP_HC_HIST_COLUMNS,
			       &r.rows, message);
	} else {
		kvp_report_answer(&r, KVP_HC_HIST_COLUMNS, "history");
	}
	kvp_strv_free(&r.rows);
}

/* ---- the guests' pool 2 -------------------------------------------------- */

static const char *kvp_report_item(const struct kvp_report_vm *vm,
				   const char *key)
{
	u32 i;

	for (i = 0; i + 1 < vm->items.n; i += 2)
		if (!strcmp(vm->items.v[i], key))
			return vm->items.v[i + 1];
	return NULL;
}

static const char *kvp_report_item_or(const struct kvp_report_vm *vm,
				      const char *key)
{
	const char *v = kvp_report_item(vm, key);

	return v ? v : "";
}

/* KvpLicenseGrant's bytes into buf and grant: its length, or -EINVAL. */
static int kvp_report_decode(const char *b64, uint8_t buf[KVP_GRANT_MAX_LEN],
			     struct kvp_grant *grant)
{
	int n = kvp_base64_decode(b64, buf, KVP_GRANT_MAX_LEN);

	if (n < 0 || kvp_grant_decode(buf, (size_t)n, grant))
		return -EINVAL;
	return n;
}

/*
 * The VM id a guest's grant names: the id its requests carry, which the
 * history knows it by (its name there may be the one it sent, not ours).
 */
static void kvp_report_vm_id(struct kvp_report_vm *vm)
{
	const char *b64 = kvp_report_item(vm, "KvpLicenseGrant");
	uint8_t buf[KVP_GRANT_MAX_LEN];
	struct kvp_grant grant;

	if (b64 && kvp_report_decode(b64, buf, &grant) >= 0)
		kvp_uuid_format(grant.vm_id, vm->vm_id);
}

/* ---- report -------------------------------------------------------------- */

/* The last Success row of a VM (id or name); 0 if none or no history. */
static int kvp_report_last(const char *vm, struct kvp_history_row *row)
{
	struct kvp_history *h = kvp_activation_history();
	int ret = h ? kvp_history_last_grant(h, vm, row) : 0;

	if (ret < 0)
		kvp_warn("activation history: %s", strerror(-ret));
	return ret > 0;
}

static void kvp_report_times(struct kvp_report *r, bool have,
			     const struct kvp_history_row *row)
{
	if (have) {
		kvp_report_pushu(r, (unsigned long long)row->time);
		kvp_report_pushu(r, (unsigned long long)row->expires);
	} else {
		kvp_report_push(r, "");
		kvp_report_push(r, "");
	}
}

/*
 * A connected guest: what its pool 2 says, and its last grant here, by the
 * VM id of the grant it shows, else by its name.
 */
static void kvp_report_connected(struct kvp_report *r,
				 const struct kvp_report_vm *vm)
{
	struct kvp_history_row last;
	bool have = kvp_report_last(vm->vm_id[0] ? vm->vm_id : vm->name,
				    &last);
	u32 start = r->rows.n;

	kvp_report_push(r, vm->name);
	kvp_report_push(r, vm->uuid);
	kvp_report_pushu(r, vm->cid);
	kvp_report_push(r, "connected");
	kvp_report_push(r, kvp_report_item_or(vm, "FullyQualifiedDomainName"));
	kvp_report_push(r, kvp_report_item_or(vm, "OSName"));
	kvp_report_push(r, kvp_report_item_or(vm, "OSVersion"));
	kvp_report_push(r, kvp_report_item_or(vm, "ProcessorArchitecture"));
	kvp_report_push(r, kvp_report_item_or(vm, "NetworkAddressIPv4"));
	kvp_report_push(r, kvp_report_item_or(vm, "NetworkAddressIPv6"));
	kvp_report_push(r, kvp_report_item_or(vm, "KvpLicenseState"));
	kvp_report_push(r, kvp_report_item_or(vm, "KvpLicenseReason"));
	kvp_report_push(r, kvp_report_item_or(vm, "KvpLicenseProduct"));
	kvp_report_push(r, kvp_report_item_or(vm, "KvpLicenseEdition"));
	kvp_report_push(r, kvp_report_item_or(vm, "KvpLicenseVersion"));
	kvp_report_push(r, kvp_report_item_or(vm, "KvpLicenseActivationId"));
	kvp_report_times(r, have, &last);
	kvp_report_push(r, vm->error ? vm->error : "");
	kvp_report_row_end(r, start);
}

/* A history row of a connected guest: its name, CID or grant's VM id. */
static bool kvp_report_is_connected(const struct kvp_report *r,
				    const struct kvp_history_row *row)
{
	const struct kvp_report_vm *vm;
	u32 i;

	for (i = 0; i < r->n; i++) {
		vm = &r->vms[i];
		if (!strcmp(vm->name, row->vm_name) || vm->cid == row->cid ||
		    (vm->vm_id[0] && !strcasecmp(vm->vm_id, row->vm_id)))
			return true;
	}
	return false;
}

/*
 * The VMs only the history knows, by the name it has for them, in order
 * of first appearance; what is said of each is its last row.  A name
 * whose last row is a connected guest's (same name, CID or VM id) is that
 * guest's, already reported.
 */
struct kvp_report_seen {
	struct kvp_report *r;
	struct kvp_strv names;
	struct kvp_history_row last;
	bool have;
};

static bool kvp_report_seen_has(const struct kvp_strv *names,
				const char *name)
{
	u32 i;

	for (i = 0; i < names->n; i++)
		if (!strcmp(names->v[i], name))
			return true;
	return false;
}

static int kvp_report_collect_name(const struct kvp_history_row *row,
				   void *arg)
{
	struct kvp_report_seen *s = arg;

	if (kvp_report_seen_has(&s->names, row->vm_name))
		return 0;
	if (!kvp_strv_push(&s->names, row->vm_name))
		return 0;
	s->r->nomem = true;
	return 1;
}

static int kvp_report_latest(const struct kvp_history_row *row, void *arg)
{
	struct kvp_report_seen *s = arg;

	s->last = *row;
	s->have = true;
	return 0;
}

static void kvp_report_history_vm(struct kvp_report *r, const char *name)
{
	struct kvp_history *h = kvp_activation_history();
	struct kvp_report_seen latest = { .r = r };
	struct kvp_history_row grant;
	bool have;
	u32 start = r->rows.n;
	int i;

	if (kvp_history_each(h, name, 0, kvp_report_latest, &latest) < 0 ||
	    !latest.have || kvp_report_is_connected(r, &latest.last))
		return;
	have = kvp_report_last(name, &grant);
	kvp_report_push(r, name);
	kvp_report_push(r, latest.last.vm_id);
	kvp_report_pushu(r, latest.last.cid);
	kvp_report_push(r, "history");
	for (i = 0; i < 6; i++)		/* FQDN .. IPv6: only a guest knows */
		kvp_report_push(r, "");
	kvp_report_push(r, "");		/* state: only the guest knows */
	kvp_report_push(r, kvp_avma_reason_name(latest.last.reason));
	kvp_report_push(r, latest.last.product);
	kvp_report_push(r, latest.last.edition);
	kvp_report_push(r, latest.last.version);
	kvp_report_push(r, have ? grant.grant_id : "");
	kvp_report_times(r, have, &grant);
	kvp_report_push(r, "");
	kvp_report_row_end(r, start);
}

static void kvp_report_finish_report(struct kvp_report *r)
{
	struct kvp_history *h = kvp_activation_history();
	struct kvp_report_seen seen = { .r = r };
	u32 i;

	for (i = 0; i < r->n; i++) {
		kvp_report_vm_id(&r->vms[i]);
		kvp_report_connected(r, &r->vms[i]);
	}
	if (h && kvp_history_each(h, NULL, 0, kvp_report_collect_name,
				  &seen) < 0)
		kvp_warn("activation history: cannot list its VMs");
	for (i = 0; i < seen.names.n; i++)
		kvp_report_history_vm(r, seen.names.v[i]);
	kvp_strv_free(&seen.names);
	kvp_report_answer(r, KVP_HC_REP_COLUMNS, "report");
}

/* ---- audit --------------------------------------------------------------- */

struct kvp_audit {
	const char *verdict;
	char detail[1024];
	struct kvp_grant grant;
	bool decoded;
	char grant_id[37];
	char host_id[KVP_HOST_ID_LEN + 1];
};

static void kvp_audit_add(struct kvp_audit *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One more difference: the verdict becomes tampered. */
static void kvp_audit_add(struct kvp_audit *a, const char *fmt, ...)
{
	size_t len = strlen(a->detail);
	va_list ap;

	a->verdict = "tampered";
	if (len && len + 2 < sizeof(a->detail)) {
		strcpy(a->detail + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(a->detail + len, sizeof(a->detail) - len, fmt, ap);
	va_end(ap);
}

/* Something worth knowing that is no fault. */
static void kvp_audit_note(struct kvp_audit *a, const char *note)
{
	const char *verdict = a->verdict;

	kvp_audit_add(a, "%s", note);
	a->verdict = verdict;
}

/* An item must say exactly `want`, byte for byte, as kvpd writes it. */
static void kvp_audit_text(struct kvp_audit *a, const struct kvp_report_vm *vm,
			   const char *key, const char *want)
{
	const char *v = kvp_report_item(vm, key);

	if (!v)
		kvp_audit_add(a, "%s missing", key);
	else if (strcmp(v, want))
		kvp_audit_add(a, "%s is '%s', the grant says '%s'", key, v,
			      want);
}

static void kvp_audit_time(struct kvp_audit *a, const struct kvp_report_vm *vm,
			   const char *key, uint64_t want)
{
	const char *v = kvp_report_item(vm, key);
	int64_t t;

	if (!v)
		kvp_audit_add(a, "%s missing", key);
	else if (kvp_iso_time_parse(v, &t) || (uint64_t)t != want)
		kvp_audit_add(a, "%s is '%s', the grant says %llu", key, v,
			      (unsigned long long)want);
}

/* The pool-2 items against the grant they carry. */
static void kvp_audit_items(struct kvp_audit *a, const struct kvp_report_vm *vm)
{
	const struct kvp_grant *g = &a->grant;
	const char *state = kvp_report_item(vm, "KvpLicenseState");
	uint64_t now = (uint64_t)time(NULL);
	const char *want = now < g->expires ? "Licensed" : "Notification";

	/*
	 * The guest judges the lease's end by its own clock: near it, either
	 * state is honest.
	 */
	if (g->expires - KVP_AUDIT_CLOCK_SLACK < now &&
	    now < g->expires + KVP_AUDIT_CLOCK_SLACK && state &&
	    (!strcmp(state, "Licensed") || !strcmp(state, "Notification")))
		want = state;
	if (!state)
		kvp_audit_add(a, "KvpLicenseState missing");
	else if (strcmp(state, want))
		kvp_audit_add(a, "KvpLicenseState is '%s', the grant's lease says '%s'",
			      state, want);
	kvp_audit_text(a, vm, "KvpLicenseActivationId", a->grant_id);
	kvp_audit_text(a, vm, "KvpLicenseProduct", g->product);
	kvp_audit_text(a, vm, "KvpLicenseEdition", g->edition);
	kvp_audit_text(a, vm, "KvpLicenseVersion", g->version);
	kvp_audit_text(a, vm, "KvpLicenseHostId", a->host_id);
	kvp_audit_text(a, vm, "KvpLicenseHostName", g->host_name);
	kvp_audit_time(a, vm, "KvpLicenseActivationTime", g->activated);
	kvp_audit_time(a, vm, "KvpLicenseExpiry", g->expires);
}

/* Decodes KvpLicenseGrant and checks its signatures; false: done. */
static bool kvp_audit_grant(struct kvp_audit *a, const char *b64,
			    const struct kvp_product **pp)
{
	const struct kvp_catalog *catalog = kvp_activation_catalog();
	uint8_t buf[KVP_GRANT_MAX_LEN];
	const struct kvp_product *p;
	bool covers;
	int n, err;

	n = kvp_report_decode(b64, buf, &a->grant);
	if (n < 0) {
		kvp_audit_add(a, "KvpLicenseGrant is not a grant");
		return false;
	}
	a->decoded = true;
	kvp_uuid_format(a->grant.id, a->grant_id);
	kvp_host_id(a->grant.host_key, a->host_id);
	p = catalog ? kvp_catalog_product(catalog, a->grant.product) : NULL;
	covers = p && a->grant.has_license &&
		 kvp_product_license_covers(p, &a->grant.license,
					    a->grant.version);
	err = kvp_grant_verify(buf, (size_t)n, &a->grant,
			       p && p->has_vendor_key ? p->vendor_key : NULL,
			       covers);
	*pp = p;
	if (err == -EBADMSG)
		kvp_audit_add(a, "the grant's signature does not verify");
	else if (err)
		kvp_audit_add(a, "the grant's licence chain does not hold for %s",
			      p ? "the catalog's vendor key" :
				  "a product this host's catalog does not know");
	return !err;
}

/*
 * Who issued it: this host (its key; the history must know the grant, for
 * the same VM and product), or another host (fine after a migration).
 */
static void kvp_audit_issuer(struct kvp_audit *a, const struct kvp_report_vm *vm)
{
	struct kvp_history *h = kvp_activation_history();
	const uint8_t *ours = kvp_identity_public();
	bool mine = ours && !memcmp(ours, a->grant.host_key,
				    KVP_SIGN_PUBLIC_LEN);
	struct kvp_history_row row;
	char vm_id[37], note[160];
	int found = h ? kvp_history_find_grant(h, a->grant_id, &row) : 0;

	if (found < 0) {
		kvp_audit_add(a, "the history cannot be read: %s",
			      strerror(-found));
		return;
	}
	if (!found && !mine) {
		snprintf(note, sizeof(note), "issued by host %s (%s), not this one",
			 a->host_id, a->grant.host_name);
		kvp_audit_note(a, note);
		if (!strcmp(a->verdict, "ok"))
			a->verdict = "unknown-grant";
		return;
	}
	if (!found) {
		if (h)
			kvp_audit_add(a, "signed by this host, but not in its history");
		else
			kvp_audit_note(a, "the history is off: not compared with it");
		return;
	}
	if (!mine)
		kvp_audit_add(a, "grant id in this host's history, but signed by host %s",
			      a->host_id);
	kvp_uuid_format(a->grant.vm_id, vm_id);
	if (strcasecmp(row.vm_id, vm_id))
		kvp_audit_add(a, "history has it for VM id %s, the grant for %s",
			      row.vm_id, vm_id);
	if (strcmp(row.product, a->grant.product) ||
	    strcmp(row.edition, a->grant.edition))
		kvp_audit_add(a, "history has it for %s %s, the grant for %s %s",
			      row.product, row.edition, a->grant.product,
			      a->grant.edition);
	if (strcmp(row.vm_name, vm->name) && row.cid != vm->cid)
		kvp_audit_add(a, "history has it for VM %s (CID %u), not this one",
			      row.vm_name, row.cid);
}

static void kvp_audit_vm(struct kvp_audit *a, const struct kvp_report_vm *vm)
{
	const char *b64 = kvp_report_item(vm, "KvpLicenseGrant");
	const char *state = kvp_report_item(vm, "KvpLicenseState");
	const struct kvp_product *p = NULL;

	memset(a, 0, sizeof(*a));
	a->verdict = "ok";
	if (vm->status != KVP_HOSTCTL_OK) {
		a->verdict = "unreadable";
		snprintf(a->detail, sizeof(a->detail), "%s", vm->error);
	} else if (!b64 || !b64[0]) {
		if (state && (!strcmp(state, "Licensed") ||
			      !strcmp(state, "Notification")))
			kvp_audit_add(a, "KvpLicenseState is '%s' without a KvpLicenseGrant",
				      state);
		else
			a->verdict = "no-licence";
	} else if (kvp_audit_grant(a, b64, &p)) {
		kvp_audit_items(a, vm);
		kvp_audit_issuer(a, vm);
	}
}

static void kvp_audit_row(struct kvp_report *r, const struct kvp_report_vm *vm)
{
	struct kvp_audit a;
	u32 start = r->rows.n;

	kvp_audit_vm(&a, vm);
	kvp_report_push(r, vm->name);
	kvp_report_pushu(r, vm->cid);
	kvp_report_push(r, a.verdict);
	kvp_report_push(r, a.detail);
	kvp_report_push(r, a.decoded ? a.grant_id : "");
	kvp_report_push(r, a.decoded ? a.host_id : "");
	kvp_report_push(r, a.decoded ? a.grant.host_name : "");
	kvp_report_push(r, a.decoded ? a.grant.product : "");
	kvp_report_push(r, a.decoded ? a.grant.edition : "");
	if (a.decoded)
		kvp_report_pushu(r, a.grant.expires);
	else
		kvp_report_push(r, "");
	kvp_report_row_end(r, start);
}

/* ---- report and audit: the walks ------------------------------------------ */

void kvp_report_free(struct kvp_report *r)
{
	u32 i;

	for (i = 0; i < r->n; i++) {
		if (r->vms[i].waiter)
			kvp_ctl_waiter_cancel(r->vms[i].waiter);
		kvp_strv_free(&r->vms[i].items);
		free(r->vms[i].error);
	}
	kvp_strv_free(&r->rows);
	free(r->vms);
	free(r);
}

static void kvp_report_finish(struct kvp_report *r)
{
	u32 i;

	if (!r->audit) {
		kvp_report_finish_report(r);
		return;
	}
	for (i = 0; i < r->n; i++)
		kvp_audit_row(r, &r->vms[i]);
	kvp_report_answer(r, KVP_HC_AUD_COLUMNS, "audit");
}

/* A guest's pool-2 walk ended: keep what it gave; the last one answers. */
static void kvp_report_walked(void *arg, int status,
			      const struct kvp_strv *rows, const char *message)
{
	struct kvp_report_vm *vm = arg;
	struct kvp_report *r = vm->report;
	u32 i;

	vm->waiter = NULL;
	vm->status = status;
	for (i = 0; rows && i < rows->n; i++)
		if (kvp_strv_push(&vm->items, rows->v[i]))
			r->nomem = true;
	if (status != KVP_HOSTCTL_OK) {
		vm->error = strdup(message);
		if (!vm->error)
			r->nomem = true;
	}
	if (--r->pending)
		return;
	kvp_report_finish(r);
	kvp_report_free(r);
}

/* Queues the walk of one guest's pool 2; false if out of memory. */
static bool kvp_report_walk(struct kvp_report_vm *vm, struct kvp_guest *guest)
{
	struct kvp_req *req;
	int status;

	vm->cid = guest->cid;
	snprintf(vm->name, sizeof(vm->name), "%s", guest->name);
	snprintf(vm->uuid, sizeof(vm->uuid), "%s", guest->uuid);
	req = kvp_req_new(KVP_OP_ENUMERATE, KVP_REPORT_POOL, NULL, NULL,
			  &status);
	if (!req)
		return false;
	vm->waiter = kvp_ctl_waiter(kvp_report_walked, vm);
	if (!vm->waiter) {
		kvp_req_free(req);
		return false;
	}
	kvp_ctl_wait(vm->waiter, guest, req);
	return true;
}

/*
 * Starts a report or an audit for client.  Returns it while its walks
 * run (the client must kvp_report_free() it if it goes away first), or
 * NULL once the client has been answered.
 */
struct kvp_report *kvp_report_start(struct kvp_ctl_client *client, bool audit)
{
	struct kvp_report *r = calloc(1, sizeof(*r));
	struct kvp_guest *guest;
	u32 n = 0;

	for (guest = kvp_guests; guest; guest = guest->next)
		n++;
	if (r)
		r->vms = calloc(n ? n : 1, sizeof(*r->vms));
	if (!r || !r->vms) {
		free(r);
		kvp_ctl_answer(client, KVP_HOSTCTL_ERR, 0, 0, NULL,
			       "out of memory");
		return NULL;
	}
	r->client = client;
	r->audit = audit;
	/* Walks end from the loop, never in here: count them all first. */
	for (guest = kvp_guests; guest; guest = guest->next) {
		r->vms[r->n].report = r;
		if (!kvp_report_walk(&r->vms[r->n], guest))
			break;
		r->n++;
	}
	r->pending = r->n;
	if (guest) {
		kvp_report_free(r);
		kvp_ctl_answer(client, KVP_HOSTCTL_ERR, 0, 0, NULL,
			       "out of memory");
		return NULL;
	}
	if (r->n)
		return r;
	kvp_report_finish(r);
	kvp_report_free(r);
	return NULL;
}
