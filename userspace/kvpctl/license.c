// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl license: the guest's product key and activation, as slmgr does it
 * on Windows (/ipk, /ato, /dlv, /upk), on the state kvpd keeps
 * (lib/license.h; Documentation/avma.rst section "Guest").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "kvpctl.h"
#include "license.h"

#define KVPCTL_LICENSE_USAGE \
	"license install-key KEY | activate [--vm-id UUID] | status | events | uninstall-key | catalog"

int kvpctl_catalog_load(struct kvp_catalog **catalog)
{
	char error[512] = "";
	int err;

	err = kvp_catalog_load(catalog, kvpctl_opts.catalog_dirs[0] ?
				       kvpctl_opts.catalog_dirs : NULL,
			       error, sizeof(error));
	if (err) {
		fprintf(stderr, "kvpctl: catalog: %s\n",
			*error ? error : strerror(-err));
		return KVPCTL_ERR;
	}
	return KVPCTL_OK;
}

static int kvpctl_must_be_root(const char *what)
{
	if (!geteuid())
		return KVPCTL_OK;
	fprintf(stderr, "kvpctl: license %s: must be root\n", what);
	return KVPCTL_PERM;
}

/* The last group only, as slmgr shows a key. */
static void kvpctl_partial_key(const struct kvp_guest *g, char *out,
			       size_t size)
{
	const char *tail = g->key;

	if (!g->key[0]) {
		snprintf(out, size, "none");
		return;
	}
	if (strlen(tail) > 5)
		tail += strlen(tail) - 5;
	snprintf(out, size, "*****-*****-*****-*****-%.5s", tail);
}

/* An error of the library: its sentence, else the state directory's. */
static int kvpctl_license_fail(const char *what, int err, const char *error)
{
	if (*error)
		fprintf(stderr, "kvpctl: license %s: %s\n", what, error);
	else
		fprintf(stderr, "kvpctl: license %s: %s: %s\n", what,
			kvpctl_opts.state_dir, strerror(-err));
	return err == -EACCES || err == -EPERM ? KVPCTL_PERM : KVPCTL_ERR;
}

static int kvpctl_install_key(const char *key)
{
	char error[256] = "", partial[32];
	struct kvp_catalog *catalog;
	struct kvp_json json;
	struct kvp_guest g;
	int ret, err;

	ret = kvpctl_must_be_root("install-key");
	if (!ret)
		ret = kvpctl_catalog_load(&catalog);
	if (ret)
		return ret;
	err = kvp_guest_install_key(kvpctl_opts.state_dir, catalog, key, &g,
				    error, sizeof(error));
	kvp_catalog_free(catalog);
	if (err == -EINVAL) {
		fprintf(stderr, "kvpctl: license install-key: %s\n", error);
		return KVPCTL_BAD_PRODUCT_KEY;
	}
	if (err)
		return kvpctl_license_fail("install-key", err, error);
	if (*error)	/* a corrupt state file was replaced */
		fprintf(stderr, "kvpctl: warning: %s\n", error);
	kvpctl_partial_key(&g, partial, sizeof(partial));
	if (kvpctl_opts.json) {
		kvp_json_init(&json, stdout);
		kvp_json_open(&json, NULL, '{');
		kvp_json_str(&json, "key", partial);
		kvp_json_bool(&json, "avma", g.avma);
		kvp_json_str(&json, "product", g.product);
		kvp_json_str(&json, "version", g.version);
		kvp_json_str(&json, "edition", g.edition);
		kvp_json_close(&json, '}');
	} else if (g.avma) {
		printf("installed %s: AVMA key of %s %s %s; kvpd activates it\n",
		       partial, g.product, g.version, g.edition);
	} else {
		printf("installed %s: not an AVMA key (no activation, no licence items)\n",
		       partial);
	}
	return KVPCTL_OK;
}

static int kvpctl_outcome_exit(uint32_t outcome)
{
	switch (outcome) {
	case KVP_AVMA_SUCCESS:
		return KVPCTL_OK;
	case KVP_AVMA_INVALID_HOST:
		return KVPCTL_INVALID_HOST;
	case KVP_AVMA_DENIED:
		return KVPCTL_DENIED;
	default:
		return KVPCTL_INVALID_DATA;
	}
}

static void kvpctl_print_outcome(uint32_t outcome, uint32_t reason,
				 const struct kvp_guest *g)
{
	char host_id[KVP_HOST_ID_LEN + 1], uuid[37];
	char exp[KVP_TIME_TEXT_LEN + 1];
	struct kvp_json json;
	bool ok = outcome == KVP_AVMA_SUCCESS;

	if (ok) {
		kvp_host_id(g->decoded.host_key, host_id);
		kvp_uuid_format(g->decoded.id, uuid);
		kvp_time_text(g->decoded.expires, exp);
	}
	if (!kvpctl_opts.json) {
		if (ok)
			printf("Success: activated by host %s (%s), lease until %s\n",
			       g->decoded.host_name, host_id, exp);
		else
			printf("%s (%s)\n", kvp_avma_outcome_name(outcome),
			       kvp_avma_reason_name(reason));
		return;
	}
	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "outcome", kvp_avma_outcome_name(outcome));
	kvp_json_str(&json, "reason", kvp_avma_reason_name(reason));
	if (ok) {
		kvp_json_str(&json, "activation_id", uuid);
		kvp_json_str(&json, "host_name", g->decoded.host_name);
		kvp_json_str(&json, "host_id", host_id);
		kvp_json_str(&json, "expires", exp);
	}
	kvp_json_close(&json, '}');
}

static int kvpctl_activate(int argc, char **argv)
{
	struct kvp_guest_activation act = {
		.dir = kvpctl_opts.state_dir,
		.exchange = kvp_guest_nl_exchange,
	};
	struct kvp_catalog *catalog;
	uint32_t outcome, reason;
	char error[256] = "";
	struct kvp_guest g;
	int ret, err;

	bool vm_id = argc == 4 && !strcmp(argv[2], "--vm-id");

	if (!vm_id && argc != 2) {
		fprintf(stderr, "usage: kvpctl license activate [--vm-id UUID]\n");
		return KVPCTL_USAGE;
	}
	if (vm_id && kvp_uuid_parse(argv[3], act.vm_id)) {
		fprintf(stderr, "kvpctl: --vm-id: '%s' is not a UUID\n",
			argv[3]);
		return KVPCTL_USAGE;
	}
	ret = kvpctl_must_be_root("activate");
	if (ret)
		return ret;
	if (!vm_id && kvp_guest_vm_id(act.vm_id)) {
		fprintf(stderr, "kvpctl: license activate: no VM id (neither /sys/class/dmi/id/product_uuid nor /etc/machine-id): use --vm-id\n");
		return KVPCTL_ERR;
	}
	ret = kvpctl_catalog_load(&catalog);
	if (ret)
		return ret;
	act.catalog = catalog;
	err = kvp_guest_activate(&act, &outcome, &reason, &g, error,
				 sizeof(error));
	kvp_catalog_free(catalog);
	if (err == -ENOKEY) {
		fprintf(stderr, "kvpctl: license activate: %s\n", error);
		return KVPCTL_NO_AVMA_KEY;
	}
	if (err == -ENOENT) {
		fprintf(stderr, "kvpctl: license activate: kvp module not loaded (no kvp netlink family)\n");
		return KVPCTL_NO_MODULE;
	}
	if (err)
		return kvpctl_license_fail("activate", err, error);
	kvpctl_print_outcome(outcome, reason, &g);
	return kvpctl_outcome_exit(outcome);
}

/* What `status` shows, as text: the names slmgr /dlv uses, roughly. */
struct kvpctl_status {
	const char *state;
	const char *reason;
	char key[32];
	char activation_id[37];
	char host_id[KVP_HOST_ID_LEN + 1];
	char activated[KVP_TIME_TEXT_LEN + 1];
	char expires[KVP_TIME_TEXT_LEN + 1];
	char tried_at[KVP_TIME_TEXT_LEN + 1];
	/* The catalog's display names, or the ids without it. */
	struct kvp_catalog *catalog;
	const char *product_name;
	const char *version_name;
	const char *edition_name;
};

/* Names only: a catalog that does not load leaves the ids. */
static void kvpctl_status_names(const struct kvp_guest *g,
				struct kvpctl_status *s)
{
	const struct kvp_product *p;
	const struct kvp_edition *e;
	int rank;

	s->product_name = g->product;
	s->version_name = g->version;
	s->edition_name = g->edition;
	if (!g->avma ||
	    kvp_catalog_load(&s->catalog, kvpctl_opts.catalog_dirs[0] ?
					  kvpctl_opts.catalog_dirs : NULL,
			     NULL, 0)) {
		s->catalog = NULL;
		return;
	}
	p = kvp_catalog_product(s->catalog, g->product);
	if (!p)
		return;
	s->product_name = p->name;
	rank = kvp_product_version_rank(p, g->version);
	if (rank >= 0)
		s->version_name = p->version_names[rank];
	e = kvp_product_edition(p, g->edition);
	if (e)
		s->edition_name = e->name;
}

static void kvpctl_status_fill(const struct kvp_guest *g,
			       struct kvpctl_status *s)
{
	uint32_t reason;

	memset(s, 0, sizeof(*s));
	s->state = kvp_guest_state_name(kvp_guest_state(g, time(NULL),
							&reason));
	s->reason = kvp_avma_reason_name(reason);
	kvpctl_partial_key(g, s->key, sizeof(s->key));
	kvpctl_status_names(g, s);
	if (g->tried_at)
		kvp_time_text(g->tried_at, s->tried_at);
	if (!g->grant_len)
		return;
	kvp_uuid_format(g->decoded.id, s->activation_id);
	kvp_host_id(g->decoded.host_key, s->host_id);
	kvp_time_text(g->decoded.activated, s->activated);
	kvp_time_text(g->decoded.expires, s->expires);
}

static void kvpctl_status_text(const struct kvp_guest *g,
			       const struct kvpctl_status *s)
{
	printf("state:          %s\n", s->state);
	printf("reason:         %s\n", s->reason);
	printf("key:            %s%s\n", s->key,
	       g->key[0] && !g->avma ? " (not an AVMA key)" : "");
	if (!g->avma)
		return;
	printf("product:        %s (%s)\n", s->product_name, g->product);
	printf("version:        %s (%s)\n", s->version_name, g->version);
	printf("edition:        %s (%s)\n", s->edition_name, g->edition);
	if (g->grant_len) {
		printf("activation id:  %s\n", s->activation_id);
		printf("host name:      %s\n", g->decoded.host_name);
		printf("host id:        %s\n", s->host_id);
		printf("activated:      %s\n", s->activated);
		printf("lease expires:  %s\n", s->expires);
	}
	if (g->tried)
		printf("last attempt:   %s %s (%s)\n", s->tried_at,
		       kvp_avma_outcome_name(g->outcome),
		       kvp_avma_reason_name(g->reason));
}

static void kvpctl_status_json(const struct kvp_guest *g,
			       const struct kvpctl_status *s)
{
	struct kvp_json json;

	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "state", s->state);
	kvp_json_str(&json, "reason", s->reason);
	kvp_json_str(&json, "key", g->key[0] ? s->key : "");
	kvp_json_bool(&json, "avma", g->avma);
	kvp_json_str(&json, "product", g->product);
	kvp_json_str(&json, "version", g->version);
	kvp_json_str(&json, "edition", g->edition);
	kvp_json_str(&json, "product_name", s->product_name);
	kvp_json_str(&json, "version_name", s->version_name);
	kvp_json_str(&json, "edition_name", s->edition_name);
	kvp_json_str(&json, "activation_id", s->activation_id);
	kvp_json_str(&json, "host_name",
		     g->grant_len ? g->decoded.host_name : "");
	kvp_json_str(&json, "host_id", s->host_id);
	kvp_json_str(&json, "activated", s->activated);
	kvp_json_str(&json, "expires", s->expires);
	kvp_json_str(&json, "last_outcome",
		     g->tried ? kvp_avma_outcome_name(g->outcome) : "");
	kvp_json_str(&json, "last_reason",
		     g->tried ? kvp_avma_reason_name(g->reason) : "");
	kvp_json_str(&json, "last_attempt", s->tried_at);
	kvp_json_close(&json, '}');
}

static int kvpctl_license_status(void)
{
	struct kvpctl_status s;
	char error[256] = "";
	struct kvp_guest g;
	int err;

	err = kvp_guest_load(kvpctl_opts.state_dir, &g, error, sizeof(error));
	if (err && err != -EBADMSG)
		return kvpctl_license_fail("status", err, error);
	if (err)
		fprintf(stderr, "kvpctl: warning: %s\n", error);
	kvpctl_status_fill(&g, &s);
	if (kvpctl_opts.json)
		kvpctl_status_json(&g, &s);
	else
		kvpctl_status_text(&g, &s);
	kvp_catalog_free(s.catalog);
	return err ? KVPCTL_ERR : KVPCTL_OK;
}

static int kvpctl_event_text(const struct kvp_guest_event *ev, void *arg)
{
	char t[KVP_TIME_TEXT_LEN + 1], exp[KVP_TIME_TEXT_LEN + 1];

	(void)arg;
	kvp_time_text(ev->time, t);
	printf("%s  %s (%s)  %s %s %s", t, kvp_avma_outcome_name(ev->outcome),
	       kvp_avma_reason_name(ev->reason), ev->product, ev->version,
	       ev->edition);
	if (ev->outcome == KVP_AVMA_SUCCESS) {
		kvp_time_text(ev->expires, exp);
		printf("  host %s (%s)  activation id %s  until %s",
		       ev->host_name, ev->host_id, ev->grant_id, exp);
	}
	printf("\n");
	return 0;
}

static int kvpctl_event_json(const struct kvp_guest_event *ev, void *arg)
{
	char t[KVP_TIME_TEXT_LEN + 1], exp[KVP_TIME_TEXT_LEN + 1];
	struct kvp_json *json = arg;

	kvp_time_text(ev->time, t);
	kvp_time_text(ev->expires, exp);
	kvp_json_open(json, NULL, '{');
	kvp_json_str(json, "time", t);
	kvp_json_str(json, "outcome", kvp_avma_outcome_name(ev->outcome));
	kvp_json_str(json, "reason", kvp_avma_reason_name(ev->reason));
	kvp_json_str(json, "product", ev->product);
	kvp_json_str(json, "version", ev->version);
	kvp_json_str(json, "edition", ev->edition);
	kvp_json_str(json, "host_name", ev->host_name);
	kvp_json_str(json, "host_id", ev->host_id);
	kvp_json_str(json, "activation_id", ev->grant_id);
	kvp_json_str(json, "expires", exp);
	kvp_json_close(json, '}');
	return 0;
}

static int kvpctl_license_events(void)
{
	struct kvp_json json;
	int err;

	if (!kvpctl_opts.json) {
		err = kvp_guest_events(kvpctl_opts.state_dir,
				       kvpctl_event_text, NULL);
	} else {
		kvp_json_init(&json, stdout);
		kvp_json_open(&json, NULL, '[');
		err = kvp_guest_events(kvpctl_opts.state_dir,
				       kvpctl_event_json, &json);
		kvp_json_close(&json, ']');
	}
	return err ? kvpctl_license_fail("events", err, "") : KVPCTL_OK;
}

static int kvpctl_uninstall_key(void)
{
	int ret, err;

	ret = kvpctl_must_be_root("uninstall-key");
	if (ret)
		return ret;
	err = kvp_guest_uninstall_key(kvpctl_opts.state_dir);
	if (err == -ENOKEY) {
		fprintf(stderr, "kvpctl: license uninstall-key: no product key is installed\n");
		return KVPCTL_NO_KEY;
	}
	if (err)
		return kvpctl_license_fail("uninstall-key", err, "");
	if (!kvpctl_opts.json)
		printf("product key uninstalled\n");
	return KVPCTL_OK;
}

static void kvpctl_product_text(const struct kvp_product *p)
{
	char b64[KVP_BASE64_LEN(KVP_SIGN_PUBLIC_LEN) + 1];
	unsigned int i;

	printf("%s: %s (%s)\n", p->id, p->name, p->source);
	for (i = 0; i < p->nr_versions; i++)
		printf("  version %s: %s\n", p->versions[i],
		       p->version_names[i]);
	for (i = 0; i < p->nr_editions; i++)
		printf("  edition %s: %s%s\n", p->editions[i].id,
		       p->editions[i].name,
		       p->editions[i].lends ? " (a host of it lends)" : "");
	for (i = 0; i < p->nr_keys; i++)
		printf("  key %s %s: %s\n", p->keys[i].version,
		       p->keys[i].edition, p->keys[i].key);
	if (p->has_vendor_key) {
		kvp_base64_encode(p->vendor_key, KVP_SIGN_PUBLIC_LEN, b64);
		printf("  vendor key: %s\n", b64);
	}
}

static void kvpctl_product_json(const struct kvp_product *p,
				struct kvp_json *json)
{
	char b64[KVP_BASE64_LEN(KVP_SIGN_PUBLIC_LEN) + 1] = "";
	unsigned int i;

	if (p->has_vendor_key)
		kvp_base64_encode(p->vendor_key, KVP_SIGN_PUBLIC_LEN, b64);
	kvp_json_open(json, NULL, '{');
	kvp_json_str(json, "id", p->id);
	kvp_json_str(json, "name", p->name);
	kvp_json_str(json, "source", p->source);
	kvp_json_str(json, "vendor_key", b64);
	kvp_json_open(json, "versions", '[');
	for (i = 0; i < p->nr_versions; i++) {
		kvp_json_open(json, NULL, '{');
		kvp_json_str(json, "id", p->versions[i]);
		kvp_json_str(json, "name", p->version_names[i]);
		kvp_json_close(json, '}');
	}
	kvp_json_close(json, ']');
	kvp_json_open(json, "editions", '[');
	for (i = 0; i < p->nr_editions; i++) {
		kvp_json_open(json, NULL, '{');
		kvp_json_str(json, "id", p->editions[i].id);
		kvp_json_str(json, "name", p->editions[i].name);
		kvp_json_bool(json, "lends", p->editions[i].lends);
		kvp_json_close(json, '}');
	}
	kvp_json_close(json, ']');
	kvp_json_open(json, "keys", '[');
	for (i = 0; i < p->nr_keys; i++) {
		kvp_json_open(json, NULL, '{');
		kvp_json_str(json, "version", p->keys[i].version);
		kvp_json_str(json, "edition", p->keys[i].edition);
		kvp_json_str(json, "key", p->keys[i].key);
		kvp_json_close(json, '}');
	}
	kvp_json_close(json, ']');
	kvp_json_close(json, '}');
}

static int kvpctl_license_catalog(void)
{
	struct kvp_catalog *catalog;
	struct kvp_json json;
	unsigned int i;
	int ret;

	ret = kvpctl_catalog_load(&catalog);
	if (ret)
		return ret;
	kvp_json_init(&json, stdout);
	if (kvpctl_opts.json)
		kvp_json_open(&json, NULL, '[');
	for (i = 0; i < kvp_catalog_count(catalog); i++) {
		if (kvpctl_opts.json)
			kvpctl_product_json(kvp_catalog_at(catalog, i), &json);
		else
			kvpctl_product_text(kvp_catalog_at(catalog, i));
	}
	if (kvpctl_opts.json)
		kvp_json_close(&json, ']');
	kvp_catalog_free(catalog);
	return KVPCTL_OK;
}

int kvpctl_license(int argc, char **argv)
{
	const char *cmd = argc >= 2 ? argv[1] : "";

	if (!strcmp(cmd, "activate"))
		return kvpctl_activate(argc, argv);
	if (!strcmp(cmd, "install-key") && argc == 3)
		return kvpctl_install_key(argv[2]);
	if (argc == 2 && !strcmp(cmd, "status"))
		return kvpctl_license_status();
	if (argc == 2 && !strcmp(cmd, "events"))
		return kvpctl_license_events();
	if (argc == 2 && !strcmp(cmd, "uninstall-key"))
		return kvpctl_uninstall_key();
	if (argc == 2 && !strcmp(cmd, "catalog"))
		return kvpctl_license_catalog();
	fprintf(stderr, "usage: kvpctl " KVPCTL_LICENSE_USAGE "\n");
	return KVPCTL_USAGE;
}
