// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl list [POOL]: the items of one pool, or of all five, in file order.
 * Text is one "POOL<tab>KEY<tab>VALUE" line per item; -j gives
 * [{"pool":..,"number":..,"items":[{"key":..,"value":..}]}].
 *
 * Each pool is read under one lock, a snapshot (kvp_pool_foreach()).  The
 * listing goes to memory first and to stdout once every pool is read: a
 * reader of our output that stops reading (a pager) must not keep the
 * pool's writers out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kvpctl.h"
#include "msg.h"
#include "pool.h"

struct kvpctl_listing {
	FILE *out;
	struct kvp_json json;
	int nr;			/* the pool being read */
};

static int kvpctl_list_item(const char *key, const char *value, void *arg)
{
	struct kvpctl_listing *list = arg;

	if (!kvpctl_opts.json) {
		fprintf(list->out, "%s\t%s\t%s\n", kvpctl_pool_name(list->nr),
			key, value);
		return 0;
	}
	kvp_json_open(&list->json, NULL, '{');
	kvp_json_str(&list->json, "key", key);
	kvp_json_str(&list->json, "value", value);
	kvp_json_close(&list->json, '}');
	return 0;
}

static int kvpctl_list_pool(struct kvpctl_listing *list, struct kvp_pool *pool)
{
	struct kvp_json *json = &list->json;
	int err;

	if (kvpctl_opts.json) {
		kvp_json_open(json, NULL, '{');
		kvp_json_str(json, "pool", kvpctl_pool_name(list->nr));
		kvp_json_uint(json, "number", list->nr);
		kvp_json_open(json, "items", '[');
	}
	err = kvp_pool_foreach(pool, kvpctl_list_item, list);
	if (kvpctl_opts.json) {
		kvp_json_close(json, ']');
		kvp_json_close(json, '}');
	}
	return kvpctl_pool_report(err, list->nr, "", NULL);
}

/* An unreadable pool is reported and skipped; the first failure is the exit code. */
int kvpctl_list(int argc, char **argv)
{
	int first = 0, last = KVP_POOL_COUNT - 1, ret = KVPCTL_OK, err;
	struct kvpctl_listing list;
	struct kvp_pool *pool;
	size_t len;
	char *text;

	if (argc > 1) {
		err = kvpctl_pool_start(argc, argv, "list [POOL]", KVP_POOL_READ,
					NULL, &first);
		if (err)
			return err;
		last = first;
	}
	list.out = open_memstream(&text, &len);
	if (!list.out) {
		fprintf(stderr, "kvpctl: %s\n", strerror(errno));
		return KVPCTL_ERR;
	}
	kvp_json_init(&list.json, list.out);
	if (kvpctl_opts.json)
		kvp_json_open(&list.json, NULL, '[');
	for (list.nr = first; list.nr <= last; list.nr++) {
		err = kvpctl_pool_open(&pool, list.nr, KVP_POOL_READ);
		if (!err) {
			err = kvpctl_list_pool(&list, pool);
			kvp_pool_close(pool);
		}
		if (!ret)
			ret = err;
	}
	if (kvpctl_opts.json)
		kvp_json_close(&list.json, ']');
	if (!fclose(list.out)) {
		fwrite(text, 1, len, stdout);
	} else {
		fprintf(stderr, "kvpctl: %s\n", strerror(errno));
		ret = KVPCTL_ERR;
	}
	free(text);
	return ret;
}
