// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl host history [VM] [--since TIME]: kvp-hostd's activation history,
 * oldest first.  TIME is unix seconds or ISO 8601; the daemon is sent
 * seconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostctl.h"
#include "isotime.h"
#include "json.h"
#include "kvpctl.h"

static void kvpctl_history_json(struct kvp_json *json, const char **row)
{
	kvp_json_open(json, NULL, '{');
	kvp_json_uint(json, "time",
		      strtoull(row[KVP_HC_HIST_TIME], NULL, 10));
	kvp_json_str(json, "vm_id", row[KVP_HC_HIST_VM_ID]);
	kvp_json_str(json, "vm_name", row[KVP_HC_HIST_VM_NAME]);
	kvp_json_uint(json, "cid", strtoull(row[KVP_HC_HIST_CID], NULL, 10));
	kvp_json_str(json, "product", row[KVP_HC_HIST_PRODUCT]);
	kvp_json_str(json, "version", row[KVP_HC_HIST_VERSION]);
	kvp_json_str(json, "edition", row[KVP_HC_HIST_EDITION]);
	kvp_json_str(json, "outcome", row[KVP_HC_HIST_OUTCOME_NAME]);
	kvp_json_uint(json, "outcome_code",
		      strtoull(row[KVP_HC_HIST_OUTCOME], NULL, 10));
	kvp_json_str(json, "reason", row[KVP_HC_HIST_REASON_NAME]);
	kvp_json_uint(json, "reason_code",
		      strtoull(row[KVP_HC_HIST_REASON], NULL, 10));
	kvp_json_str(json, "grant_id", row[KVP_HC_HIST_GRANT_ID]);
	kvp_json_uint(json, "expires",
		      strtoull(row[KVP_HC_HIST_EXPIRES], NULL, 10));
	kvp_json_str(json, "nonce", row[KVP_HC_HIST_NONCE]);
	kvp_json_close(json, '}');
}

static void kvpctl_history_text(const char **row)
{
	char when[32];

	kvpctl_host_time(row[KVP_HC_HIST_TIME], when, sizeof(when));
	printf("%-20s %-16s %-6s %-16s %-8s %-12s %-17s %-13s %s\n", when,
	       row[KVP_HC_HIST_VM_NAME], row[KVP_HC_HIST_CID],
	       row[KVP_HC_HIST_PRODUCT], row[KVP_HC_HIST_VERSION],
	       row[KVP_HC_HIST_EDITION], row[KVP_HC_HIST_OUTCOME_NAME],
	       row[KVP_HC_HIST_REASON_NAME],
	       row[KVP_HC_HIST_GRANT_ID][0] ? row[KVP_HC_HIST_GRANT_ID] : "-");
}

/* Also the rows before a failure part way (a reply cut short). */
static void kvpctl_history_print(const struct kvp_hostctl_msg *reply)
{
	const char **row = reply->strings + 1;
	const char **end = reply->strings + reply->count;
	struct kvp_json json;

	if (reply->columns != KVP_HC_HIST_COLUMNS)
		return;
	if (kvpctl_opts.json) {
		kvp_json_init(&json, stdout);
		kvp_json_open(&json, NULL, '[');
		for (; row < end; row += KVP_HC_HIST_COLUMNS)
			kvpctl_history_json(&json, row);
		kvp_json_close(&json, ']');
		return;
	}
	printf("%-20s %-16s %-6s %-16s %-8s %-12s %-17s %-13s %s\n", "TIME",
	       "VM", "CID", "PRODUCT", "VERSION", "EDITION", "OUTCOME",
	       "REASON", "GRANT");
	for (; row < end; row += KVP_HC_HIST_COLUMNS)
		kvpctl_history_text(row);
}

/*
 * The daemon's words: history [VM] [--since SECONDS].  argv[0] is
 * "history"; words[] has room for 4, since[] for the seconds.
 */
static int kvpctl_history_words(int argc, char **argv, char **words,
				int *n, char *since, size_t size)
{
	int64_t t;
	int i = 1;

	words[0] = argv[0];
	*n = 1;
	if (i < argc && strcmp(argv[i], "--since")) {
		if (!argv[i][0]) {
			fprintf(stderr, "kvpctl: the VM is empty\n");
			return KVPCTL_USAGE;
		}
		words[(*n)++] = argv[i++];
	}
	if (i == argc)
		return KVPCTL_OK;
	if (strcmp(argv[i], "--since") || i + 2 != argc)
		return KVPCTL_USAGE;
	if (kvp_iso_time_parse(argv[i + 1], &t) || t < 0) {
		fprintf(stderr,
			"kvpctl: --since '%s': not unix seconds nor an ISO 8601 date (2026-12-02, 2026-12-02T13:00:00Z)\n",
			argv[i + 1]);
		return KVPCTL_USAGE;
	}
	snprintf(since, size, "%" PRId64, t);
	words[(*n)++] = argv[i];
	words[(*n)++] = since;
	return KVPCTL_OK;
}

int kvpctl_host_history(int argc, char **argv)
{
	struct kvp_hostctl_msg reply;
	char since[24], *words[4];
	unsigned char *buf;
	int n, ret;

	ret = kvpctl_history_words(argc, argv, words, &n, since,
				   sizeof(since));
	if (ret)
		return ret;
	ret = kvpctl_host_call(n, words, &reply, &buf);
	if (ret)
		return ret;
	kvpctl_history_print(&reply);
	return kvpctl_host_done(&reply, buf);
}
