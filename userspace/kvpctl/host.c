// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl host: talk to kvp-hostd over its control socket (lib/hostctl.h)
 * about the guests it serves.  The daemon does the KVP work; this file
 * checks the words, sends them, and prints the reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostctl.h"
#include "isotime.h"
#include "json.h"
#include "kvpctl.h"

#define KVPCTL_HOST_KEY_MAX	511	/* bytes of UTF-8, as a pool record */
#define KVPCTL_HOST_VALUE_MAX	2047

/* Columns of a `list` row, in wire order (Documentation/kvp-hostd.rst). */
enum {
	KVPCTL_LIST_CID,
	KVPCTL_LIST_NAME,
	KVPCTL_LIST_UUID,
	KVPCTL_LIST_STATE,
	KVPCTL_LIST_FW,
	KVPCTL_LIST_MSG,
	KVPCTL_LIST_SINCE,
	KVPCTL_LIST_DONE,
	KVPCTL_LIST_FAILED,
	KVPCTL_LIST_COLUMNS,
};

/*
 * Sends the words, waits for the reply and decodes it into reply (whose
 * strings point into *buf: kvpctl_host_done() frees it).  Returns 0 or an
 * exit code.
 */
int kvpctl_host_call(int argc, char **argv,
			    struct kvp_hostctl_msg *reply,
			    unsigned char **buf)
{
	int err;

	err = kvp_hostctl_call(kvpctl_opts.socket, argc, argv, reply, buf);
	switch (err) {
	case 0:
		return KVPCTL_OK;
	case -ENAMETOOLONG:
		fprintf(stderr, "kvpctl: socket path too long: %s\n",
			kvpctl_opts.socket);
		return KVPCTL_USAGE;
	case -EPROTO:
		fprintf(stderr, "kvpctl: no valid reply from kvp-hostd at %s\n",
			kvpctl_opts.socket);
		return KVPCTL_ERR;
	default:
		fprintf(stderr, "kvpctl: cannot reach kvp-hostd at %s: %s\n",
			kvpctl_opts.socket, strerror(-err));
		return err == -EACCES || err == -EPERM ? KVPCTL_PERM :
							 KVPCTL_NO_DAEMON;
	}
}

static int kvpctl_host_exit(const struct kvp_hostctl_msg *reply)
{
	switch (reply->status) {
	case KVP_HOSTCTL_OK:
		return KVPCTL_OK;
	case KVP_HOSTCTL_USAGE:
		return KVPCTL_USAGE;
	case KVP_HOSTCTL_TOO_LONG:
		return KVPCTL_TOO_LONG;
	case KVP_HOSTCTL_BAD_POOL:
		return KVPCTL_BAD_POOL;
	case KVP_HOSTCTL_NO_VM:
	case KVP_HOSTCTL_NO_KEY:
		return KVPCTL_NO_KEY;
	case KVP_HOSTCTL_OFF:
		return KVPCTL_OFF;
	default:
		return KVPCTL_ERR;
	}
}

/* The daemon's message, and the guest's status word when it failed. */
static void kvpctl_host_complain(const struct kvp_hostctl_msg *reply)
{
	if (reply->status == KVP_HOSTCTL_OK)
		return;
	if (reply->status == KVP_HOSTCTL_GUEST)
		fprintf(stderr, "kvpctl: %s: status 0x%08x\n",
			reply->strings[0], reply->hresult);
	else
		fprintf(stderr, "kvpctl: %s\n", reply->strings[0]);
}

/* Says what the daemon said if it failed; the exit code; frees all. */
int kvpctl_host_done(struct kvp_hostctl_msg *reply, unsigned char *buf)
{
	int ret;

	kvpctl_host_complain(reply);
	ret = kvpctl_host_exit(reply);
	free(reply->strings);
	free(buf);
	return ret;
}

/* Seconds since the epoch, in decimal, as ISO 8601 UTC. */
void kvpctl_host_time(const char *epoch, char *out, size_t size)
{
	char text[KVP_TIME_TEXT_LEN + 1];

	kvp_time_text(strtoull(epoch, NULL, 10), text);
	snprintf(out, size, "%s", text[0] ? text : epoch);
}

static void kvpctl_host_list_json(const char **row, struct kvp_json *json)
{
	kvp_json_open(json, NULL, '{');
	kvp_json_uint(json, "cid", strtoull(row[KVPCTL_LIST_CID], NULL, 10));
	kvp_json_str(json, "name", row[KVPCTL_LIST_NAME]);
	kvp_json_str(json, "uuid", row[KVPCTL_LIST_UUID]);
	kvp_json_str(json, "state", row[KVPCTL_LIST_STATE]);
	if (row[KVPCTL_LIST_FW][0]) {
		kvp_json_str(json, "framework", row[KVPCTL_LIST_FW]);
		kvp_json_str(json, "message", row[KVPCTL_LIST_MSG]);
	}
	kvp_json_uint(json, "connected",
		      strtoull(row[KVPCTL_LIST_SINCE], NULL, 10));
	kvp_json_uint(json, "done", strtoull(row[KVPCTL_LIST_DONE], NULL, 10));
	kvp_json_uint(json, "failed",
		      strtoull(row[KVPCTL_LIST_FAILED], NULL, 10));
	kvp_json_close(json, '}');
}

static void kvpctl_host_list_text(const char **row)
{
	char since[32];

	kvpctl_host_time(row[KVPCTL_LIST_SINCE], since, sizeof(since));
	printf("%-6s %-16s %-11s %-4s %-4s %-20s %6s %6s %s\n",
	       row[KVPCTL_LIST_CID], row[KVPCTL_LIST_NAME],
	       row[KVPCTL_LIST_STATE],
	       row[KVPCTL_LIST_FW][0] ? row[KVPCTL_LIST_FW] : "-",
	       row[KVPCTL_LIST_MSG][0] ? row[KVPCTL_LIST_MSG] : "-", since,
	       row[KVPCTL_LIST_DONE], row[KVPCTL_LIST_FAILED],
	       row[KVPCTL_LIST_UUID]);
}

static void kvpctl_host_print_list(const struct kvp_hostctl_msg *reply,
				   int pool)
{
	const char **row = reply->strings + 1;
	const char **end = reply->strings + reply->count;
	struct kvp_json json;

	(void)pool;	/* a list has none */
	if (reply->columns != KVPCTL_LIST_COLUMNS)
		return;
	if (kvpctl_opts.json) {
		kvp_json_init(&json, stdout);
		kvp_json_open(&json, NULL, '[');
		for (; row < end; row += KVPCTL_LIST_COLUMNS)
			kvpctl_host_list_json(row, &json);
		kvp_json_close(&json, ']');
		return;
	}
	printf("%-6s %-16s %-11s %-4s %-4s %-20s %6s %6s %s\n", "CID", "NAME",
	       "STATE", "FW", "KVP", "CONNECTED", "DONE", "FAILED", "UUID");
	for (; row < end; row += KVPCTL_LIST_COLUMNS)
		kvpctl_host_list_text(row);
}

static void kvpctl_host_item_json(struct kvp_json *json, const char **row)
{
	kvp_json_str(json, "key", row[0]);
	kvp_json_str(json, "value", row[1]);
}

/* As `kvpctl get` prints a guest's item, so one reader fits both. */
static void kvpctl_host_print_get(const struct kvp_hostctl_msg *reply,
				  int pool)
{
	struct kvp_json json;

	if (reply->columns != 2 || reply->count < 3)
		return;
	if (!kvpctl_opts.json) {
		printf("%s\n", reply->strings[2]);
		return;
	}
	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "pool", kvpctl_pool_name(pool));
	kvpctl_host_item_json(&json, reply->strings + 1);
	kvp_json_close(&json, '}');
}

/*
 * As `kvpctl list POOL` prints one pool (text without the pool column).
 * All rows, also those before a failure part way through the pool.
 */
static void kvpctl_host_print_enum(const struct kvp_hostctl_msg *reply,
				   int pool)
{
	const char **row = reply->strings + 1;
	const char **end = reply->strings + reply->count;
	struct kvp_json json;

	if (reply->columns != 2)
		return;
	if (!kvpctl_opts.json) {
		for (; row < end; row += 2)
			printf("%s\t%s\n", row[0], row[1]);
		return;
	}
	kvp_json_init(&json, stdout);
	kvp_json_open(&json, NULL, '{');
	kvp_json_str(&json, "pool", kvpctl_pool_name(pool));
	kvp_json_uint(&json, "number", pool);
	kvp_json_open(&json, "items", '[');
	for (; row < end; row += 2) {
		kvp_json_open(&json, NULL, '{');
		kvpctl_host_item_json(&json, row);
		kvp_json_close(&json, '}');
	}
	kvp_json_close(&json, ']');
	kvp_json_close(&json, '}');
}

/* The activation commands have their own files and words. */
static const struct {
	const char *name;
	int argc;		/* words after "host" */
	void (*print)(const struct kvp_hostctl_msg *reply, int pool);
	int (*run)(int argc, char **argv);
} kvpctl_host_commands[] = {
	{ "list", 1, kvpctl_host_print_list, NULL },
	{ "get", 4, kvpctl_host_print_get, NULL },
	{ "set", 5, NULL, NULL },
	{ "delete", 4, NULL, NULL },
	{ "enum", 3, kvpctl_host_print_enum, NULL },
	{ "history", 0, NULL, kvpctl_host_history },
	{ "report", 0, NULL, kvpctl_host_report },
	{ "audit", 0, NULL, kvpctl_host_audit },
	{ "identity", 0, NULL, kvpctl_host_identity },
};

#define KVPCTL_HOST_USAGE \
	"usage: kvpctl host list | get VM POOL KEY | set VM POOL KEY VALUE |\n" \
	"         delete VM POOL KEY | enum VM POOL |\n" \
	"         history [VM] [--since TIME] | report [--csv] | audit | identity\n"


/*
 * Checks what the daemon would refuse anyway, so that the answer does not
 * depend on a daemon being there.  The pool goes out as its number, *pool.
 */
static int kvpctl_host_check(int argc, char **argv, char *word, size_t size,
			     int *pool)
{
	if (argc < 3)
		return KVPCTL_OK;
	*pool = kvpctl_parse_pool(argv[2]);
	if (*pool < 0) {
		fprintf(stderr, "kvpctl: unknown pool '%s'\n", argv[2]);
		return KVPCTL_BAD_POOL;
	}
	snprintf(word, size, "%d", *pool);
	argv[2] = word;
	if (argc > 3 && !argv[3][0]) {
		fprintf(stderr, "kvpctl: the key is empty\n");
		return KVPCTL_USAGE;
	}
	if (argc > 3 && strlen(argv[3]) > KVPCTL_HOST_KEY_MAX) {
		fprintf(stderr, "kvpctl: key longer than %d bytes\n",
			KVPCTL_HOST_KEY_MAX);
		return KVPCTL_TOO_LONG;
	}
	if (argc > 4 && strlen(argv[4]) > KVPCTL_HOST_VALUE_MAX) {
		fprintf(stderr, "kvpctl: value longer than %d bytes\n",
			KVPCTL_HOST_VALUE_MAX);
		return KVPCTL_TOO_LONG;
	}
	return KVPCTL_OK;
}

/* argv[0] is "host", argv[1] the command. */
int kvpctl_host(int argc, char **argv)
{
	size_t i, n = sizeof(kvpctl_host_commands) / sizeof(kvpctl_host_commands[0]);
	struct kvp_hostctl_msg reply;
	unsigned char *buf;
	char word[12];
	int ret, pool = -1;

	for (i = 0; argc > 1 && i < n; i++)
		if (!strcmp(argv[1], kvpctl_host_commands[i].name))
			break;
	if (argc > 1 && i < n && kvpctl_host_commands[i].run) {
		ret = kvpctl_host_commands[i].run(argc - 1, argv + 1);
		if (ret == KVPCTL_USAGE)
			fputs(KVPCTL_HOST_USAGE, stderr);
		return ret;
	}
	if (argc < 2 || i == n || argc - 1 != kvpctl_host_commands[i].argc) {
		fputs(KVPCTL_HOST_USAGE, stderr);
		return KVPCTL_USAGE;
	}
	ret = kvpctl_host_check(argc - 1, argv + 1, word, sizeof(word), &pool);
	if (ret)
		return ret;
	ret = kvpctl_host_call(argc - 1, argv + 1, &reply, &buf);
	if (ret)
		return ret;
	if (kvpctl_host_commands[i].print)
		kvpctl_host_commands[i].print(&reply, pool);
	return kvpctl_host_done(&reply, buf);
}
