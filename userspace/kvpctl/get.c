// SPDX-License-Identifier: GPL-2.0
/* kvpctl get POOL KEY: one value, straight from the pool file. */
#include <stdio.h>

#include "json.h"
#include "kvpctl.h"
#include "pool.h"

int kvpctl_get(int argc, char **argv)
{
	char value[KVP_POOL_VALUE];
	struct kvp_pool *pool;
	struct kvp_json json;
	int nr, ret;

	ret = kvpctl_pool_start(argc, argv, "get POOL KEY", KVP_POOL_READ,
				&pool, &nr);
	if (ret)
		return ret;
	ret = kvp_pool_get(pool, argv[2], value);
	kvp_pool_close(pool);
	if (ret)
		return kvpctl_pool_report(ret, nr, argv[2], NULL);
	if (!kvpctl_opts.json) {
		printf("%s\n", value);
		return KVPCTL_OK;
	}
	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "pool", kvpctl_pool_name(nr));
	kvp_json_str(&json, "key", argv[2]);
	kvp_json_str(&json, "value", value);
	kvp_json_close(&json, '}');
	return KVPCTL_OK;
}
