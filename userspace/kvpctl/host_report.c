// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl host report [--csv]: one line per VM, connected or known from the
 * activation history: what its pool 2 says (name, OS, addresses) and its
 * licence.  Text, CSV (RFC 4180, a header line) or JSON (-j).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostctl.h"
#include "json.h"
#include "kvpctl.h"

/* CSV header and JSON member names, in wire order. */
static const char *const kvpctl_report_names[KVP_HC_REP_COLUMNS] = {
	[KVP_HC_REP_NAME] = "name",
	[KVP_HC_REP_VM_ID] = "vm_id",
	[KVP_HC_REP_CID] = "cid",
	[KVP_HC_REP_SOURCE] = "source",
	[KVP_HC_REP_FQDN] = "fqdn",
	[KVP_HC_REP_OS_NAME] = "os_name",
	[KVP_HC_REP_OS_VERSION] = "os_version",
	[KVP_HC_REP_ARCH] = "architecture",
	[KVP_HC_REP_IPV4] = "ipv4",
	[KVP_HC_REP_IPV6] = "ipv6",
	[KVP_HC_REP_STATE] = "state",
	[KVP_HC_REP_REASON] = "reason",
	[KVP_HC_REP_PRODUCT] = "product",
	[KVP_HC_REP_EDITION] = "edition",
	[KVP_HC_REP_VERSION] = "version",
	[KVP_HC_REP_ACTIVATION_ID] = "activation_id",
	[KVP_HC_REP_LAST_ACTIVATION] = "last_activation",
	[KVP_HC_REP_EXPIRES] = "expires",
	[KVP_HC_REP_ERROR] = "error",
};

static bool kvpctl_report_number(int col)
{
	return col == KVP_HC_REP_CID || col == KVP_HC_REP_LAST_ACTIVATION ||
	       col == KVP_HC_REP_EXPIRES;
}

static bool kvpctl_report_time(int col)
{
	return col == KVP_HC_REP_LAST_ACTIVATION || col == KVP_HC_REP_EXPIRES;
}

/* Numbers as numbers; empty ones (no CID, no activation) left out. */
static void kvpctl_report_json(struct kvp_json *json, const char **row)
{
	int col;

	kvp_json_open(json, NULL, '{');
	for (col = 0; col < KVP_HC_REP_COLUMNS; col++) {
		if (!kvpctl_report_number(col))
			kvp_json_str(json, kvpctl_report_names[col], row[col]);
		else if (row[col][0])
			kvp_json_uint(json, kvpctl_report_names[col],
				      strtoull(row[col], NULL, 10));
	}
	kvp_json_close(json, '}');
}

static void kvpctl_csv_field(const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* Times as ISO 8601 UTC, for people's spreadsheets. */
static void kvpctl_report_csv(const char **row)
{
	char when[32];
	int col;

	for (col = 0; col < KVP_HC_REP_COLUMNS; col++) {
		if (col)
			putchar(',');
		if (kvpctl_report_time(col) && row[col][0]) {
			kvpctl_host_time(row[col], when, sizeof(when));
			kvpctl_csv_field(when);
		} else {
			kvpctl_csv_field(row[col]);
		}
	}
	fputs("\r\n", stdout);
}

#define KVPCTL_REPORT_FMT "%-16s %-6s %-12s %-16s %-12s %-20s %-20s %-28s %-8s %s\n"

static void kvpctl_report_text(const char **row)
{
	char when[32] = "-", os[160];
	const char *state = row[KVP_HC_REP_STATE];

	if (row[KVP_HC_REP_LAST_ACTIVATION][0])
		kvpctl_host_time(row[KVP_HC_REP_LAST_ACTIVATION], when,
				 sizeof(when));
	if (!strcmp(row[KVP_HC_REP_SOURCE], "history"))
		state = "(history)";
	snprintf(os, sizeof(os), "%s %s", row[KVP_HC_REP_OS_NAME],
		 row[KVP_HC_REP_OS_VERSION]);
	printf(KVPCTL_REPORT_FMT, row[KVP_HC_REP_NAME],
	       row[KVP_HC_REP_CID][0] ? row[KVP_HC_REP_CID] : "-",
	       state[0] ? state : "-",
	       row[KVP_HC_REP_PRODUCT][0] ? row[KVP_HC_REP_PRODUCT] : "-",
	       row[KVP_HC_REP_EDITION][0] ? row[KVP_HC_REP_EDITION] : "-",
	       when, row[KVP_HC_REP_FQDN][0] ? row[KVP_HC_REP_FQDN] : "-",
	       os[1] ? os : "-",
	       row[KVP_HC_REP_ARCH][0] ? row[KVP_HC_REP_ARCH] : "-",
	       row[KVP_HC_REP_IPV4][0] ? row[KVP_HC_REP_IPV4] : "-");
}

static void kvpctl_report_print(const struct kvp_hostctl_msg *reply, bool csv)
{
	const char **row = reply->strings + 1;
	const char **end = reply->strings + reply->count;
	struct kvp_json json;
	int col;

	if (reply->columns != KVP_HC_REP_COLUMNS)
		return;
	if (kvpctl_opts.json) {
		kvp_json_init(&json, stdout);
		kvp_json_open(&json, NULL, '[');
		for (; row < end; row += KVP_HC_REP_COLUMNS)
			kvpctl_report_json(&json, row);
		kvp_json_close(&json, ']');
		return;
	}
	if (csv) {
		for (col = 0; col < KVP_HC_REP_COLUMNS; col++)
			printf("%s%s", col ? "," : "",
			       kvpctl_report_names[col]);
		fputs("\r\n", stdout);
		for (; row < end; row += KVP_HC_REP_COLUMNS)
			kvpctl_report_csv(row);
		return;
	}
	printf(KVPCTL_REPORT_FMT, "NAME", "CID", "STATE", "PRODUCT", "EDITION",
	       "LAST ACTIVATION", "FQDN", "OS", "ARCH", "IPV4");
	for (; row < end; row += KVP_HC_REP_COLUMNS)
		kvpctl_report_text(row);
}

/* argv[0] is "report". */
int kvpctl_host_report(int argc, char **argv)
{
	bool csv = argc == 2 && !strcmp(argv[1], "--csv");
	struct kvp_hostctl_msg reply;
	unsigned char *buf;
	int ret;

	if (argc != 1 && !csv)
		return KVPCTL_USAGE;
	if (csv && kvpctl_opts.json) {
		fprintf(stderr, "kvpctl: --csv and -j: choose one\n");
		return KVPCTL_USAGE;
	}
	ret = kvpctl_host_call(1, argv, &reply, &buf);
	if (ret)
		return ret;
	kvpctl_report_print(&reply, csv);
	return kvpctl_host_done(&reply, buf);
}
