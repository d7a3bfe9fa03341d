/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kvp-hostd control socket wire, version 1: what `kvpctl host` and
 * kvp-hostd say to each other over the unix socket.  Both ends encode and
 * decode through these functions.  Byte layout: Documentation/kvp-hostd.rst.
 *
 * A message is a 24-byte header, all fields little endian, followed by
 * `length` bytes holding `count` NUL-terminated UTF-8 strings back to back:
 *
 *   offset 0   u32 magic    KVP_HOSTCTL_MAGIC, the bytes "KVPC"
 *   offset 4   u16 version  KVP_HOSTCTL_VERSION
 *   offset 6   u16 status   request: 0; reply: enum kvp_hostctl_status
 *   offset 8   u32 hresult  request: 0; reply: the guest's status word
 *   offset 12  u16 columns  request: 0; reply: fields per row
 *   offset 14  u16 reserved zero
 *   offset 16  u32 count    number of strings
 *   offset 20  u32 length   bytes of strings
 *
 * A request's strings are the command's words ("set", VM, POOL, KEY, VALUE).
 * A reply's first string is a message (empty on success), then the rows,
 * `columns` strings each.
 */
#ifndef _KVP_HOSTCTL_H
#define _KVP_HOSTCTL_H

#include <stddef.h>
#include <stdint.h>

#define KVP_HOSTCTL_MAGIC	0x4350564bU	/* "KVPC" */
#define KVP_HOSTCTL_VERSION	1
#define KVP_HOSTCTL_HDR_LEN	24
#define KVP_HOSTCTL_MAX_REQUEST	(64 * 1024)
#define KVP_HOSTCTL_MAX_REPLY	(16 * 1024 * 1024)

#define KVP_HOSTCTL_OFF_MAGIC	0
#define KVP_HOSTCTL_OFF_VERSION	4
#define KVP_HOSTCTL_OFF_STATUS	6
#define KVP_HOSTCTL_OFF_HRESULT	8
#define KVP_HOSTCTL_OFF_COLUMNS	12
#define KVP_HOSTCTL_OFF_RESERVED 14
#define KVP_HOSTCTL_OFF_COUNT	16
#define KVP_HOSTCTL_OFF_LENGTH	20

enum kvp_hostctl_status {
	KVP_HOSTCTL_OK = 0,
	KVP_HOSTCTL_ERR = 1,		/* anything else; see the message */
	KVP_HOSTCTL_USAGE = 2,		/* malformed or unknown command */
	KVP_HOSTCTL_TOO_LONG = 3,	/* key or value does not fit the wire */
	KVP_HOSTCTL_BAD_POOL = 4,	/* pool not 0..4 */
	KVP_HOSTCTL_NO_VM = 5,		/* no such VM connected */
	KVP_HOSTCTL_NO_KEY = 6,		/* the guest has no such key */
	KVP_HOSTCTL_TIMEOUT = 7,	/* the guest did not answer in time */
	KVP_HOSTCTL_GUEST = 8,		/* the guest failed it: see hresult */
	KVP_HOSTCTL_GONE = 9,		/* the guest went away meanwhile */
	KVP_HOSTCTL_OFF = 10,		/* activation or its history not served */
};

/*
 * The columns of the activation commands' rows, in wire order
 * (Documentation/kvp-hostd.rst, "The control socket").
 */
enum kvp_hostctl_identity_col {
	KVP_HC_ID_HOST_ID,
	KVP_HC_ID_PUBLIC_KEY,		/* base64 */
	KVP_HC_ID_COLUMNS,
};

enum kvp_hostctl_history_col {
	KVP_HC_HIST_TIME,		/* unix seconds */
	KVP_HC_HIST_VM_ID,
	KVP_HC_HIST_VM_NAME,
	KVP_HC_HIST_CID,
	KVP_HC_HIST_PRODUCT,
	KVP_HC_HIST_VERSION,
	KVP_HC_HIST_EDITION,
	KVP_HC_HIST_OUTCOME,		/* number */
	KVP_HC_HIST_OUTCOME_NAME,
	KVP_HC_HIST_REASON,		/* number */
	KVP_HC_HIST_REASON_NAME,
	KVP_HC_HIST_GRANT_ID,
	KVP_HC_HIST_EXPIRES,		/* unix seconds, 0: none */
	KVP_HC_HIST_NONCE,		/* 32 hex digits */
	KVP_HC_HIST_COLUMNS,
};

enum kvp_hostctl_report_col {
	KVP_HC_REP_NAME,
	KVP_HC_REP_VM_ID,
	KVP_HC_REP_CID,
	KVP_HC_REP_SOURCE,		/* "connected" or "history" */
	KVP_HC_REP_FQDN,
	KVP_HC_REP_OS_NAME,
	KVP_HC_REP_OS_VERSION,
	KVP_HC_REP_ARCH,
	KVP_HC_REP_IPV4,
	KVP_HC_REP_IPV6,
	KVP_HC_REP_STATE,
	KVP_HC_REP_REASON,
	KVP_HC_REP_PRODUCT,
	KVP_HC_REP_EDITION,
	KVP_HC_REP_VERSION,
	KVP_HC_REP_ACTIVATION_ID,
	KVP_HC_REP_LAST_ACTIVATION,	/* unix seconds, "" if none */
	KVP_HC_REP_EXPIRES,		/* unix seconds, "" if none */
	KVP_HC_REP_ERROR,		/* why pool 2 could not be read */
	KVP_HC_REP_COLUMNS,
};

enum kvp_hostctl_audit_col {
	KVP_HC_AUD_NAME,
	KVP_HC_AUD_CID,
	KVP_HC_AUD_VERDICT,	/* ok, tampered, unknown-grant, no-licence, unreadable */
	KVP_HC_AUD_DETAIL,
	KVP_HC_AUD_GRANT_ID,
	KVP_HC_AUD_HOST_ID,		/* the grant's issuer */
	KVP_HC_AUD_HOST_NAME,
	KVP_HC_AUD_PRODUCT,
	KVP_HC_AUD_EDITION,
	KVP_HC_AUD_EXPIRES,		/* unix seconds, "" if no grant */
	KVP_HC_AUD_COLUMNS,
};

/* A message decoded, or one to encode; strings[] are NUL-terminated. */
struct kvp_hostctl_msg {
	uint16_t status;
	uint32_t hresult;
	uint16_t columns;
	uint32_t count;
	const char **strings;
};

unsigned char *kvp_hostctl_encode(const struct kvp_hostctl_msg *msg,
				  size_t *len);
long kvp_hostctl_frame_len(const unsigned char *buf, size_t have, size_t max);
int kvp_hostctl_decode(const unsigned char *buf, size_t len,
		       struct kvp_hostctl_msg *msg);
int kvp_hostctl_call(const char *path, int argc, char **argv,
		     struct kvp_hostctl_msg *reply, unsigned char **buf);

#endif /* _KVP_HOSTCTL_H */
