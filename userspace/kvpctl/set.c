// SPDX-License-Identifier: GPL-2.0
/* kvpctl set POOL KEY VALUE: add the key or replace its value. */
#include "kvpctl.h"
#include "pool.h"

int kvpctl_set(int argc, char **argv)
{
	struct kvp_pool *pool;
	int nr, ret;

	ret = kvpctl_pool_start(argc, argv, "set POOL KEY VALUE",
				KVP_POOL_WRITE, &pool, &nr);
	if (ret)
		return ret;
	ret = kvp_pool_set(pool, argv[2], argv[3]);
	kvp_pool_close(pool);
	return kvpctl_pool_report(ret, nr, argv[2], argv[3]);
}
