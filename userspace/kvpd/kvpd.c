// SPDX-License-Identifier: GPL-2.0
/*
 * kvpd: the guest KVP daemon.  Registers with kvp.ko over generic netlink
 * and answers host requests from the pool files, or, for pool 2, from the
 * guest's intrinsic items; activates the guest's licence (activation.c)
 * when an AVMA key is installed.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activation.h"
#include "ic.h"
#include "intrinsic.h"
#include "license.h"
#include "log.h"
#include "msg.h"
#include "nl.h"
#include "pool.h"

/* How often an idle daemon checks that it is still the registered one. */
#define KVPD_CHECK_MS		2000
#define KVPD_RETRY_MS		1000
#define KVPD_MAX_CATALOG_DIRS	8

struct kvpd {
	const char *pool_dir;
	struct kvp_pool *pools[KVP_POOL_COUNT];
	struct kvp_nl *nl;
	sigset_t waitmask;		/* what ppoll() lets through */
	char key[KVP_POOL_KEY];
	char value[KVP_POOL_VALUE];
};

static volatile sig_atomic_t kvpd_stop;

static void kvpd_on_signal(int sig)
{
	(void)sig;
	kvpd_stop = 1;
}

/*
 * A missing key or an index past the end is the host's "no more items"; a
 * SET that failed (even for a missing directory) is a failure.
 */
static uint32_t kvpd_status(int err, uint32_t op)
{
	if (!err)
		return KVP_S_OK;
	return err == -ENOENT && op != KVP_OP_SET ? KVP_S_CONT : KVP_E_FAIL;
}

static int kvpd_lookup(struct kvpd *d, const struct kvp_nl_request *req)
{
	struct kvp_pool *pool = d->pools[req->pool];

	switch (req->op) {
	case KVP_OP_GET:
		if (req->pool == KVP_POOL_AUTO)
			return kvp_intrinsic_get(req->key, d->value);
		return kvp_pool_get(pool, req->key, d->value);
	case KVP_OP_ENUMERATE:
		if (req->pool == KVP_POOL_AUTO)
			return kvp_intrinsic_enumerate(req->index, d->key,
						       d->value);
		return kvp_pool_enumerate(pool, req->index, d->key, d->value);
	case KVP_OP_SET:
		return kvp_pool_set(pool, req->key, req->value);
	case KVP_OP_DELETE:
		return kvp_pool_delete(pool, req->key);
	default:
		return -EOPNOTSUPP;
	}
}

static void kvpd_on_request(struct kvp_nl *nl, const struct kvp_nl_request *req,
			    void *arg)
{
	struct kvpd *d = arg;
	const char *key = NULL, *value = NULL;
	uint32_t status;
	int err;

	if (req->pool >= KVP_POOL_COUNT) {
		err = -EINVAL;
	} else {
		err = kvpd_lookup(d, req);
		if (err && err != -ENOENT)
			kvp_warn("op %u on pool %u (key '%s'): %s", req->op,
				 req->pool, req->key, strerror(-err));
	}
	status = kvpd_status(err, req->op);
	if (status == KVP_S_OK && req->op == KVP_OP_ENUMERATE)
		key = d->key;
	if (status == KVP_S_OK &&
	    (req->op == KVP_OP_ENUMERATE || req->op == KVP_OP_GET))
		value = d->value;
	kvp_dbg("request %u: op %u pool %u index %u key '%s' -> 0x%08x",
		req->id, req->op, req->pool, req->index, req->key, status);
	err = kvp_nl_reply(nl, req->id, status, key, value);
	if (err)
		kvp_warn("cannot reply to request %u: %s", req->id,
			 strerror(-err));
}

static int kvpd_open_pools(struct kvpd *d)
{
	int i, err;

	for (i = 0; i < KVP_POOL_COUNT; i++) {
		err = kvp_pool_open(&d->pools[i], d->pool_dir, i,
				    KVP_POOL_WRITE);
		if (err) {
			kvp_err("cannot open pool %d in %s: %s", i,
				d->pool_dir, strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * Registration refused: who holds the service.  The kernel's message names
 * it (/dev/vmbus/hv_kvp or netlink); kernels before 6.2 cannot put the pid
 * in it, so it is added from the status.
 */
static void kvpd_say_busy(struct kvp_nl *nl)
{
	const char *why = kvp_nl_error_message(nl);
	struct kvp_nl_status st;
	char pid[16];

	if (!*why)
		why = "another KVP daemon is registered";
	if (kvp_nl_status(nl, &st) || !st.daemon_pid) {
		kvp_err("cannot register: %s", why);
		return;
	}
	snprintf(pid, sizeof(pid), "%u", st.daemon_pid);
	if (strstr(why, pid))
		kvp_err("cannot register: %s", why);
	else
		kvp_err("cannot register: %s (%s daemon, pid %s)", why,
			st.daemon_kind, pid);
}

/* A host connected on the activation service: it re-validates us. */
static void kvpd_on_event(struct kvp_nl *nl, uint32_t service, uint32_t state,
			  void *arg)
{
	(void)nl;
	(void)arg;
	if (service == KVP_SERVICE_ACTIVATION && state == KVP_STATE_NEGOTIATED)
		kvpd_activation_poke();
}

/*
 * Events tell a host's arrival; a module without them (an older kvp.ko)
 * still serves KVP, and the lease is still renewed on time.  Joined before
 * registering: resolving the group is a request of its own on this
 * socket, and a host request arriving meanwhile would be taken for its
 * answer (and lost).
 */
static void kvpd_subscribe(struct kvpd *d)
{
	int err = kvp_nl_subscribe_events(d->nl, kvpd_on_event, d);

	if (err)
		kvp_warn("no activation events from the kvp module (%s): renewal on schedule only",
			 strerror(-err));
}

/*
 * Connects and registers, waiting for the module if it is not loaded yet.
 * Returns 0, or a negative errno for what waiting cannot fix.
 */
static int kvpd_register(struct kvpd *d)
{
	const struct timespec retry = {
		.tv_sec = KVPD_RETRY_MS / 1000,
		.tv_nsec = KVPD_RETRY_MS % 1000 * 1000000L,
	};
	bool told = false;
	int err;

	while (!kvpd_stop) {
		kvp_nl_close(d->nl);
		d->nl = NULL;
		err = kvp_nl_open(&d->nl);
		if (!err) {
			kvpd_subscribe(d);
			err = kvp_nl_register(d->nl, kvpd_on_request, d);
		}
		if (!err) {
			kvp_info("registered with the kvp module");
			/* A module (re)loaded may have a host already. */
			kvpd_activation_poke();
			return 0;
		}
		if (err == -EBUSY) {
			kvpd_say_busy(d->nl);
			return err;
		}
		if (err == -EPERM || err == -EACCES) {
			kvp_err("registering needs CAP_NET_ADMIN");
			return err;
		}
		if (!told)
			kvp_info("waiting for the kvp module (%s)",
				 strerror(-err));
		told = true;
		ppoll(NULL, 0, &retry, &d->waitmask);
	}
	return -EINTR;
}

/* Still us?  The module may have been reloaded under us. */
static bool kvpd_registered(struct kvpd *d)
{
	struct kvp_nl_status status;

	return !kvp_nl_status(d->nl, &status) &&
	       status.daemon_pid == (uint32_t)getpid();
}

/*
 * SIGTERM and SIGINT are blocked but while waiting in ppoll(), so a signal
 * that comes between the check of kvpd_stop and the wait still ends it.
 */
static int kvpd_run(struct kvpd *d)
{
	const struct timespec check = {
		.tv_sec = KVPD_CHECK_MS / 1000,
		.tv_nsec = KVPD_CHECK_MS % 1000 * 1000000L,
	};
	struct pollfd pfd = { .events = POLLIN };
	int err, n;

	err = kvpd_register(d);
	while (!err && !kvpd_stop) {
		pfd.fd = kvp_nl_fd(d->nl);
		n = ppoll(&pfd, 1, &check, &d->waitmask);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			err = kvp_nl_receive(d->nl);
		if (err || (n == 0 && !kvpd_registered(d))) {
			kvp_warn("lost the kvp module; registering again");
			err = kvpd_register(d);
		}
	}
	return kvpd_stop ? 0 : err;
}

static char *kvpd_absolute(const char *dir)
{
	char cwd[PATH_MAX], *path;

	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&path, "%s/%s", cwd, dir) < 0) {
		kvp_err("cannot resolve %s: %s", dir, strerror(errno));
		return NULL;
	}
	return path;
}

static void kvpd_usage(FILE *out)
{
	fprintf(out,
		"usage: kvpd [-n] [-d] [--pool-dir DIR] [--state-dir DIR] [--catalog DIR]... [--vm-id UUID]\n"
		"  -n, --no-daemon   stay in the foreground, log to stderr\n"
		"  -d, --debug       log every request\n"
		"      --pool-dir    pool file directory (default %s)\n"
		"      --state-dir   licence state directory (default %s)\n"
		"      --catalog     product catalog directory, in order (default %s %s)\n"
		"      --vm-id       the VM id activation sends (default: DMI product UUID, else machine-id)\n",
		KVP_POOL_DIR, KVP_STATE_DIR, KVP_CATALOG_DIR, KVP_CATALOG_DROPIN);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "no-daemon", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "pool-dir", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "catalog", required_argument, NULL, 'c' },
		{ "vm-id", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kvpd d = { .pool_dir = KVP_POOL_DIR };
	struct sigaction sa = { .sa_handler = kvpd_on_signal };
	const char *catalogs[KVPD_MAX_CATALOG_DIRS + 1] = { NULL };
	struct kvpd_activation_opts act = { .state_dir = KVP_STATE_DIR };
	bool foreground = false, debug = false;
	unsigned int nr_catalogs = 0;
	char *pool_dir = NULL, *state_dir = NULL;
	sigset_t stop;
	int c, i, err;

	while ((c = getopt_long(argc, argv, "ndh", options, NULL)) != -1) {
		switch (c) {
		case 'n':
			foreground = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'p':
			d.pool_dir = optarg;
			break;
		case 'S':
			act.state_dir = optarg;
			break;
		case 'c':
			if (nr_catalogs == KVPD_MAX_CATALOG_DIRS) {
				fprintf(stderr, "kvpd: at most %d --catalog\n",
					KVPD_MAX_CATALOG_DIRS);
				return 2;
			}
			catalogs[nr_catalogs++] = optarg;
			break;
		case 'V':
			if (kvp_uuid_parse(optarg, act.vm_id)) {
				fprintf(stderr, "kvpd: --vm-id: '%s' is not a UUID\n",
					optarg);
				return 2;
			}
			act.vm_id_set = true;
			break;
		case 'h':
			kvpd_usage(stdout);
			return 0;
		default:
			kvpd_usage(stderr);
			return 2;
		}
	}
	/* Start-up errors reach the caller: stderr until detached. */
	kvp_log_init("kvpd", 0, debug);
	if (d.pool_dir[0] != '/') {
		/* daemon() changes to "/": keep a relative directory working. */
		pool_dir = kvpd_absolute(d.pool_dir);
		if (!pool_dir)
			return 1;
		d.pool_dir = pool_dir;
	}
	if (act.state_dir[0] != '/') {
		state_dir = kvpd_absolute(act.state_dir);
		if (!state_dir) {
			free(pool_dir);
			return 1;
		}
		act.state_dir = state_dir;
	}
	act.catalog_dirs = nr_catalogs ? catalogs : NULL;
	err = kvpd_open_pools(&d);
	if (!err && !foreground && daemon(0, 0)) {
		kvp_err("cannot daemonize: %s", strerror(errno));
		err = -errno;
	}
	if (!err) {
		kvp_log_init("kvpd", !foreground, debug);
		sigemptyset(&stop);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGINT);
		sigprocmask(SIG_BLOCK, &stop, &d.waitmask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		/* Threads do not survive daemon(): the lookups start here. */
		kvp_intrinsic_init(act.state_dir);
		kvpd_activation_start(&act);
		err = kvpd_run(&d);
		kvpd_activation_stop();
	}
	kvp_nl_close(d.nl);
	for (i = 0; i < KVP_POOL_COUNT; i++)
		kvp_pool_close(d.pools[i]);
	free(pool_dir);
	free(state_dir);
	return err ? 1 : 0;
}
