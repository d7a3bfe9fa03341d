// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl host audit: each connected guest's licence items (pool 2) against
 * the grant they carry and this host's history, as kvp-hostd judges them.
 * Exit code KVPCTL_TAMPERED when any guest's items were found tampered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostctl.h"
#include "json.h"
#include "kvpctl.h"

static void kvpctl_audit_json(struct kvp_json *json, const char **row)
{
	kvp_json_open(json, NULL, '{');
	kvp_json_str(json, "name", row[KVP_HC_AUD_NAME]);
	kvp_json_uint(json, "cid", strtoull(row[KVP_HC_AUD_CID], NULL, 10));
	kvp_json_str(json, "verdict", row[KVP_HC_AUD_VERDICT]);
	kvp_json_str(json, "detail", row[KVP_HC_AUD_DETAIL]);
	if (row[KVP_HC_AUD_GRANT_ID][0]) {
		kvp_json_str(json, "grant_id", row[KVP_HC_AUD_GRANT_ID]);
		kvp_json_str(json, "host_id", row[KVP_HC_AUD_HOST_ID]);
		kvp_json_str(json, "host_name", row[KVP_HC_AUD_HOST_NAME]);
		kvp_json_str(json, "product", row[KVP_HC_AUD_PRODUCT]);
		kvp_json_str(json, "edition", row[KVP_HC_AUD_EDITION]);
		kvp_json_uint(json, "expires",
			      strtoull(row[KVP_HC_AUD_EXPIRES], NULL, 10));
	}
	kvp_json_close(json, '}');
}

static void kvpctl_audit_text(const char **row)
{
	printf("%-16s %-6s %-13s %s\n", row[KVP_HC_AUD_NAME],
	       row[KVP_HC_AUD_CID], row[KVP_HC_AUD_VERDICT],
	       row[KVP_HC_AUD_DETAIL][0] ? row[KVP_HC_AUD_DETAIL] : "-");
}

/* Prints the verdicts; returns the exit code they call for. */
static int kvpctl_audit_print(const struct kvp_hostctl_msg *reply)
{
	const char **row = reply->strings + 1;
	const char **end = reply->strings + reply->count;
	struct kvp_json json;
	int ret = KVPCTL_OK;

	if (reply->columns != KVP_HC_AUD_COLUMNS)
		return ret;
	if (kvpctl_opts.json) {
		kvp_json_init(&json, stdout);
		kvp_json_open(&json, NULL, '[');
	} else {
		printf("%-16s %-6s %-13s %s\n", "VM", "CID", "VERDICT",
		       "DETAIL");
	}
	for (; row < end; row += KVP_HC_AUD_COLUMNS) {
		if (kvpctl_opts.json)
			kvpctl_audit_json(&json, row);
		else
			kvpctl_audit_text(row);
		if (!strcmp(row[KVP_HC_AUD_VERDICT], "tampered"))
			ret = KVPCTL_TAMPERED;
		else if (!strcmp(row[KVP_HC_AUD_VERDICT], "unreadable") &&
			 !ret)
			ret = KVPCTL_ERR;
	}
	if (kvpctl_opts.json)
		kvp_json_close(&json, ']');
	return ret;
}

/* argv[0] is "audit". */
int kvpctl_host_audit(int argc, char **argv)
{
	struct kvp_hostctl_msg reply;
	unsigned char *buf;
	int ret, verdicts;

	if (argc != 1)
		return KVPCTL_USAGE;
	ret = kvpctl_host_call(argc, argv, &reply, &buf);
	if (ret)
		return ret;
	verdicts = kvpctl_audit_print(&reply);
	ret = kvpctl_host_done(&reply, buf);
	return ret ? ret : verdicts;
}
