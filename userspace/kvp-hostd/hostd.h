/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvp-hostd internals.  One concern per file:
 *   main.c     the command line, signals, start and exit
 *   loop.c     the epoll loop, its clock and the options
 *   conn.c     non-blocking socket buffers shared by guests and clients
 *   listen.c   the guest listener (vsock, or a unix socket for tests)
 *   guest.c    one guest: vsock framing, HELLO/WELCOME, negotiation
 *   request.c  KVP transactions: the per-guest queue, replies, timeouts
 *   items.c    --vm/--item configuration and the pool-3 host items
 *   uuid.c     name-based (version 5) UUIDs for VirtualMachineId
 *   ctl.c      the control socket that `kvpctl host` talks to
 *   config.c   the configuration file (--config, INI)
 *   identity.c the host's key pair and host id
 *   activation.c  the activation service (vsock service 1): licences,
 *              decisions, grants, rate limits, history rows and events
 *   report.c   its activation commands: identity, history, report, audit
 * Design and wire: Documentation/kvp-hostd.rst.
 */
#ifndef _KVP_HOSTD_H
#define _KVP_HOSTD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "msg.h"
#include "ic.h"

#define KVP_HOSTD_NAME_MAX	255	/* bytes of a --vm name */
#define KVP_HOSTD_UUID_LEN	36
#define KVP_HOSTD_FIRST_UNIX_CID 1000	/* --listen-unix numbering */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Option defaults (seconds). */
#define KVP_HOSTD_TIMEOUT	10
/*
 * The default --grace, in --timeouts: a guest may take up to
 * daemon_wait_ms + request_timeout_ms (10 s by default) for a valid
 * request, so a reply is only given up well after a client stopped waiting.
 */
#define KVP_HOSTD_GRACE_FACTOR	3
#define KVP_HOSTD_WALK_TIMEOUT	60

/* loop.c */
struct kvp_watch {
	int fd;
	void (*handle)(struct kvp_watch *watch, u32 events);
};

struct kvp_hostd_opts {
	unsigned int timeout_ms;	/* per KVP transaction */
	unsigned int grace_ms;		/* a reply overdue: drop the guest */
	unsigned int walk_timeout_ms;	/* a whole ENUMERATE walk */
};

extern struct kvp_hostd_opts kvp_hostd_opts;

int kvp_loop_init(void);
void kvp_loop_exit(void);
void kvp_loop_run(void);
void kvp_loop_stop(void);
int kvp_loop_add(struct kvp_watch *watch, u32 events);
void kvp_loop_mod(struct kvp_watch *watch, u32 events);
void kvp_loop_del(struct kvp_watch *watch);
u64 kvp_now_ms(void);

/* conn.c */
struct kvp_buf {
	u8 *data;
	size_t len;
	size_t cap;
};

struct kvp_conn {
	struct kvp_watch watch;
	struct kvp_buf in;
	struct kvp_buf out;
	bool want_in;		/* watch for input */
	u32 events;		/* what the loop watches now */
};

int kvp_conn_init(struct kvp_conn *conn, int fd,
		  void (*handle)(struct kvp_watch *, u32));
ssize_t kvp_conn_read(struct kvp_conn *conn, size_t max);
int kvp_conn_queue(struct kvp_conn *conn, const void *data, size_t len);
int kvp_conn_send(struct kvp_conn *conn, const void *data, size_t len);
int kvp_conn_flush(struct kvp_conn *conn);
void kvp_conn_want_input(struct kvp_conn *conn, bool want);
void kvp_conn_close(struct kvp_conn *conn);
void kvp_buf_consume(struct kvp_buf *buf, size_t len);

/* listen.c */
int kvp_unix_listen(const char *path);
int kvp_listen_guests_vsock(unsigned int cid, unsigned int port);
int kvp_listen_guests_unix(const char *path);
void kvp_listen_close(void);

/* guest.c */
/* The activation service on one connection (vsock service 1). */
enum kvp_act_state {
	KVP_ACT_OFF,		/* not a service of the connection */
	KVP_ACT_NEGOTIATING,	/* NEGOTIATE sent on service 1 */
	KVP_ACT_READY,		/* requests are answered */
	KVP_ACT_FAILED,		/* negotiation failed: requests dropped */
};

enum kvp_guest_state {
	KVP_GUEST_HELLO,	/* waiting for HELLO */
	KVP_GUEST_NEGOTIATING,	/* NEGOTIATE sent, waiting for the reply */
	KVP_GUEST_READY,	/* KVP transactions may flow */
};

struct kvp_req;

struct kvp_guest {
	struct kvp_conn conn;
	struct kvp_guest *next;
	u32 cid;
	bool named;		/* by --vm, not "vm-CID" */
	char name[KVP_HOSTD_NAME_MAX + 1];
	char uuid[KVP_HOSTD_UUID_LEN + 1];
	enum kvp_guest_state state;
	u64 deadline;		/* ms: the frame owed is overdue, drop it */
	time_t since;		/* wall clock, for `list` */
	u16 version;		/* framing version, from WELCOME on */
	u32 services;		/* the WELCOME's mask: served and spoken */
	u32 fw_version;
	u32 msg_version;
	u64 next_id;		/* vsock frame ids, from 1 */
	u64 busy_id;		/* the one transaction outstanding, or 0 */
	struct kvp_req *inflight;	/* its request, if still wanted */
	struct kvp_req *queue;		/* waiting to be sent, oldest first */
	struct kvp_req **queue_tail;
	u64 done;
	u64 failed;
	char why[128];		/* the reason it is being dropped */
	enum kvp_act_state act_state;
	u64 act_nego_id;	/* our NEGOTIATE's id on service 1 */
	u32 act_fw_version;
	u32 act_msg_version;
	u64 act_requests;	/* activation requests that parsed */
	u64 act_dropped;	/* activation packets dropped unanswered */
	u64 act_logged_ms;	/* last drop logged, for the log's rate */
	u64 act_unlogged;	/* drops not logged since */
};

extern struct kvp_guest *kvp_guests;

void kvp_guest_new(int fd, u32 cid);
struct kvp_guest *kvp_guest_find(const char *vm);
const char *kvp_guest_state_name(enum kvp_guest_state state);
int kvp_guest_fail(struct kvp_guest *guest, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kvp_guest_send(struct kvp_guest *guest, u16 type, u64 id,
		   const u8 *payload, size_t len);
int kvp_guest_send_on(struct kvp_guest *guest, u16 service, u16 type, u64 id,
		      const u8 *payload, size_t len);
u64 kvp_guest_await(struct kvp_guest *guest, unsigned int wait_ms);
u64 kvp_guests_deadline(void);
void kvp_guests_expire(u64 now);
void kvp_guests_free(void);

/* request.c */
struct kvp_ctl_client;

struct kvp_strv {
	char **v;
	u32 n;
};

struct kvp_req {
	struct kvp_req *next;
	struct kvp_ctl_client *client;	/* NULL: a host item, or abandoned */
	bool walk;		/* ENUMERATE index 0, 1, ... */
	char *want;		/* get: walk until this key is found */
	size_t bytes;		/* charged for the items walked so far */
	u64 deadline;		/* ms */
	u64 walk_end;		/* ms: the whole walk's deadline */
	struct kvp_msg msg;
	struct kvp_strv rows;	/* key, value, key, value, ... */
	u8 pkt[KVP_ICMSG_HDR_LEN + KVP_MSG_ENUM_LEN];
};

struct kvp_req *kvp_req_new(u8 op, u8 pool, const char *key,
			    const char *value, int *status);
void kvp_req_free(struct kvp_req *req);
void kvp_req_queue(struct kvp_guest *guest, struct kvp_req *req);
int kvp_req_kick(struct kvp_guest *guest);
int kvp_req_reply(struct kvp_guest *guest, const u8 *pkt, size_t len);
u64 kvp_req_deadline(const struct kvp_guest *guest);
void kvp_req_expire(struct kvp_guest *guest, u64 now);
void kvp_req_fail_all(struct kvp_guest *guest, const char *why);
int kvp_strv_push(struct kvp_strv *strv, const char *s);
void kvp_strv_free(struct kvp_strv *strv);

/* items.c */
int kvp_items_init(void);
int kvp_items_add_vm(const char *arg);
int kvp_items_add_item(const char *arg);
void kvp_items_identify(struct kvp_guest *guest);
void kvp_items_push(struct kvp_guest *guest);
void kvp_items_free(void);

/* uuid.c */
int kvp_uuid_v5(const u8 ns[16], const char *name,
		char out[KVP_HOSTD_UUID_LEN + 1]);

/* config.c: the configuration file, Documentation/kvp-hostd.rst */
#define KVP_HOSTD_CONFIG	"/etc/kvp/hostd.conf"
#define KVP_HOSTD_STATE_DIR	"/var/lib/kvp-hostd"
#define KVP_HOSTD_LEASE		(7 * 24 * 3600)	/* seconds */
#define KVP_HOSTD_RATE_BURST	5
#define KVP_HOSTD_RATE_INTERVAL	10		/* seconds per request */

/* One [license] section: a licence file, or a declared licence. */
struct kvp_license_conf {
	struct kvp_license_conf *next;
	unsigned int line;	/* where the section starts */
	char *file;		/* vendor-signed: base64 file; NULL: declared */
	char *product;
	char *version;
	char *edition;
	bool activated;
};

struct kvp_hostd_config {
	char *path;			/* the file read, or NULL */
	char *host_name;		/* NULL: gethostname() */
	char *state_dir;
	bool activation;
	u64 lease;			/* seconds */
	unsigned int rate_burst;
	unsigned int rate_interval;	/* seconds per request */
	char *history;			/* NULL: off */
	bool history_required;
	char **catalog_dirs;		/* NULL-terminated; NULL: defaults */
	char *journal_socket;		/* NULL: journald's */
	struct kvp_license_conf *licenses;	/* in file order */
};

extern struct kvp_hostd_config kvp_hostd_config;

int kvp_config_load(const char *path, bool must_exist);
void kvp_config_free(void);

/* identity.c */
struct kvp_signer;

int kvp_identity_init(const char *state_dir);
void kvp_identity_exit(void);
const struct kvp_signer *kvp_identity_signer(void);
/* NULL while activation is not served (no identity loaded). */
const uint8_t *kvp_identity_public(void);
const char *kvp_identity_host_id(void);

/* activation.c */
struct kvp_history;
struct kvp_catalog;

int kvp_activation_init(void);
void kvp_activation_history_open(void);
void kvp_activation_exit(void);
bool kvp_activation_served(void);
int kvp_activation_start(struct kvp_guest *guest);
int kvp_activation_packet(struct kvp_guest *guest, u64 id, const u8 *pkt,
			  size_t len);
struct kvp_history *kvp_activation_history(void);	/* NULL: history off */
const struct kvp_catalog *kvp_activation_catalog(void);	/* NULL: not served */

/* ctl.c */
typedef void (*kvp_ctl_done_fn)(void *arg, int status,
				const struct kvp_strv *rows,
				const char *message);

int kvp_ctl_open(const char *path, int mode, const char *group);
void kvp_ctl_client_new(int fd);
void kvp_ctl_answer(struct kvp_ctl_client *client, int status, u32 hresult,
		    u16 columns, const struct kvp_strv *rows,
		    const char *message);
struct kvp_ctl_client *kvp_ctl_waiter(kvp_ctl_done_fn done, void *arg);
void kvp_ctl_wait(struct kvp_ctl_client *client, struct kvp_guest *guest,
		  struct kvp_req *req);
void kvp_ctl_waiter_cancel(struct kvp_ctl_client *waiter);
void kvp_ctl_close(void);

/* report.c */
struct kvp_report;

void kvp_report_identity(struct kvp_ctl_client *client);
void kvp_report_history(struct kvp_ctl_client *client, u32 argc,
			const char **argv);
struct kvp_report *kvp_report_start(struct kvp_ctl_client *client,
				    bool audit);
void kvp_report_free(struct kvp_report *report);

#endif /* _KVP_HOSTD_H */
