// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl status: the module (loaded?, transport, negotiated versions,
 * daemon, counters) and the pools on disk.
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

static void kvpctl_print_text(const char *module, const struct kvp_nl_status *st)
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
	kvpctl_print_pools_text();
}

static void kvpctl_print_json(const char *module, const struct kvp_nl_status *st)
{
	struct kvp_json json;
	int i;

	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "module", module);
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
	struct kvp_nl_status st;
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
		kvp_nl_close(nl);
	}
	if (err) {
		fprintf(stderr, "kvpctl: kvp module %s: %s\n", module,
			err == -ENOENT ? "no kvp netlink family" :
					 strerror(-err));
		return KVPCTL_NO_MODULE;
	}
	if (kvpctl_opts.json)
		kvpctl_print_json(module, &st);
	else
		kvpctl_print_text(module, &st);
	return KVPCTL_OK;
}
