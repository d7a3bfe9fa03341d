// SPDX-License-Identifier: GPL-2.0
/*
 * kvp-hostd: the host end of KVP for KVM hosts.  Accepts guests on vsock,
 * negotiates, pushes the host items into pool 3 and carries out what
 * `kvpctl host` asks of a guest.  One thread, one epoll loop: no guest and
 * no client can hold up the others.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "hostd.h"
#include "log.h"
#include "uapi/kvp_vsock.h"

#define KVP_HOSTD_SOCKET	"/run/kvp-hostd.sock"
#define KVP_HOSTD_MAX_SECONDS	3600	/* of --timeout, --grace, --walk-timeout */

static void kvp_signal(struct kvp_watch *watch, u32 events)
{
	struct signalfd_siginfo si;

	(void)events;
	if (read(watch->fd, &si, sizeof(si)) == sizeof(si)) {
		kvp_info("signal %u, exiting", si.ssi_signo);
		kvp_loop_stop();
	}
}

static struct kvp_watch kvp_signal_watch = { .fd = -1, .handle = kvp_signal };
static sigset_t kvp_signal_set;

/*
 * SIGTERM and SIGINT are blocked from the start and read from a signalfd,
 * so the loop exits cleanly, also for one that came before the signalfd.
 */
static int kvp_signals_block(void)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&kvp_signal_set);
	sigaddset(&kvp_signal_set, SIGTERM);
	sigaddset(&kvp_signal_set, SIGINT);
	return sigprocmask(SIG_BLOCK, &kvp_signal_set, NULL) < 0 ? -errno : 0;
}

static int kvp_signals_watch(void)
{
	kvp_signal_watch.fd = signalfd(-1, &kvp_signal_set,
				       SFD_NONBLOCK | SFD_CLOEXEC);
	if (kvp_signal_watch.fd < 0)
		return -errno;
	return kvp_loop_add(&kvp_signal_watch, EPOLLIN);
}

struct kvp_hostd_args {
	bool foreground;
	bool debug;
	const char *socket;
	int socket_mode;
	const char *group;
	const char *listen_unix;
	const char *config;
	unsigned int cid;
	unsigned int port;
};

static void kvp_usage(FILE *out)
{
	fprintf(out,
		"usage: kvp-hostd [-f] [-d] [--config FILE] [--socket PATH]\n"
		"                 [--socket-mode MODE] [--group GROUP]\n"
		"                 [--cid CID] [--port PORT] [--timeout SECONDS]\n"
		"                 [--grace SECONDS] [--walk-timeout SECONDS]\n"
		"                 [--vm CID=NAME[,UUID]]... [--item KEY=VALUE]...\n"
		"  -f, --foreground     stay in the foreground, log to stderr\n"
		"  -d, --debug          log debug messages too\n"
		"  --config FILE        configuration, activation included\n"
		"                       (default %s, may be missing)\n"
		"  --socket PATH        control socket (default %s)\n"
		"  --socket-mode MODE   its mode, octal (default 0600, 0660 with --group)\n"
		"  --group GROUP        its group\n"
		"  --cid CID            vsock CID to listen on (default any)\n"
		"  --port PORT          vsock port (default %u)\n"
		"  --timeout SECONDS    per KVP transaction (default %u)\n"
		"  --grace SECONDS      drop a guest that leaves a request unanswered\n"
		"                       this long (default %u times --timeout)\n"
		"  --walk-timeout SECONDS\n"
		"                       for a whole pool enumeration (default %u)\n"
		"  --vm CID=NAME[,UUID] name and VirtualMachineId of a guest\n"
		"  --item KEY=VALUE     an extra pool-3 item for every guest\n",
		KVP_HOSTD_CONFIG, KVP_HOSTD_SOCKET, KVP_VSOCK_PORT,
		KVP_HOSTD_TIMEOUT,
		KVP_HOSTD_GRACE_FACTOR, KVP_HOSTD_WALK_TIMEOUT);
}

static int kvp_parse_uint(const char *s, unsigned long max,
			  unsigned long *out, int base)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, base);
	if (errno || end == s || *end || *s == '-' || *out > max)
		return -EINVAL;
	return 0;
}

/* Where an option given in seconds is kept, in ms. */
static unsigned int *kvp_seconds_opt(int opt)
{
	switch (opt) {
	case 'G':
		return &kvp_hostd_opts.grace_ms;
	case 'W':
		return &kvp_hostd_opts.walk_timeout_ms;
	default:
		return &kvp_hostd_opts.timeout_ms;
	}
}

/* Options taking a number; returns 0 or -EINVAL. */
static int kvp_parse_number(int opt, const char *arg,
			    struct kvp_hostd_args *args)
{
	unsigned long v;

	switch (opt) {
	case 'm':
		if (kvp_parse_uint(arg, 0777, &v, 8))
			return -EINVAL;
		args->socket_mode = (int)v;
		return 0;
	case 'C':
		if (kvp_parse_uint(arg, UINT32_MAX, &v, 10))
			return -EINVAL;
		args->cid = (unsigned int)v;
		return 0;
	case 'P':
		if (kvp_parse_uint(arg, UINT32_MAX, &v, 10))
			return -EINVAL;
		args->port = (unsigned int)v;
		return 0;
	default:
		if (kvp_parse_uint(arg, KVP_HOSTD_MAX_SECONDS, &v, 10) || !v)
			return -EINVAL;
		*kvp_seconds_opt(opt) = (unsigned int)v * 1000;
		return 0;
	}
}

/*
 * The durations against --timeout: a request is never given up before its
 * client, and a walk has time for at least one step.
 */
static int kvp_check_durations(void)
{
	struct kvp_hostd_opts *opts = &kvp_hostd_opts;

	if (!opts->grace_ms)
		opts->grace_ms = KVP_HOSTD_GRACE_FACTOR * opts->timeout_ms;
	if (opts->grace_ms <= opts->timeout_ms) {
		kvp_err("--grace (%u s) must be longer than --timeout (%u s)",
			opts->grace_ms / 1000, opts->timeout_ms / 1000);
		return -EINVAL;
	}
	if (opts->walk_timeout_ms < opts->timeout_ms) {
		kvp_err("--walk-timeout (%u s) must be at least --timeout (%u s)",
			opts->walk_timeout_ms / 1000, opts->timeout_ms / 1000);
		return -EINVAL;
	}
	return 0;
}

static const struct option kvp_options[] = {
	{ "foreground", no_argument, NULL, 'f' },
	{ "debug", no_argument, NULL, 'd' },
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "socket-mode", required_argument, NULL, 'm' },
	{ "group", required_argument, NULL, 'g' },
	{ "cid", required_argument, NULL, 'C' },
	{ "port", required_argument, NULL, 'P' },
	{ "timeout", required_argument, NULL, 't' },
	{ "grace", required_argument, NULL, 'G' },
	{ "walk-timeout", required_argument, NULL, 'W' },
	{ "vm", required_argument, NULL, 'v' },
	{ "item", required_argument, NULL, 'i' },
	{ "listen-unix", required_argument, NULL, 'u' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, or the exit status. */
static int kvp_parse_args(int argc, char **argv, struct kvp_hostd_args *args)
{
	int c, idx = 0;

	while ((c = getopt_long(argc, argv, "fdh", kvp_options, &idx)) != -1) {
		switch (c) {
		case 'f':
			args->foreground = true;
			break;
		case 'd':
			args->debug = true;
			break;
		case 's':
			args->socket = optarg;
			break;
		case 'g':
			args->group = optarg;
			break;
		case 'u':
			args->listen_unix = optarg;
			break;
		case 'c':
			args->config = optarg;
			break;
		case 'v':
			if (kvp_items_add_vm(optarg))
				return 2;
			break;
		case 'i':
			if (kvp_items_add_item(optarg))
				return 2;
			break;
		case 'm':
		case 'C':
		case 'P':
		case 't':
		case 'G':
		case 'W':
			if (kvp_parse_number(c, optarg, args)) {
				kvp_err("bad value for --%s: '%s'",
					kvp_options[idx].name, optarg);
				return 2;
			}
			break;
		case 'h':
			kvp_usage(stdout);
			return 0;
		default:
			kvp_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		kvp_usage(stderr);
		return 2;
	}
	return kvp_check_durations() ? 2 : -1;
}

static int kvp_setup(const struct kvp_hostd_args *args)
{
	int err;

	err = kvp_items_init();
	if (!err)
		err = kvp_activation_init();
	if (!err)
		err = kvp_signals_block();
	if (err)
		return err;
	err = kvp_loop_init();
	if (err)
		return err;
	if (args->listen_unix)
		err = kvp_listen_guests_unix(args->listen_unix);
	else
		err = kvp_listen_guests_vsock(args->cid, args->port);
	if (err)
		return err;
	return kvp_ctl_open(args->socket, args->socket_mode, args->group);
}

static void kvp_teardown(void)
{
	kvp_guests_free();
	kvp_ctl_close();
	kvp_listen_close();
	if (kvp_signal_watch.fd >= 0)
		close(kvp_signal_watch.fd);
	kvp_loop_exit();
	kvp_items_free();
	kvp_activation_exit();
	kvp_config_free();
}

int main(int argc, char **argv)
{
	struct kvp_hostd_args args = {
		.socket = KVP_HOSTD_SOCKET,
		.socket_mode = -1,
		.cid = VMADDR_CID_ANY,
		.port = KVP_VSOCK_PORT,
	};
	int ret;

	kvp_log_init("kvp-hostd", 0, 0);
	ret = kvp_parse_args(argc, argv, &args);
	if (ret < 0 && kvp_config_load(args.config ? args.config :
				       KVP_HOSTD_CONFIG, args.config))
		ret = 2;
	if (ret >= 0) {
		kvp_items_free();
		kvp_config_free();
		return ret;
	}
	kvp_log_init("kvp-hostd", 0, args.debug);
	ret = kvp_setup(&args);
	if (ret) {
		kvp_err("cannot start: %s", strerror(-ret));
		kvp_teardown();
		return 1;
	}
	/*
	 * Sockets before detaching, so that start-up errors reach the caller;
	 * the signalfd after, as it only sees signals sent to its creator.
	 */
	if (!args.foreground) {
		if (daemon(0, 0) < 0) {
			kvp_err("daemon: %s", strerror(errno));
			kvp_teardown();
			return 1;
		}
		kvp_log_init("kvp-hostd", 1, args.debug);
	}
	ret = kvp_signals_watch();
	if (ret) {
		kvp_err("signals: %s", strerror(-ret));
		kvp_teardown();
		return 1;
	}
	kvp_activation_history_open();
	kvp_info("listening (timeout %u s, grace %u s)",
		 kvp_hostd_opts.timeout_ms / 1000,
		 kvp_hostd_opts.grace_ms / 1000);
	kvp_loop_run();
	kvp_teardown();
	return 0;
}
