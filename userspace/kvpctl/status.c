// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl status: the module (loaded?, transport, negotiated versions,
 * daemon, counters), its activation channel, and the pools on disk.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libkmod.h>

#include "json.h"
#include "kvpctl.h"
#include "msg.h"
#include "nl.h"
#include "pool.h"

/* Whether kvp.ko is in the kernel: loaded, coming, going, or not at all. */
static const char *kvpctl_module_state(void)
{
	struct kmod_module *mod = NULL;
	const char *state = "not loaded";
	struct kmod_ctx *ctx;

	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return "unknown";
	if (!kmod_module_new_from_name(ctx, "kvp", &mod)) {
		int st = kmod_module_get_initstate(mod);

		if (st >= 0)
			state = kmod_module_initstate_str(st);
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	return state;
}

static void kvpctl_print_pools_text(void)
{
	struct kvp_pool_health health;
	struct kvp_pool *pool;
	int nr;

	printf("pools:       %s\n", kvpctl_opts.pool_dir);
	for (nr = 0; nr < KVP_POOL_COUNT; nr++) {
		if (kvp_pool_open(&pool, kvpctl_opts.pool_dir, nr,
				  KVP_POOL_READ) ||
		    kvp_pool_health(pool, &health)) {
			printf("  %d %-14s unreadable\n", nr,
			       kvpctl_pool_name(nr));
			kvp_pool_close(pool);
			continue;
		}
		printf("  %d %-14s %u items", nr, kvpctl_pool_name(nr),
		       health.records);
		if (health.bad_records || health.torn_bytes)
			printf(" (%u bad records, %u torn bytes)",
			       health.bad_records, health.torn_bytes);
		printf("\n");
		kvp_pool_close(pool);
	}
}

/* The activation channel; act is NULL when the module has none. */
static void kvpctl_print_activation_text(const struct kvp_nl_status *act)
{
	int i;

	if (!act) {
		printf("activation:  not in this module\n");
		return;
	}
	printf("activation:  %s", kvp_nl_state_name(act->state));
	if (act->transport[0])
		printf(" over %s", act->transport);
	if (act->negotiated)
		printf(" (framework %u.%u, activation %u.%u)",
		       act->fw_version >> 16, act->fw_version & 0xffff,
		       act->msg_version >> 16, act->msg_version & 0xffff);
	printf(", %u pending\n", act->pending);
	printf("  counters: ");
	for (i = 0; i < KVP_NL_NR_STATS; i++)
		printf(" %s %llu", kvp_nl_stat_names[i],
		       (unsigned long long)act->stats[i]);
	printf("\n");
}

static void kvpctl_print_text(const char *module, const struct kvp_nl_status *st,
			      const struct kvp_nl_status *act)
{
	int i;

	printf("module:      kvp %s\n", module);
	printf("transport:   %s\n", st->transport[0] ? st->transport : "none");
	printf("state:       %s", kvp_nl_state_name(st->state));
	if (st->negotiated)
		printf(" (framework %u.%u, KVP %u.%u)", st->fw_version >> 16,
		       st->fw_version & 0xffff, st->msg_version >> 16,
		       st->msg_version & 0xffff);
	printf("\n");
	if (st->daemon_pid)
		printf("daemon:      pid %u (%s)\n", st->daemon_pid,
		       st->daemon_kind);
	else
		printf("daemon:      none registered\n");
	printf("chardev:     %s\n", kvp_nl_chardev_name(st->chardev));
	printf("pending:     %u\n", st->pending);
	printf("timeouts:    daemon wait %u ms, request %u ms\n",
	       st->daemon_wait_ms, st->request_timeout_ms);
	printf("counters:   ");
	for (i = 0; i < KVP_NL_NR_STATS; i++)
		printf(" %s %llu", kvp_nl_stat_names[i],
		       (unsigned long long)st->stats[i]);
	printf("\n");
	kvpctl_print_activation_text(act);
	kvpctl_print_pools_text();
}

/* "activation": {...}, the fields of the exchange's, for the channel. */
static void kvpctl_print_activation_json(struct kvp_json *json,
					 const struct kvp_nl_status *act)
{
	int i;

	kvp_json_open(json, "activation", '{');
	kvp_json_str(json, "transport", act->transport);
	kvp_json_str(json, "state", kvp_nl_state_name(act->state));
	if (act->negotiated) {
		kvp_json_uint(json, "framework_version", act->fw_version);
		kvp_json_uint(json, "message_version", act->msg_version);
	}
	kvp_json_uint(json, "pending", act->pending);
	kvp_json_open(json, "counters", '{');
	for (i = 0; i < KVP_NL_NR_STATS; i++)
		kvp_json_uint(json, kvp_nl_stat_names[i], act->stats[i]);
	kvp_json_close(json, '}');
	kvp_json_close(json, '}');
}

static void kvpctl_print_json(const char *module, const struct kvp_nl_status *st,
			      const struct kvp_nl_status *act)
{
	struct kvp_json json;
	int i;

	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "module", module);
	/*
	 * Before the KVP exchange's fields, so that the last of each name
	 * on the line is still the exchange's, as it was before activation
	 * (scripts read the line with greedy patterns).
	 */
	if (act)
		kvpctl_print_activation_json(&json, act);
	kvp_json_str(&json, "transport", st->transport);
	kvp_json_str(&json, "state", kvp_nl_state_name(st->state));
	if (st->negotiated) {
		kvp_json_uint(&json, "framework_version", st->fw_version);
		kvp_json_uint(&json, "message_version", st->msg_version);
	}
	kvp_json_uint(&json, "daemon_pid", st->daemon_pid);
	kvp_json_str(&json, "daemon_kind", st->daemon_kind);
	kvp_json_str(&json, "chardev", kvp_nl_chardev_name(st->chardev));
	kvp_json_uint(&json, "pending", st->pending);
	kvp_json_uint(&json, "daemon_wait_ms", st->daemon_wait_ms);
	kvp_json_uint(&json, "request_timeout_ms", st->request_timeout_ms);
	kvp_json_open(&json, "counters", '{');
	for (i = 0; i < KVP_NL_NR_STATS; i++)
		kvp_json_uint(&json, kvp_nl_stat_names[i], st->stats[i]);
	kvp_json_close(&json, '}');
	kvp_json_close(&json, '}');
}

int kvpctl_status(int argc, char **argv)
{
	struct kvp_nl_status st, act;
	bool has_act = false;
	const char *module;
	struct kvp_nl *nl;
	int err;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: kvpctl status\n");
		return KVPCTL_USAGE;
	}
	module = kvpctl_module_state();
	err = kvp_nl_open(&nl);
	if (!err) {
		err = kvp_nl_status(nl, &st);
		/* A module of netlink version 1 has no activation. */
		has_act = !err && !kvp_nl_service_status(nl,
							  KVP_SERVICE_ACTIVATION,
							  &act);
		kvp_nl_close(nl);
	}
	if (err) {
		fprintf(stderr, "kvpctl: kvp module %s: %s\n", module,
			err == -ENOENT ? "no kvp netlink family" :
					 strerror(-err));
		return KVPCTL_NO_MODULE;
	}
	if (kvpctl_opts.json)
		kvpctl_print_json(module, &st, has_act ? &act : NULL);
	else
		kvpctl_print_text(module, &st, has_act ? &act : NULL);
	return KVPCTL_OK;
}
