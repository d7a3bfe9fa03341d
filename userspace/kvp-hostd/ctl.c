// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: `kvpctl host` connects, sends one request
 * (lib/hostctl.h), gets one reply and the connection is closed.  Requests
 * that need a guest wait in that guest's queue; the client's connection
 * waits with them, so no client holds up another.  Access is the socket
 * file's mode: 0600 (root) unless --socket-mode or --group say otherwise.
 * The activation commands (identity, history, report, audit) are
 * report.c's; a report waits for many guests through *waiters*, clients
 * without a connection whose answer goes to a function instead.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostctl.h"
#include "hostd.h"
#include "log.h"

struct kvp_ctl_client {
	struct kvp_conn conn;
	struct kvp_ctl_client *next;
	struct kvp_req *req;	/* the request it waits for */
	struct kvp_report *report;	/* or the report it waits for */
	bool answered;
	kvp_ctl_done_fn done;	/* a waiter: answers go here */
	void *arg;
};

static struct {
	struct kvp_watch watch;
	const char *path;
	struct kvp_ctl_client *clients;
} kvp_ctl = { .watch.fd = -1 };

static void kvp_ctl_client_close(struct kvp_ctl_client *client)
{
	struct kvp_ctl_client **p;

	if (client->req)
		client->req->client = NULL;
	if (client->report)
		kvp_report_free(client->report);
	for (p = &kvp_ctl.clients; *p != client; p = &(*p)->next)
		;
	*p = client->next;
	kvp_conn_close(&client->conn);
	free(client);
}

/*
 * A client without a connection: the answer to the request it is given
 * (kvp_ctl_wait) goes to done(arg, ...), then it is freed.
 */
struct kvp_ctl_client *kvp_ctl_waiter(kvp_ctl_done_fn done, void *arg)
{
	struct kvp_ctl_client *waiter = calloc(1, sizeof(*waiter));

	if (waiter) {
		waiter->conn.watch.fd = -1;
		waiter->done = done;
		waiter->arg = arg;
	}
	return waiter;
}

/* Queues req on guest for client (a connection's, or a waiter). */
void kvp_ctl_wait(struct kvp_ctl_client *client, struct kvp_guest *guest,
		  struct kvp_req *req)
{
	req->client = client;
	client->req = req;
	kvp_req_queue(guest, req);
}

/* The answer is no longer wanted: the request runs on, unanswered. */
void kvp_ctl_waiter_cancel(struct kvp_ctl_client *waiter)
{
	if (waiter->req)
		waiter->req->client = NULL;
	free(waiter);
}

/*
 * Sends the reply; the client is closed once it has taken all of it.  A
 * waiter passes it on and is freed.
 */
void kvp_ctl_answer(struct kvp_ctl_client *client, int status, u32 hresult,
		    u16 columns, const struct kvp_strv *rows,
		    const char *message)
{
	u32 n = rows ? rows->n : 0;
	struct kvp_hostctl_msg msg = {
		.status = (u16)status,
		.hresult = hresult,
		.columns = columns,
		.count = 1 + n,
	};
	unsigned char *buf = NULL;
	size_t len;

	if (client->done) {
		client->done(client->arg, status, rows, message);
		free(client);
		return;
	}
	client->req = NULL;
	client->report = NULL;
	client->answered = true;
	msg.strings = malloc((1 + n) * sizeof(char *));
	if (msg.strings) {
		msg.strings[0] = message;
		if (n)
			memcpy(msg.strings + 1, rows->v, n * sizeof(char *));
		buf = kvp_hostctl_encode(&msg, &len);
		free(msg.strings);
	}
	if (!buf || kvp_conn_send(&client->conn, buf, len) ||
	    !client->conn.out.len)
		kvp_ctl_client_close(client);
	free(buf);
}

static void kvp_ctl_error(struct kvp_ctl_client *client, int status,
			  const char *message)
{
	kvp_ctl_answer(client, status, 0, 0, NULL, message);
}

static int kvp_ctl_pushf(struct kvp_strv *rows, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int kvp_ctl_pushf(struct kvp_strv *rows, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return kvp_strv_push(rows, buf);
}

#define KVP_CTL_LIST_COLUMNS	9

static int kvp_ctl_list_row(struct kvp_strv *rows,
			    const struct kvp_guest *guest)
{
	bool ready = guest->state == KVP_GUEST_READY;

	return kvp_ctl_pushf(rows, "%u", guest->cid) ||
	       kvp_strv_push(rows, guest->name) ||
	       kvp_strv_push(rows, guest->uuid) ||
	       kvp_strv_push(rows, kvp_guest_state_name(guest->state)) ||
	       (ready ? kvp_ctl_pushf(rows, "%u.%u",
				      KVP_VERSION_MAJOR(guest->fw_version),
				      KVP_VERSION_MINOR(guest->fw_version)) :
			kvp_strv_push(rows, "")) ||
	       (ready ? kvp_ctl_pushf(rows, "%u.%u",
				      KVP_VERSION_MAJOR(guest->msg_version),
				      KVP_VERSION_MINOR(guest->msg_version)) :
			kvp_strv_push(rows, "")) ||
	       kvp_ctl_pushf(rows, "%lld", (long long)guest->since) ||
	       kvp_ctl_pushf(rows, "%llu", (unsigned long long)guest->done) ||
	       kvp_ctl_pushf(rows, "%llu", (unsigned long long)guest->failed);
}

static void kvp_ctl_list(struct kvp_ctl_client *client)
{
	struct kvp_strv rows = { 0 };
	const struct kvp_guest *guest;

	for (guest = kvp_guests; guest; guest = guest->next)
		if (kvp_ctl_list_row(&rows, guest))
			break;
	if (guest)
		kvp_ctl_error(client, KVP_HOSTCTL_ERR, "out of memory");
	else
		kvp_ctl_answer(client, KVP_HOSTCTL_OK, 0,
			       KVP_CTL_LIST_COLUMNS, &rows, "");
	kvp_strv_free(&rows);
}

static const char *kvp_ctl_refusal(int status)
{
	switch (status) {
	case KVP_HOSTCTL_TOO_LONG:
		return "key or value too long: at most 255 and 1023 UTF-16 units";
	case KVP_HOSTCTL_USAGE:
		return "key or value is not valid UTF-8";
	default:
		return "out of memory";
	}
}

/* get VM POOL KEY, set VM POOL KEY VALUE, delete VM POOL KEY, enum VM POOL */
static void kvp_ctl_kvp(struct kvp_ctl_client *client, u8 op,
			const char **argv)
{
	struct kvp_guest *guest;
	struct kvp_req *req;
	char message[KVP_HOSTD_NAME_MAX + 64];
	int status;

	if (strlen(argv[2]) != 1 || argv[2][0] < '0' ||
	    argv[2][0] >= '0' + KVP_POOL_COUNT) {
		kvp_ctl_error(client, KVP_HOSTCTL_BAD_POOL,
			      "pool must be a number from 0 to 4");
		return;
	}
	if (op != KVP_OP_ENUMERATE && !argv[3][0]) {
		kvp_ctl_error(client, KVP_HOSTCTL_USAGE, "the key is empty");
		return;
	}
	guest = kvp_guest_find(argv[1]);
	if (!guest) {
		snprintf(message, sizeof(message),
			 "no VM '%.*s' is connected", KVP_HOSTD_NAME_MAX,
			 argv[1]);
		kvp_ctl_error(client, KVP_HOSTCTL_NO_VM, message);
		return;
	}
	req = kvp_req_new(op, (u8)(argv[2][0] - '0'),
			  op == KVP_OP_ENUMERATE ? NULL : argv[3],
			  op == KVP_OP_SET ? argv[4] : NULL, &status);
	if (!req) {
		kvp_ctl_error(client, status, kvp_ctl_refusal(status));
		return;
	}
	kvp_ctl_wait(client, guest, req);
}

static void kvp_ctl_report(struct kvp_ctl_client *client, bool audit)
{
	struct kvp_report *report = kvp_report_start(client, audit);

	/* NULL: answered already, and the client may be gone. */
	if (report)
		client->report = report;
}

enum {
	KVP_CTL_LIST = -1,
	KVP_CTL_IDENTITY = -2,
	KVP_CTL_HISTORY = -3,
	KVP_CTL_REPORT = -4,
	KVP_CTL_AUDIT = -5,
};

static const struct {
	const char *name;
	u32 argc;		/* words, command included */
	u32 max_argc;		/* more may follow, up to this */
	int op;			/* a KVP operation, or KVP_CTL_* */
} kvp_ctl_commands[] = {
	{ "list", 1, 1, KVP_CTL_LIST },
	{ "get", 4, 4, KVP_OP_GET },
	{ "set", 5, 5, KVP_OP_SET },
	{ "delete", 4, 4, KVP_OP_DELETE },
	{ "enum", 3, 3, KVP_OP_ENUMERATE },
	{ "identity", 1, 1, KVP_CTL_IDENTITY },
	{ "history", 1, 4, KVP_CTL_HISTORY },
	{ "report", 1, 1, KVP_CTL_REPORT },
	{ "audit", 1, 1, KVP_CTL_AUDIT },
};

static void kvp_ctl_run(struct kvp_ctl_client *client, int op,
			const struct kvp_hostctl_msg *req)
{
	switch (op) {
	case KVP_CTL_LIST:
		kvp_ctl_list(client);
		break;
	case KVP_CTL_IDENTITY:
		kvp_report_identity(client);
		break;
	case KVP_CTL_HISTORY:
		kvp_report_history(client, req->count, req->strings);
		break;
	case KVP_CTL_REPORT:
	case KVP_CTL_AUDIT:
		kvp_ctl_report(client, op == KVP_CTL_AUDIT);
		break;
	default:
		kvp_ctl_kvp(client, (u8)op, req->strings);
	}
}

static void kvp_ctl_dispatch(struct kvp_ctl_client *client, size_t len)
{
	struct kvp_hostctl_msg req;
	size_t i, n = ARRAY_SIZE(kvp_ctl_commands);

	if (kvp_hostctl_decode(client->conn.in.data, len, &req)) {
		kvp_ctl_error(client, KVP_HOSTCTL_USAGE, "malformed request");
		return;
	}
	for (i = 0; i < n; i++)
		if (req.count && !strcmp(req.strings[0], kvp_ctl_commands[i].name))
			break;
	if (i == n || req.count < kvp_ctl_commands[i].argc ||
	    req.count > kvp_ctl_commands[i].max_argc)
		kvp_ctl_error(client, KVP_HOSTCTL_USAGE,
			      "unknown command or wrong number of words");
	else
		kvp_ctl_run(client, kvp_ctl_commands[i].op, &req);
	free(req.strings);
}

/* Reads until the request is whole; then only waits to answer. */
static void kvp_ctl_read(struct kvp_ctl_client *client)
{
	struct kvp_buf *in = &client->conn.in;
	ssize_t n;
	long len;

	n = kvp_conn_read(&client->conn, KVP_HOSTCTL_MAX_REQUEST);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		kvp_ctl_client_close(client);
		return;
	}
	len = kvp_hostctl_frame_len(in->data, in->len, KVP_HOSTCTL_MAX_REQUEST);
	if (len < 0) {
		kvp_conn_want_input(&client->conn, false);
		kvp_ctl_error(client, KVP_HOSTCTL_USAGE, "malformed request");
	} else if (len && in->len >= (size_t)len) {
		kvp_conn_want_input(&client->conn, false);
		kvp_ctl_dispatch(client, (size_t)len);
	}
}

static void kvp_ctl_handle(struct kvp_watch *watch, u32 events)
{
	struct kvp_ctl_client *client = (struct kvp_ctl_client *)
		((char *)watch - offsetof(struct kvp_ctl_client, conn.watch));

	if (events & EPOLLOUT) {
		if (kvp_conn_flush(&client->conn) || !client->conn.out.len)
			kvp_ctl_client_close(client);
	} else if ((events & EPOLLIN) && client->conn.want_in) {
		kvp_ctl_read(client);
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		/* Gone before its answer: the request still runs. */
		kvp_ctl_client_close(client);
	}
}

/* A client connected on fd (non-blocking): serve it. */
void kvp_ctl_client_new(int fd)
{
	struct kvp_ctl_client *client = calloc(1, sizeof(*client));

	if (!client || kvp_conn_init(&client->conn, fd, kvp_ctl_handle)) {
		kvp_warn("control client refused: out of resources");
		free(client);
		close(fd);
		return;
	}
	client->next = kvp_ctl.clients;
	kvp_ctl.clients = client;
	/*
	 * A client sends its request as soon as it is connected, so it is
	 * mostly here already: take it now, not one more trip through the
	 * loop later.
	 */
	kvp_ctl_read(client);
}

static void kvp_ctl_accept(struct kvp_watch *watch, u32 events)
{
	int fd;

	(void)events;
	while ((fd = accept4(watch->fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		kvp_ctl_client_new(fd);
}

/*
 * Created under umask 0177, so it is never more open than 0600 before the
 * chmod and chown below give it the mode and group asked for.
 */
static int kvp_ctl_bind(const char *path, int mode, const struct group *gr)
{
	mode_t old = umask(0177);
	int fd, err;

	fd = kvp_unix_listen(path);
	umask(old);
	if (fd < 0)
		return fd;
	if (chmod(path, mode) < 0 ||
	    (gr && chown(path, (uid_t)-1, gr->gr_gid) < 0)) {
		err = -errno;
		close(fd);
		unlink(path);
		return err;
	}
	return fd;
}

int kvp_ctl_open(const char *path, int mode, const char *group)
{
	struct group *gr = NULL;
	int fd;

	if (group) {
		gr = getgrnam(group);
		if (!gr) {
			kvp_err("no group '%s'", group);
			return -EINVAL;
		}
	}
	if (mode < 0)
		mode = group ? 0660 : 0600;
	fd = kvp_ctl_bind(path, mode, gr);
	if (fd < 0) {
		kvp_err("control socket %s: %s", path, strerror(-fd));
		return fd;
	}
	kvp_ctl.path = path;
	kvp_ctl.watch.fd = fd;
	kvp_ctl.watch.handle = kvp_ctl_accept;
	return kvp_loop_add(&kvp_ctl.watch, EPOLLIN);
}

void kvp_ctl_close(void)
{
	while (kvp_ctl.clients)
		kvp_ctl_client_close(kvp_ctl.clients);
	if (kvp_ctl.watch.fd < 0)
		return;
	close(kvp_ctl.watch.fd);
	kvp_ctl.watch.fd = -1;
	unlink(kvp_ctl.path);
}
