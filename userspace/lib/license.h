/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's licence (Documentation/avma.rst section "Guest"): the product
 * key installed, what the catalog says it is, the last activation's outcome
 * and the grant of the last successful one, kept in the state directory:
 *
 *   license         the state, text key=value, replaced whole by rename
 *   license.events  one line per activation (event 12309), the last 1000
 *   license.lock    flock()ed around every read-modify-write of the two
 *
 * and the activation procedure that kvpd and `kvpctl license activate`
 * share.  The procedure reaches the host through an exchange function, so
 * that its checks and the state it keeps can be tested without a kernel:
 * kvp_guest_nl_exchange() is the real one (kvp.ko over netlink).
 *
 * The functions return 0 or a negative errno; those taking `error` put a
 * sentence there for anything but an I/O error.
 */
#ifndef _KVP_LICENSE_H
#define _KVP_LICENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avma.h"
#include "catalog.h"
#include "grant.h"
#include "isotime.h"

#define KVP_STATE_DIR		"/var/lib/kvp"
#define KVP_STATE_DIR_ENV	"KVP_STATE_DIR"
#define KVP_GUEST_EVENTS_KEEP	1000

enum kvp_guest_state {
	KVP_GUEST_UNLICENSED,
	KVP_GUEST_LICENSED,
	KVP_GUEST_NOTIFICATION,	/* lease ended, no host renewed it */
};

/* The state file.  key "" is no key; grant_len 0 is no grant. */
struct kvp_guest {
	char key[KVP_KEY_TEXT_LEN + 1];
	bool avma;			/* the key is a catalog AVMA key */
	char product[KVP_AVMA_PRODUCT_LEN];	/* the catalog's, if avma */
	char version[KVP_AVMA_VERSION_LEN];
	char edition[KVP_AVMA_EDITION_LEN];
	bool tried;			/* an activation was attempted */
	uint32_t outcome;		/* the last one's, kvp_avma_outcome */
	uint32_t reason;		/* enum kvp_avma_reason */
	uint64_t tried_at;		/* unix seconds */
	size_t grant_len;		/* of the last Success */
	uint8_t grant[KVP_GRANT_MAX_LEN];
	struct kvp_grant decoded;	/* grant, decoded (when grant_len) */
};

/* One line of license.events. */
struct kvp_guest_event {
	uint64_t time;
	uint32_t outcome;
	uint32_t reason;
	char product[KVP_AVMA_PRODUCT_LEN];
	char version[KVP_AVMA_VERSION_LEN];
	char edition[KVP_AVMA_EDITION_LEN];
	char host_name[KVP_AVMA_NAME_LEN];	/* "" unless Success */
	char host_id[KVP_HOST_ID_LEN + 1];
	char grant_id[37];
	uint64_t expires;			/* 0 unless Success */
};

/* The state directory: KVP_STATE_DIR_ENV if set, else KVP_STATE_DIR. */
const char *kvp_guest_default_dir(void);
const char *kvp_guest_state_name(enum kvp_guest_state state);

/*
 * Reads the state file without the lock (it is replaced whole).  A missing
 * file (or directory) is the empty state.  A file that does not parse:
 * -EBADMSG, `error` says where, and *g is the empty state (no key).
 */
int kvp_guest_load(const char *dir, struct kvp_guest *g, char *error,
		   size_t error_len);
/* The state at `now`; *reason (may be NULL) says why. */
enum kvp_guest_state kvp_guest_state(const struct kvp_guest *g, uint64_t now,
				     uint32_t *reason);

/*
 * Installs the product key `text` (normalized; -EINVAL for a malformed
 * one).  An AVMA key of the catalog records its product, version and
 * edition; any other well-formed key is stored as not an AVMA key.  A key
 * other than the installed one drops the grant.  A corrupt state file is
 * replaced, and `error` says so (return 0 all the same).
 */
int kvp_guest_install_key(const char *dir, const struct kvp_catalog *catalog,
			  const char *text, struct kvp_guest *g, char *error,
			  size_t error_len);
/* Removes the key and everything about it: -ENOKEY if there was none. */
int kvp_guest_uninstall_key(const char *dir);

/*
 * The exchange with the host: sends the request body, puts the reply body
 * in `reply` and returns its length, or a negative errno: -EHOSTUNREACH
 * (no activation channel), -ENOTCONN (no host connected), -ETIMEDOUT and
 * -ECONNRESET (no reply) become outcome Invalid Host; anything else is a
 * local failure (no module, no permission) and no activation attempt.
 */
typedef int (*kvp_guest_exchange_fn)(void *arg, const uint8_t *request,
				     size_t len, uint8_t *reply, size_t cap);

/* kvp.ko over netlink, on a socket of its own; arg is unused. */
int kvp_guest_nl_exchange(void *arg, const uint8_t *request, size_t len,
			  uint8_t *reply, size_t cap);

struct kvp_guest_activation {
	const char *dir;
	const struct kvp_catalog *catalog;
	uint8_t vm_id[KVP_AVMA_UUID_LEN];
	char vm_name[KVP_AVMA_NAME_LEN];	/* "": the host name */
	kvp_guest_exchange_fn exchange;
	void *arg;
	const char *event_socket;	/* kvp_event_log()'s; NULL: default */
};

/*
 * One activation: request (fresh nonce), exchange, checks, the state file
 * updated (a failure keeps a grant), event 12309 logged and appended to
 * license.events.  Returns 0 when an attempt was made (*outcome, *reason
 * and *g say how it went), -ENOKEY when no AVMA key is installed (or the
 * state file is corrupt: `error` says so), or the exchange's local error.
 */
int kvp_guest_activate(const struct kvp_guest_activation *a, uint32_t *outcome,
		       uint32_t *reason, struct kvp_guest *g, char *error,
		       size_t error_len);

/*
 * At the end of the lease (state Notification at `now`), records it once:
 * last outcome Invalid Host, reason expired, in the state file, a line in
 * license.events and event 12309.  1 if it did, 0 if there was nothing to
 * record (no lease, still valid, already recorded, corrupt file), -errno.
 */
int kvp_guest_expire(const char *dir, const char *event_socket, uint64_t now);

/*
 * This VM's id: /sys/class/dmi/id/product_uuid unless unreadable or all
 * 0 or ff, else /etc/machine-id.  -ENOENT if neither gives one.
 */
int kvp_guest_vm_id(uint8_t id[KVP_AVMA_UUID_LEN]);

/* license.events, oldest first; fn returns nonzero to stop. */
typedef int (*kvp_guest_event_fn)(const struct kvp_guest_event *ev,
				  void *arg);
int kvp_guest_events(const char *dir, kvp_guest_event_fn fn, void *arg);

#endif /* _KVP_LICENSE_H */
