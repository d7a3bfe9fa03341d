// SPDX-License-Identifier: GPL-2.0
/* kvpctl host identity: kvp-hostd's host id and public key. */
#include <stdio.h>

#include "hostctl.h"
#include "json.h"
#include "kvpctl.h"

static void kvpctl_identity_print(const struct kvp_hostctl_msg *reply)
{
	const char **row = reply->strings + 1;
	struct kvp_json json;

	if (reply->columns != KVP_HC_ID_COLUMNS ||
	    reply->count != 1 + KVP_HC_ID_COLUMNS)
		return;
	if (!kvpctl_opts.json) {
		printf("host id:    %s\npublic key: %s\n",
		       row[KVP_HC_ID_HOST_ID], row[KVP_HC_ID_PUBLIC_KEY]);
		return;
	}
	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "host_id", row[KVP_HC_ID_HOST_ID]);
	kvp_json_str(&json, "public_key", row[KVP_HC_ID_PUBLIC_KEY]);
	kvp_json_close(&json, '}');
}

/* argv[0] is "identity". */
int kvpctl_host_identity(int argc, char **argv)
{
	struct kvp_hostctl_msg reply;
	unsigned char *buf;
	int ret;

	if (argc != 1)
		return KVPCTL_USAGE;
	ret = kvpctl_host_call(argc, argv, &reply, &buf);
	if (ret)
		return ret;
	kvpctl_identity_print(&reply);
	return kvpctl_host_done(&reply, buf);
}
