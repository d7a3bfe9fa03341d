// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl list [POOL]: the items of one pool, or of all five, in file order.
 * Text is one "POOL<tab>KEY<tab>VALUE" line per item; -j gives
 * [{"pool":..,"number":..,"items":[{"key":..,"value":..}]}].
 */
#include <errno.h>
#include <stdio.h>

#include "json.h"
#include "kvpctl.h"
#include "msg.h"
#include "pool.h"

static void kvpctl_list_item(struct kvp_json *json, int nr, const char *key,
			     const char *value)
{
	if (!kvpctl_opts.json) {
		printf("%s\t%s\t%s\n", kvpctl_pool_name(nr), key, value);
		return;
	}
	kvp_json_open(json, NULL, '{');
	kvp_json_str(json, "key", key);
	kvp_json_str(json, "value", value);
	kvp_json_close(json, '}');
}

static int kvpctl_list_pool(struct kvp_json *json, struct kvp_pool *pool,
			    int nr)
{
	char key[KVP_POOL_KEY], value[KVP_POOL_VALUE];
	unsigned int i;
	int err;

	if (kvpctl_opts.json) {
		kvp_json_open(json, NULL, '{');
		kvp_json_str(json, "pool", kvpctl_pool_name(nr));
		kvp_json_uint(json, "number", nr);
		kvp_json_open(json, "items", '[');
	}
	for (i = 0; !(err = kvp_pool_enumerate(pool, i, key, value)); i++)
		kvpctl_list_item(json, nr, key, value);
	if (kvpctl_opts.json) {
		kvp_json_close(json, ']');
		kvp_json_close(json, '}');
	}
	return err == -ENOENT ? KVPCTL_OK : kvpctl_pool_report(err, nr, "", NULL);
}

/* An unreadable pool is reported and skipped; the first failure is the exit code. */
int kvpctl_list(int argc, char **argv)
{
	int nr, first = 0, last = KVP_POOL_COUNT - 1, ret = KVPCTL_OK, err;
	struct kvp_pool *pool;
	struct kvp_json json;

	if (argc > 1) {
		err = kvpctl_pool_start(argc, argv, "list [POOL]", KVP_POOL_READ,
					NULL, &first);
		if (err)
			return err;
		last = first;
	}
	kvp_json_init(&json, stdout);
	if (kvpctl_opts.json)
		kvp_json_open(&json, NULL, '[');
	for (nr = first; nr <= last; nr++) {
		err = kvpctl_pool_open(&pool, nr, KVP_POOL_READ);
		if (!err) {
			err = kvpctl_list_pool(&json, pool, nr);
			kvp_pool_close(pool);
		}
		if (!ret)
			ret = err;
	}
	if (kvpctl_opts.json)
		kvp_json_close(&json, ']');
	return ret;
}
