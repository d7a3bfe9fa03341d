// SPDX-License-Identifier: GPL-2.0
/*
 * kvpctl: administer KVP pools in a guest and, with `kvpctl host`, the
 * guests of a kvp-hostd host.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "kvpctl.h"
#include "license.h"
#include "log.h"
#include "pool.h"

struct kvpctl_opts kvpctl_opts = {
	.pool_dir = KVP_POOL_DIR,
	.socket = "/run/kvp-hostd.sock",
};

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} kvpctl_commands[] = {
	{ "status", kvpctl_status, "status" },
	{ "list", kvpctl_list, "list [POOL]" },
	{ "get", kvpctl_get, "get POOL KEY" },
	{ "set", kvpctl_set, "set POOL KEY VALUE" },
	{ "delete", kvpctl_delete, "delete POOL KEY" },
	{ "vmbus", kvpctl_vmbus, "vmbus claim | release | status" },
	{ "license", kvpctl_license, "license install-key KEY | activate [--vm-id UUID] | status | events | uninstall-key | catalog" },
	{ "vendor", kvpctl_vendor, "vendor keygen FILE | sign-license --key FILE --product P --version V --edition E --host-key BASE64 [--not-after T] [-o FILE]" },
	{ "host", kvpctl_host, "host list | get VM POOL KEY | set VM POOL KEY VALUE | delete VM POOL KEY | enum VM POOL" },
};

static int kvpctl_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: kvpctl [-j] [-f] [--pool-dir DIR] [--socket PATH] [--state-dir DIR] [--catalog DIR]... COMMAND ...\n");
	for (i = 0; i < sizeof(kvpctl_commands) / sizeof(kvpctl_commands[0]); i++)
		fprintf(out, "       kvpctl %s\n", kvpctl_commands[i].usage);
	fprintf(out, "POOL: external|0 guest|1 auto|2 auto-external|3 auto-internal|4\n");
	return out == stdout ? KVPCTL_OK : KVPCTL_USAGE;
}

/* Output that could not be written is a failure, not a success. */
static int kvpctl_flush(int ret)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "kvpctl: cannot write the output: %s\n",
			strerror(errno));
		return ret ? ret : KVPCTL_ERR;
	}
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "pool-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "catalog", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int nr_catalogs = 0;
	size_t i;
	int c;

	kvp_log_init("kvpctl", 0, 0);
	kvpctl_opts.state_dir = kvp_guest_default_dir();
	while ((c = getopt_long(argc, argv, "+jfh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			kvpctl_opts.json = true;
			break;
		case 'f':
			kvpctl_opts.force = true;
			break;
		case 'd':
			kvpctl_opts.pool_dir = optarg;
			break;
		case 's':
			kvpctl_opts.socket = optarg;
			break;
		case 'S':
			kvpctl_opts.state_dir = optarg;
			break;
		case 'c':
			if (nr_catalogs == KVPCTL_MAX_CATALOG_DIRS) {
				fprintf(stderr, "kvpctl: at most %d --catalog\n",
					KVPCTL_MAX_CATALOG_DIRS);
				return KVPCTL_USAGE;
			}
			kvpctl_opts.catalog_dirs[nr_catalogs++] = optarg;
			break;
		case 'h':
			return kvpctl_usage(stdout);
		default:
			return kvpctl_usage(stderr);
		}
	}
	if (optind >= argc)
		return kvpctl_usage(stderr);
	for (i = 0; i < sizeof(kvpctl_commands) / sizeof(kvpctl_commands[0]); i++)
		if (!strcmp(argv[optind], kvpctl_commands[i].name))
			return kvpctl_flush(kvpctl_commands[i].run(argc - optind,
								   argv + optind));
	fprintf(stderr, "kvpctl: unknown command '%s'\n", argv[optind]);
	return kvpctl_usage(stderr);
}
