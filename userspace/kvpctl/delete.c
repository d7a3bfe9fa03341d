// SPDX-License-Identifier: GPL-2.0
/* kvpctl delete POOL KEY */
#include "kvpctl.h"
#include "pool.h"

int kvpctl_delete(int argc, char **argv)
{
	struct kvp_pool *pool;
	int nr, ret;

	ret = kvpctl_pool_start(argc, argv, "delete POOL KEY", KVP_POOL_WRITE,
				&pool, &nr);
	if (ret)
		return ret;
	ret = kvp_pool_delete(pool, argv[2]);
	kvp_pool_close(pool);
	return kvpctl_pool_report(ret, nr, argv[2], NULL);
}
