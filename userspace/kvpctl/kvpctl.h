/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvpctl: one file per subcommand, like wg(8).  main.c parses the global
 * options into kvpctl_opts and hands the remaining words to a subcommand.
 */
#ifndef _KVPCTL_H
#define _KVPCTL_H

#include <stdbool.h>
#include <stddef.h>

/* Exit codes: stable, documented in Documentation/kvpctl.rst. */
enum kvpctl_exit {
	KVPCTL_OK = 0,
	KVPCTL_ERR = 1,		/* any other failure */
	KVPCTL_USAGE = 2,	/* bad command line */
	KVPCTL_TOO_LONG = 3,	/* key or value longer than a record allows */
	KVPCTL_BAD_POOL = 4,	/* unknown pool name or number */
	KVPCTL_NO_KEY = 5,	/* no such key (or VM, for host commands) */
	KVPCTL_PERM = 6,	/* no permission */
	KVPCTL_NO_MODULE = 7,	/* kvp module not loaded */
	KVPCTL_READ_ONLY = 8,	/* host-owned pool written without --force */
	KVPCTL_NO_DAEMON = 9,	/* kvp-hostd not reachable */
	KVPCTL_NO_VMBUS = 10,	/* no VMBus: not a Hyper-V guest */
	KVPCTL_NO_DEVICE = 11,	/* no KVP device on VMBus */
	KVPCTL_NO_DRIVER = 12,	/* a vmbus driver neither loaded nor loadable */
	KVPCTL_BIND_FAILED = 13,	/* sysfs bind or unbind did not happen */
	KVPCTL_TAMPERED = 14,	/* host audit: a guest's licence items lie */
	KVPCTL_OFF = 15,	/* host: activation or its history not served */
	/* license: */
	KVPCTL_BAD_PRODUCT_KEY = 20,	/* not 5 groups of 5 key characters */
	KVPCTL_NO_AVMA_KEY = 21,	/* activate: no AVMA key installed */
	KVPCTL_INVALID_HOST = 22,	/* activate: outcome Invalid Host */
	KVPCTL_INVALID_DATA = 23,	/* activate: outcome Invalid Data */
	KVPCTL_DENIED = 24,		/* activate: outcome Activation Denied */
};

#define KVPCTL_MAX_CATALOG_DIRS	8

struct kvpctl_opts {
	bool json;
	bool force;
	const char *pool_dir;
	const char *socket;
	const char *state_dir;		/* license: the guest's state */
	/* --catalog, in order, NULL-terminated; none: the defaults */
	const char *catalog_dirs[KVPCTL_MAX_CATALOG_DIRS + 1];
};

extern struct kvpctl_opts kvpctl_opts;

int kvpctl_status(int argc, char **argv);
int kvpctl_list(int argc, char **argv);
int kvpctl_get(int argc, char **argv);
int kvpctl_set(int argc, char **argv);
int kvpctl_delete(int argc, char **argv);
int kvpctl_host(int argc, char **argv);
int kvpctl_host_history(int argc, char **argv);
int kvpctl_host_report(int argc, char **argv);
int kvpctl_host_audit(int argc, char **argv);
int kvpctl_host_identity(int argc, char **argv);
int kvpctl_vmbus(int argc, char **argv);
int kvpctl_license(int argc, char **argv);
int kvpctl_vendor(int argc, char **argv);

/* license.c: the catalog of --catalog (or the defaults), or a message. */
struct kvp_catalog;
int kvpctl_catalog_load(struct kvp_catalog **catalog);

/* pool.c: POOL by name or number, and the exit code for an engine error. */
int kvpctl_parse_pool(const char *arg);
int kvpctl_exit_code(int err);
const char *kvpctl_pool_name(int nr);

/*
 * host.c, for the host commands in files of their own: one request and
 * its reply (0 or an exit code); then kvpctl_host_done() says what failed,
 * frees the reply and gives the exit code.
 */
struct kvp_hostctl_msg;
int kvpctl_host_call(int argc, char **argv, struct kvp_hostctl_msg *reply,
		     unsigned char **buf);
int kvpctl_host_done(struct kvp_hostctl_msg *reply, unsigned char *buf);
void kvpctl_host_time(const char *epoch, char *out, size_t size);

/*
 * pool.c, for list, get, set and delete.  Each says on stderr what went
 * wrong and returns an exit code, KVPCTL_OK if nothing did.
 * kvpctl_pool_start() checks the words against the usage line and the
 * pool argv[1] names, and opens it unless pool is NULL; opening one for
 * writing refuses a host-owned pool without --force.
 */
struct kvp_pool;
int kvpctl_pool_start(int argc, char **argv, const char *usage, int mode,
		      struct kvp_pool **pool, int *nr);
int kvpctl_pool_open(struct kvp_pool **pool, int nr, int mode);
int kvpctl_pool_report(int err, int nr, const char *key, const char *value);

#endif /* _KVPCTL_H */
